// Convolution and transposed convolution over foundations/convolution.h's kernels, which work
// in the tape's scratch buffer (no allocation per call after the first step).
// A node keeps the options in sizes = {stride, padding, dilation, groups, output_padding}; its
// backward rebuilds the Convolution from the tensors' shapes.
#include <stdio.h>
#include <string.h>

#include "foundations/convolution.h"
#include "nn/op_common.h"
#include "nn/ops.h"

// What is wrong with a convolution of these tensors, or NULL; fills conv when nothing is.
static const char *conv2d_problem(Convolution *conv, const Tensor *x, const Tensor *weight, const Tensor *bias,
                                  int stride, int padding, int dilation, int groups) {
    if (x->n_dims != 4 || weight->n_dims != 4) return "input and weight must be 4-d (N,C,H,W) and (OC,C/groups,KH,KW)";
    if (stride < 1) return "stride must be at least 1";
    if (dilation < 1) return "dilation must be at least 1";
    if (padding < 0) return "padding must not be negative";
    if (groups < 1 || x->shape[1] % groups || weight->shape[0] % groups) return "channels not divisible by groups";
    if (weight->shape[1] * groups != x->shape[1]) return "weight's input channels times groups differ from the input's";
    if (bias && (bias->n_dims != 1 || bias->shape[0] != weight->shape[0])) return "bias must be (OC)";
    if (x->size < 1 || weight->size < 1) return "every size must be at least 1";
    Convolution c = {x->shape[0], x->shape[1], x->shape[2], x->shape[3], weight->shape[0], weight->shape[2],
                     weight->shape[3], stride, padding, dilation, groups, 0, 0};
    if (conv2d_shape(&c)) return "kernel larger than the padded input";
    *conv = c;
    return NULL;
}

static Convolution node_convolution(const Node *node) {
    Convolution c = {0};
    conv2d_problem(&c, node->in[0], node->in[1], node->in[2], (int)node->sizes[0], (int)node->sizes[1],
                   (int)node->sizes[2], (int)node->sizes[3]);
    return c;
}

static void conv2d_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    Convolution c = node_convolution(node);
    float *work = tape_scratch(tape, sizeof(float) * (size_t)conv2d_workspace_floats(&c));
    int first;  // the first gradient to reach x: stored, x's gradient never zeroed
    float *d_x = tensor_grad_first(tape, x, &first), *d_w = input_grad(tape, weight);
    float *d_b = bias ? input_grad(tape, bias) : NULL;
    if (work && (first ? conv2d_backward_overwrite : conv2d_backward)(d_x, d_w, d_b, node->out->grad, x->data,
                                                                      weight->data, &c, work))
        tape_fail(tape, "conv2d: the backward failed");
}

// Records the node of a convolution or transposed convolution.
static void record(Tape *tape, const char *op, BackwardFunction backward, Tensor *out, Tensor *x, Tensor *weight,
                   Tensor *bias, const long *options) {
    Tensor *in[3] = {x, weight, bias};
    Node *node = tape_record(tape, op, backward, out, in, 3);
    if (node) memcpy(node->sizes, options, sizeof(long) * 5);
}

Tensor *nn_conv2d(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, int stride, int padding, int dilation,
                  int groups) {
    if (!x || !weight) return NULL;
    Convolution c;
    const char *problem = conv2d_problem(&c, x, weight, bias, stride, padding, dilation, groups);
    if (problem)
        return tape_fail(tape, "conv2d: input %s, weight %s, bias %s, stride %d, padding %d, dilation %d, groups %d: %s",
                         shape_text(x).text, shape_text(weight).text, bias ? shape_text(bias).text : "none", stride,
                         padding, dilation, groups, problem);
    Tensor *out = tensor_new(tape, 4, (int[]){c.N, c.OC, c.OH, c.OW});
    float *work = tape_scratch(tape, sizeof(float) * (size_t)conv2d_workspace_floats(&c));
    if (!out || !work || conv2d_forward(out->data, x->data, weight->data, bias ? bias->data : NULL, &c, work))
        return NULL;
    record(tape, "conv2d", conv2d_backward_node, out, x, weight, bias, (long[]){stride, padding, dilation, groups, 0});
    return out;
}

// ----------------------------------------------------------------------------
// transposed convolution: the convolution from its output (N,OC,H',W') to its input x

static const char *conv_transpose2d_problem(Convolution *conv, const Tensor *x, const Tensor *weight,
                                            const Tensor *bias, int stride, int padding, int output_padding,
                                            int groups) {
    if (x->n_dims != 4 || weight->n_dims != 4) return "input and weight must be 4-d (N,C,H,W) and (C,OC/groups,KH,KW)";
    if (stride < 1) return "stride must be at least 1";
    if (padding < 0) return "padding must not be negative";
    if (output_padding < 0 || output_padding >= stride) return "output_padding must be in [0, stride)";
    if (groups < 1 || x->shape[1] % groups) return "channels not divisible by groups";
    if (weight->shape[0] != x->shape[1]) return "weight's first dimension differs from the input's channels";
    if (x->size < 1 || weight->size < 1) return "every size must be at least 1";
    int OC = weight->shape[1] * groups;
    if (bias && (bias->n_dims != 1 || bias->shape[0] != OC)) return "bias must be (OC)";
    long H = ((long)x->shape[2] - 1) * stride - 2L * padding + weight->shape[2] + output_padding;
    long W = ((long)x->shape[3] - 1) * stride - 2L * padding + weight->shape[3] + output_padding;
    if (H < 1 || W < 1 || H > 1 << 24 || W > 1 << 24) return "padding leaves no output";
    Convolution c = {x->shape[0], OC, (int)H, (int)W, x->shape[1], weight->shape[2], weight->shape[3], stride, padding,
                     1, groups, 0, 0};
    if (conv2d_shape(&c) || c.OH != x->shape[2] || c.OW != x->shape[3]) return "kernel larger than the padded output";
    *conv = c;
    return NULL;
}

static void conv_transpose2d_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    Convolution c;
    conv_transpose2d_problem(&c, x, weight, bias, (int)node->sizes[0], (int)node->sizes[1], (int)node->sizes[4],
                             (int)node->sizes[3]);
    float *work = tape_scratch(tape, sizeof(float) * (size_t)conv2d_workspace_floats(&c));
    if (work && conv_transpose2d_backward(input_grad(tape, x), input_grad(tape, weight),
                                          bias ? input_grad(tape, bias) : NULL, node->out->grad, x->data, weight->data,
                                          &c, work))
        tape_fail(tape, "conv_transpose2d: the backward failed");
}

Tensor *nn_conv_transpose2d(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, int stride, int padding,
                            int output_padding, int groups) {
    if (!x || !weight) return NULL;
    Convolution c;
    const char *problem = conv_transpose2d_problem(&c, x, weight, bias, stride, padding, output_padding, groups);
    if (problem)
        return tape_fail(tape,
                         "conv_transpose2d: input %s, weight %s, bias %s, stride %d, padding %d, output_padding %d, "
                         "groups %d: %s",
                         shape_text(x).text, shape_text(weight).text, bias ? shape_text(bias).text : "none", stride,
                         padding, output_padding, groups, problem);
    Tensor *out = tensor_new(tape, 4, (int[]){c.N, c.C, c.H, c.W});
    float *work = tape_scratch(tape, sizeof(float) * (size_t)conv2d_workspace_floats(&c));
    if (!out || !work || conv_transpose2d_forward(out->data, x->data, weight->data, bias ? bias->data : NULL, &c, work))
        return NULL;
    record(tape, "conv_transpose2d", conv_transpose2d_backward_node, out, x, weight, bias,
           (long[]){stride, padding, 1, groups, output_padding});
    return out;
}
