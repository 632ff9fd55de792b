// The AVX2 quantized kernel (Haswell and later, AMD Zen): bytes multiplied with vpmaddubsw and
// vpmaddwd. Compiled with -mavx2 -mfma -mf16c whatever the build's flags (quant/CMakeLists.txt);
// quant/matmul.c calls it only on a CPU that has those.
#include "quant/matmul_kernels.h"

#if defined(QUANT_HAS_X86)
#include "quant/matmul_x86.h"

// tile_simd with the row count made a constant, one instance per (type, rows).
void quant_tile_avx2(QuantType type, int rows, const char *weight_row, const QuantizedInput *input, int m0,
                     float *sums) {
    if (type == QUANT_Q8_0) {
        switch (rows) {
        case 1: tile_simd(QUANT_Q8_0, ISA_AVX2, 1, weight_row, input, m0, sums); return;
        case 2: tile_simd(QUANT_Q8_0, ISA_AVX2, 2, weight_row, input, m0, sums); return;
        case 3: tile_simd(QUANT_Q8_0, ISA_AVX2, 3, weight_row, input, m0, sums); return;
        default: tile_simd(QUANT_Q8_0, ISA_AVX2, 4, weight_row, input, m0, sums); return;
        }
    }
    switch (rows) {
    case 1: tile_simd(QUANT_Q4_0, ISA_AVX2, 1, weight_row, input, m0, sums); return;
    case 2: tile_simd(QUANT_Q4_0, ISA_AVX2, 2, weight_row, input, m0, sums); return;
    case 3: tile_simd(QUANT_Q4_0, ISA_AVX2, 3, weight_row, input, m0, sums); return;
    default: tile_simd(QUANT_Q4_0, ISA_AVX2, 4, weight_row, input, m0, sums); return;
    }
}
#endif
