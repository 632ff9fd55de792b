// The feedforward network (multilayer perceptron) classifier on images, built on nn/.
//
//   h_0 = flatten(x),  h_i = relu(fc_i(h_(i-1))) for i < N,  logits = fc_N(h_(N-1))
// trained by minimising the mean cross-entropy −log softmax(logits)_y (Rumelhart, Hinton and
// Williams 1986; the MNIST setting of LeCun et al. 1998). Layers are named fc1 … fcN as in
// the PyTorch reference (tools/reference/mlp_reference.py), so state_dicts move both ways.
// Optionally each hidden layer gets batch normalisation before its ReLU (bn1 … bn(N−1):
// h_i = relu(bn_i(fc_i(h_(i-1))))) and dropout after it (Ioffe and Szegedy 2015; Srivastava
// et al. 2014); both act differently in training and evaluation.
#ifndef MODELS_MLP_H
#define MODELS_MLP_H

#include "foundations/safetensors.h"
#include "nn/module.h"
#include "nn/state_dict.h"
#include "nn/trainer.h"

enum { MLP_MAX_LAYERS = 8 };

typedef struct MlpOptions {
    int batch_norm;  // BatchNorm1d after each hidden Linear
    float dropout;   // dropout probability after each hidden ReLU (0: none)
} MlpOptions;

typedef struct Mlp {
    int n_layers;                    // N linear layers
    int sizes[MLP_MAX_LAYERS + 1];   // input, hidden..., classes (784, 256, 128, 10)
    MlpOptions options;
    Linear fc[MLP_MAX_LAYERS];
    BatchNorm1d bn[MLP_MAX_LAYERS];  // bn[i] after fc[i], i < N − 1, with options.batch_norm
    Random dropout_rng;              // dropout's masks while training
    Parameters params;
} Mlp;

// sizes (n_sizes = N + 1 >= 2), options (NULL: none), PyTorch's default initialisation from rng.
int mlp_classifier_create(Mlp *mlp, const int *sizes, int n_sizes, const MlpOptions *options, Random *rng,
                          Error *error);
// The architecture read from a state_dict's shapes (fc1.weight (h1, in), fc2.weight (h2, h1), …
// up to the first missing fcK.weight; batch norm when bn1.weight is there) and the weights
// loaded; every error names the file and the tensor (missing, wrong shape, unknown).
int mlp_classifier_from_file(Mlp *mlp, const Safetensors *file, const char *path, Error *error);
int mlp_classifier_load(Mlp *mlp, const char *path, Error *error);
void mlp_classifier_free(Mlp *mlp);

// x (B, ...) with sizes[0] values per example -> logits (B, classes). training: batch
// statistics (and the running ones updated) and dropout; otherwise running statistics, no dropout.
Tensor *mlp_classifier_forward(Tape *tape, Mlp *mlp, Tensor *x, int training);
// The Classifier of nn/trainer.h for this model.
Classifier mlp_as_classifier(Mlp *mlp);

#endif
