// A preference task made from a language model's own samples, for DPO (gpt/dpo.h): completions
// that mention the sea are preferred over completions that do not.
//
// Prompts are windows of prompt_tokens ids of a text (a seeded random offset each). For every
// prompt the model samples completions of completion_tokens ids at temperature 1 (the full
// distribution: no top-k or top-p, so the samples are draws from π itself); a completion
// "mentions the sea" when its decoded text holds one of SEA_WORDS as a whole word, case
// ignored. Each sea completion is paired with a non-sea one of the same prompt (as many pairs
// as the smaller group has), chosen = the sea one.
//
// Evaluation draws one completion per prompt, sample i from its own generator seeded with
// seed + i, so two models are compared on the same prompts and the same random numbers. It
// reports the fraction that mention the sea and the KL divergence to a reference,
//     KL(π ‖ π_ref) ≈ (1/N) Σ_samples Σ_t [log π(y_t | x, y_<t) − log π_ref(y_t | x, y_<t)]
// in nats per completion: a Monte-Carlo estimate from samples of π (unbiased; a single sample's
// term can be negative).
#ifndef GPT_PREFERENCE_H
#define GPT_PREFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "foundations/error.h"
#include "gpt/model.h"
#include "gpt/text.h"

// The words, lower case: sea, seas, ocean, oceans, wave, waves, whale, whales, water,
// waters, tide, tides, shore, shores.
extern const char *const SEA_WORDS[];
extern const int N_SEA_WORDS;

// 1 when text[0..n) holds a word of SEA_WORDS (a maximal run of ASCII letters, case ignored).
int text_mentions_sea(const unsigned char *text, size_t n);

// n windows (n, length) of tokens[0..n_tokens) at offsets drawn with seed. Errors: n < 1,
// length < 1, a text shorter than one window.
int preference_prompts(const int *tokens, long n_tokens, int n, int length, uint64_t seed, int *prompts, Error *error);

// n_new ids sampled after prompt (n_prompt ids) at temperature 1 into out (n_new); rng draws.
int sample_completion(Model *model, const int *prompt, int n_prompt, int n_new, Random *rng, int *out, Error *error);

typedef struct PairTaskConfig {
    int n_prompts, prompt_tokens, completion_tokens, samples_per_prompt;
    uint64_t seed;
} PairTaskConfig;

typedef struct PairTaskResult {
    int n_samples, n_sea;  // completions drawn, and those mentioning the sea
    int n_pairs;           // written
} PairTaskResult;

// Samples the completions of n_prompts prompts (from tokens) and writes the pairs to path (JSON
// lines, gpt/dpo.h's format; through a temporary file). Errors: bad sizes, a window longer than
// the model's context, no prompt with both kinds of completion, the model's, the file's.
int preference_make_pairs(Model *model, const TextTokenizer *tokenizer, const int *tokens, long n_tokens,
                          const PairTaskConfig *config, const char *path, PairTaskResult *result, Error *error);

typedef struct PreferenceEval {
    int n, n_sea;
    double kl, kl_std_error;  // nats per completion, and the standard error of that mean
} PreferenceEval;

// One completion per prompt (prompts (n, prompt_tokens)) from policy, sample i seeded with
// seed + i: the sea rate and the KL to reference (NULL: the policy is its own reference, KL 0).
// Both models are prepared here for scoring (not for training).
int preference_evaluate(Model *policy, Model *reference, const TextTokenizer *tokenizer, const int *prompts, int n,
                        int prompt_tokens, int completion_tokens, uint64_t seed, PreferenceEval *result,
                        Error *error);

#endif
