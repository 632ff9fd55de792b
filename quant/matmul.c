// Matrix products with quantized weights: out = inp · Wᵀ + bias with W in Q8_0 or Q4_0,
// and the input gradient d_inp += d_out · W for adapters on a frozen quantized base.
//
// How the forward product goes:
//   1. Each input row is quantized per block of 32 to int8 with an fp32 scale, like Q8_0:
//      x ≈ d_x · q_x, d_x = max|x| / 127. The sum of the 32 q_x is kept too (see 3).
//   2. A weight block and an input block give an exact int32 dot product, scaled by d_w · d_x:
//        Q8_0:  Σ w·x ≈ d_w · d_x · Σ q_w · q_x
//        Q4_0:  Σ w·x ≈ d_w · d_x · Σ (q_w - 8) · q_x = d_w · d_x · (Σ q_w · q_x - 8 · Σ q_x)
//   3. The SIMD kernels multiply unsigned bytes by signed bytes (vpmaddubsw, vpdpbusd).
//      Q4_0 nibbles are unsigned already, the zero point comes off through Σ q_x. For Q8_0,
//      AVX2 moves the signs onto the input (|q_w| · sign(q_w)·q_x); VNNI, with no 16-bit
//      saturation to fear, uses q_w + 128 (a flip of the top bit) and takes 128 · Σ q_x off.
//   4. Blocks go in groups of 8: their 8 dot products end up as the 8 lanes of one
//      register, scaled by 8 block scales and added into 8 partial sums with one fused
//      multiply-add (block b into partial sum b mod 8). The partial sums are added in a
//      fixed tree at the end. The scalar kernel does exactly the same float operations, so
//      every kernel gives the same bits.
//   5. OpenMP splits the output rows in bands of 16 weight rows. Within a band, 4 input
//      rows at a time are multiplied with each weight row, so every weight block, loaded
//      and unpacked once, serves 4 rows of the input (M = 1, decoding, streams the weights
//      once at memory speed).
#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/matmul.h"
#include "quant/quant.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define QUANT_HAS_AVX2 1
#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__)
#define QUANT_HAS_VNNI 1
#endif
#endif

enum {
    GROUP_BLOCKS = 8,     // blocks per group: one register of 8 dot products
    INPUT_TILE = 4,       // input rows sharing each loaded weight block
    WEIGHT_BAND = 16,     // weight rows per unit of OpenMP work
    BACKWARD_BAND = 256,  // weight rows dequantized at a time in the backward pass
};

const char *quant_kernel_name(QuantKernel kernel) {
    switch (kernel) {
    case QUANT_KERNEL_BEST: return quant_kernel_name(quant_kernel_best());
    case QUANT_KERNEL_SCALAR: return "scalar";
    case QUANT_KERNEL_AVX2: return "avx2";
    case QUANT_KERNEL_AVX512_VNNI: return "avx512-vnni";
    }
    return "?";
}

int quant_kernel_available(QuantKernel kernel) {
    switch (kernel) {
    case QUANT_KERNEL_BEST:
    case QUANT_KERNEL_SCALAR: return 1;
#if defined(QUANT_HAS_AVX2)
    case QUANT_KERNEL_AVX2: return 1;
#endif
#if defined(QUANT_HAS_VNNI)
    case QUANT_KERNEL_AVX512_VNNI: return 1;
#endif
    default: return 0;
    }
}

QuantKernel quant_kernel_best(void) {
#if defined(QUANT_HAS_VNNI)
    return QUANT_KERNEL_AVX512_VNNI;
#elif defined(QUANT_HAS_AVX2)
    return QUANT_KERNEL_AVX2;
#else
    return QUANT_KERNEL_SCALAR;
#endif
}

// ----------------------------------------------------------------------------
// the input, quantized per block

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

// Where element j of block b goes in a row of values.
static int value_position(int paired, int b, int j) {
    if (!paired) return b * QUANT_BLOCK + j;
    int half = QUANT_BLOCK / 2;
    return (b / 2) * 2 * QUANT_BLOCK + (j / half) * QUANT_BLOCK + (b % 2) * half + j % half;
}

// x (K) -> values, scales, sums of one row (n_blocks = K / 32 blocks).
static void quantize_input_row(const float *x, int n_blocks, int paired, int8_t *values, float *scales,
                               int32_t *sums) {
    for (int b = 0; b < n_blocks; b++) {
        const float *block = x + b * QUANT_BLOCK;
        // Comparisons rather than fmaxf / fminf, which are library calls (NaN rules) and
        // kept this loop from vectorizing; decoding quantizes every input on the way.
        float max_abs = 0.0f;
        for (int j = 0; j < QUANT_BLOCK; j++) max_abs = fabsf(block[j]) > max_abs ? fabsf(block[j]) : max_abs;
        float inverse = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
        int32_t sum = 0, not_numbers = 0;
        for (int j = 0; j < QUANT_BLOCK; j++) {
            float q = nearbyintf(block[j] * inverse);
            q = q > 127.0f ? 127.0f : q < -127.0f ? -127.0f : q;
            // A NaN or infinite input has no integer: it becomes 0 here and NaN in the scale,
            // so the product is NaN (converting NaN to an integer is undefined).
            not_numbers += q != q;
            q = q == q ? q : 0.0f;
            values[value_position(paired, b, j)] = (int8_t)q;
            sum += (int32_t)q;
        }
        scales[b] = not_numbers || max_abs > FLT_MAX ? NAN : max_abs / 127.0f;
        sums[b] = sum;
    }
}

// inp (M,K) -> QuantizedInput. Returns 0, or -1 when out of memory.
static int quantize_input(QuantizedInput *input, const float *inp, int M, int K, int paired) {
    int n_blocks = K / QUANT_BLOCK;
    int padded = (n_blocks + GROUP_BLOCKS - 1) / GROUP_BLOCKS * GROUP_BLOCKS;
    size_t n_values = (size_t)M * padded * QUANT_BLOCK, n_scales = (size_t)M * padded;
    input->memory = calloc(1, n_values + n_scales * (sizeof(float) + sizeof(int32_t)));
    if (!input->memory) return -1;
    input->n_blocks = n_blocks;
    input->paired = paired;
    input->padded_blocks = padded;
    input->scales = input->memory;
    input->sums = (int32_t *)(input->scales + n_scales);
    input->values = (int8_t *)(input->sums + n_scales);
#pragma omp parallel for schedule(static) if ((long)M * K > 65536)
    for (int m = 0; m < M; m++)
        quantize_input_row(inp + (size_t)m * K, n_blocks, paired, input->values + (size_t)m * padded * QUANT_BLOCK,
                           input->scales + (size_t)m * padded, input->sums + (size_t)m * padded);
    return 0;
}

// ----------------------------------------------------------------------------
// scalar: the reference

// Exact integer dot product of weight block b of a row with 32 input values.
static int32_t block_dot_scalar(QuantType type, const void *weight_row, int b, const int8_t *x) {
    int32_t dot = 0;
    if (type == QUANT_Q8_0) {
        const QuantBlockQ8_0 *block = (const QuantBlockQ8_0 *)weight_row + b;
        for (int j = 0; j < QUANT_BLOCK; j++) dot += (int32_t)block->values[j] * x[j];
    } else {
        const QuantBlockQ4_0 *block = (const QuantBlockQ4_0 *)weight_row + b;
        for (int j = 0; j < QUANT_BLOCK / 2; j++) {
            dot += ((block->packed[j] & 15) - 8) * (int32_t)x[j];
            dot += ((block->packed[j] >> 4) - 8) * (int32_t)x[j + QUANT_BLOCK / 2];
        }
    }
    return dot;
}

static float block_scale(QuantType type, const void *weight_row, int b) {
    uint16_t half = type == QUANT_Q8_0 ? ((const QuantBlockQ8_0 *)weight_row)[b].scale
                                       : ((const QuantBlockQ4_0 *)weight_row)[b].scale;
    return half_to_float(half);
}

// The 8 partial sums, added in the tree the SIMD kernels use:
// ((p0 + p4) + (p1 + p5)) + ((p2 + p6) + (p3 + p7)).
static float add_partial_sums(const float partial[GROUP_BLOCKS]) {
    float s0 = partial[0] + partial[4], s1 = partial[1] + partial[5];
    float s2 = partial[2] + partial[6], s3 = partial[3] + partial[7];
    return (s0 + s1) + (s2 + s3);
}

// One weight row · one quantized input row.
static float row_dot_scalar(QuantType type, const void *weight_row, const QuantizedInput *input, int m) {
    const int8_t *x = input->values + (size_t)m * input->padded_blocks * QUANT_BLOCK;
    const float *x_scales = input->scales + (size_t)m * input->padded_blocks;
    float partial[GROUP_BLOCKS] = {0};
    for (int b = 0; b < input->n_blocks; b++) {
        int32_t dot = block_dot_scalar(type, weight_row, b, x + b * QUANT_BLOCK);
        float scale = block_scale(type, weight_row, b) * x_scales[b];
        partial[b % GROUP_BLOCKS] = fmaf((float)dot, scale, partial[b % GROUP_BLOCKS]);
    }
    return add_partial_sums(partial);
}

// ----------------------------------------------------------------------------
// SIMD: AVX2 and AVX-512 VNNI (256-bit registers)

#if defined(QUANT_HAS_AVX2)

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

// One function per (type, instruction set), with the row count made a constant.
static void tile_q8_0_avx2(int rows, const char *w, const QuantizedInput *input, int m0, float *sums) {
    switch (rows) {
    case 1: tile_simd(QUANT_Q8_0, ISA_AVX2, 1, w, input, m0, sums); break;
    case 2: tile_simd(QUANT_Q8_0, ISA_AVX2, 2, w, input, m0, sums); break;
    case 3: tile_simd(QUANT_Q8_0, ISA_AVX2, 3, w, input, m0, sums); break;
    default: tile_simd(QUANT_Q8_0, ISA_AVX2, 4, w, input, m0, sums); break;
    }
}

static void tile_q4_0_avx2(int rows, const char *w, const QuantizedInput *input, int m0, float *sums) {
    switch (rows) {
    case 1: tile_simd(QUANT_Q4_0, ISA_AVX2, 1, w, input, m0, sums); break;
    case 2: tile_simd(QUANT_Q4_0, ISA_AVX2, 2, w, input, m0, sums); break;
    case 3: tile_simd(QUANT_Q4_0, ISA_AVX2, 3, w, input, m0, sums); break;
    default: tile_simd(QUANT_Q4_0, ISA_AVX2, 4, w, input, m0, sums); break;
    }
}

#if defined(QUANT_HAS_VNNI)
static void tile_q8_0_vnni(int rows, const char *w, const QuantizedInput *input, int m0, float *sums) {
    switch (rows) {
    case 1: tile_simd(QUANT_Q8_0, ISA_VNNI, 1, w, input, m0, sums); break;
    case 2: tile_simd(QUANT_Q8_0, ISA_VNNI, 2, w, input, m0, sums); break;
    case 3: tile_simd(QUANT_Q8_0, ISA_VNNI, 3, w, input, m0, sums); break;
    default: tile_simd(QUANT_Q8_0, ISA_VNNI, 4, w, input, m0, sums); break;
    }
}

static void tile_q4_0_vnni(int rows, const char *w, const QuantizedInput *input, int m0, float *sums) {
    switch (rows) {
    case 1: tile_simd(QUANT_Q4_0, ISA_VNNI, 1, w, input, m0, sums); break;
    case 2: tile_simd(QUANT_Q4_0, ISA_VNNI, 2, w, input, m0, sums); break;
    case 3: tile_simd(QUANT_Q4_0, ISA_VNNI, 3, w, input, m0, sums); break;
    default: tile_simd(QUANT_Q4_0, ISA_VNNI, 4, w, input, m0, sums); break;
    }
}
#endif
#endif

// ----------------------------------------------------------------------------
// the product

// rows input rows from m0 · one weight row -> sums[rows], with the chosen kernel.
static void tile(QuantKernel kernel, QuantType type, int rows, const char *weight, const QuantizedInput *input, int m0,
                 float *sums) {
    switch (kernel) {
#if defined(QUANT_HAS_AVX2)
    case QUANT_KERNEL_AVX2:
        if (type == QUANT_Q8_0) tile_q8_0_avx2(rows, weight, input, m0, sums);
        else tile_q4_0_avx2(rows, weight, input, m0, sums);
        return;
#endif
#if defined(QUANT_HAS_VNNI)
    case QUANT_KERNEL_AVX512_VNNI:
        if (type == QUANT_Q8_0) tile_q8_0_vnni(rows, weight, input, m0, sums);
        else tile_q4_0_vnni(rows, weight, input, m0, sums);
        return;
#endif
    default:
        for (int r = 0; r < rows; r++) sums[r] = row_dot_scalar(type, weight, input, m0 + r);
        return;
    }
}

// out (M,N) = inp · Wᵀ + bias without quantizing the input: each weight block dequantized on
// the stack and multiplied in fp32. Allocates nothing; the path taken when there is no memory
// for the quantized input (M·K bytes), so that the product never fails.
static void forward_unquantized_input(float *out, const float *inp, const QuantMatrix *weight, const float *bias, int M,
                                      int K, int N) {
#pragma omp parallel for schedule(static) if ((long)N * K > 65536)
    for (int n = 0; n < N; n++) {
        for (int m = 0; m < M; m++) out[(size_t)m * N + n] = bias ? bias[n] : 0.0f;
        for (int b = 0; b < K / QUANT_BLOCK; b++) {
            float block[QUANT_BLOCK];
            quant_dequantize_block(weight, n, b, block);
            for (int m = 0; m < M; m++) {
                const float *x = inp + (size_t)m * K + (size_t)b * QUANT_BLOCK;
                float dot = 0.0f;
                for (int j = 0; j < QUANT_BLOCK; j++) dot += block[j] * x[j];
                out[(size_t)m * N + n] += dot;
            }
        }
    }
}

void quant_matmul_forward_with(QuantKernel kernel, float *out, const float *inp, const QuantMatrix *weight,
                               const float *bias, int M, int K, int N) {
    assert(weight->cols == K && weight->rows == N && K % QUANT_BLOCK == 0 && M >= 0);
    assert(quant_kernel_available(kernel));
    if (kernel == QUANT_KERNEL_BEST) kernel = quant_kernel_best();
    if (M == 0) return;
    QuantizedInput input;
    // The SIMD Q4_0 kernels read the input in pairs of blocks.
    int paired = weight->type == QUANT_Q4_0 && kernel != QUANT_KERNEL_SCALAR;
    if (quantize_input(&input, inp, M, K, paired) != 0) {
        forward_unquantized_input(out, inp, weight, bias, M, K, N);
        return;
    }
    size_t row_bytes = quant_row_bytes(weight->type, K);
    int n_bands = (N + WEIGHT_BAND - 1) / WEIGHT_BAND;
#pragma omp parallel for schedule(static) if ((long)N * K > 65536)
    for (int band = 0; band < n_bands; band++) {
        int n_start = band * WEIGHT_BAND, n_end = n_start + WEIGHT_BAND < N ? n_start + WEIGHT_BAND : N;
        for (int m0 = 0; m0 < M; m0 += INPUT_TILE) {
            int rows = M - m0 < INPUT_TILE ? M - m0 : INPUT_TILE;
            for (int n = n_start; n < n_end; n++) {
                float sums[INPUT_TILE];
                tile(kernel, weight->type, rows, (const char *)weight->data + (size_t)n * row_bytes, &input, m0, sums);
                for (int r = 0; r < rows; r++) out[(size_t)(m0 + r) * N + n] = bias ? sums[r] + bias[n] : sums[r];
            }
        }
    }
    free(input.memory);
}

void quant_matmul_forward(float *out, const float *inp, const QuantMatrix *weight, const float *bias, int M, int K,
                          int N) {
    quant_matmul_forward_with(QUANT_KERNEL_BEST, out, inp, weight, bias, M, K, N);
}

void quant_matmul_forward_scalar(float *out, const float *inp, const QuantMatrix *weight, const float *bias, int M,
                                 int K, int N) {
    quant_matmul_forward_with(QUANT_KERNEL_SCALAR, out, inp, weight, bias, M, K, N);
}

// ----------------------------------------------------------------------------
// backward to the input

int quant_matmul_backward_input(float *d_inp, const float *d_out, const QuantMatrix *weight, int M, int K, int N,
                                Error *error) {
    assert(weight->cols == K && weight->rows == N && M >= 0);
    if (M == 0) return 0;
    int band_rows = N < BACKWARD_BAND ? N : BACKWARD_BAND;
    float *band = malloc(sizeof(float) * (size_t)band_rows * K);
    if (!band) return error_set(error, "out of memory for a %d x %d dequantized band", band_rows, K);
    for (int n0 = 0; n0 < N; n0 += band_rows) {
        int rows = N - n0 < band_rows ? N - n0 : band_rows;
#pragma omp parallel for schedule(static) if ((long)rows * K > 65536)
        for (int r = 0; r < rows; r++) quant_dequantize_row(weight, n0 + r, band + (size_t)r * K);
        // d_inp (M,K) += d_out[:, n0:n0+rows] (M,rows) · band (rows,K)
        gemm(M, K, rows, d_out + n0, N, 1, band, K, 1, d_inp, K, 1);
    }
    free(band);
    return 0;
}
