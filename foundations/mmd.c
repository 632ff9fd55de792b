// The maximum mean discrepancy with a Gaussian kernel: see mmd.h.
#include "foundations/mmd.h"

#include <math.h>
#include <stdlib.h>

#include "foundations/statistics.h"

static double squared_distance(const float *a, const float *b, int dim) {
    double sum = 0.0;
    for (int d = 0; d < dim; d++) sum += ((double)a[d] - b[d]) * ((double)a[d] - b[d]);
    return sum;
}

// Σ k(a_i, b_j) over all i, j, or over i ≠ j when a and b are the same rows (same set).
static double kernel_sum(const float *a, long n, const float *b, long m, int dim, double bandwidth, int same) {
    const double scale = -1.0 / (2.0 * bandwidth * bandwidth);
    double sum = 0.0;
    for (long i = 0; i < n; i++)
        for (long j = same ? i + 1 : 0; j < m; j++)
            sum += exp(scale * squared_distance(a + i * dim, b + j * dim, dim));
    return same ? 2.0 * sum : sum;  // the pairs i < j stand for both (i, j) and (j, i)
}

int mmd2_gaussian(const float *x, long n, const float *y, long m, int dim, double bandwidth, double *mmd2,
                  Error *error) {
    if (n < 2 || m < 2 || dim < 1)
        return error_set(error, "mmd: %ld and %ld points of dimension %d (2 points each and dimension 1 needed)", n, m, dim);
    if (!(bandwidth > 0.0) || !isfinite(bandwidth))
        return error_set(error, "mmd: bandwidth %g (positive and finite needed)", bandwidth);
    if (check_finite(x, n * dim, "mmd: the first sample", error) || check_finite(y, m * dim, "mmd: the second sample", error))
        return -1;
    double xx = kernel_sum(x, n, x, n, dim, bandwidth, 1) / ((double)n * (n - 1));
    double yy = kernel_sum(y, m, y, m, dim, bandwidth, 1) / ((double)m * (m - 1));
    double xy = kernel_sum(x, n, y, m, dim, bandwidth, 0) / ((double)n * m);
    *mmd2 = xx + yy - 2.0 * xy;
    return 0;
}

static int compare_doubles(const void *a, const void *b) {
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

int median_pairwise_distance(const float *x, long n, int dim, long max_points, double *median, Error *error) {
    long p = n < max_points ? n : max_points;
    if (p < 2 || dim < 1)
        return error_set(error, "median distance: %ld points of dimension %d (2 points and dimension 1 needed)", p, dim);
    if (check_finite(x, p * dim, "median distance: the points", error)) return -1;
    long pairs = p * (p - 1) / 2, k = 0;
    double *distances = malloc(sizeof(double) * (size_t)pairs);
    if (!distances) return error_set(error, "median distance: out of memory for %ld pairs", pairs);
    for (long i = 0; i < p; i++)
        for (long j = i + 1; j < p; j++) distances[k++] = sqrt(squared_distance(x + i * dim, x + j * dim, dim));
    qsort(distances, (size_t)pairs, sizeof *distances, compare_doubles);
    *median = pairs % 2 ? distances[pairs / 2] : 0.5 * (distances[pairs / 2 - 1] + distances[pairs / 2]);
    free(distances);
    return 0;
}
