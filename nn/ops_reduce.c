// Reductions: sum and max over one axis are kernels (foundations/elementwise.h); several axes
// are one axis at a time; mean and var are compositions of them.
#include <string.h>

#include "foundations/elementwise.h"
#include "nn/op_common.h"
#include "nn/ops.h"

static void sum_backward_node(Tape *tape, Node *node) {
    sum_axis_backward(input_grad(tape, node->in[0]), node->out->grad, node->sizes[0], node->sizes[1], node->sizes[2]);
}

// Sum over one (normalised) axis, kept as size 1.
static Tensor *sum_one_axis(Tape *tape, Tensor *x, int axis) {
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    long outer, inner, n = x->shape[axis];
    split_at_axis(x, axis, &outer, &inner);
    shape[axis] = 1;
    Tensor *out = tensor_new(tape, x->n_dims, shape);
    if (!out) return NULL;
    sum_axis_forward(out->data, x->data, outer, n, inner);
    Node *node = tape_record(tape, "sum", sum_backward_node, out, &x, 1);
    if (node) node->sizes[0] = outer, node->sizes[1] = n, node->sizes[2] = inner;
    return out;
}

// The axes to reduce as flags (all of them for n_axes 0), or -1 on a bad axis or a repeat.
static int reduced_axes(Tape *tape, const char *op, const Tensor *x, const int *axes, int n_axes, int *flags) {
    memset(flags, 0, sizeof(int) * NN_MAX_DIMS);
    for (int d = 0; d < x->n_dims && n_axes == 0; d++) flags[d] = 1;
    for (int i = 0; i < n_axes; i++) {
        int axis = normalise_axis(axes[i], x->n_dims);
        if (axis < 0 || flags[axis]) {
            tape_fail(tape, "%s: axis %d is out of range or repeated for shape %s", op, axes[i], shape_text(x).text);
            return -1;
        }
        flags[axis] = 1;
    }
    return 0;
}

// Drops the reduced (size 1) axes unless keepdim.
static Tensor *finish_reduction(Tape *tape, Tensor *reduced, const int *flags, int keepdim) {
    if (!reduced || keepdim) return reduced;
    int shape[NN_MAX_DIMS], n_dims = 0;
    for (int d = 0; d < reduced->n_dims; d++)
        if (!flags[d]) shape[n_dims++] = reduced->shape[d];
    return nn_reshape(tape, reduced, n_dims, shape);
}

Tensor *nn_sum(Tape *tape, Tensor *x, const int *axes, int n_axes, int keepdim) {
    if (!x) return NULL;
    int flags[NN_MAX_DIMS];
    if (reduced_axes(tape, "sum", x, axes, n_axes, flags)) return NULL;
    Tensor *out = x;
    for (int d = 0; d < x->n_dims && out; d++)
        if (flags[d]) out = sum_one_axis(tape, out, d);
    if (out == x) out = nn_scale(tape, x, 1.0f);  // nothing reduced (a scalar): still a new value
    return finish_reduction(tape, out, flags, keepdim);
}

// The number of elements each output of a reduction over flags sums.
static long reduced_count(const Tensor *x, const int *flags) {
    long count = 1;
    for (int d = 0; d < x->n_dims; d++)
        if (flags[d]) count *= x->shape[d];
    return count;
}

Tensor *nn_mean(Tape *tape, Tensor *x, const int *axes, int n_axes, int keepdim) {
    if (!x) return NULL;
    int flags[NN_MAX_DIMS];
    if (reduced_axes(tape, "mean", x, axes, n_axes, flags)) return NULL;
    long count = reduced_count(x, flags);
    return nn_scale(tape, nn_sum(tape, x, axes, n_axes, keepdim), count ? 1.0f / (float)count : 0.0f);
}

// var = Σ (x − mean)² / (n − unbiased): composed, so its gradient comes from the pieces'.
Tensor *nn_var(Tape *tape, Tensor *x, const int *axes, int n_axes, int keepdim, int unbiased) {
    if (!x) return NULL;
    int flags[NN_MAX_DIMS];
    if (reduced_axes(tape, "var", x, axes, n_axes, flags)) return NULL;
    long count = reduced_count(x, flags);
    if (count - (unbiased ? 1 : 0) <= 0)
        return tape_fail(tape, "var: %ld values per output are too few (shape %s)", count, shape_text(x).text);
    Tensor *centred = nn_sub(tape, x, nn_mean(tape, x, axes, n_axes, 1));
    Tensor *squares = nn_mul(tape, centred, centred);
    return nn_scale(tape, nn_sum(tape, squares, axes, n_axes, keepdim), 1.0f / (float)(count - (unbiased ? 1 : 0)));
}

static void max_backward_node(Tape *tape, Node *node) {
    max_axis_backward(input_grad(tape, node->in[0]), node->out->grad, node->indices, node->sizes[0], node->sizes[1],
                      node->sizes[2]);
}

// The maximum over one (normalised, non-empty) axis, kept as size 1.
static Tensor *max_one_axis(Tape *tape, Tensor *x, int axis) {
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = 1;
    long outer, inner, n = x->shape[axis];
    split_at_axis(x, axis, &outer, &inner);
    Tensor *out = tensor_new(tape, x->n_dims, shape);
    int *argmax = tape_alloc(tape, sizeof(int) * (size_t)(outer * inner > 0 ? outer * inner : 1));
    if (!out || !argmax) return NULL;
    max_axis_forward(out->data, argmax, x->data, outer, n, inner);
    Node *node = tape_record(tape, "max", max_backward_node, out, &x, 1);
    if (node) node->indices = argmax, node->sizes[0] = outer, node->sizes[1] = n, node->sizes[2] = inner;
    return out;
}

// Several axes one after the other: the maximum of maxima is the maximum.
Tensor *nn_max(Tape *tape, Tensor *x, const int *axes, int n_axes, int keepdim) {
    if (!x) return NULL;
    int flags[NN_MAX_DIMS];
    if (reduced_axes(tape, "max", x, axes, n_axes, flags)) return NULL;
    Tensor *out = x;
    for (int d = 0; d < x->n_dims && out; d++) {
        if (!flags[d]) continue;
        if (x->shape[d] == 0) return tape_fail(tape, "max: axis %d of %s is empty", d, shape_text(x).text);
        out = max_one_axis(tape, out, d);
    }
    if (out == x) out = nn_scale(tape, x, 1.0f);  // nothing reduced (a scalar): still a new value
    return finish_reduction(tape, out, flags, keepdim);
}
