// The AVX-512 VNNI quantized kernel (Ice Lake, Sapphire Rapids and later Xeons, AMD Zen 4):
// bytes multiplied with vpdpbusd, for a few input rows on 256-bit registers (block scales
// gathered with AVX-512BW permutes; the body in matmul_x86.h), for many in strips on 512-bit
// registers (below). Compiled with AVX-512 F/BW/VL/VNNI flags whatever the build's (quant/CMakeLists.txt);
// quant/matmul.c calls it only on a CPU that has those.
#include "quant/matmul_kernels.h"

#if defined(QUANT_HAS_X86)
#include "quant/matmul_x86.h"

#if !defined(QUANT_HAS_VNNI)
#error "quant/matmul_avx512.c must be compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni"
#endif

void quant_tile_avx512_vnni(QuantType type, int rows, const char *weight_row, const QuantizedInput *input, int m0,
                            float *sums) {
    tile_any(ISA_VNNI, type, rows, weight_row, input, m0, sums);
}

// ----------------------------------------------------------------------------
// Many input rows: a strip of 32 weight rows against every input row, outer-product style.
//
// The strip is first repacked ("packed") so that one 512-bit register holds, for 4
// consecutive k of one block, the unsigned codes of 16 weight rows (4 bytes per row, one per
// 32-bit lane): Q8_0 codes q_w + 128, Q4_0 codes the nibbles 0..15. vpdpbusd then multiplies
// such a register with 4 input bytes of one input row broadcast to all lanes and adds each
// lane's 4 products into its own int32: lane i collects Σ_k code(n_i, k) · q_x(m, k) over the
// block in 8 steps, with no horizontal sums. The zero point comes off through the block's
// Σ q_x: the int32 sums start at -z · Σ q_x (z = 128 for Q8_0, 8 for Q4_0), so they end at
// the exact block dot product of the portable kernel. Then, per block, the same float
// operations as the portable kernel: partial[b mod 8] += (float)dot · (d_w · d_x) (one fused
// multiply-add; the 8 partial sums kept in memory, in L1), and the fixed tree at the end. So
// this path also gives the portable kernel's bits.
//
// Per block and tile of 8 input rows x 32 weight rows: 16 weight-register loads and 128
// vpdpbusd (8192 multiply-adds of bytes) against 16 scale multiplies and 16 fused
// multiply-adds.

enum { TILE_ROWS = 8, STRIP_VECTORS = QUANT_STRIP_ROWS / 16 };

// Packs count (<= 32) weight rows from weight_row (row_bytes apart), every block:
//   codes[((b·8 + g)·2 + v)·64 + 4·i + j] = code of row 16v + i at k = 32b + 4g + j,
//   scales[(b·2 + v)·16 + i] = d_w of row 16v + i, block b;  rows past count: 0.
static void pack_strip(QuantType type, const char *weight_row, size_t row_bytes, int count, int n_blocks,
                       uint8_t *codes, float *scales) {
    size_t block_bytes = type == QUANT_Q8_0 ? sizeof(QuantBlockQ8_0) : sizeof(QuantBlockQ4_0);
    const __m512i offsets = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32((int)row_bytes));
    const __m512i top_bits = _mm512_set1_epi8((char)0x80), low_nibbles = _mm512_set1_epi8(15);
    for (int v = 0; v < STRIP_VECTORS; v++) {
        int here = count - 16 * v;
        __mmask16 rows = here >= 16 ? 0xffff : here <= 0 ? 0 : (__mmask16)((1u << here) - 1);
        const char *rows_base = weight_row + (size_t)16 * v * row_bytes;
        for (int b = 0; b < n_blocks; b++) {
            const char *block = rows_base + (size_t)b * block_bytes;
            // the scale and the first two bytes after it, per row; the low 16 bits are the fp16 scale
            __m512i scale_words = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, offsets, block, 1);
            _mm512_store_ps(scales + (b * 2 + v) * 16, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(scale_words)));
            uint8_t *out = codes + (size_t)b * 8 * 2 * 64 + v * 64;
            if (type == QUANT_Q8_0) {
                for (int g = 0; g < 8; g++) {
                    __m512i q = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, offsets, block + 2 + 4 * g, 1);
                    q = _mm512_maskz_mov_epi32(rows, _mm512_xor_si512(q, top_bits));  // q_w + 128; absent rows 0
                    _mm512_store_si512(out + g * 2 * 64, q);
                }
            } else {
                for (int g = 0; g < 4; g++) {  // packed bytes 4g..4g+3: k = 4g.. (low), 16 + 4g.. (high)
                    __m512i packed =
                        _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, offsets, block + 2 + 4 * g, 1);
                    _mm512_store_si512(out + g * 2 * 64, _mm512_and_si512(packed, low_nibbles));
                    _mm512_store_si512(out + (g + 4) * 2 * 64, _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_nibbles));
                }
            }
        }
    }
}

// rows (1..TILE_ROWS, a constant where inlined) input rows from m0 · the packed strip ->
// sums (rows, 32): the portable kernel's partial sums and tree, per output.
static inline __attribute__((always_inline)) void strip_tile(int rows, int zero_point, const uint8_t *codes,
                                                              const float *scales, const QuantizedInput *input, int m0,
                                                              float sums[][QUANT_STRIP_ROWS]) {
    __m512 partial[GROUP_BLOCKS][TILE_ROWS][STRIP_VECTORS];
    for (int p = 0; p < GROUP_BLOCKS; p++)
        for (int r = 0; r < rows; r++)
            for (int v = 0; v < STRIP_VECTORS; v++) partial[p][r][v] = _mm512_setzero_ps();
    size_t row_values = (size_t)input->padded_blocks * QUANT_BLOCK;
    const int8_t *x = input->values + (size_t)m0 * row_values;
    const float *x_scales = input->scales + (size_t)m0 * input->padded_blocks;
    const int32_t *x_sums = input->sums + (size_t)m0 * input->padded_blocks;
    for (int b = 0; b < input->n_blocks; b++) {
        __m512i dots[TILE_ROWS][STRIP_VECTORS];
        for (int r = 0; r < rows; r++) {
            __m512i start = _mm512_set1_epi32(-zero_point * x_sums[(size_t)r * input->padded_blocks + b]);
            for (int v = 0; v < STRIP_VECTORS; v++) dots[r][v] = start;
        }
        const uint8_t *block_codes = codes + (size_t)b * 8 * STRIP_VECTORS * 64;
        for (int g = 0; g < 8; g++) {
            __m512i w[STRIP_VECTORS];
            for (int v = 0; v < STRIP_VECTORS; v++) w[v] = _mm512_load_si512(block_codes + (g * STRIP_VECTORS + v) * 64);
            for (int r = 0; r < rows; r++) {
                int32_t four;
                memcpy(&four, x + (size_t)r * row_values + (size_t)b * QUANT_BLOCK + 4 * g, sizeof four);
                __m512i xv = _mm512_set1_epi32(four);
                for (int v = 0; v < STRIP_VECTORS; v++) dots[r][v] = _mm512_dpbusd_epi32(dots[r][v], w[v], xv);
            }
        }
        for (int r = 0; r < rows; r++) {
            __m512 x_scale = _mm512_set1_ps(x_scales[(size_t)r * input->padded_blocks + b]);
            for (int v = 0; v < STRIP_VECTORS; v++) {
                __m512 scale = _mm512_mul_ps(_mm512_load_ps(scales + (b * STRIP_VECTORS + v) * 16), x_scale);
                partial[b % GROUP_BLOCKS][r][v] =
                    _mm512_fmadd_ps(_mm512_cvtepi32_ps(dots[r][v]), scale, partial[b % GROUP_BLOCKS][r][v]);
            }
        }
    }
    // ((p0 + p4) + (p1 + p5)) + ((p2 + p6) + (p3 + p7)), as the portable kernel
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < STRIP_VECTORS; v++) {
            __m512 s0 = _mm512_add_ps(partial[0][r][v], partial[4][r][v]);
            __m512 s1 = _mm512_add_ps(partial[1][r][v], partial[5][r][v]);
            __m512 s2 = _mm512_add_ps(partial[2][r][v], partial[6][r][v]);
            __m512 s3 = _mm512_add_ps(partial[3][r][v], partial[7][r][v]);
            _mm512_storeu_ps(sums[r] + 16 * v, _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
        }
}

void quant_strip_avx512_vnni(QuantType type, const char *weight_row, size_t row_bytes, int count,
                             const QuantizedInput *input, int M, const float *bias, float *out, long ldo,
                             void *scratch) {
    int n_blocks = input->n_blocks, zero_point = type == QUANT_Q8_0 ? 128 : 8;
    uint8_t *codes = scratch;
    float *scales = (float *)(codes + (size_t)n_blocks * 8 * STRIP_VECTORS * 64);
    pack_strip(type, weight_row, row_bytes, count, n_blocks, codes, scales);
    for (int m0 = 0; m0 < M; m0 += TILE_ROWS) {
        int rows = M - m0 < TILE_ROWS ? M - m0 : TILE_ROWS;
        float sums[TILE_ROWS][QUANT_STRIP_ROWS];
        switch (rows) {
        case 1: strip_tile(1, zero_point, codes, scales, input, m0, sums); break;
        case 2: strip_tile(2, zero_point, codes, scales, input, m0, sums); break;
        case 3: strip_tile(3, zero_point, codes, scales, input, m0, sums); break;
        case 4: strip_tile(4, zero_point, codes, scales, input, m0, sums); break;
        case 5: strip_tile(5, zero_point, codes, scales, input, m0, sums); break;
        case 6: strip_tile(6, zero_point, codes, scales, input, m0, sums); break;
        case 7: strip_tile(7, zero_point, codes, scales, input, m0, sums); break;
        default: strip_tile(8, zero_point, codes, scales, input, m0, sums); break;
        }
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < count; c++)
                out[(long)(m0 + r) * ldo + c] = bias ? sums[r][c] + bias[c] : sums[r][c];
    }
}
#endif
