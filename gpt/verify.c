// gpt/verify.h: the C GPT-2 against a PyTorch reference's debug state.
#include "gpt/verify.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/optimizer.h"

TensorComparison compare_tensors(const float *ours, const float *reference, long n) {
    TensorComparison c = {0.0, 0.0, 0.0};
    for (long i = 0; i < n; i++) {
        c.largest = fmax(c.largest, fabs((double)reference[i]));
        c.max_difference = fmax(c.max_difference, fabs((double)ours[i] - reference[i]));
    }
    c.relative = c.largest > 0.0 ? c.max_difference / c.largest : c.max_difference;
    return c;
}

// One forward with targets and its backward into zeroed grads.
static int loss_and_gradients(Model *model, const DebugState *state, Error *error) {
    if (model->ops->forward(model, state->inputs, state->targets, state->B, state->T, error)) return -1;
    memset(model->grads, 0, sizeof(float) * (size_t)model->n_params);
    return model_backward(model, error);
}

static int adamw_steps(Model *model, const DebugState *state, int steps, float lr, const double *expected_losses,
                       int n_expected, Gpt2Verification *out, Error *error) {
    Optimizer optimizer;
    OptimizerConfig config = optimizer_default_config(OPTIMIZER_ADAMW);
    config.beta1 = 0.9f, config.beta2 = 0.999f, config.eps = 1e-8f, config.weight_decay = 0.01f;
    if (optimizer_init(&optimizer, &config, model->n_params, error)) return -1;
    int status = 0;
    for (int step = 0; step < steps && status == 0; step++) {
        if ((status = loss_and_gradients(model, state, error))) break;
        optimizer_step(&optimizer, model->params, model->grads, model->n_params, lr);
        out->step_losses[out->steps_done++] = model->loss;
        if (step < n_expected)
            out->failures += fabs(model->loss - expected_losses[step]) / fabs(expected_losses[step]) >
                             VERIFY_STEP_LOSS_TOLERANCE;
    }
    optimizer_free(&optimizer);
    return status;
}

int gpt2_verify(Model *model, const DebugState *state, int steps, float lr, const double *expected_losses,
                int n_expected, Gpt2Verification *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (steps < 0 || steps > VERIFY_MAX_STEPS) return error_set(error, "verify: steps %d outside 0..%d", steps, VERIFY_MAX_STEPS);
    if (model_prepare(model, state->B, state->T, 1, error) || loss_and_gradients(model, state, error)) return -1;
    out->logits_difference = compare_tensors(model->logits, state->logits, (long)state->B * state->T * state->V).max_difference;
    out->failures += !(out->logits_difference <= VERIFY_LOGITS_TOLERANCE);
    out->loss = model->loss;
    out->reference_loss = state->loss;
    out->loss_relative = fabs((double)model->loss - state->loss) / fabs((double)state->loss);
    out->failures += !(out->loss_relative <= VERIFY_LOSS_TOLERANCE);
    out->gradients = malloc(sizeof(TensorComparison) * (size_t)model->n_tensors);
    if (!out->gradients) return error_set(error, "verify: out of memory");
    out->n_gradients = model->n_tensors;
    for (int t = 0; t < model->n_tensors; t++) {
        const TensorInfo *tensor = &model->tensors[t];
        out->gradients[t] = compare_tensors(model->grads + tensor->offset, state->grads + tensor->offset, tensor->size);
        out->failures += !(out->gradients[t].relative <= VERIFY_GRADIENT_TOLERANCE);
    }
    return adamw_steps(model, state, steps, lr, expected_losses, n_expected, out, error);
}

void gpt2_verification_free(Gpt2Verification *verification) {
    free(verification->gradients);
    memset(verification, 0, sizeof *verification);
}

int verify_read_expected_losses(const char *path, double *losses, int max, Error *error) {
    FILE *file = fopen(path, "r");
    if (!file) return error_set(error, "%s: cannot open: %s", path, strerror(errno));
    int n = 0, step;
    double loss;
    while (n < max && fscanf(file, " step %d loss %lf", &step, &loss) == 2 && step == n) losses[n++] = loss;
    fclose(file);
    return n;
}
