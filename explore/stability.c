// Numerical stability made visible: naive against stable computations (see stability.h).
#include "explore/stability.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "foundations/layers.h"
#include "foundations/linalg.h"
#include "foundations/random.h"

// 10^(k / per_decade) for k = 0 .. decades · per_decade into values; returns the count.
static int decade_grid(double first_exponent, int decades, int per_decade, double *values) {
    int n = decades * per_decade + 1;
    for (int k = 0; k < n; k++) values[k] = pow(10.0, first_exponent + (double)k / per_decade);
    return n;
}

// ---------------------------------------------------------------------------------------
// softmax

enum { LOGITS = 10 };

// log Σ exp z, and exp z / Σ exp z, exactly as written (float32).
static float naive_log_sum_exp(const float *z) {
    float sum = 0.0f;
    for (int i = 0; i < LOGITS; i++) sum += expf(z[i]);
    return logf(sum);
}
static void naive_softmax(const float *z, float *p) {
    float sum = 0.0f;
    for (int i = 0; i < LOGITS; i++) sum += expf(z[i]);
    for (int i = 0; i < LOGITS; i++) p[i] = expf(z[i]) / sum;
}
// m + log Σ exp(z - m), m = max z: no term exceeds 1, the largest is exactly 1 (float32).
static float stable_log_sum_exp(const float *z) {
    float m = z[0], sum = 0.0f;
    for (int i = 1; i < LOGITS; i++) m = fmaxf(m, z[i]);
    for (int i = 0; i < LOGITS; i++) sum += expf(z[i] - m);
    return m + logf(sum);
}
// The reference: the stable formulas in float64 on the same float32 logits.
static double reference_softmax(const float *z, double *p) {
    double m = z[0], sum = 0.0;
    for (int i = 1; i < LOGITS; i++) m = fmax(m, z[i]);
    for (int i = 0; i < LOGITS; i++) sum += exp(z[i] - m);
    for (int i = 0; i < LOGITS; i++) p[i] = exp(z[i] - m) / sum;
    return m + log(sum);
}

// max_i |p_i - reference_i|, INFINITY when p holds a non-finite value.
static double softmax_error(const float *p, const double *reference) {
    double worst = 0.0;
    for (int i = 0; i < LOGITS; i++) {
        if (!isfinite(p[i])) return INFINITY;
        worst = fmax(worst, fabs(p[i] - reference[i]));
    }
    return worst;
}

static double lse_error(float value, double reference) {
    return isfinite(value) ? fabs(value - reference) / fabs(reference) : INFINITY;
}

int explore_softmax(int per_decade, int n_rows, uint64_t seed, SoftmaxResult *result, Error *error) {
    if (explore_check_count(per_decade, 1, "--per-decade", error) ||
        explore_check_range(per_decade, 1, 8, 0, 0, "--per-decade", error) ||
        explore_check_count(n_rows, 1, "--rows", error))
        return -1;
    memset(result, 0, sizeof *result);
    double scales[STABILITY_MAX_POINTS];
    result->n = decade_grid(0.0, 4, per_decade, scales);
    result->n_rows = n_rows, result->n_logits = LOGITS;
    for (int s = 0; s < result->n; s++) {
        SoftmaxRow *row = &result->rows[s];
        row->scale = scales[s];
        Random rng;  // the same standard normals at every scale: only the scale changes
        random_seed(&rng, seed);
        int failed = 0;
        for (int r = 0; r < n_rows; r++) {
            float z[LOGITS], p[LOGITS];
            double reference[LOGITS];
            for (int i = 0; i < LOGITS; i++) z[i] = (float)(scales[s] * random_normal(&rng, 0.0f, 1.0f));
            double lse = reference_softmax(z, reference);
            double naive_lse = lse_error(naive_log_sum_exp(z), lse);
            row->naive_lse_error = fmax(row->naive_lse_error, naive_lse);
            row->stable_lse_error = fmax(row->stable_lse_error, lse_error(stable_log_sum_exp(z), lse));
            naive_softmax(z, p);
            double naive_p = softmax_error(p, reference);
            row->naive_softmax_error = fmax(row->naive_softmax_error, naive_p);
            failed += isinf(naive_lse) || isinf(naive_p);
            softmax_forward(p, z, 1, LOGITS);
            row->stable_softmax_error = fmax(row->stable_softmax_error, softmax_error(p, reference));
        }
        row->naive_failed_fraction = (double)failed / n_rows;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------
// variance

typedef struct VarianceEstimates {
    double naive, two_pass, welford;
} VarianceEstimates;

// Population variance of x (n) three ways.
static VarianceEstimates variance_three_ways(const double *x, long n) {
    VarianceEstimates v;
    // One pass: E[x²] - E[x]², the textbook formula that subtracts two nearly equal numbers.
    double sum = 0.0, sum_squares = 0.0;
    for (long i = 0; i < n; i++) sum += x[i], sum_squares += x[i] * x[i];
    v.naive = sum_squares / n - (sum / n) * (sum / n);
    // Two passes: the mean first, then the squared deviations (small numbers, no cancellation).
    double mean = sum / n, deviations = 0.0;
    for (long i = 0; i < n; i++) deviations += (x[i] - mean) * (x[i] - mean);
    v.two_pass = deviations / n;
    // Welford (1962): one pass, updating the mean and M2 = Σ (x - mean)² as each value arrives.
    double running_mean = 0.0, m2 = 0.0;
    for (long i = 0; i < n; i++) {
        double delta = x[i] - running_mean;
        running_mean += delta / (double)(i + 1);
        m2 += delta * (x[i] - running_mean);
    }
    v.welford = m2 / n;
    return v;
}

int explore_variance(long n_values, uint64_t seed, VarianceResult *result, Error *error) {
    if (explore_check_count(n_values, 2, "--n", error)) return -1;
    memset(result, 0, sizeof *result);
    result->n_values = n_values;
    double *d = malloc((size_t)n_values * sizeof *d), *x = malloc((size_t)n_values * sizeof *x);
    if (!d || !x) {
        free(d), free(x);
        return error_set(error, "variance: out of memory for %ld values", n_values);
    }
    Random rng;
    random_seed(&rng, seed);
    // d on a grid of 2^-16 and |d| < 8: shift + d needs at most 34 + 3 + 16 < 53 bits, so it is exact.
    for (long i = 0; i < n_values; i++) {
        double z = fmin(fmax(random_normal(&rng, 0.0f, 1.0f), -7.0), 7.0);
        d[i] = ldexp(round(ldexp(z, 16)), -16);
    }
    double reference = variance_three_ways(d, n_values).two_pass;
    double shifts[STABILITY_MAX_POINTS];
    result->n = decade_grid(0.0, 10, 1, shifts);
    for (int s = 0; s < result->n; s++) {
        for (long i = 0; i < n_values; i++) x[i] = shifts[s] + d[i];
        VarianceEstimates v = variance_three_ways(x, n_values);
        result->rows[s] = (VarianceRow){shifts[s], reference, v.naive, v.two_pass, v.welford,
                                        fabs(v.naive - reference) / reference, fabs(v.two_pass - reference) / reference,
                                        fabs(v.welford - reference) / reference};
    }
    free(d), free(x);
    return 0;
}

// ---------------------------------------------------------------------------------------
// summation

// Pairwise (cascade) summation: the halves summed recursively, blocks of 8 by a running sum;
// every value passes through about log2(n) additions, so the error bound is ~ log2(n) ε.
static float pairwise_sum(const float *x, long n) {
    if (n <= 8) {
        float sum = 0.0f;
        for (long i = 0; i < n; i++) sum += x[i];
        return sum;
    }
    long half = n / 2;
    return pairwise_sum(x, half) + pairwise_sum(x + half, n - half);
}

// Kahan (1965): the rounding error of each addition is recovered, (t - sum) - y, and
// subtracted from the next value; the error bound is 2ε independent of n (to first order).
typedef struct Compensated {
    float sum, compensation;
} Compensated;
static void kahan_add(Compensated *k, float value) {
    float y = value - k->compensation;
    float t = k->sum + y;
    k->compensation = (t - k->sum) - y;
    k->sum = t;
}
int explore_summation(long n_values, uint64_t seed, SummationResult *result, Error *error) {
    if (explore_check_count(n_values, 1000, "--n", error) ||
        explore_check_range((double)n_values, 1000, 1e8, 0, 0, "--n", error))
        return -1;
    memset(result, 0, sizeof *result);
    static const char *const names[SUMMATION_METHODS] = {"running float32", "pairwise float32", "Kahan float32"};
    memcpy(result->names, names, sizeof names);
    float *x = malloc((size_t)n_values * sizeof *x);
    if (!x) return error_set(error, "summation: out of memory for %ld values", n_values);
    Random rng;
    random_seed(&rng, seed);
    for (long i = 0; i < n_values; i++) x[i] = random_uniform(&rng);
    // Checkpoints 10^3, 10^3.5, ... and n_values itself; the running sums are read as they pass.
    long checkpoints[STABILITY_MAX_POINTS];
    int n_checkpoints = 0;
    for (double e = 3.0; pow(10.0, e) < n_values * (1 - 1e-9); e += 0.5) checkpoints[n_checkpoints++] = lround(pow(10.0, e));
    checkpoints[n_checkpoints++] = n_values;
    float running = 0.0f;
    double reference = 0.0;  // exact: see stability.h
    Compensated kahan = {0};
    for (long i = 0, c = 0; i < n_values; i++) {
        running += x[i];
        reference += x[i];
        kahan_add(&kahan, x[i]);
        if (i + 1 != checkpoints[c]) continue;
        SummationRow *row = &result->rows[c++];
        row->n = i + 1, row->reference = reference;
        row->sum[0] = running, row->sum[1] = pairwise_sum(x, i + 1), row->sum[2] = kahan.sum;
        for (int m = 0; m < SUMMATION_METHODS; m++) row->error[m] = fabs(row->sum[m] - row->reference) / row->reference;
    }
    result->n = n_checkpoints;
    free(x);
    return 0;
}

// ---------------------------------------------------------------------------------------
// orthogonality

// Q (rows, cols) with orthonormal columns: Householder QR of a standard normal matrix.
static int random_orthonormal(Random *rng, int rows, int cols, Matrix *q, Error *error) {
    Matrix g, r;
    if (matrix_init(&g, rows, cols, error)) return -1;
    for (int i = 0; i < rows * cols; i++) g.values[i] = random_normal(rng, 0.0f, 1.0f);
    int status = matrix_init(&r, cols, cols, error) || qr_householder(&g, q, &r, error);
    matrix_free(&g), matrix_free(&r);
    return status ? -1 : 0;
}

// ||A - B||_F / ||A||_F
static double relative_difference(const Matrix *a, const Matrix *b) {
    double difference = 0.0;
    for (int i = 0; i < a->rows * a->cols; i++)
        difference += (a->values[i] - b->values[i]) * (a->values[i] - b->values[i]);
    return sqrt(difference) / matrix_frobenius_norm(a);
}

// One κ: A built, its condition measured, and the three QRs' losses of orthogonality.
static int orthogonality_point(const Matrix *u, const Matrix *vt, double condition, OrthogonalityRow *row,
                               Error *error) {
    int m = u->rows, n = u->cols;
    double s[STABILITY_MAX_POINTS];
    for (int i = 0; i < n; i++) s[i] = pow(condition, -(double)i / (n - 1));
    Matrix a = {0}, q = {0}, r = {0}, qr = {0};
    int status = matrix_init(&a, m, n, error) || matrix_init(&q, m, n, error) || matrix_init(&r, n, n, error) ||
                 matrix_init(&qr, m, n, error);
    row->condition_target = condition;
    if (!status) {
        svd_reconstruct(&a, u, s, vt, n);
        status = svd_condition_number(&a, &row->condition_measured, error);
    }
    int (*methods[ORTHOGONALITY_METHODS])(const Matrix *, Matrix *, Matrix *, Error *) = {
        qr_gram_schmidt_classical, qr_gram_schmidt_modified, qr_householder};
    for (int k = 0; k < ORTHOGONALITY_METHODS && !status; k++) {
        Error ignored;  // a column exactly 0 (possible at κ near 1/ε): the method failed, shown as no value
        if (methods[k](&a, &q, &r, &ignored)) {
            row->loss[k] = row->reconstruction[k] = NAN;
            continue;
        }
        matrix_multiply(&qr, &q, &r);
        row->loss[k] = matrix_orthonormality_error(&q);
        row->reconstruction[k] = relative_difference(&a, &qr);
    }
    matrix_free(&a), matrix_free(&q), matrix_free(&r), matrix_free(&qr);
    return status;
}

int explore_orthogonality(int rows, int cols, int max_exponent, uint64_t seed, OrthogonalityResult *result,
                          Error *error) {
    if (explore_check_count(cols, 2, "--cols", error) || explore_check_range(cols, 2, 60, 0, 0, "--cols", error) ||
        explore_check_count(rows, cols, "--rows (at least --cols)", error) ||
        explore_check_range(rows, 2, 2000, 0, 0, "--rows", error) ||
        explore_check_range(max_exponent, 1, 16, 0, 0, "--max-exponent", error))
        return -1;
    memset(result, 0, sizeof *result);
    result->rows = rows, result->cols = cols;
    static const char *const names[ORTHOGONALITY_METHODS] = {"classical GS", "modified GS", "Householder"};
    memcpy(result->names, names, sizeof names);
    Random rng;
    random_seed(&rng, seed);
    Matrix u = {0}, v = {0}, vt = {0};
    int status = matrix_init(&u, rows, cols, error) || matrix_init(&v, cols, cols, error) ||
                 matrix_init(&vt, cols, cols, error) || random_orthonormal(&rng, rows, cols, &u, error) ||
                 random_orthonormal(&rng, cols, cols, &v, error);
    if (!status) {
        matrix_transpose(&vt, &v);
        double conditions[STABILITY_MAX_POINTS];
        result->n = decade_grid(0.0, max_exponent, 2, conditions);
        for (int k = 0; k < result->n && !status; k++)
            status = orthogonality_point(&u, &vt, conditions[k], &result->points[k], error);
    }
    matrix_free(&u), matrix_free(&v), matrix_free(&vt);
    return status ? -1 : 0;
}

// ---------------------------------------------------------------------------------------
// ill-conditioning

static double infinity_norm(const Matrix *a) {
    double worst = 0.0;
    for (int i = 0; i < a->rows; i++) {
        double row = 0.0;
        for (int j = 0; j < a->cols; j++) row += fabs(a->values[i * a->cols + j]);
        worst = fmax(worst, row);
    }
    return worst;
}

// C(n, k) in float64 (exact while below 2^53: n <= 40 here).
static double binomial(int n, int k) {
    if (k < 0 || k > n) return 0.0;
    double c = 1.0;
    for (int i = 1; i <= k; i++) c = c * (n - k + i) / i;
    return round(c);
}

// ||H⁻¹||∞ from the closed form (stability.h), 1-based i, j.
static double hilbert_inverse_norm(int n) {
    double worst = 0.0;
    for (int i = 1; i <= n; i++) {
        double row = 0.0;
        for (int j = 1; j <= n; j++) {
            double c = binomial(i + j - 2, i - 1);
            row += (i + j - 1) * binomial(n + i - 1, n - j) * binomial(n + j - 1, n - i) * c * c;
        }
        worst = fmax(worst, row);
    }
    return worst;
}

// One Hilbert system of size n: κ, the forward error and the relative residual.
static int hilbert_point(int n, HilbertRow *row, Error *error) {
    Matrix h = {0}, b = {0}, x = {0}, hx = {0};
    if (matrix_init(&h, n, n, error) || matrix_init(&b, n, 1, error) || matrix_init(&x, n, 1, error) ||
        matrix_init(&hx, n, 1, error)) {
        matrix_free(&h), matrix_free(&b), matrix_free(&x), matrix_free(&hx);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) h.values[i * n + j] = 1.0 / (i + j + 1);
        for (int j = 0; j < n; j++) b.values[i] += h.values[i * n + j];  // b = H·1
    }
    row->n = n;
    row->condition = infinity_norm(&h) * hilbert_inverse_norm(n);
    int status = svd_condition_number(&h, &row->condition_2, error);
    Error singular;  // singular to working precision: no solution to measure, shown as no value
    if (!status && linear_solve(&x, &h, &b, &singular) == 0) {
        matrix_multiply(&hx, &h, &x);
        double worst = 0.0, residual = 0.0, x_norm = 0.0;
        for (int i = 0; i < n; i++) {
            worst = fmax(worst, fabs(x.values[i] - 1.0));
            residual = fmax(residual, fabs(hx.values[i] - b.values[i]));
            x_norm = fmax(x_norm, fabs(x.values[i]));
        }
        row->error = worst, row->residual = residual / (infinity_norm(&h) * x_norm);
    } else if (!status) {
        row->error = row->residual = NAN;
    }
    matrix_free(&h), matrix_free(&b), matrix_free(&x), matrix_free(&hx);
    return status;
}

int explore_ill_conditioning(int max_n, HilbertResult *result, Error *error) {
    if (explore_check_count(max_n, 2, "--max-n", error) || explore_check_range(max_n, 2, 20, 0, 0, "--max-n", error))
        return -1;
    memset(result, 0, sizeof *result);
    for (int n = 2; n <= max_n; n++)
        if (hilbert_point(n, &result->rows[result->n++], error)) return -1;
    return 0;
}
