// state_dict and checkpoints as safetensors: see state_dict.h.
#include "nn/state_dict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char OPTIMIZER_PREFIX[] = "optimizer.";

static SafetensorsTensor entry_of(const char *name, const Tensor *t, const float *data) {
    SafetensorsTensor s;
    memset(&s, 0, sizeof s);
    s.name = name;
    s.dtype = SAFETENSORS_F32;
    s.ndim = t->n_dims;
    for (int d = 0; d < t->n_dims; d++) s.shape[d] = t->shape[d];
    s.floats = data;
    return s;
}

int state_dict_save(const Parameters *params, const char *path, const SafetensorsMetadata *metadata, int n_metadata,
                    Error *error) {
    return nn_checkpoint_save(params, NULL, path, metadata, n_metadata, error);
}

int nn_checkpoint_save(const Parameters *params, const ParamOptimizer *optimizer, const char *path,
                    const SafetensorsMetadata *metadata, int n_metadata, Error *error) {
    int n_optimizer = optimizer ? 2 * optimizer->n_tensors : 0;
    SafetensorsTensor *entries = calloc((size_t)(params->count + n_optimizer + 1), sizeof *entries);
    char (*names)[PARAMETER_NAME_MAX + 16] = calloc((size_t)(n_optimizer + 1), sizeof *names);
    SafetensorsMetadata *all = calloc((size_t)(n_metadata + 1), sizeof *all);
    char step_text[32];
    int status = -1, n = 0, n_meta = 0;
    if (!entries || !names || !all) {
        error_set(error, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < params->count; i++)
        entries[n++] = entry_of(params->entries[i].name, params->entries[i].tensor, params->entries[i].tensor->data);
    for (int i = 0; optimizer && i < optimizer->n_tensors; i++) {
        const Optimizer *state = &optimizer->states[i];
        const char *name = NULL;
        for (int j = 0; j < params->count; j++)
            if (params->entries[j].tensor == optimizer->tensors[i]) name = params->entries[j].name;
        for (int moment = 0; moment < 2; moment++) {
            const float *values = moment ? state->v : state->m;
            if (!values || !name) continue;
            char *full = names[2 * i + moment];
            snprintf(full, PARAMETER_NAME_MAX + 16, "%s%s.%s", OPTIMIZER_PREFIX, name, moment ? "v" : "m");
            entries[n++] = entry_of(full, optimizer->tensors[i], values);
        }
    }
    for (int i = 0; i < n_metadata; i++) all[n_meta++] = metadata[i];
    if (optimizer && optimizer->n_tensors > 0) {
        snprintf(step_text, sizeof step_text, "%ld", optimizer->states[0].step);
        all[n_meta++] = (SafetensorsMetadata){"optimizer_step", step_text};
    }
    status = safetensors_write(path, entries, n, all, n_meta, error);
done:
    free(entries);
    free(names);
    free(all);
    return status;
}

static const char *shape_string(int n_dims, const int *shape, char *out, size_t size) {
    size_t used = (size_t)snprintf(out, size, "(");
    for (int d = 0; d < n_dims && used < size; d++) used += (size_t)snprintf(out + used, size - used, d ? ",%d" : "%d", shape[d]);
    if (used < size) snprintf(out + used, size - used, ")");
    return out;
}

int state_dict_load_file(Parameters *params, const Safetensors *file, const char *path, Error *error) {
    for (int i = 0; i < params->count; i++) {
        const NamedTensor *entry = &params->entries[i];
        const SafetensorsTensor *s = safetensors_find(file, entry->name);
        if (!s) return error_set(error, "%s: %s is missing", path, entry->name);
        int same = s->ndim == entry->tensor->n_dims;
        for (int d = 0; same && d < s->ndim; d++) same = s->shape[d] == entry->tensor->shape[d];
        char have[64], want[64];
        if (!same)
            return error_set(error, "%s: %s has shape %s, the model needs %s", path, entry->name,
                             shape_string(s->ndim, s->shape, have, sizeof have),
                             shape_string(entry->tensor->n_dims, entry->tensor->shape, want, sizeof want));
        if (s->floats) {
            memcpy(entry->tensor->data, s->floats, sizeof(float) * (size_t)entry->tensor->size);
        } else if (entry->is_buffer) {  // counts such as num_batches_tracked (I64 in PyTorch's files)
            for (long j = 0; j < entry->tensor->size; j++) entry->tensor->data[j] = (float)s->ints[j];
        } else {
            return error_set(error, "%s: %s is %s, not a float type", path, entry->name, safetensors_dtype_name(s->dtype));
        }
    }
    for (int i = 0; i < file->n_tensors; i++) {
        const char *name = file->tensors[i].name;
        if (strncmp(name, OPTIMIZER_PREFIX, sizeof OPTIMIZER_PREFIX - 1) && !parameters_find(params, name))
            return error_set(error, "%s: %s is not a tensor of this model", path, name);
    }
    return 0;
}

int state_dict_load(Parameters *params, const char *path, Error *error) {
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    int status = state_dict_load_file(params, &file, path, error);
    safetensors_free(&file);
    return status;
}

int nn_checkpoint_load_optimizer(ParamOptimizer *optimizer, const Parameters *params, const Safetensors *file,
                              const char *path, Error *error) {
    const char *step_text = safetensors_metadata(file, "optimizer_step");
    if (!step_text) return error_set(error, "%s: no optimizer state (a weights-only file)", path);
    char *end;
    long step = strtol(step_text, &end, 10);
    if (*end || step < 0) return error_set(error, "%s: optimizer_step \"%s\" is not a count", path, step_text);
    for (int i = 0; i < optimizer->n_tensors; i++) {
        Optimizer *state = &optimizer->states[i];
        const char *name = NULL;
        for (int j = 0; j < params->count; j++)
            if (params->entries[j].tensor == optimizer->tensors[i]) name = params->entries[j].name;
        for (int moment = 0; moment < 2 && name; moment++) {
            float *values = moment ? state->v : state->m;
            if (!values) continue;
            char full[PARAMETER_NAME_MAX + 16];
            snprintf(full, sizeof full, "%s%s.%s", OPTIMIZER_PREFIX, name, moment ? "v" : "m");
            const SafetensorsTensor *s = safetensors_find(file, full);
            if (!s || !s->floats || s->count != state->n) return error_set(error, "%s: %s is missing or of the wrong size", path, full);
            memcpy(values, s->floats, sizeof(float) * (size_t)state->n);
        }
        state->step = step;
    }
    return 0;
}
