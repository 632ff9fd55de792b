// Checking the C GPT-2 against a PyTorch reference's debug state (llm.c's test_gpt2 format,
// which tools/reference/gpt2_reference.py writes): the logits, the loss, every parameter's
// gradient, then a few AdamW steps on the same batch. The figures come back in a
// Gpt2Verification; the caller prints them.
#ifndef GPT_VERIFY_H
#define GPT_VERIFY_H

#include "gpt/gpt2.h"

// Tolerances: logits absolute, loss relative, each gradient tensor relative to its largest
// reference value, each AdamW step's loss relative to the reference's.
#define VERIFY_LOGITS_TOLERANCE 1e-4
#define VERIFY_LOSS_TOLERANCE 1e-5
#define VERIFY_GRADIENT_TOLERANCE 1e-3
#define VERIFY_STEP_LOSS_TOLERANCE 1e-5

// One tensor against its reference: max |ours - reference|, max |reference|, and the first
// relative to the second (the difference itself when the reference is all zeros).
typedef struct TensorComparison {
    double max_difference, largest, relative;
} TensorComparison;

TensorComparison compare_tensors(const float *ours, const float *reference, long n);

enum { VERIFY_MAX_STEPS = 1000 };

typedef struct Gpt2Verification {
    double logits_difference;  // max |difference| over (B,T,V)
    float loss, reference_loss;
    double loss_relative;
    int n_gradients;                 // the model's tensors, in its order
    TensorComparison *gradients;     // (n_gradients), names from model->tensors
    int steps_done;
    float step_losses[VERIFY_MAX_STEPS];  // loss before step k's update
    int failures;                    // checks past their tolerance (steps with a reference included)
} Gpt2Verification;

// Runs model (prepared here for the state's B x T) on the state's batch, compares, then takes
// steps AdamW steps at lr (betas 0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter,
// as llm.c), comparing each step's loss with expected_losses[k] for k < n_expected. Fills out
// (free with gpt2_verification_free); errors: a failed forward or backward, out of memory,
// steps outside 0..VERIFY_MAX_STEPS.
int gpt2_verify(Model *model, const DebugState *state, int steps, float lr, const double *expected_losses,
                int n_expected, Gpt2Verification *out, Error *error);
void gpt2_verification_free(Gpt2Verification *verification);

// Reads a reference's "step N loss X" lines (N = 0, 1, ... in order; reading stops at the
// first line that is not the next step) into losses (up to max). Returns how many, or -1 with
// error when the file cannot be opened.
int verify_read_expected_losses(const char *path, double *losses, int max, Error *error);

#endif
