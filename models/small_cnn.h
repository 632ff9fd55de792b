// The small convolutional network of the normalisation and dropout experiments
// (models/vision_experiments.h): two convolution stages and two fully connected layers,
//
//   h1 = pool(relu(norm1(conv1(x))))     conv1: C1 filters 3×3, padding 1; max-pool 2 (28 -> 14)
//   h2 = pool(relu(norm2(conv2(h1))))    conv2: C2 filters 3×3, padding 1; max-pool 2 (14 -> 7)
//   logits = fc2(dropout(relu(fc1(flatten(h2)))))
//
// trained by minimising the mean cross-entropy −log softmax(logits)_y. norm is one of:
//   none;
//   batch norm (Ioffe and Szegedy 2015): per channel over (N, H, W), batch statistics in
//     training, running ones in evaluation (BatchNorm2d);
//   layer norm (Ba, Kiros and Hinton 2016) over each example's (C, H, W) with a weight and bias
//     per channel — GroupNorm with 1 group, what PyTorch's usual "LayerNorm for CNNs" is;
//   group norm (Wu and He 2018): each example's channels in G groups, each group normalised over
//     its (C/G, H, W).
// Dropout (Srivastava et al. 2014) with probability p after fc1's ReLU, in training only.
// Convolutions have a bias only without normalisation (a normalisation's bias replaces it).
// Initialisation: PyTorch's defaults. Names: conv1, norm1, conv2, norm2, fc1, fc2.
#ifndef MODELS_SMALL_CNN_H
#define MODELS_SMALL_CNN_H

#include "nn/module.h"
#include "nn/trainer.h"

typedef enum { NORM_NONE, NORM_BATCH, NORM_LAYER, NORM_GROUP, NORM_KIND_COUNT } NormKind;

typedef struct SmallCnnConfig {
    int in_channels, image_size;  // image_size divisible by 4
    int conv1, conv2;             // C1, C2 channels
    int hidden;                   // fc1's units
    int classes;
    NormKind norm;
    int groups;                   // group norm's G (dividing C1 and C2)
    float dropout;                // p, 0 for none
} SmallCnnConfig;

typedef struct SmallCnn {
    SmallCnnConfig config;
    Conv2d conv1, conv2;
    BatchNorm2d bn1, bn2;         // NORM_BATCH
    GroupNorm gn1, gn2;           // NORM_LAYER (1 group) and NORM_GROUP
    Linear fc1, fc2;
    Parameters params;
    Random dropout_rng;
} SmallCnn;

// "none", "batch", "layer", "group".
const char *norm_kind_name(NormKind kind);
// Errors: sizes below 1, an image side not divisible by 4, G not dividing C1 and C2, p outside [0, 1).
int small_cnn_create(SmallCnn *model, const SmallCnnConfig *config, Random *rng, Error *error);
void small_cnn_free(SmallCnn *model);
// x (N, in_channels, S, S) -> logits (N, classes); training: batch statistics and dropout.
Tensor *small_cnn_forward(Tape *tape, SmallCnn *model, Tensor *x, int training);
Classifier small_cnn_as_classifier(SmallCnn *model);

#endif
