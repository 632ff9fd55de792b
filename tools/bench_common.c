// Helpers shared by the benchmarks.
#include <stdlib.h>

#include "tools/bench.h"
#include "tools/run.h"

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *values, int n) {
    qsort(values, (size_t)n, sizeof(double), compare_doubles);
    return values[n / 2];
}
