// Beam search: see beam_search.h.
#include "models/beam_search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { BEAM_WIDTH_MAX = 65536 };

// One extension of a live hypothesis: beam b followed by token t, with its Σ log p.
typedef struct Candidate {
    double score;
    int index;  // b · vocab_size + t
} Candidate;

// The search's state: the live hypotheses (n_live of them, each `length` tokens) and the best
// ended one so far.
typedef struct Search {
    int vocab_size, bos, eos, max_length, width;
    float alpha;
    int n_live, length;
    int *live, *next;           // (width · max_length): n_live prefixes of `length` tokens, packed
    double *live_score, *next_score;  // (width) Σ log p
    float *log_probs;           // (width, vocab_size)
    Candidate *candidates;      // (width · vocab_size)
    int *best;                  // (max_length)
    int best_length;            // 0: none yet
    double best_score, best_log_prob;
} Search;

static void search_free(Search *s) {
    free(s->live), free(s->next), free(s->live_score), free(s->next_score);
    free(s->log_probs), free(s->candidates), free(s->best);
}

static int search_init(Search *s, int vocab_size, int bos, int eos, int max_length, int width, float alpha,
                       Error *error) {
    memset(s, 0, sizeof *s);
    if (width < 1 || width > BEAM_WIDTH_MAX)
        return error_set(error, "beam search: beam width %d is outside 1..%d", width, BEAM_WIDTH_MAX);
    if (max_length < 2) return error_set(error, "beam search: maximum length %d is below 2 (BOS and one token)", max_length);
    if (!(alpha >= 0.0f) || isinf(alpha))
        return error_set(error, "beam search: length-normalisation alpha %g is not a finite number >= 0", (double)alpha);
    if (vocab_size < 1 || bos < 0 || bos >= vocab_size || eos < 0 || eos >= vocab_size)
        return error_set(error, "beam search: bos %d or eos %d outside the vocabulary of %d", bos, eos, vocab_size);
    // No more hypotheses can be live than there are prefixes: V^(max_length−1).
    long reachable = 1;
    for (int i = 1; i < max_length && reachable < width; i++) reachable *= vocab_size;
    if (reachable < width) width = (int)reachable;
    *s = (Search){.vocab_size = vocab_size, .bos = bos, .eos = eos, .max_length = max_length, .width = width,
                  .alpha = alpha, .n_live = 1, .length = 1};
    size_t w = (size_t)width, L = (size_t)max_length, V = (size_t)vocab_size;
    s->live = malloc(w * L * sizeof *s->live), s->next = malloc(w * L * sizeof *s->next);
    s->live_score = calloc(w, sizeof *s->live_score), s->next_score = calloc(w, sizeof *s->next_score);
    s->log_probs = malloc(w * V * sizeof *s->log_probs);
    s->candidates = malloc(w * V * sizeof *s->candidates);
    s->best = malloc(L * sizeof *s->best);
    if (!s->live || !s->next || !s->live_score || !s->next_score || !s->log_probs || !s->candidates || !s->best) {
        search_free(s);
        return error_set(error, "beam search: out of memory (beam width %d, length %d, vocabulary %d)", width,
                         max_length, vocab_size);
    }
    s->live[0] = bos;
    return 0;
}

// Higher score first; equal scores in candidate order.
static int candidate_compare(const void *a, const void *b) {
    const Candidate *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static double normalised(const Search *s, double log_prob, int length) {
    return s->alpha == 0.0f ? log_prob : log_prob / pow((double)(length - 1), (double)s->alpha);
}

// An ended hypothesis (length tokens): kept when it beats the best so far.
static void search_finish(Search *s, const int *tokens, int length, double log_prob) {
    double score = normalised(s, log_prob, length);
    if (s->best_length && !(score > s->best_score)) return;
    memcpy(s->best, tokens, (size_t)length * sizeof *tokens);
    s->best_length = length, s->best_score = score, s->best_log_prob = log_prob;
}

// Gathers the live hypotheses' finite extensions into s->candidates; returns their count or -1 (NaN).
static int search_candidates(Search *s, Error *error) {
    int V = s->vocab_size, count = 0;
    for (int b = 0; b < s->n_live; b++)
        for (int t = 0; t < V; t++) {
            float lp = s->log_probs[(size_t)b * V + t];
            if (isnan(lp)) return error_set(error, "beam search: the model gave NaN for token %d after %d tokens", t, s->length);
            if (isinf(lp) && lp < 0) continue;
            s->candidates[count++] = (Candidate){.score = s->live_score[b] + lp, .index = b * V + t};
        }
    return count;
}

// One step: every live hypothesis extended by one token, the best `width` kept.
static int search_step(Search *s, NextTokenLogProbs step, void *context, Error *error) {
    if (step(context, s->live, s->n_live, s->length, s->log_probs, error)) return -1;
    int count = search_candidates(s, error);
    if (count < 0) return -1;
    qsort(s->candidates, (size_t)count, sizeof *s->candidates, candidate_compare);
    int L = s->max_length, n_next = 0, length = s->length + 1;
    for (int i = 0; i < count && i < s->width; i++) {
        int b = s->candidates[i].index / s->vocab_size, t = s->candidates[i].index % s->vocab_size;
        int *tokens = s->next + (size_t)n_next * length;
        memcpy(tokens, s->live + (size_t)b * s->length, (size_t)s->length * sizeof *tokens);
        tokens[s->length] = t;
        if (t == s->eos || length == L) search_finish(s, tokens, length, s->candidates[i].score);
        else s->next_score[n_next++] = s->candidates[i].score;
    }
    int *swap = s->live;
    s->live = s->next, s->next = swap;
    double *swap_score = s->live_score;
    s->live_score = s->next_score, s->next_score = swap_score;
    s->n_live = n_next, s->length = length;
    return 0;
}

// 1 when no live hypothesis can beat the best ended one (log-probabilities are <= 0, so a
// live Σ log p only falls, and its normalised score is at most Σ log p / (max_length − 1)^alpha).
static int search_settled(const Search *s) {
    if (!s->best_length) return 0;
    double top = s->live_score[0];
    for (int b = 1; b < s->n_live; b++) top = fmax(top, s->live_score[b]);
    return top <= 0 && s->best_score >= normalised(s, top, s->max_length);
}

int beam_search_scored(NextTokenLogProbs step, void *context, int vocab_size, int bos, int eos, int max_length,
                       int beam_width, float alpha, int *out, int *length, float *log_prob, float *score,
                       Error *error) {
    Search s;
    if (search_init(&s, vocab_size, bos, eos, max_length, beam_width, alpha, error)) return -1;
    int status = 0;
    while (s.n_live > 0 && !search_settled(&s) && !status) status = search_step(&s, step, context, error);
    if (!status && !s.best_length)
        status = error_set(error, "beam search: the model gave no finite log-probability after %d tokens", s.length);
    if (!status) {
        memcpy(out, s.best, (size_t)s.best_length * sizeof *out);
        *length = s.best_length;
        if (log_prob) *log_prob = (float)s.best_log_prob;
        if (score) *score = (float)s.best_score;
    }
    search_free(&s);
    return status;
}

int beam_search(NextTokenLogProbs step, void *context, int vocab_size, int bos, int eos, int max_length,
                int beam_width, float alpha, int *out, int *length, Error *error) {
    return beam_search_scored(step, context, vocab_size, bos, eos, max_length, beam_width, alpha, out, length, NULL,
                              NULL, error);
}
