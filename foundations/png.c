// PNG plumbing: foundations/image.h's Image to and from libpng's simplified API (png_image),
// which reports errors in image.message instead of through setjmp/longjmp.
#include "foundations/png.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"

int png_write(const Image *image, const char *path, Error *error) {
    if (image->channels != 1 && image->channels != 3)
        return error_set(error, "%s: a PNG here has 1 or 3 channels, not %d", path, image->channels);
    if (image->width < 1 || image->height < 1 || image->maxval < 1)
        return error_set(error, "%s: image of %dx%d, maxval %d", path, image->width, image->height, image->maxval);
    size_t n = (size_t)image->width * (size_t)image->height * (size_t)image->channels;
    unsigned char *bytes = malloc(n);
    if (!bytes) return error_set(error, "%s: out of memory for %zu bytes", path, n);
    float scale = 255.0f / (float)image->maxval;
    for (size_t i = 0; i < n; i++) {
        float v = roundf(image->pixels[i] * scale);
        bytes[i] = (unsigned char)(v > 255.0f ? 255.0f : v > 0.0f ? v : 0.0f);  // NaN becomes 0
    }
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = (png_uint_32)image->width;
    png.height = (png_uint_32)image->height;
    png.format = image->channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    SafeFile out;
    int status = -1;
    if (safe_file_open(&out, path, error) == 0) {
        if (png_image_write_to_stdio(&png, out.file, 0, bytes, 0, NULL)) {
            status = safe_file_commit(&out, error);
        } else {
            error_set(error, "%s: %s", path, png.message);
            safe_file_abort(&out);
        }
    }
    png_image_free(&png);
    free(bytes);
    return status;
}

int png_read(Image *image, const char *path, Error *error) {
    memset(image, 0, sizeof *image);
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&png, path)) {
        error_set(error, "%s: %s", path, png.message);
        png_image_free(&png);
        return -1;
    }
    int channels = (png.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    png.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    size_t n = PNG_IMAGE_SIZE(png);
    unsigned char *bytes = malloc(n);
    if (!bytes) {
        png_image_free(&png);
        return error_set(error, "%s: out of memory for %zu bytes", path, n);
    }
    int status = -1;
    if (!png_image_finish_read(&png, NULL, bytes, 0, NULL)) {
        error_set(error, "%s: %s", path, png.message);
    } else if (image_init(image, (int)png.width, (int)png.height, channels, 255, error) == 0) {
        for (size_t i = 0; i < n; i++) image->pixels[i] = bytes[i];
        status = 0;
    } else {
        error_prefix(error, "%s", path);
    }
    png_image_free(&png);
    free(bytes);
    return status;
}
