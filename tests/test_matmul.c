// The fast matmul (packed, tiled, threaded) against the three-loop reference, forward and
// backward, on shapes that do not divide the tile sizes; and gemm with transposed and strided
// operands. Every kernel this CPU supports is run, and the test fails if one the CPU has
// (asked here independently of the dispatcher) was not.
#include <stdint.h>
#include <stdlib.h>

#include "foundations/matmul.h"
#include "foundations/random.h"
#include "tests/check.h"

static float *random_buffer(Random *rng, long n) {
    float *buffer = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    random_fill_normal(rng, buffer, n, 0.0f, 1.0f);
    return buffer;
}

static double max_difference(const float *a, const float *b, long n) {
    double worst = 0.0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= worst)) worst = d;  // NaN sticks
    }
    return worst;
}

static void check_shape(GemmKernel kernel, Random *rng, int M, int K, int N) {
    float *inp = random_buffer(rng, (long)M * K), *weight = random_buffer(rng, (long)N * K);
    float *bias = random_buffer(rng, N), *d_out = random_buffer(rng, (long)M * N);
    float *out = calloc((size_t)M * N + 1, sizeof(float)), *expected = calloc((size_t)M * N + 1, sizeof(float));
    matmul_forward_with(kernel, out, inp, weight, bias, M, K, N);
    matmul_forward_reference(expected, inp, weight, bias, M, K, N);
    // float sums of K products against double sums: error grows like sqrt(K) * eps * |terms|
    double tolerance = 1e-5 * sqrt((double)K + 1) * 4;
    double forward_error = max_difference(out, expected, (long)M * N);
    CHECK(forward_error < tolerance, "%s forward M=%d K=%d N=%d: max difference %g", gemm_kernel_name(kernel), M, K, N, forward_error);

    // backward: start from the same non-zero gradients to check that both accumulate
    float *d_inp = random_buffer(rng, (long)M * K), *d_weight = random_buffer(rng, (long)N * K);
    float *d_bias = random_buffer(rng, N);
    float *d_inp_ref = malloc(sizeof(float) * ((size_t)M * K + 1)), *d_weight_ref = malloc(sizeof(float) * ((size_t)N * K + 1));
    float *d_bias_ref = malloc(sizeof(float) * ((size_t)N + 1));
    for (long i = 0; i < (long)M * K; i++) d_inp_ref[i] = d_inp[i];
    for (long i = 0; i < (long)N * K; i++) d_weight_ref[i] = d_weight[i];
    for (long i = 0; i < N; i++) d_bias_ref[i] = d_bias[i];
    matmul_backward_with(kernel, d_inp, d_weight, d_bias, d_out, inp, weight, M, K, N);
    matmul_backward_reference(d_inp_ref, d_weight_ref, d_bias_ref, d_out, inp, weight, M, K, N);
    double e1 = max_difference(d_inp, d_inp_ref, (long)M * K);
    double e2 = max_difference(d_weight, d_weight_ref, (long)N * K);
    double e3 = max_difference(d_bias, d_bias_ref, N);
    double tol_inp = 1e-5 * sqrt((double)N + 1) * 8, tol_weight = 1e-5 * sqrt((double)M + 1) * 8;
    CHECK(e1 < tol_inp, "%s d_inp M=%d K=%d N=%d: %g", gemm_kernel_name(kernel), M, K, N, e1);
    CHECK(e2 < tol_weight, "%s d_weight M=%d K=%d N=%d: %g", gemm_kernel_name(kernel), M, K, N, e2);
    CHECK(e3 < tol_weight, "%s d_bias M=%d K=%d N=%d: %g", gemm_kernel_name(kernel), M, K, N, e3);
    free(inp), free(weight), free(bias), free(d_out), free(out), free(expected);
    free(d_inp), free(d_weight), free(d_bias), free(d_inp_ref), free(d_weight_ref), free(d_bias_ref);
}

// gemm with either operand transposed or strided (every other element: neither axis
// contiguous), accumulating or not: C (M,N) (+)= A (M,K) · B (K,N) against double sums.
static void check_gemm_layout(GemmKernel kernel, Random *rng, int M, int N, int K, int layout_a, int layout_b,
                              int accumulate) {
    // layout 0: row-major, 1: transposed, 2: row-major with every other element used
    long a_row = layout_a == 0 ? K : layout_a == 1 ? 1 : 2L * K, a_col = layout_a == 0 ? 1 : layout_a == 1 ? M : 2;
    long b_row = layout_b == 0 ? N : layout_b == 1 ? 1 : 2L * N, b_col = layout_b == 0 ? 1 : layout_b == 1 ? K : 2;
    float *a = random_buffer(rng, 2L * M * K), *b = random_buffer(rng, 2L * K * N);
    float *c = random_buffer(rng, (long)M * N), *start = malloc(sizeof(float) * ((size_t)M * N + 1));
    for (long i = 0; i < (long)M * N; i++) start[i] = c[i];
    gemm_with(kernel, M, N, K, a, a_row, a_col, b, b_row, b_col, c, N, accumulate);
    double worst = 0.0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double sum = accumulate ? start[(long)i * N + j] : 0.0;
            for (int k = 0; k < K; k++) sum += (double)a[i * a_row + k * a_col] * b[k * b_row + j * b_col];
            worst = fmax(worst, fabs(sum - c[(long)i * N + j]));
        }
    CHECK(worst < 1e-4 * sqrt((double)K + 1), "%s gemm layout %d/%d M=%d N=%d K=%d: %g", gemm_kernel_name(kernel),
          layout_a, layout_b, M, N, K, worst);
    free(a), free(b), free(c), free(start);
}

static void check_kernel(GemmKernel kernel, Random *rng) {
    const int sizes[] = {1, 7, 33, 65, 257};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            for (int k = 0; k < 5; k++) check_shape(kernel, rng, sizes[i], sizes[j], sizes[k]);
    check_shape(kernel, rng, 100, 300, 130);  // several tiles in each direction
    check_shape(kernel, rng, 270, 400, 200);  // two row blocks, two depth slices, two strips for every kernel
    check_shape(kernel, rng, 3, 0, 5);        // K = 0: out = bias
    for (int layout_a = 0; layout_a < 3; layout_a++)
        for (int layout_b = 0; layout_b < 3; layout_b++) {
            check_gemm_layout(kernel, rng, 37, 19, 300, layout_a, layout_b, layout_a == layout_b);
            check_gemm_layout(kernel, rng, 65, 129, 17, layout_a, layout_b, 1);
            check_gemm_layout(kernel, rng, 1, 129, 5, layout_a, layout_b, 0);
        }
}

// The kernels this CPU should run, from the CPU's own answer, not the dispatcher's.
static int kernels_expected(void) {
    int expected = 1;  // portable
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) expected++;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) expected++;
#endif
    return expected;
}

// Every kernel this CPU supports, one case each, on the shapes of check_kernel.
static void each_kernel(GemmKernel kernel) {
    if (!gemm_kernel_supported(kernel)) {
        fprintf(stderr, "test_matmul: kernel %s not supported by this CPU, skipped\n", gemm_kernel_name(kernel));
        return;
    }
    Random rng;
    random_seed(&rng, 42 + (uint64_t)kernel);
    check_kernel(kernel, &rng);
}
static void portable_kernel_matches_the_reference(void) { each_kernel(GEMM_KERNEL_PORTABLE); }
static void avx2_kernel_matches_the_reference(void) { each_kernel(GEMM_KERNEL_AVX2); }
static void avx512_kernel_matches_the_reference(void) { each_kernel(GEMM_KERNEL_AVX512); }

// The dispatcher offers every kernel the CPU says it can run (so none goes untested above),
// and chooses one of them.
static void every_kernel_the_cpu_supports_is_offered(void) {
    int supported = 0;
    for (int kernel = 0; kernel < GEMM_KERNEL_COUNT; kernel++) supported += gemm_kernel_supported((GemmKernel)kernel);
    CHECK(supported == kernels_expected(), "%d kernels supported, this CPU runs %d", supported, kernels_expected());
    CHECK(GEMM_KERNEL_COUNT == 3, "a kernel was added without its test case (%d kernels)", GEMM_KERNEL_COUNT);
    CHECK(gemm_kernel_supported(gemm_kernel_best()), "the chosen kernel %s is not supported",
          gemm_kernel_name(gemm_kernel_best()));
}

static const CheckCase CASES[] = {
    {"portable kernel matches the reference", portable_kernel_matches_the_reference},
    {"avx2 kernel matches the reference", avx2_kernel_matches_the_reference},
    {"avx512 kernel matches the reference", avx512_kernel_matches_the_reference},
    {"every kernel the CPU supports is offered", every_kernel_the_cpu_supports_is_offered},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
