// BERT (Devlin et al. 2018, "BERT: Pre-training of Deep Bidirectional Transformers for Language
// Understanding"): an encoder-only transformer pretrained as a masked language model.
//
//   e = LayerNorm(word[ids] + position[0:T] + token_type[types])            (B,T,C)
//   for each of L post-LN encoder layers (Vaswani et al. 2017; models/transformer.h's
//   TransformerEncoderLayer, PyTorch's nn.TransformerEncoderLayer with activation gelu):
//       x = norm1(x + out_proj(MultiHeadAttention(x, x, x)))          no causal mask
//       x = norm2(x + linear2(gelu(linear1(x))))
//   h = LayerNorm(gelu(dense(x[m])))  at the M masked positions m only          (M,C)
//   logits = h · wordᵀ + bias                         the decoder is tied to the word embedding
//   L_MLM = −(1/M) Σ_m log softmax(logits_m)[y_m]                    y_m the original token
//
// Simplifications against the paper: no next-sentence prediction (no pooler, no NSP head: the
// two segments of an input are consecutive text, as RoBERTa (Liu et al. 2019) found NSP
// unnecessary); LayerNorm eps 1e-5 (PyTorch's default, BERT has 1e-12); GELU is the tanh
// approximation (nn_gelu, which is also what the original BERT code computes); no dropout on
// the attention probabilities (dropout, when asked for, is on the embeddings and the layers'
// residual branches and feed-forward hidden units).
//
// Parameter names: embeddings.{word,position,token_type}_embeddings.weight,
// embeddings.layer_norm.{weight,bias}; encoder.layers.N.* with nn.TransformerEncoderLayer's
// names (self_attn.in_proj_weight (3C,C), self_attn.in_proj_bias, self_attn.out_proj.weight,
// linear1, linear2, norm1, norm2); mlm_head.dense, mlm_head.layer_norm, mlm_head.bias (V).
// Initialisation as BERT's: weights and embeddings N(0, 0.02), biases 0, norms 1 and 0.
#ifndef MODELS_BERT_H
#define MODELS_BERT_H

#include "foundations/random.h"
#include "models/transformer.h"
#include "nn/module.h"

enum { BERT_MAX_LAYERS = TRANSFORMER_MAX_LAYERS, BERT_TYPE_VOCAB = 2 };

typedef struct BertConfig {
    int vocab_size;      // V: ordinary tokens and the special ones
    int max_length;      // the longest input, [CLS] and [SEP]s included (position table rows)
    int n_layers, n_heads, d_model, d_ff;
    float dropout;       // hidden dropout while training (0: none)
} BertConfig;

typedef struct BertNet {
    BertConfig config;
    Embedding word_embeddings, position_embeddings, token_type_embeddings;
    LayerNorm embeddings_norm;
    TransformerEncoderLayer layers[BERT_MAX_LAYERS];  // post-LN, gelu (models/transformer.h)
    Linear head_dense;
    LayerNorm head_norm;
    Tensor *head_bias;  // (V)
    Parameters params;
} BertNet;

// Checks the sizes (all >= 1, heads divide d_model, at most BERT_MAX_LAYERS layers, dropout in
// [0, 1)); an error naming them otherwise.
int bert_config_check(const BertConfig *config, Error *error);
// Parameters registered and initialised from rng (BERT's initialisation).
int bert_net_create(BertNet *net, const BertConfig *config, Random *rng, Error *error);
void bert_net_free(BertNet *net);

// The masked-LM forward. ids and types (B,T) (types 0 or 1), key_padding (B,T) or NULL;
// positions (M): flat indices b·T + t of the positions to predict -> logits (M,V). With
// targets (M) (original ids), *loss receives the mean cross-entropy (loss may be NULL).
// Returns the logits, or NULL with the error on the tape (T longer than max_length, an id or a
// type outside its table, a position outside B·T).
Tensor *bert_forward(Tape *tape, const BertNet *net, const int *ids, const int *types, const unsigned char *key_padding,
                     int B, int T, const int *positions, int M, const int *targets, Tensor **loss, int training,
                     Random *rng);

#endif
