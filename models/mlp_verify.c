// The MLP against PyTorch: see mlp_verify.h.
#include "models/mlp_verify.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/optim.h"

const double VERIFY_LOGITS_TOLERANCE = 1e-4;    // absolute
const double VERIFY_LOSS_TOLERANCE = 1e-5;      // relative
const double VERIFY_GRADIENT_TOLERANCE = 1e-3;  // relative to the tensor's largest reference value
const double VERIFY_STEP_TOLERANCE = 1e-5;      // relative, each step's loss

// A float tensor of the state file with exactly count values, or NULL (with error).
static const float *state_floats(const Safetensors *file, const char *path, const char *name, long count, Error *error) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    if (!t) return error_set(error, "%s: %s is missing", path, name), NULL;
    if (!t->floats) return error_set(error, "%s: %s is %s, not a float type", path, name, safetensors_dtype_name(t->dtype)), NULL;
    if (count >= 0 && t->count != count)
        return error_set(error, "%s: %s has %lld values, expected %ld", path, name, (long long)t->count, count), NULL;
    return t->floats;
}

static TensorDifference difference(const char *name, const float *ours, const float *reference, long n, double tolerance) {
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

// The forward and backward on the state's batch; the comparisons into result.
static int compare_once(Mlp *mlp, const Safetensors *state, const char *path, Tape *tape, MlpVerification *result,
                        Error *error) {
    const SafetensorsTensor *inputs = safetensors_find(state, "inputs"), *targets = safetensors_find(state, "targets");
    if (!inputs || !inputs->floats || inputs->ndim < 1) return error_set(error, "%s: inputs (B,1,28,28) F32 is missing", path);
    if (!targets || !targets->ints || targets->ndim != 1 || targets->shape[0] != inputs->shape[0])
        return error_set(error, "%s: targets (B) I32 is missing or does not match inputs", path);
    int B = inputs->shape[0], K = mlp->sizes[mlp->n_layers];
    const float *logits_ref = state_floats(state, path, "logits", (long)B * K, error);
    const float *loss_ref = state_floats(state, path, "loss", 1, error);
    if (!logits_ref || !loss_ref) return -1;
    tape_reset(tape);
    Tensor *x = tensor_from(tape, inputs->floats, inputs->ndim, inputs->shape);
    Tensor *logits = mlp_classifier_forward(tape, mlp, x, 1);
    Tensor *loss = nn_cross_entropy(tape, logits, targets->ints, NN_NO_IGNORE, 0.0f);
    if (!loss) return tape_error(tape, error);
    parameters_zero_grad(&mlp->params);
    if (tape_backward(tape, loss, error)) return -1;
    TensorDifference d = difference("logits", logits->data, logits_ref, (long)B * K, INFINITY);
    result->logits_max_abs = d.max_abs;
    result->logits_ok = d.max_abs <= VERIFY_LOGITS_TOLERANCE;
    result->loss = loss->data[0];
    result->reference_loss = loss_ref[0];
    result->loss_relative = fabs(result->loss - result->reference_loss) / fmax(fabs(result->reference_loss), 1e-30);
    result->loss_ok = result->loss_relative <= VERIFY_LOSS_TOLERANCE;
    result->n_grads = 0;
    for (int i = 0; i < mlp->params.count; i++) {
        const NamedTensor *entry = &mlp->params.entries[i];
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", entry->name);
        const float *reference = state_floats(state, path, name, entry->tensor->size, error);
        if (!reference) return -1;
        result->grads[result->n_grads++] =
            difference(entry->name, entry->tensor->grad, reference, entry->tensor->size, VERIFY_GRADIENT_TOLERANCE);
    }
    return 0;
}

// steps AdamW updates on the same batch, recording the loss before each.
static int run_steps(Mlp *mlp, const Safetensors *state, Tape *tape, int steps, float lr, MlpVerification *result,
                     Error *error) {
    const SafetensorsTensor *inputs = safetensors_find(state, "inputs"), *targets = safetensors_find(state, "targets");
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f};
    group.config.weight_decay = 0.01f;
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, &mlp->params, &group, 1, NULL, error)) return -1;
    int status = 0;
    for (int k = 0; k < steps && !status; k++) {
        tape_reset(tape);
        Tensor *x = tensor_from(tape, inputs->floats, inputs->ndim, inputs->shape);
        Tensor *loss = nn_cross_entropy(tape, mlp_classifier_forward(tape, mlp, x, 1), targets->ints, NN_NO_IGNORE, 0.0f);
        parameters_zero_grad(&mlp->params);
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

int mlp_verify(const char *model_path, const char *state_path, int steps, float lr, MlpVerification *result,
               Error *error) {
    memset(result, 0, sizeof *result);
    if (steps < 0 || steps > VERIFY_MAX_STEPS) return error_set(error, "verify: %d steps (0 to %d)", steps, VERIFY_MAX_STEPS);
    Mlp mlp;
    Safetensors state;
    memset(&state, 0, sizeof state);
    if (mlp_classifier_load(&mlp, model_path, error)) return -1;
    Tape tape;
    tape_init(&tape);
    int status = -1;
    if (safetensors_read(&state, state_path, error)) goto done;
    if (compare_once(&mlp, &state, state_path, &tape, result, error)) goto done;
    if (run_steps(&mlp, &state, &tape, steps, lr, result, error)) goto done;
    const SafetensorsTensor *reference = safetensors_find(&state, "step_losses");
    result->steps_ok = 1;
    if (reference && reference->floats) {
        result->n_reference_steps = (int)(reference->count < steps ? reference->count : steps);
        for (int k = 0; k < result->n_reference_steps; k++) {
            result->reference_step_losses[k] = reference->floats[k];
            double relative = fabs(result->step_losses[k] - reference->floats[k]) / fmax(fabs(reference->floats[k]), 1e-30);
            result->steps_max_relative = fmax(result->steps_max_relative, relative);
        }
        result->steps_ok = result->steps_max_relative <= VERIFY_STEP_TOLERANCE;
    }
    result->ok = result->logits_ok && result->loss_ok && result->steps_ok;
    for (int i = 0; i < result->n_grads; i++) result->ok &= result->grads[i].ok;
    status = 0;
done:
    safetensors_free(&state);
    tape_free(&tape);
    mlp_classifier_free(&mlp);
    return status;
}
