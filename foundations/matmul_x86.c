// The matmul's kernels for x86 vector extensions: AVX2 with FMA (Haswell and later, AMD Zen)
// and AVX-512 (Skylake-X and later Xeons, Zen 4). Each function is compiled for its
// instruction set through a target attribute, whatever the flags of the build, and is only
// called after the CPU said it has that set (matmul.c chooses at run time), so one binary runs
// the best kernel on every machine.
//
// The block of C stays in registers for the whole depth: per step k, the kernel loads one row
// of the packed B panel (kernel_cols floats) and, for each of the kernel_rows rows, broadcasts
// one value of A and does one fused multiply-add per vector of that row:
//   C[r][c] += A[r][k] · B[k][c].
// The sizes fill the register file: AVX2 has 16 ymm registers (6 x 2 sums + 2 of B + 1),
// AVX-512 has 32 zmm registers (8 x 3 sums + 3 of B; A comes from memory as a broadcast
// operand of the multiply-add). Sizes and block depths were measured (see matmul.c).
#include "foundations/matmul_kernels.h"

#if defined(GEMM_HAS_X86)
#include <immintrin.h>

#define TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))

// ----------------------------------------------------------------------------
// AVX2 + FMA: 6 x 16

TARGET_AVX2 void gemm_block_avx2(int depth, const float *a_panel, const float *b_panel, float *c, long ldc, int rows,
                                 int cols, int accumulate) {
    enum { ROWS = AVX2_KERNEL_ROWS, VECTORS = AVX2_KERNEL_COLS / 8 };
    __m256 sums[ROWS][VECTORS];
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; r++)
#pragma GCC unroll 4
        for (int v = 0; v < VECTORS; v++) sums[r][v] = _mm256_setzero_ps();
    for (int k = 0; k < depth; k++) {
        const float *a = a_panel + k * ROWS, *b = b_panel + k * AVX2_KERNEL_COLS;
        __m256 b_row[VECTORS];
#pragma GCC unroll 4
        for (int v = 0; v < VECTORS; v++) b_row[v] = _mm256_load_ps(b + 8 * v);
#pragma GCC unroll 8
        for (int r = 0; r < ROWS; r++) {
            __m256 a_value = _mm256_broadcast_ss(a + r);
#pragma GCC unroll 4
            for (int v = 0; v < VECTORS; v++) sums[r][v] = _mm256_fmadd_ps(a_value, b_row[v], sums[r][v]);
        }
    }
    if (rows == ROWS && cols == AVX2_KERNEL_COLS) {
#pragma GCC unroll 8
        for (int r = 0; r < ROWS; r++)
#pragma GCC unroll 4
            for (int v = 0; v < VECTORS; v++) {
                float *out = c + r * ldc + 8 * v;
                __m256 value = accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), sums[r][v]) : sums[r][v];
                _mm256_storeu_ps(out, value);
            }
        return;
    }
    // an edge block: through memory, element by element
    // (unrolled, so that sums stays in registers in the loop above)
    float block[ROWS][AVX2_KERNEL_COLS];
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; r++)
#pragma GCC unroll 4
        for (int v = 0; v < VECTORS; v++) _mm256_storeu_ps(block[r] + 8 * v, sums[r][v]);
    for (int r = 0; r < rows; r++)
        for (int col = 0; col < cols; col++)
            c[r * ldc + col] = accumulate ? c[r * ldc + col] + block[r][col] : block[r][col];
}

// Σ x·y with four independent vector sums (the latency of a multiply-add is four cycles).
TARGET_AVX2 float dot_avx2(const float *x, const float *y, int n) {
    __m256 sums[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int k = 0;
    for (; k + 32 <= n; k += 32)
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++)
            sums[v] = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8 * v), _mm256_loadu_ps(y + k + 8 * v), sums[v]);
    for (; k + 8 <= n; k += 8) sums[0] = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k), sums[0]);
    __m256 total = _mm256_add_ps(_mm256_add_ps(sums[0], sums[1]), _mm256_add_ps(sums[2], sums[3]));
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(total), _mm256_extractf128_ps(total, 1));
    half = _mm_add_ps(half, _mm_movehl_ps(half, half));
    half = _mm_add_ss(half, _mm_movehdup_ps(half));
    float sum = _mm_cvtss_f32(half);
    for (; k < n; k++) sum += x[k] * y[k];
    return sum;
}

// Packing a transposed operand: 8 x 8 blocks, loaded as 8 rows, transposed in registers
// (interleave pairs, then pairs of pairs, then the 128-bit halves), stored as 8 rows.
TARGET_AVX2 static void transpose_8x8(float *out, long out_stride, const float *in, long in_stride) {
    __m256 r[8], t[8], u[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(in + i * in_stride);
#pragma GCC unroll 4
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 2
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(out + i * out_stride, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        _mm256_storeu_ps(out + (i + 4) * out_stride, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    }
}

TARGET_AVX2 void pack_transposed_avx2(float *panel, int width, const float *source, long stride, int count,
                                      int depth) {
    int c = 0;
    for (; c + 8 <= count; c += 8) {
        const float *block = source + c * stride;
        int k = 0;
        for (; k + 8 <= depth; k += 8) transpose_8x8(panel + (long)k * width + c, width, block + k, stride);
        for (; k < depth; k++)
            for (int i = 0; i < 8; i++) panel[(long)k * width + c + i] = block[i * stride + k];
    }
    for (; c < count; c++)
        for (int k = 0; k < depth; k++) panel[(long)k * width + c] = source[c * stride + k];
    for (int k = 0; k < depth; k++)
        for (c = count; c < width; c++) panel[(long)k * width + c] = 0.0f;
}

// Packing a row-major operand: each row of the panel is count consecutive floats of the
// source (then zeros to width), copied 8 at a time when width allows (a copy loop of unknown
// length 8 or 48 is left to scalar code by the compilers' vectorisers).
TARGET_AVX2 void pack_rows_avx2(float *panel, int width, const float *source, long stride, int count, int depth) {
    if (width % 8) {  // (AVX2's 6-row panels of A)
        for (int k = 0; k < depth; k++)
            for (int c = 0; c < width; c++) panel[(long)k * width + c] = c < count ? source[k * stride + c] : 0.0f;
        return;
    }
    int full = count / 8 * 8, rest = count - full;
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest), lanes);
    for (int k = 0; k < depth; k++) {
        const float *row = source + k * stride;
        float *out = panel + (long)k * width;
        for (int c = 0; c < full; c += 8) _mm256_storeu_ps(out + c, _mm256_loadu_ps(row + c));
        int c = full;
        if (rest) {
            _mm256_storeu_ps(out + c, _mm256_maskload_ps(row + c, mask));  // zeros past count
            c += 8;
        }
        for (; c < width; c += 8) _mm256_storeu_ps(out + c, _mm256_setzero_ps());
    }
}

// ----------------------------------------------------------------------------
// AVX-512: 8 x 48

TARGET_AVX512 void gemm_block_avx512(int depth, const float *a_panel, const float *b_panel, float *c, long ldc,
                                     int rows, int cols, int accumulate) {
    enum { ROWS = AVX512_KERNEL_ROWS, VECTORS = AVX512_KERNEL_COLS / 16 };
    __m512 sums[ROWS][VECTORS];
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; r++)
#pragma GCC unroll 4
        for (int v = 0; v < VECTORS; v++) sums[r][v] = _mm512_setzero_ps();
    for (int k = 0; k < depth; k++) {
        const float *a = a_panel + k * ROWS, *b = b_panel + k * AVX512_KERNEL_COLS;
        __m512 b_row[VECTORS];
#pragma GCC unroll 4
        for (int v = 0; v < VECTORS; v++) b_row[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 16
        for (int r = 0; r < ROWS; r++) {
            __m512 a_value = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
            for (int v = 0; v < VECTORS; v++) sums[r][v] = _mm512_fmadd_ps(a_value, b_row[v], sums[r][v]);
        }
    }
    // Columns past the edge are masked off; rows past it are not stored at all.
    __mmask16 masks[VECTORS];
    for (int v = 0; v < VECTORS; v++) {
        int left = cols - 16 * v;
        masks[v] = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
    }
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; r++) {
        if (r >= rows) break;
#pragma GCC unroll 4
        for (int v = 0; v < VECTORS; v++) {
            float *out = c + r * ldc + 16 * v;
            __m512 value = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(masks[v], out), sums[r][v]) : sums[r][v];
            _mm512_mask_storeu_ps(out, masks[v], value);
        }
    }
}

TARGET_AVX512 float dot_avx512(const float *x, const float *y, int n) {
    __m512 sums[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int k = 0;
    for (; k + 64 <= n; k += 64)
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++)
            sums[v] = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 16 * v), _mm512_loadu_ps(y + k + 16 * v), sums[v]);
    for (; k + 16 <= n; k += 16) sums[0] = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), _mm512_loadu_ps(y + k), sums[0]);
    if (k < n) {
        __mmask16 mask = (__mmask16)((1u << (n - k)) - 1);
        sums[1] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + k), _mm512_maskz_loadu_ps(mask, y + k), sums[1]);
    }
    __m512 total = _mm512_add_ps(_mm512_add_ps(sums[0], sums[1]), _mm512_add_ps(sums[2], sums[3]));
    return _mm512_reduce_add_ps(total);
}

// out[r] = Σ x·w_r for the four rows w_r = w + r*stride: four weight streams at once, so the
// memory system has four sequential reads in flight per thread, two vector sums per row.
TARGET_AVX512 void dot4_avx512(const float *x, const float *w, long stride, int n, float *out) {
    __m512 sums[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) sums[r][0] = sums[r][1] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 32 <= n; k += 32) {
        __m512 x0 = _mm512_loadu_ps(x + k), x1 = _mm512_loadu_ps(x + k + 16);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            sums[r][0] = _mm512_fmadd_ps(x0, _mm512_loadu_ps(w + r * stride + k), sums[r][0]);
            sums[r][1] = _mm512_fmadd_ps(x1, _mm512_loadu_ps(w + r * stride + k + 16), sums[r][1]);
        }
    }
    for (; k < n; k += 16) {
        __mmask16 mask = n - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - k)) - 1);
        __m512 x0 = _mm512_maskz_loadu_ps(mask, x + k);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++)
            sums[r][0] = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(mask, w + r * stride + k), sums[r][0]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) out[r] = _mm512_reduce_add_ps(_mm512_add_ps(sums[r][0], sums[r][1]));
}

TARGET_AVX2 void dot4_avx2(const float *x, const float *w, long stride, int n, float *out) {
    __m256 sums[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) sums[r][0] = sums[r][1] = _mm256_setzero_ps();
    int k = 0;
    for (; k + 16 <= n; k += 16) {
        __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            sums[r][0] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w + r * stride + k), sums[r][0]);
            sums[r][1] = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w + r * stride + k + 8), sums[r][1]);
        }
    }
    float tail[4] = {0, 0, 0, 0};
    for (; k < n; k++)
        for (int r = 0; r < 4; r++) tail[r] += x[k] * w[r * stride + k];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
        __m256 total = _mm256_add_ps(sums[r][0], sums[r][1]);
        __m128 half = _mm_add_ps(_mm256_castps256_ps128(total), _mm256_extractf128_ps(total, 1));
        half = _mm_add_ps(half, _mm_movehl_ps(half, half));
        half = _mm_add_ss(half, _mm_movehdup_ps(half));
        out[r] = _mm_cvtss_f32(half) + tail[r];
    }
}

#endif
