// What a model's checkpoint says about itself: the "arch" entry of its safetensors metadata
// names the model, and integer entries give its architecture (layers, widths), so a command
// rebuilds the model from the file alone and refuses another model's file with one line.
#ifndef MODELS_MODEL_CHECKPOINT_H
#define MODELS_MODEL_CHECKPOINT_H

#include "foundations/safetensors.h"

// Reads path into file and checks that its metadata's arch is arch. Errors ("<path>: ..."):
// whatever safetensors_read refuses; no arch ("not a <arch> checkpoint"); another arch
// ("a <other> checkpoint, not a <arch> one"). On failure file is left empty (safe to free).
int model_checkpoint_open(Safetensors *file, const char *path, const char *arch, Error *error);
// The metadata integer key in [min, max] into *value. Errors: absent, not an integer, out of range.
int model_checkpoint_int(const Safetensors *file, const char *path, const char *key, int min, int max, int *value,
                         Error *error);
// The metadata number key, finite, in [min, max], into *value.
int model_checkpoint_float(const Safetensors *file, const char *path, const char *key, float min, float max,
                           float *value, Error *error);

// The state_dict's tensor name with ndim dimensions, none of them empty, or NULL with an error
// naming file and tensor ("<path>: conv1.weight is missing (not a lenet5 state_dict)": model is
// "a lenet5", "an alexnet", ...).
const SafetensorsTensor *model_checkpoint_tensor(const Safetensors *file, const char *path, const char *name, int ndim,
                                                 const char *model, Error *error);

#endif
