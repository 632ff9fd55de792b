// LoRA (Hu et al. 2021): fine-tuning a trained GPT-2 by learning low-rank updates of its
// linear matrices while the base model stays frozen.
//
// Every targeted matrix W (N,K) of every layer computes, with s = alpha / r,
//     out = inp·Wᵀ + bias + s·(inp·Aᵀ)·Bᵀ,     A (r,K), B (N,r),
// which is W + s·B·A without ever forming it. A starts Kaiming-uniform, U(-1/√K, 1/√K) (the
// initialisation of PyTorch's nn.Linear, which the LoRA paper's code keeps), and B starts at
// zero, so the adapted model starts exactly equal to the base (adding s·h·0 changes no bit).
// Targets: attn = qkvw (3C,C) and attprojw (C,C); mlp = fcw (4C,C) and fcprojw (C,4C); the
// rank is 1 <= r <= C (min(N,K) of each of them).
//
// A LoRA model is a Model of its own (ARCH_LORA): its params and grads are only the adapters,
//     <matrix>.lora_a (L,r,K) and <matrix>.lora_b (L,N,r)
// for each targeted matrix in the order qkvw, attprojw, fcw, fcprojw. Its ops run the frozen
// base GPT-2 it owns (fp32, q8_0 or q4_0 weights, possibly memory-mapped, only ever read) with
// the adapters hooked into the base's linear layers (gpt/gpt2.h). So the shared training loop,
// sampler, evaluator and checkpoint format serve it unchanged: the optimizer sees only the
// adapters, and the base gets no gradient buffer; a quantized base is used through the
// quantized kernels and never expanded to fp32 (QLoRA).
//
// The adapter file is a groundup checkpoint (gpt/checkpoint.h) of architecture lora: the
// adapters, the tokenizer (the base's), rank, alpha and targets in the config, and the base's
// identity: its GPT-2 config (weight types included) and the FNV-1a 64 checksum of its tensor
// bytes. Attaching it to any other base is refused.
//
// Not here: dropout on the adapters, adapters on the embeddings, biases or LayerNorms.
#ifndef GPT_LORA_H
#define GPT_LORA_H

#include <stddef.h>
#include <stdint.h>

#include "foundations/error.h"
#include "foundations/random.h"
#include "gpt/model.h"

enum { LORA_TARGET_ATTN = 1, LORA_TARGET_MLP = 2, LORA_TARGET_ALL = 3 };

// "attn", "mlp", "attn,mlp" or "mlp,attn" -> a mask of LORA_TARGET_*; anything else is an error.
int lora_parse_targets(const char *text, int *targets, Error *error);
// The mask back: "attn", "mlp", "attn,mlp".
const char *lora_targets_name(int targets);

// The identity of a GPT-2: FNV-1a 64 over its tensors' bytes (fp32 values or quantized blocks)
// in table order.
uint64_t lora_base_checksum(const Model *base);

// *lora = fresh adapters (A from rng, B = 0) of rank, alpha and targets on base, which the
// LoRA model takes over (*base is emptied; model_free(lora) frees both). On failure *base is
// left as it was.
int lora_init_fresh(Model *lora, Model *base, int rank, float alpha, int targets, Random *rng, Error *error);

// Attaches the adapters of lora (e.g. read by checkpoint_load) to base, taking it over, after
// checking that base is the model they were trained on. On failure *base is left as it was.
int lora_attach(Model *lora, Model *base, Error *error);

// Reads the adapter file path and attaches it to *model: on entry the base, on success the
// adapted model (owning the base), on failure still the base. data_path (may be NULL) gets
// the data the adapters were trained on ("" if the file does not say).
int lora_load(const char *path, Model *model, char *data_path, size_t data_path_size, Error *error);

// The base a LoRA model runs on, NULL when none is attached.
const Model *lora_base(const Model *lora);

// *merged = a plain fp32 GPT-2 whose targeted matrices are W + s·B·A (a quantized base is
// dequantized first), with the base's other tensors.
int lora_merge(Model *merged, const Model *lora, Error *error);

#endif
