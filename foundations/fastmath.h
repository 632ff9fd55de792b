// exp and tanh for the hot loops of the layers, written so the compiler can vectorise them.
//
// The C library's expf and tanhf are calls the compiler cannot turn into vector code
// (without -ffast-math), and GELU alone spends more time in tanhf than in its matmuls at
// small widths. These are within about 2 ulp of expf for exp (relative error < 3e-7), and
// within 2e-7 absolute for tanh, which is far below what float training notices.
#ifndef FOUNDATIONS_FASTMATH_H
#define FOUNDATIONS_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

// e^x = 2^n · e^r with n = rint(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2]; e^r by its
// Taylor polynomial to r^7 (the remainder is below 2e-8 there); 2^n built in the exponent
// bits. Inputs are clamped to [-87.3, 88], where the result is a normal float, so exp(-inf)
// gives about 1e-38 rather than 0 (harmless in a softmax).
static inline float fast_exp(float x) {
    x = x < -87.3f ? -87.3f : x > 88.0f ? 88.0f : x;  // a NaN passes through, and stays NaN below
    float n = rintf(x * 1.44269504088896341f);  // rintf, unlike roundf or floorf, vectorises
    // ln 2 in two parts so n * ln2_high is exact: Cody and Waite's range reduction
    float r = x - n * 0.693145751953125f - n * 1.42860682030941723212e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6.0f + r * (1.0f / 24.0f + r * (1.0f / 120.0f +
                      r * (1.0f / 720.0f + r * (1.0f / 5040.0f)))))));
    // 2^n in the exponent bits; n is in [-126, 127] here. Converting a NaN to an integer is
    // undefined, so a NaN takes exponent 0 (its p is NaN anyway).
    int32_t exponent = n == n ? (int32_t)n : 0;
    uint32_t bits = (uint32_t)(exponent + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// tanh(x) = 1 - 2 / (e^{2x} + 1); |x| > 9 is ±1 to float precision.
static inline float fast_tanh(float x) {
    x = x < -9.0f ? -9.0f : x > 9.0f ? 9.0f : x;
    return 1.0f - 2.0f / (fast_exp(2.0f * x) + 1.0f);
}

#endif
