// Inside the matmul (not a public header): the register-tiled kernels, one per instruction
// set, and the sizes of the blocks each is fed with.
//
// A kernel computes one block of C, rows x cols with rows <= kernel_rows, cols <= kernel_cols,
// from a packed panel of A (depth x kernel_rows, a_panel[k*kernel_rows + r]) and a packed
// panel of B (depth x kernel_cols, b_panel[k*kernel_cols + c]); the panels are zero past the
// edge of the matrices, so the kernel always runs the full block and stores only what exists.
// b_panel is 64-byte aligned (for the x86 kernels, whose kernel_cols are multiples of 16), and
// kernel_cols is a multiple of 8.
#ifndef FOUNDATIONS_MATMUL_KERNELS_H
#define FOUNDATIONS_MATMUL_KERNELS_H

#include "foundations/matmul.h"

typedef void GemmBlockFunction(int depth, const float *a_panel, const float *b_panel, float *c, long ldc, int rows,
                               int cols, int accumulate);
typedef float DotFunction(const float *x, const float *y, int n);
// out[r] = Σ_k x[k] · w[r*stride + k] for r < 4: four rows of a weight matrix at once
typedef void Dot4Function(const float *x, const float *w, long stride, int n, float *out);
// Packing: panel[k*width + c] = source[c*stride + k] (transposed) or source[k*stride + c]
// (rows) for c < count, k < depth; zero for count <= c < width. width is a multiple of 8.
typedef void PackFunction(float *panel, int width, const float *source, long stride, int count, int depth);

typedef struct {
    int kernel_rows, kernel_cols;  // the block held in registers
    int tile_rows, tile_cols;      // C tile a thread owns (multiples of the kernel block)
    int block_k;                   // depth of one packed slice of A and B
    GemmBlockFunction *block;
    DotFunction *dot;              // for the matrix-vector path (decoding)
    Dot4Function *dot4;
    PackFunction *pack_transposed, *pack_rows;
} GemmKernelInfo;

#if defined(__x86_64__) || defined(__i386__)
#define GEMM_HAS_X86 1
enum {
    AVX2_KERNEL_ROWS = 6,  // 6 x 16: twelve ymm sums, two of B, one broadcast of A
    AVX2_KERNEL_COLS = 16,
    AVX512_KERNEL_ROWS = 8,  // 8 x 48: twenty-four zmm sums, three of B, A broadcast from memory
    AVX512_KERNEL_COLS = 48,
};
void gemm_block_avx2(int depth, const float *a_panel, const float *b_panel, float *c, long ldc, int rows, int cols,
                     int accumulate);
float dot_avx2(const float *x, const float *y, int n);
void pack_transposed_avx2(float *panel, int width, const float *source, long stride, int count, int depth);
void pack_rows_avx2(float *panel, int width, const float *source, long stride, int count, int depth);
void dot4_avx2(const float *x, const float *w, long stride, int n, float *out);
void dot4_avx512(const float *x, const float *w, long stride, int n, float *out);
void gemm_block_avx512(int depth, const float *a_panel, const float *b_panel, float *c, long ldc, int rows, int cols,
                       int accumulate);
float dot_avx512(const float *x, const float *y, int n);
#endif

#endif
