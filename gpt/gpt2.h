// GPT-2: the capstone stage (gpt/gpt2.c) and llm.c's file formats (gpt/llmc.c).
//
// Parameters, in llm.c's order and shapes (L layers, C width, V vocabulary, maxT context):
//   wte (V,C) wpe (maxT,C) ln1w (L,C) ln1b (L,C) qkvw (L,3C,C) qkvb (L,3C) attprojw (L,C,C)
//   attprojb (L,C) ln2w (L,C) ln2b (L,C) fcw (L,4C,C) fcb (L,4C) fcprojw (L,C,4C) fcprojb (L,C)
//   lnfw (C) lnfb (C)
// In memory wte has exactly V rows; llm.c's files pad it to a multiple of 128 rows with zeros.
#ifndef GPT_GPT2_H
#define GPT_GPT2_H

#include "gpt/model.h"

// Checks a GPT-2 config: positive sizes, heads divide the width.
int gpt2_check_config(const ModelConfig *config, Error *error);

// Low-rank adapters (LoRA, gpt/lora.h makes them) on the four kinds of linear matrices. The
// matrix m of layer l, W (N,K), acts as W + scale·B·A, with A (r,K) = a[m] + l·r·K and
// B (N,r) = b[m] + l·N·r; a[m] == NULL: no adapter on m. The base applies them in its forward
// and in decoding (out += scale·(inp·Aᵀ)·Bᵀ) without ever merging them into W; its backward
// accumulates d_a and d_b (same layouts; skipped when NULL).
//
// A base with no grads (model_prepare never gave it any) or with quantized weights is frozen:
// its backward computes only what the adapters need, the gradients of the activations (through
// fp32 or quantized weights: quant_matmul_backward_input), and none of its own weights', so a
// quantized base is never expanded to fp32 (QLoRA) and its weights are only ever read.
typedef enum { GPT2_QKVW, GPT2_ATTPROJW, GPT2_FCW, GPT2_FCPROJW, GPT2_N_MATRICES } Gpt2Matrix;

typedef struct Gpt2Adapters {
    int rank;     // r
    float scale;  // alpha / r
    const float *a[GPT2_N_MATRICES], *b[GPT2_N_MATRICES];
    float *d_a[GPT2_N_MATRICES], *d_b[GPT2_N_MATRICES];
} Gpt2Adapters;

// "qkvw", "attprojw", "fcw", "fcprojw", and the shape (N outputs, K inputs) of one layer's matrix.
const char *gpt2_matrix_name(Gpt2Matrix matrix);
void gpt2_matrix_shape(const ModelConfig *config, Gpt2Matrix matrix, int *N, int *K);
// The base's tensor index of a matrix (into model->tensors).
int gpt2_matrix_tensor(Gpt2Matrix matrix);

// Where block `layer`'s parameters (and their gradients) are: GPT2_LAYER_TENSORS ranges of
// counts[i] floats from offsets[i] of model->params (ln1w ... fcprojb, one row of each);
// returns their number. Consecutive blocks' ranges are adjacent. fp32 tensors only.
enum { GPT2_LAYER_TENSORS = 12 };
int gpt2_layer_gradients(const Model *model, int layer, long offsets[GPT2_LAYER_TENSORS],
                         long counts[GPT2_LAYER_TENSORS]);

// Makes a GPT-2 model's linear layers add adapters (NULL: none again). The pointer is kept:
// the caller may change what it points to between calls (new buffers, trained values); the
// rank must stay the same. Drops the key/value cache.
int gpt2_set_adapters(Model *model, const Gpt2Adapters *adapters, Error *error);

// Dropout while training (model.h's ModelDropout; gpt2.c applies it): the sites, and the keep
// flags (1 kept, 0 dropped) the last forward drew at one, for a layer (0 for the embedding):
// EMBEDDING (B,T,C), ATTENTION (B,NH,T,T) the probabilities, ATTPROJ and FCPROJ (B,T,C) the
// two projections before their residual adds; B x T the forward's. NULL when that forward had
// no dropout there (p 0, or not training). For tests and the PyTorch reference.
typedef enum { GPT2_DROPOUT_EMBEDDING, GPT2_DROPOUT_ATTENTION, GPT2_DROPOUT_ATTPROJ, GPT2_DROPOUT_FCPROJ } Gpt2DropoutSite;
const unsigned char *gpt2_dropout_mask(const Model *model, Gpt2DropoutSite site, int layer);

// The first int32 of llm.c's GPT-2 checkpoint, which tells it from groundup's ("groundup").
enum { LLMC_CHECKPOINT_MAGIC = 20240326 };

// llm.c's checkpoint: 256 int32 header (magic 20240326, version 3, maxT, V, L, NH, C, Vp),
// then the fp32 parameters in the order above with wte padded to (Vp, C).
// Reading creates the model (the caller frees it with model_free); it checks the magic,
// version, sizes, and that the file length matches the header.
int llmc_read_checkpoint(Model *model, const char *path, Error *error);
// Writes through a temporary file renamed into place.
int llmc_write_checkpoint(const Model *model, const char *path, Error *error);

// llm.c's test_gpt2 debug state: 256 int32 header (magic 20240327, version 2, B, T), then
// inputs (B*T) int32, targets (B*T) int32, logits (B*T*V) fp32 (unpadded V), the loss (fp32),
// then the gradient of every parameter in checkpoint order (wte padded to Vp rows).
typedef struct DebugState {
    int B, T, V;
    int *inputs, *targets;  // (B*T)
    float *logits;          // (B*T*V)
    float loss;
    float *grads;           // (n_params) in the model's own layout (wte unpadded)
} DebugState;

// Reads the state for model (whose config gives V, Vp and the gradient sizes).
int llmc_read_debug_state(DebugState *state, const Model *model, const char *path, Error *error);
void debug_state_free(DebugState *state);

#endif
