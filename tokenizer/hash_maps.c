// Open-addressing hash tables with linear probing (see hash_maps.h).
#include "tokenizer/hash_maps.h"

#include <stdlib.h>
#include <string.h>

#include "foundations/array.h"

// A multiply-xorshift hash over 8-byte words: fast on the short keys a tokenizer sees
// (words of a few bytes), and well mixed by the final avalanche step.
uint64_t bytes_hash(const unsigned char *key, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xD6E8FEB86659FD93ull);
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, key, 8);
        h = (h ^ word) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 29;
        key += 8, n -= 8;
    }
    if (n) {
        uint64_t word = 0;
        memcpy(&word, key, n);
        h = (h ^ word) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 29;
    }
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h ? h : 1;
}

static size_t capacity_for(size_t expected_count) {
    size_t capacity = 16;
    while (capacity < 2 * expected_count) capacity *= 2;
    return capacity;
}

// ---------------------------------------------------------------------------- BytesMap

int bytes_map_init(BytesMap *map, size_t expected_count) {
    memset(map, 0, sizeof *map);
    map->capacity = capacity_for(expected_count);
    map->slots = calloc(map->capacity, sizeof *map->slots);
    map->arena_capacity = 1024;
    map->arena = malloc(map->arena_capacity);
    if (!map->slots || !map->arena) {
        bytes_map_free(map);
        return -1;
    }
    return 0;
}

void bytes_map_free(BytesMap *map) {
    free(map->slots);
    free(map->arena);
    memset(map, 0, sizeof *map);
}

const unsigned char *bytes_map_key(const BytesMap *map, const BytesMapSlot *slot) {
    return map->arena + slot->key_offset;
}

int64_t *bytes_map_find(const BytesMap *map, const unsigned char *key, size_t n, uint64_t hash) {
    size_t mask = map->capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const BytesMapSlot *slot = &map->slots[i];
        if (slot->hash == 0) return NULL;
        if (slot->hash == hash && slot->key_length == n && memcmp(map->arena + slot->key_offset, key, n) == 0)
            return (int64_t *)&slot->value;
    }
}

static int bytes_map_grow(BytesMap *map) {
    size_t new_capacity = map->capacity * 2, mask = new_capacity - 1;
    BytesMapSlot *new_slots = calloc(new_capacity, sizeof *new_slots);
    if (!new_slots) return -1;
    for (size_t k = 0; k < map->capacity; k++) {
        if (map->slots[k].hash == 0) continue;
        size_t i = map->slots[k].hash & mask;
        while (new_slots[i].hash) i = (i + 1) & mask;
        new_slots[i] = map->slots[k];
    }
    free(map->slots);
    map->slots = new_slots;
    map->capacity = new_capacity;
    return 0;
}

int64_t *bytes_map_upsert(BytesMap *map, const unsigned char *key, size_t n, uint64_t hash, int *inserted) {
    int64_t *found = bytes_map_find(map, key, n, hash);
    *inserted = 0;
    if (found) return found;
    if (2 * (map->count + 1) > map->capacity && bytes_map_grow(map) != 0) return NULL;
    if (map->arena_used + n > map->arena_capacity &&
        array_reserve(&map->arena, &map->arena_capacity, map->arena_used + n, 1))
        return NULL;
    memcpy(map->arena + map->arena_used, key, n);
    size_t mask = map->capacity - 1, i = hash & mask;
    while (map->slots[i].hash) i = (i + 1) & mask;
    map->slots[i] = (BytesMapSlot){hash, map->arena_used, n, 0};
    map->arena_used += n;
    map->count++;
    *inserted = 1;
    return &map->slots[i].value;
}

// ---------------------------------------------------------------------------- PairMap

static uint64_t pair_key(int32_t left, int32_t right) {
    return ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
}

// Fibonacci hashing: the high bits of key * 2^64/phi spread consecutive ids well.
static size_t pair_slot(uint64_t key, size_t mask) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 32)) & mask;
}

int pair_map_init(PairMap *map, size_t expected_count) {
    map->capacity = capacity_for(expected_count);
    map->count = 0;
    map->slots = malloc(map->capacity * sizeof *map->slots);
    if (!map->slots) return -1;
    for (size_t i = 0; i < map->capacity; i++) map->slots[i] = (PairMapSlot){PAIR_MAP_EMPTY, -1};
    return 0;
}

void pair_map_free(PairMap *map) {
    free(map->slots);
    memset(map, 0, sizeof *map);
}

int32_t pair_map_get(const PairMap *map, int32_t left, int32_t right) {
    uint64_t key = pair_key(left, right);
    size_t mask = map->capacity - 1;
    for (size_t i = pair_slot(key, mask);; i = (i + 1) & mask) {
        if (map->slots[i].key == key) return map->slots[i].value;
        if (map->slots[i].key == PAIR_MAP_EMPTY) return -1;
    }
}

static int pair_map_grow(PairMap *map) {
    size_t new_capacity = map->capacity * 2, mask = new_capacity - 1;
    PairMapSlot *new_slots = malloc(new_capacity * sizeof *new_slots);
    if (!new_slots) return -1;
    for (size_t i = 0; i < new_capacity; i++) new_slots[i] = (PairMapSlot){PAIR_MAP_EMPTY, -1};
    for (size_t k = 0; k < map->capacity; k++) {
        if (map->slots[k].key == PAIR_MAP_EMPTY) continue;
        size_t i = pair_slot(map->slots[k].key, mask);
        while (new_slots[i].key != PAIR_MAP_EMPTY) i = (i + 1) & mask;
        new_slots[i] = map->slots[k];
    }
    free(map->slots);
    map->slots = new_slots;
    map->capacity = new_capacity;
    return 0;
}

int32_t *pair_map_upsert(PairMap *map, int32_t left, int32_t right) {
    uint64_t key = pair_key(left, right);
    size_t mask = map->capacity - 1;
    size_t i = pair_slot(key, mask);
    for (;; i = (i + 1) & mask) {
        if (map->slots[i].key == key) return &map->slots[i].value;
        if (map->slots[i].key == PAIR_MAP_EMPTY) break;
    }
    if (2 * (map->count + 1) > map->capacity) {
        if (pair_map_grow(map) != 0) return NULL;
        mask = map->capacity - 1;
        for (i = pair_slot(key, mask); map->slots[i].key != PAIR_MAP_EMPTY; i = (i + 1) & mask) {}
    }
    map->slots[i].key = key;
    map->slots[i].value = -1;
    map->count++;
    return &map->slots[i].value;
}
