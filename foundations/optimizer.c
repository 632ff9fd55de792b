// Optimizers, gradient clipping, learning-rate schedules and the LR range test.
// The math of every update is written out in optimizer.h; this file follows it line by line.
#include "foundations/optimizer.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// Below this many parameters the threads cost more than they save.
enum { PARALLEL_THRESHOLD = 1 << 15 };

static const char *const kind_names[N_OPTIMIZER_KINDS] = {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"};

OptimizerConfig optimizer_default_config(OptimizerKind kind) {
    OptimizerConfig config = {
        .kind = kind, .momentum = 0.9f, .rms_decay = 0.99f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.0f};
    return config;
}

const char *optimizer_kind_name(OptimizerKind kind) {
    assert((int)kind >= 0 && (int)kind < N_OPTIMIZER_KINDS);
    return kind_names[kind];
}

int optimizer_kind_parse(const char *name, OptimizerKind *kind, Error *error) {
    for (int i = 0; i < N_OPTIMIZER_KINDS; i++)
        if (strcmp(name, kind_names[i]) == 0) {
            *kind = (OptimizerKind)i;
            return 0;
        }
    return error_set(error, "unknown optimizer '%s' (sgd, momentum, nesterov, rmsprop, adam, adamw)", name);
}

static int in_unit_interval(float x) { return x >= 0.0f && x < 1.0f; }

int optimizer_init(Optimizer *optimizer, const OptimizerConfig *config, long n, Error *error) {
    memset(optimizer, 0, sizeof *optimizer);
    if ((int)config->kind < 0 || (int)config->kind >= N_OPTIMIZER_KINDS) return error_set(error, "optimizer: unknown kind %d", (int)config->kind);
    if (n < 1) return error_set(error, "optimizer: %ld parameters, need at least 1", n);
    if (!in_unit_interval(config->momentum)) return error_set(error, "optimizer: momentum %g not in [0, 1)", config->momentum);
    if (!in_unit_interval(config->rms_decay)) return error_set(error, "optimizer: rms_decay %g not in [0, 1)", config->rms_decay);
    if (!in_unit_interval(config->beta1)) return error_set(error, "optimizer: beta1 %g not in [0, 1)", config->beta1);
    if (!in_unit_interval(config->beta2)) return error_set(error, "optimizer: beta2 %g not in [0, 1)", config->beta2);
    if (!(config->eps >= 0.0f) || !isfinite(config->eps)) return error_set(error, "optimizer: eps %g must be >= 0", config->eps);
    if (!(config->weight_decay >= 0.0f) || !isfinite(config->weight_decay))
        return error_set(error, "optimizer: weight_decay %g must be >= 0", config->weight_decay);

    OptimizerKind kind = config->kind;
    int needs_m = kind == OPTIMIZER_MOMENTUM || kind == OPTIMIZER_NESTEROV || kind == OPTIMIZER_ADAM || kind == OPTIMIZER_ADAMW;
    int needs_v = kind == OPTIMIZER_RMSPROP || kind == OPTIMIZER_ADAM || kind == OPTIMIZER_ADAMW;
    optimizer->config = *config;
    optimizer->n = n;
    if (needs_m && !(optimizer->m = calloc((size_t)n, sizeof(float))))
        return error_set(error, "optimizer: out of memory for %ld parameters", n);
    if (needs_v && !(optimizer->v = calloc((size_t)n, sizeof(float)))) {
        optimizer_free(optimizer);
        return error_set(error, "optimizer: out of memory for %ld parameters", n);
    }
    return 0;
}

void optimizer_free(Optimizer *optimizer) {
    free(optimizer->m);
    free(optimizer->v);
    optimizer->m = optimizer->v = NULL;
}

void optimizer_reset(Optimizer *optimizer) {
    optimizer->step = 0;
    if (optimizer->m) memset(optimizer->m, 0, (size_t)optimizer->n * sizeof(float));
    if (optimizer->v) memset(optimizer->v, 0, (size_t)optimizer->n * sizeof(float));
}

// ---------------------------------------------------------------------------------------
// The updates. One loop per kind, each a direct transcription of the formula in the header.

static void sgd_update(float *params, const float *grads, long n, float lr, float wd) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) params[i] -= lr * (grads[i] + wd * params[i]);
}

static void momentum_update(float *params, const float *grads, float *velocity, long n, float lr, float mu, float wd,
                            int nesterov) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float g = grads[i] + wd * params[i];
        float b = mu * velocity[i] + g;
        velocity[i] = b;
        // Nesterov looks ahead: the step uses the gradient plus the momentum it is about to add.
        params[i] -= lr * (nesterov ? g + mu * b : b);
    }
}

static void rmsprop_update(float *params, const float *grads, float *square_avg, long n, float lr, float rho, float eps,
                           float wd) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float g = grads[i] + wd * params[i];
        float v = rho * square_avg[i] + (1.0f - rho) * g * g;
        square_avg[i] = v;
        params[i] -= lr * g / (sqrtf(v) + eps);
    }
}

// Adam (decoupled = 0: wd enters the gradient) and AdamW (decoupled = 1: wd beside it).
static void adam_update(float *params, const float *grads, float *m_buffer, float *v_buffer, long n, float lr, float beta1,
                        float beta2, float eps, float wd, long t, int decoupled) {
    // Bias corrections: m and v start at zero, so early averages are too small by these factors.
    float m_correction = 1.0f - powf(beta1, (float)t);
    float v_correction = 1.0f - powf(beta2, (float)t);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float p = params[i];
        float g = decoupled ? grads[i] : grads[i] + wd * p;
        float m = beta1 * m_buffer[i] + (1.0f - beta1) * g;
        float v = beta2 * v_buffer[i] + (1.0f - beta2) * g * g;
        m_buffer[i] = m;
        v_buffer[i] = v;
        float m_hat = m / m_correction;
        float v_hat = v / v_correction;
        float update = m_hat / (sqrtf(v_hat) + eps);
        if (decoupled) update += wd * p;
        params[i] = p - lr * update;
    }
}

void optimizer_step(Optimizer *optimizer, float *params, const float *grads, long n, float lr) {
    assert(n == optimizer->n);
    const OptimizerConfig *c = &optimizer->config;
    optimizer->step++;
    switch (c->kind) {
    case OPTIMIZER_SGD: sgd_update(params, grads, n, lr, c->weight_decay); break;
    case OPTIMIZER_MOMENTUM: momentum_update(params, grads, optimizer->m, n, lr, c->momentum, c->weight_decay, 0); break;
    case OPTIMIZER_NESTEROV: momentum_update(params, grads, optimizer->m, n, lr, c->momentum, c->weight_decay, 1); break;
    case OPTIMIZER_RMSPROP: rmsprop_update(params, grads, optimizer->v, n, lr, c->rms_decay, c->eps, c->weight_decay); break;
    case OPTIMIZER_ADAM:
    case OPTIMIZER_ADAMW:
        adam_update(params, grads, optimizer->m, optimizer->v, n, lr, c->beta1, c->beta2, c->eps, c->weight_decay,
                    optimizer->step, c->kind == OPTIMIZER_ADAMW);
        break;
    }
}

// ---------------------------------------------------------------------------------------
// Gradient clipping.

float gradient_global_norm(const float *grads, long n) {
    double sum_squares = 0.0;
#pragma omp parallel for reduction(+ : sum_squares) if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) sum_squares += (double)grads[i] * grads[i];
    return (float)sqrt(sum_squares);
}

float gradient_clip_global_norm(float *grads, long n, float max_norm) {
    float norm = gradient_global_norm(grads, n);
    if (norm > max_norm && norm > 0.0f) {
        float scale = max_norm / norm;
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++) grads[i] *= scale;
    }
    return norm;
}

void gradient_clip_value(float *grads, long n, float max_value) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) grads[i] = grads[i] > max_value ? max_value : grads[i] < -max_value ? -max_value : grads[i];
}

void gradient_add_l1(float *grads, const float *params, long n, float l1) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) grads[i] += params[i] > 0.0f ? l1 : params[i] < 0.0f ? -l1 : 0.0f;
}

// ---------------------------------------------------------------------------------------
// Learning-rate schedules.

static const char *const schedule_names[N_SCHEDULE_KINDS] = {"constant", "step", "warmup-cosine", "cosine", "one-cycle"};

const char *schedule_kind_name(ScheduleKind kind) {
    assert((int)kind >= 0 && (int)kind < N_SCHEDULE_KINDS);
    return schedule_names[kind];
}

int schedule_kind_parse(const char *name, ScheduleKind *kind, Error *error) {
    for (int i = 0; i < N_SCHEDULE_KINDS; i++)
        if (strcmp(name, schedule_names[i]) == 0) {
            *kind = (ScheduleKind)i;
            return 0;
        }
    return error_set(error, "unknown schedule '%s' (constant, step, cosine, warmup-cosine, one-cycle)", name);
}

int schedule_check(const Schedule *s, Error *error) {
    if (!(s->base_lr > 0.0f) || !isfinite(s->base_lr)) return error_set(error, "schedule: base_lr %g must be > 0", s->base_lr);
    switch (s->kind) {
    case SCHEDULE_CONSTANT: return 0;
    case SCHEDULE_STEP_DECAY:
        if (s->step_size < 1) return error_set(error, "schedule: step_size %ld must be >= 1", s->step_size);
        if (!(s->gamma > 0.0f)) return error_set(error, "schedule: gamma %g must be > 0", s->gamma);
        return 0;
    case SCHEDULE_WARMUP_COSINE:
    case SCHEDULE_COSINE:
    case SCHEDULE_ONE_CYCLE: {
        long warmup = s->kind == SCHEDULE_COSINE ? 0 : s->warmup_steps;
        if (warmup < 0 || warmup >= s->total_steps)
            return error_set(error, "schedule: need 0 <= warmup_steps (%ld) < total_steps (%ld)", warmup, s->total_steps);
        if (s->kind == SCHEDULE_ONE_CYCLE && warmup < 1)
            return error_set(error, "schedule: one-cycle needs a rising phase (warmup_steps >= 1)");
        if (!(s->min_lr >= 0.0f && s->min_lr <= s->base_lr))
            return error_set(error, "schedule: min_lr %g must be in [0, base_lr %g]", s->min_lr, s->base_lr);
        return 0;
    }
    }
    return error_set(error, "schedule: unknown kind %d", (int)s->kind);
}

static const double PI = 3.14159265358979323846;

float schedule_lr(const Schedule *s, long step) {
    if (s->kind == SCHEDULE_CONSTANT || s->kind == SCHEDULE_STEP_DECAY) return schedule_lr_at(s, step, 0.0);
    long warmup = s->kind == SCHEDULE_COSINE ? 0 : s->warmup_steps;
    if (step > s->total_steps) return s->min_lr;
    return schedule_lr_at(s, step, (double)(step - warmup) / (double)(s->total_steps - warmup));
}

float schedule_lr_at(const Schedule *s, long step, double progress) {
    switch (s->kind) {
    case SCHEDULE_CONSTANT: return s->base_lr;
    case SCHEDULE_STEP_DECAY: return s->base_lr * powf(s->gamma, (float)(step / s->step_size));
    case SCHEDULE_WARMUP_COSINE:
        // (s+1)/warmup so that step 0 already moves (llm.c does the same).
        if (step < s->warmup_steps) return s->base_lr * (float)(step + 1) / (float)s->warmup_steps;
        break;
    case SCHEDULE_ONE_CYCLE:
        if (step < s->warmup_steps) {
            float start = s->base_lr / ONE_CYCLE_DIVISOR;
            double rise = 0.5 * (1.0 - cos(PI * (double)step / (double)s->warmup_steps));  // 0 -> 1
            return start + (float)rise * (s->base_lr - start);
        }
        break;
    case SCHEDULE_COSINE: break;
    }
    double r = progress < 0.0 ? 0.0 : progress > 1.0 ? 1.0 : progress;
    double coefficient = 0.5 * (1.0 + cos(PI * r));  // 1 -> 0
    return s->min_lr + (float)coefficient * (s->base_lr - s->min_lr);
}

float schedule_warmup_cosine_at(const Schedule *s, long step, double progress) {
    assert(s->kind == SCHEDULE_WARMUP_COSINE);
    return schedule_lr_at(s, step, progress);
}

// ---------------------------------------------------------------------------------------
// LR range test.

void lr_finder_result_free(LrFinderResult *result) {
    free(result->lrs);
    free(result->losses);
    free(result->smoothed);
    memset(result, 0, sizeof *result);
}

int lr_finder(const OptimizerConfig *optimizer_config, const LrFinderConfig *config, const float *params, long n,
              LossGradientFunction loss_and_gradient, void *context, LrFinderResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (!(config->lr_start > 0.0f && config->lr_start < config->lr_end) || !isfinite(config->lr_end))
        return error_set(error, "lr finder: need 0 < lr_start (%g) < lr_end (%g)", config->lr_start, config->lr_end);
    if (config->n_steps < 3) return error_set(error, "lr finder: n_steps %d, need at least 3", config->n_steps);
    if (!(config->divergence_factor > 1.0f)) return error_set(error, "lr finder: divergence_factor %g must be > 1", config->divergence_factor);
    if (!in_unit_interval(config->smoothing)) return error_set(error, "lr finder: smoothing %g not in [0, 1)", config->smoothing);

    Optimizer optimizer;
    if (optimizer_init(&optimizer, optimizer_config, n, error)) return -1;
    int n_steps = config->n_steps;
    float *work = malloc((size_t)n * sizeof(float));
    float *grads = malloc((size_t)n * sizeof(float));
    result->lrs = calloc((size_t)n_steps, sizeof(float));
    result->losses = calloc((size_t)n_steps, sizeof(double));
    result->smoothed = calloc((size_t)n_steps, sizeof(double));
    if (!work || !grads || !result->lrs || !result->losses || !result->smoothed) {
        free(work);
        free(grads);
        optimizer_free(&optimizer);
        lr_finder_result_free(result);
        return error_set(error, "lr finder: out of memory for %ld parameters", n);
    }
    memcpy(work, params, (size_t)n * sizeof(float));

    double log_ratio = log((double)config->lr_end / config->lr_start);
    double average = 0.0, best = INFINITY;
    for (int i = 0; i < n_steps; i++) {
        float lr = (float)(config->lr_start * exp(log_ratio * i / (n_steps - 1)));
        double loss = loss_and_gradient(context, work, grads, n);
        if (!isfinite(loss)) {  // not recorded: a NaN would poison the average
            result->diverged = 1;
            break;
        }
        // Bias-corrected exponential moving average, as Adam corrects its moments.
        average = config->smoothing * average + (1.0 - config->smoothing) * loss;
        double smoothed = average / (1.0 - pow(config->smoothing, i + 1));
        result->lrs[i] = lr;
        result->losses[i] = loss;
        result->smoothed[i] = smoothed;
        result->n_recorded = i + 1;
        if (smoothed < best) best = smoothed;
        if (smoothed > config->divergence_factor * best && i > 0) {
            result->diverged = 1;
            break;
        }
        optimizer_step(&optimizer, work, grads, n, lr);
    }

    // Suggestions. The steepest descent is the most negative finite difference of the
    // smoothed loss per unit of log(lr); only points before the minimum count, since
    // past it the loss is already climbing towards divergence.
    int n_recorded = result->n_recorded;
    int minimum_index = 0;
    for (int i = 1; i < n_recorded; i++)
        if (result->smoothed[i] < result->smoothed[minimum_index]) minimum_index = i;
    int steepest_index = 0;
    double steepest_slope = INFINITY;
    double log_step = log_ratio / (n_steps - 1);
    for (int i = 1; i <= minimum_index; i++) {
        double slope = (result->smoothed[i] - result->smoothed[i - 1]) / log_step;
        if (slope < steepest_slope) {
            steepest_slope = slope;
            steepest_index = i;
        }
    }
    result->minimum_lr = n_recorded ? result->lrs[minimum_index] : config->lr_start;
    result->steepest_lr = n_recorded ? result->lrs[steepest_index] : config->lr_start;

    free(work);
    free(grads);
    optimizer_free(&optimizer);
    return 0;
}
