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
#include "tests/names_fixture.h"
#include "tests/model_loss.h"

static const double SMOOTHING = 0.1;  // k of the counting model

// The first 12000 characters of names.txt as one long row of pairs (x_i, x_{i+1}).
typedef struct Pairs {
    Names names;
    int *ids;
    int N, V;  // N pairs, V symbols
} Pairs;

// 0, or -1 after the failed checks said why.
static int pairs_load(Pairs *pairs) {
    Error error = {{0}};
    memset(pairs, 0, sizeof *pairs);
    if (names_load(&pairs->names)) return -1;
    pairs->V = pairs->names.V;
    CHECK(pairs->V == 28, "names use a-z, '-' and newline: %d symbols", pairs->V);
    size_t n_ids = 0;
    int ok = text_encode(&pairs->names.tokenizer, pairs->names.source.text, 12001, &pairs->ids, &n_ids, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    pairs->N = (int)n_ids - 1;
    return 0;
}

static void pairs_free(Pairs *pairs) {
    free(pairs->ids);
    names_free(&pairs->names);
}

// The counting model with smoothing k, fitted to the pairs and run forward on them.
static int counting_fit(Model *counting, const Pairs *pairs) {
    Error error = {{0}};
    ModelConfig config = {.arch = ARCH_BIGRAM, .vocab_size = pairs->V, .context_length = pairs->N, .counting = 1,
                          .smoothing = (float)SMOOTHING};
    int ok = model_init(counting, &config, NULL, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    const int *inputs = pairs->ids, *targets = pairs->ids + 1;
    counting->ops->fit(counting, inputs, targets, 1, pairs->N);
    ok = model_prepare(counting, 1, pairs->N, 0, &error) == 0 &&
         counting->ops->forward(counting, inputs, targets, 1, pairs->N, &error) == 0;
    CHECK(ok, "%s", error.message);
    return ok ? 0 : -1;
}

// The counting model's loss vs the smoothed counts computed here; next_logits is the row
// of the last token.
static void counting_loss_equals_the_smoothed_counts(void) {
    Pairs pairs;
    REQUIRE(pairs_load(&pairs) == 0, "cannot load the names");
    Model counting;
    REQUIRE(counting_fit(&counting, &pairs) == 0, "cannot fit the counting model");
    int N = pairs.N, V = pairs.V;
    const int *inputs = pairs.ids, *targets = pairs.ids + 1;
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
    pairs_free(&pairs);
}

// The neural bigram (a V x V table of logits), random parameters, ready for a batch of N.
static int neural_create(Model *neural, const Pairs *pairs, Random *rng) {
    Error error = {{0}};
    ModelConfig config = {.arch = ARCH_BIGRAM, .vocab_size = pairs->V, .context_length = pairs->N};
    int ok = model_init(neural, &config, rng, &error) == 0 && model_prepare(neural, 1, pairs->N, 1, &error) == 0;
    CHECK(ok, "%s", error.message);
    return ok ? 0 : -1;
}

static void neural_gradient_passes_finite_differences(void) {
    Pairs pairs;
    REQUIRE(pairs_load(&pairs) == 0, "cannot load the names");
    Random rng;
    random_seed(&rng, 7);
    Model neural;
    REQUIRE(neural_create(&neural, &pairs, &rng) == 0, "cannot create the neural bigram");
    random_fill_normal(&rng, neural.params, neural.n_params, 0.0f, 1.0f);
    ModelLoss small = {&neural, pairs.ids, pairs.ids + 1, 2, 20};
    Error error = {{0}};
    model_loss(&small);
    memset(neural.grads, 0, sizeof(float) * (size_t)neural.n_params);
    CHECK(model_backward(&neural, &error) == 0, "%s", error.message);
    GradcheckResult check = gradcheck(model_loss, &small, neural.params, neural.grads, neural.n_params, 1e-2f, 1e-3);
    CHECK(check.max_abs_error < 2e-3, "neural bigram gradient: max abs error %g at %ld", check.max_abs_error,
          check.worst_index);
    model_free(&neural);
    pairs_free(&pairs);
}

// The neural bigram's gradient is known in closed form: for the mean cross-entropy over n
// pairs (x_i, y_i), dL/dW[x][v] = (1/n) Σ_{i: x_i = x} (softmax(W[x])_v - [v = y_i]). Computed
// here in double, it must match the backward to 1e-5 of the largest entry (a gradient off by
// a few percent, or a missing 1/n, fails).
static void neural_gradient_equals_the_closed_form(void) {
    Pairs pairs;
    REQUIRE(pairs_load(&pairs) == 0, "cannot load the names");
    Random rng;
    random_seed(&rng, 11);
    Model neural;
    REQUIRE(neural_create(&neural, &pairs, &rng) == 0, "cannot create the neural bigram");
    const TensorInfo *weight = &neural.tensors[0];
    float *W = neural.params + weight->offset;
    int V = pairs.V, n = 40;
    random_fill_normal(&rng, W, (long)V * V, 0.0f, 1.0f);
    Error error = {{0}};
    REQUIRE(neural.ops->forward(&neural, pairs.ids, pairs.ids + 1, 1, n, &error) == 0, "%s", error.message);
    memset(neural.grads, 0, sizeof(float) * (size_t)neural.n_params);
    REQUIRE(model_backward(&neural, &error) == 0, "%s", error.message);
    double *expected = calloc((size_t)V * V, sizeof(double));
    REQUIRE(expected, "out of memory");
    for (int i = 0; i < n; i++) {
        int x = pairs.ids[i], y = pairs.ids[i + 1];
        double max = -INFINITY, sum = 0.0;
        for (int v = 0; v < V; v++) max = fmax(max, W[(long)x * V + v]);
        for (int v = 0; v < V; v++) sum += exp(W[(long)x * V + v] - max);
        for (int v = 0; v < V; v++)
            expected[(long)x * V + v] += (exp(W[(long)x * V + v] - max) / sum - (v == y)) / n;
    }
    double largest = 0.0, worst = 0.0;
    const float *analytic = neural.grads + weight->offset;
    for (long k = 0; k < (long)V * V; k++) {
        largest = fmax(largest, fabs(expected[k]));
        worst = fmax(worst, fabs(analytic[k] - expected[k]));
    }
    CHECK(largest > 0.01 && worst <= 1e-5 * largest, "the gradient differs from the closed form by %g (largest %g)",
          worst, largest);
    free(expected);
    model_free(&neural);
    pairs_free(&pairs);
}

// Trained full-batch with AdamW from zero, the neural bigram reaches the counting loss.
static void neural_bigram_trained_reaches_the_counting_loss(void) {
    Pairs pairs;
    REQUIRE(pairs_load(&pairs) == 0, "cannot load the names");
    Model counting, neural;
    REQUIRE(counting_fit(&counting, &pairs) == 0, "cannot fit the counting model");
    REQUIRE(neural_create(&neural, &pairs, NULL) == 0, "cannot create the neural bigram");
    int N = pairs.N;
    const int *inputs = pairs.ids, *targets = pairs.ids + 1;
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
    pairs_free(&pairs);
}

static const CheckCase CASES[] = {
    {"the neural gradient equals the closed form", neural_gradient_equals_the_closed_form},
    {"counting loss equals the smoothed counts", counting_loss_equals_the_smoothed_counts},
    {"neural gradient passes finite differences", neural_gradient_passes_finite_differences},
    {"neural bigram trained reaches the counting loss", neural_bigram_trained_reaches_the_counting_loss},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
