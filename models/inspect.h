// What a trained convolutional classifier computes for one image: the feature maps of each
// convolution layer, and the saliency map of Simonyan, Vedaldi and Zisserman, "Deep inside
// convolutional networks: visualising image classification models and saliency maps"
// (arXiv:1312.6034, 2013):
//
//   w = ∂S_c/∂x at the image x,   M_ij = max_k |w_kij|
//
// with S_c the class score (the logit, before the softmax) of class c, k the input channel and
// (i, j) the pixel: how much a small change of each pixel moves the score. One backward pass
// of the network gives it (its first-order Taylor expansion around x).
//
// Works for any Classifier (nn/trainer.h) without knowing its layers: the forward runs on a
// recording tape with the image marked as needing a gradient, and every node of the tape whose
// operation is "conv2d" is a convolution layer, in the order computed; its output is the layer's
// feature maps (before any normalisation or activation that follows) and its weight is found
// among the model's Parameters by pointer, which gives the layer's state_dict name ("conv1",
// "layer1.0.conv2", "layer2.0.downsample.0"). Batch norm and dropout are in evaluation mode.
#ifndef MODELS_INSPECT_H
#define MODELS_INSPECT_H

#include "nn/trainer.h"

enum { INSPECT_MAX_LAYERS = 64 };

typedef struct FeatureMaps {
    char name[PARAMETER_NAME_MAX];  // the layer's name: its weight's name without ".weight"
    int channels, height, width;
    float *values;                  // (channels, height, width)
} FeatureMaps;

typedef struct Inspection {
    int channels, height, width;   // the image's
    int n_classes;
    float *logits;                 // (n_classes)
    int predicted;                 // argmax of the logits
    int target;                    // the class whose score was differentiated
    int n_layers;                  // convolution layers, in the order computed
    FeatureMaps layers[INSPECT_MAX_LAYERS];
    const Tensor *first_weight;    // the first convolution's weight (OC, C/groups, KH, KW), the model's tensor
    float *gradient;               // (channels, height, width): ∂S_target/∂x
    float *saliency;               // (height, width): max over channels of |gradient|
} Inspection;

// Runs the classifier on one image x (channels, height, width) and fills out (free it with
// inspection_free). target: the class whose score S_c is differentiated, or -1 for the
// predicted one. Errors: the model's own for an image it does not take ("lenet5: input ...
// the model takes ..."), no convolution layer in the model, more than INSPECT_MAX_LAYERS of
// them, a target outside the classes, non-finite logits, out of memory.
int classifier_inspect(const Classifier *classifier, const float *x, int channels, int height, int width, int target,
                       Inspection *out, Error *error);
void inspection_free(Inspection *inspection);

// The class score S_c (logit) of class c for one image x (channels, height, width), in
// evaluation mode without recording: what the saliency differentiates (the tests' finite
// differences use it). Errors: as classifier_inspect's.
int classifier_class_score(const Classifier *classifier, const float *x, int channels, int height, int width, int c,
                           float *score, Error *error);

#endif
