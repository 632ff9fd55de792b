// Tests for foundations/linalg.h: every decomposition against the properties that define
// it (reconstruction, orthonormality, order), known spectra, the relations between them
// (singular values vs eigenvalues of AᵀA, Eckart-Young, least squares vs normal equations),
// and errors on bad input. Small sizes: it also runs under ASan+UBSan in Debug.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/linalg.h"
#include "foundations/random.h"
#include "tests/check.h"

static const double pi = 3.14159265358979323846;

static Matrix new_matrix(int rows, int cols) {
    Matrix m;
    Error error;
    if (matrix_init(&m, rows, cols, &error)) {
        fprintf(stderr, "test_linalg: %s\n", error.message);
        exit(1);
    }
    return m;
}

static double *new_vector(int n) { return calloc((size_t)n + 1, sizeof(double)); }

static Matrix random_matrix(Random *rng, int rows, int cols) {
    Matrix m = new_matrix(rows, cols);
    for (size_t i = 0; i < (size_t)rows * cols; i++) m.values[i] = 2.0 * random_uniform_double(rng) - 1.0;
    return m;
}

static Matrix transposed(const Matrix *a) {
    Matrix t = new_matrix(a->cols, a->rows);
    matrix_transpose(&t, a);
    return t;
}

// ||A - B||_F / ||A||_F, or the absolute difference when A = 0.
static double relative_difference(const Matrix *a, const Matrix *b) {
    Matrix difference = new_matrix(a->rows, a->cols);
    for (size_t i = 0; i < (size_t)a->rows * a->cols; i++) difference.values[i] = a->values[i] - b->values[i];
    double norm = matrix_frobenius_norm(a), result = matrix_frobenius_norm(&difference);
    matrix_free(&difference);
    return norm > 0.0 ? result / norm : result;
}

// Orthonormal columns (m,n), m >= n, from the Q of a random matrix.
static Matrix random_orthonormal(Random *rng, int m, int n) {
    Matrix a = random_matrix(rng, m, n), q = new_matrix(m, n), r = new_matrix(n, n);
    Error error;
    CHECK(qr_householder(&a, &q, &r, &error) == 0, "%s", error.message);
    matrix_free(&a), matrix_free(&r);
    return q;
}

// U diag(singular_values) Vᵀ with random orthonormal U (m,n), V (n,n); m >= n.
static Matrix matrix_with_singular_values(Random *rng, int m, int n, const double *singular_values) {
    Matrix u = random_orthonormal(rng, m, n), v = random_orthonormal(rng, n, n), vt = transposed(&v);
    Matrix a = new_matrix(m, n);
    svd_reconstruct(&a, &u, singular_values, &vt, n);
    matrix_free(&u), matrix_free(&v), matrix_free(&vt);
    return a;
}

// ----------------------------------------------------------------------------
// The shapes every decomposition must handle.
typedef enum { KIND_RANDOM, KIND_RANK_TWO, KIND_DIAGONAL, KIND_ZERO } Kind;
typedef struct Case {
    const char *name;
    int rows, cols;
    Kind kind;
} Case;

static const Case cases[] = {
    {"random 7x5", 7, 5, KIND_RANDOM},       {"random 5x7", 5, 7, KIND_RANDOM},   {"random 6x6", 6, 6, KIND_RANDOM},
    {"rank-2 8x6", 8, 6, KIND_RANK_TWO},     {"rank-2 6x8", 6, 8, KIND_RANK_TWO}, {"diagonal 6x6", 6, 6, KIND_DIAGONAL},
    {"zero 4x3", 4, 3, KIND_ZERO},           {"1x5", 1, 5, KIND_RANDOM},          {"5x1", 5, 1, KIND_RANDOM},
    {"1x1", 1, 1, KIND_RANDOM},              {"0x0", 0, 0, KIND_RANDOM},          {"0x3", 0, 3, KIND_RANDOM},
    {"3x0", 3, 0, KIND_RANDOM},
};
static const int n_cases = (int)(sizeof cases / sizeof cases[0]);

static Matrix make_case(Random *rng, const Case *c) {
    int m = c->rows, n = c->cols;
    if (c->kind == KIND_RANDOM) return random_matrix(rng, m, n);
    Matrix a = new_matrix(m, n);
    if (c->kind == KIND_RANK_TWO) {  // x₁y₁ᵀ + x₂y₂ᵀ
        Matrix x = random_matrix(rng, m, 2), y = random_matrix(rng, 2, n);
        matrix_multiply(&a, &x, &y);
        matrix_free(&x), matrix_free(&y);
    } else if (c->kind == KIND_DIAGONAL) {  // repeated, negative and zero entries
        const double diagonal[] = {3.0, -1.0, 0.0, 2.5, 0.0, 3.0};
        for (int i = 0; i < m && i < n; i++) a.values[(size_t)i * n + i] = diagonal[i % 6];
    }
    return a;
}

static void test_qr_shapes(Random *rng) {
    for (int t = 0; t < n_cases; t++) {
        const Case *c = &cases[t];
        int m = c->rows, n = c->cols, p = m < n ? m : n;
        Matrix a = make_case(rng, c), q = new_matrix(m, p), r = new_matrix(p, n), qr = new_matrix(m, n);
        Error error;
        CHECK(qr_householder(&a, &q, &r, &error) == 0, "%s: %s", c->name, error.message);
        matrix_multiply(&qr, &q, &r);
        CHECK(relative_difference(&a, &qr) < 1e-10, "%s: ||A - QR|| / ||A|| = %g", c->name, relative_difference(&a, &qr));
        CHECK(matrix_orthonormality_error(&q) < 1e-12, "%s: ||QᵀQ - I|| = %g", c->name, matrix_orthonormality_error(&q));
        for (int i = 0; i < p; i++)
            for (int j = 0; j < i; j++) CHECK(r.values[(size_t)i * n + j] == 0.0, "%s: R[%d][%d] not zero", c->name, i, j);
        matrix_free(&a), matrix_free(&q), matrix_free(&r), matrix_free(&qr);
    }
}

typedef int (*SvdFunction)(const Matrix *, Matrix *, double *, Matrix *, Error *);

static void test_svd_shapes(Random *rng, SvdFunction svd, const char *method) {
    for (int t = 0; t < n_cases; t++) {
        const Case *c = &cases[t];
        int m = c->rows, n = c->cols, p = m < n ? m : n;
        Matrix a = make_case(rng, c), u = new_matrix(m, p), vt = new_matrix(p, n), usv = new_matrix(m, n);
        double *s = new_vector(p), *s_only = new_vector(p);
        Error error;
        CHECK(svd(&a, &u, s, &vt, &error) == 0, "%s %s: %s", method, c->name, error.message);
        svd_reconstruct(&usv, &u, s, &vt, p);
        double difference = relative_difference(&a, &usv);
        CHECK(difference < 1e-10, "%s %s: ||A - UΣVᵀ|| / ||A|| = %g", method, c->name, difference);
        Matrix v = transposed(&vt);
        CHECK(matrix_orthonormality_error(&u) < 1e-12, "%s %s: ||UᵀU - I|| = %g", method, c->name,
              matrix_orthonormality_error(&u));
        CHECK(matrix_orthonormality_error(&v) < 1e-12, "%s %s: ||VᵀV - I|| = %g", method, c->name,
              matrix_orthonormality_error(&v));
        for (int i = 0; i < p; i++) CHECK(s[i] >= 0.0 && (i == 0 || s[i] <= s[i - 1]), "%s %s: s not descending >= 0 at %d",
                                          method, c->name, i);
        // Without vectors, the same values.
        CHECK(svd(&a, NULL, s_only, NULL, &error) == 0, "%s %s: %s", method, c->name, error.message);
        for (int i = 0; i < p; i++) CHECK_NEAR(s_only[i], s[i], 1e-13 * (s[0] + 1.0));
        if (c->kind == KIND_RANK_TWO)
            for (int i = 2; i < p; i++) CHECK(s[i] < 1e-14 * s[0], "%s %s: s[%d] = %g should be 0", method, c->name, i, s[i]);
        if (c->kind == KIND_DIAGONAL) {  // singular values are the sorted |diagonal|
            const double expected[] = {3.0, 3.0, 2.5, 1.0, 0.0, 0.0};
            for (int i = 0; i < p; i++) CHECK_NEAR(s[i], expected[i], 1e-14);
        }
        matrix_free(&a), matrix_free(&u), matrix_free(&vt), matrix_free(&usv), matrix_free(&v);
        free(s), free(s_only);
    }
}

// The two SVDs agree on the singular values.
static void test_svd_methods_agree(Random *rng) {
    Matrix a = random_matrix(rng, 23, 17);
    double s_jacobi[17], s_golub_kahan[17];
    Error error;
    CHECK(svd_jacobi(&a, NULL, s_jacobi, NULL, &error) == 0, "%s", error.message);
    CHECK(svd_golub_kahan(&a, NULL, s_golub_kahan, NULL, &error) == 0, "%s", error.message);
    for (int i = 0; i < 17; i++) CHECK_NEAR(s_jacobi[i], s_golub_kahan[i], 1e-13 * s_jacobi[0]);
    matrix_free(&a);
}

// ----------------------------------------------------------------------------
typedef int (*EigenFunction)(const Matrix *, double *, Matrix *, Error *);

static Matrix symmetric_case(Random *rng, int t, const char **name) {
    static const char *names[] = {"random symmetric 9x9", "rank-2 symmetric 7x7", "diagonal 6x6", "1x1", "0x0",
                                  "zero 3x3"};
    *name = names[t];
    if (t == 0) {
        Matrix b = random_matrix(rng, 9, 9), a = new_matrix(9, 9);
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 9; j++) a.values[i * 9 + j] = b.values[i * 9 + j] + b.values[j * 9 + i];
        matrix_free(&b);
        return a;
    }
    if (t == 1) {  // C Cᵀ, C (7,2): eigenvalues 0 (five times) and two positive
        Matrix c = random_matrix(rng, 7, 2), ct = transposed(&c), a = new_matrix(7, 7);
        matrix_multiply(&a, &c, &ct);
        matrix_free(&c), matrix_free(&ct);
        return a;
    }
    if (t == 2) {
        Matrix a = new_matrix(6, 6);
        const double diagonal[] = {3.0, -1.0, 0.0, 2.5, 0.0, 3.0};
        for (int i = 0; i < 6; i++) a.values[i * 6 + i] = diagonal[i];
        return a;
    }
    if (t == 3) return random_matrix(rng, 1, 1);
    if (t == 4) return new_matrix(0, 0);
    return new_matrix(3, 3);
}

static void test_eigen_shapes(Random *rng, EigenFunction eigen, const char *method) {
    for (int t = 0; t < 6; t++) {
        const char *name;
        Matrix a = symmetric_case(rng, t, &name);
        int n = a.rows;
        Matrix v = new_matrix(n, n), vt = new_matrix(n, n), vlv = new_matrix(n, n);
        double *values = new_vector(n), *values_only = new_vector(n);
        Error error;
        CHECK(eigen(&a, values, &v, &error) == 0, "%s %s: %s", method, name, error.message);
        matrix_transpose(&vt, &v);
        svd_reconstruct(&vlv, &v, values, &vt, n);  // V diag(λ) Vᵀ, the same sum of outer products
        double difference = relative_difference(&a, &vlv);
        CHECK(difference < 1e-10, "%s %s: ||A - VΛVᵀ|| / ||A|| = %g", method, name, difference);
        CHECK(matrix_orthonormality_error(&v) < 1e-12, "%s %s: ||VᵀV - I|| = %g", method, name,
              matrix_orthonormality_error(&v));
        for (int i = 1; i < n; i++) CHECK(values[i - 1] <= values[i], "%s %s: values not ascending at %d", method, name, i);
        CHECK(eigen(&a, values_only, NULL, &error) == 0, "%s %s: %s", method, name, error.message);
        for (int i = 0; i < n; i++) CHECK_NEAR(values_only[i], values[i], 1e-13 * (fabs(values[0]) + fabs(values[n - 1]) + 1));
        if (t == 2) {
            const double expected[] = {-1.0, 0.0, 0.0, 2.5, 3.0, 3.0};
            for (int i = 0; i < 6; i++) CHECK_NEAR(values[i], expected[i], 1e-14);
        }
        matrix_free(&a), matrix_free(&v), matrix_free(&vt), matrix_free(&vlv);
        free(values), free(values_only);
    }
}

// The second-difference matrix tridiag(-1, 2, -1) (n,n) has eigenvalues 2 - 2 cos(kπ/(n+1)),
// k = 1..n, ascending in k.
static void test_second_difference(EigenFunction eigen, const char *method) {
    int n = 20;
    Matrix a = new_matrix(n, n);
    for (int i = 0; i < n; i++) {
        a.values[i * n + i] = 2.0;
        if (i + 1 < n) a.values[i * n + i + 1] = a.values[(i + 1) * n + i] = -1.0;
    }
    double values[20];
    Error error;
    CHECK(eigen(&a, values, NULL, &error) == 0, "%s: %s", method, error.message);
    for (int k = 1; k <= n; k++) CHECK_NEAR(values[k - 1], 2.0 - 2.0 * cos(k * pi / (n + 1)), 1e-13);
    matrix_free(&a);
}

static void test_power_iteration(Random *rng) {
    // A = Q diag(λ) Qᵀ with known λ; the top 3 by |λ| are 9, -6, 4.
    int n = 8, k = 3;
    const double lambda[] = {0.5, -6.0, 2.0, 9.0, 0.1, 4.0, 1.0, 0.25};
    Matrix q = random_orthonormal(rng, n, n), qt = transposed(&q), a = new_matrix(n, n), vectors = new_matrix(n, k);
    svd_reconstruct(&a, &q, lambda, &qt, n);
    // Exact symmetry (the reconstruction is symmetric only up to rounding).
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) a.values[i * n + j] = a.values[j * n + i];
    double values[3];
    Error error;
    CHECK(eigen_power_top_k(&a, k, values, &vectors, 10000, 1e-12, 7, &error) == 0, "%s", error.message);
    const double expected[] = {9.0, -6.0, 4.0};
    const int column_of_q[] = {3, 1, 5};
    for (int i = 0; i < k; i++) {
        CHECK_NEAR(values[i], expected[i], 1e-10);
        double dot = 0.0;  // same direction as the column of Q, up to sign
        for (int r = 0; r < n; r++) dot += vectors.values[r * k + i] * q.values[r * n + column_of_q[i]];
        CHECK_NEAR(fabs(dot), 1.0, 1e-10);
    }
    CHECK(matrix_orthonormality_error(&vectors) < 1e-10, "power vectors not orthonormal: %g",
          matrix_orthonormality_error(&vectors));
    // |λ₁| = |λ₂| with opposite signs: no convergence, an error rather than a wrong answer.
    Matrix tie = new_matrix(2, 2), tie_vectors = new_matrix(2, 1);
    tie.values[0] = 1.0, tie.values[3] = -1.0;
    CHECK(eigen_power_top_k(&tie, 1, values, &tie_vectors, 200, 1e-12, 7, &error) == -1, "±1 should not converge");
    matrix_free(&q), matrix_free(&qt), matrix_free(&a), matrix_free(&vectors), matrix_free(&tie),
        matrix_free(&tie_vectors);
}

// ----------------------------------------------------------------------------
// Loss of orthogonality on A (20,10) with singular values 1 .. 1e-10 (cond 1e10):
// Householder ~ eps, MGS ~ cond·eps, CGS ~ cond²·eps (capped at O(1)).
static void test_gram_schmidt_order(Random *rng) {
    int m = 20, n = 10;
    double singular_values[10];
    for (int i = 0; i < n; i++) singular_values[i] = pow(10.0, -10.0 * i / (n - 1));
    Matrix a = matrix_with_singular_values(rng, m, n, singular_values);
    double loss[3];
    int (*methods[3])(const Matrix *, Matrix *, Matrix *, Error *) = {qr_householder, qr_gram_schmidt_modified,
                                                                       qr_gram_schmidt_classical};
    for (int method = 0; method < 3; method++) {
        Matrix q = new_matrix(m, n), r = new_matrix(n, n), qr = new_matrix(m, n);
        Error error;
        CHECK(methods[method](&a, &q, &r, &error) == 0, "%s", error.message);
        matrix_multiply(&qr, &q, &r);
        CHECK(relative_difference(&a, &qr) < 1e-10, "method %d: ||A - QR|| / ||A|| = %g", method,
              relative_difference(&a, &qr));
        loss[method] = matrix_orthonormality_error(&q);
        matrix_free(&q), matrix_free(&r), matrix_free(&qr);
    }
    fprintf(stderr, "||QᵀQ - I|| at cond 1e10: Householder %.1e, MGS %.1e, CGS %.1e\n", loss[0], loss[1], loss[2]);
    CHECK(loss[0] < 1e-13, "Householder lost orthogonality: %g", loss[0]);
    CHECK(loss[0] < loss[1] && loss[1] < loss[2], "expected Householder < MGS < CGS, got %g, %g, %g", loss[0], loss[1],
          loss[2]);
    CHECK(loss[1] > 1e-10 && loss[2] > 1e-3, "the ill-conditioning should show: MGS %g, CGS %g", loss[1], loss[2]);
    matrix_free(&a);
}

// The singular values of A are the square roots of the eigenvalues of AᵀA.
static void test_singular_values_vs_eigenvalues(Random *rng) {
    int m = 12, n = 7;
    Matrix a = random_matrix(rng, m, n), at = transposed(&a), ata = new_matrix(n, n);
    matrix_multiply(&ata, &at, &a);
    double s[7], lambda[7];
    Error error;
    CHECK(svd_golub_kahan(&a, NULL, s, NULL, &error) == 0, "%s", error.message);
    CHECK(eigen_symmetric_jacobi(&ata, lambda, NULL, &error) == 0, "%s", error.message);
    for (int i = 0; i < n; i++) CHECK_NEAR(s[i], sqrt(lambda[n - 1 - i]), 1e-12 * s[0]);
    matrix_free(&a), matrix_free(&at), matrix_free(&ata);
}

// Eckart-Young: ||A - A_k||₂ = s_(k+1) (s[k] counting from 0) and ||A - A_k||_F² = Σ_(i>=k) s_i².
static void test_eckart_young(Random *rng) {
    int m = 15, n = 10;
    Matrix a = random_matrix(rng, m, n), u = new_matrix(m, n), vt = new_matrix(n, n), a_k = new_matrix(m, n);
    double s[10], s_residual[10];
    Error error;
    CHECK(svd_golub_kahan(&a, &u, s, &vt, &error) == 0, "%s", error.message);
    const int ranks[] = {0, 1, 3, 6, 9};
    for (int t = 0; t < 5; t++) {
        int k = ranks[t];
        svd_reconstruct(&a_k, &u, s, &vt, k);
        for (int i = 0; i < m * n; i++) a_k.values[i] = a.values[i] - a_k.values[i];
        CHECK(svd_jacobi(&a_k, NULL, s_residual, NULL, &error) == 0, "%s", error.message);
        CHECK_NEAR(s_residual[0], s[k], 1e-12 * s[0]);
        double tail = 0.0;
        for (int i = k; i < n; i++) tail += s[i] * s[i];
        CHECK_NEAR(matrix_frobenius_norm(&a_k), sqrt(tail), 1e-12 * s[0]);
    }
    matrix_free(&a), matrix_free(&u), matrix_free(&vt), matrix_free(&a_k);
}

static void test_condition_number(Random *rng) {
    const double singular_values[] = {2.0, 1.0, 0.5, 1e-3};
    Matrix a = matrix_with_singular_values(rng, 6, 4, singular_values);
    double condition = 0.0;
    Error error;
    CHECK(svd_condition_number(&a, &condition, &error) == 0, "%s", error.message);
    CHECK_NEAR(condition / 2000.0, 1.0, 1e-10);
    Matrix zero = new_matrix(3, 3), empty = new_matrix(0, 4);
    CHECK(svd_condition_number(&zero, &condition, &error) == 0 && isinf(condition), "zero matrix: cond %g", condition);
    CHECK(svd_condition_number(&empty, &condition, &error) == -1, "empty matrix should fail");
    matrix_free(&a), matrix_free(&zero), matrix_free(&empty);
}

// ----------------------------------------------------------------------------
// Least squares through QR equals the normal equations' answer on a well-conditioned
// problem, and the residual is orthogonal to the columns of A.
static void test_least_squares(Random *rng) {
    int m = 30, n = 6, k = 2;
    Matrix a = random_matrix(rng, m, n), b = random_matrix(rng, m, k), x = new_matrix(n, k);
    Matrix at = transposed(&a), ata = new_matrix(n, n), atb = new_matrix(n, k), x_normal = new_matrix(n, k);
    Matrix ax = new_matrix(m, k), residual_projection = new_matrix(n, k);
    Error error;
    double condition = 0.0;
    CHECK(svd_condition_number(&a, &condition, &error) == 0 && condition < 100.0, "test matrix cond %g", condition);
    CHECK(least_squares_qr(&x, &a, &b, &error) == 0, "%s", error.message);
    matrix_multiply(&ata, &at, &a);
    matrix_multiply(&atb, &at, &b);
    CHECK(linear_solve(&x_normal, &ata, &atb, &error) == 0, "%s", error.message);
    CHECK(relative_difference(&x_normal, &x) < 1e-10, "QR vs normal equations: %g", relative_difference(&x_normal, &x));
    matrix_multiply(&ax, &a, &x);
    for (int i = 0; i < m * k; i++) ax.values[i] -= b.values[i];
    matrix_multiply(&residual_projection, &at, &ax);
    CHECK(matrix_frobenius_norm(&residual_projection) < 1e-12, "Aᵀ(Ax - b) = %g",
          matrix_frobenius_norm(&residual_projection));
    // A square system is solved exactly.
    Matrix square = random_matrix(rng, 5, 5), x_true = random_matrix(rng, 5, 1), rhs = new_matrix(5, 1),
           x_square = new_matrix(5, 1);
    matrix_multiply(&rhs, &square, &x_true);
    CHECK(least_squares_qr(&x_square, &square, &rhs, &error) == 0, "%s", error.message);
    CHECK(relative_difference(&x_true, &x_square) < 1e-10, "square least squares: %g",
          relative_difference(&x_true, &x_square));
    // Rank-deficient A: an error, not noise.
    for (int i = 0; i < m; i++) a.values[i * n + 5] = 2.0 * a.values[i * n + 1];
    CHECK(least_squares_qr(&x, &a, &b, &error) == -1, "rank-deficient least squares should fail");
    matrix_free(&a), matrix_free(&b), matrix_free(&x), matrix_free(&at), matrix_free(&ata), matrix_free(&atb),
        matrix_free(&x_normal), matrix_free(&ax), matrix_free(&residual_projection), matrix_free(&square),
        matrix_free(&x_true), matrix_free(&rhs), matrix_free(&x_square);
}

static void test_linear_solve(Random *rng) {
    Error error;
    // [[1e-20, 1], [1, 1]] x = [1, 2] has x ≈ [1, 1]; without pivoting x₀ comes out as 0.
    double tiny_values[] = {1e-20, 1.0, 1.0, 1.0}, rhs_values[] = {1.0, 2.0}, x_values[2];
    Matrix tiny = matrix_view(tiny_values, 2, 2), rhs = matrix_view(rhs_values, 2, 1), x = matrix_view(x_values, 2, 1);
    CHECK(linear_solve(&x, &tiny, &rhs, &error) == 0, "%s", error.message);
    CHECK_NEAR(x_values[0], 1.0, 1e-14);
    CHECK_NEAR(x_values[1], 1.0, 1e-14);
    // A zero in the first pivot position: elimination without row swaps divides by zero.
    double zero_pivot_values[] = {0.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 0.0}, x3_values[3];
    double expected[] = {1.0, -2.0, 3.0}, b3_values[3];
    Matrix zero_pivot = matrix_view(zero_pivot_values, 3, 3), x3 = matrix_view(x3_values, 3, 1);
    Matrix expected_matrix = matrix_view(expected, 3, 1), b3 = matrix_view(b3_values, 3, 1);
    matrix_multiply(&b3, &zero_pivot, &expected_matrix);
    CHECK(linear_solve(&x3, &zero_pivot, &b3, &error) == 0, "%s", error.message);
    for (int i = 0; i < 3; i++) CHECK_NEAR(x3_values[i], expected[i], 1e-14);
    // Random 12x12 with 3 right-hand sides: backward error at rounding level.
    Matrix a = random_matrix(rng, 12, 12), b = random_matrix(rng, 12, 3), x12 = new_matrix(12, 3), ax = new_matrix(12, 3);
    CHECK(linear_solve(&x12, &a, &b, &error) == 0, "%s", error.message);
    matrix_multiply(&ax, &a, &x12);
    double residual = relative_difference(&b, &ax);
    CHECK(residual < 1e-12, "||AX - B|| / ||B|| = %g", residual);
    // Singular: an error.
    double singular_values[] = {1.0, 2.0, 2.0, 4.0};
    Matrix singular = matrix_view(singular_values, 2, 2);
    CHECK(linear_solve(&x, &singular, &rhs, &error) == -1, "singular matrix should fail");
    matrix_free(&a), matrix_free(&b), matrix_free(&x12), matrix_free(&ax);
}

static void test_low_rank_float(Random *rng) {
    // A rank-2 float matrix (6,9): its rank-2 truncation is itself, rank 1 is not.
    int m = 6, n = 9;
    float a[54], out[54];
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) a[i * n + j] = (float)((i + 1) * (j - 4) + (i % 3) * (j % 2));
    Error error;
    CHECK(svd_low_rank_float(out, a, m, n, 2, &error) == 0, "%s", error.message);
    for (int i = 0; i < m * n; i++) CHECK_NEAR(out[i], a[i], 1e-4);
    CHECK(svd_low_rank_float(out, a, m, n, 1, &error) == 0, "%s", error.message);
    double max_difference = 0.0;
    for (int i = 0; i < m * n; i++) max_difference = fmax(max_difference, fabs(out[i] - a[i]));
    CHECK(max_difference > 0.1, "rank 1 should not reproduce a rank-2 matrix (max difference %g)", max_difference);
    CHECK(svd_low_rank_float(out, a, m, n, 7, &error) == -1, "rank 7 > min(6, 9) should fail");
    (void)rng;
}

// ----------------------------------------------------------------------------
static int fails_with(int status, const Error *error, const char *words) {
    return status == -1 && strstr(error->message, words) != NULL;
}

static void test_bad_input(Random *rng) {
    Matrix a = random_matrix(rng, 4, 4), q = new_matrix(4, 4), r = new_matrix(4, 4), wrong = new_matrix(3, 4);
    Matrix b = random_matrix(rng, 4, 1), x = new_matrix(4, 1), short_b = new_matrix(3, 1);
    double values[4];
    Error error;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < i; j++) a.values[i * 4 + j] = a.values[j * 4 + i];
    for (int bad = 0; bad < 2; bad++) {
        a.values[6] = a.values[9] = bad == 0 ? NAN : INFINITY;
        CHECK(fails_with(qr_householder(&a, &q, &r, &error), &error, "not finite"), "QR: %s", error.message);
        CHECK(fails_with(qr_gram_schmidt_modified(&a, &q, &r, &error), &error, "not finite"), "MGS: %s", error.message);
        CHECK(fails_with(svd_jacobi(&a, &q, values, &r, &error), &error, "not finite"), "SVD: %s", error.message);
        CHECK(fails_with(svd_golub_kahan(&a, NULL, values, NULL, &error), &error, "not finite"), "SVD: %s", error.message);
        CHECK(fails_with(eigen_symmetric_jacobi(&a, values, NULL, &error), &error, "not finite"), "eig: %s", error.message);
        CHECK(fails_with(eigen_symmetric_tridiagonal_qr(&a, values, &q, &error), &error, "not finite"), "eig: %s",
              error.message);
        CHECK(fails_with(linear_solve(&x, &a, &b, &error), &error, "not finite"), "solve: %s", error.message);
        CHECK(fails_with(least_squares_qr(&x, &a, &b, &error), &error, "not finite"), "lstsq: %s", error.message);
        double condition;
        CHECK(fails_with(svd_condition_number(&a, &condition, &error), &error, "not finite"), "cond: %s", error.message);
    }
    a.values[6] = a.values[9] = 0.5;
    float float_values[4] = {1.0f, NAN, 0.0f, 1.0f}, float_out[4];
    CHECK(fails_with(svd_low_rank_float(float_out, float_values, 2, 2, 1, &error), &error, "not finite"), "%s",
          error.message);
    // Mismatched sizes.
    CHECK(fails_with(qr_householder(&a, &wrong, &r, &error), &error, "Q is 3 x 4"), "%s", error.message);
    CHECK(fails_with(svd_golub_kahan(&a, &wrong, values, NULL, &error), &error, "U is 3 x 4"), "%s", error.message);
    CHECK(fails_with(svd_jacobi(&a, NULL, values, &wrong, &error), &error, "Vt is 3 x 4"), "%s", error.message);
    CHECK(fails_with(eigen_symmetric_jacobi(&wrong, values, NULL, &error), &error, "square"), "%s", error.message);
    CHECK(fails_with(eigen_symmetric_tridiagonal_qr(&a, values, &wrong, &error), &error, "eigenvectors is 3 x 4"), "%s",
          error.message);
    CHECK(fails_with(linear_solve(&x, &a, &short_b, &error), &error, "B has 3 rows"), "%s", error.message);
    CHECK(fails_with(linear_solve(&x, &wrong, &b, &error), &error, "square"), "%s", error.message);
    CHECK(fails_with(least_squares_qr(&short_b, &a, &b, &error), &error, "X is 3 x 1"), "%s", error.message);
    Matrix wide = new_matrix(3, 5), x5 = new_matrix(5, 1);
    CHECK(fails_with(least_squares_qr(&x5, &wide, &short_b, &error), &error, "rows >= cols"), "%s", error.message);
    CHECK(fails_with(qr_gram_schmidt_classical(&wide, &wrong, &wrong, &error), &error, "rows >= cols"), "%s",
          error.message);
    CHECK(fails_with(eigen_power_top_k(&a, 5, values, &q, 100, 1e-10, 1, &error), &error, "outside 0..4"), "%s",
          error.message);
    // Not symmetric.
    a.values[1] += 1.0;
    CHECK(fails_with(eigen_symmetric_jacobi(&a, values, NULL, &error), &error, "not symmetric"), "%s", error.message);
    CHECK(fails_with(eigen_power_top_k(&a, 1, values, &x, 100, 1e-10, 1, &error), &error, "not symmetric"), "%s",
          error.message);
    // An exactly dependent (here zero) column stops Gram-Schmidt.
    Matrix dependent = new_matrix(4, 2), q2 = new_matrix(4, 2), r2 = new_matrix(2, 2);
    for (int i = 0; i < 4; i++) dependent.values[i * 2] = i + 1.0;
    CHECK(fails_with(qr_gram_schmidt_classical(&dependent, &q2, &r2, &error), &error, "linearly dependent"), "%s",
          error.message);
    matrix_free(&a), matrix_free(&q), matrix_free(&r), matrix_free(&wrong), matrix_free(&b), matrix_free(&x),
        matrix_free(&short_b), matrix_free(&wide), matrix_free(&x5), matrix_free(&dependent), matrix_free(&q2),
        matrix_free(&r2);
    Matrix negative;
    CHECK(fails_with(matrix_init(&negative, -1, 3, &error), &error, "negative"), "%s", error.message);
}

// The cases; those that draw random numbers start from the same seed each.
static void qr_shapes(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_qr_shapes(&rng);
}

static void jacobi_svd_shapes(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_svd_shapes(&rng, svd_jacobi, "Jacobi SVD");
}

static void golub_kahan_svd_shapes(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_svd_shapes(&rng, svd_golub_kahan, "Golub-Kahan SVD");
}

static void svd_methods_agree(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_svd_methods_agree(&rng);
}

static void jacobi_eigen_shapes(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_eigen_shapes(&rng, eigen_symmetric_jacobi, "Jacobi");
}

static void tridiagonal_qr_eigen_shapes(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_eigen_shapes(&rng, eigen_symmetric_tridiagonal_qr, "tridiagonal QR");
}

static void jacobi_second_difference(void) {
    test_second_difference(eigen_symmetric_jacobi, "Jacobi");
}

static void tridiagonal_qr_second_difference(void) {
    test_second_difference(eigen_symmetric_tridiagonal_qr, "tridiagonal QR");
}

static void power_iteration(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_power_iteration(&rng);
}

static void gram_schmidt_order(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_gram_schmidt_order(&rng);
}

static void singular_values_vs_eigenvalues(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_singular_values_vs_eigenvalues(&rng);
}

static void eckart_young(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_eckart_young(&rng);
}

static void condition_number(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_condition_number(&rng);
}

static void least_squares(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_least_squares(&rng);
}

static void linear_solve_case(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_linear_solve(&rng);
}

static void low_rank_float(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_low_rank_float(&rng);
}

static void bad_input(void) {
    Random rng;
    random_seed(&rng, 2024);
    test_bad_input(&rng);
}

static const CheckCase CASES[] = {
    {"QR on every shape", qr_shapes},
    {"Jacobi SVD on every shape", jacobi_svd_shapes},
    {"Golub-Kahan SVD on every shape", golub_kahan_svd_shapes},
    {"the SVD methods agree", svd_methods_agree},
    {"Jacobi eigen on every shape", jacobi_eigen_shapes},
    {"tridiagonal QR eigen on every shape", tridiagonal_qr_eigen_shapes},
    {"Jacobi eigen of the second difference", jacobi_second_difference},
    {"tridiagonal QR eigen of the second difference", tridiagonal_qr_second_difference},
    {"power iteration", power_iteration},
    {"Gram-Schmidt order", gram_schmidt_order},
    {"singular values vs eigenvalues", singular_values_vs_eigenvalues},
    {"Eckart-Young", eckart_young},
    {"condition number", condition_number},
    {"least squares", least_squares},
    {"linear solve", linear_solve_case},
    {"low rank in float", low_rank_float},
    {"bad input is an error", bad_input},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
