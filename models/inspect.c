// Feature maps and saliency of one image; see inspect.h.
#include "models/inspect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ops.h"

// The image as a (1, C, H, W) step value that needs a gradient (when the tape records).
static Tensor *image_tensor(Tape *tape, const float *x, int channels, int height, int width) {
    Tensor *input = tensor_from(tape, x, 4, (int[]){1, channels, height, width});
    if (input) input->requires_grad = tape->recording;
    return input;
}

// The name of the parameter that is this tensor, without ".weight"; "conv<index>" when unknown.
static void layer_name(const Parameters *params, const Tensor *weight, int index, char *name) {
    snprintf(name, PARAMETER_NAME_MAX, "conv%d", index + 1);
    for (int i = 0; i < params->count; i++)
        if (params->entries[i].tensor == weight) {
            snprintf(name, PARAMETER_NAME_MAX, "%s", params->entries[i].name);
            char *suffix = strstr(name, ".weight");
            if (suffix && suffix[7] == '\0') *suffix = '\0';
        }
}

// Copies the output of every conv2d node of the tape, in the order computed, into out->layers.
static int collect_feature_maps(const Tape *tape, const Parameters *params, Inspection *out, Error *error) {
    int total = 0;
    for (const Node *node = tape->last; node; node = node->previous) total += strcmp(node->op, "conv2d") == 0;
    if (total == 0) return error_set(error, "the model has no convolution layer to show");
    if (total > INSPECT_MAX_LAYERS)
        return error_set(error, "the model has %d convolution layers (at most %d are shown)", total, INSPECT_MAX_LAYERS);
    int index = total;
    for (const Node *node = tape->last; node; node = node->previous) {
        if (strcmp(node->op, "conv2d") != 0) continue;
        FeatureMaps *maps = &out->layers[--index];
        const Tensor *y = node->out;  // (1, OC, H', W')
        maps->channels = y->shape[1], maps->height = y->shape[2], maps->width = y->shape[3];
        maps->values = malloc(sizeof(float) * (size_t)y->size);
        if (!maps->values) return error_set(error, "out of memory for the feature maps");
        memcpy(maps->values, y->data, sizeof(float) * (size_t)y->size);
        layer_name(params, node->in[1], index, maps->name);
        if (index == 0) out->first_weight = node->in[1];
    }
    out->n_layers = total;
    return 0;
}

// Logits and prediction; the target class; its score's gradient with respect to the input.
static int differentiate(Tape *tape, const Classifier *classifier, Tensor *input, Tensor *logits, int target,
                         Inspection *out, Error *error) {
    int K = classifier->n_classes;
    out->n_classes = K;
    out->logits = malloc(sizeof(float) * (size_t)K);
    if (!out->logits) return error_set(error, "out of memory");
    memcpy(out->logits, logits->data, sizeof(float) * (size_t)K);
    out->predicted = 0;
    for (int k = 0; k < K; k++) {
        if (!isfinite(out->logits[k])) return error_set(error, "the model's logit of class %d is %g", k, out->logits[k]);
        if (out->logits[k] > out->logits[out->predicted]) out->predicted = k;
    }
    if (target >= K) return error_set(error, "class %d: the model has %d classes", target, K);
    out->target = target < 0 ? out->predicted : target;
    Tensor *score = nn_slice(tape, logits, 1, out->target, out->target + 1);  // S_c, (1,1)
    if (!score) return tape_error(tape, error);
    parameters_zero_grad(classifier->params);
    if (tape_backward(tape, score, error)) return -1;
    long plane = (long)out->height * out->width;
    out->gradient = malloc(sizeof(float) * (size_t)(plane * out->channels));
    out->saliency = malloc(sizeof(float) * (size_t)plane);
    if (!out->gradient || !out->saliency) return error_set(error, "out of memory");
    memcpy(out->gradient, input->grad, sizeof(float) * (size_t)(plane * out->channels));
    for (long i = 0; i < plane; i++) {
        float m = 0.0f;
        for (int c = 0; c < out->channels; c++) m = fmaxf(m, fabsf(out->gradient[c * plane + i]));
        out->saliency[i] = m;
    }
    parameters_zero_grad(classifier->params);  // leave the model as it was
    return 0;
}

int classifier_inspect(const Classifier *classifier, const float *x, int channels, int height, int width, int target,
                       Inspection *out, Error *error) {
    memset(out, 0, sizeof *out);
    out->channels = channels, out->height = height, out->width = width;
    Tape tape;
    tape_init(&tape);
    Tensor *input = image_tensor(&tape, x, channels, height, width);
    Tensor *logits = classifier->forward(classifier->model, &tape, input, 0);
    int status = logits ? 0 : tape_error(&tape, error);
    if (!status && (logits->n_dims != 2 || logits->shape[0] != 1 || logits->shape[1] != classifier->n_classes))
        status = error_set(error, "the model's logits are not (1, %d)", classifier->n_classes);
    if (!status) status = collect_feature_maps(&tape, classifier->params, out, error);
    if (!status) status = differentiate(&tape, classifier, input, logits, target, out, error);
    tape_free(&tape);
    if (status) inspection_free(out);
    return status;
}

void inspection_free(Inspection *inspection) {
    for (int i = 0; i < INSPECT_MAX_LAYERS; i++) free(inspection->layers[i].values);
    free(inspection->logits);
    free(inspection->gradient);
    free(inspection->saliency);
    memset(inspection, 0, sizeof *inspection);
}

int classifier_class_score(const Classifier *classifier, const float *x, int channels, int height, int width, int c,
                           float *score, Error *error) {
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *logits = classifier->forward(classifier->model, &tape, image_tensor(&tape, x, channels, height, width), 0);
    int status = logits ? 0 : tape_error(&tape, error);
    if (!status && (c < 0 || c >= classifier->n_classes))
        status = error_set(error, "class %d: the model has %d classes", c, classifier->n_classes);
    if (!status) *score = logits->data[c];
    tape_free(&tape);
    return status;
}
