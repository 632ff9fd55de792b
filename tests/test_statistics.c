// Statistics: textbook values for mean/variance/covariance/correlation, log-likelihoods
// against direct sums of log-densities, and maximum-likelihood fits recovering the
// parameters of generated data (tolerances stated as multiples of the standard error).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/random.h"
#include "foundations/statistics.h"
#include "tests/check.h"

static void test_descriptive(void) {
    Error error;
    // The classic example: mean 5, population variance 4, sample variance 32/7.
    const float x[8] = {2, 4, 4, 4, 5, 5, 7, 9};
    double mean, variance, covariance, correlation;
    CHECK(statistics_mean(x, 8, &mean, &error) == 0, "%s", error.message);
    CHECK_NEAR(mean, 5.0, 1e-12);
    CHECK(statistics_variance(x, 8, VARIANCE_POPULATION, &variance, &error) == 0, "%s", error.message);
    CHECK_NEAR(variance, 4.0, 1e-12);
    CHECK(statistics_variance(x, 8, VARIANCE_SAMPLE, &variance, &error) == 0, "%s", error.message);
    CHECK_NEAR(variance, 32.0 / 7.0, 1e-12);

    // y = 3x + 1: cov = 3 var(x), correlation 1; y = -2x: correlation -1.
    float y[8], z[8];
    for (int i = 0; i < 8; i++) {
        y[i] = 3 * x[i] + 1;
        z[i] = -2 * x[i];
    }
    CHECK(statistics_covariance(x, y, 8, VARIANCE_POPULATION, &covariance, &error) == 0, "%s", error.message);
    CHECK_NEAR(covariance, 12.0, 1e-12);
    CHECK(statistics_covariance(x, y, 8, VARIANCE_SAMPLE, &covariance, &error) == 0, "%s", error.message);
    CHECK_NEAR(covariance, 3 * 32.0 / 7.0, 1e-12);
    CHECK(statistics_correlation(x, y, 8, &correlation, &error) == 0, "%s", error.message);
    CHECK_NEAR(correlation, 1.0, 1e-12);
    CHECK(statistics_correlation(x, z, 8, &correlation, &error) == 0, "%s", error.message);
    CHECK_NEAR(correlation, -1.0, 1e-12);

    // Uncorrelated by construction: x symmetric around its mean, y = (x - mean)².
    const float symmetric[5] = {-2, -1, 0, 1, 2}, squares[5] = {4, 1, 0, 1, 4};
    CHECK(statistics_correlation(symmetric, squares, 5, &correlation, &error) == 0, "%s", error.message);
    CHECK_NEAR(correlation, 0.0, 1e-12);

    // Two passes: a large offset does not swamp the variance (a one-pass Σx² - n m² would,
    // in float: 1e6² has no room for the units).
    const float offset[3] = {1e6f, 1e6f + 1, 1e6f + 2};
    CHECK(statistics_variance(offset, 3, VARIANCE_POPULATION, &variance, &error) == 0, "%s", error.message);
    CHECK_NEAR(variance, 2.0 / 3.0, 1e-9);

    // Bad input: errors with messages, never crashes.
    CHECK(statistics_mean(x, 0, &mean, &error) == -1 && strstr(error.message, "0 values"), "n = 0: %s", error.message);
    CHECK(statistics_variance(x, 1, VARIANCE_SAMPLE, &variance, &error) == -1, "sample variance of 1 value accepted");
    CHECK(statistics_variance(x, 1, VARIANCE_POPULATION, &variance, &error) == 0 && variance == 0.0, "population variance of 1");
    const float constant[3] = {2, 2, 2};
    CHECK(statistics_correlation(x, constant, 3, &correlation, &error) == -1 && strstr(error.message, "constant"), "constant y");
    const float with_nan[3] = {1, NAN, 2};
    CHECK(statistics_mean(with_nan, 3, &mean, &error) == -1 && strstr(error.message, "index 1"), "NaN accepted");
}

static void test_gaussian(void) {
    enum { N = 20000 };
    float *x = malloc(N * sizeof(float));
    Random rng;
    random_seed(&rng, 42);
    const double true_mu = 3.0, true_sigma = 2.0;
    random_fill_normal(&rng, x, N, (float)true_mu, (float)true_sigma);
    Error error;
    double mu, sigma;
    CHECK(statistics_gaussian_fit(x, N, &mu, &sigma, &error) == 0, "%s", error.message);
    // Standard errors: σ/√N = 0.014 for μ̂, σ/√(2N) = 0.010 for σ̂; allow 4 of them.
    CHECK_NEAR(mu, true_mu, 4 * true_sigma / sqrt(N));
    CHECK_NEAR(sigma, true_sigma, 4 * true_sigma / sqrt(2.0 * N));

    // The log-likelihood equals the direct sum of log-densities...
    double log_likelihood, direct = 0.0;
    CHECK(statistics_gaussian_log_likelihood(x, N, 1.5, 0.7, &log_likelihood, &error) == 0, "%s", error.message);
    for (int i = 0; i < N; i++) {
        double z = (x[i] - 1.5) / 0.7;
        direct += log(exp(-0.5 * z * z) / (0.7 * sqrt(2 * acos(-1.0))));
    }
    CHECK_NEAR(log_likelihood, direct, 1e-9 * fabs(direct));
    // ... and is highest at the fit: perturbing μ or σ either way lowers it.
    double at_fit, nearby;
    CHECK(statistics_gaussian_log_likelihood(x, N, mu, sigma, &at_fit, &error) == 0, "%s", error.message);
    const double perturbations[4][2] = {{0.01, 0}, {-0.01, 0}, {0, 0.01}, {0, -0.01}};
    for (int i = 0; i < 4; i++) {
        statistics_gaussian_log_likelihood(x, N, mu + perturbations[i][0], sigma + perturbations[i][1], &nearby, &error);
        CHECK(nearby < at_fit, "perturbation %d: %.6f >= %.6f", i, nearby, at_fit);
    }
    CHECK(statistics_gaussian_log_likelihood(x, N, 0.0, 0.0, &at_fit, &error) == -1 && strstr(error.message, "sigma"), "sigma 0");
    free(x);
}

static void test_bernoulli(void) {
    enum { N = 20000 };
    int *outcomes = malloc(N * sizeof(int));
    Random rng;
    random_seed(&rng, 7);
    const double true_p = 0.3;
    for (int i = 0; i < N; i++) outcomes[i] = random_uniform_double(&rng) < true_p;
    Error error;
    double p;
    CHECK(statistics_bernoulli_fit(outcomes, N, &p, &error) == 0, "%s", error.message);
    CHECK_NEAR(p, true_p, 4 * sqrt(true_p * (1 - true_p) / N));  // 4 standard errors = 0.013

    double log_likelihood, direct = 0.0;
    CHECK(statistics_bernoulli_log_likelihood(outcomes, N, 0.4, &log_likelihood, &error) == 0, "%s", error.message);
    for (int i = 0; i < N; i++) direct += log(outcomes[i] ? 0.4 : 0.6);
    CHECK_NEAR(log_likelihood, direct, 1e-9 * fabs(direct));
    double at_fit, nearby;
    statistics_bernoulli_log_likelihood(outcomes, N, p, &at_fit, &error);
    statistics_bernoulli_log_likelihood(outcomes, N, p + 0.01, &nearby, &error);
    CHECK(nearby < at_fit, "p + 0.01 not worse");
    statistics_bernoulli_log_likelihood(outcomes, N, p - 0.01, &nearby, &error);
    CHECK(nearby < at_fit, "p - 0.01 not worse");

    // 0 log 0 = 0: p = 0 explains all-zero data perfectly; an observed 1 is impossible.
    const int zeros[4] = {0, 0, 0, 0}, one[4] = {0, 1, 0, 0}, bad[2] = {0, 2};
    CHECK(statistics_bernoulli_log_likelihood(zeros, 4, 0.0, &log_likelihood, &error) == 0 && log_likelihood == 0.0, "p = 0, zeros");
    CHECK(statistics_bernoulli_log_likelihood(one, 4, 0.0, &log_likelihood, &error) == 0 && isinf(log_likelihood) &&
              log_likelihood < 0,
          "p = 0 with a one: %g", log_likelihood);
    CHECK(statistics_bernoulli_fit(bad, 2, &p, &error) == -1 && strstr(error.message, "index 1"), "outcome 2 accepted");
    CHECK(statistics_bernoulli_log_likelihood(zeros, 4, 1.5, &log_likelihood, &error) == -1, "p = 1.5 accepted");
    free(outcomes);
}

static void test_categorical(void) {
    enum { N = 20000, K = 5 };
    const float weights[K] = {0.1f, 0.2f, 0.3f, 0.4f, 0.0f};  // the last class never occurs
    int *outcomes = malloc(N * sizeof(int));
    Random rng;
    random_seed(&rng, 99);
    for (int i = 0; i < N; i++) outcomes[i] = random_categorical(&rng, weights, K);
    Error error;
    double p[K];
    CHECK(statistics_categorical_fit(outcomes, N, K, p, &error) == 0, "%s", error.message);
    for (int c = 0; c < K; c++) CHECK_NEAR(p[c], weights[c], 4 * sqrt(0.25 / N));  // 4 × the largest SE = 0.014
    CHECK(p[4] == 0.0, "an unseen class got %g", p[4]);

    double log_likelihood, direct = 0.0;
    const double q[K] = {0.25, 0.25, 0.25, 0.15, 0.10};
    CHECK(statistics_categorical_log_likelihood(outcomes, N, q, K, &log_likelihood, &error) == 0, "%s", error.message);
    for (int i = 0; i < N; i++) direct += log(q[outcomes[i]]);
    CHECK_NEAR(log_likelihood, direct, 1e-9 * fabs(direct));
    // The fit (with its zero for the unseen class) beats both q and the true weights.
    double at_fit, at_truth;
    const double truth[K] = {0.1, 0.2, 0.3, 0.4, 0.0};
    CHECK(statistics_categorical_log_likelihood(outcomes, N, p, K, &at_fit, &error) == 0, "%s", error.message);
    statistics_categorical_log_likelihood(outcomes, N, truth, K, &at_truth, &error);
    CHECK(isfinite(at_fit) && at_fit >= at_truth && at_fit > log_likelihood, "fit %g truth %g q %g", at_fit, at_truth, log_likelihood);

    // An observed class with probability 0 is impossible: -inf, not an error.
    const double without_first[K] = {0.0, 0.3, 0.3, 0.4, 0.0};
    CHECK(statistics_categorical_log_likelihood(outcomes, N, without_first, K, &log_likelihood, &error) == 0 &&
              isinf(log_likelihood) && log_likelihood < 0,
          "observed zero-probability class: %g", log_likelihood);
    const double unnormalised[K] = {0.5, 0.5, 0.5, 0.0, 0.0};
    CHECK(statistics_categorical_log_likelihood(outcomes, N, unnormalised, K, &log_likelihood, &error) == -1 &&
              strstr(error.message, "sum"),
          "unnormalised accepted");
    const int out_of_range[3] = {0, 5, 1};
    CHECK(statistics_categorical_fit(out_of_range, 3, K, p, &error) == -1 && strstr(error.message, "index 1"), "class 5 of 5 accepted");
    free(outcomes);
}

// The fits on samples small enough to check by hand, where n and n - 1 differ: the Gaussian
// MLE's sigma divides by n ({1, 3}: sigma 1, not the sample's √2), and each likelihood equals
// its formula written out.
static void small_sample_fits_are_exact(void) {
    Error error;
    const float two[2] = {1.0f, 3.0f};
    double mu, sigma, log_likelihood;
    REQUIRE(statistics_gaussian_fit(two, 2, &mu, &sigma, &error) == 0, "%s", error.message);
    CHECK_NEAR(mu, 2.0, 0.0);
    CHECK_NEAR(sigma, 1.0, 1e-15);
    REQUIRE(statistics_gaussian_log_likelihood(two, 2, 2.0, 1.0, &log_likelihood, &error) == 0, "%s", error.message);
    CHECK_NEAR(log_likelihood, -log(2.0 * 3.14159265358979323846) - 1.0, 1e-12);
    const int coins[5] = {1, 0, 0, 1, 1};
    double p;
    REQUIRE(statistics_bernoulli_fit(coins, 5, &p, &error) == 0, "%s", error.message);
    CHECK_NEAR(p, 0.6, 1e-15);
    REQUIRE(statistics_bernoulli_log_likelihood(coins, 5, 0.6, &log_likelihood, &error) == 0, "%s", error.message);
    CHECK_NEAR(log_likelihood, 3.0 * log(0.6) + 2.0 * log(0.4), 1e-12);
    const int draws[3] = {0, 2, 2};
    double probabilities[3];
    REQUIRE(statistics_categorical_fit(draws, 3, 3, probabilities, &error) == 0, "%s", error.message);
    CHECK_NEAR(probabilities[0], 1.0 / 3.0, 1e-15);
    CHECK_NEAR(probabilities[1], 0.0, 0.0);
    CHECK_NEAR(probabilities[2], 2.0 / 3.0, 1e-15);
    REQUIRE(statistics_categorical_log_likelihood(draws, 3, probabilities, 3, &log_likelihood, &error) == 0, "%s",
            error.message);
    CHECK_NEAR(log_likelihood, log(1.0 / 3.0) + 2.0 * log(2.0 / 3.0), 1e-12);
    double variance;
    const float one[1] = {4.0f};
    CHECK(statistics_variance(one, 1, VARIANCE_POPULATION, &variance, &error) == 0 && variance == 0.0, "n = 1: 0");
    CHECK(statistics_variance(one, 1, VARIANCE_SAMPLE, &variance, &error) != 0, "n = 1 has no sample variance");
}

static const CheckCase CASES[] = {
    {"descriptive statistics", test_descriptive},
    {"gaussian likelihood and fit", test_gaussian},
    {"bernoulli likelihood and fit", test_bernoulli},
    {"categorical likelihood and fit", test_categorical},
    {"small-sample fits are exact", small_sample_fits_are_exact},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
