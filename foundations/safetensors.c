// safetensors reading and writing (see safetensors.h). The header is parsed with cJSON;
// every number in it is checked before it is used: the header length against the file, each
// shape against the limits, each byte range against its dtype and the data region, and the
// ranges against each other (sorted by begin they must tile the region exactly, which also
// stops two names from sharing bytes). Values are decoded byte by byte as little-endian, so
// the result does not depend on the host's byte order.
#include "foundations/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"
#include "foundations/half.h"

// The reference implementation's limit on the header; real headers are at most a few MB.
enum { HEADER_MAX_BYTES = 100 << 20 };
// Integers in the header arrive as doubles: above 2^53 they are no longer exact.
#define LARGEST_EXACT_INTEGER 9007199254740992.0

static const char *const DTYPE_NAMES[] = {"F32", "F16", "BF16", "I32", "I64"};
static const int DTYPE_SIZES[] = {4, 2, 2, 4, 8};

const char *safetensors_dtype_name(SafetensorsDtype dtype) {
    return (unsigned)dtype < 5 ? DTYPE_NAMES[dtype] : "?";
}

int safetensors_dtype_size(SafetensorsDtype dtype) { return (unsigned)dtype < 5 ? DTYPE_SIZES[dtype] : 0; }

static int is_float_dtype(SafetensorsDtype dtype) {
    return dtype == SAFETENSORS_F32 || dtype == SAFETENSORS_F16 || dtype == SAFETENSORS_BF16;
}

// The product of shape[0..ndim) (1 for ndim 0) into *count; -1 when count × 8 bytes would
// overflow int64 (so byte sizes computed from a count never overflow either).
static int shape_count(const int *shape, int ndim, int64_t *count) {
    int64_t product = 1;
    for (int k = 0; k < ndim; k++)
        if (shape[k] == 0) product = 0;
    for (int k = 0; k < ndim && product; k++) {
        if (product > INT64_MAX / 8 / shape[k]) return -1;
        product *= shape[k];
    }
    *count = product;
    return 0;
}

void safetensors_free(Safetensors *file) {
    for (int k = 0; k < file->n_tensors; k++) {
        free((void *)file->tensors[k].name);
        free((void *)file->tensors[k].floats);
        free((void *)file->tensors[k].ints);
    }
    for (int k = 0; k < file->n_metadata; k++) {
        free((void *)file->metadata[k].key);
        free((void *)file->metadata[k].value);
    }
    free(file->tensors);
    free(file->metadata);
    memset(file, 0, sizeof *file);
}

const SafetensorsTensor *safetensors_find(const Safetensors *file, const char *name) {
    for (int k = 0; k < file->n_tensors; k++)
        if (strcmp(file->tensors[k].name, name) == 0) return &file->tensors[k];
    return NULL;
}

const char *safetensors_metadata(const Safetensors *file, const char *key) {
    for (int k = 0; k < file->n_metadata; k++)
        if (strcmp(file->metadata[k].key, key) == 0) return file->metadata[k].value;
    return NULL;
}

// ----------------------------------------------------------------------------
// Reading: the header.

// A tensor's entry as the header gives it, before its data is read.
typedef struct Entry {
    SafetensorsTensor tensor;
    uint64_t begin, end;  // byte range in the data region
} Entry;

static char *copy_string(const char *text) {
    size_t n = strlen(text) + 1;
    char *copy = malloc(n);
    if (copy) memcpy(copy, text, n);
    return copy;
}

// A JSON number that is an integer in [0, maximum] into *value; -1 otherwise.
static int json_integer(const cJSON *item, double maximum, uint64_t *value) {
    if (!cJSON_IsNumber(item)) return -1;
    double number = item->valuedouble;
    if (!(number >= 0 && number <= maximum) || number != floor(number)) return -1;
    *value = (uint64_t)number;
    return 0;
}

static int parse_dtype(const cJSON *item, SafetensorsDtype *dtype) {
    if (!cJSON_IsString(item)) return -1;
    for (int k = 0; k < 5; k++)
        if (strcmp(item->valuestring, DTYPE_NAMES[k]) == 0) {
            *dtype = (SafetensorsDtype)k;
            return 0;
        }
    return -1;
}

// One tensor's {"dtype", "shape", "data_offsets"} into entry (its name is set by the caller).
static int parse_entry(const cJSON *object, Entry *entry, uint64_t data_size, const char *path, Error *error) {
    const char *name = entry->tensor.name;
    if (!cJSON_IsObject(object)) return error_set(error, "%s: tensor '%s': entry is not a JSON object", path, name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(object, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(object, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(object, "data_offsets");
    if (!dtype || !shape || !offsets)
        return error_set(error, "%s: tensor '%s': missing \"%s\"", path, name,
                         !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    if (parse_dtype(dtype, &entry->tensor.dtype) != 0)
        return error_set(error, "%s: tensor '%s': dtype %s%s%s is not one of F32, F16, BF16, I32, I64", path, name,
                         cJSON_IsString(dtype) ? "'" : "", cJSON_IsString(dtype) ? dtype->valuestring : "(not a string)",
                         cJSON_IsString(dtype) ? "'" : "");
    if (!cJSON_IsArray(shape)) return error_set(error, "%s: tensor '%s': shape is not a list", path, name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > SAFETENSORS_MAX_DIMS)
        return error_set(error, "%s: tensor '%s': %d dimensions, at most %d are supported", path, name, ndim,
                         SAFETENSORS_MAX_DIMS);
    entry->tensor.ndim = ndim;
    for (int k = 0; k < ndim; k++) {
        uint64_t size;
        const cJSON *item = cJSON_GetArrayItem(shape, k);
        if (json_integer(item, INT32_MAX, &size) != 0)
            return error_set(error, "%s: tensor '%s': dimension %d is not an integer in 0..%d", path, name, k,
                             INT32_MAX);
        entry->tensor.shape[k] = (int)size;
    }
    if (shape_count(entry->tensor.shape, ndim, &entry->tensor.count) != 0)
        return error_set(error, "%s: tensor '%s': the shape's size overflows", path, name);
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        json_integer(cJSON_GetArrayItem(offsets, 0), LARGEST_EXACT_INTEGER, &entry->begin) != 0 ||
        json_integer(cJSON_GetArrayItem(offsets, 1), LARGEST_EXACT_INTEGER, &entry->end) != 0)
        return error_set(error, "%s: tensor '%s': data_offsets is not [begin, end] with non-negative integers", path,
                         name);
    if (entry->begin > entry->end || entry->end > data_size)
        return error_set(error, "%s: tensor '%s': data_offsets [%llu, %llu] out of range (the data region has %llu bytes)",
                         path, name, (unsigned long long)entry->begin, (unsigned long long)entry->end,
                         (unsigned long long)data_size);
    uint64_t expected = (uint64_t)entry->tensor.count * (uint64_t)DTYPE_SIZES[entry->tensor.dtype];
    if (entry->end - entry->begin != expected)
        return error_set(error, "%s: tensor '%s': data_offsets span %llu bytes, but shape and dtype %s need %llu", path,
                         name, (unsigned long long)(entry->end - entry->begin), DTYPE_NAMES[entry->tensor.dtype],
                         (unsigned long long)expected);
    return 0;
}

static int parse_metadata(const cJSON *object, Safetensors *out, const char *path, Error *error) {
    if (!cJSON_IsObject(object)) return error_set(error, "%s: __metadata__ is not a JSON object", path);
    int n = cJSON_GetArraySize(object);
    out->metadata = calloc((size_t)n + 1, sizeof *out->metadata);
    if (!out->metadata) return error_set(error, "%s: out of memory", path);
    const cJSON *item;
    cJSON_ArrayForEach(item, object) {
        if (!cJSON_IsString(item))
            return error_set(error, "%s: __metadata__ '%s' is not a string", path, item->string);
        SafetensorsMetadata *pair = &out->metadata[out->n_metadata++];
        pair->key = copy_string(item->string);
        pair->value = copy_string(item->valuestring);
        if (!pair->key || !pair->value) return error_set(error, "%s: out of memory", path);
    }
    return 0;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

// Duplicate keys at the top level (tensor names, or "__metadata__" twice): JSON parsers
// disagree on which one wins, so the format forbids them.
static int check_duplicate_keys(const cJSON *root, const char *path, Error *error) {
    int n = cJSON_GetArraySize(root);
    const char **names = malloc(sizeof *names * ((size_t)n + 1));
    if (!names) return error_set(error, "%s: out of memory", path);
    int k = 0, status = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) names[k++] = item->string;
    qsort(names, (size_t)n, sizeof *names, compare_names);
    for (k = 1; k < n && status == 0; k++)
        if (strcmp(names[k - 1], names[k]) == 0) status = error_set(error, "%s: duplicate name '%s'", path, names[k]);
    free(names);
    return status;
}

static int compare_ranges(const void *a, const void *b) {
    const Entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

// Sorts the entries by begin and checks that they tile [0, data_size) exactly.
static int check_coverage(Entry *entries, int n, uint64_t data_size, const char *path, Error *error) {
    qsort(entries, (size_t)n, sizeof *entries, compare_ranges);
    uint64_t covered = 0;
    for (int k = 0; k < n; k++) {
        if (entries[k].begin > covered)
            return error_set(error, "%s: hole in the data: bytes %llu..%llu belong to no tensor (before '%s')", path,
                             (unsigned long long)covered, (unsigned long long)entries[k].begin, entries[k].tensor.name);
        if (entries[k].begin < covered)
            return error_set(error, "%s: tensor '%s' overlaps '%s' (data_offsets [%llu, %llu])", path,
                             entries[k].tensor.name, entries[k - 1].tensor.name, (unsigned long long)entries[k].begin,
                             (unsigned long long)entries[k].end);
        covered = entries[k].end;
    }
    if (covered != data_size)
        return error_set(error, "%s: %llu bytes after the last tensor's data belong to no tensor", path,
                         (unsigned long long)(data_size - covered));
    return 0;
}

// The header text (n bytes) into out's metadata and *entries (sorted by begin, names owned).
static int parse_header(const char *text, size_t n, uint64_t data_size, Safetensors *out, Entry **entries,
                        int *n_entries, const char *path, Error *error) {
    if (n == 0 || text[0] != '{') return error_set(error, "%s: the header does not start with '{'", path);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (!root) {
        size_t at = end && end >= text && end <= text + n ? (size_t)(end - text) : 0;
        return error_set(error, "%s: the header is not valid JSON (at byte %zu of %zu)", path, at, n);
    }
    int status = 0;
    for (const char *p = end; p < text + n && status == 0; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
            status = error_set(error, "%s: the header has text after its JSON object (at byte %zu)", path,
                               (size_t)(p - text));
    if (status == 0 && !cJSON_IsObject(root)) status = error_set(error, "%s: the header is not a JSON object", path);
    if (status == 0) status = check_duplicate_keys(root, path, error);
    int n_items = status == 0 ? cJSON_GetArraySize(root) : 0;
    *entries = status == 0 ? calloc((size_t)n_items + 1, sizeof **entries) : NULL;
    if (status == 0 && !*entries) status = error_set(error, "%s: out of memory", path);
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        if (status != 0) break;
        if (strcmp(item->string, "__metadata__") == 0) {
            status = parse_metadata(item, out, path, error);
            continue;
        }
        Entry *entry = &(*entries)[(*n_entries)++];
        entry->tensor.name = copy_string(item->string);
        if (!entry->tensor.name) status = error_set(error, "%s: out of memory", path);
        else status = parse_entry(item, entry, data_size, path, error);
    }
    cJSON_Delete(root);
    if (status == 0) status = check_coverage(*entries, *n_entries, data_size, path, error);
    return status;
}

// ----------------------------------------------------------------------------
// Reading: the data.

static uint32_t load_u32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t load_u64(const unsigned char *b) { return (uint64_t)load_u32(b) | (uint64_t)load_u32(b + 4) << 32; }

// Decodes n little-endian values of the entry's dtype from bytes into the entry's array,
// starting at element `first`.
static int decode(Entry *entry, const unsigned char *bytes, int64_t first, int64_t n, const char *path,
                  Error *error) {
    SafetensorsTensor *t = &entry->tensor;
    float *floats = (float *)t->floats;
    int32_t *ints = (int32_t *)t->ints;
    for (int64_t k = 0; k < n; k++) {
        const unsigned char *b = bytes + k * DTYPE_SIZES[t->dtype];
        if (t->dtype == SAFETENSORS_F32) {
            uint32_t bits = load_u32(b);
            memcpy(&floats[first + k], &bits, sizeof bits);
        } else if (t->dtype == SAFETENSORS_F16) {
            floats[first + k] = half_to_float((uint16_t)(b[0] | b[1] << 8));
        } else if (t->dtype == SAFETENSORS_BF16) {
            floats[first + k] = bfloat16_to_float((uint16_t)(b[0] | b[1] << 8));
        } else if (t->dtype == SAFETENSORS_I32) {
            ints[first + k] = (int32_t)load_u32(b);
        } else {
            int64_t value = (int64_t)load_u64(b);
            if (value < INT32_MIN || value > INT32_MAX)
                return error_set(error, "%s: tensor '%s': I64 value %lld at index %lld does not fit in int32", path,
                                 t->name, (long long)value, (long long)(first + k));
            ints[first + k] = (int32_t)value;
        }
    }
    return 0;
}

// Reads the entry's values (the file positioned at its first byte) in chunks of 64 KB.
static int read_values(FILE *file, Entry *entry, unsigned char *chunk, const char *path, Error *error) {
    SafetensorsTensor *t = &entry->tensor;
    size_t count = (size_t)t->count;
    void *values = malloc((count ? count : 1) * sizeof(float));  // float and int32_t have the same size
    if (!values) return error_set(error, "%s: out of memory for tensor '%s' (%lld elements)", path, t->name,
                                  (long long)t->count);
    if (is_float_dtype(t->dtype)) t->floats = values;
    else t->ints = values;
    int size = DTYPE_SIZES[t->dtype];
    int64_t per_chunk = 65536 / size;
    char what[300];
    snprintf(what, sizeof what, "the data of tensor '%.200s'", t->name);
    for (int64_t first = 0; first < t->count; first += per_chunk) {
        int64_t n = t->count - first < per_chunk ? t->count - first : per_chunk;
        if (read_exact(file, chunk, (size_t)n * (size_t)size, path, what, error) != 0) return -1;
        if (decode(entry, chunk, first, n, path, error) != 0) return -1;
    }
    return 0;
}

// Reads the header (after the 8-byte length) and the data region of an open file.
static int read_file(FILE *file, Safetensors *out, const char *path, Error *error) {
    long size = file_size(file, path, error);
    if (size < 0) return -1;
    unsigned char length_bytes[8];
    if (size < 8) return error_set(error, "%s: %ld bytes: too short for the 8-byte header length", path, size);
    if (read_exact(file, length_bytes, 8, path, "the header length", error) != 0) return -1;
    uint64_t header_length = load_u64(length_bytes);
    if (header_length > HEADER_MAX_BYTES)
        return error_set(error, "%s: not a safetensors file (its header length %llu is above the %d-byte limit)", path,
                         (unsigned long long)header_length, HEADER_MAX_BYTES);
    if (header_length > (uint64_t)size - 8)
        return error_set(error, "%s: header length %llu runs past the end of the file (%ld bytes)", path,
                         (unsigned long long)header_length, size);
    uint64_t data_size = (uint64_t)size - 8 - header_length;
    char *header = malloc((size_t)header_length + 1);
    if (!header) return error_set(error, "%s: out of memory for the header", path);
    Entry *entries = NULL;
    int n_entries = 0, status = read_exact(file, header, (size_t)header_length, path, "the header", error);
    if (status == 0) status = parse_header(header, (size_t)header_length, data_size, out, &entries, &n_entries, path, error);
    free(header);
    unsigned char *chunk = status == 0 ? malloc(65536) : NULL;
    if (status == 0 && !chunk) status = error_set(error, "%s: out of memory", path);
    for (int k = 0; k < n_entries && status == 0; k++) status = read_values(file, &entries[k], chunk, path, error);
    free(chunk);
    // Hand the tensors over (their names and arrays too), whether or not all were read.
    out->tensors = calloc((size_t)n_entries + 1, sizeof *out->tensors);
    if (!out->tensors) {
        for (int k = 0; k < n_entries; k++)
            free((void *)entries[k].tensor.name), free((void *)entries[k].tensor.floats),
                free((void *)entries[k].tensor.ints);
        free(entries);
        return status == 0 ? error_set(error, "%s: out of memory", path) : -1;
    }
    for (int k = 0; k < n_entries; k++) out->tensors[k] = entries[k].tensor;
    out->n_tensors = n_entries;
    free(entries);
    return status;
}

int safetensors_read(Safetensors *out, const char *path, Error *error) {
    memset(out, 0, sizeof *out);
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open: %s", path, strerror(errno));
    int status = read_file(file, out, path, error);
    fclose(file);
    if (status != 0) safetensors_free(out);
    return status;
}

// ----------------------------------------------------------------------------
// Writing.

static int check_tensors(const SafetensorsTensor *tensors, int n, const SafetensorsMetadata *metadata,
                         int n_metadata, const char *path, Error *error) {
    for (int k = 0; k < n; k++) {
        const SafetensorsTensor *t = &tensors[k];
        const char *name = t->name ? t->name : "";
        int64_t count = 0;
        if (!name[0] || strcmp(name, "__metadata__") == 0)
            return error_set(error, "%s: tensor %d: the name '%s' cannot be written", path, k, name);
        for (int j = 0; j < k; j++)
            if (strcmp(tensors[j].name, name) == 0) return error_set(error, "%s: duplicate name '%s'", path, name);
        if ((unsigned)t->dtype >= 5) return error_set(error, "%s: tensor '%s': unknown dtype", path, name);
        if (t->ndim < 0 || t->ndim > SAFETENSORS_MAX_DIMS)
            return error_set(error, "%s: tensor '%s': ndim %d outside 0..%d", path, name, t->ndim, SAFETENSORS_MAX_DIMS);
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] < 0) return error_set(error, "%s: tensor '%s': dimension %d is negative", path, name, d);
        if (shape_count(t->shape, t->ndim, &count) != 0)
            return error_set(error, "%s: tensor '%s': the shape's size overflows", path, name);
        if (count > 0 && (is_float_dtype(t->dtype) ? !t->floats : !t->ints))
            return error_set(error, "%s: tensor '%s': no %s data for dtype %s", path, name,
                             is_float_dtype(t->dtype) ? "float" : "int32", DTYPE_NAMES[t->dtype]);
    }
    for (int k = 0; k < n_metadata; k++) {
        if (!metadata[k].key || !metadata[k].value)
            return error_set(error, "%s: metadata entry %d has no key or no value", path, k);
        for (int j = 0; j < k; j++)
            if (strcmp(metadata[j].key, metadata[k].key) == 0)
                return error_set(error, "%s: duplicate metadata key '%s'", path, metadata[k].key);
    }
    return 0;
}

// The header's JSON text (unpadded), or NULL when out of memory.
static char *build_header(const SafetensorsTensor *tensors, int n, const SafetensorsMetadata *metadata,
                          int n_metadata) {
    cJSON *root = cJSON_CreateObject();
    int failed = !root;
    if (!failed && n_metadata > 0) {
        cJSON *object = cJSON_AddObjectToObject(root, "__metadata__");
        failed = !object;
        for (int k = 0; k < n_metadata && !failed; k++)
            failed = !cJSON_AddStringToObject(object, metadata[k].key, metadata[k].value);
    }
    uint64_t offset = 0;
    for (int k = 0; k < n && !failed; k++) {
        const SafetensorsTensor *t = &tensors[k];
        int64_t count = 0;
        shape_count(t->shape, t->ndim, &count);
        uint64_t bytes = (uint64_t)count * (uint64_t)DTYPE_SIZES[t->dtype];
        double offsets[2] = {(double)offset, (double)(offset + bytes)};
        offset += bytes;
        cJSON *entry = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = cJSON_CreateArray();
        cJSON *range = cJSON_CreateDoubleArray(offsets, 2);
        failed = !entry || !shape || !range || !cJSON_AddStringToObject(entry, "dtype", DTYPE_NAMES[t->dtype]);
        for (int d = 0; d < t->ndim && !failed; d++) {
            cJSON *size = cJSON_CreateNumber(t->shape[d]);
            failed = !size || !cJSON_AddItemToArray(shape, size);
        }
        if (failed || !cJSON_AddItemToObject(entry, "shape", shape)) cJSON_Delete(shape), failed = 1;
        if (failed || !cJSON_AddItemToObject(entry, "data_offsets", range)) cJSON_Delete(range), failed = 1;
    }
    char *text = failed ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static void store_u32(unsigned char *b, uint32_t v) {
    for (int k = 0; k < 4; k++) b[k] = (unsigned char)(v >> 8 * k);
}

// Encodes n values of the tensor, from element `first`, as little-endian bytes.
static void encode(const SafetensorsTensor *t, int64_t first, int64_t n, unsigned char *bytes) {
    for (int64_t k = 0; k < n; k++) {
        unsigned char *b = bytes + k * DTYPE_SIZES[t->dtype];
        uint32_t bits;
        uint16_t half;
        switch (t->dtype) {
        case SAFETENSORS_F32:
            memcpy(&bits, &t->floats[first + k], sizeof bits);
            store_u32(b, bits);
            break;
        case SAFETENSORS_F16:
        case SAFETENSORS_BF16:
            half = t->dtype == SAFETENSORS_F16 ? half_from_float(t->floats[first + k])
                                               : bfloat16_from_float(t->floats[first + k]);
            b[0] = (unsigned char)half, b[1] = (unsigned char)(half >> 8);
            break;
        case SAFETENSORS_I32:
            store_u32(b, (uint32_t)t->ints[first + k]);
            break;
        case SAFETENSORS_I64:  // sign-extended
            store_u32(b, (uint32_t)t->ints[first + k]);
            store_u32(b + 4, t->ints[first + k] < 0 ? 0xffffffffu : 0);
            break;
        }
    }
}

static int write_contents(FILE *file, const char *header, const SafetensorsTensor *tensors, int n,
                          unsigned char *chunk) {
    size_t length = strlen(header), padded = (length + 7) / 8 * 8;
    unsigned char length_bytes[8];
    store_u32(length_bytes, (uint32_t)padded);
    store_u32(length_bytes + 4, (uint32_t)((uint64_t)padded >> 32));
    if (fwrite(length_bytes, 1, 8, file) != 8 || fwrite(header, 1, length, file) != length) return -1;
    for (size_t k = length; k < padded; k++)
        if (putc(' ', file) == EOF) return -1;
    for (int k = 0; k < n; k++) {
        int64_t count = 0, per_chunk = 65536 / DTYPE_SIZES[tensors[k].dtype];
        shape_count(tensors[k].shape, tensors[k].ndim, &count);
        for (int64_t first = 0; first < count; first += per_chunk) {
            int64_t m = count - first < per_chunk ? count - first : per_chunk;
            size_t bytes = (size_t)m * (size_t)DTYPE_SIZES[tensors[k].dtype];
            encode(&tensors[k], first, m, chunk);
            if (fwrite(chunk, 1, bytes, file) != bytes) return -1;
        }
    }
    return 0;
}

int safetensors_write(const char *path, const SafetensorsTensor *tensors, int n_tensors,
                      const SafetensorsMetadata *metadata, int n_metadata, Error *error) {
    if (n_tensors < 0 || n_metadata < 0) return error_set(error, "%s: negative tensor or metadata count", path);
    if (check_tensors(tensors, n_tensors, metadata, n_metadata, path, error) != 0) return -1;
    char *header = build_header(tensors, n_tensors, metadata, n_metadata);
    unsigned char *chunk = malloc(65536);
    if (!header || !chunk) {
        free(header), free(chunk);
        return error_set(error, "%s: out of memory building the header", path);
    }
    SafeFile out;
    int status = safe_file_open(&out, path, error);
    if (status == 0 && write_contents(out.file, header, tensors, n_tensors, chunk) != 0) {
        status = error_set(error, "%s: write failed: %s", path, strerror(errno));
        safe_file_abort(&out);
    } else if (status == 0) {
        status = safe_file_commit(&out, error);
    }
    free(header), free(chunk);
    return status;
}
