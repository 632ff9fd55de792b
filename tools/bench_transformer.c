// groundup bench transformer: ms per training step (forward, backward, AdamW) of the
// encoder-decoder Transformer (models/transformer.h) on a fixed random batch, the median of
// --steps after two warm-up steps. bench/transformer.sh runs it against the same model in
// PyTorch (tools/reference/transformer_reference.py --bench-train) in turn.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "foundations/clock.h"
#include "models/transformer.h"
#include "nn/optim.h"
#include "tools/bench.h"
#include "tools/options.h"

int bench_transformer(int argc, char **argv) {
    int d_model = 64, heads = 4, layers = 2, feedforward = 256, vocab = 45, batch = 64, source = 16, target = 17;
    int threads = 0, steps = 20, norm_first = 0;
    Option options[] = {
        {"--d-model", OPTION_INT, &d_model, "width C"},
        {"--heads", OPTION_INT, &heads, "attention heads"},
        {"--layers", OPTION_INT, &layers, "encoder layers and decoder layers (each)"},
        {"--feedforward", OPTION_INT, &feedforward, "feed-forward width"},
        {"--vocab", OPTION_INT, &vocab, "vocabulary (source and target)"},
        {"--batch", OPTION_INT, &batch, "batch size B"},
        {"--source", OPTION_INT, &source, "source length S"},
        {"--target", OPTION_INT, &target, "target length T (decoder input)"},
        {"--norm-first", OPTION_FLAG, &norm_first, "pre-LN"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--steps", OPTION_INT, &steps, "timed steps, after two warm-up steps"},
    };
    const char *usage = "groundup bench transformer [--d-model 64 --heads 4 --layers 2 --feedforward 256] [--batch 64]";
    int status = options_parse(argc, argv, usage, options, sizeof options / sizeof *options, NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (batch < 1 || source < 1 || target < 1 || steps < 1 || steps > 1000 || threads < 0 || vocab < 2)
        return fail("bench transformer", "--batch, --source, --target, --steps must be positive, --vocab at least 2");
    if (threads) omp_set_num_threads(threads);
    Error error;
    Random rng;
    random_seed(&rng, 1);
    TransformerConfig config = {vocab, vocab, d_model, heads, layers, layers, feedforward, source, target,
                                TRANSFORMER_RELU, norm_first, 0, 0.0f};
    TransformerNet net;
    if (transformer_create(&net, &config, &rng, &error)) return fail("bench transformer", error.message);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f};
    ParamOptimizer optimizer;
    param_optimizer_init(&optimizer, &net.params, &group, 1, NULL, &error);
    int *src = malloc(sizeof(int) * (size_t)batch * source), *in = malloc(sizeof(int) * (size_t)batch * target);
    int *out = malloc(sizeof(int) * (size_t)batch * target);
    double *times = malloc(sizeof(double) * (size_t)steps);
    for (long i = 0; i < (long)batch * source; i++) src[i] = (int)random_below(&rng, vocab);
    for (long i = 0; i < (long)batch * target; i++) in[i] = (int)random_below(&rng, vocab), out[i] = (int)random_below(&rng, vocab);
    Tape tape;
    tape_init(&tape);
    int failed = 0;
    for (int step = -2; step < steps && !failed; step++) {
        double start = clock_seconds();
        tape_reset(&tape);
        Tensor *loss = NULL;
        transformer_forward(&tape, &net, src, source, in, batch, target, NULL, out, NN_NO_IGNORE, 0.0f, &loss, 1, NULL);
        parameters_zero_grad(&net.params);
        failed = !loss ? tape_error(&tape, &error) : tape_backward(&tape, loss, &error);
        param_optimizer_step(&optimizer, 1e-4f);
        if (step >= 0) times[step] = 1e3 * (clock_seconds() - start);
    }
    if (!failed)
        printf("transformer %d+%d layers, C %d, %d heads, FF %d, V %d, B %d, S %d, T %d, %d threads: %.2f ms/step "
               "(median of %d)\n", layers, layers, d_model, heads, feedforward, vocab, batch, source, target,
               omp_get_max_threads(), bench_median(times, steps), steps);
    tape_free(&tape);
    param_optimizer_free(&optimizer);
    transformer_free(&net);
    free(src), free(in), free(out), free(times);
    return failed ? fail("bench transformer", error.message) : 0;
}
