// Growable arrays: a plain typed pointer and a capacity, grown by doubling, so that n
// appends cost O(n) copies in all. The array stays an ordinary `T *items`; these functions
// only do the growing:
//   int *ids = NULL; size_t count = 0, capacity = 0;
//   if (array_reserve(&ids, &capacity, count + 1, sizeof *ids)) return error;  // out of memory
//   ids[count++] = id;
// Arrays that grow together (parallel arrays, one capacity) take array_grown_capacity once
// and array_resize each.
#ifndef FOUNDATIONS_ARRAY_H
#define FOUNDATIONS_ARRAY_H

#include <stddef.h>

// The capacity to grow to so that needed items fit: capacity doubled (from 16 when smaller)
// until it is at least needed. 0 if that would overflow.
size_t array_grown_capacity(size_t capacity, size_t needed);
// items_address: the address of a T * (NULL or malloc'd). Reallocates it to hold capacity
// items of item_size bytes. Returns 0, or -1 with the array untouched (out of memory).
int array_resize(void *items_address, size_t capacity, size_t item_size);
// Makes the array at items_address (capacity *capacity) hold at least needed items,
// doubling; updates *capacity. Returns 0, or -1 with the array untouched.
int array_reserve(void *items_address, size_t *capacity, size_t needed, size_t item_size);

#endif
