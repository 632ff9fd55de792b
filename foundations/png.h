// PNG files through libpng (its simplified png_image API): 8-bit grayscale or RGB images,
// written safely (a temporary file renamed into place, foundations/file.h) and read back.
// Pictures use foundations/image.h's Image with maxval 255; samples are rounded to the
// nearest integer and clamped to 0..255 on writing.
//
// Not here: 16-bit samples, alpha, palettes, interlacing, text chunks; reading converts any
// PNG libpng reads to 8-bit gray or RGB (alpha composited on black, as libpng does with no
// background given for a gray or colour output without alpha).
#ifndef FOUNDATIONS_PNG_H
#define FOUNDATIONS_PNG_H

#include "foundations/error.h"
#include "foundations/image.h"

// Writes image (channels 1 or 3, pixels in 0..maxval) as an 8-bit PNG at path: samples are
// scaled by 255/maxval. Errors: channels other than 1 or 3, an unwritable path
// ("<path>: cannot create: ..."), libpng's own message ("<path>: <message>").
int png_write(const Image *image, const char *path, Error *error);

// Reads a PNG into image (maxval 255, channels 1 for a gray file, 3 for a colour one).
// Errors: "<path>: ..." with libpng's reason (not a PNG, truncated, cannot open).
int png_read(Image *image, const char *path, Error *error);

#endif
