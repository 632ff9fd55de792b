// Direct Preference Optimization (Rafailov et al. 2023): fine-tuning a language model on
// pairs (x, y_w, y_l) — a prompt, a chosen and a rejected completion — without a reward model
// and without sampling during training.
//
// With π the model being trained, π_ref a frozen copy of where it started and β > 0,
//     h(x, y_w, y_l) = [log π(y_w|x) − log π_ref(y_w|x)] − [log π(y_l|x) − log π_ref(y_l|x)]
//     L = −log σ(β h)                                   (mean over the pairs of a batch)
// where log π(y|x) = Σ_t log π(y_t | x, y_<t) sums over the completion's tokens only (the
// prompt's are context, not scored). β·log π(y|x)/π_ref(y|x) is the implicit reward: L is the
// Bradley–Terry likelihood that this reward ranks y_w above y_l, and the policy that maximises
// the KL-regularised RLHF objective E[r] − β KL(π‖π_ref) is the one whose reward it is.
//
// The gradient goes through GPT-2's own backward. With g = ∂L/∂h = −β σ(−β h) / P (P pairs in
// the batch), ∂L/∂log π(y_w|x) = g and ∂L/∂log π(y_l|x) = −g, and for each scored token
// ∂log π(y_t)/∂logits_t = onehot(y_t) − softmax(logits_t). So ∂L/∂logits_t = w_t (p_t − onehot),
// the cross-entropy's gradient with weight w_t = −g on the chosen completion's tokens, +g on the
// rejected one's and 0 on prompts and padding: model->loss_weights (gpt/model.h).
//
// π_ref is never kept as a second model: at step 0 the policy is the reference (full
// fine-tuning starts from the base's weights, LoRA from B = 0, which leaves the base's
// logits bit for bit), so the reference log-probabilities of every pair are computed once,
// before the first update, with the same forward; h then starts at 0 (to float rounding: the
// pairs are batched differently) and the first loss at log 2.
//
// Pairs file: JSON lines, one object per line, {"prompt": "...", "chosen": "...",
// "rejected": "..."} (other keys ignored; blank lines skipped). Each text is encoded on its
// own with the model's tokenizer, so completions start exactly where the prompt ends; an
// empty prompt means the start of a text (the tokenizer's start token, as `generate`
// begins). A completion longer than the context leaves after its prompt is cut to fit (and
// counted); an empty completion, or a prompt that leaves no room for one token, is an error
// naming the line.
//
// Not here: the IPO / conservative (label-smoothed) variants, a reference model other than
// the starting point, a held-out split of the pairs (measure on samples: gpt/preference.h).
#ifndef GPT_DPO_H
#define GPT_DPO_H

#include <stdint.h>
#include <stdio.h>

#include "foundations/error.h"
#include "gpt/model.h"
#include "gpt/text.h"

// One pair as token ids.
typedef struct PreferencePair {
    int *prompt, *chosen, *rejected;  // malloc'ed
    int n_prompt, n_chosen, n_rejected;
} PreferencePair;

typedef struct PreferenceSet {
    PreferencePair *pairs;
    int n;
    int n_truncated;  // completions cut to fit the context
} PreferenceSet;

// Reads a pairs file (format above) encoding with tokenizer for a model of context_length.
// Errors: "<path>: cannot open ...", "<path>: line N: not JSON" / "more after the JSON object" /
// "not a JSON object" / "no \"chosen\" string" / "empty completion \"chosen\"" / "the prompt's N
// tokens leave no room in the model's context of T" / the tokenizer's, "<path>: no pairs ...".
int preference_set_read(PreferenceSet *set, const char *path, const TextTokenizer *tokenizer, int context_length,
                        Error *error);
void preference_set_free(PreferenceSet *set);

// Writes n pairs of texts as JSON lines (through a temporary file renamed into place).
int preference_texts_write(const char *path, const char *const *prompts, const char *const *chosen,
                           const char *const *rejected, int n, Error *error);

// A text to score: completion given prompt (n_prompt >= 1, n_completion >= 1).
typedef struct ScoredText {
    const int *prompt, *completion;
    int n_prompt, n_completion;
} ScoredText;

// A pair's two texts: (prompt, chosen) and (prompt, rejected).
void pair_scored_texts(const PreferencePair *pair, ScoredText texts[2]);

// The rows one forward needs for n texts: inputs, targets and flags (n, T) with T the longest
// text's n_prompt + n_completion − 1 (row i: prompt ++ completion shifted by one, padded with
// the last token; flags 1 where the target is a completion token). T must fit the context.
typedef struct ScoringBatch {
    int n, T, capacity;  // capacity: the floats/ints allocated (n·T fits it)
    int *inputs, *targets;
    float *weights;      // (n, T): filled by the DPO step for the backward
    unsigned char *scored;
} ScoringBatch;

void scoring_batch_free(ScoringBatch *batch);
// Lays out the texts (growing the buffers as needed). Errors: a text longer than context_length
// + 1 tokens, out of memory.
int scoring_batch_fill(ScoringBatch *batch, const ScoredText *texts, int n, int context_length, Error *error);

// logprobs (n) = Σ_t log π(completion_t | prompt, completion_<t) in nats, for n texts in one
// forward of model (prepared for at least n × T; the forward has targets, so a backward may
// follow). log-softmax of each scored position's logits, summed in double.
int sequence_logprobs(Model *model, ScoringBatch *batch, const ScoredText *texts, int n, double *logprobs,
                      Error *error);

// The loss of one pair from its four sequence log-probabilities (nats), and ∂loss/∂h into
// *d_h (may be NULL): −log σ(β h) computed as softplus(−β h), stable for any h.
double dpo_pair_loss(double beta, double policy_chosen, double reference_chosen, double policy_rejected,
                     double reference_rejected, double *d_h);

// What a batch of pairs gave: the mean loss, the fraction whose implicit reward ranks the chosen
// completion higher (h > 0), and the mean implicit rewards β·(log π − log π_ref) of each side.
typedef struct DpoStats {
    double loss, accuracy, chosen_reward, rejected_reward;
} DpoStats;

// The DPO loss of pairs[0..n) against their reference log-probabilities (n each), and, when
// backward is set, grads += ∂L/∂params through model->loss_weights (cleared again after). The
// model must be prepared for 2n × T (chosen and rejected alternate as rows) and, for backward,
// for training. Errors: the model's.
int dpo_loss(Model *model, ScoringBatch *batch, const PreferencePair *const *pairs, int n,
             const double *reference_chosen, const double *reference_rejected, float beta, int backward,
             DpoStats *stats, Error *error);

// ----------------------------------------------------------------------------
// The training loop

typedef struct DpoConfig {
    float beta;             // > 0: how far from π_ref the implicit reward lets π go (0.1 is usual)
    int batch_pairs;        // P pairs per step
    long steps;
    float learning_rate, min_learning_rate;  // peak, and where the cosine ends
    long warmup_steps;      // -1: a tenth of the steps
    float weight_decay;     // AdamW's, decoupled
    float grad_clip;        // global norm; 0: none
    uint64_t seed;          // the order the pairs are visited in (reshuffled every epoch)
} DpoConfig;

// beta 0.1, 8 pairs, 100 steps, lr 1e-4 → 1e-5, warmup a tenth of the steps, no decay, clip 1, seed 1.
DpoConfig dpo_default_config(void);
// One line naming the bad field (β ≤ 0 or not finite, batch < 1, steps < 1, lr ≤ 0 ...).
int dpo_config_check(const DpoConfig *config, Error *error);

typedef struct DpoProgress {
    long step, steps;
    float lr, grad_norm;
    DpoStats stats;  // this step's batch, before its update
} DpoProgress;

typedef void (*DpoCallback)(void *context, const DpoProgress *progress);

// Trains model (GPT-2 or LoRA adapters, model->params[0, n_trainable) updated with AdamW,
// warmup + cosine, clipping) on the pairs for config->steps steps. The reference
// log-probabilities are those of the model as it is on entry (see above); *first gets the
// loss over all pairs at the start (log 2), *last over all pairs at the end (either may be
// NULL). Errors: bad config, no pairs, a non-finite loss (naming the step), the model's.
int dpo_train(Model *model, const PreferenceSet *set, const DpoConfig *config, DpoCallback callback,
              void *callback_context, DpoStats *first, DpoStats *last, Error *error);

#endif
