// Second-order methods against Adam on a real convex problem: multinomial logistic regression
// on MNIST, full batch (foundations/softmax_regression.h, foundations/second_order.h).
//
//   f(θ) = (1/N) Σ_i -log softmax(W x_i + b)_{y_i} + (λ/2) ‖θ‖²,   W (10, 784), b (10), n = 7850
//
// The L2 term on every parameter makes f strictly convex, so there is one optimum f*. It is
// found first by Newton-CG run until ‖∇f‖ ≤ 1e-9 (then f - f* ≤ ‖∇f‖² / 2λ, far below the
// tolerance). Then each method starts from θ = 0 and its loss - f* is recorded against the
// passes over the data: an f-and-∇f evaluation is one pass, a Hessian- or Fisher-vector
// product one pass (both are one product with X and one with Xᵀ), and a forward a product had
// to redo one more. Adam runs at each learning rate of a grid and the best is kept.
//
// Reported per method: passes and seconds (wall and CPU) until loss - f* ≤ tolerance for good
// (the first point from which it stays below), the final gap, the total passes.
#ifndef EXPLORE_SECOND_ORDER_MNIST_H
#define EXPLORE_SECOND_ORDER_MNIST_H

#include "foundations/error.h"

enum { SECOND_ORDER_MAX_METHODS = 8, SECOND_ORDER_ADAM_GRID = 4 };

typedef struct SecondOrderMnistConfig {
    const char *directory;  // MNIST directory (foundations/idx.h)
    int images;             // training images used, >= 10 (the first ones; all if more)
    double l2;              // λ > 0
    double tolerance;       // on loss - f*, > 0
    int adam_passes;        // Adam's budget, >= 1
    int max_iterations;     // the second-order methods' budget in iterations, >= 1
    int memory;             // L-BFGS m >= 1
    double damping;         // natural gradient λ_F > l2 / 2 (see explore_second_order_mnist)
} SecondOrderMnistConfig;

// images 8000 (the bundled subset's all), l2 1e-4, tolerance 1e-6, adam_passes 2000,
// max_iterations 300, memory 10, damping 1e-4.
SecondOrderMnistConfig second_order_mnist_defaults(void);

typedef struct MethodCurve {
    char name[48];
    int count;               // points
    float *passes;           // (count) passes spent at each point
    float *gap;              // (count) loss - f*
    long passes_to_tolerance;     // -1 if never reached for good
    double seconds_to_tolerance;  // wall seconds to that point (-1 if never)
    double cpu_to_tolerance;      // CPU seconds of the process to that point (-1 if never)
    double final_gap;
    long total_passes;
    double seconds;          // wall seconds of the whole run
    double learning_rate;    // Adam's chosen rate (0 for the others)
} MethodCurve;

typedef struct SecondOrderMnistResult {
    int images;
    long parameters;
    double optimum;             // f*
    double optimum_gradient_norm;
    double optimum_seconds;
    long optimum_passes;
    double train_accuracy;      // of the optimum, on the images it was fitted to
    double adam_grid[SECOND_ORDER_ADAM_GRID];
    double adam_grid_gap[SECOND_ORDER_ADAM_GRID];   // each Adam rate's final gap
    long adam_grid_passes[SECOND_ORDER_ADAM_GRID];  // and its passes to tolerance (-1 never)
    MethodCurve methods[SECOND_ORDER_MAX_METHODS];  // L-BFGS, Newton-CG, natural gradient, Adam (best rate)
    int n_methods;
} SecondOrderMnistResult;

// The natural gradient preconditions the whole gradient (L2 term included) by F + λ_F I; with
// λ_F = l2 that is the Hessian, so its direction is Newton's; it takes the full step without a
// line search, which diverges in F's null space unless λ_F > l2 / 2.
// Errors: a config field out of range (named), MNIST missing or corrupt, out of memory, a
// method failing (its message).
int explore_second_order_mnist(const SecondOrderMnistConfig *config, SecondOrderMnistResult *result, Error *error);
void second_order_mnist_result_free(SecondOrderMnistResult *result);

#endif
