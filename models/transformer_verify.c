// The Transformer against PyTorch: see transformer_verify.h.
#include "models/transformer_verify.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/transformer.h"
#include "nn/optim.h"

// The state's batch: src (B,S), tgt_in and tgt_out (B,T), integers.
typedef struct VerifyBatch {
    const int *src, *tgt_in, *tgt_out;
    int B, S, T;
} VerifyBatch;

static int state_batch(const Safetensors *state, const char *path, VerifyBatch *batch, Error *error) {
    const SafetensorsTensor *src = safetensors_find(state, "src"), *in = safetensors_find(state, "tgt_in"),
                            *out = safetensors_find(state, "tgt_out");
    if (!src || !src->ints || src->ndim != 2) return error_set(error, "%s: src (B,S) I32 is missing", path);
    if (!in || !in->ints || in->ndim != 2 || in->shape[0] != src->shape[0])
        return error_set(error, "%s: tgt_in (B,T) I32 is missing or does not match src", path);
    if (!out || !out->ints || out->ndim != 2 || out->shape[0] != in->shape[0] || out->shape[1] != in->shape[1])
        return error_set(error, "%s: tgt_out (B,T) I32 is missing or does not match tgt_in", path);
    *batch = (VerifyBatch){src->ints, in->ints, out->ints, src->shape[0], src->shape[1], in->shape[1]};
    return 0;
}

// The training-mode forward (dropout is 0 in the reference) and its mean cross-entropy.
static Tensor *batch_loss(const TransformerNet *net, Tape *tape, const VerifyBatch *b, Tensor **logits) {
    tape_reset(tape);
    Tensor *loss = NULL;
    *logits = transformer_forward(tape, net, b->src, b->S, b->tgt_in, b->B, b->T, NULL, b->tgt_out, NN_NO_IGNORE, 0.0f,
                                  &loss, 1, NULL);
    return loss;
}

// Logits, loss and every gradient of one forward and backward.
static int compare_once(TransformerNet *net, const Safetensors *state, const char *path, const VerifyBatch *b,
                        Tape *tape, ClassifierVerification *result, Error *error) {
    long n_logits = (long)b->B * b->T * net->config.tgt_vocab_size;
    const float *logits_ref = verify_state_floats(state, path, "logits", n_logits, error);
    const float *loss_ref = logits_ref ? verify_state_floats(state, path, "loss", 1, error) : NULL;
    if (!loss_ref) return -1;
    Tensor *logits, *loss = batch_loss(net, tape, b, &logits);
    if (!loss) return tape_error(tape, error);
    parameters_zero_grad(&net->params);
    if (tape_backward(tape, loss, error)) return -1;
    result->logits_max_abs = tensor_difference("logits", logits->data, logits_ref, n_logits, INFINITY).max_abs;
    result->logits_ok = result->logits_max_abs <= CLASSIFIER_LOGITS_TOLERANCE;
    result->loss = loss->data[0], result->reference_loss = loss_ref[0];
    result->loss_relative = fabs(result->loss - result->reference_loss) / fmax(fabs(result->reference_loss), 1e-30);
    result->loss_ok = result->loss_relative <= CLASSIFIER_LOSS_TOLERANCE;
    for (int i = 0; i < net->params.count; i++) {
        const NamedTensor *entry = &net->params.entries[i];
        if (result->n_grads == CLASSIFIER_VERIFY_MAX_TENSORS)
            return error_set(error, "verify: more than %d parameter tensors", CLASSIFIER_VERIFY_MAX_TENSORS);
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", entry->name);
        const float *reference = verify_state_floats(state, path, name, entry->tensor->size, error);
        if (!reference) return -1;
        result->grads[result->n_grads++] = tensor_difference(entry->name, entry->tensor->grad, reference,
                                                             entry->tensor->size, CLASSIFIER_GRADIENT_TOLERANCE);
    }
    return 0;
}

// steps AdamW updates on the batch, the loss before each, against step_losses when present.
static int run_steps(TransformerNet *net, const Safetensors *state, const VerifyBatch *b, Tape *tape, int steps,
                     float lr, ClassifierVerification *result, Error *error) {
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f};
    group.config.weight_decay = 0.01f;
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, &net->params, &group, 1, NULL, error)) return -1;
    int status = 0;
    for (int k = 0; k < steps && !status; k++) {
        Tensor *logits, *loss = batch_loss(net, tape, b, &logits);
        parameters_zero_grad(&net->params);
        if (!loss) status = tape_error(tape, error);
        else if (tape_backward(tape, loss, error)) status = -1;
        else result->step_losses[k] = loss->data[0], param_optimizer_step(&optimizer, lr);
    }
    param_optimizer_free(&optimizer);
    if (status) return -1;
    result->n_steps = steps;
    verify_compare_steps(state, steps, result);
    return 0;
}

int transformer_verify(const char *model_path, const char *state_path, int n_heads, int steps, float lr,
                       ClassifierVerification *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (steps < 0 || steps > CLASSIFIER_VERIFY_MAX_STEPS)
        return error_set(error, "verify: %d steps (0 to %d)", steps, CLASSIFIER_VERIFY_MAX_STEPS);
    Safetensors state;
    if (safetensors_read(&state, state_path, error)) return -1;
    VerifyBatch batch = {0};
    TransformerNet net;
    memset(&net, 0, sizeof net);
    Tape tape;
    tape_init(&tape);
    int status = -1;
    if (state_batch(&state, state_path, &batch, error) ||
        transformer_load(&net, model_path, n_heads, batch.S, batch.T, error) ||
        compare_once(&net, &state, state_path, &batch, &tape, result, error) ||
        run_steps(&net, &state, &batch, &tape, steps, lr, result, error))
        goto done;
    result->ok = result->logits_ok && result->loss_ok && result->steps_ok;
    for (int i = 0; i < result->n_grads; i++) result->ok &= result->grads[i].ok;
    status = 0;
done:
    safetensors_free(&state);
    tape_free(&tape);
    transformer_free(&net);
    return status;
}
