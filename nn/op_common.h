// What the operation files share (not a public header): the gradient of an input when it
// wants one, axis normalisation and shape messages.
#ifndef NN_OP_COMMON_H
#define NN_OP_COMMON_H

#include "nn/tensor.h"

// in's gradient buffer (allocated zeroed on first use), or NULL when in needs none.
static inline float *input_grad(Tape *tape, Tensor *in) {
    return in && in->requires_grad ? tensor_grad(tape, in) : NULL;
}

// A PyTorch-style axis (negative counts from the end) as 0..n_dims-1, or -1 when out of range.
static inline int normalise_axis(int axis, int n_dims) {
    if (axis < 0) axis += n_dims;
    return axis >= 0 && axis < n_dims ? axis : -1;
}

// x viewed as (outer, shape[axis], inner) around axis.
static inline void split_at_axis(const Tensor *x, int axis, long *outer, long *inner) {
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= x->shape[d];
    for (int d = axis + 1; d < x->n_dims; d++) *inner *= x->shape[d];
}

// A copy of n ints in the arena (an operation's integer inputs, kept for its backward).
static inline int *copy_ints(Tape *tape, const int *values, long n) {
    int *copy = tape_alloc(tape, sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (copy)
        for (long i = 0; i < n; i++) copy[i] = values[i];
    return copy;
}

typedef struct ShapeText {
    char text[64];
} ShapeText;

static inline ShapeText shape_text(const Tensor *t) {
    ShapeText s;
    tensor_shape_string(t, s.text, sizeof s.text);
    return s;
}

#endif
