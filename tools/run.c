#include "foundations/clock.h"
#include "tools/run.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpt/sample.h"

// The one global: a signal handler can only talk through one. The signal that asked the run
// to stop (SIGINT or SIGTERM), 0 while none has.
static volatile sig_atomic_t interrupted = 0;

static void on_interrupt(int signal_number) { interrupted = signal_number; }

// ----------------------------------------------------------------------------
// progress

// 75 -> "1:15", 3725 -> "1:02:05"
static void format_duration(double seconds, char *out, size_t size) {
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (s >= 3600) snprintf(out, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(out, size, "%ld:%02ld", s / 60, s % 60);
}

static void format_step_line(const TrainProgress *p, char *line, size_t size) {
    char elapsed[32], remaining[32];
    format_duration(p->elapsed_seconds, elapsed, sizeof elapsed);
    format_duration(p->remaining_seconds, remaining, sizeof remaining);
    snprintf(line, size, "step %ld/%ld  loss %.4f  lr %.2e  |g| %.3g  %.1fk tok/s  %s elapsed  %s left", p->step,
             p->total_steps, (double)p->loss, (double)p->lr, (double)p->grad_norm, p->tokens_per_second / 1e3, elapsed,
             remaining);
}

static void on_progress(void *context, const TrainProgress *p) {
    Printer *printer = context;
    char line[256];
    switch (p->event) {
    case TRAIN_EVENT_STEP:
        format_step_line(p, line, sizeof line);
        if (printer->terminal) {
            double now = clock_seconds();
            if (now - printer->last_update < 0.1 && p->step != p->total_steps) return;
            printer->last_update = now;
            fprintf(stderr, "\r%s\033[K", line);
        } else if (p->step == 1 || p->step % printer->log_every == 0) {
            fprintf(stderr, "%s\n", line);
        }
        break;
    case TRAIN_EVENT_EVAL:
        fprintf(stderr, "%sstep %ld: validation loss %.4f\n", printer->terminal ? "\r\033[K" : "", p->step,
                (double)p->val_loss);
        if (p->stopped_early)
            fprintf(stderr, "early stop at step %ld: the best validation loss %.4f was at step %ld\n", p->step,
                    (double)p->best_val_loss, p->best_step);
        break;
    case TRAIN_EVENT_FITTED:
        fprintf(stderr, "fitted the counts in %.2f s: train loss %.4f, validation loss %.4f\n", p->elapsed_seconds,
                (double)p->loss, (double)p->val_loss);
        break;
    case TRAIN_EVENT_SAVED: break;
    }
    fflush(stderr);
}

int train_options_table(TrainOptions *train, Option *table) {
    const Option shared[TRAIN_OPTION_COUNT] = {
        {"--steps", OPTION_LONG, &train->steps, "optimizer steps (default: the command's)"},
        {"--time", OPTION_DOUBLE, &train->seconds, "train for this many seconds instead of a number of steps"},
        {"--batch", OPTION_INT, &train->batch, "sequences per step B"},
        {"--context", OPTION_INT, &train->context, "tokens per sequence T"},
        {"--lr", OPTION_FLOAT, &train->lr, "peak learning rate (AdamW)"},
        {"--min-lr", OPTION_FLOAT, &train->min_lr, "final learning rate of the cosine (default lr/10)"},
        {"--warmup", OPTION_LONG, &train->warmup, "warmup steps (default 10% of the steps, at most 100)"},
        {"--optimizer", OPTION_STRING, &train->optimizer, "sgd | momentum | nesterov | rmsprop | adam | adamw (default adamw)"},
        {"--schedule", OPTION_STRING, &train->schedule, "constant | step | cosine | warmup-cosine | one-cycle (default warmup-cosine)"},
        {"--gamma", OPTION_FLOAT, &train->gamma, "step schedule: factor of each drop"},
        {"--step-size", OPTION_LONG, &train->step_size, "step schedule: steps between drops (default a third of the run)"},
        {"--weight-decay", OPTION_FLOAT, &train->weight_decay, "weight decay (AdamW: decoupled; the others: L2 in the gradient)"},
        {"--l1", OPTION_FLOAT, &train->l1, "L1 penalty: adds l1 * sign(w) to every gradient"},
        {"--clip-norm", OPTION_FLOAT, &train->clip, "clip gradients to this global norm (0: no clipping)"},
        {"--clip", OPTION_FLOAT, &train->clip, "the same as --clip-norm"},
        {"--clip-value", OPTION_FLOAT, &train->clip_value, "clamp every gradient to [-v, v] instead (0: none)"},
        {"--dropout", OPTION_FLOAT, &train->dropout, "gpt2: dropout p in [0, 1) on the embeddings, the attention probabilities and the residual projections, while training (default 0)"},
        {"--early-stop", OPTION_INT, &train->early_stop, "stop after this many validations without a better loss; the best is kept in <out>.best.ckpt"},
        {"--seed", OPTION_LONG, &train->seed, "seed of the initialisation, the batches and the dropout masks"},
        {"--eval-every", OPTION_INT, &train->eval_every, "validation loss and a save every K steps (0: at the end only)"},
        {"--eval-batches", OPTION_INT, &train->eval_batches, "validation batches averaged"},
        {"--threads", OPTION_INT, &train->threads, "OpenMP threads (0: OpenMP's default)"},
    };
    for (int i = 0; i < TRAIN_OPTION_COUNT; i++) table[i] = shared[i];
    return TRAIN_OPTION_COUNT;
}

int train_options_check(const TrainOptions *train, int argc, char **argv, Error *error) {
    if (train->steps < 0) return error_set(error, "--steps must be positive");
    if (train->seconds < 0.0) return error_set(error, "--time must be positive");
    if (train->steps > 0 && train->seconds > 0.0) return error_set(error, "give --steps or --time, not both");
    if (train->threads < 0) return error_set(error, "--threads must be >= 0");
    if (train->context < 0) return error_set(error, "--context must be >= 0");
    if (!(train->weight_decay >= 0.0f)) return error_set(error, "--weight-decay must be >= 0");
    if (!(train->l1 >= 0.0f)) return error_set(error, "--l1 must be >= 0");
    if (!(train->clip >= 0.0f)) return error_set(error, "--clip-norm must be >= 0");
    if (!(train->clip_value >= 0.0f)) return error_set(error, "--clip-value must be >= 0");
    if ((option_given(argc, argv, "--clip-norm") || option_given(argc, argv, "--clip")) &&
        option_given(argc, argv, "--clip-value") && train->clip > 0.0f && train->clip_value > 0.0f)
        return error_set(error, "--clip-norm and --clip-value contradict: clip by norm or by value");
    if (!(train->gamma > 0.0f)) return error_set(error, "--gamma must be > 0");
    if (train->step_size < 0) return error_set(error, "--step-size must be >= 1");
    if (option_given(argc, argv, "--early-stop") && train->early_stop < 1)
        return error_set(error, "--early-stop must be at least 1 (validations without a better loss)");
    if (option_given(argc, argv, "--dropout") && !(train->dropout >= 0.0f && train->dropout < 1.0f))
        return error_set(error, "--dropout must be in [0, 1)");
    // The names now, before any data is read; train_config_from parses them again.
    TrainConfig config;
    return train_config_from(train, 1, &config, error);
}

int train_config_from(const TrainOptions *options, long default_steps, TrainConfig *out, Error *error) {
    TrainConfig config = train_default_config();
    if (options->optimizer && optimizer_kind_parse(options->optimizer, &config.optimizer, error))
        return error_prefix(error, "--optimizer");
    if (options->schedule && schedule_kind_parse(options->schedule, &config.schedule, error))
        return error_prefix(error, "--schedule");
    // "cosine" with a warmup is warmup-cosine (the classifier's --schedule cosine has meant that).
    if (config.schedule == SCHEDULE_COSINE && options->warmup > 0) config.schedule = SCHEDULE_WARMUP_COSINE;
    config.batch_size = options->batch;
    config.seq_len = options->context;
    config.max_steps = options->seconds > 0.0 ? 0 : options->steps > 0 ? options->steps : default_steps;
    config.max_seconds = options->seconds;
    config.learning_rate = options->lr;
    config.min_learning_rate = options->min_lr >= 0.0f ? options->min_lr : options->lr / 10.0f;
    config.warmup_steps = options->warmup;
    config.weight_decay = options->weight_decay;
    config.grad_clip = options->clip_value > 0.0f ? 0.0f : options->clip;  // --clip-value replaces the default norm clip
    config.grad_clip_value = options->clip_value;
    config.l1 = options->l1;
    config.gamma = options->gamma;
    config.step_size = options->step_size;
    config.patience = options->early_stop > 0 ? options->early_stop : 0;
    config.dropout = options->dropout > 0.0f ? options->dropout : 0.0f;
    config.eval_every = options->eval_every;
    config.eval_batches = options->eval_batches;
    config.seed = (uint64_t)options->seed;
    *out = config;
    return 0;
}

Printer printer_for(long eval_every) {
    Printer printer = {isatty(fileno(stderr)), 0.0, eval_every > 0 ? (eval_every + 4) / 5 : 100};
    return printer;
}

const volatile sig_atomic_t *stop_signals_catch(void) {
    interrupted = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    action.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills as usual
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    return &interrupted;
}

void stop_signals_release(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

int run_training(TrainRun *run, Printer *printer, Error *error) {
    // Of several ranks, rank 0 alone shows the progress.
    int talks = !run->distributed || run->distributed->rank == 0;
    run->callback = talks ? on_progress : NULL;
    run->callback_context = printer;
    run->stop = stop_signals_catch();
    int result = train_run(run, error);
    stop_signals_release();
    if (printer->terminal && talks) fprintf(stderr, "\n");
    return result;
}

int stopped_exit_status(void) { return 128 + (interrupted ? interrupted : SIGINT); }

// ----------------------------------------------------------------------------
// samples

int write_token(void *tokenizer, int token) {
    size_t length = 0;
    const unsigned char *bytes = text_token_bytes(tokenizer, token, &length);
    if (bytes) fwrite(bytes, 1, length, stdout);
    fflush(stdout);
    return 0;
}

int print_samples(Model *model, const TextTokenizer *tokenizer, int n_samples, int n_tokens, uint64_t seed,
                         Error *error) {
    SamplerConfig config = {1.0f, 0, 1.0f};
    Sampler sampler;
    if (sampler_init(&sampler, &config, model->config.vocab_size, error)) return -1;
    Random rng;
    random_seed(&rng, seed);
    int start = text_start_token(tokenizer);
    int status = 0;
    for (int i = 0; i < n_samples && status == 0; i++) {
        printf("--- sample %d (temperature 1) ---\n", i + 1);
        status = generate(model, &start, 1, n_tokens, &sampler, &rng, write_token, (void *)tokenizer, NULL, error);
        printf("\n");
    }
    sampler_free(&sampler);
    return status;
}

// ----------------------------------------------------------------------------
// paths

// "out/mlp.ckpt" -> "out/mlp.svg"; "out/model" -> "out/model.svg"
void svg_path_for(const char *checkpoint, char *out, size_t size) {
    snprintf(out, size, "%s", checkpoint);
    char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
    if (dot && (!slash || dot > slash)) *dot = '\0';
    size_t length = strlen(out);
    snprintf(out + length, size - length, ".svg");
}

// "out/gpt2.ckpt" -> "out/gpt2.best.ckpt"; "out/model" -> "out/model.best"
void best_path_for(const char *checkpoint, char *out, size_t size) {
    snprintf(out, size, "%s", checkpoint);
    char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
    if (!dot || (slash && dot < slash)) {
        size_t length = strlen(out);
        snprintf(out + length, size - length, ".best");
        return;
    }
    size_t stem = (size_t)(dot - out);
    snprintf(out + stem, size - stem, ".best%s", checkpoint + stem);
}

// The directory of path ("." when none).
void directory_of(const char *path, char *out, size_t size) {
    snprintf(out, size, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash) *slash = '\0';
    else snprintf(out, size, ".");
}
