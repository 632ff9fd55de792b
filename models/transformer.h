// The Transformer (Vaswani et al. 2017, "Attention Is All You Need"), composed from the
// framework's operations (nn/ops.h); the tape gives the backward.
//
// Objective: for a source x_1..x_S and a target y_1..y_m, minimise the teacher-forced
// cross-entropy  L = −(1/m) Σ_t log p(y_t | y_<t, x),  p = softmax(generator(decoder(y_<t, encoder(x)))).
//
//   src  = src_embed[x] · √d_model + PE[0:S]            PE(p, 2i) = sin(p / 10000^(2i/d_model)),
//   tgt  = tgt_embed[y_in] · √d_model + PE[0:T]          PE(p, 2i+1) = cos(p / 10000^(2i/d_model))
//   memory = encoder.norm(EncoderLayer^N(src))           (padding keys hidden)
//   h      = decoder.norm(DecoderLayer^N(tgt, memory))   (causal self-attention, cross-attention to memory)
//   logits = generator(h)
// Post-LayerNorm sublayers as in the paper and PyTorch's default, x = LN(x + Sublayer(x));
// pre-LayerNorm (x = x + Sublayer(LN(x)), Xiong et al. 2020) as an option. Multi-head
// attention: MultiHead(Q,K,V) = Concat(head_1..head_h) W^O, head_i = softmax(Q W_i^Q (K W_i^K)ᵀ/√d_k) V W_i^V.
//
// Names are PyTorch's: nn.Transformer under "transformer." (transformer.encoder.layers.0.
// self_attn.in_proj_weight (3C,C), .in_proj_bias (3C), .out_proj.weight/bias, .linear1,
// .linear2, .norm1, .norm2 (.norm3 and .multihead_attn in the decoder), transformer.encoder.norm,
// transformer.decoder.norm), beside it src_embed.weight, tgt_embed.weight, generator.weight/bias,
// and with learned positions src_pos.weight (max_source, C) and tgt_pos.weight (max_target, C).
//
// What differs from the paper and PyTorch:
//   - Dropout (p of the config) is applied where PyTorch's layers apply it (after each
//     sublayer and after the feed-forward activation), but not to the attention probabilities.
//   - gelu is the tanh approximation (nn_gelu); PyTorch's activation="gelu" is the erf form
//     (F.gelu(approximate='tanh') matches ours).
//   - Source and target share no embedding and the generator is not tied to tgt_embed.
//   - Initialisation: xavier_uniform on every matrix (nn.Transformer's _reset_parameters), the
//     attention's biases 0 (MultiheadAttention's), the other biases Linear's default; token
//     embeddings N(0, 1/d_model) (so that × √d_model gives unit scale), learned positions N(0, 1).
#ifndef MODELS_TRANSFORMER_H
#define MODELS_TRANSFORMER_H

#include "foundations/safetensors.h"
#include "nn/module.h"

enum { TRANSFORMER_MAX_LAYERS = 24 };

typedef enum { TRANSFORMER_RELU, TRANSFORMER_GELU } TransformerActivation;

// "relu" | "gelu" and back.
const char *transformer_activation_name(TransformerActivation activation);
int transformer_activation_parse(const char *name, TransformerActivation *activation, Error *error);

// ---------------------------------------------------------------------------------------
// MultiheadAttention (torch.nn.MultiheadAttention, batch_first, bias on, kdim = vdim = C):
// in_proj_weight (3C,C) = [W^Q; W^K; W^V], in_proj_bias (3C), out_proj (C -> C).
typedef struct MultiheadAttention {
    Tensor *in_proj_weight, *in_proj_bias;
    Linear out_proj;
    int embed_dim, num_heads;
} MultiheadAttention;

// Fails when num_heads does not divide embed_dim.
int multihead_attention_init(MultiheadAttention *mha, Parameters *params, const char *name, int embed_dim,
                             int num_heads, Random *rng, Error *error);
// query (B,Tq,C), key_value (B,Tk,C) -> (B,Tq,C). key_value == query is self-attention (one
// projection of 3C). causal: query t sees keys s <= t + Tk − Tq. key_padding (B,Tk) or NULL:
// non-zero hides that key. weights (B,Tq,Tk) or NULL: receives the attention probabilities
// averaged over the heads (PyTorch's need_weights=True, average_attn_weights=True).
Tensor *multihead_attention_apply(Tape *tape, const MultiheadAttention *mha, Tensor *query, Tensor *key_value,
                                  int causal, const unsigned char *key_padding, float *weights);

// ---------------------------------------------------------------------------------------
// One layer's sizes and options (torch.nn.TransformerEncoderLayer's arguments).
typedef struct TransformerLayerConfig {
    int d_model, n_heads, dim_feedforward;
    TransformerActivation activation;
    int norm_first;  // 0: post-LN (the paper, PyTorch's default); 1: pre-LN
    float dropout;   // on each sublayer's output and after the activation, while training
} TransformerLayerConfig;

// TransformerEncoderLayer: self-attention and a position-wise feed-forward, each with its
// residual and LayerNorm:
//   post-LN: x = norm1(x + self_attn(x)); x = norm2(x + linear2(act(linear1(x))))
//   pre-LN:  x = x + self_attn(norm1(x)); x = x + linear2(act(linear1(norm2(x))))
typedef struct TransformerEncoderLayer {
    MultiheadAttention self_attn;
    Linear linear1, linear2;  // C -> dim_feedforward -> C
    LayerNorm norm1, norm2;
    TransformerLayerConfig config;
} TransformerEncoderLayer;

// Registers "<name>.self_attn.in_proj_weight", … "<name>.norm2.bias". Fails on bad sizes.
int transformer_encoder_layer_init(TransformerEncoderLayer *layer, Parameters *params, const char *name,
                                   const TransformerLayerConfig *config, Random *rng, Error *error);
// x (B,T,C) -> (B,T,C); key_padding (B,T) or NULL (PyTorch's src_key_padding_mask). training:
// dropout on (rng its generator; may be NULL when dropout is 0).
Tensor *transformer_encoder_layer_apply(Tape *tape, const TransformerEncoderLayer *layer, Tensor *x,
                                        const unsigned char *key_padding, int training, Random *rng);

// TransformerDecoderLayer: causal self-attention, cross-attention to the encoder's memory,
// feed-forward; norm1, norm2, norm3 as in the encoder layer.
typedef struct TransformerDecoderLayer {
    MultiheadAttention self_attn, multihead_attn;
    Linear linear1, linear2;
    LayerNorm norm1, norm2, norm3;
    TransformerLayerConfig config;
} TransformerDecoderLayer;

int transformer_decoder_layer_init(TransformerDecoderLayer *layer, Parameters *params, const char *name,
                                   const TransformerLayerConfig *config, Random *rng, Error *error);
// x (B,T,C), memory (B,S,C) -> (B,T,C). memory_padding (B,S) or NULL hides source pads from
// the cross-attention; cross_weights (B,T,S) or NULL receives its head-averaged probabilities.
Tensor *transformer_decoder_layer_apply(Tape *tape, const TransformerDecoderLayer *layer, Tensor *x, Tensor *memory,
                                        const unsigned char *memory_padding, float *cross_weights, int training,
                                        Random *rng);

// ---------------------------------------------------------------------------------------
// The encoder–decoder model.
typedef struct TransformerConfig {
    int src_vocab_size, tgt_vocab_size;
    int d_model, n_heads, n_encoder_layers, n_decoder_layers, dim_feedforward;
    int max_source_length, max_target_length;  // positions (of the encoding or of src_pos / tgt_pos)
    TransformerActivation activation;
    int norm_first;         // pre-LN
    int learned_positions;  // src_pos / tgt_pos instead of the sinusoidal encoding
    float dropout;
} TransformerConfig;

typedef struct TransformerNet {
    TransformerConfig config;
    Embedding src_embed, tgt_embed, src_pos, tgt_pos;  // the last two with learned positions only
    TransformerEncoderLayer encoder[TRANSFORMER_MAX_LAYERS];
    TransformerDecoderLayer decoder[TRANSFORMER_MAX_LAYERS];
    LayerNorm encoder_norm, decoder_norm;
    Linear generator;
    float *positions;  // (max(max_source, max_target), d_model) the sinusoidal encoding
    Parameters params;
} TransformerNet;

// Errors name the size that is wrong (vocabularies, lengths, layers 1..TRANSFORMER_MAX_LAYERS
// each, heads dividing d_model, dropout in [0, 1)), or out of memory.
int transformer_create(TransformerNet *net, const TransformerConfig *config, Random *rng, Error *error);
void transformer_free(TransformerNet *net);

// The configuration of a state_dict or checkpoint: vocabularies, d_model, layer counts and the
// feed-forward width from its tensors, learned positions when src_pos.weight is there (their
// lengths then from it). n_heads: the caller's when > 0, else the metadata's "n_heads" (an
// error when neither). Max lengths, activation, norm_first: from the metadata
// ("max_source_length", "max_target_length", "activation", "norm_first") when present, else the
// given lengths, relu and post-LN.
int transformer_config_from_file(const Safetensors *file, const char *path, int n_heads, int max_source_length,
                                 int max_target_length, TransformerConfig *config, Error *error);
// Creates the model of the file's configuration and loads its tensors.
int transformer_load(TransformerNet *net, const char *path, int n_heads, int max_source_length, int max_target_length,
                     Error *error);
// The metadata pairs describing the configuration (arch "transformer", n_heads, lengths,
// activation, norm_first) into metadata (capacity >= 6), values in strings (capacity 6 × 32
// bytes); returns the count.
int transformer_metadata(const TransformerNet *net, SafetensorsMetadata *metadata, char strings[][32]);

// source (B,S) ids, source_padding (B,S) or NULL -> memory (B,S,C). Fails (on the tape) on S
// above max_source_length or an id outside the source vocabulary.
Tensor *transformer_encode(Tape *tape, const TransformerNet *net, const int *source, int B, int S,
                           const unsigned char *source_padding, int training, Random *rng);
// target_in (B,T) ids, memory (B,S,C) -> logits (B,T,tgt_vocab_size). cross_weights (B,T,S) or
// NULL: the last decoder layer's cross-attention probabilities, averaged over the heads.
Tensor *transformer_decode(Tape *tape, const TransformerNet *net, const int *target_in, int B, int T, Tensor *memory,
                           const unsigned char *source_padding, float *cross_weights, int training, Random *rng);
// Both: logits (B,T,V); with target_out (B,T), *loss = mean cross-entropy over the entries
// that are not ignore_index (NN_NO_IGNORE: all), label smoothing ε.
Tensor *transformer_forward(Tape *tape, const TransformerNet *net, const int *source, int S, const int *target_in,
                            int B, int T, const unsigned char *source_padding, const int *target_out, int ignore_index,
                            float smoothing, Tensor **loss, int training, Random *rng);

#endif
