// The recurrent encoder–decoder with attention (models/seq2seq_rnn.h) as a Seq2SeqModel
// (models/seq2seq.h), architecture "gru" or "lstm": the tasks' vocabulary and special ids, the
// task's maximum lengths; a source's length is where its padding starts.
#ifndef MODELS_RECURRENT_SEQ2SEQ_H
#define MODELS_RECURRENT_SEQ2SEQ_H

#include "models/seq2seq.h"
#include "models/seq2seq_rnn.h"

// The configuration of a model for a task: V, pad, bos, eos from models/seq_tasks.h, the
// task's longest source and target.
Seq2seqRnnConfig recurrent_seq2seq_config(SeqTask task, RnnKind cell, AttentionKind attention, int embedding_size,
                                          int hidden_size);
// A new model. teacher_forcing in [0, 1]: the probability, while training, of feeding the true
// previous token rather than the model's own (evaluation losses always feed the true one).
// Errors: seq2seq_rnn_create's, a teacher forcing outside [0, 1], a configuration whose
// vocabulary or special ids are not the tasks'.
int recurrent_seq2seq_create(Seq2SeqModel *model, const Seq2seqRnnConfig *config, float teacher_forcing, Random *rng,
                             Error *error);
// A model saved by seq2seq_save (teacher forcing 1).
int recurrent_seq2seq_load(Seq2SeqModel *model, const char *path, Error *error);
// The Seq2seqRnn inside a model made by the two above.
const Seq2seqRnn *recurrent_seq2seq_net(const Seq2SeqModel *model);

#endif
