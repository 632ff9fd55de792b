// RealNVP, a normalising flow (Dinh, Sohl-Dickstein and Bengio 2016, "Density estimation using
// Real NVP"), on 2-D points.
//
// An invertible map f = f_K ∘ … ∘ f_1 takes a point x to a latent z = f(x) with a standard
// normal density, and the change of variables gives the exact log-likelihood
//   log p(x) = log N(f(x); 0, I) + Σ_k log |det ∂f_k/∂x|.
// Each f_k is an affine coupling layer: one coordinate x_a passes unchanged and conditions the
// other, x_b ↦ x_b·exp(s(x_a)) + t(x_a), so the Jacobian is triangular and log|det| = s.
// Layers alternate which coordinate is kept (the paper's alternating masks). The inverse is
// x_b = (y_b − t(x_a))·exp(−s(x_a)): sampling draws z ~ N(0, I) and runs the layers backwards.
// Training maximises the likelihood: loss = −mean log p(x) in nats per point.
//
// Simplified against the paper: no multi-scale architecture, squeezing or batch normalisation
// (2-D points, not images); s and t come from one MLP per layer (1 → H → H → 2, ReLU), with
// s = tanh(raw s) to keep every layer's scale within e^±1.
#ifndef MODELS_REALNVP_H
#define MODELS_REALNVP_H

#include <stdint.h>

#include "foundations/safetensors.h"
#include "nn/module.h"

typedef struct RealNvpConfig {
    int n_layers;  // coupling layers, >= 1 (default 8)
    int hidden;    // width H of each layer's MLP (default 64)
} RealNvpConfig;

typedef struct Coupling {
    Linear fc1, fc2, fc3;  // x_a (1) → H → H → (raw s, t) (2)
    int keep;              // the coordinate that passes unchanged (0 or 1, alternating)
} Coupling;

typedef struct RealNvp {
    RealNvpConfig config;
    Coupling *layers;  // (n_layers), "layers.<k>.fc1.weight" ...
    Parameters params;
} RealNvp;

// A flow with PyTorch's default initialisation from seed. Fails on sizes below 1, out of memory.
int realnvp_init(RealNvp *flow, const RealNvpConfig *config, uint64_t seed, Error *error);
void realnvp_free(RealNvp *flow);

// x (N,2) -> z (N,2) and log|det ∂z/∂x| (N,1), on the tape (differentiable).
int realnvp_forward(Tape *tape, const RealNvp *flow, Tensor *x, Tensor **z, Tensor **log_det);
// x (N,2) -> log p(x) (N,1) on the tape; the loss is −mean of it.
Tensor *realnvp_log_prob_tensor(Tape *tape, const RealNvp *flow, Tensor *x);
// Plain arrays, no gradient: log p (n) of points xy (n,2); z (n,2) -> x (n,2) through the inverse.
int realnvp_log_prob(const RealNvp *flow, const float *xy, int n, float *log_p, Error *error);
int realnvp_inverse(const RealNvp *flow, const float *z, int n, float *x, Error *error);
// n samples (n,2): z ~ N(0, I) from seed, then the inverse.
int realnvp_sample(const RealNvp *flow, int n, uint64_t seed, float *x, Error *error);

typedef struct FlowTraining {
    int steps, batch;  // Adam steps on minibatches drawn with replacement (defaults 3000, 256)
    float lr;          // 1e-3
    uint64_t seed;     // minibatch order
} FlowTraining;

// Maximum likelihood on data (n,2). *final_nll: −mean log p over all of data after training.
int realnvp_train(RealNvp *flow, const float *data, int n, const FlowTraining *training, float *final_nll,
                  Error *error);

// Checkpoint: the parameters with metadata arch "realnvp", n_layers, hidden and the caller's
// data set name. Loading rebuilds the flow from the file alone; errors are model_checkpoint's
// and state_dict_load_file's. *data_name (may be NULL) receives the data set, "" when absent.
int realnvp_save(const RealNvp *flow, const char *path, const char *data_name, Error *error);
int realnvp_load(RealNvp *flow, const char *path, char *data_name, int data_name_size, Error *error);

#endif
