// Masked-language-model data (Devlin et al. 2018, §3.1 "Task #1: Masked LM"): inputs made of
// two consecutive spans of text, and the masking that makes them a prediction task.
//
// Special tokens follow the ordinary ones of the BPE (n of them, ids 0..n-1):
//   [CLS] = n, [SEP] = n+1, [MASK] = n+2, [PAD] = n+3          vocabulary n + 4
//
// An input of length T holds T−3 consecutive tokens of the text cut in two at `split`:
//   [CLS] a_1 … a_split [SEP] b_1 … b_rest [SEP]       types 0 up to the first [SEP], then 1
// (BERT's sentence pairs without next-sentence prediction: b always follows a.)
//
// Masking: in each row, k = round(0.15 (T−3)) of the text positions, chosen uniformly without
// replacement (the original code's fixed count per sequence), are the positions to predict;
// each of them is replaced by [MASK] with probability 0.8, by a uniformly random ordinary
// token with probability 0.1, and kept with probability 0.1. The targets are the original
// tokens; the loss is taken on those k positions only. Special tokens are never chosen.
#ifndef MODELS_MLM_DATA_H
#define MODELS_MLM_DATA_H

#include <stdint.h>

#include "foundations/error.h"
#include "foundations/random.h"
#include "tokenizer/bpe.h"

#define MLM_CHOSEN_RATE 0.15
#define MLM_MASK_RATE 0.8
#define MLM_RANDOM_RATE 0.1

typedef struct MlmSpecials {
    int n_ordinary;  // ordinary tokens 0..n_ordinary-1
    int cls, sep, mask, pad;
} MlmSpecials;

// Adds [CLS] [SEP] [MASK] [PAD] to a tokenizer of ordinary tokens only (ids as above).
int mlm_add_specials(Bpe *bpe, MlmSpecials *specials, Error *error);
// The ids of the four in a tokenizer that has them (a loaded model's); an error naming the
// first one missing or out of place.
int mlm_find_specials(const Bpe *bpe, MlmSpecials *specials, Error *error);

// k: the positions predicted per row of length T (T >= 5).
int mlm_predictions_per_row(int T);

// One row: span (T−3 ordinary ids) cut at split (1 <= split <= T−4) -> ids (T), types (T).
void mlm_pack(const int *span, int T, int split, const MlmSpecials *specials, int *ids, int *types);

// Masks one packed row in place: ids (T) -> the input; chosen (k) receives the positions t
// predicted (ascending), targets (k) their original ids.
void mlm_mask_row(int *ids, int T, const MlmSpecials *specials, Random *rng, int *chosen, int *targets);

// A set of B rows of length T, each with k = mlm_predictions_per_row(T) predictions:
// positions (B·k) are flat (b·T + t), ascending within a row, row by row.
typedef struct MlmBatch {
    int B, T, k;
    int *ids, *types;          // (B,T)
    int *positions, *targets;  // (B·k)
} MlmBatch;

int mlm_batch_alloc(MlmBatch *batch, int B, int T, Error *error);
void mlm_batch_free(MlmBatch *batch);
// B rows at uniform random offsets of tokens (n >= T−3 ordinary ids), each cut at a uniform
// split in [1, T−4], masked: a training batch.
void mlm_batch_sample(MlmBatch *batch, const int *tokens, long n, const MlmSpecials *specials, Random *rng);

// The held-out set: the tokens cut into consecutive windows of T−3, each cut in the middle
// ((T−3)/2), masked `passes` times with masks drawn from seed (pass p's masks from its own
// stream), so that every window is scored with several masks. Fails when n < T−3.
int mlm_heldout_set(MlmBatch *set, const int *tokens, long n, int T, int passes, uint64_t seed,
                    const MlmSpecials *specials, Error *error);

// The data of a run, for tools/reference/bert_reference.py (the same ids in PyTorch): a
// safetensors file with train_tokens (n), heldout_ids and heldout_types (N,T),
// heldout_positions and heldout_targets (N·k), all I32, and the metadata n_ordinary, cls, sep,
// mask, pad, vocab_size. Written through a temporary file.
int mlm_export(const char *path, const int *train, long n, const MlmBatch *heldout, const MlmSpecials *specials,
               int vocab_size, Error *error);

#endif
