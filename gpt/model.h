// The interface every model stage implements (bigram, MLP, GPT-2), so that one training
// loop, one sampler, one evaluator and one checkpoint format serve them all.
//
// A model is a language model over token ids in [0, vocab_size): given inputs (B,T) it
// produces logits (B,T,V) where logits[b,t] predicts the token after inputs[b,0..t] (a
// stage may look at fewer previous tokens: the bigram at one, the MLP at block_size).
//
// Memory follows llm.c: all parameters live in one flat buffer `params` (n_params floats)
// with a table of named tensors pointing into it; the gradients `grads` have the same
// layout. This makes saving, loading, zeroing and the optimizer one loop each.
#ifndef GPT_MODEL_H
#define GPT_MODEL_H

#include <stdint.h>

#include "foundations/error.h"
#include "foundations/random.h"
#include "quant/quant.h"

// ARCH_LORA: low-rank adapters on a frozen GPT-2 (gpt/lora.h); its GPT-2 fields describe the base.
typedef enum { ARCH_BIGRAM = 1, ARCH_MLP = 2, ARCH_GPT2 = 3, ARCH_LORA = 4 } Architecture;

// The hyper-parameters of every stage in one struct; each stage reads its own fields.
typedef struct ModelConfig {
    Architecture arch;
    int vocab_size;      // V
    int context_length;  // the longest T a forward accepts (GPT-2: max_seq_len)
    // GPT-2
    int n_layers;        // L
    int n_heads;         // NH
    int d_model;         // C
    // MLP (Bengio et al. 2003)
    int block_size;      // how many previous tokens the MLP sees
    int d_embed;         // embedding width per token
    int d_hidden;        // hidden tanh layer width
    int batch_norm;      // 1: batch normalisation before the tanh
    // bigram
    int counting;        // 1: the counting bigram (no gradients), 0: the neural bigram
    float smoothing;     // add-k smoothing of the counting bigram
    // Storage of GPT-2's weights (TENSOR_F32, or a quant/ type for inference and LoRA):
    int weight_type;     // the matrices of the linear layers (qkvw, attprojw, fcw, fcprojw)
    int embedding_type;  // the token embedding, which is also the output matrix
    // LoRA adapters (gpt/lora.h), with the GPT-2 fields above (and the weight types) the base's:
    int lora_rank;       // r
    float lora_alpha;    // the update is (alpha / r) B A
    int lora_targets;    // LORA_TARGET_ATTN | LORA_TARGET_MLP
    int lora_reserved;   // 0: keeps the struct free of hidden padding (configs are compared with memcmp)
    uint64_t lora_base_checksum;  // FNV-1a 64 of the base's tensor bytes: its identity
} ModelConfig;

// How a tensor is stored: fp32 in params, or quantized (quant/quant.h's QuantType values).
enum { TENSOR_F32 = 0 };

enum { TENSOR_MAX_DIMS = 4, TENSOR_NAME_LENGTH = 48 };

// One named tensor inside the flat parameter buffer.
typedef struct TensorInfo {
    char name[TENSOR_NAME_LENGTH];
    int n_dims;
    int shape[TENSOR_MAX_DIMS];
    long offset;  // in floats, from the start of params (fp32 tensors)
    long size;    // product of the shape
    int type;     // TENSOR_F32, QUANT_Q8_0 or QUANT_Q4_0
} TensorInfo;

typedef struct Model Model;

// Dropout while training (Srivastava et al. 2014), inverted: a kept value is scaled by
// 1/(1-p), so evaluation needs no change. GPT-2 has three (its code's embd_pdrop, attn_pdrop,
// resid_pdrop); the other stages have none and ignore this. Each mask is a function of
// (seed; step, the sample's index in the global batch, layer and site, position) through a
// counter-based generator (foundations/random.h's random_philox), not of any state, so a batch
// split across processes or accumulation steps, or a run resumed from a checkpoint, draws the
// same masks. All zero (the default): no dropout, and nothing spent on it.
typedef struct ModelDropout {
    float embedding;    // p on wte[token] + wpe[position]
    float attention;    // p on the attention probabilities
    float residual;     // p on each attention and MLP projection, before its residual add
    uint64_t seed;
    long step;          // the optimizer step (0-based)
    long first_sample;  // the global batch index of the forward's sample 0
} ModelDropout;

// What a stage provides. Every function that can fail on user data returns 0 / -1 + Error.
typedef struct ModelOps {
    // Allocates (or reallocates) the stage's activations for up to B x T; when
    // model->training is set, also what the backward needs. Called by model_prepare.
    int (*prepare)(Model *model, int B, int T, Error *error);
    // Runs the model on inputs (B,T); fills model->logits (B,T,V). With targets (B,T) also
    // computes the mean cross-entropy into model->loss (else model->loss = -1). Keeps the
    // activations the backward needs. B*T must fit what model_prepare allocated.
    int (*forward)(Model *model, const int *inputs, const int *targets, int B, int T, Error *error);
    // After a forward with targets: grads += d loss / d params (the caller zeroes grads).
    // Called through model_backward, which checks that there was such a forward.
    int (*backward)(Model *model, Error *error);
    // Logits (V) for the token after tokens[0..n) (n >= 1). Stages may keep a cache between
    // calls (GPT-2's key/value cache): when tokens extends the previous call's tokens only
    // the new ones are processed. n must be <= context_length (the sampler slides).
    int (*next_logits)(Model *model, const int *tokens, int n, float *logits, Error *error);
    // Counting models are fitted, not trained by gradient descent (NULL for the others):
    // accumulate the statistics of inputs/targets (B,T).
    void (*fit)(Model *model, const int *inputs, const int *targets, int B, int T);
    // Frees the stage's own state (activations, caches), not params/grads/tensors.
    void (*free_state)(Model *model);
} ModelOps;

struct Model {
    ModelConfig config;
    const ModelOps *ops;
    float *params;  // (n_params)
    float *grads;   // (n_params), NULL until model_prepare with training = 1
    long n_params;
    // params[0, n_trainable) are trained; the rest (the MLP's batch-norm running statistics)
    // are updated by forward only and left alone by the optimizer. A stage may leave it 0:
    // model_init then sets it to n_params.
    long n_trainable;
    TensorInfo *tensors;
    int n_tensors;
    // Quantized tensors (type != TENSOR_F32) live outside params: quantized[i] is tensor i's
    // matrix (rows = the product of all but the last dimension), its bytes in quant_data.
    QuantMatrix *quantized;  // (n_tensors) or NULL when every tensor is fp32
    unsigned char *quant_data;
    size_t quant_bytes;
    // A model loaded for inference may have its weights memory-mapped from the checkpoint:
    // then params and quant_data point into this mapping (and tensor offsets are file
    // offsets), and model_free unmaps it instead of freeing them.
    void *mapping;
    size_t mapping_bytes;
    // Set by forward:
    float *logits;  // (B,T,V) of the last forward
    float loss;     // mean loss of the last forward with targets, -1 otherwise (no backward then)
    int batch_size, seq_len;  // B, T the activations are allocated for
    int training;   // activations for backward (and dropout / batch-norm statistics) wanted
    ModelDropout dropout;  // applied by forwards with training set (GPT-2 only)
    // What the backward differentiates (GPT-2 and LoRA; NULL for the others): NULL, the mean
    // cross-entropy (each of the B·T positions weighted 1/(B·T)); else weights (B,T) of the last
    // forward's positions, so the gradient is that of Σ w[b,t]·CE[b,t]. A weight may be 0 (the
    // position does not count) or negative (its target's probability is pushed down): any loss
    // that is a function of the targets' log-probabilities, L(log p), differentiates this way with
    // w = −∂L/∂log p (gpt/dpo.h). Read by the backward, so it may be set after the forward.
    const float *loss_weights;
    // Told by the backward (GPT-2's) as soon as the gradients of block `layer`'s parameters are
    // final (nothing later in this backward adds to them), top block first, so that the caller
    // can start sending them while the blocks below are computed (gpt/train.c's bucketed
    // all-reduce). NULL: not told. gpt2_layer_gradients says where they are.
    void (*layer_gradients_final)(void *context, int layer);
    void *layer_gradients_context;
    void *state;    // the stage's activations and caches
};

// Creates a model for config with parameters initialised from rng (rng may be NULL when
// the parameters will be loaded). Checks the config (sizes positive, heads divide width...).
int model_init(Model *model, const ModelConfig *config, Random *rng, Error *error);
// Allocates activations for up to B x T (and grads when training). Safe to call again with
// other sizes. Forward fails cleanly if called with more.
int model_prepare(Model *model, int B, int T, int training, Error *error);
void model_free(Model *model);
// grads += d loss / d params for the last forward, which must have had targets and run with
// model->training set (errors otherwise, and when the stage's backward fails: out of memory).
int model_backward(Model *model, Error *error);
// Appends a tensor to model->tensors (which the stage allocated with room for it) and, when
// type is TENSOR_F32, reserves its values in params: each starts on a 64-byte boundary, as
// in the checkpoint file, so any stage's weights can be memory-mapped straight from a file.
// model->n_params grows by the size rounded up to 16 floats. Quantized tensors take no room
// in params (their blocks are in quant_data). shape has n_dims (1..4) positive sizes.
void model_add_tensor(Model *model, const char *name, int type, int n_dims, const int *shape);
// The number of parameters: every tensor's values, fp32 or quantized (n_params also counts
// the alignment gaps between fp32 tensors).
long model_count_parameters(const Model *model);
// The tensor called name, or NULL.
const TensorInfo *model_find_tensor(const Model *model, const char *name);
// "bigram" / "mlp" / "gpt2" and back.
const char *architecture_name(Architecture arch);
int architecture_parse(const char *name, Architecture *arch, Error *error);

// Stage constructors used by model_init: each fills ops, tensors, n_params and
// allocates and initialises params.
int bigram_init(Model *model, Random *rng, Error *error);
int mlp_init(Model *model, Random *rng, Error *error);
int gpt2_init(Model *model, Random *rng, Error *error);
int lora_init(Model *model, Random *rng, Error *error);

#endif
