// Sampling and generation (gpt/sample.h).
#include "gpt/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/statistics.h"

int sampler_config_check(const SamplerConfig *c, Error *error) {
    if (!(c->temperature >= 0.0f) || !isfinite(c->temperature))
        return error_set(error, "temperature %g must be a number >= 0", (double)c->temperature);
    if (c->top_k < 0) return error_set(error, "top-k %d must be >= 0 (0: no cut)", c->top_k);
    if (!(c->top_p > 0.0f && c->top_p <= 1.0f)) return error_set(error, "top-p %g must be in (0, 1]", (double)c->top_p);
    return 0;
}

int sampler_init(Sampler *sampler, const SamplerConfig *config, int vocab_size, Error *error) {
    memset(sampler, 0, sizeof *sampler);
    if (sampler_config_check(config, error)) return -1;
    if (vocab_size < 1) return error_set(error, "sampler: vocabulary of %d", vocab_size);
    sampler->config = *config;
    sampler->vocab_size = vocab_size;
    sampler->probs = malloc(sizeof(float) * (size_t)vocab_size);
    sampler->order = malloc(sizeof(int) * (size_t)vocab_size);
    if (!sampler->probs || !sampler->order) {
        sampler_free(sampler);
        return error_set(error, "sampler: out of memory");
    }
    return 0;
}

void sampler_free(Sampler *sampler) {
    free(sampler->probs);
    free(sampler->order);
    memset(sampler, 0, sizeof *sampler);
}

// qsort comparison: most probable first, then the smaller id. qsort has no context
// argument, so the candidates are sorted as (probability, id) pairs.
typedef struct Candidate {
    float prob;
    int id;
} Candidate;

static int compare_candidates(const void *a, const void *b) {
    const Candidate *x = a, *y = b;
    if (x->prob != y->prob) return x->prob > y->prob ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int sampler_distribution(Sampler *sampler, const float *logits, float *probs) {
    const SamplerConfig *c = &sampler->config;
    int V = sampler->vocab_size;
    if (c->temperature == 0.0f) {
        int best = 0;
        for (int i = 1; i < V; i++)
            if (logits[i] > logits[best]) best = i;
        memset(probs, 0, sizeof(float) * (size_t)V);
        probs[best] = 1.0f;
        return 1;
    }
    // p = softmax(logits / t), with the maximum subtracted first.
    float max = logits[0];
    for (int i = 1; i < V; i++) max = logits[i] > max ? logits[i] : max;
    double sum = 0.0;
    for (int i = 0; i < V; i++) {
        probs[i] = expf((logits[i] - max) / c->temperature);
        sum += probs[i];
    }
    for (int i = 0; i < V; i++) probs[i] = (float)(probs[i] / sum);
    int cut_k = c->top_k > 0 && c->top_k < V;
    int cut_p = c->top_p < 1.0f;
    if (!cut_k && !cut_p) return V;

    // Candidates, most probable first. With top-p alone a token of probability below
    // (1 - p)/(V - 1) is never needed (llama2.c's trick, which spares sorting the whole
    // vocabulary): if it were, the tokens above it would hold less than p, so it and the
    // ones below would hold more than 1 - p, while being at most V - 1 tokens each under
    // (1 - p)/(V - 1). (For p < 1/V the filter can leave nothing; then all are candidates.)
    Candidate *candidates = malloc(sizeof(Candidate) * (size_t)V);
    if (!candidates) return V;  // out of memory: no cut rather than a failed sampling step
    float floor_prob = (!cut_k && V > 1) ? (1.0f - c->top_p) / (float)(V - 1) : 0.0f;
    int n = 0;
    for (int i = 0; i < V; i++)
        if (probs[i] >= floor_prob) candidates[n++] = (Candidate){probs[i], i};
    if (n == 0)
        for (int i = 0; i < V; i++) candidates[n++] = (Candidate){probs[i], i};
    qsort(candidates, (size_t)n, sizeof(Candidate), compare_candidates);
    int keep = n;
    if (cut_k && c->top_k < keep) keep = c->top_k;
    if (cut_p) {
        // The mass p is a fraction of: the top k with a top-k cut, else everything (1; the
        // filtered-out candidates still count).
        double kept_mass = cut_k ? 0.0 : 1.0;
        if (cut_k)
            for (int i = 0; i < keep; i++) kept_mass += candidates[i].prob;
        double target = (double)c->top_p * kept_mass, cumulative = 0.0;
        for (int i = 0; i < keep; i++) {
            cumulative += candidates[i].prob;
            if (cumulative >= target) {
                keep = i + 1;
                break;
            }
        }
    }
    double kept = 0.0;
    for (int i = 0; i < keep; i++) kept += candidates[i].prob;
    memset(probs, 0, sizeof(float) * (size_t)V);
    for (int i = 0; i < keep; i++) {
        probs[candidates[i].id] = (float)(candidates[i].prob / kept);
        sampler->order[i] = candidates[i].id;
    }
    free(candidates);
    return keep;
}

int sampler_sample(Sampler *sampler, const float *logits, Random *rng) {
    sampler_distribution(sampler, logits, sampler->probs);
    return random_categorical(rng, sampler->probs, sampler->vocab_size);
}

// ----------------------------------------------------------------------------
// generation

int generate(Model *model, const int *prompt, int n_prompt, int n_new, Sampler *sampler, Random *rng,
             TokenCallback on_token, void *context, int *n_generated, Error *error) {
    if (n_generated) *n_generated = 0;
    if (n_prompt < 1) return error_set(error, "generate: the prompt needs at least one token");
    if (n_new < 0) return error_set(error, "generate: %d new tokens", n_new);
    int V = model->config.vocab_size, C = model->config.context_length;
    if (sampler->vocab_size != V)
        return error_set(error, "generate: sampler for %d tokens, model of %d", sampler->vocab_size, V);
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || prompt[i] >= V) return error_set(error, "generate: prompt token %d outside the vocabulary", prompt[i]);
    long capacity = (long)n_prompt + n_new;
    int *tokens = malloc(sizeof(int) * (size_t)capacity);
    float *logits = malloc(sizeof(float) * (size_t)V);
    if (!tokens || !logits) {
        free(tokens);
        free(logits);
        return error_set(error, "generate: out of memory");
    }
    memcpy(tokens, prompt, sizeof(int) * (size_t)n_prompt);
    long n = n_prompt;
    long start = n > C ? n - C : 0;  // the window is tokens[start..n)
    int status = 0;
    for (int i = 0; i < n_new; i++) {
        if (n - start > C) start = n - (C / 2 > 0 ? C / 2 : 1);
        if ((status = model->ops->next_logits(model, tokens + start, (int)(n - start), logits, error))) break;
        // A non-finite logit (a NaN weight, an overflow) would make the sampler's choice
        // meaningless: stop with an error rather than print tokens it did not choose.
        if ((status = check_finite(logits, V, "the model's logits", error))) {
            error_prefix(error, "generate: token %ld", n + 1);
            break;
        }
        int token = sampler_sample(sampler, logits, rng);
        tokens[n++] = token;
        if (n_generated) *n_generated = i + 1;
        if (on_token && on_token(context, token)) break;
    }
    free(tokens);
    free(logits);
    return status;
}
