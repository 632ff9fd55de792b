// Masked-LM inputs and masking: see mlm_data.h.
#include "models/mlm_data.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "foundations/safetensors.h"

static const char *const SPECIAL_TEXT[4] = {"[CLS]", "[SEP]", "[MASK]", "[PAD]"};

int mlm_add_specials(Bpe *bpe, MlmSpecials *specials, Error *error) {
    int n = bpe->n_tokens;
    if (bpe->n_specials) return error_set(error, "mlm: the tokenizer already has %d special tokens", bpe->n_specials);
    for (int i = 0; i < 4; i++)
        if (bpe_add_special(bpe, SPECIAL_TEXT[i], n + i, error)) return -1;
    *specials = (MlmSpecials){n, n, n + 1, n + 2, n + 3};
    return 0;
}

int mlm_find_specials(const Bpe *bpe, MlmSpecials *specials, Error *error) {
    int n = bpe->n_tokens, ids[4];
    for (int i = 0; i < 4; i++) {
        ids[i] = -1;
        for (int k = 0; k < bpe->n_specials; k++)
            if (bpe->specials[k].length == strlen(SPECIAL_TEXT[i]) &&
                memcmp(bpe->specials[k].text, SPECIAL_TEXT[i], bpe->specials[k].length) == 0)
                ids[i] = bpe->specials[k].id;
        if (ids[i] != n + i)
            return error_set(error, "the tokenizer has no %s token of id %d (the ordinary tokens' count + %d)", SPECIAL_TEXT[i], n + i, i);
    }
    *specials = (MlmSpecials){n, ids[0], ids[1], ids[2], ids[3]};
    return 0;
}

int mlm_predictions_per_row(int T) {
    int k = (int)lround(MLM_CHOSEN_RATE * (T - 3));
    return k < 1 ? 1 : k;
}

void mlm_pack(const int *span, int T, int split, const MlmSpecials *specials, int *ids, int *types) {
    int n = T - 3;
    ids[0] = specials->cls;
    memcpy(ids + 1, span, sizeof(int) * (size_t)split);
    ids[split + 1] = specials->sep;
    memcpy(ids + split + 2, span + split, sizeof(int) * (size_t)(n - split));
    ids[T - 1] = specials->sep;
    for (int t = 0; t < T; t++) types[t] = t <= split + 1 ? 0 : 1;
}

static int compare_ints(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

void mlm_mask_row(int *ids, int T, const MlmSpecials *specials, Random *rng, int *chosen, int *targets) {
    int text[4096], n = 0, k = mlm_predictions_per_row(T);
    for (int t = 0; t < T && n < (int)(sizeof text / sizeof text[0]); t++)
        if (ids[t] < specials->n_ordinary) text[n++] = t;
    // The first k of a partial Fisher-Yates shuffle: k positions uniformly without replacement.
    for (int i = 0; i < k && i < n; i++) {
        int j = i + (int)random_below(rng, (uint32_t)(n - i)), swap = text[i];
        text[i] = text[j], text[j] = swap;
    }
    if (k > n) k = n;
    qsort(text, (size_t)k, sizeof(int), compare_ints);
    for (int i = 0; i < k; i++) {
        int t = text[i];
        chosen[i] = t, targets[i] = ids[t];
        float u = random_uniform(rng);
        if (u < MLM_MASK_RATE) ids[t] = specials->mask;
        else if (u < MLM_MASK_RATE + MLM_RANDOM_RATE) ids[t] = (int)random_below(rng, (uint32_t)specials->n_ordinary);
    }
}

int mlm_batch_alloc(MlmBatch *batch, int B, int T, Error *error) {
    memset(batch, 0, sizeof *batch);
    if (B < 1 || T < 5 || T > 4096) return error_set(error, "mlm: a batch of %d rows of length %d (5 to 4096)", B, T);
    batch->B = B, batch->T = T, batch->k = mlm_predictions_per_row(T);
    size_t cells = (size_t)B * (size_t)T, predictions = (size_t)B * (size_t)batch->k;
    batch->ids = malloc(sizeof(int) * cells);
    batch->types = malloc(sizeof(int) * cells);
    batch->positions = malloc(sizeof(int) * predictions);
    batch->targets = malloc(sizeof(int) * predictions);
    if (!batch->ids || !batch->types || !batch->positions || !batch->targets) {
        mlm_batch_free(batch);
        return error_set(error, "mlm: out of memory for a batch of %d x %d", B, T);
    }
    return 0;
}

void mlm_batch_free(MlmBatch *batch) {
    free(batch->ids), free(batch->types), free(batch->positions), free(batch->targets);
    memset(batch, 0, sizeof *batch);
}

// Row b of batch: packed from span at split, masked from rng; its positions made flat.
static void fill_row(MlmBatch *batch, int b, const int *span, int split, const MlmSpecials *specials, Random *rng) {
    int T = batch->T, k = batch->k;
    int *ids = batch->ids + (size_t)b * T, *positions = batch->positions + (size_t)b * k;
    mlm_pack(span, T, split, specials, ids, batch->types + (size_t)b * T);
    mlm_mask_row(ids, T, specials, rng, positions, batch->targets + (size_t)b * k);
    for (int i = 0; i < k; i++) positions[i] += b * T;
}

void mlm_batch_sample(MlmBatch *batch, const int *tokens, long n, const MlmSpecials *specials, Random *rng) {
    int span = batch->T - 3;
    for (int b = 0; b < batch->B; b++) {
        long offset = (long)(random_uniform_double(rng) * (double)(n - span + 1));
        if (offset > n - span) offset = n - span;
        int split = 1 + (int)random_below(rng, (uint32_t)(span - 1));
        fill_row(batch, b, tokens + offset, split, specials, rng);
    }
}

int mlm_heldout_set(MlmBatch *set, const int *tokens, long n, int T, int passes, uint64_t seed,
                    const MlmSpecials *specials, Error *error) {
    memset(set, 0, sizeof *set);
    if (T < 5) return error_set(error, "mlm: rows of length %d (at least 5)", T);
    long windows = n / (T - 3);
    if (windows < 1) return error_set(error, "mlm: %ld held-out tokens, fewer than one input of %d", n, T - 3);
    if (passes < 1 || windows * passes > 1000000) return error_set(error, "mlm: %d passes over %ld windows", passes, windows);
    if (mlm_batch_alloc(set, (int)(windows * passes), T, error)) return -1;
    for (int p = 0; p < passes; p++) {
        Random rng;
        random_seed(&rng, seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(p + 1));
        for (long w = 0; w < windows; w++)
            fill_row(set, (int)(p * windows + w), tokens + w * (T - 3), (T - 3) / 2, specials, &rng);
    }
    return 0;
}

int mlm_export(const char *path, const int *train, long n, const MlmBatch *heldout, const MlmSpecials *specials,
               int vocab_size, Error *error) {
    if (n < 1 || n > 0x7fffffffL) return error_set(error, "%s: %ld training tokens to export", path, n);
    int N = heldout->B, T = heldout->T, predictions = heldout->B * heldout->k;
    SafetensorsTensor tensors[5] = {
        {.name = "train_tokens", .dtype = SAFETENSORS_I32, .ndim = 1, .shape = {(int)n}, .ints = train},
        {.name = "heldout_ids", .dtype = SAFETENSORS_I32, .ndim = 2, .shape = {N, T}, .ints = heldout->ids},
        {.name = "heldout_types", .dtype = SAFETENSORS_I32, .ndim = 2, .shape = {N, T}, .ints = heldout->types},
        {.name = "heldout_positions", .dtype = SAFETENSORS_I32, .ndim = 1, .shape = {predictions}, .ints = heldout->positions},
        {.name = "heldout_targets", .dtype = SAFETENSORS_I32, .ndim = 1, .shape = {predictions}, .ints = heldout->targets},
    };
    char values[6][16];
    int numbers[6] = {specials->n_ordinary, specials->cls, specials->sep, specials->mask, specials->pad, vocab_size};
    for (int i = 0; i < 6; i++) snprintf(values[i], sizeof values[i], "%d", numbers[i]);
    SafetensorsMetadata metadata[6] = {{"n_ordinary", values[0]}, {"cls", values[1]},  {"sep", values[2]},
                                       {"mask", values[3]},       {"pad", values[4]}, {"vocab_size", values[5]}};
    return safetensors_write(path, tensors, 5, metadata, 6, error);
}
