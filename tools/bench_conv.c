// groundup bench conv: milliseconds of the convolution on LeNet-5's and a small ResNet's layers
// (batch 64, 28×28 MNIST-sized inputs): the forward (conv2d_forward: the implicit gemm for square
// kernels, else im2col and the gemm), the forward by im2col whatever the shape, the same by
// the direct loops, and the backward (input, weight and bias gradients). Medians of
// --repeats, the four measured in turn. bench/conv.sh runs PyTorch's F.conv2d on the same shapes
// (`--shapes` prints them) and tabulates the ratios.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "foundations/convolution.h"
#include "foundations/random.h"
#include "tools/bench.h"
#include "tools/options.h"

typedef struct ConvLayer {
    const char *name;
    int C, H, OC, K, stride, padding;
} ConvLayer;

// LeNet-5 (the lenet5) and a ResNet for 28×28 inputs: a 3×3 stem to 32 channels,
// BasicBlocks of 32 at 28×28, 64 at 14×14 and 128 at 7×7, with their 1×1 downsamples.
static const ConvLayer LAYERS[] = {
    {"lenet5.conv1", 1, 28, 6, 5, 1, 2},   {"lenet5.conv2", 6, 14, 16, 5, 1, 0},
    {"resnet.conv1", 1, 28, 32, 3, 1, 1},  {"resnet.layer1", 32, 28, 32, 3, 1, 1},
    {"resnet.layer2.0", 32, 28, 64, 3, 2, 1}, {"resnet.layer2", 64, 14, 64, 3, 1, 1},
    {"resnet.downsample2", 32, 28, 64, 1, 2, 0}, {"resnet.layer3.0", 64, 14, 128, 3, 2, 1},
    {"resnet.layer3", 128, 7, 128, 3, 1, 1},
};
enum { N_LAYERS = sizeof LAYERS / sizeof *LAYERS };

// Milliseconds of each of the three measurements of one layer, median over repeats.
static int time_layer(const Convolution *c, int repeats, int with_direct, double (*now)(void), Random *rng,
                      double *forward, double *im2col, double *direct, double *backward) {
    long n_in = (long)c->N * c->C * c->H * c->W, n_w = (long)c->OC * c->C * c->KH * c->KW;
    long n_out = (long)c->N * c->OC * c->OH * c->OW;
    float *x = malloc(sizeof(float) * (size_t)n_in), *dx = malloc(sizeof(float) * (size_t)n_in);
    float *w = malloc(sizeof(float) * (size_t)n_w), *dw = calloc((size_t)n_w, sizeof(float));
    float *b = calloc((size_t)c->OC, sizeof(float)), *db = calloc((size_t)c->OC, sizeof(float));
    float *y = malloc(sizeof(float) * (size_t)n_out), *dy = malloc(sizeof(float) * (size_t)n_out);
    double *times = malloc(sizeof(double) * 4 * (size_t)repeats);
    float *work = malloc(sizeof(float) * (size_t)conv2d_workspace_floats(c));  // reused, as the framework does
    int failed = !x || !dx || !w || !dw || !b || !db || !y || !dy || !times || !work;
    if (!failed) {
        random_fill_normal(rng, x, n_in, 0.0f, 1.0f);
        random_fill_normal(rng, w, n_w, 0.0f, 0.1f);
        random_fill_normal(rng, dy, n_out, 0.0f, 1.0f);
    }
    for (int r = -1; r < repeats && !failed; r++) {  // r = -1 warms up
        double t0 = now();
        failed |= conv2d_forward(y, x, w, b, c, work) != 0;
        double t1 = now();
        if (with_direct) conv2d_forward_direct(y, x, w, b, c);
        double t2 = now();
        failed |= conv2d_backward(dx, dw, db, dy, x, w, c, work) != 0;
        double t3 = now();
        failed |= conv2d_forward_im2col(y, x, w, b, c, work) != 0;
        double t4 = now();
        if (r >= 0) {
            times[r] = 1e3 * (t1 - t0), times[repeats + r] = 1e3 * (t2 - t1), times[2 * repeats + r] = 1e3 * (t3 - t2);
            times[3 * repeats + r] = 1e3 * (t4 - t3);
        }
    }
    if (!failed) {
        *forward = bench_median(times, repeats);
        *direct = bench_median(times + repeats, repeats);
        *backward = bench_median(times + 2 * repeats, repeats);
        *im2col = bench_median(times + 3 * repeats, repeats);
    }
    free(x), free(dx), free(w), free(dw), free(b), free(db), free(y), free(dy), free(times), free(work);
    return failed ? -1 : 0;
}

int bench_conv(int argc, char **argv) {
    int repeats = 7, batch = 64, threads = 0, list = 0, no_direct = 0, cpu_time = 0;
    const char *only = "";
    Option options[] = {
        {"--repeats", OPTION_INT, &repeats, "timed runs per layer (the median is reported)"},
        {"--batch", OPTION_INT, &batch, "images per batch N"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--layer", OPTION_STRING, &only, "only the layers whose names contain this"},
        {"--no-direct", OPTION_FLAG, &no_direct, "skip the direct loops (slow)"},
        {"--cpu-time", OPTION_FLAG, &cpu_time, "CPU time of the process (all threads) instead of the wall clock"},
        {"--shapes", OPTION_FLAG, &list, "only print the layers: name N C H W OC K stride padding"},
    };
    const char *usage = "groundup bench conv [--repeats 7] [--batch 64] [--threads N] [--layer NAME] [--no-direct] [--cpu-time] [--shapes]";
    int status = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof *options), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (repeats < 1 || repeats > 1000 || batch < 1 || batch > 4096 || threads < 0 || threads > 256)
        return fail("bench conv", "--repeats must be 1..1000, --batch 1..4096, --threads 0..256");
    if (threads) omp_set_num_threads(threads);
    if (!list)
        printf("| layer | input | weight, stride, padding | forward ms | im2col forward ms | direct forward ms | backward ms | "
               "forward GFLOP/s |\n|---|---|---|---|---|---|---|---|\n");
    Random rng;
    random_seed(&rng, 1);
    for (int l = 0; l < N_LAYERS; l++) {
        const ConvLayer *layer = &LAYERS[l];
        if (!strstr(layer->name, only)) continue;
        Convolution c = {batch, layer->C, layer->H, layer->H, layer->OC, layer->K, layer->K, layer->stride,
                         layer->padding, 1, 1, 0, 0};
        if (conv2d_shape(&c)) return fail("bench conv", "a layer's shape is no convolution");
        if (list) {
            printf("%s %d %d %d %d %d %d %d %d\n", layer->name, batch, c.C, c.H, c.W, c.OC, c.KH, c.stride, c.padding);
            continue;
        }
        double forward, im2col, direct = 0.0, backward;
        if (time_layer(&c, repeats, !no_direct, cpu_time ? clock_cpu_seconds : clock_seconds, &rng, &forward, &im2col, &direct, &backward)) return fail("bench conv", "out of memory");
        double flops = 2.0 * c.N * c.OC * c.OH * c.OW * (double)c.C * c.KH * c.KW;
        char direct_text[32] = "-";
        if (!no_direct) snprintf(direct_text, sizeof direct_text, "%.3f", direct);
        printf("| %s | (%d,%d,%d,%d) | (%d,%d,%d,%d), %d, %d | %.3f | %.3f | %s | %.3f | %.1f |\n", layer->name, c.N,
               c.C, c.H, c.W, c.OC, c.C, c.KH, c.KW, c.stride, c.padding, forward, im2col, direct_text, backward,
               flops / forward * 1e-6);
        fflush(stdout);
    }
    if (!list)
        fprintf(stderr, "%d threads, median of %d, %s\n", omp_get_max_threads(), repeats,
                cpu_time ? "CPU time of all threads" : "wall clock");
    return 0;
}
