// Matrix multiply: the reference (the definition, three loops) and the fast version.
//
// How the fast version goes fast (in the spirit of GotoBLAS / BLIS, written from scratch):
//   1. A is cut into blocks of tile_rows rows and the depth into slices of block_k. For each
//      block and slice, the threads copy ("pack") that part of A into one shared buffer that
//      stays in the caches, laid out in the exact order the kernel reads it.
//   2. C's columns are cut into strips of tile_cols; OpenMP hands strips to threads, so no two
//      threads ever write the same element. A thread packs the slice of B its strip needs
//      and runs the kernel over the strip. Packing is also where transposes disappear: A and
//      B can have any strides (a transposed operand is transposed 8 x 8 in registers).
//   3. The kernel computes a kernel_rows x kernel_cols block of C with all its partial sums
//      in registers: per step of k it broadcasts one value of A per row and does one fused
//      multiply-add per vector of the row of B. There is one kernel per instruction set
//      (matmul_x86.c: AVX-512 8 x 48, AVX2 6 x 16; here: a portable 6 x 8 in the compiler's
//      vectors), chosen at run time from what the CPU says it has.
//   Decoding (one token at a time) is M = 1: there is nothing to reuse, the weight matrix is
//   read once from memory, so a separate path does plain dot products, split over outputs.
#include "foundations/matmul.h"
#include "foundations/matmul_kernels.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { MATVEC_MAX_ROWS = 4 };

// ----------------------------------------------------------------------------
// reference

void matmul_forward_reference(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N) {
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double sum = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++) sum += (double)inp[(long)m * K + k] * weight[(long)n * K + k];
            out[(long)m * N + n] = (float)sum;
        }
    }
}

void matmul_backward_reference(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                               const float *weight, int M, int K, int N) {
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            float g = d_out[(long)m * N + n];
            if (d_bias) d_bias[n] += g;
            for (int k = 0; k < K; k++) {
                if (d_inp) d_inp[(long)m * K + k] += g * weight[(long)n * K + k];
                if (d_weight) d_weight[(long)n * K + k] += g * inp[(long)m * K + k];
            }
        }
    }
}

// ----------------------------------------------------------------------------
// packing

// One panel, depth x width: panel[k*width + c] = source[k*k_step + c*c_step] for c < count,
// zero for count <= c < width. The loops walk the source along whichever of its axes is
// contiguous in memory; the transposing case (k_step == 1) has a vector version per CPU.
static void pack_panel(const GemmKernelInfo *kernel, float *panel, int width, const float *source, long k_step,
                       long c_step, int count, int depth) {
    if (c_step == 1) {
        kernel->pack_rows(panel, width, source, k_step, count, depth);
        return;
    }
    if (k_step == 1) {
        kernel->pack_transposed(panel, width, source, c_step, count, depth);
        return;
    }
    for (int k = 0; k < depth; k++)
        for (int c = 0; c < width; c++) panel[k * width + c] = c < count ? source[(long)k * k_step + c * c_step] : 0.0f;
}

// panel[k*width + c] = source[k*stride + c]: each row of the panel is a contiguous run of
// count floats in the source.
static void pack_rows_portable(float *panel, int width, const float *source, long stride, int count, int depth) {
    for (int k = 0; k < depth; k++) {
        const float *row = source + (long)k * stride;
        for (int c = 0; c < count; c++) panel[k * width + c] = row[c];
        for (int c = count; c < width; c++) panel[k * width + c] = 0.0f;
    }
}

// panel[k*width + c] = source[c*stride + k]: each of the count columns of the panel is a
// contiguous run of depth floats in the source.
static void pack_transposed_portable(float *panel, int width, const float *source, long stride, int count,
                                     int depth) {
    for (int c = 0; c < count; c++) {
        const float *column = source + c * stride;
        for (int k = 0; k < depth; k++) panel[k * width + c] = column[k];
    }
    for (int k = 0; k < depth; k++)
        for (int c = count; c < width; c++) panel[k * width + c] = 0.0f;
}

// Rows i0..i0+rows of A, columns k0..k0+depth, as consecutive panels of kernel_rows rows:
// panel p holds packed[p*depth*KR + k*KR + r] = A[i0 + p*KR + r][k0 + k], zero past the edge.
static void pack_a_panel(const GemmKernelInfo *kernel, float *packed, int p, const float *a, long a_row, long a_col,
                         int i0, int rows, int k0, int depth) {
    int kr = kernel->kernel_rows, height = rows - p * kr < kr ? rows - p * kr : kr;
    pack_panel(kernel, packed + (long)p * depth * kr, kr, a + (long)(i0 + p * kr) * a_row + (long)k0 * a_col, a_col,
               a_row, height, depth);
}

// Columns j0..j0+cols of B, rows k0..k0+depth, as panels of kernel_cols columns:
// packed[p*depth*KC + k*KC + c] = B[k0 + k][j0 + p*KC + c], zero past the edge.
static void pack_b(const GemmKernelInfo *kernel, float *packed, const float *b, long b_row, long b_col, int j0,
                   int cols, int k0, int depth) {
    int kc = kernel->kernel_cols;
    for (int p = 0; p * kc < cols; p++) {
        int width = cols - p * kc < kc ? cols - p * kc : kc;
        pack_panel(kernel, packed + (long)p * depth * kc, kc, b + (long)k0 * b_row + (long)(j0 + p * kc) * b_col,
                   b_row, b_col, width, depth);
    }
}

// ----------------------------------------------------------------------------
// the portable kernel: the C compiler's own vectors, for CPUs without AVX2 (or not x86).

// Four floats as one value: one SSE or NEON register, which every 64-bit x86 and ARM CPU has
// (with eight-float values, a baseline x86-64 build spilled every operation to memory and
// ran 20x slower).
typedef float float4 __attribute__((vector_size(16)));

// C block (rows <= 6, cols <= 8) (+)= packed A panel (depth x 6) · packed B panel (depth x 8):
// twelve sums, two of B and one broadcast, in SSE's sixteen registers.
static void gemm_block_portable(int depth, const float *a_panel, const float *b_panel, float *c, long ldc, int rows,
                                int cols, int accumulate) {
    enum { ROWS = 6, COLS = 8 };
    float4 sums[ROWS][2];
    for (int r = 0; r < ROWS; r++) sums[r][0] = sums[r][1] = (float4){0, 0, 0, 0};
    for (int k = 0; k < depth; k++) {
        const float *a = a_panel + k * ROWS;
        float4 b_low, b_high;
        memcpy(&b_low, b_panel + k * COLS, sizeof b_low);
        memcpy(&b_high, b_panel + k * COLS + 4, sizeof b_high);
        for (int r = 0; r < ROWS; r++) {
            float4 a_broadcast = {a[r], a[r], a[r], a[r]};
            sums[r][0] += a_broadcast * b_low;
            sums[r][1] += a_broadcast * b_high;
        }
    }
    float block[ROWS][COLS];
    for (int r = 0; r < ROWS; r++) {
        memcpy(block[r], &sums[r][0], sizeof sums[r][0]);
        memcpy(block[r] + 4, &sums[r][1], sizeof sums[r][1]);
    }
    for (int r = 0; r < rows; r++)
        for (int col = 0; col < cols; col++)
            c[r * ldc + col] = accumulate ? c[r * ldc + col] + block[r][col] : block[r][col];
}

// Dot product with 16 independent partial sums, so the compiler can vectorise without
// reassociating a single sum (which it may not do for floats without -ffast-math).
static float dot_portable(const float *restrict x, const float *restrict y, int n) {
    float partial[16] = {0};
    int k = 0;
    for (; k + 16 <= n; k += 16)
        for (int j = 0; j < 16; j++) partial[j] += x[k + j] * y[k + j];
    float sum = 0.0f;
    for (int j = 0; j < 16; j++) sum += partial[j];
    for (; k < n; k++) sum += x[k] * y[k];
    return sum;
}

static void dot4_portable(const float *x, const float *w, long stride, int n, float *out) {
    for (int r = 0; r < 4; r++) out[r] = dot_portable(x, w + r * stride, n);
}

// ----------------------------------------------------------------------------
// choosing the kernel

// Tile and block sizes, measured with GPT-2 shapes (M 256, K 768/3072, N 768..50304) against
// OpenBLAS on an AVX-512 Xeon (2 MiB L2 per core), one thread; every choice within a few per
// cent of the best there. The AVX2 sizes keep a block of A and a slice of B within Zen 3's
// 512 KiB L2: 264 x 256 + 256 x 128 floats = 392 KiB.
static const GemmKernelInfo kernel_info[GEMM_KERNEL_COUNT] = {
    [GEMM_KERNEL_PORTABLE] = {6, 8, 192, 128, 256, gemm_block_portable, dot_portable, dot4_portable, pack_transposed_portable,
                              pack_rows_portable},
#if defined(GEMM_HAS_X86)
    [GEMM_KERNEL_AVX2] = {AVX2_KERNEL_ROWS, AVX2_KERNEL_COLS, 264, 128, 256, gemm_block_avx2, dot_avx2,
                          dot4_avx2, pack_transposed_avx2, pack_rows_avx2},
    [GEMM_KERNEL_AVX512] = {AVX512_KERNEL_ROWS, AVX512_KERNEL_COLS, 256, 192, 384, gemm_block_avx512, dot_avx512,
                            dot4_avx512, pack_transposed_avx2, pack_rows_avx2},
#endif
};

const char *gemm_kernel_name(GemmKernel kernel) {
    switch (kernel) {
    case GEMM_KERNEL_PORTABLE: return "portable";
    case GEMM_KERNEL_AVX2: return "avx2";
    case GEMM_KERNEL_AVX512: return "avx512";
    default: return "?";
    }
}

int gemm_kernel_supported(GemmKernel kernel) {
    switch (kernel) {
    case GEMM_KERNEL_PORTABLE: return 1;
#if defined(GEMM_HAS_X86)
    case GEMM_KERNEL_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case GEMM_KERNEL_AVX512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#endif
    default: return 0;
    }
}

// The fastest kernel this CPU runs, or the one GROUNDUP_GEMM names (portable, avx2, avx512;
// for measuring one kernel against another) if the CPU supports it. Decided once: the CPU
// does not change while the program runs.
GemmKernel gemm_kernel_best(void) {
    static int chosen = -1;  // a cache of a pure function of the CPU and the environment
    int kernel = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (kernel >= 0) return (GemmKernel)kernel;
    kernel = GEMM_KERNEL_PORTABLE;
    for (int k = GEMM_KERNEL_COUNT - 1; k >= 0; k--)
        if (gemm_kernel_supported((GemmKernel)k)) {
            kernel = k;
            break;
        }
    const char *wanted = getenv("GROUNDUP_GEMM");
    for (int k = 0; wanted && k < GEMM_KERNEL_COUNT; k++)
        if (strcmp(wanted, gemm_kernel_name((GemmKernel)k)) == 0 && gemm_kernel_supported((GemmKernel)k)) kernel = k;
    __atomic_store_n(&chosen, kernel, __ATOMIC_RELAXED);
    return (GemmKernel)kernel;
}

static const GemmKernelInfo *kernel_for(GemmKernel kernel) {
    if (kernel < 0 || kernel >= GEMM_KERNEL_COUNT || !gemm_kernel_supported(kernel)) kernel = gemm_kernel_best();
    return &kernel_info[kernel];
}

// ----------------------------------------------------------------------------
// the driver

// C (M x N) (+)= A · B without packing, if the buffers could not be had.
static void gemm_unpacked(int M, int N, int K, const float *a, long a_row, long a_col, const float *b, long b_row,
                          long b_col, float *c, long ldc, int accumulate) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) sum += a[i * a_row + k * a_col] * b[k * b_row + j * b_col];
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
        }
}

// One strip of C: the rows x cols block at (i0, j0), from the packed A block (all its rows,
// one slice of depth) and the packed B slice of these columns.
static void gemm_strip(const GemmKernelInfo *kernel, const float *packed_a, const float *packed_b, int depth, int rows,
                       int cols, float *c, long ldc, int accumulate) {
    int kr = kernel->kernel_rows, kc = kernel->kernel_cols;
    for (int i = 0; i < rows; i += kr) {
        int r = rows - i < kr ? rows - i : kr;
        for (int j = 0; j < cols; j += kc) {
            int cc = cols - j < kc ? cols - j : kc;
            kernel->block(depth, packed_a + (long)i * depth, packed_b + (long)j * depth, c + (long)i * ldc + j, ldc, r,
                          cc, accumulate);
        }
    }
}

// Strips of C's columns, one at a time to whichever thread is free, each through the depth
// slices from k0_first to k0_end: pack the strip's slice of B, run the kernel over it.
// packed_a holds the block of A from slice k0_first on, slice after slice.
static void gemm_strips(const GemmKernelInfo *kernel, const float *packed_a, float *my_b, int padded_rows, int rows,
                        int N, int strip_cols, int K, int k0_first, int k0_end, const float *b, long b_row, long b_col,
                        float *c, long ldc, int accumulate) {
    int strips = (N + strip_cols - 1) / strip_cols;
#pragma omp for schedule(dynamic)
    for (int strip = 0; strip < strips; strip++) {
        int j0 = strip * strip_cols, cols = N - j0 < strip_cols ? N - j0 : strip_cols;
        for (int k0 = k0_first; k0 < k0_end; k0 += kernel->block_k) {
            int depth = K - k0 < kernel->block_k ? K - k0 : kernel->block_k;
            pack_b(kernel, my_b, b, b_row, b_col, j0, cols, k0, depth);
            gemm_strip(kernel, packed_a + (long)padded_rows * (k0 - k0_first), my_b, depth, rows, cols, c + j0, ldc,
                       accumulate || k0 > 0);
        }
    }
}

// The slices k0_first..k0_end of rows i0..i0+rows of A, packed by the threads together, slice
// after slice (each slice as pack_a_panel lays it out).
static void pack_a_slices(const GemmKernelInfo *kernel, float *packed_a, int padded_rows, const float *a, long a_row,
                          long a_col, int i0, int rows, int K, int k0_first, int k0_end) {
    int kr = kernel->kernel_rows, panels = padded_rows / kr;
    int slices = (k0_end - k0_first + kernel->block_k - 1) / kernel->block_k;
    if (a_row == 1) {
        // A is a transpose: its rows for one k are contiguous. Chunks of 16 k's, every panel
        // of a chunk in turn, so that each line of A read serves all the panels it holds.
        enum { CHUNK = 16 };
        int chunks = (kernel->block_k + CHUNK - 1) / CHUNK;
#pragma omp for schedule(dynamic) collapse(2)
        for (int slice = 0; slice < slices; slice++)
            for (int chunk = 0; chunk < chunks; chunk++) {
                int k0 = k0_first + slice * kernel->block_k, depth = K - k0 < kernel->block_k ? K - k0 : kernel->block_k;
                int first = chunk * CHUNK, count = depth - first < CHUNK ? depth - first : CHUNK;
                float *slice_start = packed_a + (long)padded_rows * (k0 - k0_first);
                for (int p = 0; count > 0 && p < panels; p++) {
                    int height = rows - p * kr < kr ? rows - p * kr : kr;
                    kernel->pack_rows(slice_start + (long)p * depth * kr + (long)first * kr, kr,
                                      a + (long)(k0 + first) * a_col + i0 + p * kr, a_col, height, count);
                }
            }
        return;
    }
#pragma omp for schedule(dynamic) collapse(2)
    for (int slice = 0; slice < slices; slice++)
        for (int p = 0; p < panels; p++) {
            int k0 = k0_first + slice * kernel->block_k, depth = K - k0 < kernel->block_k ? K - k0 : kernel->block_k;
            pack_a_panel(kernel, packed_a + (long)padded_rows * (k0 - k0_first), p, a, a_row, a_col, i0, rows, k0, depth);
        }
}

enum { PACKED_A_MAX_FLOATS = 4 << 20 };  // 16 MiB: A packed for the whole depth at once below this

// The loops, in the manner of GotoBLAS (written from scratch): for each block of tile_rows
// rows of A, the threads pack that block together (it is shared, and stays in the caches),
// then take strips of tile_cols columns of C in turn; each packs its slice of B and runs the
// kernel over the strip. A is packed once; B once per block of rows. The block of A is packed
// for the whole depth when it fits in PACKED_A_MAX_FLOATS, so that the threads meet only twice
// per block (a thread the system has paused holds the other up at every meeting); else slice
// by slice of block_k.
void gemm_with(GemmKernel which, int M, int N, int K, const float *a, long a_row, long a_col, const float *b,
               long b_row, long b_col, float *c, long ldc, int accumulate) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++) memset(c + (long)i * ldc, 0, sizeof(float) * (size_t)N);
        return;
    }
    const GemmKernelInfo *kernel = kernel_for(which);
    int kr = kernel->kernel_rows, kc = kernel->kernel_cols;
    int block_rows = M < kernel->tile_rows ? M : kernel->tile_rows, padded_max = (block_rows + kr - 1) / kr * kr;
    int strip_cols = N < kernel->tile_cols ? N : kernel->tile_cols, strips = (N + strip_cols - 1) / strip_cols;
    int parallel = !omp_in_parallel() && (long)M * N * K > 100000 && (strips > 1 || M > block_rows);
    int threads = parallel ? omp_get_max_threads() : 1;
    int whole_depth = (long)padded_max * K <= PACKED_A_MAX_FLOATS;
    int depth_max = K < kernel->block_k ? K : kernel->block_k;
    size_t a_floats = (size_t)padded_max * (whole_depth ? K : depth_max);
    size_t b_floats = (size_t)((strip_cols + kc - 1) / kc * kc) * depth_max, b_stride = (b_floats + 15) / 16 * 16;
    // 64-byte aligned, from the heap: malloc hands back the same memory on the next call.
    float *packed_a = aligned_alloc(64, (a_floats * sizeof(float) + 63) / 64 * 64);
    float *packed_b = aligned_alloc(64, b_stride * sizeof(float) * (size_t)threads);
    if (!packed_a || !packed_b) {
        free(packed_a), free(packed_b);
        gemm_unpacked(M, N, K, a, a_row, a_col, b, b_row, b_col, c, ldc, accumulate);
        return;
    }
#pragma omp parallel num_threads(threads) if (parallel)
    {
        float *my_b = packed_b + (long)omp_get_thread_num() * (long)b_stride;
        for (int i0 = 0; i0 < M; i0 += block_rows) {
            int rows = M - i0 < block_rows ? M - i0 : block_rows, padded_rows = (rows + kr - 1) / kr * kr;
            float *c_block = c + (long)i0 * ldc;
            if (whole_depth) {
                pack_a_slices(kernel, packed_a, padded_rows, a, a_row, a_col, i0, rows, K, 0, K);
                gemm_strips(kernel, packed_a, my_b, padded_rows, rows, N, strip_cols, K, 0, K, b, b_row, b_col,
                            c_block, ldc, accumulate);
                continue;
            }
            for (int k0 = 0; k0 < K; k0 += kernel->block_k) {
                int k0_end = K - k0 < kernel->block_k ? K : k0 + kernel->block_k;
                pack_a_slices(kernel, packed_a, padded_rows, a, a_row, a_col, i0, rows, K, k0, k0_end);
                gemm_strips(kernel, packed_a, my_b, padded_rows, rows, N, strip_cols, K, k0, k0_end, b, b_row, b_col,
                            c_block, ldc, accumulate);
            }
        }
    }
    free(packed_a);
    free(packed_b);
}

void gemm(int M, int N, int K, const float *a, long a_row, long a_col, const float *b, long b_row, long b_col,
          float *c, long ldc, int accumulate) {
    gemm_with(gemm_kernel_best(), M, N, K, a, a_row, a_col, b, b_row, b_col, c, ldc, accumulate);
}

// ----------------------------------------------------------------------------
// matrix-vector: few rows, so each weight row is used once; read it once, at memory speed.

static void matvec_forward(const GemmKernelInfo *kernel, float *out, const float *inp, const float *weight,
                           const float *bias, int M, int K, int N) {
    int groups = (N + 3) / 4;
#pragma omp parallel for schedule(static) if ((long)N * K > 65536)
    for (int group = 0; group < groups; group++) {
        int n = group * 4;
        const float *w = weight + (long)n * K;
        for (int m = 0; m < M; m++) {
            float sums[4];
            if (n + 4 <= N) {
                kernel->dot4(inp + (long)m * K, w, K, K, sums);
            } else {
                for (int r = 0; r < N - n; r++) sums[r] = kernel->dot(inp + (long)m * K, w + (long)r * K, K);
            }
            for (int r = 0; r < 4 && n + r < N; r++) out[(long)m * N + n + r] = (bias ? bias[n + r] : 0.0f) + sums[r];
        }
    }
}

// ----------------------------------------------------------------------------
// the public forward and backward

void matmul_forward_with(GemmKernel kernel, float *out, const float *inp, const float *weight, const float *bias,
                         int M, int K, int N) {
    if (M <= MATVEC_MAX_ROWS) {
        matvec_forward(kernel_for(kernel), out, inp, weight, bias, M, K, N);
        return;
    }
    // out starts as the bias, and the product is added to it; B[k][n] = weight[n][k]: the
    // weight read as its transpose.
    if (bias) {
#pragma omp parallel for schedule(static) if ((long)M * N > 65536)
        for (int m = 0; m < M; m++) memcpy(out + (long)m * N, bias, sizeof(float) * (size_t)N);
    }
    gemm_with(kernel, M, N, K, inp, K, 1, weight, 1, K, out, N, bias != NULL);
}

void matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N) {
    matmul_forward_with(gemm_kernel_best(), out, inp, weight, bias, M, K, N);
}

void matmul_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                     const float *weight, int M, int K, int N) {
    matmul_backward_with(gemm_kernel_best(), d_inp, d_weight, d_bias, d_out, inp, weight, M, K, N);
}

void matmul_backward_with(GemmKernel kernel, float *d_inp, float *d_weight, float *d_bias, const float *d_out,
                          const float *inp, const float *weight, int M, int K, int N) {
    if (d_inp) gemm_with(kernel, M, K, N, d_out, N, 1, weight, K, 1, d_inp, K, 1);
    // d_weight (N,K) = d_outᵀ (N,M) · inp (M,K): A[i][m] = d_out[m][i].
    if (d_weight) gemm_with(kernel, N, K, M, d_out, 1, N, inp, K, 1, d_weight, K, 1);
    if (d_bias) {
        // Column sums of d_out, a block of 64 columns per task, rows in order: reading along
        // rows keeps the accesses sequential, and the order (so the result) is fixed.
        int n_blocks = (N + 63) / 64;
#pragma omp parallel for schedule(static) if ((long)M * N > 65536)
        for (int block = 0; block < n_blocks; block++) {
            int n0 = block * 64, width = N - n0 < 64 ? N - n0 : 64;
            float sums[64] = {0};
            for (int m = 0; m < M; m++) {
                const float *row = d_out + (long)m * N + n0;
                for (int j = 0; j < width; j++) sums[j] += row[j];
            }
            for (int j = 0; j < width; j++) d_bias[n0 + j] += sums[j];
        }
    }
}
