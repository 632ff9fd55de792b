#include "foundations/hash.h"

uint64_t fnv1a(uint64_t hash, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++) {
        hash ^= p[i];
        hash *= FNV_PRIME;
    }
    return hash;
}
