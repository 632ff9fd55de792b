// Convolution by im2col and the matrix multiply: see convolution.h.
#include "foundations/convolution.h"

#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "foundations/matmul.h"

int conv2d_shape(Convolution *conv) {
    Convolution *c = conv;
    if (c->N < 1 || c->C < 1 || c->H < 1 || c->W < 1 || c->OC < 1 || c->KH < 1 || c->KW < 1 || c->stride < 1 ||
        c->padding < 0 || c->dilation < 1 || c->groups < 1 || c->C % c->groups || c->OC % c->groups)
        return -1;
    long span_h = (long)c->dilation * (c->KH - 1) + 1, span_w = (long)c->dilation * (c->KW - 1) + 1;
    long padded_h = (long)c->H + 2L * c->padding, padded_w = (long)c->W + 2L * c->padding;
    if (span_h > padded_h || span_w > padded_w) return -1;
    c->OH = (int)((padded_h - span_h) / c->stride + 1);
    c->OW = (int)((padded_w - span_w) / c->stride + 1);
    return 0;
}

// The output columns j whose input column j·s + offset lies in [0, W): [*first, *end).
static void valid_range(int offset, int stride, int W, int OW, int *first, int *end) {
    int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int hi = W - 1 - offset < 0 ? 0 : (W - 1 - offset) / stride + 1;
    *first = lo < OW ? lo : OW;
    *end = hi < OW ? hi : OW;
    if (*end < *first) *end = *first;
}

void im2col(float *col, const float *image, int C, const Convolution *conv) {
    int H = conv->H, W = conv->W, OH = conv->OH, OW = conv->OW, s = conv->stride, d = conv->dilation, p = conv->padding;
    long OHW = (long)OH * OW;
    for (int c = 0; c < C; c++)
        for (int ki = 0; ki < conv->KH; ki++)
            for (int kj = 0; kj < conv->KW; kj++) {
                float *row = col + ((long)(c * conv->KH + ki) * conv->KW + kj) * OHW;
                int offset = kj * d - p, first, end;
                valid_range(offset, s, W, OW, &first, &end);
                for (int i = 0; i < OH; i++) {
                    float *to = row + (long)i * OW;
                    int h = i * s + ki * d - p;
                    if (h < 0 || h >= H) {
                        memset(to, 0, sizeof(float) * (size_t)OW);
                        continue;
                    }
                    const float *from = image + ((long)c * H + h) * W + offset;
                    for (int j = 0; j < first; j++) to[j] = 0.0f;
                    if (s == 1) memcpy(to + first, from + first, sizeof(float) * (size_t)(end - first));
                    else
                        for (int j = first; j < end; j++) to[j] = from[(long)j * s];
                    for (int j = end; j < OW; j++) to[j] = 0.0f;
                }
            }
}

void col2im(float *image, const float *col, int C, const Convolution *conv) {
    int H = conv->H, W = conv->W, OH = conv->OH, OW = conv->OW, s = conv->stride, d = conv->dilation, p = conv->padding;
    long OHW = (long)OH * OW;
    for (int c = 0; c < C; c++)
        for (int ki = 0; ki < conv->KH; ki++)
            for (int kj = 0; kj < conv->KW; kj++) {
                const float *row = col + ((long)(c * conv->KH + ki) * conv->KW + kj) * OHW;
                int offset = kj * d - p, first, end;
                valid_range(offset, s, W, OW, &first, &end);
                for (int i = 0; i < OH; i++) {
                    int h = i * s + ki * d - p;
                    if (h < 0 || h >= H) continue;
                    const float *from = row + (long)i * OW;
                    float *to = image + ((long)c * H + h) * W + offset;
                    if (s == 1)
                        for (int j = first; j < end; j++) to[j] += from[j];
                    else
                        for (int j = first; j < end; j++) to[(long)j * s] += from[j];
                }
            }
}

// ----------------------------------------------------------------------------
// the products, image by image

// A 1×1 kernel at stride 1 without padding needs no column matrix: col is the image itself.
static int is_pointwise(const Convolution *c) { return c->KH == 1 && c->KW == 1 && c->stride == 1 && c->padding == 0; }

// Threads for a loop over n images: one per image up to the team's size, none inside a
// parallel region; a single image leaves the threads to the matrix multiply.
static int image_threads(int n) {
    if (omp_in_parallel() || n < 2) return 1;
    int threads = omp_get_max_threads();
    return threads < n ? threads : n;
}

// out (N,OC,OH,OW) (+)= the convolution of inp; the forward, and the transposed one's input gradient.
static int forward_into(float *out, const float *inp, const float *weight, const float *bias, const Convolution *c,
                        int accumulate) {
    int G = c->groups, Cg = c->C / G, OCg = c->OC / G, pointwise = is_pointwise(c);
    long HW = (long)c->H * c->W, OHW = (long)c->OH * c->OW, depth = (long)Cg * c->KH * c->KW;
    int threads = image_threads(c->N);
    float *cols = pointwise ? NULL : malloc(sizeof(float) * (size_t)(threads * depth * OHW));
    if (!pointwise && !cols) return -1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int n = 0; n < c->N; n++) {
        float *col = pointwise ? NULL : cols + omp_get_thread_num() * depth * OHW;
        for (int g = 0; g < G; g++) {
            const float *x = inp + ((long)n * c->C + (long)g * Cg) * HW;
            float *y = out + ((long)n * c->OC + (long)g * OCg) * OHW;
            if (!pointwise) im2col(col, x, Cg, c);
            gemm(OCg, (int)OHW, (int)depth, weight + (long)g * OCg * depth, depth, 1, pointwise ? x : col, OHW, 1, y,
                 OHW, accumulate);
            for (int o = 0; bias && o < OCg; o++) {
                float b = bias[g * OCg + o];
                for (long i = 0; i < OHW; i++) y[(long)o * OHW + i] += b;
            }
        }
    }
    free(cols);
    return 0;
}

// d_inp (N,C,H,W) += the input gradient through d_out: d col = weightᵀ · d out, then col2im.
static int input_gradient(float *d_inp, const float *d_out, const float *weight, const Convolution *c) {
    int G = c->groups, Cg = c->C / G, OCg = c->OC / G, pointwise = is_pointwise(c);
    long HW = (long)c->H * c->W, OHW = (long)c->OH * c->OW, depth = (long)Cg * c->KH * c->KW;
    int threads = image_threads(c->N);
    float *cols = pointwise ? NULL : malloc(sizeof(float) * (size_t)(threads * depth * OHW));
    if (!pointwise && !cols) return -1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int n = 0; n < c->N; n++) {
        float *d_col = pointwise ? NULL : cols + omp_get_thread_num() * depth * OHW;
        for (int g = 0; g < G; g++) {
            const float *dy = d_out + ((long)n * c->OC + (long)g * OCg) * OHW;
            float *dx = d_inp + ((long)n * c->C + (long)g * Cg) * HW;
            const float *w = weight + (long)g * OCg * depth;
            // weightᵀ (depth, OCg): element (i, k) is w[k·depth + i]
            if (pointwise) {
                gemm((int)depth, (int)OHW, OCg, w, 1, depth, dy, OHW, 1, dx, OHW, 1);
                continue;
            }
            gemm((int)depth, (int)OHW, OCg, w, 1, depth, dy, OHW, 1, d_col, OHW, 0);
            col2im(dx, d_col, Cg, c);
        }
    }
    free(cols);
    return 0;
}

// d_weight (OC, C/groups, KH, KW) += Σ_n d out_n · col_nᵀ, each thread summing its images
// into its own copy, the copies added at the end.
static int weight_gradient(float *d_weight, const float *d_out, const float *inp, const Convolution *c) {
    int G = c->groups, Cg = c->C / G, OCg = c->OC / G, pointwise = is_pointwise(c);
    long HW = (long)c->H * c->W, OHW = (long)c->OH * c->OW, depth = (long)Cg * c->KH * c->KW;
    long weight_size = (long)c->OC * depth;
    int threads = image_threads(c->N);
    float *cols = pointwise ? NULL : malloc(sizeof(float) * (size_t)(threads * depth * OHW));
    float *partial = threads > 1 ? calloc((size_t)(threads * weight_size), sizeof(float)) : NULL;
    if ((!pointwise && !cols) || (threads > 1 && !partial)) {
        free(cols), free(partial);
        return -1;
    }
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int n = 0; n < c->N; n++) {
        int t = omp_get_thread_num();
        float *col = pointwise ? NULL : cols + t * depth * OHW, *dw = threads > 1 ? partial + t * weight_size : d_weight;
        for (int g = 0; g < G; g++) {
            const float *x = inp + ((long)n * c->C + (long)g * Cg) * HW;
            const float *dy = d_out + ((long)n * c->OC + (long)g * OCg) * OHW;
            if (!pointwise) im2col(col, x, Cg, c);
            // colᵀ (OHW, depth): element (k, j) is col[j·OHW + k]
            gemm(OCg, (int)depth, (int)OHW, dy, OHW, 1, pointwise ? x : col, 1, OHW, dw + (long)g * OCg * depth, depth, 1);
        }
    }
    for (int t = 0; t < threads && partial; t++)
        for (long i = 0; i < weight_size; i++) d_weight[i] += partial[t * weight_size + i];
    free(cols);
    free(partial);
    return 0;
}

void channel_sums(float *sums, const float *x, int N, int C, long L) {
    for (int c = 0; c < C; c++) {
        double sum = 0.0;
        for (int n = 0; n < N; n++) {
            const float *row = x + ((long)n * C + c) * L;
            float partial = 0.0f;
            for (long i = 0; i < L; i++) partial += row[i];
            sum += partial;
        }
        sums[c] += (float)sum;
    }
}

int conv2d_forward(float *out, const float *inp, const float *weight, const float *bias, const Convolution *conv) {
    return forward_into(out, inp, weight, bias, conv, 0);
}

int conv2d_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                    const float *weight, const Convolution *conv) {
    if (d_weight && weight_gradient(d_weight, d_out, inp, conv)) return -1;
    if (d_inp && input_gradient(d_inp, d_out, weight, conv)) return -1;
    if (d_bias) channel_sums(d_bias, d_out, conv->N, conv->OC, (long)conv->OH * conv->OW);
    return 0;
}

int conv_transpose2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                             const Convolution *conv) {
    long HW = (long)conv->H * conv->W;
    memset(out, 0, sizeof(float) * (size_t)((long)conv->N * conv->C * HW));
    if (input_gradient(out, inp, weight, conv)) return -1;
    for (int n = 0; bias && n < conv->N; n++)
        for (int c = 0; c < conv->C; c++) {
            float *plane = out + ((long)n * conv->C + c) * HW;
            for (long i = 0; i < HW; i++) plane[i] += bias[c];
        }
    return 0;
}

int conv_transpose2d_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                              const float *weight, const Convolution *conv) {
    // The transposed convolution's input plays the convolution's output gradient, and its
    // output gradient the convolution's input.
    if (d_weight && weight_gradient(d_weight, inp, d_out, conv)) return -1;
    if (d_inp && forward_into(d_inp, d_out, weight, NULL, conv, 1)) return -1;
    if (d_bias) channel_sums(d_bias, d_out, conv->N, conv->C, (long)conv->H * conv->W);
    return 0;
}

void conv2d_forward_reference(float *out, const float *inp, const float *weight, const float *bias,
                              const Convolution *c) {
    int Cg = c->C / c->groups, OCg = c->OC / c->groups;
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->OC; o++)
            for (int i = 0; i < c->OH; i++)
                for (int j = 0; j < c->OW; j++) {
                    double sum = bias ? bias[o] : 0.0;
                    int g = o / OCg;
                    for (int ci = 0; ci < Cg; ci++)
                        for (int ki = 0; ki < c->KH; ki++)
                            for (int kj = 0; kj < c->KW; kj++) {
                                int h = i * c->stride + ki * c->dilation - c->padding;
                                int w = j * c->stride + kj * c->dilation - c->padding;
                                if (h < 0 || h >= c->H || w < 0 || w >= c->W) continue;
                                sum += (double)weight[(((long)o * Cg + ci) * c->KH + ki) * c->KW + kj] *
                                       inp[(((long)n * c->C + g * Cg + ci) * c->H + h) * c->W + w];
                            }
                    out[(((long)n * c->OC + o) * c->OH + i) * c->OW + j] = (float)sum;
                }
}
