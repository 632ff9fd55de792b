// Sequence-to-sequence models behind one interface, and what every one of them needs on the
// toy tasks (models/seq_tasks.h): teacher-forced training, greedy and beam-search decoding
// (models/beam_search.h), exact-match evaluation, files.
//
// An architecture provides a Seq2SeqModel: its teacher-forced loss, an encoder for a batch of
// sources and the next-token log-probabilities of prefixes decoding those sources. The
// Transformer's is models/transformer_seq2seq.c, the GRU's and LSTM's models/recurrent_seq2seq.c;
// adding an architecture is one such file and one line in seq2seq_load's switch (and its
// options in tools/cmd_seq2seq.c).
//
// Ids are the tasks' vocabulary: sources padded with SEQ_PAD, targets BOS y_1 .. y_m EOS PAD...
#ifndef MODELS_SEQ2SEQ_H
#define MODELS_SEQ2SEQ_H

#include "foundations/safetensors.h"
#include "models/seq_tasks.h"
#include "nn/module.h"

enum { SEQ2SEQ_MAX_METADATA = 16 };

typedef struct Seq2SeqModel {
    const char *arch;              // "transformer", …
    void *model;
    Parameters *params;
    int vocab_size;
    int max_source, max_target;    // longest source (ids) and target (ids, BOS and EOS counted)
    // Teacher forcing: target (B,T) predicts target[:,1:] from target[:,:-1]; the mean
    // cross-entropy over the entries that are not SEQ_PAD, label smoothing ε. source (B,S).
    // NULL on failure (the tape holds the error).
    Tensor *(*loss)(void *model, Tape *tape, const int *source, int S, const int *target, int T, int B,
                    float smoothing, int training, Random *rng);
    // Encodes n sources (n,S) for decoding; the result lives in tape's arena until its next
    // reset. NULL on failure (the tape holds the error).
    void *(*encode)(void *model, Tape *tape, const int *sources, int n, int S);
    // Log-probabilities of the next token after prefixes (n, length) (each from SEQ_BOS), row i
    // decoding source rows[i] of encoding -> log_probs (n, vocab_size). Step values go on tape
    // (the caller resets it). 0, or -1 (the tape holds the error).
    int (*next_log_probs)(void *model, Tape *tape, const void *encoding, const int *rows, int n, const int *prefixes,
                          int length, float *log_probs);
    // The metadata recording the architecture and its configuration ("arch" first); values in
    // strings. Returns the count (at most SEQ2SEQ_MAX_METADATA - 5).
    int (*metadata)(const void *model, SafetensorsMetadata *metadata, char strings[][32]);
    void (*free)(void *model);
} Seq2SeqModel;

void seq2seq_free(Seq2SeqModel *model);

// Writes params and metadata (the architecture's, "task", and the caller's extra pairs, at most
// 4) through a temporary file.
int seq2seq_save(const Seq2SeqModel *model, SeqTask task, const SafetensorsMetadata *extra, int n_extra,
                 const char *path, Error *error);
// Loads a model saved by seq2seq_save of any known architecture, and its task. Errors: the
// file's (named), an unknown or missing "arch" or "task".
int seq2seq_load(Seq2SeqModel *model, SeqTask *task, const char *path, Error *error);

// Training: AdamW (betas 0.9/0.98, weight decay on matrices only), warmup then cosine decay to
// lr/10 over the steps or the time limit (whichever ends first drives the cosine: the
// time limit when set), gradient clipping.
typedef struct Seq2SeqTrainConfig {
    long steps;            // updates (the cosine's length unless time_limit is set)
    double time_limit;     // seconds (0: none); the cosine then follows the time spent
    int batch_size;
    float lr, weight_decay, clip, smoothing;
    long warmup_steps;
    uint64_t seed;         // batches and dropout
} Seq2SeqTrainConfig;

typedef struct Seq2SeqProgress {
    long step;             // 1-based, after the update
    float loss, lr;
    double seconds;        // training time so far
} Seq2SeqProgress;

// Trains on set; report (may be NULL) is called after every update. *steps_done and
// *seconds receive what was run. Errors: bad configuration, the model's (tape) errors,
// a non-finite loss (named with its step), out of memory.
int seq2seq_train(const Seq2SeqModel *model, const SeqDataset *set, const Seq2SeqTrainConfig *config,
                  void (*report)(void *context, const Seq2SeqProgress *progress), void *context, long *steps_done,
                  double *seconds, Error *error);

// Greedy decoding of n sources (n, S) at once: out (n, model->max_target) receives BOS .. EOS
// (or cut at max_target), lengths (n) their lengths. Equal to beam search of width 1.
int seq2seq_greedy(const Seq2SeqModel *model, const int *sources, int n, int S, int *out, int *lengths, Error *error);
// Beam search (models/beam_search.h) for one source (S ids): out (model->max_target).
int seq2seq_beam(const Seq2SeqModel *model, const int *source, int S, int beam_width, float alpha, int *out,
                 int *length, Error *error);

// Exact match on a set: a prediction is correct when its ids between BOS and EOS are the target's
// and it ends with EOS. beam_width 1 decodes greedily in batches; wider beams one source at a time.
typedef struct Seq2SeqEvaluation {
    int count, correct;
    double accuracy;       // correct / count
    double seconds;
} Seq2SeqEvaluation;
int seq2seq_evaluate(const Seq2SeqModel *model, const SeqDataset *set, int beam_width, float alpha,
                     Seq2SeqEvaluation *result, Error *error);

// Whether a source (length ids) fits the model and its ids are in the vocabulary: an error
// saying which otherwise.
int seq2seq_check_source(const Seq2SeqModel *model, const int *source, int length, Error *error);

#endif
