// verify --arch mlp's library side (models/mlp_verify.c): the committed PyTorch fixture passes;
// the same fixture with the reference's loss, one gradient or one step loss moved just past its
// tolerance fails on exactly that check.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/safetensors.h"
#include "models/mlp_verify.h"
#include "tests/check.h"

static const char *MODEL = "tests/fixtures/mlp/PARAMS.safetensors", *STATE = "tests/fixtures/mlp/STATE.safetensors";

static void the_fixture_passes(void) {
    Error error;
    MlpVerification v;
    REQUIRE(mlp_verify(MODEL, STATE, 10, 1e-3f, &v, &error) == 0, "%s", error.message);
    CHECK(v.ok && v.logits_ok && v.loss_ok && v.steps_ok, "the fixture fails: loss %g vs %g", v.loss, v.reference_loss);
    CHECK(v.n_grads == 6 && v.n_steps == 10 && v.n_reference_steps == 10, "%d grads, %d steps", v.n_grads, v.n_steps);
}

// A copy of STATE with tensor `name`'s value `index` scaled by factor; returns its path.
static const char *perturbed(const char *name, long index, float factor) {
    Error error;
    Safetensors file;
    if (safetensors_read(&file, STATE, &error)) return NULL;
    SafetensorsTensor *copies = calloc((size_t)file.n_tensors, sizeof *copies);
    float *changed = NULL;
    for (int i = 0; i < file.n_tensors; i++) {
        copies[i] = file.tensors[i];
        if (strcmp(copies[i].name, name) == 0) {
            changed = malloc(sizeof(float) * (size_t)copies[i].count);
            memcpy(changed, copies[i].floats, sizeof(float) * (size_t)copies[i].count);
            changed[index] *= factor;
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
    Error error;
    MlpVerification v;
    const char *path = perturbed("loss", 0, 1.0f + 3e-5f);
    REQUIRE(path && mlp_verify(MODEL, path, 0, 1e-3f, &v, &error) == 0, "%s", error.message);
    CHECK(!v.ok && !v.loss_ok && v.logits_ok, "a loss 3e-5 off passes");
    // move one gradient by 2e-3 of the tensor's largest value
    Safetensors file;
    REQUIRE(safetensors_read(&file, STATE, &error) == 0, "%s", error.message);
    const SafetensorsTensor *g = safetensors_find(&file, "grad.fc2.weight");
    float largest = 0.0f;
    for (long i = 0; i < g->count; i++) largest = fmaxf(largest, fabsf(g->floats[i]));
    float factor = 1.0f + 2e-3f * largest / fabsf(g->floats[5]);
    safetensors_free(&file);
    path = perturbed("grad.fc2.weight", 5, factor);
    REQUIRE(path && mlp_verify(MODEL, path, 0, 1e-3f, &v, &error) == 0, "%s", error.message);
    CHECK(!v.ok && v.loss_ok, "a gradient 2e-3 off passes");
    for (int i = 0; i < v.n_grads; i++)
        CHECK(v.grads[i].ok == (strcmp(v.grads[i].name, "fc2.weight") != 0), "%s: ok %d", v.grads[i].name, v.grads[i].ok);
    path = perturbed("step_losses", 7, 1.0f + 3e-5f);
    REQUIRE(path && mlp_verify(MODEL, path, 10, 1e-3f, &v, &error) == 0, "%s", error.message);
    CHECK(!v.ok && !v.steps_ok && v.loss_ok, "a step loss 3e-5 off passes");
}

static const CheckCase CASES[] = {
    {"the PyTorch fixture passes", the_fixture_passes},
    {"each tolerance fails just past it", each_tolerance_fails_when_passed},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
