// The bias-variance decomposition measured: see bias_variance.h.
#include "explore/bias_variance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "foundations/linalg.h"
#include "foundations/random.h"

static const double PI = 3.14159265358979323846;

BiasVarianceConfig bias_variance_defaults(void) {
    return (BiasVarianceConfig){.train_size = 30, .datasets = 500, .max_degree = 10, .test_points = 100,
                                .test_draws = 10, .noise = 0.3, .seed = 1};
}

static double truth(double x) { return sin(2.0 * PI * x); }

// basis (degree + 1) = P_0(t) .. P_degree(t), t = 2x - 1, by Bonnet's recursion
// (k + 1) P_{k+1} = (2k + 1) t P_k - k P_{k-1}.
static void legendre(double x, int degree, double *basis) {
    double t = 2.0 * x - 1.0;
    basis[0] = 1.0;
    if (degree >= 1) basis[1] = t;
    for (int k = 1; k < degree; k++) basis[k + 1] = ((2.0 * k + 1.0) * t * basis[k] - k * basis[k - 1]) / (k + 1.0);
}

static double evaluate(const double *coefficients, int degree, double x, double *basis) {
    legendre(x, degree, basis);
    double y = 0.0;
    for (int k = 0; k <= degree; k++) y += coefficients[k] * basis[k];
    return y;
}

static int check_config(const BiasVarianceConfig *c, Error *error) {
    if (explore_check_count(c->datasets, 2, "--datasets", error) || explore_check_count(c->test_points, 1, "--test-points", error) ||
        explore_check_count(c->test_draws, 1, "--test-draws", error) || explore_check_count(c->max_degree, 0, "--max-degree", error))
        return -1;
    if (c->max_degree > BIAS_VARIANCE_MAX_DEGREE)
        return error_set(error, "--max-degree must be at most %d, not %d", BIAS_VARIANCE_MAX_DEGREE, c->max_degree);
    if (c->train_size <= c->max_degree || c->train_size < 2)
        return error_set(error, "--train-size %d must exceed --max-degree %d (and be at least 2)", c->train_size, c->max_degree);
    if (c->train_size > 100000) return error_set(error, "--train-size must be at most 100000, not %d", c->train_size);
    return explore_check_range(c->noise, 0, 100, 0, 0, "--noise", error);
}

// Everything one degree needs: the fits' predictions on the test grid and their errors.
typedef struct Fits {
    double *predictions;  // (datasets, test_points)
    double *per_dataset;  // (datasets) mean over the test grid and draws of (y - ŷ)² - (f - ŷ)² - σ²
} Fits;

// Fits degree d to every training set (regenerated from the same seed, so every degree sees
// the same sets) and fills predictions, the measured test and train errors.
static int fit_degree(const BiasVarianceConfig *c, int d, Fits *fits, BiasVarianceResult *r, Error *error) {
    int n = c->train_size, T = c->test_points;
    Matrix a = {0}, b = {0}, coefficients = {0};
    double *xs = malloc((size_t)n * sizeof(double)), basis[BIAS_VARIANCE_MAX_DEGREE + 1];
    if (!xs || matrix_init(&a, n, d + 1, error) || matrix_init(&b, n, 1, error) || matrix_init(&coefficients, d + 1, 1, error)) {
        free(xs), matrix_free(&a), matrix_free(&b);
        return xs ? -1 : error_set(error, "out of memory");
    }
    Random data, test_noise;
    random_seed(&data, c->seed);
    random_seed(&test_noise, c->seed ^ 0x9e3779b97f4a7c15ull);
    double test_sum = 0.0, train_sum = 0.0, sigma2 = c->noise * c->noise;
    int status = 0;
    for (int m = 0; m < c->datasets && status == 0; m++) {
        for (int i = 0; i < n; i++) {
            xs[i] = random_uniform_double(&data);
            b.values[i] = truth(xs[i]) + c->noise * random_standard_normal(&data);
            legendre(xs[i], d, a.values + (size_t)i * (d + 1));
        }
        if (least_squares_qr(&coefficients, &a, &b, error)) {
            status = error_prefix(error, "degree %d, training set %d", d, m);
            break;
        }
        for (int i = 0; i < n; i++) {
            double residual = b.values[i] - evaluate(coefficients.values, d, xs[i], basis);
            train_sum += residual * residual;
        }
        double noise_terms = 0.0;
        for (int t = 0; t < T; t++) {
            double x = (t + 0.5) / T, f = truth(x), prediction = evaluate(coefficients.values, d, x, basis);
            fits->predictions[(size_t)m * T + t] = prediction;
            for (int k = 0; k < c->test_draws; k++) {
                double y = f + c->noise * random_standard_normal(&test_noise);
                test_sum += (y - prediction) * (y - prediction);
                noise_terms += (y - prediction) * (y - prediction) - (f - prediction) * (f - prediction) - sigma2;
            }
        }
        fits->per_dataset[m] = noise_terms / ((double)T * c->test_draws);
    }
    r->test_error[d] = test_sum / ((double)c->datasets * T * c->test_draws);
    r->train_error[d] = train_sum / ((double)c->datasets * n);
    free(xs), matrix_free(&a), matrix_free(&b), matrix_free(&coefficients);
    return status;
}

// bias², variance and mean (f - ŷ)² over the grid, and the standard error of the noise terms.
static void decompose(const BiasVarianceConfig *c, int d, const Fits *fits, BiasVarianceResult *r) {
    int M = c->datasets, T = c->test_points;
    double bias2 = 0.0, variance = 0.0, squared = 0.0;
    for (int t = 0; t < T; t++) {
        double f = truth((t + 0.5) / T), mean = 0.0;
        for (int m = 0; m < M; m++) mean += fits->predictions[(size_t)m * T + t];
        mean /= M;
        for (int m = 0; m < M; m++) {
            double p = fits->predictions[(size_t)m * T + t];
            variance += (p - mean) * (p - mean);
            squared += (f - p) * (f - p);
        }
        bias2 += (mean - f) * (mean - f);
    }
    r->bias2[d] = bias2 / T;
    r->variance[d] = variance / ((double)M * T);
    r->expected_squared_error[d] = squared / ((double)M * T);
    // The training sets are independent, so the per-set averages are too: stderr = sd / √M.
    double mean = 0.0, spread = 0.0;
    for (int m = 0; m < M; m++) mean += fits->per_dataset[m];
    mean /= M;
    for (int m = 0; m < M; m++) spread += (fits->per_dataset[m] - mean) * (fits->per_dataset[m] - mean);
    r->test_error_stderr[d] = sqrt(spread / (M - 1) / M);
}

int explore_bias_variance(const BiasVarianceConfig *c, BiasVarianceResult *r, Error *error) {
    memset(r, 0, sizeof *r);
    if (check_config(c, error)) return -1;
    Fits fits = {malloc((size_t)c->datasets * c->test_points * sizeof(double)), malloc((size_t)c->datasets * sizeof(double))};
    if (!fits.predictions || !fits.per_dataset) {
        free(fits.predictions), free(fits.per_dataset);
        return error_set(error, "out of memory for %d training sets", c->datasets);
    }
    r->n_degrees = c->max_degree + 1;
    r->noise = c->noise * c->noise;
    int status = 0;
    for (int d = 0; d <= c->max_degree && status == 0; d++) {
        status = fit_degree(c, d, &fits, r, error);
        if (status == 0) decompose(c, d, &fits, r);
        if (status == 0 && r->test_error[d] < r->test_error[r->best_degree]) r->best_degree = d;
    }
    free(fits.predictions), free(fits.per_dataset);
    return status;
}
