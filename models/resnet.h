// ResNet: the residual network of He, Zhang, Ren and Sun, "Deep residual learning for image
// recognition", CVPR 2016 (arXiv:1512.03385, 2015), with torchvision's BasicBlock, built on nn/.
//
// A block learns a residual F(x) = bn2(conv2(relu(bn1(conv1(x))))) and outputs
//   y = relu(F(x) + x)                                   when the shape stays,
//   y = relu(F(x) + bn(conv_1×1,stride s(x)))            when it changes (downsample, option B),
// with 3×3 convolutions without bias (batch norm follows each). The network:
//   conv1 3×3 (W filters, no bias) -> bn1 -> relu -> layer1 … layerS -> global average pool -> fc
// where stage k has width W·2^(k−1) (as read from the tensors) and its first block has stride 2
// for k > 1 (halving the resolution). Trained by minimising the mean cross-entropy
// −log softmax(logits)_y; batch norm (Ioffe and Szegedy 2015) uses the batch's statistics in
// training and the running ones (momentum 0.1, unbiased variance) in evaluation.
//
// What differs from the paper: its ImageNet stem (7×7 stride-2 convolution and a max-pool) is a
// single 3×3 stride-1 convolution, as in its own CIFAR-10 networks, for 28×28 inputs; the
// shortcut is the projection (option B) wherever the shape changes, as torchvision does; the
// depth and width are small and configurable (the paper's CIFAR networks: width 16, 3 stages of
// n blocks). Initialisation is torchvision's: conv weights kaiming_normal (fan_out, relu), batch
// norm weight 1 and bias 0, fc PyTorch's Linear default.
//
// Names are torchvision's state_dict names: conv1, bn1, layer1.0.conv1, layer1.0.bn1,
// layer1.0.conv2, layer1.0.bn2, layer2.0.downsample.0 (the 1×1 conv), layer2.0.downsample.1
// (its batch norm), …, fc; each batch norm with weight, bias, running_mean, running_var and
// num_batches_tracked.
#ifndef MODELS_RESNET_H
#define MODELS_RESNET_H

#include "foundations/safetensors.h"
#include "nn/module.h"
#include "nn/trainer.h"

enum { RESNET_MAX_STAGES = 6, RESNET_MAX_BLOCKS = 8 };

typedef struct ResnetConfig {
    int in_channels;                 // 1 for MNIST
    int n_stages;                    // S
    int widths[RESNET_MAX_STAGES];   // channels of each stage (the stem has widths[0])
    int blocks[RESNET_MAX_STAGES];   // BasicBlocks per stage
    int classes;
    int no_skip;                     // 1: no shortcuts at all, y = relu(F(x)) (the "no-short" networks of
                                     // Li et al. 2018's loss landscapes); resnet_config sets 0
} ResnetConfig;

typedef struct BasicBlock {
    Conv2d conv1, conv2;
    BatchNorm2d bn1, bn2;
    int has_downsample;              // the shape changes: downsample.0 (conv 1×1) and .1 (batch norm)
    int no_skip;                     // the config's no_skip: no shortcut, no downsample
    Conv2d downsample_conv;
    BatchNorm2d downsample_bn;
} BasicBlock;

typedef struct Resnet {
    ResnetConfig config;
    Conv2d conv1;
    BatchNorm2d bn1;
    BasicBlock layers[RESNET_MAX_STAGES][RESNET_MAX_BLOCKS];  // layers[k][b] is layer(k+1).b
    Linear fc;
    Parameters params;
} Resnet;

// A ResNet of S stages with `width` channels in the first and twice the previous in each next,
// blocks[k] BasicBlocks in stage k. Errors: S outside 1..RESNET_MAX_STAGES, a count outside
// 1..RESNET_MAX_BLOCKS, a width below 1.
int resnet_config(ResnetConfig *config, int in_channels, int width, const int *blocks, int n_stages, int classes,
                  Error *error);
// torchvision's initialisation from rng.
int resnet_create(Resnet *model, const ResnetConfig *config, Random *rng, Error *error);
// The configuration read from the state_dict (conv1.weight (W, in, 3, 3); stage k's width from
// layerk.0.conv1.weight, its blocks counted up to the first missing layerk.b; fc.weight
// (classes, width)), then the weights and buffers loaded; every error names file and tensor.
int resnet_from_file(Resnet *model, const Safetensors *file, const char *path, Error *error);
void resnet_free(Resnet *model);

// x (N, in_channels, H, W), any H, W >= 1 -> logits (N, classes). training: batch statistics,
// the running ones updated and num_batches_tracked counted; otherwise the running statistics.
Tensor *resnet_forward(Tape *tape, Resnet *model, Tensor *x, int training);
Classifier resnet_as_classifier(Resnet *model);

#endif
