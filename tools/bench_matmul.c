// groundup bench matmul: GFLOP/s of matmul_forward (out = inp · Wᵀ + bias) on the shapes
// of a GPT-2 124M layer with M = 256 rows (B·T), at 1 and 2 threads. Median of --repeats.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "foundations/clock.h"
#include "foundations/matmul.h"
#include "foundations/random.h"
#include "tools/bench.h"
#include "tools/run.h"
#include "tools/options.h"

int bench_matmul(int argc, char **argv) {
    int repeats = 7, rows = 256, max_threads = 2;
    Option options[] = {
        {"--repeats", OPTION_INT, &repeats, "timed runs per shape (the median is reported)"},
        {"--rows", OPTION_INT, &rows, "M, the number of rows (B*T)"},
        {"--threads", OPTION_INT, &max_threads, "largest thread count to time (1..N)"},
    };
    int status = options_parse(argc, argv, "groundup bench matmul [--repeats N] [--rows M] [--threads N]", options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (repeats < 1 || repeats > 1000 || rows < 1 || max_threads < 1 || max_threads > 256)
        return fail("bench matmul", "--repeats must be 1..1000, --rows >= 1, --threads 1..256");

    const int shapes[][2] = {{768, 2304}, {768, 3072}, {3072, 768}, {768, 50304}};
    printf("| M | K | N | threads | ms (median) | GFLOP/s |\n|---|---|---|---|---|---|\n");
    Random rng;
    random_seed(&rng, 1);
    for (int s = 0; s < 4; s++) {
        int K = shapes[s][0], N = shapes[s][1];
        float *inp = malloc(sizeof(float) * (size_t)rows * K), *weight = malloc(sizeof(float) * (size_t)N * K);
        float *bias = malloc(sizeof(float) * (size_t)N), *out = malloc(sizeof(float) * (size_t)rows * N);
        double *times = malloc(sizeof(double) * (size_t)repeats);
        if (!inp || !weight || !bias || !out || !times) return fail("bench matmul", "out of memory");
        random_fill_normal(&rng, inp, (long)rows * K, 0.0f, 1.0f);
        random_fill_normal(&rng, weight, (long)N * K, 0.0f, 0.02f);
        random_fill_normal(&rng, bias, N, 0.0f, 0.02f);
        for (int threads = 1; threads <= max_threads; threads++) {
            omp_set_num_threads(threads);
            matmul_forward(out, inp, weight, bias, rows, K, N);  // warm-up
            for (int r = 0; r < repeats; r++) {
                double start = clock_seconds();
                matmul_forward(out, inp, weight, bias, rows, K, N);
                times[r] = clock_seconds() - start;
            }
            double median = bench_median(times, repeats);
            printf("| %d | %d | %d | %d | %.2f | %.1f |\n", rows, K, N, threads, median * 1e3,
                   2.0 * rows * K * N / median * 1e-9);
            fflush(stdout);
        }
        free(inp), free(weight), free(bias), free(out), free(times);
    }
    return 0;
}
