// Tests for foundations/idx.h: the bundled MNIST subset (counts, shapes, per-class counts
// from data/DATA.md, pixel range), IDX files written here plain and gzip-compressed giving
// the same values, and one error for each way a file or a pair of files can be wrong.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "foundations/idx.h"
#include "tests/check.h"

// Writes bytes to path, gzip-compressed when compress is set.
static void write_bytes(const char *path, const unsigned char *bytes, size_t n, int compress) {
    int ok;
    if (compress) {
        gzFile file = gzopen(path, "wb");
        ok = file && gzwrite(file, bytes, (unsigned)n) == (int)n;
        if (file) ok = gzclose(file) == Z_OK && ok;
    } else {
        FILE *file = fopen(path, "wb");
        ok = file && fwrite(bytes, 1, n, file) == n;
        if (file) ok = fclose(file) == 0 && ok;
    }
    if (!ok) {
        fprintf(stderr, "test_idx: cannot write %s\n", path);
        exit(1);
    }
}

// An IDX file: magic 00 00 type ndim, big-endian dims, then `extra` more (or, when negative,
// fewer) data bytes than the dims need. Data byte k is (k * 7 + 3) mod modulus.
static size_t make_idx(unsigned char *out, int type, int ndim, const int *dims, long extra, int modulus) {
    size_t n = 0, count = 1;
    out[n++] = 0, out[n++] = 0, out[n++] = (unsigned char)type, out[n++] = (unsigned char)ndim;
    for (int d = 0; d < ndim; d++) {
        for (int shift = 24; shift >= 0; shift -= 8) out[n++] = (unsigned char)((uint32_t)dims[d] >> shift);
        count *= (size_t)dims[d];
    }
    for (long k = 0; k < (long)count + extra; k++) out[n++] = (unsigned char)((k * 7 + 3) % modulus);
    return n;
}

static void test_bundled_mnist(void) {
    int class_counts[10] = {0};
    const int expected_counts[10] = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};  // data/DATA.md
    const char *splits[2] = {"train", "test"};
    const int sizes[2] = {8000, 2000};
    for (int s = 0; s < 2; s++) {
        MnistSet set;
        Error error;
        if (mnist_load("data/mnist", splits[s], &set, &error) != 0) {
            CHECK(0, "%s", error.message);
            continue;
        }
        CHECK(set.count == sizes[s] && set.height == 28 && set.width == 28, "%s: %d images of %d x %d", splits[s],
              set.count, set.height, set.width);
        int out_of_range = 0, not_multiple = 0;
        double sum = 0;
        for (long k = 0; k < (long)set.count * 784; k++) {
            float x = set.images[k];
            out_of_range += !(x >= 0 && x <= 1);
            float byte = x * 255.0f;
            not_multiple += byte != (float)(int)(byte + 0.5f);  // exactly byte / 255
            sum += x;
        }
        CHECK(out_of_range == 0 && not_multiple == 0, "%s: %d pixels outside [0,1], %d not a byte / 255", splits[s],
              out_of_range, not_multiple);
        // MNIST digits are mostly black background: the mean pixel is about 0.13.
        double mean = sum / ((double)set.count * 784);
        CHECK(mean > 0.1 && mean < 0.16, "%s: mean pixel %g", splits[s], mean);
        for (int k = 0; k < set.count; k++) class_counts[set.labels[k]]++;
        mnist_free(&set);
        CHECK(set.images == NULL && set.count == 0, "freed");
    }
    for (int c = 0; c < 10; c++)
        CHECK(class_counts[c] == expected_counts[c], "class %d: %d images, DATA.md says %d", c, class_counts[c],
              expected_counts[c]);
}

// The same small set written plain and compressed reads the same; plain files win over .gz.
static void test_plain_and_gzip(void) {
    static unsigned char bytes[4096];
    const int image_dims[3] = {5, 3, 4}, label_dims[1] = {5};
    for (int compress = 0; compress < 2; compress++) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s/%s", check_directory(), compress ? "gz" : "plain");
        mkdir(sub, 0700);
        char path[200];
        size_t n = make_idx(bytes, 0x08, 3, image_dims, 0, 256);
        snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte%s", sub, compress ? ".gz" : "");
        write_bytes(path, bytes, n, compress);
        n = make_idx(bytes, 0x08, 1, label_dims, 0, 10);
        snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte%s", sub, compress ? ".gz" : "");
        write_bytes(path, bytes, n, compress);
        MnistSet set;
        Error error;
        if (mnist_load(sub, "test", &set, &error) != 0) {
            CHECK(0, "%s", error.message);
            continue;
        }
        CHECK(set.count == 5 && set.height == 3 && set.width == 4, "%d x %d x %d", set.count, set.height, set.width);
        for (int k = 0; k < 60; k++)
            CHECK(set.images[k] == (float)((k * 7 + 3) % 256) / 255.0f, "pixel %d = %g", k, set.images[k]);
        for (int k = 0; k < 5; k++) CHECK(set.labels[k] == (k * 7 + 3) % 10, "label %d = %d", k, set.labels[k]);
        mnist_free(&set);
    }
    // The generic reader: a 4-dimensional file.
    const int dims4[4] = {2, 1, 3, 2};
    size_t n = make_idx(bytes, 0x08, 4, dims4, 0, 256);
    write_bytes(check_path("four.idx"), bytes, n, 0);
    Idx idx;
    Error error;
    CHECK(idx_read(&idx, check_path("four.idx"), &error) == 0, "%s", error.message);
    CHECK(idx.type == 0x08 && idx.ndim == 4 && idx.count == 12 && idx.dims[3] == 2, "4-d file");
    for (int k = 0; k < 12 && idx.data; k++) CHECK(idx.data[k] == (k * 7 + 3) % 256, "element %d", k);
    idx_free(&idx);
}

static void expect_idx_error(const char *path, const char *expected) {
    Idx idx;
    Error error = {{0}};
    int status = idx_read(&idx, path, &error);
    CHECK(status != 0, "%s: read succeeded, expected '%s'", path, expected);
    if (status == 0) {
        idx_free(&idx);
        return;
    }
    CHECK(strstr(error.message, expected) && strstr(error.message, path), "error '%s' should contain '%s' and the path",
          error.message, expected);
    CHECK(idx.data == NULL, "left empty");
}

static void test_idx_errors(void) {
    static unsigned char bytes[4096];
    const int dims[3] = {3, 4, 5};
    for (int compress = 0; compress < 2; compress++) {
        const char *suffix = compress ? ".gz" : "";
        char name[64];
        snprintf(name, sizeof name, "truncated%s", suffix);
        write_bytes(check_path(name), bytes, make_idx(bytes, 0x08, 3, dims, -1, 256), compress);
        expect_idx_error(check_path(name), "truncated: dimensions 3 x 4 x 5 need 60 elements, the file has 59");
        snprintf(name, sizeof name, "trailing%s", suffix);
        write_bytes(check_path(name), bytes, make_idx(bytes, 0x08, 3, dims, 7, 256), compress);
        expect_idx_error(check_path(name), "7 bytes after the 60 elements that dimensions 3 x 4 x 5 give");
        snprintf(name, sizeof name, "magic%s", suffix);
        size_t n = make_idx(bytes, 0x08, 3, dims, 0, 256);
        bytes[1] = 0x1f;
        write_bytes(check_path(name), bytes, n, compress);
        expect_idx_error(check_path(name), "not an IDX file (magic 0x001f0803");
    }
    write_bytes(check_path("float.idx"), bytes, make_idx(bytes, 0x0D, 3, dims, 0, 256), 0);
    expect_idx_error(check_path("float.idx"), "element type 0x0d (float); only unsigned byte (0x08) is read");
    write_bytes(check_path("zero_dims.idx"), bytes, make_idx(bytes, 0x08, 0, dims, 0, 256), 0);
    expect_idx_error(check_path("zero_dims.idx"), "0 dimensions");
    write_bytes(check_path("short.idx"), bytes, 3, 0);
    expect_idx_error(check_path("short.idx"), "too short for the 4-byte magic number");
    write_bytes(check_path("short_dims.idx"), bytes, make_idx(bytes, 0x08, 3, dims, 0, 256) - 60 - 2, 0);
    expect_idx_error(check_path("short_dims.idx"), "the file ends inside dimension 2");
    // Dimensions 60000 x 65536 x 65536 with 10 bytes of data: refused before any allocation.
    const unsigned char huge[16 + 10] = {0, 0, 0x08, 3, 0, 0, 0xea, 0x60, 0, 1, 0, 0, 0, 1, 0, 0};
    write_bytes(check_path("huge.idx"), huge, sizeof huge, 0);
    expect_idx_error(check_path("huge.idx"), "dimensions multiply to more than 2^31 elements");
    // Bytes that are not gzip but start like it: a corrupt compressed stream.
    const unsigned char corrupt[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa};
    write_bytes(check_path("corrupt.gz"), corrupt, sizeof corrupt, 0);
    expect_idx_error(check_path("corrupt.gz"), "cannot read");
    expect_idx_error(check_path("absent.idx"), "cannot open");
}

// Writes a directory holding an MNIST test split: n_images images of 2 x 2 (ndim 3, or the
// given image ndim), n_labels labels with label `bad_label` at index 1 when >= 0.
static const char *make_split(const char *name, int image_ndim, int n_images, int n_labels, int bad_label) {
    static unsigned char bytes[4096];
    static char sub[160];
    snprintf(sub, sizeof sub, "%s/%s", check_directory(), name);
    mkdir(sub, 0700);
    char path[200];
    const int image_dims[3] = {n_images, 2, 2}, label_dims[1] = {n_labels};
    size_t n = make_idx(bytes, 0x08, image_ndim, image_dims, 0, 256);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", sub);
    write_bytes(path, bytes, n, 1);
    n = make_idx(bytes, 0x08, 1, label_dims, 0, 10);
    if (bad_label >= 0 && n_labels > 1) bytes[8 + 1] = (unsigned char)bad_label;
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", sub);
    write_bytes(path, bytes, n, 0);
    return sub;
}

static void expect_mnist_error(const char *dir, const char *split, const char *expected) {
    MnistSet set;
    Error error = {{0}};
    int status = mnist_load(dir, split, &set, &error);
    CHECK(status != 0, "%s: load succeeded, expected '%s'", dir, expected);
    if (status == 0) {
        mnist_free(&set);
        return;
    }
    CHECK(strstr(error.message, expected) != NULL, "error '%s' should contain '%s'", error.message, expected);
    CHECK(set.images == NULL && set.labels == NULL, "left empty");
}

static void test_mnist_errors(void) {
    char expected[300];
    snprintf(expected, sizeof expected, "%s/train-images-idx3-ubyte: no such file (nor train-images-idx3-ubyte.gz)",
             check_directory());
    expect_mnist_error(check_directory(), "train", expected);
    expect_mnist_error("data/mnist", "validation", "unknown MNIST split 'validation' (train or test)");
    const char *dir = make_split("label_range", 3, 4, 4, 12);
    expect_mnist_error(dir, "test", "t10k-labels-idx1-ubyte: label 12 at index 1 is outside 0..9");
    dir = make_split("counts", 3, 4, 5, -1);
    expect_mnist_error(dir, "test", "has 4 images but");
    expect_mnist_error(dir, "test", "has 5 labels");
    dir = make_split("zero", 3, 0, 0, -1);
    expect_mnist_error(dir, "test", "t10k-images-idx3-ubyte.gz: no images");
    dir = make_split("flat", 2, 4, 4, -1);
    expect_mnist_error(dir, "test", "images must have 3 dimensions (magic 0x00000803), this file has 2");
    // Labels given as a 3-d file.
    dir = make_split("labels_3d", 3, 4, 4, -1);
    char path[200];
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    static unsigned char bytes[256];
    const int dims[3] = {4, 1, 1};
    write_bytes(path, bytes, make_idx(bytes, 0x08, 3, dims, 0, 10), 0);
    expect_mnist_error(dir, "test", "labels must have 1 dimension (magic 0x00000801), this file has 3");
    // A truncated member is idx_read's error, with its path.
    dir = make_split("truncated_member", 3, 4, 4, -1);
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    const int label_dims[1] = {4};
    write_bytes(path, bytes, make_idx(bytes, 0x08, 1, label_dims, -2, 10), 0);
    expect_mnist_error(dir, "test", "t10k-labels-idx1-ubyte: truncated");
}

static const CheckCase CASES[] = {
    {"the bundled MNIST subset", test_bundled_mnist},
    {"plain and gzip IDX files", test_plain_and_gzip},
    {"malformed IDX files", test_idx_errors},
    {"malformed MNIST folders", test_mnist_errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
