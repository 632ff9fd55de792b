// Matrix products, softmax, losses and the network layers, each over its foundations kernel
// (matmul.h, layers.h, losses.h). Attention with a padding mask is the one composition here.
#include <math.h>
#include <string.h>

#include "foundations/layers.h"
#include "foundations/losses.h"
#include "foundations/matmul.h"
#include "foundations/normalization.h"
#include "nn/op_common.h"
#include "nn/ops.h"

// A gradient buffer for a kernel that always writes one: the input's, or arena scratch that is
// thrown away when the input wants none.
static float *grad_or_scratch(Tape *tape, Tensor *t) {
    float *g = input_grad(tape, t);
    if (!g) {
        g = tape_alloc(tape, sizeof(float) * (size_t)t->size);
        if (g) memset(g, 0, sizeof(float) * (size_t)t->size);
    }
    return g;
}

// ----------------------------------------------------------------------------
// matmul: a (batch, M, K) @ b (batch or 1, K, N); sizes = {batch, M, K, N, b_shared}

static void matmul_backward_node(Tape *tape, Node *node) {
    Tensor *a = node->in[0], *b = node->in[1];
    long batch = node->sizes[0], shared = node->sizes[4];
    int M = (int)node->sizes[1], K = (int)node->sizes[2], N = (int)node->sizes[3];
    float *d_a = input_grad(tape, a), *d_b = input_grad(tape, b);
    const float *g = node->out->grad;
    for (long i = 0; i < batch; i++) {
        const float *bi = b->data + (shared ? 0 : i * K * N), *ai = a->data + i * M * K, *gi = g + i * M * N;
        // d_a (M,K) += d_out (M,N) · bᵀ;  d_b (K,N) += aᵀ · d_out
        if (d_a) gemm(M, K, N, gi, N, 1, bi, 1, N, d_a + i * M * K, K, 1);
        if (d_b) gemm(K, N, M, ai, 1, K, gi, N, 1, d_b + (shared ? 0 : i * K * N), N, 1);
    }
}

Tensor *nn_matmul(Tape *tape, Tensor *a, Tensor *b) {
    if (!a || !b) return NULL;
    int ok = a->n_dims >= 2 && b->n_dims >= 2 && a->shape[a->n_dims - 1] == b->shape[b->n_dims - 2];
    int shared = b->n_dims == 2;
    for (int d = 0; ok && !shared && d < a->n_dims - 2; d++) ok = b->n_dims == a->n_dims && a->shape[d] == b->shape[d];
    if (!ok) return tape_fail(tape, "matmul: shapes %s and %s do not multiply", shape_text(a).text, shape_text(b).text);
    int M = a->shape[a->n_dims - 2], K = a->shape[a->n_dims - 1], N = b->shape[b->n_dims - 1];
    long batch = a->size / ((long)M * K > 0 ? (long)M * K : 1);
    int shape[NN_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[a->n_dims - 1] = N;
    Tensor *out = tensor_new(tape, a->n_dims, shape);
    if (!out) return NULL;
    if (shared)  // one product with batch·M rows
        gemm((int)(batch * M), N, K, a->data, K, 1, b->data, N, 1, out->data, N, 0);
    else
        for (long i = 0; i < batch; i++)
            gemm(M, N, K, a->data + i * M * K, K, 1, b->data + i * K * N, N, 1, out->data + i * M * N, N, 0);
    Tensor *in[2] = {a, b};
    Node *node = tape_record(tape, "matmul", matmul_backward_node, out, in, 2);
    if (node) {
        node->sizes[0] = shared ? 1 : batch, node->sizes[1] = shared ? batch * M : M;
        node->sizes[2] = K, node->sizes[3] = N, node->sizes[4] = shared;
    }
    return out;
}

// ----------------------------------------------------------------------------
// linear: x (M, K) · Wᵀ + b, the foundations' matmul as gpt/ uses it

static void linear_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    matmul_backward(input_grad(tape, x), input_grad(tape, weight), bias ? input_grad(tape, bias) : NULL,
                    node->out->grad, x->data, weight->data, (int)node->sizes[0], (int)node->sizes[1],
                    (int)node->sizes[2]);
}

Tensor *nn_linear(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias) {
    if (!x || !weight) return NULL;
    int K = x->n_dims ? x->shape[x->n_dims - 1] : 1;
    if (x->n_dims < 1 || weight->n_dims != 2 || weight->shape[1] != K ||
        (bias && (bias->n_dims != 1 || bias->shape[0] != weight->shape[0])))
        return tape_fail(tape, "linear: input %s, weight %s and bias %s do not fit", shape_text(x).text,
                         shape_text(weight).text, bias ? shape_text(bias).text : "none");
    int N = weight->shape[0], shape[NN_MAX_DIMS];
    long M = K ? x->size / K : 0;
    memcpy(shape, x->shape, sizeof shape);
    shape[x->n_dims - 1] = N;
    Tensor *out = tensor_new(tape, x->n_dims, shape);
    if (!out) return NULL;
    matmul_forward(out->data, x->data, weight->data, bias ? bias->data : NULL, (int)M, K, N);
    Tensor *in[3] = {x, weight, bias};
    Node *node = tape_record(tape, "linear", linear_backward_node, out, in, 3);
    if (node) node->sizes[0] = M, node->sizes[1] = K, node->sizes[2] = N;
    return out;
}

// ----------------------------------------------------------------------------
// softmax and log-softmax over the last axis

static void softmax_backward_node(Tape *tape, Node *node) {
    int N = (int)node->sizes[0], V = (int)node->sizes[1];
    float *d_x = input_grad(tape, node->in[0]);
    if (node->sizes[2]) log_softmax_backward(d_x, node->out->grad, node->out->data, N, V);
    else softmax_backward(d_x, node->out->grad, node->out->data, N, V);
}

static Tensor *softmax_any(Tape *tape, Tensor *x, int log) {
    if (!x) return NULL;
    if (x->n_dims < 1 || x->shape[x->n_dims - 1] < 1)
        return tape_fail(tape, "%s: needs a last axis of at least 1, not %s", log ? "log_softmax" : "softmax", shape_text(x).text);
    int V = x->shape[x->n_dims - 1], N = (int)(x->size / V);
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    if (!out) return NULL;
    if (log) log_softmax_forward(out->data, x->data, N, V);
    else softmax_forward(out->data, x->data, N, V);
    Node *node = tape_record(tape, log ? "log_softmax" : "softmax", softmax_backward_node, out, &x, 1);
    if (node) node->sizes[0] = N, node->sizes[1] = V, node->sizes[2] = log;
    return out;
}

Tensor *nn_softmax(Tape *tape, Tensor *x) { return softmax_any(tape, x, 0); }
Tensor *nn_log_softmax(Tape *tape, Tensor *x) { return softmax_any(tape, x, 1); }

// ----------------------------------------------------------------------------
// losses: a scalar output; sizes = {N, V, ignore_index, counted, kind}; saved[0] probabilities

static Tensor *scalar(Tape *tape) { return tensor_new(tape, 0, NULL); }

// Checks the targets of N rows of V classes: each in [0, V) or ignore_index.
static int check_targets(Tape *tape, const char *op, const int *targets, int N, int V, int ignore_index) {
    for (int n = 0; n < N; n++)
        if ((targets[n] < 0 || targets[n] >= V) && targets[n] != ignore_index) {
            tape_fail(tape, "%s: target %d of row %d is outside [0, %d)", op, targets[n], n, V);
            return -1;
        }
    return 0;
}

static void cross_entropy_backward_node(Tape *tape, Node *node) {
    int N = (int)node->sizes[0], V = (int)node->sizes[1], ignore = (int)node->sizes[2], fused = (int)node->sizes[4];
    float scale = node->out->grad[0] / (float)node->sizes[3], smoothing = node->scalars[0];
    float *d_logits = input_grad(tape, node->in[0]);
    if (fused) cross_entropy_backward(d_logits, node->saved[0], node->indices, scale, N, V);
    else cross_entropy_smoothed_backward(d_logits, node->saved[0], node->indices, scale, N, V, ignore, smoothing);
}

Tensor *nn_cross_entropy(Tape *tape, Tensor *logits, const int *targets, int ignore_index, float smoothing) {
    if (!logits) return NULL;
    if (logits->n_dims < 1 || logits->shape[logits->n_dims - 1] < 1 || !(smoothing >= 0.0f && smoothing < 1.0f))
        return tape_fail(tape, "cross_entropy: logits %s with label smoothing %g", shape_text(logits).text, smoothing);
    int V = logits->shape[logits->n_dims - 1], N = (int)(logits->size / V), counted = N, fused = smoothing == 0.0f;
    if (check_targets(tape, "cross_entropy", targets, N, V, ignore_index)) return NULL;
    for (int n = 0; n < N && fused; n++) fused = targets[n] != ignore_index;
    Tensor *out = scalar(tape);
    float *probs = tape_alloc(tape, sizeof(float) * (size_t)logits->size);
    float *losses = tape_alloc(tape, sizeof(float) * (size_t)N);
    if (!out || !probs || !losses) return NULL;
    // The fused kernel of layers.h in the common case (no smoothing, nothing ignored), the
    // general one of losses.h otherwise.
    if (fused) out->data[0] = cross_entropy_forward(losses, probs, logits->data, targets, N, V);
    else out->data[0] = cross_entropy_smoothed_forward(losses, probs, &counted, logits->data, targets, N, V,
                                                       ignore_index, smoothing);
    Node *node = tape_record(tape, "cross_entropy", cross_entropy_backward_node, out, &logits, 1);
    if (node) {
        node->indices = copy_ints(tape, targets, N);
        if (!node->indices) return NULL;
        node->saved[0] = probs;
        node->sizes[0] = N, node->sizes[1] = V, node->sizes[2] = ignore_index, node->sizes[3] = counted > 0 ? counted : 1;
        node->sizes[4] = fused, node->scalars[0] = smoothing;
    }
    return out;
}

static void nll_backward_node(Tape *tape, Node *node) {
    nll_backward(input_grad(tape, node->in[0]), node->indices, node->out->grad[0] / (float)node->sizes[3],
                 (int)node->sizes[0], (int)node->sizes[1], (int)node->sizes[2]);
}

Tensor *nn_nll_loss(Tape *tape, Tensor *log_probs, const int *targets, int ignore_index) {
    if (!log_probs) return NULL;
    if (log_probs->n_dims < 1 || log_probs->shape[log_probs->n_dims - 1] < 1)
        return tape_fail(tape, "nll_loss: log-probabilities %s", shape_text(log_probs).text);
    int V = log_probs->shape[log_probs->n_dims - 1], N = (int)(log_probs->size / V), counted;
    if (check_targets(tape, "nll_loss", targets, N, V, ignore_index)) return NULL;
    Tensor *out = scalar(tape);
    float *losses = tape_alloc(tape, sizeof(float) * (size_t)N);
    if (!out || !losses) return NULL;
    out->data[0] = nll_forward(losses, &counted, log_probs->data, targets, N, V, ignore_index);
    Node *node = tape_record(tape, "nll_loss", nll_backward_node, out, &log_probs, 1);
    if (node) {
        node->indices = copy_ints(tape, targets, N);
        if (!node->indices) return NULL;
        node->sizes[0] = N, node->sizes[1] = V, node->sizes[2] = ignore_index, node->sizes[3] = counted > 0 ? counted : 1;
    }
    return out;
}

// mse and bce: x and target of one shape; sizes[0] = 0 for mse, 1 for bce
static void pair_loss_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *y = node->in[1];
    float scale = node->out->grad[0] / (float)(x->size ? x->size : 1);
    if (node->sizes[0]) bce_with_logits_backward(input_grad(tape, x), input_grad(tape, y), x->data, y->data, scale, x->size);
    else mse_backward(input_grad(tape, x), input_grad(tape, y), x->data, y->data, scale, x->size);
}

static Tensor *pair_loss(Tape *tape, Tensor *x, Tensor *y, int bce) {
    const char *name = bce ? "bce_with_logits" : "mse_loss";
    if (!x || !y) return NULL;
    if (!tensor_same_shape(x, y)) return tape_fail(tape, "%s: shapes %s and %s differ", name, shape_text(x).text, shape_text(y).text);
    Tensor *out = scalar(tape);
    float *losses = tape_alloc(tape, sizeof(float) * (size_t)x->size);
    if (!out || !losses) return NULL;
    out->data[0] = bce ? bce_with_logits_forward(losses, x->data, y->data, x->size) : mse_forward(losses, x->data, y->data, x->size);
    Tensor *in[2] = {x, y};
    Node *node = tape_record(tape, name, pair_loss_backward_node, out, in, 2);
    if (node) node->sizes[0] = bce;
    return out;
}

Tensor *nn_mse_loss(Tape *tape, Tensor *x, Tensor *target) { return pair_loss(tape, x, target, 0); }
Tensor *nn_bce_with_logits(Tape *tape, Tensor *logits, Tensor *target) { return pair_loss(tape, logits, target, 1); }

// ----------------------------------------------------------------------------
// dropout and layer norm

static void dropout_backward_node(Tape *tape, Node *node) {
    dropout_backward(input_grad(tape, node->in[0]), node->out->grad, node->saved[0], node->out->size);
}

Tensor *nn_dropout(Tape *tape, Tensor *x, float p, int training, Random *rng) {
    if (!x) return NULL;
    if (!(p >= 0.0f && p < 1.0f)) return tape_fail(tape, "dropout: probability %g outside [0, 1)", p);
    if (!training || p == 0.0f) return x;  // the identity
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    float *mask = tape_alloc(tape, sizeof(float) * (size_t)x->size);
    if (!out || !mask) return NULL;
    dropout_forward(out->data, mask, x->data, x->size, p, rng);
    Node *node = tape_record(tape, "dropout", dropout_backward_node, out, &x, 1);
    if (node) node->saved[0] = mask;
    return out;
}

static void layer_norm_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    int N = (int)node->sizes[0], C = (int)node->sizes[1];
    float *d_x = grad_or_scratch(tape, x), *d_w = grad_or_scratch(tape, weight), *d_b = grad_or_scratch(tape, bias);
    if (!d_x || !d_w || !d_b) return;
    layernorm_backward(d_x, d_w, d_b, node->out->grad, x->data, weight->data, node->saved[0], node->saved[1], N, C);
}

Tensor *nn_layer_norm(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias) {
    if (!x || !weight || !bias) return NULL;
    int C = x->n_dims ? x->shape[x->n_dims - 1] : 0;
    if (C < 1 || weight->size != C || bias->size != C || weight->n_dims != 1 || bias->n_dims != 1)
        return tape_fail(tape, "layer_norm: input %s, weight %s and bias %s do not fit", shape_text(x).text,
                         shape_text(weight).text, shape_text(bias).text);
    int N = (int)(x->size / C);
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    float *mean = tape_alloc(tape, sizeof(float) * (size_t)N), *rstd = tape_alloc(tape, sizeof(float) * (size_t)N);
    if (!out || !mean || !rstd) return NULL;
    layernorm_forward(out->data, mean, rstd, x->data, weight->data, bias->data, N, C);
    Tensor *in[3] = {x, weight, bias};
    Node *node = tape_record(tape, "layer_norm", layer_norm_backward_node, out, in, 3);
    if (node) node->saved[0] = mean, node->saved[1] = rstd, node->sizes[0] = N, node->sizes[1] = C;
    return out;
}

// ----------------------------------------------------------------------------
// batch norm over (N, C) rows: saved = {mean, rstd}; sizes = {N, C, training}

static void batch_norm_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    int N = (int)node->sizes[0], C = (int)node->sizes[1];
    float *d_x = grad_or_scratch(tape, x), *d_w = grad_or_scratch(tape, weight), *d_b = grad_or_scratch(tape, bias);
    if (!d_x || !d_w || !d_b) return;
    batchnorm_backward(d_x, d_w, d_b, node->out->grad, x->data, weight->data, node->saved[0], node->saved[1], N, C,
                       (int)node->sizes[2]);
}

static Tensor *batch_norm_rows(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, Tensor *running_mean,
                               Tensor *running_var, int training) {
    int N = x->shape[0], C = x->shape[1];
    if (training && N < 2) return tape_fail(tape, "batch_norm: training needs more than one row per channel, not %s", shape_text(x).text);
    Tensor *out = tensor_new(tape, 2, x->shape);
    float *mean = tape_alloc(tape, sizeof(float) * (size_t)C), *rstd = tape_alloc(tape, sizeof(float) * (size_t)C);
    if (!out || !mean || !rstd) return NULL;
    batchnorm_forward(out->data, mean, rstd, running_mean->data, running_var->data, x->data, weight->data, bias->data,
                      N, C, training);
    Tensor *in[3] = {x, weight, bias};
    Node *node = tape_record(tape, "batch_norm", batch_norm_backward_node, out, in, 3);
    if (node) node->saved[0] = mean, node->saved[1] = rstd, node->sizes[0] = N, node->sizes[1] = C, node->sizes[2] = training;
    return out;
}

// batch norm over (N, C, L): the statistics are over N and L, per channel; same saved and sizes
// with sizes[3] = L
static void batch_norm_channels_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    int first = 0;  // the first gradient to reach x: stored, x's gradient never zeroed
    float *d_x = x->requires_grad ? tensor_grad_first(tape, x, &first) : grad_or_scratch(tape, x);
    float *d_w = grad_or_scratch(tape, weight), *d_b = grad_or_scratch(tape, bias);
    if (!d_x || !d_w || !d_b) return;
    batchnorm_channels_backward_into(d_x, d_w, d_b, node->out->grad, x->data, weight->data, node->saved[0],
                                     node->saved[1], (int)node->sizes[0], (int)node->sizes[1], node->sizes[3],
                                     (int)node->sizes[2], !first);
}

static Tensor *batch_norm_channels(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, Tensor *running_mean,
                                   Tensor *running_var, int training) {
    int N = x->shape[0], C = x->shape[1];
    long L = x->size / ((long)N * C);
    if (training && (long)N * L < 2)
        return tape_fail(tape, "batch_norm: training needs more than one value per channel, not %s", shape_text(x).text);
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    float *mean = tape_alloc(tape, sizeof(float) * (size_t)C), *rstd = tape_alloc(tape, sizeof(float) * (size_t)C);
    if (!out || !mean || !rstd) return NULL;
    batchnorm_channels_forward(out->data, mean, rstd, running_mean->data, running_var->data, x->data, weight->data,
                               bias->data, N, C, L, training);
    Tensor *in[3] = {x, weight, bias};
    Node *node = tape_record(tape, "batch_norm", batch_norm_channels_backward_node, out, in, 3);
    if (node) {
        node->saved[0] = mean, node->saved[1] = rstd;
        node->sizes[0] = N, node->sizes[1] = C, node->sizes[2] = training, node->sizes[3] = L;
    }
    return out;
}

// ----------------------------------------------------------------------------
// synchronised batch norm (tape->reduction): x viewed as (N, C, L) on each of the processes,
// the statistics over all their N·L values per channel, M in all:
//   μ = Σ x / M,  σ² = Σ (x − μ)² / M   (two sums across the processes, the second around μ)
//   dx = w rstd / M (M dy − Σ dy − x̂ Σ dy x̂)   (the two sums across the processes)
// d_weight and d_bias get this process's sums only: the trainer averages parameter gradients.
// saved = {mean, rstd}; sizes = {N, C, L, M}

// values (n) summed across the processes (none when the tape no longer has a reduction);
// a failure is the tape's.
static int sum_across(Tape *tape, double *values, long n) {
    Error error;
    if (!tape->reduction || tape->reduction->sum(tape->reduction->context, values, n, &error) == 0) return 0;
    tape_fail(tape, "batch_norm: %s", error.message);
    return -1;
}

static void batch_norm_synchronised_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    long N = node->sizes[0], L = node->sizes[2], M = node->sizes[3];
    int C = (int)node->sizes[1];
    const float *dy = node->out->grad, *mean = node->saved[0], *rstd = node->saved[1];
    double *sums = tape_alloc(tape, sizeof(double) * 2 * (size_t)C);  // Σ dy, Σ dy x̂ per channel
    if (!sums) return;
    memset(sums, 0, sizeof(double) * 2 * (size_t)C);
    for (long n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (long l = 0, i = (n * C + c) * L; l < L; l++, i++) {
                sums[c] += dy[i];
                sums[C + c] += dy[i] * ((x->data[i] - mean[c]) * rstd[c]);
            }
    float *d_w = input_grad(tape, weight), *d_b = input_grad(tape, bias), *d_x = input_grad(tape, x);
    for (int c = 0; c < C; c++) {
        if (d_w) d_w[c] += (float)sums[C + c];
        if (d_b) d_b[c] += (float)sums[c];
    }
    if (sum_across(tape, sums, 2L * C) || !d_x) return;
#pragma omp parallel for if (N * C * L > 1 << 16)
    for (long n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            float scale = weight->data[c] * rstd[c] / (float)M;
            for (long l = 0, i = (n * C + c) * L; l < L; l++, i++) {
                float xhat = (x->data[i] - mean[c]) * rstd[c];
                d_x[i] += scale * ((float)M * dy[i] - (float)sums[c] - xhat * (float)sums[C + c]);
            }
        }
}

static Tensor *batch_norm_synchronised(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, Tensor *running_mean,
                                       Tensor *running_var) {
    long N = x->shape[0], L = x->size / (N * x->shape[1]);
    int C = x->shape[1];
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    float *mean = tape_alloc(tape, sizeof(float) * (size_t)C), *rstd = tape_alloc(tape, sizeof(float) * (size_t)C);
    double *sums = tape_alloc(tape, sizeof(double) * (size_t)(C + 1));  // Σ x per channel, then M
    if (!out || !mean || !rstd || !sums) return NULL;
    memset(sums, 0, sizeof(double) * (size_t)(C + 1));
    for (long n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (long l = 0, i = (n * C + c) * L; l < L; l++, i++) sums[c] += x->data[i];
    sums[C] = (double)N * L;
    if (sum_across(tape, sums, C + 1)) return NULL;
    double M = sums[C];
    if (M < 2) return tape_fail(tape, "batch_norm: training needs more than one value per channel over the processes, not %g", M);
    for (int c = 0; c < C; c++) sums[c] /= M;  // the means; then the squares around them
    double *squares = tape_alloc(tape, sizeof(double) * (size_t)C);
    if (!squares) return NULL;
    memset(squares, 0, sizeof(double) * (size_t)C);
    for (long n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (long l = 0, i = (n * C + c) * L; l < L; l++, i++) squares[c] += (x->data[i] - sums[c]) * (x->data[i] - sums[c]);
    if (sum_across(tape, squares, C)) return NULL;
    for (int c = 0; c < C; c++) {  // as layers.h's batchnorm_forward: biased to normalise, unbiased to run
        mean[c] = (float)sums[c];
        rstd[c] = (float)(1.0 / sqrt(squares[c] / M + BATCHNORM_EPS));
        running_mean->data[c] = (1.0f - BATCHNORM_MOMENTUM) * running_mean->data[c] + BATCHNORM_MOMENTUM * mean[c];
        running_var->data[c] = (1.0f - BATCHNORM_MOMENTUM) * running_var->data[c] +
                               BATCHNORM_MOMENTUM * (float)(squares[c] / (M - 1));
    }
#pragma omp parallel for if (N * C * L > 1 << 16)
    for (long n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (long l = 0, i = (n * C + c) * L; l < L; l++, i++)
                out->data[i] = weight->data[c] * ((x->data[i] - mean[c]) * rstd[c]) + bias->data[c];
    Tensor *in[3] = {x, weight, bias};
    Node *node = tape_record(tape, "batch_norm", batch_norm_synchronised_backward_node, out, in, 3);
    if (node) {
        node->saved[0] = mean, node->saved[1] = rstd;
        node->sizes[0] = N, node->sizes[1] = C, node->sizes[2] = L, node->sizes[3] = (long)M;
    }
    return out;
}

Tensor *nn_batch_norm(Tape *tape, Tensor *x, Tensor *weight, Tensor *bias, Tensor *running_mean, Tensor *running_var,
                      int training) {
    if (!x || !weight || !bias || !running_mean || !running_var) return NULL;
    int C = x->n_dims >= 2 ? x->shape[1] : 0;
    if (x->n_dims < 2 || x->n_dims > 5 || C < 1 || x->shape[0] < 1 || weight->size != C || bias->size != C ||
        running_mean->size != C || running_var->size != C)
        return tape_fail(tape, "batch_norm: input %s and parameters of %ld channels do not fit (N,C), (N,C,L) or (N,C,H,W)",
                         shape_text(x).text, weight->size);
    if (training && tape->reduction) return batch_norm_synchronised(tape, x, weight, bias, running_mean, running_var);
    if (x->n_dims == 2) return batch_norm_rows(tape, x, weight, bias, running_mean, running_var, training);
    return batch_norm_channels(tape, x, weight, bias, running_mean, running_var, training);
}

// ----------------------------------------------------------------------------
// attention: sizes = {B, Tq, Tk, C, NH, causal}; saved[0] the probabilities (B,NH,Tq,Tk);
// indices the key padding (B,Tk) as ints, or NULL

// The kernel's description of q, k, v (contiguous (B,T,C) each) for a node or a forward.
static Attention describe(const Tensor *q, const Tensor *k, const Tensor *v, int NH, int causal,
                          const unsigned char *key_padding) {
    Attention a = {q->data, k->data, v->data, q->shape[2], k->shape[2], q->shape[0], q->shape[1], k->shape[1],
                   q->shape[2], NH, causal, key_padding, ATTENTION_PATH_AUTO, NULL, 0.0f};
    return a;
}

static void attention_backward_node(Tape *tape, Node *node) {
    Tensor *q = node->in[0], *k = node->in[1], *v = node->in[2];
    Attention a = describe(q, k, v, (int)node->sizes[4], (int)node->sizes[5], (const unsigned char *)node->indices);
    float *d_q = grad_or_scratch(tape, q), *d_k = grad_or_scratch(tape, k), *d_v = grad_or_scratch(tape, v);
    if (!d_q || !d_k || !d_v) return;
    if (attention_backward(d_q, d_k, d_v, node->out->grad, node->saved[0], &a))
        tape_fail(tape, "attention: out of memory for the backward's scratch");
}

Tensor *nn_attention(Tape *tape, Tensor *q, Tensor *k, Tensor *v, int NH, int causal, const unsigned char *key_padding) {
    if (!q || !k || !v) return NULL;
    int ok = q->n_dims == 3 && k->n_dims == 3 && tensor_same_shape(k, v) && q->shape[0] == k->shape[0] &&
             q->shape[2] == k->shape[2] && NH >= 1 && q->shape[2] % NH == 0 && (!causal || q->shape[1] <= k->shape[1]);
    if (!ok)
        return tape_fail(tape, "attention: q %s, k %s, v %s with %d heads do not fit", shape_text(q).text,
                         shape_text(k).text, shape_text(v).text, NH);
    int B = q->shape[0], Tq = q->shape[1], Tk = k->shape[1];
    unsigned char *padding = NULL;
    if (key_padding) {  // kept for the backward: the caller's buffer may change
        padding = tape_alloc(tape, (size_t)B * Tk);
        if (!padding) return NULL;
        memcpy(padding, key_padding, (size_t)B * Tk);
    }
    Tensor *out = tensor_new(tape, 3, q->shape);
    float *att = tape_alloc(tape, sizeof(float) * (size_t)B * NH * Tq * Tk);
    if (!out || !att) return NULL;
    Attention a = describe(q, k, v, NH, causal, padding);
    attention_forward(out->data, att, &a);
    Tensor *in[3] = {q, k, v};
    Node *node = tape_record(tape, "attention", attention_backward_node, out, in, 3);
    if (node) {
        node->saved[0] = att;
        node->indices = (int *)padding;
        long sizes[6] = {B, Tq, Tk, q->shape[2], NH, causal};
        memcpy(node->sizes, sizes, sizeof sizes);
    }
    return out;
}
