#include "foundations/heap.h"

#include <stdlib.h>

void heap_free(Heap *heap) {
    free(heap->items);
    heap->items = NULL;
    heap->count = heap->capacity = 0;
}
