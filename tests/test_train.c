// The training loop: a run stopped by the stop flag and resumed from its checkpoint gives
// bit-identical losses and parameters to an uninterrupted run; a NaN loss stops the run at
// the right step and leaves the last checkpoint as it was; data shorter than one sequence
// is an error; the counting bigram is fitted; the MLP learns names.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpt/checkpoint.h"
#include "gpt/train.h"
#include "tests/check.h"

typedef struct StopAt {
    volatile sig_atomic_t *flag;
    long step;
} StopAt;

// Sets the stop flag once the run has done `step` steps.
static void stop_at(void *context, const TrainProgress *progress) {
    StopAt *s = context;
    if (progress->event == TRAIN_EVENT_STEP && progress->step == s->step) *s->flag = 1;
}

static ModelConfig tiny_mlp(int V) {
    ModelConfig c = {.arch = ARCH_MLP, .vocab_size = V, .context_length = 16, .block_size = 3, .d_embed = 6,
                     .d_hidden = 24, .batch_norm = 1};
    return c;
}

static TrainConfig tiny_run(void) {
    TrainConfig c = train_default_config();
    c.batch_size = 4;
    c.seq_len = 16;
    c.max_steps = 30;
    c.learning_rate = 1e-2f;
    c.min_learning_rate = 1e-3f;
    c.warmup_steps = 5;
    c.weight_decay = 0.01f;
    c.eval_every = 10;
    c.eval_batches = 2;
    c.seed = 1234;
    return c;
}

static long file_bytes(const char *path, unsigned char **bytes) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    *bytes = malloc((size_t)size);
    if (fread(*bytes, 1, (size_t)size, f) != (size_t)size) size = -1;
    fclose(f);
    return size;
}

int main(void) {
    Error error = {{0}};
    char directory[] = "/tmp/groundup_test_train_XXXXXX";
    CHECK(mkdtemp(directory) != NULL, "mkdtemp");
    char path_a[256], path_b[256], svg[256];
    snprintf(path_a, sizeof path_a, "%s/a.ckpt", directory);
    snprintf(path_b, sizeof path_b, "%s/b.ckpt", directory);
    snprintf(svg, sizeof svg, "%s/b.svg", directory);

    DataSource source;
    CHECK(data_source_load(&source, "data/names.txt", &error) == 0, "%s", error.message);
    TextTokenizer tokenizer;
    CHECK(text_tokenizer_chars(&tokenizer, source.text, source.n_text, &error) == 0, "%s", error.message);
    Dataset data;
    CHECK(dataset_init(&data, &source, &tokenizer, NULL, &error) == 0, "%s", error.message);
    ModelConfig config = tiny_mlp(text_vocab_size(&tokenizer));
    TrainConfig train_config = tiny_run();

    // Run A: 30 steps without a break.
    Random init;
    random_seed(&init, 99);
    Model a;
    TrainState state_a;
    CHECK(model_init(&a, &config, &init, &error) == 0, "%s", error.message);
    CHECK(train_state_init(&state_a, &train_config, &a, "data/names.txt", &error) == 0, "%s", error.message);
    TrainRun run_a = {&a, &tokenizer, &data, &state_a, path_a, NULL, NULL, NULL, NULL};
    CHECK(train_run(&run_a, &error) == TRAIN_FINISHED, "%s", error.message);
    CHECK(state_a.step == 30 && state_a.train_curve.n == 30, "30 steps recorded");
    CHECK(state_a.val_curve.n == 4, "validation at steps 0, 10, 20, 30: %d", state_a.val_curve.n);

    // Run B: the same, stopped after step 13, then resumed from its checkpoint.
    random_seed(&init, 99);
    Model b;
    TrainState state_b;
    CHECK(model_init(&b, &config, &init, &error) == 0, "%s", error.message);
    CHECK(train_state_init(&state_b, &train_config, &b, "data/names.txt", &error) == 0, "%s", error.message);
    volatile sig_atomic_t stop = 0;
    StopAt stopper = {&stop, 13};
    TrainRun run_b = {&b, &tokenizer, &data, &state_b, path_b, NULL, &stop, stop_at, &stopper};
    CHECK(train_run(&run_b, &error) == TRAIN_STOPPED, "stopped: %s", error.message);
    CHECK(state_b.step == 13, "stopped at step %ld", state_b.step);
    model_free(&b);
    train_state_free(&state_b);

    Model resumed;
    TextTokenizer resumed_tokenizer;
    TrainState resumed_state;
    int has_training = 0;
    CHECK(checkpoint_load(path_b, &resumed, &resumed_tokenizer, &resumed_state, &has_training, &error) == 0, "%s",
          error.message);
    CHECK(has_training && resumed_state.step == 13, "resumed at step %ld", resumed_state.step);
    TrainRun run_c = {&resumed, &resumed_tokenizer, &data, &resumed_state, path_b, svg, NULL, NULL, NULL};
    CHECK(train_run(&run_c, &error) == TRAIN_FINISHED, "%s", error.message);
    CHECK(resumed_state.train_curve.n == 30, "30 steps after resuming: %d", resumed_state.train_curve.n);
    int same = resumed_state.train_curve.n == state_a.train_curve.n;
    for (int i = 0; same && i < state_a.train_curve.n; i++)
        same = resumed_state.train_curve.losses[i] == state_a.train_curve.losses[i];
    CHECK(same, "train losses bit-identical after resuming");
    same = resumed_state.val_curve.n == state_a.val_curve.n;
    for (int i = 0; same && i < state_a.val_curve.n; i++)
        same = resumed_state.val_curve.losses[i] == state_a.val_curve.losses[i];
    CHECK(same, "validation losses bit-identical after resuming");
    CHECK(memcmp(resumed.params, a.params, sizeof(float) * (size_t)a.n_params) == 0, "parameters bit-identical");
    CHECK(state_a.train_curve.losses[29] < state_a.train_curve.losses[0], "the loss went down: %g -> %g",
          state_a.train_curve.losses[0], state_a.train_curve.losses[29]);
    FILE *svg_file = fopen(svg, "r");
    CHECK(svg_file != NULL, "loss-curve SVG written");
    if (svg_file) fclose(svg_file);
    model_free(&resumed);
    text_tokenizer_free(&resumed_tokenizer);
    train_state_free(&resumed_state);

    // NaN: an absurd learning rate blows the loss up; the run names the step and the
    // checkpoint saved before (run A's file, reused here) is untouched.
    unsigned char *before = NULL, *after = NULL;
    long before_size = file_bytes(path_a, &before);
    TrainConfig wild = tiny_run();
    wild.learning_rate = 1e30f;
    wild.min_learning_rate = 1e29f;
    wild.warmup_steps = 0;
    wild.grad_clip = 0.0f;
    TrainState state_wild;
    CHECK(train_state_init(&state_wild, &wild, &a, "data/names.txt", &error) == 0, "%s", error.message);
    TrainRun run_wild = {&a, &tokenizer, &data, &state_wild, path_a, NULL, NULL, NULL, NULL};
    CHECK(train_run(&run_wild, &error) < 0, "diverging run must fail");
    CHECK(strstr(error.message, "step ") && (strstr(error.message, "nan") || strstr(error.message, "infinite")),
          "message names the step and the value: %s", error.message);
    CHECK(state_wild.step < wild.eval_every, "stopped before any save, at step %ld", state_wild.step);
    long after_size = file_bytes(path_a, &after);
    CHECK(before_size > 0 && before_size == after_size && memcmp(before, after, (size_t)before_size) == 0,
          "the last good checkpoint is intact");
    free(before);
    free(after);
    train_state_free(&state_wild);

    // Too little data: a training split shorter than one sequence.
    Dataset short_data = data;
    short_data.n_train = 10;
    TrainState state_short;
    train_state_init(&state_short, &train_config, &a, "data/names.txt", &error);
    TrainRun run_short = {&a, &tokenizer, &short_data, &state_short, NULL, NULL, NULL, NULL, NULL};
    CHECK(train_run(&run_short, &error) < 0 && strstr(error.message, "fewer than one sequence"), "short data: %s",
          error.message);
    train_state_free(&state_short);
    // A context longer than the model's.
    TrainConfig too_long = tiny_run();
    too_long.seq_len = 17;
    train_state_init(&state_short, &too_long, &a, "data/names.txt", &error);
    run_short.data = &data;
    CHECK(train_run(&run_short, &error) < 0 && strstr(error.message, "longer than the model's"), "context: %s",
          error.message);
    train_state_free(&state_short);
    model_free(&a);
    train_state_free(&state_a);

    // The counting bigram is fitted in one pass, and the neural MLP beats it on validation
    // after a few hundred steps.
    ModelConfig bigram_config = {.arch = ARCH_BIGRAM, .vocab_size = text_vocab_size(&tokenizer), .context_length = 32,
                                 .counting = 1, .smoothing = 1.0f};
    Model bigram;
    CHECK(model_init(&bigram, &bigram_config, NULL, &error) == 0, "%s", error.message);
    TrainConfig fit_config = train_default_config();
    fit_config.seq_len = 32;
    TrainState fit_state;
    train_state_init(&fit_state, &fit_config, &bigram, "data/names.txt", &error);
    TrainRun fit_run = {&bigram, &tokenizer, &data, &fit_state, NULL, NULL, NULL, NULL, NULL};
    CHECK(train_run(&fit_run, &error) == TRAIN_FINISHED, "%s", error.message);
    float bigram_val = fit_state.val_curve.losses[0];
    CHECK(bigram_val > 2.35f && bigram_val < 2.55f, "counting bigram validation loss %g, expected about 2.45", bigram_val);

    ModelConfig mlp_config = {.arch = ARCH_MLP, .vocab_size = text_vocab_size(&tokenizer), .context_length = 32,
                              .block_size = 4, .d_embed = 10, .d_hidden = 48};
    random_seed(&init, 5);
    Model mlp;
    CHECK(model_init(&mlp, &mlp_config, &init, &error) == 0, "%s", error.message);
    TrainConfig mlp_train = train_default_config();
    mlp_train.seq_len = 32;
    mlp_train.batch_size = 16;
    mlp_train.max_steps = 250;
    mlp_train.learning_rate = 1e-2f;
    mlp_train.eval_every = 0;
    mlp_train.eval_batches = 12;
    TrainState mlp_state;
    train_state_init(&mlp_state, &mlp_train, &mlp, "data/names.txt", &error);
    TrainRun mlp_run = {&mlp, &tokenizer, &data, &mlp_state, NULL, NULL, NULL, NULL, NULL};
    CHECK(train_run(&mlp_run, &error) == TRAIN_FINISHED, "%s", error.message);
    float mlp_val = mlp_state.val_curve.losses[mlp_state.val_curve.n - 1];
    fprintf(stderr, "validation: counting bigram %.4f, MLP after 250 steps %.4f\n", bigram_val, mlp_val);
    CHECK(mlp_val < bigram_val - 0.1f, "MLP %g should beat the bigram %g", mlp_val, bigram_val);

    model_free(&mlp);
    train_state_free(&mlp_state);
    model_free(&bigram);
    train_state_free(&fit_state);
    remove(path_a);
    remove(path_b);
    remove(svg);
    rmdir(directory);
    dataset_free(&data);
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
    return check_report("test_train");
}
