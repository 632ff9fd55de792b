// IDX: the file format of MNIST (LeCun et al.), and MNIST itself.
//
// An IDX file (all integers big-endian):
//   4 bytes   magic: 0x00 0x00 <type> <ndim>; type 0x08 is unsigned byte (the only element
//             type MNIST uses; 0x09 s8, 0x0B s16, 0x0C s32, 0x0D f32, 0x0E f64 exist too)
//   4 × ndim  the dimensions, unsigned 32-bit each
//   the rest  the elements, row-major; exactly the product of the dimensions of them
// MNIST: images magic 0x00000803 (N, 28, 28), labels magic 0x00000801 (N), values 0..9.
// Files may be gzip-compressed (read through zlib, which reads plain files unchanged).
#ifndef FOUNDATIONS_IDX_H
#define FOUNDATIONS_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "foundations/error.h"

enum { IDX_MAX_DIMS = 4, IDX_TYPE_U8 = 0x08 };

typedef struct Idx {
    int type;                 // element type code (always IDX_TYPE_U8 after a successful read)
    int ndim;                 // 1..IDX_MAX_DIMS
    int dims[IDX_MAX_DIMS];   // each >= 0; entries past ndim are 0
    size_t count;             // elements: the product of dims
    unsigned char *data;      // (count) u8 elements
} Idx;

// Reads an IDX file of unsigned bytes, plain or gzip. Errors ("<path>: <what>"): cannot open,
// not gzip-readable (corrupt compressed stream), magic whose first two bytes are not 0,
// element type other than u8 (named), ndim 0 or above IDX_MAX_DIMS, a dimension above
// INT32_MAX or a product above 2^31 elements, fewer elements than the dimensions need
// (truncated) or bytes after them (trailing), out of memory. On failure *out is empty.
int idx_read(Idx *out, const char *path, Error *error);
void idx_free(Idx *idx);

typedef struct MnistSet {
    int count;          // N images
    int height, width;  // 28, 28 for MNIST (any size the files give)
    float *images;      // (N, 1, height, width): the bytes / 255, in [0, 1]
    int32_t *labels;    // (N): 0..9
} MnistSet;

// Loads split "train" (train-images-idx3-ubyte, train-labels-idx1-ubyte) or "test"
// (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) from directory, each file with or without
// ".gz" (the plain name is tried first). Errors: an unknown split; a missing file (naming the
// path looked for); anything idx_read refuses; images that are not 3-dimensional (magic
// 0x00000803) or labels not 1-dimensional (0x00000801); zero images; image and label counts
// that differ; a label outside 0..9 (naming its index). On failure *out is empty.
int mnist_load(const char *directory, const char *split, MnistSet *out, Error *error);
void mnist_free(MnistSet *set);

#endif
