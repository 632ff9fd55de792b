// The sampler: draws follow the exact softmax probabilities (chi-square), top-k and top-p
// keep exactly the tokens they should on hand-made distributions, temperature 0 is the
// argmax, bad options are rejected; generation slides its window within the context.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt/model.h"
#include "gpt/sample.h"
#include "tests/check.h"

// Chi-square statistic of counts (n) against probabilities (n) over `draws` draws,
// merging nothing: the test distributions keep every expected count >= 5.
static double chi_square(const long *counts, const double *probs, int n, long draws) {
    double x = 0.0;
    for (int i = 0; i < n; i++) {
        double expected = probs[i] * (double)draws;
        x += (counts[i] - expected) * (counts[i] - expected) / expected;
    }
    return x;
}

static void softmax(const float *logits, double temperature, double *probs, int n) {
    double max = logits[0], sum = 0.0;
    for (int i = 1; i < n; i++) max = logits[i] > max ? logits[i] : max;
    for (int i = 0; i < n; i++) sum += probs[i] = exp((logits[i] - max) / temperature);
    for (int i = 0; i < n; i++) probs[i] /= sum;
}

// Draws `draws` tokens and checks them against exact probabilities. The 99.9% quantile
// of chi-square with d degrees of freedom is below d + 3.1 sqrt(2d) + 10 for d <= 20.
static void check_draws(const SamplerConfig *config, const float *logits, const double *exact, int n, uint64_t seed) {
    Error error;
    Sampler sampler;
    REQUIRE(sampler_init(&sampler, config, n, &error) == 0, "%s", error.message);
    Random rng;
    random_seed(&rng, seed);
    long counts[16] = {0};
    const long draws = 200000;
    for (long i = 0; i < draws; i++) counts[sampler_sample(&sampler, logits, &rng)]++;
    int support = 0;
    for (int i = 0; i < n; i++) {
        if (exact[i] == 0.0) CHECK(counts[i] == 0, "token %d outside the kept set drawn %ld times", i, counts[i]);
        else support++;
    }
    // Chi-square over the kept tokens only.
    long kept_counts[16];
    double kept_probs[16];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (exact[i] > 0.0) {
            kept_counts[m] = counts[i];
            kept_probs[m++] = exact[i];
        }
    double x = chi_square(kept_counts, kept_probs, m, draws);
    int dof = support - 1;
    double limit = dof + 3.1 * sqrt(2.0 * dof) + 10.0;
    CHECK(dof == 0 || x < limit, "chi-square %g with %d degrees of freedom (limit %g)", x, dof, limit);
    sampler_free(&sampler);
}

// A fake model whose next token is always (last + 1) mod V, recording the longest context
// it was given; for the generation loop.
typedef struct FakeState {
    int longest;
    int calls;
} FakeState;

static int fake_next_logits(Model *model, const int *tokens, int n, float *logits, Error *error) {
    FakeState *s = model->state;
    if (n > model->config.context_length) return error_set(error, "context %d too long", n);
    if (n > s->longest) s->longest = n;
    s->calls++;
    for (int v = 0; v < model->config.vocab_size; v++) logits[v] = 0.0f;
    logits[(tokens[n - 1] + 1) % model->config.vocab_size] = 10.0f;
    return 0;
}

typedef struct Collected {
    int tokens[100];
    int n;
} Collected;

static int collect(void *context, int token) {
    Collected *c = context;
    c->tokens[c->n++] = token;
    return c->n >= 100;
}

// The logits most cases sample from.
enum { N_LOGITS = 8 };
static const float LOGITS[N_LOGITS] = {2.0f, 1.0f, 0.5f, 0.0f, -0.5f, -1.0f, 1.5f, 0.25f};

// Plain softmax sampling at temperatures 1 and 0.5.
static void draws_follow_the_softmax(void) {
    const int n = N_LOGITS;
    const float *logits = LOGITS;
    double exact[N_LOGITS];
    SamplerConfig plain = {1.0f, 0, 1.0f};
    softmax(logits, 1.0, exact, n);
    check_draws(&plain, logits, exact, n, 1);
    SamplerConfig cold = {0.5f, 0, 1.0f};
    softmax(logits, 0.5, exact, n);
    check_draws(&cold, logits, exact, n, 2);
}

// Top-k 3: tokens 0 (2.0), 6 (1.5), 1 (1.0), renormalised.
static void top_k_keeps_the_k_largest(void) {
    const int n = N_LOGITS;
    const float *logits = LOGITS;
    double exact[N_LOGITS];
    SamplerConfig top_k = {1.0f, 3, 1.0f};
    softmax(logits, 1.0, exact, n);
    double kept = exact[0] + exact[6] + exact[1];
    for (int i = 0; i < n; i++) exact[i] = (i == 0 || i == 6 || i == 1) ? exact[i] / kept : 0.0;
    check_draws(&top_k, logits, exact, n, 3);
}

// Top-p on a hand-made distribution: probabilities 0.4, 0.3, 0.2, 0.1 (as logs).
static void top_p_keeps_the_nucleus(void) {
    Error error;
    float hand[4] = {logf(0.4f), logf(0.3f), logf(0.2f), logf(0.1f)};
    float probs[4];
    Sampler sampler;
    // Just below and above each cumulative mass 0.4, 0.7, 0.9 (not on it: float rounding).
    const float ps[] = {0.3f, 0.39f, 0.41f, 0.69f, 0.71f, 0.89f, 0.91f, 1.0f};
    const int expected_kept[] = {1, 1, 2, 2, 3, 3, 4, 4};
    for (int i = 0; i < 8; i++) {
        SamplerConfig nucleus = {1.0f, 0, ps[i]};
        sampler_init(&sampler, &nucleus, 4, &error);
        int kept_count = sampler_distribution(&sampler, hand, probs);
        CHECK(kept_count == expected_kept[i], "top-p %g kept %d tokens, expected %d", ps[i], kept_count, expected_kept[i]);
        double mass = 0.0;
        for (int j = 0; j < expected_kept[i]; j++) mass += 0.4 - 0.1 * j;
        for (int j = 0; j < 4; j++) CHECK_NEAR(probs[j], j < expected_kept[i] ? (0.4 - 0.1 * j) / mass : 0.0, 1e-6);
        sampler_free(&sampler);
    }
    // Top-p 0.6 then drawn: only tokens 0 and 1, in ratio 4:3.
    SamplerConfig nucleus = {1.0f, 0, 0.6f};
    double hand_exact[4] = {0.4 / 0.7, 0.3 / 0.7, 0.0, 0.0};
    check_draws(&nucleus, hand, hand_exact, 4, 4);
    // Top-k 2 then top-p 0.5 of what is left (0.4, 0.3 -> 0.57, 0.43): one token (0.57 >= 0.5);
    // p taken of the whole mass (0.5 of 1.0 needs 0.4 + 0.3) would keep two.
    SamplerConfig two_then_half = {1.0f, 2, 0.5f};
    sampler_init(&sampler, &two_then_half, 4, &error);
    CHECK(sampler_distribution(&sampler, hand, probs) == 1, "top-k 2 then top-p 0.5 keeps one");
    sampler_free(&sampler);
    // Top-k 3 then top-p 0.6 of what is left (0.4, 0.3, 0.2 -> 0.44, 0.33, 0.22): two tokens.
    SamplerConfig both = {1.0f, 3, 0.6f};
    sampler_init(&sampler, &both, 4, &error);
    CHECK(sampler_distribution(&sampler, hand, probs) == 2, "top-k then top-p keeps two");
    sampler_free(&sampler);
    // Top-p alone on a large flat-ish vocabulary exercises the candidate filter.
    float wide[1000];
    for (int i = 0; i < 1000; i++) wide[i] = (float)(i % 10) * 0.1f;
    SamplerConfig wide_p = {1.0f, 0, 0.5f};
    sampler_init(&sampler, &wide_p, 1000, &error);
    float *wide_probs = malloc(sizeof(float) * 1000);
    int wide_kept = sampler_distribution(&sampler, wide, wide_probs);
    // Reference: sort the softmax and count to mass 0.5 (ties broken by id, as the sampler).
    double wide_exact[1000], total = 0.0;
    for (int i = 0; i < 1000; i++) total += wide_exact[i] = exp(wide[i]);
    double cumulative = 0.0;
    int reference_kept = 0;
    for (int level = 9; level >= 0 && cumulative < 0.5 * total * (1 - 1e-6); level--)
        for (int i = level; i < 1000 && cumulative < 0.5 * total * (1 - 1e-6); i += 10) {
            cumulative += wide_exact[i];
            reference_kept++;
        }
    CHECK(abs(wide_kept - reference_kept) <= 1, "wide top-p kept %d, reference %d", wide_kept, reference_kept);
    free(wide_probs);
    sampler_free(&sampler);
}

// Temperature 0: the argmax, always (first index on ties).
static void temperature_zero_is_the_argmax(void) {
    Error error;
    const int n = N_LOGITS;
    const float *logits = LOGITS;
    Sampler sampler;
    SamplerConfig greedy = {0.0f, 0, 1.0f};
    sampler_init(&sampler, &greedy, n, &error);
    Random rng;
    random_seed(&rng, 9);
    for (int i = 0; i < 100; i++) CHECK(sampler_sample(&sampler, logits, &rng) == 0, "greedy picks the argmax");
    float tie[3] = {1.0f, 3.0f, 3.0f};
    sampler_free(&sampler);
    sampler_init(&sampler, &greedy, 3, &error);
    CHECK(sampler_sample(&sampler, tie, &rng) == 1, "greedy takes the first of tied maxima");
    sampler_free(&sampler);
}

static void bad_options_are_rejected(void) {
    Error error;
    SamplerConfig bad[] = {{-0.1f, 0, 1.0f}, {NAN, 0, 1.0f}, {1.0f, -1, 1.0f}, {1.0f, 0, 0.0f}, {1.0f, 0, 1.5f}, {1.0f, 0, NAN}};
    for (int i = 0; i < 6; i++) CHECK(sampler_config_check(&bad[i], &error) != 0, "bad sampler config %d accepted", i);
}

// Generation: the context never exceeds context_length, the tokens follow the model; the
// callback can stop it; a prompt id outside the vocabulary is an error.
static void generation_slides_its_window(void) {
    Error error;
    Sampler sampler;
    SamplerConfig greedy = {0.0f, 0, 1.0f};
    Random rng;
    random_seed(&rng, 9);
    ModelOps ops = {.next_logits = fake_next_logits};
    FakeState fake = {0, 0};
    Model model;
    memset(&model, 0, sizeof model);
    model.config.vocab_size = 5;
    model.config.context_length = 8;
    model.ops = &ops;
    model.state = &fake;
    int prompt[12] = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1};
    Collected collected = {{0}, 0};
    REQUIRE(sampler_init(&sampler, &greedy, 5, &error) == 0, "%s", error.message);
    int made = 0;
    CHECK(generate(&model, prompt, 12, 40, &sampler, &rng, collect, &collected, &made, &error) == 0, "%s", error.message);
    CHECK(made == 40 && collected.n == 40, "generated %d", made);
    CHECK(fake.longest == 8, "longest context %d, expected the model's 8", fake.longest);
    for (int i = 0; i < collected.n; i++) CHECK(collected.tokens[i] == (2 + i) % 5, "token %d = %d", i, collected.tokens[i]);
    // The callback can stop it.
    collected.n = 95;
    generate(&model, prompt, 1, 40, &sampler, &rng, collect, &collected, &made, &error);
    CHECK(made == 5, "stopped by the callback after %d", made);
    int bad_prompt = 7;
    CHECK(generate(&model, &bad_prompt, 1, 3, &sampler, &rng, NULL, NULL, NULL, &error) != 0, "prompt id out of range");
    sampler_free(&sampler);
}

// A model whose weights hold a NaN makes non-finite logits: generation stops with an error
// naming them instead of printing tokens the sampler did not really choose.
static void non_finite_logits_are_an_error(void) {
    Error error;
    ModelConfig config = {.arch = ARCH_GPT2, .vocab_size = 11, .context_length = 8, .n_layers = 1, .n_heads = 2,
                          .d_model = 8};
    Random rng;
    random_seed(&rng, 3);
    Model model;
    REQUIRE(model_init(&model, &config, &rng, &error) == 0, "%s", error.message);
    REQUIRE(model_prepare(&model, 1, 8, 0, &error) == 0, "%s", error.message);
    const TensorInfo *fcw = model_find_tensor(&model, "fcw");
    model.params[fcw->offset + 7] = NAN;
    Sampler sampler;
    SamplerConfig sampling = {1.0f, 0, 1.0f};
    REQUIRE(sampler_init(&sampler, &sampling, 11, &error) == 0, "%s", error.message);
    int prompt[2] = {1, 2}, generated = -1;
    CHECK(generate(&model, prompt, 2, 5, &sampler, &rng, NULL, NULL, &generated, &error) != 0 &&
              strstr(error.message, "generate: token 3: the model's logits") && strstr(error.message, "not finite"),
          "a NaN weight: '%s'", error.message);
    CHECK(generated == 0, "no token generated, %d were", generated);
    sampler_free(&sampler);
    model_free(&model);
}

static const CheckCase CASES[] = {
    {"draws follow the softmax", draws_follow_the_softmax},
    {"top-k keeps the k largest", top_k_keeps_the_k_largest},
    {"top-p keeps the nucleus", top_p_keeps_the_nucleus},
    {"temperature 0 is the argmax", temperature_zero_is_the_argmax},
    {"bad options are rejected", bad_options_are_rejected},
    {"generation slides its window", generation_slides_its_window},
    {"non-finite logits are an error", non_finite_logits_are_an_error},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
