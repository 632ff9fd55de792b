// Generative adversarial network: Goodfellow et al., "Generative Adversarial Nets", NeurIPS
// 2014 (arXiv:1406.2661), with an MLP pair, and the convolutional pair of Radford, Metz and
// Chintala, "Unsupervised Representation Learning with Deep Convolutional Generative
// Adversarial Networks" (DCGAN), ICLR 2016 (arXiv:1511.06434), built on nn/.
//
// A generator G maps noise z ~ N(0, I) (J values) to an image; a discriminator D maps an image
// to a logit, D(x) = σ(logit) the probability that x is real. The game of the paper (eq. 1),
//
//   min_G max_D  E_x[log D(x)] + E_z[log(1 − D(G(z)))],
//
// is played by alternating one step of each on a batch of m real images and m noise vectors:
//
//   discriminator  L_D = −(1/m) Σ [log D(x_i) + log(1 − D(G(z_i)))]
//                      = BCE(logit(x), 1) + BCE(logit(G(z)), 0)          (G held fixed)
//   generator      L_G = −(1/m) Σ log D(G(z_i)) = BCE(logit(G(z)), 1)    (D held fixed)
//
// L_G is the paper's non-saturating loss (section 3): the same fixed point as minimising
// log(1 − D(G(z))), but with a strong gradient while D rejects the samples early in training.
//
// Architectures (W the width; PyTorch names, prefixed "generator." and "discriminator."):
//   mlp    G: fc1 J->W, LeakyReLU(0.2), fc2 W->2W, bn2, LeakyReLU(0.2), fc3 2W->784, sigmoid
//          D: fc1 784->2W, LeakyReLU(0.2), fc2 2W->W, LeakyReLU(0.2), fc3 W->1
//   dcgan  G: fc J->2W·7·7, reshape, bn1, ReLU, deconv1 (4×4 stride 2: 7->14) 2W->W, bn2, ReLU,
//             deconv2 (14->28) W->1, sigmoid
//          D: conv1 (4×4 stride 2: 28->14) 1->W, LeakyReLU(0.2), conv2 (14->7) W->2W, bn2,
//             LeakyReLU(0.2), flatten, fc 2W·7·7->1
// with DCGAN's recipe for both: Adam with lr 2e-4, β₁ 0.5; the dcgan's weights N(0, 0.02²) as in
// its paper (the mlp keeps PyTorch's default initialisation). The mlp generator's batch norm is
// not in the 2014 paper: without it, on this recipe, every sample collapsed to one image within
// three epochs (measured); with it they differ.
//
// What is simplified: images stay in [0, 1] with a sigmoid output (DCGAN scales them to [−1, 1]
// with tanh); the networks are sized for 28×28 MNIST and two CPU cores (DCGAN's are 64×64 and
// much wider); one discriminator step per generator step (the paper's k = 1); the generator
// runs twice per iteration (once without recording for D's step, once for G's), so its batch
// norms update their running statistics twice per iteration; no resuming (the checkpoint holds
// the weights, not the two optimizers' moments).
#ifndef MODELS_GAN_H
#define MODELS_GAN_H

#include "foundations/safetensors.h"
#include "nn/data.h"
#include "nn/module.h"
#include "nn/trainer.h"

typedef enum { GAN_MLP, GAN_DCGAN } GanArch;

enum { GAN_IMAGE_SIZE = 28, GAN_PIXELS = GAN_IMAGE_SIZE * GAN_IMAGE_SIZE };

typedef struct GanConfig {
    GanArch arch;
    int latent;  // J
    int width;   // W
} GanConfig;

// A transposed convolution's parameters: weight (in, out, k, k) (PyTorch's layout), bias (out).
typedef struct GanDeconv {
    Tensor *weight, *bias;
} GanDeconv;

typedef struct Gan {
    GanConfig config;
    // mlp
    Linear g_fc1, g_fc2, g_fc3, d_fc1, d_fc2, d_fc3;
    // dcgan
    Linear g_fc, d_fc;
    BatchNorm2d g_bn1, g_bn2, d_bn2;
    GanDeconv g_deconv1, g_deconv2;
    Conv2d d_conv1, d_conv2;
    Parameters params;         // every tensor: the generator's first, then the discriminator's
    int n_generator_entries;   // params.entries[0 .. n) are the generator's
} Gan;

// mlp: J 64, W 256; dcgan: J 64, W 32.
GanConfig gan_default_config(GanArch arch);
// "mlp" / "dcgan", and back (an error naming both otherwise).
const char *gan_arch_name(GanArch arch);
int gan_arch_parse(const char *name, GanArch *arch, Error *error);
// A new pair from rng. Errors: a size below 1.
int gan_create(Gan *model, const GanConfig *config, Random *rng, Error *error);
// A GAN from a file written by gan_train / gan_metadata: metadata "arch" "gan" (a file of
// another model: "<path>: a vae checkpoint, not gan"), "variant" mlp|dcgan, "latent", "width".
int gan_load(Gan *model, const char *path, Error *error);
void gan_free(Gan *model);
// The metadata recording the model (keys arch, variant, latent, width) into metadata (4 pairs);
// the values point into text (at least 64 bytes), which must outlive their use.
int gan_metadata(const Gan *model, SafetensorsMetadata *metadata, char *text);
// The generator's and the discriminator's tensors, as views into model->params (not to be freed).
Parameters gan_generator_params(const Gan *model);
Parameters gan_discriminator_params(const Gan *model);

// z (B, J) -> images (B, 1, 28, 28) in (0, 1). training: batch statistics (dcgan).
Tensor *gan_generate(Tape *tape, const Gan *model, Tensor *z, int training);
// images (B, 1, 28, 28) -> logits (B, 1).
Tensor *gan_discriminate(Tape *tape, const Gan *model, Tensor *images, int training);
// L_D = BCE(real_logits, 1) + BCE(fake_logits, 0), each the mean over its batch.
Tensor *gan_discriminator_loss(Tape *tape, Tensor *real_logits, Tensor *fake_logits);
// L_G = BCE(fake_logits, 1), the non-saturating generator loss.
Tensor *gan_generator_loss(Tape *tape, Tensor *fake_logits);

typedef struct GanTrainConfig {
    int epochs;                   // 1..1000
    int batch_size;
    float lr;                     // both Adams (β₁ 0.5, β₂ 0.999)
    unsigned long long seed;      // shuffles and noise
    const char *checkpoint_path;  // written after every epoch (weights and metadata), or NULL
} GanTrainConfig;

typedef struct GanEpoch {
    int epoch;
    double discriminator_loss, generator_loss;  // means over the epoch's steps
    double real_probability, fake_probability;  // mean D(x) and D(G(z)) before the D steps
    double seconds;
} GanEpoch;

typedef struct GanCallbacks {
    void *context;
    void (*step)(void *context, int epoch, int batch, int n_batches, float discriminator_loss, float generator_loss);
    // after each epoch (and its checkpoint); may return non-zero (and fill error) to stop
    int (*epoch)(void *context, const Gan *model, const GanEpoch *record, Error *error);
} GanCallbacks;

// Alternating steps over the set's images (each 1×28×28); records[e] for each epoch.
int gan_train(Gan *model, const LabelledSet *train, const GanTrainConfig *config, const GanCallbacks *callbacks,
              GanEpoch *records, Error *error);

// n images (n, 784) from the latents z (n, J), in evaluation mode (running statistics).
int gan_generate_images(const Gan *model, const float *z, int n, float *images, Error *error);
// n images from z ~ N(0, I) drawn from seed.
int gan_sample(const Gan *model, int n, unsigned long long seed, float *images, Error *error);

#endif
