// Sequence to sequence with attention over a recurrent encoder and decoder:
//   Bahdanau, Cho and Bengio 2014, "Neural machine translation by jointly learning to align and
//   translate" (arXiv:1409.0473): the bidirectional encoder, additive attention, the decoder;
//   Luong, Pham and Manning 2015, "Effective approaches to attention-based neural machine
//   translation" (arXiv:1508.04025): the multiplicative ("general") score.
//
// Source x_1..x_S (ids), target y_0 = BOS, y_1..y_T (y_T = EOS). With E = embedding size, H = hidden size:
//   encoder   →h_j = cell_f(e(x_j), →h_{j−1}),  ←h_j = cell_b(e(x_j), ←h_{j+1}),  h_j = [→h_j; ←h_j] (2H)
//   bridge    s_0 = tanh(W_b [→h_S; ←h_1] + b_b)                (an LSTM decoder starts from c_0 = 0)
//   attention additive        a_ij = v_aᵀ tanh(W_a s_{i−1} + U_a h_j)    (Bahdanau)
//             multiplicative  a_ij = s_{i−1}ᵀ W_a h_j                    (Luong's "general")
//             α_ij = softmax_j(a_ij) over the source's tokens (padding masked), c_i = Σ_j α_ij h_j
//   decoder   s_i = cell_d([e'(y_{i−1}); c_i], s_{i−1})
//   output    p(y_i | y_<i, x) = softmax(W_o [s_i; c_i; e'(y_{i−1})] + b_o)
// Objective: the mean over the target tokens of the batch of −log p(y_i | y_<i, x) (cross-entropy,
// padding ignored). Teacher forcing: y_{i−1} is the true previous token with probability
// `teacher_forcing` (per example and step), otherwise the model's own most probable token.
//
// Simplified from the papers: one layer each way; the GRU or the LSTM in both encoder and
// decoder; Bahdanau's maxout deep output is one linear layer over [s_i; c_i; e'(y_{i−1})];
// both scores are used in Bahdanau's order (attend from s_{i−1}, then step), not Luong's
// (step, then attend from h_t, with input feeding); the attention size is H.
//
// Padding: a source shorter than the batch's width leaves both directions' states unchanged at
// its padded positions (so ←h starts at its last token, as PyTorch's packed sequences do), and
// the attention gives those positions weight 0.
//
// Training, greedy and beam decoding and the command go through models/seq2seq.h
// (models/recurrent_seq2seq.h adapts this model to it).
//
// Parameters (PyTorch state_dict names, registration order):
//   source_embedding.weight (V,E)
//   encoder.forward.{weight_ih, weight_hh, bias_ih, bias_hh}, encoder.backward.{...}  (GRUCell/LSTMCell(E, H))
//   bridge.weight (H,2H), bridge.bias (H)
//   target_embedding.weight (V,E)
//   attention.query.weight (H,H), attention.key.weight (H,2H), attention.score.weight (1,H)   additive
//   attention.key.weight (H,2H)                                                             multiplicative
//   decoder.{weight_ih (3H or 4H, E+2H), weight_hh, bias_ih, bias_hh}
//   generator.weight (V, 3H+E), generator.bias (V)
#ifndef MODELS_SEQ2SEQ_RNN_H
#define MODELS_SEQ2SEQ_RNN_H

#include "foundations/error.h"
#include "foundations/random.h"
#include "foundations/safetensors.h"
#include "nn/module.h"
#include "nn/recurrent.h"

typedef enum { RNN_GRU, RNN_LSTM } RnnKind;
typedef enum { ATTENTION_ADDITIVE, ATTENTION_MULTIPLICATIVE } AttentionKind;

typedef struct Seq2seqRnnConfig {
    RnnKind cell;
    AttentionKind attention;
    int vocab_size;      // V, shared by source and target
    int embedding_size;  // E
    int hidden_size;     // H: each encoder direction, the decoder and the attention
    int max_source;      // the longest source (tokens) the model takes
    int max_target;      // the longest target, BOS and EOS counted
    int pad, bos, eos;   // special ids
} Seq2seqRnnConfig;

// An encoder or decoder cell of either kind.
typedef struct RnnCell {
    RnnKind kind;
    GRUCell gru;
    LSTMCell lstm;
} RnnCell;

typedef struct Seq2seqRnn {
    Seq2seqRnnConfig config;
    Parameters params;
    Embedding source_embedding, target_embedding;
    RnnCell encoder_forward, encoder_backward, decoder;
    Linear bridge, attention_query, attention_key, attention_score, generator;
} Seq2seqRnn;

// "gru" | "lstm", "additive" | "multiplicative" (errors name the value).
int rnn_kind_parse(const char *name, RnnKind *kind, Error *error);
int attention_kind_parse(const char *name, AttentionKind *kind, Error *error);
const char *rnn_kind_name(RnnKind kind);
const char *attention_kind_name(AttentionKind kind);

// A new model with PyTorch's default initialisation from rng. Fails on sizes below 1 (max_target
// below 2), special ids outside the vocabulary, out of memory.
int seq2seq_rnn_create(Seq2seqRnn *model, const Seq2seqRnnConfig *config, Random *rng, Error *error);
void seq2seq_rnn_free(Seq2seqRnn *model);

// A batch of B examples: source (B,S) ids padded with pad, S <= max_source; source_length (B) in
// 1..S; target (B,T) = bos y_1 .. eos pad ..., T <= max_target. Checks every id against the
// vocabulary and every length against the model's maximum; the error names the example.
int seq2seq_rnn_check_batch(const Seq2seqRnn *model, const int *source, const int *source_length, int B, int S,
                            const int *target, int T, Error *error);

// The training objective of a batch: logits (B,T−1,V) of y_1..y_{T−1} given the previous
// tokens (teacher forcing with probability teacher_forcing in [0,1]; rng is used only below 1),
// and their mean cross-entropy over non-pad targets with label smoothing ε (smoothing, 0 for
// none). Returns the loss, or NULL with tape->error set (a batch seq2seq_rnn_check_batch
// refuses, with its message). logits may be NULL.
Tensor *seq2seq_rnn_loss(Tape *tape, const Seq2seqRnn *model, const int *source, const int *source_length, int B, int S,
                         const int *target, int T, float teacher_forcing, float smoothing, Random *rng,
                         Tensor **logits);

// Encoded sources, for decoding (step values on the tape that made them).
typedef struct Seq2seqRnnEncoding {
    Tensor *annotations;  // (B,S,2H) h_j = [→h_j; ←h_j]
    Tensor *keys;         // (B,S,H) U_a h_j (additive) or W_a h_j (multiplicative)
    Tensor *mask;         // (B,S) 0 at a source token, a large negative number at padding
    Tensor *initial;      // (B,H) s_0
} Seq2seqRnnEncoding;

// Encodes a batch of sources (checked as above) into *out. 0, or -1 with tape->error set.
int seq2seq_rnn_encode(Tape *tape, const Seq2seqRnn *model, const int *source, const int *source_length, int B, int S,
                       Seq2seqRnnEncoding *out);
// Log-probabilities of the next token after prefixes (n, length) (each from bos, ids in the
// vocabulary), row i decoding source rows[i] of encoding (rows NULL: source i) -> log_probs
// (n, V). The decoder runs over the whole prefix. 0, or -1 with tape->error set.
int seq2seq_rnn_next_log_probs(Tape *tape, const Seq2seqRnn *model, const Seq2seqRnnEncoding *encoding, const int *rows,
                               int n, const int *prefixes, int length, float *log_probs);

// The attention while reading a target (bos .. , T ids) for one source (S ids): weights (T−1, S),
// row i the α_{i+1,j} used to predict target[i+1] (Bahdanau et al.'s alignment picture).
// Errors: seq2seq_rnn_check_batch's.
int seq2seq_rnn_alignment(const Seq2seqRnn *model, const int *source, int S, const int *target, int T, float *weights,
                          Error *error);

// The configuration as safetensors metadata: "arch" (gru or lstm) first, then "attention" and
// the sizes; values written into strings. Returns the count (SEQ2SEQ_RNN_METADATA).
enum { SEQ2SEQ_RNN_METADATA = 10 };
int seq2seq_rnn_metadata(const Seq2seqRnn *model, SafetensorsMetadata *metadata, char strings[][32]);
// A model from a file with that metadata and its parameters (other metadata, as a task, is
// ignored). Errors name the file: not a gru or lstm model, a bad or missing configuration value,
// a missing tensor or one of a wrong shape.
int seq2seq_rnn_load(Seq2seqRnn *model, const char *path, Error *error);

#endif
