// Evaluation: the sliding window scores every token exactly once with enough context, so
// its total equals a token-by-token computation from next_logits over the whole history
// (for models that look back at most context_length/2 tokens); the derived figures follow
// their definitions; bad input is an error.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt/data.h"
#include "gpt/eval.h"
#include "gpt/model.h"
#include "tests/check.h"
#include "tests/names_fixture.h"

// Sum over i >= 1 of -log softmax(next_logits(tokens[0..i)))[tokens[i]], in double.
static double reference_nats(Model *model, const int *tokens, long n) {
    int V = model->config.vocab_size;
    float *logits = malloc(sizeof(float) * (size_t)V);
    double total = 0.0;
    Error error;
    for (long i = 1; i < n; i++) {
        long start = i > model->config.context_length ? i - model->config.context_length : 0;
        model->ops->next_logits(model, tokens + start, (int)(i - start), logits, &error);
        double max = logits[0], sum = 0.0;
        for (int v = 1; v < V; v++) max = logits[v] > max ? logits[v] : max;
        for (int v = 0; v < V; v++) sum += exp(logits[v] - max);
        total += max + log(sum) - logits[tokens[i]];
    }
    free(logits);
    return total;
}

// The counting bigram of context 8, fitted to the training ids.
static int bigram_fit(Model *bigram, const Names *names) {
    Error error = {{0}};
    ModelConfig config = {.arch = ARCH_BIGRAM, .vocab_size = names->V, .context_length = 8, .counting = 1, .smoothing = 1.0f};
    int ok = model_init(bigram, &config, NULL, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    bigram->ops->fit(bigram, names->data.train, names->data.train + 1, 1, (int)names->data.n_train - 1);
    return 0;
}

enum { N_SCORED = 1500 };  // a slice of the held-out ids, many windows long

// Counting bigram, context 8: 1499 tokens scored, the total is the table lookups'; the
// derived figures follow their definitions.
static void bigram_scores_every_token_once(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Model bigram;
    REQUIRE(bigram_fit(&bigram, &names) == 0, "cannot fit the bigram");
    long n = N_SCORED;
    Error error = {{0}};
    EvalResult result;
    CHECK(evaluate(&bigram, names.data.val, n, 1499, 0, &result, &error) == 0, "%s", error.message);
    CHECK(result.n_tokens == n - 1, "every token scored once: %ld", result.n_tokens);
    double expected = reference_nats(&bigram, names.data.val, n);
    CHECK_NEAR(result.total_nats, expected, 1e-6 * expected);
    CHECK_NEAR(result.mean_loss, expected / (n - 1), 1e-9);
    CHECK_NEAR(result.perplexity, exp(expected / (n - 1)), 1e-6);
    CHECK_NEAR(result.bits_per_byte, expected / log(2.0) / 1499, 1e-9);
    model_free(&bigram);
    names_free(&names);
}

// Windows shorter than the model's context give the same total for a bigram; a window
// longer than the context, or one token, is an error; a text shorter than the context works.
static void window_lengths_and_bad_input(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Model bigram;
    REQUIRE(bigram_fit(&bigram, &names) == 0, "cannot fit the bigram");
    long n = N_SCORED;
    double expected = reference_nats(&bigram, names.data.val, n);
    Error error = {{0}};
    EvalResult short_windows;
    CHECK(evaluate(&bigram, names.data.val, n, 1499, 3, &short_windows, &error) == 0, "%s", error.message);
    CHECK_NEAR(short_windows.total_nats, expected, 1e-6 * expected);
    CHECK(evaluate(&bigram, names.data.val, n, 1499, 9, &short_windows, &error) != 0, "context 9 > 8 rejected");
    CHECK(evaluate(&bigram, names.data.val, 1, 1, 0, &short_windows, &error) != 0, "one token is too few");
    CHECK(evaluate(&bigram, names.data.val, 5, 4, 0, &short_windows, &error) == 0 && short_windows.n_tokens == 4,
          "5 tokens");
    model_free(&bigram);
    names_free(&names);
}

// MLP with block 3 < context 8 / 2: the windows give each token its full block of context.
static void mlp_windows_give_the_full_context(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    ModelConfig mlp_config = {.arch = ARCH_MLP, .vocab_size = names.V, .context_length = 8, .block_size = 3,
                              .d_embed = 5, .d_hidden = 16, .batch_norm = 1};
    Random rng;
    random_seed(&rng, 17);
    Model mlp;
    Error error = {{0}};
    REQUIRE(model_init(&mlp, &mlp_config, &rng, &error) == 0, "%s", error.message);
    random_fill_normal(&rng, mlp.params, mlp.n_trainable, 0.0f, 0.5f);
    long n = N_SCORED;
    EvalResult result;
    CHECK(evaluate(&mlp, names.data.val, n, 1499, 0, &result, &error) == 0, "%s", error.message);
    double expected = reference_nats(&mlp, names.data.val, n);
    CHECK(result.n_tokens == n - 1, "every token scored once");
    CHECK_NEAR(result.total_nats, expected, 1e-5 * expected);
    model_free(&mlp);
    names_free(&names);
}

// A NaN weight gives a NaN loss: evaluation is an error, not "perplexity nan".
static void non_finite_loss_is_an_error(void) {
    Error error;
    ModelConfig config = {.arch = ARCH_GPT2, .vocab_size = 11, .context_length = 8, .n_layers = 1, .n_heads = 2,
                          .d_model = 8};
    Random rng;
    random_seed(&rng, 4);
    Model model;
    REQUIRE(model_init(&model, &config, &rng, &error) == 0, "%s", error.message);
    int tokens[40];
    for (int i = 0; i < 40; i++) tokens[i] = (i * 7) % 11;
    EvalResult result;
    REQUIRE(evaluate(&model, tokens, 40, 40, 8, &result, &error) == 0, "%s", error.message);
    CHECK(isfinite(result.perplexity), "finite before: %g", result.perplexity);
    model.params[model_find_tensor(&model, "ln2w")->offset] = NAN;
    CHECK(evaluate(&model, tokens, 40, 40, 8, &result, &error) != 0 && strstr(error.message, "not finite"),
          "a NaN weight: '%s'", error.message);
    model_free(&model);
}

// A model whose loss depends on how much history it sees: over V = 2 it gives the logits
// (t, 0) at window position t, so the loss of a token 0 is f(t) = log(1 + e^-t), large with no
// history (f(0) = 0.69), tiny with half a 16-token context (f(8) = 3.4e-4).
typedef struct HistoryModel {
    float *logits;
} HistoryModel;

static int history_prepare(Model *model, int B, int T, Error *error) {
    HistoryModel *h = model->state;
    free(h->logits);
    h->logits = malloc(sizeof(float) * (size_t)B * T * 2);
    if (!h->logits) return error_set(error, "out of memory");
    model->batch_size = B, model->seq_len = T;
    return 0;
}

static int history_forward(Model *model, const int *inputs, const int *targets, int B, int T, Error *error) {
    (void)inputs, (void)targets, (void)error;
    HistoryModel *h = model->state;
    for (long i = 0; i < (long)B * T; i++) h->logits[2 * i] = (float)(i % T), h->logits[2 * i + 1] = 0.0f;
    model->logits = h->logits;
    model->loss = -1.0f;
    return 0;
}

// Every token after the first window is scored with at least half a context of history: the
// total is at most the first window's Σ f(t) plus f(T/2) for each later token (and scoring
// any of them with less, as a stride of T would, goes far above it).
static void every_token_has_half_a_context_of_history(void) {
    enum { T = 16, N = 200 };
    Error error;
    HistoryModel h = {NULL};
    ModelOps ops = {.prepare = history_prepare, .forward = history_forward};
    Model model;
    memset(&model, 0, sizeof model);
    model.ops = &ops;
    model.state = &h;
    model.config.vocab_size = 2;
    model.config.context_length = T;
    int tokens[N] = {0};  // every token is 0, so its loss is f(its position in the window)
    EvalResult result;
    REQUIRE(evaluate(&model, tokens, N, N, T, &result, &error) == 0, "%s", error.message);
    double first_window = 0.0;
    for (int t = 0; t < T; t++) first_window += log1p(exp(-(double)t));
    double bound = first_window + (N - 1 - T) * log1p(exp(-(double)(T / 2)));
    CHECK(result.n_tokens == N - 1, "every token but the first scored once: %ld", result.n_tokens);
    CHECK(result.total_nats <= bound * (1 + 1e-6) && result.total_nats >= first_window,
          "total %.6f nats, at most %.6f with half a context of history", result.total_nats, bound);
    free(h.logits);
}

static const CheckCase CASES[] = {
    {"bigram scores every token once", bigram_scores_every_token_once},
    {"window lengths and bad input", window_lengths_and_bad_input},
    {"mlp windows give the full context", mlp_windows_give_the_full_context},
    {"a non-finite loss is an error", non_finite_loss_is_an_error},
    {"every token has half a context of history", every_token_has_half_a_context_of_history},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
