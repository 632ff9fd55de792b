// The AVX-512 VNNI quantized kernel (Ice Lake, Sapphire Rapids and later Xeons, AMD Zen 4):
// bytes multiplied with vpdpbusd on 256-bit registers, block scales gathered with AVX-512BW
// permutes. Compiled with AVX-512 F/BW/VL/VNNI flags whatever the build's (quant/CMakeLists.txt);
// quant/matmul.c calls it only on a CPU that has those.
#include "quant/matmul_kernels.h"

#if defined(QUANT_HAS_X86)
#include "quant/matmul_x86.h"

#if !defined(QUANT_HAS_VNNI)
#error "quant/matmul_avx512.c must be compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni"
#endif

// tile_simd with the row count made a constant, one instance per (type, rows).
void quant_tile_avx512_vnni(QuantType type, int rows, const char *weight_row, const QuantizedInput *input, int m0,
                            float *sums) {
    if (type == QUANT_Q8_0) {
        switch (rows) {
        case 1: tile_simd(QUANT_Q8_0, ISA_VNNI, 1, weight_row, input, m0, sums); return;
        case 2: tile_simd(QUANT_Q8_0, ISA_VNNI, 2, weight_row, input, m0, sums); return;
        case 3: tile_simd(QUANT_Q8_0, ISA_VNNI, 3, weight_row, input, m0, sums); return;
        default: tile_simd(QUANT_Q8_0, ISA_VNNI, 4, weight_row, input, m0, sums); return;
        }
    }
    switch (rows) {
    case 1: tile_simd(QUANT_Q4_0, ISA_VNNI, 1, weight_row, input, m0, sums); return;
    case 2: tile_simd(QUANT_Q4_0, ISA_VNNI, 2, weight_row, input, m0, sums); return;
    case 3: tile_simd(QUANT_Q4_0, ISA_VNNI, 3, weight_row, input, m0, sums); return;
    default: tile_simd(QUANT_Q4_0, ISA_VNNI, 4, weight_row, input, m0, sums); return;
    }
}
#endif
