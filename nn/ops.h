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
// Batch normalisation over the batch (PyTorch's BatchNorm1d): x (N,C) or (N,C,L), weight,
// bias, running_mean and running_var (C). training: normalised by the batch's statistics, the
// running ones updated in place (momentum 0.1, unbiased variance); otherwise by the running
// ones. The kernel is layers.h's batchnorm over (rows, C); (N,C,L) is permuted to (N·L, C).
Tensor *nn_batch_norm(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, Tensor *running_mean, Tensor *running_var,
                      int training);
// Scaled dot-product attention with NH heads: q (B,Tq,C), k and v (B,Tk,C) -> (B,Tq,C),
// softmax(q kᵀ/√(C/NH)) v per head. causal: query t sees keys s <= t + Tk − Tq.
// key_padding (B,Tk) or NULL: a non-zero entry hides that key from every query (PyTorch's
// key_padding_mask); a query that sees no key gets zeros. The kernel is layers.h's attention.
Tensor *nn_attention(Tape *tape, Tensor *q, Tensor *k, Tensor *v, int n_heads, int causal,
                     const unsigned char *key_padding);

#endif
