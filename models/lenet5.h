// LeNet-5: the convolutional network of LeCun, Bottou, Bengio and Haffner, "Gradient-based
// learning applied to document recognition", Proc. IEEE 86(11), 1998, built on nn/.
//
//   h1 = pool(σ(conv1(x)))         conv1: C1 filters 5×5, padding 2 (28×28 stays 28×28), pool 2 -> 14×14
//   h2 = pool(σ(conv2(h1)))        conv2: C2 filters 5×5 (14×14 -> 10×10), pool 2 -> 5×5
//   logits = fc3(σ(fc2(σ(fc1(flatten(h2))))))     fc1: C2·5·5 -> F1, fc2: F1 -> F2, fc3: F2 -> classes
// trained by minimising the mean cross-entropy −log softmax(logits)_y over the batch.
//
// What differs from the paper: σ is ReLU and pool is max-pooling by default (the common modern
// form, PyTorch's tutorial LeNet); the original's scaled tanh and average pooling ("subsampling")
// are the `original` variant, with plain tanh and plain averages (no trainable coefficient and
// bias per subsampling map). The paper's partial connection table between S2 and C3 (each C3
// map sees a subset of S2's) is full here; its RBF output layer with Euclidean distances to
// fixed codes is a linear layer with softmax cross-entropy; its 32×32 padded input is a 28×28
// image with padding 2 in conv1. Sizes (6, 16, 120, 84 in the paper) are configurable.
//
// Names are the PyTorch reference's (tools/reference/cnn_reference.py): conv1, conv2, fc1,
// fc2, fc3, each .weight and .bias, so state_dicts move both ways.
#ifndef MODELS_LENET5_H
#define MODELS_LENET5_H

#include "foundations/safetensors.h"
#include "nn/module.h"
#include "nn/trainer.h"

typedef struct Lenet5Config {
    int in_channels;  // 1 for MNIST
    int image_size;   // height = width of the input: 28 (must give a positive side after the second pool)
    int conv1, conv2; // C1, C2 filters
    int fc1, fc2;     // F1, F2 units
    int classes;
    int original;     // 1: tanh and average pooling; 0: ReLU and max-pooling
} Lenet5Config;

typedef struct Lenet5 {
    Lenet5Config config;
    Conv2d conv1, conv2;
    Linear fc1, fc2, fc3;
    Parameters params;
} Lenet5;

// The paper's sizes on MNIST: 1×28×28 in, 6, 16, 120, 84, 10 classes, ReLU and max-pooling.
Lenet5Config lenet5_default_config(void);
// PyTorch's default initialisation from rng. Errors: a size below 1, an image too small for two
// 5×5 convolutions and two poolings (image_size < 12).
int lenet5_create(Lenet5 *model, const Lenet5Config *config, Random *rng, Error *error);
// The sizes read from the state_dict's shapes (conv1.weight (C1, in, 5, 5), conv2.weight,
// fc1.weight (F1, C2·s·s): the image side 4s + 8, fc2, fc3) and the metadata "variant"
// ("tanh-avg" for the original, otherwise "relu-max"), then the weights loaded; every error
// names the file and the tensor.
int lenet5_from_file(Lenet5 *model, const Safetensors *file, const char *path, Error *error);
void lenet5_free(Lenet5 *model);
// "relu-max" or "tanh-avg", as the metadata records it.
const char *lenet5_variant(const Lenet5 *model);

// x (N, in_channels, image_size, image_size) -> logits (N, classes). training is unused (no
// dropout or batch norm). A NULL result and the tape's error for an input of another shape.
Tensor *lenet5_forward(Tape *tape, Lenet5 *model, Tensor *x, int training);
Classifier lenet5_as_classifier(Lenet5 *model);

#endif
