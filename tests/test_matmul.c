// The fast matmul (packed, tiled, threaded) against the three-loop reference, forward and
// backward, on shapes that do not divide the tile sizes; and gemm with transposed operands.
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

static void check_shape(Random *rng, int M, int K, int N) {
    float *inp = random_buffer(rng, (long)M * K), *weight = random_buffer(rng, (long)N * K);
    float *bias = random_buffer(rng, N), *d_out = random_buffer(rng, (long)M * N);
    float *out = calloc((size_t)M * N + 1, sizeof(float)), *expected = calloc((size_t)M * N + 1, sizeof(float));
    matmul_forward(out, inp, weight, bias, M, K, N);
    matmul_forward_reference(expected, inp, weight, bias, M, K, N);
    // float sums of K products against double sums: error grows like sqrt(K) * eps * |terms|
    double tolerance = 1e-5 * sqrt((double)K + 1) * 4;
    double forward_error = max_difference(out, expected, (long)M * N);
    CHECK(forward_error < tolerance, "forward M=%d K=%d N=%d: max difference %g", M, K, N, forward_error);

    // backward: start from the same non-zero gradients to check that both accumulate
    float *d_inp = random_buffer(rng, (long)M * K), *d_weight = random_buffer(rng, (long)N * K);
    float *d_bias = random_buffer(rng, N);
    float *d_inp_ref = malloc(sizeof(float) * ((size_t)M * K + 1)), *d_weight_ref = malloc(sizeof(float) * ((size_t)N * K + 1));
    float *d_bias_ref = malloc(sizeof(float) * ((size_t)N + 1));
    for (long i = 0; i < (long)M * K; i++) d_inp_ref[i] = d_inp[i];
    for (long i = 0; i < (long)N * K; i++) d_weight_ref[i] = d_weight[i];
    for (long i = 0; i < N; i++) d_bias_ref[i] = d_bias[i];
    matmul_backward(d_inp, d_weight, d_bias, d_out, inp, weight, M, K, N);
    matmul_backward_reference(d_inp_ref, d_weight_ref, d_bias_ref, d_out, inp, weight, M, K, N);
    double e1 = max_difference(d_inp, d_inp_ref, (long)M * K);
    double e2 = max_difference(d_weight, d_weight_ref, (long)N * K);
    double e3 = max_difference(d_bias, d_bias_ref, N);
    double tol_inp = 1e-5 * sqrt((double)N + 1) * 8, tol_weight = 1e-5 * sqrt((double)M + 1) * 8;
    CHECK(e1 < tol_inp, "d_inp M=%d K=%d N=%d: %g", M, K, N, e1);
    CHECK(e2 < tol_weight, "d_weight M=%d K=%d N=%d: %g", M, K, N, e2);
    CHECK(e3 < tol_weight, "d_bias M=%d K=%d N=%d: %g", M, K, N, e3);
    free(inp), free(weight), free(bias), free(d_out), free(out), free(expected);
    free(d_inp), free(d_weight), free(d_bias), free(d_inp_ref), free(d_weight_ref), free(d_bias_ref);
}

// gemm with A transposed: C (M,N) = Aᵀ where A is stored (K,M); B normal (K,N).
static void check_gemm_transposed(Random *rng, int M, int N, int K) {
    float *a = random_buffer(rng, (long)K * M), *b = random_buffer(rng, (long)K * N);
    float *c = calloc((size_t)M * N + 1, sizeof(float));
    gemm(M, N, K, a, 1, M, b, N, 1, c, N, 0);
    double worst = 0.0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double sum = 0.0;
            for (int k = 0; k < K; k++) sum += (double)a[(long)k * M + i] * b[(long)k * N + j];
            worst = fmax(worst, fabs(sum - c[(long)i * N + j]));
        }
    CHECK(worst < 1e-4 * sqrt((double)K + 1), "gemm transposed M=%d N=%d K=%d: %g", M, N, K, worst);
    free(a), free(b), free(c);
}

// Every combination of the sizes 1, 7, 33, 65, 257 (N every other one), then a shape of
// several tiles each way and two K blocks, and K = 0 (out = bias).
static void matmul_matches_the_reference(void) {
    Random rng;
    random_seed(&rng, 42);
    const int sizes[] = {1, 7, 33, 65, 257};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            for (int k = 0; k < 5; k += 2) check_shape(&rng, sizes[i], sizes[j], sizes[k]);
    check_shape(&rng, 100, 300, 130);  // several tiles in each direction and two K blocks
    check_shape(&rng, 3, 0, 5);        // K = 0: out = bias
}

static void gemm_with_a_transposed_matches_the_sums(void) {
    Random rng;
    random_seed(&rng, 43);
    check_gemm_transposed(&rng, 37, 19, 300);
    check_gemm_transposed(&rng, 1, 129, 5);
}

static const CheckCase CASES[] = {
    {"matmul forward and backward match the reference", matmul_matches_the_reference},
    {"gemm with A transposed matches the sums", gemm_with_a_transposed_matches_the_sums},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
