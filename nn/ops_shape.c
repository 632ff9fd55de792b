// Shape and indexing operations. Reshape is a view (shared data); permute, slice and concat are
// strided copies (foundations/elementwise.h), whose backward is the same copy the other way;
// index_select and embedding are the embedding kernel of foundations/layers.h.
#include <string.h>

#include "foundations/elementwise.h"
#include "foundations/layers.h"
#include "nn/op_common.h"
#include "nn/ops.h"

enum { D = NN_MAX_DIMS };

// Contiguous element strides of x's shape.
static void strides_of(const Tensor *x, long *stride) {
    long s = 1;
    for (int d = x->n_dims - 1; d >= 0; d--) stride[d] = s, s *= x->shape[d];
}

// A shape and strides of n_dims dimensions, padded on the left to D (size 1, stride 0), as
// strided_copy takes them.
static void pad_left(int n_dims, const int *shape, const long *stride, int *shape5, long *stride5) {
    for (int d = 0; d < D; d++) {
        int k = d - (D - n_dims);
        shape5[d] = k >= 0 ? shape[k] : 1;
        stride5[d] = k >= 0 ? stride[k] : 0;
    }
}

// ----------------------------------------------------------------------------
// reshape

static void reshape_backward_node(Tape *tape, Node *node) {
    float *d_x = input_grad(tape, node->in[0]);
    const float *g = node->out->grad;
    for (long i = 0; i < node->out->size; i++) d_x[i] += g[i];
}

Tensor *nn_reshape(Tape *tape, Tensor *x, int n_dims, const int *shape_given) {
    if (!x) return NULL;
    int shape[D], inferred = -1;
    long known = 1;
    if (n_dims < 0 || n_dims > D) return tape_fail(tape, "reshape: %d dimensions (at most %d)", n_dims, D);
    for (int d = 0; d < n_dims; d++) {
        shape[d] = shape_given[d];
        if (shape[d] == -1 && inferred < 0) inferred = d;
        else if (shape[d] < 0) return tape_fail(tape, "reshape: dimension %d is %d", d, shape[d]);
        else known *= shape[d];
    }
    if (inferred >= 0) shape[inferred] = known > 0 && x->size % known == 0 ? (int)(x->size / known) : -1;
    if (shape_size(n_dims, shape) != x->size)
        return tape_fail(tape, "reshape: %s (%ld values) does not fit the requested shape of %d dimensions",
                         shape_text(x).text, x->size, n_dims);
    Tensor *out = tape_alloc(tape, sizeof *out);
    if (!out) return NULL;
    memset(out, 0, sizeof *out);
    out->n_dims = n_dims;
    for (int d = 0; d < D; d++) out->shape[d] = d < n_dims ? shape[d] : 1;
    out->size = x->size;
    out->data = x->data;  // a view
    tape_record(tape, "reshape", reshape_backward_node, out, &x, 1);
    return out;
}

// ----------------------------------------------------------------------------
// strided copies: permute and slice read x through strides (node->saved[0] keeps the padded
// shape and strides; node->sizes[0] the offset of the first element)

typedef struct StridedView {
    int shape[D];
    long stride[D];
} StridedView;

static void strided_backward_node(Tape *tape, Node *node) {
    const StridedView *view = (const StridedView *)node->saved[0];
    strided_scatter_add(input_grad(tape, node->in[0]) + node->sizes[0], node->out->grad, view->shape, view->stride);
}

// out (n_dims, shape) = x read from offset with the given strides.
static Tensor *strided(Tape *tape, Tensor *x, const char *op, int n_dims, const int *shape, const long *stride,
                       long offset) {
    StridedView view;
    pad_left(n_dims, shape, stride, view.shape, view.stride);
    Tensor *out = tensor_new(tape, n_dims, shape);
    if (!out) return NULL;
    strided_copy(out->data, x->data + offset, view.shape, view.stride, 0);
    Node *node = tape_record(tape, op, strided_backward_node, out, &x, 1);
    if (node) {
        StridedView *kept = tape_alloc(tape, sizeof view);
        if (!kept) return NULL;
        *kept = view;
        node->saved[0] = (float *)kept;
        node->sizes[0] = offset;
    }
    return out;
}

Tensor *nn_permute(Tape *tape, Tensor *x, const int *perm) {
    if (!x) return NULL;
    long x_stride[D], stride[D];
    int shape[D], seen[D] = {0};
    strides_of(x, x_stride);
    for (int d = 0; d < x->n_dims; d++) {
        int from = normalise_axis(perm[d], x->n_dims);
        if (from < 0 || seen[from]) return tape_fail(tape, "permute: not a permutation of the axes of %s", shape_text(x).text);
        seen[from] = 1;
        shape[d] = x->shape[from];
        stride[d] = x_stride[from];
    }
    return strided(tape, x, "permute", x->n_dims, shape, stride, 0);
}

Tensor *nn_transpose(Tape *tape, Tensor *x, int axis0, int axis1) {
    if (!x) return NULL;
    int a = normalise_axis(axis0, x->n_dims), b = normalise_axis(axis1, x->n_dims), perm[D];
    if (a < 0 || b < 0) return tape_fail(tape, "transpose: axes %d, %d out of range for %s", axis0, axis1, shape_text(x).text);
    for (int d = 0; d < x->n_dims; d++) perm[d] = d;
    perm[a] = b, perm[b] = a;
    return nn_permute(tape, x, perm);
}

Tensor *nn_slice(Tape *tape, Tensor *x, int axis_given, int start, int end) {
    if (!x) return NULL;
    int axis = normalise_axis(axis_given, x->n_dims);
    if (axis < 0 || start < 0 || end < start || end > x->shape[axis])
        return tape_fail(tape, "slice: [%d:%d] along axis %d is outside %s", start, end, axis_given, shape_text(x).text);
    long stride[D];
    int shape[D];
    strides_of(x, stride);
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = end - start;
    return strided(tape, x, "slice", x->n_dims, shape, stride, start * stride[axis]);
}

// ----------------------------------------------------------------------------
// concat and stack

// Input i of a concat lands in the output at offset sizes[i] (node->sizes holds up to 8).
static void concat_backward_node(Tape *tape, Node *node) {
    const StridedView *views = (const StridedView *)node->saved[0];
    for (int i = 0; i < NODE_MAX_INPUTS && node->in[i]; i++) {
        float *d_x = input_grad(tape, node->in[i]);
        if (d_x) strided_copy(d_x, node->out->grad + node->sizes[i], views[i].shape, views[i].stride, 1);
    }
}

// More tensors than a node holds: concatenate them in groups, then the groups.
static Tensor *concat_in_groups(Tape *tape, Tensor *const *xs, int n, int axis) {
    Tensor *groups[NODE_MAX_INPUTS];
    int per_group = (n + NODE_MAX_INPUTS - 1) / NODE_MAX_INPUTS, n_groups = 0;
    for (int first = 0; first < n; first += per_group) {
        int count = n - first < per_group ? n - first : per_group;
        groups[n_groups++] = nn_concat(tape, xs + first, count, axis);
    }
    return nn_concat(tape, groups, n_groups, axis);
}

Tensor *nn_concat(Tape *tape, Tensor *const *xs, int n, int axis_given) {
    if (n < 1) return tape_fail(tape, "concat: no tensors");
    if (n > NODE_MAX_INPUTS) return concat_in_groups(tape, xs, n, axis_given);
    for (int i = 0; i < n; i++)
        if (!xs[i]) return NULL;
    int axis = normalise_axis(axis_given, xs[0]->n_dims), shape[D];
    if (axis < 0) return tape_fail(tape, "concat: axis %d out of range for %s", axis_given, shape_text(xs[0]).text);
    memcpy(shape, xs[0]->shape, sizeof shape);
    shape[axis] = 0;
    for (int i = 0; i < n; i++) {
        int same = xs[i]->n_dims == xs[0]->n_dims;
        for (int d = 0; d < xs[0]->n_dims && same; d++) same = d == axis || xs[i]->shape[d] == xs[0]->shape[d];
        if (!same)
            return tape_fail(tape, "concat: shapes %s and %s differ outside axis %d", shape_text(xs[0]).text,
                             shape_text(xs[i]).text, axis_given);
        shape[axis] += xs[i]->shape[axis];
    }
    Tensor *out = tensor_zeros(tape, xs[0]->n_dims, shape);
    StridedView *views = tape_alloc(tape, sizeof(StridedView) * (size_t)n);
    if (!out || !views) return NULL;
    long out_stride[D], offsets[NODE_MAX_INPUTS], offset = 0;
    strides_of(out, out_stride);
    for (int i = 0; i < n; i++) {
        // input i is the block of out at offset with out's strides and its own shape
        pad_left(out->n_dims, xs[i]->shape, out_stride, views[i].shape, views[i].stride);
        strided_scatter_add(out->data + offset, xs[i]->data, views[i].shape, views[i].stride);
        offsets[i] = offset;
        offset += xs[i]->shape[axis] * out_stride[axis];
    }
    Node *node = tape_record(tape, "concat", concat_backward_node, out, xs, n);
    if (node) {
        node->saved[0] = (float *)views;
        for (int i = 0; i < n; i++) node->sizes[i] = offsets[i];
    }
    return out;
}

Tensor *nn_stack(Tape *tape, Tensor *const *xs, int n, int axis_given) {
    if (n < 1) return tape_fail(tape, "stack: no tensors");
    if (!xs[0]) return NULL;
    int n_dims = xs[0]->n_dims + 1, axis = normalise_axis(axis_given, n_dims);
    if (axis < 0 || n_dims > D) return tape_fail(tape, "stack: axis %d out of range for %s", axis_given, shape_text(xs[0]).text);
    Tensor **expanded = tape_alloc(tape, sizeof(Tensor *) * (size_t)n);
    if (!expanded) return NULL;
    for (int i = 0; i < n; i++) {
        if (!xs[i]) return NULL;
        if (!tensor_same_shape(xs[i], xs[0]))
            return tape_fail(tape, "stack: shapes %s and %s differ", shape_text(xs[0]).text, shape_text(xs[i]).text);
        int shape[D];
        for (int d = 0, k = 0; d < n_dims; d++) shape[d] = d == axis ? 1 : xs[i]->shape[k++];
        expanded[i] = nn_reshape(tape, xs[i], n_dims, shape);
    }
    return nn_concat(tape, expanded, n, axis);
}

// ----------------------------------------------------------------------------
// indexing

// Fails unless every id is in [0, limit).
static int check_ids(Tape *tape, const char *op, const int *ids, long n, int limit) {
    for (long i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= limit) {
            tape_fail(tape, "%s: index %d at position %ld is outside [0, %d)", op, ids[i], i, limit);
            return -1;
        }
    return 0;
}

// index_select along an axis of x viewed as (outer, V, inner): for each outer slab the
// embedding kernel with V rows of inner values.
static void index_select_backward_node(Tape *tape, Node *node) {
    float *d_x = input_grad(tape, node->in[0]);
    long outer = node->sizes[0], V = node->sizes[1], inner = node->sizes[2], n = node->sizes[3];
    for (long o = 0; o < outer; o++)
        embedding_backward(d_x + o * V * inner, node->out->grad + o * n * inner, node->indices, (int)n, (int)inner);
}

Tensor *nn_index_select(Tape *tape, Tensor *x, int axis_given, const int *ids, int n) {
    if (!x) return NULL;
    int axis = normalise_axis(axis_given, x->n_dims);
    if (axis < 0 || n < 0) return tape_fail(tape, "index_select: axis %d out of range for %s", axis_given, shape_text(x).text);
    if (check_ids(tape, "index_select", ids, n, x->shape[axis])) return NULL;
    long outer, inner, V = x->shape[axis];
    split_at_axis(x, axis, &outer, &inner);
    int shape[D];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = n;
    Tensor *out = tensor_new(tape, x->n_dims, shape);
    if (!out) return NULL;
    for (long o = 0; o < outer; o++) embedding_forward(out->data + o * n * inner, ids, x->data + o * V * inner, n, (int)inner);
    Node *node = tape_record(tape, "index_select", index_select_backward_node, out, &x, 1);
    if (node) {
        node->indices = copy_ints(tape, ids, n);
        if (!node->indices) return NULL;
        node->sizes[0] = outer, node->sizes[1] = V, node->sizes[2] = inner, node->sizes[3] = n;
    }
    return out;
}

Tensor *nn_embedding(Tape *tape, Tensor *table, const int *ids, int id_dims, const int *id_shape) {
    if (!table) return NULL;
    if (table->n_dims != 2) return tape_fail(tape, "embedding: the table must be (V,C), not %s", shape_text(table).text);
    if (id_dims < 0 || id_dims + 1 > D) return tape_fail(tape, "embedding: ids of %d dimensions", id_dims);
    int shape[D];
    long n = shape_size(id_dims, id_shape);
    if (n < 0 || n > (1L << 31) - 1) return tape_fail(tape, "embedding: invalid ids shape");
    memcpy(shape, id_shape, sizeof(int) * (size_t)id_dims);
    shape[id_dims] = table->shape[1];
    Tensor *rows = nn_index_select(tape, table, 0, ids, (int)n);
    return nn_reshape(tape, rows, id_dims + 1, shape);
}

// gather: out[o, i, j] = x[o, index[o, i, j], j], x (outer, V, inner), index (outer, k, inner)
static void gather_backward_node(Tape *tape, Node *node) {
    float *d_x = input_grad(tape, node->in[0]);
    const float *g = node->out->grad;
    long outer = node->sizes[0], V = node->sizes[1], inner = node->sizes[2], k = node->sizes[3];
    for (long o = 0; o < outer; o++)
        for (long i = 0; i < k; i++)
            for (long j = 0; j < inner; j++) {
                long at = (o * k + i) * inner + j;
                d_x[(o * V + node->indices[at]) * inner + j] += g[at];
            }
}

Tensor *nn_gather(Tape *tape, Tensor *x, int axis_given, const int *index, int k) {
    if (!x) return NULL;
    int axis = normalise_axis(axis_given, x->n_dims);
    if (axis < 0 || k < 0) return tape_fail(tape, "gather: axis %d out of range for %s", axis_given, shape_text(x).text);
    long outer, inner, V = x->shape[axis];
    split_at_axis(x, axis, &outer, &inner);
    if (check_ids(tape, "gather", index, outer * k * inner, (int)V)) return NULL;
    int shape[D];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = k;
    Tensor *out = tensor_new(tape, x->n_dims, shape);
    if (!out) return NULL;
    for (long o = 0; o < outer; o++)
        for (long i = 0; i < k; i++)
            for (long j = 0; j < inner; j++) {
                long at = (o * k + i) * inner + j;
                out->data[at] = x->data[(o * V + index[at]) * inner + j];
            }
    Node *node = tape_record(tape, "gather", gather_backward_node, out, &x, 1);
    if (node) {
        node->indices = copy_ints(tape, index, outer * k * inner);
        if (!node->indices) return NULL;
        node->sizes[0] = outer, node->sizes[1] = V, node->sizes[2] = inner, node->sizes[3] = k;
    }
    return out;
}
