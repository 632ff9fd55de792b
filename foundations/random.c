#include "foundations/random.h"

#include <math.h>

void random_seed(Random *rng, uint64_t seed) {
    // PCG's recommended seeding: the stream comes from the seed too, so nearby seeds
    // give unrelated sequences.
    rng->state = 0;
    rng->increment = (seed << 1u) | 1u;
    random_u32(rng);
    rng->state += seed ^ 0x853c49e6748fea9bULL;
    random_u32(rng);
}

uint32_t random_u32(Random *rng) {
    uint64_t old = rng->state;
    rng->state = old * 6364136223846793005ULL + rng->increment;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rotation = (uint32_t)(old >> 59u);
    return (xorshifted >> rotation) | (xorshifted << ((32u - rotation) & 31u));
}

uint32_t random_below(Random *rng, uint32_t n) {
    // Reject the few values at the top that would make some residues more likely.
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t r = random_u32(rng);
        if (r >= threshold) return r % n;
    }
}

float random_uniform(Random *rng) {
    return (float)(random_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

double random_uniform_double(Random *rng) {
    uint64_t high = random_u32(rng) >> 5, low = random_u32(rng) >> 6;  // 27 + 26 bits
    return (double)(high * 67108864.0 + low) * (1.0 / 9007199254740992.0);
}

float random_normal(Random *rng, float mean, float std) {
    double u1 = 1.0 - random_uniform_double(rng);  // (0, 1]: log stays finite
    double u2 = random_uniform_double(rng);
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    return mean + std * (float)z;
}

void random_fill_normal(Random *rng, float *out, long n, float mean, float std) {
    for (long i = 0; i < n; i++) out[i] = random_normal(rng, mean, std);
}

int random_categorical(Random *rng, const float *weights, int n) {
    double total = 0.0;
    for (int i = 0; i < n; i++) total += weights[i];
    double target = random_uniform_double(rng) * total, cumulative = 0.0;
    for (int i = 0; i < n; i++) {
        cumulative += weights[i];
        if (target < cumulative) return i;
    }
    return n - 1;
}

void random_shuffle(Random *rng, int *values, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)random_below(rng, (uint32_t)i + 1);
        int swap = values[i];
        values[i] = values[j];
        values[j] = swap;
    }
}

double random_standard_normal(Random *rng) {
    double u1 = 1.0 - random_uniform_double(rng);  // (0, 1]
    double u2 = random_uniform_double(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double random_exponential(Random *rng, double rate) {
    return -log(1.0 - random_uniform_double(rng)) / rate;
}

// Knuth: the number of uniforms multiplied before the product falls to e^-lambda or below, minus one.
static long poisson_small(Random *rng, double lambda) {
    double limit = exp(-lambda), product = 1.0 - random_uniform_double(rng);
    long count = 0;
    while (product > limit) {
        product *= 1.0 - random_uniform_double(rng);
        count++;
    }
    return count;
}

long random_poisson(Random *rng, double lambda) {
    const double piece = 16.0;  // e^-16 ≈ 1e-7: far from underflow
    long total = 0;
    while (lambda > piece) {
        total += poisson_small(rng, piece);
        lambda -= piece;
    }
    return total + poisson_small(rng, lambda);
}

double random_gamma(Random *rng, double shape, double scale) {
    if (shape < 1.0) {
        double u = 1.0 - random_uniform_double(rng);  // (0, 1]
        return random_gamma(rng, shape + 1.0, scale) * pow(u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = random_standard_normal(rng), v = 1.0 + c * x;
        if (v <= 0.0) continue;
        v = v * v * v;
        double u = 1.0 - random_uniform_double(rng);
        if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
        if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v * scale;
    }
}

double random_beta(Random *rng, double a, double b) {
    double x = random_gamma(rng, a, 1.0), y = random_gamma(rng, b, 1.0);
    return x + y > 0.0 ? x / (x + y) : (a >= b ? 1.0 : 0.0);  // both underflowed: only for tiny a and b
}

// ----------------------------------------------------------------------------
// Philox4x32-10

// One round: (c0, c1, c2, c3) -> (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0)).
static void philox_round(uint32_t x[4], uint32_t k0, uint32_t k1) {
    uint64_t product0 = (uint64_t)0xD2511F53u * x[0], product1 = (uint64_t)0xCD9E8D57u * x[2];
    uint32_t y0 = (uint32_t)(product1 >> 32) ^ x[1] ^ k0, y1 = (uint32_t)product1;
    uint32_t y2 = (uint32_t)(product0 >> 32) ^ x[3] ^ k1, y3 = (uint32_t)product0;
    x[0] = y0, x[1] = y1, x[2] = y2, x[3] = y3;
}

void random_philox(const uint32_t counter[4], uint64_t key, uint32_t out[4]) {
    uint32_t x[4] = {counter[0], counter[1], counter[2], counter[3]};
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        if (round > 0) k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;  // the golden ratio's and sqrt(3)-1's bits
        philox_round(x, k0, k1);
    }
    out[0] = x[0], out[1] = x[1], out[2] = x[2], out[3] = x[3];
}
