// The operations: each computes its output with a foundations kernel (matmul.h, layers.h,
// elementwise.h, losses.h) and, on a recording tape, records the matching backward kernel.
// The tape composes kernels; no derivative is worked out here again.
//
// Conventions: every operation takes the tape first and returns a new step value (nn/tensor.h)
// or NULL. NULL inputs give NULL (an earlier failure); invalid shapes give NULL and one line in
// tape->error naming the operation and the shapes. An axis may be negative (counted from the
// end, as in PyTorch). Integer inputs (targets, ids, indices) are plain int arrays, copied.
#ifndef NN_OPS_H
#define NN_OPS_H

#include "foundations/random.h"
#include "nn/tensor.h"

// ---------------------------------------------------------------------------------------
// elementwise, with NumPy/PyTorch broadcasting (foundations/elementwise.h)
Tensor *nn_add(Tape *tape, Tensor *a, Tensor *b);
Tensor *nn_sub(Tape *tape, Tensor *a, Tensor *b);
Tensor *nn_mul(Tape *tape, Tensor *a, Tensor *b);
Tensor *nn_div(Tape *tape, Tensor *a, Tensor *b);
// x · s and x + s for a constant s.
Tensor *nn_scale(Tape *tape, Tensor *x, float s);
Tensor *nn_add_scalar(Tape *tape, Tensor *x, float s);

// Pointwise functions, same shape out.
Tensor *nn_neg(Tape *tape, Tensor *x);
Tensor *nn_exp(Tape *tape, Tensor *x);
Tensor *nn_log(Tape *tape, Tensor *x);
Tensor *nn_sqrt(Tape *tape, Tensor *x);
Tensor *nn_abs(Tape *tape, Tensor *x);
Tensor *nn_pow(Tape *tape, Tensor *x, float exponent);
Tensor *nn_tanh(Tape *tape, Tensor *x);
Tensor *nn_sigmoid(Tape *tape, Tensor *x);
Tensor *nn_relu(Tape *tape, Tensor *x);
Tensor *nn_leaky_relu(Tape *tape, Tensor *x, float negative_slope);  // PyTorch's default slope is 0.01
Tensor *nn_gelu(Tape *tape, Tensor *x);                               // the tanh approximation (GPT-2's)
Tensor *nn_softplus(Tape *tape, Tensor *x);                           // beta 1, threshold 20

// ---------------------------------------------------------------------------------------
// reductions over axes (n_axes 0: over every axis); keepdim keeps them as size 1
Tensor *nn_sum(Tape *tape, Tensor *x, const int *axes, int n_axes, int keepdim);
Tensor *nn_mean(Tape *tape, Tensor *x, const int *axes, int n_axes, int keepdim);
// Variance, composed: mean((x − mean(x))²) · n/(n − unbiased). PyTorch's var is unbiased by default.
Tensor *nn_var(Tape *tape, Tensor *x, const int *axes, int n_axes, int keepdim, int unbiased);
// The maximum; the gradient goes to the first maximal element (along each axis in turn).
Tensor *nn_max(Tape *tape, Tensor *x, const int *axes, int n_axes, int keepdim);

// ---------------------------------------------------------------------------------------
// matrix products (foundations/matmul.h)
// a (..., M, K) @ b (..., K, N) -> (..., M, N); b's batch dimensions equal a's, or b is (K, N).
Tensor *nn_matmul(Tape *tape, Tensor *a, Tensor *b);
// x (..., K), weight (N, K), bias (N) or NULL -> (..., N) = x · weightᵀ + bias (nn.Linear).
Tensor *nn_linear(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias);

// ---------------------------------------------------------------------------------------
// shapes and indexing
// Same values, new shape (one dimension may be -1: inferred). Shares x's data (a view).
Tensor *nn_reshape(Tape *tape, Tensor *x, int n_dims, const int *shape);
// out's dimension d is x's dimension perm[d]; a copy.
Tensor *nn_permute(Tape *tape, Tensor *x, const int *perm);
Tensor *nn_transpose(Tape *tape, Tensor *x, int axis0, int axis1);
// x[..., start:end, ...] along axis (0 <= start <= end <= size).
Tensor *nn_slice(Tape *tape, Tensor *x, int axis, int start, int end);
// Joins n >= 1 tensors along axis (equal in every other dimension) / along a new axis (equal
// shapes). More than NODE_MAX_INPUTS are joined in groups.
Tensor *nn_concat(Tape *tape, Tensor *const *xs, int n, int axis);
Tensor *nn_stack(Tape *tape, Tensor *const *xs, int n, int axis);
// torch.index_select: the entries ids[0..n) of x along axis -> x's shape with n there.
Tensor *nn_index_select(Tape *tape, Tensor *x, int axis, const int *ids, int n);
// torch.gather: index has x's shape except along axis (k entries there); out[.., i, ..] =
// x[.., index[.., i, ..], ..] along axis, out of index's shape (k along axis).
Tensor *nn_gather(Tape *tape, Tensor *x, int axis, const int *index, int k);
// table (V, C), ids of shape (id_dims, id_shape), each in [0, V) -> (id_shape..., C).
Tensor *nn_embedding(Tape *tape, Tensor *table, const int *ids, int id_dims, const int *id_shape);

// ---------------------------------------------------------------------------------------
// normalised exponentials over the last axis
Tensor *nn_softmax(Tape *tape, Tensor *x);
Tensor *nn_log_softmax(Tape *tape, Tensor *x);

// ---------------------------------------------------------------------------------------
// losses, reduction 'mean' -> a scalar
enum { NN_NO_IGNORE = -100 };  // PyTorch's default ignore_index (never a class)
// logits (..., V), targets (N = size / V) in [0, V) or ignore_index. Label smoothing ε in [0, 1).
Tensor *nn_cross_entropy(Tape *tape, Tensor *logits, const int *targets, int ignore_index, float smoothing);
// log_probs (..., V): mean of −log_probs[n, y_n] over the rows not ignored.
Tensor *nn_nll_loss(Tape *tape, Tensor *log_probs, const int *targets, int ignore_index);
Tensor *nn_mse_loss(Tape *tape, Tensor *x, Tensor *target);
Tensor *nn_bce_with_logits(Tape *tape, Tensor *logits, Tensor *target);

// ---------------------------------------------------------------------------------------
// layers
// Inverted dropout with probability p when training; otherwise (or at p = 0) the identity: x itself.
Tensor *nn_dropout(Tape *tape, Tensor *x, float p, int training, Random *rng);
// LayerNorm over the last axis (C): x (..., C), weight (C), bias (C); eps 1e-5.
Tensor *nn_layer_norm(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias);
// Batch normalisation over the batch (PyTorch's BatchNorm1d and BatchNorm2d): x (N,C), (N,C,L)
// or (N,C,H,W), weight, bias, running_mean and running_var (C); statistics per channel over
// every axis but C. training: normalised by the batch's statistics, the running ones updated in
// place (momentum 0.1, unbiased variance); otherwise by the running ones. The kernels are
// layers.h's batchnorm for (N,C) and normalization.h's batchnorm_channels for the others.
// Training on a tape with a reduction (data parallel): synchronised batch norm, the statistics
// over every process's batch (sums across them in the forward and the backward).
Tensor *nn_batch_norm(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, Tensor *running_mean, Tensor *running_var,
                      int training);
// Scaled dot-product attention with NH heads: q (B,Tq,C), k and v (B,Tk,C) -> (B,Tq,C),
// softmax(q kᵀ/√(C/NH)) v per head. causal: query t sees keys s <= t + Tk − Tq.
// key_padding (B,Tk) or NULL: a non-zero entry hides that key from every query (PyTorch's
// key_padding_mask); a query that sees no key gets zeros. The kernel is layers.h's attention.
Tensor *nn_attention(Tape *tape, Tensor *q, Tensor *k, Tensor *v, int n_heads, int causal,
                     const unsigned char *key_padding);

// ---------------------------------------------------------------------------------------
// convolutional networks: NCHW float32, square kernels (foundations/convolution.h, pooling.h,
// normalization.h)

// x (N,C,H,W), weight (OC, C/groups, KH, KW), bias (OC) or NULL -> (N,OC,H',W'),
// H' = (H + 2·padding − dilation·(KH−1) − 1)/stride + 1 (torch.nn.functional.conv2d).
// Fails on a kernel larger than the padded input, stride or dilation below 1, a negative
// padding, channels not divisible by groups, or tensors that are not 4-d.
Tensor *nn_conv2d(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, int stride, int padding, int dilation, int groups);
// x (N,C,H,W), weight (C, OC/groups, KH, KW) (PyTorch's layout), bias (OC) or NULL -> (N,OC,H',W'),
// H' = (H−1)·stride − 2·padding + (KH−1) + output_padding + 1 (conv_transpose2d, dilation 1);
// 0 <= output_padding < stride.
Tensor *nn_conv_transpose2d(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, int stride, int padding,
                            int output_padding, int groups);
// Pooling, x (N,C,H,W) -> (N,C,H',W'), H' = (H + 2·padding − kernel)/stride + 1; stride 0
// means stride = kernel (PyTorch's default); 0 <= padding <= kernel/2.
// max: padded positions are −∞; the gradient goes to the first maximal element of a window.
// avg: count_include_pad (padding counts as zeros in a divisor of kernel²), ceil_mode False.
Tensor *nn_max_pool2d(Tape *tape, Tensor *x, int kernel, int stride, int padding);
Tensor *nn_avg_pool2d(Tape *tape, Tensor *x, int kernel, int stride, int padding);
// torch adaptive_avg_pool2d: x (N,C,H,W) -> (N,C,out_h,out_w) ((1,1) is global average pooling).
Tensor *nn_adaptive_avg_pool2d(Tape *tape, Tensor *x, int out_h, int out_w);
// GroupNorm: x (N,C,...) with C % groups == 0, weight and bias (C) or NULL (1 and 0); eps 1e-5.
Tensor *nn_group_norm(Tape *tape, Tensor *x, int groups, Tensor *weight, Tensor *bias);
// torch LocalResponseNorm(size, alpha, beta, k) across the channels of x (N,C,...) (AlexNet):
// x / (k + alpha/size · Σ_window x²)^beta.
Tensor *nn_local_response_norm(Tape *tape, Tensor *x, int size, float alpha, float beta, float k);
// Dropout2d: zeroes whole channels (N,C) of x (N,C,...) with probability p when training,
// scales the others by 1/(1−p); otherwise (or at p = 0) the identity: x itself.
Tensor *nn_dropout2d(Tape *tape, Tensor *x, float p, int training, Random *rng);
// Up-sampling by an integer scale >= 1: x (N,C,H,W) -> (N,C,H·scale,W·scale).
Tensor *nn_upsample_nearest2d(Tape *tape, Tensor *x, int scale);
// align_corners as torch.nn.Upsample's (0, its default, or 1).
Tensor *nn_upsample_bilinear2d(Tape *tape, Tensor *x, int scale, int align_corners);
// Channel concat is nn_concat(tape, xs, n, 1); flatten is nn_reshape to (N, -1).

#endif
