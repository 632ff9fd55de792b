#include "foundations/heap.h"

#include <stdlib.h>

#include "foundations/array.h"

static int before(HeapItem a, HeapItem b) {
    return a.key < b.key || (a.key == b.key && a.tie < b.tie);
}

// The new item climbs from the last slot while it is smaller than its parent.
int heap_push(Heap *heap, HeapItem item) {
    if (array_reserve(&heap->items, &heap->capacity, heap->count + 1, sizeof *heap->items)) return -1;
    size_t i = heap->count++;
    while (i > 0 && before(item, heap->items[(i - 1) / 2])) {
        heap->items[i] = heap->items[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap->items[i] = item;
    return 0;
}

// The last item fills the root's place and sinks while a child is smaller.
HeapItem heap_pop(Heap *heap) {
    HeapItem top = heap->items[0], last = heap->items[--heap->count];
    size_t i = 0, n = heap->count;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && before(heap->items[child + 1], heap->items[child])) child++;
        if (!before(heap->items[child], last)) break;
        heap->items[i] = heap->items[child];
        i = child;
    }
    if (n) heap->items[i] = last;
    return top;
}

void heap_free(Heap *heap) {
    free(heap->items);
    heap->items = NULL;
    heap->count = heap->capacity = 0;
}
