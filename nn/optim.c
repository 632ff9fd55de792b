// Optimizers over parameter lists: see optim.h.
#include "nn/optim.h"

#include <stdlib.h>
#include <string.h>

int group_no_decay_on_vectors(const char *name, const Tensor *tensor) {
    (void)name;
    return tensor->n_dims < 2 ? 1 : 0;
}

int param_optimizer_init(ParamOptimizer *optimizer, const Parameters *params, const OptimizerGroup *groups,
                         int n_groups, GroupRule rule, Error *error) {
    memset(optimizer, 0, sizeof *optimizer);
    if (n_groups < 1 || n_groups > OPTIM_MAX_GROUPS)
        return error_set(error, "optimizer: %d parameter groups (1 to %d)", n_groups, OPTIM_MAX_GROUPS);
    optimizer->n_groups = n_groups;
    memcpy(optimizer->groups, groups, sizeof *groups * (size_t)n_groups);
    int n = 0;
    for (int i = 0; i < params->count; i++) n += !params->entries[i].is_buffer;
    optimizer->tensors = calloc((size_t)(n ? n : 1), sizeof *optimizer->tensors);
    optimizer->group_of = calloc((size_t)(n ? n : 1), sizeof *optimizer->group_of);
    optimizer->states = calloc((size_t)(n ? n : 1), sizeof *optimizer->states);
    if (!optimizer->tensors || !optimizer->group_of || !optimizer->states) {
        param_optimizer_free(optimizer);
        return error_set(error, "optimizer: out of memory");
    }
    for (int i = 0; i < params->count; i++) {
        const NamedTensor *entry = &params->entries[i];
        if (entry->is_buffer) continue;
        int group = rule ? rule(entry->name, entry->tensor) : 0;
        if (group < 0 || group >= n_groups) {
            param_optimizer_free(optimizer);
            return error_set(error, "optimizer: %s assigned to group %d of %d", entry->name, group, n_groups);
        }
        int k = optimizer->n_tensors++;
        optimizer->tensors[k] = entry->tensor;
        optimizer->group_of[k] = group;
        if (optimizer_init(&optimizer->states[k], &groups[group].config, entry->tensor->size, error)) {
            param_optimizer_free(optimizer);
            return -1;
        }
    }
    return 0;
}

void param_optimizer_free(ParamOptimizer *optimizer) {
    for (int i = 0; optimizer->states && i < optimizer->n_tensors; i++) optimizer_free(&optimizer->states[i]);
    free(optimizer->tensors);
    free(optimizer->group_of);
    free(optimizer->states);
    memset(optimizer, 0, sizeof *optimizer);
}

void param_optimizer_step(ParamOptimizer *optimizer, float lr) {
    for (int i = 0; i < optimizer->n_tensors; i++) {
        Tensor *t = optimizer->tensors[i];
        optimizer_step(&optimizer->states[i], t->data, t->grad, t->size, lr * optimizer->groups[optimizer->group_of[i]].lr_scale);
    }
}
