// How close samples of a 2-D generative model are to the true toy distribution
// (models/toy2d.h), as a number read against two others: the maximum mean discrepancy
// (foundations/mmd.h) between the samples and a fresh draw of the data, beside
//   floor     the MMD² of a second, independent draw of the data of the same size: what a
//             perfect sampler would get (about 0, give or take the estimate's noise);
//   baseline  the MMD² of as many points from the Gaussian fitted to the data (the mean and
//             covariance of a third draw): what a model that learned only the first two moments
//             would get.
// One Gaussian-kernel bandwidth h, the median heuristic on the fresh draw, serves all three, and
// the MMD is also given at h/4, which sees the moons' width (0.08) rather than their layout.
#ifndef MODELS_TOY2D_QUALITY_H
#define MODELS_TOY2D_QUALITY_H

#include <stdint.h>

#include "foundations/error.h"
#include "models/toy2d.h"

typedef struct Toy2dQuality {
    int n;             // samples scored, and the size of every draw
    double bandwidth;  // h: the median distance between points of the fresh draw
    // MMD²_u at h and at h/4 of the samples, of the second draw (floor), of the Gaussian (baseline)
    double samples, floor, gaussian;
    double samples_fine, floor_fine, gaussian_fine;
} Toy2dQuality;

// Scores samples (n, 2) of a model of kind against draws of n points from seed, seed + 1 and
// seed + 3 (take seeds the training data did not come from). Errors: n < 2, a sample that is not
// finite, out of memory.
int toy2d_quality(Toy2dKind kind, const float *samples, int n, uint64_t seed, Toy2dQuality *quality, Error *error);

#endif
