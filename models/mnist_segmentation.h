// A segmentation task made from MNIST (for U-Net, models/unet.h): the input is a digit
// corrupted by occluding strokes and Gaussian noise, the target the clean digit's foreground
// mask. The network must find the digit's pixels under the corruption: keep the strokes of
// the digit, drop the bright lines that are not, fill in where a dark line hides it.
//
// For image i (pixels x in [0, 1], 1×H×W), with a generator seeded from (seed, i) alone (so an
// image's corruption does not depend on which others are made, or in what order):
//   target  m = [x > 0.5]  (1 foreground, 0 background)
//   strokes S lines drawn across the whole image: through a uniform point (px, py) at a uniform
//           angle θ, the pixels (column u, row v) with |(u − px) sin θ − (v − py) cos θ| <= w/2
//           (w the stroke width in pixels) set to 0 (a dark stroke hiding the digit) or 1 (a
//           bright stroke that is not part of it), each with probability 1/2
//   noise   y = clamp(x' + ε, 0, 1), ε ~ N(0, σ²) per pixel
// The defaults: S = 2, w = 1.5, σ = 0.25.
#ifndef MODELS_MNIST_SEGMENTATION_H
#define MODELS_MNIST_SEGMENTATION_H

#include <stdint.h>

#include "foundations/error.h"

typedef struct Corruption {
    int strokes;         // S lines per image, 0..16
    float stroke_width;  // w, pixels, (0, 8]
    float noise_std;     // σ, in [0, 1]
} Corruption;

typedef struct SegmentationSet {
    int count;
    int height, width;
    float *inputs;  // (count, 1, height, width): the corrupted images, in [0, 1]
    float *masks;   // (count, 1, height, width): 0 or 1, the clean images' pixels > 0.5
} SegmentationSet;

// S = 2, w = 1.5, σ = 0.25.
Corruption corruption_default(void);
// Errors naming the value outside its range.
int corruption_check(const Corruption *corruption, Error *error);

// Makes the set from count images (count, 1, height, width) in [0, 1]. Errors: a bad
// corruption, count or sides below 1, out of memory. On failure *out is empty.
int mnist_segmentation_make(const float *images, int count, int height, int width, const Corruption *corruption,
                            uint64_t seed, SegmentationSet *out, Error *error);
void segmentation_set_free(SegmentationSet *set);

#endif
