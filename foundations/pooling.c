// Pooling and up-sampling: see pooling.h. The planes are independent, so the loops over them
// are split over threads; within a backward a plane's gradient is written by one thread only.
#include "foundations/pooling.h"

#include <math.h>

#include "foundations/convolution.h"

// Loops over fewer values than this run on one thread.
enum { PARALLEL_THRESHOLD = 1 << 15 };

int pool_output_size(int size, int kernel, int stride, int padding) {
    if (size < 1 || kernel < 1 || stride < 1 || padding < 0 || (long)size + 2L * padding < kernel) return 0;
    return (int)(((long)size + 2L * padding - kernel) / stride + 1);
}

// ----------------------------------------------------------------------------
// max pooling

// A row of outputs at a time, so that the innermost loop runs along it (in vector lanes): for
// each row h and column kw of the window in turn, every output of the row compares its value
// there with its best so far. Each output still sees its window in row-major order.
void max_pool2d_forward(float *out, int *argmax, const float *inp, int P, int H, int W, int kernel, int stride,
                        int padding) {
    int OH = pool_output_size(H, kernel, stride, padding), OW = pool_output_size(W, kernel, stride, padding);
#pragma omp parallel for if ((long)P * OH * OW * kernel * kernel > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++) {
        const float *x = inp + (long)p * H * W;
        for (int i = 0; i < OH; i++) {
            float *best = out + ((long)p * OH + i) * OW;
            int *where = argmax + ((long)p * OH + i) * OW;
            int h0 = i * stride - padding, h1 = h0 + kernel;
            h0 = h0 < 0 ? 0 : h0, h1 = h1 > H ? H : h1;
            for (int j = 0; j < OW; j++) {  // PyTorch's start: −∞ at the window's first pixel
                int w0 = j * stride - padding;
                best[j] = -INFINITY, where[j] = h0 < h1 && w0 + kernel > 0 ? h0 * W + (w0 < 0 ? 0 : w0) : -1;
            }
            for (int h = h0; h < h1; h++)
                for (int kw = 0; kw < kernel; kw++) {
                    int offset = kw - padding, first, end;
                    columns_inside(offset, stride, W, OW, &first, &end);
                    const float *row = x + (long)h * W + offset;
                    // '>' keeps the first maximum; a NaN wins, as in PyTorch (it propagates)
#pragma omp simd
                    for (int j = first; j < end; j++) {
                        float v = row[(long)j * stride];
                        int better = v > best[j] || v != v;
                        best[j] = better ? v : best[j];
                        where[j] = better ? h * W + j * stride + offset : where[j];
                    }
                }
        }
    }
}

void max_pool2d_backward(float *d_inp, const float *d_out, const int *argmax, int P, int H, int W, int OH, int OW) {
#pragma omp parallel for if ((long)P * OH * OW > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++) {
        float *dx = d_inp + (long)p * H * W;
        const float *dy = d_out + (long)p * OH * OW;
        const int *where = argmax + (long)p * OH * OW;
        for (long o = 0; o < (long)OH * OW; o++)
            if (where[o] >= 0) dx[where[o]] += dy[o];
    }
}

// ----------------------------------------------------------------------------
// average pooling

void avg_pool2d_forward(float *out, const float *inp, int P, int H, int W, int kernel, int stride, int padding) {
    int OH = pool_output_size(H, kernel, stride, padding), OW = pool_output_size(W, kernel, stride, padding);
    float scale = 1.0f / (float)(kernel * kernel);
#pragma omp parallel for if ((long)P * OH * OW * kernel * kernel > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++) {
        const float *x = inp + (long)p * H * W;
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++) {
                float sum = 0.0f;
                for (int h = i * stride - padding; h < i * stride - padding + kernel; h++)
                    for (int w = j * stride - padding; w < j * stride - padding + kernel; w++)
                        if (h >= 0 && h < H && w >= 0 && w < W) sum += x[h * W + w];
                out[((long)p * OH + i) * OW + j] = sum * scale;
            }
    }
}

// out = (1/k²) Σ_window x: each input in the window receives d out / k²
void avg_pool2d_backward(float *d_inp, const float *d_out, int P, int H, int W, int kernel, int stride, int padding) {
    int OH = pool_output_size(H, kernel, stride, padding), OW = pool_output_size(W, kernel, stride, padding);
    float scale = 1.0f / (float)(kernel * kernel);
#pragma omp parallel for if ((long)P * OH * OW * kernel * kernel > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++) {
        float *dx = d_inp + (long)p * H * W;
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++) {
                float g = d_out[((long)p * OH + i) * OW + j] * scale;
                for (int h = i * stride - padding; h < i * stride - padding + kernel; h++)
                    for (int w = j * stride - padding; w < j * stride - padding + kernel; w++)
                        if (h >= 0 && h < H && w >= 0 && w < W) dx[h * W + w] += g;
            }
    }
}

// ----------------------------------------------------------------------------
// adaptive average pooling

// Output cell i of OH over H input rows: rows [*start, *end).
static void adaptive_range(int i, int H, int OH, int *start, int *end) {
    *start = (int)((long)i * H / OH);
    *end = (int)(((long)(i + 1) * H + OH - 1) / OH);
}

void adaptive_avg_pool2d_forward(float *out, const float *inp, int P, int H, int W, int OH, int OW) {
#pragma omp parallel for if ((long)P * H * W > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++) {
        const float *x = inp + (long)p * H * W;
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++) {
                int h0, h1, w0, w1;
                adaptive_range(i, H, OH, &h0, &h1);
                adaptive_range(j, W, OW, &w0, &w1);
                float sum = 0.0f;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) sum += x[h * W + w];
                out[((long)p * OH + i) * OW + j] = sum / (float)((h1 - h0) * (w1 - w0));
            }
    }
}

void adaptive_avg_pool2d_backward(float *d_inp, const float *d_out, int P, int H, int W, int OH, int OW) {
#pragma omp parallel for if ((long)P * H * W > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++) {
        float *dx = d_inp + (long)p * H * W;
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++) {
                int h0, h1, w0, w1;
                adaptive_range(i, H, OH, &h0, &h1);
                adaptive_range(j, W, OW, &w0, &w1);
                float g = d_out[((long)p * OH + i) * OW + j] / (float)((h1 - h0) * (w1 - w0));
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) dx[h * W + w] += g;
            }
    }
}

// ----------------------------------------------------------------------------
// up-sampling

void upsample_nearest2d_forward(float *out, const float *inp, int P, int H, int W, int scale) {
    int OH = H * scale, OW = W * scale;
#pragma omp parallel for if ((long)P * OH * OW > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++)
        for (int i = 0; i < OH; i++) {
            const float *row = inp + ((long)p * H + i / scale) * W;
            float *to = out + ((long)p * OH + i) * OW;
            for (int j = 0; j < OW; j++) to[j] = row[j / scale];
        }
}

void upsample_nearest2d_backward(float *d_inp, const float *d_out, int P, int H, int W, int scale) {
    int OH = H * scale, OW = W * scale;
#pragma omp parallel for if ((long)P * OH * OW > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++)
        for (int i = 0; i < OH; i++) {
            float *row = d_inp + ((long)p * H + i / scale) * W;
            const float *from = d_out + ((long)p * OH + i) * OW;
            for (int j = 0; j < OW; j++) row[j / scale] += from[j];
        }
}

// Source pixels and weights of output index i of OUT along an axis of IN input pixels.
typedef struct Lerp {
    int first, second;
    float weight_first, weight_second;
} Lerp;

static Lerp bilinear_source(int i, int IN, int OUT, int scale, int align_corners) {
    float source;
    if (align_corners) source = OUT > 1 ? (float)i * (float)(IN - 1) / (float)(OUT - 1) : 0.0f;
    else {
        source = ((float)i + 0.5f) / (float)scale - 0.5f;
        if (source < 0.0f) source = 0.0f;
    }
    Lerp l;
    l.first = (int)source;
    if (l.first > IN - 1) l.first = IN - 1;
    l.second = l.first < IN - 1 ? l.first + 1 : l.first;
    l.weight_second = source - (float)l.first;
    l.weight_first = 1.0f - l.weight_second;
    return l;
}

void upsample_bilinear2d_forward(float *out, const float *inp, int P, int H, int W, int scale, int align_corners) {
    int OH = H * scale, OW = W * scale;
#pragma omp parallel for if ((long)P * OH * OW > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++) {
        const float *x = inp + (long)p * H * W;
        for (int i = 0; i < OH; i++) {
            Lerp y = bilinear_source(i, H, OH, scale, align_corners);
            for (int j = 0; j < OW; j++) {
                Lerp t = bilinear_source(j, W, OW, scale, align_corners);
                out[((long)p * OH + i) * OW + j] =
                    y.weight_first * (t.weight_first * x[y.first * W + t.first] + t.weight_second * x[y.first * W + t.second]) +
                    y.weight_second * (t.weight_first * x[y.second * W + t.first] + t.weight_second * x[y.second * W + t.second]);
            }
        }
    }
}

// Each output spreads its gradient over its four sources with the same weights.
void upsample_bilinear2d_backward(float *d_inp, const float *d_out, int P, int H, int W, int scale, int align_corners) {
    int OH = H * scale, OW = W * scale;
#pragma omp parallel for if ((long)P * OH * OW > PARALLEL_THRESHOLD)
    for (int p = 0; p < P; p++) {
        float *dx = d_inp + (long)p * H * W;
        for (int i = 0; i < OH; i++) {
            Lerp y = bilinear_source(i, H, OH, scale, align_corners);
            for (int j = 0; j < OW; j++) {
                Lerp t = bilinear_source(j, W, OW, scale, align_corners);
                float g = d_out[((long)p * OH + i) * OW + j];
                dx[y.first * W + t.first] += g * y.weight_first * t.weight_first;
                dx[y.first * W + t.second] += g * y.weight_first * t.weight_second;
                dx[y.second * W + t.first] += g * y.weight_second * t.weight_first;
                dx[y.second * W + t.second] += g * y.weight_second * t.weight_second;
            }
        }
    }
}
