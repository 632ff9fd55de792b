// FNV-1a, 64 bits (Fowler, Noll and Vo; the parameters of the IETF draft
// draft-eastlake-fnv): for each byte, hash = (hash XOR byte) * 1099511628211, starting from
// 14695981039346656037. Not cryptographic: it names cache files, checks checkpoints for
// corruption and identifies a LoRA's base model.
#ifndef FOUNDATIONS_HASH_H
#define FOUNDATIONS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

// The hash of bytes (n), continued from hash: start with FNV_OFFSET; hashing a then b in two
// calls equals hashing their concatenation in one.
uint64_t fnv1a(uint64_t hash, const void *bytes, size_t n);

#endif
