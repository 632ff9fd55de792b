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

static const double SMOOTHING = 0.1;  // k of the counting model

// The first 12000 characters of names.txt as one long row of pairs (x_i, x_{i+1}).
typedef struct Names {
    DataSource source;
    TextTokenizer tokenizer;
    int *ids;
    int N, V;  // N pairs, V symbols
} Names;

// Loads the names; 0, or -1 after the failed checks said why.
static int names_load(Names *names) {
    Error error = {{0}};
    memset(names, 0, sizeof *names);
    int ok = data_source_load(&names->source, "data/names.txt", &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    ok = text_tokenizer_chars(&names->tokenizer, names->source.text, names->source.n_text, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    names->V = text_vocab_size(&names->tokenizer);
    CHECK(names->V == 28, "names use a-z, '-' and newline: %d symbols", names->V);
    size_t n_ids = 0;
    ok = text_encode(&names->tokenizer, names->source.text, 12001, &names->ids, &n_ids, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    names->N = (int)n_ids - 1;
    return 0;
}

static void names_free(Names *names) {
    free(names->ids);
    text_tokenizer_free(&names->tokenizer);
    data_source_free(&names->source);
}

// The counting model with smoothing k, fitted to the pairs and run forward on them.
static int counting_fit(Model *counting, const Names *names) {
    Error error = {{0}};
    ModelConfig config = {.arch = ARCH_BIGRAM, .vocab_size = names->V, .context_length = names->N, .counting = 1,
                          .smoothing = (float)SMOOTHING};
    int ok = model_init(counting, &config, NULL, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    const int *inputs = names->ids, *targets = names->ids + 1;
    counting->ops->fit(counting, inputs, targets, 1, names->N);
    ok = model_prepare(counting, 1, names->N, 0, &error) == 0 &&
         counting->ops->forward(counting, inputs, targets, 1, names->N, &error) == 0;
    CHECK(ok, "%s", error.message);
    return ok ? 0 : -1;
}

// The counting model's loss vs the smoothed counts computed here; next_logits is the row
// of the last token.
static void counting_loss_equals_the_smoothed_counts(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Model counting;
    REQUIRE(counting_fit(&counting, &names) == 0, "cannot fit the counting model");
    int N = names.N, V = names.V;
    const int *inputs = names.ids, *targets = names.ids + 1;
    const double k = SMOOTHING;
    double *counts = calloc((size_t)V * V, sizeof(double));
    REQUIRE(counts, "out of memory");
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
    float logits[64];
    Error error = {{0}};
    CHECK(counting.ops->next_logits(&counting, inputs, 5, logits, &error) == 0, "%s", error.message);
    CHECK(memcmp(logits, counting.logits + 4 * V, sizeof(float) * (size_t)V) == 0, "next_logits = forward's row");
    free(counts);
    model_free(&counting);
    names_free(&names);
}

// The neural bigram (a V x V table of logits), random parameters, ready for a batch of N.
static int neural_create(Model *neural, const Names *names, Random *rng) {
    Error error = {{0}};
    ModelConfig config = {.arch = ARCH_BIGRAM, .vocab_size = names->V, .context_length = names->N};
    int ok = model_init(neural, &config, rng, &error) == 0 && model_prepare(neural, 1, names->N, 1, &error) == 0;
    CHECK(ok, "%s", error.message);
    return ok ? 0 : -1;
}

static void neural_gradient_passes_finite_differences(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Random rng;
    random_seed(&rng, 7);
    Model neural;
    REQUIRE(neural_create(&neural, &names, &rng) == 0, "cannot create the neural bigram");
    random_fill_normal(&rng, neural.params, neural.n_params, 0.0f, 1.0f);
    ModelLoss small = {&neural, names.ids, names.ids + 1, 2, 20};
    Error error = {{0}};
    model_loss(&small);
    memset(neural.grads, 0, sizeof(float) * (size_t)neural.n_params);
    CHECK(model_backward(&neural, &error) == 0, "%s", error.message);
    GradcheckResult check = gradcheck(model_loss, &small, neural.params, neural.grads, neural.n_params, 1e-2f, 1e-3);
    CHECK(check.max_abs_error < 2e-3, "neural bigram gradient: max abs error %g at %ld", check.max_abs_error,
          check.worst_index);
    model_free(&neural);
    names_free(&names);
}

// Trained full-batch with AdamW from zero, the neural bigram reaches the counting loss.
static void neural_bigram_trained_reaches_the_counting_loss(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Model counting, neural;
    REQUIRE(counting_fit(&counting, &names) == 0, "cannot fit the counting model");
    REQUIRE(neural_create(&neural, &names, NULL) == 0, "cannot create the neural bigram");
    int N = names.N;
    const int *inputs = names.ids, *targets = names.ids + 1;
    memset(neural.params, 0, sizeof(float) * (size_t)neural.n_params);
    OptimizerConfig adam = optimizer_default_config(OPTIMIZER_ADAMW);
    Optimizer optimizer;
    Error error = {{0}};
    REQUIRE(optimizer_init(&optimizer, &adam, neural.n_params, &error) == 0, "%s", error.message);
    for (int step = 0; step < 300; step++) {
        neural.ops->forward(&neural, inputs, targets, 1, N, &error);
        memset(neural.grads, 0, sizeof(float) * (size_t)neural.n_params);
        CHECK(model_backward(&neural, &error) == 0, "%s", error.message);
        optimizer_step(&optimizer, neural.params, neural.grads, neural.n_params, 0.1f);
    }
    neural.ops->forward(&neural, inputs, targets, 1, N, &error);
    fprintf(stderr, "counting bigram (k = %g): %.4f nats/char, neural bigram after 300 steps: %.4f\n", SMOOTHING,
            counting.loss, neural.loss);
    CHECK_NEAR(neural.loss, counting.loss, 0.01);
    optimizer_free(&optimizer);
    model_free(&neural);
    model_free(&counting);
    names_free(&names);
}

static const CheckCase CASES[] = {
    {"counting loss equals the smoothed counts", counting_loss_equals_the_smoothed_counts},
    {"neural gradient passes finite differences", neural_gradient_passes_finite_differences},
    {"neural bigram trained reaches the counting loss", neural_bigram_trained_reaches_the_counting_loss},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
