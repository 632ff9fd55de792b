// GPT-2 composed from the framework's operations (nn/ops.h): the same model as gpt/gpt2.c,
// whose backward is written by hand, here differentiated by the tape. It shows that the
// framework expresses a transformer, and it gives the hand-written model a second check
// (tests/test_nn_gpt2.c: same loss and gradients).
//
//   x = wte[tokens] + wpe[0:T]
//   for each block:  x = x + attn.c_proj(attention(split(attn.c_attn(ln_1(x)))))
//                    x = x + mlp.c_proj(gelu(mlp.c_fc(ln_2(x))))
//   logits = ln_f(x) · wteᵀ,   loss = mean cross-entropy      (Radford et al. 2019)
// Parameter names are nanoGPT's (transformer.h.0.attn.c_attn.weight, …, all in nn.Linear's
// (out, in) layout); the output matrix is tied to wte, so wte collects both gradients.
#ifndef MODELS_GPT2_H
#define MODELS_GPT2_H

#include "nn/module.h"

enum { GPT2_NN_MAX_LAYERS = 48 };

typedef struct Gpt2Block {
    LayerNorm ln_1, ln_2;
    Linear c_attn, attn_proj, c_fc, mlp_proj;
} Gpt2Block;

typedef struct Gpt2Net {
    int vocab_size, context_length, n_layers, n_heads, d_model;
    Embedding wte, wpe;
    Gpt2Block blocks[GPT2_NN_MAX_LAYERS];
    LayerNorm ln_f;
    Parameters params;
} Gpt2Net;

// Sizes: V, maxT, L, NH, C (NH divides C); GPT-2's initialisation from rng (that of gpt/gpt2.c).
int gpt2_net_create(Gpt2Net *net, int vocab_size, int context_length, int n_layers, int n_heads, int d_model,
                    Random *rng, Error *error);
void gpt2_net_free(Gpt2Net *net);
// tokens (B,T) -> logits (B,T,V); with targets (B,T), *loss receives the mean cross-entropy
// (loss may be NULL). Returns the logits, or NULL (the tape holds the error).
Tensor *gpt2_net_forward(Tape *tape, const Gpt2Net *net, const int *tokens, const int *targets, int B, int T,
                         Tensor **loss);

#endif
