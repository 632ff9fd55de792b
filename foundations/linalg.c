// The shared pieces of linalg.h: the Matrix type, the input checks every decomposition
// starts with, and the plain products and norms the tests and tools build from.
// Not fast code: matrix_multiply is three loops (foundations/matmul.h is the fast float one).
#include "foundations/linalg.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

// Bigger than any matrix this project factorises densely; keeps rows * cols far from overflow.
enum { MATRIX_MAX_VALUES = 1 << 28 };

int matrix_init(Matrix *m, int rows, int cols, Error *error) {
    m->rows = 0, m->cols = 0, m->values = NULL;
    if (rows < 0 || cols < 0) return error_set(error, "matrix size %d x %d is negative", rows, cols);
    if (cols > 0 && rows > MATRIX_MAX_VALUES / cols)
        return error_set(error, "matrix size %d x %d is too large", rows, cols);
    // At least one value, so that a 0-size matrix still has a non-NULL pointer to free.
    size_t count = (size_t)rows * (size_t)cols;
    m->values = calloc(count ? count : 1, sizeof(double));
    if (!m->values) return error_set(error, "out of memory for a %d x %d matrix", rows, cols);
    m->rows = rows, m->cols = cols;
    return 0;
}

void matrix_free(Matrix *m) {
    free(m->values);
    m->values = NULL;
    m->rows = 0, m->cols = 0;
}

Matrix matrix_view(double *values, int rows, int cols) {
    Matrix m = {rows, cols, values};
    return m;
}

int matrix_check_finite(const Matrix *m, const char *what, Error *error) {
    assert(m);
    if (m->rows < 0 || m->cols < 0) return error_set(error, "%s: size %d x %d is negative", what, m->rows, m->cols);
    if (m->cols > 0 && m->rows > MATRIX_MAX_VALUES / m->cols)
        return error_set(error, "%s: size %d x %d is too large", what, m->rows, m->cols);
    for (int i = 0; i < m->rows; i++)
        for (int j = 0; j < m->cols; j++)
            if (!isfinite(m->values[(size_t)i * m->cols + j]))
                return error_set(error, "%s: entry (%d, %d) is not finite (%g)", what, i, j,
                                 m->values[(size_t)i * m->cols + j]);
    return 0;
}

int matrix_check_shape(const Matrix *m, int rows, int cols, const char *what, Error *error) {
    assert(m);
    if (m->rows != rows || m->cols != cols)
        return error_set(error, "%s is %d x %d, expected %d x %d", what, m->rows, m->cols, rows, cols);
    return 0;
}

// c (m,n) = a (m,k) · b (k,n); the i-k-j loop order walks rows of b and c contiguously.
void matrix_multiply(Matrix *c, const Matrix *a, const Matrix *b) {
    assert(a->cols == b->rows && c->rows == a->rows && c->cols == b->cols);
    int m = a->rows, k_size = a->cols, n = b->cols;
    for (int i = 0; i < m; i++) {
        double *c_row = c->values + (size_t)i * n;
        for (int j = 0; j < n; j++) c_row[j] = 0.0;
        for (int k = 0; k < k_size; k++) {
            double a_ik = a->values[(size_t)i * k_size + k];
            const double *b_row = b->values + (size_t)k * n;
            for (int j = 0; j < n; j++) c_row[j] += a_ik * b_row[j];
        }
    }
}

void matrix_transpose(Matrix *out, const Matrix *a) {
    assert(out->rows == a->cols && out->cols == a->rows);
    for (int i = 0; i < a->rows; i++)
        for (int j = 0; j < a->cols; j++) out->values[(size_t)j * a->rows + i] = a->values[(size_t)i * a->cols + j];
}

// ||A||_F = scale * sqrt(sum (a / scale)²) with scale = max |a|: no overflow for entries
// near DBL_MAX, no underflow to 0 for tiny ones.
double matrix_frobenius_norm(const Matrix *a) {
    size_t count = (size_t)a->rows * (size_t)a->cols;
    double scale = 0.0;
    for (size_t i = 0; i < count; i++) scale = fmax(scale, fabs(a->values[i]));
    if (scale == 0.0) return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < count; i++) {
        double scaled = a->values[i] / scale;
        sum += scaled * scaled;
    }
    return scale * sqrt(sum);
}

// ||QᵀQ - I||_F, entry (i,j) of QᵀQ being the dot product of columns i and j.
double matrix_orthonormality_error(const Matrix *q) {
    int m = q->rows, n = q->cols;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double dot = 0.0;
            for (int r = 0; r < m; r++) dot += q->values[(size_t)r * n + i] * q->values[(size_t)r * n + j];
            double difference = dot - (i == j ? 1.0 : 0.0);
            sum += difference * difference;
        }
    return sqrt(sum);
}

// ----------------------------------------------------------------------------
// Householder reflections. For x with ||x|| = norm, pick beta = -sign(x₀) norm so that
// v = x - beta e₁ never cancels (x₀ and -beta have the same sign); then
// ||v||² = 2 norm (norm + |x₀|) and (I - 2 v vᵀ/||v||²) x = beta e₁.
double householder_vector(double *v, int n) {
    Matrix x = matrix_view(v, n, 1);
    double norm = matrix_frobenius_norm(&x);
    if (norm == 0.0) return 0.0;
    double beta = v[0] >= 0.0 ? -norm : norm;
    double v_norm = sqrt(2.0 * norm) * sqrt(norm + fabs(v[0]));  // two roots: no overflow of norm²
    v[0] -= beta;
    for (int i = 0; i < n; i++) v[i] /= v_norm;
    return beta;
}

// H B = B - 2 v (vᵀ B): first the row vector w = vᵀ B, then a rank-1 update, both by rows.
void householder_apply_left(double *block_values, int stride, int rows, int cols, const double *v, double *work) {
    for (int j = 0; j < cols; j++) work[j] = 0.0;
    for (int i = 0; i < rows; i++) {
        const double *row = block_values + (size_t)i * stride;
        for (int j = 0; j < cols; j++) work[j] += v[i] * row[j];
    }
    for (int i = 0; i < rows; i++) {
        double *row = block_values + (size_t)i * stride;
        double scale = 2.0 * v[i];
        for (int j = 0; j < cols; j++) row[j] -= scale * work[j];
    }
}

// B H = B - 2 (B v) vᵀ, one row at a time.
void householder_apply_right(double *block_values, int stride, int rows, int cols, const double *v) {
    for (int i = 0; i < rows; i++) {
        double *row = block_values + (size_t)i * stride;
        double dot = 0.0;
        for (int j = 0; j < cols; j++) dot += row[j] * v[j];
        for (int j = 0; j < cols; j++) row[j] -= 2.0 * dot * v[j];
    }
}
