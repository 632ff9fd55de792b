// gpt/verify.h on the committed PyTorch fixture (tests/fixtures/gpt2): every check within its
// tolerance, the step losses those of the reference; a state whose logits or gradients are
// perturbed fails exactly the checks it should; compare_tensors on a hand-made case.
#include <math.h>
#include <string.h>

#include "gpt/verify.h"
#include "tests/check.h"

static const char *MODEL = "tests/fixtures/gpt2/model.bin", *STATE = "tests/fixtures/gpt2/state.bin";

static int verify_fixture(DebugState *state, Gpt2Verification *out, int steps, const double *expected, int n_expected) {
    Error error;
    Model model;
    if (llmc_read_checkpoint(&model, MODEL, &error)) {
        CHECK(0, "%s", error.message);
        return -1;
    }
    int status = gpt2_verify(&model, state, steps, 1e-4f, expected, n_expected, out, &error);
    CHECK(status == 0, "%s", error.message);
    model_free(&model);
    return status;
}

// compare_tensors: max |a - b| 0.5 against max |b| 4, so 0.125; all-zero reference: the difference.
static void compare_tensors_by_hand(void) {
    float ours[3] = {1.0f, -4.5f, 2.0f}, reference[3] = {1.0f, -4.0f, 2.0f}, zeros[3] = {0};
    TensorComparison c = compare_tensors(ours, reference, 3);
    CHECK_NEAR(c.max_difference, 0.5, 0.0);
    CHECK_NEAR(c.largest, 4.0, 0.0);
    CHECK_NEAR(c.relative, 0.125, 0.0);
    CHECK_NEAR(compare_tensors(ours, zeros, 3).relative, 4.5, 0.0);
}

// The fixture's reference state (the PyTorch run's logits and gradients).
static int read_state(DebugState *state) {
    Error error;
    Model model;
    int ok = llmc_read_checkpoint(&model, MODEL, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    ok = llmc_read_debug_state(state, &model, STATE, &error) == 0;
    CHECK(ok, "%s", error.message);
    model_free(&model);
    return ok ? 0 : -1;
}

// Every check within its tolerance on the fixture, the step losses those of the reference.
static void the_fixture_passes_every_check(void) {
    Error error;
    DebugState state;
    REQUIRE(read_state(&state) == 0, "cannot read the fixture");
    double expected[10];
    int n_expected = verify_read_expected_losses("tests/fixtures/gpt2/losses.txt", expected, 10, &error);
    CHECK(n_expected == 10, "10 reference losses, got %d", n_expected);
    CHECK(verify_read_expected_losses("tests/fixtures/gpt2/missing.txt", expected, 10, &error) < 0 &&
              strstr(error.message, "cannot open"),
          "a missing losses file is an error");
    REQUIRE(n_expected == 10, "no reference losses");
    Gpt2Verification v;
    if (verify_fixture(&state, &v, 10, expected, n_expected) == 0) {
        CHECK(v.failures == 0, "%d checks failed on the fixture", v.failures);
        CHECK(v.logits_difference < 1e-6, "logits differ by %g", v.logits_difference);
        CHECK(v.n_gradients == 16, "16 gradient tensors, got %d", v.n_gradients);
        CHECK(v.steps_done == 10, "10 steps, got %d", v.steps_done);
        for (int k = 0; k < v.steps_done; k++) CHECK(fabs(v.step_losses[k] - expected[k]) < 1e-5 * expected[k], "step %d", k);
        CHECK(v.step_losses[9] < v.step_losses[0], "AdamW lowers the loss");
    }
    gpt2_verification_free(&v);
    debug_state_free(&state);
}

// A perturbed reference: one logit off by 1e-3 fails the logits check only; a gradient
// entry doubled fails that tensor's check.
static void a_perturbed_reference_fails_its_check(void) {
    DebugState state;
    REQUIRE(read_state(&state) == 0, "cannot read the fixture");
    Gpt2Verification v;
    state.logits[17] += 1e-3f;
    if (verify_fixture(&state, &v, 0, NULL, 0) == 0) {
        CHECK(v.failures == 1 && v.logits_difference > 9e-4, "one failure (logits), got %d", v.failures);
    }
    gpt2_verification_free(&v);
    state.logits[17] -= 1e-3f;
    state.grads[5] = 2.0f * state.grads[5] + 1.0f;
    if (verify_fixture(&state, &v, 0, NULL, 0) == 0) {
        CHECK(v.failures == 1 && v.gradients[0].relative > 1e-3, "one failure (wte's gradient), got %d", v.failures);
    }
    gpt2_verification_free(&v);
    debug_state_free(&state);
}

static const CheckCase CASES[] = {
    {"compare_tensors by hand", compare_tensors_by_hand},
    {"the fixture passes every check", the_fixture_passes_every_check},
    {"a perturbed reference fails its check", a_perturbed_reference_fails_its_check},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }

