// The foundations' optimizers (foundations/optimizer.h: SGD, momentum, Nesterov, RMSprop,
// Adam, AdamW) over a model's parameter list, with parameter groups: each trainable tensor
// belongs to one group, each group has its own hyper-parameters (PyTorch's param_groups), and
// each tensor its own state {step, m, v} (PyTorch keeps per-parameter state too).
//
// The usual two groups for AdamW: weight decay on matrices, none on biases and norms
// (optimizer_groups_no_decay_on_vectors). The learning rate of a step comes from the caller
// (a schedule of foundations/optimizer.h), times the group's lr_scale.
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include "foundations/optimizer.h"
#include "nn/module.h"

enum { OPTIM_MAX_GROUPS = 4 };

typedef struct OptimizerGroup {
    OptimizerConfig config;
    float lr_scale;  // 1 unless a group should move slower or faster
} OptimizerGroup;

typedef struct ParamOptimizer {
    int n_groups;
    OptimizerGroup groups[OPTIM_MAX_GROUPS];
    int n_tensors;
    Tensor **tensors;   // (n_tensors) the trainable tensors, in registration order
    int *group_of;      // (n_tensors)
    Optimizer *states;  // (n_tensors)
} ParamOptimizer;

// Which group a tensor joins: a group index for (name, tensor).
typedef int (*GroupRule)(const char *name, const Tensor *tensor);

// One group with config over every trainable tensor of params (rule NULL), or n_groups groups
// with the tensor's group chosen by rule. Fails on bad hyper-parameters or out of memory.
int param_optimizer_init(ParamOptimizer *optimizer, const Parameters *params, const OptimizerGroup *groups,
                         int n_groups, GroupRule rule, Error *error);
void param_optimizer_free(ParamOptimizer *optimizer);
// One update of every tensor with learning rate lr · its group's lr_scale.
void param_optimizer_step(ParamOptimizer *optimizer, float lr);
// The rule "group 1 for tensors of fewer than 2 dimensions (biases, norm weights), else 0".
int group_no_decay_on_vectors(const char *name, const Tensor *tensor);

#endif
