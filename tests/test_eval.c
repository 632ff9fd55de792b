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

int main(void) {
    Error error = {{0}};
    DataSource source;
    CHECK(data_source_load(&source, "data/names.txt", &error) == 0, "%s", error.message);
    TextTokenizer tokenizer;
    text_tokenizer_chars(&tokenizer, source.text, source.n_text, &error);
    Dataset data;
    CHECK(dataset_init(&data, &source, &tokenizer, NULL, &error) == 0, "%s", error.message);
    int V = text_vocab_size(&tokenizer);
    long n = 1500;  // a slice of the held-out ids, many windows long

    // Counting bigram, context 8: 1499 tokens scored, the total is the table lookups'.
    ModelConfig bigram_config = {.arch = ARCH_BIGRAM, .vocab_size = V, .context_length = 8, .counting = 1, .smoothing = 1.0f};
    Model bigram;
    CHECK(model_init(&bigram, &bigram_config, NULL, &error) == 0, "%s", error.message);
    bigram.ops->fit(&bigram, data.train, data.train + 1, 1, (int)data.n_train - 1);
    EvalResult result;
    CHECK(evaluate(&bigram, data.val, n, 1499, 0, &result, &error) == 0, "%s", error.message);
    CHECK(result.n_tokens == n - 1, "every token scored once: %ld", result.n_tokens);
    double expected = reference_nats(&bigram, data.val, n);
    CHECK_NEAR(result.total_nats, expected, 1e-6 * expected);
    CHECK_NEAR(result.mean_loss, expected / (n - 1), 1e-9);
    CHECK_NEAR(result.perplexity, exp(expected / (n - 1)), 1e-6);
    CHECK_NEAR(result.bits_per_byte, expected / log(2.0) / 1499, 1e-9);
    // Windows shorter than the model's context give the same total for a bigram.
    EvalResult short_windows;
    CHECK(evaluate(&bigram, data.val, n, 1499, 3, &short_windows, &error) == 0, "%s", error.message);
    CHECK_NEAR(short_windows.total_nats, expected, 1e-6 * expected);
    CHECK(evaluate(&bigram, data.val, n, 1499, 9, &short_windows, &error) != 0, "context 9 > 8 rejected");
    CHECK(evaluate(&bigram, data.val, 1, 1, 0, &short_windows, &error) != 0, "one token is too few");
    // A text shorter than the context.
    CHECK(evaluate(&bigram, data.val, 5, 4, 0, &short_windows, &error) == 0 && short_windows.n_tokens == 4, "5 tokens");

    // MLP with block 3 < context 8 / 2: the windows give each token its full block of context.
    ModelConfig mlp_config = {.arch = ARCH_MLP, .vocab_size = V, .context_length = 8, .block_size = 3, .d_embed = 5,
                              .d_hidden = 16, .batch_norm = 1};
    Random rng;
    random_seed(&rng, 17);
    Model mlp;
    CHECK(model_init(&mlp, &mlp_config, &rng, &error) == 0, "%s", error.message);
    random_fill_normal(&rng, mlp.params, mlp.n_trainable, 0.0f, 0.5f);
    CHECK(evaluate(&mlp, data.val, n, 1499, 0, &result, &error) == 0, "%s", error.message);
    expected = reference_nats(&mlp, data.val, n);
    CHECK(result.n_tokens == n - 1, "every token scored once");
    CHECK_NEAR(result.total_nats, expected, 1e-5 * expected);

    model_free(&mlp);
    model_free(&bigram);
    dataset_free(&data);
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
    return check_report("test_eval");
}
