// Model-agnostic meta-learning (Finn, Abbeel and Levine 2017, "Model-Agnostic Meta-Learning
// for Fast Adaptation of Deep Networks", §2.2 and the sine regression of §5.1): learn an
// initialisation θ from which a few gradient steps on a new task's K examples fit that task.
//   min_θ  Σ_{T ~ p(T)}  L_T^query(θ'_T),    θ'_T = θ − α ∇_θ L_T^support(θ)          (eq. 1)
// With S inner steps, θ_0 = θ and θ_{i+1} = θ_i − α ∇L^s(θ_i), the chain rule gives the
// meta-gradient (each Jacobian I − α∇²L^s(θ_i) is symmetric):
//   ∇_θ L^q(θ_S) = (I − α∇²L^s(θ_0)) ··· (I − α∇²L^s(θ_{S−1})) ∇L^q(θ_S)
// computed backwards from g = ∇L^q(θ_S) by g ← g − α ∇²L^s(θ_i) g, i = S−1 … 0.
//   MAML_FIRST_ORDER (FOMAML, the paper's §5.2): the Hessians dropped, ∇_θ ≈ ∇L^q(θ_S).
//   MAML_SECOND_ORDER (full MAML): every Hessian-vector product is exact, by Pearlmutter's
//     R-operator (1994, "Fast exact multiplication by the Hessian"): R{f} = d/dr f(θ + r v)
//     at r = 0, carried through the forward and then the backward pass of this MLP, so
//     R{∇L} = ∇²L v. It is written by hand for the MLP below because the nn/ tape records
//     forward operations only and cannot differentiate a backward pass. ReLU's second
//     derivative is 0 wherever it exists, so the R pass reuses ReLU's masks; the Hessian is
//     still not the Gauss–Newton matrix (the cross terms between layers stay). Checked
//     against finite differences of gradients, and the meta-gradient against PyTorch's double
//     backward (tools/reference/maml_reference.py, tests/test_maml.c).
//   MAML_PRETRAINED (the paper's baseline): no meta-learning; one network regresses the
//     points of all sampled tasks jointly, and is fine-tuned on a new task like the others.
//
// Tasks (§5.1): y = A sin(x − φ), A ~ U[0.1, 5], φ ~ U[0, π], x ~ U[−5, 5]; K = 10 points for
// the inner steps (support) and K other points of the same task for the outer loss (query);
// L = mean squared error. Network: 1-40-40-1 with ReLU, PyTorch's nn.Linear initialisation.
// Inner SGD α = 0.01; outer Adam β = 0.001; 25 tasks per meta-batch; 1 inner step in training
// (the paper's), up to 10 at test with the same α.
// Simplified against the paper: far fewer meta-steps than its 70,000 (the command's default
// is what 2 shared cores do in a few minutes); the pretrained baseline's fine-tuning step is
// tuned (maml_tune_lr) over a small grid on validation tasks; the held-out MSE is measured on
// 100 evenly spaced x in [−5, 5] rather than on K sampled points.
//
// Parameters: one flat float vector in this order (PyTorch's names and shapes, H hidden):
//   fc1.weight (H,1), fc1.bias (H), fc2.weight (H,H), fc2.bias (H), fc3.weight (1,H), fc3.bias (1).
#ifndef MODELS_MAML_H
#define MODELS_MAML_H

#include <stddef.h>
#include <stdint.h>

#include "foundations/error.h"
#include "foundations/random.h"

#define SINE_AMPLITUDE_MIN 0.1f
#define SINE_AMPLITUDE_MAX 5.0f
#define SINE_PHASE_MAX 3.14159265358979f
#define SINE_X_MIN (-5.0f)
#define SINE_X_MAX 5.0f

// ---------------------------------------------------------------------------------------
// Tasks

typedef struct SineTask {
    float amplitude;  // A in [0.1, 5]
    float phase;      // φ in [0, π], radians
} SineTask;

// A task drawn from p(T): A and φ uniform in their ranges.
SineTask sine_task_sample(Random *rng);
// A sin(x − φ)
float sine_task_value(SineTask task, float x);
// n points of the task: x (n) uniform in [−5, 5], y (n) = A sin(x − φ).
void sine_task_points(SineTask task, Random *rng, int n, float *x, float *y);

// ---------------------------------------------------------------------------------------
// The network: x (N) -> fc1 -> ReLU -> fc2 -> ReLU -> fc3 -> y (N)

// Number of parameters for H hidden units: 1 + H(H + 4)  (1,761 for H = 40).
long sine_net_size(int hidden);
// PyTorch's nn.Linear default: every weight and bias U(−1/√fan_in, 1/√fan_in).
void sine_net_init(float *params, int hidden, Random *rng);
// The i-th tensor (0..5) of the layout above: its name, dimensions (shape[0], shape[1]; a
// bias has ndim 1) and offset into the flat vector. Returns 0, or -1 past the last tensor.
int sine_net_tensor(int hidden, int i, const char **name, int *ndim, int shape[2], long *offset);

// Buffers of one forward/backward/R pass for up to capacity points; one per thread.
typedef struct SineNetWork {
    int hidden, capacity;
    float *a1, *h1, *a2, *h2, *da1, *da2, *dh1, *dh2;   // (capacity, H): activations and gradients
    float *ra1, *rh1, *ra2, *rh2, *rda2, *rdh1, *rdh2;  // (capacity, H): their R{·}
    float *tmp;                                        // (capacity, H)
    float *out, *d_out, *r_out, *r_d_out;              // (capacity)
    float *gradient;                                   // (n_params), scratch of the HVP
} SineNetWork;

// Errors: hidden or capacity < 1, out of memory.
int sine_net_work_init(SineNetWork *work, int hidden, int capacity, Error *error);
void sine_net_work_free(SineNetWork *work);

// x (n) -> y (n), n <= capacity.
void sine_net_forward(SineNetWork *work, const float *params, const float *x, int n, float *y);
// L = 1/n Σ (net(x) − t)² for x, t (n); grad (n_params) overwritten with ∇_θ L. Returns L.
float sine_net_loss_gradient(SineNetWork *work, const float *params, const float *x, const float *t, int n,
                             float *grad);
// hv (n_params) = ∇²_θ L v for the loss above at params, exact (the R-operator above).
void sine_net_hessian_vector(SineNetWork *work, const float *params, const float *x, const float *t, int n,
                             const float *v, float *hv);

// ---------------------------------------------------------------------------------------
// Meta-learning

typedef enum { MAML_FIRST_ORDER, MAML_SECOND_ORDER, MAML_PRETRAINED } MamlMethod;
enum { N_MAML_METHODS = 3 };
// "fomaml", "maml", "pretrained"
const char *maml_method_name(MamlMethod method);
// The reverse; fails on any other name.
int maml_method_parse(const char *name, MamlMethod *method, Error *error);

// S inner SGD steps from params on (x, t) (n points): adapted (n_params) = θ_S. path, if not
// NULL, receives θ_0 … θ_{S−1} (S · n_params) for the second-order backward.
void maml_adapt(SineNetWork *work, const float *params, const float *x, const float *t, int n, int steps, float lr,
                float *adapted, float *path);

// Floats of scratch maml_task_gradient needs: max((steps + 2) · n_params, 4 · shots).
size_t maml_scratch_size(int hidden, int steps, int shots);

// One task's contribution to the meta-gradient: grad (n_params) overwritten with
// ∇_θ L^q(θ_S) (second order), ∇L^q(θ_S) (first order) or, for PRETRAINED, ∇L(θ) on support
// and query points together. scratch: maml_scratch_size(hidden, steps, shots) floats.
// Returns the loss the gradient is of (L^q(θ_S), or the joint loss).
float maml_task_gradient(MamlMethod method, SineNetWork *work, const float *params, const float *support_x,
                         const float *support_t, const float *query_x, const float *query_t, int shots, int steps,
                         float lr, float *grad, float *scratch);

typedef struct MamlConfig {
    MamlMethod method;
    int hidden;        // H, 40
    int shots;         // K points per support and per query set, 10
    int meta_batch;    // tasks per outer step, 25
    int inner_steps;   // S in training, 1
    float inner_lr;    // α, 0.01
    float outer_lr;    // β, Adam's learning rate, 0.001
    long meta_steps;   // outer Adam steps
    uint64_t seed;     // the tasks' generator
} MamlConfig;

// The paper's values above, with meta_steps 0 (the caller chooses).
MamlConfig maml_default_config(MamlMethod method);
// Errors: any size < 1, a non-positive or non-finite learning rate, over 10,000 shots,
// over 100,000 tasks per meta-batch, hidden units or inner steps over 1,000.
int maml_config_check(const MamlConfig *config, Error *error);

// Called every so often with the outer step done (1-based) and the mean loss of that step.
typedef void (*MamlProgress)(void *context, long step, float loss);

// Meta-trains params (sine_net_size(hidden), already initialised) for meta_steps Adam steps,
// the tasks of a meta-batch in parallel (OpenMP; the result does not depend on the thread
// count). *final_loss: the mean of the last 100 steps' losses. Errors: a bad config, out of
// memory, a non-finite loss (naming the step).
int maml_train(const MamlConfig *config, float *params, MamlProgress progress, void *context, float *final_loss,
               Error *error);

typedef struct MamlEvaluation {
    int tasks;   // held-out tasks, 100
    int shots;   // K points each task adapts on, 10
    int steps;   // SGD steps, 10
    int points;  // evenly spaced x in [−5, 5] the MSE is measured on, 100
    float lr;    // α, 0.01
    uint64_t seed;
} MamlEvaluation;

// mse (steps + 1): the mean over held-out tasks of the MSE after 0, 1, …, steps SGD steps on
// each task's K shots. Tasks and shots depend on the seed only, so methods are compared on
// the same tasks. Errors: sizes < 1 (steps >= 0), a bad lr, out of memory, a non-finite MSE
// (the parameters or the adaptation diverged).
int maml_evaluate(const float *params, int hidden, const MamlEvaluation *evaluation, double *mse, Error *error);

// The paper's baseline is fine-tuned "using an automatically tuned step size": the lr among
// candidates (n) with the lowest mean MSE after evaluation->steps steps on the evaluation's
// tasks (give it a seed other than the test tasks'). A candidate whose MSE is not finite loses.
// Errors: n < 1, evaluation errors other than a diverging candidate, every candidate diverging.
int maml_tune_lr(const float *params, int hidden, const MamlEvaluation *evaluation, const float *candidates, int n,
                 float *best, Error *error);

#endif
