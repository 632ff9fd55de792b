// Singular value decomposition A (m,n) = U diag(s) Vᵀ, thin: p = min(m, n), U (m,p),
// s (p) descending, Vᵀ (p,n). Two algorithms, one finishing step.
//
// One-sided Jacobi (Hestenes 1958): rotate pairs of columns of A until every pair is
// orthogonal; then the column norms are the singular values, the normalised columns U, and
// the accumulated rotations V. Each rotation is the two-sided Jacobi rotation of AᵀA, which
// is never formed, so small singular values keep their relative accuracy.
// Golub-Kahan (1965, with Golub-Reinsch's implicit shifts): Householder reflections from the
// left and right reduce A to an upper bidiagonal B = U₁ᵀ A V₁; implicit QR steps on BᵀB
// (done on B itself, by chasing a bulge with plane rotations) drive B's superdiagonal to 0.
// About 4mn² + 8n³ flops for the vectors; the fast one here.
//
// Both work on a tall matrix (m >= n); a wide A is factorised as Aᵀ = U' Σ V'ᵀ, so that
// A = V' Σ U'ᵀ and the roles of the two sides swap. A is first scaled by a power of two
// (exact) so that its largest entry is about 1: no overflow in the squared norms.
// Not here: the zero-shift QR of Demmel-Kahan (high relative accuracy in Golub-Kahan),
// divide and conquer (LAPACK's gesdd), blocking, threads, randomized sketches.
#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/linalg.h"

static int min_int(int a, int b) { return a < b ? a : b; }

// Rotation of two rows x, y (length n): x <- c x + s y, y <- -s x + c y. The hot loop of both
// algorithms' vector updates.
static void rotate_rows(double *x, double *y, int n, double c, double s) {
    for (int i = 0; i < n; i++) {
        double a = x[i], b = y[i];
        x[i] = c * a + s * b;
        y[i] = -s * a + c * b;
    }
}

static int check_svd_arguments(const Matrix *a, const Matrix *u, const Matrix *vt, Error *error) {
    if (matrix_check_finite(a, "A", error)) return -1;
    int p = min_int(a->rows, a->cols);
    if (u && matrix_check_shape(u, a->rows, p, "U", error)) return -1;
    if (vt && matrix_check_shape(vt, p, a->cols, "Vt", error)) return -1;
    return 0;
}

// The power of two nearest above max |a| (1 for a zero matrix): dividing by it is exact.
static double power_of_two_scale(const Matrix *a) {
    double largest = 0.0;
    for (size_t i = 0; i < (size_t)a->rows * a->cols; i++) largest = fmax(largest, fabs(a->values[i]));
    if (largest == 0.0) return 1.0;
    int exponent;
    frexp(largest, &exponent);
    return ldexp(1.0, exponent);
}

// tall (rows, cols) = A / scale if A is tall, else Aᵀ / scale; rows >= cols.
static void copy_tall(double *tall, const Matrix *a, double scale) {
    int m = a->rows, n = a->cols;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double value = a->values[(size_t)i * n + j] / scale;
            if (m >= n) tall[(size_t)i * n + j] = value;
            else tall[(size_t)j * m + i] = value;
        }
}

// The finishing step shared by both algorithms. values (p) are singular values of A/scale,
// left (p, m) holds in row j the left singular vector of values[j] (length m), right (p, n)
// the right one. Sorts descending, makes values >= 0 (flipping the right vector), writes s,
// u (m,p) and vt (p,n) if wanted. order (p ints) is scratch.
static void finish_svd(double *values, double *left, double *right, int m, int n, double scale, double *s, Matrix *u,
                       Matrix *vt, int *order) {
    int p = min_int(m, n);
    for (int j = 0; j < p; j++)
        if (values[j] < 0.0) {
            values[j] = -values[j];
            for (int i = 0; i < n; i++) right[(size_t)j * n + i] = -right[(size_t)j * n + i];
        }
    for (int i = 0; i < p; i++) order[i] = i;
    for (int i = 1; i < p; i++) {  // insertion sort; nearly sorted already after Golub-Kahan
        int moving = order[i], j = i;
        for (; j > 0 && values[order[j - 1]] < values[moving]; j--) order[j] = order[j - 1];
        order[j] = moving;
    }
    for (int j = 0; j < p; j++) s[j] = values[order[j]] * scale;
    if (u)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < p; j++) u->values[(size_t)i * p + j] = left[(size_t)order[j] * m + i];
    if (vt)
        for (int j = 0; j < p; j++) memcpy(vt->values + (size_t)j * n, right + (size_t)order[j] * n, sizeof(double) * n);
}

// ----------------------------------------------------------------------------
// One-sided Jacobi on a tall matrix given by its columns: columns (count, length), row j
// being column j, length >= count. For a pair (j,k) with α = ||g_j||², β = ||g_k||²,
// γ = g_jᵀg_k the rotation [g_j g_k] <- [g_j g_k] [[c, s], [-s, c]] with
// ζ = (β - α) / (2γ), t = sign(ζ) / (|ζ| + sqrt(1 + ζ²)), c = 1 / sqrt(1 + t²), s = c t
// makes them orthogonal. Stops when a sweep finds every |γ| <= sqrt(length) eps sqrt(αβ).
// On return columns holds the unit left vectors, values (count) the norms, rotations
// (count, count) row j the right vector of values[j].
static int jacobi_tall(double *columns, int length, int count, double *values, double *rotations) {
    memset(rotations, 0, sizeof(double) * (size_t)count * count);
    for (int j = 0; j < count; j++) rotations[(size_t)j * count + j] = 1.0;
    double tolerance = sqrt((double)length) * DBL_EPSILON;
    // A column that rank deficiency has reduced to rounding noise (norm <= eps ||A||_F) is
    // left alone: rotating it against the others only shrinks it further, into subnormal
    // numbers, without ever meeting the relative test. It is fixed up below.
    Matrix whole = matrix_view(columns, count, length);
    double negligible = DBL_EPSILON * matrix_frobenius_norm(&whole);
    int converged = 0;
    for (int sweep = 0; sweep < 60 && !converged; sweep++) {
        converged = 1;
        for (int j = 0; j < count - 1; j++)
            for (int k = j + 1; k < count; k++) {
                double *g_j = columns + (size_t)j * length, *g_k = columns + (size_t)k * length;
                double alpha = 0.0, beta = 0.0, gamma = 0.0;
                for (int i = 0; i < length; i++) {
                    alpha += g_j[i] * g_j[i];
                    beta += g_k[i] * g_k[i];
                    gamma += g_j[i] * g_k[i];
                }
                if (sqrt(alpha) <= negligible || sqrt(beta) <= negligible) continue;
                if (fabs(gamma) <= tolerance * sqrt(alpha) * sqrt(beta)) continue;
                converged = 0;
                double zeta = (beta - alpha) / (2.0 * gamma);
                double t = (zeta >= 0.0 ? 1.0 : -1.0) / (fabs(zeta) + hypot(1.0, zeta));
                double c = 1.0 / sqrt(1.0 + t * t), s = c * t;
                // g_j <- c g_j - s g_k, g_k <- s g_j + c g_k (rotate_rows with -s).
                rotate_rows(g_j, g_k, length, c, -s);
                rotate_rows(rotations + (size_t)j * count, rotations + (size_t)k * count, count, c, -s);
            }
    }
    if (!converged) return -1;

    // Norms and unit columns. A negligible column (see above) is replaced by a unit vector
    // orthogonal to all the others, which moves σ_j u_j by at most 2 eps ||A||: the first of
    // (the column itself, e_0, e_1, ...) whose part orthogonal to the others has squared norm
    // > 1/(2 length) (some e_i has >= 1/length), orthogonalised twice.
    for (int j = 0; j < count; j++) {
        Matrix column = matrix_view(columns + (size_t)j * length, length, 1);
        values[j] = matrix_frobenius_norm(&column);
        if (values[j] > negligible)
            for (int i = 0; i < length; i++) column.values[i] /= values[j];
    }
    for (int j = 0; j < count; j++) {
        if (values[j] > negligible) continue;
        double *g = columns + (size_t)j * length;
        for (int candidate = -1; candidate < length; candidate++) {
            if (candidate == -1 && values[j] == 0.0) continue;
            for (int i = 0; i < length; i++) g[i] = candidate == -1 ? g[i] / values[j] : i == candidate ? 1.0 : 0.0;
            for (int pass = 0; pass < 2; pass++)
                for (int other = 0; other < count; other++) {
                    if (other == j || (values[other] <= negligible && other > j)) continue;  // not yet unit
                    const double *h = columns + (size_t)other * length;
                    double dot = 0.0;
                    for (int i = 0; i < length; i++) dot += h[i] * g[i];
                    for (int i = 0; i < length; i++) g[i] -= dot * h[i];
                }
            Matrix column = matrix_view(g, length, 1);
            double norm = matrix_frobenius_norm(&column);
            if (norm * norm > 0.5 / length) {
                for (int i = 0; i < length; i++) g[i] /= norm;
                break;
            }
        }
    }
    return 0;
}

int svd_jacobi(const Matrix *a, Matrix *u, double *s, Matrix *vt, Error *error) {
    if (check_svd_arguments(a, u, vt, error)) return -1;
    int m = a->rows, n = a->cols, p = min_int(m, n), length = m > n ? m : n;
    // columns (p, length): the tall matrix's columns; rotations (p,p); values (p); order (p).
    double *work = malloc(sizeof(double) * ((size_t)p * length + (size_t)p * p + 2 * (size_t)p + 1));
    if (!work) return error_set(error, "out of memory for the SVD of a %d x %d matrix", m, n);
    double *columns = work, *rotations = columns + (size_t)p * length, *values = rotations + (size_t)p * p;
    int *order = (int *)(values + p);
    double scale = power_of_two_scale(a);
    // The columns of the tall matrix are the rows of its transpose: Aᵀ's rows if A is tall,
    // A's own rows if A is wide.
    if (m >= n) {
        Matrix transposed = matrix_view(columns, n, m);
        matrix_transpose(&transposed, a);
    } else {
        memcpy(columns, a->values, sizeof(double) * (size_t)m * n);
    }
    for (size_t i = 0; i < (size_t)p * length; i++) columns[i] /= scale;
    if (jacobi_tall(columns, length, p, values, rotations)) {
        free(work);
        return error_set(error, "one-sided Jacobi SVD of a %d x %d matrix did not converge in 60 sweeps", m, n);
    }
    // Tall: U's columns are the unit columns, V's the rotations. Wide: the other way round.
    if (m >= n) finish_svd(values, columns, rotations, m, n, scale, s, u, vt, order);
    else finish_svd(values, rotations, columns, m, n, scale, s, u, vt, order);
    free(work);
    return 0;
}

// ----------------------------------------------------------------------------
// Golub-Kahan on tall (m,n), m >= n, overwritten. Fills d (n), e (n) and, if left_rows and
// right_rows are not NULL, left_rows (n,m) = U₁ᵀ and right_rows (n,n) = V₁ᵀ, rotated along
// with B so that tall = left_rowsᵀ diag(d) right_rows at the end. reflectors (n, m) and
// scratch (m) are work space. Returns -1 if the QR steps do not converge.
//
// Bidiagonalisation: for k = 0..n-1, a left reflection zeroes column k below the diagonal
// (its image is d_k), then for k < n-1 a right reflection zeroes row k right of the
// superdiagonal (its image is e_k).
//
// QR steps on the unreduced block lo..hi of B. The shift μ is the eigenvalue of the
// trailing 2x2 of BᵀB closer to its last entry; the first right rotation acts on the first
// column of BᵀB - μI, (d_lo² - μ, d_lo e_lo), which puts a bulge below the diagonal at
// (lo+1, lo); a left rotation moves it to (lo, lo+2), a right one to (lo+2, lo+1), and so on
// off the end. A right rotation on columns (k, k+1) with (c, s) from (y, z) maps
// col_k <- c col_k + s col_k+1, col_k+1 <- -s col_k + c col_k+1, and since A = U B Vᵀ the
// same combination applies to rows k, k+1 of Vᵀ; a left rotation on rows likewise to Uᵀ.
//
// A zero on the diagonal stops the shift from working; it splits the problem instead: if
// d_i = 0 (i < hi), left rotations with rows i+1..hi chase e_i out along row i; if d_hi = 0,
// right rotations with columns hi-1..lo chase e_(hi-1) up column hi.
// Householder bidiagonalisation in place: d (n) the diagonal, e (n) the superdiagonal (e[n-1]
// = 0); left reflector k kept in reflectors (m per reflector), right reflector k in row k of tall.
static void bidiagonalize(double *tall, int m, int n, double *d, double *e, double *reflectors, double *scratch) {
    for (int k = 0; k < n; k++) {
        double *v = reflectors + (size_t)k * m;  // left reflector k: rows k..m-1
        for (int i = k; i < m; i++) v[i - k] = tall[(size_t)i * n + k];
        d[k] = householder_vector(v, m - k);
        householder_apply_left(tall + (size_t)k * n + k + 1, n, m - k, n - k - 1, v, scratch);
        if (k + 1 < n) {
            // Right reflector k (columns k+1..n-1) is row k of tall itself, stored in place.
            double *w = tall + (size_t)k * n + k + 1;
            e[k] = householder_vector(w, n - k - 1);
            householder_apply_right(tall + (size_t)(k + 1) * n + k + 1, n, m - k - 1, n - k - 1, w);
        } else {
            e[k] = 0.0;
        }
    }
}

// The bidiagonalisation's orthogonal factors, as rows: right_rows (n,n) = V₁ᵀ and left_rows
// (n,m) = U₁ᵀ. Overwrites tall.
static void bidiagonal_vectors(double *tall, int m, int n, double *left_rows, double *right_rows,
                               const double *reflectors, double *scratch) {
    // V₁ = G_0 ··· G_(n-2), G_k acting on indices k+1..n-1, built from the identity as
    // in qr.c (first, while the right reflectors are still in tall), transposed in place.
    memset(right_rows, 0, sizeof(double) * (size_t)n * n);
    for (int i = 0; i < n; i++) right_rows[(size_t)i * n + i] = 1.0;
    for (int k = n - 2; k >= 0; k--)
        householder_apply_left(right_rows + (size_t)(k + 1) * n + (k + 1), n, n - k - 1, n - k - 1,
                               tall + (size_t)k * n + k + 1, scratch);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double t = right_rows[(size_t)i * n + j];
            right_rows[(size_t)i * n + j] = right_rows[(size_t)j * n + i], right_rows[(size_t)j * n + i] = t;
        }
    // U₁ = H_0 ··· H_(n-1) [I_n; 0] (m,n) in tall's storage, then transposed into left_rows.
    memset(tall, 0, sizeof(double) * (size_t)m * n);
    for (int i = 0; i < n; i++) tall[(size_t)i * n + i] = 1.0;
    for (int k = n - 1; k >= 0; k--)
        householder_apply_left(tall + (size_t)k * n + k, n, m - k, n - k, reflectors + (size_t)k * m, scratch);
    Matrix u_matrix = matrix_view(tall, m, n), left_matrix = matrix_view(left_rows, n, m);
    matrix_transpose(&left_matrix, &u_matrix);
}

// A zero on the diagonal at d[zero], zero < hi: rotations of rows (j, zero) chase e[zero]
// out along the row, splitting the block.
static void chase_zero_row(double *d, double *e, int zero, int hi, double *left_rows, int m) {
    d[zero] = 0.0;
    double f = e[zero];
    e[zero] = 0.0;
    for (int j = zero + 1; j <= hi; j++) {
        // rows (j, zero): row_j <- c row_j + s row_zero, row_zero <- -s row_j + c row_zero.
        double r = hypot(d[j], f), c = 1.0, s = 0.0;
        if (r != 0.0) c = d[j] / r, s = f / r;
        d[j] = r;
        if (j < hi) f = -s * e[j], e[j] *= c;
        if (left_rows) rotate_rows(left_rows + (size_t)j * m, left_rows + (size_t)zero * m, m, c, s);
    }
}

// A zero at the block's last diagonal entry d[hi]: rotations of columns (j, hi) chase e[hi-1]
// up the column.
static void chase_zero_column(double *d, double *e, int lo, int hi, double *right_rows, int n) {
    d[hi] = 0.0;
    double f = e[hi - 1];
    e[hi - 1] = 0.0;
    for (int j = hi - 1; j >= lo; j--) {
        // columns (j, hi): col_j <- c col_j + s col_hi, col_hi <- -s col_j + c col_hi.
        double r = hypot(d[j], f), c = 1.0, s = 0.0;
        if (r != 0.0) c = d[j] / r, s = f / r;
        d[j] = r;
        if (j > lo) f = -s * e[j - 1], e[j - 1] *= c;
        if (right_rows) rotate_rows(right_rows + (size_t)j * n, right_rows + (size_t)hi * n, n, c, s);
    }
}

// One implicit-shift QR sweep over the block lo..hi (Golub & Van Loan, Algorithm 8.6.1): the
// Wilkinson shift from the trailing 2x2 of BᵀB, then a bulge chased down by alternating right
// and left rotations.
static void shifted_qr_sweep(double *d, double *e, int lo, int hi, double *left_rows, int m, double *right_rows,
                             int n) {
    double t11 = d[hi - 1] * d[hi - 1] + (hi - 1 > lo ? e[hi - 2] * e[hi - 2] : 0.0);
    double t22 = d[hi] * d[hi] + e[hi - 1] * e[hi - 1], t12 = d[hi - 1] * e[hi - 1];
    double delta = (t11 - t22) / 2.0, denominator = delta + (delta >= 0.0 ? 1.0 : -1.0) * hypot(delta, t12);
    double shift = denominator == 0.0 ? t22 : t22 - t12 * t12 / denominator;
    double y = d[lo] * d[lo] - shift, z = d[lo] * e[lo];
    for (int k = lo; k < hi; k++) {
        // Right rotation on columns (k, k+1) sending (y, z) -> (r, 0): row k-1 holds
        // (e_(k-1), bulge) for k > lo.
        double r = hypot(y, z), c = 1.0, s = 0.0;
        if (r != 0.0) c = y / r, s = z / r;
        if (k > lo) e[k - 1] = r;
        double d_k = d[k], e_k = e[k], d_next = d[k + 1];
        d[k] = c * d_k + s * e_k;
        e[k] = -s * d_k + c * e_k;
        double below = s * d_next;  // bulge at (k+1, k)
        d[k + 1] = c * d_next;
        if (right_rows) rotate_rows(right_rows + (size_t)k * n, right_rows + (size_t)(k + 1) * n, n, c, s);
        // Left rotation on rows (k, k+1) sending (d_k, below) -> (r, 0); a new bulge at
        // (k, k+2) when e_(k+1) is in the block.
        y = d[k], z = below;
        r = hypot(y, z), c = 1.0, s = 0.0;
        if (r != 0.0) c = y / r, s = z / r;
        d[k] = r;
        e_k = e[k], d_next = d[k + 1];
        e[k] = c * e_k + s * d_next;
        d[k + 1] = -s * e_k + c * d_next;
        if (k + 1 < hi) {
            z = s * e[k + 1];  // bulge at (k, k+2), the next right rotation's target
            e[k + 1] *= c;
            y = e[k];
        }
        if (left_rows) rotate_rows(left_rows + (size_t)k * m, left_rows + (size_t)(k + 1) * m, m, c, s);
    }
}

static int golub_kahan_tall(double *tall, int m, int n, double *d, double *e, double *left_rows, double *right_rows,
                            double *reflectors, double *scratch) {
    bidiagonalize(tall, m, n, d, e, reflectors, scratch);
    if (left_rows) bidiagonal_vectors(tall, m, n, left_rows, right_rows, reflectors, scratch);
    double norm = 0.0;  // max |d_i| + |e_i|, a bound on ||B||₂ up to a factor 2
    for (int i = 0; i < n; i++) norm = fmax(norm, fabs(d[i]) + fabs(e[i]));
    int iterations = 0, max_iterations = 6 * n * n + 30;
    for (;;) {
        for (int i = 0; i + 1 < n; i++)
            if (fabs(e[i]) <= DBL_EPSILON * (fabs(d[i]) + fabs(d[i + 1])) || fabs(e[i]) <= DBL_MIN * norm) e[i] = 0.0;
        int hi = n - 1;
        while (hi > 0 && e[hi - 1] == 0.0) hi--;
        if (hi <= 0) return 0;  // diagonal (or empty): done
        int lo = hi - 1;
        while (lo > 0 && e[lo - 1] != 0.0) lo--;
        if (++iterations > max_iterations) return -1;
        int zero = -1;
        for (int i = lo; i <= hi && zero < 0; i++)
            if (fabs(d[i]) <= DBL_EPSILON * norm) zero = i;
        if (zero >= 0 && zero < hi) chase_zero_row(d, e, zero, hi, left_rows, m);
        else if (zero == hi) chase_zero_column(d, e, lo, hi, right_rows, n);
        else shifted_qr_sweep(d, e, lo, hi, left_rows, m, right_rows, n);
    }
}

int svd_golub_kahan(const Matrix *a, Matrix *u, double *s, Matrix *vt, Error *error) {
    if (check_svd_arguments(a, u, vt, error)) return -1;
    int m = a->rows, n = a->cols, tall_m = m > n ? m : n, p = min_int(m, n);
    int want_vectors = u != NULL || vt != NULL;
    // tall (tall_m, p); d, e, order (p each); reflectors (p, tall_m); scratch (tall_m);
    // left_rows (p, tall_m), right_rows (p, p) if vectors are wanted.
    size_t size = (size_t)tall_m * p * 2 + 3 * (size_t)p + (size_t)tall_m + 1;
    if (want_vectors) size += (size_t)p * tall_m + (size_t)p * p;
    double *work = malloc(sizeof(double) * size);
    if (!work) return error_set(error, "out of memory for the SVD of a %d x %d matrix", m, n);
    double *tall = work, *d = tall + (size_t)tall_m * p, *e = d + p, *reflectors = e + p;
    double *scratch = reflectors + (size_t)p * tall_m;
    int *order = (int *)(scratch + tall_m);
    double *left_rows = want_vectors ? (double *)(order) + p : NULL;
    double *right_rows = want_vectors ? left_rows + (size_t)p * tall_m : NULL;
    double scale = power_of_two_scale(a);
    copy_tall(tall, a, scale);
    if (golub_kahan_tall(tall, tall_m, p, d, e, left_rows, right_rows, reflectors, scratch)) {
        free(work);
        return error_set(error, "Golub-Kahan SVD of a %d x %d matrix did not converge", m, n);
    }
    if (!want_vectors) {
        // finish_svd only needs somewhere to flip signs; reuse the reflectors' room.
        finish_svd(d, reflectors, reflectors, tall_m, p, scale, s, NULL, NULL, order);
    } else if (m >= n) {
        finish_svd(d, left_rows, right_rows, m, n, scale, s, u, vt, order);
    } else {
        // Aᵀ = U' Σ V'ᵀ: U = V' (its columns are right_rows' rows), Vᵀ = U'ᵀ = left_rows.
        finish_svd(d, right_rows, left_rows, m, n, scale, s, u, vt, order);
    }
    free(work);
    return 0;
}

// ----------------------------------------------------------------------------
// out (m,n) += Σ_(first<=l<last) s_l u_l v_lᵀ, row by row of out: row i gains
// Σ_l (u_il s_l) · (row l of Vᵀ).
void svd_accumulate(Matrix *out, const Matrix *u, const double *s, const Matrix *vt, int first, int last) {
    int m = u->rows, p = u->cols, n = vt->cols;
    assert(out->rows == m && out->cols == n && vt->rows == p && 0 <= first && first <= last && last <= p);
    for (int i = 0; i < m; i++) {
        double *row = out->values + (size_t)i * n;
        for (int l = first; l < last; l++) {
            double weight = u->values[(size_t)i * p + l] * s[l];
            const double *v_row = vt->values + (size_t)l * n;
            for (int j = 0; j < n; j++) row[j] += weight * v_row[j];
        }
    }
}

void svd_reconstruct(Matrix *out, const Matrix *u, const double *s, const Matrix *vt, int k) {
    memset(out->values, 0, sizeof(double) * (size_t)out->rows * out->cols);
    svd_accumulate(out, u, s, vt, 0, k);
}

int svd_low_rank_float(float *out, const float *a, int m, int n, int k, Error *error) {
    if (m < 0 || n < 0) return error_set(error, "matrix size %d x %d is negative", m, n);
    int p = min_int(m, n);
    if (k < 0 || k > p) return error_set(error, "rank %d is outside 0..%d for a %d x %d matrix", k, p, m, n);
    Matrix copy, u, vt, result;
    Matrix *all[] = {&copy, &u, &vt, &result};
    int sizes[4][2] = {{m, n}, {m, p}, {p, n}, {m, n}};
    for (int i = 0; i < 4; i++) all[i]->values = NULL;
    double *s = malloc(sizeof(double) * ((size_t)p + 1));
    int status = s ? 0 : error_set(error, "out of memory for the SVD of a %d x %d matrix", m, n);
    for (int i = 0; i < 4 && status == 0; i++) status = matrix_init(all[i], sizes[i][0], sizes[i][1], error);
    if (status == 0) {
        for (size_t i = 0; i < (size_t)m * n; i++) copy.values[i] = a[i];
        status = svd_golub_kahan(&copy, &u, s, &vt, error);
    }
    if (status == 0) {
        svd_reconstruct(&result, &u, s, &vt, k);
        for (size_t i = 0; i < (size_t)m * n; i++) out[i] = (float)result.values[i];
    }
    for (int i = 0; i < 4; i++) free(all[i]->values);
    free(s);
    return status;
}

int svd_condition_number(const Matrix *a, double *condition, Error *error) {
    if (matrix_check_finite(a, "A", error)) return -1;
    int p = min_int(a->rows, a->cols);
    if (p == 0) return error_set(error, "the condition number of an empty (%d x %d) matrix is undefined", a->rows, a->cols);
    double *s = malloc(sizeof(double) * (size_t)p);
    if (!s) return error_set(error, "out of memory for the SVD of a %d x %d matrix", a->rows, a->cols);
    int status = svd_golub_kahan(a, NULL, s, NULL, error);
    if (status == 0) *condition = s[p - 1] == 0.0 ? INFINITY : s[0] / s[p - 1];
    free(s);
    return status;
}
