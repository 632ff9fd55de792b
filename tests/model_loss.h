// The loss of a model on a fixed batch as a function of its parameters, for gradient checks
// of whole models (tests/test_bigram.c, test_mlp.c, test_gpt2.c). The mean cross-entropy is
// recomputed from the logits in double, so the finite differences are not limited by the
// rounding of a float mean.
#ifndef TESTS_MODEL_LOSS_H
#define TESTS_MODEL_LOSS_H

#include <math.h>

#include "foundations/gradcheck.h"
#include "gpt/model.h"
#include "tests/check.h"

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

// Checks analytic (the model's n_params gradients at the current parameters) against central
// differences of model_loss, tensor by tensor (h 1e-2; relative error under 2e-2, measured
// against a floor of 1e-2 where both gradients are near zero), naming the tensor that fails.
static inline void check_gradients_by_tensor(ModelLoss *context, const float *analytic) {
    Model *model = context->model;
    for (int t = 0; t < model->n_tensors; t++) {
        const TensorInfo *tensor = &model->tensors[t];
        GradcheckResult r = gradcheck(model_loss, context, model->params + tensor->offset, analytic + tensor->offset,
                                      tensor->size, 1e-2f, 1e-2);
        CHECK(r.max_rel_error < 2e-2, "d_%s: relative error %g at %ld (abs %g)", tensor->name, r.max_rel_error,
              r.worst_index, r.max_abs_error);
    }
}

#endif
