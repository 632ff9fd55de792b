// verify --arch mlp|lenet5|resnet's library side (models/classifier_verify.c): each committed
// PyTorch fixture (tests/fixtures/mlp, lenet5, lenet5_original, resnet) passes, every gradient,
// step loss, buffer after the steps and the evaluation logits compared; the same fixture with
// the reference's loss, one gradient, one step loss or one running statistic moved just past
// its tolerance fails on exactly that check; a model of another architecture is refused.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/safetensors.h"
#include "models/classifier_verify.h"
#include "tests/check.h"

static const char *MLP_MODEL = "tests/fixtures/mlp/PARAMS.safetensors", *MLP_STATE = "tests/fixtures/mlp/STATE.safetensors";
static const char *RESNET_MODEL = "tests/fixtures/resnet/PARAMS.safetensors";
static const char *RESNET_STATE = "tests/fixtures/resnet/STATE.safetensors";

static ClassifierVerification *verify(ClassifierArch arch, const char *model, const char *state, int steps) {
    static ClassifierVerification v;  // large; the tests run one at a time
    Error error;
    int status = classifier_verify(arch, model, state, steps, 1e-3f, &v, &error);
    CHECK(status == 0, "%s", error.message);
    return status ? NULL : &v;
}

static void the_mlp_fixture_passes(void) {
    ClassifierVerification *v = verify(CLASSIFIER_MLP, MLP_MODEL, MLP_STATE, 10);
    REQUIRE(v, "verify failed");
    CHECK(v->ok && v->logits_ok && v->loss_ok && v->steps_ok, "the fixture fails: loss %g vs %g", v->loss, v->reference_loss);
    CHECK(v->n_grads == 6 && v->n_steps == 10 && v->n_reference_steps == 10, "%d grads, %d steps", v->n_grads, v->n_steps);
}

static void the_lenet5_fixtures_pass(void) {
    ClassifierVerification *v = verify(CLASSIFIER_LENET5, "tests/fixtures/lenet5/PARAMS.safetensors",
                                       "tests/fixtures/lenet5/STATE.safetensors", 10);
    REQUIRE(v, "verify failed");
    CHECK(v->ok && v->loss_ok && v->steps_ok, "lenet5: loss %g vs %g, steps %g", v->loss, v->reference_loss,
          v->steps_max_relative);
    CHECK(v->n_grads == 10 && v->n_reference_steps == 10 && v->eval_compared && v->eval_logits_ok && v->n_buffers == 0,
          "lenet5: %d grads, %d steps, eval %d", v->n_grads, v->n_reference_steps, v->eval_compared);
    v = verify(CLASSIFIER_LENET5, "tests/fixtures/lenet5_original/PARAMS.safetensors",
               "tests/fixtures/lenet5_original/STATE.safetensors", 5);
    REQUIRE(v, "verify failed");
    CHECK(v->ok && v->n_grads == 10 && v->n_reference_steps == 5, "lenet5 tanh-avg: loss %g vs %g", v->loss, v->reference_loss);
}

static void the_resnet_fixture_passes(void) {
    ClassifierVerification *v = verify(CLASSIFIER_RESNET, RESNET_MODEL, RESNET_STATE, 10);
    REQUIRE(v, "verify failed");
    for (int i = 0; i < v->n_grads; i++) CHECK(v->grads[i].ok, "grad %s: %g", v->grads[i].name, v->grads[i].relative);
    for (int i = 0; i < v->n_buffers; i++) CHECK(v->buffers[i].ok, "%s: %g", v->buffers[i].name, v->buffers[i].relative);
    CHECK(v->ok && v->logits_ok && v->loss_ok && v->steps_ok && v->eval_logits_ok, "resnet: loss %g vs %g, steps %g, eval %g",
          v->loss, v->reference_loss, v->steps_max_relative, v->eval_logits_max_abs);
    // width 4, blocks 2-1-1: conv1, bn1 (2), 4 blocks of 2 convs and 2 norms (6), 2 downsamples (3), fc (2)
    CHECK(v->n_grads == 3 + 4 * 6 + 2 * 3 + 2, "%d gradients", v->n_grads);
    CHECK(v->n_buffers == 3 * (1 + 4 * 2 + 2), "%d buffers after the steps (3 per batch norm)", v->n_buffers);
    int counted = 0;
    for (int i = 0; i < v->n_buffers; i++) counted += strstr(v->buffers[i].name, "num_batches_tracked") != NULL;
    CHECK(counted == 11, "%d num_batches_tracked compared", counted);
    // other step counts: the buffers and evaluation logits (recorded after 10) are not compared
    v = verify(CLASSIFIER_RESNET, RESNET_MODEL, RESNET_STATE, 3);
    REQUIRE(v, "verify failed");
    CHECK(v->ok && v->n_buffers == 0 && !v->eval_compared && v->n_reference_steps == 3, "3 steps: %d buffers", v->n_buffers);
}

// The largest |value| of a float tensor of state, and its value at index.
static void tensor_values(const char *state, const char *name, long index, float *largest, float *value) {
    Error error;
    Safetensors file;
    *largest = *value = 0.0f;
    if (safetensors_read(&file, state, &error)) return;
    const SafetensorsTensor *t = safetensors_find(&file, name);
    for (long i = 0; t && t->floats && i < t->count; i++) *largest = fmaxf(*largest, fabsf(t->floats[i]));
    if (t && t->floats && index < t->count) *value = t->floats[index];
    safetensors_free(&file);
}

// A copy of state with `delta` added to value `index` of float tensor `name`; returns its path.
// The move is `relative` times the tensor's largest |value| (of_largest) or times the value itself.
static const char *perturbed(const char *state, const char *name, long index, double relative, int of_largest) {
    Error error;
    Safetensors file;
    float largest, value;
    tensor_values(state, name, index, &largest, &value);
    float delta = (float)relative * (of_largest ? largest : fabsf(value));
    if (safetensors_read(&file, state, &error)) return NULL;
    SafetensorsTensor *copies = calloc((size_t)file.n_tensors, sizeof *copies);
    float *changed = NULL;
    for (int i = 0; i < file.n_tensors; i++) {
        copies[i] = file.tensors[i];
        if (strcmp(copies[i].name, name) == 0) {
            changed = malloc(sizeof(float) * (size_t)copies[i].count);
            memcpy(changed, copies[i].floats, sizeof(float) * (size_t)copies[i].count);
            changed[index] += delta;
            copies[i].floats = changed;
        }
    }
    const char *path = check_path(name);
    int status = safetensors_write(path, copies, file.n_tensors, NULL, 0, &error);
    free(changed), free(copies);
    safetensors_free(&file);
    return status ? NULL : path;
}

static void each_tolerance_fails_when_passed(void) {
    const char *path = perturbed(MLP_STATE, "loss", 0, 3e-5, 0);
    ClassifierVerification *v = path ? verify(CLASSIFIER_MLP, MLP_MODEL, path, 0) : NULL;
    REQUIRE(v, "no perturbed state");
    CHECK(!v->ok && !v->loss_ok && v->logits_ok, "a loss 3e-5 off passes");
    path = perturbed(MLP_STATE, "grad.fc2.weight", 5, 2e-3, 1);
    v = path ? verify(CLASSIFIER_MLP, MLP_MODEL, path, 0) : NULL;
    REQUIRE(v, "no perturbed state");
    CHECK(!v->ok && v->loss_ok, "a gradient 2e-3 off passes");
    for (int i = 0; i < v->n_grads; i++)
        CHECK(v->grads[i].ok == (strcmp(v->grads[i].name, "fc2.weight") != 0), "%s: ok %d", v->grads[i].name, v->grads[i].ok);
    path = perturbed(MLP_STATE, "step_losses", 7, 3e-5, 0);
    v = path ? verify(CLASSIFIER_MLP, MLP_MODEL, path, 10) : NULL;
    REQUIRE(v, "no perturbed state");
    CHECK(!v->ok && !v->steps_ok && v->loss_ok, "a step loss 3e-5 off passes");
    // a running variance after the steps, 2e-5 of its tensor's largest off
    const char *name = "after.layer2.0.bn1.running_var";
    path = perturbed(RESNET_STATE, name, 3, 2e-5, 1);
    v = path ? verify(CLASSIFIER_RESNET, RESNET_MODEL, path, 10) : NULL;
    REQUIRE(v, "no perturbed state");
    CHECK(!v->ok && v->steps_ok && v->eval_logits_ok, "a running variance 2e-5 off passes");
    for (int i = 0; i < v->n_buffers; i++)
        CHECK(v->buffers[i].ok == (strcmp(v->buffers[i].name, name + strlen("after.")) != 0), "%s: ok %d",
              v->buffers[i].name, v->buffers[i].ok);
    // an evaluation logit 1e-3 of the largest (0.31) off: 3e-4, past 1e-4
    path = perturbed(RESNET_STATE, "eval_logits", 4, 1e-3, 1);
    v = path ? verify(CLASSIFIER_RESNET, RESNET_MODEL, path, 10) : NULL;
    REQUIRE(v, "no perturbed state");
    CHECK(v->eval_compared && !v->eval_logits_ok && !v->ok && v->steps_ok, "eval logits %g off pass", v->eval_logits_max_abs);
}

static void another_architecture_is_refused(void) {
    ClassifierVerification v;
    Error error;
    CHECK(classifier_verify(CLASSIFIER_RESNET, "tests/fixtures/lenet5/PARAMS.safetensors",
                            "tests/fixtures/lenet5/STATE.safetensors", 0, 1e-3f, &v, &error) != 0, "a lenet5 verified as resnet");
    CHECK(strstr(error.message, "a lenet5 checkpoint, not resnet") != NULL, "message: %s", error.message);
    CHECK(classifier_verify(CLASSIFIER_LENET5, RESNET_MODEL, "tests/fixtures/lenet5/STATE.safetensors", 0, 1e-3f, &v,
                            &error) != 0, "a resnet verified as lenet5");
    CHECK(strstr(error.message, "a resnet checkpoint, not lenet5") != NULL, "message: %s", error.message);
    // the right architecture against another model's state: the gradient sizes differ
    CHECK(classifier_verify(CLASSIFIER_LENET5, "tests/fixtures/lenet5_original/PARAMS.safetensors",
                            "tests/fixtures/lenet5/STATE.safetensors", 0, 1e-3f, &v, &error) != 0, "another state accepted");
    CHECK(strstr(error.message, "expected") != NULL, "message: %s", error.message);
}

static const CheckCase CASES[] = {
    {"the mlp fixture passes", the_mlp_fixture_passes},
    {"the lenet5 fixtures (relu-max and tanh-avg) pass", the_lenet5_fixtures_pass},
    {"the resnet fixture passes, running statistics included", the_resnet_fixture_passes},
    {"each tolerance fails just past it", each_tolerance_fails_when_passed},
    {"a model of another architecture is refused", another_architecture_is_refused},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
