// XOR, the function a single-layer perceptron cannot represent (Minsky and Papert 1969): the
// smallest network that learns it, 2-2-1 with a tanh hidden layer, trained from scratch.
//
//   p(x) = σ(fc2(tanh(fc1(x)))),  loss = mean binary cross-entropy over the four points
//   (0,0) → 0, (0,1) → 1, (1,0) → 1, (1,1) → 0
// Two hidden units are the minimum: each draws a line, and XOR's positive points lie between
// two lines. Full-batch Adam; PyTorch's default init. Some initialisations get stuck (a hidden
// unit that saturates): xor_train reports whether this one solved it.
#ifndef MODELS_XOR_H
#define MODELS_XOR_H

#include "nn/module.h"

typedef struct XorNet {
    Linear fc1, fc2;  // (2 → 2), (2 → 1)
    Parameters params;
} XorNet;

typedef struct XorResult {
    int solved;           // every point on its side of 0.5 with a margin: p < 0.1 or p > 0.9
    int steps_to_solve;   // the first step after which it stayed solved (-1: never)
    float final_loss;
    float probabilities[4];  // p at (0,0), (0,1), (1,0), (1,1)
} XorResult;

// Creates the net from seed and trains it for steps full-batch Adam steps at lr.
int xor_train(XorNet *net, unsigned long long seed, int steps, float lr, XorResult *result, Error *error);
void xor_free(XorNet *net);
// p at (x, y) for a trained net.
float xor_probability(const XorNet *net, float x, float y);
// The decision boundary as an SVG: p over [-0.5, 1.5]² as a blue (0) to red (1) field on a
// grid of cells, the p = 0.5 boundary cells outlined, and the four points with their classes.
int xor_write_svg(const XorNet *net, const char *path, Error *error);

#endif
