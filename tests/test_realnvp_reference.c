// RealNVP (models/realnvp.h) against its PyTorch reference (tests/fixtures/realnvp,
// tools/reference/realnvp_reference.py): the same weights and points give the same z, log|det|
// and log p(x) (1e-5 absolute), the same loss (1e-5 relative), every gradient (1e-3 relative to
// the tensor's largest reference value), the same inverse of given latents (1e-5 absolute), and
// the losses of 5 Adam steps on the batch (1e-5 relative): the classifier verify's tolerances.
#include <math.h>
#include <string.h>

#include "models/classifier_verify.h"
#include "models/realnvp.h"
#include "nn/optim.h"
#include "tests/check.h"

static const char *MODEL = "tests/fixtures/realnvp/PARAMS.safetensors",
                  *STATE = "tests/fixtures/realnvp/STATE.safetensors";

static const SafetensorsTensor *tensor(const Safetensors *file, const char *name, long count) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    CHECK(t && t->floats && t->count == count, "%s missing from the state or of another size", name);
    return t && t->floats && t->count == count ? t : NULL;
}

static double max_abs_difference(const float *ours, const float *reference, long n) {
    return tensor_difference("", ours, reference, n, INFINITY).max_abs;
}

// −mean log p of the state's points on a fresh tape; *z, *log_det and *log_p are its parts.
static Tensor *loss_of(Tape *tape, const RealNvp *flow, const SafetensorsTensor *x, Tensor **z, Tensor **log_det,
                       Tensor **log_p) {
    tape_reset(tape);
    Tensor *input = tensor_from(tape, x->floats, x->ndim, x->shape);
    if (z && realnvp_forward(tape, flow, input, z, log_det)) return NULL;
    *log_p = realnvp_log_prob_tensor(tape, flow, input);
    return nn_neg(tape, nn_mean(tape, *log_p, NULL, 0, 0));
}

static void compare_gradients(const RealNvp *flow, const Safetensors *state) {
    int compared = 0;
    for (int i = 0; i < flow->params.count; i++) {
        const NamedTensor *entry = &flow->params.entries[i];
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", entry->name);
        const SafetensorsTensor *reference = tensor(state, name, entry->tensor->size);
        if (!reference) continue;
        double relative = tensor_difference("", entry->tensor->grad, reference->floats, entry->tensor->size, INFINITY).relative;
        CHECK(relative <= 1e-3, "%s differs by %g of its largest", name, relative);
        compared++;
    }
    CHECK(compared == 4 * 6, "%d gradients compared (4 layers of 3 linears, weight and bias)", compared);
}

static void adam_steps_match(RealNvp *flow, Tape *tape, const SafetensorsTensor *x, const SafetensorsTensor *steps) {
    Error error;
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    ParamOptimizer optimizer;
    REQUIRE(param_optimizer_init(&optimizer, &flow->params, &group, 1, NULL, &error) == 0, "%s", error.message);
    for (int k = 0; k < (int)steps->count; k++) {
        Tensor *log_p, *loss = loss_of(tape, flow, x, NULL, NULL, &log_p);
        REQUIRE(loss, "step %d: %s", k, tape->error.message);
        CHECK_NEAR(loss->data[0], steps->floats[k], 1e-5 * fabs(steps->floats[k]));
        parameters_zero_grad(&flow->params);
        CHECK(tape_backward(tape, loss, &error) == 0, "%s", error.message);
        param_optimizer_step(&optimizer, 1e-3f);
    }
    CHECK(steps->count == 5, "%lld step losses", (long long)steps->count);
    param_optimizer_free(&optimizer);
}

static void matches_the_pytorch_reference(void) {
    RealNvp flow;
    Safetensors state;
    Error error;
    REQUIRE(realnvp_load(&flow, MODEL, NULL, 0, &error) == 0, "%s", error.message);
    REQUIRE(safetensors_read(&state, STATE, &error) == 0, "%s", error.message);
    CHECK(flow.config.n_layers == 4 && flow.config.hidden == 8, "%d layers of %d from the file", flow.config.n_layers,
          flow.config.hidden);
    const SafetensorsTensor *x = safetensors_find(&state, "inputs");
    long B = x ? x->shape[0] : 0;
    const SafetensorsTensor *z_ref = tensor(&state, "z", 2 * B), *log_det_ref = tensor(&state, "log_det", B);
    const SafetensorsTensor *log_p_ref = tensor(&state, "log_prob", B), *loss_ref = tensor(&state, "loss", 1);
    const SafetensorsTensor *latents = tensor(&state, "latents", 2 * B), *inverse = tensor(&state, "inverse", 2 * B);
    const SafetensorsTensor *steps = safetensors_find(&state, "step_losses");
    Tape tape;
    tape_init(&tape);
    Tensor *z, *log_det, *log_p, *loss = x ? loss_of(&tape, &flow, x, &z, &log_det, &log_p) : NULL;
    CHECK(B == 16, "%ld points", B);
    if (loss && B == 16 && z_ref && log_det_ref && log_p_ref && loss_ref && latents && inverse && steps) {
        CHECK(max_abs_difference(z->data, z_ref->floats, 2 * B) <= 1e-5, "z differs");
        CHECK(max_abs_difference(log_det->data, log_det_ref->floats, B) <= 1e-5, "log|det| differs");
        CHECK(max_abs_difference(log_p->data, log_p_ref->floats, B) <= 1e-5, "log p differs");
        CHECK_NEAR(loss->data[0], loss_ref->floats[0], 1e-5 * fabs(loss_ref->floats[0]));
        parameters_zero_grad(&flow.params);
        CHECK(tape_backward(&tape, loss, &error) == 0, "%s", error.message);
        compare_gradients(&flow, &state);
        float ours[2 * 16];
        CHECK(realnvp_inverse(&flow, latents->floats, (int)B, ours, &error) == 0, "%s", error.message);
        CHECK(max_abs_difference(ours, inverse->floats, 2 * B) <= 1e-5, "the inverse differs");
        adam_steps_match(&flow, &tape, x, steps);
    } else {
        CHECK(0, "the forward failed or the state lacks a tensor: %s", tape.error.message);
    }
    tape_free(&tape);
    safetensors_free(&state);
    realnvp_free(&flow);
}

static const CheckCase CASES[] = {
    {"matches the pytorch reference", matches_the_pytorch_reference},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
