// IDX files and MNIST (see idx.h). Files are read through zlib's gz* functions, which
// decompress gzip and pass plain files through unchanged. The data buffer grows as bytes
// arrive, so a corrupt header that claims billions of elements costs no more memory than
// the file really holds.
#include "foundations/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

// At most 2^31 elements (2 GB of bytes): far above any dataset this is for.
#define IDX_MAX_ELEMENTS ((size_t)1 << 31)

void idx_free(Idx *idx) {
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

static const char *type_name(int type) {
    switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
    }
}

// Reads up to n bytes; returns how many, or -1 with the reason (a corrupt gzip stream).
static long long read_some(gzFile file, unsigned char *buffer, size_t n, const char *path, Error *error) {
    size_t got = 0;
    while (got < n) {
        unsigned chunk = n - got > (1u << 30) ? 1u << 30 : (unsigned)(n - got);
        int read = gzread(file, buffer + got, chunk);
        if (read < 0) {
            int code;
            const char *message = gzerror(file, &code);
            return error_set(error, "%s: cannot read: %s", path, code == Z_ERRNO ? strerror(errno) : message);
        }
        if (read == 0) break;
        got += (size_t)read;
    }
    return (long long)got;
}

// The magic number and dimensions into out (data not yet read).
static int read_header(gzFile file, Idx *out, const char *path, Error *error) {
    unsigned char magic[4], bytes[4];
    long long got = read_some(file, magic, 4, path, error);
    if (got < 0) return -1;
    if (got < 4) return error_set(error, "%s: truncated: %lld bytes, too short for the 4-byte magic number", path, got);
    if (magic[0] != 0 || magic[1] != 0)
        return error_set(error, "%s: not an IDX file (magic 0x%02x%02x%02x%02x; IDX starts with two zero bytes)", path,
                         magic[0], magic[1], magic[2], magic[3]);
    out->type = magic[2];
    if (out->type != IDX_TYPE_U8)
        return error_set(error, "%s: element type 0x%02x (%s); only unsigned byte (0x08) is read", path, out->type,
                         type_name(out->type));
    out->ndim = magic[3];
    if (out->ndim < 1 || out->ndim > IDX_MAX_DIMS)
        return error_set(error, "%s: %d dimensions (magic 0x%08x); 1..%d are read", path, out->ndim,
                         0x800 | out->ndim, IDX_MAX_DIMS);
    out->count = 1;
    for (int d = 0; d < out->ndim; d++) {
        got = read_some(file, bytes, 4, path, error);
        if (got < 0) return -1;
        if (got < 4) return error_set(error, "%s: truncated: the file ends inside dimension %d", path, d);
        uint32_t size = (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
        if (size > INT32_MAX) return error_set(error, "%s: dimension %d is %u, above 2^31 - 1", path, d, size);
        out->dims[d] = (int)size;
        if (size && out->count > IDX_MAX_ELEMENTS / size)
            return error_set(error, "%s: dimensions multiply to more than 2^31 elements", path);
        out->count *= size;
    }
    return 0;
}

// "60000 x 28 x 28" into text.
static void format_dims(const Idx *idx, char *text, size_t n) {
    size_t used = 0;
    for (int d = 0; d < idx->ndim && used < n; d++)
        used += (size_t)snprintf(text + used, n - used, d ? " x %d" : "%d", idx->dims[d]);
}

// Reads exactly out->count bytes of data, growing the buffer as they arrive, then checks
// that nothing follows.
static int read_data(gzFile file, Idx *out, const char *path, Error *error) {
    size_t capacity = out->count < (1u << 20) ? out->count : 1u << 20, got = 0;
    out->data = malloc(capacity ? capacity : 1);
    if (!out->data) return error_set(error, "%s: out of memory", path);
    char dims[80];
    format_dims(out, dims, sizeof dims);
    while (got < out->count) {
        if (got == capacity) {
            capacity = capacity * 2 < out->count ? capacity * 2 : out->count;
            unsigned char *grown = realloc(out->data, capacity);
            if (!grown) return error_set(error, "%s: out of memory for %zu elements", path, out->count);
            out->data = grown;
        }
        long long n = read_some(file, out->data + got, capacity - got, path, error);
        if (n < 0) return -1;
        if (n == 0)
            return error_set(error, "%s: truncated: dimensions %s need %zu elements, the file has %zu", path, dims,
                             out->count, got);
        got += (size_t)n;
    }
    unsigned char extra[4096];
    long long trailing = 0, n;
    while ((n = read_some(file, extra, sizeof extra, path, error)) > 0) trailing += n;
    if (n < 0) return -1;
    if (trailing)
        return error_set(error, "%s: %lld bytes after the %zu elements that dimensions %s give", path, trailing,
                         out->count, dims);
    return 0;
}

int idx_read(Idx *out, const char *path, Error *error) {
    memset(out, 0, sizeof *out);
    errno = 0;
    gzFile file = gzopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    int status = read_header(file, out, path, error);
    if (status == 0) status = read_data(file, out, path, error);
    gzclose(file);
    if (status != 0) idx_free(out);
    return status;
}

// ----------------------------------------------------------------------------
// MNIST.

void mnist_free(MnistSet *set) {
    free(set->images);
    free(set->labels);
    memset(set, 0, sizeof *set);
}

// Finds "<directory>/<name>" or "<directory>/<name>.gz" and reads it.
static int read_member(const char *directory, const char *name, Idx *out, char *path, size_t n, Error *error) {
    memset(out, 0, sizeof *out);
    const char *suffixes[2] = {"", ".gz"};
    for (int k = 0; k < 2; k++) {
        if ((size_t)snprintf(path, n, "%s/%s%s", directory, name, suffixes[k]) >= n)
            return error_set(error, "%s: path too long", directory);
        FILE *probe = fopen(path, "rb");
        if (probe) {
            fclose(probe);
            return idx_read(out, path, error);
        }
    }
    return error_set(error, "%s/%s: no such file (nor %s.gz)", directory, name, name);
}

static int check_pair(const Idx *images, const char *images_path, const Idx *labels, const char *labels_path,
                      Error *error) {
    if (images->ndim != 3)
        return error_set(error, "%s: images must have 3 dimensions (magic 0x00000803), this file has %d", images_path,
                         images->ndim);
    if (labels->ndim != 1)
        return error_set(error, "%s: labels must have 1 dimension (magic 0x00000801), this file has %d", labels_path,
                         labels->ndim);
    if (images->dims[0] == 0) return error_set(error, "%s: no images", images_path);
    if (images->dims[1] == 0 || images->dims[2] == 0)
        return error_set(error, "%s: images of %d x %d pixels", images_path, images->dims[1], images->dims[2]);
    if (images->dims[0] != labels->dims[0])
        return error_set(error, "%s has %d images but %s has %d labels", images_path, images->dims[0], labels_path,
                         labels->dims[0]);
    for (size_t k = 0; k < labels->count; k++)
        if (labels->data[k] > 9)
            return error_set(error, "%s: label %d at index %zu is outside 0..9", labels_path, labels->data[k], k);
    return 0;
}

int mnist_load(const char *directory, const char *split, MnistSet *out, Error *error) {
    memset(out, 0, sizeof *out);
    const char *prefix = strcmp(split, "train") == 0 ? "train" : strcmp(split, "test") == 0 ? "t10k" : NULL;
    if (!prefix) return error_set(error, "unknown MNIST split '%s' (train or test)", split);
    char images_name[64], labels_name[64], images_path[4200], labels_path[4200];
    snprintf(images_name, sizeof images_name, "%s-images-idx3-ubyte", prefix);
    snprintf(labels_name, sizeof labels_name, "%s-labels-idx1-ubyte", prefix);
    Idx images, labels;
    memset(&labels, 0, sizeof labels);
    int status = read_member(directory, images_name, &images, images_path, sizeof images_path, error);
    if (status == 0) status = read_member(directory, labels_name, &labels, labels_path, sizeof labels_path, error);
    if (status == 0) status = check_pair(&images, images_path, &labels, labels_path, error);
    if (status == 0) {
        out->images = malloc(images.count * sizeof *out->images);
        out->labels = malloc(labels.count * sizeof *out->labels);
        if (!out->images || !out->labels) status = error_set(error, "%s: out of memory", images_path);
    }
    if (status == 0) {
        out->count = images.dims[0], out->height = images.dims[1], out->width = images.dims[2];
        for (size_t k = 0; k < images.count; k++) out->images[k] = images.data[k] / 255.0f;
        for (size_t k = 0; k < labels.count; k++) out->labels[k] = labels.data[k];
    }
    idx_free(&images);
    idx_free(&labels);
    if (status != 0) mnist_free(out);
    return status;
}
