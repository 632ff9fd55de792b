// The image classifiers against PyTorch: see classifier_verify.h.
#include "models/classifier_verify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/optim.h"

const double CLASSIFIER_LOGITS_TOLERANCE = 1e-4;       // absolute
const double CLASSIFIER_LOSS_TOLERANCE = 1e-5;         // relative
const double CLASSIFIER_GRADIENT_TOLERANCE = 1e-3;     // relative to the tensor's largest reference value
const double CLASSIFIER_STEP_TOLERANCE = 1e-5;         // relative, each step's loss
const double CLASSIFIER_BUFFER_TOLERANCE = 1e-5;       // relative to the tensor's largest reference value
const double CLASSIFIER_EVAL_LOGITS_TOLERANCE = 1e-4;  // absolute, after the steps

const float *verify_state_floats(const Safetensors *file, const char *path, const char *name, long count, Error *error) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    if (!t) return error_set(error, "%s: %s is missing", path, name), NULL;
    if (!t->floats) return error_set(error, "%s: %s is %s, not a float type", path, name, safetensors_dtype_name(t->dtype)), NULL;
    if (count >= 0 && t->count != count)
        return error_set(error, "%s: %s has %lld values, expected %ld", path, name, (long long)t->count, count), NULL;
    return t->floats;
}

TensorDifference tensor_difference(const char *name, const float *ours, const float *reference, long n, double tolerance) {
    TensorDifference d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    for (long i = 0; i < n; i++) {
        d.max_abs = fmax(d.max_abs, fabs((double)ours[i] - reference[i]));
        d.reference_max = fmax(d.reference_max, fabs((double)reference[i]));
    }
    d.relative = d.reference_max > 0 ? d.max_abs / d.reference_max : d.max_abs;
    d.ok = d.relative <= tolerance;
    return d;
}

// The state's batch: inputs and targets checked against each other.
static int state_batch(const Safetensors *state, const char *path, const SafetensorsTensor **inputs,
                       const SafetensorsTensor **targets, Error *error) {
    *inputs = safetensors_find(state, "inputs"), *targets = safetensors_find(state, "targets");
    if (!*inputs || !(*inputs)->floats || (*inputs)->ndim < 1) return error_set(error, "%s: inputs (B,1,28,28) F32 is missing", path);
    if (!*targets || !(*targets)->ints || (*targets)->ndim != 1 || (*targets)->shape[0] != (*inputs)->shape[0])
        return error_set(error, "%s: targets (B) I32 is missing or does not match inputs", path);
    return 0;
}

// The training-mode forward on the state's batch: the loss, and the logits.
static Tensor *training_loss(const Classifier *classifier, Tape *tape, const SafetensorsTensor *inputs,
                             const SafetensorsTensor *targets, Tensor **logits) {
    tape_reset(tape);
    Tensor *x = tensor_from(tape, inputs->floats, inputs->ndim, inputs->shape);
    *logits = classifier->forward(classifier->model, tape, x, 1);
    return nn_cross_entropy(tape, *logits, targets->ints, NN_NO_IGNORE, 0.0f);
}

// The training-mode forward and backward on the state's batch; the comparisons into result.
static int compare_once(const Classifier *classifier, const Safetensors *state, const char *path, Tape *tape,
                        ClassifierVerification *result, Error *error) {
    const SafetensorsTensor *inputs, *targets;
    if (state_batch(state, path, &inputs, &targets, error)) return -1;
    int B = inputs->shape[0], K = classifier->n_classes;
    const float *logits_ref = verify_state_floats(state, path, "logits", (long)B * K, error);
    const float *loss_ref = logits_ref ? verify_state_floats(state, path, "loss", 1, error) : NULL;
    if (!loss_ref) return -1;
    Tensor *logits, *loss = training_loss(classifier, tape, inputs, targets, &logits);
    if (!loss) return tape_error(tape, error);
    parameters_zero_grad(classifier->params);
    if (tape_backward(tape, loss, error)) return -1;
    TensorDifference d = tensor_difference("logits", logits->data, logits_ref, (long)B * K, INFINITY);
    result->logits_max_abs = d.max_abs;
    result->logits_ok = d.max_abs <= CLASSIFIER_LOGITS_TOLERANCE;
    result->loss = loss->data[0];
    result->reference_loss = loss_ref[0];
    result->loss_relative = fabs(result->loss - result->reference_loss) / fmax(fabs(result->reference_loss), 1e-30);
    result->loss_ok = result->loss_relative <= CLASSIFIER_LOSS_TOLERANCE;
    result->n_grads = 0;
    for (int i = 0; i < classifier->params->count; i++) {
        const NamedTensor *entry = &classifier->params->entries[i];
        if (entry->is_buffer) continue;
        if (result->n_grads == CLASSIFIER_VERIFY_MAX_TENSORS)
            return error_set(error, "verify: more than %d parameter tensors", CLASSIFIER_VERIFY_MAX_TENSORS);
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", entry->name);
        const float *reference = verify_state_floats(state, path, name, entry->tensor->size, error);
        if (!reference) return -1;
        result->grads[result->n_grads++] =
            tensor_difference(entry->name, entry->tensor->grad, reference, entry->tensor->size, CLASSIFIER_GRADIENT_TOLERANCE);
    }
    return 0;
}

// steps AdamW updates on the same batch, recording the loss before each.
static int run_steps(const Classifier *classifier, const Safetensors *state, const char *path, Tape *tape, int steps,
                     float lr, ClassifierVerification *result, Error *error) {
    const SafetensorsTensor *inputs, *targets;
    if (state_batch(state, path, &inputs, &targets, error)) return -1;
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f};
    group.config.weight_decay = 0.01f;
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, classifier->params, &group, 1, NULL, error)) return -1;
    int status = 0;
    for (int k = 0; k < steps && !status; k++) {
        Tensor *logits, *loss = training_loss(classifier, tape, inputs, targets, &logits);
        parameters_zero_grad(classifier->params);
        if (!loss || tape_backward(tape, loss, error)) {
            status = loss ? -1 : tape_error(tape, error);
            break;
        }
        result->step_losses[k] = loss->data[0];
        param_optimizer_step(&optimizer, lr);
    }
    result->n_steps = status ? 0 : steps;
    param_optimizer_free(&optimizer);
    return status;
}

void verify_compare_steps(const Safetensors *state, int steps, ClassifierVerification *result) {
    const SafetensorsTensor *reference = safetensors_find(state, "step_losses");
    result->steps_ok = 1;
    if (!reference || !reference->floats) return;
    result->n_reference_steps = (int)(reference->count < steps ? reference->count : steps);
    for (int k = 0; k < result->n_reference_steps; k++) {
        result->reference_step_losses[k] = reference->floats[k];
        double relative = fabs(result->step_losses[k] - reference->floats[k]) / fmax(fabs(reference->floats[k]), 1e-30);
        result->steps_max_relative = fmax(result->steps_max_relative, relative);
    }
    result->steps_ok = result->steps_max_relative <= CLASSIFIER_STEP_TOLERANCE;
}

// After exactly the reference's steps: each buffer against after.<name> and the
// evaluation-mode logits against eval_logits, where the state has them.
static int compare_after_steps(const Classifier *classifier, const Safetensors *state, const char *path, Tape *tape,
                               ClassifierVerification *result, Error *error) {
    for (int i = 0; i < classifier->params->count; i++) {
        const NamedTensor *entry = &classifier->params->entries[i];
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "after.%s", entry->name);
        const SafetensorsTensor *t = safetensors_find(state, name);
        if (!entry->is_buffer || !t) continue;
        if (t->count != entry->tensor->size)
            return error_set(error, "%s: %s has %lld values, expected %ld", path, name, (long long)t->count, entry->tensor->size);
        float *reference = malloc(sizeof(float) * (size_t)t->count);
        if (!reference) return error_set(error, "verify: out of memory");
        for (long j = 0; j < t->count; j++) reference[j] = t->floats ? t->floats[j] : (float)t->ints[j];
        if (result->n_buffers < CLASSIFIER_VERIFY_MAX_TENSORS)
            result->buffers[result->n_buffers++] =
                tensor_difference(entry->name, entry->tensor->data, reference, t->count, CLASSIFIER_BUFFER_TOLERANCE);
        free(reference);
    }
    const SafetensorsTensor *inputs = safetensors_find(state, "inputs");
    if (!safetensors_find(state, "eval_logits")) return 0;
    const float *eval_ref = verify_state_floats(state, path, "eval_logits", (long)inputs->shape[0] * classifier->n_classes, error);
    if (!eval_ref) return -1;
    tape_reset(tape);
    tape->recording = 0;
    Tensor *logits = classifier->forward(classifier->model, tape, tensor_from(tape, inputs->floats, inputs->ndim, inputs->shape), 0);
    tape->recording = 1;
    if (!logits) return tape_error(tape, error);
    TensorDifference d = tensor_difference("eval_logits", logits->data, eval_ref, logits->size, INFINITY);
    result->eval_compared = 1;
    result->eval_logits_max_abs = d.max_abs;
    result->eval_logits_ok = d.max_abs <= CLASSIFIER_EVAL_LOGITS_TOLERANCE;
    return 0;
}

int classifier_verify(ClassifierArch arch, const char *model_path, const char *state_path, int steps, float lr,
                      ClassifierVerification *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (steps < 0 || steps > CLASSIFIER_VERIFY_MAX_STEPS)
        return error_set(error, "verify: %d steps (0 to %d)", steps, CLASSIFIER_VERIFY_MAX_STEPS);
    ImageClassifier model;
    Safetensors state;
    memset(&state, 0, sizeof state);
    if (image_classifier_load(&model, model_path, &arch, error)) return -1;
    Classifier classifier = image_classifier_view(&model);
    Tape tape;
    tape_init(&tape);
    int status = -1;
    if (safetensors_read(&state, state_path, error)) goto done;
    if (compare_once(&classifier, &state, state_path, &tape, result, error)) goto done;
    if (run_steps(&classifier, &state, state_path, &tape, steps, lr, result, error)) goto done;
    verify_compare_steps(&state, steps, result);
    const SafetensorsTensor *reference_steps = safetensors_find(&state, "step_losses");
    if (reference_steps && reference_steps->count == steps &&
        compare_after_steps(&classifier, &state, state_path, &tape, result, error))
        goto done;
    result->ok = result->logits_ok && result->loss_ok && result->steps_ok && (!result->eval_compared || result->eval_logits_ok);
    for (int i = 0; i < result->n_grads; i++) result->ok &= result->grads[i].ok;
    for (int i = 0; i < result->n_buffers; i++) result->ok &= result->buffers[i].ok;
    status = 0;
done:
    safetensors_free(&state);
    tape_free(&tape);
    image_classifier_free(&model);
    return status;
}
