// Normalisations over the channels of images (foundations/normalization.h) and channel dropout.
// x (N,C,...) is seen as (N,C,L) with L the product of the rest.
#include <string.h>

#include "foundations/layers.h"
#include "foundations/normalization.h"
#include "nn/op_common.h"
#include "nn/ops.h"

static long positions(const Tensor *x) {
    long nc = (long)x->shape[0] * x->shape[1];
    return nc > 0 ? x->size / nc : 0;
}

// ----------------------------------------------------------------------------
// group norm: saved = {mean, rstd} (N·G); sizes = {groups}

static void group_norm_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    float *d_x = input_grad(tape, x), *d_w = weight ? input_grad(tape, weight) : NULL;
    float *d_b = bias ? input_grad(tape, bias) : NULL;
    float *scratch = NULL;
    if (!d_x) {  // the kernel always writes the input's gradient
        scratch = tape_alloc(tape, sizeof(float) * (size_t)x->size);
        if (!scratch) return;
        memset(scratch, 0, sizeof(float) * (size_t)x->size);
    }
    groupnorm_backward(d_x ? d_x : scratch, d_w, d_b, node->out->grad, x->data, weight ? weight->data : NULL,
                       node->saved[0], node->saved[1], x->shape[0], x->shape[1], positions(x), (int)node->sizes[0]);
}

Tensor *nn_group_norm(Tape *tape, Tensor *x, int groups, Tensor *weight, Tensor *bias) {
    if (!x) return NULL;
    int C = x->n_dims >= 2 ? x->shape[1] : 0;
    if (x->n_dims < 2 || C < 1 || groups < 1 || C % groups || (weight && (weight->n_dims != 1 || weight->size != C)) ||
        (bias && (bias->n_dims != 1 || bias->size != C)))
        return tape_fail(tape, "group_norm: input %s, weight %s, bias %s with %d groups: needs (N,C,...) with C divisible "
                         "by groups and parameters (C)", shape_text(x).text, weight ? shape_text(weight).text : "none",
                         bias ? shape_text(bias).text : "none", groups);
    int N = x->shape[0];
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    float *mean = tape_alloc(tape, sizeof(float) * (size_t)(N * groups + 1));
    float *rstd = tape_alloc(tape, sizeof(float) * (size_t)(N * groups + 1));
    if (!out || !mean || !rstd) return NULL;
    groupnorm_forward(out->data, mean, rstd, x->data, weight ? weight->data : NULL, bias ? bias->data : NULL, N, C,
                      positions(x), groups);
    Tensor *in[3] = {x, weight, bias};
    Node *node = tape_record(tape, "group_norm", group_norm_backward_node, out, in, 3);
    if (node) node->saved[0] = mean, node->saved[1] = rstd, node->sizes[0] = groups;
    return out;
}

// ----------------------------------------------------------------------------
// local response norm: saved[0] the scale s (N,C,L); sizes = {size}; scalars = {alpha, beta}

static void local_response_norm_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0];
    float *d_x = input_grad(tape, x);
    if (d_x)
        local_response_norm_backward(d_x, node->out->grad, x->data, node->out->data, node->saved[0], x->shape[0],
                                     x->shape[1], positions(x), (int)node->sizes[0], node->scalars[0],
                                     node->scalars[1]);
}

Tensor *nn_local_response_norm(Tape *tape, Tensor *x, int size, float alpha, float beta, float k) {
    if (!x) return NULL;
    if (x->n_dims < 3 || size < 1 || !(k > 0.0f) || !(alpha >= 0.0f) || !(beta >= 0.0f))
        return tape_fail(tape, "local_response_norm: input %s with size %d, alpha %g, beta %g, k %g: needs (N,C,...) of "
                         "at least 3 dimensions, size >= 1, k > 0, alpha and beta >= 0", shape_text(x).text, size, alpha,
                         beta, k);
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    float *scale = tape_alloc(tape, sizeof(float) * (size_t)x->size);
    if (!out || !scale) return NULL;
    local_response_norm_forward(out->data, scale, x->data, x->shape[0], x->shape[1], positions(x), size, alpha, beta, k);
    Node *node = tape_record(tape, "local_response_norm", local_response_norm_backward_node, out, &x, 1);
    if (node) node->saved[0] = scale, node->sizes[0] = size, node->scalars[0] = alpha, node->scalars[1] = beta;
    return out;
}

// ----------------------------------------------------------------------------
// channel dropout: a mask (N,C,1,...) from layers.h's dropout, multiplied in with broadcasting

Tensor *nn_dropout2d(Tape *tape, Tensor *x, float p, int training, Random *rng) {
    if (!x) return NULL;
    if (x->n_dims < 2 || !(p >= 0.0f && p < 1.0f))
        return tape_fail(tape, "dropout2d: input %s with probability %g: needs (N,C,...) and p in [0, 1)",
                         shape_text(x).text, p);
    if (!training || p == 0.0f) return x;
    int shape[NN_MAX_DIMS];
    for (int d = 0; d < x->n_dims; d++) shape[d] = d < 2 ? x->shape[d] : 1;
    Tensor *mask = tensor_new(tape, x->n_dims, shape);
    float *ones = tape_alloc(tape, sizeof(float) * (size_t)(mask ? mask->size : 1));
    float *factors = tape_alloc(tape, sizeof(float) * (size_t)(mask ? mask->size : 1));
    if (!mask || !ones || !factors) return NULL;
    for (long i = 0; i < mask->size; i++) ones[i] = 1.0f;
    dropout_forward(mask->data, factors, ones, mask->size, p, rng);
    return nn_mul(tape, x, mask);
}
