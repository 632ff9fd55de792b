// PGM/PPM reading and writing (see image.h). The file is read whole, then parsed: a header
// of whitespace-separated tokens (magic, width, height, maxval; '#' starts a comment that
// runs to the end of the line), one whitespace character, then the samples.
#include "foundations/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"

// Caps a header can ask for: 2^26 samples (256 MB of floats), so that a corrupt header is
// an error rather than a gigantic allocation.
enum { IMAGE_MAX_SIDE = 1 << 20, IMAGE_MAX_SAMPLES = 1 << 26 };

int image_init(Image *image, int width, int height, int channels, int maxval, Error *error) {
    image->pixels = NULL;
    if (width < 1 || height < 1 || width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE)
        return error_set(error, "image size %d x %d is outside 1..%d", width, height, IMAGE_MAX_SIDE);
    if (channels != 1 && channels != 3) return error_set(error, "an image has 1 or 3 channels, not %d", channels);
    if (maxval < 1 || maxval > 65535) return error_set(error, "maxval %d is outside 1..65535", maxval);
    if ((long long)width * height * channels > IMAGE_MAX_SAMPLES)
        return error_set(error, "image %d x %d x %d is too large (more than %d samples)", width, height, channels,
                         IMAGE_MAX_SAMPLES);
    image->pixels = calloc((size_t)width * height * channels, sizeof(float));
    if (!image->pixels) return error_set(error, "out of memory for a %d x %d image", width, height);
    image->width = width, image->height = height, image->channels = channels, image->maxval = maxval;
    return 0;
}

void image_free(Image *image) {
    free(image->pixels);
    image->pixels = NULL;
}

// ----------------------------------------------------------------------------
// Reading.

typedef struct Cursor {
    const unsigned char *data;
    size_t size, position;
    const char *path;
} Cursor;

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Skips whitespace and comments (in the header).
static void skip_space_and_comments(Cursor *cursor) {
    while (cursor->position < cursor->size) {
        int c = cursor->data[cursor->position];
        if (c == '#') {
            while (cursor->position < cursor->size && cursor->data[cursor->position] != '\n') cursor->position++;
        } else if (is_space(c)) {
            cursor->position++;
        } else {
            return;
        }
    }
}

// Reads a non-negative decimal integer token into *value (capped: more than 9 digits is an
// error). Returns 0, or -1 with the reason in error, naming `what`.
static int read_number(Cursor *cursor, long *value, const char *what, int allow_comments, Error *error) {
    if (allow_comments) skip_space_and_comments(cursor);
    else
        while (cursor->position < cursor->size && is_space(cursor->data[cursor->position])) cursor->position++;
    if (cursor->position >= cursor->size) return error_set(error, "file %s: missing %s (file ends)", cursor->path, what);
    size_t start = cursor->position;
    long number = 0;
    while (cursor->position < cursor->size && cursor->data[cursor->position] >= '0' &&
           cursor->data[cursor->position] <= '9') {
        if (cursor->position - start >= 9)
            return error_set(error, "file %s: %s at byte %zu has too many digits", cursor->path, what, start);
        number = number * 10 + (cursor->data[cursor->position] - '0');
        cursor->position++;
    }
    int next = cursor->position < cursor->size ? cursor->data[cursor->position] : ' ';
    if (cursor->position == start || !(is_space(next) || (allow_comments && next == '#')))
        return error_set(error, "file %s: %s at byte %zu is not a non-negative integer", cursor->path, what, start);
    *value = number;
    return 0;
}

int image_read(Image *image, const char *path, Error *error) {
    image->pixels = NULL;
    size_t size = 0;
    unsigned char *data = NULL;
    if (file_read_all(path, &data, &size, error)) return -1;
    Cursor cursor = {data, size, 0, path};
    int status = 0;
    // Magic: P2 (plain PGM), P3 (plain PPM), P5 (binary PGM), P6 (binary PPM).
    if (size < 2 || data[0] != 'P' || !(data[1] == '2' || data[1] == '3' || data[1] == '5' || data[1] == '6')) {
        int is_netpbm = size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7';
        status = error_set(error, "file %s: %s", path,
                           is_netpbm ? "unsupported Netpbm type (only P2, P3, P5, P6: PGM and PPM)"
                                     : "bad magic number (not a PGM/PPM file: expected P2, P3, P5 or P6)");
    }
    int plain = 0, channels = 0;
    long width = 0, height = 0, maxval = 0;
    if (status == 0) {
        plain = data[1] == '2' || data[1] == '3';
        channels = data[1] == '3' || data[1] == '6' ? 3 : 1;
        cursor.position = 2;
        if (size > 2 && !is_space(data[2]) && data[2] != '#')
            status = error_set(error, "file %s: bad magic number (P%c followed by '%c')", path, data[1], data[2]);
    }
    if (status == 0) status = read_number(&cursor, &width, "width", 1, error);
    if (status == 0) status = read_number(&cursor, &height, "height", 1, error);
    if (status == 0) status = read_number(&cursor, &maxval, "maxval", 1, error);
    if (status == 0 && (width < 1 || height < 1 || width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE))
        status = error_set(error, "file %s: dimensions %ld x %ld are outside 1..%d", path, width, height, IMAGE_MAX_SIDE);
    if (status == 0 && (maxval < 1 || maxval > 65535))
        status = error_set(error, "file %s: maxval %ld is outside 1..65535", path, maxval);
    if (status == 0 && image_init(image, (int)width, (int)height, channels, (int)maxval, error))
        status = error_prefix(error, "file %s", path);
    size_t count = status == 0 ? (size_t)width * height * channels : 0;
    if (status == 0 && plain) {
        // Samples as decimal tokens separated by whitespace.
        for (size_t i = 0; i < count && status == 0; i++) {
            long sample;
            if (cursor.position >= size || read_number(&cursor, &sample, "sample", 0, error)) {
                // Reached the end (or junk): report which it was.
                while (cursor.position < size && is_space(data[cursor.position])) cursor.position++;
                status = cursor.position >= size
                             ? error_set(error, "file %s: truncated pixel data: %zu of %zu samples", path, i, count)
                             : error_set(error, "file %s: sample %zu at byte %zu is not a non-negative integer", path, i,
                                         cursor.position);
            } else if (sample > maxval) {
                status = error_set(error, "file %s: sample %zu is %ld, above maxval %ld", path, i, sample, maxval);
            } else {
                image->pixels[i] = (float)sample;
            }
        }
    } else if (status == 0) {
        // Exactly one whitespace byte after maxval, then 1 or 2 bytes (big-endian) per sample.
        if (cursor.position >= size || !is_space(data[cursor.position]))
            status = error_set(error, "file %s: truncated pixel data: no data after the header", path);
        cursor.position++;
        int bytes = maxval > 255 ? 2 : 1;
        size_t available = cursor.position <= size ? size - cursor.position : 0;
        if (status == 0 && available < count * bytes)
            status = error_set(error, "file %s: truncated pixel data: %zu bytes for %zu samples of %d byte(s)", path,
                               available, count, bytes);
        const unsigned char *samples = data + cursor.position;
        for (size_t i = 0; i < count && status == 0; i++) {
            long sample = bytes == 2 ? (samples[2 * i] << 8) | samples[2 * i + 1] : samples[i];
            if (sample > maxval)
                status = error_set(error, "file %s: sample %zu is %ld, above maxval %ld", path, i, sample, maxval);
            image->pixels[i] = (float)sample;
        }
    }
    free(data);
    if (status) image_free(image);
    return status;
}

// ----------------------------------------------------------------------------
// Writing.

static long rounded_sample(float value, int maxval) {
    double rounded = floor((double)value + 0.5);
    if (!(rounded >= 0.0)) return 0;  // also NaN
    return rounded > maxval ? maxval : (long)rounded;
}

int image_write(const Image *image, const char *path, int plain_text, Error *error) {
    size_t count = (size_t)image->width * image->height * image->channels;
    SafeFile out;
    if (safe_file_open(&out, path, error)) return -1;
    FILE *file = out.file;
    int magic = image->channels == 3 ? (plain_text ? 3 : 6) : (plain_text ? 2 : 5);
    int ok = fprintf(file, "P%d\n%d %d\n%d\n", magic, image->width, image->height, image->maxval) > 0;
    if (plain_text) {
        // At most 16 samples per line keeps lines under the format's 70 characters.
        for (size_t i = 0; i < count && ok; i++)
            ok = fprintf(file, "%ld%c", rounded_sample(image->pixels[i], image->maxval), i % 16 == 15 ? '\n' : ' ') > 0;
        ok = ok && fputc('\n', file) != EOF;
    } else {
        int bytes = image->maxval > 255 ? 2 : 1;
        unsigned char buffer[4096];
        size_t filled = 0;
        for (size_t i = 0; i < count && ok; i++) {
            long sample = rounded_sample(image->pixels[i], image->maxval);
            if (bytes == 2) buffer[filled++] = (unsigned char)(sample >> 8);
            buffer[filled++] = (unsigned char)(sample & 0xff);
            if (filled + 2 > sizeof buffer || i + 1 == count) {
                ok = fwrite(buffer, 1, filled, file) == filled;
                filled = 0;
            }
        }
    }
    if (!ok) {
        safe_file_abort(&out);
        return error_set(error, "file %s: write failed", path);
    }
    return safe_file_commit(&out, error);
}

int image_psnr(const Image *reference, const Image *test, double *psnr, Error *error) {
    if (reference->width != test->width || reference->height != test->height || reference->channels != test->channels ||
        reference->maxval != test->maxval)
        return error_set(error, "PSNR of different images: %d x %d x %d (maxval %d) vs %d x %d x %d (maxval %d)",
                         reference->width, reference->height, reference->channels, reference->maxval, test->width,
                         test->height, test->channels, test->maxval);
    size_t count = (size_t)reference->width * reference->height * reference->channels;
    double sum = 0.0;
    for (size_t i = 0; i < count; i++) {
        double difference = (double)reference->pixels[i] - (double)test->pixels[i];
        sum += difference * difference;
    }
    double mse = sum / (double)count, peak = (double)reference->maxval;
    *psnr = mse == 0.0 ? INFINITY : 10.0 * log10(peak * peak / mse);
    return 0;
}

void image_to_planes(const Image *image, float *planes) {
    long plane = (long)image->width * image->height;
    for (long i = 0; i < plane; i++)
        for (int c = 0; c < image->channels; c++)
            planes[c * plane + i] = image->pixels[i * image->channels + c] / (float)image->maxval;
}
