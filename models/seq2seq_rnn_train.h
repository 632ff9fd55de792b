// Training and evaluating the recurrent seq2seq model (models/seq2seq_rnn.h) on a toy task's
// examples (models/seq_tasks.h): minibatch AdamW on the cross-entropy with a warmup + cosine
// learning rate and gradient clipping, and exact-match accuracy of greedy or beam decoding.
#ifndef MODELS_SEQ2SEQ_RNN_TRAIN_H
#define MODELS_SEQ2SEQ_RNN_TRAIN_H

#include <stdint.h>

#include "models/seq2seq_rnn.h"
#include "models/seq_tasks.h"

typedef struct Seq2seqRnnTraining {
    int steps;              // minibatch updates
    int batch_size;
    float lr;               // peak learning rate (AdamW, betas 0.9/0.999, eps 1e-8)
    float weight_decay;     // AdamW's decoupled decay, on matrices only
    int warmup_steps;       // linear warmup, then cosine down to lr/10 at `steps`
    float clip;             // global gradient-norm clip (0: none)
    float teacher_forcing;  // probability of feeding the true previous token, in [0, 1]
    uint64_t seed;          // batches and teacher-forcing draws
} Seq2seqRnnTraining;

// Defaults: 600 steps of 64, lr 3e-3, weight decay 0.01, 50 warmup steps, clip 1,
// teacher forcing 1.
Seq2seqRnnTraining seq2seq_rnn_training_default(void);

// Called every `every` steps and after the last: the step (1-based), the mean training loss
// since the previous call, the learning rate. Returning non-zero stops training (not an error).
typedef int (*Seq2seqRnnProgress)(void *context, int step, float loss, float lr);

// A model of config's sizes for the task (its vocabulary, special ids and maximum lengths).
Seq2seqRnnConfig seq2seq_rnn_config_for(SeqTask task, RnnKind cell, AttentionKind attention, int embedding_size,
                                        int hidden_size);

// Trains model on train. Fails on bad options (named), examples the model cannot take (longer
// than its maximum lengths, ids outside its vocabulary), a non-finite loss, out of memory.
int seq2seq_rnn_train(Seq2seqRnn *model, const SeqDataset *train, const Seq2seqRnnTraining *options,
                      Seq2seqRnnProgress progress, void *context, int every, Error *error);

// Exact-match accuracy on test: *correct of test->n predictions equal to the target from BOS to
// EOS. beam_width 1: batched greedy decoding; above 1: beam search per example (length
// normalisation exponent alpha). predictions (test->n, max_target) may be NULL.
int seq2seq_rnn_exact_match(const Seq2seqRnn *model, const SeqDataset *test, int beam_width, float alpha, int *correct,
                            int *predictions, Error *error);

#endif
