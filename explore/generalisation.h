// Regularisation and generalisation measured on a real network (roadmap module 13): the MNIST
// multilayer perceptron of models/mlp.h trained by nn/trainer.h on a subset of MNIST, changed
// in one way at a time, each change's effect on held-out accuracy measured.
//
//   l1-l2             L1 against L2 penalties: exact zeros, weight histograms, test accuracy
//   early-stopping    the validation curve, where patience stops, the kept checkpoint's accuracy
//   dropout-ensemble  weight scaling against Monte-Carlo averaging of k dropout masks
//   lottery-ticket    iterative magnitude pruning with rewinding (explore/lottery_ticket.c)
//   augmentation      shifts, rotations, elastic distortion on 1,000 images (explore/augment.h)
//
// The network is LeNet-300-100 (LeCun et al. 1998; the network of Frankle and Carbin's MNIST
// tickets): 784-300-100-10 with ReLU, PyTorch's default initialisation. Training is plain
// minibatch SGD at a constant learning rate on the first n_train images of MNIST's training
// split (inputs the bytes / 255), tested on the first n_test of its test split: plain SGD so
// that a proximal step (L1) or a mask (pruning) applied after each update means exactly what
// it says. Every run is seeded: the same setup gives the same numbers. Nothing here prints.
#ifndef EXPLORE_GENERALISATION_H
#define EXPLORE_GENERALISATION_H

#include <stdint.h>

#include "explore/augment.h"
#include "foundations/error.h"
#include "models/mlp.h"
#include "nn/data.h"
#include "nn/trainer.h"

typedef struct MnistMlpSetup {
    const char *data;      // directory of MNIST's IDX files ("data/mnist")
    int n_train, n_test;   // the first n of the training and of the test split
    int hidden[2];         // 784-hidden[0]-hidden[1]-10; hidden[1] = 0: one hidden layer
    int epochs, batch_size;
    float lr;              // SGD's constant learning rate
    uint64_t seed;         // initialisation and batch order
} MnistMlpSetup;

// LeNet-300-100 on 5,000 training and 2,000 test images, 10 epochs of batch 50 at lr 0.1, seed 1.
MnistMlpSetup mnist_mlp_default_setup(void);
// Errors ("<field> must be ..."): counts below 1 (hidden[1] may be 0), n_train above 60,000 or
// n_test above 10,000, a learning rate not finite or not above 0.
int mnist_mlp_check_setup(const MnistMlpSetup *setup, Error *error);

// The setup's training images (the first n_train, plus `extra` more after them as a validation
// set when validation is not NULL) and test images. Errors: mnist_load's.
int mnist_mlp_load(const MnistMlpSetup *setup, LabelledSet *train, int extra, LabelledSet *validation,
                   LabelledSet *test, Error *error);
// The setup's network with dropout p after each hidden ReLU, initialised from seed.
int mnist_mlp_create(const MnistMlpSetup *setup, float dropout, uint64_t seed, Mlp *mlp, Error *error);

// Called after every SGD update with the learning rate of that update: a proximal step or a
// mask goes here. NULL: none.
typedef void (*AfterUpdate)(void *context, Mlp *mlp, float lr);

// Trains mlp by the setup (plain SGD, constant lr, weight_decay as L2 on the weight matrices),
// calling after_update after every update, and, after every epoch, epoch_done (may be NULL)
// with the epoch's record; validation may be NULL. history may be NULL.
int mnist_mlp_train(const MnistMlpSetup *setup, Mlp *mlp, const LabelledSet *train, const LabelledSet *validation,
                    float weight_decay, AfterUpdate after_update, void (*epoch_done)(void *, const EpochRecord *),
                    void *context, TrainerHistory *history, Error *error);
// Accuracy in [0, 1] (and the mean cross-entropy when loss is not NULL) in evaluation mode.
int mnist_mlp_accuracy(Mlp *mlp, const LabelledSet *set, double *accuracy, double *loss, Error *error);

// ----------------------------------------------------------------------------
// l1-l2: the loss J(w) = CE(w) + λ Ω(w) over the weight matrices (not the biases), with
//   L2  Ω = ½ Σ w²    by its gradient λw added in each SGD step (weight decay)
//   L1  Ω = Σ |w|     by a proximal step after each SGD step (proximal gradient, ISTA:
//                     Daubechies et al. 2004), the soft-threshold
//                       w ← sign(w) · max(|w| − η λ, 0)
//                     which sets a weight to exactly 0 when it comes within ηλ of 0; the
//                     subgradient λ sign(w) would make weights oscillate around 0 instead.
// For each coefficient λ: test accuracy, the fraction of weights exactly 0, and a histogram of
// the weights; λ = 0 is run once as the baseline.

enum { L1L2_MAX_COEFFICIENTS = 16, L1L2_BINS = 41 };

typedef struct PenaltyRun {
    double coefficient;          // λ
    double test_accuracy;        // [0, 1]
    double zero_fraction;        // weights exactly 0 / all weights
    double mean_absolute;        // mean |w|
    long histogram[L1L2_BINS];   // weights in equal bins over [−limit, limit], the ends clamped
} PenaltyRun;

typedef struct L1L2Result {
    int n_coefficients;
    long n_weights;                          // in the weight matrices
    double histogram_limit;                  // the histogram's range [−limit, limit]
    PenaltyRun baseline;                     // λ = 0
    PenaltyRun l1[L1L2_MAX_COEFFICIENTS], l2[L1L2_MAX_COEFFICIENTS];
    // The comparable pair: the L1 run with the most zeros whose accuracy is within
    // `tolerance` of the best L2 run's, and that L2 run; -1 when no L1 run qualifies.
    int comparable_l1, comparable_l2;
    double tolerance;
} L1L2Result;

// coefficients (n in 1..L1L2_MAX_COEFFICIENTS) each finite and > 0; tolerance in [0, 1].
int explore_l1_l2(const MnistMlpSetup *setup, const double *coefficients, int n, double tolerance,
                  L1L2Result *out, Error *error);
// The soft-threshold of n values in place by t >= 0: sign(w) max(|w| − t, 0).
void soft_threshold(float *values, long n, float t);

// ----------------------------------------------------------------------------
// early-stopping: n_train training images, the next n_validation of the training split held out
// for validation, the setup's epochs without stopping. After each epoch: training loss,
// validation loss and accuracy, test loss and accuracy. Two stopping rules, each with patience
// P: stop at the first epoch that ends P epochs without a better validation value, keep the
// weights of the best epoch up to there (in memory), by
//   [0] the validation loss (lower is better; Prechelt 1998's criteria watch the loss)
//   [1] the validation accuracy (higher is better; nn/trainer.h's --patience)
// The kept weights' test accuracy and loss against the last epoch's. With label_noise q > 0 each
// training and validation label is, with probability q, replaced by one drawn uniformly from the
// 10 classes (it may draw the true one), the test labels untouched: the network then memorises
// the wrong labels late in training and test accuracy falls, which is what stopping early avoids.

enum { EARLY_MAX_EPOCHS = 500 };

typedef struct StoppingRule {
    const char *criterion;       // "validation loss", "validation accuracy"
    int stop_epoch;              // 1-based: where patience stops (= epochs when it never does)
    int kept_epoch;              // 1-based: the best epoch up to stop_epoch
    double kept_test_accuracy, kept_test_loss;
} StoppingRule;

typedef struct EarlyStoppingResult {
    int epochs, patience, n_validation;
    double label_noise;
    int labels_changed;                          // training and validation labels the noise changed
    double train_loss[EARLY_MAX_EPOCHS], validation_loss[EARLY_MAX_EPOCHS];
    double validation_accuracy[EARLY_MAX_EPOCHS], test_accuracy[EARLY_MAX_EPOCHS], test_loss[EARLY_MAX_EPOCHS];
    StoppingRule rules[2];
    double last_test_accuracy, last_test_loss;   // after the last epoch
} EarlyStoppingResult;

// setup->epochs <= EARLY_MAX_EPOCHS; patience >= 1; n_validation >= 1 (n_train + n_validation
// <= 60,000); label_noise in [0, 1].
int explore_early_stopping(const MnistMlpSetup *setup, int n_validation, int patience, double label_noise,
                           EarlyStoppingResult *out, Error *error);
// Replaces each of the set's labels with probability q by a uniform draw from its classes;
// returns how many changed.
int randomise_labels(LabelledSet *set, double q, Random *rng);

// ----------------------------------------------------------------------------
// dropout-ensemble (Srivastava et al. 2014): a network trained with dropout p is an ensemble of
// the 2^units thinned networks sharing weights. Test-time prediction either by weight scaling
// (inverted dropout: the full network, no mask, as nn_dropout in evaluation) or by Monte-Carlo
// averaging of the class probabilities of k networks with independent masks:
//   p(y | x) ≈ 1/k Σ_j softmax(f(x; m_j))
// Accuracy of the average of the first k masks for k = 1..max_k, and the mean accuracy of a
// single mask.

enum { DROPOUT_MAX_SAMPLES = 1000 };

typedef struct DropoutEnsembleResult {
    float p;
    int max_k;
    double weight_scaling_accuracy;
    double mc_accuracy[DROPOUT_MAX_SAMPLES];   // [k − 1]: the average of masks 1..k
    double single_mask_accuracy;               // mean over the max_k single masks
    double train_seconds;
} DropoutEnsembleResult;

// p in (0, 1); max_k in 1..DROPOUT_MAX_SAMPLES.
int explore_dropout_ensemble(const MnistMlpSetup *setup, float p, int max_k, DropoutEnsembleResult *out,
                             Error *error);

// ----------------------------------------------------------------------------
// lottery-ticket (lottery_ticket.c): Frankle and Carbin, "The lottery ticket hypothesis:
// finding sparse, trainable neural networks" (2018, ICLR 2019). Iterative magnitude pruning
// with rewinding to initialisation:
//   1. initialise θ₀, mask m = 1;  2. train θ = θ₀ ⊙ m, the mask kept through training (every
//   masked weight set back to 0 after each update);  3. in each weight matrix remove the fraction
//   `rate` of its remaining weights of smallest |θ| (the output layer half that rate, as the
//   paper);  4. rewind the rest to θ₀ and repeat from 2.
// The control: the same masks with the weights drawn anew from the initial distribution
// (random re-initialisation, a different seed each round). Biases are not pruned.

enum { LOTTERY_MAX_ROUNDS = 32 };

typedef struct LotteryRound {
    double remaining;           // fraction of the weights kept, in (0, 1]
    double ticket_accuracy;     // rewound to θ₀ and trained
    double random_accuracy;     // re-initialised and trained (round 0: the same network, no control)
} LotteryRound;

typedef struct LotteryResult {
    int rounds;                 // pruning rounds after the dense round 0
    double rate;
    long n_weights;
    LotteryRound round[LOTTERY_MAX_ROUNDS + 1];
} LotteryResult;

// rounds in 1..LOTTERY_MAX_ROUNDS, rate in (0, 1).
int explore_lottery_ticket(const MnistMlpSetup *setup, int rounds, double rate, LotteryResult *out, Error *error);
// Zeroes, in mask (n) of 0/1 values, the fraction `rate` (rounded to the nearest count) of the
// entries still 1 with the smallest |weights|; ties go to the lower index. Returns the count
// removed, or -1 out of memory.
long prune_smallest(const float *weights, float *mask, long n, double rate);

// ----------------------------------------------------------------------------
// augmentation (augmentation.c): n_train training images (1,000 by default), each epoch every
// one replaced by a fresh random transform of its original (explore/augment.h: shifts,
// rotations, elastic distortion, all three in a row), the network from the same initialisation
// each time; test accuracy against no augmentation.

typedef struct AugmentationResult {
    AugmentConfig config;
    int ran[AUGMENT_KINDS];                  // 1: the kind was trained (NONE always is)
    double test_accuracy[AUGMENT_KINDS];     // [AUGMENT_NONE] is the baseline
    double train_accuracy[AUGMENT_KINDS];    // on the original (unaugmented) training images
} AugmentationResult;

// kinds: a bit (1 << kind) for each kind to train, AUGMENT_ALL_KINDS for every one.
enum { AUGMENT_ALL_KINDS = (1 << AUGMENT_KINDS) - 1 };
int explore_augmentation(const MnistMlpSetup *setup, const AugmentConfig *config, unsigned kinds,
                         AugmentationResult *out, Error *error);
// The first n training images and their transforms, for a picture: tiles (n, AUGMENT_KINDS, 28, 28),
// each row an image under none, shift, rotation, elastic, all three. n in 1..100.
int augmentation_examples(const MnistMlpSetup *setup, const AugmentConfig *config, int n, float *tiles,
                          Error *error);

#endif
