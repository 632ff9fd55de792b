// The AVX2 quantized kernel (Haswell and later, AMD Zen): bytes multiplied with vpmaddubsw and
// vpmaddwd, for a few input rows one weight row at a time (the body in matmul_x86.h), for many
// in strips (below). Compiled with -mavx2 -mfma -mf16c whatever the build's flags (quant/CMakeLists.txt);
// quant/matmul.c calls it only on a CPU that has those.
#include "quant/matmul_kernels.h"

#if defined(QUANT_HAS_X86)
#include "quant/matmul_x86.h"

void quant_tile_avx2(QuantType type, int rows, const char *weight_row, const QuantizedInput *input, int m0,
                     float *sums) {
    tile_any(ISA_AVX2, type, rows, weight_row, input, m0, sums);
}

// ----------------------------------------------------------------------------
// Many input rows: the outer-product strips of matmul_avx512.c in 256-bit registers.
//
// A register holds, for 4 consecutive k of one block, the codes of 8 weight rows (4 bytes per
// row, one per 32-bit lane), and is multiplied with 4 input bytes broadcast to all lanes by
// vpmaddubsw (unsigned codes times signed inputs, pairs added into int16):
//   Q4_0: codes are the nibbles 0..15, so a pair is at most 2 · 15 · 127 and the 8 steps of a
//         block add up in int16 (at most 30480) before one vpmaddwd widens them; the zero
//         point comes off through Σ q_x.
//   Q8_0: codes are |q_w| and the input takes q_w's sign (vpsignb), |q_w| · sign(q_w)·q_x =
//         q_w · q_x; a pair reaches 2 · 127 · 127, so each step is widened at once.
// The int32 block dot products are those of the portable kernel, and the float part is its
// too (partial[b mod 8] += (float)dot · (d_w · d_x), then the fixed tree), so are the bits.

enum { AVX2_TILE_ROWS = 4, AVX2_STRIP_VECTORS = QUANT_STRIP_ROWS / 8 };

// Packs count (<= 32) weight rows from weight_row (row_bytes apart), every block:
//   codes[((b·8 + g)·4 + v)·32 + 4·i + j] = code of row 8v + i at k = 32b + 4g + j,
//   signs: the same places, q_w itself (Q8_0 only),
//   scales[(b·4 + v)·8 + i] = d_w of row 8v + i, block b;  rows past count: 0.
static void pack_strip_avx2(QuantType type, const char *weight_row, size_t row_bytes, int count, int n_blocks,
                            uint8_t *codes, int8_t *signs, float *scales) {
    size_t block_bytes = type == QUANT_Q8_0 ? sizeof(QuantBlockQ8_0) : sizeof(QuantBlockQ4_0);
    const __m256i offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)row_bytes));
    const __m256i low_nibbles = _mm256_set1_epi8(15);
    for (int v = 0; v < AVX2_STRIP_VECTORS; v++) {
        int here = count - 8 * v;
        __m256i rows = _mm256_cmpgt_epi32(_mm256_set1_epi32(here), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const int *rows_base = (const int *)(weight_row + (size_t)8 * v * row_bytes);
        for (int b = 0; b < n_blocks; b++) {
            const int *block = (const int *)((const char *)rows_base + (size_t)b * block_bytes);
            // the scale and the two bytes after it, per row; the low 16 bits are the fp16 scale
            __m256i words = _mm256_and_si256(
                _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), block, offsets, rows, 1), _mm256_set1_epi32(0xffff));
            __m128i halves = _mm_packus_epi32(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
            _mm256_store_ps(scales + (b * AVX2_STRIP_VECTORS + v) * 8, _mm256_cvtph_ps(halves));
            size_t at = (size_t)b * 8 * AVX2_STRIP_VECTORS * 32 + (size_t)v * 32;
            for (int g = 0; g < (type == QUANT_Q8_0 ? 8 : 4); g++) {
                const int *four = (const int *)((const char *)block + 2 + 4 * g);
                __m256i q = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), four, offsets, rows, 1);
                size_t place = at + (size_t)g * AVX2_STRIP_VECTORS * 32;
                if (type == QUANT_Q8_0) {
                    _mm256_store_si256((__m256i *)(codes + place), _mm256_abs_epi8(q));
                    _mm256_store_si256((__m256i *)(signs + place), q);
                } else {  // packed bytes 4g..4g+3: k = 4g.. (low nibbles), 16 + 4g.. (high)
                    _mm256_store_si256((__m256i *)(codes + place), _mm256_and_si256(q, low_nibbles));
                    _mm256_store_si256((__m256i *)(codes + place + 4 * AVX2_STRIP_VECTORS * 32),
                                       _mm256_and_si256(_mm256_srli_epi16(q, 4), low_nibbles));
                }
            }
        }
    }
}

// rows (1..AVX2_TILE_ROWS, a constant where inlined) input rows from m0 · the packed vectors
// v0, v0 + 1 of the strip -> sums[r][0..15] (weight rows 8·v0 ..).
static inline __attribute__((always_inline)) void strip_tile_avx2(QuantType type, int rows, int v0,
                                                                   const uint8_t *codes, const int8_t *signs,
                                                                   const float *scales, const QuantizedInput *input,
                                                                   int m0, float sums[][16]) {
    __m256 partial[GROUP_BLOCKS][AVX2_TILE_ROWS][2];
    for (int p = 0; p < GROUP_BLOCKS; p++)
        for (int r = 0; r < rows; r++) partial[p][r][0] = partial[p][r][1] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    size_t row_values = (size_t)input->padded_blocks * QUANT_BLOCK;
    const int8_t *x = input->values + (size_t)m0 * row_values;
    const float *x_scales = input->scales + (size_t)m0 * input->padded_blocks;
    const int32_t *x_sums = input->sums + (size_t)m0 * input->padded_blocks;
    for (int b = 0; b < input->n_blocks; b++) {
        __m256i dots[AVX2_TILE_ROWS][2];
        for (int r = 0; r < rows; r++) dots[r][0] = dots[r][1] = _mm256_setzero_si256();
        size_t block_at = (size_t)b * 8 * AVX2_STRIP_VECTORS * 32 + (size_t)v0 * 32;
        for (int g = 0; g < 8; g++) {
            size_t at = block_at + (size_t)g * AVX2_STRIP_VECTORS * 32;
            __m256i w[2], w_signs[2];
            for (int v = 0; v < 2; v++) {
                w[v] = _mm256_load_si256((const __m256i *)(codes + at + 32 * v));
                if (type == QUANT_Q8_0) w_signs[v] = _mm256_load_si256((const __m256i *)(signs + at + 32 * v));
            }
            for (int r = 0; r < rows; r++) {
                int32_t four;
                memcpy(&four, x + (size_t)r * row_values + (size_t)b * QUANT_BLOCK + 4 * g, sizeof four);
                __m256i xv = _mm256_set1_epi32(four);
                for (int v = 0; v < 2; v++) {
                    if (type == QUANT_Q8_0) {
                        __m256i pairs = _mm256_maddubs_epi16(w[v], _mm256_sign_epi8(xv, w_signs[v]));
                        dots[r][v] = _mm256_add_epi32(dots[r][v], _mm256_madd_epi16(pairs, ones));
                    } else dots[r][v] = _mm256_add_epi16(dots[r][v], _mm256_maddubs_epi16(w[v], xv));  // int16 lanes
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            size_t at = (size_t)r * input->padded_blocks + b;
            __m256 x_scale = _mm256_set1_ps(x_scales[at]);
            for (int v = 0; v < 2; v++) {
                __m256i dot = dots[r][v];
                if (type == QUANT_Q4_0)
                    dot = _mm256_sub_epi32(_mm256_madd_epi16(dot, ones), _mm256_set1_epi32(8 * x_sums[at]));
                __m256 scale = _mm256_mul_ps(_mm256_load_ps(scales + (b * AVX2_STRIP_VECTORS + v0 + v) * 8), x_scale);
                __m256 *sum = &partial[b % GROUP_BLOCKS][r][v];
                *sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, *sum);
            }
        }
    }
    // ((p0 + p4) + (p1 + p5)) + ((p2 + p6) + (p3 + p7)), as the portable kernel
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < 2; v++) {
            __m256 s0 = _mm256_add_ps(partial[0][r][v], partial[4][r][v]);
            __m256 s1 = _mm256_add_ps(partial[1][r][v], partial[5][r][v]);
            __m256 s2 = _mm256_add_ps(partial[2][r][v], partial[6][r][v]);
            __m256 s3 = _mm256_add_ps(partial[3][r][v], partial[7][r][v]);
            _mm256_storeu_ps(sums[r] + 8 * v, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
        }
}

// One type, every tile of input rows, both halves of the strip.
static inline __attribute__((always_inline)) void strip_tiles_avx2(QuantType type, const uint8_t *codes,
                                                                    const int8_t *signs, const float *scales,
                                                                    const QuantizedInput *input, int M, int count,
                                                                    const float *bias, float *out, long ldo) {
    for (int m0 = 0; m0 < M; m0 += AVX2_TILE_ROWS) {
        int rows = M - m0 < AVX2_TILE_ROWS ? M - m0 : AVX2_TILE_ROWS;
        for (int half = 0; half * 16 < count; half++) {
            float sums[AVX2_TILE_ROWS][16];
            switch (rows) {
            case 1: strip_tile_avx2(type, 1, 2 * half, codes, signs, scales, input, m0, sums); break;
            case 2: strip_tile_avx2(type, 2, 2 * half, codes, signs, scales, input, m0, sums); break;
            case 3: strip_tile_avx2(type, 3, 2 * half, codes, signs, scales, input, m0, sums); break;
            default: strip_tile_avx2(type, 4, 2 * half, codes, signs, scales, input, m0, sums); break;
            }
            int columns = count - 16 * half < 16 ? count - 16 * half : 16;
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++) {
                    int n = 16 * half + c;
                    out[(long)(m0 + r) * ldo + n] = bias ? sums[r][c] + bias[n] : sums[r][c];
                }
        }
    }
}

void quant_strip_avx2(QuantType type, const char *weight_row, size_t row_bytes, int count, const QuantizedInput *input,
                      int M, const float *bias, float *out, long ldo, void *scratch) {
    size_t code_bytes = (size_t)input->n_blocks * 8 * AVX2_STRIP_VECTORS * 32;
    uint8_t *codes = scratch;
    int8_t *signs = (int8_t *)(codes + code_bytes);
    float *scales = (float *)(signs + code_bytes);
    pack_strip_avx2(type, weight_row, row_bytes, count, input->n_blocks, codes, signs, scales);
    if (type == QUANT_Q8_0) strip_tiles_avx2(QUANT_Q8_0, codes, signs, scales, input, M, count, bias, out, ldo);
    else strip_tiles_avx2(QUANT_Q4_0, codes, signs, scales, input, M, count, bias, out, ldo);
}
#endif
