// The bigram stage: the counting model's loss equals the one computed from the counts
// directly; the neural bigram's gradient passes a finite-difference check; trained by
// gradient descent on names it reaches the counting model's loss.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/gradcheck.h"
#include "foundations/optimizer.h"
#include "gpt/data.h"
#include "gpt/model.h"
#include "tests/check.h"
#include "tests/model_loss.h"

int main(void) {
    Error error = {{0}};
    DataSource source;
    CHECK(data_source_load(&source, "data/names.txt", &error) == 0, "%s", error.message);
    TextTokenizer tokenizer;
    CHECK(text_tokenizer_chars(&tokenizer, source.text, source.n_text, &error) == 0, "%s", error.message);
    int V = text_vocab_size(&tokenizer);
    CHECK(V == 28, "names use a-z, '-' and newline: %d symbols", V);

    // The first 12000 characters as one long row of pairs (x_i, x_{i+1}).
    int *ids = NULL;
    size_t n_ids = 0;
    CHECK(text_encode(&tokenizer, source.text, 12001, &ids, &n_ids, &error) == 0, "%s", error.message);
    int N = (int)n_ids - 1;
    const int *inputs = ids, *targets = ids + 1;

    // Counting model, smoothing k: its loss vs the smoothed counts computed here.
    const double k = 0.1;
    ModelConfig config = {.arch = ARCH_BIGRAM, .vocab_size = V, .context_length = N, .counting = 1, .smoothing = (float)k};
    Model counting;
    CHECK(model_create(&counting, &config, NULL, &error) == 0, "%s", error.message);
    counting.ops->fit(&counting, inputs, targets, 1, N);
    CHECK(model_prepare(&counting, 1, N, 0, &error) == 0, "%s", error.message);
    CHECK(counting.ops->forward(&counting, inputs, targets, 1, N, &error) == 0, "%s", error.message);
    double *counts = calloc((size_t)V * V, sizeof(double));
    for (int i = 0; i < N; i++) counts[inputs[i] * V + targets[i]] += 1.0;
    double expected = 0.0;
    for (int i = 0; i < N; i++) {
        double row = 0.0;
        for (int y = 0; y < V; y++) row += counts[inputs[i] * V + y];
        expected -= log((counts[inputs[i] * V + targets[i]] + k) / (row + k * V));
    }
    expected /= N;
    CHECK_NEAR(counting.loss, expected, 1e-4);
    CHECK(counting.loss > 2.2 && counting.loss < 2.6, "bigram loss on names %g, expected about 2.45", counting.loss);
    // next_logits is the row of the last token.
    float logits[64];
    CHECK(counting.ops->next_logits(&counting, inputs, 5, logits, &error) == 0, "%s", error.message);
    CHECK(memcmp(logits, counting.logits + 4 * V, sizeof(float) * (size_t)V) == 0, "next_logits = forward's row");

    // Neural bigram: gradient check on a small batch.
    Random rng;
    random_seed(&rng, 7);
    config.counting = 0;
    config.smoothing = 0.0f;
    Model neural;
    CHECK(model_create(&neural, &config, &rng, &error) == 0, "%s", error.message);
    CHECK(model_prepare(&neural, 1, N, 1, &error) == 0, "%s", error.message);
    random_fill_normal(&rng, neural.params, neural.n_params, 0.0f, 1.0f);
    ModelLoss small = {&neural, inputs, targets, 2, 20};
    model_loss(&small);
    memset(neural.grads, 0, sizeof(float) * (size_t)neural.n_params);
    CHECK(model_backward(&neural, &error) == 0, "%s", error.message);
    GradcheckResult check = gradcheck(model_loss, &small, neural.params, neural.grads, neural.n_params, 1e-2f, 1e-3);
    CHECK(check.max_abs_error < 2e-3, "neural bigram gradient: max abs error %g at %ld", check.max_abs_error,
          check.worst_index);

    // Neural bigram trained full-batch with AdamW from zero reaches the counting loss.
    memset(neural.params, 0, sizeof(float) * (size_t)neural.n_params);
    OptimizerConfig adam = optimizer_default_config(OPTIMIZER_ADAMW);
    Optimizer optimizer;
    CHECK(optimizer_init(&optimizer, &adam, neural.n_params, &error) == 0, "%s", error.message);
    for (int step = 0; step < 300; step++) {
        neural.ops->forward(&neural, inputs, targets, 1, N, &error);
        memset(neural.grads, 0, sizeof(float) * (size_t)neural.n_params);
        CHECK(model_backward(&neural, &error) == 0, "%s", error.message);
        optimizer_step(&optimizer, neural.params, neural.grads, neural.n_params, 0.1f);
    }
    neural.ops->forward(&neural, inputs, targets, 1, N, &error);
    fprintf(stderr, "counting bigram (k = %g): %.4f nats/char, neural bigram after 300 steps: %.4f\n", k, counting.loss,
            neural.loss);
    CHECK_NEAR(neural.loss, counting.loss, 0.01);

    optimizer_free(&optimizer);
    model_free(&neural);
    model_free(&counting);
    free(counts);
    free(ids);
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
    return check_report("test_bigram");
}
