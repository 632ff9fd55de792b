// What the optimisation experiments share (explore/optimisation_*.c, not a public API): the
// small character-level GPT-2 with its data, and a classifier seen as one flat parameter
// vector, the form foundations/optimizer.h's lr_finder works on.
#ifndef EXPLORE_OPTIMISATION_MODELS_H
#define EXPLORE_OPTIMISATION_MODELS_H

#include "explore/optimisation.h"
#include "foundations/random.h"
#include "gpt/data.h"
#include "gpt/model.h"
#include "gpt/text.h"
#include "nn/trainer.h"

typedef struct SmallGpt {
    DataSource source;
    TextTokenizer tokenizer;  // the text's bytes
    Dataset data;             // the last 10% held out
    Model model;              // GPT-2 of the setup's size, initialised from seed
    int batch, context;
} SmallGpt;

// Errors: the text's (missing, too short for a batch), the model's.
int small_gpt_create(SmallGpt *gpt, const SmallGptSetup *setup, uint64_t seed, Error *error);
void small_gpt_free(SmallGpt *gpt);

// A classifier, a training set and random batches, behind a LossGradientFunction.
typedef struct FlatClassifier {
    const Classifier *classifier;
    const LabelledSet *set;
    int batch_size;
    Random rng;        // the batches
    float *inputs;     // (batch_size, sample_size)
    int *labels;       // (batch_size)
    Tape tape;
    long n;            // trainable values, in Parameters order
    int failed;        // a forward or backward failed (the loss returned is NaN)
} FlatClassifier;

int flat_classifier_init(FlatClassifier *flat, const Classifier *classifier, const LabelledSet *set, int batch_size,
                         uint64_t seed, Error *error);
void flat_classifier_free(FlatClassifier *flat);
// The trainable tensors' values into params (n), or from it.
void flat_classifier_get(const FlatClassifier *flat, float *params);
void flat_classifier_set(FlatClassifier *flat, const float *params);
// A LossGradientFunction: the mean cross-entropy of a fresh random batch at params, and its
// gradient into grads (context: a FlatClassifier).
double flat_classifier_loss_gradient(void *context, const float *params, float *grads, long n);

#endif
