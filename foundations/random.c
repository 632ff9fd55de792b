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
