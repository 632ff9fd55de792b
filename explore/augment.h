// Data augmentation of grey images (h, w) with values in [0, 1], background 0: new training
// images that keep their label. Each transform maps the output pixel (x, y) back to a point of
// the input and reads it there (inverse mapping), so every output pixel gets exactly one value:
//
//   shift     out(x, y) = in(x − dx, y − dy)                    integer pixels, 0 where it comes from outside
//   rotation  out(p) = in(c + R_θ (p − c)),                     about the centre c = ((w−1)/2, (h−1)/2),
//             R_θ = [cos θ, −sin θ; sin θ, cos θ] on (x, y)      bilinear, 0 outside
//   elastic   out(x, y) = in(x + Δx(x, y), y + Δy(x, y))        Simard, Steinkraus and Platt, "Best practices
//             Δ = α · (G_σ * U),  U(x, y) uniform in [−1, 1]²    for convolutional neural networks applied to
//                                                               visual document analysis", ICDAR 2003:
//             a random displacement field smoothed by a Gaussian of σ pixels and scaled by α (their MNIST
//             values: σ = 4, α = 34); bilinear, 0 outside. The Gaussian is truncated at 3σ and renormalised;
//             the field's border uses the zero extension of U (pixels outside contribute nothing).
//
// Positive dx moves the picture right, positive dy down (rows grow downwards), positive θ turns
// it anticlockwise as seen on the screen. Nothing here allocates except augment_elastic.
#ifndef EXPLORE_AUGMENT_H
#define EXPLORE_AUGMENT_H

#include "foundations/error.h"
#include "foundations/random.h"

// in, out (h, w), distinct buffers.
void augment_shift(const float *in, float *out, int h, int w, int dx, int dy);
void augment_rotate(const float *in, float *out, int h, int w, double radians);
// The bilinear value of in (h, w) at (x, y) in pixel coordinates, pixels outside being 0.
float augment_bilinear(const float *in, int h, int w, double x, double y);
// alpha >= 0, sigma > 0 (pixels). Errors: bad alpha or sigma, out of memory.
int augment_elastic(const float *in, float *out, int h, int w, double alpha, double sigma, Random *rng, Error *error);

typedef enum { AUGMENT_NONE, AUGMENT_SHIFT, AUGMENT_ROTATE, AUGMENT_ELASTIC, AUGMENT_ALL } AugmentKind;
enum { AUGMENT_KINDS = AUGMENT_ALL + 1 };

typedef struct AugmentConfig {
    int max_shift;         // shifts uniform in {−max_shift … max_shift} on each axis
    double max_degrees;    // rotations uniform in [−max_degrees, max_degrees]
    double alpha, sigma;   // elastic distortion
} AugmentConfig;

// ±2 pixels, ±15°, α = 34, σ = 4.
AugmentConfig augment_default_config(void);
// "none", "shift", "rotation", "elastic", "all three"
const char *augment_kind_name(AugmentKind kind);
// One random transform of the kind (AUGMENT_ALL: shift, then rotation, then elastic) of in into
// out (h, w). Errors: augment_elastic's.
int augment_random(AugmentKind kind, const AugmentConfig *config, const float *in, float *out, int h, int w,
                   Random *rng, Error *error);

#endif
