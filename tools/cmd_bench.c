// groundup bench <what>: speed measurements (never tests). Each benchmark prints a table on
// stdout; the README quotes them with the command that made them.
#include <stdio.h>
#include <string.h>

#include "tools/bench.h"
#include "tools/commands.h"

static const Command benchmarks[] = {
    {"matmul", "GFLOP/s of the fast matmul on GPT-2 shapes, 1 and 2 threads", bench_matmul},
    {"tokenizer", "GPT-2 tokenizer encode MB/s (one thread) and BPE training time on Moby-Dick", bench_tokenizer},
    {"train", "ms per GPT-2 training step (forward, backward, AdamW) and tokens/s", bench_train},
    {"generate", "GPT-2 decoding tokens/s against the memory-bandwidth bound", bench_generate},
    {"linalg", "SVD of 256x256 and 1024x512 matrices: Golub-Kahan and Jacobi (bench/linalg.sh adds LAPACK)", bench_linalg},
    {"nn-gpt2", "ms per GPT-2 training step composed from nn/ operations against gpt/gpt2.c's", bench_nn_gpt2},
    {"conv", "ms of conv2d forward (implicit gemm, im2col + gemm, direct loops) and backward on LeNet-5 and ResNet layers", bench_conv},
    {"transformer", "ms per encoder-decoder Transformer training step (bench/transformer.sh runs PyTorch beside it)", bench_transformer},
    {"quant", "fp32, q8_0, q4_0 matrix-vector GB/s and tokens/s over GPT-2 124M's matrices, 1 and 2 threads", bench_quant},
    {"allreduce", "ms of the gradient all-reduce from 1 float to GPT-2 124M (run it under mpirun -np N)", bench_allreduce},
};
static const int n_benchmarks = (int)(sizeof benchmarks / sizeof benchmarks[0]);

int command_bench(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: groundup bench <benchmark> [options]\n\nbenchmarks:\n");
        for (int i = 0; i < n_benchmarks; i++) fprintf(out, "  %-12s %s\n", benchmarks[i].name, benchmarks[i].summary);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < n_benchmarks; i++)
        if (strcmp(argv[1], benchmarks[i].name) == 0) return benchmarks[i].run(argc - 1, argv + 1);
    fprintf(stderr, "groundup: bench: unknown benchmark '%s' (groundup bench --help lists them)\n", argv[1]);
    return 2;
}
