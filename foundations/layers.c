// The layers of foundations/layers.h. Each forward sits next to its backward; the comment
// above a backward restates the forward and gives the derivative the code implements.
#include "foundations/layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "foundations/fastmath.h"
#include "foundations/matmul.h"

// Loops over fewer elements than this run on one thread: starting a team costs more.
enum { PARALLEL_THRESHOLD = 1 << 15 };

// ----------------------------------------------------------------------------
// linear and embedding

void linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC) {
    matmul_forward(out, inp, weight, bias, N, C, OC);
}

void linear_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                     const float *weight, int N, int C, int OC) {
    matmul_backward(d_inp, d_weight, d_bias, d_out, inp, weight, N, C, OC);
}

void embedding_forward(float *out, const int *ids, const float *table, int N, int C) {
    for (int n = 0; n < N; n++) memcpy(out + (long)n * C, table + (long)ids[n] * C, sizeof(float) * (size_t)C);
}

// The same row can be looked up many times; its gradient is the sum of theirs. Serial, so
// that repeated ids add up in a fixed order.
void embedding_backward(float *d_table, const float *d_out, const int *ids, int N, int C) {
    for (int n = 0; n < N; n++) {
        float *row = d_table + (long)ids[n] * C;
        const float *g = d_out + (long)n * C;
        for (int c = 0; c < C; c++) row[c] += g[c];
    }
}

// ----------------------------------------------------------------------------
// elementwise activations

void relu_forward(float *out, const float *inp, long n) {
    for (long i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

// d relu(x)/dx = 1 for x > 0, else 0
void relu_backward(float *d_inp, const float *d_out, const float *inp, long n) {
    for (long i = 0; i < n; i++) d_inp[i] += inp[i] > 0.0f ? d_out[i] : 0.0f;
}

void sigmoid_forward(float *out, const float *inp, long n) {
    for (long i = 0; i < n; i++) out[i] = 1.0f / (1.0f + expf(-inp[i]));
}

// s = sigmoid(x): ds/dx = s (1 - s)
void sigmoid_backward(float *d_inp, const float *d_out, const float *out, long n) {
    for (long i = 0; i < n; i++) d_inp[i] += d_out[i] * out[i] * (1.0f - out[i]);
}

void tanh_forward(float *out, const float *inp, long n) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) out[i] = tanhf(inp[i]);
}

// y = tanh(x): dy/dx = 1 - y^2
void tanh_backward(float *d_inp, const float *d_out, const float *out, long n) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) d_inp[i] += d_out[i] * (1.0f - out[i] * out[i]);
}

static const float GELU_SCALE = 0.7978845608028654f;  // sqrt(2 / pi)

void gelu_forward(float *out, const float *inp, long n) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + fast_tanh(GELU_SCALE * (x + 0.044715f * x * x * x)));
    }
}

// With u = sqrt(2/pi) (x + 0.044715 x^3) and y = 0.5 x (1 + tanh u):
//   dy/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
void gelu_backward(float *d_inp, const float *d_out, const float *inp, long n) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float x = inp[i];
        float t = fast_tanh(GELU_SCALE * (x + 0.044715f * x * x * x));
        float local = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        d_inp[i] += local * d_out[i];
    }
}

// ----------------------------------------------------------------------------
// softmax, log-softmax, cross-entropy

// One row of a stable softmax: y = exp(x - max) / sum. Returns log(sum exp(x)) (the log of
// the normaliser), which the cross-entropy needs. The simd reductions let the compiler keep
// several partial maxima and sums in vector lanes.
static float softmax_row(float *y, const float *x, int V) {
    float max = -INFINITY;
#pragma omp simd reduction(max : max)
    for (int i = 0; i < V; i++) max = x[i] > max ? x[i] : max;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int i = 0; i < V; i++) {
        y[i] = fast_exp(x[i] - max);
        sum += y[i];
    }
    float inverse = 1.0f / sum;
    for (int i = 0; i < V; i++) y[i] *= inverse;
    return max + logf(sum);
}

void softmax_forward(float *out, const float *inp, int N, int V) {
#pragma omp parallel for if ((long)N * V > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++) softmax_row(out + (long)n * V, inp + (long)n * V, V);
}

// y = softmax(x): dy_i/dx_j = y_i (delta_ij - y_j), so dx_j = y_j (dy_j - sum_i dy_i y_i)
void softmax_backward(float *d_inp, const float *d_out, const float *out, int N, int V) {
#pragma omp parallel for if ((long)N * V > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++) {
        const float *y = out + (long)n * V, *dy = d_out + (long)n * V;
        double dot = 0.0;
        for (int i = 0; i < V; i++) dot += (double)dy[i] * y[i];
        for (int i = 0; i < V; i++) d_inp[(long)n * V + i] += y[i] * (dy[i] - (float)dot);
    }
}

void log_softmax_forward(float *out, const float *inp, int N, int V) {
#pragma omp parallel for if ((long)N * V > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (long)n * V;
        float max = -INFINITY;
        for (int i = 0; i < V; i++) max = x[i] > max ? x[i] : max;
        double sum = 0.0;
        for (int i = 0; i < V; i++) sum += exp((double)x[i] - max);
        float log_sum = max + (float)log(sum);
        for (int i = 0; i < V; i++) out[(long)n * V + i] = x[i] - log_sum;
    }
}

// y = x - logsumexp(x): dx_j = dy_j - softmax(x)_j sum_i dy_i, with softmax = exp(y)
void log_softmax_backward(float *d_inp, const float *d_out, const float *out, int N, int V) {
#pragma omp parallel for if ((long)N * V > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++) {
        const float *y = out + (long)n * V, *dy = d_out + (long)n * V;
        double sum = 0.0;
        for (int i = 0; i < V; i++) sum += dy[i];
        for (int i = 0; i < V; i++) d_inp[(long)n * V + i] += dy[i] - expf(y[i]) * (float)sum;
    }
}

float cross_entropy_forward(float *losses, float *probs, const float *logits, const int *targets, int N, int V) {
    double total = 0.0;
#pragma omp parallel for reduction(+ : total) if ((long)N * V > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++) {
        // -log p_y = log(sum exp(x)) - x_y, straight from the logits, so a tiny probability
        // does not underflow to 0 and give an infinite loss.
        float log_normaliser = softmax_row(probs + (long)n * V, logits + (long)n * V, V);
        losses[n] = log_normaliser - logits[(long)n * V + targets[n]];
        total += losses[n];
    }
    return N > 0 ? (float)(total / N) : 0.0f;
}

// loss = -log softmax(x)_y: d loss / dx_i = p_i - [i == y]
void cross_entropy_backward(float *d_logits, const float *probs, const int *targets, float scale, int N, int V) {
#pragma omp parallel for if ((long)N * V > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++) {
        float *d = d_logits + (long)n * V;
        const float *p = probs + (long)n * V;
        for (int i = 0; i < V; i++) d[i] += scale * p[i];
        d[targets[n]] -= scale;
    }
}

// ----------------------------------------------------------------------------
// layernorm

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                       const float *bias, int N, int C) {
#pragma omp parallel for if ((long)N * C > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (long)n * C;
        float m = 0.0f;
#pragma omp simd reduction(+ : m)
        for (int c = 0; c < C; c++) m += x[c];
        m /= (float)C;
        float variance = 0.0f;
#pragma omp simd reduction(+ : variance)
        for (int c = 0; c < C; c++) variance += (x[c] - m) * (x[c] - m);
        variance /= (float)C;
        float s = 1.0f / sqrtf(variance + 1e-5f);
        float *y = out + (long)n * C;
        for (int c = 0; c < C; c++) y[c] = (x[c] - m) * s * weight[c] + bias[c];
        mean[n] = m;
        rstd[n] = s;
    }
}

// With xhat = (x - mean) * rstd and out = w * xhat + b:
//   d_w += dout * xhat,  d_b += dout,
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  where dxhat = dout * w.
// d_weight and d_bias sum over rows; that part runs on one thread to keep the order fixed.
void layernorm_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int C) {
#pragma omp parallel for if ((long)N * C > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (long)n * C, *dy = d_out + (long)n * C;
        float mean_dxhat = 0.0f, mean_dxhat_xhat = 0.0f;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - mean[n]) * rstd[n];
            float dxhat = dy[c] * weight[c];
            mean_dxhat += dxhat;
            mean_dxhat_xhat += dxhat * xhat;
        }
        mean_dxhat /= (float)C;
        mean_dxhat_xhat /= (float)C;
        float *dx = d_inp + (long)n * C;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - mean[n]) * rstd[n];
            dx[c] += rstd[n] * (dy[c] * weight[c] - mean_dxhat - xhat * mean_dxhat_xhat);
        }
    }
    for (int n = 0; n < N; n++) {
        const float *x = inp + (long)n * C, *dy = d_out + (long)n * C;
        for (int c = 0; c < C; c++) {
            d_weight[c] += dy[c] * (x[c] - mean[n]) * rstd[n];
            d_bias[c] += dy[c];
        }
    }
}

// ----------------------------------------------------------------------------
// batchnorm

// Per channel c: the batch's mean and biased variance (in double, one pass for the mean and
// one for the squares), then the running statistics; or the running statistics alone.
static void batchnorm_statistics(float *mean, float *rstd, float *running_mean, float *running_var,
                                 const float *inp, int N, int C, int training) {
    for (int c = 0; c < C; c++) {
        if (!training) {
            mean[c] = running_mean[c];
            rstd[c] = 1.0f / sqrtf(running_var[c] + BATCHNORM_EPS);
            continue;
        }
        double sum = 0.0;
        for (long n = 0; n < N; n++) sum += inp[n * C + c];
        double m = sum / N;
        double squares = 0.0;
        for (long n = 0; n < N; n++) {
            double d = inp[n * C + c] - m;
            squares += d * d;
        }
        double variance = squares / N;
        double unbiased = N > 1 ? squares / (N - 1) : variance;
        mean[c] = (float)m;
        rstd[c] = (float)(1.0 / sqrt(variance + BATCHNORM_EPS));
        running_mean[c] = (1.0f - BATCHNORM_MOMENTUM) * running_mean[c] + BATCHNORM_MOMENTUM * (float)m;
        running_var[c] = (1.0f - BATCHNORM_MOMENTUM) * running_var[c] + BATCHNORM_MOMENTUM * (float)unbiased;
    }
}

void batchnorm_forward(float *out, float *mean, float *rstd, float *running_mean, float *running_var,
                       const float *inp, const float *weight, const float *bias, int N, int C, int training) {
    batchnorm_statistics(mean, rstd, running_mean, running_var, inp, N, C, training);
    for (long n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            long i = n * C + c;
            float xhat = (inp[i] - mean[c]) * rstd[c];
            out[i] = weight[c] * xhat + bias[c];
        }
}

void batchnorm_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int C, int training) {
    for (int c = 0; c < C; c++) {
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (long n = 0; n < N; n++) {
            float xhat = (inp[n * C + c] - mean[c]) * rstd[c];
            sum_dy += d_out[n * C + c];
            sum_dy_xhat += d_out[n * C + c] * xhat;
        }
        d_weight[c] += (float)sum_dy_xhat;
        d_bias[c] += (float)sum_dy;
        float scale = weight[c] * rstd[c];
        for (long n = 0; n < N; n++) {
            long i = n * C + c;
            float xhat = (inp[i] - mean[c]) * rstd[c];
            if (training)
                d_inp[i] += scale / N * ((float)N * d_out[i] - (float)sum_dy - xhat * (float)sum_dy_xhat);
            else
                d_inp[i] += scale * d_out[i];
        }
    }
}

// ----------------------------------------------------------------------------
// residual and dropout

void residual_forward(float *out, const float *a, const float *b, long n) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void residual_backward(float *d_a, float *d_b, const float *d_out, long n) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        d_a[i] += d_out[i];
        d_b[i] += d_out[i];
    }
}

void dropout_forward(float *out, float *mask, const float *inp, long n, float p, Random *rng) {
    float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    for (long i = 0; i < n; i++) {
        mask[i] = (p > 0.0f && random_uniform(rng) < p) ? 0.0f : keep_scale;
        out[i] = inp[i] * mask[i];
    }
}

void dropout_backward(float *d_inp, const float *d_out, const float *mask, long n) {
    for (long i = 0; i < n; i++) d_inp[i] += d_out[i] * mask[i];
}

// ----------------------------------------------------------------------------
// attention

// The keys query t sees are s < attention_visible(a, t) (the causal limit), minus any the
// padding mask hides. The one place the causal mask is written.
static int attention_visible(const Attention *a, int t) {
    if (!a->causal) return a->Tk;
    int visible = t + (a->Tk - a->Tq) + 1;
    return visible < a->Tk ? visible : a->Tk;
}

// Softmax in place over row's visible keys [0, visible) that padding (or NULL) does not hide,
// the scores first multiplied by scale; every hidden key gets probability exactly 0.
static void masked_softmax_row(float *row, int visible, int Tk, float scale, const unsigned char *padding) {
    float max = -INFINITY;
    for (int s = 0; s < visible; s++) {
        row[s] *= scale;
        if (!(padding && padding[s]) && row[s] > max) max = row[s];
    }
    float sum = 0.0f;
    for (int s = 0; s < visible; s++) {
        row[s] = padding && padding[s] ? 0.0f : fast_exp(row[s] - max);
        sum += row[s];
    }
    float inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
    for (int s = 0; s < visible; s++) row[s] *= inverse;
    for (int s = visible; s < Tk; s++) row[s] = 0.0f;
}

static const unsigned char *padding_of(const Attention *a, int b) {
    return a->key_padding ? a->key_padding + (long)b * a->Tk : NULL;
}

// The dropout flags of the probabilities starting at index row of att (B,NH,Tq,Tk), or NULL.
static const unsigned char *keep_of(const Attention *a, long row) {
    return a->dropout_keep ? a->dropout_keep + row : NULL;
}

// The factor dropout leaves on probability s of a row: 1 without dropout (multiplying by it
// is exact, so no dropout gives the same bits as before there was any), else the scale or 0.
static inline float dropout_factor(const unsigned char *keep, int s, float scale) {
    return !keep ? 1.0f : keep[s] ? scale : 0.0f;
}

// One (Tq,Tk) head of dropped probabilities: dropped = m ∘ probs (the rows t < Tq, keys s < Tk).
static void dropout_head(float *dropped, const float *probs, const unsigned char *keep, float scale, long n) {
    for (long i = 0; i < n; i++) dropped[i] = keep[i] ? probs[i] * scale : 0.0f;
}

Attention attention_self(const float *qkv, int B, int T, int C, int NH) {
    Attention a = {.q = qkv, .k = qkv + C, .v = qkv + 2 * C, .q_stride = 3L * C, .kv_stride = 3L * C,
                   .B = B, .Tq = T, .Tk = T, .C = C, .NH = NH, .causal = 1, .key_padding = NULL};
    return a;
}

// Attention computed query by query: dot products, softmax, weighted sum. This is the path
// for a few queries (decoding one token against the key/value cache), where there is no
// matrix worth multiplying.
static void attention_forward_rows(float *out, float *att, const Attention *a) {
    int B = a->B, Tq = a->Tq, Tk = a->Tk, C = a->C, NH = a->NH, HS = C / NH;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(3) if ((long)B * NH * Tq * Tk * HS > PARALLEL_THRESHOLD)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            for (int t = 0; t < Tq; t++) {
                const float *query = a->q + ((long)b * Tq + t) * a->q_stride + h * HS;
                float *probs = att + (((long)b * NH + h) * Tq + t) * Tk;
                int visible = attention_visible(a, t);
                for (int s = 0; s < visible; s++) {
                    const float *key = a->k + ((long)b * Tk + s) * a->kv_stride + h * HS;
                    float dot = 0.0f;
                    // simd reduction: lets the compiler split the sum into vector lanes,
                    // which plain C forbids for floats (it changes the rounding order).
#pragma omp simd reduction(+ : dot)
                    for (int i = 0; i < HS; i++) dot += query[i] * key[i];
                    probs[s] = dot;
                }
                masked_softmax_row(probs, visible, Tk, scale, padding_of(a, b));
                // weighted sum of the values, by the probabilities dropout leaves
                const unsigned char *keep = keep_of(a, probs - att);
                float *o = out + ((long)b * Tq + t) * C + h * HS;
                for (int i = 0; i < HS; i++) o[i] = 0.0f;
                for (int s = 0; s < visible; s++) {
                    const float *value = a->v + ((long)b * Tk + s) * a->kv_stride + h * HS;
                    float weight = probs[s] * dropout_factor(keep, s, a->dropout_scale);
                    for (int i = 0; i < HS; i++) o[i] += weight * value[i];
                }
            }
        }
    }
}

// Forward, per head: score_ts = q_t · k_s * scale, att_t = softmax(score_t), out_t = sum_s m_ts att_ts v_s
// (m the dropout's factors, all 1 without it). Backward:
//   d_v_s   += sum_t m_ts att_ts d_out_t          d_att_ts = m_ts d_out_t · v_s
//   d_score_ts = att_ts (d_att_ts - sum_r att_tr d_att_tr)          (softmax backward)
//   d_q_t   += scale * sum_s d_score_ts k_s    d_k_s += scale * sum_t d_score_ts q_t
// A hidden key has att_ts = 0, so it gets no gradient. Each (b, h) touches only its own
// head's columns, so the pairs run in parallel safely.
static void attention_backward_rows(float *d_q, float *d_k, float *d_v, const float *d_out, const float *att,
                                    const Attention *a) {
    int B = a->B, Tq = a->Tq, Tk = a->Tk, C = a->C, NH = a->NH, HS = C / NH;
    long q_stride = a->q_stride, kv_stride = a->kv_stride;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(2) if ((long)B * NH * Tq * Tk * HS > PARALLEL_THRESHOLD)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            for (int t = 0; t < Tq; t++) {
                const float *probs = att + (((long)b * NH + h) * Tq + t) * Tk;
                const float *dy = d_out + ((long)b * Tq + t) * C + h * HS;
                const float *query = a->q + ((long)b * Tq + t) * q_stride + h * HS;
                float *d_query = d_q + ((long)b * Tq + t) * q_stride + h * HS;
                const unsigned char *keep = keep_of(a, probs - att);
                int visible = attention_visible(a, t);
                // d_att_ts, then sum_s att_ts d_att_ts
                float weighted = 0.0f;
                for (int s = 0; s < visible; s++) {
                    const float *value = a->v + ((long)b * Tk + s) * kv_stride + h * HS;
                    float *d_value = d_v + ((long)b * Tk + s) * kv_stride + h * HS;
                    float factor = dropout_factor(keep, s, a->dropout_scale), weight = probs[s] * factor;
                    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                    for (int i = 0; i < HS; i++) {
                        dot += dy[i] * value[i];
                        d_value[i] += weight * dy[i];
                    }
                    weighted += probs[s] * (dot * factor);
                }
                for (int s = 0; s < visible; s++) {
                    const float *value = a->v + ((long)b * Tk + s) * kv_stride + h * HS;
                    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                    for (int i = 0; i < HS; i++) dot += dy[i] * value[i];
                    float d_score = probs[s] * (dot * dropout_factor(keep, s, a->dropout_scale) - weighted) * scale;
                    const float *key = a->k + ((long)b * Tk + s) * kv_stride + h * HS;
                    float *d_key = d_k + ((long)b * Tk + s) * kv_stride + h * HS;
                    for (int i = 0; i < HS; i++) {
                        d_query[i] += d_score * key[i];
                        d_key[i] += d_score * query[i];
                    }
                }
            }
        }
    }
}

// ----------------------------------------------------------------------------
// attention as matrix products, per (batch, head): S = Q Kᵀ / sqrt(HS), P = softmax(S) with
// the mask, O = P V. For many queries (training, prompts, evaluation) this runs the packed
// gemm on each head's (Tq x HS) and (Tk x HS) slices, about ten times faster than the
// row-by-row loops. The heads run in parallel; each gemm inside runs on its own thread.

// Fewer queries than this go row by row; so do heads whose keys hold few values (Tk · HS):
// there the gemm's packing and buffers cost more than they save (the toy tasks'
// Transformer, Tk 17 and HS 16: the rows take 20% less time per training step; at Tk 32 and
// HS 32 the two paths are even, measured on one thread).
enum { ATTENTION_GEMM_MIN_QUERIES = 8, ATTENTION_ROWS_MAX_KEY_VALUES = 1024 };

static int attention_by_rows(const Attention *a) {
    if (a->path != ATTENTION_PATH_AUTO) return a->path == ATTENTION_PATH_ROWS;
    return a->Tq < ATTENTION_GEMM_MIN_QUERIES || (long)a->Tk * (a->C / a->NH) <= ATTENTION_ROWS_MAX_KEY_VALUES;
}

int attention_forward(float *out, float *att, const Attention *a) {
    if (attention_by_rows(a)) {
        attention_forward_rows(out, att, a);
        return 0;
    }
    int B = a->B, Tq = a->Tq, Tk = a->Tk, C = a->C, NH = a->NH, HS = C / NH;
    long q_stride = a->q_stride, kv_stride = a->kv_stride;
    float scale = 1.0f / sqrtf((float)HS);
    // With dropout, each thread's (Tq,Tk) matrix of the probabilities it leaves.
    int threads = omp_get_max_threads();
    float *dropped = a->dropout_keep ? malloc(sizeof(float) * (size_t)threads * (size_t)Tq * (size_t)Tk) : NULL;
    if (a->dropout_keep && !dropped) return -1;
#pragma omp parallel for collapse(2) schedule(dynamic) num_threads(threads)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            const float *query = a->q + (long)b * Tq * q_stride + h * HS;
            const float *key = a->k + (long)b * Tk * kv_stride + h * HS, *value = a->v + (long)b * Tk * kv_stride + h * HS;
            float *probs = att + ((long)b * NH + h) * Tq * Tk;
            // S (Tq,Tk) = Q (Tq,HS) · Kᵀ: B[i][s] = K[s][i]
            gemm(Tq, Tk, HS, query, q_stride, 1, key, 1, kv_stride, probs, Tk, 0);
            for (int t = 0; t < Tq; t++)
                masked_softmax_row(probs + (long)t * Tk, attention_visible(a, t), Tk, scale, padding_of(a, b));
            // O (Tq,HS) = P (Tq,Tk) · V (Tk,HS), P with dropout's zeros and scale
            const float *weights = probs;
            if (dropped) {
                float *mine = dropped + (long)omp_get_thread_num() * Tq * Tk;
                dropout_head(mine, probs, keep_of(a, probs - att), a->dropout_scale, (long)Tq * Tk);
                weights = mine;
            }
            gemm(Tq, HS, Tk, weights, Tk, 1, value, kv_stride, 1, out + (long)b * Tq * C + h * HS, C, 0);
        }
    }
    free(dropped);
    return 0;
}

// Per head, with S, P, O as in the forward and P' = m ∘ P the probabilities dropout leaves (P' = P
// without it):
//   dP = m ∘ (dO Vᵀ),   dV += P'ᵀ dO,   dS = P ∘ (dP - rowsum(P ∘ dP)) / sqrt(HS)   (softmax backward),
//   dQ += dS K,   dK += dSᵀ Q
// Hidden keys have P = 0 and so dS = 0.
int attention_backward(float *d_q, float *d_k, float *d_v, const float *d_out, const float *att, const Attention *a) {
    if (attention_by_rows(a)) {
        attention_backward_rows(d_q, d_k, d_v, d_out, att, a);
        return 0;
    }
    int B = a->B, Tq = a->Tq, Tk = a->Tk, C = a->C, NH = a->NH, HS = C / NH;
    long q_stride = a->q_stride, kv_stride = a->kv_stride;
    float scale = 1.0f / sqrtf((float)HS);
    // dP, then dS in place: one (Tq,Tk) buffer per thread, allocated here rather than inside
    // the parallel region, where a failure could not be reported.
    // With dropout, a second matrix per thread for P'.
    int threads = omp_get_max_threads(), matrices = a->dropout_keep ? 2 : 1;
    float *d_scores = malloc(sizeof(float) * (size_t)(threads * matrices) * (size_t)Tq * (size_t)Tk);
    if (!d_scores) return -1;
#pragma omp parallel for collapse(2) schedule(dynamic) num_threads(threads)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            long q_offset = (long)b * Tq * q_stride + h * HS, kv_offset = (long)b * Tk * kv_stride + h * HS;
            const float *probs = att + ((long)b * NH + h) * Tq * Tk, *weights = probs;
            const unsigned char *keep = keep_of(a, probs - att);
            const float *dy = d_out + (long)b * Tq * C + h * HS;
            float *d_s = d_scores + (long)omp_get_thread_num() * matrices * Tq * Tk;
            if (keep) {
                dropout_head(d_s + (long)Tq * Tk, probs, keep, a->dropout_scale, (long)Tq * Tk);
                weights = d_s + (long)Tq * Tk;
            }
            gemm(Tq, Tk, HS, dy, C, 1, a->v + kv_offset, 1, kv_stride, d_s, Tk, 0);
            gemm(Tk, HS, Tq, weights, 1, Tk, dy, C, 1, d_v + kv_offset, kv_stride, 1);
            for (int t = 0; t < Tq; t++) {
                const float *p = probs + (long)t * Tk;
                float *d = d_s + (long)t * Tk;
                int visible = attention_visible(a, t);
                if (keep)  // dP = m ∘ (dO Vᵀ)
                    for (int s = 0; s < visible; s++) d[s] *= dropout_factor(keep + (long)t * Tk, s, a->dropout_scale);
                float weighted = 0.0f;
                for (int s = 0; s < visible; s++) weighted += p[s] * d[s];
                for (int s = 0; s < visible; s++) d[s] = p[s] * (d[s] - weighted) * scale;
                for (int s = visible; s < Tk; s++) d[s] = 0.0f;
            }
            gemm(Tq, HS, Tk, d_s, Tk, 1, a->k + kv_offset, kv_stride, 1, d_q + q_offset, q_stride, 1);
            gemm(Tk, HS, Tq, d_s, 1, Tk, a->q + q_offset, q_stride, 1, d_k + kv_offset, kv_stride, 1);
        }
    }
    free(d_scores);
    return 0;
}
