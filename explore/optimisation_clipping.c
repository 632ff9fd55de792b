// Gradient clipping on a network made to explode (explore/optimisation.h): a deep ReLU MLP with
// weights `gain` times He's, trained by SGD without clipping, clipping by norm, clipping by value.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/optimisation.h"
#include "models/vision_experiments.h"
#include "nn/module.h"
#include "nn/ops.h"
#include "nn/optim.h"

enum { CLIPPING_MAX_DEPTH = 32 };

static const char *const MODE_NAMES[N_CLIP_MODES] = {"none", "norm", "value"};

const char *clipping_mode_name(int mode) { return mode >= 0 && mode < N_CLIP_MODES ? MODE_NAMES[mode] : "?"; }

typedef struct DeepNet {
    int depth;
    Linear layers[CLIPPING_MAX_DEPTH + 1];  // depth hidden layers, then the output
    Parameters params;
} DeepNet;

// W ~ N(0, gain² · 2/fan_in) (He et al. 2015 times gain), b = 0, from a generator seeded by seed.
static int deep_net_create(DeepNet *net, const ClippingSetup *s, Error *error) {
    memset(net, 0, sizeof *net);
    net->depth = s->depth;
    Random rng;
    random_seed(&rng, s->seed);
    for (int l = 0; l <= s->depth; l++) {
        char name[16];
        snprintf(name, sizeof name, "fc%d", l + 1);
        int in = l == 0 ? 784 : s->width, out = l == s->depth ? 10 : s->width;
        if (linear_init(&net->layers[l], &net->params, name, in, out, 1, &rng, error)) return -1;
        Linear *layer = &net->layers[l];
        random_fill_normal(&rng, layer->weight->data, layer->weight->size, 0.0f, s->gain * sqrtf(2.0f / in));
        memset(layer->bias->data, 0, sizeof(float) * (size_t)layer->bias->size);
    }
    return 0;
}

// x (B, 784) -> logits (B, 10)
static Tensor *deep_net_forward(Tape *tape, const DeepNet *net, Tensor *x) {
    for (int l = 0; l < net->depth; l++) x = nn_relu(tape, linear_apply(tape, &net->layers[l], x));
    return linear_apply(tape, &net->layers[net->depth], x);
}

// Accuracy on the whole set, in batches of 500 without recording.
static double deep_net_accuracy(const DeepNet *net, const LabelledSet *set) {
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    int correct = 0;
    for (int start = 0; start < set->count; start += 500) {
        int n = set->count - start < 500 ? set->count - start : 500;
        tape_reset(&tape);
        Tensor *logits = deep_net_forward(&tape, net, tensor_from(&tape, set->inputs + (size_t)start * 784, 2, (int[]){n, 784}));
        if (!logits) break;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int k = 1; k < 10; k++)
                if (logits->data[i * 10 + k] > logits->data[i * 10 + best]) best = k;
            correct += best == set->labels[start + i];
        }
    }
    tape_free(&tape);
    return (double)correct / set->count;
}

// The global norm of every trainable gradient.
static float gradients_norm(const Parameters *params) {
    double sum = 0.0;
    for (int i = 0; i < params->count; i++) {
        const Tensor *t = params->entries[i].tensor;
        if (params->entries[i].is_buffer || !t->grad) continue;
        double norm = gradient_global_norm(t->grad, t->size);
        sum += norm * norm;
    }
    return (float)sqrt(sum);
}

// One step: loss, backward, clipping as the mode says, SGD. Returns the loss (NaN on failure).
static float train_step(DeepNet *net, ParamOptimizer *sgd, Tape *tape, const float *inputs, const int *labels,
                        const ClippingSetup *s, int mode, float *grad_norm, float *step_norm) {
    tape_reset(tape);
    Tensor *logits = deep_net_forward(tape, net, tensor_from(tape, inputs, 2, (int[]){s->batch_size, 784}));
    Tensor *loss = nn_cross_entropy(tape, logits, labels, NN_NO_IGNORE, 0.0f);
    Error error;
    if (!loss || !isfinite(loss->data[0])) return NAN;
    parameters_zero_grad(&net->params);
    if (tape_backward(tape, loss, &error)) return NAN;
    *grad_norm = parameters_clip_grad_norm(&net->params, mode == CLIP_NORM ? s->max_norm : 0.0f);
    if (!isfinite(*grad_norm)) return NAN;
    if (mode == CLIP_VALUE)
        for (int i = 0; i < net->params.count; i++) {
            Tensor *t = net->params.entries[i].tensor;
            if (t->grad) gradient_clip_value(t->grad, t->size, s->max_value);
        }
    *step_norm = s->lr * gradients_norm(&net->params);
    param_optimizer_step(sgd, s->lr);
    return loss->data[0];
}

// One run from the seed's weights and batches.
static int train_mode(const ClippingSetup *s, int mode, const LabelledSet *train, ClippingRun *run, long *parameters,
                      Error *error) {
    memset(run, 0, sizeof *run);
    run->mode = mode;
    DeepNet net;
    memset(&net, 0, sizeof net);
    ParamOptimizer sgd;
    memset(&sgd, 0, sizeof sgd);
    Tape tape;
    tape_init(&tape);
    float *inputs = malloc(sizeof(float) * (size_t)s->batch_size * 784);
    int *labels = malloc(sizeof(int) * (size_t)s->batch_size);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_SGD), 1.0f};
    int status = inputs && labels ? 0 : error_set(error, "out of memory");
    if (status == 0) status = deep_net_create(&net, s, error);
    if (status == 0) status = param_optimizer_init(&sgd, &net.params, &group, 1, NULL, error);
    if (status == 0) *parameters = parameters_count(&net.params);
    Random batches;
    random_seed(&batches, s->seed + 1);
    for (int step = 0; status == 0 && step < s->steps; step++) {
        for (int b = 0; b < s->batch_size; b++) {
            int i = (int)random_below(&batches, (uint32_t)train->count);
            memcpy(inputs + (size_t)b * 784, train->inputs + (size_t)i * 784, sizeof(float) * 784);
            labels[b] = train->labels[i];
        }
        float grad_norm = NAN, step_norm = NAN;
        float loss = train_step(&net, &sgd, &tape, inputs, labels, s, mode, &grad_norm, &step_norm);
        run->loss[step] = loss, run->grad_norm[step] = grad_norm, run->step_norm[step] = step_norm;
        run->n_steps = step + 1;
        if (!isfinite(loss)) {
            run->nan_step = step + 1;
            break;
        }
        run->max_grad_norm = fmaxf(run->max_grad_norm, grad_norm);
        run->max_step_norm = fmaxf(run->max_step_norm, step_norm);
    }
    if (status == 0) {
        run->final_loss = NAN, run->accuracy = NAN;
        if (!run->nan_step) {
            int tail = run->n_steps / 10 > 0 ? run->n_steps / 10 : 1;
            double sum = 0.0;
            for (int i = run->n_steps - tail; i < run->n_steps; i++) sum += run->loss[i];
            run->final_loss = (float)(sum / tail);
            run->accuracy = deep_net_accuracy(&net, train);
        }
    }
    param_optimizer_free(&sgd);
    parameters_free(&net.params);
    tape_free(&tape);
    free(inputs), free(labels);
    return status;
}

int explore_clipping(const char *mnist_directory, const ClippingSetup *s, ClippingResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (explore_check_count(s->n_train, 1, "--train", error) || explore_check_count(s->depth, 1, "--depth", error) ||
        explore_check_count(s->width, 1, "--width", error) || explore_check_count(s->steps, 1, "--steps", error) ||
        explore_check_count(s->batch_size, 1, "--batch", error))
        return -1;
    if (s->depth > CLIPPING_MAX_DEPTH) return error_set(error, "--depth %d: at most %d", s->depth, CLIPPING_MAX_DEPTH);
    if (s->steps > CLIPPING_MAX_STEPS) return error_set(error, "--steps %d: at most %d", s->steps, CLIPPING_MAX_STEPS);
    if (!(s->gain > 0.0f) || !(s->lr > 0.0f) || !(s->max_norm > 0.0f) || !(s->max_value > 0.0f))
        return error_set(error, "--gain, --lr, --max-norm and --max-value must be > 0");
    LabelledSet train = {0};
    if (mnist_subset(mnist_directory, "train", s->n_train, &train, error)) return -1;
    int status = 0;
    for (int mode = 0; status == 0 && mode < N_CLIP_MODES; mode++)
        status = train_mode(s, mode, &train, &result->runs[mode], &result->parameters, error);
    result->initial_grad_norm = result->runs[CLIP_NONE].grad_norm[0];
    labelled_set_free(&train);
    return status;
}
