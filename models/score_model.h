// A noise-conditional score network on 2-D points (Song and Ermon 2019, "Generative modeling
// by estimating gradients of the data distribution"), trained by denoising score matching and
// sampled by annealed Langevin dynamics.
//
// The score is ∇ₓ log p(x). Perturbing the data with Gaussian noise of scale σ gives
// q_σ(x̃) = ∫ p(x) N(x̃; x, σ²I) dx, and one network s_θ(x̃, σ) learns the scores of q_σ at
// noise levels σ₁ > σ₂ > … > σ_L (geometric). Denoising score matching (Vincent 2011): the
// minimiser of E ‖s_θ(x̃, σ) − ∇ log N(x̃; x, σ²I)‖² = E ‖s_θ(x̃, σ) + (x̃ − x)/σ²‖² over
// x ~ p, x̃ = x + σε is the score of q_σ. With the paper's weight λ(σ) = σ² the loss is
//   L(θ) = 1/2 E_{i, x, ε} ‖σ_i s_θ(x + σ_i ε, σ_i) + ε‖²,   ε ~ N(0, I), i uniform.
// Annealed Langevin dynamics: from uniform noise, for each σ_i in turn, T steps of
//   x ← x + (α_i/2) s_θ(x, σ_i) + √α_i z,   α_i = ε_step σ_i²/σ_L²,   z ~ N(0, I),
// then (optionally) one denoising step x ← x + σ_L² s_θ(x, σ_L) (Tweedie's formula, the
// final step Song and Ermon 2020 added).
//
// Simplified against the paper: an MLP on (x, log σ) instead of a RefineNet on images, its
// output divided by σ (the parameterisation of the 2020 follow-up: s_θ(x, σ) = f_θ(x, log σ)/σ,
// so σ s_θ = f_θ is of order one at every level).
//
// What makes the two-moons samples good (measured by MMD against fresh data, see
// tools/cmd_score_model.c and the README): ReLU hidden units, a cosine learning rate and a
// Langevin step ε_step = 1e-4 for T = 100. With softplus units (the first version) the network
// did not learn the score at the small noise levels (relative error 0.7–0.9 at σ <= 0.26):
// softplus bends on a unit scale of its input, so drawing a moon 0.08 wide needs first-layer
// weights Adam grows only slowly, while a ReLU's kink is sharp at any scale. A score that is
// wrong along the moons is then followed for many steps, and the samples drift to the moons'
// tips. ε_step follows Song & Ermon 2020 (technique 4): with a = ε_step/σ_L² and γ = σ_{i−1}/σ_i,
// the variance of a sample after T steps relative to σ_i² under a Gaussian model is
//   (1 − a)^{2T} (γ² − 2/(2 − a)) + 2/(2 − a),
// which for T = 100, γ = 1.51 is 1.02 at ε_step = 1e-4 (a = 0.04) and 1.67 at the old 2e-3
// (a = 0.8: steps so large that the discretisation inflates every level's spread).
#ifndef MODELS_SCORE_MODEL_H
#define MODELS_SCORE_MODEL_H

#include <stdint.h>

#include "nn/module.h"

enum { SCORE_MAX_SIGMAS = 64 };

// The hidden units' nonlinearity: ReLU (the default), or softplus (the first version's; a
// checkpoint without an "activation" entry is one of those).
typedef enum { SCORE_RELU, SCORE_SOFTPLUS } ScoreActivation;

typedef struct ScoreConfig {
    int hidden;                  // MLP width (default 128)
    int n_sigmas;                // noise levels L, 1..SCORE_MAX_SIGMAS (default 10)
    float sigma_max, sigma_min;  // σ₁ >= σ_L > 0 (defaults 2 and 0.05)
    ScoreActivation activation;  // SCORE_RELU
} ScoreConfig;

typedef struct ScoreModel {
    ScoreConfig config;
    float sigmas[SCORE_MAX_SIGMAS];  // σ₁ … σ_L, geometric
    Linear fc1, fc2, fc3;            // (x, log σ) (3) → H → H → 2, ReLU (or softplus)
    Parameters params;               // "fc1.weight" …
} ScoreModel;

// "relu", "softplus"; the reverse fails on another name.
const char *score_activation_name(ScoreActivation activation);
int score_activation_parse(const char *name, ScoreActivation *activation, Error *error);

// Fails on sizes out of range or σ_min > σ_max, σ_min <= 0; PyTorch's Linear init from seed.
int score_model_init(ScoreModel *model, const ScoreConfig *config, uint64_t seed, Error *error);
void score_model_free(ScoreModel *model);
// σ s_θ(x, σ) (N,2) for x (N,2) and log σ (N,1), on the tape.
Tensor *score_model_scaled_score(Tape *tape, const ScoreModel *model, Tensor *x, Tensor *log_sigma);
// s_θ(x, σ) of points xy (n,2) at one σ into score (n,2), no gradient.
int score_model_score(const ScoreModel *model, const float *xy, int n, float sigma, float *score, Error *error);

typedef struct ScoreTraining {
    int steps, batch;  // Adam steps on minibatches with replacement (defaults 15000, 256)
    float lr;          // the peak, 1e-3: a cosine takes it to lr/100 at the last step
    uint64_t seed;     // batches, noise levels and noise
} ScoreTraining;

// Denoising score matching on data (n,2). *final_loss: the mean loss of the last 100 steps.
int score_model_train(ScoreModel *model, const float *data, int n, const ScoreTraining *training, float *final_loss,
                      Error *error);

// A score function for the sampler: score (n,2) of x (n,2) at σ; returns 0 or -1 with error.
typedef int (*ScoreFunction)(void *context, const float *x, int n, float sigma, float *score, Error *error);
// score_model_score as a ScoreFunction (context: the ScoreModel).
int score_model_function(void *context, const float *x, int n, float sigma, float *score, Error *error);

typedef struct LangevinConfig {
    int steps_per_sigma;  // T >= 1 (default 100)
    float step_size;      // ε_step > 0 (default 1e-4): α_L, the step at the last level
    int denoise;          // 1: the final denoising step
    float init_low, init_high;  // the uniform start box [low, high]² (defaults −3, 3)
} LangevinConfig;

// Annealed Langevin dynamics over sigmas (n_sigmas, decreasing): n samples into x (n,2).
// Fails on T < 1, ε_step <= 0, n < 1, the score function's failure, or samples that diverge
// (non-finite or beyond 1e6: too large a step).
int annealed_langevin(ScoreFunction score, void *context, const float *sigmas, int n_sigmas,
                      const LangevinConfig *config, int n, uint64_t seed, float *x, Error *error);

// Checkpoint with metadata arch "score_model", hidden, n_sigmas, sigma_max, sigma_min, activation, data.
int score_model_save(const ScoreModel *model, const char *path, const char *data_name, Error *error);
int score_model_load(ScoreModel *model, const char *path, char *data_name, int data_name_size, Error *error);

#endif
