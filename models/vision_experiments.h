// The measurements behind the vision experiments (issue 15): training curves of a classifier
// evaluated on whole sets after every epoch (normalisation, dropout), and the per-layer gradient
// norms of a deep network at initialisation and while it trains (gradient flow). The commands
// (tools/cmd_vision_experiments.c) choose the models and print; nothing here prints.
#ifndef MODELS_VISION_EXPERIMENTS_H
#define MODELS_VISION_EXPERIMENTS_H

#include "models/deep_conv.h"
#include "nn/trainer.h"

enum { CURVES_MAX_EPOCHS = 1000, FLOW_MAX_RECORDS = 512 };

// After each epoch, both sets in evaluation mode (no dropout, running batch-norm statistics).
typedef struct TrainingCurves {
    int n_epochs;
    float train_loss[CURVES_MAX_EPOCHS], train_accuracy[CURVES_MAX_EPOCHS];  // accuracy in [0, 1]
    float test_loss[CURVES_MAX_EPOCHS], test_accuracy[CURVES_MAX_EPOCHS];
    double seconds;                                                          // training and evaluation
} TrainingCurves;

// Trains with classifier_train (config: no checkpoint, validation or early stopping needed)
// and fills curves. Errors: the trainer's, the evaluation's, more than CURVES_MAX_EPOCHS epochs.
int train_with_curves(const Classifier *classifier, const LabelledSet *train, const LabelledSet *test,
                      const TrainerConfig *config, TrainingCurves *curves, Error *error);

typedef struct GradientFlowSetup {
    int steps;            // SGD steps of training after the measurement at initialisation
    int batch_size;
    float lr, momentum;   // SGD with momentum (PyTorch's SGD(momentum=μ))
    int record_every;     // steps between records (the first at step 0, before any update)
    unsigned long long seed;  // the batches' order
} GradientFlowSetup;

// Per weight layer l = 1..L: ‖∂L/∂z_l‖ (Frobenius norm over the batch of the layer's output's
// gradient, the "back-propagated gradient" of Glorot and Bengio 2010) and ‖∂L/∂W_l‖, with L the
// mean cross-entropy of the batch.
typedef struct GradientFlow {
    int layers;
    int n_records;
    int step[FLOW_MAX_RECORDS];
    float loss[FLOW_MAX_RECORDS];         // mean loss of the steps since the previous record, this one included
    float output_grad[FLOW_MAX_RECORDS][DEEP_CONV_MAX_LAYERS];   // ‖∂L/∂z_l‖, record 0 at initialisation
    float weight_grad[FLOW_MAX_RECORDS][DEEP_CONV_MAX_LAYERS];   // ‖∂L/∂W_l‖
    int diverged_at;      // the first step whose loss or gradient was not finite (training stops), or -1
    float final_loss;     // mean loss of the last record_every steps (NaN after divergence)
    float peak_loss;      // the highest of loss[1 ..] (an exploding network's losses reach 10^20 and more)
} GradientFlow;

// Creates the network of config from a generator seeded with model_seed, records the norms on
// the first batch, then trains for setup->steps steps recording every record_every.
// Errors: bad setup values, the model's, more records than FLOW_MAX_RECORDS, out of memory.
int gradient_flow_run(const DeepConvConfig *config, unsigned long long model_seed, const LabelledSet *train,
                      const GradientFlowSetup *setup, GradientFlow *flow, Error *error);

// The first count images of MNIST's split ("train" or "test") in directory (all of them when
// count <= 0 or above their number), as a LabelledSet of (1, 28, 28) examples in [0, 1].
// Errors: mnist_load's.
int mnist_subset(const char *directory, const char *split, int count, LabelledSet *set, Error *error);

#endif
