// Two open-addressing hash tables used by the tokenizer, and the hash they share.
//
// BytesMap: byte string -> int64 value. The map keeps its own copy of every key (in one
//   growing arena), so callers may pass pointers into buffers that change afterwards.
// PairMap:  pair of token ids (left, right) -> int32 value.
// Both grow by doubling at 50% load; neither supports removal (the tokenizer never needs it).
// Not thread-safe for writers; concurrent readers of an unchanging map are fine.
#ifndef TOKENIZER_HASH_MAPS_H
#define TOKENIZER_HASH_MAPS_H

#include <stddef.h>
#include <stdint.h>

// 64-bit hash of key[n] (never 0: 0 marks an empty slot).
uint64_t bytes_hash(const unsigned char *key, size_t n);

typedef struct BytesMapSlot {
    uint64_t hash;       // 0: empty
    size_t key_offset;   // into arena
    size_t key_length;
    int64_t value;
} BytesMapSlot;

typedef struct BytesMap {
    BytesMapSlot *slots;  // (capacity), capacity a power of two
    size_t capacity, count;
    unsigned char *arena;  // every key, back to back
    size_t arena_used, arena_capacity;
} BytesMap;

// Returns 0, or -1 when out of memory. expected_count sizes the table (it still grows).
int bytes_map_init(BytesMap *map, size_t expected_count);
void bytes_map_free(BytesMap *map);
// The value stored for key[n], or NULL. hash must be bytes_hash(key, n).
int64_t *bytes_map_find(const BytesMap *map, const unsigned char *key, size_t n, uint64_t hash);
// The value for key[n], inserted with value 0 if absent (*inserted says which); NULL when
// out of memory. The pointer is valid until the next insertion.
int64_t *bytes_map_upsert(BytesMap *map, const unsigned char *key, size_t n, uint64_t hash, int *inserted);
// The bytes of the key in slot (for iterating over slots[0..capacity) with hash != 0).
const unsigned char *bytes_map_key(const BytesMap *map, const BytesMapSlot *slot);

typedef struct PairMapSlot {
    uint64_t key;  // (left << 32) | right; PAIR_MAP_EMPTY when free
    int32_t value;
} PairMapSlot;

#define PAIR_MAP_EMPTY UINT64_MAX

typedef struct PairMap {
    PairMapSlot *slots;  // (capacity), a power of two
    size_t capacity, count;
} PairMap;

int pair_map_init(PairMap *map, size_t expected_count);
void pair_map_free(PairMap *map);
// The value for (left, right), or -1 when absent (values stored must be >= 0).
int32_t pair_map_get(const PairMap *map, int32_t left, int32_t right);
// The value slot for (left, right), inserted with value -1 if absent; NULL when out of memory.
int32_t *pair_map_upsert(PairMap *map, int32_t left, int32_t right);

#endif
