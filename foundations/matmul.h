// Matrix multiply, the operation where nearly all of a model's time goes.
//
// The convention is PyTorch's nn.Linear and llm.c's: a weight is stored (N, K), one row
// per output, so out = inp · Wᵀ + bias. Every matrix is row-major and contiguous.
//
//   inp (M, K), weight (N, K), bias (N) or NULL  ->  out (M, N)
//
// Two versions of everything: a plain *_reference (three loops, the definition) and the
// fast one (packed panels, a register-tiled kernel for the CPU's vector instructions chosen at
// run time, OpenMP over output tiles). Tests check that they agree on awkward shapes.
#ifndef FOUNDATIONS_MATMUL_H
#define FOUNDATIONS_MATMUL_H

// out (M,N) = inp (M,K) · weight (N,K)ᵀ + bias (N)
void matmul_forward_reference(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N);
void matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N);

// Backward of the above; gradients are accumulated (+=), as several uses of one weight add up.
//   d_inp (M,K)    += d_out (M,N) · weight (N,K)
//   d_weight (N,K) += d_out (M,N)ᵀ · inp (M,K)
//   d_bias (N)     += sum over rows of d_out
// Any of d_inp, d_weight, d_bias may be NULL (not wanted).
void matmul_backward_reference(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                               const float *weight, int M, int K, int N);
void matmul_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                     const float *weight, int M, int K, int N);

// The general product behind both: C (M,N) (+)= A (M,K) · B (K,N), where A and B are
// addressed through strides so that either can be a transpose without copying:
//   A[i][k] = a[i*a_row + k*a_col],  B[k][j] = b[k*b_row + j*b_col],  C[i][j] = c[i*ldc + j].
// With accumulate = 0, C is overwritten.
void gemm(int M, int N, int K, const float *a, long a_row, long a_col, const float *b, long b_row, long b_col,
          float *c, long ldc, int accumulate);

// The register-tiled kernels behind gemm, one per instruction set. gemm and the matmuls use
// gemm_kernel_best(); the *_with versions take one (tests run each; benchmarks compare them).
typedef enum {
    GEMM_KERNEL_PORTABLE,  // the compiler's own vectors: any CPU, any build
    GEMM_KERNEL_AVX2,      // x86 AVX2 + FMA (Haswell and later, AMD Zen)
    GEMM_KERNEL_AVX512,    // x86 AVX-512 F + VL (Skylake-X and later, AMD Zen 4)
    GEMM_KERNEL_COUNT
} GemmKernel;

// "portable", "avx2", "avx512"
const char *gemm_kernel_name(GemmKernel kernel);
// 1 if this build has the kernel and this CPU can run it (asked at run time, whatever the
// flags the program was built with).
int gemm_kernel_supported(GemmKernel kernel);
// The fastest supported kernel, unless the environment variable GROUNDUP_GEMM names another
// supported one (portable, avx2, avx512).
GemmKernel gemm_kernel_best(void);
// As gemm, matmul_forward and matmul_backward, with the given kernel (the best one if this
// CPU does not support it).
void gemm_with(GemmKernel kernel, int M, int N, int K, const float *a, long a_row, long a_col, const float *b,
               long b_row, long b_col, float *c, long ldc, int accumulate);
void matmul_forward_with(GemmKernel kernel, float *out, const float *inp, const float *weight, const float *bias,
                         int M, int K, int N);
void matmul_backward_with(GemmKernel kernel, float *d_inp, float *d_weight, float *d_bias, const float *d_out,
                          const float *inp, const float *weight, int M, int K, int N);

#endif
