// The training loop, as a library: AdamW with warmup + cosine learning rate and gradient
// clipping by global norm (foundations/optimizer.h), validation loss every K steps, NaN/Inf
// detection, periodic and final checkpoints, a stop flag, resuming bit for bit, the loss
// curves and their SVG. It never prints: progress goes to a callback.
//
// One step: sample B windows of T+1 ids from the training split (the run's own seeded
// generator), forward, backward, clip, update. The learning rate is
//   lr(s) = lr (s+1)/W for s < W, then min_lr + ½ (1 + cos(π r)) (lr - min_lr)
// with r the fraction of the run done: (s - W)/(steps - W) with --steps, the fraction of
// the time budget with --time (there the number of steps is not known in advance).
//
// Resuming: everything a step depends on is in TrainState (the step, the optimizer's m, v,
// the generator, the curves, the time already spent) and is saved in the checkpoint, so a
// run stopped at step s and resumed gives the same losses, bit for bit, as one that never
// stopped (same thread count: OpenMP splits sums by threads).
//
// A counting model (ops->fit) is fitted once on the whole training split instead.
#ifndef GPT_TRAIN_H
#define GPT_TRAIN_H

#include <signal.h>
#include <stdint.h>

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
    float weight_decay;     // AdamW's, on every trained parameter
    float grad_clip;        // max global norm; 0 = no clipping
    float beta1, beta2, eps;
    int eval_every;         // validation (and a checkpoint) every K steps; 0 = only at the end
    int eval_batches;       // validation batches averaged (the same windows every time)
    uint64_t seed;
} TrainConfig;

// Defaults: B 32, T 64, lr 1e-3 (min lr/10), warmup 10% of the steps up to 100, wd 0,
// clip 1, betas 0.9/0.999, eps 1e-8, validation every 100 steps over 10 batches, seed 1.
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
    Optimizer optimizer;     // AdamW over model->params[0, n_trainable)
    LossCurve train_curve;   // loss of every step
    LossCurve val_curve;     // validation loss every eval_every steps
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
} TrainProgress;

typedef void (*TrainCallback)(void *context, const TrainProgress *progress);

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
} TrainRun;

// Result of train_run beyond its status.
enum { TRAIN_FINISHED = 0, TRAIN_STOPPED = 1 };

// Checks the run before any work: the config against the model, and that the data hold at
// least one training sequence and two held-out ids. train_run calls it too.
int train_check(const TrainRun *run, Error *error);

// Trains from state->step to the end (or until *stop), saving a checkpoint every eval_every
// steps and at the end. Returns TRAIN_FINISHED or TRAIN_STOPPED, or -1 with error: bad
// config, data shorter than one sequence, a loss that is NaN or infinite (the step is named
// and the last checkpoint written before it is left as it was), a failed save.
int train_run(TrainRun *run, Error *error);

// Mean validation loss over the state's fixed validation windows.
int train_validation_loss(Model *model, const Dataset *data, const TrainConfig *config, float *loss, Error *error);

#endif
