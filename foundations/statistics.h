// Descriptive statistics and maximum-likelihood fits of three simple distributions.
//
// Data are float arrays (n) (what a model produces); every sum is accumulated in double,
// and variances use two passes (mean first, then squared deviations), which avoids the
// cancellation of Σx² - n·mean².
//
//   mean            m = Σ x_i / n
//   variance        population  Σ (x_i - m)² / n        sample  Σ (x_i - m)² / (n - 1)
//   covariance      Σ (x_i - m_x)(y_i - m_y) / n  (or n - 1)
//   correlation     cov(x, y) / (σ_x σ_y)   (Pearson, in [-1, 1])
//
// Log-likelihoods (natural log) and their maximum-likelihood estimates:
//   Gaussian      log L = -n/2 log(2π σ²) - Σ (x_i - μ)² / (2σ²)     μ̂ = mean, σ̂² = population variance
//   Bernoulli     log L = Σ x_i log p + (1 - x_i) log(1 - p)          p̂ = fraction of ones
//   categorical   log L = Σ log p[x_i]                                p̂[k] = count(k) / n
// with 0·log 0 = 0, so a probability of 0 is fine unless it is observed (then log L = -inf).
//
// Every function checks its user data (sizes, values) and returns 0, or -1 with a message.
// Not here: weighted data, medians/quantiles, confidence intervals.
#ifndef FOUNDATIONS_STATISTICS_H
#define FOUNDATIONS_STATISTICS_H

#include "foundations/error.h"

typedef enum { VARIANCE_POPULATION, VARIANCE_SAMPLE } VarianceKind;

// x (n), n >= 1.
// 0 when every x (n) is finite, else -1 with "<what>: value nan at index i is not finite"
// for the first that is not.
int check_finite(const float *x, long n, const char *what, Error *error);

int statistics_mean(const float *x, long n, double *mean, Error *error);
// x (n); n >= 1 for the population variance, n >= 2 for the sample variance.
int statistics_variance(const float *x, long n, VarianceKind kind, double *variance, Error *error);
// x (n), y (n); n as for the variance.
int statistics_covariance(const float *x, const float *y, long n, VarianceKind kind, double *covariance, Error *error);
// x (n), y (n), n >= 2; fails when x or y is constant (the correlation is undefined).
int statistics_correlation(const float *x, const float *y, long n, double *correlation, Error *error);

// Gaussian: x (n), n >= 1, sigma > 0.
int statistics_gaussian_log_likelihood(const float *x, long n, double mu, double sigma, double *log_likelihood, Error *error);
// MLE: mu = mean, sigma = √(population variance) (0 for constant data).
int statistics_gaussian_fit(const float *x, long n, double *mu, double *sigma, Error *error);

// Bernoulli: outcomes (n) each 0 or 1, n >= 1, p in [0, 1].
int statistics_bernoulli_log_likelihood(const int *outcomes, long n, double p, double *log_likelihood, Error *error);
int statistics_bernoulli_fit(const int *outcomes, long n, double *p, Error *error);

// Categorical over k classes: outcomes (n) each in [0, k), probabilities (k) non-negative
// summing to 1 (within 1e-4).
int statistics_categorical_log_likelihood(const int *outcomes, long n, const double *probabilities, int k,
                                          double *log_likelihood, Error *error);
// probabilities (k) receives count(class) / n.
int statistics_categorical_fit(const int *outcomes, long n, int k, double *probabilities, Error *error);

#endif
