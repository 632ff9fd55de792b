// Images in the Netpbm formats: PGM (grayscale) and PPM (RGB), plain text (P2, P3) or binary
// (P5, P6), maxval 1..65535 (binary samples take two big-endian bytes when maxval > 255).
// Reading checks everything a malformed file can get wrong (magic, dimensions, maxval,
// samples above maxval, truncated data) and says what and where. Pixels are floats so
// that image math needs no conversions; they hold the integers 0..maxval, exactly.
// Not here: PBM (P1, P4), PAM (P7), multi-image files (only the first image is read),
// colour spaces or gamma (samples are taken as they are).
#ifndef FOUNDATIONS_IMAGE_H
#define FOUNDATIONS_IMAGE_H

#include "foundations/error.h"

typedef struct Image {
    int width, height;
    int channels;  // 1 (PGM, gray) or 3 (PPM, red green blue)
    int maxval;    // 1..65535, the value of full intensity
    float *pixels; // (height, width, channels), row by row from the top, 0..maxval
} Image;

// Allocates a black image. width, height >= 1; channels 1 or 3; maxval 1..65535.
int image_init(Image *image, int width, int height, int channels, int maxval, Error *error);
void image_free(Image *image);

// Reads a P2, P3, P5 or P6 file.
int image_read(Image *image, const char *path, Error *error);
// Writes P5/P6 (binary), or P2/P3 if plain_text, choosing PGM or PPM from channels; samples
// are rounded to the nearest integer and clamped to 0..maxval. The file is written next to
// path under a temporary name and renamed, so a failed write leaves no half file at path.
int image_write(const Image *image, const char *path, int plain_text, Error *error);

// Peak signal-to-noise ratio of test against reference, in dB:
//   PSNR = 10 log10(maxval² / MSE), MSE the mean squared difference over all samples,
// INFINITY when the images are equal. Both must have the same size, channels and maxval.
int image_psnr(const Image *reference, const Image *test, double *psnr, Error *error);

// The image as a network's input: planes (channels, height, width), each sample divided by
// maxval (so in [0, 1]), the layout PyTorch's ToTensor gives. planes holds channels·height·width floats.
void image_to_planes(const Image *image, float *planes);

#endif
