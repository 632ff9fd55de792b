// groundup verify: checks the C GPT-2 against a PyTorch reference's debug state
// (tools/reference/gpt2_reference.py writes both files): logits, loss, every gradient, then
// a few AdamW steps on the same batch whose losses can be compared with the reference's.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/optimizer.h"
#include "gpt/gpt2.h"
#include "tools/commands.h"
#include "tools/options.h"

// Tolerances (also stated in the README).
static const double LOGITS_TOLERANCE = 1e-4;    // absolute
static const double LOSS_TOLERANCE = 1e-5;      // relative
static const double GRADIENT_TOLERANCE = 1e-3;  // relative to the tensor's largest reference value
static const double STEP_LOSS_TOLERANCE = 1e-5; // relative, each AdamW step against the reference

// Reads "step N loss X" lines; returns how many were read, or -1.
static int read_expected_losses(const char *path, double *losses, int max) {
    FILE *file = fopen(path, "r");
    if (!file) return -1;
    int n = 0, step;
    double loss;
    while (n < max && fscanf(file, " step %d loss %lf", &step, &loss) == 2) {
        if (step != n) break;
        losses[n++] = loss;
    }
    fclose(file);
    return n;
}

int command_verify(int argc, char **argv) {
    if (verify_wants_mlp(argc, argv)) return verify_mlp(argc, argv);  // a framework model
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
    int status = options_parse(argc, argv, usage, options, 5, NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !state_path) return fail("verify", "--model and --state are required");
    if (steps < 0 || steps > 100000) return fail("verify", "--steps must be 0..100000");
    if (!(lr > 0.0f)) return fail("verify", "--lr must be positive");
    double expected_losses[1000];
    int n_expected = 0;
    if (losses_path) {
        n_expected = read_expected_losses(losses_path, expected_losses, 1000);
        if (n_expected < 0) {
            fprintf(stderr, "groundup: verify: %s: cannot open\n", losses_path);
            return 1;
        }
    }

    Error error;
    Model model;
    DebugState state;
    if (llmc_read_checkpoint(&model, model_path, &error)) return fail("verify", error.message);
    if (llmc_read_debug_state(&state, &model, state_path, &error)) {
        model_free(&model);
        return fail("verify", error.message);
    }
    int failures = 0;
    if (model_prepare(&model, state.B, state.T, 1, &error) ||
        model.ops->forward(&model, state.inputs, state.targets, state.B, state.T, &error)) {
        fprintf(stderr, "groundup: verify: %s\n", error.message);
        failures++;
        goto done;
    }
    long n_logits = (long)state.B * state.T * state.V;
    double logits_difference = 0.0;
    for (long i = 0; i < n_logits; i++) logits_difference = fmax(logits_difference, fabs((double)model.logits[i] - state.logits[i]));
    int ok = logits_difference <= LOGITS_TOLERANCE;
    failures += !ok;
    printf("logits: max |difference| %.3g (tolerance %.0e) %s\n", logits_difference, LOGITS_TOLERANCE, ok ? "ok" : "FAIL");
    double loss_difference = fabs((double)model.loss - state.loss) / fabs((double)state.loss);
    ok = loss_difference <= LOSS_TOLERANCE;
    failures += !ok;
    printf("loss: groundup %.7f reference %.7f relative difference %.3g (tolerance %.0e) %s\n", model.loss, state.loss,
           loss_difference, LOSS_TOLERANCE, ok ? "ok" : "FAIL");

    memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
    if (model_backward(&model, &error)) {
        fprintf(stderr, "groundup: verify: %s\n", error.message);
        failures++;
        goto done;
    }
    for (int t = 0; t < model.n_tensors; t++) {
        const TensorInfo *tensor = &model.tensors[t];
        const float *ours = model.grads + tensor->offset, *theirs = state.grads + tensor->offset;
        double largest = 0.0, difference = 0.0;
        for (long i = 0; i < tensor->size; i++) {
            largest = fmax(largest, fabs((double)theirs[i]));
            difference = fmax(difference, fabs((double)ours[i] - theirs[i]));
        }
        double relative = largest > 0.0 ? difference / largest : difference;
        ok = relative <= GRADIENT_TOLERANCE;
        failures += !ok;
        printf("grad %-9s max |difference| %.3g, relative to max |grad| %.3g: %.3g %s\n", tensor->name, difference,
               largest, relative, ok ? "ok" : "FAIL");
    }

    if (steps > 0) {
        Optimizer optimizer;
        OptimizerConfig config = optimizer_default_config(OPTIMIZER_ADAMW);
        config.beta1 = 0.9f, config.beta2 = 0.999f, config.eps = 1e-8f, config.weight_decay = 0.01f;
        if (optimizer_init(&optimizer, &config, model.n_params, &error)) {
            fprintf(stderr, "groundup: verify: %s\n", error.message);
            failures++;
            goto done;
        }
        for (int step = 0; step < steps; step++) {
            if (model.ops->forward(&model, state.inputs, state.targets, state.B, state.T, &error)) {
                fprintf(stderr, "groundup: verify: %s\n", error.message);
                failures++;
                break;
            }
            memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
            if (model_backward(&model, &error)) {
                fprintf(stderr, "groundup: verify: %s\n", error.message);
                failures++;
                break;
            }
            optimizer_step(&optimizer, model.params, model.grads, model.n_params, lr);
            printf("step %d loss %.7f", step, model.loss);
            if (step < n_expected) {
                double relative = fabs(model.loss - expected_losses[step]) / fabs(expected_losses[step]);
                ok = relative <= STEP_LOSS_TOLERANCE;
                failures += !ok;
                printf(" reference %.7f relative difference %.3g %s", expected_losses[step], relative, ok ? "ok" : "FAIL");
            }
            printf("\n");
        }
        optimizer_free(&optimizer);
    }
done:
    debug_state_free(&state);
    model_free(&model);
    if (failures) fprintf(stderr, "groundup: verify: %d check(s) exceeded their tolerance\n", failures);
    else fprintf(stderr, "verify: all checks within tolerance\n");
    return failures ? 1 : 0;
}
