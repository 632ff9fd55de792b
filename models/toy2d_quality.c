// The samples of a 2-D model against the true distribution by MMD: see toy2d_quality.h.
#include "models/toy2d_quality.h"

#include <math.h>
#include <stdlib.h>

#include "foundations/mmd.h"
#include "foundations/random.h"

// n points of N(μ, Σ) into x (n, 2), with μ and Σ those of data (n_data, 2) (maximum likelihood):
// x = μ + L z with L the Cholesky factor of Σ. x may be data.
static void fitted_gaussian(const float *data, int n_data, int n, uint64_t seed, float *x) {
    double mean[2] = {0, 0}, cov[3] = {0, 0, 0};
    for (int i = 0; i < n_data; i++) mean[0] += data[2 * i] / n_data, mean[1] += data[2 * i + 1] / n_data;
    for (int i = 0; i < n_data; i++) {
        double a = data[2 * i] - mean[0], b = data[2 * i + 1] - mean[1];
        cov[0] += a * a / n_data, cov[1] += a * b / n_data, cov[2] += b * b / n_data;
    }
    double l00 = sqrt(cov[0]), l10 = l00 > 0 ? cov[1] / l00 : 0.0;
    double l11 = sqrt(fmax(cov[2] - l10 * l10, 0.0));
    Random rng;
    random_seed(&rng, seed);
    for (int i = 0; i < n; i++) {
        double z0 = random_normal(&rng, 0.0f, 1.0f), z1 = random_normal(&rng, 0.0f, 1.0f);
        x[2 * i] = (float)(mean[0] + l00 * z0);
        x[2 * i + 1] = (float)(mean[1] + l10 * z0 + l11 * z1);
    }
}

// The three MMD² against reference at bandwidth h.
static int three_mmds(const float *reference, const float *samples, const float *second, const float *gaussian, int n,
                      double h, double out[3], Error *error) {
    return mmd2_gaussian(samples, n, reference, n, 2, h, &out[0], error) ||
           mmd2_gaussian(second, n, reference, n, 2, h, &out[1], error) ||
           mmd2_gaussian(gaussian, n, reference, n, 2, h, &out[2], error);
}

int toy2d_quality(Toy2dKind kind, const float *samples, int n, uint64_t seed, Toy2dQuality *quality, Error *error) {
    if (n < 2) return error_set(error, "sample quality: %d samples (2 needed)", n);
    float *reference = malloc(sizeof(float) * 6 * (size_t)n);
    if (!reference) return error_set(error, "sample quality: out of memory for %d points", 3 * n);
    float *second = reference + 2L * n, *gaussian = reference + 4L * n;
    toy2d_sample(kind, n, seed, reference, NULL);
    toy2d_sample(kind, n, seed + 1, second, NULL);
    toy2d_sample(kind, n, seed + 3, gaussian, NULL);
    fitted_gaussian(gaussian, n, n, seed + 2, gaussian);
    quality->n = n;
    double coarse[3], fine[3];
    int status = median_pairwise_distance(reference, n, 2, 1000, &quality->bandwidth, error) ||
                 three_mmds(reference, samples, second, gaussian, n, quality->bandwidth, coarse, error) ||
                 three_mmds(reference, samples, second, gaussian, n, quality->bandwidth / 4, fine, error);
    free(reference);
    if (status) return -1;
    quality->samples = coarse[0], quality->floor = coarse[1], quality->gaussian = coarse[2];
    quality->samples_fine = fine[0], quality->floor_fine = fine[1], quality->gaussian_fine = fine[2];
    return 0;
}
