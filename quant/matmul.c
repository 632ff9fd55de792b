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
//   6. From 8 input rows (prompts, batches), the SIMD kernels turn this around: a strip of
//      32 weight rows is repacked once so that one register holds 4 consecutive codes of 16
//      (or 8) weight rows, and one instruction multiplies it with 4 bytes of an input row
//      broadcast to every lane, for every input row in turn, without horizontal sums
//      (matmul_avx512.c explains it). The float operations stay those of 2. and 4.
//   7. The SIMD kernels (matmul_avx2.c, matmul_avx512.c, with a body shared through
//      matmul_x86.h) are compiled for their instruction sets whatever the build's flags;
//      which one runs is asked of the CPU once, when the first product needs it
//      (quant_kernel_best).
#include <assert.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/matmul.h"
#include "quant/matmul_kernels.h"
#include "quant/quant.h"

enum {
    WEIGHT_BAND = 16,     // weight rows per unit of OpenMP work
    DEQUANTIZED_BAND = 768,  // weight rows dequantized at a time (4 of the AVX-512 gemm's strips)
};

// ----------------------------------------------------------------------------
// which kernel: asked of the CPU once, at run time

const char *quant_kernel_name(QuantKernel kernel) {
    switch (kernel) {
    case QUANT_KERNEL_BEST: return quant_kernel_name(quant_kernel_best());
    case QUANT_KERNEL_PORTABLE: return "portable";
    case QUANT_KERNEL_AVX2: return "avx2";
    case QUANT_KERNEL_AVX512_VNNI: return "avx512-vnni";
    default: return "?";
    }
}

int quant_kernel_supported(QuantKernel kernel) {
    switch (kernel) {
    case QUANT_KERNEL_BEST:
    case QUANT_KERNEL_PORTABLE: return 1;
#if defined(QUANT_HAS_X86)
    // (F16C too, which every CPU with AVX2 has: Intel since Ivy Bridge, AMD since Piledriver;
    // clang 14 cannot ask for it.)
    case QUANT_KERNEL_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case QUANT_KERNEL_AVX512_VNNI:
        return quant_kernel_supported(QUANT_KERNEL_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512vnni");
#endif
    default: return 0;
    }
}

// The fastest kernel this CPU runs, or the one GROUNDUP_QUANT names (portable, avx2,
// avx512-vnni; to measure one against another) if the CPU runs it. Decided once: the CPU does
// not change while the program runs.
QuantKernel quant_kernel_best(void) {
    static int chosen = -1;  // a cache of a pure function of the CPU and the environment
    int kernel = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (kernel >= 0) return (QuantKernel)kernel;
    kernel = QUANT_KERNEL_PORTABLE;
    for (int k = QUANT_KERNEL_COUNT - 1; k > QUANT_KERNEL_PORTABLE; k--)
        if (quant_kernel_supported((QuantKernel)k)) {
            kernel = k;
            break;
        }
    const char *wanted = getenv("GROUNDUP_QUANT");
    for (int k = QUANT_KERNEL_PORTABLE; wanted && k < QUANT_KERNEL_COUNT; k++)
        if (strcmp(wanted, quant_kernel_name((QuantKernel)k)) == 0 && quant_kernel_supported((QuantKernel)k)) kernel = k;
    __atomic_store_n(&chosen, kernel, __ATOMIC_RELAXED);
    return (QuantKernel)kernel;
}

// ----------------------------------------------------------------------------
// the input, quantized per block (QuantizedInput: matmul_kernels.h)

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
// the product

// rows input rows from m0 · one weight row -> sums[rows], with the chosen kernel.
static void tile_portable(QuantType type, int rows, const char *weight_row, const QuantizedInput *input, int m0,
                          float *sums) {
    for (int r = 0; r < rows; r++) sums[r] = row_dot_scalar(type, weight_row, input, m0 + r);
}

// The tile function of a kernel the CPU supports.
static QuantTileFunction *tile_function(QuantKernel kernel) {
    switch (kernel) {
#if defined(QUANT_HAS_X86)
    case QUANT_KERNEL_AVX2: return quant_tile_avx2;
    case QUANT_KERNEL_AVX512_VNNI: return quant_tile_avx512_vnni;
#endif
    default: return tile_portable;
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

// out (M,N) = the quantized input · Wᵀ + bias, one weight row at a time against tiles of
// INPUT_TILE input rows.
static void forward_tiles(QuantTileFunction *tile, float *out, const QuantizedInput *input, const QuantMatrix *weight,
                          const float *bias, int M, int K, int N) {
    size_t row_bytes = quant_row_bytes(weight->type, K);
    int n_bands = (N + WEIGHT_BAND - 1) / WEIGHT_BAND;
#pragma omp parallel for schedule(static) if ((long)N * K > 65536)
    for (int band = 0; band < n_bands; band++) {
        int n_start = band * WEIGHT_BAND, n_end = n_start + WEIGHT_BAND < N ? n_start + WEIGHT_BAND : N;
        for (int m0 = 0; m0 < M; m0 += INPUT_TILE) {
            int rows = M - m0 < INPUT_TILE ? M - m0 : INPUT_TILE;
            for (int n = n_start; n < n_end; n++) {
                float sums[INPUT_TILE];
                tile(weight->type, rows, (const char *)weight->data + (size_t)n * row_bytes, input, m0, sums);
                for (int r = 0; r < rows; r++) out[(size_t)(m0 + r) * N + n] = bias ? sums[r] + bias[n] : sums[r];
            }
        }
    }
}

// Bytes of one thread's scratch for a strip kernel: the repacked codes (and, for AVX2's Q8_0,
// the signs: 2 · 1024 bytes per block) and the scales (128 bytes per block).
static size_t strip_scratch_bytes(int n_blocks) { return (size_t)n_blocks * (2 * 1024 + 128); }

// The strip kernel of a kernel for M rows, or NULL: below these rows (or for the portable
// kernel) the tile kernels are faster. Measured on one thread, 3072 x 768 (bench/README.md):
// VNNI strips beat the tiles from 4 rows (q8_0 102 against 83 GOPS), AVX2 strips from 8 rows
// in Q4_0 (113 against 88) but only from 16 in Q8_0 (84 against 78), whose every step pays
// for a sign and a widening.
static QuantStripFunction *strip_function(QuantKernel kernel, QuantType type, int M) {
#if defined(QUANT_HAS_X86)
    if (kernel == QUANT_KERNEL_AVX512_VNNI && M >= 4) return quant_strip_avx512_vnni;
    if (kernel == QUANT_KERNEL_AVX2 && M >= (type == QUANT_Q8_0 ? 16 : 8)) return quant_strip_avx2;
#endif
    (void)kernel, (void)type, (void)M;
    return NULL;
}

// The same in strips of QUANT_STRIP_ROWS weight rows against all input rows, each thread
// repacking its strips into its own scratch (threads · scratch_bytes at scratch).
static void forward_strips(QuantStripFunction *strip, float *out, const QuantizedInput *input,
                           const QuantMatrix *weight, const float *bias, int M, int K, int N, char *scratch,
                           size_t scratch_bytes) {
    size_t row_bytes = quant_row_bytes(weight->type, K);
    int n_strips = (N + QUANT_STRIP_ROWS - 1) / QUANT_STRIP_ROWS;
#pragma omp parallel if ((long)N * K > 65536)
    {
        char *mine = scratch + (size_t)omp_get_thread_num() * scratch_bytes;
#pragma omp for schedule(static)
        for (int s = 0; s < n_strips; s++) {
            int n0 = s * QUANT_STRIP_ROWS, count = N - n0 < QUANT_STRIP_ROWS ? N - n0 : QUANT_STRIP_ROWS;
            strip(weight->type, (const char *)weight->data + (size_t)n0 * row_bytes, row_bytes, count, input, M,
                  bias ? bias + n0 : NULL, out + n0, N, mine);
        }
    }
}

void quant_matmul_forward_with(QuantKernel kernel, float *out, const float *inp, const QuantMatrix *weight,
                               const float *bias, int M, int K, int N) {
    assert(weight->cols == K && weight->rows == N && K % QUANT_BLOCK == 0 && M >= 0);
    assert(quant_kernel_supported(kernel));
    if (kernel == QUANT_KERNEL_BEST) kernel = quant_kernel_best();
    if (M == 0) return;
    // Many rows: strips, each thread with its scratch (if there is memory).
    QuantStripFunction *strip = strip_function(kernel, weight->type, M);
    size_t scratch_bytes = strip_scratch_bytes(K / QUANT_BLOCK);
    char *scratch = strip ? aligned_alloc(64, scratch_bytes * (size_t)omp_get_max_threads()) : NULL;
    QuantizedInput input;
    // The SIMD Q4_0 tile kernels read the input in pairs of blocks.
    int paired = weight->type == QUANT_Q4_0 && kernel != QUANT_KERNEL_PORTABLE && !scratch;
    if (quantize_input(&input, inp, M, K, paired) != 0) {
        free(scratch);
        forward_unquantized_input(out, inp, weight, bias, M, K, N);
        return;
    }
    if (scratch) forward_strips(strip, out, &input, weight, bias, M, K, N, scratch, scratch_bytes);
    else forward_tiles(tile_function(kernel), out, &input, weight, bias, M, K, N);
    free(scratch);
    free(input.memory);
}

// Rows n0..n0+rows of W in fp32: band (rows, K).
static void dequantize_band(const QuantMatrix *weight, int n0, int rows, float *band) {
#pragma omp parallel for schedule(static) if ((long)rows * weight->cols > 65536)
    for (int r = 0; r < rows; r++) quant_dequantize_row(weight, n0 + r, band + (size_t)r * weight->cols);
}

// Many rows (a prompt, a training batch) without a many-row integer kernel: each weight is
// used M times, so it pays to turn a band of W back into fp32 once and give it to the fp32
// gemm, whose register tiling reuses every loaded value many times.
int quant_matmul_forward_dequantized(float *out, const float *inp, const QuantMatrix *weight, const float *bias, int M,
                                     int K, int N) {
    assert(weight->cols == K && weight->rows == N && M >= 0);
    if (M == 0) return 0;
    int band_rows = N < DEQUANTIZED_BAND ? N : DEQUANTIZED_BAND;
    float *band = malloc(sizeof(float) * (size_t)band_rows * K);
    if (!band) return -1;
    if (bias) {
#pragma omp parallel for schedule(static) if ((long)M * N > 65536)
        for (int m = 0; m < M; m++) memcpy(out + (size_t)m * N, bias, sizeof(float) * (size_t)N);
    }
    for (int n0 = 0; n0 < N; n0 += band_rows) {
        int rows = N - n0 < band_rows ? N - n0 : band_rows;
        dequantize_band(weight, n0, rows, band);
        // out[:, n0:n0+rows] (M,rows) (+)= inp (M,K) · bandᵀ
        gemm(M, rows, K, inp, K, 1, band, 1, K, out + n0, N, bias != NULL);
    }
    free(band);
    return 0;
}

void quant_matmul_forward(float *out, const float *inp, const QuantMatrix *weight, const float *bias, int M, int K,
                          int N) {
    QuantKernel kernel = quant_kernel_best();
    // The SIMD kernels' strips multiply many rows in integers faster than the fp32 gemm does
    // (bench/README.md); the portable kernel hands them to the gemm.
    int integer_rows = kernel != QUANT_KERNEL_PORTABLE;
    if (M >= QUANT_DEQUANTIZE_MIN_ROWS && !integer_rows &&
        quant_matmul_forward_dequantized(out, inp, weight, bias, M, K, N) == 0)
        return;
    quant_matmul_forward_with(kernel, out, inp, weight, bias, M, K, N);
}

void quant_matmul_forward_portable(float *out, const float *inp, const QuantMatrix *weight, const float *bias, int M,
                                   int K, int N) {
    quant_matmul_forward_with(QUANT_KERNEL_PORTABLE, out, inp, weight, bias, M, K, N);
}

// ----------------------------------------------------------------------------
// backward to the input

int quant_matmul_backward_input(float *d_inp, const float *d_out, const QuantMatrix *weight, int M, int K, int N,
                                Error *error) {
    assert(weight->cols == K && weight->rows == N && M >= 0);
    if (M == 0) return 0;
    int band_rows = N < DEQUANTIZED_BAND ? N : DEQUANTIZED_BAND;
    float *band = malloc(sizeof(float) * (size_t)band_rows * K);
    if (!band) return error_set(error, "out of memory for a %d x %d dequantized band", band_rows, K);
    for (int n0 = 0; n0 < N; n0 += band_rows) {
        int rows = N - n0 < band_rows ? N - n0 : band_rows;
        dequantize_band(weight, n0, rows, band);
        // d_inp (M,K) += d_out[:, n0:n0+rows] (M,rows) · band (rows,K)
        gemm(M, K, rows, d_out + n0, N, 1, band, K, 1, d_inp, K, 1);
    }
    free(band);
    return 0;
}
