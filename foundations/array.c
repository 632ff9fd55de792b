#include "foundations/array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t array_grown_capacity(size_t capacity, size_t needed) {
    size_t grown = capacity < 16 ? 16 : capacity;
    while (grown < needed) {
        if (grown > SIZE_MAX / 2) return 0;
        grown *= 2;
    }
    return grown;
}

int array_resize(void *items_address, size_t capacity, size_t item_size) {
    if (capacity == 0 || item_size > SIZE_MAX / capacity) return -1;
    // The pointer is read and written through memcpy: items_address points to a T *, not
    // to a void *, and memcpy is the portable way to treat it as one.
    void *items;
    memcpy(&items, items_address, sizeof items);
    void *grown = realloc(items, capacity * item_size);
    if (!grown) return -1;
    memcpy(items_address, &grown, sizeof grown);
    return 0;
}

int array_reserve(void *items_address, size_t *capacity, size_t needed, size_t item_size) {
    if (needed <= *capacity) return 0;
    size_t grown = array_grown_capacity(*capacity, needed);
    if (grown == 0 || array_resize(items_address, grown, item_size)) return -1;
    *capacity = grown;
    return 0;
}
