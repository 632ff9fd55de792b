// The information plane of a small tanh network: see information_demos.h.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/information_demos.h"
#include "foundations/information.h"
#include "foundations/optimizer.h"
#include "nn/module.h"
#include "nn/optim.h"

static const double LN2 = 0.69314718055994531;
static const int WIDTHS[PLANE_LAYERS] = {10, 7, 5, 4, 3};
static const double TRAIN_FRACTION = 0.85;

typedef struct PlaneNet {
    Linear hidden[PLANE_LAYERS], output;
    Parameters params;
} PlaneNet;

typedef struct BinnedRow {
    uint64_t code;  // the bin indices of the row's units as one base-`bins` number
    int label;
} BinnedRow;

static int compare_rows(const void *a, const void *b) {
    uint64_t x = ((const BinnedRow *)a)->code, y = ((const BinnedRow *)b)->code;
    return (x > y) - (x < y);
}

int binned_information(const float *activations, const int *labels, int n, int width, int bins, double *ixt,
                       double *ity, Error *error) {
    if (n < 1 || width < 1 || bins < 2) return error_set(error, "binned information: %d rows, width %d, %d bins", n, width, bins);
    if (width * log2((double)bins) > 63.0) return error_set(error, "%d bins for %d units do not fit 64 bits", bins, width);
    BinnedRow *rows = malloc((size_t)n * sizeof *rows);
    double *joint = calloc((size_t)n * 2, sizeof *joint), *groups = calloc((size_t)n, sizeof *groups);
    int status = -1, n_groups = 0;
    if (!rows || !joint || !groups) {
        error_set(error, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        uint64_t code = 0;
        for (int j = 0; j < width; j++) {  // [-1, 1] into `bins` equal bins, the ends clamped
            int bin = (int)floor((activations[(size_t)i * width + j] + 1.0f) * 0.5f * bins);
            code = code * (uint64_t)bins + (uint64_t)(bin < 0 ? 0 : bin >= bins ? bins - 1 : bin);
        }
        rows[i] = (BinnedRow){code, labels[i]};
    }
    qsort(rows, (size_t)n, sizeof *rows, compare_rows);
    for (int i = 0; i < n; i++) {
        if (i == 0 || rows[i].code != rows[i - 1].code) n_groups++;
        groups[n_groups - 1] += 1.0;
        joint[(n_groups - 1) * 2 + (rows[i].label ? 1 : 0)] += 1.0;
    }
    for (int g = 0; g < n_groups; g++) groups[g] /= n, joint[2 * g] /= n, joint[2 * g + 1] /= n;
    double nats;
    if (information_entropy(groups, n_groups, &nats, error)) goto done;
    *ixt = nats / LN2;  // I(X; T) = H(T) - H(T | X) and H(T | X) = 0: T is a function of X
    if (information_mutual_information(joint, n_groups, 2, &nats, error)) goto done;
    *ity = nats / LN2;
    status = 0;
done:
    free(rows), free(joint), free(groups);
    return status;
}

// The toy task: x the 12 bits of the pattern index as ±1, y from the two halves' counts of ones.
static void plane_task(float *inputs, int *labels, float *targets) {
    for (int p = 0; p < PLANE_PATTERNS; p++) {
        int a = 0, b = 0;
        for (int bit = 0; bit < PLANE_INPUT_BITS; bit++) {
            int on = (p >> bit) & 1;
            inputs[p * PLANE_INPUT_BITS + bit] = on ? 1.0f : -1.0f;
            if (bit < PLANE_INPUT_BITS / 2) a += on;
            else b += on;
        }
        labels[p] = (a - 3) * (a - 3) + (b - 3) * (b - 3) >= 2;
        targets[p] = (float)labels[p];
    }
}

// logits (n, 1) of x (n, 12); hidden[l] receives each layer's tanh output (n, width_l) when given.
static Tensor *plane_forward(Tape *tape, const PlaneNet *net, Tensor *x, Tensor **hidden) {
    for (int l = 0; l < PLANE_LAYERS; l++) {
        x = nn_tanh(tape, linear_apply(tape, &net->hidden[l], x));
        if (hidden) hidden[l] = x;
    }
    return linear_apply(tape, &net->output, x);
}

// One snapshot: every layer's binned information over all patterns, loss and accuracies.
static int plane_snapshot(const PlaneNet *net, const float *inputs, const int *labels, const int *is_train, int bins,
                          InformationPlaneResult *out, int s, Error *error) {
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *hidden[PLANE_LAYERS];
    Tensor *logits = plane_forward(&tape, net, tensor_from(&tape, inputs, 2, (int[]){PLANE_PATTERNS, PLANE_INPUT_BITS}), hidden);
    int status = logits ? 0 : tape_error(&tape, error);
    for (int l = 0; l < PLANE_LAYERS && !status; l++)
        status = binned_information(hidden[l]->data, labels, PLANE_PATTERNS, WIDTHS[l], bins, &out->ixt[s][l], &out->ity[s][l],
                                    error);
    if (!status) {
        double loss = 0.0;
        int correct[2] = {0, 0}, count[2] = {0, 0};
        for (int p = 0; p < PLANE_PATTERNS; p++) {
            double z = logits->data[p];
            int t = is_train[p];
            correct[t] += (z > 0.0) == (labels[p] == 1), count[t]++;
            if (t) loss += fmax(z, 0.0) - z * labels[p] + log1p(exp(-fabs(z)));  // BCE with logits
        }
        out->train_loss[s] = loss / count[1];
        out->train_accuracy[s] = (double)correct[1] / count[1];
        out->test_accuracy[s] = (double)correct[0] / count[0];
    }
    tape_free(&tape);
    return status;
}

// Epochs 0, 1, 2, ... at about 8 per decade, and the last.
static void plane_schedule(int epochs, InformationPlaneResult *out) {
    for (double e = 0.0; (int)e <= epochs && out->n_snapshots < PLANE_MAX_SNAPSHOTS - 1;
         e = e < 3.0 ? e + 1.0 : e * 1.334) {
        int rounded = (int)e;
        if (out->n_snapshots == 0 || out->snapshot_epochs[out->n_snapshots - 1] != rounded)
            out->snapshot_epochs[out->n_snapshots++] = rounded;
    }
    if (out->snapshot_epochs[out->n_snapshots - 1] != epochs) out->snapshot_epochs[out->n_snapshots++] = epochs;
}

static int plane_train(PlaneNet *net, const float *inputs, const int *labels, const float *targets, const int *is_train,
                       int n_train, float lr, InformationPlaneResult *out, Error *error) {
    float *x = malloc((size_t)n_train * PLANE_INPUT_BITS * sizeof *x), *y = malloc((size_t)n_train * sizeof *y);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    ParamOptimizer optimizer;
    if (!x || !y) {
        free(x), free(y);
        return error_set(error, "out of memory");
    }
    for (int p = 0, i = 0; p < PLANE_PATTERNS; p++)
        if (is_train[p]) {
            memcpy(x + (size_t)i * PLANE_INPUT_BITS, inputs + (size_t)p * PLANE_INPUT_BITS, PLANE_INPUT_BITS * sizeof *x);
            y[i++] = targets[p];
        }
    if (param_optimizer_init(&optimizer, &net->params, &group, 1, NULL, error)) {
        free(x), free(y);
        return -1;
    }
    Tape tape;
    tape_init(&tape);
    int status = 0, s = 0;
    for (int epoch = 0; epoch <= out->epochs && !status; epoch++) {
        if (s < out->n_snapshots && out->snapshot_epochs[s] == epoch)
            status = plane_snapshot(net, inputs, labels, is_train, out->bins, out, s++, error);
        if (status || epoch == out->epochs) break;
        tape_reset(&tape);
        Tensor *logits = plane_forward(&tape, net, tensor_from(&tape, x, 2, (int[]){n_train, PLANE_INPUT_BITS}), NULL);
        Tensor *loss = nn_bce_with_logits(&tape, logits, tensor_from(&tape, y, 2, (int[]){n_train, 1}));
        parameters_zero_grad(&net->params);
        if (!loss) status = tape_error(&tape, error);
        else if (tape_backward(&tape, loss, error)) status = -1;
        else param_optimizer_step(&optimizer, lr);
    }
    tape_free(&tape);
    param_optimizer_free(&optimizer);
    free(x), free(y);
    return status;
}

int explore_information_plane(int epochs, int bins, float lr, uint64_t seed, InformationPlaneResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (explore_check_count(epochs, 1, "--epochs", error) || explore_check_count(bins, 2, "--bins", error) ||
        explore_check_range(lr, 0.0, 10.0, 1, 0, "--lr", error))
        return -1;
    if (epochs > 1000000) return error_set(error, "--epochs must be at most 1000000, not %d", epochs);
    if (bins > 64) return error_set(error, "--bins must be at most 64, not %d", bins);
    memcpy(out->widths, WIDTHS, sizeof WIDTHS);
    out->bins = bins, out->epochs = epochs, out->input_entropy = PLANE_INPUT_BITS;
    plane_schedule(epochs, out);
    float *inputs = malloc((size_t)PLANE_PATTERNS * PLANE_INPUT_BITS * sizeof *inputs);
    float *targets = malloc(PLANE_PATTERNS * sizeof *targets);
    int *labels = malloc(PLANE_PATTERNS * sizeof *labels), *order = malloc(PLANE_PATTERNS * sizeof *order);
    int *is_train = calloc(PLANE_PATTERNS, sizeof *is_train);
    PlaneNet net;
    memset(&net, 0, sizeof net);
    int status = -1;
    if (!inputs || !targets || !labels || !order || !is_train) {
        error_set(error, "out of memory");
        goto done;
    }
    plane_task(inputs, labels, targets);
    double ones = 0.0;
    for (int p = 0; p < PLANE_PATTERNS; p++) ones += labels[p];
    double y[2] = {1.0 - ones / PLANE_PATTERNS, ones / PLANE_PATTERNS}, nats;
    if (information_entropy(y, 2, &nats, error)) goto done;
    out->label_entropy = nats / LN2;
    Random rng;
    random_seed(&rng, seed);
    for (int p = 0; p < PLANE_PATTERNS; p++) order[p] = p;
    random_shuffle(&rng, order, PLANE_PATTERNS);
    int n_train = (int)(TRAIN_FRACTION * PLANE_PATTERNS);
    for (int i = 0; i < n_train; i++) is_train[order[i]] = 1;
    int in = PLANE_INPUT_BITS;
    for (int l = 0; l < PLANE_LAYERS; l++) {
        char name[24];
        snprintf(name, sizeof name, "hidden.%d", l);
        if (linear_init(&net.hidden[l], &net.params, name, in, WIDTHS[l], 1, &rng, error)) goto done;
        in = WIDTHS[l];
    }
    if (linear_init(&net.output, &net.params, "output", in, 1, 1, &rng, error)) goto done;
    status = plane_train(&net, inputs, labels, targets, is_train, n_train, lr, out, error);
done:
    parameters_free(&net.params);
    free(inputs), free(targets), free(labels), free(order), free(is_train);
    return status;
}
