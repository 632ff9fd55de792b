// groundup verify --arch mlp|lenet5|resnet|alexnet|vit: a framework image classifier against the PyTorch
// reference's files (tools/reference/mlp_reference.py, cnn_reference.py): prints the largest
// differences, the AdamW steps' losses and the running statistics after them, exits 1 past the
// tolerances. The comparison itself is models/classifier_verify.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/classifier_verify.h"
#include "models/transformer_verify.h"
#include "tools/commands.h"
#include "tools/options.h"

// Any --arch: the GPT-2 check takes none, so an unknown architecture is reported here.
int verify_wants_classifier(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--arch") == 0 || strncmp(argv[i], "--arch=", 7) == 0) return 1;
    return 0;
}

static void print_verification(const char *arch, const ClassifierVerification *v) {
    printf("logits: max |difference| %.3g (tolerance %g) %s\n", v->logits_max_abs, CLASSIFIER_LOGITS_TOLERANCE,
           v->logits_ok ? "ok" : "FAIL");
    printf("loss: %.8f, reference %.8f, relative difference %.3g (tolerance %g) %s\n", v->loss, v->reference_loss,
           v->loss_relative, CLASSIFIER_LOSS_TOLERANCE, v->loss_ok ? "ok" : "FAIL");
    for (int i = 0; i < v->n_grads; i++)
        printf("grad %-28s max |difference| %.3g, relative to its largest %.3g (tolerance %g) %s\n", v->grads[i].name,
               v->grads[i].max_abs, v->grads[i].relative, CLASSIFIER_GRADIENT_TOLERANCE, v->grads[i].ok ? "ok" : "FAIL");
    for (int k = 0; k < v->n_steps; k++) {
        printf("step %d loss %.6f", k, v->step_losses[k]);
        if (k < v->n_reference_steps) printf("  reference %.6f", v->reference_step_losses[k]);
        printf("\n");
    }
    if (v->n_reference_steps)
        printf("steps: largest relative difference %.3g (tolerance %g) %s\n", v->steps_max_relative,
               CLASSIFIER_STEP_TOLERANCE, v->steps_ok ? "ok" : "FAIL");
    for (int i = 0; i < v->n_buffers; i++)
        printf("after the steps %-28s max |difference| %.3g, relative to its largest %.3g (tolerance %g) %s\n",
               v->buffers[i].name, v->buffers[i].max_abs, v->buffers[i].relative, CLASSIFIER_BUFFER_TOLERANCE,
               v->buffers[i].ok ? "ok" : "FAIL");
    if (v->eval_compared)
        printf("evaluation-mode logits after the steps: max |difference| %.3g (tolerance %g) %s\n", v->eval_logits_max_abs,
               CLASSIFIER_EVAL_LOGITS_TOLERANCE, v->eval_logits_ok ? "ok" : "FAIL");
    printf(v->ok ? "OK: the %s matches the reference\n" : "FAIL: the %s differs past the tolerances\n", arch);
}

int verify_classifier(int argc, char **argv) {
    const char *arch_name = NULL, *model_path = NULL, *state_path = NULL;
    int steps = 10, heads = 0;
    float lr = 1e-3f;
    const Option options[] = {
        {"--arch", OPTION_STRING, &arch_name, "mlp | lenet5 | resnet | alexnet | vit | transformer"},
        {"--heads", OPTION_INT, &heads, "transformer: its number of attention heads (the files do not say)"},
        {"--model", OPTION_STRING, &model_path, "PARAMS.safetensors: the reference's state_dict (conv1.weight, ...)"},
        {"--state", OPTION_STRING, &state_path,
         "STATE.safetensors: inputs, targets, logits, loss, grad.<name>, step_losses, after.<name>, eval_logits"},
        {"--steps", OPTION_INT, &steps, "AdamW steps on the state's batch"},
        {"--lr", OPTION_FLOAT, &lr, "learning rate of those steps"},
    };
    const char *usage = "groundup verify --arch mlp|lenet5|resnet|alexnet|vit|transformer [--heads H] --model PARAMS.safetensors "
                        "--state STATE.safetensors [--steps 10] [--lr 1e-3]";
    int parsed = options_parse(argc, argv, usage, options, sizeof options / sizeof *options, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    Error error = {{0}};
    ClassifierArch arch;
    int transformer = arch_name && !strcmp(arch_name, "transformer");
    if (!arch_name || (!transformer && classifier_arch_parse(arch_name, &arch, &error))) return fail("verify", error.message);
    if (transformer && heads < 1) return fail("verify", "--arch transformer needs --heads H (the files do not say)");
    if (!model_path || !state_path) return fail("verify", "--model and --state are required");
    if (steps < 0 || steps > CLASSIFIER_VERIFY_MAX_STEPS) return fail("verify", "--steps must be 0..1000");
    if (!(lr > 0.0f)) return fail("verify", "--lr must be positive");
    ClassifierVerification *v = malloc(sizeof *v);  // ~150 KB: not on the stack
    if (!v) return fail("verify", "out of memory");
    int status = transformer ? transformer_verify(model_path, state_path, heads, steps, lr, v, &error)
                             : classifier_verify(arch, model_path, state_path, steps, lr, v, &error);
    if (!status) print_verification(arch_name, v);
    status = status ? fail("verify", error.message) : v->ok ? 0 : 1;
    free(v);
    return status;
}
