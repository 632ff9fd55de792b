// Image compression by the truncated SVD: each channel of an image, a (height, width) matrix
// A, is replaced by its best rank-k approximation A_k = U_k diag(s_k) V_kᵀ (Eckart-Young: the
// closest rank-k matrix in the Frobenius and spectral norms), which takes (m+n+1)k numbers
// instead of mn.
#ifndef FOUNDATIONS_IMAGE_SVD_H
#define FOUNDATIONS_IMAGE_SVD_H

#include "foundations/error.h"
#include "foundations/image.h"
#include "foundations/linalg.h"

enum { IMAGE_SVD_MAX_CHANNELS = 3 };

// The thin SVD of every channel: channel c = u[c] (height,p) diag(s[c]) vt[c] (p,width),
// p = min(height, width). sums[c] (height,width) holds the running approximation of a sweep.
typedef struct ImageSvd {
    int channels, height, width, p;
    Matrix u[IMAGE_SVD_MAX_CHANNELS], vt[IMAGE_SVD_MAX_CHANNELS], sums[IMAGE_SVD_MAX_CHANNELS];
    double *s[IMAGE_SVD_MAX_CHANNELS];
    int sum_rank;  // the rank the sums hold
} ImageSvd;

// Decomposes every channel (Golub-Kahan, foundations/linalg.h). Errors: out of memory,
// non-finite pixels.
int image_svd(const Image *image, ImageSvd *out, Error *error);
void image_svd_free(ImageSvd *svd);

// out (an image of the same size and channels; its maxval is kept) = the rank-k image, each
// value rounded and clamped to 0..maxval as it will be written; 1 <= k <= p. Ranks asked in
// increasing order reuse the last one's sums (a whole sweep costs one full reconstruction).
void image_svd_rank(ImageSvd *svd, int k, Image *out);

// The fraction of the pixels the rank-k factors take per channel: (m+n+1)k / (mn).
double image_svd_storage(int height, int width, int k);

// The images side by side, left to right, gap columns of white (maxval) between them, into
// out (allocated here). All must have the same height, channels and maxval.
int image_montage(const Image *images, int n, int gap, Image *out, Error *error);

#endif
