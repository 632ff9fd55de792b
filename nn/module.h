// Modules: the layers a network is composed of, each a struct of parameter tensors and an
// `_apply` that composes operations (nn/ops.h). A model is a struct of modules; its tensors are
// registered, in order, in one Parameters list under PyTorch's state_dict names ("fc1.weight",
// "bn1.running_mean"), which is what the optimizer, the initialisers and the safetensors
// reader and writer (nn/state_dict.h) walk.
//
// Initialisation follows PyTorch's defaults: Linear's weight and bias uniform in ±1/√in_features
// and Conv2d's in ±1/√(in/groups·k²) (kaiming_uniform with a = √5), Embedding normal(0, 1),
// LayerNorm, BatchNorm and GroupNorm weight 1 and bias 0, running mean 0 and variance 1. nn/init.h has the others.
#ifndef NN_MODULE_H
#define NN_MODULE_H

#include "foundations/random.h"
#include "nn/ops.h"
#include "nn/tensor.h"

enum { PARAMETER_NAME_MAX = 96 };

// One registered tensor. Buffers (running statistics) are saved and loaded but not trained.
typedef struct NamedTensor {
    char name[PARAMETER_NAME_MAX];
    Tensor *tensor;
    int is_buffer;
} NamedTensor;

typedef struct Parameters {
    int count, capacity;
    NamedTensor *entries;  // (count), in registration order
} Parameters;

// Registers a new zeroed tensor "<prefix>.<name>" (just name when prefix is empty) and returns
// it, or NULL on a duplicate name, a bad shape or out of memory.
Tensor *parameters_add(Parameters *params, const char *prefix, const char *name, int n_dims, const int *shape,
                       int is_buffer, Error *error);
void parameters_free(Parameters *params);
// The tensor of that name, or NULL.
Tensor *parameters_find(const Parameters *params, const char *name);
// Zeroes every trainable gradient (before a backward: gradients accumulate).
void parameters_zero_grad(Parameters *params);
// Number of trainable values.
long parameters_count(const Parameters *params);
// The trainable values in registration order into flat (parameters_count floats), and back:
// a snapshot of the weights to restore later (early stopping, rewinding, moving along a line).
void parameters_gather(const Parameters *params, float *flat);
void parameters_scatter(Parameters *params, const float *flat);
// The same for a part: the trainable values, their gradients (data-parallel training averages
// them across processes as one flat buffer), or the buffers' values (running statistics).
typedef enum { PARAMETERS_VALUES, PARAMETERS_GRADIENTS, PARAMETERS_BUFFERS } ParametersPart;
// Floats in the part (parameters_count for values and gradients).
long parameters_part_size(const Parameters *params, ParametersPart part);
void parameters_gather_part(const Parameters *params, ParametersPart part, float *flat);
void parameters_scatter_part(Parameters *params, ParametersPart part, const float *flat);
// √(Σ grad²) over every trainable tensor; when above max_norm (> 0) the gradients are scaled by
// max_norm / norm (torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
float parameters_clip_grad_norm(Parameters *params, float max_norm);

// ---------------------------------------------------------------------------------------
// Linear: x (..., in) -> (..., out) = x Wᵀ + b; weight (out, in), bias (out) or none.
typedef struct Linear {
    Tensor *weight, *bias;
    int in_features, out_features;
} Linear;
int linear_init(Linear *layer, Parameters *params, const char *name, int in_features, int out_features, int bias,
                Random *rng, Error *error);
Tensor *linear_apply(Tape *tape, const Linear *layer, Tensor *x);

// Embedding: ids (shape) in [0, V) -> (shape..., C); weight (V, C).
typedef struct Embedding {
    Tensor *weight;
    int num_embeddings, embedding_dim;
} Embedding;
int embedding_init(Embedding *layer, Parameters *params, const char *name, int num_embeddings, int embedding_dim,
                   Random *rng, Error *error);
Tensor *embedding_apply(Tape *tape, const Embedding *layer, const int *ids, int id_dims, const int *id_shape);

// LayerNorm over the last dimension (C): weight (C), bias (C), eps 1e-5.
typedef struct LayerNorm {
    Tensor *weight, *bias;
} LayerNorm;
int layer_norm_init(LayerNorm *layer, Parameters *params, const char *name, int C, Error *error);
Tensor *layer_norm_apply(Tape *tape, const LayerNorm *layer, Tensor *x);

// BatchNorm1d over C channels of (N,C) or (N,C,L): weight (C) 1, bias (C) 0, and the buffers
// running_mean (C) 0, running_var (C) 1 and num_batches_tracked (a scalar, as PyTorch's state_dict).
typedef struct BatchNorm1d {
    Tensor *weight, *bias, *running_mean, *running_var, *num_batches_tracked;
} BatchNorm1d;
int batch_norm_init(BatchNorm1d *layer, Parameters *params, const char *name, int C, Error *error);
// training: batch statistics, the running ones updated and num_batches_tracked counted.
Tensor *batch_norm_apply(Tape *tape, const BatchNorm1d *layer, Tensor *x, int training);

// BatchNorm2d: the same module over x (N,C,H,W) (nn_batch_norm takes both).
typedef BatchNorm1d BatchNorm2d;

// Conv2d: x (N,in,H,W) -> (N,out,H',W') (nn_conv2d); weight (out, in/groups, k, k), bias (out)
// or none. PyTorch's default init: weight and bias uniform in ±1/√(in/groups·k²)
// (kaiming_uniform with a = √5). Fails on sizes below 1 (padding below 0) or channels not
// divisible by groups.
typedef struct Conv2d {
    Tensor *weight, *bias;
    int in_channels, out_channels, kernel_size, stride, padding, dilation, groups;
} Conv2d;
int conv2d_init(Conv2d *layer, Parameters *params, const char *name, int in_channels, int out_channels,
                int kernel_size, int stride, int padding, int dilation, int groups, int bias, Random *rng, Error *error);
Tensor *conv2d_apply(Tape *tape, const Conv2d *layer, Tensor *x);

// GroupNorm over groups of the C channels of x (N,C,...): weight (C) 1, bias (C) 0, eps 1e-5.
typedef struct GroupNorm {
    Tensor *weight, *bias;
    int groups;
} GroupNorm;
int group_norm_init(GroupNorm *layer, Parameters *params, const char *name, int groups, int C, Error *error);
Tensor *group_norm_apply(Tape *tape, const GroupNorm *layer, Tensor *x);

// Dropout with probability p while training.
typedef struct Dropout {
    float p;
} Dropout;
Tensor *dropout_apply(Tape *tape, const Dropout *layer, Tensor *x, int training, Random *rng);

#endif
