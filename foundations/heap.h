// A binary min-heap (Williams 1964; any algorithms text): the smallest item on top, push
// and pop in O(log n). Items are ordered by key, then by tie, both ascending; value is
// carried along. A max-heap pushes -key; a lexicographic order on two small numbers packs
// them into tie (a << 32 | b).
#ifndef FOUNDATIONS_HEAP_H
#define FOUNDATIONS_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "foundations/array.h"

typedef struct HeapItem {
    int64_t key;
    int64_t tie;    // orders items with equal keys
    int64_t value;  // not compared
} HeapItem;

typedef struct Heap {
    HeapItem *items;  // (count), items[0] the smallest; items[i] <= its children 2i+1, 2i+2
    size_t count, capacity;
} Heap;

void heap_free(Heap *heap);

// push and pop are inline: the BPE encoder's merge loop calls them for every candidate.

static inline int heap_before(HeapItem a, HeapItem b) {
    return a.key < b.key || (a.key == b.key && a.tie < b.tie);
}

// Adds item. Returns 0, or -1 when out of memory (the heap unchanged). Starts from a
// zeroed Heap. The new item climbs from the last slot while it is smaller than its parent.
static inline int heap_push(Heap *heap, HeapItem item) {
    if (heap->count == heap->capacity &&
        array_reserve(&heap->items, &heap->capacity, heap->count + 1, sizeof *heap->items))
        return -1;
    size_t i = heap->count++;
    while (i > 0 && heap_before(item, heap->items[(i - 1) / 2])) {
        heap->items[i] = heap->items[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap->items[i] = item;
    return 0;
}

// Removes and returns the smallest item; the heap must not be empty (count > 0).
// The last item fills the root's place and sinks while a child is smaller.
static inline HeapItem heap_pop(Heap *heap) {
    HeapItem top = heap->items[0], last = heap->items[--heap->count];
    size_t i = 0, n = heap->count;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap_before(heap->items[child + 1], heap->items[child])) child++;
        if (!heap_before(heap->items[child], last)) break;
        heap->items[i] = heap->items[child];
        i = child;
    }
    if (n) heap->items[i] = last;
    return top;
}

#endif
