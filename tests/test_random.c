// The seeded generator: reproducible, and each distribution has the moments it should.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/random.h"
#include "tests/check.h"

static void same_seed_same_sequence(void) {
    Random a, b, c;
    random_seed(&a, 1234);
    random_seed(&b, 1234);
    random_seed(&c, 1235);
    int same = 1, differs = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = random_u32(&a), y = random_u32(&b), z = random_u32(&c);
        same &= x == y;
        differs += x != z;
    }
    CHECK(same, "same seed must give the same sequence");
    CHECK(differs > 990, "neighbouring seeds must give unrelated sequences (%d of 1000 differ)", differs);
}

enum { DRAWS = 400000 };

// Uniform [0,1): mean 1/2, variance 1/12, never 1.
static void uniform_has_its_moments(void) {
    Random a;
    random_seed(&a, 1234);
    double sum = 0.0, sum_squares = 0.0, max = 0.0;
    for (int i = 0; i < DRAWS; i++) {
        double u = random_uniform(&a);
        sum += u, sum_squares += u * u;
        if (u > max) max = u;
    }
    double mean = sum / DRAWS;
    CHECK_NEAR(mean, 0.5, 0.005);
    CHECK_NEAR(sum_squares / DRAWS - mean * mean, 1.0 / 12.0, 0.002);
    CHECK(max < 1.0, "uniform reached 1");
}

// Normal(3, 2): mean 3, variance 4, and about 68.3% within one standard deviation.
static void normal_has_its_moments(void) {
    Random a;
    random_seed(&a, 1235);
    double sum = 0.0, sum_squares = 0.0;
    int within = 0;
    for (int i = 0; i < DRAWS; i++) {
        double x = random_normal(&a, 3.0f, 2.0f);
        sum += x, sum_squares += x * x;
        within += fabs(x - 3.0) < 2.0;
    }
    double mean = sum / DRAWS;
    CHECK_NEAR(mean, 3.0, 0.02);
    CHECK_NEAR(sum_squares / DRAWS - mean * mean, 4.0, 0.05);
    CHECK_NEAR((double)within / DRAWS, 0.6827, 0.005);
}

// Categorical: a chi-square test of the counts against the weights. With 4 degrees of
// freedom the 99.9% quantile is 18.47; the fixed seed makes this deterministic.
static void categorical_follows_the_weights(void) {
    Random a;
    random_seed(&a, 1236);
    float weights[5] = {1.0f, 0.0f, 2.0f, 3.0f, 4.0f};  // unnormalised, with a zero
    long counts[5] = {0};
    for (int i = 0; i < DRAWS; i++) counts[random_categorical(&a, weights, 5)]++;
    CHECK(counts[1] == 0, "a zero weight was drawn %ld times", counts[1]);
    double chi_square = 0.0;
    for (int i = 0; i < 5; i++) {
        if (weights[i] == 0.0f) continue;
        double expected = DRAWS * weights[i] / 10.0;
        chi_square += (counts[i] - expected) * (counts[i] - expected) / expected;
    }
    CHECK(chi_square < 18.47, "categorical chi-square %g", chi_square);
}

// random_below: every residue equally likely (chi-square, 6 dof, 99.9%: 22.46).
static void below_is_uniform(void) {
    Random a;
    random_seed(&a, 1237);
    long residues[7] = {0};
    for (int i = 0; i < DRAWS; i++) residues[random_below(&a, 7)]++;
    double chi_square = 0.0;
    for (int i = 0; i < 7; i++) chi_square += (residues[i] - DRAWS / 7.0) * (residues[i] - DRAWS / 7.0) / (DRAWS / 7.0);
    CHECK(chi_square < 22.46, "random_below chi-square %g", chi_square);
}

// Shuffle: a permutation, and not the identity.
static void shuffle_permutes(void) {
    Random a;
    random_seed(&a, 1238);
    int values[100], seen[100] = {0}, moved = 0;
    for (int i = 0; i < 100; i++) values[i] = i;
    random_shuffle(&a, values, 100);
    for (int i = 0; i < 100; i++) seen[values[i]]++, moved += values[i] != i;
    for (int i = 0; i < 100; i++) CHECK(seen[i] == 1, "value %d appears %d times", i, seen[i]);
    CHECK(moved > 50, "shuffle moved only %d of 100", moved);
}

// Mean and population variance of draws (n) of one sampler.
typedef double (*Sampler)(Random *rng, const double *parameters);
static void sample_moments(Sampler sampler, const double *parameters, uint64_t seed, int n, double *mean, double *variance) {
    Random a;
    random_seed(&a, seed);
    double sum = 0.0, sum_squares = 0.0;
    for (int i = 0; i < n; i++) {
        double x = sampler(&a, parameters);
        sum += x, sum_squares += x * x;
    }
    *mean = sum / n;
    *variance = sum_squares / n - *mean * *mean;
}

static double exponential_sampler(Random *rng, const double *p) { return random_exponential(rng, p[0]); }
static double poisson_sampler(Random *rng, const double *p) { return (double)random_poisson(rng, p[0]); }
static double gamma_sampler(Random *rng, const double *p) { return random_gamma(rng, p[0], p[1]); }
static double beta_sampler(Random *rng, const double *p) { return random_beta(rng, p[0], p[1]); }

// Each sampler's mean and variance against the formulas, within about 4 standard errors of
// DRAWS draws (the seeds are fixed, so the checks are deterministic).
static void samplers_have_their_moments(void) {
    double mean, variance;
    sample_moments(exponential_sampler, (double[]){2.0}, 11, DRAWS, &mean, &variance);  // mean 1/2, variance 1/4
    CHECK_NEAR(mean, 0.5, 0.004);
    CHECK_NEAR(variance, 0.25, 0.006);
    sample_moments(poisson_sampler, (double[]){3.5}, 12, DRAWS, &mean, &variance);  // mean = variance = λ
    CHECK_NEAR(mean, 3.5, 0.012);
    CHECK_NEAR(variance, 3.5, 0.05);
    sample_moments(poisson_sampler, (double[]){40.0}, 13, DRAWS / 4, &mean, &variance);  // several pieces of 16
    CHECK_NEAR(mean, 40.0, 0.06);
    CHECK_NEAR(variance, 40.0, 1.0);
    sample_moments(gamma_sampler, (double[]){2.5, 2.0}, 14, DRAWS, &mean, &variance);  // k θ = 5, k θ² = 10
    CHECK_NEAR(mean, 5.0, 0.02);
    CHECK_NEAR(variance, 10.0, 0.2);
    sample_moments(gamma_sampler, (double[]){0.5, 1.0}, 15, DRAWS, &mean, &variance);  // shape < 1: 0.5, 0.5
    CHECK_NEAR(mean, 0.5, 0.005);
    CHECK_NEAR(variance, 0.5, 0.015);
    sample_moments(beta_sampler, (double[]){2.0, 5.0}, 16, DRAWS, &mean, &variance);  // a/(a+b), ab/((a+b)²(a+b+1))
    CHECK_NEAR(mean, 2.0 / 7.0, 0.001);
    CHECK_NEAR(variance, 10.0 / (49.0 * 8.0), 0.0004);
}

// Poisson(3.5) puts e^-3.5 = 0.0302 on 0; Gamma(1, θ) is exponential: P(X > θ) = e^-1.
static void samplers_have_their_probabilities(void) {
    Random a;
    random_seed(&a, 17);
    int zeros = 0, above = 0;
    for (int i = 0; i < DRAWS; i++) {
        zeros += random_poisson(&a, 3.5) == 0;
        above += random_gamma(&a, 1.0, 3.0) > 3.0;
    }
    CHECK_NEAR((double)zeros / DRAWS, exp(-3.5), 0.0012);
    CHECK_NEAR((double)above / DRAWS, exp(-1.0), 0.003);
}

// Philox4x32-10 gives Random123's known answers (counter, key -> out), and its bits are
// uniform: the fraction of words below 2^32/10 over many counters is 1/10 within 4.5 sigma.
static void philox_gives_the_known_answers(void) {
    static const uint32_t cases[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
         0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
         0x24126ea1},
    };
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        random_philox(cases[i], (uint64_t)cases[i][5] << 32 | cases[i][4], out);
        CHECK(memcmp(out, cases[i] + 6, sizeof out) == 0, "case %d: %08x %08x %08x %08x", i, out[0], out[1], out[2],
              out[3]);
    }
    long below = 0, n = 0;
    for (uint32_t k = 0; k < 50000; k++) {
        uint32_t counter[4] = {7, k, 3, 0}, out[4];
        random_philox(counter, 1234, out);
        for (int j = 0; j < 4; j++, n++) below += out[j] < 429496730u;
    }
    double sigma = sqrt(n * 0.1 * 0.9);
    CHECK(fabs((double)below - 0.1 * n) < 4.5 * sigma, "%ld of %ld words below 2^32/10", below, n);
}

static const CheckCase CASES[] = {
    {"philox gives the known answers", philox_gives_the_known_answers},
    {"same seed, same sequence", same_seed_same_sequence},
    {"uniform has its moments", uniform_has_its_moments},
    {"normal has its moments", normal_has_its_moments},
    {"categorical follows the weights", categorical_follows_the_weights},
    {"below is uniform", below_is_uniform},
    {"shuffle permutes", shuffle_permutes},
    {"samplers have their moments", samplers_have_their_moments},
    {"samplers have their probabilities", samplers_have_their_probabilities},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
