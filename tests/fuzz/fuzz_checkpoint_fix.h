// Recomputes a groundup checkpoint's header checksum over the fuzzer's bytes (gpt/checkpoint.h:
// FNV-1a 64 of header[0..248), the tokenizer and the tensor table, stored at byte 248), so
// that mutated files get past it to the checks behind it. Bytes that are no checkpoint, or
// whose header points past their end, are left as they are.
#ifndef TESTS_FUZZ_CHECKPOINT_FIX_H
#define TESTS_FUZZ_CHECKPOINT_FIX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/hash.h"
#include "gpt/checkpoint.h"
#include "tests/fuzz/fuzz_common.h"

// A malloc'ed copy of data[size] with the checksum fixed; the caller frees it.
static inline uint8_t *fuzz_checkpoint_fix_checksum(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    fuzz_require(copy != NULL, "out of memory for the input");
    memcpy(copy, data, size);
    enum { CHECKSUM_AT = 248, TENSORS_AT = 28, TOKENIZER_BYTES_AT = 40 };
    if (size < CHECKPOINT_HEADER_BYTES || memcmp(copy, "groundup", 8) != 0) return copy;
    uint32_t n_tensors;
    uint64_t tokenizer_bytes;
    memcpy(&n_tensors, copy + TENSORS_AT, 4);
    memcpy(&tokenizer_bytes, copy + TOKENIZER_BYTES_AT, 8);
    uint64_t table_bytes = (uint64_t)n_tensors * CHECKPOINT_TENSOR_ENTRY_BYTES;
    uint64_t room = size - CHECKPOINT_HEADER_BYTES;
    if (tokenizer_bytes > room || table_bytes > room - tokenizer_bytes) return copy;
    uint64_t checksum = fnv1a(FNV_OFFSET, copy, CHECKSUM_AT);
    checksum = fnv1a(checksum, copy + CHECKPOINT_HEADER_BYTES, (size_t)(tokenizer_bytes + table_bytes));
    memcpy(copy + CHECKSUM_AT, &checksum, 8);
    return copy;
}

#endif
