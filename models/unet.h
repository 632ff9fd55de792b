// U-Net: the encoder–decoder of Ronneberger, Fischer and Brox, "U-Net: convolutional networks
// for biomedical image segmentation", MICCAI 2015, small, for 28×28 images, built on nn/.
//
//   encoder k (k = 1..L):  s_k = block(h), h = maxpool₂(s_k)         width W·2^(k−1), side halved
//   bottleneck:            h = block(h)                              width W·2^L
//   decoder k (k = L..1):  h = block(concat(upconv_k(h), s_k))       upconv: 2×2 transposed
//                                                                    convolution, stride 2, width halved
//   logits = conv(h)                                                 1×1 convolution to 1 channel
// with block = (3×3 conv, padding 1, ReLU) twice. The output is one logit z per pixel, and the
// objective the mean binary cross-entropy with logits over every pixel of the batch,
//   ℓ = −mean[ m log σ(z) + (1 − m) log(1 − σ(z)) ],  m the target mask (0 or 1),
// a pixel predicted foreground when z > 0 (σ(z) > 1/2).
//
// What differs from the paper: L = 2 levels of W = 16 channels by default (the paper: 4
// levels, 64 to 1024 channels, 572×572 inputs); the 3×3 convolutions are padded, so every
// map keeps its size and the skip connections need no cropping (the paper's are unpadded and
// its output map is smaller than the input); one output channel with binary cross-entropy
// instead of two with softmax; no pixel-wise loss weights for separating touching objects,
// no elastic deformations; PyTorch's default initialisation (the paper draws from
// N(0, 2/fan_in)). The up-sampling is the paper's learned "up-convolution" (a 2×2 transposed
// convolution) rather than bilinear interpolation: it is what the paper used, it halves the
// channels in the same step, and it learns how to place the coarse features.
//
// Names as in the common PyTorch U-Nets: a block is an nn.Sequential (conv, ReLU, conv, ReLU)
// so its convolutions are `<block>.0` and `<block>.2`; the blocks are encoder1 … encoderL,
// bottleneck, decoderL … decoder1; the transposed convolutions upconvL … upconv1 and the last
// 1×1 convolution `conv`, each with .weight and .bias (tools/reference/unet_reference.py).
// The input's sides must be multiples of 2^L.
//
// Time conditioning (for the noise predictor of a diffusion model, models/ddpm.h; Ho et al.
// 2020, after the Transformer's positions of Vaswani et al. 2017): with E = time_channels > 0
// a timestep t (one per image) becomes
//   e(t)_k = sin(t·ω_k), e(t)_{k+E/2} = cos(t·ω_k),  ω_k = 10000^(−k/(E/2)),  k < E/2
//   τ = SiLU(time_embed.2(SiLU(time_embed.0(e(t)))))        time_embed.0, .2: Linear(E, E)
// (SiLU(x) = x·σ(x)), and every block adds its own projection of τ to its first convolution's
// maps, broadcast over the pixels, before the ReLU:
//   block(h, τ) = relu(conv2(relu(conv1(h) + <block>.time(τ)[:, :, None, None])))
// <block>.time: Linear(E, the block's channels). Unconditioned (E = 0) the blocks are as above.
#ifndef MODELS_UNET_H
#define MODELS_UNET_H

#include "foundations/safetensors.h"
#include "nn/module.h"

enum { UNET_MAX_LEVELS = 4 };

typedef struct UnetConfig {
    int in_channels;  // 1 for MNIST
    int width;        // W: channels of encoder1 (doubled at each level below)
    int levels;       // L: poolings (and up-convolutions), 1..UNET_MAX_LEVELS
    int time_channels;  // E: the time embedding's width, even (0: no time conditioning)
} UnetConfig;

typedef struct UnetBlock {
    Conv2d conv1, conv2;  // <block>.0, <block>.2
    Linear time;          // <block>.time: E -> the block's channels (time-conditioned only)
} UnetBlock;

// A 2×2 transposed convolution of stride 2: weight (in, out, 2, 2) (PyTorch's layout), bias (out).
typedef struct UnetUpconv {
    Tensor *weight, *bias;
} UnetUpconv;

typedef struct Unet {
    UnetConfig config;
    Linear time_embed0, time_embed2;  // time_embed.0, time_embed.2 (time-conditioned only)
    UnetBlock encoders[UNET_MAX_LEVELS], bottleneck, decoders[UNET_MAX_LEVELS];  // [k − 1] is level k
    UnetUpconv upconvs[UNET_MAX_LEVELS];
    Conv2d conv;
    Parameters params;
} Unet;

// 1 input channel, W = 16, L = 2.
UnetConfig unet_default_config(void);
// PyTorch's default initialisation from rng (ConvTranspose2d's too: uniform in ±1/√(out·2·2)).
// Errors: a size below 1, levels outside 1..4, W·2^L above 65536, an odd or negative E.
int unet_create(Unet *model, const UnetConfig *config, Random *rng, Error *error);
// The sizes read from the state_dict's shapes (encoder1.0.weight (W, in, 3, 3); L from how many
// encoder<k>.0.weight there are; E from time_embed.0.weight (E, E) when present), then the
// weights loaded; every error names the file and the tensor.
int unet_from_file(Unet *model, const Safetensors *file, const char *path, Error *error);
void unet_free(Unet *model);

// Whether images of channels × height × width fit: an error naming what the model takes
// otherwise (its channels, sides multiples of 2^L).
int unet_check_input(const Unet *model, int channels, int height, int width, Error *error);
// x (N, in_channels, H, W), H and W multiples of 2^L -> logits (N, 1, H, W). A NULL result and
// the tape's error for an input of another shape.
// An unconditioned model only (a time-conditioned one fails: it needs the timesteps).
Tensor *unet_forward(Tape *tape, const Unet *model, Tensor *x);
// The same for a time-conditioned model: timesteps (N) (t, any real; the diffusion step
// index), x (N, in_channels, H, W) -> (N, 1, H, W). Fails on a NULL timesteps when
// conditioned, or timesteps given to an unconditioned model.
Tensor *unet_forward_time(Tape *tape, const Unet *model, Tensor *x, const float *timesteps);
// The sinusoidal features e(t) above: timesteps (n) -> out (n, dims), dims even.
void unet_time_features(const float *timesteps, int n, int dims, float *out);

#endif
