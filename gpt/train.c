// The training loop (gpt/train.h): batches, forward, backward, L1, clipping, the optimizer,
// the schedule, validation, early stopping, checkpoints, stop flag, NaN detection, curves.
#include "gpt/train.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/array.h"
#include "foundations/clock.h"
#include "foundations/plot.h"
#include "gpt/checkpoint.h"
#include "gpt/gpt2.h"

TrainConfig train_default_config(void) {
    TrainConfig c;
    memset(&c, 0, sizeof c);
    c.batch_size = 32;
    c.seq_len = 64;
    c.max_steps = 1000;
    c.learning_rate = 1e-3f;
    c.min_learning_rate = 1e-4f;
    c.warmup_steps = -1;  // automatic: 10% of the steps, at most 100 (50 with a time budget)
    c.grad_clip = 1.0f;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    c.eval_every = 100;
    c.eval_batches = 10;
    c.seed = 1;
    c.optimizer = OPTIMIZER_ADAMW;
    c.schedule = SCHEDULE_WARMUP_COSINE;
    c.gamma = 0.1f;
    return c;
}

OptimizerConfig train_optimizer_config(const TrainConfig *config) {
    OptimizerConfig optimizer_config = optimizer_default_config(config->optimizer);
    optimizer_config.beta1 = config->beta1;
    optimizer_config.beta2 = config->beta2;
    optimizer_config.eps = config->eps;
    optimizer_config.weight_decay = config->weight_decay;
    return optimizer_config;
}

// ----------------------------------------------------------------------------
// curves and state

int loss_curve_add(LossCurve *curve, float step, float loss, Error *error) {
    if (curve->n == curve->capacity) {
        size_t capacity = array_grown_capacity((size_t)curve->capacity, (size_t)curve->n + 1);
        if (capacity == 0 || capacity > INT_MAX || array_resize(&curve->steps, capacity, sizeof *curve->steps) ||
            array_resize(&curve->losses, capacity, sizeof *curve->losses))
            return error_set(error, "out of memory for the loss curve");
        curve->capacity = (int)capacity;
    }
    curve->steps[curve->n] = step;
    curve->losses[curve->n] = loss;
    curve->n++;
    return 0;
}

void loss_curve_free(LossCurve *curve) {
    free(curve->steps);
    free(curve->losses);
    memset(curve, 0, sizeof *curve);
}

int train_state_init(TrainState *state, const TrainConfig *config, const Model *model, const char *data_path,
                     Error *error) {
    memset(state, 0, sizeof *state);
    state->config = *config;
    if (strlen(data_path) >= sizeof state->data_path) return error_set(error, "%s: path too long", data_path);
    snprintf(state->data_path, sizeof state->data_path, "%s", data_path);
    random_seed(&state->rng, config->seed);
    state->best_val_loss = INFINITY;
    OptimizerConfig optimizer_config = train_optimizer_config(config);
    return optimizer_init(&state->optimizer, &optimizer_config, model->n_trainable, error);
}

void train_state_free(TrainState *state) {
    optimizer_free(&state->optimizer);
    loss_curve_free(&state->train_curve);
    loss_curve_free(&state->val_curve);
    loss_curve_free(&state->norm_curve);
    memset(state, 0, sizeof *state);
}

// ----------------------------------------------------------------------------
// checks

static int config_check(const TrainConfig *c, const Model *model, Error *error) {
    if (c->batch_size < 1 || c->batch_size > 1 << 16) return error_set(error, "batch size %d must be in [1, 65536]", c->batch_size);
    if (c->seq_len < 1) return error_set(error, "context %d must be at least 1", c->seq_len);
    if (c->seq_len > model->config.context_length)
        return error_set(error, "context %d is longer than the model's %d", c->seq_len, model->config.context_length);
    if (c->max_steps < 0 || (c->max_steps == 0 && !(c->max_seconds > 0.0)) || !(c->max_seconds >= 0.0))
        return error_set(error, "give a positive number of steps or seconds");
    if (!(c->learning_rate > 0.0f) || !isfinite(c->learning_rate))
        return error_set(error, "learning rate %g must be positive", (double)c->learning_rate);
    if (!(c->min_learning_rate >= 0.0f) || c->min_learning_rate > c->learning_rate)
        return error_set(error, "minimum learning rate %g must be in [0, lr]", (double)c->min_learning_rate);
    if (c->max_steps > 0 && c->warmup_steps >= c->max_steps)
        return error_set(error, "warmup of %ld steps must be shorter than the %ld steps", c->warmup_steps, c->max_steps);
    if (!(c->grad_clip >= 0.0f)) return error_set(error, "gradient clip %g must be >= 0", (double)c->grad_clip);
    if (!(c->grad_clip_value >= 0.0f) || !isfinite(c->grad_clip_value))
        return error_set(error, "gradient clip value %g must be >= 0", (double)c->grad_clip_value);
    if (c->grad_clip > 0.0f && c->grad_clip_value > 0.0f)
        return error_set(error, "clip by norm (%g) or by value (%g), not both", (double)c->grad_clip,
                         (double)c->grad_clip_value);
    if (!(c->l1 >= 0.0f) || !isfinite(c->l1)) return error_set(error, "L1 coefficient %g must be >= 0", (double)c->l1);
    if (!(c->weight_decay >= 0.0f) || !isfinite(c->weight_decay))
        return error_set(error, "weight decay %g must be >= 0", (double)c->weight_decay);
    if (c->eval_every < 0 || c->eval_batches < 1)
        return error_set(error, "validation every %d steps over %d batches: need >= 0 and >= 1", c->eval_every, c->eval_batches);
    if (c->patience < 0) return error_set(error, "patience %d must be >= 1 (0: no early stopping)", c->patience);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) return error_set(error, "dropout %g must be in [0, 1)", (double)c->dropout);
    if (c->dropout > 0.0f && model->config.arch != ARCH_GPT2)
        return error_set(error, "dropout %g: the %s model has no dropout layers (gpt2 has)", (double)c->dropout,
                         architecture_name(model->config.arch));
    if ((int)c->optimizer < 0 || (int)c->optimizer >= N_OPTIMIZER_KINDS)
        return error_set(error, "unknown optimizer kind %d", (int)c->optimizer);
    if ((int)c->schedule < 0 || (int)c->schedule >= N_SCHEDULE_KINDS)
        return error_set(error, "unknown schedule kind %d", (int)c->schedule);
    int warms_up = c->schedule == SCHEDULE_WARMUP_COSINE || c->schedule == SCHEDULE_ONE_CYCLE;
    if (!warms_up && c->warmup_steps > 0)
        return error_set(error, "a warmup of %ld steps needs the warmup-cosine or one-cycle schedule, not %s",
                         c->warmup_steps, schedule_kind_name(c->schedule));
    if (c->schedule == SCHEDULE_ONE_CYCLE && c->warmup_steps == 0)
        return error_set(error, "one-cycle needs a rising phase (a warmup of at least 1 step)");
    if (c->schedule == SCHEDULE_STEP_DECAY && (!(c->gamma > 0.0f) || c->step_size < 0 || (c->max_steps == 0 && c->step_size == 0)))
        return error_set(error, "step decay: gamma %g must be > 0 and the step size %ld >= 1 (give it with a time budget)",
                         (double)c->gamma, c->step_size);
    return 0;
}

// ----------------------------------------------------------------------------
// validation

// The job's rank and size (alone: 0 and 1).
static int rank_of(const Distributed *distributed) { return distributed ? distributed->rank : 0; }
static int ranks_of(const Distributed *distributed) { return distributed ? distributed->size : 1; }

// Mean loss over n_batches batches of B fixed windows: window k starts at k*T (wrapping
// around), so every call sees the same ids. Each batch goes through the model in chunks of
// `chunk` windows (chunk divides B), chunk j of a batch on rank j mod N; the chunks' mean
// losses are averaged over all ranks. Inference mode (batch norm uses its running
// statistics and does not update them). Every rank calls it; a rank's failure fails all.
static int fixed_windows_loss(Model *model, const int *tokens, long n, int B, int T, int n_batches, int chunk,
                              const Distributed *distributed, float *loss, Error *error) {
    if (T > n - 1) T = (int)(n - 1);
    long n_windows = (n - 1) / T;
    int *inputs = malloc(sizeof(int) * (size_t)chunk * T), *targets = malloc(sizeof(int) * (size_t)chunk * T);
    int training = model->training, status = 0, rank = rank_of(distributed), ranks = ranks_of(distributed);
    int n_chunks = B / chunk;
    model->training = 0;
    double total = 0.0;
    if (!inputs || !targets) status = error_set(error, "out of memory");
    for (int i = 0; i < n_batches && status == 0; i++) {
        for (int j = rank; j < n_chunks && status == 0; j += ranks) {
            for (int b = 0; b < chunk; b++) {
                long start = (((long)i * B + (long)j * chunk + b) % n_windows) * T;
                memcpy(inputs + (long)b * T, tokens + start, sizeof(int) * (size_t)T);
                memcpy(targets + (long)b * T, tokens + start + 1, sizeof(int) * (size_t)T);
            }
            status = model->ops->forward(model, inputs, targets, chunk, T, error);
            total += model->loss;
        }
    }
    model->training = training;
    free(inputs);
    free(targets);
    DistributedAgreement agreed;
    if (distributed_agree(distributed, 0, status ? error : NULL, &agreed, error)) return -1;
    if (agreed.failed_rank > 0) return error_set(error, "rank %d: %s", agreed.failed_rank, agreed.failure.message);
    if (agreed.failed_rank == 0) return error_set(error, "%s", agreed.failure.message);
    // This rank's share of the mean, times N: the average over the ranks is the mean.
    *loss = (float)(total / ((double)n_batches * n_chunks) * ranks);
    return distributed_average(distributed, loss, 1, error);
}

int train_validation_loss(Model *model, const Dataset *data, const TrainConfig *config, float *loss, Error *error) {
    if (data->n_val < 2) return error_set(error, "the held-out split has %ld tokens, too few to validate", data->n_val);
    return fixed_windows_loss(model, data->val, data->n_val, config->batch_size, config->seq_len, config->eval_batches,
                              config->batch_size, NULL, loss, error);
}

// ----------------------------------------------------------------------------
// the loop

// Warmup+cosine: 10% of the steps, at most 100 (50 with a time budget); one-cycle rises
// over 30% of the steps (PyTorch's pct_start; 50 steps with a time budget); others: none.
static long warmup_steps(const TrainConfig *c) {
    if (c->schedule != SCHEDULE_WARMUP_COSINE && c->schedule != SCHEDULE_ONE_CYCLE) return 0;
    if (c->warmup_steps >= 0) return c->warmup_steps;
    long automatic = c->schedule == SCHEDULE_ONE_CYCLE ? c->max_steps * 3 / 10 : c->max_steps / 10 < 100 ? c->max_steps / 10 : 100;
    if (c->max_steps > 0) return automatic > 0 || c->schedule != SCHEDULE_ONE_CYCLE ? automatic : 1;
    return 50;
}

// The learning rate of 0-based step s (see train.h): the schedule over the steps, or over
// the time budget.
float train_learning_rate(const TrainConfig *c, long step, double elapsed) {
    long warmup = warmup_steps(c);
    long step_size = c->step_size > 0 ? c->step_size : c->max_steps / 3 > 0 ? c->max_steps / 3 : 1;
    Schedule schedule = {c->schedule, c->learning_rate, step_size, c->gamma, warmup, c->max_steps, c->min_learning_rate};
    if (c->max_steps > 0) return schedule_lr(&schedule, step);
    // Time budget: the cosine's progress is the fraction of the time spent.
    return schedule_lr_at(&schedule, step, elapsed / c->max_seconds);
}

static void notify(TrainRun *run, TrainProgress *progress) {
    if (run->callback) run->callback(run->callback_context, progress);
}

// Rank 0 writes the checkpoint; every rank records the step saved.
static int save(TrainRun *run, TrainProgress *progress, Error *error) {
    if (!run->out_path) return 0;
    if (rank_of(run->distributed) == 0 && checkpoint_save(run->out_path, run->model, run->tokenizer, run->state, error))
        return -1;
    progress->saved_step = run->state->step;
    progress->event = TRAIN_EVENT_SAVED;
    progress->path = run->out_path;
    notify(run, progress);
    return 0;
}

// The loss curves and, beside them when there are steps, the gradient norm per step.
static int write_svg(TrainRun *run, Error *error) {
    if (!run->svg_path || rank_of(run->distributed) != 0) return 0;
    const TrainState *s = run->state;
    PlotSeries series[2] = {
        {"train", s->train_curve.steps, s->train_curve.losses, s->train_curve.n},
        {"validation", s->val_curve.steps, s->val_curve.losses, s->val_curve.n},
    };
    PlotSeries norm = {"before clipping", s->norm_curve.steps, s->norm_curve.losses, s->norm_curve.n};
    char title[160];
    snprintf(title, sizeof title, "%s: loss", architecture_name(run->model->config.arch));
    PlotChart charts[2] = {{.title = title, .x_label = "step", .y_label = "loss (nats per token)",
                            .series = series, .n_series = 2},
                           {.title = "gradient norm", .x_label = "step", .y_label = "global norm ||g||",
                            .log_y = 1, .series = &norm, .n_series = 1}};
    int n_charts = s->norm_curve.n > 0 ? 2 : 1;
    return plot_write_svg(run->svg_path, charts, n_charts, n_charts, error);
}

// A counting model: one pass of counts over the training split, then its losses.
static int fit_counting(TrainRun *run, Error *error) {
    Model *model = run->model;
    TrainState *s = run->state;
    const TrainConfig *c = &s->config;
    const Dataset *data = run->data;
    double start = clock_seconds();
    model->ops->fit(model, data->train, data->train + 1, 1, (int)(data->n_train - 1));
    s->elapsed_seconds += clock_seconds() - start;
    if (model_prepare(model, c->batch_size, c->seq_len, 0, error)) return -1;
    float train_loss, val_loss;
    if (fixed_windows_loss(model, data->train, data->n_train, c->batch_size, c->seq_len, c->eval_batches,
                           c->batch_size, NULL, &train_loss, error) ||
        train_validation_loss(model, data, c, &val_loss, error))
        return -1;
    s->step = 1;
    s->optimizer.step = 1;
    if (loss_curve_add(&s->train_curve, 1.0f, train_loss, error) || loss_curve_add(&s->val_curve, 1.0f, val_loss, error))
        return -1;
    TrainProgress progress = {
        .event = TRAIN_EVENT_FITTED, .step = 1, .total_steps = 1, .loss = train_loss, .val_loss = val_loss,
        .tokens_per_second = (double)data->n_train / (s->elapsed_seconds > 0 ? s->elapsed_seconds : 1e-9),
        .elapsed_seconds = s->elapsed_seconds};
    notify(run, &progress);
    if (save(run, &progress, error)) return -1;
    return write_svg(run, error) ? -1 : TRAIN_FINISHED;
}

static int finished(const TrainConfig *c, const TrainState *s) {
    if (s->stopped_early) return 1;
    return c->max_steps > 0 ? s->step >= c->max_steps : s->elapsed_seconds >= c->max_seconds;
}

// After backward: the L1 subgradient, then clipping by norm or by value. Returns the global
// norm of the gradients before clipping (with the L1 term), which the progress reports.
static float regularise_and_clip(const TrainConfig *c, Model *model) {
    long n = model->n_trainable;
    if (c->l1 > 0.0f) gradient_add_l1(model->grads, model->params, n, c->l1);
    if (c->grad_clip > 0.0f) return gradient_clip_global_norm(model->grads, n, c->grad_clip);
    float norm = gradient_global_norm(model->grads, n);
    if (c->grad_clip_value > 0.0f) gradient_clip_value(model->grads, n, c->grad_clip_value);
    return norm;
}

// After a validation: a lower loss is the new best (saved to best_path when early stopping);
// patience validations in a row without one stop the run.
static int track_best(TrainRun *run, float val_loss, Error *error) {
    TrainState *s = run->state;
    if (val_loss < s->best_val_loss) {
        s->best_val_loss = val_loss;
        s->best_step = s->step;
        s->evals_since_best = 0;
        if (s->config.patience > 0 && run->best_path && rank_of(run->distributed) == 0 &&
            checkpoint_save(run->best_path, run->model, run->tokenizer, s, error))
            return -1;
        return 0;
    }
    s->evals_since_best++;
    if (s->config.patience > 0 && s->evals_since_best >= s->config.patience) s->stopped_early = 1;
    return 0;
}

int train_check(const TrainRun *run, Error *error) {
    const TrainState *s = run->state;
    const TrainConfig *c = &s->config;
    const Dataset *data = run->data;
    if (config_check(c, run->model, error)) return -1;
    if (data->n_train < (long)c->seq_len + 1)
        return error_set(error, "%s: the training split has %ld tokens, fewer than one sequence of %d + 1", s->data_path,
                         data->n_train, c->seq_len);
    if (data->n_val < 2)
        return error_set(error, "%s: the held-out split has %ld tokens, too few to validate", s->data_path, data->n_val);
    if (!run->model->ops->fit && s->optimizer.n != run->model->n_trainable)
        return error_set(error, "optimizer state for %ld parameters, the model trains %ld", s->optimizer.n,
                         run->model->n_trainable);
    if (!run->model->ops->fit && s->optimizer.config.kind != c->optimizer)
        return error_set(error, "optimizer state of %s, the run asks for %s", optimizer_kind_name(s->optimizer.config.kind),
                         optimizer_kind_name(c->optimizer));
    int ranks = ranks_of(run->distributed), accumulation = run->grad_accum > 1 ? run->grad_accum : 1;
    if (run->grad_accum < 0 || run->grad_accum > 1 << 16)
        return error_set(error, "gradient accumulation of %d steps must be in [1, 65536]", run->grad_accum);
    if (run->check_every < 0) return error_set(error, "parameter checks every %d steps must be >= 0", run->check_every);
    if (run->allreduce != TRAIN_ALLREDUCE_SINGLE && run->allreduce != TRAIN_ALLREDUCE_BUCKETS)
        return error_set(error, "unknown all-reduce kind %d", (int)run->allreduce);
    if (run->zero != 0 && run->zero != 1) return error_set(error, "ZeRO stage %d: only 0 and 1 are implemented", run->zero);
    if (run->zero && run->allreduce == TRAIN_ALLREDUCE_BUCKETS)
        return error_set(error, "ZeRO stage 1 reduces the gradients by a reduce-scatter; buckets are for plain data parallel");
    if (run->zero && run->model->n_trainable < ranks_of(run->distributed))
        return error_set(error, "ZeRO stage 1: %ld parameters for %d ranks", run->model->n_trainable,
                         ranks_of(run->distributed));
    if (!(run->bucket_mb >= 0.0 && run->bucket_mb <= 1e6))
        return error_set(error, "buckets of %g MB must be in [0, 1e6] (0: the default)", run->bucket_mb);
    if (c->batch_size % ((long)ranks * accumulation) != 0)
        return error_set(error, "the global batch of %d sequences is not divisible by %d ranks x %d accumulation steps",
                         c->batch_size, ranks, accumulation);
    long windows = data_window_count(data->n_train, c->seq_len);
    if (windows < ranks)
        return error_set(error, "%s: the training split holds %ld windows of %d + 1 tokens, fewer than the %d ranks",
                         s->data_path, windows, c->seq_len, ranks);
    return 0;
}

// The lowest failing rank's error as this rank's: "rank R: <message>" (rank 0's message as
// it is: rank 0 prints it). 0 when no rank failed.
static int agree(TrainRun *run, int stop, const Error *local_failure, DistributedAgreement *agreed, Error *error) {
    if (distributed_agree(run->distributed, stop, local_failure, agreed, error)) return -1;
    if (agreed->failed_rank < 0) return 0;
    if (agreed->failed_rank == 0) return error_set(error, "%s", agreed->failure.message);
    return error_set(error, "rank %d: %s", agreed->failed_rank, agreed->failure.message);
}

// With several ranks: the training ids, parameters and optimizer state are the same on every
// rank (the same data and checkpoint on every node), before the first step.
static int check_ranks_agree(TrainRun *run, Error *error) {
    const Distributed *job = run->distributed;
    const Model *model = run->model;
    const Optimizer *optimizer = &run->state->optimizer;
    if (ranks_of(job) == 1) return 0;
    if (distributed_check_same(job, run->data->train, sizeof(int) * (size_t)run->data->n_train, "the training ids",
                               error) ||
        distributed_check_same(job, model->params, sizeof(float) * (size_t)model->n_params, "the parameters", error) ||
        distributed_check_same(job, &run->state->rng, sizeof run->state->rng, "the batch generators", error))
        return -1;
    if (optimizer->m && distributed_check_same(job, optimizer->m, sizeof(float) * (size_t)optimizer->n,
                                               "the optimizer's first moments", error))
        return -1;
    return 0;
}

// x (n) *= factor.
static void scale_floats(float *x, long n, float factor) {
    for (long i = 0; i < n; i++) x[i] *= factor;
}

// ----------------------------------------------------------------------------
// the bucketed all-reduce (train.h): buckets of GPT-2 blocks sent during the backward

// The plan, the same on every rank: bucket i holds blocks [bottom[i], top[i]] and starts when
// block bottom[i] is final; buckets are numbered in the order they start (top blocks first).
typedef struct Buckets {
    TrainRun *run;
    int n, *bottom, *top;
    int started;                  // buckets started this step
    DistributedRequests requests;
    int failed;                   // an MPI call in the backward's callback failed (error)
    Error error;
} Buckets;

static void buckets_free(Buckets *buckets) {
    free(buckets->bottom), free(buckets->top);
    distributed_requests_free(&buckets->requests);
    memset(buckets, 0, sizeof *buckets);
}

// Blocks from the top, a bucket closed once it holds bucket_mb MB. Other models: no buckets.
static int buckets_plan(Buckets *buckets, TrainRun *run, Error *error) {
    memset(buckets, 0, sizeof *buckets);
    buckets->run = run;
    const Model *model = run->model;
    if (model->config.arch != ARCH_GPT2 || model->quantized) return 0;
    int L = model->config.n_layers;
    long offsets[GPT2_LAYER_TENSORS], counts[GPT2_LAYER_TENSORS], layer_floats = 0;
    int n_ranges = gpt2_layer_gradients(model, 0, offsets, counts);
    for (int i = 0; i < n_ranges; i++) layer_floats += counts[i];
    double mb = run->bucket_mb > 0 ? run->bucket_mb : TRAIN_DEFAULT_BUCKET_MB;
    long per_bucket = (long)ceil(mb * 1e6 / (sizeof(float) * (double)layer_floats));  // blocks
    if (per_bucket < 1) per_bucket = 1;
    buckets->bottom = malloc(sizeof(int) * (size_t)L), buckets->top = malloc(sizeof(int) * (size_t)L);
    if (!buckets->bottom || !buckets->top) {
        buckets_free(buckets);
        return error_set(error, "out of memory for %d buckets", L);
    }
    for (int top = L - 1; top >= 0; top -= (int)per_bucket, buckets->n++) {
        buckets->top[buckets->n] = top;
        buckets->bottom[buckets->n] = top - per_bucket + 1 > 0 ? top - (int)per_bucket + 1 : 0;
    }
    return 0;
}

// Starts the sum of bucket i's gradients: one contiguous range per tensor (consecutive blocks
// are adjacent in each).
static int bucket_start(Buckets *buckets, int i, Error *error) {
    Model *model = buckets->run->model;
    long offsets[GPT2_LAYER_TENSORS], counts[GPT2_LAYER_TENSORS];
    int n_ranges = gpt2_layer_gradients(model, buckets->bottom[i], offsets, counts);
    int blocks = buckets->top[i] - buckets->bottom[i] + 1;
    for (int r = 0; r < n_ranges; r++)
        if (distributed_sum_start(buckets->run->distributed, model->grads + offsets[r], counts[r] * blocks,
                                  &buckets->requests, error))
            return -1;
    return 0;
}

// Model's layer_gradients_final: start the buckets whose blocks are all final; let MPI progress.
static void bucket_layer_final(void *context, int layer) {
    Buckets *buckets = context;
    if (buckets->failed) return;
    while (buckets->started < buckets->n && buckets->bottom[buckets->started] >= layer)
        if (bucket_start(buckets, buckets->started++, &buckets->error)) {
            buckets->failed = 1;
            return;
        }
    if (distributed_progress(buckets->run->distributed, &buckets->requests, &buckets->error)) buckets->failed = 1;
}

// After the backward (finished or failed: every rank starts the same sums in the same order):
// the buckets not yet started, then everything outside the blocks (the embeddings, the final
// LayerNorm), then the wait; the sums are scaled by `scale`.
static int buckets_finish(Buckets *buckets, float scale, Error *error) {
    TrainRun *run = buckets->run;
    Model *model = run->model;
    const Distributed *job = run->distributed;
    int status = buckets->failed ? (*error = buckets->error, -1) : 0;
    while (status == 0 && buckets->started < buckets->n) status = bucket_start(buckets, buckets->started++, error);
    // The blocks fill whole tensors: the rest is what lies between and around them.
    long offsets[GPT2_LAYER_TENSORS], counts[GPT2_LAYER_TENSORS], from = 0;
    int n_ranges = buckets->n > 0 ? gpt2_layer_gradients(model, 0, offsets, counts) : 0;
    for (int r = 0; r <= n_ranges && status == 0; r++) {
        long to = r < n_ranges ? offsets[r] : model->n_trainable;
        if (to > from) status = distributed_sum_start(job, model->grads + from, to - from, &buckets->requests, error);
        if (r < n_ranges) from = offsets[r] + counts[r] * model->config.n_layers;
    }
    if (distributed_wait(job, &buckets->requests, status ? &(Error){{0}} : error)) status = -1;
    buckets->started = 0;
    buckets->failed = 0;
    if (status == 0) scale_floats(model->grads, model->n_trainable, scale);
    return status;
}

// ----------------------------------------------------------------------------
// ZeRO stage 1 (train.h): each rank keeps the optimizer's state of its shard of the parameters

typedef struct Sharding {
    long first, count;  // this rank's shard of the trained parameters (foundations/distributed.h)
    Optimizer shard;    // rank 0 while the whole state is in the run's state for a save
    int gathered;
} Sharding;

// The run's optimizer state (whole: fresh or loaded from any checkpoint) becomes this rank's
// shard of it, and the whole state is freed.
static int zero_begin(TrainRun *run, Sharding *zero, Error *error) {
    TrainState *s = run->state;
    memset(zero, 0, sizeof *zero);
    distributed_shard(run->distributed, run->model->n_trainable, rank_of(run->distributed), &zero->first,
                      &zero->count);
    Optimizer shard;
    if (optimizer_init(&shard, &s->optimizer.config, zero->count, error)) return -1;
    shard.step = s->optimizer.step;
    if (shard.m) memcpy(shard.m, s->optimizer.m + zero->first, sizeof(float) * (size_t)zero->count);
    if (shard.v) memcpy(shard.v, s->optimizer.v + zero->first, sizeof(float) * (size_t)zero->count);
    optimizer_free(&s->optimizer);
    s->optimizer = shard;
    return 0;
}

// Around a save (every rank calls both): rank 0's state holds the whole optimizer state,
// gathered from the shards, then its shard again. Its first moments borrow the gradient buffer,
// which no one needs between a step and the next one's backward, so that rank 0 never holds
// more than plain data parallel does. When rank 0 cannot allocate the rest, every rank fails
// before any data moves.
static int zero_gather(TrainRun *run, Sharding *zero, Error *error) {
    if (!zero) return 0;
    Optimizer *state = &run->state->optimizer, whole = *state;
    long n = run->model->n_trainable;
    int root = rank_of(run->distributed) == 0, failed = 0;
    Error local;
    if (root) {
        whole.n = n;
        whole.m = state->m ? run->model->grads : NULL;
        whole.v = state->v ? malloc(sizeof(float) * (size_t)n) : NULL;
        if (state->v && !whole.v) failed = error_set(&local, "out of memory for the optimizer's state of %ld", n);
    }
    DistributedAgreement agreed;
    if (agree(run, 0, failed ? &local : NULL, &agreed, error)) return -1;
    if ((state->m && distributed_gather(run->distributed, state->m, whole.m, n, 0, error)) ||
        (state->v && distributed_gather(run->distributed, state->v, whole.v, n, 0, error))) {
        if (root) free(whole.v);
        return -1;
    }
    if (!root) return 0;
    zero->shard = *state;
    *state = whole;
    zero->gathered = 1;
    return 0;
}

static void zero_release(TrainRun *run, Sharding *zero) {
    if (!zero || !zero->gathered) return;
    free(run->state->optimizer.v);  // m is the gradient buffer
    run->state->optimizer = zero->shard;
    zero->gathered = 0;
}

// At the end of the run no rank holds the optimizer's state (n 0): the checkpoint has it whole.
static void zero_end(TrainRun *run, Sharding *zero) {
    zero_release(run, zero);
    optimizer_free(&run->state->optimizer);
    run->state->optimizer.n = 0;
}

// The step's tail on this rank's shard: the sum of the gradients' shards (reduce-scatter),
// scaled to the mean; the L1 term, clipping by the global norm (the shards' squared norms
// summed over the ranks) or by value; the optimizer on the shard; then every rank's updated
// shard to every rank (all-gather). Returns the norm before clipping in *grad_norm.
static int zero_step(TrainRun *run, Sharding *zero, float lr, float *grad_norm, Error *error) {
    Model *model = run->model;
    const TrainConfig *c = &run->state->config;
    float *g = model->grads + zero->first;  // the reduce-scatter sums into this rank's part
    const float *p = model->params + zero->first;
    long n = zero->count;
    double ignored = 0.0, waiting = clock_seconds();  // timed as average_over_ranks
    if (distributed_max(run->distributed, &ignored, error)) return -1;
    double start = clock_seconds();
    run->wait_seconds += start - waiting;
    if (distributed_reduce_scatter(run->distributed, model->grads, model->n_trainable, g, error)) return -1;
    scale_floats(g, n, 1.0f / (float)ranks_of(run->distributed));
    if (c->l1 > 0.0f) gradient_add_l1(g, p, n, c->l1);
    double local_norm = gradient_global_norm(g, n), squares = local_norm * local_norm;
    if (distributed_sum(run->distributed, &squares, 1, error)) return -1;
    *grad_norm = (float)sqrt(squares);
    if (c->grad_clip > 0.0f && *grad_norm > c->grad_clip) {
        scale_floats(g, n, c->grad_clip / *grad_norm);
    } else if (c->grad_clip <= 0.0f && c->grad_clip_value > 0.0f) {
        gradient_clip_value(g, n, c->grad_clip_value);
    }
    double middle = clock_seconds();
    optimizer_step(&run->state->optimizer, model->params + zero->first, g, n, lr);
    double gather = clock_seconds();
    if (distributed_all_gather(run->distributed, model->params, model->n_trainable, error)) return -1;
    run->reduce_seconds += (middle - start) + (clock_seconds() - gather);
    return 0;
}

// This rank's gradient for one step: its K shares of the global batch (windows drawn from the
// run's generator, starts (B)), forward and backward each, the gradients summed and scaled by
// 1/K; *loss the mean of the shares' losses. The gradient buffer is zeroed first. With
// buckets, the last share's backward starts their sums, and the scaling is left to them.
static int local_gradient(TrainRun *run, Buckets *buckets, long *starts, int *inputs, int *targets, double *loss,
                          Error *error) {
    Model *model = run->model;
    TrainState *s = run->state;
    const Dataset *data = run->data;
    int B = s->config.batch_size, T = s->config.seq_len, K = run->grad_accum > 1 ? run->grad_accum : 1;
    int share = B / (ranks_of(run->distributed) * K), rank = rank_of(run->distributed);
    data_sample_starts(data->n_train, B, T, &s->rng, starts);
    memset(model->grads, 0, sizeof(float) * (size_t)model->n_params);
    *loss = 0.0;
    for (int k = 0; k < K; k++) {
        data_copy_windows(data->train, starts + ((long)rank * K + k) * share, share, T, inputs, targets);
        float p = s->config.dropout;  // masks by the step and the windows' places in the global batch
        model->dropout = (ModelDropout){p, p, p, s->config.seed, s->step, ((long)rank * K + k) * share};
        if (buckets && k == K - 1) {
            model->layer_gradients_final = bucket_layer_final;
            model->layer_gradients_context = buckets;
        }
        int failed = model->ops->forward(model, inputs, targets, share, T, error) || model_backward(model, error);
        model->layer_gradients_final = NULL;
        model->layer_gradients_context = NULL;
        if (failed) return -1;
        *loss += model->loss;
    }
    *loss /= K;
    if (K > 1 && !buckets) scale_floats(model->grads, model->n_trainable, 1.0f / (float)K);
    return 0;
}

// The mean of every rank's gradient and loss, and of the running statistics outside the
// trained parameters (batch norm's), so that every rank keeps the same model.
static int average_over_ranks(TrainRun *run, float *loss, Error *error) {
    Model *model = run->model;
    if (ranks_of(run->distributed) == 1) return 0;
    // Timed apart: waiting for the slowest rank to finish its backward, then the reduction.
    double start = clock_seconds(), ignored = 0.0;
    if (distributed_max(run->distributed, &ignored, error)) return -1;
    double reduce_start = clock_seconds();
    if (distributed_average(run->distributed, model->grads, model->n_trainable, error) ||
        distributed_average(run->distributed, loss, 1, error))
        return -1;
    run->wait_seconds += reduce_start - start;
    run->reduce_seconds += clock_seconds() - reduce_start;
    return 0;
}

static int average_running_statistics(TrainRun *run, Error *error) {
    Model *model = run->model;
    if (ranks_of(run->distributed) == 1 || model->n_params == model->n_trainable) return 0;
    return distributed_average(run->distributed, model->params + model->n_trainable,
                               model->n_params - model->n_trainable, error);
}

// The error for a non-finite loss at the coming step, naming this run's last checkpoint.
static int diverged(const TrainRun *run, const TrainProgress *progress, float loss, Error *error) {
    // Name a checkpoint only if this run wrote it: a file left at that path by another run, or
    // none at all, is not this run's last good state.
    char saved[1200] = "; this run saved nothing before it";
    if (progress->saved_step > 0 && run->out_path)
        snprintf(saved, sizeof saved, "; the last good checkpoint is %s (step %ld)", run->out_path,
                 progress->saved_step);
    return error_set(error, "step %ld: the loss is %s; training stopped (lower --lr?)%s", run->state->step + 1,
                     isnan(loss) ? "nan" : "infinite", run->out_path ? saved : "");
}

static void report_step(TrainRun *run, TrainProgress *progress, long first_step, double run_seconds, float loss,
                        float lr, float grad_norm) {
    const TrainState *s = run->state;
    const TrainConfig *c = &s->config;
    progress->event = TRAIN_EVENT_STEP;
    progress->step = s->step;
    progress->loss = loss;
    progress->lr = lr;
    progress->grad_norm = grad_norm;
    progress->tokens_per_second =
        (double)(s->step - first_step) * c->batch_size * c->seq_len / (run_seconds > 0 ? run_seconds : 1e-9);
    progress->elapsed_seconds = s->elapsed_seconds;
    if (c->max_steps > 0) {
        progress->total_steps = c->max_steps;
        progress->remaining_seconds = (double)(c->max_steps - s->step) * run_seconds / (double)(s->step - first_step);
    } else {
        progress->remaining_seconds = c->max_seconds > s->elapsed_seconds ? c->max_seconds - s->elapsed_seconds : 0.0;
        progress->total_steps = (long)((double)s->step * c->max_seconds / s->elapsed_seconds);
    }
    notify(run, progress);
}

// One optimizer step on every rank: the local gradient, the agreement on failures, the
// average, the update. *loss is the global batch's mean loss.
static int train_step(TrainRun *run, Buckets *buckets, Sharding *zero, long *starts, int *inputs, int *targets,
                      const TrainProgress *progress, float *loss, float *lr, float *grad_norm, Error *error) {
    Model *model = run->model;
    TrainState *s = run->state;
    const TrainConfig *c = &s->config;
    *lr = train_learning_rate(c, s->step, s->elapsed_seconds);
    double local_loss = 0.0;
    Error local;
    int failed = local_gradient(run, buckets, starts, inputs, targets, &local_loss, &local);
    if (buckets) {  // the sums the backward started, and the rest, on every rank before anything else
        // Timed as average_over_ranks: the wait for the slowest rank, then what is left to send.
        int K = run->grad_accum > 1 ? run->grad_accum : 1;
        double start = clock_seconds(), ignored = 0.0;
        Error mpi, *failure = failed ? &mpi : &local;
        if (distributed_max(run->distributed, &ignored, failure)) failed = -1;
        double reduce_start = clock_seconds();
        if (buckets_finish(buckets, 1.0f / ((float)ranks_of(run->distributed) * (float)K), failed ? &mpi : &local))
            failed = -1;
        run->wait_seconds += reduce_start - start;
        run->reduce_seconds += clock_seconds() - reduce_start;
    }
    DistributedAgreement agreed;
    if (agree(run, 0, failed ? &local : NULL, &agreed, error)) return -1;
    *loss = (float)local_loss;
    if (buckets || zero ? distributed_average(run->distributed, loss, 1, error) : average_over_ranks(run, loss, error))
        return -1;
    if (!isfinite(*loss)) return diverged(run, progress, *loss, error);
    if (zero) {
        if (zero_step(run, zero, *lr, grad_norm, error)) return -1;
    } else {
        *grad_norm = regularise_and_clip(c, model);
        optimizer_step(&s->optimizer, model->params, model->grads, model->n_trainable, *lr);
    }
    if (average_running_statistics(run, error)) return -1;
    s->step++;
    if (run->check_every > 0 && s->step % run->check_every == 0) {
        char what[64];
        snprintf(what, sizeof what, "the parameters after step %ld", s->step);
        if (distributed_check_same(run->distributed, model->params, sizeof(float) * (size_t)model->n_params, what, error))
            return -1;
    }
    return 0;
}

// Validation on every rank (each its chunks), the curve, the best loss (rank 0 saves it) and,
// unless the run ends here, a checkpoint (rank 0). A failed save is returned in *save_failed
// (0 or -1, the error in save_error), for the ranks to agree on before the next step.
static int validate(TrainRun *run, Sharding *zero, TrainProgress *progress, int *save_failed, Error *save_error,
                    Error *error) {
    TrainState *s = run->state;
    const TrainConfig *c = &s->config;
    int share = c->batch_size / (ranks_of(run->distributed) * (run->grad_accum > 1 ? run->grad_accum : 1));
    float val_loss = 0.0f;
    if (fixed_windows_loss(run->model, run->data->val, run->data->n_val, c->batch_size, c->seq_len, c->eval_batches,
                           share, run->distributed, &val_loss, error) ||
        loss_curve_add(&s->val_curve, (float)s->step, val_loss, error) || zero_gather(run, zero, error))
        return -1;
    if (track_best(run, val_loss, save_error)) *save_failed = -1;
    int last = finished(c, s);  // the patience may have run out
    progress->event = TRAIN_EVENT_EVAL;
    progress->val_loss = val_loss;
    progress->best_val_loss = s->best_val_loss;
    progress->best_step = s->best_step;
    progress->stopped_early = s->stopped_early;
    notify(run, progress);
    if (!last && !*save_failed) *save_failed = save(run, progress, save_error);
    zero_release(run, zero);
    return 0;
}

// Before a step: the ranks agree on a stop and on a failed save of the previous step.
// Returns 1 to stop (saved), 0 to go on, -1 on a failure.
static int stop_or_go_on(TrainRun *run, Sharding *zero, TrainProgress *progress, int save_failed,
                         const Error *save_error, Error *error) {
    int stop = run->stop && *run->stop;
    DistributedAgreement agreed;
    if (agree(run, stop, save_failed ? save_error : NULL, &agreed, error)) return -1;
    if (!agreed.stop) return 0;
    run->stop_rank = agreed.stop_rank;
    if (zero_gather(run, zero, error)) return -1;
    Error local;
    int failed = save(run, progress, &local) || write_svg(run, &local);
    zero_release(run, zero);
    if (agree(run, 0, failed ? &local : NULL, &agreed, error)) return -1;
    return 1;
}

// The steps, validations and saves of train_run (its setup done).
static int train_loop(TrainRun *run, Buckets *buckets, Sharding *zero, Error *error) {
    Model *model = run->model;
    TrainState *s = run->state;
    TrainConfig *c = &s->config;
    const Dataset *data = run->data;
    int B = c->batch_size, T = c->seq_len;
    int share = B / (ranks_of(run->distributed) * (run->grad_accum > 1 ? run->grad_accum : 1));
    if (model_prepare(model, share, T, 1, error)) return -1;
    run->optimizer_floats = s->optimizer.n * ((s->optimizer.m != NULL) + (s->optimizer.v != NULL));
    int *inputs = malloc(sizeof(int) * (size_t)share * T), *targets = malloc(sizeof(int) * (size_t)share * T);
    long *starts = malloc(sizeof(long) * (size_t)B);
    if (!inputs || !targets || !starts) {
        free(inputs), free(targets), free(starts);
        return error_set(error, "out of memory for a batch of %d x %d", B, T);
    }
    TrainProgress progress;
    memset(&progress, 0, sizeof progress);
    int status = 0, save_failed = 0, stopped = 0;
    Error save_error = {{0}};
    long first_step = s->step;

    // The validation loss before any step, so the curve starts where training starts.
    if (s->step == 0 && c->eval_every > 0) {
        float val_loss = 0.0f;
        status = fixed_windows_loss(model, data->val, data->n_val, B, T, c->eval_batches, share, run->distributed,
                                    &val_loss, error);
        if (status == 0) status = loss_curve_add(&s->val_curve, 0.0f, val_loss, error);
    }
    while (status == 0 && !finished(c, s)) {
        if ((stopped = stop_or_go_on(run, zero, &progress, save_failed, &save_error, error))) break;
        double start = clock_seconds();
        float loss = 0.0f, lr = 0.0f, grad_norm = 0.0f;
        if ((status = train_step(run, buckets, zero, starts, inputs, targets, &progress, &loss, &lr, &grad_norm,
                                 error)))
            break;
        // The slowest rank's time, so that every rank agrees on a time budget.
        double seconds = clock_seconds() - start;
        if ((status = distributed_max(run->distributed, &seconds, error))) break;
        s->elapsed_seconds += seconds;
        run->step_seconds += seconds;
        if ((status = loss_curve_add(&s->train_curve, (float)s->step, loss, error)) ||
            (status = loss_curve_add(&s->norm_curve, (float)s->step, grad_norm, error)))
            break;
        report_step(run, &progress, first_step, run->step_seconds, loss, lr, grad_norm);

        if ((c->eval_every > 0 && s->step % c->eval_every == 0) || finished(c, s))
            status = validate(run, zero, &progress, &save_failed, &save_error, error);
    }
    free(inputs), free(targets), free(starts);
    if (stopped) return stopped < 0 ? -1 : TRAIN_STOPPED;
    if (status) return -1;
    Error local;
    if (zero_gather(run, zero, error)) return -1;  // on every rank, rank 0's failed save or not
    int failed = save_failed ? (local = save_error, -1) : save(run, &progress, &local) || write_svg(run, &local);
    zero_release(run, zero);
    DistributedAgreement agreed;
    if (agree(run, 0, failed ? &local : NULL, &agreed, error)) return -1;
    return TRAIN_FINISHED;
}

int train_run(TrainRun *run, Error *error) {
    run->stop_rank = -1;
    run->reduce_seconds = run->wait_seconds = run->step_seconds = 0.0;
    if (train_check(run, error)) return -1;
    if (run->model->ops->fit) return fit_counting(run, error);
    if (check_ranks_agree(run, error)) return -1;
    int several = ranks_of(run->distributed) > 1;
    Buckets plan, *buckets = NULL;  // NULL: one all-reduce after the backward
    Sharding shards, *zero = NULL;  // NULL: every rank keeps the whole optimizer state
    if (run->allreduce == TRAIN_ALLREDUCE_BUCKETS && several) {
        if (buckets_plan(&plan, run, error)) return -1;
        buckets = &plan;
    }
    if (run->zero && several) {
        if (zero_begin(run, &shards, error)) {
            if (buckets) buckets_free(buckets);
            return -1;
        }
        zero = &shards;
    }
    int result = train_loop(run, buckets, zero, error);
    if (buckets) buckets_free(buckets);
    if (zero) zero_end(run, zero);
    return result;
}
