// Helpers shared by the tokenizer tests: reading whole files and the fixtures' id lists.
// (A header, not a test: the CMake glob only turns tests/test_*.c into executables.)
#ifndef TESTS_TOKENIZER_FIXTURES_H
#define TESTS_TOKENIZER_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>

#include "foundations/file.h"

// The whole file as a malloc'ed buffer (NUL-terminated), or NULL if it cannot be read.
static inline unsigned char *read_file(const char *path, size_t *n) {
    unsigned char *data[1] = {NULL};  // (an array: gcc 12 otherwise warns of a dangling pointer)
    Error error;
    return file_read_all(path, data, n, &error) == 0 ? data[0] : NULL;
}

// Decimal ids, one per line -> malloc'ed ints (count in *n), or NULL if unreadable.
static inline int *read_id_lines(const char *path, size_t *n) {
    size_t length;
    char *text = (char *)read_file(path, &length);
    if (!text) return NULL;
    size_t count = 0;
    for (size_t k = 0; k < length; k++) count += text[k] == '\n';
    int *ids = malloc(sizeof(int) * (count + 1));
    char *at = text, *end;
    *n = 0;
    for (long value = strtol(at, &end, 10); end != at; value = strtol(at, &end, 10)) {
        ids[(*n)++] = (int)value;
        at = end;
    }
    free(text);
    return ids;
}

// Raw uint32 little-endian ids -> malloc'ed ints, or NULL if unreadable.
static inline int *read_id_binary(const char *path, size_t *n) {
    size_t length;
    unsigned char *bytes = read_file(path, &length);
    if (!bytes) return NULL;
    *n = length / 4;
    int *ids = malloc(sizeof(int) * (*n + 1));
    for (size_t k = 0; k < *n; k++)
        ids[k] = (int)(bytes[4 * k] | bytes[4 * k + 1] << 8 | bytes[4 * k + 2] << 16 | (unsigned)bytes[4 * k + 3] << 24);
    free(bytes);
    return ids;
}

#endif
