// Elementwise arithmetic with broadcasting, pointwise functions, axis reductions, strided
// copies: see elementwise.h. The loops are plain; the compiler vectorises the inner ones.
#include "foundations/elementwise.h"

#include <math.h>
#include <string.h>

enum { D = ELEMENTWISE_MAX_DIMS };
#define PARALLEL_THRESHOLD 32768

// Strides of a contiguous shape (dims of them) aligned to the right of D output dimensions,
// 0 where the size is 1 and the output's is not (a repeated dimension).
static void broadcast_strides(long *stride, const int *shape, int dims) {
    long s = 1;
    for (int d = D - 1; d >= 0; d--) {
        int k = d - (D - dims);  // index into shape, negative when missing
        int size = k >= 0 ? shape[k] : 1;
        stride[d] = size == 1 ? 0 : s;
        s *= size;
    }
}

int broadcast_plan(Broadcast *plan, const int *a_shape, int a_dims, const int *b_shape, int b_dims, int *out_shape,
                   int *out_dims) {
    if (a_dims > D || b_dims > D || a_dims < 0 || b_dims < 0) return -1;
    memset(plan, 0, sizeof *plan);
    int rank = a_dims > b_dims ? a_dims : b_dims;
    plan->same_shape = a_dims == b_dims;
    plan->size = 1;
    for (int d = 0; d < D; d++) {
        int ka = d - (D - a_dims), kb = d - (D - b_dims);
        int sa = ka >= 0 ? a_shape[ka] : 1, sb = kb >= 0 ? b_shape[kb] : 1;
        if (sa != sb && sa != 1 && sb != 1) return -1;
        if (sa != sb) plan->same_shape = 0;
        plan->shape[d] = sa > sb ? sa : sb;
        if (sa == 0 || sb == 0) plan->shape[d] = 0;
        plan->size *= plan->shape[d];
    }
    broadcast_strides(plan->a_stride, a_shape, a_dims);
    broadcast_strides(plan->b_stride, b_shape, b_dims);
    for (int d = 0; d < rank; d++) out_shape[d] = plan->shape[D - rank + d];
    *out_dims = rank;
    return 0;
}

static inline float apply(BinaryOp op, float a, float b) {
    switch (op) {
    case BINARY_ADD: return a + b;
    case BINARY_SUB: return a - b;
    case BINARY_MUL: return a * b;
    case BINARY_DIV: return a / b;
    }
    return 0.0f;
}

// The output is walked as rows of its last dimension; row r starts at a[*ao] and b[*bo].
static void row_offsets(const Broadcast *plan, long r, long *ao, long *bo) {
    const int *s = plan->shape;
    long index[4] = {r / s[3] / s[2] / s[1], r / s[3] / s[2] % s[1], r / s[3] % s[2], r % s[3]};
    *ao = *bo = 0;
    for (int d = 0; d < 4; d++) *ao += index[d] * plan->a_stride[d], *bo += index[d] * plan->b_stride[d];
}

void binary_forward(float *out, const float *a, const float *b, BinaryOp op, const Broadcast *plan) {
    if (plan->same_shape) {
        long n = plan->size;
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++) out[i] = apply(op, a[i], b[i]);
        return;
    }
    long n = plan->shape[4], rows = n ? plan->size / n : 0, sa = plan->a_stride[4], sb = plan->b_stride[4];
#pragma omp parallel for if (plan->size > PARALLEL_THRESHOLD)
    for (long r = 0; r < rows; r++) {
        long ao, bo, oo = r * n;
        row_offsets(plan, r, &ao, &bo);
        for (long j = 0; j < n; j++) out[oo + j] = apply(op, a[ao + j * sa], b[bo + j * sb]);
    }
}

void binary_backward(float *d_a, float *d_b, const float *d_out, const float *a, const float *b, BinaryOp op,
                     const Broadcast *plan) {
    if (plan->same_shape) {
        long n = plan->size;
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++) {
            float g = d_out[i];
            switch (op) {
            case BINARY_ADD: if (d_a) d_a[i] += g; if (d_b) d_b[i] += g; break;
            case BINARY_SUB: if (d_a) d_a[i] += g; if (d_b) d_b[i] -= g; break;
            case BINARY_MUL: if (d_a) d_a[i] += g * b[i]; if (d_b) d_b[i] += g * a[i]; break;
            case BINARY_DIV: if (d_a) d_a[i] += g / b[i]; if (d_b) d_b[i] -= g * a[i] / (b[i] * b[i]); break;
            }
        }
        return;
    }
    // Repeated elements receive several contributions: one thread, in order, so the sums are
    // the same on every run.
    long n = plan->shape[4], rows = n ? plan->size / n : 0, sa = plan->a_stride[4], sb = plan->b_stride[4];
    for (long r = 0; r < rows; r++) {
        long ao, bo, oo = r * n;
        row_offsets(plan, r, &ao, &bo);
        for (long j = 0; j < n; j++) {
            float g = d_out[oo + j], x = a[ao + j * sa], y = b[bo + j * sb];
            float ga = 0.0f, gb = 0.0f;
            switch (op) {
            case BINARY_ADD: ga = g, gb = g; break;
            case BINARY_SUB: ga = g, gb = -g; break;
            case BINARY_MUL: ga = g * y, gb = g * x; break;
            case BINARY_DIV: ga = g / y, gb = -g * x / (y * y); break;
            }
            if (d_a) d_a[ao + j * sa] += ga;
            if (d_b) d_b[bo + j * sb] += gb;
        }
    }
}

// ----------------------------------------------------------------------------
// pointwise functions

void pointwise_forward(float *out, const float *x, long n, PointwiseOp op, float alpha) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float v = x[i], y = 0.0f;
        switch (op) {
        case POINTWISE_NEG: y = -v; break;
        case POINTWISE_EXP: y = expf(v); break;
        case POINTWISE_LOG: y = logf(v); break;
        case POINTWISE_SQRT: y = sqrtf(v); break;
        case POINTWISE_ABS: y = fabsf(v); break;
        case POINTWISE_POW: y = powf(v, alpha); break;
        case POINTWISE_LEAKY_RELU: y = v > 0.0f ? v : alpha * v; break;
        // log(1 + e^x) = max(x, 0) + log1p(e^(-|x|)): no overflow for large x
        case POINTWISE_SOFTPLUS: y = v > 20.0f ? v : fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v))); break;
        }
        out[i] = y;
    }
}

void pointwise_backward(float *d_x, const float *d_out, const float *x, const float *y, long n, PointwiseOp op,
                        float alpha) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float v = x[i], g = d_out[i], d = 0.0f;
        switch (op) {
        case POINTWISE_NEG: d = -g; break;
        case POINTWISE_EXP: d = g * y[i]; break;
        case POINTWISE_LOG: d = g / v; break;
        case POINTWISE_SQRT: d = g / (2.0f * y[i]); break;
        case POINTWISE_ABS: d = v > 0.0f ? g : v < 0.0f ? -g : 0.0f; break;
        case POINTWISE_POW: d = g * alpha * powf(v, alpha - 1.0f); break;
        case POINTWISE_LEAKY_RELU: d = v > 0.0f ? g : alpha * g; break;
        case POINTWISE_SOFTPLUS: d = v > 20.0f ? g : g / (1.0f + expf(-v)); break;
        }
        d_x[i] += d;
    }
}

// ----------------------------------------------------------------------------
// reductions over the middle axis of (outer, n, inner)

void sum_axis_forward(float *out, const float *x, long outer, long n, long inner) {
#pragma omp parallel for if (outer * n * inner > PARALLEL_THRESHOLD && outer > 1)
    for (long o = 0; o < outer; o++) {
        float *row = out + o * inner;
        for (long j = 0; j < inner; j++) row[j] = 0.0f;
        for (long i = 0; i < n; i++) {
            const float *in = x + (o * n + i) * inner;
            for (long j = 0; j < inner; j++) row[j] += in[j];
        }
    }
}

void sum_axis_backward(float *d_x, const float *d_out, long outer, long n, long inner) {
#pragma omp parallel for if (outer * n * inner > PARALLEL_THRESHOLD && outer > 1)
    for (long o = 0; o < outer; o++)
        for (long i = 0; i < n; i++) {
            float *d = d_x + (o * n + i) * inner;
            const float *g = d_out + o * inner;
            for (long j = 0; j < inner; j++) d[j] += g[j];
        }
}

void max_axis_forward(float *out, int *argmax, const float *x, long outer, long n, long inner) {
    for (long o = 0; o < outer; o++)
        for (long j = 0; j < inner; j++) {
            const float *in = x + o * n * inner + j;
            int best = 0;
            for (long i = 1; i < n; i++)
                if (in[i * inner] > in[best * inner]) best = (int)i;
            out[o * inner + j] = in[(long)best * inner];
            argmax[o * inner + j] = best;
        }
}

void max_axis_backward(float *d_x, const float *d_out, const int *argmax, long outer, long n, long inner) {
    for (long o = 0; o < outer; o++)
        for (long j = 0; j < inner; j++) d_x[(o * n + argmax[o * inner + j]) * inner + j] += d_out[o * inner + j];
}

// ----------------------------------------------------------------------------
// strided copies

void strided_copy(float *out, const float *in, const int *shape, const long *in_stride, int accumulate) {
    long rows = (long)shape[0] * shape[1] * shape[2] * shape[3], n = shape[4];
#pragma omp parallel for if (rows * n > PARALLEL_THRESHOLD)
    for (long r = 0; r < rows; r++) {
        long i3 = r % shape[3], i2 = r / shape[3] % shape[2], i1 = r / shape[3] / shape[2] % shape[1],
             i0 = r / shape[3] / shape[2] / shape[1];
        const float *src = in + i0 * in_stride[0] + i1 * in_stride[1] + i2 * in_stride[2] + i3 * in_stride[3];
        float *dst = out + r * n;
        long s = in_stride[4];
        if (accumulate)
            for (long j = 0; j < n; j++) dst[j] += src[j * s];
        else
            for (long j = 0; j < n; j++) dst[j] = src[j * s];
    }
}

void strided_scatter_add(float *d_in, const float *d_out, const int *shape, const long *in_stride) {
    long rows = (long)shape[0] * shape[1] * shape[2] * shape[3], n = shape[4];
    // Distinct targets (a permutation or a slice): rows can go to threads in any order.
#pragma omp parallel for if (rows * n > PARALLEL_THRESHOLD)
    for (long r = 0; r < rows; r++) {
        long i3 = r % shape[3], i2 = r / shape[3] % shape[2], i1 = r / shape[3] / shape[2] % shape[1],
             i0 = r / shape[3] / shape[2] / shape[1];
        float *dst = d_in + i0 * in_stride[0] + i1 * in_stride[1] + i2 * in_stride[2] + i3 * in_stride[3];
        const float *src = d_out + r * n;
        long s = in_stride[4];
        for (long j = 0; j < n; j++) dst[j * s] += src[j];
    }
}
