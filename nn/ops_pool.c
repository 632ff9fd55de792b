// Pooling and up-sampling over foundations/pooling.h's kernels. Every kernel works on the
// N·C planes of x (N,C,H,W); a node keeps sizes = {kernel or scale, stride, padding or
// align_corners, out_h, out_w}, and max pooling its argmax in indices.
#include <string.h>

#include "foundations/pooling.h"
#include "nn/op_common.h"
#include "nn/ops.h"

// The planes of a 4-d x, or -1 (with the failure recorded) when x is not 4-d.
static int planes(Tape *tape, const char *op, const Tensor *x) {
    if (x->n_dims == 4) return x->shape[0] * x->shape[1];
    tape_fail(tape, "%s: input %s must be 4-d (N,C,H,W)", op, shape_text(x).text);
    return -1;
}

static Tensor *image_like(Tape *tape, const Tensor *x, int height, int width) {
    return tensor_new(tape, 4, (int[]){x->shape[0], x->shape[1], height, width});
}

// ----------------------------------------------------------------------------
// max and average pooling

static void max_pool2d_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0];
    float *d_x = input_grad(tape, x);
    if (d_x)
        max_pool2d_backward(d_x, node->out->grad, node->indices, x->shape[0] * x->shape[1], x->shape[2], x->shape[3],
                            (int)node->sizes[3], (int)node->sizes[4]);
}

static void avg_pool2d_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0];
    float *d_x = input_grad(tape, x);
    if (d_x)
        avg_pool2d_backward(d_x, node->out->grad, x->shape[0] * x->shape[1], x->shape[2], x->shape[3],
                            (int)node->sizes[0], (int)node->sizes[1], (int)node->sizes[2]);
}

static Tensor *pool2d(Tape *tape, Tensor *x, int kernel, int stride, int padding, int max) {
    const char *op = max ? "max_pool2d" : "avg_pool2d";
    if (!x) return NULL;
    int P = planes(tape, op, x);
    if (P < 0) return NULL;
    if (stride == 0) stride = kernel;
    int OH = pool_output_size(x->shape[2], kernel, stride, padding);
    int OW = pool_output_size(x->shape[3], kernel, stride, padding);
    if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2 || OH < 1 || OW < 1)
        return tape_fail(tape, "%s: input %s with kernel %d, stride %d, padding %d: %s", op, shape_text(x).text, kernel,
                         stride, padding,
                         kernel < 1 || stride < 1 ? "kernel and stride must be at least 1"
                         : padding < 0 || padding > kernel / 2 ? "padding must be in [0, kernel/2]"
                                                              : "kernel larger than the padded input");
    Tensor *out = image_like(tape, x, OH, OW);
    int *argmax = max ? tape_alloc(tape, sizeof(int) * (size_t)((long)P * OH * OW)) : NULL;
    if (!out || (max && !argmax)) return NULL;
    if (max) max_pool2d_forward(out->data, argmax, x->data, P, x->shape[2], x->shape[3], kernel, stride, padding);
    else avg_pool2d_forward(out->data, x->data, P, x->shape[2], x->shape[3], kernel, stride, padding);
    Node *node = tape_record(tape, op, max ? max_pool2d_backward_node : avg_pool2d_backward_node, out, &x, 1);
    if (node) {
        long sizes[5] = {kernel, stride, padding, OH, OW};
        memcpy(node->sizes, sizes, sizeof sizes);
        node->indices = argmax;
    }
    return out;
}

Tensor *nn_max_pool2d(Tape *tape, Tensor *x, int kernel, int stride, int padding) {
    return pool2d(tape, x, kernel, stride, padding, 1);
}

Tensor *nn_avg_pool2d(Tape *tape, Tensor *x, int kernel, int stride, int padding) {
    return pool2d(tape, x, kernel, stride, padding, 0);
}

// ----------------------------------------------------------------------------
// adaptive average pooling

static void adaptive_avg_pool2d_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0];
    float *d_x = input_grad(tape, x);
    if (d_x)
        adaptive_avg_pool2d_backward(d_x, node->out->grad, x->shape[0] * x->shape[1], x->shape[2], x->shape[3],
                                     (int)node->sizes[3], (int)node->sizes[4]);
}

Tensor *nn_adaptive_avg_pool2d(Tape *tape, Tensor *x, int out_h, int out_w) {
    if (!x) return NULL;
    int P = planes(tape, "adaptive_avg_pool2d", x);
    if (P < 0) return NULL;
    if (out_h < 1 || out_w < 1 || x->shape[2] < 1 || x->shape[3] < 1)
        return tape_fail(tape, "adaptive_avg_pool2d: input %s to (%d,%d): sizes must be at least 1", shape_text(x).text,
                         out_h, out_w);
    Tensor *out = image_like(tape, x, out_h, out_w);
    if (!out) return NULL;
    adaptive_avg_pool2d_forward(out->data, x->data, P, x->shape[2], x->shape[3], out_h, out_w);
    Node *node = tape_record(tape, "adaptive_avg_pool2d", adaptive_avg_pool2d_backward_node, out, &x, 1);
    if (node) node->sizes[3] = out_h, node->sizes[4] = out_w;
    return out;
}

// ----------------------------------------------------------------------------
// up-sampling: sizes = {scale, 0, align_corners, bilinear}

static void upsample_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0];
    float *d_x = input_grad(tape, x);
    int P = x->shape[0] * x->shape[1], H = x->shape[2], W = x->shape[3], scale = (int)node->sizes[0];
    if (!d_x) return;
    if (node->sizes[3]) upsample_bilinear2d_backward(d_x, node->out->grad, P, H, W, scale, (int)node->sizes[2]);
    else upsample_nearest2d_backward(d_x, node->out->grad, P, H, W, scale);
}

static Tensor *upsample(Tape *tape, Tensor *x, int scale, int align_corners, int bilinear) {
    const char *op = bilinear ? "upsample_bilinear2d" : "upsample_nearest2d";
    if (!x) return NULL;
    int P = planes(tape, op, x);
    if (P < 0) return NULL;
    if (scale < 1 || (long)x->shape[2] * scale > 1 << 24 || (long)x->shape[3] * scale > 1 << 24 ||
        (align_corners != 0 && align_corners != 1))
        return tape_fail(tape, "%s: input %s with scale %d, align_corners %d: scale must be at least 1, align_corners 0 or 1",
                         op, shape_text(x).text, scale, align_corners);
    int H = x->shape[2], W = x->shape[3];
    Tensor *out = image_like(tape, x, H * scale, W * scale);
    if (!out) return NULL;
    if (bilinear) upsample_bilinear2d_forward(out->data, x->data, P, H, W, scale, align_corners);
    else upsample_nearest2d_forward(out->data, x->data, P, H, W, scale);
    Node *node = tape_record(tape, op, upsample_backward_node, out, &x, 1);
    if (node) node->sizes[0] = scale, node->sizes[2] = align_corners, node->sizes[3] = bilinear;
    return out;
}

Tensor *nn_upsample_nearest2d(Tape *tape, Tensor *x, int scale) { return upsample(tape, x, scale, 0, 0); }

Tensor *nn_upsample_bilinear2d(Tape *tape, Tensor *x, int scale, int align_corners) {
    return upsample(tape, x, scale, align_corners, 1);
}
