// A model's Parameters to and from safetensors files (foundations/safetensors.h), under
// PyTorch's state_dict names, so that weights move between groundup and PyTorch both ways
// (torch.save_file(model.state_dict()) / model.load_state_dict(load_file(...))).
//
// A checkpoint is the same file with the training state added: the optimizer's moments as
// "optimizer.<name>.m" / ".v" and its step count, epoch and the caller's numbers in
// "__metadata__" (strings). A plain state_dict file loads as a checkpoint without that state.
#ifndef NN_STATE_DICT_H
#define NN_STATE_DICT_H

#include "foundations/safetensors.h"
#include "nn/module.h"
#include "nn/optim.h"

// Writes every tensor of params as F32, with the metadata pairs (may be 0), through a
// temporary file renamed into place.
int state_dict_save(const Parameters *params, const char *path, const SafetensorsMetadata *metadata, int n_metadata,
                    Error *error);
// Copies the file's tensors into params. Errors ("<path>: ..."): anything safetensors_read
// refuses; a tensor params needs that is missing (named); a tensor of another shape (named,
// both shapes); a tensor params does not know (named), except "optimizer." entries; an integer
// tensor where floats are needed.
int state_dict_load_file(Parameters *params, const Safetensors *file, const char *path, Error *error);
int state_dict_load(Parameters *params, const char *path, Error *error);

// Checkpoint: params, the optimizer's state ({step, m, v} of every tensor) and metadata.
int nn_checkpoint_save(const Parameters *params, const ParamOptimizer *optimizer, const char *path,
                    const SafetensorsMetadata *metadata, int n_metadata, Error *error);
// Restores the optimizer's state from a checkpoint written by checkpoint_save (the optimizer
// made for the same params); fails when the file has no optimizer state.
int nn_checkpoint_load_optimizer(ParamOptimizer *optimizer, const Parameters *params, const Safetensors *file,
                              const char *path, Error *error);

#endif
