// Denoising diffusion probabilistic model: Ho, Jain and Abbeel, "Denoising Diffusion
// Probabilistic Models", NeurIPS 2020 (arXiv:2006.11239); and the deterministic, shorter
// sampler of Song, Meng and Ermon, "Denoising Diffusion Implicit Models", ICLR 2021
// (arXiv:2010.02502). Built on nn/, with the time-conditioned U-Net of models/unet.h as the
// noise predictor ε_θ.
//
// The forward process adds Gaussian noise in T steps with variances β_1 … β_T (linear from
// 1e-4 to 0.02, T = 1000, as the paper):
//   q(x_t | x_{t−1}) = N(√(1−β_t) x_{t−1}, β_t I),  α_t = 1 − β_t,  ᾱ_t = Π_{s≤t} α_s (ᾱ_0 = 1)
// and in closed form
//   q(x_t | x_0) = N(√ᾱ_t x_0, (1−ᾱ_t) I),  i.e.  x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε,  ε ~ N(0, I).
// The posterior of one step given x_0 is Gaussian too (eq. 6–7):
//   q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I),
//   μ̃_t = √ᾱ_{t−1} β_t/(1−ᾱ_t) · x_0 + √α_t (1−ᾱ_{t−1})/(1−ᾱ_t) · x_t,  β̃_t = (1−ᾱ_{t−1})/(1−ᾱ_t) · β_t.
// The network predicts the noise, and is trained on the paper's simplified objective (eq. 14)
//   L_simple = E_{t ~ U{1..T}, x_0, ε} ‖ε − ε_θ(√ᾱ_t x_0 + √(1−ᾱ_t) ε, t)‖²
// (the variational bound with its per-t weights dropped), here the mean over pixels.
//
// Ancestral sampling (Algorithm 2): x_T ~ N(0, I), then for t = T … 1
//   x̂_0 = (x_t − √(1−ᾱ_t) ε_θ(x_t, t)) / √ᾱ_t,   x_{t−1} = μ̃_t(x_t, x̂_0) + σ_t z,  σ_t² = β_t,
// z ~ N(0, I) (z = 0 at t = 1). Unclipped, μ̃_t(x_t, x̂_0) is the paper's
// (x_t − β_t/√(1−ᾱ_t) ε_θ)/√α_t.
// DDIM (Song et al. eq. 12) on a sub-sequence τ_1 < … < τ_S of 1..T, from t = τ_i to s = τ_{i−1}
// (s = 0 after τ_1):
//   x_s = √ᾱ_s x̂_0 + √(1−ᾱ_s−σ²) ε_θ(x_t, t) + σ z,  σ = η √((1−ᾱ_s)/(1−ᾱ_t)) √(1−ᾱ_t/ᾱ_s);
// η = 0 is deterministic, and η = 1 with s = t − 1 is the ancestral step with σ_t² = β̃_t.
// The sub-sequence is τ_i = 1 + ⌊(i−1)·T/S⌋ (Song et al.'s "uniform" skip; S = T is every step).
//
// The data are scaled to [−1, 1] (the paper's); images come back clamped to [0, 1].
//
// What is simplified: a 2-level U-Net of width 16 (plain conv–ReLU blocks with the time
// embedding added after each block's first convolution, 135,473 parameters) instead of the
// paper's 35.7 M-parameter Wide-ResNet U-Net with group normalisation, self-attention at 16×16
// and dropout; 28×28 MNIST needs no padding (28 = 4·7, the U-Net's two poolings); no exponential
// moving average of the weights (the paper samples from an EMA with decay 0.9999, which needs
// far more steps than a 10-minute CPU budget gives); Adam at 2e-3 with gradient clipping at 1
// (the paper: 2e-4 for CIFAR10, clip 1); batches drawn uniformly with replacement. Sampling
// clips x̂_0 to [−1, 1], as the paper's released code does; DDIM then takes the noise that goes
// with the clipped x̂_0, ε' = (x_t − √ᾱ_t x̂_0)/√(1−ᾱ_t), instead of ε_θ (with ε_θ itself, a
// short-trained model's DDIM samples at η = 0 collapse into a striped texture: at large t, x̂_0
// is ε_θ's error magnified by 1/√ᾱ_t, and x_s ≈ ε_θ replaces x_t's noise with the prediction's).
#ifndef MODELS_DDPM_H
#define MODELS_DDPM_H

#include "foundations/random.h"
#include "models/unet.h"

enum { DDPM_MAX_STEPS = 10000 };

// ---------------------------------------------------------------------------------------
// The noise schedule: t = 1..T as in the paper; index 0 holds ᾱ_0 = 1.
typedef struct DdpmSchedule {
    int steps;               // T
    double beta_start, beta_end;
    double *betas;           // (T + 1) β_t at [t]; [0] unused (0)
    double *alphas_cumprod;  // (T + 1) ᾱ_t at [t]; [0] = 1
} DdpmSchedule;

// β_t = β_start + (β_end − β_start)(t−1)/(T−1) (T = 1: β_start), ᾱ_t accumulated as
// exp(Σ_{s≤t} log(1−β_s)). Errors: T outside 1..10000, betas outside (0, 1) or decreasing.
int ddpm_schedule_create(DdpmSchedule *schedule, int steps, double beta_start, double beta_end, Error *error);
void ddpm_schedule_free(DdpmSchedule *schedule);

// The coefficients of q(x_{t−1} | x_t, x_0) above, t in 1..T:
// mean = x0_coefficient · x_0 + xt_coefficient · x_t, variance β̃_t.
typedef struct DdpmPosterior {
    double x0_coefficient, xt_coefficient, variance;
} DdpmPosterior;
DdpmPosterior ddpm_posterior(const DdpmSchedule *schedule, int t);

// q(x_t | x_0) for n images of size values each: x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε, t (n) in 1..T,
// x0, noise and xt (n, size).
void ddpm_diffuse(const DdpmSchedule *schedule, const int *t, const float *x0, const float *noise, int n, long size,
                  float *xt);
// x̂_0 = (x_t − √(1−ᾱ_t) ε)/√ᾱ_t over count values, clamped to [−1, 1] when clip.
void ddpm_predict_x0(const DdpmSchedule *schedule, int t, const float *xt, const float *epsilon, long count, int clip,
                     float *x0);
// One ancestral step t -> t−1 (t in 1..T) of count values from the predicted noise: μ̃_t(x_t,
// x̂_0) + √β_t z (z ignored, may be NULL, at t = 1). out may alias xt.
void ddpm_ancestral_step(const DdpmSchedule *schedule, int t, const float *xt, const float *epsilon, const float *z,
                         long count, int clip, float *out);
// DDIM's σ from t to s (0 <= s < t <= T) for η >= 0 (formula above).
double ddim_sigma(const DdpmSchedule *schedule, int t, int s, double eta);
// One DDIM step t -> s of count values; z (count) is used when σ > 0 (may be NULL at η = 0).
// With clip, x̂_0 is clamped to [−1, 1] and ε' (above) used for the values it changed. out may
// alias xt.
void ddim_step(const DdpmSchedule *schedule, int t, int s, double eta, const float *xt, const float *epsilon,
               const float *z, long count, int clip, float *out);
// DDIM's sub-sequence of S steps (1 <= S <= T): tau (S) increasing, tau[0] = 1.
void ddim_timesteps(int T, int S, int *tau);

// ---------------------------------------------------------------------------------------
// The model: a noise predictor and its schedule.
typedef struct DdpmConfig {
    UnetConfig unet;   // in_channels 1, width 16, levels 2, time_channels 64
    int height, width; // of the images (28×28)
    int steps;         // T
    float beta_start, beta_end;
} DdpmConfig;

typedef struct Ddpm {
    DdpmConfig config;
    Unet unet;
    DdpmSchedule schedule;
} Ddpm;

DdpmConfig ddpm_default_config(void);
// The U-Net (PyTorch's default initialisation from rng) and the schedule. Errors: those of
// unet_create and ddpm_schedule_create; sides the U-Net does not take.
int ddpm_create(Ddpm *model, const DdpmConfig *config, Random *rng, Error *error);
// A checkpoint of ddpm_save: its metadata's arch must be "ddpm" (another model's file:
// "<path>: a vae checkpoint, not a ddpm one"); T, β_1, β_T and the image sides from the
// metadata, the U-Net's sizes from the tensors' shapes.
int ddpm_load(Ddpm *model, const char *path, Error *error);
// The U-Net's weights and the metadata arch "ddpm", steps, beta_start, beta_end, height,
// width; written to a temporary file renamed into place.
int ddpm_save(const Ddpm *model, const char *path, Error *error);
void ddpm_free(Ddpm *model);

// ε_θ(x_t, t): xt (N, C, H, W), t (N) in 1..T -> (N, C, H, W).
Tensor *ddpm_predict_noise(Tape *tape, const Ddpm *model, Tensor *xt, const int *t);
// L_simple for a batch: x0 (N, C, H, W) in [−1, 1], t (N) in 1..T, noise (N·C·H·W): the mean
// of (ε − ε_θ(x_t, t))² over every value. NULL (the tape's error) on shapes the model does
// not take.
Tensor *ddpm_loss(Tape *tape, const Ddpm *model, Tensor *x0, const int *t, const float *noise);

typedef struct DdpmTrainConfig {
    int steps;                    // optimizer steps (the most), >= 1
    double seconds;               // stop after this much wall-clock time (0: no limit)
    int batch_size;
    float lr;                     // Adam's (β 0.9, 0.999), constant
    float clip;                   // the gradients' global norm limit (0: none)
    unsigned long long seed;      // the batches, t and ε
} DdpmTrainConfig;

// Called after every step with its loss and the seconds since training started.
typedef void (*DdpmStepCallback)(void *context, int step, int steps, float loss, double seconds);

typedef struct DdpmTrainResult {
    int steps;                    // done
    double seconds;               // wall clock
    double first_loss, last_loss; // means of the first and of the last min(100, steps/2) steps' losses
} DdpmTrainResult;

// Trains on n images (n, C·H·W) with pixels in [0, 1] (scaled to [−1, 1] here). Errors: a bad
// configuration, n < 1, a non-finite loss (naming the step).
int ddpm_train(Ddpm *model, const float *images, int n, const DdpmTrainConfig *config, DdpmStepCallback callback,
               void *context, DdpmTrainResult *result, Error *error);

typedef enum { DDPM_SAMPLER_ANCESTRAL, DDPM_SAMPLER_DDIM } DdpmSampler;

typedef struct DdpmSampling {
    DdpmSampler sampler;
    int steps;   // DDIM's S in 1..T (the ancestral sampler always takes T)
    float eta;   // DDIM's η >= 0
    int clip;    // clamp x̂_0 to [−1, 1]
} DdpmSampling;

// "ddpm" or "ddim" -> sampler. Errors: another name.
int ddpm_sampler_parse(const char *name, DdpmSampler *sampler, Error *error);
// n images (n, C, H, W) in [0, 1] from x_T ~ N(0, I) drawn from seed. When chain is not NULL,
// chain_frames (>= 2) pictures of the first image on its way from x_T (frame 0) to x_0 (the
// last), evenly spaced over the sampler's steps, each (C, H, W) mapped from [−1, 1] to [0, 1].
// Errors: n < 1, steps outside 1..T or η < 0 for DDIM, out of memory.
int ddpm_sample(const Ddpm *model, const DdpmSampling *sampling, int n, unsigned long long seed, float *images,
                float *chain, int chain_frames, Error *error);

#endif
