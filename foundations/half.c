// IEEE binary16 ("half", fp16) and bfloat16 <-> binary32 conversions (see half.h).
//
// binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits. Normal numbers are
// (1 + m/1024) · 2^(e-15) for e = 1..30, subnormals m/1024 · 2^-14 = m · 2^-24, e = 31 is
// infinity (m = 0) or NaN. Largest finite value 65504, smallest subnormal 2^-24.
//
// The portable versions work on the bits; when the compiler targets F16C, the public ones
// use the CPU's own instructions (the tests check that both agree).
#include <string.h>

#include "foundations/half.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

static uint32_t float_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static float bits_float(uint32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

// Shifts mantissa right by shift (1..31) rounding to nearest, ties to even.
static uint32_t shift_round_even(uint32_t mantissa, int shift) {
    uint32_t kept = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (kept & 1))) kept++;
    return kept;
}

uint16_t half_from_float_portable(float value) {
    uint32_t bits = float_bits(value);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
    uint32_t magnitude = bits & 0x7fffffff;
    if (magnitude >= 0x7f800000) {  // infinity, or NaN (kept a quiet NaN with the top mantissa bits)
        if (magnitude == 0x7f800000) return sign | 0x7c00;
        return (uint16_t)(sign | 0x7e00 | ((magnitude >> 13) & 0x3ff));
    }
    // 65520 = 65504 + half a step (ties go to the even side, here infinity) and above.
    if (magnitude >= 0x477ff000) return sign | 0x7c00;
    int exponent = (int)(magnitude >> 23) - 127;
    uint32_t mantissa = magnitude & 0x7fffff;
    if (exponent >= -14) {
        // Normal half: 13 mantissa bits go; a carry out of the mantissa correctly bumps the exponent.
        uint32_t half_bits = ((uint32_t)(exponent + 15) << 10) + shift_round_even(mantissa, 13);
        return (uint16_t)(sign | half_bits);
    }
    // Subnormal half m · 2^-24: m = value · 2^24 = (mantissa | implicit 1) · 2^(exponent + 1).
    // Up to 2^-25 (half the smallest subnormal, a tie that goes to even) everything is 0.
    if (magnitude <= 0x33000000) return sign;
    int shift = -(exponent + 1);  // 14..24
    // m may round up to 1024, which is exactly the encoding of the smallest normal.
    return (uint16_t)(sign | shift_round_even(mantissa | 0x800000, shift));
}

float half_to_float_portable(uint16_t half) {
    uint32_t sign = (uint32_t)(half & 0x8000) << 16;
    uint32_t exponent = (half >> 10) & 0x1f;
    uint32_t mantissa = half & 0x3ff;
    if (exponent == 0) {  // zero or subnormal: m · 2^-24, exact in fp32
        float magnitude = (float)mantissa * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31)  // infinity, or NaN made quiet (as the hardware does)
        return bits_float(sign | 0x7f800000 | (mantissa ? 0x400000 | (mantissa << 13) : 0));
    return bits_float(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

uint16_t half_from_float(float value) {
#if defined(__F16C__)
    return (uint16_t)_cvtss_sh(value, _MM_FROUND_TO_NEAREST_INT);
#else
    return half_from_float_portable(value);
#endif
}

float half_to_float(uint16_t half) {
#if defined(__F16C__)
    return _cvtsh_ss(half);
#else
    return half_to_float_portable(half);
#endif
}

// bfloat16 is the top half of a binary32: dropping the low 16 bits with round to nearest,
// ties to even, is adding 0x7fff plus the kept part's lowest bit before the shift (a carry
// into the exponent is the correct rounding up, up to infinity).
uint16_t bfloat16_from_float(float value) {
    uint32_t bits = float_bits(value);
    if ((bits & 0x7fffffff) > 0x7f800000) return (uint16_t)((bits >> 16) | 0x40);  // NaN stays a quiet NaN
    return (uint16_t)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

float bfloat16_to_float(uint16_t value) { return bits_float((uint32_t)value << 16); }
