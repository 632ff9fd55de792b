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
#ifndef NN_TRAINER_H
#define NN_TRAINER_H

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
} TrainerHistory;

// Checks a config for a training set of n_train examples (epochs, batch, lr, the schedule over
// its steps, coefficients >= 0, one kind of clipping, patience >= 0); classifier_train starts
// with it.
int trainer_check(const TrainerConfig *config, int n_train, Error *error);

int classifier_train(const Classifier *classifier, const LabelledSet *train, const LabelledSet *validation,
                     const TrainerConfig *config, const TrainerCallbacks *callbacks, TrainerHistory *history,
                     Error *error);

// Loss and accuracy per epoch (train and validation) as two panels of an SVG, and a third
// with the gradient norm (mean and largest per epoch) when the records have one.
int trainer_write_curves(const TrainerHistory *history, const char *path, Error *error);

// The resident memory of this process in bytes (Linux /proc/self/statm), 0 when unknown.
long trainer_resident_bytes(void);

#endif
