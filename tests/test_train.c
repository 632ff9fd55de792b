// The training loop: a run stopped by the stop flag and resumed from its checkpoint gives
// bit-identical losses and parameters to an uninterrupted run; a NaN loss stops the run at
// the right step and leaves the last checkpoint as it was; data shorter than one sequence
// is an error; the counting bigram is fitted; the MLP learns names.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/file.h"
#include "gpt/checkpoint.h"
#include "gpt/train.h"
#include "tests/check.h"
#include "tests/names_fixture.h"

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

static ModelConfig tiny_gpt2(int V) {
    ModelConfig c = {.arch = ARCH_GPT2, .vocab_size = V, .context_length = 16, .n_layers = 2, .n_heads = 2, .d_model = 16};
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
    size_t n = 0;
    Error error;
    return file_read_all(path, bytes, &n, &error) == 0 ? (long)n : -1;
}

// Run A: the tiny model of config (initialised from seed 99), trained by train_config without
// a break, saved to path.
static int run_a(Model *a, TrainState *state_a, Names *names, ModelConfig config, TrainConfig train_config,
                 const char *path) {
    Error error = {{0}};
    Random init;
    random_seed(&init, 99);
    int ok = model_init(a, &config, &init, &error) == 0 &&
             train_state_init(state_a, &train_config, a, "data/names.txt", &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    TrainRun run = {.model = a, .tokenizer = &names->tokenizer, .data = &names->data, .state = state_a,
                    .out_path = path};
    ok = train_run(&run, &error) == TRAIN_FINISHED;
    CHECK(ok, "%s", error.message);
    return ok ? 0 : -1;
}

static int same_curve(const LossCurve *a, const LossCurve *b) {
    int same = a->n == b->n;
    for (int i = 0; same && i < a->n; i++) same = a->losses[i] == b->losses[i] && a->steps[i] == b->steps[i];
    return same;
}

// Run B, the same as A, stopped after step 13 and resumed from its checkpoint, ends with
// bit-identical losses, gradient norms and parameters. what names the run in messages.
static void check_resume_is_exact(Names *names, ModelConfig config, TrainConfig train_config, const char *what) {
    Error error = {{0}};
    char path_a[256], path_b[256], svg[256];
    snprintf(path_a, sizeof path_a, "%s/a.ckpt", check_directory());
    snprintf(path_b, sizeof path_b, "%s/b.ckpt", check_directory());
    snprintf(svg, sizeof svg, "%s/b.svg", check_directory());
    Model a;
    TrainState state_a;
    REQUIRE(run_a(&a, &state_a, names, config, train_config, path_a) == 0, "%s: run A failed", what);
    long steps = train_config.max_steps;
    CHECK(state_a.step == steps && state_a.train_curve.n == steps && state_a.norm_curve.n == steps,
          "%s: %ld steps recorded", what, steps);

    Random init;
    random_seed(&init, 99);
    Model b;
    TrainState state_b;
    REQUIRE(model_init(&b, &config, &init, &error) == 0, "%s", error.message);
    REQUIRE(train_state_init(&state_b, &train_config, &b, "data/names.txt", &error) == 0, "%s", error.message);
    volatile sig_atomic_t stop = 0;
    StopAt stopper = {&stop, 13};
    TrainRun run_b = {.model = &b, .tokenizer = &names->tokenizer, .data = &names->data, .state = &state_b,
                      .out_path = path_b, .stop = &stop, .callback = stop_at, .callback_context = &stopper};
    CHECK(train_run(&run_b, &error) == TRAIN_STOPPED, "%s: stopped: %s", what, error.message);
    CHECK(state_b.step == 13, "%s: stopped at step %ld", what, state_b.step);
    model_free(&b);
    train_state_free(&state_b);

    Model resumed;
    TextTokenizer resumed_tokenizer;
    TrainState resumed_state;
    int has_training = 0;
    REQUIRE(checkpoint_load(path_b, &resumed, &resumed_tokenizer, &resumed_state, &has_training, &error) == 0, "%s",
            error.message);
    CHECK(has_training && resumed_state.step == 13, "%s: resumed at step %ld", what, resumed_state.step);
    CHECK(resumed_state.config.optimizer == train_config.optimizer &&
              resumed_state.optimizer.config.kind == train_config.optimizer &&
              resumed_state.config.schedule == train_config.schedule &&
              resumed_state.config.grad_clip_value == train_config.grad_clip_value &&
              resumed_state.config.l1 == train_config.l1 && resumed_state.config.patience == train_config.patience &&
              resumed_state.config.dropout == train_config.dropout,
          "%s: the checkpoint keeps the optimizer, schedule, clipping, L1, patience and dropout", what);
    TrainRun run_c = {.model = &resumed, .tokenizer = &resumed_tokenizer, .data = &names->data,
                      .state = &resumed_state, .out_path = path_b, .svg_path = svg};
    CHECK(train_run(&run_c, &error) == TRAIN_FINISHED, "%s: %s", what, error.message);
    CHECK(same_curve(&resumed_state.train_curve, &state_a.train_curve), "%s: train losses bit-identical after resuming", what);
    CHECK(same_curve(&resumed_state.val_curve, &state_a.val_curve), "%s: validation losses bit-identical", what);
    CHECK(same_curve(&resumed_state.norm_curve, &state_a.norm_curve), "%s: gradient norms bit-identical", what);
    CHECK(memcmp(resumed.params, a.params, sizeof(float) * (size_t)a.n_params) == 0, "%s: parameters bit-identical", what);
    CHECK(state_a.train_curve.losses[steps - 1] < state_a.train_curve.losses[0], "%s: the loss went down: %g -> %g", what,
          state_a.train_curve.losses[0], state_a.train_curve.losses[steps - 1]);
    FILE *svg_file = fopen(svg, "r");
    CHECK(svg_file != NULL, "loss-curve SVG written");
    if (svg_file) fclose(svg_file);
    model_free(&resumed);
    text_tokenizer_free(&resumed_tokenizer);
    train_state_free(&resumed_state);
    model_free(&a);
    train_state_free(&state_a);
    remove(path_a);
    remove(path_b);
    remove(svg);
}

static void stopped_and_resumed_equals_uninterrupted(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    TrainConfig c = tiny_run();
    check_resume_is_exact(&names, tiny_mlp(names.V), c, "AdamW, warmup-cosine");
    CHECK(c.max_steps == 30 && c.eval_every == 10, "the run the comments describe");
    names_free(&names);
}

// Every optimizer's state (none for SGD, m for momentum and Nesterov, v for RMSprop, both for
// Adam) and every schedule survive the checkpoint: resuming is exact for each, with the
// other options (clipping by value, L1, patience) on too.
static void every_optimizer_resumes_exactly(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    static const ScheduleKind schedules[N_OPTIMIZER_KINDS] = {SCHEDULE_CONSTANT, SCHEDULE_STEP_DECAY, SCHEDULE_COSINE,
                                                              SCHEDULE_ONE_CYCLE, SCHEDULE_WARMUP_COSINE, SCHEDULE_ONE_CYCLE};
    for (int k = 0; k < N_OPTIMIZER_KINDS; k++) {
        TrainConfig c = tiny_run();
        c.optimizer = (OptimizerKind)k;
        c.schedule = schedules[k];
        c.warmup_steps = c.schedule == SCHEDULE_WARMUP_COSINE || c.schedule == SCHEDULE_ONE_CYCLE ? 5 : -1;
        c.learning_rate = k <= OPTIMIZER_NESTEROV ? 0.1f : 1e-2f;
        c.min_learning_rate = c.learning_rate / 10;
        c.grad_clip = 0.0f;
        c.grad_clip_value = 0.5f;
        c.l1 = 1e-5f;
        c.patience = 3;
        char what[96];
        snprintf(what, sizeof what, "%s, %s", optimizer_kind_name(c.optimizer), schedule_kind_name(c.schedule));
        check_resume_is_exact(&names, tiny_mlp(names.V), c, what);
    }
    names_free(&names);
}

// GPT-2 with dropout: its masks are keyed on the seed and the step, not drawn from a state,
// so the resumed run draws the ones the uninterrupted run drew (and keeps p).
static void gpt2_with_dropout_resumes_exactly(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    TrainConfig c = tiny_run();
    c.dropout = 0.2f;
    check_resume_is_exact(&names, tiny_gpt2(names.V), c, "gpt2, dropout 0.2, AdamW");
    names_free(&names);
}

// Loads a committed checkpoint fixture written by an older binary (REQUIREs it loads with a
// training state).
static void load_older_fixture(const char *fixture, Model *model, TextTokenizer *tokenizer, TrainState *state) {
    Error error = {{0}};
    int has_training = 0;
    REQUIRE(checkpoint_load(fixture, model, tokenizer, state, &has_training, &error) == 0 && has_training,
            "%s: %s", fixture, error.message[0] ? error.message : "no training state");
}

// Continues a loaded older checkpoint to step 9, saving into the temporary directory under name,
// then loads what it saved back into model, tokenizer and state for the caller to check and free.
static void resume_to_step_9_and_reload(Names *names, Model *model, TextTokenizer *tokenizer, TrainState *state,
                                        const char *name) {
    Error error = {{0}};
    state->config.max_steps = 9;
    char path[256];
    snprintf(path, sizeof path, "%s/%s", check_directory(), name);
    TrainRun run = {.model = model, .tokenizer = tokenizer, .data = &names->data, .state = state, .out_path = path};
    CHECK(train_run(&run, &error) == TRAIN_FINISHED && state->step == 9, "resumed: %s", error.message);
    model_free(model), text_tokenizer_free(tokenizer), train_state_free(state);
    int has_training = 0;
    REQUIRE(checkpoint_load(path, model, tokenizer, state, &has_training, &error) == 0, "%s", error.message);
    remove(path);
}

// A GPT-2 checkpoint written before dropout (training extension version 1) loads with dropout
// 0, resumes, and is saved again with it.
static void a_checkpoint_before_dropout_resumes(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Model model;
    TextTokenizer tokenizer;
    TrainState state;
    load_older_fixture("tests/fixtures/checkpoint/before_dropout.ckpt", &model, &tokenizer, &state);
    CHECK(state.step == 6 && model.config.arch == ARCH_GPT2 && state.config.dropout == 0.0f &&
              state.config.schedule == SCHEDULE_WARMUP_COSINE && state.norm_curve.n == 6,
          "step %ld, dropout %g, %d gradient norms", state.step, (double)state.config.dropout, state.norm_curve.n);
    resume_to_step_9_and_reload(&names, &model, &tokenizer, &state, "before_dropout.ckpt");
    CHECK(state.step == 9 && state.config.dropout == 0.0f && state.norm_curve.n == 9, "saved again in the new format");
    model_free(&model), text_tokenizer_free(&tokenizer), train_state_free(&state);
    names_free(&names);
}

static void a_nan_loss_stops_and_keeps_the_checkpoint(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Error error = {{0}};
    char path_a[256];
    snprintf(path_a, sizeof path_a, "%s/nan.ckpt", check_directory());
    Model a;
    TrainState state_a;
    REQUIRE(run_a(&a, &state_a, &names, tiny_mlp(names.V), tiny_run(), path_a) == 0, "run A failed");
    unsigned char *before = NULL, *after = NULL;
    long before_size = file_bytes(path_a, &before);
    TrainConfig wild = tiny_run();
    wild.learning_rate = 1e30f;
    wild.min_learning_rate = 1e29f;
    wild.warmup_steps = 0;
    wild.grad_clip = 0.0f;
    TrainState state_wild;
    REQUIRE(train_state_init(&state_wild, &wild, &a, "data/names.txt", &error) == 0, "%s", error.message);
    TrainRun run_wild = {.model = &a, .tokenizer = &names.tokenizer, .data = &names.data, .state = &state_wild,
                         .out_path = path_a};
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
    model_free(&a);
    train_state_free(&state_a);
    remove(path_a);
    names_free(&names);
}

// Too little data (a training split shorter than one sequence) and a context longer than
// the model's are errors.
static void too_little_data_and_too_long_a_context(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Error error = {{0}};
    ModelConfig config = tiny_mlp(text_vocab_size(&names.tokenizer));
    Random init;
    random_seed(&init, 99);
    Model a;
    REQUIRE(model_init(&a, &config, &init, &error) == 0, "%s", error.message);
    TrainConfig train_config = tiny_run();
    Dataset short_data = names.data;
    short_data.n_train = 10;
    TrainState state_short;
    train_state_init(&state_short, &train_config, &a, "data/names.txt", &error);
    TrainRun run_short = {.model = &a, .tokenizer = &names.tokenizer, .data = &short_data, .state = &state_short};
    CHECK(train_run(&run_short, &error) < 0 && strstr(error.message, "fewer than one sequence"), "short data: %s",
          error.message);
    train_state_free(&state_short);
    TrainConfig too_long = tiny_run();
    too_long.seq_len = 17;
    train_state_init(&state_short, &too_long, &a, "data/names.txt", &error);
    run_short.data = &names.data;
    CHECK(train_run(&run_short, &error) < 0 && strstr(error.message, "longer than the model's"), "context: %s",
          error.message);
    train_state_free(&state_short);
    model_free(&a);
    names_free(&names);
}

// The counting bigram is fitted in one pass, and the neural MLP beats it on validation
// after a few hundred steps.
static void the_mlp_beats_the_counting_bigram(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Error error = {{0}};
    ModelConfig bigram_config = {.arch = ARCH_BIGRAM, .vocab_size = text_vocab_size(&names.tokenizer),
                                 .context_length = 32, .counting = 1, .smoothing = 1.0f};
    Model bigram;
    REQUIRE(model_init(&bigram, &bigram_config, NULL, &error) == 0, "%s", error.message);
    TrainConfig fit_config = train_default_config();
    fit_config.seq_len = 32;
    TrainState fit_state;
    train_state_init(&fit_state, &fit_config, &bigram, "data/names.txt", &error);
    TrainRun fit_run = {.model = &bigram, .tokenizer = &names.tokenizer, .data = &names.data, .state = &fit_state};
    REQUIRE(train_run(&fit_run, &error) == TRAIN_FINISHED, "%s", error.message);
    float bigram_val = fit_state.val_curve.losses[0];
    CHECK(bigram_val > 2.35f && bigram_val < 2.55f, "counting bigram validation loss %g, expected about 2.45", bigram_val);

    ModelConfig mlp_config = {.arch = ARCH_MLP, .vocab_size = text_vocab_size(&names.tokenizer), .context_length = 32,
                              .block_size = 4, .d_embed = 10, .d_hidden = 48};
    Random init;
    random_seed(&init, 5);
    Model mlp;
    REQUIRE(model_init(&mlp, &mlp_config, &init, &error) == 0, "%s", error.message);
    TrainConfig mlp_train = train_default_config();
    mlp_train.seq_len = 32;
    mlp_train.batch_size = 16;
    mlp_train.max_steps = 250;
    mlp_train.learning_rate = 1e-2f;
    mlp_train.eval_every = 0;
    mlp_train.eval_batches = 12;
    TrainState mlp_state;
    train_state_init(&mlp_state, &mlp_train, &mlp, "data/names.txt", &error);
    TrainRun mlp_run = {.model = &mlp, .tokenizer = &names.tokenizer, .data = &names.data, .state = &mlp_state};
    REQUIRE(train_run(&mlp_run, &error) == TRAIN_FINISHED, "%s", error.message);
    float mlp_val = mlp_state.val_curve.losses[mlp_state.val_curve.n - 1];
    fprintf(stderr, "validation: counting bigram %.4f, MLP after 250 steps %.4f\n", bigram_val, mlp_val);
    CHECK(mlp_val < bigram_val - 0.1f, "MLP %g should beat the bigram %g", mlp_val, bigram_val);
    model_free(&mlp);
    train_state_free(&mlp_state);
    model_free(&bigram);
    train_state_free(&fit_state);
    names_free(&names);
}

// Poisons a weight after the run's first save, so the next step's loss is NaN.
typedef struct Poison {
    Model *model;
} Poison;

static void poison_after_save(void *context, const TrainProgress *progress) {
    Poison *p = context;
    if (progress->event == TRAIN_EVENT_SAVED) p->model->params[0] = NAN;
}

// A run that diverges after a save names that checkpoint and its step; the checkpoint is
// the state of that step (it loads, and holds no NaN).
static void divergence_names_the_last_save(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Error error = {{0}};
    const char *path = check_path("diverged.ckpt");
    ModelConfig config = tiny_mlp(text_vocab_size(&names.tokenizer));
    TrainConfig train_config = tiny_run();
    Random init;
    random_seed(&init, 5);
    Model model;
    TrainState state;
    REQUIRE(model_init(&model, &config, &init, &error) == 0 &&
                train_state_init(&state, &train_config, &model, "data/names.txt", &error) == 0,
            "%s", error.message);
    Poison poison = {&model};
    TrainRun run = {.model = &model, .tokenizer = &names.tokenizer, .data = &names.data, .state = &state,
                    .out_path = path, .callback = poison_after_save, .callback_context = &poison};
    CHECK(train_run(&run, &error) < 0 && strstr(error.message, "step 11: the loss is nan") &&
              strstr(error.message, "the last good checkpoint is") && strstr(error.message, "(step 10)"),
          "%s", error.message);
    Model saved;
    TextTokenizer tokenizer;
    TrainState saved_state;
    int has_training = 0;
    CHECK(checkpoint_load(path, &saved, &tokenizer, &saved_state, &has_training, &error) == 0 && has_training &&
              saved_state.step == 10 && isfinite(saved.params[0]),
          "the checkpoint of step 10: %s", error.message);
    model_free(&saved), text_tokenizer_free(&tokenizer), train_state_free(&saved_state);
    model_free(&model), train_state_free(&state), names_free(&names);
}

// What the loop did at each step, as its progress reported it.
typedef struct StepLog {
    int n;
    float lr[64], grad_norm[64];  // the first 64 steps
    float last_lr;                // the last step's
} StepLog;

static void log_steps(void *context, const TrainProgress *progress) {
    StepLog *log = context;
    if (progress->event == TRAIN_EVENT_STEP) log->last_lr = progress->lr;
    if (progress->event == TRAIN_EVENT_STEP && log->n < 64) {
        log->lr[log->n] = progress->lr;
        log->grad_norm[log->n++] = progress->grad_norm;
    }
}

// Trains the tiny MLP from seed 5 with train_config; fills log and the largest parameter change.
static void run_logged(Names *names, TrainConfig train_config, StepLog *log, double *largest_change, long *steps,
                       double *elapsed) {
    Error error = {{0}};
    ModelConfig config = tiny_mlp(text_vocab_size(&names->tokenizer));
    Random init;
    random_seed(&init, 5);
    Model model;
    TrainState state;
    memset(log, 0, sizeof *log);
    REQUIRE(model_init(&model, &config, &init, &error) == 0 &&
                train_state_init(&state, &train_config, &model, "data/names.txt", &error) == 0,
            "%s", error.message);
    float *before = malloc(sizeof(float) * (size_t)model.n_trainable);
    REQUIRE(before, "out of memory");
    memcpy(before, model.params, sizeof(float) * (size_t)model.n_trainable);
    TrainRun run = {.model = &model, .tokenizer = &names->tokenizer, .data = &names->data, .state = &state,
                    .callback = log_steps, .callback_context = log};
    CHECK(train_run(&run, &error) == TRAIN_FINISHED, "%s", error.message);
    *largest_change = 0.0;
    for (long i = 0; i < model.n_trainable; i++)
        *largest_change = fmax(*largest_change, fabs((double)model.params[i] - before[i]));
    *steps = state.step;
    *elapsed = state.elapsed_seconds;
    free(before);
    model_free(&model), train_state_free(&state);
}

// The learning rate each step used is warmup then cosine to the minimum, computed here from
// the formula (lr (s+1)/W for s < W, then min + (lr - min)(1 + cos(pi (s - W)/(S - W)))/2).
static void the_loop_follows_the_schedule(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    TrainConfig c = tiny_run();
    c.eval_every = 0;
    StepLog log;
    double change, elapsed;
    long steps;
    run_logged(&names, c, &log, &change, &steps, &elapsed);
    CHECK(log.n == 30 && steps == 30, "30 steps, logged %d, done %ld", log.n, steps);
    for (int s = 0; s < log.n; s++) {
        double expected = s < 5 ? 1e-2 * (s + 1) / 5.0
                                : 1e-3 + (1e-2 - 1e-3) * 0.5 * (1.0 + cos(3.14159265358979323846 * (s - 5) / 25.0));
        CHECK(fabs(log.lr[s] - expected) <= 1e-6 * expected, "step %d: lr %g, expected %g", s, log.lr[s], expected);
        CHECK(log.grad_norm[s] > 0.0f && isfinite(log.grad_norm[s]), "step %d: gradient norm %g", s, log.grad_norm[s]);
    }
    names_free(&names);
}

// Clipping is applied: with a clip of 1e-12 the gradients AdamW sees are far below its eps, so
// the weights barely move; without clipping they move by about the learning rate.
static void the_loop_clips_gradients(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    TrainConfig c = tiny_run();
    c.eval_every = 0, c.max_steps = 5, c.warmup_steps = 0, c.weight_decay = 0.0f;
    StepLog log;
    double clipped, free_change, elapsed;
    long steps;
    c.grad_clip = 1e-12f;
    run_logged(&names, c, &log, &clipped, &steps, &elapsed);
    CHECK(log.grad_norm[0] > 1e-3f, "the reported norm is before clipping: %g", log.grad_norm[0]);
    c.grad_clip = 0.0f;
    run_logged(&names, c, &log, &free_change, &steps, &elapsed);
    CHECK(clipped < 1e-4 && free_change > 1e-2, "largest change: clipped %g, unclipped %g", clipped, free_change);
    names_free(&names);
}

// A time budget: the run stops once its training time reaches it, and its cosine runs over the
// time, so the last steps are near the minimum rate.
static void the_loop_keeps_a_time_budget(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    TrainConfig c = tiny_run();
    c.eval_every = 0, c.max_steps = 0, c.max_seconds = 0.3;
    StepLog log;
    double change, elapsed;
    long steps;
    run_logged(&names, c, &log, &change, &steps, &elapsed);
    CHECK(elapsed >= 0.3 && elapsed < 1.0, "stopped after %g s of a 0.3 s budget", elapsed);
    CHECK(steps > 5, "%ld steps in 0.3 s", steps);
    CHECK(log.last_lr < 1e-3 + 0.2 * (1e-2 - 1e-3), "the last step's lr %g is near the minimum", log.last_lr);
    CHECK(log.n > 5 && log.lr[5] > 0.5 * 1e-2, "after the warmup the rate is near its peak: %g", log.lr[5]);
    names_free(&names);
}

// The rate the loop applies, seen in the weights: AdamW's first update is lr_t · g/(|g| + eps)
// per weight, so with no weight decay the largest change after one step is the step's rate
// (within 1% where |g| >> eps). Warmup 5 of lr 1e-2 starts at 2e-3; the automatic warmup of a
// 100-step run is 10 steps, so it starts at 1e-3.
static void the_loop_applies_the_scheduled_rate(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    const struct {
        long warmup;
        double expected;
    } runs[] = {{5, 2e-3}, {-1, 1e-3}};
    for (int k = 0; k < 2; k++) {
        Error error = {{0}};
        ModelConfig config = tiny_mlp(text_vocab_size(&names.tokenizer));
        TrainConfig c = tiny_run();
        c.eval_every = 0, c.weight_decay = 0.0f, c.grad_clip = 0.0f, c.max_steps = 100, c.warmup_steps = runs[k].warmup;
        Random init;
        random_seed(&init, 5);
        Model model;
        TrainState state;
        REQUIRE(model_init(&model, &config, &init, &error) == 0 &&
                    train_state_init(&state, &c, &model, "data/names.txt", &error) == 0,
                "%s", error.message);
        float *before = malloc(sizeof(float) * (size_t)model.n_trainable);
        REQUIRE(before, "out of memory");
        memcpy(before, model.params, sizeof(float) * (size_t)model.n_trainable);
        volatile sig_atomic_t stop = 0;
        StopAt after_one = {&stop, 1};
        TrainRun run = {.model = &model, .tokenizer = &names.tokenizer, .data = &names.data, .state = &state,
                        .stop = &stop, .callback = stop_at, .callback_context = &after_one};
        CHECK(train_run(&run, &error) == TRAIN_STOPPED && state.step == 1, "one step: %s", error.message);
        double largest = 0.0;
        for (long i = 0; i < model.n_trainable; i++) largest = fmax(largest, fabs((double)model.params[i] - before[i]));
        CHECK(fabs(largest - runs[k].expected) < 0.01 * runs[k].expected, "warmup %ld: the first step moved a weight by %g, "
              "expected the rate %g", runs[k].warmup, largest, runs[k].expected);
        free(before);
        model_free(&model);
        train_state_free(&state);
    }
    names_free(&names);
}

// Early stopping: SGD at a rate so high the validation loss stops improving ends the run
// once `patience` validations in a row found no better loss; the best-loss checkpoint holds
// the weights whose validation loss was the best, and it is the curve's minimum.
static void early_stopping_keeps_the_best(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Error error = {{0}};
    char path[256], best[256];
    snprintf(path, sizeof path, "%s/es.ckpt", check_directory());
    snprintf(best, sizeof best, "%s/es.best.ckpt", check_directory());
    ModelConfig config = tiny_mlp(text_vocab_size(&names.tokenizer));
    TrainConfig c = tiny_run();
    c.optimizer = OPTIMIZER_SGD, c.schedule = SCHEDULE_CONSTANT, c.warmup_steps = -1, c.learning_rate = 3.0f;
    c.max_steps = 300, c.eval_every = 5, c.patience = 2;
    Random init;
    random_seed(&init, 99);
    Model model;
    TrainState state;
    REQUIRE(model_init(&model, &config, &init, &error) == 0 &&
                train_state_init(&state, &c, &model, "data/names.txt", &error) == 0,
            "%s", error.message);
    TrainRun run = {.model = &model, .tokenizer = &names.tokenizer, .data = &names.data, .state = &state,
                    .out_path = path, .best_path = best};
    CHECK(train_run(&run, &error) == TRAIN_FINISHED, "%s", error.message);
    CHECK(state.stopped_early && state.step < 300, "stopped early at step %ld", state.step);
    CHECK(state.evals_since_best == 2 && state.step == state.best_step + 2 * 5,
          "two validations after the best (step %ld) without a better one, stopped at %ld", state.best_step, state.step);
    float lowest = INFINITY;
    for (int i = 0; i < state.val_curve.n; i++) lowest = fminf(lowest, state.val_curve.losses[i]);
    CHECK(state.best_val_loss == lowest, "the best %g is the curve's minimum %g", state.best_val_loss, lowest);
    Model kept;
    TextTokenizer kept_tokenizer;
    TrainState kept_state;
    int has_training = 0;
    REQUIRE(checkpoint_load(best, &kept, &kept_tokenizer, &kept_state, &has_training, &error) == 0, "%s", error.message);
    CHECK(kept_state.step == state.best_step, "the kept checkpoint is of step %ld, the best %ld", kept_state.step,
          state.best_step);
    float kept_loss = 0.0f;
    REQUIRE(model_prepare(&kept, c.batch_size, c.seq_len, 0, &error) == 0, "%s", error.message);
    CHECK(train_validation_loss(&kept, &names.data, &c, &kept_loss, &error) == 0, "%s", error.message);
    CHECK(kept_loss == state.best_val_loss, "the kept weights' validation loss %g is the best %g", kept_loss,
          state.best_val_loss);
    model_free(&kept), text_tokenizer_free(&kept_tokenizer), train_state_free(&kept_state);
    model_free(&model), train_state_free(&state);
    remove(path), remove(best);
    names_free(&names);
}

// Clipping by value bounds each coordinate: SGD with a constant rate lr moves no weight by
// more than lr·v in a step. L1 pulls weights towards 0: with a large λ the weights' mean
// magnitude after training is smaller than without.
static void the_loop_clips_by_value_and_adds_l1(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    TrainConfig c = tiny_run();
    c.eval_every = 0, c.max_steps = 1, c.warmup_steps = -1, c.weight_decay = 0.0f;
    c.optimizer = OPTIMIZER_SGD, c.schedule = SCHEDULE_CONSTANT, c.learning_rate = 0.5f, c.grad_clip = 0.0f;
    StepLog log;
    double change, elapsed;
    long steps;
    run_logged(&names, c, &log, &change, &steps, &elapsed);
    double unclipped = change;
    c.grad_clip_value = 1e-3f;
    run_logged(&names, c, &log, &change, &steps, &elapsed);
    CHECK(change <= 0.5 * 1e-3 + 1e-7 && unclipped > 10 * change,  // 1e-7: float rounding of w - step
          "one step clipped at 1e-3 moved a weight by %g (unclipped %g), at most lr v = %g", change, unclipped, 5e-4);
    Error error = {{0}};
    TrainConfig both = c;
    both.grad_clip = 1.0f;
    Model model;
    TrainState state;
    ModelConfig config = tiny_mlp(text_vocab_size(&names.tokenizer));
    REQUIRE(model_init(&model, &config, NULL, &error) == 0, "%s", error.message);
    REQUIRE(train_state_init(&state, &both, &model, "data/names.txt", &error) == 0, "%s", error.message);
    TrainRun run = {.model = &model, .tokenizer = &names.tokenizer, .data = &names.data, .state = &state};
    CHECK(train_run(&run, &error) == -1 && strstr(error.message, "not both"), "norm and value clipping together: %s",
          error.message);
    train_state_free(&state);
    TrainConfig negative = c;
    negative.l1 = -1.0f;
    REQUIRE(train_state_init(&state, &negative, &model, "data/names.txt", &error) == 0, "%s", error.message);
    CHECK(train_run(&run, &error) == -1 && strstr(error.message, "L1"), "a negative L1: %s", error.message);
    train_state_free(&state);
    model_free(&model);
    // The L1 step: SGD adds lr·λ·sign(w) to each weight's step, so with λ = 10 the largest
    // change is lr·λ = 5 give or take the loss gradient's own largest step.
    c.grad_clip_value = 0.0f, c.l1 = 10.0f;
    run_logged(&names, c, &log, &change, &steps, &elapsed);
    CHECK(fabs(change - 5.0) <= unclipped + 1e-5, "one L1 step moved a weight by %g, expected lr λ = 5 within %g",
          change, unclipped);
    names_free(&names);
}

// A checkpoint written before the optimizer and schedule could be chosen (no training
// extension) loads as AdamW with warmup + cosine and resumes.
static void an_older_checkpoint_resumes(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Model model;
    TextTokenizer tokenizer;
    TrainState state;
    load_older_fixture("tests/fixtures/checkpoint/before_optimizer_choice.ckpt", &model, &tokenizer, &state);
    CHECK(state.step == 6 && state.config.optimizer == OPTIMIZER_ADAMW &&
              state.optimizer.config.kind == OPTIMIZER_ADAMW && state.config.schedule == SCHEDULE_WARMUP_COSINE,
          "step %ld, optimizer %d, schedule %d", state.step, (int)state.config.optimizer, (int)state.config.schedule);
    CHECK(state.config.patience == 0 && state.config.l1 == 0.0f && state.config.grad_clip_value == 0.0f &&
              state.config.grad_clip == 1.0f && state.norm_curve.n == 0 && isinf(state.best_val_loss),
          "the defaults for what the file does not have");
    CHECK(state.optimizer.config.momentum == 0.9f && state.optimizer.config.rms_decay == 0.99f, "foundations' defaults");
    resume_to_step_9_and_reload(&names, &model, &tokenizer, &state, "older.ckpt");
    CHECK(state.step == 9 && state.norm_curve.n == 3 && state.config.schedule == SCHEDULE_WARMUP_COSINE,
          "saved again in the new format");
    model_free(&model), text_tokenizer_free(&tokenizer), train_state_free(&state);
    names_free(&names);
}

static const CheckCase CASES[] = {
    {"the loop follows the schedule", the_loop_follows_the_schedule},
    {"the loop clips gradients", the_loop_clips_gradients},
    {"the loop applies the scheduled rate", the_loop_applies_the_scheduled_rate},
    {"the loop keeps a time budget", the_loop_keeps_a_time_budget},
    {"divergence names the last save", divergence_names_the_last_save},
    {"stopped and resumed equals uninterrupted", stopped_and_resumed_equals_uninterrupted},
    {"every optimizer resumes exactly", every_optimizer_resumes_exactly},
    {"an older checkpoint resumes", an_older_checkpoint_resumes},
    {"gpt2 with dropout resumes exactly", gpt2_with_dropout_resumes_exactly},
    {"a checkpoint before dropout resumes", a_checkpoint_before_dropout_resumes},
    {"early stopping keeps the best", early_stopping_keeps_the_best},
    {"the loop clips by value and adds L1", the_loop_clips_by_value_and_adds_l1},
    {"a NaN loss stops the run and keeps the checkpoint", a_nan_loss_stops_and_keeps_the_checkpoint},
    {"too little data and too long a context are errors", too_little_data_and_too_long_a_context},
    {"the MLP beats the counting bigram", the_mlp_beats_the_counting_bigram},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
