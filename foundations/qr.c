// QR decomposition A (m,n) = Q (m,p) R (p,n), p = min(m, n), three ways, and least squares.
//
// Householder reflects each column onto a multiple of e₁ below the diagonal; the product of
// reflections is exactly orthogonal, so Q stays orthonormal to rounding whatever A is.
// Gram-Schmidt builds Q one column at a time by subtracting projections; it is the textbook
// idea but loses orthogonality when the columns of A are nearly dependent (the test shows
// ||QᵀQ - I|| growing from Householder to modified to classical on an ill-conditioned A).
// Not here: column pivoting (rank-revealing QR), blocked (WY) application of reflectors.
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/linalg.h"

static int min_int(int a, int b) { return a < b ? a : b; }

static int check_qr_arguments(const Matrix *a, const Matrix *q, const Matrix *r, int p, Error *error) {
    if (matrix_check_finite(a, "A", error)) return -1;
    if (matrix_check_shape(q, a->rows, p, "Q", error)) return -1;
    if (matrix_check_shape(r, p, a->cols, "R", error)) return -1;
    return 0;
}

// ----------------------------------------------------------------------------
// Householder: for k = 0..p-1, H_k zeroes column k below the diagonal of H_(k-1)···H_0 A,
// so R = H_(p-1)···H_0 A and Q = H_0···H_(p-1) [I_p; 0].
int qr_householder(const Matrix *a, Matrix *q, Matrix *r, Error *error) {
    int m = a->rows, n = a->cols, p = min_int(m, n);
    if (check_qr_arguments(a, q, r, p, error)) return -1;
    // work (m,n): A being reduced to R; reflectors (p,m): v_k in row k, entries k..m-1.
    double *work = malloc(sizeof(double) * ((size_t)m * n + (size_t)p * m + (size_t)(m > n ? m : n) + 1));
    if (!work) return error_set(error, "out of memory for QR of a %d x %d matrix", m, n);
    double *reflectors = work + (size_t)m * n, *scratch = reflectors + (size_t)p * m;
    memcpy(work, a->values, sizeof(double) * (size_t)m * n);

    for (int k = 0; k < p; k++) {
        double *v = reflectors + (size_t)k * m + k;
        for (int i = k; i < m; i++) v[i - k] = work[(size_t)i * n + k];
        double beta = householder_vector(v, m - k);
        // Column k becomes beta e₁ exactly; the rest of the trailing block is reflected.
        householder_apply_left(work + (size_t)k * n + k + 1, n, m - k, n - k - 1, v, scratch);
        work[(size_t)k * n + k] = beta;
        for (int i = k + 1; i < m; i++) work[(size_t)i * n + k] = 0.0;
    }
    for (int i = 0; i < p; i++)
        for (int j = 0; j < n; j++) r->values[(size_t)i * n + j] = j < i ? 0.0 : work[(size_t)i * n + j];

    // Q = H_0 (H_1 (··· (H_(p-1) [I_p; 0]))): H_k only touches rows k.., and columns < k of
    // the partial product are still e_j there (zero in rows >= k), so only columns k.. change.
    memset(q->values, 0, sizeof(double) * (size_t)m * p);
    for (int i = 0; i < p; i++) q->values[(size_t)i * p + i] = 1.0;
    for (int k = p - 1; k >= 0; k--)
        householder_apply_left(q->values + (size_t)k * p + k, p, m - k, p - k, reflectors + (size_t)k * m + k, scratch);
    free(work);
    return 0;
}

// ----------------------------------------------------------------------------
// Gram-Schmidt: q_j = (a_j - Σ_(i<j) r_ij q_i) / r_jj with r_jj the norm of what is left.
// Classical takes r_ij = q_iᵀ a_j (all projections from the original column, in parallel);
// modified takes r_ij = q_iᵀ v with v the column already reduced by q_0..q_(i-1), which in
// exact arithmetic is the same number but does not re-introduce the rounding errors of the
// earlier projections.
static int gram_schmidt(const Matrix *a, Matrix *q, Matrix *r, int modified, Error *error) {
    int m = a->rows, n = a->cols;
    if (m < n) return error_set(error, "Gram-Schmidt QR needs rows >= cols, A is %d x %d", m, n);
    if (check_qr_arguments(a, q, r, n, error)) return -1;
    double *column = malloc(sizeof(double) * ((size_t)m + 1));
    if (!column) return error_set(error, "out of memory for QR of a %d x %d matrix", m, n);
    memset(r->values, 0, sizeof(double) * (size_t)n * n);
    for (int j = 0; j < n; j++) {
        for (int row = 0; row < m; row++) column[row] = a->values[(size_t)row * n + j];
        for (int i = 0; i < j; i++) {
            double dot = 0.0;
            for (int row = 0; row < m; row++)
                dot += q->values[(size_t)row * n + i] * (modified ? column[row] : a->values[(size_t)row * n + j]);
            r->values[(size_t)i * n + j] = dot;
            for (int row = 0; row < m; row++) column[row] -= dot * q->values[(size_t)row * n + i];
        }
        Matrix left = matrix_view(column, m, 1);
        double norm = matrix_frobenius_norm(&left);
        if (norm == 0.0) {
            free(column);
            return error_set(error, "Gram-Schmidt QR: column %d of A is linearly dependent on the previous ones", j);
        }
        r->values[(size_t)j * n + j] = norm;
        for (int row = 0; row < m; row++) q->values[(size_t)row * n + j] = column[row] / norm;
    }
    free(column);
    return 0;
}

int qr_gram_schmidt_classical(const Matrix *a, Matrix *q, Matrix *r, Error *error) {
    return gram_schmidt(a, q, r, 0, error);
}

int qr_gram_schmidt_modified(const Matrix *a, Matrix *q, Matrix *r, Error *error) {
    return gram_schmidt(a, q, r, 1, error);
}

// ----------------------------------------------------------------------------
// Least squares. With A = Q R (Q (m,n), R (n,n)), ||A x - b||² = ||R x - Qᵀ b||² + (a part
// x cannot change), so x solves the triangular system R x = Qᵀ b. Unlike the normal
// equations AᵀA x = Aᵀ b this does not square the condition number.
int least_squares_qr(Matrix *x, const Matrix *a, const Matrix *b, Error *error) {
    int m = a->rows, n = a->cols;
    if (matrix_check_finite(a, "A", error) || matrix_check_finite(b, "B", error)) return -1;
    if (m < n) return error_set(error, "least squares needs rows >= cols (an overdetermined system), A is %d x %d", m, n);
    if (b->rows != m) return error_set(error, "B has %d rows, A has %d", b->rows, m);
    int k = b->cols;
    if (matrix_check_shape(x, n, k, "X", error)) return -1;

    Matrix q, r;
    if (matrix_init(&q, m, n, error)) return -1;
    if (matrix_init(&r, n, n, error)) return matrix_free(&q), -1;
    int status = qr_householder(a, &q, &r, error);
    // Numerical rank: a diagonal entry of R below n·eps·max|r_ii| is rounding, not signal.
    double largest = 0.0;
    for (int i = 0; i < n && status == 0; i++) largest = fmax(largest, fabs(r.values[(size_t)i * n + i]));
    for (int i = 0; i < n && status == 0; i++)
        if (fabs(r.values[(size_t)i * n + i]) <= (double)(m > n ? m : n) * DBL_EPSILON * largest || largest == 0.0)
            status = error_set(error, "least squares: A (%d x %d) is rank-deficient (R[%d][%d] = %g, largest %g)", m, n, i,
                               i, r.values[(size_t)i * n + i], largest);
    if (status == 0) {
        // x = Qᵀ b, then back substitution on R x = Qᵀ b, column by column of b.
        for (int i = 0; i < n; i++)
            for (int c = 0; c < k; c++) {
                double dot = 0.0;
                for (int row = 0; row < m; row++) dot += q.values[(size_t)row * n + i] * b->values[(size_t)row * k + c];
                x->values[(size_t)i * k + c] = dot;
            }
        for (int c = 0; c < k; c++)
            for (int i = n - 1; i >= 0; i--) {
                double sum = x->values[(size_t)i * k + c];
                for (int j = i + 1; j < n; j++) sum -= r.values[(size_t)i * n + j] * x->values[(size_t)j * k + c];
                x->values[(size_t)i * k + c] = sum / r.values[(size_t)i * n + i];
            }
    }
    matrix_free(&q);
    matrix_free(&r);
    return status;
}
