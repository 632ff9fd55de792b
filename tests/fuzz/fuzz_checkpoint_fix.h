// Recomputes a groundup checkpoint's two checksums over the fuzzer's bytes (gpt/checkpoint.h):
// the CRC-32 of the tensor data at byte 176 (the tensors the table lists, in its order, when
// they lie inside the input), then the FNV-1a 64 of header[0..248), the tokenizer and the
// tensor table at byte 248, so that mutated files get past them to the checks behind them.
// Bytes that are no checkpoint, or whose header points past their end, are left as they are.
#ifndef TESTS_FUZZ_CHECKPOINT_FIX_H
#define TESTS_FUZZ_CHECKPOINT_FIX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "foundations/hash.h"
#include "gpt/checkpoint.h"
#include "tests/fuzz/fuzz_common.h"

// A malloc'ed copy of data[size] with the checksum fixed; the caller frees it.
static inline uint8_t *fuzz_checkpoint_fix_checksum(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    fuzz_require(copy != NULL, "out of memory for the input");
    memcpy(copy, data, size);
    enum { CHECKSUM_AT = 248, CRC_AT = 176, TENSORS_AT = 28, TOKENIZER_BYTES_AT = 40, DATA_OFFSET_AT = 56 };
    if (size < CHECKPOINT_HEADER_BYTES || memcmp(copy, "groundup", 8) != 0) return copy;
    uint32_t n_tensors;
    uint64_t tokenizer_bytes;
    memcpy(&n_tensors, copy + TENSORS_AT, 4);
    memcpy(&tokenizer_bytes, copy + TOKENIZER_BYTES_AT, 8);
    uint64_t table_bytes = (uint64_t)n_tensors * CHECKPOINT_TENSOR_ENTRY_BYTES;
    uint64_t room = size - CHECKPOINT_HEADER_BYTES;
    if (tokenizer_bytes > room || table_bytes > room - tokenizer_bytes) return copy;
    uint64_t data_offset;
    memcpy(&data_offset, copy + DATA_OFFSET_AT, 8);
    uLong crc = crc32(0L, Z_NULL, 0);
    const uint8_t *table = copy + CHECKPOINT_HEADER_BYTES + tokenizer_bytes;
    for (uint32_t i = 0; i < n_tensors; i++) {
        uint64_t offset, bytes;
        memcpy(&offset, table + (size_t)i * CHECKPOINT_TENSOR_ENTRY_BYTES + 72, 8);
        memcpy(&bytes, table + (size_t)i * CHECKPOINT_TENSOR_ENTRY_BYTES + 80, 8);
        if (data_offset > size || offset > size - data_offset || bytes > size - data_offset - offset) break;
        crc = crc32(crc, copy + data_offset + offset, (uInt)bytes);
    }
    uint32_t crc32_value = (uint32_t)crc;
    memcpy(copy + CRC_AT, &crc32_value, 4);
    uint64_t checksum = fnv1a(FNV_OFFSET, copy, CHECKSUM_AT);
    checksum = fnv1a(checksum, copy + CHECKPOINT_HEADER_BYTES, (size_t)(tokenizer_bytes + table_bytes));
    memcpy(copy + CHECKSUM_AT, &checksum, 8);
    return copy;
}

#endif
