// Dense linear algebra in double precision: the decompositions the rest of the field is
// built on, written from scratch and tested against the properties that define them.
//
//   linalg.c  the Matrix type, input checks, products and norms shared by the rest
//   qr.c      QR by Householder reflections, classical and modified Gram-Schmidt, least squares
//   eigen.c   symmetric eigendecomposition: cyclic Jacobi, tridiagonal QR, power iteration
//   svd.c     singular value decomposition: one-sided Jacobi, Golub-Kahan, low rank, condition number
//   solve.c   A X = B by LU with partial pivoting
//
// Conventions: every matrix is row-major, values[i * cols + j]; a Matrix is a view that does
// not own its values unless it came from matrix_init. Sizes may be 0. Every function checks
// the shapes of its arguments and rejects non-finite input, returning -1 with a one-line
// message in *error (foundations/error.h); outputs are then unspecified. Inputs and outputs
// must not overlap. Vectors of values (singular values, eigenvalues) are plain double arrays
// whose length the comment states.
//
// Not here: blocking for cache or threads (these are textbook algorithms, clear first; see
// `groundup bench linalg` for the price), complex numbers, non-symmetric eigenproblems.
#ifndef FOUNDATIONS_LINALG_H
#define FOUNDATIONS_LINALG_H

#include <stdint.h>

#include "foundations/error.h"

typedef struct Matrix {
    int rows, cols;
    double *values;  // rows * cols, row-major
} Matrix;

// ----------------------------------------------------------------------------
// linalg.c: the shared pieces

// Allocates a zeroed rows x cols matrix (0 sizes allowed). Free with matrix_free.
int matrix_init(Matrix *m, int rows, int cols, Error *error);
void matrix_free(Matrix *m);
// A view of existing values (no allocation).
Matrix matrix_view(double *values, int rows, int cols);
// Rejects negative sizes and non-finite entries; `what` names the argument in the message.
int matrix_check_finite(const Matrix *m, const char *what, Error *error);
// Checks that m is rows x cols; the message names `what`.
int matrix_check_shape(const Matrix *m, int rows, int cols, const char *what, Error *error);

// c (m,n) = a (m,k) · b (k,n), shapes asserted (a programming error if they do not fit).
void matrix_multiply(Matrix *c, const Matrix *a, const Matrix *b);
// out (n,m) = a (m,n)ᵀ
void matrix_transpose(Matrix *out, const Matrix *a);
// sqrt(sum of squares), scaled so that it neither overflows nor underflows.
double matrix_frobenius_norm(const Matrix *a);
// ||QᵀQ - I||_F for q (m,n): how far the columns are from orthonormal.
double matrix_orthonormality_error(const Matrix *q);

// Householder reflections H = I - 2 v vᵀ (||v|| = 1), the building block of qr.c, eigen.c
// and svd.c. householder_vector turns x (n), given in v, into v such that H x = beta e₁ and
// returns beta (|beta| = ||x||); for x = 0 it leaves v = 0 (H = I) and returns 0.
double householder_vector(double *v, int n);
// block (rows,cols) <- H block, with block[i][j] = block_values[i * stride + j], v (rows);
// work (cols) is scratch.
void householder_apply_left(double *block_values, int stride, int rows, int cols, const double *v, double *work);
// block (rows,cols) <- block H, v (cols).
void householder_apply_right(double *block_values, int stride, int rows, int cols, const double *v);

// ----------------------------------------------------------------------------
// qr.c: A = Q R with p = min(m, n), Q (m,p) with orthonormal columns, R (p,n) upper triangular.

// Householder reflections: backward stable, Q orthonormal to rounding whatever A is.
int qr_householder(const Matrix *a, Matrix *q, Matrix *r, Error *error);
// Gram-Schmidt, for m >= n only (p = n): orthogonalise each column against the previous ones.
// Classical subtracts projections computed from the original column, modified from the
// partly reduced one; on ill-conditioned A both lose orthogonality (CGS ~ cond(A)² eps,
// MGS ~ cond(A) eps). Fails if a column becomes exactly zero (exact linear dependence).
int qr_gram_schmidt_classical(const Matrix *a, Matrix *q, Matrix *r, Error *error);
int qr_gram_schmidt_modified(const Matrix *a, Matrix *q, Matrix *r, Error *error);
// Least squares: x (n,k) minimising ||A x - B||_F for a (m,n) with m >= n and full column
// rank, b (m,k), through Householder QR: x = R⁻¹ Qᵀ b. Fails if A is numerically rank-deficient.
int least_squares_qr(Matrix *x, const Matrix *a, const Matrix *b, Error *error);

// ----------------------------------------------------------------------------
// eigen.c: symmetric A (n,n) = V diag(values) Vᵀ, values (n) ascending, column i of
// vectors (n,n) the unit eigenvector of values[i]. vectors may be NULL (values only).
// A must be symmetric to 1e-10 relative to its largest entry.

// Cyclic Jacobi: rotate away each off-diagonal entry in turn until the off-diagonal part
// is below rounding. Slow (O(n³) per sweep) but very accurate.
int eigen_symmetric_jacobi(const Matrix *a, double *values, Matrix *vectors, Error *error);
// Householder reduction to tridiagonal, then implicit QR steps with Wilkinson shifts.
int eigen_symmetric_tridiagonal_qr(const Matrix *a, double *values, Matrix *vectors, Error *error);
// The k eigenpairs of largest |value| by power iteration with deflation (A <- A - λ v vᵀ):
// values (k) by |value| descending, vectors (n,k). Each iteration stops when ||A v - λ v||
// <= tolerance * ||A||_F; fails if that takes more than max_iterations (a small gap between
// |λ_i| and |λ_i+1| makes it slow). The start vectors are random from seed.
int eigen_power_top_k(const Matrix *a, int k, double *values, Matrix *vectors, int max_iterations, double tolerance,
                      uint64_t seed, Error *error);

// ----------------------------------------------------------------------------
// svd.c: A (m,n) = U diag(s) Vᵀ with p = min(m, n): u (m,p) and vt (p,n) with orthonormal
// columns / rows, s (p) descending and >= 0. u and vt may be NULL (singular values only).

// One-sided Jacobi (Hestenes): rotate pairs of columns until all are orthogonal; accurate
// in the relative sense for the small singular values, O(m n²) per sweep.
int svd_jacobi(const Matrix *a, Matrix *u, double *s, Matrix *vt, Error *error);
// Golub-Kahan: Householder bidiagonalisation, then implicit-shift QR on the bidiagonal.
// The fast one.
int svd_golub_kahan(const Matrix *a, Matrix *u, double *s, Matrix *vt, Error *error);
// The best rank-k approximation in both the spectral and Frobenius norm (Eckart-Young):
// out (m,n) = U_k diag(s_k) V_kᵀ from a thin SVD, 0 <= k <= p. No checks beyond asserts.
void svd_reconstruct(Matrix *out, const Matrix *u, const double *s, const Matrix *vt, int k);
// out (m,n) += Σ_(first <= l < last) s_l u_l v_lᵀ: grows a rank-first approximation into a
// rank-last one (a sweep over ranks costs one full reconstruction in all).
void svd_accumulate(Matrix *out, const Matrix *u, const double *s, const Matrix *vt, int first, int last);
// Float API for the rest of the project: out (m,n) = the rank-k truncation of a (m,n).
int svd_low_rank_float(float *out, const float *a, int m, int n, int k, Error *error);
// cond₂(A) = s_max / s_min (INFINITY when s_min is 0); a must be non-empty.
int svd_condition_number(const Matrix *a, double *condition, Error *error);

// ----------------------------------------------------------------------------
// solve.c: x (n,k) with A x = B for a (n,n), b (n,k), by LU factorisation with partial
// pivoting (the largest entry of the column becomes the pivot, so no multiplier exceeds 1).
// Fails if A is singular to working precision.
int linear_solve(Matrix *x, const Matrix *a, const Matrix *b, Error *error);

#endif
