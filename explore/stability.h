// Numerical stability made visible (roadmap module 2): the same mathematics computed two ways,
// one that loses every digit and one that keeps them, measured against a reference.
//
//   softmax    log Σ exp z and softmax naive, and with the maximum subtracted (exp overflows
//              in float32 above 88.7: the naive ones become inf and NaN)
//   variance   E[x²] - E[x]² (one pass), Σ (x - mean)² (two passes) and Welford's update, on data
//              with a large mean: the first cancels catastrophically
//   summation  float32 sums of n values: a running sum (error bound ~ n ε), pairwise (~ log n ε),
//              Kahan's compensated sum (~ ε), against the exact float64 sum
//   orthogonality  QR by classical and modified Gram-Schmidt and by Householder: ||QᵀQ - I||
//              grows as κ² ε, κ ε and stays ~ ε (Björck 1967; Trefethen and Bau, lectures 8-10)
//   ill-conditioning  Hilbert systems H x = b by LU with partial pivoting: the error grows as
//              κ(H) ε while the residual stays ~ ε (backward stability; Higham, Accuracy and
//              Stability of Numerical Algorithms, ch. 7 and 9)
//
// Every measurement is seeded and returns its numbers; nothing prints.
#ifndef EXPLORE_STABILITY_H
#define EXPLORE_STABILITY_H

#include <stdint.h>

#include "foundations/error.h"

enum { STABILITY_MAX_POINTS = 64 };

// ---------------------------------------------------------------------------------------
// softmax: rows of 10 float32 logits z = scale · N(0, 1), for scales 10^0 ... 10^4
// (per_decade per decade); each error is the worst over the rows, against float64.
typedef struct SoftmaxRow {
    double scale;
    double naive_lse_error, stable_lse_error;          // |lse - reference| / |reference| (inf: not finite)
    double naive_softmax_error, stable_softmax_error;  // max |p - reference|   (inf: not finite)
    double naive_failed_fraction;                      // rows where the naive one was not finite
} SoftmaxRow;

typedef struct SoftmaxResult {
    int n;
    SoftmaxRow rows[STABILITY_MAX_POINTS];
    int n_rows, n_logits;  // rows of logits per scale, logits per row
} SoftmaxResult;

// per_decade in [1, 8], n_rows >= 1. The stable softmax is the project's (foundations/layers.h).
int explore_softmax(int per_decade, int n_rows, uint64_t seed, SoftmaxResult *result, Error *error);

// ---------------------------------------------------------------------------------------
// variance: n values x = shift + d in float64, d = N(0, 1) rounded to multiples of 2^-16 so that
// every x is exact (the reference is the two-pass variance of d itself), shifts 10^0 ... 10^10.
typedef struct VarianceRow {
    double shift;
    double reference;  // population variance of d (= of x, exactly)
    double naive, two_pass, welford;  // the three estimates
    double naive_error, two_pass_error, welford_error;  // |estimate - reference| / reference
} VarianceRow;

typedef struct VarianceResult {
    int n;
    VarianceRow rows[STABILITY_MAX_POINTS];
    long n_values;
} VarianceResult;

// n_values >= 2. Errors: out of memory.
int explore_variance(long n_values, uint64_t seed, VarianceResult *result, Error *error);

// ---------------------------------------------------------------------------------------
// summation: n_values float32 uniform in [0, 1); the three float32 sums of the first 10^3,
// 10^3.5, ... and n_values of them, against their float64 sum. That reference is exact: every
// value is a multiple of 2^-24 (random_uniform's 24 bits) and every partial sum below 2^27
// (n <= 1e8), so each partial sum fits in 51 bits of float64's 53.
enum { SUMMATION_METHODS = 3 };  // running float32, pairwise float32, Kahan float32
typedef struct SummationRow {
    long n;
    double reference;
    double sum[SUMMATION_METHODS];
    double error[SUMMATION_METHODS];  // |sum - reference| / reference
} SummationRow;

typedef struct SummationResult {
    int n;
    SummationRow rows[STABILITY_MAX_POINTS];
    const char *names[SUMMATION_METHODS];
} SummationResult;

// n_values in [1000, 100000000]. Errors: out of range, out of memory.
int explore_summation(long n_values, uint64_t seed, SummationResult *result, Error *error);

// ---------------------------------------------------------------------------------------
// orthogonality: A (m, n) = U diag(s) Vᵀ with seeded orthonormal U, V and s_i = κ^(-i/(n-1)),
// for κ = 10^0 ... 10^max_exponent (two per decade); ||QᵀQ - I||_F of each QR's Q.
enum { ORTHOGONALITY_METHODS = 3 };  // classical Gram-Schmidt, modified Gram-Schmidt, Householder
typedef struct OrthogonalityRow {
    double condition_target;    // κ asked for
    double condition_measured;  // svd_condition_number of A
    double loss[ORTHOGONALITY_METHODS];  // NaN where the method failed (a column became exactly 0)
    double reconstruction[ORTHOGONALITY_METHODS];  // ||A - QR||_F / ||A||_F
} OrthogonalityRow;

typedef struct OrthogonalityResult {
    int n, rows, cols;
    OrthogonalityRow points[STABILITY_MAX_POINTS];
    const char *names[ORTHOGONALITY_METHODS];
} OrthogonalityResult;

// rows >= cols >= 2, max_exponent in [1, 16]. Errors: out of range, out of memory.
int explore_orthogonality(int rows, int cols, int max_exponent, uint64_t seed, OrthogonalityResult *result,
                          Error *error);

// ---------------------------------------------------------------------------------------
// ill-conditioning: Hilbert matrices H_ij = 1 / (i + j + 1) (0-based), n = 2 ... max_n, solved
// for b = H·1 by LU with partial pivoting (foundations/linalg.h linear_solve). The inverse has
// integer entries (Choi, "Tricks or treats with the Hilbert matrix", Amer. Math. Monthly 1983),
// 1-based: (H⁻¹)_ij = (-1)^(i+j) (i+j-1) C(n+i-1, n-j) C(n+j-1, n-i) C(i+j-2, i-1)²,
// so κ∞ is known even where it exceeds 1/ε and no SVD can resolve s_min.
typedef struct HilbertRow {
    int n;
    double condition;    // κ∞(H) = ||H||∞ ||H⁻¹||∞, H⁻¹ from its closed form (exact integers)
    double condition_2;  // κ₂(H) by the SVD (Golub-Kahan): INFINITY once s_min rounds to 0 (n >= 12)
    double error;        // ||x - 1||∞ / ||1||∞ (NaN when LU found H singular to working precision)
    double residual;     // ||H x - b||∞ / (||H||∞ ||x||∞)
} HilbertRow;

typedef struct HilbertResult {
    int n;
    HilbertRow rows[STABILITY_MAX_POINTS];
} HilbertResult;

// max_n in [2, 20] (beyond 13, κ exceeds 1/ε and the solution has no correct digit).
int explore_ill_conditioning(int max_n, HilbertResult *result, Error *error);

#endif
