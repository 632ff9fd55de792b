// Many small maps (convolution filters, feature maps, saliency) tiled into one picture: each
// tile scaled to 0..255, enlarged by an integer factor (each value a scale×scale block, so a
// 5×5 filter stays visible), tiles separated and framed by a 1-pixel grey (128) border.
//
//   out width  = columns·(width·scale + 1) + 1,   out height = rows·(height·scale + 1) + 1,
//   rows = ⌈n / columns⌉; slots past the n-th tile stay grey.
//
// Scaling of a tile's values v (all its channels together):
//   GRID_EACH_TILE   (v − min) / (max − min) · 255 over the tile (a constant tile is black);
//   GRID_UNIT_RANGE  v · 255, v clamped to [0, 1] (values already normalised by the caller).
#ifndef FOUNDATIONS_IMAGE_GRID_H
#define FOUNDATIONS_IMAGE_GRID_H

#include "foundations/error.h"
#include "foundations/image.h"

typedef enum { GRID_EACH_TILE, GRID_UNIT_RANGE } GridScaling;

enum { GRID_BORDER_VALUE = 128 };

// maps (n, channels, height, width) -> out, an Image (maxval 255, channels 1 or 3) the caller
// frees with image_free. columns <= 0 means ⌈√n⌉. Errors: n, height, width or scale below 1,
// channels other than 1 or 3, a picture above 2^26 pixels, out of memory.
int image_grid(Image *out, const float *maps, int n, int channels, int height, int width, int columns, int scale,
               GridScaling scaling, Error *error);

// Min-max scaling of n values into [0, 1] in place (a constant array becomes 0); non-finite
// values are left out of the range and set to 0.
void normalize_unit_range(float *values, long n);

#endif
