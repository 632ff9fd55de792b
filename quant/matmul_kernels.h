// Inside quant/matmul.c (not a public header): the input as the kernels read it, and the SIMD
// kernels, one per instruction set, which matmul.c chooses from at run time.
//
// The SIMD kernels live in their own files, each compiled with its instruction set's flags
// (quant/CMakeLists.txt): matmul_avx2.c (AVX2, FMA, F16C) and matmul_avx512.c (the same plus
// AVX-512 F/BW/VL/VNNI). Both include the one body quant/matmul_x86.h, which is written once
// for both and takes the instruction set as a constant. matmul.c calls them only after the
// CPU said it has those instructions, so a portable build runs them on the CPUs that can.
// (Per-file flags rather than the gemm's per-function target attributes: a shared function
// that holds a VNNI instruction cannot be inlined into an AVX2 one, whatever the branch.)
#ifndef QUANT_MATMUL_KERNELS_H
#define QUANT_MATMUL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "quant/quant.h"

enum {
    GROUP_BLOCKS = 8,  // blocks per group: one register of 8 dot products
    INPUT_TILE = 4,    // input rows sharing each loaded weight block
};

// Rows of the input as int8 blocks. Each row is padded with zero blocks to a whole number
// of groups (zero values, scale and sum), so the SIMD kernels never need a shorter group.
// The values are in element order, except for the SIMD Q4_0 kernels, which take blocks
// in pairs (a, b) laid out as a[0..15] b[0..15] a[16..31] b[16..31]: one register then
// holds the low nibbles of two weight blocks and the next one their high nibbles.
typedef struct QuantizedInput {
    int n_blocks;        // K / 32
    int padded_blocks;   // n_blocks rounded up to a multiple of GROUP_BLOCKS
    int paired;          // 1: values of block pairs interleaved by halves as above
    int8_t *values;      // (M, padded_blocks · 32)
    float *scales;       // (M, padded_blocks) d_x
    int32_t *sums;       // (M, padded_blocks) Σ q_x over the block
    void *memory;
} QuantizedInput;

// rows (1..INPUT_TILE) input rows from m0 · one weight row (type, K = input->n_blocks · 32)
// -> sums[rows], the same bits as the portable kernel.
typedef void QuantTileFunction(QuantType type, int rows, const char *weight_row, const QuantizedInput *input, int m0,
                               float *sums);

#if defined(__x86_64__) || defined(__i386__)
#define QUANT_HAS_X86 1
QuantTileFunction quant_tile_avx2;         // matmul_avx2.c
QuantTileFunction quant_tile_avx512_vnni;  // matmul_avx512.c

// Many input rows (matmul_avx2.c, matmul_avx512.c): a strip of count (<= QUANT_STRIP_ROWS)
// weight rows from weight_row (row_bytes apart) against all M rows of input (element order,
// not paired) -> out[m·ldo + c] = Σ + bias[c] (bias may be NULL) for c < count, the portable
// kernel's bits. scratch: quant_strip_scratch_bytes(n_blocks) bytes, 64-byte aligned, where
// the strip is repacked.
enum { QUANT_STRIP_ROWS = 32 };
typedef void QuantStripFunction(QuantType type, const char *weight_row, size_t row_bytes, int count,
                                const QuantizedInput *input, int M, const float *bias, float *out, long ldo,
                                void *scratch);
QuantStripFunction quant_strip_avx2, quant_strip_avx512_vnni;
#endif

#endif
