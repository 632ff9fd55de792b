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

// The samplers below return double and take parameters the caller has checked (every one
// must be finite and inside the domain stated; outside it the result is unspecified).

// Standard normal N(0, 1) in double precision, by Box-Muller.
double random_standard_normal(Random *rng);
// Exponential with rate > 0 (mean 1/rate) by inversion: x = -ln(1 - u) / rate.
double random_exponential(Random *rng, double rate);
// Poisson with mean lambda > 0. Knuth's product of uniforms (count the uniforms whose
// running product stays above e^-lambda) on pieces of lambda at most 16, summed (a sum of
// independent Poissons is Poisson with the summed means): exact, O(lambda) uniforms per draw.
long random_poisson(Random *rng, double lambda);
// Gamma with shape k > 0 and scale θ > 0 (density x^(k-1) e^(-x/θ) / (Γ(k) θ^k), mean k θ).
// Marsaglia and Tsang (2000), "A simple method for generating gamma variables": for k >= 1,
// d = k - 1/3, c = 1/√(9d), x ~ N(0,1), v = (1 + c x)³, accept d·v when v > 0 and
// ln u < x²/2 + d - d v + d ln v (a squeeze u < 1 - 0.0331 x⁴ accepts most without logs).
// For k < 1: Gamma(k + 1) · u^(1/k) (the same paper), which may underflow to 0 for tiny k.
double random_gamma(Random *rng, double shape, double scale);
// Beta(a, b), a > 0, b > 0, as X / (X + Y) with X ~ Gamma(a, 1), Y ~ Gamma(b, 1).
double random_beta(Random *rng, double a, double b);

// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror and Shaw 2011, "Parallel
// random numbers: as easy as 1, 2, 3"). out (4) is a bijection of the 128-bit counter (4) under
// the 64-bit key (its low word first): ten rounds, each multiplying two words by fixed odd
// constants and xoring the products' high halves, with the key, into the other two words; the
// key is bumped by two Weyl constants between rounds. There is no state: the numbers of
// counter n are the same whatever was drawn before, in whatever order, on any thread or
// process, so a computation split across workers (or resumed later) draws the same numbers
// by naming them (a dropout mask by step, sample, layer and position). Checked against the
// paper's Random123 known answers (tests/test_random.c).
void random_philox(const uint32_t counter[4], uint64_t key, uint32_t out[4]);

#endif
