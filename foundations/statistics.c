// Descriptive statistics and maximum-likelihood fits (math in statistics.h).
#include "foundations/statistics.h"

#include <math.h>

static const double LOG_TWO_PI = 1.8378770664093454836;

int check_finite(const float *x, long n, const char *what, Error *error) {
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i])) return error_set(error, "%s: value %g at index %ld is not finite", what, x[i], i);
    return 0;
}

static int check_size(long n, long minimum, const char *what, Error *error) {
    if (n < minimum) return error_set(error, "%s: %ld values, need at least %ld", what, n, minimum);
    return 0;
}

static double mean_of(const float *x, long n) {
    double sum = 0.0;
    for (long i = 0; i < n; i++) sum += x[i];
    return sum / n;
}

int statistics_mean(const float *x, long n, double *mean, Error *error) {
    if (check_size(n, 1, "mean", error) || check_finite(x, n, "mean", error)) return -1;
    *mean = mean_of(x, n);
    return 0;
}

// Σ (x_i - m_x)(y_i - m_y), the shared core of variance and covariance.
static double centered_cross_sum(const float *x, const float *y, long n) {
    double mean_x = mean_of(x, n), mean_y = mean_of(y, n), sum = 0.0;
    for (long i = 0; i < n; i++) sum += (x[i] - mean_x) * (y[i] - mean_y);
    return sum;
}

static long divisor(long n, VarianceKind kind) { return kind == VARIANCE_SAMPLE ? n - 1 : n; }

int statistics_variance(const float *x, long n, VarianceKind kind, double *variance, Error *error) {
    if (check_size(n, kind == VARIANCE_SAMPLE ? 2 : 1, "variance", error) || check_finite(x, n, "variance", error)) return -1;
    *variance = centered_cross_sum(x, x, n) / divisor(n, kind);
    return 0;
}

int statistics_covariance(const float *x, const float *y, long n, VarianceKind kind, double *covariance, Error *error) {
    if (check_size(n, kind == VARIANCE_SAMPLE ? 2 : 1, "covariance", error) || check_finite(x, n, "covariance x", error) ||
        check_finite(y, n, "covariance y", error))
        return -1;
    *covariance = centered_cross_sum(x, y, n) / divisor(n, kind);
    return 0;
}

int statistics_correlation(const float *x, const float *y, long n, double *correlation, Error *error) {
    if (check_size(n, 2, "correlation", error) || check_finite(x, n, "correlation x", error) ||
        check_finite(y, n, "correlation y", error))
        return -1;
    // The divisors cancel, so the plain centred sums are enough.
    double sxy = centered_cross_sum(x, y, n), sxx = centered_cross_sum(x, x, n), syy = centered_cross_sum(y, y, n);
    if (!(sxx > 0.0) || !(syy > 0.0)) return error_set(error, "correlation: %s is constant", sxx > 0.0 ? "y" : "x");
    double r = sxy / sqrt(sxx * syy);
    // Rounding can push |r| a hair past 1 for perfectly collinear data.
    *correlation = r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
    return 0;
}

// ---------------------------------------------------------------------------------------
// Gaussian

int statistics_gaussian_log_likelihood(const float *x, long n, double mu, double sigma, double *log_likelihood,
                                       Error *error) {
    if (check_size(n, 1, "gaussian", error) || check_finite(x, n, "gaussian", error)) return -1;
    if (!(sigma > 0.0) || !isfinite(sigma) || !isfinite(mu))
        return error_set(error, "gaussian: need finite mu and sigma > 0, got mu %g sigma %g", mu, sigma);
    double squares = 0.0;
    for (long i = 0; i < n; i++) squares += (x[i] - mu) * (x[i] - mu);
    *log_likelihood = -0.5 * n * (LOG_TWO_PI + 2.0 * log(sigma)) - squares / (2.0 * sigma * sigma);
    return 0;
}

int statistics_gaussian_fit(const float *x, long n, double *mu, double *sigma, Error *error) {
    // d/dμ log L = Σ (x_i - μ)/σ² = 0  ->  μ̂ = mean;  d/dσ log L = 0  ->  σ̂² = Σ (x_i - μ̂)²/n.
    double variance;
    if (statistics_variance(x, n, VARIANCE_POPULATION, &variance, error)) return -1;
    *mu = mean_of(x, n);
    *sigma = sqrt(variance);
    return 0;
}

// ---------------------------------------------------------------------------------------
// Bernoulli

static int check_binary(const int *outcomes, long n, Error *error) {
    if (check_size(n, 1, "bernoulli", error)) return -1;
    for (long i = 0; i < n; i++)
        if (outcomes[i] != 0 && outcomes[i] != 1) return error_set(error, "bernoulli: outcome %d at index %ld is not 0 or 1", outcomes[i], i);
    return 0;
}

int statistics_bernoulli_log_likelihood(const int *outcomes, long n, double p, double *log_likelihood, Error *error) {
    if (check_binary(outcomes, n, error)) return -1;
    if (!(p >= 0.0 && p <= 1.0)) return error_set(error, "bernoulli: p %g not in [0, 1]", p);
    long ones = 0;
    for (long i = 0; i < n; i++) ones += outcomes[i];
    long zeros = n - ones;
    // Each term only when its count is non-zero: 0·log 0 = 0, but an observed impossible
    // outcome gives log 0 = -inf.
    double sum = 0.0;
    if (ones) sum += ones * log(p);
    if (zeros) sum += zeros * log1p(-p);
    *log_likelihood = sum;
    return 0;
}

int statistics_bernoulli_fit(const int *outcomes, long n, double *p, Error *error) {
    if (check_binary(outcomes, n, error)) return -1;
    long ones = 0;
    for (long i = 0; i < n; i++) ones += outcomes[i];
    *p = (double)ones / n;  // d/dp log L = ones/p - zeros/(1-p) = 0
    return 0;
}

// ---------------------------------------------------------------------------------------
// Categorical

static int check_classes(const int *outcomes, long n, int k, Error *error) {
    if (k < 1) return error_set(error, "categorical: %d classes, need at least 1", k);
    if (check_size(n, 1, "categorical", error)) return -1;
    for (long i = 0; i < n; i++)
        if (outcomes[i] < 0 || outcomes[i] >= k)
            return error_set(error, "categorical: outcome %d at index %ld not in [0, %d)", outcomes[i], i, k);
    return 0;
}

int statistics_categorical_log_likelihood(const int *outcomes, long n, const double *probabilities, int k,
                                          double *log_likelihood, Error *error) {
    if (check_classes(outcomes, n, k, error)) return -1;
    double total = 0.0;
    for (int c = 0; c < k; c++) {
        if (!(probabilities[c] >= 0.0 && probabilities[c] <= 1.0))
            return error_set(error, "categorical: probability %g of class %d not in [0, 1]", probabilities[c], c);
        total += probabilities[c];
    }
    if (fabs(total - 1.0) > 1e-4) return error_set(error, "categorical: probabilities sum to %.6g, not 1", total);
    double sum = 0.0;
    for (long i = 0; i < n; i++) sum += log(probabilities[outcomes[i]]);  // -inf if an observed class has p = 0
    *log_likelihood = sum;
    return 0;
}

int statistics_categorical_fit(const int *outcomes, long n, int k, double *probabilities, Error *error) {
    if (check_classes(outcomes, n, k, error)) return -1;
    // Maximise Σ count(c) log p_c subject to Σ p_c = 1 (Lagrange): p_c = count(c) / n.
    for (int c = 0; c < k; c++) probabilities[c] = 0.0;
    for (long i = 0; i < n; i++) probabilities[outcomes[i]] += 1.0;
    for (int c = 0; c < k; c++) probabilities[c] /= n;
    return 0;
}
