// The layers of a neural network, each a forward/backward pair (llm.c's convention).
//
// Argument order everywhere: outputs first, then caches the backward needs, then inputs,
// then weights, then sizes. Backward functions ACCUMULATE (+=) into every gradient they
// are given, because one tensor can feed several places and its gradients add up; the
// caller zeroes gradients once per step. All tensors are row-major, contiguous unless a
// stride is given. Size letters: N rows (often N = B*T), B batch, T time, C channels,
// V vocabulary, NH heads.
//
// Large loops are split over threads with OpenMP; results do not depend on the thread
// count except where noted (sums over rows in a different order).
#ifndef FOUNDATIONS_LAYERS_H
#define FOUNDATIONS_LAYERS_H

#include "foundations/random.h"

// Linear: inp (N,C), weight (OC,C), bias (OC) or NULL -> out (N,OC). out = inp · Wᵀ + b.
// (The fast matmul in foundations/matmul.h does the work.)
void linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC);
void linear_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                     const float *weight, int N, int C, int OC);

// Embedding: ids (N) in [0, V), table (V,C) -> out (N,C), out[n] = table[ids[n]].
void embedding_forward(float *out, const int *ids, const float *table, int N, int C);
void embedding_backward(float *d_table, const float *d_out, const int *ids, int N, int C);

// Elementwise activations over n values. Sigmoid and tanh take their own output in the
// backward (the derivative is cheaper from it); ReLU and GELU take the input.
void relu_forward(float *out, const float *inp, long n);
void relu_backward(float *d_inp, const float *d_out, const float *inp, long n);
void sigmoid_forward(float *out, const float *inp, long n);
void sigmoid_backward(float *d_inp, const float *d_out, const float *out, long n);
void tanh_forward(float *out, const float *inp, long n);
void tanh_backward(float *d_inp, const float *d_out, const float *out, long n);
// GELU, tanh approximation (as GPT-2): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
void gelu_forward(float *out, const float *inp, long n);
void gelu_backward(float *d_inp, const float *d_out, const float *inp, long n);

// Softmax and log-softmax over the last axis: inp (N,V) -> out (N,V). Stable: the row
// maximum is subtracted first. Backward takes the forward's output.
void softmax_forward(float *out, const float *inp, int N, int V);
void softmax_backward(float *d_inp, const float *d_out, const float *out, int N, int V);
void log_softmax_forward(float *out, const float *inp, int N, int V);
void log_softmax_backward(float *d_inp, const float *d_out, const float *out, int N, int V);

// Softmax cross-entropy, fused: logits (N,V), targets (N) -> losses (N), probs (N,V) kept
// for the backward. Returns the mean loss. losses[n] = logsumexp(logits[n]) - logits[n][y],
// computed with the maximum subtracted, so logits of 1e4 are fine.
float cross_entropy_forward(float *losses, float *probs, const float *logits, const int *targets, int N, int V);
// d_logits (N,V) += scale * (probs - onehot(targets)); scale = 1/N for the mean loss.
void cross_entropy_backward(float *d_logits, const float *probs, const int *targets, float scale, int N, int V);

// LayerNorm over C: inp (N,C), weight (C), bias (C) -> out (N,C); mean (N), rstd (N) cached.
// out = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + 1e-5), var the biased variance.
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                       const float *bias, int N, int C);
void layernorm_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int C);

// Batch normalisation (Ioffe and Szegedy 2015, "Batch Normalization: Accelerating Deep
// Network Training by Reducing Internal Covariate Shift", algorithm 1), per channel c over
// the N rows, with PyTorch's nn.BatchNorm1d semantics on (N,C):
//   out = (x - mean) * rstd * weight + bias,   rstd = 1 / sqrt(var + BATCHNORM_EPS)
// training = 1: mean and var are the batch's (var biased, divided by N), and the running
//   statistics move towards the batch's with momentum m = BATCHNORM_MOMENTUM:
//   running_mean = (1 - m) running_mean + m mean,
//   running_var  = (1 - m) running_var  + m var_unbiased   (divided by N - 1; by N when N = 1,
//   where PyTorch refuses to train).
// training = 0: mean = running_mean and var = running_var, which are left unchanged.
// inp (N,C), weight (C), bias (C), running_mean (C), running_var (C) -> out (N,C);
// mean (C), rstd (C) cached for the backward. out may be inp (the statistics come first).
#define BATCHNORM_EPS 1e-5f
#define BATCHNORM_MOMENTUM 0.1f
void batchnorm_forward(float *out, float *mean, float *rstd, float *running_mean, float *running_var,
                       const float *inp, const float *weight, const float *bias, int N, int C, int training);
// With xhat = (x - mean) * rstd:  d_weight += sum_n dout xhat,  d_bias += sum_n dout, and
//   training: dx_n += weight * rstd / N * (N dout_n - sum dout - xhat_n sum (dout xhat))
//             (mean and var depend on every row)
//   evaluation: dx += weight * rstd * dout  (the statistics are constants)
void batchnorm_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int C, int training);

// Residual: out (n) = a (n) + b (n); the gradient flows unchanged to both.
void residual_forward(float *out, const float *a, const float *b, long n);
void residual_backward(float *d_a, float *d_b, const float *d_out, long n);

// Inverted dropout: each value is zeroed with probability p, the survivors scaled by
// 1/(1-p) so the expectation is unchanged; at p = 0 it is the identity. mask (n) keeps
// the factor (0 or 1/(1-p)) for the backward. Seeded by the caller's generator.
void dropout_forward(float *out, float *mask, const float *inp, long n, float p, Random *rng);
void dropout_backward(float *d_inp, const float *d_out, const float *mask, long n);

// Multi-head scaled dot-product attention (Vaswani et al. 2017, eq. 1), NH heads of size
// HS = C / NH, per head:  att = softmax(q kᵀ / sqrt(HS) + mask),  out = att v.
// Attention says where q, k and v are and which keys each query may see:
//   q (B,Tq,·) rows q_stride floats apart, k and v (B,Tk,·) rows kv_stride apart, each row's
//   first C floats used; out (B,Tq,C) stride C; att (B,NH,Tq,Tk) the probabilities, masked
//   ones exactly 0 (a query that sees no key gets zero output).
// Self-attention passes one packed sequence for all three (GPT-2's qkv (B,T,3C): q = qkv,
// k = qkv + C, v = qkv + 2C, both strides 3C: attention_self below); cross-attention passes
// another sequence for k and v.
// causal: the Tq queries are the last Tq positions of the keys' sequence, and query t sees
// keys s <= t + (Tk - Tq) (Tq = 1 is a decoding step against a key/value cache).
// key_padding (B,Tk), or NULL: a non-zero entry hides that key from every query (PyTorch's
// key_padding_mask).
// path: how it is computed. AUTO (0, the default) takes matrix products per head, or query
// by query for few queries or small heads (Tk · HS <= 1024), where the products' packing
// costs more than it saves; ROWS and GEMM force one (the tests compare them).
// dropout_keep (B,NH,Tq,Tk), or NULL: dropout on the probabilities (GPT-2's attn_pdrop), out =
// (m ∘ att) v with m_ts = dropout_scale (1/(1-p), inverted dropout) where keep_ts is 1 and 0
// where it is 0. att stays the softmax's probabilities (the backward needs them); the
// backward applies the same m.
typedef enum { ATTENTION_PATH_AUTO, ATTENTION_PATH_ROWS, ATTENTION_PATH_GEMM } AttentionPath;
typedef struct Attention {
    const float *q, *k, *v;
    long q_stride, kv_stride;
    int B, Tq, Tk, C, NH;
    int causal;
    const unsigned char *key_padding;
    AttentionPath path;
    const unsigned char *dropout_keep;
    float dropout_scale;
} Attention;

// Causal self-attention over a packed qkv (B,T,3C), the case of GPT-2's blocks.
Attention attention_self(const float *qkv, int B, int T, int C, int NH);
// out (B,Tq,C), att (B,NH,Tq,Tk). Returns 0, or -1 when out of memory for the dropout's
// scratch (one (Tq,Tk) matrix per thread, on the matrix-product path); without dropout it
// cannot fail.
int attention_forward(float *out, float *att, const Attention *attention);
// d_q has q's layout, d_k and d_v have k's and v's (strides q_stride and kv_stride); they
// may point into one packed buffer, as q, k and v may. Returns 0, or -1 when out of memory
// for its scratch (one (Tq,Tk) matrix per thread, two with dropout).
int attention_backward(float *d_q, float *d_k, float *d_v, const float *d_out, const float *att,
                        const Attention *attention);

#endif
