// Variational auto-encoder: Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014
// (arXiv:1312.6114), the MLP encoder and Bernoulli decoder of its appendix C, built on nn/.
//
// A latent z ~ p(z) = N(0, I) of J dimensions generates an image x of D pixels through the
// decoder p_θ(x|z) = Π_d Bernoulli(x_d; σ(f_θ(z)_d)); the encoder q_φ(z|x) = N(μ_φ(x),
// diag σ²_φ(x)) approximates the posterior. Both are trained by maximising the evidence lower
// bound (ELBO) on log p(x), averaged over a batch:
//
//   ELBO(x) = E_q[log p_θ(x|z)] − KL(q_φ(z|x) ‖ p(z))              ≤ log p_θ(x)
//           = −distortion(x)    − rate(x)
//   distortion ≈ Σ_d BCE(f_θ(z)_d, x_d),  z = μ + σ ⊙ ε, ε ~ N(0, I)  (the reparameterisation:
//                one sample of ε per image, so the gradient flows through μ and σ)
//   rate = KL = −½ Σ_j (1 + log σ²_j − μ²_j − σ²_j)                    (closed form, eq. 10)
//
// in nats per image; the loss minimised is distortion + rate = −ELBO.
//
// The test log-likelihood is estimated by importance sampling with the encoder as proposal
// (Burda, Grosse and Salakhutdinov 2015, "Importance Weighted Autoencoders", the bound L_k):
//
//   log p(x) ≥ L_k = log (1/k) Σ_{i=1..k} p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x),
//
// computed as a log-mean-exp of the k log-weights; L_1 is the ELBO and L_k grows with k.
//
// Architecture (names are tools/reference/vae_reference.py's):
//   encoder  h = relu(fc1(x)),  μ = fc_mu(h),  log σ² = fc_log_var(h)     fc1: D -> H, fc_mu, fc_log_var: H -> J
//   decoder  f(z) = fc3(relu(fc2(z)))   (the Bernoulli logits)             fc2: J -> H, fc3: H -> D
// Defaults: D 784, H 400, J 20 (the paper used 500 hidden units on MNIST and latents of 2 to 200).
//
// What is simplified: the pixels are MNIST's grey levels in [0, 1] used directly as the Bernoulli
// targets (as PyTorch's VAE example does), not binarised, so log p(x) is a score of the model on
// grey images rather than a likelihood comparable with binarised-MNIST papers; the paper's tanh
// hidden units are ReLUs, its Adagrad is Adam, and it has no weight decay here.
#ifndef MODELS_VAE_H
#define MODELS_VAE_H

#include "foundations/safetensors.h"
#include "nn/data.h"
#include "nn/module.h"
#include "nn/trainer.h"

typedef struct VaeConfig {
    int input_size;  // D: pixels per image (784)
    int hidden;      // H
    int latent;      // J
} VaeConfig;

typedef struct Vae {
    VaeConfig config;
    Linear fc1, fc_mu, fc_log_var, fc2, fc3;
    Parameters params;
} Vae;

// The terms of the objective for a batch, on the tape (each a scalar mean over the batch, nats).
typedef struct VaeLoss {
    Tensor *mean, *log_var;  // (B, J) the encoder's μ and log σ²
    Tensor *logits;          // (B, D) the decoder's Bernoulli logits at z = μ + σ ⊙ ε
    Tensor *distortion;      // Σ_d BCE per image, averaged over the batch
    Tensor *rate;            // KL(q ‖ p) per image, averaged
    Tensor *loss;            // distortion + rate = −ELBO
} VaeLoss;

// D 784, H 400, J 20.
VaeConfig vae_default_config(void);
// PyTorch's default Linear initialisation from rng. Errors: a size below 1.
int vae_create(Vae *model, const VaeConfig *config, Random *rng, Error *error);
// A VAE from a state_dict or checkpoint: the file's metadata "arch" must be "vae" (a file of
// another model: "<path>: a gan checkpoint, not vae"); the sizes come from the tensors' shapes.
int vae_load(Vae *model, const char *path, Error *error);
void vae_free(Vae *model);
// The metadata that records the architecture: {"arch", "vae"}.
extern const SafetensorsMetadata VAE_METADATA;

// x (B, D) -> μ (B, J), log σ² (B, J) in *log_var.
Tensor *vae_encode(Tape *tape, const Vae *model, Tensor *x, Tensor **log_var);
// z (B, J) -> logits (B, D) of the Bernoulli means σ(logits).
Tensor *vae_decode(Tape *tape, const Vae *model, Tensor *z);
// The objective for x (B, D) in [0, 1] with the reparameterisation noise ε (B, J): fills out;
// returns out->loss, or NULL (the tape holds the error: shapes that do not fit the model).
Tensor *vae_loss(Tape *tape, const Vae *model, Tensor *x, Tensor *epsilon, VaeLoss *out);

// KL(N(μ, σ²) ‖ N(0, 1)) summed over n dimensions, in nats: −½ Σ (1 + log σ² − μ² − σ²).
double vae_gaussian_kl(const float *mean, const float *log_var, int n);

typedef struct VaeTrainConfig {
    int epochs;                   // 1..1000
    int batch_size;
    float lr;                     // Adam's, constant
    unsigned long long seed;      // the shuffles and the noise ε
    const char *checkpoint_path;  // written after every epoch (weights and arch), or NULL
} VaeTrainConfig;

// Trains on the set's images (flattened to D values each) with Adam; records[e] the epoch's
// mean loss (train_loss, −ELBO in nats) and time, for config->epochs epochs.
int vae_train(Vae *model, const LabelledSet *train, const VaeTrainConfig *config, const TrainerCallbacks *callbacks,
              EpochRecord *records, Error *error);

typedef struct VaeEvaluation {
    int count;
    double elbo, distortion, rate;  // means over the images, nats (one ε per image)
    int importance_samples;         // k (0: not estimated)
    double log_likelihood;          // mean L_k, nats
} VaeEvaluation;

// The ELBO and its two terms over n images (n, D), and with k >= 1 the importance-weighted
// estimate L_k of log p(x); the noise from seed. Errors: n < 1, k < 0, images of another size.
int vae_evaluate(const Vae *model, const float *images, int n, int image_size, int k, unsigned long long seed,
                 VaeEvaluation *result, Error *error);

// L_k for each of n images (n, D) into log_likelihoods (n); the noise from rng.
int vae_importance_log_likelihood(const Vae *model, const float *images, int n, int k, Random *rng,
                                  double *log_likelihoods, Error *error);

// n images (n, D) of Bernoulli means σ(f(z)) for z ~ N(0, I) from seed.
int vae_sample(const Vae *model, int n, unsigned long long seed, float *images, Error *error);
// The Bernoulli means for given latents z (n, J).
int vae_decode_means(const Vae *model, const float *z, int n, float *images, Error *error);
// The encoder means μ (n, J) of n images, and reconstructions σ(f(μ)) (n, D) when not NULL.
int vae_encode_means(const Vae *model, const float *images, int n, float *means, float *reconstructions, Error *error);

#endif
