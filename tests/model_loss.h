// The loss of a model on a fixed batch as a function of its parameters, for gradient checks
// of whole models (tests/test_bigram.c, test_mlp.c, test_gpt2.c). The mean cross-entropy is
// recomputed from the logits in double, so the finite differences are not limited by the
// rounding of a float mean.
#ifndef TESTS_MODEL_LOSS_H
#define TESTS_MODEL_LOSS_H

#include <math.h>

#include "gpt/model.h"

typedef struct ModelLoss {
    Model *model;
    const int *inputs, *targets;  // (B,T)
    int B, T;
} ModelLoss;

// For foundations/gradcheck.h: the loss at the model's current parameters (NaN on error).
static double model_loss(void *context) {
    ModelLoss *c = context;
    Error error;
    if (c->model->ops->forward(c->model, c->inputs, c->targets, c->B, c->T, &error)) return NAN;
    int V = c->model->config.vocab_size, N = c->B * c->T;
    double total = 0.0;
    for (int n = 0; n < N; n++) {
        const float *x = c->model->logits + (long)n * V;
        double max = x[0], sum = 0.0;
        for (int v = 1; v < V; v++) max = x[v] > max ? x[v] : max;
        for (int v = 0; v < V; v++) sum += exp(x[v] - max);
        total += max + log(sum) - x[c->targets[n]];
    }
    return total / N;
}

#endif
