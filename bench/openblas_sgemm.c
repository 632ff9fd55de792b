// OpenBLAS's sgemm on the shapes of `groundup bench matmul`, for comparison only (built by
// bench/matmul.sh against Debian's libopenblas-dev; never part of groundup's build).
// out (M,N) = inp (M,K) · W (N,K)ᵀ, the same product and layout as matmul_forward.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "foundations/clock.h"

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int repeats = argc > 1 ? atoi(argv[1]) : 7, M = 256;
    const int shapes[][2] = {{768, 2304}, {768, 3072}, {3072, 768}, {768, 50304}};
    for (int s = 0; s < 4; s++) {
        int K = shapes[s][0], N = shapes[s][1];
        float *a = malloc(sizeof(float) * (size_t)M * K), *w = malloc(sizeof(float) * (size_t)N * K);
        float *c = malloc(sizeof(float) * (size_t)M * N);
        for (long i = 0; i < (long)M * K; i++) a[i] = (float)(i % 13) * 0.01f;
        for (long i = 0; i < (long)N * K; i++) w[i] = (float)(i % 7) * 0.01f;
        for (int threads = 1; threads <= 2; threads++) {
            openblas_set_num_threads(threads);
            double times[100];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a, K, w, K, 0.0f, c, N);
            for (int r = 0; r < repeats && r < 100; r++) {
                double start = clock_seconds();
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a, K, w, K, 0.0f, c, N);
                times[r] = clock_seconds() - start;
            }
            qsort(times, (size_t)repeats, sizeof(double), compare);
            double median = times[repeats / 2];
            printf("%d %d %d %d %.3f %.1f\n", M, K, N, threads, median * 1e3, 2.0 * M * K * N / median * 1e-9);
        }
        free(a), free(w), free(c);
    }
    return 0;
}
