// Matrix multiply, the operation where nearly all of a model's time goes.
//
// The convention is PyTorch's nn.Linear and llm.c's: a weight is stored (N, K), one row
// per output, so out = inp · Wᵀ + bias. Every matrix is row-major and contiguous.
//
//   inp (M, K), weight (N, K), bias (N) or NULL  ->  out (M, N)
//
// Two versions of everything: a plain *_reference (three loops, the definition) and the
// fast one (packed panels, a register-tiled kernel the compiler vectorises, OpenMP over
// output tiles). Tests check that they agree on awkward shapes.
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

#endif
