// Sampling the next token from logits, and the generation loop.
//
// From logits (V) to a token:
//   temperature t   p = softmax(logits / t); t = 0 means greedy: the argmax (first on ties)
//   top-k k         keep the k most probable tokens (k = 0: all)
//   top-p p         then keep the smallest set of most probable tokens whose probability
//                   mass reaches p of what is left (p = 1: all)
// then renormalise what is kept and draw with the caller's seeded generator (one uniform
// number per token). Ties in probability are ordered by token id, so the kept set is
// deterministic.
//
// Generation feeds the model's next_logits with the growing token sequence. When the
// sequence outgrows the model's context_length the window slides: it restarts from the
// last context_length/2 tokens (sliding by half, not by one, lets a stage with a key/value
// cache rebuild it once per context_length/2 tokens instead of at every token).
#ifndef GPT_SAMPLE_H
#define GPT_SAMPLE_H

#include "foundations/error.h"
#include "foundations/random.h"
#include "gpt/model.h"

typedef struct SamplerConfig {
    float temperature;  // >= 0
    int top_k;          // >= 0, 0 = no cut
    float top_p;        // in (0, 1]
} SamplerConfig;

typedef struct Sampler {
    SamplerConfig config;
    int vocab_size;
    float *probs;  // (V) scratch
    int *order;    // (V) scratch: candidate ids, most probable first
} Sampler;

// Checks the ranges above; one line naming the bad option.
int sampler_config_check(const SamplerConfig *config, Error *error);
int sampler_init(Sampler *sampler, const SamplerConfig *config, int vocab_size, Error *error);
void sampler_free(Sampler *sampler);

// The distribution the sampler draws from for these logits (V): probs (V), zero outside
// the kept set, summing to 1. Returns the number of tokens kept.
int sampler_distribution(Sampler *sampler, const float *logits, float *probs);
// One token drawn from that distribution.
int sampler_sample(Sampler *sampler, const float *logits, Random *rng);

// Called with each generated token; returning non-zero stops the generation.
typedef int (*TokenCallback)(void *context, int token);

// Generates up to n_new tokens after prompt (n_prompt >= 1 ids), calling on_token with
// each. *n_generated (may be NULL) receives how many were made. Fails on bad ids or
// model errors.
int generate(Model *model, const int *prompt, int n_prompt, int n_new, Sampler *sampler, Random *rng,
             TokenCallback on_token, void *context, int *n_generated, Error *error);

#endif
