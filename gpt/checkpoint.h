// groundup's checkpoint format: one self-describing file holding a model of any stage, its
// tokenizer, and optionally what training needs to resume. Little-endian throughout.
//
//   header (256 bytes)
//     0    char[8]  magic "groundup"
//     8    u32      format version (1)
//     12   u32      header bytes (256)
//     16   u64      file bytes (the whole file; catches truncation at once)
//     24   u32      architecture: 1 bigram, 2 mlp, 3 gpt2, 4 lora (adapters, gpt/lora.h)
//     28   u32      number of tensors
//     32   u64      tokenizer offset      40  u64  tokenizer bytes
//     48   u64      tensor table offset   (entries of 96 bytes)
//     56   u64      tensor data offset    64  u64  tensor data bytes
//     72   u64      training offset       80  u64  training bytes   (both 0: no training state)
//     88   i32[16]  ModelConfig: vocab_size, context_length, n_layers, n_heads, d_model,
//                   block_size, d_embed, d_hidden, batch_norm, counting, smoothing (f32 bits),
//                   weight_type, embedding_type (0 f32, 1 q8_0, 2 q4_0), lora_rank,
//                   lora_alpha (f32 bits), lora_targets (1 attn, 2 mlp, 3 both; all 0 but for lora)
//     152  u64      number of parameters (floats)   160  u64  trained parameters
//     168  u64      lora: the base's identity, FNV-1a 64 of its tensor bytes (0 for the others)
//     176  u32      zlib's CRC-32 of every tensor's bytes, in table order (padding excluded)
//     180  u32      flags: 1 = the CRC-32 is there (files written before it have 0: not checked)
//     184  u64      data path offset      192 u64  data path bytes  (both 0: none)
//     200  ...      reserved zeros
//     248  u64      FNV-1a 64 of header[0..248), the tokenizer, the tensor table, the data path
//   tokenizer       gpt/text.h's serialised form (text lines)
//   tensor table    per tensor: char[48] name (NUL-padded), u32 type (0 = f32; 1 = q8_0 and
//                   2 = q4_0, quant/quant.h's blocks row after row), u32 n_dims, i32[4] shape,
//                   u64 offset from the data start, u64 bytes, 8 reserved zero bytes
//   tensor data     each tensor 64-byte aligned (so the data can be memory-mapped)
//   training        (optional) i64 step, f64 elapsed seconds, u64 generator state and
//                   increment; the TrainConfig (i32 B, i32 T, i64 steps, f64 seconds,
//                   f32 lr, f32 min lr, i64 warmup, f32 weight decay, f32 clip, f32 beta1,
//                   f32 beta2, f32 eps, i32 eval every, i32 eval batches, u64 seed);
//                   u32 optimizer kind, i64 optimizer step, i64 n; f32 m[n], f32 v[n]
//                   (zeros for a kind without them); the train and validation curves
//                   (i32 count, f32 steps, f32 losses); u32 length + the data path;
//                   then (absent in older files: AdamW, warmup + cosine) the extension:
//                   u32 version 1, u32 schedule, i64 step size, f32 gamma, f32 clip value,
//                   f32 L1, i32 patience, f32 momentum, f32 RMSprop rho, f32 best
//                   validation loss, i64 its step, i32 validations since, i32 stopped
//                   early; the gradient-norm curve (as the loss curves)
//   data path       (optional) the path of the data the model was trained on, for models
//                   saved without a training state (quantized, converted, merged)
//
// Loading checks the magic, version, checksum, every offset and size against the file's
// length, the config (as model_init does), and the tensor table against the model the
// config makes (same names, shapes, types); any failure is one line "<path>: <problem>".
// The tensor data's CRC-32 is checked too, so a flipped bit in the weights is an error naming
// the file, not a silently different model (for inference this reads every weight once).
// Saving writes "<path>.tmp.<pid>" and renames it, so a failed or interrupted save leaves
// the previous checkpoint as it was.
#ifndef GPT_CHECKPOINT_H
#define GPT_CHECKPOINT_H

#include "foundations/error.h"
#include "gpt/model.h"
#include "gpt/text.h"
#include "gpt/train.h"

enum { CHECKPOINT_FORMAT_VERSION = 1, CHECKPOINT_HEADER_BYTES = 256, CHECKPOINT_TENSOR_ENTRY_BYTES = 96 };

// training may be NULL (a model for inference only).
int checkpoint_save(const char *path, const Model *model, const TextTokenizer *tokenizer, const TrainState *training,
                    Error *error);
// A model for inference only (quantized, converted, merged) that keeps the path of the data it
// was trained on (NULL or "": unknown), so that evaluation and benchmarks find it.
int checkpoint_save_for_inference(const char *path, const Model *model, const TextTokenizer *tokenizer,
                                  const char *data_path, Error *error);

// Creates *model (the caller frees with model_free) and *tokenizer from path. When training
// is not NULL and the file has a training section, fills it (*has_training = 1); the
// optimizer state is allocated (free with train_state_free).
int checkpoint_load(const char *path, Model *model, TextTokenizer *tokenizer, TrainState *training, int *has_training,
                    Error *error);

// For generation and evaluation: a groundup checkpoint (GPT-2's weights memory-mapped rather
// than read, so they are not copied and pages are shared between processes), or an llm.c
// GPT-2 checkpoint (with GPT-2's tokenizer from data_directory/gpt2/, NULL: the bundled data). Of the training state only
// the path of the data it trained on is read, into data_path (may be NULL; "" if unknown).
int checkpoint_load_for_inference(const char *path, const char *data_directory, Model *model, TextTokenizer *tokenizer,
                                  char *data_path, size_t data_path_size, Error *error);

#endif
