// Second-order optimisation: methods that use the curvature of the loss, not only its slope.
//
// Near a minimum x* a smooth f is a quadratic, f(x* + e) ≈ f* + ½ eᵀ H e. Gradient descent
// moves along -∇f, which on a valley with Hessian eigenvalues from μ to L needs ~L/μ steps;
// Newton's method moves to the minimum of the local quadratic model,
//   m(d) = f + gᵀd + ½ dᵀ H d,   d = -H⁻¹ g,
// and converges quadratically near x* (‖x_{k+1} - x*‖ ≤ C ‖x_k - x*‖²: the correct digits
// double each step; Nocedal & Wright, Numerical Optimization, 2nd ed. 2006, Thm. 3.5).
//
//   newton_minimize          dense H (a callback, or central differences of the gradient),
//                            made positive definite by adding τI until its Cholesky
//                            factorisation succeeds (N&W Alg. 3.3), then a line search.
//   newton_cg_minimize       line-search Newton-CG ("truncated Newton", N&W Alg. 7.1): H d = -g
//                            solved approximately by conjugate gradients from Hessian-vector
//                            products only, so n can be large (MNIST logistic regression, n 7850).
//   lbfgs_minimize           L-BFGS (N&W Alg. 7.4, 7.5): H⁻¹ approximated from the last m pairs
//                            s = x_{k+1} - x_k, y = g_{k+1} - g_k by the two-loop recursion.
//   natural_gradient_minimize  x -= η (F + λI)⁻¹ g with F the Fisher information (Amari 1998),
//                            solved by CG from Fisher-vector products; λ the damping.
//   line_search_strong_wolfe a step α along a descent direction d with both strong Wolfe
//                            conditions (N&W Alg. 3.5 with zoom, Alg. 3.6):
//                              f(x + αd) ≤ f(x) + c₁ α ∇f(x)ᵀd             (sufficient decrease)
//                              |∇f(x + αd)ᵀd| ≤ c₂ |∇f(x)ᵀd|,  0 < c₁ < c₂ < 1  (curvature)
//
// Everything is in double: these methods converge to where a float gradient is rounding noise.
// Cost is counted in "evaluations": one f-and-∇f evaluation is one, one Hessian-vector product
// is one (for a model both are one pass over the data: a product with X and one with Xᵀ), a
// dense Hessian from the callback counts n (what forming it column by column costs), one by
// differences 2n gradient evaluations.
//
// Not here: trust-region methods, BFGS with a dense inverse, constraints, stochastic
// (minibatch) variants such as K-FAC.
#ifndef FOUNDATIONS_SECOND_ORDER_H
#define FOUNDATIONS_SECOND_ORDER_H

#include "foundations/error.h"

// f(x) for x (n); fills gradient (n) with ∇f(x). A non-finite value means "outside the domain"
// (the line search then shortens the step).
typedef double (*ObjectiveFunction)(void *context, const double *x, double *gradient, long n);
// The dense Hessian ∇²f(x) (n, n), row-major.
typedef void (*HessianFunction)(void *context, const double *x, double *hessian, long n);
// product (n) = M(x) v (n), where M is the Hessian (Newton-CG) or the Fisher (natural gradient).
typedef void (*MatrixVectorFunction)(void *context, const double *x, const double *v, double *product, long n);

typedef struct SecondOrderConfig {
    int max_iterations;            // outer iterations (each one update of x)
    double gradient_tolerance;     // stop when ‖∇f‖₂ ≤ this
    double c1, c2;                 // strong Wolfe constants, 0 < c1 < c2 < 1 (1e-4, 0.9)
    int max_line_search;           // evaluations per line search (20)
    int memory;                    // L-BFGS: pairs kept, m >= 1 (10)
    double finite_difference_step; // Newton without a Hessian callback: h of the central differences (1e-5)
    int max_cg_iterations;         // Newton-CG and natural gradient: inner CG iterations (100)
    double damping;                // natural gradient: λ in (F + λI), > 0 (1e-3)
    double learning_rate;          // natural gradient: η (1, the full step)
    double cg_tolerance;           // natural gradient: stop CG when ‖r‖ ≤ this · ‖g‖ (1e-2)
} SecondOrderConfig;

// The defaults in the comments above.
SecondOrderConfig second_order_default_config(void);
// Checks the fields: max_iterations >= 0, gradient_tolerance >= 0, 0 < c1 < c2 < 1,
// max_line_search >= 1, memory >= 1, finite_difference_step > 0, max_cg_iterations >= 1,
// damping > 0, learning_rate > 0, cg_tolerance in (0, 1). Errors name the field and value.
int second_order_config_check(const SecondOrderConfig *config, Error *error);

// Per-iteration record (optional): entry 0 is the start, entry k after iteration k.
typedef struct SecondOrderTrace {
    int capacity;           // entries the arrays hold (max_iterations + 1 keeps every one)
    int count;              // entries written
    double *loss;           // (capacity) f(x_k)
    double *gradient_norm;  // (capacity) ‖∇f(x_k)‖₂
    long *evaluations;      // (capacity) evaluations spent so far (see above)
    double *seconds;        // (capacity) wall seconds since the start (clock_seconds)
    double *cpu_seconds;    // (capacity) CPU seconds of the process since the start (clock_cpu_seconds)
} SecondOrderTrace;

// Allocates a trace for capacity entries; free with second_order_trace_free.
int second_order_trace_init(SecondOrderTrace *trace, int capacity, Error *error);
void second_order_trace_free(SecondOrderTrace *trace);

typedef struct SecondOrderResult {
    int iterations;
    long gradient_evaluations;     // f and ∇f together (line searches and differences included)
    long hessian_evaluations;      // dense Hessians from the callback (Newton)
    long matrix_vector_products;   // Hessian- or Fisher-vector products (Newton-CG, natural gradient)
    long evaluations;              // the total cost in evaluations, as above
    double loss;                   // f at the returned x
    double gradient_norm;          // ‖∇f‖₂ there
    int converged;                 // 1 if gradient_norm ≤ gradient_tolerance
    int stalled;                   // 1 if a line search found no decrease (rounding level reached)
} SecondOrderResult;

// ---------------------------------------------------------------------------------------
typedef struct LineSearchResult {
    double step;          // α
    double loss;          // f(x + αd)
    int evaluations;      // f-and-∇f evaluations spent
    int wolfe_satisfied;  // 1 if both strong Wolfe conditions hold at step (else the best
                          // sufficient-decrease point found in max_evaluations)
} LineSearchResult;

// From x (n) with loss f(x) and gradient (n), along direction (n) with ∇f(x)ᵀd < 0, starting
// with the trial step initial_step > 0: x_new (n) = x + αd, gradient_new (n) = ∇f(x_new).
// Returns 0 on success, 1 if no step in max_evaluations decreased f (x_new, gradient_new then
// unspecified: the rounding level, or a bad direction), -1 with an error if d is not a descent
// direction, an argument is out of range, or memory runs out.
int line_search_strong_wolfe(ObjectiveFunction f, void *context, long n, const double *x, double loss,
                             const double *gradient, const double *direction, double initial_step, double c1, double c2,
                             int max_evaluations, double *x_new, double *gradient_new, LineSearchResult *result,
                             Error *error);

// Each minimiser starts at x (n), overwrites it with the last iterate, fills result, and
// appends to trace when it is not NULL. Errors (-1): a bad config, a non-finite f or ∇f at
// the start, out of memory. Reaching max_iterations or a stalled line search is not an error.

// hessian NULL: H by central differences of the gradient, H_ij = (∂_i f(x + h e_j) - ∂_i f(x - h e_j)) / 2h,
// symmetrised. Holds two (n, n) matrices: for n up to a few hundred.
int newton_minimize(ObjectiveFunction f, HessianFunction hessian, void *context, long n, double *x,
                    const SecondOrderConfig *config, SecondOrderTrace *trace, SecondOrderResult *result, Error *error);
// hessian_vector NULL: H v ≈ (∇f(x + εv) - ∇f(x)) / ε, ε = √(machine ε) (1 + ‖x‖) / ‖v‖
// (one gradient evaluation each). CG stops at ‖r‖ ≤ min(0.5, √‖g‖) ‖g‖ (superlinear
// convergence, N&W Thm. 7.2) or on negative curvature.
int newton_cg_minimize(ObjectiveFunction f, MatrixVectorFunction hessian_vector, void *context, long n, double *x,
                       const SecondOrderConfig *config, SecondOrderTrace *trace, SecondOrderResult *result,
                       Error *error);
int lbfgs_minimize(ObjectiveFunction f, void *context, long n, double *x, const SecondOrderConfig *config,
                   SecondOrderTrace *trace, SecondOrderResult *result, Error *error);
// fisher_vector(x, v) = F(x) v. No line search: the classical update with a fixed η.
int natural_gradient_minimize(ObjectiveFunction f, MatrixVectorFunction fisher_vector, void *context, long n, double *x,
                              const SecondOrderConfig *config, SecondOrderTrace *trace, SecondOrderResult *result,
                              Error *error);

#endif
