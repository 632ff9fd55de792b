// AlexNet: the convolutional network of Krizhevsky, Sutskever and Hinton, "ImageNet
// classification with deep convolutional neural networks", NIPS 2012, scaled to 28×28
// single-channel images and built on nn/.
//
//   h1 = maxpool₃,₂(lrn(relu(conv1(x))))     conv1: C1 filters 5×5, padding 2: 28×28 -> 28, pool -> 13
//   h2 = maxpool₃,₂(lrn(relu(conv2(h1))))    conv2: C2 filters 5×5, padding 2: 13 -> 13, pool -> 6
//   h3 = relu(conv3(h2)), h4 = relu(conv4(h3))     3×3, padding 1: 6 -> 6
//   h5 = maxpool₃,₂(relu(conv5(h4)))         3×3, padding 1, pool 6 -> 2
//   logits = fc3(relu(fc2(dropout(relu(fc1(dropout(flatten(h5))))))))   fc1: C5·2·2 -> F1, fc2: F1 -> F2
// trained by minimising the mean cross-entropy −log softmax(logits)_y over the batch.
//   maxpool₃,₂ is the paper's overlapping pooling (3×3 windows every 2 pixels); lrn the paper's
//   local response normalisation across channels, b_c = a_c / (k + α Σ_{c' within n/2 of c} a_c'²)^β
//   with n = 5, k = 2, α = 1e-4, β = 0.75 (§3.3); dropout p = 0.5 before fc1 and fc2 (§4.2).
//
// What differs from the paper: 1×28×28 inputs instead of 3×224×224 crops, so conv1 is 5×5
// stride 1 (not 11×11 stride 4) and conv2's pooled output is 6×6 and conv5's 2×2 (not 13×13
// and 6×6); the widths are about a quarter of the paper's, 24-64-96-96-64 convolution channels
// and 256-256 fully connected units (96-256-384-384-256 and 4096-4096), configurable; one
// device, so no split of the layers into two GPU halves with the paper's partial connections
// between them (every conv sees all channels of the layer below); no PCA colour augmentation or
// crops; PyTorch's default initialisation instead of N(0, 0.01) weights and biases of 1; Adam
// by default (`groundup train`) instead of SGD with momentum 0.9 and weight decay 5e-4.
// PyTorch's LocalResponseNorm divides α by n, so the reference uses alpha = n·α = 5e-4 for the
// paper's formula.
//
// Names: torchvision's AlexNet keeps its layers in two nn.Sequential, `features` and
// `classifier`; here the same, with the paper's two LocalResponseNorm layers inserted after the
// first two ReLUs (torchvision drops them), so the indices of a Sequential give the names:
//   features  0 conv1, 1 ReLU, 2 LRN, 3 MaxPool, 4 conv2, 5 ReLU, 6 LRN, 7 MaxPool, 8 conv3,
//             9 ReLU, 10 conv4, 11 ReLU, 12 conv5, 13 ReLU, 14 MaxPool
//   classifier 0 Dropout, 1 fc1, 2 ReLU, 3 Dropout, 4 fc2, 5 ReLU, 6 fc3
// so the parameters are features.{0,4,8,10,12}.{weight,bias} and classifier.{1,4,6}.{weight,bias}
// (tools/reference/cnn_reference.py --arch alexnet). torchvision's adaptive average pool
// before the classifier is left out: at 28×28 the maps are already 2×2.
#ifndef MODELS_ALEXNET_H
#define MODELS_ALEXNET_H

#include "foundations/safetensors.h"
#include "nn/module.h"
#include "nn/trainer.h"

enum { ALEXNET_CONVS = 5, ALEXNET_IMAGE_SIZE = 28 };

typedef struct AlexnetConfig {
    int in_channels;              // 1 for MNIST
    int conv[ALEXNET_CONVS];      // C1..C5 filters
    int fc1, fc2;                 // F1, F2 units
    int classes;
    float dropout;                // p of both dropouts while training, in [0, 1)
} AlexnetConfig;

typedef struct Alexnet {
    AlexnetConfig config;
    Conv2d conv[ALEXNET_CONVS];   // features.0, 4, 8, 10, 12
    Linear fc1, fc2, fc3;         // classifier.1, 4, 6
    Parameters params;
    Random dropout_rng;           // the dropout masks while training
    char dropout_text[24];        // config.dropout as the metadata records it
} Alexnet;

// The paper's local response normalisation constants (§3.3), as torch.nn.LocalResponseNorm's
// arguments: size n, alpha n·α, beta, k.
extern const int ALEXNET_LRN_SIZE;
extern const float ALEXNET_LRN_ALPHA, ALEXNET_LRN_BETA, ALEXNET_LRN_K;

// 1×28×28 in, 24-64-96-96-64 channels, 256-256 units, 10 classes, dropout 0.5.
AlexnetConfig alexnet_default_config(void);
// PyTorch's default initialisation from rng (and the dropout generator seeded from it).
// Errors: a size below 1, dropout outside [0, 1).
int alexnet_create(Alexnet *model, const AlexnetConfig *config, Random *rng, Error *error);
// The sizes read from the state_dict's shapes (features.0.weight (C1, in, 5, 5), ...,
// classifier.1.weight (F1, C5·2·2), classifier.6.weight (classes, F2)) and the metadata
// "dropout" (0.5 when absent, torchvision's), then the weights loaded; every error names the
// file and the tensor.
int alexnet_from_file(Alexnet *model, const Safetensors *file, const char *path, Error *error);
void alexnet_free(Alexnet *model);

// x (N, in_channels, 28, 28) -> logits (N, classes). training: dropout on (evaluation: the
// identity). A NULL result and the tape's error for an input of another shape.
Tensor *alexnet_forward(Tape *tape, Alexnet *model, Tensor *x, int training);
Classifier alexnet_as_classifier(Alexnet *model);

#endif
