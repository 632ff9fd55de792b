// Normalisations over channels: see normalization.h. Sums are in double per channel or group,
// partial sums over one contiguous row (at most one image plane) in float vector lanes.
#include "foundations/normalization.h"

#include <math.h>

#include "foundations/layers.h"

// Loops over fewer values than this run on one thread.
enum { PARALLEL_THRESHOLD = 1 << 15 };

// Σ x over a row in float vector lanes (simd reduction: plain C forbids reordering a float
// sum); callers add rows up in double. Σ (x − m)² in double lanes about the double mean: a
// near-constant channel's deviations are of the size of a float mean's rounding error, so a
// float sum about a float mean is off by percents there (tests/fixtures/resnet's gradients).
static float row_sum(const float *x, long n) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (long i = 0; i < n; i++) sum += x[i];
    return sum;
}

static double row_squared_deviations(const float *x, long n, double m) {
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (long i = 0; i < n; i++) sum += ((double)x[i] - m) * ((double)x[i] - m);
    return sum;
}

// ----------------------------------------------------------------------------
// batch norm per channel over (N, L)

void batchnorm_channels_forward(float *out, float *mean, float *rstd, float *running_mean, float *running_var,
                                const float *inp, const float *weight, const float *bias, int N, int C, long L,
                                int training) {
    long count = (long)N * L;
#pragma omp parallel for if (count * C > PARALLEL_THRESHOLD)
    for (int c = 0; c < C; c++) {
        if (training) {
            double sum = 0.0, squares = 0.0;
            for (int n = 0; n < N; n++) sum += row_sum(inp + ((long)n * C + c) * L, L);
            double m = sum / (double)count;
            for (int n = 0; n < N; n++) squares += row_squared_deviations(inp + ((long)n * C + c) * L, L, m);
            double variance = squares / (double)count, unbiased = count > 1 ? squares / (double)(count - 1) : variance;
            mean[c] = (float)m;
            rstd[c] = (float)(1.0 / sqrt(variance + BATCHNORM_EPS));
            running_mean[c] = (1.0f - BATCHNORM_MOMENTUM) * running_mean[c] + BATCHNORM_MOMENTUM * (float)m;
            running_var[c] = (1.0f - BATCHNORM_MOMENTUM) * running_var[c] + BATCHNORM_MOMENTUM * (float)unbiased;
        } else {
            mean[c] = running_mean[c];
            rstd[c] = 1.0f / sqrtf(running_var[c] + BATCHNORM_EPS);
        }
        // out = x · (weight rstd) + (bias − mean · weight rstd)
        float a = weight[c] * rstd[c], b = bias[c] - mean[c] * a;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((long)n * C + c) * L;
            float *y = out + ((long)n * C + c) * L;
            for (long l = 0; l < L; l++) y[l] = x[l] * a + b;
        }
    }
}

void batchnorm_channels_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                                 const float *weight, const float *mean, const float *rstd, int N, int C, long L,
                                 int training) {
    batchnorm_channels_backward_into(d_inp, d_weight, d_bias, d_out, inp, weight, mean, rstd, N, C, L, training, 1);
}

void batchnorm_channels_backward_into(float *d_inp, float *d_weight, float *d_bias, const float *d_out,
                                      const float *inp, const float *weight, const float *mean, const float *rstd, int N,
                                      int C, long L, int training, int accumulate) {
    long count = (long)N * L;
#pragma omp parallel for if (count * C > PARALLEL_THRESHOLD)
    for (int c = 0; c < C; c++) {
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        float m = mean[c], r = rstd[c];
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((long)n * C + c) * L, *dy = d_out + ((long)n * C + c) * L;
            float partial_dy = 0.0f, partial_dy_xhat = 0.0f;
#pragma omp simd reduction(+ : partial_dy, partial_dy_xhat)
            for (long l = 0; l < L; l++) {
                partial_dy += dy[l];
                partial_dy_xhat += dy[l] * (x[l] - m) * r;
            }
            sum_dy += partial_dy, sum_dy_xhat += partial_dy_xhat;
        }
        d_weight[c] += (float)sum_dy_xhat;
        d_bias[c] += (float)sum_dy;
        float scale = weight[c] * r;
        // training: dx = scale · (dy − mean(dy) − x̂ · mean(dy x̂)); evaluation: dx = scale · dy
        float mean_dy = training ? (float)(sum_dy / (double)count) : 0.0f;
        float mean_dy_xhat = training ? (float)(sum_dy_xhat / (double)count) : 0.0f;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((long)n * C + c) * L, *dy = d_out + ((long)n * C + c) * L;
            float *dx = d_inp + ((long)n * C + c) * L;
            if (accumulate)
                for (long l = 0; l < L; l++) dx[l] += scale * (dy[l] - mean_dy - (x[l] - m) * r * mean_dy_xhat);
            else
                for (long l = 0; l < L; l++) dx[l] = scale * (dy[l] - mean_dy - (x[l] - m) * r * mean_dy_xhat);
        }
    }
}

// ----------------------------------------------------------------------------
// group norm

void groupnorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight, const float *bias,
                       int N, int C, long L, int G) {
    int Cg = C / G;
    long M = (long)Cg * L;
#pragma omp parallel for if ((long)N * C * L > PARALLEL_THRESHOLD)
    for (int ng = 0; ng < N * G; ng++) {
        const float *x = inp + (long)ng * M;
        float *y = out + (long)ng * M;
        double sum = 0.0, squares = 0.0;
        for (int cg = 0; cg < Cg; cg++) sum += row_sum(x + cg * L, L);
        double m = sum / (double)M;
        for (int cg = 0; cg < Cg; cg++) squares += row_squared_deviations(x + cg * L, L, m);
        float r = (float)(1.0 / sqrt(squares / (double)M + GROUPNORM_EPS));
        mean[ng] = (float)m, rstd[ng] = r;
        for (int cg = 0; cg < Cg; cg++) {
            int c = (ng % G) * Cg + cg;
            float w = weight ? weight[c] : 1.0f, b = bias ? bias[c] : 0.0f;
            for (long l = 0; l < L; l++) y[cg * L + l] = (x[cg * L + l] - (float)m) * r * w + b;
        }
    }
}

void groupnorm_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int C, long L, int G) {
    int Cg = C / G;
    long M = (long)Cg * L;
    // the parameters' gradients: one channel per iteration, summed over the samples
#pragma omp parallel for if ((d_weight || d_bias) && (long)N * C * L > PARALLEL_THRESHOLD)
    for (int c = 0; c < C; c++) {
        if (!d_weight && !d_bias) continue;
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int n = 0; n < N; n++) {
            const float *x = inp + ((long)n * C + c) * L, *dy = d_out + ((long)n * C + c) * L;
            float m = mean[n * G + c / Cg], r = rstd[n * G + c / Cg];
            for (long l = 0; l < L; l++) sum_dy += dy[l], sum_dy_xhat += dy[l] * (x[l] - m) * r;
        }
        if (d_weight) d_weight[c] += (float)sum_dy_xhat;
        if (d_bias) d_bias[c] += (float)sum_dy;
    }
#pragma omp parallel for if ((long)N * C * L > PARALLEL_THRESHOLD)
    for (int ng = 0; ng < N * G; ng++) {
        const float *x = inp + (long)ng * M, *dy = d_out + (long)ng * M;
        float *dx = d_inp + (long)ng * M, m = mean[ng], r = rstd[ng];
        double sum_g = 0.0, sum_g_xhat = 0.0;
        for (int cg = 0; cg < Cg; cg++) {
            float w = weight ? weight[(ng % G) * Cg + cg] : 1.0f;
            for (long l = 0; l < L; l++) {
                float g = dy[cg * L + l] * w;
                sum_g += g, sum_g_xhat += g * (x[cg * L + l] - m) * r;
            }
        }
        float mean_g = (float)(sum_g / (double)M), mean_g_xhat = (float)(sum_g_xhat / (double)M);
        for (int cg = 0; cg < Cg; cg++) {
            float w = weight ? weight[(ng % G) * Cg + cg] : 1.0f;
            for (long l = 0; l < L; l++) {
                long i = cg * L + l;
                dx[i] += r * (dy[i] * w - mean_g - (x[i] - m) * r * mean_g_xhat);
            }
        }
    }
}

// ----------------------------------------------------------------------------
// local response norm

// s^(−β) for s > 0. β = 3/4 (AlexNet's) as 1/(√s·⁴√s), which vectorises; powf otherwise.
static inline float inverse_power(float s, float beta) {
    if (beta == 0.75f) return 1.0f / (sqrtf(s) * sqrtf(sqrtf(s)));
    return powf(s, -beta);
}

void local_response_norm_forward(float *out, float *scale, const float *inp, int N, int C, long L, int size, float alpha,
                                 float beta, float k) {
    int before = size / 2, after = (size - 1) / 2;
    float a = alpha / (float)size;
#pragma omp parallel for collapse(2) if ((long)N * C * L * size > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            float *s = scale + ((long)n * C + c) * L, *y = out + ((long)n * C + c) * L;
            const float *x = inp + ((long)n * C + c) * L;
            for (long l = 0; l < L; l++) s[l] = 0.0f;
            for (int other = c - before; other <= c + after; other++) {
                if (other < 0 || other >= C) continue;
                const float *xo = inp + ((long)n * C + other) * L;
                for (long l = 0; l < L; l++) s[l] += xo[l] * xo[l];
            }
            for (long l = 0; l < L; l++) s[l] = k + a * s[l];
            for (long l = 0; l < L; l++) y[l] = x[l] * inverse_power(s[l], beta);
        }
}

void local_response_norm_backward(float *d_inp, const float *d_out, const float *inp, const float *out,
                                  const float *scale, int N, int C, long L, int size, float alpha, float beta) {
    int before = size / 2, after = (size - 1) / 2;
    float factor = 2.0f * alpha * beta / (float)size;
    // Channel j is in the window of channels j − after .. j + before. Rows along l are
    // contiguous, so each window channel's term is added as a whole row.
#pragma omp parallel for collapse(2) if ((long)N * C * L * size > PARALLEL_THRESHOLD)
    for (int n = 0; n < N; n++)
        for (int j = 0; j < C; j++) {
            long at = ((long)n * C + j) * L;
            float *dx = d_inp + at;
            const float *x = inp + at, *dy = d_out + at, *s = scale + at;
            for (long l = 0; l < L; l++) dx[l] += dy[l] * inverse_power(s[l], beta);
            for (int c = j - after; c <= j + before; c++) {
                if (c < 0 || c >= C) continue;
                long i = ((long)n * C + c) * L;
                const float *dyc = d_out + i, *yc = out + i, *sc = scale + i;
                for (long l = 0; l < L; l++) dx[l] -= factor * x[l] * (dyc[l] * yc[l] / sc[l]);
            }
        }
}
