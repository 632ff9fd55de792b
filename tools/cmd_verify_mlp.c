// groundup verify --arch mlp: the framework's MLP against the PyTorch reference's files
// (tools/reference/mlp_reference.py): prints the largest differences and the AdamW steps'
// losses, exits 1 past the tolerances. The comparison itself is models/mlp_verify.c.
#include <stdio.h>
#include <string.h>

#include "models/mlp_verify.h"
#include "tools/commands.h"
#include "tools/options.h"

int verify_wants_mlp(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if ((strcmp(argv[i], "--arch") == 0 && i + 1 < argc && strcmp(argv[i + 1], "mlp") == 0) ||
            strcmp(argv[i], "--arch=mlp") == 0)
            return 1;
    return 0;
}

int verify_mlp(int argc, char **argv) {
    const char *arch = NULL, *model_path = NULL, *state_path = NULL;
    int steps = 10;
    float lr = 1e-3f;
    const Option options[] = {
        {"--arch", OPTION_STRING, &arch, "mlp"},
        {"--model", OPTION_STRING, &model_path, "PARAMS.safetensors: the reference's state_dict (fc1.weight, ...)"},
        {"--state", OPTION_STRING, &state_path, "STATE.safetensors: inputs, targets, logits, loss, grad.<name>, step_losses"},
        {"--steps", OPTION_INT, &steps, "AdamW steps on the state's batch"},
        {"--lr", OPTION_FLOAT, &lr, "learning rate of those steps"},
    };
    const char *usage = "groundup verify --arch mlp --model PARAMS.safetensors --state STATE.safetensors [--steps 10] [--lr 1e-3]";
    int parsed = options_parse(argc, argv, usage, options, 5, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !state_path) return fail("verify", "--model and --state are required");
    if (steps < 0 || steps > VERIFY_MAX_STEPS) return fail("verify", "--steps must be 0..1000");
    if (!(lr > 0.0f)) return fail("verify", "--lr must be positive");
    Error error = {{0}};
    MlpVerification v;
    if (mlp_verify(model_path, state_path, steps, lr, &v, &error)) return fail("verify", error.message);
    printf("logits: max |difference| %.3g (tolerance %g) %s\n", v.logits_max_abs, VERIFY_LOGITS_TOLERANCE,
           v.logits_ok ? "ok" : "FAIL");
    printf("loss: %.8f, reference %.8f, relative difference %.3g (tolerance %g) %s\n", v.loss, v.reference_loss,
           v.loss_relative, VERIFY_LOSS_TOLERANCE, v.loss_ok ? "ok" : "FAIL");
    for (int i = 0; i < v.n_grads; i++)
        printf("grad %-12s max |difference| %.3g, relative to its largest %.3g (tolerance %g) %s\n", v.grads[i].name,
               v.grads[i].max_abs, v.grads[i].relative, VERIFY_GRADIENT_TOLERANCE, v.grads[i].ok ? "ok" : "FAIL");
    for (int k = 0; k < v.n_steps; k++) {
        printf("step %d loss %.6f", k, v.step_losses[k]);
        if (k < v.n_reference_steps) printf("  reference %.6f", v.reference_step_losses[k]);
        printf("\n");
    }
    if (v.n_reference_steps)
        printf("steps: largest relative difference %.3g (tolerance %g) %s\n", v.steps_max_relative, VERIFY_STEP_TOLERANCE,
               v.steps_ok ? "ok" : "FAIL");
    printf("%s\n", v.ok ? "OK: the mlp matches the reference" : "FAIL: differences past the tolerances");
    return v.ok ? 0 : 1;
}
