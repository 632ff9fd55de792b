// Optimizers: how a gradient becomes a parameter update.
//
// Every optimizer here works on one flat float buffer of parameters and one of gradients,
// both (n), the way llm.c keeps all of a model's parameters in one allocation. The
// optimizer owns its state (at most two flat float buffers, m and v, each (n)) and a step
// counter, so a checkpoint saves and restores exactly {step, m, v}.
//
// The updates, with g the gradient, p the parameter, lr the learning rate, t the step
// counter after increment (1, 2, ...), wd the weight decay:
//   SGD        p -= lr (g + wd p)
//   momentum   b = mu b + (g + wd p);              p -= lr b                (b kept in m)
//   Nesterov   b = mu b + (g + wd p);              p -= lr ((g + wd p) + mu b)
//   RMSprop    v = rho v + (1-rho) g²;             p -= lr g / (√v + eps)   (g includes wd p)
//   Adam       m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²   (g includes wd p: L2, "coupled")
//              m̂ = m/(1-b1^t);  v̂ = v/(1-b2^t);  p -= lr m̂/(√v̂ + eps)
//   AdamW      as Adam on the raw g, then decay decoupled from the moments (llm.c):
//              p -= lr (m̂/(√v̂ + eps) + wd p)
// The difference between Adam and AdamW is only where wd enters: through the gradient
// (so Adam divides it by √v̂ and large-gradient weights barely decay) or beside it.
//
// Also here: gradient clipping by global norm, learning-rate schedules, and an LR range
// test. Not here: per-tensor parameter groups (apply weight decay selectively by calling
// optimizer_step on separate buffers with separate optimizers), mixed precision.
#ifndef FOUNDATIONS_OPTIMIZER_H
#define FOUNDATIONS_OPTIMIZER_H

#include "foundations/error.h"

typedef enum {
    OPTIMIZER_SGD,
    OPTIMIZER_MOMENTUM,
    OPTIMIZER_NESTEROV,
    OPTIMIZER_RMSPROP,
    OPTIMIZER_ADAM,
    OPTIMIZER_ADAMW,
} OptimizerKind;
enum { N_OPTIMIZER_KINDS = OPTIMIZER_ADAMW + 1 };

typedef struct OptimizerConfig {
    OptimizerKind kind;
    float momentum;      // mu, momentum and Nesterov
    float rms_decay;     // rho, RMSprop
    float beta1, beta2;  // Adam, AdamW
    float eps;           // RMSprop, Adam, AdamW
    float weight_decay;  // L2 through the gradient, except AdamW where it is decoupled
} OptimizerConfig;

typedef struct Optimizer {
    OptimizerConfig config;
    long n;    // number of parameters the state was made for
    long step; // updates done so far; Adam's bias correction uses t = step after increment
    float *m;  // (n) momentum buffer / first moment, NULL when the kind needs none
    float *v;  // (n) second moment (RMSprop, Adam, AdamW), NULL otherwise
} Optimizer;

// Usual hyper-parameters for a kind: mu 0.9, rho 0.99, b1 0.9, b2 0.999, eps 1e-8, wd 0.
OptimizerConfig optimizer_default_config(OptimizerKind kind);
// "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw".
const char *optimizer_kind_name(OptimizerKind kind);
// The reverse of optimizer_kind_name; fails on an unknown name.
int optimizer_kind_parse(const char *name, OptimizerKind *kind, Error *error);

// Checks the hyper-parameters (0 <= mu, rho, b1, b2 < 1; eps, wd >= 0; n >= 1) and
// allocates zeroed state for n parameters.
int optimizer_init(Optimizer *optimizer, const OptimizerConfig *config, long n, Error *error);
void optimizer_free(Optimizer *optimizer);
// Zeroes the state and the step counter (a fresh start with the same buffers).
void optimizer_reset(Optimizer *optimizer);

// One update: params (n) -= f(grads (n), state) as above, with learning rate lr.
// n must equal the n given to optimizer_init (a programming error otherwise).
// This is the hot function of a training step's tail; it runs OpenMP-parallel for large n.
void optimizer_step(Optimizer *optimizer, float *params, const float *grads, long n, float lr);

// ---------------------------------------------------------------------------------------
// Gradient clipping by global norm: norm = √(Σ grads²) over all n; when norm > max_norm,
// grads *= max_norm / norm. Returns the norm before clipping (accumulated in double).
// Clipping keeps the direction of the step and bounds its length (Pascanu et al. 2013).
float gradient_global_norm(const float *grads, long n);
float gradient_clip_global_norm(float *grads, long n, float max_norm);
// Clipping by value: every grads[i] clamped to [-max_value, max_value] (max_value > 0). It
// bounds each coordinate, so unlike clipping by norm it can turn the step's direction.
void gradient_clip_value(float *grads, long n, float max_value);
// The L1 penalty's subgradient: grads[i] += l1 · sign(params[i]) (0 at params[i] = 0), the
// gradient of l1 Σ|p| (Tibshirani 1996's lasso penalty), both (n).
void gradient_add_l1(float *grads, const float *params, long n, float l1);

// ---------------------------------------------------------------------------------------
// Learning-rate schedules, as a function of the 0-based step:
//   constant        lr(s) = base_lr
//   step decay      lr(s) = base_lr · gamma^floor(s / step_size)
//   warmup+cosine   lr(s) = base_lr (s+1)/warmup_steps                  for s < warmup_steps
//                   lr(s) = min_lr + ½(1 + cos(π r))(base_lr - min_lr),
//                          r = (s - warmup_steps)/(total_steps - warmup_steps)   up to total_steps
//                   lr(s) = min_lr                                       after total_steps
//   cosine          warmup+cosine without the warmup (Loshchilov & Hutter 2017's SGDR
//                   without restarts): r = s / total_steps; warmup_steps is not used
//   one-cycle       (Smith 2018; the cosine-shaped phases of PyTorch's OneCycleLR)
//                   up:   lr(s) = a + ½(1 - cos(π s/W))(base_lr - a),  a = base_lr / 25,
//                         W = warmup_steps (> 0)                        for s < W
//                   down: as warmup+cosine's cosine, from base_lr to min_lr
//                   The high middle of the run regularises; the low end anneals. (Smith
//                   also cycles the momentum against the lr; not done here.)
typedef enum {
    SCHEDULE_CONSTANT,
    SCHEDULE_STEP_DECAY,
    SCHEDULE_WARMUP_COSINE,
    SCHEDULE_COSINE,
    SCHEDULE_ONE_CYCLE,
} ScheduleKind;
enum { N_SCHEDULE_KINDS = SCHEDULE_ONE_CYCLE + 1, ONE_CYCLE_DIVISOR = 25 };

typedef struct Schedule {
    ScheduleKind kind;
    float base_lr;      // the peak
    long step_size;     // step decay: steps between drops
    float gamma;        // step decay: factor per drop
    long warmup_steps;  // warmup+cosine; one-cycle's rising phase
    long total_steps;   // cosines: where the cosine reaches min_lr
    float min_lr;       // cosines
} Schedule;

// "constant", "step", "warmup-cosine", "cosine", "one-cycle".
const char *schedule_kind_name(ScheduleKind kind);
// The reverse of schedule_kind_name; fails on an unknown name.
int schedule_kind_parse(const char *name, ScheduleKind *kind, Error *error);

// Checks the fields of the schedule's kind (base_lr > 0, step_size >= 1, 0 < gamma,
// 0 <= warmup_steps < total_steps (one-cycle: 0 < warmup_steps), 0 <= min_lr <= base_lr).
int schedule_check(const Schedule *schedule, Error *error);
float schedule_lr(const Schedule *schedule, long step);
// The schedule with the decay's progress r given rather than counted in steps (clamped to
// [0, 1]); total_steps is not used. r is the cosine's progress after the warmup (warmup+
// cosine, one-cycle) or from the start (cosine); constant and step decay ignore it. During a
// warmup (step < warmup_steps) it is the warmup's curve above. gpt/train.c runs the cosine
// over a time budget: r = time spent / budget.
float schedule_lr_at(const Schedule *schedule, long step, double progress);
// schedule_lr_at for warmup+cosine (kept for the callers written before the other kinds).
float schedule_warmup_cosine_at(const Schedule *schedule, long step, double progress);

// ---------------------------------------------------------------------------------------
// A differentiable objective: fills grads (n) with d loss / d params at params (n) and
// returns the loss. context carries the data. Used by the LR range test and the demo.
typedef double (*LossGradientFunction)(void *context, const float *params, float *grads, long n);

// LR range test (the "LR finder"): starting from params, take n_steps optimizer steps with
// an exponentially increasing learning rate lr_i = lr_start (lr_end/lr_start)^(i/(n_steps-1)),
// recording the loss before each step; stop early once the loss is not finite or exceeds
// divergence_factor × the best loss so far. The loss is smoothed with a bias-corrected
// moving average (factor `smoothing`), and two learning rates are suggested:
//   steepest_lr  the lr where the smoothed loss falls fastest against log(lr)
//   minimum_lr   the lr of the lowest smoothed loss (use about a tenth of it)
// params is not modified (the test runs on a copy).
typedef struct LrFinderConfig {
    float lr_start, lr_end;   // 0 < lr_start < lr_end
    int n_steps;              // >= 3
    float divergence_factor;  // > 1, typically 4
    float smoothing;          // in [0, 1), typically 0.9
} LrFinderConfig;

typedef struct LrFinderResult {
    int n_recorded;    // steps taken before stopping (<= n_steps)
    float *lrs;        // (n_steps) learning rate of step i
    double *losses;    // (n_steps) loss before step i
    double *smoothed;  // (n_steps) smoothed loss
    int diverged;      // 1 if it stopped early
    float steepest_lr;
    float minimum_lr;
} LrFinderResult;

int lr_finder(const OptimizerConfig *optimizer_config, const LrFinderConfig *config, const float *params, long n,
              LossGradientFunction loss_and_gradient, void *context, LrFinderResult *result, Error *error);
void lr_finder_result_free(LrFinderResult *result);

#endif
