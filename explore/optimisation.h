// Optimisation on real networks (issue 18, module 12): the measurements behind `groundup
// explore lr-range | schedules | warmup | clipping`. Each trains one of the project's models
// (the MNIST MLP of models/mlp.h, the GPT-2 of gpt/gpt2.c, a deep MLP made to explode) and
// returns the numbers its table and SVG show; nothing here prints. The commands are
// tools/cmd_explore_training.c; the tests (tests/test_explore_optimisation.c) assert each
// topic's qualitative claim on a small configuration.
#ifndef EXPLORE_OPTIMISATION_H
#define EXPLORE_OPTIMISATION_H

#include <stdint.h>

#include "foundations/error.h"
#include "foundations/optimizer.h"

enum { LR_RANGE_MAX_STEPS = 1000, SCHEDULE_MAX_STEPS = 5000, WARMUP_MAX_RUNS = 8, WARMUP_MAX_STEPS = 2000,
       CLIPPING_MAX_STEPS = 2000 };

// The small GPT-2 the language-model experiments train: character tokens of a text file,
// its held-out 10% for validation.
typedef struct SmallGptSetup {
    const char *text_path;  // e.g. data/mobydick.txt
    int layers, heads, dim, context, batch;
} SmallGptSetup;

// ---------------------------------------------------------------------------------------
// lr-range: the learning-rate range test (Smith 2017, "Cyclical learning rates for training
// neural networks", section 3.3): from the initial weights, one optimizer step per learning
// rate, the rates growing geometrically from lr_start to lr_end, recording each batch's loss;
// the loss falls, flattens and blows up. foundations/optimizer.h's lr_finder does the steps,
// the smoothing and the two suggestions (the steepest fall, the minimum).
typedef struct LrRangeSetup {
    OptimizerKind optimizer;
    float lr_start, lr_end;
    int steps;                 // <= LR_RANGE_MAX_STEPS
    uint64_t seed;
} LrRangeSetup;

typedef struct LrRangeCurve {
    int n;                                    // steps recorded before lr_end or divergence
    float lr[LR_RANGE_MAX_STEPS];
    float loss[LR_RANGE_MAX_STEPS];           // the batch's loss before the step at lr[i]
    float smoothed[LR_RANGE_MAX_STEPS];       // bias-corrected moving average (0.9)
    int diverged;                             // stopped once the smoothed loss passed 4x its minimum
    float steepest_lr;                        // the suggestion: the steepest fall of the smoothed loss
    float minimum_lr;                         // the lr of its minimum (about 10x too high to train at)
    long parameters;
    double seconds;
} LrRangeCurve;

// The MLP 784-256-128-10 on the first n_train MNIST training images of mnist_directory,
// batches of batch_size drawn at random.
int explore_lr_range_mlp(const char *mnist_directory, int n_train, int batch_size, const LrRangeSetup *setup,
                         LrRangeCurve *curve, Error *error);
// The small GPT-2 on its text.
int explore_lr_range_gpt(const SmallGptSetup *gpt, const LrRangeSetup *setup, LrRangeCurve *curve, Error *error);

// ---------------------------------------------------------------------------------------
// schedules: the MNIST MLP trained with each schedule of foundations/optimizer.h for the same
// number of steps at the same peak rate (nn/trainer.h's loop), then scored on the test set.
typedef struct SchedulesSetup {
    int n_train, n_test;       // MNIST images (the first n of each split)
    int epochs, batch_size;
    OptimizerKind optimizer;
    float lr;                  // the peak
    float min_lr;              // where the cosines end
    float gamma;               // step decay per epoch
    long warmup_steps;         // warmup-cosine; one-cycle rises over 30% of the run
    uint64_t seed;
} SchedulesSetup;

typedef struct ScheduleRun {
    ScheduleKind kind;
    int n_steps;
    float loss[SCHEDULE_MAX_STEPS];  // each step's training loss
    float lr[SCHEDULE_MAX_STEPS];    // each step's rate
    double final_train_loss;         // mean of the last epoch's steps
    double test_loss, test_accuracy;
    double seconds;
} ScheduleRun;

typedef struct SchedulesResult {
    int n_runs;                      // N_SCHEDULE_KINDS, in ScheduleKind order
    ScheduleRun runs[N_SCHEDULE_KINDS];
} SchedulesResult;

int explore_schedules(const char *mnist_directory, const SchedulesSetup *setup, SchedulesResult *result, Error *error);

// ---------------------------------------------------------------------------------------
// warmup: the small GPT-2 trained by Adam at each of n_lrs peak rates, with a linear warmup
// then a cosine, and with the cosine alone; no clipping, so nothing hides a bad step.
// Without warmup Adam's first steps are full-size steps taken with second-moment estimates
// made from one or two batches, at initialisation's largest gradients (Liu et al. 2020, "On
// the variance of the adaptive learning rate and beyond"; Xiong et al. 2020).
typedef struct WarmupSetup {
    SmallGptSetup gpt;
    int n_lrs;                       // <= WARMUP_MAX_RUNS / 2
    float lrs[WARMUP_MAX_RUNS / 2];
    long steps, warmup_steps;        // steps <= WARMUP_MAX_STEPS
    uint64_t seed;
} WarmupSetup;

typedef struct WarmupRun {
    float lr;
    int warmup;                      // 1: linear warmup then cosine; 0: cosine from step 0
    int n_steps;                     // steps done (fewer when the loss became NaN or infinite)
    float loss[WARMUP_MAX_STEPS];    // each step's training loss
    float grad_norm[WARMUP_MAX_STEPS];
    int nan_step;                    // the 1-based step whose loss was not finite, or 0
    float initial_loss;              // step 1's
    float peak_loss;                 // the highest after step 1
    float final_loss;                // the mean of the last 10% of steps (NaN after a NaN)
    float val_loss;                  // on the held-out text at the end (NaN after a NaN)
    int diverged;                    // a NaN, or a final loss above the initial loss
} WarmupRun;

typedef struct WarmupResult {
    int n_runs;                      // 2 n_lrs: for each rate, with then without warmup
    WarmupRun runs[WARMUP_MAX_RUNS];
    long parameters;
    double seconds;
} WarmupResult;

int explore_warmup(const WarmupSetup *setup, WarmupResult *result, Error *error);

// ---------------------------------------------------------------------------------------
// clipping: a deep ReLU MLP whose weights start `gain` times larger than He initialisation,
// so that activations and gradients grow by about `gain` per layer, trained by plain SGD on
// MNIST three times from the same weights: without clipping, clipping the global gradient
// norm to max_norm, clipping every coordinate to [-max_value, max_value]
// (foundations/optimizer.h). Pascanu, Mikolov and Bengio 2013, "On the difficulty of
// training recurrent neural networks", section 3.2.
typedef struct ClippingSetup {
    int n_train;                     // MNIST images
    int depth, width;                // hidden ReLU layers and their width
    float gain;                      // the weights' initial scale, in units of He's √(2/fan_in)
    float lr;
    float max_norm, max_value;
    int steps, batch_size;           // steps <= CLIPPING_MAX_STEPS
    uint64_t seed;
} ClippingSetup;

enum { CLIP_NONE, CLIP_NORM, CLIP_VALUE, N_CLIP_MODES };

typedef struct ClippingRun {
    int mode;                        // CLIP_NONE, CLIP_NORM, CLIP_VALUE
    int n_steps;                     // steps done (training stops at a non-finite loss or gradient)
    float loss[CLIPPING_MAX_STEPS];
    float grad_norm[CLIPPING_MAX_STEPS];  // the global norm before clipping
    float step_norm[CLIPPING_MAX_STEPS];  // the norm of the update lr·g after clipping
    int nan_step;                    // the 1-based step whose loss or gradient was not finite, or 0
    float max_grad_norm, max_step_norm;
    float final_loss;                // the mean of the last 10% of steps (NaN after a NaN)
    double accuracy;                 // on the training images at the end (NaN after a NaN)
} ClippingRun;

typedef struct ClippingResult {
    ClippingRun runs[N_CLIP_MODES];
    long parameters;
    float initial_grad_norm;         // step 1's, the same for the three
} ClippingResult;

int explore_clipping(const char *mnist_directory, const ClippingSetup *setup, ClippingResult *result, Error *error);

// "none", "norm", "value"
const char *clipping_mode_name(int mode);

#endif
