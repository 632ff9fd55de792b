// groundup bench train / bench generate: the speed of a GPT-2 training step and of decoding,
// on a randomly initialised model of a given shape (or a checkpoint, for generate).
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/clock.h"
#include "foundations/matmul.h"
#include "foundations/optimizer.h"
#include "gpt/checkpoint.h"
#include "gpt/quantize.h"
#include "quant/quant.h"
#include "gpt/gpt2.h"
#include "tools/bench.h"
#include "tools/run.h"
#include "tools/options.h"

// The default shape is the small model `groundup train` trains by default.
typedef struct Shape {
    int layers, heads, dim, context, vocab;
} Shape;

static int create_random_gpt2(Model *model, const Shape *shape, Error *error) {
    ModelConfig config = {.arch = ARCH_GPT2, .vocab_size = shape->vocab, .context_length = shape->context,
                          .n_layers = shape->layers, .n_heads = shape->heads, .d_model = shape->dim};
    Random rng;
    random_seed(&rng, 1);
    return model_init(model, &config, &rng, error);
}

int bench_train(int argc, char **argv) {
    Shape shape = {4, 4, 256, 128, 4096};
    int batch = 8, threads = 0, steps = 6;
    Option options[] = {
        {"--layers", OPTION_INT, &shape.layers, "transformer blocks"},
        {"--heads", OPTION_INT, &shape.heads, "attention heads"},
        {"--dim", OPTION_INT, &shape.dim, "model width C"},
        {"--context", OPTION_INT, &shape.context, "sequence length T of each batch row (and the model's context)"},
        {"--vocab", OPTION_INT, &shape.vocab, "vocabulary size V"},
        {"--batch", OPTION_INT, &batch, "batch size B"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--steps", OPTION_INT, &steps, "timed steps after one warm-up step (median reported)"},
    };
    const char *usage = "groundup bench train [--layers L --heads H --dim C --context T --vocab V] [--batch B] [--threads N]";
    int status = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (batch < 1 || steps < 1 || steps > 1000 || threads < 0)
        return fail("bench train", "--batch and --steps must be positive, --threads non-negative");
    if (threads) omp_set_num_threads(threads);

    Error error;
    Model model;
    if (create_random_gpt2(&model, &shape, &error) || model_prepare(&model, batch, shape.context, 1, &error))
        return fail("bench train", error.message);
    Optimizer optimizer;
    OptimizerConfig config = optimizer_default_config(OPTIMIZER_ADAMW);
    if (optimizer_init(&optimizer, &config, model.n_params, &error)) return fail("bench train", error.message);
    long BT = (long)batch * shape.context;
    int *inputs = malloc(sizeof(int) * (size_t)BT), *targets = malloc(sizeof(int) * (size_t)BT);
    double *times = malloc(sizeof(double) * (size_t)steps);
    Random rng;
    random_seed(&rng, 2);
    for (long i = 0; i < BT; i++) inputs[i] = (int)random_below(&rng, (uint32_t)shape.vocab);
    for (long i = 0; i < BT; i++) targets[i] = (int)random_below(&rng, (uint32_t)shape.vocab);
    fprintf(stderr, "bench train: %ld parameters, B=%d T=%d, %d threads\n", model_count_parameters(&model), batch, shape.context,
            omp_get_max_threads());
    double *forward_times = malloc(sizeof(double) * (size_t)steps), *backward_times = malloc(sizeof(double) * (size_t)steps);
    for (int step = -1; step < steps; step++) {
        double start = clock_seconds();
        int failed = model.ops->forward(&model, inputs, targets, batch, shape.context, &error);
        double forward_done = clock_seconds();
        memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
        if (failed || model_backward(&model, &error)) {
            fprintf(stderr, "groundup: bench train: %s\n", error.message);
            exit(1);
        }
        double backward_done = clock_seconds();
        optimizer_step(&optimizer, model.params, model.grads, model.n_params, 1e-4f);
        if (step >= 0) {
            times[step] = clock_seconds() - start;
            forward_times[step] = forward_done - start;
            backward_times[step] = backward_done - forward_done;
        }
    }
    double ms = bench_median(times, steps) * 1e3;
    fprintf(stderr, "bench train: forward %.1f ms, zero grads + backward %.1f ms, optimizer and the rest %.1f ms\n",
            bench_median(forward_times, steps) * 1e3, bench_median(backward_times, steps) * 1e3,
            ms - bench_median(forward_times, steps) * 1e3 - bench_median(backward_times, steps) * 1e3);
    free(forward_times), free(backward_times);
    printf("groundup train: %.1f ms/step (median of %d), %.0f tokens/s, threads %d\n", ms, steps, BT / ms * 1e3,
           omp_get_max_threads());
    free(inputs), free(targets), free(times);
    optimizer_free(&optimizer);
    model_free(&model);
    return 0;
}

// The process's resident memory now, in MB (from /proc/self/statm; 0 where there is none).
static double resident_megabytes(void) {
    FILE *file = fopen("/proc/self/statm", "r");
    long pages_total = 0, pages_resident = 0;
    if (!file) return 0.0;
    int read = fscanf(file, "%ld %ld", &pages_total, &pages_resident);
    fclose(file);
    return read == 2 ? (double)pages_resident * (double)sysconf(_SC_PAGESIZE) / 1e6 : 0.0;
}

// The buffer for measuring memory bandwidth: 4x the last-level cache (so that nothing of it is
// still cached when a pass comes back to it), at least 1 GiB, at most 4 GiB.
static long bandwidth_buffer_bytes(long *cache_bytes) {
    long cache = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
    cache = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (cache <= 0) cache = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    *cache_bytes = cache > 0 ? cache : 0;
    long bytes = 4 * *cache_bytes;
    if (bytes < (1L << 30)) bytes = 1L << 30;
    return bytes > (4L << 30) ? 4L << 30 : bytes;
}

// Sixteen floats as one value: 64-byte loads on AVX-512, four 16-byte ones on plain SSE.
typedef float float16 __attribute__((vector_size(64)));

// One pass over the buffer split over `threads` threads, each summing its part with four
// independent vector sums (a single sum would wait on the latency of each addition and
// measure the adder, not the memory). Returns the seconds taken.
static double read_pass(const float16 *buffer, long n_vectors, int threads, double *sink) {
    double start = clock_seconds(), total = 0.0;
#pragma omp parallel for schedule(static) num_threads(threads) reduction(+ : total)
    for (int t = 0; t < threads; t++) {
        long begin = n_vectors * t / threads, end = n_vectors * (t + 1) / threads;
        float16 sums[4] = {{0}, {0}, {0}, {0}};
        long i = begin;
        for (; i + 4 <= end; i += 4)
            for (int j = 0; j < 4; j++) sums[j] += buffer[i + j];
        for (; i < end; i++) sums[0] += buffer[i];
        float16 all = sums[0] + sums[1] + sums[2] + sums[3];
        for (int j = 0; j < 16; j++) total += all[j];
    }
    *sink += total;
    return clock_seconds() - start;
}

// Streaming read bandwidth in GB/s with `threads` threads, best of 5 passes (the bound is an
// upper bound: the best pass is the one the rest of the machine disturbed least).
static double measure_read_bandwidth(const float16 *buffer, long n_vectors, int threads) {
    double best = 0.0, sink = 0.0;
    for (int pass = 0; pass < 5; pass++) {
        double seconds = read_pass(buffer, n_vectors, threads, &sink);
        if (seconds > 0 && (double)n_vectors * sizeof(float16) / seconds > best)
            best = (double)n_vectors * sizeof(float16) / seconds;
    }
    return sink == -1.0 ? 0.0 : best * 1e-9;  // (the test keeps the sums alive)
}

// The machine's streaming read bandwidth: with the decoding's thread count and with every
// processor, on a buffer far larger than the last-level cache. Returns the larger, the honest
// upper bound on bytes per second that decoding can read; prints both.
static double read_bandwidth_bound(int threads) {
    long cache_bytes, bytes = bandwidth_buffer_bytes(&cache_bytes);
    float16 *buffer = NULL;
    for (; bytes >= (256L << 20) && !(buffer = aligned_alloc(64, (size_t)bytes)); bytes /= 2) {}
    if (!buffer) return 0.0;
    long n_vectors = bytes / (long)sizeof(float16);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n_vectors; i++)
        for (int j = 0; j < 16; j++) buffer[i][j] = (float)((i + j) & 7);
    int processors = omp_get_num_procs();
    double mine = measure_read_bandwidth(buffer, n_vectors, threads);
    double all = processors > threads ? measure_read_bandwidth(buffer, n_vectors, processors) : mine;
    free(buffer);
    printf("memory: streaming read (vector loads, 4 sums per thread, %.1f GiB buffer, last-level cache %.0f MiB): "
           "%.1f GB/s with %d threads, %.1f GB/s with %d\n",
           (double)bytes / (1 << 30), (double)cache_bytes / (1 << 20), mine, threads, all, processors);
    return mine > all ? mine : all;
}

int bench_generate(int argc, char **argv) {
    Shape shape = {12, 12, 768, 1024, 50257};
    const char *model_path = NULL, *quantize_to = NULL;
    int tokens = 64, threads = 0, prompt_tokens = 1;
    Option options[] = {
        {"--model", OPTION_STRING, &model_path, "checkpoint to decode with (default: a random model of the shape)"},
        {"--layers", OPTION_INT, &shape.layers, "transformer blocks"},
        {"--heads", OPTION_INT, &shape.heads, "attention heads"},
        {"--dim", OPTION_INT, &shape.dim, "model width C"},
        {"--context", OPTION_INT, &shape.context, "the model's context length"},
        {"--vocab", OPTION_INT, &shape.vocab, "vocabulary size V"},
        {"--tokens", OPTION_INT, &tokens, "tokens to decode"},
        {"--prompt-tokens", OPTION_INT, &prompt_tokens, "tokens in the prompt, processed as one batch first"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--quantize", OPTION_STRING, &quantize_to, "q8_0 or q4_0: quantize the model in memory first"},
    };
    const char *usage = "groundup bench generate (--model FILE | shape options) [--quantize q8_0|q4_0] [--tokens N] "
                        "[--threads N]";
    int status = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (tokens < 1 || prompt_tokens < 1 || threads < 0)
        return fail("bench generate", "--tokens and --prompt-tokens must be positive, --threads non-negative");
    if (threads) omp_set_num_threads(threads);

    Error error;
    Model model;
    TextTokenizer tokenizer;
    memset(&tokenizer, 0, sizeof tokenizer);
    if (model_path ? checkpoint_load_for_inference(model_path, NULL, &model, &tokenizer, NULL, 0, &error)
                   : create_random_gpt2(&model, &shape, &error))
        return fail("bench generate", error.message);
    text_tokenizer_free(&tokenizer);
    if (quantize_to) {
        QuantType type;
        Model quantized;
        if (quant_type_parse(quantize_to, &type, &error) || model_quantize(&quantized, &model, type, type, NULL, &error)) {
            model_free(&model);
            return fail("bench generate", error.message);
        }
        model_free(&model);
        model = quantized;
    }
    if (model_prepare(&model, 1, 1, 0, &error)) return fail("bench generate", error.message);
    int context = model.config.context_length, V = model.config.vocab_size;
    if (prompt_tokens + tokens > context) {
        model_free(&model);
        return fail("bench generate", "--prompt-tokens + --tokens exceed the model's context");
    }
    int *sequence = malloc(sizeof(int) * (size_t)context);
    float *logits = malloc(sizeof(float) * (size_t)V);
    for (int i = 0; i < prompt_tokens; i++) sequence[i] = i % V;
    double start = clock_seconds();
    if (model.ops->next_logits(&model, sequence, prompt_tokens, logits, &error)) return fail("bench generate", error.message);
    double prompt_seconds = clock_seconds() - start;
    start = clock_seconds();
    int n = prompt_tokens;
    for (int i = 0; i < tokens; i++) {
        int best = 0;  // greedy: the work per token does not depend on the choice
        for (int v = 1; v < V; v++) best = logits[v] > logits[best] ? v : best;
        sequence[n++] = best;
        if (model.ops->next_logits(&model, sequence, n, logits, &error)) return fail("bench generate", error.message);
    }
    double seconds = clock_seconds() - start;
    double tokens_per_second = tokens / seconds;
    double resident_mb = resident_megabytes();
    // Every weight is read once per token: the fp32 tensors and the quantized blocks.
    double bytes_per_token = 0.0;
    for (int t = 0; t < model.n_tensors; t++)
        bytes_per_token += model.tensors[t].type == TENSOR_F32 ? (double)model.tensors[t].size * sizeof(float)
                                                               : (double)model.quantized[t].bytes;
    printf("model: %ld parameters, %.1f MB of weights read per token; %d threads\n", model_count_parameters(&model), bytes_per_token / 1e6,
           omp_get_max_threads());
    printf("kernels: gemm %s, quantized %s (GROUNDUP_GEMM, GROUNDUP_QUANT choose others)\n",
           gemm_kernel_name(gemm_kernel_best()), quant_kernel_name(QUANT_KERNEL_BEST));
    printf("prompt: %d tokens in %.1f ms (%.1f tok/s)\n", prompt_tokens, prompt_seconds * 1e3,
           prompt_tokens / prompt_seconds);
    printf("decode: %.2f tok/s (%d tokens in %.2f s)\n", tokens_per_second, tokens, seconds);
    double bandwidth = read_bandwidth_bound(omp_get_max_threads());
    double bound = bandwidth * 1e9 / bytes_per_token;
    printf("bound: %.1f tok/s (%.1f GB/s / %.1f MB per token); decode reaches %.0f%% of it\n", bound, bandwidth,
           bytes_per_token / 1e6, 100.0 * tokens_per_second / bound);
    printf("resident memory while decoding: %.0f MB (weights, key/value cache, scratch)\n", resident_mb);
    free(sequence), free(logits);
    model_free(&model);
    return 0;
}
