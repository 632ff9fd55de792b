// quant/: fp16 conversions (every half exhaustively, rounding ties, subnormals, overflow, and
// against the F16C instructions), Q8_0/Q4_0 round trip error per block against the bounds,
// the Q4_0 packing order, every kernel the CPU supports against the portable one (bit for bit)
// on awkward shapes (and a failure if one the CPU supports is not offered), the portable kernel
// against a double product of the dequantized weights within the activation-quantization
// bound, the input gradient, and bad shapes.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/random.h"
#include "quant/quant.h"
#include "tests/check.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

static uint32_t bits_of(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static float float_of(uint32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

// The value of a half computed from its definition, in double.
static double half_value(uint16_t half) {
    int sign = half >> 15, exponent = (half >> 10) & 31, mantissa = half & 1023;
    double magnitude = exponent == 0 ? ldexp(mantissa, -24) : ldexp(1024 + mantissa, exponent - 25);
    if (exponent == 31) magnitude = mantissa ? NAN : INFINITY;
    return sign ? -magnitude : magnitude;
}

// ----------------------------------------------------------------------------
// fp16

static void test_fp16(void) {
    // Every half: the decoded value is the definition, and encoding it gives it back.
    int decode_errors = 0, round_trip_errors = 0, hardware_errors = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float value = half_to_float_portable((uint16_t)h);
        double expected = half_value((uint16_t)h);
        if (isnan(expected) ? !isnan(value) : (double)value != expected || !signbit(value) != !signbit(expected))
            decode_errors++;
        uint16_t back = half_from_float_portable(value);
        if (isnan(expected) ? (back & 0x7c00) != 0x7c00 || (back & 0x3ff) == 0 : back != h) round_trip_errors++;
        if (bits_of(half_to_float((uint16_t)h)) != bits_of(value)) hardware_errors++;
    }
    CHECK(decode_errors == 0, "%d halves decode differently from the definition", decode_errors);
    CHECK(round_trip_errors == 0, "%d halves do not survive half -> float -> half", round_trip_errors);
    CHECK(hardware_errors == 0, "%d halves decode differently with half_to_float", hardware_errors);

    // Edge cases, from the definition of binary16.
    struct {
        float value;
        uint16_t half;
    } cases[] = {
        {0.0f, 0x0000},        {-0.0f, 0x8000},         {1.0f, 0x3c00},
        {-2.0f, 0xc000},       {65504.0f, 0x7bff},       {65519.0f, 0x7bff},  // just below the tie: max
        {65520.0f, 0x7c00},    {1e6f, 0x7c00},           {-1e6f, 0xfc00},     // the tie and above: infinity
        {INFINITY, 0x7c00},    {-INFINITY, 0xfc00},      {0x1p-14f, 0x0400},  // smallest normal
        {0x1p-24f, 0x0001},    {0x1p-25f, 0x0000},       {-0x1p-25f, 0x8000}, // half the smallest subnormal: tie to 0
        {0x1.0002p-25f, 0x0001}, {0x3p-25f, 0x0002},     {0x1p-30f, 0x0000},  // 1.5 subnormals: tie to even (2)
        {0x3ffp-24f, 0x03ff},  {0x7ffp-25f, 0x0400},     // largest subnormal; a tie that rounds up into the normals
        {1.0f + 0x1p-11f, 0x3c00}, {1.0f + 0x3p-11f, 0x3c02}, {1.0f + 0x1.8p-11f, 0x3c01},  // ties to even, above a tie
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t got = half_from_float_portable(cases[i].value), hardware = half_from_float(cases[i].value);
        CHECK(got == cases[i].half, "fp16(%a) = 0x%04x, expected 0x%04x", (double)cases[i].value, got, cases[i].half);
        CHECK(hardware == cases[i].half, "fp16 (public) (%a) = 0x%04x, expected 0x%04x", (double)cases[i].value,
              hardware, cases[i].half);
    }
    CHECK(isnan(half_to_float_portable(half_from_float_portable(NAN))), "NaN must stay NaN");

    // Floats spread over all bit patterns: the result is the nearest half (ties: even
    // mantissa), and the portable and public (F16C) versions agree bit for bit.
    int not_nearest = 0, disagreements = 0;
    for (uint64_t bits = 0; bits < 0x100000000ull; bits += 4093) {
        float value = float_of((uint32_t)bits);
        uint16_t half = half_from_float_portable(value);
        if (half != half_from_float(value) && !isnan(value)) disagreements++;
        if (isnan(value) || fabsf(value) >= 65520.0f) continue;
        double error = fabs(half_value(half) - value);
        for (int step = -1; step <= 1; step += 2) {
            uint16_t neighbour = (uint16_t)(half + step);
            if ((neighbour & 0x7fff) >= 0x7c00 || (neighbour & 0x8000) != (half & 0x8000)) continue;
            double other = fabs(half_value(neighbour) - value);
            if (other < error || (other == error && (half & 1))) not_nearest++;
        }
    }
    CHECK(not_nearest == 0, "%d conversions are not the nearest half (ties to even)", not_nearest);
    CHECK(disagreements == 0, "%d conversions differ between the portable and public versions", disagreements);
}

// ----------------------------------------------------------------------------
// formats

// Weights with a different magnitude per block, some zero blocks and some outliers.
static float *test_weights(Random *rng, int rows, int cols) {
    float *w = malloc(sizeof(float) * (size_t)rows * cols);
    for (int i = 0; i < rows * cols / QUANT_BLOCK; i++) {
        float *block = w + (size_t)i * QUANT_BLOCK;
        float std = powf(10.0f, -3.0f + 3.0f * random_uniform(rng));
        random_fill_normal(rng, block, QUANT_BLOCK, 0.0f, std);
        if (i % 11 == 3) memset(block, 0, sizeof(float) * QUANT_BLOCK);
        if (i % 7 == 2) block[random_below(rng, QUANT_BLOCK)] *= 20.0f;  // an outlier
    }
    return w;
}

// Every block of a Q8_0 / Q4_0 matrix: the stored scale follows the rule from the
// weights, and every weight is within the bound of quant.h.
static void test_round_trip(Random *rng) {
    int rows = 13, cols = 160;
    float *w = test_weights(rng, rows, cols), *back = malloc(sizeof(float) * (size_t)rows * cols);
    for (int t = 0; t < 2; t++) {
        QuantType type = t == 0 ? QUANT_Q8_0 : QUANT_Q4_0;
        QuantMatrix matrix;
        Error error;
        CHECK(quant_matrix_quantize(&matrix, type, w, rows, cols, &error) == 0, "%s", error.message);
        CHECK(matrix.bytes == (size_t)rows * cols / 32 * (type == QUANT_Q8_0 ? 34 : 18), "%s: %zu bytes",
              quant_type_name(type), matrix.bytes);
        quant_dequantize(&matrix, back);
        int scale_errors = 0, bound_errors = 0, clamped = 0;
        for (int i = 0; i < rows * cols / QUANT_BLOCK; i++) {
            const float *block = w + (size_t)i * QUANT_BLOCK, *restored = back + (size_t)i * QUANT_BLOCK;
            float max_abs = 0.0f, extreme = 0.0f;
            for (int j = 0; j < QUANT_BLOCK; j++) {
                if (fabsf(block[j]) > max_abs) max_abs = fabsf(block[j]), extreme = block[j];
            }
            uint16_t stored = type == QUANT_Q8_0 ? ((const QuantBlockQ8_0 *)matrix.data)[i].scale
                                                 : ((const QuantBlockQ4_0 *)matrix.data)[i].scale;
            uint16_t expected = half_from_float_portable(type == QUANT_Q8_0 ? max_abs / 127.0f : extreme / -8.0f);
            if (stored != expected) scale_errors++;
            double d = fabs(half_value(stored));
            for (int j = 0; j < QUANT_BLOCK; j++) {
                double error_j = fabs((double)block[j] - restored[j]);
                double bound = d / 2 * (1 + 1e-6) + 1e-12;
                // Q4_0: weights of the other sign than the extreme beyond 7.5 d are clamped to 7 d.
                if (type == QUANT_Q4_0 && d > 0 && (double)block[j] * extreme < 0 && fabs(block[j]) > 7.5 * d) {
                    bound = d * (1 + 1e-6);
                    clamped++;
                }
                if (!(error_j <= bound)) bound_errors++;
            }
        }
        CHECK(scale_errors == 0, "%s: %d blocks with a scale off the rule", quant_type_name(type), scale_errors);
        CHECK(bound_errors == 0, "%s: %d weights beyond the bound", quant_type_name(type), bound_errors);
        if (type == QUANT_Q4_0) CHECK(clamped > 0, "the test data should reach the clamped case (%d)", clamped);

        // quant_error_stats against a direct computation.
        double sum_squares = 0.0, max_abs = 0.0;
        for (int i = 0; i < rows * cols; i++) {
            double e = (double)w[i] - back[i];
            sum_squares += e * e;
            max_abs = fmax(max_abs, fabs(e));
        }
        QuantErrorStats stats = quant_error_stats(&matrix, w);
        CHECK_NEAR(stats.rms, sqrt(sum_squares / (rows * cols)), 1e-12);
        CHECK_NEAR(stats.max_abs, max_abs, 1e-12);

        // Into caller memory: the same bytes; dequantize_row: the same row.
        void *buffer = malloc(matrix.bytes);
        QuantMatrix view;
        CHECK(quant_matrix_quantize_into(&view, buffer, matrix.bytes, type, w, rows, cols, &error) == 0, "%s",
              error.message);
        CHECK(memcmp(buffer, matrix.data, matrix.bytes) == 0 && !view.owns_data, "quantize_into differs");
        float row[160];
        quant_dequantize_row(&view, 5, row);
        CHECK(memcmp(row, back + 5 * cols, sizeof row) == 0, "dequantize_row differs from dequantize");
        free(buffer);
        quant_matrix_free(&matrix);
        CHECK(matrix.data == NULL, "free leaves a zeroed struct");
    }
    free(w), free(back);
}

// Q4_0 layout: q_j chosen, w_j = q_j - 8 with one -8 (so d = 1 exactly): byte j must be
// q_j | q_{j+16} << 4, and Q8_0 must hold q = round(w / d) in element order.
static void test_packing(void) {
    float w[QUANT_BLOCK];
    uint8_t q[QUANT_BLOCK];
    for (int j = 0; j < QUANT_BLOCK; j++) q[j] = (uint8_t)((j * 7 + 3) % 16);  // all of 0..15, scrambled
    for (int j = 0; j < QUANT_BLOCK; j++) w[j] = (float)q[j] - 8.0f;
    QuantBlockQ4_0 block4;
    quant_quantize_row(QUANT_Q4_0, w, &block4, QUANT_BLOCK);
    CHECK(block4.scale == 0x3c00, "Q4_0 scale of a block whose extreme is -8: 0x%04x, expected 1.0", block4.scale);
    for (int j = 0; j < 16; j++)
        CHECK(block4.packed[j] == (q[j] | q[j + 16] << 4), "byte %d = 0x%02x, expected 0x%02x", j, block4.packed[j],
              q[j] | q[j + 16] << 4);
    // A positive extreme: d negative, the extreme still at q = 0.
    for (int j = 0; j < QUANT_BLOCK; j++) w[j] = -w[j];
    quant_quantize_row(QUANT_Q4_0, w, &block4, QUANT_BLOCK);
    CHECK(block4.scale == 0xbc00, "Q4_0 scale for a positive extreme 8: 0x%04x, expected -1.0", block4.scale);
    CHECK((block4.packed[0] & 15) == q[0] && (block4.packed[3] >> 4) == q[19], "Q4_0 with negative scale");

    QuantBlockQ8_0 block8;
    for (int j = 0; j < QUANT_BLOCK; j++) w[j] = (float)(j - 16) * 0.5f;  // max |w| = 8, d = 8/127
    quant_quantize_row(QUANT_Q8_0, w, &block8, QUANT_BLOCK);
    float d = half_to_float_portable(block8.scale);
    for (int j = 0; j < QUANT_BLOCK; j++)
        CHECK(block8.values[j] == (int8_t)nearbyint(w[j] / d), "Q8_0 element %d = %d", j, block8.values[j]);
    CHECK(block8.values[0] == -127, "the extreme maps to -127 (%d)", block8.values[0]);
}

// The documented choice d = m / -8 against the symmetric d = max|w| / 7 on Gaussian weights.
static void test_q4_0_scale_choice(Random *rng) {
    int rows = 64, cols = 768;
    float *w = malloc(sizeof(float) * (size_t)rows * cols);
    random_fill_normal(rng, w, (long)rows * cols, 0.0f, 0.02f);
    QuantMatrix matrix;
    Error error;
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q4_0, w, rows, cols, &error) == 0, "%s", error.message);
    QuantErrorStats chosen = quant_error_stats(&matrix, w);
    double sum_squares = 0.0;
    for (int i = 0; i < rows * cols / QUANT_BLOCK; i++) {
        const float *block = w + (size_t)i * QUANT_BLOCK;
        float max_abs = 0.0f;
        for (int j = 0; j < QUANT_BLOCK; j++) max_abs = fmaxf(max_abs, fabsf(block[j]));
        float d = half_to_float_portable(half_from_float_portable(max_abs / 7.0f));
        for (int j = 0; j < QUANT_BLOCK; j++) {
            double restored = d * fmin(fmax(nearbyint(block[j] / d), -7.0), 7.0);
            sum_squares += (block[j] - restored) * (block[j] - restored);
        }
    }
    double symmetric = sqrt(sum_squares / (rows * cols));
    fprintf(stderr, "q4_0 RMS error / RMS weight on N(0, 0.02): d = m/-8: %.4f, d = max|w|/7: %.4f\n",
            chosen.rms / chosen.weight_rms, symmetric / chosen.weight_rms);
    CHECK(chosen.rms < symmetric, "m/-8 (%g) should beat max|w|/7 (%g)", chosen.rms, symmetric);
    quant_matrix_free(&matrix);
    free(w);
}

// ----------------------------------------------------------------------------
// kernels

// out (M,N) from the dequantized weights in double, and the bound of the input quantization:
// |Σ ŵ (x - x̂)| <= Σ_blocks d_x / 2 · Σ |ŵ|, plus fp32 rounding of the sums.
static void reference_product(double *out, double *bound, const float *inp, const float *dequantized,
                              const float *bias, int M, int K, int N) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double sum = bias ? bias[n] : 0.0, slack = 0.0, magnitude = 0.0;
            for (int b = 0; b < K / QUANT_BLOCK; b++) {
                const float *x = inp + (size_t)m * K + b * QUANT_BLOCK, *w = dequantized + (size_t)n * K + b * QUANT_BLOCK;
                double max_abs = 0.0, sum_abs_w = 0.0;
                for (int j = 0; j < QUANT_BLOCK; j++) {
                    sum += (double)x[j] * w[j];
                    max_abs = fmax(max_abs, fabs(x[j]));
                    sum_abs_w += fabs(w[j]);
                    magnitude += fabs((double)x[j] * w[j]);
                }
                slack += max_abs / 127.0 / 2.0 * sum_abs_w;
            }
            out[(size_t)m * N + n] = sum;
            bound[(size_t)m * N + n] = slack * (1 + 1e-5) + 1e-5 * magnitude + 1e-6;
        }
}

// quant_matmul_forward_dequantized multiplies fp32 activations with the dequantized weights:
// the fp32 product of the dequantized matrix, up to summation order. quant_matmul_forward
// takes that path from QUANT_DEQUANTIZE_MIN_ROWS rows on when the chosen kernel is the
// portable one; a SIMD kernel's product (the portable kernel's bits) otherwise.
static void test_forward_dequantized(Random *rng) {
    const int Ms[] = {QUANT_DEQUANTIZE_MIN_ROWS, 90, 130}, Ns[] = {7, 300, 1000};
    for (int t = 0; t < 2; t++)
        for (int a = 0; a < 3; a++) {
            QuantType type = t == 0 ? QUANT_Q8_0 : QUANT_Q4_0;
            int M = Ms[a], K = 96 * (a + 1), N = Ns[a];
            float *w = test_weights(rng, N, K), *inp = malloc(sizeof(float) * (size_t)M * K);
            float *bias = malloc(sizeof(float) * (size_t)N), *out = malloc(sizeof(float) * (size_t)M * N);
            float *dequantized = malloc(sizeof(float) * (size_t)N * K);
            random_fill_normal(rng, inp, (long)M * K, 0.0f, 1.0f);
            random_fill_normal(rng, bias, N, 0.0f, 1.0f);
            QuantMatrix matrix;
            Error error;
            CHECK(quant_matrix_quantize(&matrix, type, w, N, K, &error) == 0, "%s", error.message);
            quant_dequantize(&matrix, dequantized);
            CHECK(quant_matmul_forward_dequantized(out, inp, &matrix, a == 1 ? NULL : bias, M, K, N) == 0, "memory");
            float *chosen = malloc(sizeof(float) * (size_t)M * N), *expected = malloc(sizeof(float) * (size_t)M * N);
            quant_matmul_forward(chosen, inp, &matrix, a == 1 ? NULL : bias, M, K, N);
            if (quant_kernel_best() != QUANT_KERNEL_PORTABLE)
                quant_matmul_forward_portable(expected, inp, &matrix, a == 1 ? NULL : bias, M, K, N);
            else
                memcpy(expected, out, sizeof(float) * (size_t)M * N);
            CHECK(memcmp(chosen, expected, sizeof(float) * (size_t)M * N) == 0,
                  "%s M=%d: quant_matmul_forward with %s is not the path it should take", quant_type_name(type), M,
                  quant_kernel_name(QUANT_KERNEL_BEST));
            free(chosen), free(expected);
            double worst = 0.0;
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double sum = a == 1 ? 0.0 : bias[n], magnitude = fabs(sum);
                    for (int k = 0; k < K; k++) {
                        sum += (double)inp[(size_t)m * K + k] * dequantized[(size_t)n * K + k];
                        magnitude += fabs((double)inp[(size_t)m * K + k] * dequantized[(size_t)n * K + k]);
                    }
                    double error_here = fabs(out[(size_t)m * N + n] - sum) / (magnitude + 1e-30);
                    if (!(error_here <= worst)) worst = error_here;  // NaN sticks
                }
            // fp32 sums of K terms: relative to the sum of magnitudes, within K · 2^-24
            CHECK(worst <= K * 6e-8, "%s dequantized forward M=%d K=%d N=%d: relative error %g", quant_type_name(type), M,
                  K, N, worst);
            quant_matrix_free(&matrix);
            free(w), free(inp), free(bias), free(out), free(dequantized);
        }
}

// One product with a kernel: the portable kernel must lie within the quantization bound of
// the double product of the dequantized weights, any other kernel must give the portable
// kernel's bits. case_index varies the input (an outlier activation, a bias or none).
static void check_kernel_on(QuantKernel kernel, QuantType type, int M, int K, int N, int case_index, Random *rng) {
    float *w = test_weights(rng, N, K), *inp = malloc(sizeof(float) * (size_t)M * K);
    random_fill_normal(rng, inp, (long)M * K, 0.0f, 1.0f);
    if (case_index % 5 == 0) inp[(size_t)(M - 1) * K + K - 1] = 40.0f;  // an outlier activation
    float *bias = NULL;
    if (case_index % 2) {
        bias = malloc(sizeof(float) * (size_t)N);
        random_fill_normal(rng, bias, N, 0.0f, 1.0f);
    }
    QuantMatrix matrix;
    Error error;
    CHECK(quant_matrix_quantize(&matrix, type, w, N, K, &error) == 0, "%s", error.message);
    float *portable = malloc(sizeof(float) * (size_t)M * N), *fast = malloc(sizeof(float) * (size_t)M * N);
    quant_matmul_forward_portable(portable, inp, &matrix, bias, M, K, N);
    if (kernel == QUANT_KERNEL_PORTABLE) {
        float *dequantized = malloc(sizeof(float) * (size_t)N * K);
        double *expected = malloc(sizeof(double) * (size_t)M * N), *bound = malloc(sizeof(double) * (size_t)M * N);
        quant_dequantize(&matrix, dequantized);
        reference_product(expected, bound, inp, dequantized, bias, M, K, N);
        int outside = 0;
        for (int i = 0; i < M * N; i++)
            if (!(fabs(portable[i] - expected[i]) <= bound[i])) outside++;
        CHECK(outside == 0, "portable %s M=%d K=%d N=%d: %d outputs beyond the quantization bound",
              quant_type_name(type), M, K, N, outside);
        free(dequantized), free(expected), free(bound);
    } else {
        memset(fast, 0xff, sizeof(float) * (size_t)M * N);  // NaNs: an output not written shows
        quant_matmul_forward_with(kernel, fast, inp, &matrix, bias, M, K, N);
        int different = 0;
        for (int i = 0; i < M * N; i++) different += bits_of(fast[i]) != bits_of(portable[i]);
        CHECK(different == 0, "%s %s M=%d K=%d N=%d: %d outputs differ from the portable kernel's",
              quant_kernel_name(kernel), quant_type_name(type), M, K, N, different);
    }
    quant_matrix_free(&matrix);
    free(w), free(inp), free(bias), free(portable), free(fast);
}

// A kernel on every pair of awkward sizes (1, 3, 7, 31, 33, 65, 257 input rows M and weight
// rows N: tiles of rows and strips of weight rows whole and cut), both formats, K cycling
// through one block, a group of 8 blocks and one more (a short group), and 25 blocks. (K must
// be a multiple of the block: quant_check_shape refuses others.)
static void check_kernel(QuantKernel kernel) {
    if (!quant_kernel_supported(kernel)) {
        fprintf(stderr, "test_quant: kernel %s not supported by this CPU, skipped\n", quant_kernel_name(kernel));
        return;
    }
    const int sizes[] = {1, 3, 7, 31, 33, 65, 257}, Ks[] = {32, 288, 96, 800};
    Random rng;
    random_seed(&rng, 6 + (uint64_t)kernel);
    int case_index = 0;
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 7; j++, case_index++)
                check_kernel_on(kernel, t == 0 ? QUANT_Q8_0 : QUANT_Q4_0, sizes[i], Ks[(i + j + t) % 4], sizes[j],
                                case_index, &rng);
}

static void portable_kernel(void) { check_kernel(QUANT_KERNEL_PORTABLE); }
static void avx2_kernel(void) { check_kernel(QUANT_KERNEL_AVX2); }
static void avx512_vnni_kernel(void) { check_kernel(QUANT_KERNEL_AVX512_VNNI); }

// The kernels this CPU should run, from the CPU's own answer, not the dispatcher's.
static int kernels_expected(void) {
    int expected = 1;  // portable
#if defined(__x86_64__) || defined(__i386__)
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");  // (and F16C, which they all have)
    int vnni = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    expected += avx2 + vnni;
#endif
    return expected;
}

// The dispatcher offers every kernel the CPU says it can run (so none goes untested above),
// chooses one of them, and the forward product with the chosen one gives the portable bits
// below QUANT_DEQUANTIZE_MIN_ROWS.
static void every_kernel_the_cpu_supports_is_offered(void) {
    int supported = 0;
    for (int kernel = QUANT_KERNEL_PORTABLE; kernel < QUANT_KERNEL_COUNT; kernel++)
        supported += quant_kernel_supported((QuantKernel)kernel);
    CHECK(supported == kernels_expected(), "%d kernels supported, this CPU runs %d", supported, kernels_expected());
    CHECK(QUANT_KERNEL_COUNT == 4, "a kernel was added without its test case (%d kernels)", QUANT_KERNEL_COUNT);
    QuantKernel best = quant_kernel_best();
    CHECK(best != QUANT_KERNEL_BEST && quant_kernel_supported(best), "the chosen kernel %s is not supported",
          quant_kernel_name(best));
    const char *wanted = getenv("GROUNDUP_QUANT");
    if (wanted && strcmp(wanted, "portable") == 0)
        CHECK(best == QUANT_KERNEL_PORTABLE, "GROUNDUP_QUANT=portable, chosen: %s", quant_kernel_name(best));
    fprintf(stderr, "test_quant: %d kernels supported, chosen: %s\n", supported, quant_kernel_name(best));
    Random rng;
    random_seed(&rng, 6);
    for (int t = 0; t < 2; t++) {
        int M = QUANT_DEQUANTIZE_MIN_ROWS - 1, K = 288, N = 33;
        QuantType type = t == 0 ? QUANT_Q8_0 : QUANT_Q4_0;
        float *w = test_weights(&rng, N, K), *inp = malloc(sizeof(float) * (size_t)M * K);
        float *portable = malloc(sizeof(float) * (size_t)M * N), *chosen = malloc(sizeof(float) * (size_t)M * N);
        random_fill_normal(&rng, inp, (long)M * K, 0.0f, 1.0f);
        QuantMatrix matrix;
        Error error;
        REQUIRE(quant_matrix_quantize(&matrix, type, w, N, K, &error) == 0, "%s", error.message);
        quant_matmul_forward_portable(portable, inp, &matrix, NULL, M, K, N);
        quant_matmul_forward(chosen, inp, &matrix, NULL, M, K, N);
        CHECK(memcmp(portable, chosen, sizeof(float) * (size_t)M * N) == 0, "%s: the chosen kernel differs",
              quant_type_name(type));
        quant_matrix_free(&matrix);
        free(w), free(inp), free(portable), free(chosen);
    }
}

// d_inp += d_out · Ŵ against a double reference, across several bands of 256 rows.
static void test_backward_input(Random *rng) {
    const int shapes[][3] = {{1, 32, 1}, {3, 96, 300}, {5, 64, 600}, {17, 800, 7}};
    for (int s = 0; s < 4; s++)
        for (int t = 0; t < 2; t++) {
            int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
            QuantType type = t == 0 ? QUANT_Q8_0 : QUANT_Q4_0;
            float *w = test_weights(rng, N, K), *d_out = malloc(sizeof(float) * (size_t)M * N);
            float *d_inp = malloc(sizeof(float) * (size_t)M * K), *dequantized = malloc(sizeof(float) * (size_t)N * K);
            random_fill_normal(rng, d_out, (long)M * N, 0.0f, 1.0f);
            random_fill_normal(rng, d_inp, (long)M * K, 0.0f, 1.0f);  // accumulated into
            QuantMatrix matrix;
            Error error;
            CHECK(quant_matrix_quantize(&matrix, type, w, N, K, &error) == 0, "%s", error.message);
            quant_dequantize(&matrix, dequantized);
            double worst = 0.0;
            double *expected = malloc(sizeof(double) * (size_t)M * K), *magnitude = calloc((size_t)M * K, sizeof(double));
            for (int m = 0; m < M; m++)
                for (int k = 0; k < K; k++) {
                    double sum = d_inp[(size_t)m * K + k];
                    for (int n = 0; n < N; n++) {
                        double term = (double)d_out[(size_t)m * N + n] * dequantized[(size_t)n * K + k];
                        sum += term;
                        magnitude[(size_t)m * K + k] += fabs(term);
                    }
                    expected[(size_t)m * K + k] = sum;
                }
            CHECK(quant_matmul_backward_input(d_inp, d_out, &matrix, M, K, N, &error) == 0, "%s", error.message);
            int outside = 0;
            for (int i = 0; i < M * K; i++) {
                double e = fabs(d_inp[i] - expected[i]);
                worst = fmax(worst, e);
                if (!(e <= 1e-5 * (magnitude[i] + fabs(expected[i])) + 1e-6)) outside++;
            }
            CHECK(outside == 0, "backward %s M=%d K=%d N=%d: %d outside tolerance (worst %g)", quant_type_name(type), M,
                  K, N, outside, worst);
            quant_matrix_free(&matrix);
            free(w), free(d_out), free(d_inp), free(dequantized), free(expected), free(magnitude);
        }
}

// ----------------------------------------------------------------------------
// bad input

static void test_bad_shapes(void) {
    float w[96] = {0};
    QuantMatrix matrix;
    Error error;
    error.message[0] = 0;
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q8_0, w, 2, 48, &error) == -1, "K = 48 must be refused");
    CHECK(strstr(error.message, "multiple of 32") != NULL, "message: %s", error.message);
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q4_0, w, 1, 33, &error) == -1, "K = 33 must be refused");
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q4_0, w, 0, 32, &error) == -1, "0 rows must be refused");
    CHECK(quant_matrix_quantize(&matrix, (QuantType)7, w, 1, 32, &error) == -1, "an unknown type must be refused");
    CHECK(quant_row_bytes(QUANT_Q8_0, 48) == 0 && quant_row_bytes(QUANT_Q8_0, 0) == 0, "row bytes of bad K");
    CHECK(quant_row_bytes(QUANT_Q8_0, 96) == 102 && quant_row_bytes(QUANT_Q4_0, 96) == 54, "row bytes");
    char buffer[200] __attribute__((aligned(8)));
    CHECK(quant_matrix_quantize_into(&matrix, buffer, 100, QUANT_Q8_0, w, 1, 96, &error) == -1,
          "a buffer of 100 bytes cannot hold 102");
    CHECK(quant_matrix_quantize_into(&matrix, buffer, 102, QUANT_Q8_0, w, 1, 96, &error) == 0, "%s", error.message);
    CHECK(quant_matrix_view(&matrix, QUANT_Q8_0, 1, 96, buffer, 101, &error) == -1, "a view of the wrong size");
    CHECK(quant_matrix_view(&matrix, QUANT_Q8_0, 1, 96, buffer + 1, 102, &error) == -1, "an odd address");
    CHECK(quant_matrix_view(&matrix, QUANT_Q4_0, 2, 96, buffer, 108, &error) == 0, "%s", error.message);
    QuantType type = QUANT_Q8_0;
    CHECK(quant_type_parse("q4_0", &type, &error) == 0 && type == QUANT_Q4_0, "parse q4_0");
    CHECK(quant_type_parse("q5_1", &type, &error) == -1 && strstr(error.message, "q5_1"), "parse q5_1: %s",
          error.message);
}

// The cases; those that draw random numbers start from the same seed each.
static void round_trip(void) {
    Random rng;
    random_seed(&rng, 6);
    test_round_trip(&rng);
}

static void q4_0_scale_choice(void) {
    Random rng;
    random_seed(&rng, 6);
    test_q4_0_scale_choice(&rng);
}

static void forward_dequantized(void) {
    Random rng;
    random_seed(&rng, 6);
    test_forward_dequantized(&rng);
}

static void backward_input(void) {
    Random rng;
    random_seed(&rng, 6);
    test_backward_input(&rng);
}

// Weights a format cannot store are refused, naming where they are: the largest q8_0 weight
// is 65504·127 (its fp16 scale max|w|/127 must stay finite), the largest q4_0 one 65504·8.
static void unrepresentable_weights(void) {
    Error error;
    float weight[2 * 64];
    for (int i = 0; i < 2 * 64; i++) weight[i] = 0.01f * (float)(i % 7) - 0.03f;
    QuantMatrix matrix;
    weight[64 + 37] = 65504.0f * 127.0f;  // exactly the largest: stored
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q8_0, weight, 2, 64, &error) == 0, "%s", error.message);
    float back[2 * 64];
    quant_dequantize(&matrix, back);
    CHECK(isfinite(back[64 + 37]) && fabsf(back[64 + 37] - weight[64 + 37]) <= 0.5f * 65504.0f, "largest q8_0 weight: %g",
          back[64 + 37]);
    quant_matrix_free(&matrix);
    weight[64 + 37] = 1e7f;
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q8_0, weight, 2, 64, &error) != 0 &&
              strstr(error.message, "row 1, column 37") && strstr(error.message, "q8_0"),
          "1e7 refused in q8_0: %s", error.message);
    weight[64 + 37] = 1e6f;
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q8_0, weight, 2, 64, &error) == 0, "1e6 fits q8_0: %s", error.message);
    quant_matrix_free(&matrix);
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q4_0, weight, 2, 64, &error) != 0 && strstr(error.message, "q4_0"),
          "1e6 refused in q4_0: %s", error.message);
    weight[64 + 37] = -524032.0f;  // 65504 · 8
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q4_0, weight, 2, 64, &error) == 0, "the largest q4_0 weight: %s",
          error.message);
    quant_matrix_free(&matrix);
    weight[3] = NAN;
    CHECK(quant_matrix_quantize(&matrix, QUANT_Q4_0, weight, 2, 64, &error) != 0 && strstr(error.message, "row 0, column 3"),
          "NaN refused: %s", error.message);
    weight[3] = INFINITY;
    CHECK(quant_check_values(QUANT_Q8_0, weight, 2, 64, &error) != 0 && strstr(error.message, "inf"), "inf refused: %s",
          error.message);
}

// A NaN or infinite activation makes its output NaN in every kernel (not a wrapped integer).
static void non_finite_inputs(void) {
    Error error;
    float weight[4 * 64], inp[2 * 64], out[2 * 4];
    for (int i = 0; i < 4 * 64; i++) weight[i] = 0.02f * (float)((i * 5) % 11) - 0.1f;
    for (int i = 0; i < 2 * 64; i++) inp[i] = 0.1f * (float)(i % 9) - 0.4f;
    inp[5] = NAN;
    inp[64 + 40] = INFINITY;
    for (int type = QUANT_Q8_0; type <= QUANT_Q4_0; type++) {
        QuantMatrix matrix;
        REQUIRE(quant_matrix_quantize(&matrix, (QuantType)type, weight, 4, 64, &error) == 0, "%s", error.message);
        for (int kernel = QUANT_KERNEL_PORTABLE; kernel < QUANT_KERNEL_COUNT; kernel++) {
            if (!quant_kernel_supported((QuantKernel)kernel)) continue;
            quant_matmul_forward_with((QuantKernel)kernel, out, inp, &matrix, NULL, 2, 64, 4);
            for (int i = 0; i < 8; i++)
                CHECK(isnan(out[i]), "%s kernel %d: output %d is %g, expected NaN", quant_type_name((QuantType)type), kernel,
                      i, out[i]);
        }
        quant_matrix_free(&matrix);
    }
}

static const CheckCase CASES[] = {
    {"fp16 conversions", test_fp16},
    {"quantize round trips", round_trip},
    {"packing", test_packing},
    {"q4_0 scale choice", q4_0_scale_choice},
    {"portable kernel within the quantization bound", portable_kernel},
    {"avx2 kernel gives the portable bits", avx2_kernel},
    {"avx512-vnni kernel gives the portable bits", avx512_vnni_kernel},
    {"every kernel the CPU supports is offered", every_kernel_the_cpu_supports_is_offered},
    {"dequantized forward: the fp32 product of the dequantized weights", forward_dequantized},
    {"backward to the input", backward_input},
    {"bad shapes are errors", test_bad_shapes},
    {"weights the formats cannot store are refused", unrepresentable_weights},
    {"non-finite activations give NaN", non_finite_inputs},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
