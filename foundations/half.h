// 16-bit floating point: IEEE binary16 ("half", fp16) and bfloat16, to and from binary32.
//
// binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits; largest finite 65504,
// smallest subnormal 2^-24. bfloat16: the top 16 bits of a binary32 (1 sign, 8 exponent,
// 7 mantissa bits): the same range as float32 with 3 significant decimal digits.
// Conversions to 16 bits round to nearest, ties to even; overflow gives infinity; infinities
// are kept and NaN stays NaN (made quiet); conversions to float32 are exact.
#ifndef FOUNDATIONS_HALF_H
#define FOUNDATIONS_HALF_H

#include <stdint.h>

// The plain names use the CPU's F16C instructions when compiled for them; the _portable
// versions are bit manipulation only (the tests check that both agree).
uint16_t half_from_float(float value);
float half_to_float(uint16_t half);
uint16_t half_from_float_portable(float value);
float half_to_float_portable(uint16_t half);

uint16_t bfloat16_from_float(float value);
float bfloat16_to_float(uint16_t value);

#endif
