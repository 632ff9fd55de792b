// Test problems for optimizers: small objectives with a known minimum, where the
// behaviour of each update rule is easy to see. Used by `groundup optimizers` and the tests.
//
//   Rosenbrock        f(x, y) = (1 - x)² + 100 (y - x²)²       n = 2, minimum 0 at (1, 1),
//                     start (-1.2, 1): a narrow curved valley, the classic hard case.
//   ill-conditioned   f(x) = ½ xᵀ A x,  A = Q diag(λ) Qᵀ       n = dim, minimum 0 at 0,
//   quadratic         λ log-spaced from 1 to `condition`, Q a random rotation (so the
//                     axes of the valley are not the coordinate axes and per-coordinate
//                     scaling, as in Adam, cannot simply undo the conditioning).
//   logistic          f(w) = mean_i [log(1 + e^{z_i}) - y_i z_i],  z_i = w · [x_i, 1]
//   regression        n = n_features + 1 (the last weight is the bias); data x_i ~ N(0, 1),
//                     labels y_i ~ Bernoulli(σ(w_true · [x_i, 1])). The minimum is found
//                     by Newton's method in double at setup (the problem is convex).
//
// Each problem also gives its loss in double with its exact Hessian (second_order.h), and the
// logistic regression its Fisher information F = mean_i σ(1-σ) x̃ x̃ᵀ, which for this negative
// log-likelihood (no regulariser) is also its Hessian.
//
// Each problem is a LossGradientFunction plus its context; losses are accumulated in double.
// Not here: stochastic (minibatch) gradients; every gradient is the exact full gradient.
#ifndef FOUNDATIONS_OPTIMIZER_PROBLEMS_H
#define FOUNDATIONS_OPTIMIZER_PROBLEMS_H

#include <stdint.h>

#include "foundations/error.h"
#include "foundations/optimizer.h"
#include "foundations/second_order.h"

typedef struct OptimizerProblem {
    const char *name;
    long n;                 // number of parameters
    float *start;           // (n) where every run starts
    double loss_minimum;    // the lowest loss (exact or from Newton's method)
    LossGradientFunction loss_and_gradient;
    ObjectiveFunction objective;  // the same loss in double, for the second-order methods
    HessianFunction hessian;      // its exact Hessian (n, n)
    HessianFunction fisher;       // the Fisher information (n, n) of a negative log-likelihood, else NULL
    void *context;          // owned by the problem
} OptimizerProblem;

int optimizer_problem_rosenbrock(OptimizerProblem *problem, Error *error);
// dim >= 2, condition >= 1.
int optimizer_problem_quadratic(OptimizerProblem *problem, int dim, double condition, uint64_t seed, Error *error);
// n_samples >= 1, n_features >= 1.
int optimizer_problem_logistic(OptimizerProblem *problem, int n_samples, int n_features, uint64_t seed, Error *error);
void optimizer_problem_free(OptimizerProblem *problem);

typedef struct OptimizerRun {
    int steps_to_tolerance;  // first step s from which on loss - minimum <= tolerance up to the
                             // end (a loss that dips below and climbs back does not count); -1 if never
    double final_loss;       // loss after the last step (NaN/inf if it diverged)
} OptimizerRun;

// Runs n_steps updates of the optimizer at a constant lr from problem->start. losses, when
// not NULL, receives n_steps + 1 losses: before the first step and after each. A run stops
// early once the loss is no longer finite (the rest of losses is filled with that value).
int optimizer_run(const OptimizerProblem *problem, const OptimizerConfig *config, float lr, int n_steps, double tolerance,
                  double *losses, OptimizerRun *run, Error *error);

// The better of two runs: the one that reached the tolerance in fewer steps; when neither
// did, the lower finite final loss. 1 if a is better than b.
int optimizer_run_is_better(const OptimizerRun *a, const OptimizerRun *b);

// A grid search for one optimizer on one problem.
typedef struct OptimizerChoice {
    float lr;         // the grid's best learning rate (optimizer_run_is_better)
    OptimizerRun run; // its run
    float finder_lr;  // the LR range test's steepest-descent suggestion (1e-6 to 10 in 100 steps)
} OptimizerChoice;

// Runs config on problem at each of the n_grid learning rates for n_steps, keeps the best,
// and fills losses (n_steps + 1, or NULL) with its curve; then runs the LR finder from the
// same start. Errors: those of optimizer_run and lr_finder (bad config, out of memory).
int optimizer_choose_lr(const OptimizerProblem *problem, const OptimizerConfig *config, const float *grid, int n_grid,
                        int n_steps, double tolerance, double *losses, OptimizerChoice *out, Error *error);

// ---------------------------------------------------------------------------------------
// The second-order methods of second_order.h on the same problems, from problem->start (in
// double): Newton with the exact Hessian, Newton with the Hessian by differences of the
// gradient, L-BFGS (m = 10), and the natural gradient (F + 1e-4 I, full steps; only where the
// problem has a Fisher). Each runs until ‖∇f‖ ≤ 1e-10 or max_iterations.
typedef enum {
    SECOND_ORDER_NEWTON,
    SECOND_ORDER_NEWTON_DIFFERENCES,
    SECOND_ORDER_LBFGS,
    SECOND_ORDER_NATURAL_GRADIENT,
} SecondOrderMethod;
enum { N_SECOND_ORDER_METHODS = SECOND_ORDER_NATURAL_GRADIENT + 1 };

// "newton", "newton-differences", "l-bfgs", "natural-gradient"
const char *second_order_method_name(SecondOrderMethod method);

typedef struct SecondOrderRun {
    int available;                 // 0: the method does not apply (no Fisher); nothing was run
    int iterations_to_tolerance;   // first iteration from which loss - minimum <= tolerance; -1 never
    long evaluations_to_tolerance; // evaluations spent by then (second_order.h counts them); -1 never
    int iterations;
    long evaluations;
    double final_loss;
} SecondOrderRun;

// trace (capacity >= max_iterations + 1) receives the per-iteration record. Errors: those of
// the methods (bad start, out of memory).
int optimizer_run_second_order(const OptimizerProblem *problem, SecondOrderMethod method, int max_iterations,
                               double tolerance, SecondOrderTrace *trace, SecondOrderRun *run, Error *error);

#endif
