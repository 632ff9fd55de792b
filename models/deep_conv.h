// A deep stack of 3×3 convolutions without normalisation, for the gradient-flow experiment
// (models/vision_experiments.h): how the initialisation decides whether a gradient survives the
// way down (Glorot and Bengio 2010; He, Zhang, Ren and Sun 2015), and what residual connections
// change (He et al. 2016).
//
//   plain:     z_1 = conv_1(x) (stride 2),  h_1 = relu(z_1);  z_l = conv_l(h_(l−1)),  h_l = relu(z_l)
//   residual:  the same stem, then blocks of two convolutions with an identity shortcut,
//              h_(l+1) = relu(h_(l−1) + z_(l+1)),  z_(l+1) = conv_(l+1)(relu(z_l)),  z_l = conv_l(h_(l−1))
//   then global average pooling and a linear layer: logits z_L = fc(mean_(H,W) h_(L−1)).
// L weight layers in all (L − 1 convolutions of C channels and fc), so L = 20 is 19 conv + fc;
// residual needs an even number of convolutions after the stem (L − 2 even).
//
// Initialisation of every weight (biases 0):
//   N(0, σ²) with a fixed σ (0.01 is the "small random numbers" of early networks);
//   Xavier normal: σ² = 2/(fan_in + fan_out) — keeps the variance for linear or tanh units,
//     halves it at each ReLU (which zeroes half its inputs), so gradients shrink by ~√2 per layer;
//   He normal (fan_in): σ² = 2/fan_in — exactly compensates the ReLU's halving.
// with fan_in = C_in·3·3. A forward pass multiplies the variance by fan_in·σ²/2 per ReLU layer,
// and the backward pass the gradient's by the same factor (fan_out = fan_in here), so
// ‖∂L/∂z_1‖ / ‖∂L/∂z_(L−1)‖ ≈ (fan_in·σ²/2)^((L−2)/2): vanishing below 1, exploding above.
// Names: conv1 … conv(L−1), fc.
#ifndef MODELS_DEEP_CONV_H
#define MODELS_DEEP_CONV_H

#include "nn/module.h"
#include "nn/trainer.h"

enum { DEEP_CONV_MAX_LAYERS = 64 };

typedef enum { INIT_NORMAL, INIT_XAVIER, INIT_HE } InitKind;

typedef struct DeepConvConfig {
    int in_channels, channels, classes;
    int layers;      // L weight layers, 3..DEEP_CONV_MAX_LAYERS
    int residual;    // 1: identity shortcuts around pairs of convolutions
    InitKind init;
    float std;       // σ of INIT_NORMAL
} DeepConvConfig;

typedef struct DeepConv {
    DeepConvConfig config;
    Conv2d conv[DEEP_CONV_MAX_LAYERS];  // conv[0] is conv1, the stem
    Linear fc;
    Parameters params;
} DeepConv;

// Errors: L outside 3..DEEP_CONV_MAX_LAYERS, residual with L odd, sizes below 1, σ not positive.
int deep_conv_create(DeepConv *model, const DeepConvConfig *config, Random *rng, Error *error);
void deep_conv_free(DeepConv *model);
// x (N, in_channels, H, W) -> logits (N, classes). z (NULL or L entries) receives each weight
// layer's output z_l, conv_l's before its ReLU and the logits last (step values of the tape).
Tensor *deep_conv_forward(Tape *tape, DeepConv *model, Tensor *x, Tensor **z);
Classifier deep_conv_as_classifier(DeepConv *model);
// The weight of layer l (0-based: conv[l], or fc for l = L − 1).
const Tensor *deep_conv_weight(const DeepConv *model, int l);

#endif
