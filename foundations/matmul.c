// Matrix multiply: the reference (the definition, three loops) and the fast version.
//
// How the fast version goes fast (in the spirit of GotoBLAS / BLIS, written from scratch):
//   1. The output is cut into tiles of TILE_ROWS x TILE_COLS; OpenMP hands tiles to threads,
//      so no two threads ever write the same element.
//   2. For each slice of BLOCK_K along the inner dimension, the thread copies ("packs") the
//      part of A and of B its tile needs into small contiguous buffers that stay in L1/L2,
//      laid out in the exact order the kernel reads them. Packing is also where transposes
//      disappear: A and B can have any strides.
//   3. The kernel computes a KERNEL_ROWS x KERNEL_COLS block of C with all 6x16 partial sums
//      in registers: per step of k it broadcasts 6 values of A and does 6 x 16 fused
//      multiply-adds on one row of B, written with the compiler's 8-wide vector type.
//   Decoding (one token at a time) is M = 1: there is nothing to reuse, the weight matrix is
//   read once from memory, so a separate path does plain dot products, split over outputs.
#include "foundations/matmul.h"

#include <stdlib.h>
#include <string.h>

enum {
    KERNEL_ROWS = 6,
    KERNEL_COLS = 16,
    TILE_ROWS = 192,  // multiple of KERNEL_ROWS; measured best of 96..264 on GPT-2 shapes
    TILE_COLS = 128,  // multiple of KERNEL_COLS
    BLOCK_K = 256,
    MATVEC_MAX_ROWS = 4,
};

// ----------------------------------------------------------------------------
// reference

void matmul_forward_reference(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N) {
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double sum = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++) sum += (double)inp[(long)m * K + k] * weight[(long)n * K + k];
            out[(long)m * N + n] = (float)sum;
        }
    }
}

void matmul_backward_reference(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                               const float *weight, int M, int K, int N) {
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            float g = d_out[(long)m * N + n];
            if (d_bias) d_bias[n] += g;
            for (int k = 0; k < K; k++) {
                if (d_inp) d_inp[(long)m * K + k] += g * weight[(long)n * K + k];
                if (d_weight) d_weight[(long)n * K + k] += g * inp[(long)m * K + k];
            }
        }
    }
}

// ----------------------------------------------------------------------------
// packing

// Rows i0..i0+rows of A, columns k0..k0+depth, as consecutive panels of KERNEL_ROWS rows:
// panel p holds packed[p*depth*KR + k*KR + r] = A[i0 + p*KR + r][k0 + k], zero past the edge.
// The loops walk A along whichever of its axes is contiguous in memory: when A is a
// transpose (a_row == 1), reading it row by row would touch a new page for every element.
static void pack_a(float *packed, const float *a, long a_row, long a_col, int i0, int rows, int k0, int depth) {
    int padded_rows = (rows + KERNEL_ROWS - 1) / KERNEL_ROWS * KERNEL_ROWS;
    if (a_row == 1) {
        for (int k = 0; k < depth; k++) {
            const float *source = a + (long)(k0 + k) * a_col + i0;
            for (int i = 0; i < padded_rows; i++)
                packed[(long)(i / KERNEL_ROWS) * depth * KERNEL_ROWS + k * KERNEL_ROWS + i % KERNEL_ROWS] =
                    i < rows ? source[i] : 0.0f;
        }
        return;
    }
    for (int i = 0; i < padded_rows; i++) {
        float *panel = packed + (long)(i / KERNEL_ROWS) * depth * KERNEL_ROWS + i % KERNEL_ROWS;
        if (i < rows) {
            const float *source = a + (long)(i0 + i) * a_row + (long)k0 * a_col;
            for (int k = 0; k < depth; k++) panel[k * KERNEL_ROWS] = source[k * a_col];
        } else {
            for (int k = 0; k < depth; k++) panel[k * KERNEL_ROWS] = 0.0f;
        }
    }
}

// Columns j0..j0+cols of B, rows k0..k0+depth, as panels of KERNEL_COLS columns:
// packed[p*depth*KC + k*KC + c] = B[k0 + k][j0 + p*KC + c], zero past the edge.
// As for A, the loops follow B's contiguous axis.
static void pack_b(float *packed, const float *b, long b_row, long b_col, int j0, int cols, int k0, int depth) {
    int padded_cols = (cols + KERNEL_COLS - 1) / KERNEL_COLS * KERNEL_COLS;
    if (b_col == 1) {
        for (int k = 0; k < depth; k++) {
            const float *source = b + (long)(k0 + k) * b_row + j0;
            for (int j = 0; j < padded_cols; j++)
                packed[(long)(j / KERNEL_COLS) * depth * KERNEL_COLS + k * KERNEL_COLS + j % KERNEL_COLS] =
                    j < cols ? source[j] : 0.0f;
        }
        return;
    }
    for (int j = 0; j < padded_cols; j++) {
        float *panel = packed + (long)(j / KERNEL_COLS) * depth * KERNEL_COLS + j % KERNEL_COLS;
        if (j < cols) {
            const float *source = b + (long)k0 * b_row + (long)(j0 + j) * b_col;
            for (int k = 0; k < depth; k++) panel[k * KERNEL_COLS] = source[k * b_row];
        } else {
            for (int k = 0; k < depth; k++) panel[k * KERNEL_COLS] = 0.0f;
        }
    }
}

// ----------------------------------------------------------------------------
// the kernel: this is the hot loop of training.

// Eight floats as one value: gcc and clang turn arithmetic on it into one AVX register
// operation (or two SSE ones on older CPUs), a fused multiply-add where the CPU has FMA.
typedef float float8 __attribute__((vector_size(32)));

// C block (rows <= 6, cols <= 16) (+)= packed A panel (depth x 6) · packed B panel (depth x 16)
// The 6 x 16 sums are twelve float8 values: with the two rows of B and one broadcast value
// of A, fifteen of the sixteen AVX registers.
static void kernel_6x16(int depth, const float *restrict a_panel, const float *restrict b_panel, float *restrict c,
                        long ldc, int rows, int cols, int accumulate) {
    float8 sums[KERNEL_ROWS][2] = {{{0}}};
    for (int k = 0; k < depth; k++) {
        const float *a = a_panel + k * KERNEL_ROWS;
        float8 b_low, b_high;
        memcpy(&b_low, b_panel + k * KERNEL_COLS, sizeof b_low);
        memcpy(&b_high, b_panel + k * KERNEL_COLS + 8, sizeof b_high);
        for (int r = 0; r < KERNEL_ROWS; r++) {
            float8 a_broadcast = {a[r], a[r], a[r], a[r], a[r], a[r], a[r], a[r]};
            sums[r][0] += a_broadcast * b_low;
            sums[r][1] += a_broadcast * b_high;
        }
    }
    float block[KERNEL_ROWS][KERNEL_COLS];
    memcpy(block, sums, sizeof block);
    for (int r = 0; r < rows; r++)
        for (int col = 0; col < cols; col++)
            c[r * ldc + col] = accumulate ? c[r * ldc + col] + block[r][col] : block[r][col];
}

void gemm(int M, int N, int K, const float *a, long a_row, long a_col, const float *b, long b_row, long b_col,
          float *c, long ldc, int accumulate) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++) memset(c + (long)i * ldc, 0, sizeof(float) * (size_t)N);
        return;
    }
    int tiles_m = (M + TILE_ROWS - 1) / TILE_ROWS, tiles_n = (N + TILE_COLS - 1) / TILE_COLS;
    int n_tiles = tiles_m * tiles_n;
#pragma omp parallel if (n_tiles > 1 && (long)M * N * K > 100000)
    {
        // On the stack (320 KiB): from the heap, buffers this size come from mmap, and every
        // call would pay for fresh zeroed pages.
        float packed_a[TILE_ROWS * BLOCK_K] __attribute__((aligned(64)));
        float packed_b[TILE_COLS * BLOCK_K] __attribute__((aligned(64)));
#pragma omp for schedule(dynamic)
        for (int tile = 0; tile < n_tiles; tile++) {
            int i0 = (tile / tiles_n) * TILE_ROWS, j0 = (tile % tiles_n) * TILE_COLS;
            int rows = M - i0 < TILE_ROWS ? M - i0 : TILE_ROWS;
            int cols = N - j0 < TILE_COLS ? N - j0 : TILE_COLS;
            for (int k0 = 0; k0 < K; k0 += BLOCK_K) {
                int depth = K - k0 < BLOCK_K ? K - k0 : BLOCK_K;
                pack_a(packed_a, a, a_row, a_col, i0, rows, k0, depth);
                pack_b(packed_b, b, b_row, b_col, j0, cols, k0, depth);
                int add = accumulate || k0 > 0;
                for (int j = 0; j < cols; j += KERNEL_COLS) {
                    for (int i = 0; i < rows; i += KERNEL_ROWS) {
                        int r = rows - i < KERNEL_ROWS ? rows - i : KERNEL_ROWS;
                        int cc = cols - j < KERNEL_COLS ? cols - j : KERNEL_COLS;
                        kernel_6x16(depth, packed_a + (long)i * depth, packed_b + (long)j * depth,
                                    c + (long)(i0 + i) * ldc + j0 + j, ldc, r, cc, add);
                    }
                }
            }
        }
    }
}

// ----------------------------------------------------------------------------
// matrix-vector: few rows, so each weight row is used once; read it once, at memory speed.

// Dot product with 16 independent partial sums, so the compiler can vectorise without
// reassociating a single sum (which it may not do for floats without -ffast-math).
static float dot(const float *restrict x, const float *restrict y, int n) {
    float partial[16] = {0};
    int k = 0;
    for (; k + 16 <= n; k += 16)
        for (int j = 0; j < 16; j++) partial[j] += x[k + j] * y[k + j];
    float sum = 0.0f;
    for (int j = 0; j < 16; j++) sum += partial[j];
    for (; k < n; k++) sum += x[k] * y[k];
    return sum;
}

static void matvec_forward(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N) {
#pragma omp parallel for schedule(static) if ((long)N * K > 65536)
    for (int n = 0; n < N; n++) {
        const float *w = weight + (long)n * K;
        for (int m = 0; m < M; m++) out[(long)m * N + n] = (bias ? bias[n] : 0.0f) + dot(inp + (long)m * K, w, K);
    }
}

// ----------------------------------------------------------------------------
// the public forward and backward

void matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N) {
    if (M <= MATVEC_MAX_ROWS) {
        matvec_forward(out, inp, weight, bias, M, K, N);
        return;
    }
    // B[k][n] = weight[n][k]: the weight read as its transpose.
    gemm(M, N, K, inp, K, 1, weight, 1, K, out, N, 0);
    if (bias) {
#pragma omp parallel for schedule(static) if ((long)M * N > 65536)
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) out[(long)m * N + n] += bias[n];
    }
}

void matmul_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                     const float *weight, int M, int K, int N) {
    if (d_inp) gemm(M, K, N, d_out, N, 1, weight, K, 1, d_inp, K, 1);
    // d_weight (N,K) = d_outᵀ (N,M) · inp (M,K): A[i][m] = d_out[m][i].
    if (d_weight) gemm(N, K, M, d_out, 1, N, inp, K, 1, d_weight, K, 1);
    if (d_bias) {
        // Column sums of d_out, a block of 64 columns per task, rows in order: reading along
        // rows keeps the accesses sequential, and the order (so the result) is fixed.
        int n_blocks = (N + 63) / 64;
#pragma omp parallel for schedule(static) if ((long)M * N > 65536)
        for (int block = 0; block < n_blocks; block++) {
            int n0 = block * 64, width = N - n0 < 64 ? N - n0 : 64;
            float sums[64] = {0};
            for (int m = 0; m < M; m++) {
                const float *row = d_out + (long)m * N + n0;
                for (int j = 0; j < width; j++) sums[j] += row[j];
            }
            for (int j = 0; j < width; j++) d_bias[n0 + j] += sums[j];
        }
    }
}
