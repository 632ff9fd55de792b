// Double descent (Belkin, Hsu, Ma & Mandal 2019, "Reconciling modern machine-learning practice
// and the classical bias-variance trade-off"): random-features regression on an MNIST subset.
//
// Features φ_k(x) = max(0, w_kᵀ x), w_k ~ N(0, I/D), k = 1..p (random ReLU features, fixed),
// and the minimum-norm least-squares fit of the one-hot labels Y (n, 10):
//   β = Φ⁺ Y,   Φ (n, p) the training features, Φ⁺ the pseudo-inverse
// (for p < n the least-squares solution; for p > n, of all β with Φβ = Y, the smallest ‖β‖).
// As p grows the test error first falls, then rises to a peak at the interpolation threshold
// p = n, where Φ is square, its smallest singular value near 0 and ‖β‖ huge, then falls again
// as p → ∞ (the minimum-norm interpolant becomes smoother). The features of smaller p are the
// first p of the largest set, so the curve is one nested family.
//
// The pseudo-inverse is taken through the symmetric eigendecomposition (foundations/linalg.h)
// of the smaller Gram matrix: ΦᵀΦ (p, p) when p ≤ n, β = (ΦᵀΦ)⁺ ΦᵀY; ΦΦᵀ (n, n) when p > n,
// β = Φᵀ (ΦΦᵀ)⁺ Y; eigenvalues below 1e-13 × the largest count as 0. Gram matrices in double.
#ifndef EXPLORE_DOUBLE_DESCENT_H
#define EXPLORE_DOUBLE_DESCENT_H

#include <stdint.h>

#include "foundations/error.h"

enum { DOUBLE_DESCENT_MAX_POINTS = 64 };

typedef struct DoubleDescentConfig {
    const char *directory;  // MNIST directory
    int train_size;         // n >= 10 (the first training images)
    int test_size;          // >= 1 (the first test images)
    double min_ratio, max_ratio;  // the sweep: p from min_ratio·n to max_ratio·n, 0 < min < 1 < max <= 20
    int n_points;           // sweep points, log-spaced, p = n always among them; in [3, DOUBLE_DESCENT_MAX_POINTS]
    uint64_t seed;
} DoubleDescentConfig;

// train_size 500, test_size 2000, ratios 0.1 to 10, n_points 25, seed 1.
DoubleDescentConfig double_descent_defaults(void);

typedef struct DoubleDescentResult {
    int train_size, test_size, n_points;
    int features[DOUBLE_DESCENT_MAX_POINTS];    // p, ascending
    double test_mse[DOUBLE_DESCENT_MAX_POINTS];   // mean over test images of ‖ŷ - y‖² (one-hot y)
    double train_mse[DOUBLE_DESCENT_MAX_POINTS];
    double test_error[DOUBLE_DESCENT_MAX_POINTS]; // fraction misclassified (argmax ŷ)
    double norm[DOUBLE_DESCENT_MAX_POINTS];       // ‖β‖_F
    int peak_features;                            // p of the largest test_mse
} DoubleDescentResult;

// Errors: a config field out of range (named), MNIST missing or corrupt, out of memory,
// an eigendecomposition that fails.
int explore_double_descent(const DoubleDescentConfig *config, DoubleDescentResult *result, Error *error);

#endif
