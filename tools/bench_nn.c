// groundup bench nn-gpt2: the framework's overhead. One GPT-2 training step (forward, backward,
// AdamW) of the model composed from nn/ operations (models/gpt2.c) against the hand-written
// gpt/gpt2.c, same weights, same batch, the steps of the two alternating; medians and ratio.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "gpt/gpt2.h"
#include "models/gpt2.h"
#include "nn/optim.h"
#include "tools/bench.h"
#include "tools/options.h"

int bench_nn_gpt2(int argc, char **argv) {
    int layers = 4, heads = 4, dim = 256, context = 128, vocab = 4096, batch = 16, threads = 0, steps = 10;
    Option options[] = {
        {"--layers", OPTION_INT, &layers, "transformer blocks"},
        {"--heads", OPTION_INT, &heads, "attention heads"},
        {"--dim", OPTION_INT, &dim, "model width C"},
        {"--context", OPTION_INT, &context, "sequence length T"},
        {"--vocab", OPTION_INT, &vocab, "vocabulary size V"},
        {"--batch", OPTION_INT, &batch, "batch size B"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--steps", OPTION_INT, &steps, "timed steps of each, after one warm-up step"},
    };
    const char *usage = "groundup bench nn-gpt2 [--layers 4 --heads 4 --dim 256 --context 128 --vocab 4096] [--batch 16]";
    int status = options_parse(argc, argv, usage, options, 8, NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (batch < 1 || steps < 1 || steps > 1000 || threads < 0)
        return fail("bench nn-gpt2", "--batch and --steps must be positive, --threads non-negative");
    if (threads) omp_set_num_threads(threads);
    Error error;
    Model model;
    Gpt2Net net;
    Random rng;
    random_seed(&rng, 1);
    ModelConfig config = {.arch = ARCH_GPT2, .vocab_size = vocab, .context_length = context, .n_layers = layers,
                          .n_heads = heads, .d_model = dim};
    if (model_init(&model, &config, &rng, &error) || model_prepare(&model, batch, context, 1, &error))
        return fail("bench nn-gpt2", error.message);
    if (gpt2_net_create(&net, vocab, context, layers, heads, dim, &rng, &error)) {
        model_free(&model);
        return fail("bench nn-gpt2", error.message);
    }
    Optimizer flat;
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f};
    ParamOptimizer per_tensor;
    optimizer_init(&flat, &group.config, model.n_params, &error);
    param_optimizer_init(&per_tensor, &net.params, &group, 1, NULL, &error);
    long BT = (long)batch * context;
    int *inputs = malloc(sizeof(int) * (size_t)BT), *targets = malloc(sizeof(int) * (size_t)BT);
    double *hand = malloc(sizeof(double) * (size_t)steps), *composed = malloc(sizeof(double) * (size_t)steps);
    for (long i = 0; i < BT; i++) inputs[i] = (int)random_below(&rng, vocab), targets[i] = (int)random_below(&rng, vocab);
    Tape tape;
    tape_init(&tape);
    int failed = 0;
    for (int step = -1; step < steps && !failed; step++) {  // step -1 warms both up
        double start = clock_seconds();
        failed |= model.ops->forward(&model, inputs, targets, batch, context, &error) != 0;
        memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
        failed |= model_backward(&model, &error) != 0;
        optimizer_step(&flat, model.params, model.grads, model.n_params, 1e-4f);
        double middle = clock_seconds();
        tape_reset(&tape);
        Tensor *loss = NULL;
        gpt2_net_forward(&tape, &net, inputs, targets, batch, context, &loss);
        parameters_zero_grad(&net.params);
        failed |= tape_backward(&tape, loss, &error) != 0;
        param_optimizer_step(&per_tensor, 1e-4f);
        double end = clock_seconds();
        if (step >= 0) hand[step] = 1e3 * (middle - start), composed[step] = 1e3 * (end - middle);
    }
    if (!failed) {
        double ours = bench_median(composed, steps), theirs = bench_median(hand, steps);
        printf("GPT-2 %dL %dH %dC, V %d, B %d x T %d, %d threads, median of %d steps (forward, backward, AdamW)\n", layers,
               heads, dim, vocab, batch, context, omp_get_max_threads(), steps);
        printf("gpt/gpt2.c (hand-written backward): %.1f ms/step\n", theirs);
        printf("models/gpt2.c (nn/ operations, tape): %.1f ms/step\n", ours);
        printf("framework / hand-written: %.3fx\n", ours / theirs);
    }
    tape_free(&tape);
    param_optimizer_free(&per_tensor);
    optimizer_free(&flat);
    gpt2_net_free(&net);
    model_free(&model);
    free(inputs), free(targets), free(hand), free(composed);
    return failed ? fail("bench nn-gpt2", error.message) : 0;
}
