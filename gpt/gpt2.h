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
