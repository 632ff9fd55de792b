// The body of the SIMD kernels, included by matmul_avx2.c and matmul_avx512.c (see
// matmul_kernels.h): each file compiles it with its own instruction set's flags, and the
// functions take that instruction set as a constant (Isa), so each file's entry point gets
// its own fully inlined copy. The VNNI branches exist only where the compiler targets
// AVX-512 VNNI; with -march=native on a CPU that has it, the AVX2 file holds them too but
// never takes them (its entry point passes ISA_AVX2).
//
// The arithmetic (quant/matmul.c explains it): per group of 8 blocks, the 8 exact int32 block
// dot products end up as the 8 lanes of one register and are scaled and added into 8 partial
// sums in the same order as the portable kernel, so every kernel gives the same bits.
#ifndef QUANT_MATMUL_X86_H
#define QUANT_MATMUL_X86_H

#include <immintrin.h>
#include <string.h>

#include "quant/matmul_kernels.h"

#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "quant/matmul_x86.h needs AVX2, FMA and F16C (quant/CMakeLists.txt sets them for its files)"
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__)
#define QUANT_HAS_VNNI 1
#endif

typedef enum { ISA_AVX2, ISA_VNNI } Isa;

// 32 unsigned bytes u times 32 signed bytes s -> 8 int32 lanes whose sum is Σ u·s.
static inline __attribute__((always_inline)) __m256i dot_u8_s8(Isa isa, __m256i u, __m256i s) {
#if defined(QUANT_HAS_VNNI)
    if (isa == ISA_VNNI) return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    (void)isa;
#endif
    // pairs of u·s in int16 (at most 2 · 255 · 127 would saturate, so callers keep u·s
    // within 2 · 128 · 127), then pairs of those in int32.
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// The scales of 8 consecutive blocks (stride bytes apart) as 8 floats.
static inline __attribute__((always_inline)) __m256 group_scales(const char *blocks, size_t stride) {
    __m128i halves = _mm_set_epi16(
        (short)*(const uint16_t *)(blocks + 7 * stride), (short)*(const uint16_t *)(blocks + 6 * stride),
        (short)*(const uint16_t *)(blocks + 5 * stride), (short)*(const uint16_t *)(blocks + 4 * stride),
        (short)*(const uint16_t *)(blocks + 3 * stride), (short)*(const uint16_t *)(blocks + 2 * stride),
        (short)*(const uint16_t *)(blocks + 1 * stride), (short)*(const uint16_t *)(blocks + 0 * stride));
    return _mm256_cvtph_ps(halves);
}

#if defined(QUANT_HAS_VNNI)
// The same with two-table word permutes (AVX-512BW): the 8 scales of a Q4_0 group lie in its
// first 128 bytes (words 0, 9, ..., 63), those of a Q8_0 group in its first 256 bytes
// (words 0, 17, ..., 119), so 2 or 4 loads and one or two permutes collect them.
static inline __attribute__((always_inline)) __m256 group_scales_avx512(QuantType type, const char *group) {
    __m512i low = _mm512_loadu_si512(group), high = _mm512_loadu_si512(group + 64);
    if (type == QUANT_Q4_0) {
        __m512i index = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 63,
                                         54, 45, 36, 27, 18, 9, 0);
        return _mm256_cvtph_ps(_mm512_castsi512_si128(_mm512_permutex2var_epi16(low, index, high)));
    }
    __m512i third = _mm512_loadu_si512(group + 128), fourth = _mm512_loadu_si512(group + 192);
    __m512i index = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 55,
                                     38, 21, 4, 51, 34, 17, 0);
    __m512i first_four = _mm512_permutex2var_epi16(low, index, high);
    __m512i last_four = _mm512_permutex2var_epi16(third, index, fourth);
    return _mm256_cvtph_ps(_mm512_castsi512_si128(_mm512_mask_blend_epi16(0xf0, first_four, last_four)));
}
#endif

// Q8_0: the 8 blocks of a group (one register each) times rows input rows, starting at
// block b0 -> dots[r], lane i = Σ over block i of (q_w · q_x), or for VNNI of (q_w + 128) · q_x.
static inline __attribute__((always_inline)) void group_dots_q8_0(Isa isa, int rows, const QuantBlockQ8_0 *group,
                                                                    const int8_t *const *x, int b0, __m256i *dots) {
    // Reduced with hadd as they come: pair[r][p] holds per 128-bit half the partial sums of
    // blocks 2p, 2p+1 (halves: lanes 0-3, lanes 4-7), quarter[r][h] those of 4 blocks.
    __m256i quarter[INPUT_TILE][2];
    for (int h = 0; h < 2; h++) {
        __m256i pair[INPUT_TILE][2];
        for (int p = 0; p < 2; p++) {
            __m256i lane_sums[INPUT_TILE][2];
            for (int i = 0; i < 2; i++) {
                int b = 4 * h + 2 * p + i;
                __m256i w = _mm256_loadu_si256((const __m256i *)group[b].values);
                if (isa == ISA_VNNI) {
                    // q_w + 128 as unsigned bytes (top bit flipped); 128 · Σ q_x comes off later.
                    __m256i biased = _mm256_xor_si256(w, _mm256_set1_epi8((char)0x80));
                    for (int r = 0; r < rows; r++) {
                        __m256i xv = _mm256_loadu_si256((const __m256i *)(x[r] + (b0 + b) * QUANT_BLOCK));
                        lane_sums[r][i] = dot_u8_s8(isa, biased, xv);
                    }
                } else {
                    // |q_w| · (q_x with q_w's sign): products below 128 · 127, no saturation.
                    __m256i magnitude = _mm256_abs_epi8(w);
                    for (int r = 0; r < rows; r++) {
                        __m256i xv = _mm256_loadu_si256((const __m256i *)(x[r] + (b0 + b) * QUANT_BLOCK));
                        lane_sums[r][i] = dot_u8_s8(isa, magnitude, _mm256_sign_epi8(xv, w));
                    }
                }
            }
            for (int r = 0; r < rows; r++) pair[r][p] = _mm256_hadd_epi32(lane_sums[r][0], lane_sums[r][1]);
        }
        for (int r = 0; r < rows; r++) quarter[r][h] = _mm256_hadd_epi32(pair[r][0], pair[r][1]);
    }
    // lower halves + upper halves -> the 8 block dot products, in block order.
    for (int r = 0; r < rows; r++)
        dots[r] = _mm256_add_epi32(_mm256_permute2x128_si256(quarter[r][0], quarter[r][1], 0x20),
                                   _mm256_permute2x128_si256(quarter[r][0], quarter[r][1], 0x31));
}

// Q4_0: two blocks per register. The packed bytes of blocks 2p and 2p+1 side by side give,
// masked, their low nibbles (elements 0-15 of each) and, shifted, their high nibbles
// (elements 16-31), to multiply with the input's paired layout. Lanes 0-3 belong to block
// 2p, lanes 4-7 to block 2p+1. -> dots[r], lane i = Σ over block i of q_w · q_x (q_w 0..15).
static inline __attribute__((always_inline)) void group_dots_q4_0(Isa isa, int rows, const QuantBlockQ4_0 *group,
                                                                    const int8_t *const *x, int b0, __m256i *dots) {
    const __m256i low_nibbles = _mm256_set1_epi8(15);
    __m256i pair_sums[4][INPUT_TILE];
    for (int p = 0; p < 4; p++) {
        __m256i packed = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)group[2 * p].packed)),
            _mm_loadu_si128((const __m128i *)group[2 * p + 1].packed), 1);
        __m256i low = _mm256_and_si256(packed, low_nibbles);
        __m256i high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibbles);
        for (int r = 0; r < rows; r++) {
            const int8_t *pair_values = x[r] + (b0 + 2 * p) * QUANT_BLOCK;
            __m256i x_low = _mm256_loadu_si256((const __m256i *)pair_values);
            __m256i x_high = _mm256_loadu_si256((const __m256i *)(pair_values + QUANT_BLOCK));
#if defined(QUANT_HAS_VNNI)
            if (isa == ISA_VNNI) {
                pair_sums[p][r] = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), low, x_low), high, x_high);
                continue;
            }
#endif
            pair_sums[p][r] = _mm256_add_epi32(dot_u8_s8(isa, low, x_low), dot_u8_s8(isa, high, x_high));
        }
    }
    // hadd, hadd: halves hold blocks 0 2 4 6 | 1 3 5 7; one permute puts them in order.
    const __m256i block_order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int r = 0; r < rows; r++) {
        __m256i sums = _mm256_hadd_epi32(_mm256_hadd_epi32(pair_sums[0][r], pair_sums[1][r]),
                                         _mm256_hadd_epi32(pair_sums[2][r], pair_sums[3][r]));
        dots[r] = _mm256_permutevar8x32_epi32(sums, block_order);
    }
}

// rows input rows from m0 (1..INPUT_TILE) · one weight row -> sums[rows]. type, isa and
// rows are constants where this is inlined, so the loops over rows unroll and the vectors
// stay in registers. (Decoding, rows = 1, reads the weight row as one sequential stream;
// interleaving several weight rows was measured to stream memory worse.)
static inline __attribute__((always_inline)) void tile_simd(QuantType type, Isa isa, int rows, const char *weight,
                                                              const QuantizedInput *input, int m0, float *sums) {
    const size_t block_bytes = type == QUANT_Q8_0 ? sizeof(QuantBlockQ8_0) : sizeof(QuantBlockQ4_0);
    const int8_t *x[INPUT_TILE];
    const float *x_scales[INPUT_TILE];
    const int32_t *x_sums[INPUT_TILE];
    __m256 acc[INPUT_TILE];
    for (int r = 0; r < rows; r++) {
        x[r] = input->values + (size_t)(m0 + r) * input->padded_blocks * QUANT_BLOCK;
        x_scales[r] = input->scales + (size_t)(m0 + r) * input->padded_blocks;
        x_sums[r] = input->sums + (size_t)(m0 + r) * input->padded_blocks;
    }
    for (int r = 0; r < rows; r++) acc[r] = _mm256_setzero_ps();
    // The last group of a row may be short: its blocks are copied into zeroed storage, and
    // the missing blocks (scale 0, input blocks 0) add exactly nothing.
    union {
        QuantBlockQ8_0 q8[GROUP_BLOCKS];
        QuantBlockQ4_0 q4[GROUP_BLOCKS];
    } padded;
    for (int b0 = 0; b0 < input->n_blocks; b0 += GROUP_BLOCKS) {
        const char *group = weight + (size_t)b0 * block_bytes;
        int count = input->n_blocks - b0;
        if (count < GROUP_BLOCKS) {
            memset(&padded, 0, sizeof padded);
            memcpy(&padded, group, (size_t)count * block_bytes);
            group = (const char *)&padded;
        }
        __m256i dots[INPUT_TILE];
        if (type == QUANT_Q4_0) group_dots_q4_0(isa, rows, (const QuantBlockQ4_0 *)group, x, b0, dots);
        else group_dots_q8_0(isa, rows, (const QuantBlockQ8_0 *)group, x, b0, dots);
#if defined(QUANT_HAS_VNNI)
        __m256 w_scales = isa == ISA_VNNI ? group_scales_avx512(type, group) : group_scales(group, block_bytes);
#else
        __m256 w_scales = group_scales(group, block_bytes);
#endif
        for (int r = 0; r < rows; r++) {
            __m256i x_sum = _mm256_loadu_si256((const __m256i *)(x_sums[r] + b0));
            if (type == QUANT_Q4_0) dots[r] = _mm256_sub_epi32(dots[r], _mm256_slli_epi32(x_sum, 3));
            else if (isa == ISA_VNNI) dots[r] = _mm256_sub_epi32(dots[r], _mm256_slli_epi32(x_sum, 7));
            __m256 scales = _mm256_mul_ps(w_scales, _mm256_loadu_ps(x_scales[r] + b0));
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dots[r]), scales, acc[r]);
        }
    }
    // The (up to 4) accumulators reduced together in the tree of add_partial_sums:
    // s = lower half + upper half, then hadd, hadd: (s0 + s1) + (s2 + s3) for each.
    __m128 halves[4];
    for (int i = 0; i < 4; i++)
        halves[i] = i < rows
                        ? _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1))
                        : _mm_setzero_ps();
    __m128 totals = _mm_hadd_ps(_mm_hadd_ps(halves[0], halves[1]), _mm_hadd_ps(halves[2], halves[3]));
    float lanes[4];
    _mm_storeu_ps(lanes, totals);
    for (int r = 0; r < rows; r++) sums[r] = lanes[r];
}

// tile_simd with the type and the row count made constants, for each file's entry point.
static inline __attribute__((always_inline)) void tile_any(Isa isa, QuantType type, int rows, const char *weight_row,
                                                            const QuantizedInput *input, int m0, float *sums) {
    if (type == QUANT_Q8_0) {
        switch (rows) {
        case 1: tile_simd(QUANT_Q8_0, isa, 1, weight_row, input, m0, sums); return;
        case 2: tile_simd(QUANT_Q8_0, isa, 2, weight_row, input, m0, sums); return;
        case 3: tile_simd(QUANT_Q8_0, isa, 3, weight_row, input, m0, sums); return;
        default: tile_simd(QUANT_Q8_0, isa, 4, weight_row, input, m0, sums); return;
        }
    }
    switch (rows) {
    case 1: tile_simd(QUANT_Q4_0, isa, 1, weight_row, input, m0, sums); return;
    case 2: tile_simd(QUANT_Q4_0, isa, 2, weight_row, input, m0, sums); return;
    case 3: tile_simd(QUANT_Q4_0, isa, 3, weight_row, input, m0, sums); return;
    default: tile_simd(QUANT_Q4_0, isa, 4, weight_row, input, m0, sums); return;
    }
}

#endif
