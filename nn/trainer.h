// Training and evaluating a classifier: epochs over a Loader, the optimizer over the model's
// Parameters, validation after each epoch, early stopping on validation accuracy with the best
// weights kept, checkpoints to resume from, and the curves as an SVG.
//
// The model is anything with a forward from inputs (B, example shape...) to logits (B, K):
// a Classifier bundles it with its Parameters. The loss is the mean cross-entropy.
//
// One training step:  tape_reset → logits = forward(inputs) → loss = cross_entropy(logits, y)
//                     → zero_grad → tape_backward(loss) → (+ λ sign(W) on the matrices)
//                     → (clip by norm or by value) → optimizer step
// The tape's arena is reused by every step, so memory stays flat (trainer_resident_bytes
// measures it after each epoch).
//
// Data parallel (foundations/distributed.h): run by N processes ("ranks"), each holding the
// whole model, a step takes one global batch of B examples (--batch): every rank draws the
// same shuffle (the same seed) and takes its own part of the batch, K parts with gradient
// accumulation (grad_accum), so that the N K parts are the B examples once:
//   part j = examples [j n/(N K), (j+1) n/(N K)) of a batch of n,   rank r's: j = k N + r, k < K
// (part k of all the ranks together is the batch's k-th block of n/K, one process's k-th part
// when it accumulates K). Each part's backward is of its mean loss scaled by N m_j / n (1 for
// equal parts without accumulation), the gradients accumulate, and one all-reduce averages
// them (with the batch's loss and correct count in the same buffer):
//   g = (1/N) Σ_r Σ_k (N m_j / n) g_j = Σ_j (m_j / n) g_j,   the gradient of the batch's mean loss,
// so every rank applies the same clipping and update, and the run is one process's run with
// batch B (up to the order of the float sums). Batch norm is synchronised across the ranks
// (the tape's reduction, nn/tensor.h): its statistics are over part k of every rank, the
// whole batch without accumulation; with K parts they are each block's (n/K examples), as
// with accumulation on one process. A batch-norm model on several ranks needs every part of
// the last batch of an epoch non-empty. Validation is split across the ranks and its counts
// summed. The ranks agree after every step on a stop (any rank's Ctrl-C or SIGTERM: rank 0
// saves a checkpoint of the epochs and batches done, which resumes on any number of ranks) and
// on a failure (every rank returns the lowest failing rank's error, "rank R: ..." for R > 0).
// Rank 0 alone writes files; callbacks are the caller's to give to rank 0 only.
#ifndef NN_TRAINER_H
#define NN_TRAINER_H

#include <signal.h>

#include "foundations/distributed.h"
#include "foundations/optimizer.h"
#include "foundations/safetensors.h"
#include "nn/data.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "nn/tensor.h"

typedef struct Classifier {
    void *model;
    Parameters *params;
    int n_classes;
    // logits (B, n_classes) for inputs (B, example shape); training: dropout and batch
    // statistics on. Returns NULL on failure (the tape holds the error).
    Tensor *(*forward)(void *model, Tape *tape, Tensor *inputs, int training);
} Classifier;

typedef struct Evaluation {
    int count, correct;
    double mean_loss;
    double accuracy;             // correct / count
    int n_classes;
    int *confusion;              // (n_classes, n_classes): row the true class, column the predicted
    double per_class[64];        // accuracy of each true class (recall), for up to 64 classes
} Evaluation;

// Accuracy, per-class accuracy, the confusion matrix and the mean loss over a whole set, in
// batches without recording. evaluation_free releases the confusion matrix.
int classifier_evaluate(const Classifier *classifier, const LabelledSet *set, int batch_size, Evaluation *result,
                        Error *error);
void evaluation_free(Evaluation *evaluation);

// Class probabilities (softmax of the logits) of n examples: probs (n, n_classes).
int classifier_predict(const Classifier *classifier, const float *inputs, int n, int n_dims, const int *shape,
                       float *probs, Error *error);

typedef struct TrainerConfig {
    int epochs;               // epochs to reach (counting those of a resumed checkpoint)
    int batch_size;
    float lr;                 // the peak learning rate
    // foundations/optimizer.h's schedules over the run's steps (epochs × batches per epoch):
    // constant; step decay by gamma after every epoch; cosine down to min_lr, after a warmup
    // (warmup+cosine); one-cycle up from lr/25 over warmup_steps (0: 30% of the run), then down
    ScheduleKind schedule;
    float gamma;              // step decay's factor per epoch
    long warmup_steps;        // warmup+cosine, one-cycle
    float min_lr;             // the cosines
    OptimizerKind optimizer;  // with foundations' default hyper-parameters otherwise
    float weight_decay;       // on matrices only (biases and norms get none: two groups)
    float clip;               // global gradient norm (0: no clipping)
    unsigned long long seed;  // the loader's shuffles
    int patience;             // stop after this many epochs without a better validation accuracy (0: never)
    const char *checkpoint_path;  // written after every epoch (weights, optimizer, epoch), or NULL
    const char *best_path;        // the best weights by validation accuracy, or NULL
    const char *resume_path;      // a checkpoint to continue from, or NULL
    const SafetensorsMetadata *metadata;  // recorded in every checkpoint and best-weights file
    int n_metadata;                       // (the model's architecture, say), or 0
    float clip_value;         // clamp every gradient to [-v, v] (0: none; not with clip)
    float l1;                 // λ of λ Σ|W| on the matrices and kernels (those weight decay reaches)
    const Distributed *distributed;     // the job (NULL: alone); batch_size is the global batch
    int grad_accum;                     // K parts per rank and step (0 or 1: the whole share at once)
    int check_every;                    // compare the parameters' checksum across ranks every K steps (0: never)
    const volatile sig_atomic_t *stop;  // polled every step (NULL: never); when set on any rank: save and stop
} TrainerConfig;

typedef struct EpochRecord {
    int epoch;                // 1-based
    double train_loss;        // mean over the epoch's steps
    double train_accuracy;    // on the batches as they were trained (before each step)
    double val_loss, val_accuracy;  // NaN without a validation set
    double seconds;           // the epoch's training time (validation excluded)
    float last_lr;            // the learning rate of the epoch's last step
    long resident_bytes;      // the process's resident memory after the epoch (0 if unknown)
    double grad_norm;         // mean global gradient norm of the epoch's steps, before clipping
    double max_grad_norm;     // the largest of them
} EpochRecord;

typedef struct TrainerCallbacks {
    void *context;
    // after each step: 1-based epoch, 0-based batch of n_batches, the step's loss
    void (*step)(void *context, int epoch, int batch, int n_batches, float loss);
    // after each epoch
    void (*epoch)(void *context, const EpochRecord *record);
} TrainerCallbacks;

typedef struct TrainerHistory {
    int n_epochs;
    EpochRecord records[1000];
    int best_epoch;           // by validation accuracy (0 without validation)
    int stopped_early;
    int first_epoch;          // 1, or the epoch after a resumed checkpoint's
    int stopped;              // *stop was set on some rank: the checkpoint holds the steps done
    int stop_rank;            // the lowest rank that asked to stop (-1: none)
    int stop_epoch, stop_batch;  // stopped before batch stop_batch (0-based) of epoch stop_epoch
    long steps;               // optimizer steps this run
    double step_seconds;      // their time (the slowest rank's)
    double reduce_seconds;    // of which averaging the gradients across ranks
    double wait_seconds;      // and waiting for the slowest rank before it
} TrainerHistory;

// Checks a config for a training set of n_train examples (epochs, batch, lr, the schedule over
// its steps, coefficients >= 0, one kind of clipping, patience >= 0, a global batch of at least
// one example per rank and accumulation part that they divide); classifier_train starts with it.
int trainer_check(const TrainerConfig *config, int n_train, Error *error);

// Trains to config->epochs (or until the patience runs out, or a stop: history->stopped).
// Every rank of a job calls it with the same data and config. Returns 0 or -1 with error.
int classifier_train(const Classifier *classifier, const LabelledSet *train, const LabelledSet *validation,
                     const TrainerConfig *config, const TrainerCallbacks *callbacks, TrainerHistory *history,
                     Error *error);

// Loss and accuracy per epoch (train and validation) as two panels of an SVG, and a third
// with the gradient norm (mean and largest per epoch) when the records have one.
int trainer_write_curves(const TrainerHistory *history, const char *path, Error *error);

// The resident memory of this process in bytes (Linux /proc/self/statm), 0 when unknown.
long trainer_resident_bytes(void);

#endif
