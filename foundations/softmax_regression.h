// Multinomial logistic (softmax) regression as an objective for the optimizers of
// second_order.h: its loss and gradient, its Hessian and Fisher information, in double.
//
// Parameters θ (n = K (D + 1)): W (K, D) row-major then b (K), as nn.Linear(D, K)'s weight and
// bias. With x̃ = [x, 1], logits z = W x + b, p = softmax(z):
//   f(θ)  = (1/N) Σ_i -log p_{i, y_i} + (λ/2) ‖θ‖²
//   ∇f    = (1/N) Σ_i (p_i - e_{y_i}) ⊗ x̃_i + λθ
//   ∇²f   = F + λI,   F = (1/N) Σ_i (diag p_i - p_i p_iᵀ) ⊗ x̃_i x̃_iᵀ
// F is both the Hessian of the mean negative log-likelihood and the Fisher information
//   F = (1/N) Σ_i E_{y ~ p_i} [g_iy g_iyᵀ],   g_iy = ∇_θ log p(y | x_i) = (e_y - p_i) ⊗ x̃_i,
// since E_y[(e_y - p)(e_y - p)ᵀ] = diag p - p pᵀ; and the Gauss-Newton matrix Jᵀ (∇²_z loss) J,
// since z is linear in θ. (The softmax with cross-entropy is an exponential family in its
// natural parameters: that is why the three agree.) The *empirical* Fisher puts the observed
// label in place of the expectation, (1/N) Σ_i g_{i,y_i} g_{i,y_i}ᵀ: a different matrix.
// L2 on every weight and bias makes f strictly convex, so the minimum is unique (without it
// adding a constant to every class's logit changes nothing, and separable data have none).
//
// The features are kept as compressed sparse rows (MNIST's images are ~80% zeros), so one
// pass over the data costs about 2 K nnz multiply-adds. Single-threaded.
#ifndef FOUNDATIONS_SOFTMAX_REGRESSION_H
#define FOUNDATIONS_SOFTMAX_REGRESSION_H

#include <stdint.h>

#include "foundations/error.h"

typedef struct SoftmaxRegression {
    int n_samples, n_features, n_classes;  // N, D, K
    double l2;                             // λ
    long *row_start;                       // (N + 1) CSR: sample i's features are [row_start[i], row_start[i+1])
    int *column;                           // (nnz) feature index
    double *value;                         // (nnz) feature value
    int32_t *labels;                       // (N)
    double *probabilities;                 // (N, K) p_i at cached_theta
    double *cached_theta;                  // (n) the θ the probabilities belong to
    int cached;                            // 1 once probabilities are valid
    double *weight_t, *gradient_t;         // (D, K) scratch: W and its gradient transposed
    double *row, *score;                   // (D + 1), (n) scratch of the dense Fisher
    long forward_recomputations;           // forwards the matrix-vector products had to redo
} SoftmaxRegression;

// From features (n_samples, n_features) and labels (n_samples) in [0, n_classes) (both copied).
// Errors: sizes < 1 (n_classes < 2), a label out of range (named), a non-finite feature,
// l2 < 0 or not finite, out of memory.
int softmax_regression_init(SoftmaxRegression *model, const float *features, const int32_t *labels, int n_samples,
                            int n_features, int n_classes, double l2, Error *error);
void softmax_regression_free(SoftmaxRegression *model);
// n = K (D + 1)
long softmax_regression_parameters(const SoftmaxRegression *model);

// The ObjectiveFunction (context = the model): f(θ) and ∇f (n) as above.
double softmax_regression_loss(void *context, const double *theta, double *gradient, long n);
// MatrixVectorFunctions: product (n) = (F + λI) v (the Hessian) / F v (the Fisher), one pass.
void softmax_regression_hessian_vector(void *context, const double *theta, const double *v, double *product, long n);
void softmax_regression_fisher_vector(void *context, const double *theta, const double *v, double *product, long n);
// Dense, for small problems: the Hessian (n, n) = F + λI (a HessianFunction), and F (n, n) by
// the closed form above.
void softmax_regression_hessian(void *context, const double *theta, double *hessian, long n);
void softmax_regression_fisher(SoftmaxRegression *model, const double *theta, double *fisher);
// F (n, n) from outer products of per-sample scores: the expectation over y ~ p_i (empirical 0),
// which equals softmax_regression_fisher, or the observed labels (empirical 1).
void softmax_regression_fisher_outer_product(SoftmaxRegression *model, const double *theta, int empirical,
                                             double *fisher);

#endif
