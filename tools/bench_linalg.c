// groundup bench linalg: wall time of the SVD (U, s, Vᵀ, thin) of random 256x256 and 1024x512
// matrices: Golub-Kahan with and without vectors, and one-sided Jacobi. Single-threaded
// (the code has no threads). Median of --repeats after one warm-up run. bench/linalg.sh puts
// these next to LAPACK's dgesdd/sgesdd on the same shapes.
#include <stdio.h>
#include <stdlib.h>

#include "foundations/clock.h"
#include "foundations/linalg.h"
#include "foundations/random.h"
#include "tools/bench.h"
#include "tools/run.h"
#include "tools/options.h"

int bench_linalg(int argc, char **argv) {
    int repeats = 3, skip_jacobi = 0;
    Option options[] = {
        {"--repeats", OPTION_INT, &repeats, "timed runs per shape and method (the median is reported)"},
        {"--no-jacobi", OPTION_FLAG, &skip_jacobi, "skip the (slow) one-sided Jacobi SVD"},
    };
    int status = options_parse(argc, argv, "groundup bench linalg [--repeats N] [--no-jacobi]", options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (repeats < 1 || repeats > 100) return fail("bench linalg", "--repeats must be 1..100");

    const int shapes[][2] = {{256, 256}, {1024, 512}};
    const char *methods[] = {"groundup Golub-Kahan (U, s, Vt)", "groundup Golub-Kahan (s only)",
                             "groundup one-sided Jacobi (U, s, Vt)"};
    printf("| shape | method | ms (median of %d) |\n|---|---|---|\n", repeats);
    Random rng;
    random_seed(&rng, 1);
    Error error;
    for (int shape = 0; shape < 2; shape++) {
        int m = shapes[shape][0], n = shapes[shape][1];
        Matrix a, u, vt;
        double *s = malloc(sizeof(double) * (size_t)n), *times = malloc(sizeof(double) * (size_t)repeats);
        if (!s || !times || matrix_init(&a, m, n, &error) || matrix_init(&u, m, n, &error) ||
            matrix_init(&vt, n, n, &error))
            return fail("bench linalg", "out of memory");
        for (int i = 0; i < m * n; i++) a.values[i] = 2.0 * random_uniform_double(&rng) - 1.0;
        for (int method = 0; method < (skip_jacobi ? 2 : 3); method++) {
            for (int r = -1; r < repeats; r++) {  // r = -1: warm-up
                double start = clock_seconds();
                int failed = method == 0   ? svd_golub_kahan(&a, &u, s, &vt, &error)
                             : method == 1 ? svd_golub_kahan(&a, NULL, s, NULL, &error)
                                           : svd_jacobi(&a, &u, s, &vt, &error);
                if (failed) return fail("bench linalg", error.message);
                if (r >= 0) times[r] = clock_seconds() - start;
            }
            printf("| %dx%d | %s | %.1f |\n", m, n, methods[method], bench_median(times, repeats) * 1e3);
            fflush(stdout);
        }
        matrix_free(&a), matrix_free(&u), matrix_free(&vt);
        free(s), free(times);
    }
    return 0;
}
