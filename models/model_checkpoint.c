// Checkpoints that name their model: see model_checkpoint.h.
#include "models/model_checkpoint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int model_checkpoint_open(Safetensors *file, const char *path, const char *arch, Error *error) {
    if (safetensors_read(file, path, error)) return -1;
    const char *found = safetensors_metadata(file, "arch");
    int status = 0;
    if (!found) status = error_set(error, "%s: no \"arch\" in its metadata: not a %s checkpoint", path, arch);
    else if (strcmp(found, arch) != 0) status = error_set(error, "%s: a %.64s checkpoint, not a %s one", path, found, arch);
    if (status) safetensors_free(file);
    return status;
}

int model_checkpoint_int(const Safetensors *file, const char *path, const char *key, int min, int max, int *value,
                         Error *error) {
    const char *text = safetensors_metadata(file, key);
    if (!text) return error_set(error, "%s: no \"%s\" in its metadata", path, key);
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < min || v > max)
        return error_set(error, "%s: metadata %s \"%.32s\" (an integer in [%d, %d] needed)", path, key, text, min, max);
    *value = (int)v;
    return 0;
}

int model_checkpoint_float(const Safetensors *file, const char *path, const char *key, float min, float max,
                           float *value, Error *error) {
    const char *text = safetensors_metadata(file, key);
    if (!text) return error_set(error, "%s: no \"%s\" in its metadata", path, key);
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !isfinite(v) || v < min || v > max)
        return error_set(error, "%s: metadata %s \"%.32s\" (a number in [%g, %g] needed)", path, key, text, (double)min,
                         (double)max);
    *value = (float)v;
    return 0;
}

const SafetensorsTensor *model_checkpoint_tensor(const Safetensors *file, const char *path, const char *name, int ndim,
                                                 const char *model, Error *error) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    if (!t) return error_set(error, "%s: %s is missing (not %s state_dict)", path, name, model), NULL;
    if (t->ndim != ndim) return error_set(error, "%s: %s has %d dimensions, expected %d", path, name, t->ndim, ndim), NULL;
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] < 1) return error_set(error, "%s: %s has an empty dimension", path, name), NULL;
    return t;
}
