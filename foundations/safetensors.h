// safetensors: Hugging Face's tensor file format, read and written.
//
// Layout of a file (all integers little-endian):
//   8 bytes   N, the header's length in bytes (unsigned 64-bit)
//   N bytes   a UTF-8 JSON object: for each tensor
//               "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
//             and optionally "__metadata__": {"key": "value", ...} (strings only);
//             the writer pads it with spaces to a multiple of 8 bytes
//   the rest  the data region: each tensor's values, row-major, little-endian, at bytes
//             [begin, end) counted from the first byte after the header. The tensors
//             cover the region exactly: no overlaps, no holes, nothing after the last.
// A scalar has shape [] (ndim 0, one element); a dimension may be 0 (no elements, begin == end).
//
// Reading converts the values for use: F32, F16 and BF16 become a float32 array, I32 and
// I64 an int32 array (every I64 value checked to fit). Any malformation is an Error naming
// the file and what is wrong (see safetensors_read); nothing on file content asserts.
#ifndef FOUNDATIONS_SAFETENSORS_H
#define FOUNDATIONS_SAFETENSORS_H

#include <stdint.h>

#include "foundations/error.h"

enum { SAFETENSORS_MAX_DIMS = 5 };

// The element types handled here, by their names in the header.
typedef enum SafetensorsDtype {
    SAFETENSORS_F32,  // "F32"  IEEE binary32
    SAFETENSORS_F16,  // "F16"  IEEE binary16
    SAFETENSORS_BF16, // "BF16" bfloat16: the top 16 bits of a binary32
    SAFETENSORS_I32,  // "I32"  signed 32-bit
    SAFETENSORS_I64,  // "I64"  signed 64-bit (read into int32 when every value fits)
} SafetensorsDtype;

// One tensor. Read: everything filled, the strings and arrays owned by the Safetensors that
// holds it. Written: name, dtype, ndim, shape and the one data pointer matching the dtype are
// read from the caller's memory (count is ignored: the writer computes it from the shape).
typedef struct SafetensorsTensor {
    const char *name;
    SafetensorsDtype dtype;           // as stored in the file
    int ndim;                         // 0..SAFETENSORS_MAX_DIMS; 0 is a scalar
    int shape[SAFETENSORS_MAX_DIMS];  // each 0..INT32_MAX; entries past ndim are 0
    int64_t count;                    // elements: the product of shape (1 when ndim is 0)
    const float *floats;              // F32, F16, BF16: (count) values as float32; else NULL
    const int32_t *ints;              // I32, I64: (count) values as int32; else NULL
} SafetensorsTensor;

// One "__metadata__" entry: a string key and a string value.
typedef struct SafetensorsMetadata {
    const char *key, *value;
} SafetensorsMetadata;

typedef struct Safetensors {
    int n_tensors;
    SafetensorsTensor *tensors;    // (n_tensors), in the order of their data in the file
    int n_metadata;
    SafetensorsMetadata *metadata; // (n_metadata), in the header's order
} Safetensors;

// Reads a whole file. On failure *out is left empty (safe to free) and the error is one line
// "<path>: <what>" for: a file that cannot be opened or is shorter than 8 bytes; a header
// length past the end of the file or above 100 MB; a header that is not valid JSON or not
// an object; an entry that is not an object or lacks a field; an unknown dtype; a shape that
// is not a list of non-negative integers or has more than SAFETENSORS_MAX_DIMS dims; a
// dimension above INT32_MAX or an element count whose byte size overflows; data_offsets that
// are not two non-negative integers with begin <= end, that lie past the data region, whose
// length is not count × the dtype's size; tensors whose data overlap, leave a hole, or leave
// bytes after the last tensor; duplicate names; a metadata value that is not a string; an
// I64 value outside int32 (naming the tensor); out of memory.
int safetensors_read(Safetensors *out, const char *path, Error *error);

// The tensor with that name, or NULL.
const SafetensorsTensor *safetensors_find(const Safetensors *file, const char *name);
// The metadata value for key, or NULL.
const char *safetensors_metadata(const Safetensors *file, const char *key);

void safetensors_free(Safetensors *file);

// Writes n_tensors tensors (data in the given order) and n_metadata "__metadata__" pairs
// (none written when 0) to path, through a temporary file renamed into place (foundations/
// file.h). F32/F16/BF16 take `floats` (F16 and BF16 rounded to nearest, ties to even), I32/I64
// take `ints`. Errors: empty or duplicate names (the reserved "__metadata__" included), ndim
// outside 0..SAFETENSORS_MAX_DIMS, a negative dimension, a missing data pointer for the dtype,
// a write failure (path kept as it was).
int safetensors_write(const char *path, const SafetensorsTensor *tensors, int n_tensors,
                      const SafetensorsMetadata *metadata, int n_metadata, Error *error);

// "F32", "F16", "BF16", "I32", "I64".
const char *safetensors_dtype_name(SafetensorsDtype dtype);
// Bytes per element: 4, 2, 2, 4, 8.
int safetensors_dtype_size(SafetensorsDtype dtype);

#endif
