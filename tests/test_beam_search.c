// Beam search (models/beam_search.h) on small hand-made next-token distributions, checked
// against exhaustive enumeration of every sequence the search could return.
#include "models/beam_search.h"

#include <math.h>
#include <stdint.h>

#include "check.h"
#include "foundations/random.h"

enum { BOS = 0, EOS = 1, A = 2, B = 3, VOCAB = 4 };

// A model: next-token probabilities as a function of the prefix, written into p (vocab).
typedef void (*Distribution)(const void *model, const int *prefix, int length, double *p);

typedef struct Model {
    Distribution distribution;
    int vocab;
    uint64_t seed;  // for the random model
    int calls;      // callback invocations
} Model;

static int model_step(void *context, const int *prefixes, int n, int length, float *log_probs, Error *error) {
    (void)error;
    Model *m = context;
    m->calls++;
    double p[16];
    for (int i = 0; i < n; i++) {
        m->distribution(m, prefixes + (size_t)i * length, length, p);
        for (int t = 0; t < m->vocab; t++) log_probs[(size_t)i * m->vocab + t] = (float)log(p[t]);
    }
    return 0;
}

// Greedy takes a (0.5) then a (0.35) then eos (0.5): 0.0875; "b eos" has 0.4 · 0.9 = 0.36.
// BOS is never generated (probability 0: log p = −∞).
static void designed(const void *model, const int *prefix, int length, double *p) {
    (void)model;
    static const double first[VOCAB] = {0, 0.1, 0.5, 0.4}, after_a[VOCAB] = {0, 0.3, 0.35, 0.35},
                        after_b[VOCAB] = {0, 0.9, 0.05, 0.05}, later[VOCAB] = {0, 0.5, 0.25, 0.25};
    const double *row = length == 1 ? first : length == 2 ? (prefix[1] == A ? after_a : after_b) : later;
    for (int t = 0; t < VOCAB; t++) p[t] = row[t];
}

// A pseudo-random distribution per prefix (a hash of the prefix seeds it).
static void hashed(const void *model, const int *prefix, int length, double *p) {
    const Model *m = model;
    uint64_t h = m->seed * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < length; i++) h = (h ^ (uint64_t)prefix[i]) * 0x100000001B3ull + 0x2545F4914F6CDD1Dull;
    Random rng;
    random_seed(&rng, h);
    double sum = 0;
    for (int t = 0; t < m->vocab; t++) sum += p[t] = exp(2.0 * random_normal(&rng, 0.0f, 1.0f));
    for (int t = 0; t < m->vocab; t++) p[t] /= sum;
}

typedef struct Best {
    int tokens[16], length;
    double score;
} Best;

// Every sequence bos x1 .. xk with xk = eos or k = max_length − 1, scored Σ log p / k^alpha.
static void enumerate(Model *m, int *prefix, int length, double log_prob, int max_length, double alpha, Best *best) {
    double p[16];
    m->distribution(m, prefix, length, p);
    for (int t = 0; t < m->vocab; t++) {
        if (p[t] <= 0) continue;
        prefix[length] = t;
        double lp = log_prob + (double)(float)log(p[t]);
        if (t == EOS || length + 1 == max_length) {
            double score = lp / pow(length, alpha);
            if (score > best->score) {
                memcpy(best->tokens, prefix, (size_t)(length + 1) * sizeof *prefix);
                best->length = length + 1, best->score = score;
            }
        } else {
            enumerate(m, prefix, length + 1, lp, max_length, alpha, best);
        }
    }
}

static Best exhaustive(Model *m, int max_length, double alpha) {
    Best best = {.score = -INFINITY};
    int prefix[16] = {BOS};
    enumerate(m, prefix, 1, 0.0, max_length, alpha, &best);
    return best;
}

static int same_sequence(const int *a, int na, const int *b, int nb) {
    return na == nb && !memcmp(a, b, (size_t)na * sizeof *a);
}

static void greedy_and_beam_differ_on_the_designed_model(void) {
    Model m = {.distribution = designed, .vocab = VOCAB};
    int out[8], length = 0;
    Error error = {0};
    REQUIRE(beam_search(model_step, &m, VOCAB, BOS, EOS, 6, 1, 0.0f, out, &length, &error) == 0, "%s", error.message);
    CHECK(same_sequence(out, length, (int[]){BOS, A, A, EOS}, 4), "greedy gave length %d", length);
    float log_prob = 0, score = 0;
    REQUIRE(beam_search_scored(model_step, &m, VOCAB, BOS, EOS, 6, 2, 0.0f, out, &length, &log_prob, &score, &error) == 0,
            "%s", error.message);
    CHECK(same_sequence(out, length, (int[]){BOS, B, EOS}, 3), "beam 2 gave length %d", length);
    CHECK_NEAR(log_prob, log(0.36), 1e-6);
    CHECK_NEAR(score, log(0.36), 1e-6);
    Best best = exhaustive(&m, 6, 0.0);
    CHECK(same_sequence(out, length, best.tokens, best.length), "beam 2 is not the exhaustive optimum");
    // With alpha 1 the mean log-probability ranks: b eos (log 0.36 / 2) still wins over greedy's path.
    REQUIRE(beam_search_scored(model_step, &m, VOCAB, BOS, EOS, 6, 2, 1.0f, out, &length, NULL, &score, &error) == 0,
            "%s", error.message);
    CHECK_NEAR(score, log(0.36) / 2, 1e-6);
}

// A beam as wide as the number of prefixes keeps every hypothesis: it is exhaustive search.
static void a_full_beam_equals_exhaustive_search(void) {
    const double alphas[3] = {0.0, 0.6, 1.0};
    int n_greedy_suboptimal = 0, n_alpha_changes = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        Model m = {.distribution = hashed, .vocab = VOCAB, .seed = seed};
        int max_length = 6, out[8], length = 0;
        int previous[8], previous_length = 0;
        for (int a = 0; a < 3; a++) {
            Best best = exhaustive(&m, max_length, alphas[a]);
            float score = 0;
            Error error = {0};
            REQUIRE(beam_search_scored(model_step, &m, VOCAB, BOS, EOS, max_length, 4 * 4 * 4 * 4 * 4, (float)alphas[a],
                                       out, &length, NULL, &score, &error) == 0, "%s", error.message);
            CHECK(same_sequence(out, length, best.tokens, best.length), "seed %d alpha %g: length %d, exhaustive %d",
                  (int)seed, alphas[a], length, best.length);
            CHECK_NEAR(score, best.score, 1e-5 * fabs(best.score) + 1e-6);
            if (a > 0 && !same_sequence(out, length, previous, previous_length)) n_alpha_changes++;
            memcpy(previous, out, sizeof out), previous_length = length;
            int greedy[8], greedy_length = 0;
            REQUIRE(beam_search(model_step, &m, VOCAB, BOS, EOS, max_length, 1, (float)alphas[a], greedy, &greedy_length,
                                &error) == 0, "%s", error.message);
            n_greedy_suboptimal += !same_sequence(greedy, greedy_length, best.tokens, best.length);
        }
    }
    // The cases must exercise the search: greedy misses the optimum and alpha changes the winner somewhere.
    CHECK(n_greedy_suboptimal > 0, "greedy was always optimal: the test distributions are too easy");
    CHECK(n_alpha_changes > 0, "length normalisation never changed the winner");
}

// Greedy (width 1) follows the argmax at each step, whatever alpha.
static void width_one_is_greedy(void) {
    for (uint64_t seed = 1; seed <= 20; seed++) {
        Model m = {.distribution = hashed, .vocab = 5, .seed = seed};
        int prefix[12] = {BOS}, length = 1;
        while (1) {
            double p[16];
            hashed(&m, prefix, length, p);
            int arg = 0;
            for (int t = 1; t < 5; t++)
                if (p[t] > p[arg]) arg = t;
            prefix[length++] = arg;
            if (arg == EOS || length == 10) break;
        }
        int out[12], out_length = 0;
        Error error = {0};
        REQUIRE(beam_search(model_step, &m, 5, BOS, EOS, 10, 1, 0.7f, out, &out_length, &error) == 0, "%s", error.message);
        CHECK(same_sequence(out, out_length, prefix, length), "seed %d: greedy differs from the argmax path", (int)seed);
        CHECK(m.calls == length - 1, "seed %d: %d model calls for %d steps", (int)seed, m.calls, length - 1);
    }
}

static int failing_step(void *context, const int *prefixes, int n, int length, float *log_probs, Error *error) {
    (void)context, (void)prefixes, (void)n, (void)length, (void)log_probs;
    return error_set(error, "model says no");
}

static int nan_step(void *context, const int *prefixes, int n, int length, float *log_probs, Error *error) {
    (void)context, (void)prefixes, (void)length, (void)error;
    for (int i = 0; i < n * VOCAB; i++) log_probs[i] = i == 2 ? NAN : -1.0f;
    return 0;
}

static int impossible_step(void *context, const int *prefixes, int n, int length, float *log_probs, Error *error) {
    (void)context, (void)prefixes, (void)length, (void)error;
    for (int i = 0; i < n * VOCAB; i++) log_probs[i] = -INFINITY;
    return 0;
}

static void bad_arguments_are_errors(void) {
    Model m = {.distribution = designed, .vocab = VOCAB};
    int out[8], length = 0;
    Error error = {0};
    CHECK(beam_search(model_step, &m, VOCAB, BOS, EOS, 6, 0, 0.0f, out, &length, &error) == -1, "width 0 accepted");
    CHECK(strstr(error.message, "beam width 0"), "message: %s", error.message);
    CHECK(beam_search(model_step, &m, VOCAB, BOS, EOS, 1, 2, 0.0f, out, &length, &error) == -1, "max_length 1 accepted");
    CHECK(beam_search(model_step, &m, VOCAB, BOS, EOS, 6, 2, -1.0f, out, &length, &error) == -1, "alpha -1 accepted");
    CHECK(beam_search(model_step, &m, VOCAB, BOS, EOS, 6, 2, NAN, out, &length, &error) == -1, "alpha NaN accepted");
    CHECK(beam_search(model_step, &m, VOCAB, BOS, VOCAB, 6, 2, 0.0f, out, &length, &error) == -1, "eos = V accepted");
    CHECK(beam_search(failing_step, &m, VOCAB, BOS, EOS, 6, 2, 0.0f, out, &length, &error) == -1, "callback error lost");
    CHECK(!strcmp(error.message, "model says no"), "message: %s", error.message);
    CHECK(beam_search(nan_step, &m, VOCAB, BOS, EOS, 6, 2, 0.0f, out, &length, &error) == -1, "NaN accepted");
    CHECK(strstr(error.message, "NaN"), "message: %s", error.message);
    CHECK(beam_search(impossible_step, &m, VOCAB, BOS, EOS, 6, 2, 0.0f, out, &length, &error) == -1, "all −∞ accepted");
}

// Cut at max_length without an eos: the hypothesis still competes and can be returned.
static void a_hypothesis_cut_at_max_length_is_returned(void) {
    Model m = {.distribution = designed, .vocab = VOCAB};
    int out[8], length = 0;
    Error error = {0};
    REQUIRE(beam_search(model_step, &m, VOCAB, BOS, EOS, 2, 1, 0.0f, out, &length, &error) == 0, "%s", error.message);
    CHECK(same_sequence(out, length, (int[]){BOS, A}, 2), "length %d", length);
    REQUIRE(beam_search(model_step, &m, VOCAB, BOS, EOS, 2, 3, 0.0f, out, &length, &error) == 0, "%s", error.message);
    CHECK(same_sequence(out, length, (int[]){BOS, A}, 2), "length %d", length);
}

static const CheckCase CASES[] = {
    {"greedy and beam differ on the designed model", greedy_and_beam_differ_on_the_designed_model},
    {"a full beam equals exhaustive search", a_full_beam_equals_exhaustive_search},
    {"width one is greedy", width_one_is_greedy},
    {"bad arguments are errors", bad_arguments_are_errors},
    {"a hypothesis cut at max length is returned", a_hypothesis_cut_at_max_length_is_returned},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
