// A graph convolutional network (Kipf and Welling 2017, "Semi-supervised classification with
// graph convolutional networks") for node classification with few labels.
//
// One layer mixes each node's features with its neighbours' through the renormalised adjacency
// Â = D̃^−½ (A + I) D̃^−½ (models/graph.h), a first-order approximation of a spectral filter:
//   H¹ = ReLU(Â X W⁰),   E = tanh(Â H¹ W¹) (a 2-D embedding),   p(class | node) = softmax(E W² + b²)
// trained by cross-entropy on the labelled nodes only; the graph carries the labels to the
// others. X is the identity (featureless nodes: each node's one-hot index, as the paper does
// for the karate club).
//
// Against the paper's two-layer model Z = Â ReLU(Â X W⁰) W¹: the second layer outputs a 2-D
// embedding E that a linear read-out classifies (the paper's karate-club figure likewise
// plots a 2-D hidden layer), so the picture shows what the convolutions learned with any
// number of classes. Also simplified: no dropout, full-batch Adam with weight decay 5e-4 on
// W⁰ only (as the paper's), a fixed number of steps instead of early stopping.
#ifndef MODELS_GCN_H
#define MODELS_GCN_H

#include <stdint.h>

#include "models/graph.h"
#include "nn/module.h"

typedef struct Gcn {
    Linear conv1, conv2;  // W⁰ (N → hidden), W¹ (hidden → 2), no biases (the paper's formula)
    Linear classifier;    // W², b² (2 → classes)
    int n_nodes, hidden, n_classes;
    float *adjacency;     // Â (n_nodes, n_nodes)
    Parameters params;    // "conv1.weight", "conv2.weight", "classifier.weight", "classifier.bias"
} Gcn;

// A network for graph with hidden units (>= 1), PyTorch's Linear init from seed.
int gcn_init(Gcn *gcn, const Graph *graph, int hidden, uint64_t seed, Error *error);
void gcn_free(Gcn *gcn);
enum { GCN_EMBEDDING = 2 };
// The class scores (n_nodes, n_classes) of every node, on the tape; *embedding (may be NULL)
// receives E (n_nodes, 2).
Tensor *gcn_forward(Tape *tape, const Gcn *gcn, Tensor **embedding);

typedef struct GcnResult {
    float loss;               // cross-entropy on the labelled nodes after training
    int correct, unlabelled;  // correctly classified unlabelled nodes, of how many
    float *embedding;         // (n_nodes, 2) E after training, malloc'd (the caller frees)
} GcnResult;

// Trains on the nodes labelled[0..n_labelled) (their classes from graph->labels) for steps
// full-batch Adam steps at lr; scores the other nodes. Fails on a labelled node out of range.
int gcn_train(Gcn *gcn, const Graph *graph, const int *labelled, int n_labelled, int steps, float lr, GcnResult *result,
              Error *error);

#endif
