// The sea-preference task (gpt/preference.h): prompts from a text, completions sampled from the
// model, pairs labelled by a word list, and the before/after measurement.
#include "gpt/preference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt/dpo.h"
#include "gpt/sample.h"

const char *const SEA_WORDS[] = {"sea",   "seas",   "ocean", "oceans", "wave", "waves", "whale",
                                 "whales", "water", "waters", "tide",  "tides", "shore", "shores"};
const int N_SEA_WORDS = (int)(sizeof SEA_WORDS / sizeof SEA_WORDS[0]);

static int is_letter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int text_mentions_sea(const unsigned char *text, size_t n) {
    for (size_t i = 0; i < n;) {
        if (!is_letter(text[i])) {
            i++;
            continue;
        }
        size_t end = i;
        char word[16];
        while (end < n && is_letter(text[end])) {
            if (end - i < sizeof word - 1) word[end - i] = (char)(text[end] | 0x20);  // ASCII lower case
            end++;
        }
        if (end - i < sizeof word) {
            word[end - i] = '\0';
            for (int w = 0; w < N_SEA_WORDS; w++)
                if (strcmp(word, SEA_WORDS[w]) == 0) return 1;
        }
        i = end;
    }
    return 0;
}

int preference_prompts(const int *tokens, long n_tokens, int n, int length, uint64_t seed, int *prompts, Error *error) {
    if (n < 1 || length < 1) return error_set(error, "%d prompts of %d tokens: need at least 1 of 1", n, length);
    if (n_tokens < length) return error_set(error, "a text of %ld tokens is shorter than one prompt of %d", n_tokens, length);
    Random rng;
    random_seed(&rng, seed);
    for (int i = 0; i < n; i++) {
        long offset = (long)(random_uniform_double(&rng) * (double)(n_tokens - length + 1));
        if (offset > n_tokens - length) offset = n_tokens - length;
        memcpy(prompts + (long)i * length, tokens + offset, sizeof(int) * (size_t)length);
    }
    return 0;
}

typedef struct Collector {
    int *out;
    int n;
} Collector;

static int collect_token(void *context, int token) {
    Collector *c = context;
    c->out[c->n++] = token;
    return 0;
}

int sample_completion(Model *model, const int *prompt, int n_prompt, int n_new, Random *rng, int *out, Error *error) {
    SamplerConfig config = {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f};
    Sampler sampler;
    if (sampler_init(&sampler, &config, model->config.vocab_size, error)) return -1;
    Collector collector = {out, 0};
    int status = generate(model, prompt, n_prompt, n_new, &sampler, rng, collect_token, &collector, NULL, error);
    sampler_free(&sampler);
    if (status == 0 && collector.n != n_new)
        return error_set(error, "sampling gave %d of %d tokens", collector.n, n_new);
    return status;
}

static int check_task(const Model *model, int n, int prompt_tokens, int completion_tokens, Error *error) {
    if (n < 1 || prompt_tokens < 1 || completion_tokens < 1)
        return error_set(error, "%d prompts of %d tokens with completions of %d: each must be at least 1", n,
                         prompt_tokens, completion_tokens);
    if (prompt_tokens + completion_tokens - 1 > model->config.context_length)
        return error_set(error, "a prompt of %d and a completion of %d tokens exceed the model's context of %d",
                         prompt_tokens, completion_tokens, model->config.context_length);
    return 0;
}

// The decoded text of ids, and whether it mentions the sea; *text malloc'ed.
static int decode_and_label(const TextTokenizer *tokenizer, const int *ids, int n, char **text, int *sea, Error *error) {
    unsigned char *bytes;
    size_t n_bytes;
    if (text_decode(tokenizer, ids, (size_t)n, &bytes, &n_bytes, error)) return -1;
    *sea = text_mentions_sea(bytes, n_bytes);
    *text = (char *)bytes;
    return 0;
}

// Samples' texts of one prompt are kept until its pairs are made.
typedef struct PairLists {
    char **prompts, **chosen, **rejected;  // the written pairs (prompts shared, freed once each)
    int n, capacity;
} PairLists;

static int pair_lists_add(PairLists *lists, char *prompt, char *chosen, char *rejected, Error *error) {
    if (lists->n == lists->capacity) {
        int grown = lists->capacity ? 2 * lists->capacity : 64;
        char **p = realloc(lists->prompts, sizeof(char *) * (size_t)grown);
        if (p) lists->prompts = p;
        char **c = realloc(lists->chosen, sizeof(char *) * (size_t)grown);
        if (c) lists->chosen = c;
        char **r = realloc(lists->rejected, sizeof(char *) * (size_t)grown);
        if (r) lists->rejected = r;
        if (!p || !c || !r) return error_set(error, "out of memory for %d pairs", grown);
        lists->capacity = grown;
    }
    lists->prompts[lists->n] = prompt, lists->chosen[lists->n] = chosen, lists->rejected[lists->n] = rejected;
    lists->n++;
    return 0;
}

// One prompt: K samples, labelled, then paired (sea with non-sea, in sampling order). Texts that
// end up in a pair move into lists; the rest are freed.
static int pairs_of_prompt(Model *model, const TextTokenizer *tokenizer, const int *prompt, const PairTaskConfig *c,
                           Random *rng, int *ids, char **texts, int *sea, PairLists *lists, PairTaskResult *result,
                           Error *error) {
    int K = c->samples_per_prompt, status = 0, n_texts = 0;
    char *prompt_text = NULL;
    int prompt_sea;
    if (decode_and_label(tokenizer, prompt, c->prompt_tokens, &prompt_text, &prompt_sea, error)) return -1;
    for (int k = 0; k < K && status == 0; k++) {
        status = sample_completion(model, prompt, c->prompt_tokens, c->completion_tokens, rng, ids, error) ||
                 decode_and_label(tokenizer, ids, c->completion_tokens, &texts[k], &sea[k], error);
        if (status == 0) n_texts++, result->n_samples++, result->n_sea += sea[k];
    }
    int used_prompt = 0;
    for (int w = 0, l = 0; status == 0;) {
        while (w < n_texts && !sea[w]) w++;
        while (l < n_texts && sea[l]) l++;
        if (w == n_texts || l == n_texts) break;
        if ((status = pair_lists_add(lists, prompt_text, texts[w], texts[l], error))) break;
        texts[w++] = texts[l++] = NULL;
        used_prompt = 1;
    }
    for (int k = 0; k < n_texts; k++) free(texts[k]);
    if (!used_prompt) free(prompt_text);
    return status ? -1 : 0;
}

int preference_make_pairs(Model *model, const TextTokenizer *tokenizer, const int *tokens, long n_tokens,
                          const PairTaskConfig *c, const char *path, PairTaskResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (check_task(model, c->n_prompts, c->prompt_tokens, c->completion_tokens, error)) return -1;
    if (c->samples_per_prompt < 2) return error_set(error, "%d samples per prompt: a pair needs 2", c->samples_per_prompt);
    int *prompts = malloc(sizeof(int) * (size_t)c->n_prompts * (size_t)c->prompt_tokens);
    int *ids = malloc(sizeof(int) * (size_t)c->completion_tokens);
    char **texts = calloc((size_t)c->samples_per_prompt, sizeof(char *));
    int *sea = calloc((size_t)c->samples_per_prompt, sizeof(int));
    PairLists lists = {0};
    int status = -1;
    if (!prompts || !ids || !texts || !sea) {
        error_set(error, "out of memory for %d prompts", c->n_prompts);
        goto done;
    }
    if (preference_prompts(tokens, n_tokens, c->n_prompts, c->prompt_tokens, c->seed, prompts, error)) goto done;
    Random rng;
    random_seed(&rng, c->seed ^ 0x5eaULL);  // the samples' own stream, apart from the prompts'
    for (int i = 0; i < c->n_prompts; i++)
        if (pairs_of_prompt(model, tokenizer, prompts + (long)i * c->prompt_tokens, c, &rng, ids, texts, sea, &lists,
                            result, error))
            goto done;
    if (lists.n == 0) {
        error_set(error, "no prompt had completions both with and without the sea (%d of %d samples mention it)",
                  result->n_sea, result->n_samples);
        goto done;
    }
    if (preference_texts_write(path, (const char *const *)lists.prompts, (const char *const *)lists.chosen,
                               (const char *const *)lists.rejected, lists.n, error))
        goto done;
    result->n_pairs = lists.n;
    status = 0;
done:
    for (int i = 0; i < lists.n; i++) {
        if (i == 0 || lists.prompts[i] != lists.prompts[i - 1]) free(lists.prompts[i]);
        free(lists.chosen[i]), free(lists.rejected[i]);
    }
    free(lists.prompts), free(lists.chosen), free(lists.rejected);
    free(prompts), free(ids), free(texts), free(sea);
    return status;
}

// ----------------------------------------------------------------------------
// evaluation

enum { SCORE_BATCH = 16 };

// Σ log π − log π_ref of texts[0..n) into kl_terms (n).
static int kl_terms_of(Model *policy, Model *reference, ScoringBatch *batch, const ScoredText *texts, int n,
                       double *kl_terms, Error *error) {
    double policy_logprobs[SCORE_BATCH], reference_logprobs[SCORE_BATCH];
    if (sequence_logprobs(policy, batch, texts, n, policy_logprobs, error) ||
        sequence_logprobs(reference, batch, texts, n, reference_logprobs, error))
        return -1;
    for (int i = 0; i < n; i++) kl_terms[i] = policy_logprobs[i] - reference_logprobs[i];
    return 0;
}

int preference_evaluate(Model *policy, Model *reference, const TextTokenizer *tokenizer, const int *prompts, int n,
                        int prompt_tokens, int completion_tokens, uint64_t seed, PreferenceEval *result,
                        Error *error) {
    memset(result, 0, sizeof *result);
    if (check_task(policy, n, prompt_tokens, completion_tokens, error)) return -1;
    int T = prompt_tokens + completion_tokens - 1;
    if (model_prepare(policy, SCORE_BATCH, T, 0, error) || (reference && model_prepare(reference, SCORE_BATCH, T, 0, error)))
        return -1;
    int *samples = malloc(sizeof(int) * (size_t)n * (size_t)completion_tokens);
    double *kl_terms = calloc((size_t)n, sizeof(double));
    ScoredText texts[SCORE_BATCH];
    ScoringBatch batch = {0};
    int status = -1;
    if (!samples || !kl_terms) {
        error_set(error, "out of memory for %d samples", n);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        Random rng;
        random_seed(&rng, seed + (uint64_t)i);
        int *sample = samples + (long)i * completion_tokens, sea;
        char *text;
        if (sample_completion(policy, prompts + (long)i * prompt_tokens, prompt_tokens, completion_tokens, &rng, sample,
                              error) ||
            decode_and_label(tokenizer, sample, completion_tokens, &text, &sea, error))
            goto done;
        free(text);
        result->n_sea += sea;
    }
    for (int first = 0; reference && first < n; first += SCORE_BATCH) {
        int m = n - first < SCORE_BATCH ? n - first : SCORE_BATCH;
        for (int i = 0; i < m; i++)
            texts[i] = (ScoredText){prompts + (long)(first + i) * prompt_tokens,
                                    samples + (long)(first + i) * completion_tokens, prompt_tokens, completion_tokens};
        if (kl_terms_of(policy, reference, &batch, texts, m, kl_terms + first, error)) goto done;
    }
    double sum = 0.0, squares = 0.0;
    for (int i = 0; i < n; i++) sum += kl_terms[i];
    double mean = sum / n;
    for (int i = 0; i < n; i++) squares += (kl_terms[i] - mean) * (kl_terms[i] - mean);
    result->n = n;
    result->kl = mean;
    result->kl_std_error = n > 1 ? sqrt(squares / (n - 1) / n) : 0.0;
    status = 0;
done:
    free(samples), free(kl_terms);
    scoring_batch_free(&batch);
    return status;
}
