// The bias-variance decomposition measured (Geman, Bienenstock & Doursat 1992): polynomial
// regression of degree d fitted by least squares to many independent training sets drawn from
// a known function plus noise,
//   y = f(x) + ε,  f(x) = sin(2πx),  x ~ U[0, 1],  ε ~ N(0, σ²).
// At a test point x, with ŷ_m(x) the fit to training set m and ȳ(x) = mean_m ŷ_m(x):
//   bias²(x)     = (ȳ(x) - f(x))²
//   variance(x)  = mean_m (ŷ_m(x) - ȳ(x))²
//   E[(y - ŷ)²]  = σ² + bias²(x) + variance(x)     (the cross terms vanish in expectation)
// averaged over a grid of test points. The expected test error is also measured directly,
// with fresh noisy labels at each test point for each fit, so the identity can be checked:
// it holds exactly (to rounding) for mean_m (f - ŷ_m)² = bias² + variance, and to Monte-Carlo
// error for the noisy test error. As d grows bias² falls and variance rises: the U curve.
//
// The fit uses Legendre polynomials P_0..P_d of t = 2x - 1 as the basis (well conditioned on
// [-1, 1], unlike 1, x, x², ...) and Householder least squares (foundations/linalg.h).
#ifndef EXPLORE_BIAS_VARIANCE_H
#define EXPLORE_BIAS_VARIANCE_H

#include <stdint.h>

#include "foundations/error.h"

enum { BIAS_VARIANCE_MAX_DEGREE = 20 };

typedef struct BiasVarianceConfig {
    int train_size;   // points per training set, >= 2 and > max_degree
    int datasets;     // training sets M, >= 2
    int max_degree;   // degrees 0..max_degree, in [0, BIAS_VARIANCE_MAX_DEGREE]
    int test_points;  // test x on the grid (t + ½) / test_points, >= 1
    int test_draws;   // fresh noisy labels per test point and fit, >= 1
    double noise;     // σ >= 0
    uint64_t seed;
} BiasVarianceConfig;

// train_size 30, datasets 500, max_degree 10, test_points 100, test_draws 10, noise 0.3, seed 1.
BiasVarianceConfig bias_variance_defaults(void);

typedef struct BiasVarianceResult {
    int n_degrees;                                  // max_degree + 1
    double noise;                                   // σ²
    double bias2[BIAS_VARIANCE_MAX_DEGREE + 1];     // mean over test points
    double variance[BIAS_VARIANCE_MAX_DEGREE + 1];
    double expected_squared_error[BIAS_VARIANCE_MAX_DEGREE + 1];  // mean_{m,x} (f - ŷ_m)²: = bias² + variance
    double test_error[BIAS_VARIANCE_MAX_DEGREE + 1];   // measured mean (y - ŷ)² with fresh labels
    double test_error_stderr[BIAS_VARIANCE_MAX_DEGREE + 1];  // standard error of test_error - (σ² + bias² + variance)
    double train_error[BIAS_VARIANCE_MAX_DEGREE + 1];  // mean training squared error
    int best_degree;                                 // lowest test_error
} BiasVarianceResult;

// Errors: a config field out of range (named), a rank-deficient fit (duplicate x), out of memory.
int explore_bias_variance(const BiasVarianceConfig *config, BiasVarianceResult *result, Error *error);

#endif
