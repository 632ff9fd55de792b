// The framework's image classifiers (mlp, lenet5, resnet: models/image_classifier.h) against
// their PyTorch references (tools/reference/mlp_reference.py, cnn_reference.py): the same
// weights and batch must give the same logits, loss and gradients, AdamW steps on that batch
// the same losses, and, where the reference recorded them, the same running statistics after
// the steps and the same evaluation-mode logits. What `groundup verify --arch A` runs.
//
// PARAMS.safetensors: the model's state_dict (fc1.weight, conv1.weight, layer1.0.bn1.running_mean, …).
// STATE.safetensors:  inputs (B,1,28,28) F32, targets (B) I32, logits (B,K) and loss (a scalar)
//                     of the training-mode forward, grad.<name> for every trainable tensor; and
//                     optionally step_losses (S): the loss before each of S AdamW steps after
//                     that forward, after.<name> for each buffer (running_mean, running_var,
//                     num_batches_tracked) after them, and eval_logits (B,K): evaluation-mode
//                     logits after them. The last two are compared only when S steps are run.
// Tolerances: logits 1e-4 absolute; loss 1e-5 relative; each gradient 1e-3 relative to its
// tensor's largest reference value; step losses 1e-5 relative; each buffer after the steps
// 1e-5 relative to its largest reference value; evaluation logits after the steps 1e-4
// absolute. (Measured on the committed fixtures, at most: logits 1e-6, gradients 2e-5, step
// losses 2.2e-7, buffers 2.5e-6, evaluation logits 4e-7.)
#ifndef MODELS_CLASSIFIER_VERIFY_H
#define MODELS_CLASSIFIER_VERIFY_H

#include "foundations/error.h"
#include "models/image_classifier.h"

enum { CLASSIFIER_VERIFY_MAX_STEPS = 1000, CLASSIFIER_VERIFY_MAX_TENSORS = 512 };

typedef struct TensorDifference {
    char name[PARAMETER_NAME_MAX];
    double max_abs;        // max |ours − reference|
    double reference_max;  // max |reference|
    double relative;       // max_abs / reference_max
    int ok;
} TensorDifference;

typedef struct ClassifierVerification {
    double logits_max_abs;
    int logits_ok;
    double loss, reference_loss, loss_relative;
    int loss_ok;
    int n_grads;
    TensorDifference grads[CLASSIFIER_VERIFY_MAX_TENSORS];
    int n_steps;
    double step_losses[CLASSIFIER_VERIFY_MAX_STEPS];        // ours, before each AdamW step
    int n_reference_steps;                                  // how many of them the state file has
    double reference_step_losses[CLASSIFIER_VERIFY_MAX_STEPS];
    double steps_max_relative;
    int steps_ok;
    int n_buffers;                                          // buffers compared after the steps
    TensorDifference buffers[CLASSIFIER_VERIFY_MAX_TENSORS];
    int eval_compared;                                      // eval_logits was there and compared
    double eval_logits_max_abs;
    int eval_logits_ok;
    int ok;                                                 // everything within its tolerance
} ClassifierVerification;

extern const double CLASSIFIER_LOGITS_TOLERANCE, CLASSIFIER_LOSS_TOLERANCE, CLASSIFIER_GRADIENT_TOLERANCE,
    CLASSIFIER_STEP_TOLERANCE, CLASSIFIER_BUFFER_TOLERANCE, CLASSIFIER_EVAL_LOGITS_TOLERANCE;

// ours against reference (n values): max |difference|, max |reference|, their ratio, and ok
// when the ratio is within tolerance.
TensorDifference tensor_difference(const char *name, const float *ours, const float *reference, long n, double tolerance);
// A float tensor of the state file (path, for messages) with exactly count values (count < 0:
// any), or NULL with an error naming what is missing or wrong.
const float *verify_state_floats(const Safetensors *file, const char *path, const char *name, long count, Error *error);

// result->step_losses (steps of them, ours) against the state's step_losses, when it has them:
// n_reference_steps, reference_step_losses, steps_max_relative and steps_ok (1 without them).
void verify_compare_steps(const Safetensors *state, int steps, ClassifierVerification *result);

// Loads both files (the model must be of architecture arch; every malformation an Error naming
// file and tensor), compares, then runs steps AdamW steps (lr, betas 0.9/0.999, eps 1e-8,
// weight decay 0.01 on every parameter) with the model in training mode, then compares the
// buffers and evaluation logits when the state has them for that many steps.
int classifier_verify(ClassifierArch arch, const char *model_path, const char *state_path, int steps, float lr,
                      ClassifierVerification *result, Error *error);

#endif
