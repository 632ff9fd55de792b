// A binary min-heap (Williams 1964; any algorithms text): the smallest item on top, push
// and pop in O(log n). Items are ordered by key, then by tie, both ascending; value is
// carried along. A max-heap pushes -key; a lexicographic order on two small numbers packs
// them into tie (a << 32 | b).
#ifndef FOUNDATIONS_HEAP_H
#define FOUNDATIONS_HEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct HeapItem {
    int64_t key;
    int64_t tie;    // orders items with equal keys
    int64_t value;  // not compared
} HeapItem;

typedef struct Heap {
    HeapItem *items;  // (count), items[0] the smallest; items[i] <= its children 2i+1, 2i+2
    size_t count, capacity;
} Heap;

// Adds item. Returns 0, or -1 when out of memory (the heap unchanged). Starts from a
// zeroed Heap.
int heap_push(Heap *heap, HeapItem item);
// Removes and returns the smallest item; the heap must not be empty (count > 0).
HeapItem heap_pop(Heap *heap);
void heap_free(Heap *heap);

#endif
