// The MLP stage: gradients of every trained parameter against finite differences (with and
// without batch normalisation), the context window (position t sees exactly
// inputs[t-K+1..t]), next_logits = the forward's last position in inference mode, and the
// batch-norm running statistics.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/gradcheck.h"
#include "gpt/model.h"
#include "tests/check.h"
#include "tests/model_loss.h"

static void check_gradients(int batch_norm) {
    Error error = {{0}};
    ModelConfig config = {.arch = ARCH_MLP, .vocab_size = 7, .context_length = 6, .block_size = 3, .d_embed = 2,
                          .d_hidden = 5, .batch_norm = batch_norm};
    Random rng;
    random_seed(&rng, 11 + batch_norm);
    Model model;
    REQUIRE(model_init(&model, &config, &rng, &error) == 0, "%s", error.message);
    REQUIRE(model_prepare(&model, 2, 6, 1, &error) == 0, "%s", error.message);
    // Larger output weights than the initialisation's, so every gradient is well above noise.
    random_fill_normal(&rng, model.params, model.n_trainable, 0.0f, 0.7f);
    int inputs[12], targets[12];
    for (int i = 0; i < 12; i++) {
        inputs[i] = (int)random_below(&rng, 7);
        targets[i] = (int)random_below(&rng, 7);
    }
    ModelLoss context = {&model, inputs, targets, 2, 6};
    model_loss(&context);
    memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
    CHECK(model_backward(&model, &error) == 0, "%s", error.message);
    GradcheckResult result = gradcheck(model_loss, &context, model.params, model.grads, model.n_trainable, 1e-3f, 1e-2);
    fprintf(stderr, "mlp%s gradient check over %ld parameters: max abs error %.2e, max rel error %.2e\n",
            batch_norm ? " + batch norm" : "", model.n_trainable, result.max_abs_error, result.max_rel_error);
    CHECK(result.max_rel_error < 2e-2, "batch_norm %d: relative error %g at parameter %ld", batch_norm,
          result.max_rel_error, result.worst_index);
    CHECK(result.max_abs_error < 2e-3, "batch_norm %d: absolute error %g", batch_norm, result.max_abs_error);
    // The running statistics get no gradient.
    for (long i = model.n_trainable; i < model.n_params; i++) CHECK(model.grads[i] == 0.0f, "running statistic %ld", i);
    model_free(&model);
}

static void gradients_without_batch_norm(void) { check_gradients(0); }
static void gradients_with_batch_norm(void) { check_gradients(1); }

enum { V = 11, K = 4, T = 10 };

// A small MLP with batch norm (seed 5), prepared for one row of T positions in inference mode.
static int small_model(Model *model) {
    Error error = {{0}};
    ModelConfig config = {.arch = ARCH_MLP, .vocab_size = V, .context_length = T, .block_size = K, .d_embed = 3,
                          .d_hidden = 8, .batch_norm = 1};
    Random rng;
    random_seed(&rng, 5);
    int ok = model_init(model, &config, &rng, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    ok = model_prepare(model, 1, T, 0, &error) == 0;
    CHECK(ok, "%s", error.message);
    return ok ? 0 : -1;
}

static void tensors_have_their_places(void) {
    Model model;
    REQUIRE(small_model(&model) == 0, "cannot create the model");
    CHECK(model.n_trainable < model.n_params, "running statistics after the trained parameters");
    const TensorInfo *table = model_find_tensor(&model, "embedding");
    CHECK(table && table->shape[0] == V + 1, "embedding has the padding row");
    model_free(&model);
}

// Changing inputs[s] changes the logits at t only for s <= t <= s+K-1.
static void position_t_sees_the_k_tokens_up_to_t(void) {
    Model model;
    REQUIRE(small_model(&model) == 0, "cannot create the model");
    Error error = {{0}};
    int inputs[T] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    float before[T * V];
    CHECK(model.ops->forward(&model, inputs, NULL, 1, T, &error) == 0, "%s", error.message);
    memcpy(before, model.logits, sizeof(float) * T * V);
    const int s = 3;
    inputs[s] = 0;
    model.ops->forward(&model, inputs, NULL, 1, T, &error);
    for (int t = 0; t < T; t++) {
        int changed = memcmp(before + t * V, model.logits + t * V, sizeof(float) * V) != 0;
        CHECK(changed == (t >= s && t <= s + K - 1), "position %d %s", t, changed ? "changed" : "unchanged");
    }
    model_free(&model);
}

// next_logits on the first t+1 tokens = the forward's row t (inference mode).
static void next_logits_equals_the_forward_row(void) {
    Model model;
    REQUIRE(small_model(&model) == 0, "cannot create the model");
    Error error = {{0}};
    int inputs[T] = {1, 2, 3, 0, 5, 6, 7, 8, 9, 10};
    CHECK(model.ops->forward(&model, inputs, NULL, 1, T, &error) == 0, "%s", error.message);
    float logits[16];
    for (int t = 0; t < T; t++) {
        CHECK(model.ops->next_logits(&model, inputs, t + 1, logits, &error) == 0, "%s", error.message);
        for (int v = 0; v < V; v++) CHECK_NEAR(logits[v], model.logits[t * V + v], 1e-5);
    }
    model_free(&model);
}

static void bad_ids_are_errors(void) {
    Model model;
    REQUIRE(small_model(&model) == 0, "cannot create the model");
    Error error = {{0}};
    int inputs[T] = {V, 2, 3, 0, 5, 6, 7, 8, 9, 10};
    CHECK(model.ops->forward(&model, inputs, NULL, 1, T, &error) != 0, "id V rejected");
    model_free(&model);
}

// Training mode updates the running statistics towards the batch's; inference does not.
static void training_moves_the_running_statistics(void) {
    Model model;
    REQUIRE(small_model(&model) == 0, "cannot create the model");
    Error error = {{0}};
    int inputs[T] = {1, 2, 3, 0, 5, 6, 7, 8, 9, 10};
    const TensorInfo *running_mean = model_find_tensor(&model, "norm_running_mean");
    REQUIRE(running_mean, "no norm_running_mean");
    float saved = model.params[running_mean->offset];
    model.ops->forward(&model, inputs, NULL, 1, T, &error);
    CHECK(model.params[running_mean->offset] == saved, "inference leaves running statistics alone");
    CHECK(model_prepare(&model, 1, T, 1, &error) == 0, "%s", error.message);
    model.ops->forward(&model, inputs, NULL, 1, T, &error);
    CHECK(model.params[running_mean->offset] != saved, "training moves the running mean");
    model_free(&model);
}

static const CheckCase CASES[] = {
    {"gradients without batch norm", gradients_without_batch_norm},
    {"gradients with batch norm", gradients_with_batch_norm},
    {"tensors have their places", tensors_have_their_places},
    {"position t sees the K tokens up to t", position_t_sees_the_k_tokens_up_to_t},
    {"next_logits equals the forward row", next_logits_equals_the_forward_row},
    {"bad ids are errors", bad_ids_are_errors},
    {"training moves the running statistics", training_moves_the_running_statistics},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
