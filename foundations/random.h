// Seeded random numbers: PCG32 (O'Neill 2014), a 64-bit linear congruential state whose
// output is permuted by a xorshift and a data-dependent rotation. Same seed, same numbers,
// on every machine and every run; no global state (each caller owns its Random).
#ifndef FOUNDATIONS_RANDOM_H
#define FOUNDATIONS_RANDOM_H

#include <stdint.h>

typedef struct Random {
    uint64_t state;
    uint64_t increment;  // must be odd; chosen from the seed
} Random;

void random_seed(Random *rng, uint64_t seed);
uint32_t random_u32(Random *rng);
// Uniform integer in [0, n), without modulo bias. n > 0.
uint32_t random_below(Random *rng, uint32_t n);
// Uniform float in [0, 1), 24 random bits.
float random_uniform(Random *rng);
// Uniform double in [0, 1), 53 random bits.
double random_uniform_double(Random *rng);
// Normal(mean, std) by Box-Muller: z = sqrt(-2 ln u1) cos(2 pi u2).
float random_normal(Random *rng, float mean, float std);
// Fills out[n] with Normal(mean, std).
void random_fill_normal(Random *rng, float *out, long n, float mean, float std);
// Index i drawn with probability weights[i] / sum(weights); weights (n) non-negative,
// not necessarily normalised. Returns n - 1 if rounding leaves the draw past the end.
int random_categorical(Random *rng, const float *weights, int n);
// Fisher-Yates shuffle of values (n).
void random_shuffle(Random *rng, int *values, int n);

#endif
