// The Transformer (models/transformer.h) against PyTorch's nn.Transformer
// (tools/reference/transformer_reference.py): the same weights and batch must give the same
// logits, loss and gradients, and AdamW steps on that batch the same losses. What
// `groundup verify --arch transformer --heads H` runs; the result and tolerances are the image
// classifiers' (models/classifier_verify.h: logits 1e-4 absolute, loss 1e-5 relative, each
// gradient 1e-3 relative to its tensor's largest reference value, step losses 1e-5 relative).
//
// PARAMS.safetensors: the state_dict (src_embed.weight, transformer.encoder.layers.0…,
//                     generator.weight); sizes, layer counts and feed-forward width are read
//                     from the tensors, norm_first and activation from its metadata if there.
// STATE.safetensors:  src (B,S) I32, tgt_in (B,T) I32, tgt_out (B,T) I32, logits (B,T,V),
//                     loss (a scalar), grad.<name> for every parameter, optionally step_losses.
#ifndef MODELS_TRANSFORMER_VERIFY_H
#define MODELS_TRANSFORMER_VERIFY_H

#include "models/classifier_verify.h"

// n_heads: the model's heads (the files do not say). steps AdamW steps (lr, betas 0.9/0.999,
// eps 1e-8, weight decay 0.01 on every parameter). Errors name the file and tensor that is
// missing or of the wrong shape, or a batch the model refuses.
int transformer_verify(const char *model_path, const char *state_path, int n_heads, int steps, float lr,
                       ClassifierVerification *result, Error *error);

#endif
