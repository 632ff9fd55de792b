// groundup verify: checks the C GPT-2 against a PyTorch reference's debug state
// (tools/reference/gpt2_reference.py writes both files): logits, loss, every gradient, then
// a few AdamW steps on the same batch whose losses can be compared with the reference's.
// The comparison is gpt/verify.h's; this file parses options and prints.
#include <math.h>
#include <stdio.h>

#include "gpt/verify.h"
#include "tools/commands.h"
#include "tools/options.h"

static const char *verdict(int ok) { return ok ? "ok" : "FAIL"; }

static void print_verification(const Gpt2Verification *v, const Model *model, const double *expected, int n_expected) {
    printf("logits: max |difference| %.3g (tolerance %.0e) %s\n", v->logits_difference, VERIFY_LOGITS_TOLERANCE,
           verdict(v->logits_difference <= VERIFY_LOGITS_TOLERANCE));
    printf("loss: groundup %.7f reference %.7f relative difference %.3g (tolerance %.0e) %s\n", v->loss,
           v->reference_loss, v->loss_relative, VERIFY_LOSS_TOLERANCE, verdict(v->loss_relative <= VERIFY_LOSS_TOLERANCE));
    for (int t = 0; t < v->n_gradients; t++) {
        const TensorComparison *g = &v->gradients[t];
        printf("grad %-9s max |difference| %.3g, relative to max |grad| %.3g: %.3g %s\n", model->tensors[t].name,
               g->max_difference, g->largest, g->relative, verdict(g->relative <= VERIFY_GRADIENT_TOLERANCE));
    }
    for (int step = 0; step < v->steps_done; step++) {
        printf("step %d loss %.7f", step, v->step_losses[step]);
        if (step < n_expected) {
            double relative = fabs(v->step_losses[step] - expected[step]) / fabs(expected[step]);
            printf(" reference %.7f relative difference %.3g %s", expected[step], relative,
                   verdict(relative <= VERIFY_STEP_LOSS_TOLERANCE));
        }
        printf("\n");
    }
}

int command_verify(int argc, char **argv) {
    if (verify_wants_classifier(argc, argv)) return verify_classifier(argc, argv);  // a framework model
    const char *model_path = NULL, *state_path = NULL, *losses_path = NULL;
    int steps = 10;
    float lr = 1e-4f;
    Option options[] = {
        {"--model", OPTION_STRING, &model_path, "GPT-2 checkpoint (llm.c format)"},
        {"--state", OPTION_STRING, &state_path, "debug state (llm.c test_gpt2 format) of the same model"},
        {"--steps", OPTION_INT, &steps, "AdamW steps to run on the state's batch"},
        {"--lr", OPTION_FLOAT, &lr, "learning rate of those steps"},
        {"--expected-losses", OPTION_STRING, &losses_path, "reference losses ('step N loss X' lines) to compare"},
    };
    const char *usage = "groundup verify --model M --state S [--steps 10] [--lr 1e-4] [--expected-losses FILE]";
    int status = options_parse(argc, argv, usage, options, sizeof options / sizeof options[0], NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !state_path) return fail("verify", "--model and --state are required");
    if (steps < 0 || steps > VERIFY_MAX_STEPS) return fail("verify", "--steps must be 0..1000");
    if (!(lr > 0.0f)) return fail("verify", "--lr must be positive");
    Error error;
    static double expected_losses[VERIFY_MAX_STEPS];
    int n_expected = 0;
    if (losses_path && (n_expected = verify_read_expected_losses(losses_path, expected_losses, VERIFY_MAX_STEPS, &error)) < 0)
        return fail("verify", error.message);

    Model model;
    DebugState state;
    if (llmc_read_checkpoint(&model, model_path, &error)) return fail("verify", error.message);
    if (llmc_read_debug_state(&state, &model, state_path, &error)) {
        model_free(&model);
        return fail("verify", error.message);
    }
    Gpt2Verification verification;
    status = gpt2_verify(&model, &state, steps, lr, expected_losses, n_expected, &verification, &error);
    if (verification.gradients) print_verification(&verification, &model, expected_losses, n_expected);
    int failures = verification.failures + (status != 0);
    if (status) fprintf(stderr, "groundup: verify: %s\n", error.message);
    gpt2_verification_free(&verification);
    debug_state_free(&state);
    model_free(&model);
    if (failures) fprintf(stderr, "groundup: verify: %d check(s) exceeded their tolerance\n", failures);
    else fprintf(stderr, "verify: all checks within tolerance\n");
    return failures ? 1 : 0;
}
