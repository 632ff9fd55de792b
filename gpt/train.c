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

// Mean loss over n_batches batches of fixed windows: window k starts at k*T (wrapping
// around), so every call sees the same ids. Inference mode (batch norm uses its running
// statistics and does not update them).
static int fixed_windows_loss(Model *model, const int *tokens, long n, int B, int T, int n_batches, float *loss,
                              Error *error) {
    if (T > n - 1) T = (int)(n - 1);
    long n_windows = (n - 1) / T;
    int *inputs = malloc(sizeof(int) * (size_t)B * T), *targets = malloc(sizeof(int) * (size_t)B * T);
    if (!inputs || !targets) {
        free(inputs);
        free(targets);
        return error_set(error, "out of memory");
    }
    int training = model->training;
    model->training = 0;
    double total = 0.0;
    int status = 0;
    for (int i = 0; i < n_batches && status == 0; i++) {
        for (int b = 0; b < B; b++) {
            long start = (((long)i * B + b) % n_windows) * T;
            memcpy(inputs + (long)b * T, tokens + start, sizeof(int) * (size_t)T);
            memcpy(targets + (long)b * T, tokens + start + 1, sizeof(int) * (size_t)T);
        }
        status = model->ops->forward(model, inputs, targets, B, T, error);
        total += model->loss;
    }
    model->training = training;
    free(inputs);
    free(targets);
    *loss = (float)(total / n_batches);
    return status;
}

int train_validation_loss(Model *model, const Dataset *data, const TrainConfig *config, float *loss, Error *error) {
    if (data->n_val < 2) return error_set(error, "the held-out split has %ld tokens, too few to validate", data->n_val);
    return fixed_windows_loss(model, data->val, data->n_val, config->batch_size, config->seq_len, config->eval_batches,
                              loss, error);
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

static int save(TrainRun *run, TrainProgress *progress, Error *error) {
    if (!run->out_path) return 0;
    if (checkpoint_save(run->out_path, run->model, run->tokenizer, run->state, error)) return -1;
    progress->saved_step = run->state->step;
    progress->event = TRAIN_EVENT_SAVED;
    progress->path = run->out_path;
    notify(run, progress);
    return 0;
}

// The loss curves and, beside them when there are steps, the gradient norm per step.
static int write_svg(TrainRun *run, Error *error) {
    if (!run->svg_path) return 0;
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
    if (fixed_windows_loss(model, data->train, data->n_train, c->batch_size, c->seq_len, c->eval_batches, &train_loss,
                           error) ||
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
        if (s->config.patience > 0 && run->best_path &&
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
    return 0;
}

int train_run(TrainRun *run, Error *error) {
    Model *model = run->model;
    TrainState *s = run->state;
    TrainConfig *c = &s->config;
    const Dataset *data = run->data;
    if (train_check(run, error)) return -1;
    if (model->ops->fit) return fit_counting(run, error);

    int B = c->batch_size, T = c->seq_len;
    if (model_prepare(model, B, T, 1, error)) return -1;
    int *inputs = malloc(sizeof(int) * (size_t)B * T), *targets = malloc(sizeof(int) * (size_t)B * T);
    if (!inputs || !targets) {
        free(inputs);
        free(targets);
        return error_set(error, "out of memory for a batch of %d x %d", B, T);
    }
    TrainProgress progress;
    memset(&progress, 0, sizeof progress);
    int status = 0;
    long first_step = s->step;
    double run_seconds = 0.0;
    float val_loss = 0.0f;

    // The validation loss before any step, so the curve starts where training starts.
    if (s->step == 0 && c->eval_every > 0) {
        status = train_validation_loss(model, data, c, &val_loss, error);
        if (status == 0) status = loss_curve_add(&s->val_curve, 0.0f, val_loss, error);
    }
    while (status == 0 && !finished(c, s)) {
        if (run->stop && *run->stop) {
            status = save(run, &progress, error);
            if (status == 0) status = write_svg(run, error);
            free(inputs);
            free(targets);
            return status ? -1 : TRAIN_STOPPED;
        }
        double start = clock_seconds();
        float lr = train_learning_rate(c, s->step, s->elapsed_seconds);
        data_sample_batch(data->train, data->n_train, B, T, &s->rng, inputs, targets);
        if ((status = model->ops->forward(model, inputs, targets, B, T, error))) break;
        if (!isfinite(model->loss)) {
            // Name a checkpoint only if this run wrote it: a file left at that path by another
            // run, or none at all, is not this run's last good state.
            char saved[1200] = "; this run saved nothing before it";
            if (progress.saved_step > 0 && run->out_path)
                snprintf(saved, sizeof saved, "; the last good checkpoint is %s (step %ld)", run->out_path,
                         progress.saved_step);
            status = error_set(error, "step %ld: the loss is %s; training stopped (lower --lr?)%s", s->step + 1,
                               isnan(model->loss) ? "nan" : "infinite", run->out_path ? saved : "");
            break;
        }
        memset(model->grads, 0, sizeof(float) * (size_t)model->n_params);
        if ((status = model_backward(model, error))) break;
        float grad_norm = regularise_and_clip(c, model);
        optimizer_step(&s->optimizer, model->params, model->grads, model->n_trainable, lr);
        s->step++;
        double seconds = clock_seconds() - start;
        s->elapsed_seconds += seconds;
        run_seconds += seconds;
        if ((status = loss_curve_add(&s->train_curve, (float)s->step, model->loss, error)) ||
            (status = loss_curve_add(&s->norm_curve, (float)s->step, grad_norm, error)))
            break;

        progress.event = TRAIN_EVENT_STEP;
        progress.step = s->step;
        progress.loss = model->loss;
        progress.lr = lr;
        progress.grad_norm = grad_norm;
        progress.tokens_per_second = (double)(s->step - first_step) * B * T / (run_seconds > 0 ? run_seconds : 1e-9);
        progress.elapsed_seconds = s->elapsed_seconds;
        if (c->max_steps > 0) {
            progress.total_steps = c->max_steps;
            progress.remaining_seconds = (double)(c->max_steps - s->step) * run_seconds / (double)(s->step - first_step);
        } else {
            progress.remaining_seconds = c->max_seconds > s->elapsed_seconds ? c->max_seconds - s->elapsed_seconds : 0.0;
            progress.total_steps = (long)((double)s->step * c->max_seconds / s->elapsed_seconds);
        }
        notify(run, &progress);

        int last = finished(c, s);
        if ((c->eval_every > 0 && s->step % c->eval_every == 0) || last) {
            if ((status = train_validation_loss(model, data, c, &val_loss, error))) break;
            if ((status = loss_curve_add(&s->val_curve, (float)s->step, val_loss, error))) break;
            if ((status = track_best(run, val_loss, error))) break;
            last = finished(c, s);  // the patience may have run out
            progress.event = TRAIN_EVENT_EVAL;
            progress.val_loss = val_loss;
            progress.best_val_loss = s->best_val_loss;
            progress.best_step = s->best_step;
            progress.stopped_early = s->stopped_early;
            notify(run, &progress);
            if (!last && (status = save(run, &progress, error))) break;
        }
    }
    free(inputs);
    free(targets);
    if (status) return -1;
    if (save(run, &progress, error) || write_svg(run, error)) return -1;
    return TRAIN_FINISHED;
}
