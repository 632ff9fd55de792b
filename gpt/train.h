// The training loop, as a library: an optimizer of foundations/optimizer.h (AdamW by
// default) with a learning-rate schedule (warmup + cosine by default), gradient clipping by
// global norm or by value, an L1 penalty, validation loss every K steps with early stopping
// on it, NaN/Inf detection, periodic and final checkpoints, a stop flag, resuming bit for
// bit, the loss and gradient-norm curves and their SVG. It never prints: progress goes to a
// callback.
//
// One step: sample B windows of T+1 ids from the training split (the run's own seeded
// generator), forward, backward, add the L1 subgradient λ sign(p), clip, update. The default
// learning rate is
//   lr(s) = lr (s+1)/W for s < W, then min_lr + ½ (1 + cos(π r)) (lr - min_lr)
// with r the fraction of the run done: (s - W)/(steps - W) with --steps, the fraction of
// the time budget with --time (there the number of steps is not known in advance); the other
// schedules are foundations/optimizer.h's over the same r.
//
// Early stopping (patience P > 0): after each validation, a loss below the best so far
// saves the run to best_path; P validations in a row without one end the run.
//
// Resuming: everything a step depends on is in TrainState (the step, the optimizer's state,
// the generator, the curves, the best validation loss, the time already spent) and is saved
// in the checkpoint, so a run stopped at step s and resumed gives the same losses, bit for
// bit, as one that never stopped (same thread count: OpenMP splits sums by threads).
//
// Data parallel (foundations/distributed.h): run by N ranks, each holding the whole model,
// the global batch of B windows is split into N·K equal shares of b = B/(N K) windows (K =
// grad_accum steps per rank); every rank draws the same B window starts from the same
// generator and takes its own shares (gpt/data.h), sums the gradients of its K shares,
//   g = (1/(N K)) Σ_{r,k} ∇ mean loss(share r,k)  = ∇ mean loss(global batch),
// averages them across ranks (one all-reduce over the flat gradient buffer, or buckets of it
// sent during the backward: TrainAllreduce), and applies the same update. So the run — losses, parameters, checkpoints — is the same, up to the order of
// the float sums, whatever N and K are: a checkpoint written by N ranks resumes on M. The
// training state (generator, optimizer, curves, validation) is kept identically on every
// rank; validation splits its windows across the ranks; rank 0 alone writes files. The ranks
// agree before each step on a stop (any rank's Ctrl-C stops all) and after each local
// backward on failures (the lowest failing rank's error, named, ends every rank).
//
// ZeRO stage 1 (Rajbhandari et al. 2020, "ZeRO: memory optimizations toward training trillion
// parameter models"; TrainRun's zero = 1): the optimizer's state (AdamW's m and v, 2 floats per
// parameter) is split across the ranks instead of kept whole on each. Rank r owns the shard
// [first_r, first_r + n/N) of the trained parameters (foundations/distributed.h); per step
//   ĝ_r = (1/N) Σ_ranks g[shard r]            (reduce-scatter: each rank gets its shard's sum)
//   ‖g‖² = Σ_r ‖ĝ_r‖²                         (the global norm for clipping: one sum of doubles)
//   p[shard r] <- AdamW(p[shard r], ĝ_r, m_r, v_r)   then every shard to every rank (all-gather)
// the same update as above (the reduce-scatter and the all-gather move what one all-reduce
// does), with 2n/N floats of state per rank instead of 2n. Checkpoints stay independent of N:
// the state is gathered to rank 0 to be saved, and a run started from any checkpoint keeps
// each rank's shard of it. Rank 0, while saving, holds the whole state (its first moments in
// the gradient buffer, free between steps: no more than plain data parallel holds). When
// train_run returns no rank holds the optimizer's state (n 0): resume from the checkpoint.
// Batch normalisation (the MLP's --batch-norm) normalises over a share, not the global
// batch, so it is not equal across N and K; its running statistics are averaged each step.
//
// A counting model (ops->fit) is fitted once on the whole training split instead.
#ifndef GPT_TRAIN_H
#define GPT_TRAIN_H

#include <signal.h>
#include <stdint.h>

#include "foundations/distributed.h"
#include "foundations/error.h"
#include "foundations/optimizer.h"
#include "foundations/random.h"
#include "gpt/data.h"
#include "gpt/model.h"
#include "gpt/text.h"

typedef struct TrainConfig {
    int batch_size;         // B
    int seq_len;            // T <= the model's context_length
    long max_steps;         // > 0: train this many steps ...
    double max_seconds;     // ... or, when max_steps is 0, for this long
    float learning_rate;    // peak
    float min_learning_rate;
    long warmup_steps;
    float weight_decay;     // on every trained parameter: AdamW's decoupled, L2 for the others
    float grad_clip;        // max global norm; 0 = no clipping
    float beta1, beta2, eps;
    int eval_every;         // validation (and a checkpoint) every K steps; 0 = only at the end
    int eval_batches;       // validation batches averaged (the same windows every time)
    uint64_t seed;
    // Saved in the checkpoint's training extension (files written before it: the defaults).
    OptimizerKind optimizer;  // momentum 0.9, RMSprop's rho 0.99 (foundations' defaults)
    ScheduleKind schedule;    // step decay: x gamma every step_size steps
    long step_size;           // step decay; 0: a third of the steps
    float gamma;              // step decay
    float grad_clip_value;    // clamp every gradient to [-v, v]; 0 = none (not with grad_clip)
    float l1;                 // λ of the penalty λ Σ|p| on every trained parameter
    int patience;             // early stopping: validations without a better loss; 0 = never
    // Dropout p in [0, 1) at GPT-2's three sites (model.h's ModelDropout), training steps only;
    // the masks are keyed on (seed; step, the window's index in the global batch, layer,
    // position), so ranks, accumulation and resuming leave them as they are. gpt2 only.
    float dropout;
} TrainConfig;

// Defaults: B 32, T 64, lr 1e-3 (min lr/10), warmup 10% of the steps up to 100, wd 0,
// clip 1, betas 0.9/0.999, eps 1e-8, validation every 100 steps over 10 batches, seed 1,
// AdamW, warmup + cosine, step decay 0.1 every third of the run, no L1, no early stopping.
TrainConfig train_default_config(void);

// (step, loss) points.
typedef struct LossCurve {
    float *steps;
    float *losses;
    int n, capacity;
} LossCurve;

int loss_curve_add(LossCurve *curve, float step, float loss, Error *error);
void loss_curve_free(LossCurve *curve);

// Everything a run needs to continue exactly where it stopped.
typedef struct TrainState {
    TrainConfig config;
    long step;               // optimizer steps done
    double elapsed_seconds;  // training time spent so far (not counting validation)
    Random rng;              // the batch sampler's generator
    Optimizer optimizer;     // over model->params[0, n_trainable)
    LossCurve train_curve;   // loss of every step
    LossCurve val_curve;     // validation loss every eval_every steps
    LossCurve norm_curve;    // the gradients' global norm of every step, before clipping
    float best_val_loss;     // the lowest validation loss so far (INFINITY before the first)
    long best_step;          // its step
    int evals_since_best;    // validations since then without a lower loss
    int stopped_early;       // 1 once the patience ran out (the run is finished)
    char data_path[1024];    // the data the run trains on (for resuming and evaluation)
} TrainState;

// A fresh state for model (optimizer zeroed, generator seeded from config->seed).
int train_state_init(TrainState *state, const TrainConfig *config, const Model *model, const char *data_path,
                     Error *error);
void train_state_free(TrainState *state);

typedef enum { TRAIN_EVENT_STEP, TRAIN_EVENT_EVAL, TRAIN_EVENT_SAVED, TRAIN_EVENT_FITTED } TrainEvent;

typedef struct TrainProgress {
    TrainEvent event;
    long step;               // steps done
    long total_steps;        // max_steps, or an estimate from the time budget
    float loss;              // this step's training loss (STEP), the fitted model's (FITTED)
    float val_loss;          // EVAL, FITTED
    float lr;                // the learning rate this step used (STEP)
    float grad_norm;         // the gradients' global norm before clipping (STEP)
    double tokens_per_second;
    double elapsed_seconds;
    double remaining_seconds;
    const char *path;        // SAVED
    long saved_step;         // the step of this run's last checkpoint, 0 before its first
    float best_val_loss;     // EVAL: the lowest so far, at best_step
    long best_step;
    int stopped_early;       // EVAL: the patience ran out; this was the last validation
} TrainProgress;

typedef void (*TrainCallback)(void *context, const TrainProgress *progress);

// The averaging of the gradients across ranks. SINGLE: one all-reduce over the flat gradient
// buffer after the backward. BUCKETS: GPT-2's blocks, top first, grouped into buckets of
// about bucket_mb MB; a bucket's nonblocking all-reduce starts as soon as the backward has
// finished its lowest block (Model's layer_gradients_final), so it travels while the blocks
// below are computed; the embeddings and the final LayerNorm (final only at the end of the
// backward) go last, and the step waits for all before the update. The same sums either way
// (element by element the same ranks' values are added). Other models: one all-reduce.
typedef enum { TRAIN_ALLREDUCE_SINGLE = 0, TRAIN_ALLREDUCE_BUCKETS = 1 } TrainAllreduce;
enum { TRAIN_DEFAULT_BUCKET_MB = 8 };

typedef struct TrainRun {
    Model *model;
    const TextTokenizer *tokenizer;  // saved into the checkpoints
    const Dataset *data;
    TrainState *state;
    const char *out_path;            // checkpoint; NULL: never saved
    const char *svg_path;            // loss curves at the end; NULL: none
    const volatile sig_atomic_t *stop;  // polled every step; when set: save and return
    TrainCallback callback;
    void *callback_context;
    const char *best_path;           // with patience: the best validation loss's checkpoint; NULL: none
    // Data parallel (see above); all zero: one process, no accumulation.
    const Distributed *distributed;  // the job (NULL: alone); rank 0 alone writes files
    int grad_accum;                  // K shares per rank and step (0 or 1: the whole share at once)
    int check_every;                 // compare the parameters' checksum across ranks every K steps (0: never)
    TrainAllreduce allreduce;        // how the gradients are averaged (see above)
    double bucket_mb;                // TRAIN_ALLREDUCE_BUCKETS: about this many MB per bucket (0: the default)
    int zero;                        // ZeRO stage: 0 none, 1 the optimizer's state sharded (see above)
    // Filled by train_run:
    int stop_rank;                   // TRAIN_STOPPED: the lowest rank that asked to stop
    double reduce_seconds;           // time spent averaging gradients across ranks (this run)
    double wait_seconds;             // time spent waiting for the slowest rank before that
    double step_seconds;             // time of the steps (this run), the averaging included
    long optimizer_floats;           // the optimizer's state this rank held during the steps (ZeRO: its shard's)
} TrainRun;

// Result of train_run beyond its status.
enum { TRAIN_FINISHED = 0, TRAIN_STOPPED = 1 };

// Checks the run before any work: the config against the model (and the optimizer state's
// kind against the config's), and that the data hold at least one training sequence and two
// held-out ids; with ranks or accumulation, that N·K divides the global batch and that the
// training split has at least N windows of T+1 ids. train_run calls it too.
int train_check(const TrainRun *run, Error *error);

// Trains from state->step to the end (or until *stop, or the patience runs out: then
// state->stopped_early is 1), saving a checkpoint every eval_every steps and at the end. Returns TRAIN_FINISHED or TRAIN_STOPPED, or -1 with error: bad
// config, data shorter than one sequence, a loss that is NaN or infinite (the step is named
// and the last checkpoint written before it is left as it was), a failed save; with several
// ranks: training data, parameters or optimizer state that differ between ranks at the start
// (or the parameters at a check_every step), and any rank's failure, "rank R: <its error>".
// Every rank of a job calls it and all return the same status.
int train_run(TrainRun *run, Error *error);

// The optimizer's hyper-parameters for a config (kind, betas, eps, weight decay; momentum
// and rho at foundations' defaults).
OptimizerConfig train_optimizer_config(const TrainConfig *config);

// The learning rate of 0-based step s after elapsed seconds of training (see above).
float train_learning_rate(const TrainConfig *config, long step, double elapsed_seconds);

// Mean validation loss over the state's fixed validation windows.
int train_validation_loss(Model *model, const Dataset *data, const TrainConfig *config, float *loss, Error *error);

#endif
