// The MLP against a PyTorch reference (tools/reference/mlp_reference.py): the same weights and
// batch must give the same logits, loss and gradients, and AdamW steps on that batch the same
// losses. What `groundup verify --arch mlp` runs and prints.
//
// PARAMS.safetensors: the model's state_dict (fc1.weight, fc1.bias, …).
// STATE.safetensors:  inputs (B,1,28,28) F32, targets (B) I32, logits (B,K), loss (a scalar),
//                     grad.<name> for every parameter, and optionally step_losses (S) with the
//                     reference's loss before each of S AdamW steps.
// Tolerances: logits 1e-4 absolute; loss 1e-5 relative; each gradient 1e-3 relative to its
// tensor's largest reference value; step losses 1e-5 relative.
#ifndef MODELS_MLP_VERIFY_H
#define MODELS_MLP_VERIFY_H

#include "foundations/error.h"
#include "models/mlp.h"

enum { VERIFY_MAX_STEPS = 1000 };

typedef struct TensorDifference {
    char name[PARAMETER_NAME_MAX];
    double max_abs;        // max |ours − reference|
    double reference_max;  // max |reference|
    double relative;       // max_abs / reference_max
    int ok;
} TensorDifference;

typedef struct MlpVerification {
    double logits_max_abs;
    int logits_ok;
    double loss, reference_loss, loss_relative;
    int loss_ok;
    int n_grads;
    TensorDifference grads[2 * MLP_MAX_LAYERS];
    int n_steps;
    double step_losses[VERIFY_MAX_STEPS];        // ours, before each AdamW step
    int n_reference_steps;                       // how many of them the state file has
    double reference_step_losses[VERIFY_MAX_STEPS];
    double steps_max_relative;
    int steps_ok;
    int ok;                                      // everything within its tolerance
} MlpVerification;

extern const double VERIFY_LOGITS_TOLERANCE, VERIFY_LOSS_TOLERANCE, VERIFY_GRADIENT_TOLERANCE,
    VERIFY_STEP_TOLERANCE;

// Loads both files (every malformation an Error naming file and tensor), compares, then runs
// steps AdamW steps (lr, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter).
int mlp_verify(const char *model_path, const char *state_path, int steps, float lr, MlpVerification *result,
               Error *error);

#endif
