// groundup bench quant: matrix-vector products (M = 1, decoding) with fp32, Q8_0 and Q4_0
// weights over the matrices of a GPT-2 124M: per layer QKV (2304x768), attention output
// (768x768), MLP up (3072x768) and down (768x3072), times 12 layers, plus the 50257x768
// output matrix. One pass over all of them reads every weight once, as one decoded token
// does, so passes per second are the tokens/s these products allow. Also one pass with
// --rows input rows (prompt processing), and each format's round trip error.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "foundations/clock.h"
#include "foundations/matmul.h"
#include "foundations/random.h"
#include "quant/quant.h"
#include "tools/bench.h"
#include "tools/run.h"
#include "tools/options.h"

enum { FORMAT_F32, FORMAT_Q8_0, FORMAT_Q4_0, N_FORMATS };
static const char *format_names[N_FORMATS] = {"fp32", "q8_0", "q4_0"};

typedef struct Layer {
    int rows, cols;  // N, K
    float *weight;
    QuantMatrix quantized[N_FORMATS];  // [FORMAT_Q8_0], [FORMAT_Q4_0]
} Layer;

// One pass: every matrix times its input (rows of K), into out.
static void run_pass(const Layer *layers, int n_matrices, int format, const float *inp, float *out, int rows) {
    for (int i = 0; i < n_matrices; i++) {
        const Layer *layer = &layers[i];
        if (format == FORMAT_F32) matmul_forward(out, inp, layer->weight, NULL, rows, layer->cols, layer->rows);
        else quant_matmul_forward(out, inp, &layer->quantized[format], NULL, rows, layer->cols, layer->rows);
    }
}

// Median seconds of repeats passes (after one warm-up).
static double time_passes(const Layer *layers, int n_matrices, int format, const float *inp, float *out, int rows,
                          int repeats, double *times) {
    run_pass(layers, n_matrices, format, inp, out, rows);
    for (int r = 0; r < repeats; r++) {
        double start = clock_seconds();
        run_pass(layers, n_matrices, format, inp, out, rows);
        times[r] = clock_seconds() - start;
    }
    return bench_median(times, repeats);
}

int bench_quant(int argc, char **argv) {
    int repeats = 9, max_threads = 2, n_layers = 12, rows = 64, seed = 1;
    Option options[] = {
        {"--repeats", OPTION_INT, &repeats, "timed passes per format and thread count (the median is reported)"},
        {"--threads", OPTION_INT, &max_threads, "largest thread count to time (1..N)"},
        {"--layers", OPTION_INT, &n_layers, "transformer layers (12 for GPT-2 124M)"},
        {"--rows", OPTION_INT, &rows, "input rows of the prompt-processing pass (0: skip it)"},
        {"--seed", OPTION_INT, &seed, "seed of the random weights"},
    };
    int status = options_parse(argc, argv,
                               "groundup bench quant [--repeats N] [--threads N] [--layers L] [--rows M] [--seed S]",
                               options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (repeats < 1 || repeats > 1000 || max_threads < 1 || max_threads > 256 || n_layers < 0 || n_layers > 96 ||
        rows < 0 || rows > 4096)
        return fail("bench quant", "--repeats must be 1..1000, --threads 1..256, --layers 0..96, --rows 0..4096");

    // The matrices, as (N, K): 4 per layer, then the output matrix.
    int n_matrices = 4 * n_layers + 1, max_cols = 3072, max_out = 50257;
    Layer *layers = calloc((size_t)n_matrices, sizeof(Layer));
    if (!layers) return fail("bench quant", "out of memory");
    Random rng;
    random_seed(&rng, (uint64_t)seed);
    size_t bytes[N_FORMATS] = {0};
    fprintf(stderr, "bench quant: %d matrices, random N(0, 0.02) weights, quantizing...\n", n_matrices);
    for (int i = 0; i < n_matrices; i++) {
        const int shapes[4][2] = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};
        Layer *layer = &layers[i];
        layer->rows = i == n_matrices - 1 ? 50257 : shapes[i % 4][0];
        layer->cols = i == n_matrices - 1 ? 768 : shapes[i % 4][1];
        layer->weight = malloc(sizeof(float) * (size_t)layer->rows * layer->cols);
        if (!layer->weight) return fail("bench quant", "out of memory for the fp32 weights");
        random_fill_normal(&rng, layer->weight, (long)layer->rows * layer->cols, 0.0f, 0.02f);
        bytes[FORMAT_F32] += sizeof(float) * (size_t)layer->rows * layer->cols;
        for (int f = FORMAT_Q8_0; f < N_FORMATS; f++) {
            Error error;
            QuantType type = f == FORMAT_Q8_0 ? QUANT_Q8_0 : QUANT_Q4_0;
            if (quant_matrix_quantize(&layer->quantized[f], type, layer->weight, layer->rows, layer->cols, &error))
                return fail("bench quant", error.message);
            bytes[f] += layer->quantized[f].bytes;
        }
    }
    int max_rows = rows > 1 ? rows : 1;
    float *inp = malloc(sizeof(float) * (size_t)max_rows * max_cols);
    float *out = malloc(sizeof(float) * (size_t)max_rows * max_out);
    double *times = malloc(sizeof(double) * (size_t)repeats);
    if (!inp || !out || !times) return fail("bench quant", "out of memory");
    random_fill_normal(&rng, inp, (long)max_rows * max_cols, 0.0f, 1.0f);

    printf("Quantized kernel: %s (chosen at run time; GROUNDUP_QUANT=portable|avx2|avx512-vnni picks another). Round trip error on the first QKV matrix (RMS error / RMS "
           "weight): q8_0 %.4f, q4_0 %.4f.\n\n",
           quant_kernel_name(QUANT_KERNEL_BEST),
           quant_error_stats(&layers[0].quantized[FORMAT_Q8_0], layers[0].weight).rms /
               quant_error_stats(&layers[0].quantized[FORMAT_Q8_0], layers[0].weight).weight_rms,
           quant_error_stats(&layers[0].quantized[FORMAT_Q4_0], layers[0].weight).rms /
               quant_error_stats(&layers[0].quantized[FORMAT_Q4_0], layers[0].weight).weight_rms);
    printf("Matrix-vector (M = 1), one pass over all %d matrices = one decoded token:\n\n", n_matrices);
    printf("| format | threads | MB per pass | ms per pass | GB/s | tokens/s | speedup vs fp32 |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (int threads = 1; threads <= max_threads; threads++) {
        omp_set_num_threads(threads);
        double fp32_seconds = 0.0;
        for (int f = 0; f < N_FORMATS; f++) {
            double seconds = time_passes(layers, n_matrices, f, inp, out, 1, repeats, times);
            if (f == FORMAT_F32) fp32_seconds = seconds;
            printf("| %s | %d | %.1f | %.2f | %.1f | %.1f | %.2fx |\n", format_names[f], threads, bytes[f] * 1e-6,
                   seconds * 1e3, bytes[f] / seconds * 1e-9, 1.0 / seconds, fp32_seconds / seconds);
            fflush(stdout);
        }
    }
    if (rows > 0) {
        double flops = 0.0;
        for (int i = 0; i < n_matrices; i++) flops += 2.0 * rows * layers[i].rows * layers[i].cols;
        printf("\nMatrix-matrix (M = %d input rows, prompt processing), one pass over all matrices:\n\n", rows);
        printf("| format | threads | ms per pass | GFLOP/s | rows/s | speedup vs fp32 |\n|---|---:|---:|---:|---:|---:|\n");
        int prompt_repeats = repeats < 3 ? repeats : 3;
        for (int threads = 1; threads <= max_threads; threads++) {
            omp_set_num_threads(threads);
            double fp32_seconds = 0.0;
            for (int f = 0; f < N_FORMATS; f++) {
                double seconds = time_passes(layers, n_matrices, f, inp, out, rows, prompt_repeats, times);
                if (f == FORMAT_F32) fp32_seconds = seconds;
                printf("| %s | %d | %.1f | %.1f | %.0f | %.2fx |\n", format_names[f], threads, seconds * 1e3,
                       flops / seconds * 1e-9, rows / seconds, fp32_seconds / seconds);
                fflush(stdout);
            }
        }
    }
    for (int i = 0; i < n_matrices; i++) {
        free(layers[i].weight);
        for (int f = FORMAT_Q8_0; f < N_FORMATS; f++) quant_matrix_free(&layers[i].quantized[f]);
    }
    free(layers), free(inp), free(out), free(times);
    return 0;
}
