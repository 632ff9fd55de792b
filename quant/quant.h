// Quantized weights: the Q8_0 and Q4_0 block formats, fp16 scales, and the matrix kernels
// that multiply by a quantized weight without ever expanding it to fp32.
//
// This file is the whole public interface of quant/. It is not a checkpoint format (the
// model's checkpoint stores a QuantMatrix's type, shape and bytes) and it knows no model.
//
// ---------------------------------------------------------------------------------------
// The matrices. A weight W is stored as in PyTorch's nn.Linear: N rows (one per output), K
// columns (one per input), row-major, so out = inp · Wᵀ + bias. Quantization cuts every row
// into blocks of 32 consecutive weights along K (K must be a multiple of 32; a caller keeps
// any other tensor in fp32), and each block gets one scale d stored as IEEE fp16 (uint16_t).
// A quantized row is its blocks one after the other; the matrix is its rows one after the
// other, with no padding: row n starts at byte n · quant_row_bytes(type, K).
//
// Q8_0, 34 bytes per block of 32:  { uint16_t d; int8_t q[32]; }
//   d = max|w| / 127,  q = round(w / d) in [-127, 127],  w ≈ d · q.
//   The error of every weight is at most d / 2.
//
// Q4_0, 18 bytes per block of 32:  { uint16_t d; uint8_t packed[16]; }
//   Let m be the weight of largest magnitude in the block, with its sign. Then
//   d = m / -8,  q = clamp(round(w / d) + 8, 0, 15),  w ≈ d · (q - 8)   (zero point 8).
//   So m itself is exactly q = 0 (-8 · d), and the block covers [-8d, 7d]: one more level
//   than the symmetric choice d = max|w| / 7, spent on the side where the largest weight is.
//   Weights inside [-8.5d, 7.5d] are off by at most d / 2; weights of the other sign than m
//   and magnitude above 7.5d (rare) are clamped to 7d, off by at most |d|. Measured on
//   Gaussian weights (tests/test_quant.c, N(0, 0.02), 64 x 768), this has 11% lower RMS
//   error than d = max|w| / 7: RMS error / RMS weight 0.0857 against 0.0965.
//   Packing order: byte j (0..15) holds element j in its low nibble and element j + 16 in
//   its high nibble, so the low nibbles of the 16 bytes are the first half of the block and
//   the high nibbles the second half (one shift and one mask unpack a whole block).
//
// Rounding is to nearest, ties to even, both for q and for the fp16 scale; the scale used
// to compute q is the fp16 one, so the bounds above hold for the stored numbers.
//
// ---------------------------------------------------------------------------------------
// The kernels. quant_matmul_forward quantizes the activations on the fly, per block of 32
// along K, to int8 with an fp32 scale (x ≈ d_x · q_x, the Q8_0 rule); each pair of blocks
// gives an exact int32 dot product, scaled by d_w · d_x. OpenMP splits the output rows (N).
// For M = 1 (decoding) every weight is read once, in one sequential stream per row; for
// M > 1 each weight block, loaded and unpacked once, serves 4 rows of the input (the SIMD
// kernels from 4 to 16 rows on: 8 or 4 rows against repacked strips of 32 weight rows). (From 64
// rows, the portable kernel dequantizes and uses the fp32 gemm instead: see below.)
//
// There are three implementations of the same arithmetic: a portable scalar one (the
// reference the tests compare against), AVX2 (maddubs/madd) and AVX-512 VNNI (vpdpbusd
// on 256-bit registers, with AVX-512BW/VL). On x86 the SIMD ones are always compiled in
// (each file with its instruction set's flags) and the program picks the best one the CPU
// has when it first needs one (__builtin_cpu_supports), so a portable build
// (-DGROUNDUP_NATIVE=OFF) runs them too; GROUNDUP_QUANT=portable|avx2|avx512-vnni picks
// another the CPU supports. All of them add the scaled block products in the same order
// (block b into partial sum b mod 8, then the 8 partial sums in a fixed tree), so they
// agree bit for bit. The input is quantized once per call (M·K bytes, malloc'ed).
#ifndef QUANT_QUANT_H
#define QUANT_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "foundations/error.h"
#include "foundations/half.h"

enum { QUANT_BLOCK = 32 };  // weights per block, along K

// 0 is deliberately not a type, so a zeroed QuantMatrix is invalid. The numbers are stable
// (a file format may store them).
typedef enum { QUANT_Q8_0 = 1, QUANT_Q4_0 = 2 } QuantType;

typedef struct QuantBlockQ8_0 {
    uint16_t scale;           // fp16 d
    int8_t values[QUANT_BLOCK];  // q, w ≈ d · q
} QuantBlockQ8_0;

typedef struct QuantBlockQ4_0 {
    uint16_t scale;                  // fp16 d
    uint8_t packed[QUANT_BLOCK / 2];  // byte j: element j (low nibble), element j + 16 (high)
} QuantBlockQ4_0;

_Static_assert(sizeof(QuantBlockQ8_0) == 34, "Q8_0 block is 34 bytes");
_Static_assert(sizeof(QuantBlockQ4_0) == 18, "Q4_0 block is 18 bytes");

// A quantized weight (rows N, cols K): rows · quant_row_bytes(type, cols) bytes at data.
typedef struct QuantMatrix {
    QuantType type;
    int rows;      // N, outputs
    int cols;      // K, inputs, a multiple of QUANT_BLOCK
    void *data;    // the blocks, row after row
    size_t bytes;  // rows · quant_row_bytes(type, cols)
    int owns_data;  // 1: quant_matrix_free frees data (quant_matrix_quantize allocated it)
} QuantMatrix;

// Round trip error of a quantized matrix against the weights it came from.
typedef struct QuantErrorStats {
    double rms;          // sqrt(mean (w - ŵ)²)
    double max_abs;      // max |w - ŵ|
    double weight_rms;   // sqrt(mean w²), to read rms relative to the weights
} QuantErrorStats;

// ---------------------------------------------------------------------------------------
// formats

const char *quant_type_name(QuantType type);  // "q8_0", "q4_0"; "?" for anything else
// "q8_0" / "q4_0" -> *type; -1 with a message for anything else.
int quant_type_parse(const char *name, QuantType *type, Error *error);
// Bytes of one block of 32 weights (34, 18); 0 for an unknown type.
size_t quant_block_bytes(QuantType type);
// Bytes of one quantized row of cols weights; 0 when the type is unknown or cols is not a
// positive multiple of QUANT_BLOCK.
size_t quant_row_bytes(QuantType type, int cols);
// 0 when (type, rows, cols) can be quantized, else -1 with the reason (K not a multiple of
// 32, non-positive sizes, unknown type).
int quant_check_shape(QuantType type, int rows, int cols, Error *error);

// weight (rows, cols) fp32 -> a QuantMatrix owning freshly allocated data.
// 0 when every weight (rows, cols) is one the format can store: finite, and |w| at most
// 65504·127 (q8_0) or 65504·8 (q4_0), the block scale being an fp16; else -1 naming the first
// that is not. The quantizers below refuse such weights rather than store an infinite scale
// (whose block would decode to NaN).
int quant_check_values(QuantType type, const float *weight, int rows, int cols, Error *error);

int quant_matrix_quantize(QuantMatrix *matrix, QuantType type, const float *weight, int rows, int cols,
                          Error *error);
// The same into caller memory: data must hold capacity >= rows · quant_row_bytes bytes;
// matrix (may be NULL) then describes it without owning it.
int quant_matrix_quantize_into(QuantMatrix *matrix, void *data, size_t capacity, QuantType type,
                               const float *weight, int rows, int cols, Error *error);
// Describes existing quantized bytes (a loaded checkpoint), checking that bytes matches.
int quant_matrix_view(QuantMatrix *matrix, QuantType type, int rows, int cols, void *data, size_t bytes,
                      Error *error);
// Frees data if the matrix owns it; leaves a zeroed struct.
void quant_matrix_free(QuantMatrix *matrix);

// One row of cols fp32 weights -> quantized bytes (quant_row_bytes(type, cols) of them).
// cols must be a multiple of QUANT_BLOCK (programming error otherwise).
void quant_quantize_row(QuantType type, const float *weight, void *row_data, int cols);
// out (cols) = row `row` of the matrix, dequantized.
void quant_dequantize_row(const QuantMatrix *matrix, int row, float *out);
// out (QUANT_BLOCK) = block `block` of row `row`, dequantized.
void quant_dequantize_block(const QuantMatrix *matrix, int row, int block, float *out);
// out (rows, cols) = the whole matrix, dequantized (for tests and for merging adapters).
void quant_dequantize(const QuantMatrix *matrix, float *out);
// Round trip error of matrix against weight (rows, cols).
QuantErrorStats quant_error_stats(const QuantMatrix *matrix, const float *weight);

// ---------------------------------------------------------------------------------------
// kernels

typedef enum {
    QUANT_KERNEL_BEST = 0,     // quant_kernel_best()
    QUANT_KERNEL_PORTABLE,     // plain C: any CPU, any build; the reference
    QUANT_KERNEL_AVX2,         // x86 AVX2 + FMA + F16C (Haswell and later, AMD Zen)
    QUANT_KERNEL_AVX512_VNNI,  // x86 AVX-512 F/BW/VL + VNNI (Ice Lake, Sapphire Rapids, AMD Zen 4)
    QUANT_KERNEL_COUNT
} QuantKernel;

// "portable", "avx2", "avx512-vnni" (BEST: the name of the kernel it stands for)
const char *quant_kernel_name(QuantKernel kernel);
// 1 if this build has the kernel and this CPU runs it (asked at run time, whatever the flags
// the program was built with). BEST and PORTABLE are always supported.
int quant_kernel_supported(QuantKernel kernel);
// The fastest supported kernel, unless the environment variable GROUNDUP_QUANT names another
// supported one (portable, avx2, avx512-vnni). Decided on the first call.
QuantKernel quant_kernel_best(void);

// Rows from which quant_matmul_forward dequantizes instead when the kernel is the portable
// one (measured: bench/README.md).
enum { QUANT_DEQUANTIZE_MIN_ROWS = 64 };

// out (M,N) = inp (M,K) · Wᵀ + bias (N, or NULL), W (N,K) quantized. K and N must equal
// W's cols and rows (programming error otherwise). With the chosen kernel (the activations
// quantized to int8). The SIMD kernels take many rows (from 4 to 16: prompts, training batches) in
// strips of 32 weight rows, repacked so that one instruction multiplies 4 bytes of an input
// row with 16 (AVX-512 VNNI vpdpbusd) or 8 (AVX2 vpmaddubsw) weight rows, which beats the
// fp32 gemm there. The portable kernel has no such path: from QUANT_DEQUANTIZE_MIN_ROWS rows
// on, W is dequantized 768 rows at a time into fp32 and multiplied with the fp32 gemm
// (quant_matmul_forward_dequantized).
void quant_matmul_forward(float *out, const float *inp, const QuantMatrix *weight, const float *bias, int M, int K,
                          int N);
// The dequantizing path alone: the activations stay fp32, the result is the fp32 product with
// the dequantized weights up to summation order, and the gemm's register tiling reuses every
// value it loads. 0, or -1 (nothing written) if the 768-row buffer cannot be allocated.
int quant_matmul_forward_dequantized(float *out, const float *inp, const QuantMatrix *weight, const float *bias, int M,
                                     int K, int N);
// The portable scalar kernel: the reference for the SIMD ones (same results, bit for bit).
void quant_matmul_forward_portable(float *out, const float *inp, const QuantMatrix *weight, const float *bias, int M,
                                   int K, int N);
// A chosen kernel (it must be supported), at any number of rows (no dequantizing path).
void quant_matmul_forward_with(QuantKernel kernel, float *out, const float *inp, const QuantMatrix *weight,
                               const float *bias, int M, int K, int N);

// For adapters on a frozen quantized base (QLoRA): the gradient reaching the input.
//   d_inp (M,K) += d_out (M,N) · W (N,K)
// W is dequantized a band of rows at a time into a buffer of at most 768 rows, which is
// multiplied with the fp32 gemm (OpenMP inside). Exact up to fp32 summation order.
// Returns -1 (error set) only when the buffer cannot be allocated.
int quant_matmul_backward_input(float *d_inp, const float *d_out, const QuantMatrix *weight, int M, int K, int N,
                                Error *error);

#endif
