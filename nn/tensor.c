// The tape, its arena, and tensors: see tensor.h.
#include "nn/tensor.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ----------------------------------------------------------------------------
// the arena

enum { ARENA_ALIGN = 64 };
static const size_t ARENA_MIN_BLOCK = (size_t)1 << 20;
static const long MAX_ELEMENTS = 1L << 40;  // 4 TiB of floats: beyond any real tensor, far from overflow

struct ArenaBlock {
    ArenaBlock *next;  // the block allocated before this one
    size_t capacity, used;
    unsigned char *memory;
};

static ArenaBlock *block_new(size_t capacity) {
    ArenaBlock *block = malloc(sizeof *block);
    if (!block) return NULL;
    block->memory = aligned_alloc(ARENA_ALIGN, capacity);
    if (!block->memory) {
        free(block);
        return NULL;
    }
    block->capacity = capacity;
    block->used = 0;
    block->next = NULL;
    return block;
}

static void blocks_free(ArenaBlock *block) {
    while (block) {
        ArenaBlock *next = block->next;
        free(block->memory);
        free(block);
        block = next;
    }
}

static void *arena_alloc(Arena *arena, size_t bytes) {
    bytes = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (bytes == 0) bytes = ARENA_ALIGN;
    ArenaBlock *block = arena->blocks;
    if (!block || block->capacity - block->used < bytes) {
        // A new block at least twice the last, so a step needs few of them.
        size_t capacity = block ? 2 * block->capacity : ARENA_MIN_BLOCK;
        if (capacity < bytes) capacity = bytes;
        ArenaBlock *fresh = block_new(capacity);
        if (!fresh) return NULL;
        fresh->next = block;
        arena->blocks = block = fresh;
    }
    void *memory = block->memory + block->used;
    block->used += bytes;
    arena->used_total += bytes;
    return memory;
}

// Rewinds; a step that needed several blocks gets one block of the total next time, so after
// the first step of a loop the arena neither allocates nor grows.
static void arena_reset(Arena *arena) {
    if (arena->used_total > arena->high_water) arena->high_water = arena->used_total;
    arena->used_total = 0;
    if (arena->blocks && arena->blocks->next) {
        blocks_free(arena->blocks);
        arena->blocks = block_new(arena->high_water);  // NULL is fine: the next alloc makes one
    }
    if (arena->blocks) arena->blocks->used = 0;
}

// ----------------------------------------------------------------------------
// the tape

size_t tape_reserved_bytes(const Tape *tape) {
    size_t total = 0;
    for (const ArenaBlock *block = tape->arena.blocks; block; block = block->next) total += block->capacity;
    return total;
}

void tape_init(Tape *tape) {
    memset(tape, 0, sizeof *tape);
    tape->recording = 1;
}

void tape_free(Tape *tape) {
    blocks_free(tape->arena.blocks);
    free(tape->scratch);
    memset(tape, 0, sizeof *tape);
}

void tape_reset(Tape *tape) {
    arena_reset(&tape->arena);
    tape->last = NULL;
    tape->failed = 0;
    tape->error.message[0] = '\0';
}

void *tape_scratch(Tape *tape, size_t bytes) {
    if (bytes <= tape->scratch_bytes && tape->scratch) return tape->scratch;
    size_t rounded = (bytes + 63) / 64 * 64;
    void *grown = rounded >= bytes ? aligned_alloc(64, rounded ? rounded : 64) : NULL;
    if (!grown) {
        tape_fail(tape, "out of memory for %zu bytes of scratch", bytes);
        return NULL;
    }
    free(tape->scratch);
    tape->scratch = grown, tape->scratch_bytes = rounded;
    return grown;
}

Tensor *tape_fail(Tape *tape, const char *format, ...) {
    if (tape->failed) return NULL;  // the first failure explains the rest
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(tape->error.message, sizeof tape->error.message, format, arguments);
    va_end(arguments);
    tape->failed = 1;
    return NULL;
}

int tape_error(const Tape *tape, Error *error) {
    if (error) snprintf(error->message, sizeof error->message, "%s", tape->failed ? tape->error.message : "unknown failure");
    return -1;
}

void *tape_alloc(Tape *tape, size_t bytes) {
    void *memory = arena_alloc(&tape->arena, bytes);
    if (!memory) tape_fail(tape, "out of memory for %zu bytes of a step's tensors", bytes);
    return memory;
}

Node *tape_record(Tape *tape, const char *op, BackwardFunction backward, Tensor *out, Tensor *const *in, int n_in) {
    int needed = 0;
    for (int i = 0; i < n_in; i++) needed |= in[i] && in[i]->requires_grad;
    out->requires_grad = tape->recording && needed;
    if (!out->requires_grad) return NULL;
    Node *node = tape_alloc(tape, sizeof *node);
    if (!node) return NULL;
    memset(node, 0, sizeof *node);
    node->op = op;
    node->backward = backward;
    node->out = out;
    for (int i = 0; i < n_in && i < NODE_MAX_INPUTS; i++) node->in[i] = in[i];
    node->previous = tape->last;
    tape->last = node;
    return node;
}

int tape_backward(Tape *tape, Tensor *loss, Error *error) {
    if (tape->failed) return tape_error(tape, error);
    if (!loss) return error_set(error, "backward: no loss (an operation failed)");
    if (loss->size != 1) return error_set(error, "backward: the loss must be a scalar, not %ld values", loss->size);
    if (!loss->requires_grad) return error_set(error, "backward: the loss does not depend on any parameter");
    float *seed = tensor_grad(tape, loss);
    if (!seed) return tape_error(tape, error);
    seed[0] += 1.0f;
    for (Node *node = tape->last; node; node = node->previous) {
        if (!node->out->grad) continue;  // nothing downstream of it reached the loss
        if (node->out->grad_unwritten) tensor_grad(tape, node->out);  // allocated, never written: zeros
        // The inputs' gradients first, so that a backward never meets a missing one (out of
        // memory); unwritten, so that the first contribution can be stored (tensor_grad_first)
        for (int i = 0; i < NODE_MAX_INPUTS; i++) {
            Tensor *in = node->in[i];
            if (!in || !in->requires_grad || in->grad) continue;
            in->grad = tape_alloc(tape, sizeof(float) * (size_t)in->size);
            if (!in->grad) return tape_error(tape, error);
            in->grad_unwritten = 1;
        }
        node->backward(tape, node);
        if (tape->failed) return tape_error(tape, error);
    }
    // Gradients no backward wrote to (an input it gives none) are zeros for whoever reads them.
    for (Node *node = tape->last; node; node = node->previous)
        for (int i = 0; i < NODE_MAX_INPUTS; i++)
            if (node->in[i] && node->in[i]->grad_unwritten) tensor_grad(tape, node->in[i]);
    return 0;
}

// ----------------------------------------------------------------------------
// tensors

long shape_size(int n_dims, const int *shape) {
    if (n_dims < 0 || n_dims > NN_MAX_DIMS) return -1;
    long size = 1;
    for (int d = 0; d < n_dims; d++) {
        if (shape[d] < 0) return -1;
        if (shape[d] > 0 && size > MAX_ELEMENTS / shape[d]) return -1;
        size *= shape[d];
    }
    return size;
}

static int set_shape(Tensor *t, int n_dims, const int *shape) {
    long size = shape_size(n_dims, shape);
    if (size < 0) return -1;
    t->n_dims = n_dims;
    for (int d = 0; d < NN_MAX_DIMS; d++) t->shape[d] = d < n_dims ? shape[d] : 1;
    t->size = size;
    return 0;
}

Tensor *tensor_new(Tape *tape, int n_dims, const int *shape) {
    if (tape->failed) return NULL;
    Tensor *t = tape_alloc(tape, sizeof *t);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    if (set_shape(t, n_dims, shape)) return tape_fail(tape, "tensor: invalid shape of %d dimensions", n_dims);
    t->data = tape_alloc(tape, sizeof(float) * (size_t)t->size);
    return t->data ? t : NULL;
}

Tensor *tensor_zeros(Tape *tape, int n_dims, const int *shape) {
    Tensor *t = tensor_new(tape, n_dims, shape);
    if (t) memset(t->data, 0, sizeof(float) * (size_t)t->size);
    return t;
}

Tensor *tensor_from(Tape *tape, const float *data, int n_dims, const int *shape) {
    Tensor *t = tensor_new(tape, n_dims, shape);
    if (t) memcpy(t->data, data, sizeof(float) * (size_t)t->size);
    return t;
}

float *tensor_grad(Tape *tape, Tensor *t) {
    if (!t->grad) {
        t->grad = tape_alloc(tape, sizeof(float) * (size_t)t->size);
        if (t->grad) memset(t->grad, 0, sizeof(float) * (size_t)t->size);
    } else if (t->grad_unwritten) {
        memset(t->grad, 0, sizeof(float) * (size_t)t->size);
    }
    t->grad_unwritten = 0;
    return t->grad;
}

float *tensor_grad_first(Tape *tape, Tensor *t, int *first) {
    *first = 0;
    if (!t || !t->requires_grad) return NULL;
    if (!t->grad) {  // not through tape_backward (a backward called directly): a fresh buffer
        t->grad = tape_alloc(tape, sizeof(float) * (size_t)t->size);
        t->grad_unwritten = t->grad != NULL;
    }
    *first = t->grad_unwritten;
    t->grad_unwritten = 0;
    return t->grad;
}

int tensor_parameter(Tensor *t, int n_dims, const int *shape, Error *error) {
    memset(t, 0, sizeof *t);
    if (set_shape(t, n_dims, shape)) return error_set(error, "parameter: invalid shape of %d dimensions", n_dims);
    size_t bytes = (sizeof(float) * (size_t)t->size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (bytes == 0) bytes = ARENA_ALIGN;
    t->data = aligned_alloc(ARENA_ALIGN, bytes);
    t->grad = aligned_alloc(ARENA_ALIGN, bytes);
    if (!t->data || !t->grad) {
        tensor_parameter_free(t);
        return error_set(error, "parameter: out of memory for %ld values", t->size);
    }
    memset(t->data, 0, bytes);
    memset(t->grad, 0, bytes);
    t->requires_grad = 1;
    t->is_parameter = 1;
    return 0;
}

void tensor_parameter_free(Tensor *t) {
    if (!t) return;
    free(t->data);
    free(t->grad);
    memset(t, 0, sizeof *t);
}

const char *tensor_shape_string(const Tensor *t, char *out, size_t size) {
    size_t used = (size_t)snprintf(out, size, "(");
    for (int d = 0; d < t->n_dims && used < size; d++)
        used += (size_t)snprintf(out + used, size - used, d ? ",%d" : "%d", t->shape[d]);
    if (used < size) snprintf(out + used, size - used, ")");
    return out;
}

int tensor_same_shape(const Tensor *a, const Tensor *b) {
    if (a->n_dims != b->n_dims) return 0;
    for (int d = 0; d < a->n_dims; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}
