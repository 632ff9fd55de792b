// LAPACK's SVD on the shapes of `groundup bench linalg`, for comparison only: this program is
// built by bench/linalg.sh against Debian's liblapacke-dev and is never part of the groundup
// build. dgesdd (double) and sgesdd (float), divide and conquer, thin U and Vᵀ (jobz = 'S'),
// row-major, on random uniform(-1, 1) matrices; median of the repeats after one warm-up run.
//   usage: lapack_svd [repeats]   (prints markdown rows: | shape | method | ms |)
#include <lapacke.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// A small xorshift generator: the numbers need not match groundup's, only their distribution.
static uint64_t state = 88172645463325252ull;
static double uniform(void) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return (double)(state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

int main(int argc, char **argv) {
    int repeats = argc > 1 ? atoi(argv[1]) : 3;
    if (repeats < 1 || repeats > 100) repeats = 3;
    const int shapes[][2] = {{256, 256}, {1024, 512}};
    double *times = malloc(sizeof(double) * (size_t)repeats);
    for (int shape = 0; shape < 2; shape++) {
        int m = shapes[shape][0], n = shapes[shape][1], p = m < n ? m : n;
        size_t mn = (size_t)m * n;
        double *a = malloc(sizeof(double) * mn), *work_d = malloc(sizeof(double) * mn);
        double *u_d = malloc(sizeof(double) * (size_t)m * p), *s_d = malloc(sizeof(double) * p);
        double *vt_d = malloc(sizeof(double) * (size_t)p * n);
        float *work_f = malloc(sizeof(float) * mn), *u_f = malloc(sizeof(float) * (size_t)m * p);
        float *s_f = malloc(sizeof(float) * p), *vt_f = malloc(sizeof(float) * (size_t)p * n);
        for (size_t i = 0; i < mn; i++) a[i] = uniform();
        for (int precision = 0; precision < 2; precision++) {
            for (int r = -1; r < repeats; r++) {
                // gesdd overwrites its input: copy it outside the timed region.
                for (size_t i = 0; i < mn; i++) work_d[i] = a[i], work_f[i] = (float)a[i];
                double start = clock_seconds();
                int info = precision == 0 ? LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', m, n, work_d, n, s_d, u_d, p, vt_d, n)
                                          : LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'S', m, n, work_f, n, s_f, u_f, p, vt_f, n);
                if (info != 0) {
                    fprintf(stderr, "lapack_svd: %cgesdd failed, info %d\n", precision == 0 ? 'd' : 's', info);
                    return 1;
                }
                if (r >= 0) times[r] = clock_seconds() - start;
            }
            qsort(times, (size_t)repeats, sizeof(double), compare_doubles);
            printf("| %dx%d | LAPACK %s (U, s, Vt) | %.1f |\n", m, n, precision == 0 ? "dgesdd" : "sgesdd",
                   times[repeats / 2] * 1e3);
            fflush(stdout);
        }
        free(a), free(work_d), free(u_d), free(s_d), free(vt_d), free(work_f), free(u_f), free(s_f), free(vt_f);
    }
    free(times);
    return 0;
}
