// The Transformer (models/transformer.h) as a Seq2SeqModel (models/seq2seq.h): one vocabulary
// for sources and targets (the tasks'), source pads hidden from the encoder's self-attention
// and the decoder's cross-attention (key-padding masks), target pads ignored by the loss.
#ifndef MODELS_TRANSFORMER_SEQ2SEQ_H
#define MODELS_TRANSFORMER_SEQ2SEQ_H

#include "models/seq2seq.h"
#include "models/transformer.h"

// A new model of that configuration (src_vocab_size = tgt_vocab_size = the vocabulary;
// max_source_length and max_target_length the longest source and target).
int transformer_seq2seq_create(Seq2SeqModel *model, const TransformerConfig *config, Random *rng, Error *error);
// A model saved by seq2seq_save (its configuration from the file's tensors and metadata).
int transformer_seq2seq_load(Seq2SeqModel *model, const char *path, Error *error);
// The TransformerNet inside a model made by the two above.
const TransformerNet *transformer_seq2seq_net(const Seq2SeqModel *model);

// The last decoder layer's cross-attention, averaged over its heads, while reading a decoded
// target (BOS .. EOS, T ids) for one source (S ids): weights (T−1, S), row t the attention
// while predicting target[t+1]. Errors: the lengths or ids the model refuses.
int transformer_cross_attention(const Seq2SeqModel *model, const int *source, int S, const int *target, int T,
                                float *weights, Error *error);

#endif
