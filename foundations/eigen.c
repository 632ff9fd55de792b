// Symmetric eigendecomposition A (n,n) = V diag(λ) Vᵀ, three ways.
//
// Cyclic Jacobi: a plane rotation zeroes one off-diagonal pair at a time; sweeping over all
// pairs shrinks the off-diagonal norm (quadratically once it is small). Simple and accurate,
// O(n³) per sweep, about 6-10 sweeps.
// Tridiagonal QR: Householder reflections reduce A to a tridiagonal T = Qᵀ A Q (O(n³) once),
// then implicit QR steps with Wilkinson shifts drive T's off-diagonal to zero (O(n) per step
// for the values, O(n²) per step with the vectors). The LAPACK way, minus the blocking.
// Power iteration: repeated multiplication by A finds the eigenvector of largest |λ|;
// deflating A <- A - λ v vᵀ exposes the next one. Only for a few top pairs of a matrix with
// well-separated magnitudes.
// Not here: divide and conquer, non-symmetric matrices, Lanczos.
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/linalg.h"
#include "foundations/random.h"

// Finite, square, and symmetric to 1e-10 relative to the largest entry.
static int check_symmetric(const Matrix *a, Error *error) {
    if (matrix_check_finite(a, "A", error)) return -1;
    int n = a->rows;
    if (a->cols != n) return error_set(error, "a symmetric eigenproblem needs a square A, got %d x %d", n, a->cols);
    double largest = 0.0;
    for (size_t i = 0; i < (size_t)n * n; i++) largest = fmax(largest, fabs(a->values[i]));
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double upper = a->values[(size_t)i * n + j], lower = a->values[(size_t)j * n + i];
            if (fabs(upper - lower) > 1e-10 * largest)
                return error_set(error, "A is not symmetric: A[%d][%d] = %.17g but A[%d][%d] = %.17g", i, j, upper, j, i,
                                 lower);
        }
    return 0;
}

static int check_eigen_arguments(const Matrix *a, const Matrix *vectors, Error *error) {
    if (check_symmetric(a, error)) return -1;
    if (vectors && matrix_check_shape(vectors, a->rows, a->rows, "eigenvectors", error)) return -1;
    return 0;
}

// Sorts values (n) ascending and writes the eigenvectors into the columns of vectors (n,n)
// (if not NULL) from rows_of_vectors (n,n), row i being the vector of unsorted value i.
// order (n) and sorted (n) are scratch.
static void sort_eigenpairs(double *values, const double *rows_of_vectors, Matrix *vectors, int n, int *order,
                            double *sorted) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) {  // insertion sort: n² compares are nothing next to the O(n³) work
        int moving = order[i], j = i;
        for (; j > 0 && values[order[j - 1]] > values[moving]; j--) order[j] = order[j - 1];
        order[j] = moving;
    }
    for (int i = 0; i < n; i++) sorted[i] = values[order[i]];
    memcpy(values, sorted, sizeof(double) * (size_t)n);
    if (vectors)
        for (int col = 0; col < n; col++)
            for (int row = 0; row < n; row++)
                vectors->values[(size_t)row * n + col] = rows_of_vectors[(size_t)order[col] * n + row];
}

// ----------------------------------------------------------------------------
// Cyclic Jacobi. For the pair (p,q) the rotation J (J_pp = J_qq = c, J_pq = s, J_qp = -s)
// makes (JᵀAJ)_pq = 0 when t = s/c solves t² + 2τt - 1 = 0 with τ = (a_qq - a_pp) / (2 a_pq);
// the smaller root t = sign(τ) / (|τ| + sqrt(1 + τ²)) keeps the rotation angle <= 45°,
// which is what makes the sweeps converge.
int eigen_symmetric_jacobi(const Matrix *a, double *values, Matrix *vectors, Error *error) {
    if (check_eigen_arguments(a, vectors, error)) return -1;
    int n = a->rows;
    // work (n,n): A being diagonalised; rows (n,n): Vᵀ, so a rotation touches two rows;
    // sorted (n) and order (n ints, in n doubles' room) for the final sort.
    double *work = malloc(sizeof(double) * (2 * (size_t)n * n + 2 * (size_t)n + 1));
    if (!work) return error_set(error, "out of memory for the eigendecomposition of a %d x %d matrix", n, n);
    double *rows = work + (size_t)n * n, *sorted = rows + (size_t)n * n;
    int *order = (int *)(sorted + n);
    memcpy(work, a->values, sizeof(double) * (size_t)n * n);
    memset(rows, 0, sizeof(double) * (size_t)n * n);
    for (int i = 0; i < n; i++) rows[(size_t)i * n + i] = 1.0;
    Matrix whole = matrix_view(work, n, n);
    double norm = matrix_frobenius_norm(&whole);

    int converged = 0;
    for (int sweep = 0; sweep < 100 && !converged; sweep++) {
        double off = 0.0;  // off-diagonal sum of squares, scaled by the norm to avoid overflow
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) off += (work[(size_t)i * n + j] / norm) * (work[(size_t)i * n + j] / norm);
        if (norm == 0.0 || sqrt(off) <= DBL_EPSILON) {
            converged = 1;
            break;
        }
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++) {
                double a_pq = work[(size_t)p * n + q];
                if (a_pq == 0.0) continue;
                double tau = (work[(size_t)q * n + q] - work[(size_t)p * n + p]) / (2.0 * a_pq);
                double t = (tau >= 0.0 ? 1.0 : -1.0) / (fabs(tau) + hypot(1.0, tau));
                double c = 1.0 / sqrt(1.0 + t * t), s = t * c;
                // A <- A J (columns p, q), then A <- Jᵀ A (rows p, q).
                for (int k = 0; k < n; k++) {
                    double x = work[(size_t)k * n + p], y = work[(size_t)k * n + q];
                    work[(size_t)k * n + p] = c * x - s * y;
                    work[(size_t)k * n + q] = s * x + c * y;
                }
                for (int k = 0; k < n; k++) {
                    double x = work[(size_t)p * n + k], y = work[(size_t)q * n + k];
                    work[(size_t)p * n + k] = c * x - s * y;
                    work[(size_t)q * n + k] = s * x + c * y;
                }
                work[(size_t)p * n + q] = work[(size_t)q * n + p] = 0.0;
                // V <- V J: the same combination of columns p, q of V, i.e. rows of Vᵀ.
                double *row_p = rows + (size_t)p * n, *row_q = rows + (size_t)q * n;
                for (int k = 0; k < n; k++) {
                    double x = row_p[k], y = row_q[k];
                    row_p[k] = c * x - s * y;
                    row_q[k] = s * x + c * y;
                }
            }
    }
    if (!converged) {
        free(work);
        return error_set(error, "Jacobi eigendecomposition of a %d x %d matrix did not converge in 100 sweeps", n, n);
    }
    for (int i = 0; i < n; i++) values[i] = work[(size_t)i * n + i];
    sort_eigenpairs(values, rows, vectors, n, order, sorted);
    free(work);
    return 0;
}

// ----------------------------------------------------------------------------
// Tridiagonal QR.
//
// Step 1, Householder tridiagonalisation: for k = 0..n-3 the reflection H_k (acting on
// indices k+1..n-1) maps column k below the subdiagonal to zero; A <- H_k A H_k. With
// p = A v and w = p - (vᵀp) v the two-sided update is the symmetric rank-2 change
// H A H = A - 2 v wᵀ - 2 w vᵀ. Then T = Qᵀ A Q with Q = H_0 H_1 ··· H_(n-3).
//
// Step 2, implicit symmetric QR on the unreduced block lo..hi of T (diagonal d, off-diagonal
// e): a QR step of T - μI is done without forming it, by one rotation that acts on the
// first column of T - μI and then chasing the bulge it creates down the band. The shift μ
// is Wilkinson's: the eigenvalue of the trailing 2x2 block closer to its last entry, which
// makes e[hi-1] go to zero cubically.
//
// The rotation P on indices (k, k+1) maps (x, z) to (r, 0) with c = x/r, s = z/r; T <- P T Pᵀ
// changes the 2x2 block [[d_k, e_k], [e_k, d_k+1]] to
//   d_k   = c² d_k + 2cs e_k + s² d_k+1,   d_k+1 = s² d_k - 2cs e_k + c² d_k+1,
//   e_k   = cs (d_k+1 - d_k) + (c² - s²) e_k,
// and pushes a bulge s·e_(k+1) into position (k+2, k) that the next rotation removes.
// Since A = Q T Qᵀ, Q <- Q Pᵀ keeps it true (rows k, k+1 of Qᵀ rotate like (x, z)).
int eigen_symmetric_tridiagonal_qr(const Matrix *a, double *values, Matrix *vectors, Error *error) {
    if (check_eigen_arguments(a, vectors, error)) return -1;
    int n = a->rows;
    // work (n,n): A being reduced; q (n,n): Q; rows (n,n): first the reflectors v_k (row k),
    // then Qᵀ; p (n) scratch; e (n) the off-diagonal (d, the diagonal, lives in values);
    // order (n ints in n doubles' room) for the final sort, which reuses p.
    double *work = malloc(sizeof(double) * (3 * (size_t)n * n + 3 * (size_t)n + 1));
    if (!work) return error_set(error, "out of memory for the eigendecomposition of a %d x %d matrix", n, n);
    double *q = work + (size_t)n * n, *rows = q + (size_t)n * n;
    double *p = rows + (size_t)n * n, *e = p + n, *d = values;
    int *order = (int *)(e + n);
    memcpy(work, a->values, sizeof(double) * (size_t)n * n);
    Matrix whole = matrix_view(work, n, n);
    double norm = matrix_frobenius_norm(&whole);
    int want_vectors = vectors != NULL;

    // Step 1.
    for (int k = 0; k + 2 < n; k++) {
        int length = n - k - 1;
        double *v = rows + (size_t)k * n;  // v_k, length n-k-1
        for (int i = 0; i < length; i++) v[i] = work[(size_t)(k + 1 + i) * n + k];
        double beta = householder_vector(v, length);
        double *block = work + (size_t)(k + 1) * n + (k + 1);
        // p = A v, K = vᵀ p, w = p - K v (into p), A -= 2 (v wᵀ + w vᵀ).
        double v_dot_p = 0.0;
        for (int i = 0; i < length; i++) {
            double sum = 0.0;
            for (int j = 0; j < length; j++) sum += block[(size_t)i * n + j] * v[j];
            p[i] = sum;
            v_dot_p += v[i] * sum;
        }
        for (int i = 0; i < length; i++) p[i] -= v_dot_p * v[i];
        for (int i = 0; i < length; i++)
            for (int j = 0; j < length; j++) block[(size_t)i * n + j] -= 2.0 * (v[i] * p[j] + p[i] * v[j]);
        work[(size_t)(k + 1) * n + k] = work[(size_t)k * n + k + 1] = beta;
        for (int i = k + 2; i < n; i++) work[(size_t)i * n + k] = work[(size_t)k * n + i] = 0.0;
    }
    for (int i = 0; i < n; i++) d[i] = work[(size_t)i * n + i];
    for (int i = 0; i + 1 < n; i++) e[i] = work[(size_t)(i + 1) * n + i];
    if (want_vectors) {
        // Q = H_0 (··· (H_(n-3) I)): H_k touches rows k+1.. and, as in qr.c, only columns k+1..
        memset(q, 0, sizeof(double) * (size_t)n * n);
        for (int i = 0; i < n; i++) q[(size_t)i * n + i] = 1.0;
        for (int k = n - 3; k >= 0; k--)
            householder_apply_left(q + (size_t)(k + 1) * n + (k + 1), n, n - k - 1, n - k - 1, rows + (size_t)k * n, p);
        Matrix q_matrix = matrix_view(q, n, n), rows_matrix = matrix_view(rows, n, n);
        matrix_transpose(&rows_matrix, &q_matrix);  // rows = Qᵀ
    }

    // Step 2.
    int iterations = 0, max_iterations = 30 * n + 30;
    for (;;) {
        for (int i = 0; i + 1 < n; i++)
            if (fabs(e[i]) <= DBL_EPSILON * (fabs(d[i]) + fabs(d[i + 1])) || fabs(e[i]) <= DBL_MIN * norm) e[i] = 0.0;
        int hi = n - 1;
        while (hi > 0 && e[hi - 1] == 0.0) hi--;
        if (hi <= 0) break;  // diagonal (or empty): done
        int lo = hi - 1;
        while (lo > 0 && e[lo - 1] != 0.0) lo--;
        if (++iterations > max_iterations) {
            free(work);
            return error_set(error, "tridiagonal QR of a %d x %d matrix did not converge in %d steps", n, n,
                             max_iterations);
        }
        double delta = (d[hi - 1] - d[hi]) / 2.0, b = e[hi - 1];
        double shift = d[hi] - b * b / (delta + (delta >= 0.0 ? 1.0 : -1.0) * hypot(delta, b));
        double x = d[lo] - shift, z = e[lo], bulge = 0.0;
        for (int k = lo; k < hi; k++) {
            if (k > lo) x = e[k - 1], z = bulge;
            double r = hypot(x, z), c = 1.0, s = 0.0;
            if (r != 0.0) c = x / r, s = z / r;
            if (k > lo) e[k - 1] = r;
            double d_k = d[k], d_next = d[k + 1], e_k = e[k];
            d[k] = c * c * d_k + 2.0 * c * s * e_k + s * s * d_next;
            d[k + 1] = s * s * d_k - 2.0 * c * s * e_k + c * c * d_next;
            e[k] = c * s * (d_next - d_k) + (c * c - s * s) * e_k;
            if (k + 1 < hi) {
                bulge = s * e[k + 1];
                e[k + 1] *= c;
            }
            if (want_vectors) {
                double *row_k = rows + (size_t)k * n, *row_next = rows + (size_t)(k + 1) * n;
                for (int j = 0; j < n; j++) {
                    double u = row_k[j], w = row_next[j];
                    row_k[j] = c * u + s * w;
                    row_next[j] = -s * u + c * w;
                }
            }
        }
    }
    sort_eigenpairs(values, rows, vectors, n, order, p);
    free(work);
    return 0;
}

// ----------------------------------------------------------------------------
// Power iteration with deflation: v <- W v / ||W v|| converges to the eigenvector of the
// largest |λ| of W at the rate |λ₂/λ₁| per step; λ = vᵀ W v (the Rayleigh quotient). After
// each pair, W <- W - λ v vᵀ (Hotelling deflation) moves λ to 0 and leaves the others. The
// iterate is also kept orthogonal to the vectors already found, which stops rounding from
// re-growing them.
int eigen_power_top_k(const Matrix *a, int k, double *values, Matrix *vectors, int max_iterations, double tolerance,
                      uint64_t seed, Error *error) {
    if (check_symmetric(a, error)) return -1;
    int n = a->rows;
    if (k < 0 || k > n) return error_set(error, "power iteration: k = %d is outside 0..%d", k, n);
    if (matrix_check_shape(vectors, n, k, "eigenvectors", error)) return -1;
    if (max_iterations < 1 || !(tolerance > 0.0))
        return error_set(error, "power iteration: max_iterations (%d) must be >= 1 and tolerance (%g) > 0",
                         max_iterations, tolerance);
    double *work = malloc(sizeof(double) * ((size_t)n * n + 2 * (size_t)n + 1));
    if (!work) return error_set(error, "out of memory for power iteration on a %d x %d matrix", n, n);
    double *v = work + (size_t)n * n, *w = v + n;
    memcpy(work, a->values, sizeof(double) * (size_t)n * n);
    Matrix whole = matrix_view(work, n, n);
    double norm = matrix_frobenius_norm(&whole);
    Random rng;
    random_seed(&rng, seed);

    for (int found = 0; found < k; found++) {
        for (int i = 0; i < n; i++) v[i] = random_uniform_double(&rng) - 0.5;
        double lambda = 0.0;
        int converged = 0;
        for (int iteration = 0; iteration <= max_iterations && !converged; iteration++) {
            // v <- v minus its parts along the vectors found so far, then normalised.
            for (int j = 0; j < found; j++) {
                double dot = 0.0;
                for (int i = 0; i < n; i++) dot += vectors->values[(size_t)i * k + j] * v[i];
                for (int i = 0; i < n; i++) v[i] -= dot * vectors->values[(size_t)i * k + j];
            }
            Matrix v_matrix = matrix_view(v, n, 1);
            double v_norm = matrix_frobenius_norm(&v_matrix);
            if (v_norm == 0.0) {  // only when n == found: every direction is taken
                for (int i = 0; i < n; i++) v[i] = i == found ? 1.0 : 0.0;
                v_norm = 1.0;
            }
            for (int i = 0; i < n; i++) v[i] /= v_norm;
            // w = W v, λ = vᵀ w, converged when ||w - λ v|| <= tolerance ||A||.
            lambda = 0.0;
            for (int i = 0; i < n; i++) {
                double sum = 0.0;
                for (int j = 0; j < n; j++) sum += work[(size_t)i * n + j] * v[j];
                w[i] = sum;
                lambda += v[i] * sum;
            }
            double residual = 0.0;
            for (int i = 0; i < n; i++) residual += (w[i] - lambda * v[i]) * (w[i] - lambda * v[i]);
            if (sqrt(residual) <= tolerance * norm) {
                converged = 1;
            } else {
                memcpy(v, w, sizeof(double) * (size_t)n);
            }
        }
        if (!converged) {
            free(work);
            return error_set(error,
                             "power iteration: eigenpair %d of a %d x %d matrix did not converge in %d iterations "
                             "(|λ| too close to the next one?)",
                             found, n, n, max_iterations);
        }
        values[found] = lambda;
        for (int i = 0; i < n; i++) vectors->values[(size_t)i * k + found] = v[i];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) work[(size_t)i * n + j] -= lambda * v[i] * v[j];
    }
    free(work);
    return 0;
}
