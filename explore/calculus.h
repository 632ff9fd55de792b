// Calculus made visible (roadmap module 2): derivatives computed analytically and by finite
// differences, and the chain rule as the backward pass actually runs it.
//
// Finite differences. For a step h the forward and central differences
//     (f(x + h) - f(x)) / h            = f'(x) + h f''(x)/2   + O(h²)
//     (f(x + h) - f(x - h)) / 2h       = f'(x) + h² f'''(x)/6 + O(h⁴)
// have a truncation error falling with h, while rounding f to machine precision ε adds an
// error of about ε |f| / h that rises as h falls. The sum is smallest near h ~ ε^(1/2)
// (forward) and h ~ ε^(1/3) (central); second differences (a Hessian from f alone) have
// truncation h² and rounding ε / h², best near ε^(1/4). (Nocedal and Wright, Numerical
// Optimization, 2nd ed., §8.1.)
//
// The small network: a 3-layer tanh perceptron 4 -> 6 -> 5 -> 3 with the mean cross-entropy
// over a batch of 8 seeded examples, built twice: on the framework's tape (nn/, float32: its
// backward is what is checked) and by hand in float64 (the reference the float32 numbers are
// measured against, and the chain rule written out step by step).
#ifndef EXPLORE_CALCULUS_H
#define EXPLORE_CALCULUS_H

#include <stdint.h>

#include "foundations/error.h"

enum {
    CALCULUS_MAX_STEPS = 96,  // h values in one sweep
    CALCULUS_CHAIN_STAGES = 7,  // the backward of the 3-layer network: 6 products, then a weight gradient
    CALCULUS_MAX_WIDTH = 6,   // the widest layer of the small network
};

// One sweep of the step h: the relative error of a finite-difference derivative at each h
// (NaN where the step vanished in the working precision), and the h where it is smallest.
typedef struct StepSweep {
    const char *name;  // "central, float64"
    const char *shape;  // "2", "3x3", "83" ...: the size of the derivative checked
    int n;
    double h[CALCULUS_MAX_STEPS];
    double error[CALCULUS_MAX_STEPS];  // ||numeric - analytic||_max / ||analytic||_max
    double best_h, best_error;
    double expected_h;  // where the theory puts the best step: ε^(1/2), ε^(1/3) or ε^(1/4)
} StepSweep;

// ---------------------------------------------------------------------------------------
// finite-differences: f(x) = eˣ sin x at n_points seeded points x in [0.5, 1.5], the RMS over
// the points of the relative error of f'(x) by forward and central differences in float64
// and float32, for h = 10^0 down to 10^-15 with steps_per_decade values per decade.

enum { FINITE_DIFFERENCE_SWEEPS = 4 };  // forward / central × float64 / float32

typedef struct FiniteDifferenceResult {
    StepSweep sweeps[FINITE_DIFFERENCE_SWEEPS];
    double epsilon64, epsilon32;  // DBL_EPSILON, FLT_EPSILON
} FiniteDifferenceResult;

// steps_per_decade in [1, 6], n_points >= 1. Errors: counts outside those ranges.
int explore_finite_differences(int steps_per_decade, int n_points, uint64_t seed, FiniteDifferenceResult *result,
                               Error *error);

// ---------------------------------------------------------------------------------------
// jacobian-hessian: gradients, Jacobians and Hessians, analytic against finite differences,
// each swept over h = 10^0 ... 10^-12 (steps_per_decade per decade); checks 0-4 are the RMS
// over 8 seeded points (near (-1.2, 1), near (2, 0.7, 1.1), logits 2 N(0, 1)):
//   0 Rosenbrock gradient (2), central differences of f                             float64
//   1 spherical (r, θ, φ) -> Cartesian Jacobian (3x3)                               float64
//   2 softmax Jacobian diag(p) - p pᵀ (5x5)                                          float64
//   3 Rosenbrock Hessian (2x2), central differences of the analytic gradient      float64
//   4 Rosenbrock Hessian (2x2), second differences of f alone                     float64
//   5 the network's loss gradient (83): tape backward against central differences  float32
//   6 the network's Hessian-vector product (83): central differences of the tape's
//     gradients along a seeded unit v, against the float64 network's (its own
//     gradient differenced at h = 1e-5: accurate to ~1e-10, far below float32's errors) float32

enum { JACOBIAN_HESSIAN_CHECKS = 7 };

typedef struct JacobianHessianResult {
    StepSweep checks[JACOBIAN_HESSIAN_CHECKS];
    double spherical_determinant, spherical_determinant_expected;  // det J and r² sin θ
    double hessian_asymmetry;  // max |H_ij - H_ji| / max |H| of the network's Hessian by
                               // differences of float64 gradients (a symmetric matrix: ~1e-10)
    long n_parameters;         // of the small network (83)
} JacobianHessianResult;

// steps_per_decade in [1, 6]. Errors: out of range, out of memory, a tape failure.
int explore_jacobian_hessian(int steps_per_decade, uint64_t seed, JacobianHessianResult *result, Error *error);

// ---------------------------------------------------------------------------------------
// chain-rule: the backward of the 3-layer network for one seeded example (x, y), written
// as the vector-Jacobian products it is made of, from the loss back to the input:
//   stage 0  ∂L/∂z3 = softmax(z3) - onehot(y)             J = ∂L/∂z3 itself (1x3)
//   stage 1  ∂L/∂a2 = W3ᵀ ∂L/∂z3                           J = W3 (3x5)
//   stage 2  ∂L/∂z2 = diag(1 - a2²) ∂L/∂a2                 J = diag(1 - a2²) (5x5)
//   stage 3  ∂L/∂a1 = W2ᵀ ∂L/∂z2                           J = W2 (5x6)
//   stage 4  ∂L/∂z1 = diag(1 - a1²) ∂L/∂a1                 J = diag(1 - a1²) (6x6)
//   stage 5  ∂L/∂x  = W1ᵀ ∂L/∂z1                           J = W1 (6x4)
//   stage 6  ∂L/∂W1 = ∂L/∂z1 xᵀ (the weight gradients branch off the same vectors)
// Each stage's Jacobian is also measured by central differences of its forward function
// (float64, h = 1e-6), the whole chain's ∂L/∂x by central differences of the loss, and every
// parameter gradient against the framework's tape backward on the same weights (float32).

typedef struct ChainStage {
    const char *formula;   // "dL/da2 = W3^T dL/dz3"
    const char *jacobian;  // "W3 (3x5)"
    int n;                 // length of the vector produced
    double vector[CALCULUS_MAX_WIDTH];  // the vector-Jacobian product
    double norm;           // its Euclidean norm
    double jacobian_error; // max |J - J_finite_differences| (stage 6: of the weight gradient)
} ChainStage;

typedef struct ChainRuleResult {
    ChainStage stages[CALCULUS_CHAIN_STAGES];
    double loss;
    int target;
    double input_gradient_error;  // max |∂L/∂x - central differences of L| / max |∂L/∂x|
    double tape_gradient_error;   // max over every parameter |hand - tape| / max |hand gradient|
    long n_parameters;
} ChainRuleResult;

int explore_chain_rule(uint64_t seed, ChainRuleResult *result, Error *error);

#endif
