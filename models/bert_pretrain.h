// BERT's masked-LM pretraining (models/bert.h, models/mlm_data.h): the model file, the training
// loop over a time or step budget, the held-out evaluation, and fill-mask.
//
// Recipe: AdamW (β 0.9/0.999, ε 1e-8, weight decay on matrices and embeddings only), gradients
// clipped to a global norm, the learning rate warmed up linearly over `warmup` steps then
// cosine down to min_lr over the budget (by steps, or by training time: r = seconds spent /
// budget, as gpt/train.c). Each step a fresh batch: random windows of the training tokens,
// masked anew (mlm_batch_sample). tools/reference/bert_reference.py is the same recipe in PyTorch.
//
// Model file: safetensors (nn/state_dict.h) of the parameters, with "__metadata__": arch
// "bert", vocab_size, max_length, layers, heads, dim, ff, dropout and the tokenizer (bpe_write's
// text, specials included), so the file alone is enough to fill masks.
#ifndef MODELS_BERT_PRETRAIN_H
#define MODELS_BERT_PRETRAIN_H

#include <stdint.h>

#include "models/bert.h"
#include "models/mlm_data.h"
#include "tokenizer/bpe.h"

typedef struct BertModel {
    BertNet net;
    Bpe bpe;               // ordinary tokens and [CLS] [SEP] [MASK] [PAD]
    MlmSpecials specials;
} BertModel;

// Takes bpe (specials included; the model owns it from then on, also on failure) and makes a
// freshly initialised net of config (config->vocab_size is set from the tokenizer).
int bert_model_create(BertModel *model, Bpe *bpe, BertConfig config, uint64_t seed, Error *error);
void bert_model_free(BertModel *model);
int bert_model_save(const BertModel *model, const char *path, Error *error);
// Errors name the file: not a safetensors file, not a bert model, a missing or malformed
// size, a tokenizer that does not fit, a tensor missing or of another shape.
int bert_model_load(BertModel *model, const char *path, Error *error);

typedef struct BertTrainConfig {
    int batch;             // rows per step
    long steps;            // budget in steps, or 0
    double seconds;        // budget in training seconds (batches, forward, backward, update), or 0
    long warmup;           // steps of linear warmup
    float lr, min_lr, weight_decay, clip;
    uint64_t seed;         // batches, masks and dropout
} BertTrainConfig;

// After every step: step (1-based), its loss, the learning rate, seconds of training so far.
typedef void (*BertStepCallback)(void *context, long step, float loss, float lr, double seconds);

typedef struct BertTrainResult {
    long steps;
    double seconds;        // training time, as counted against the budget
    float last_loss;       // mean of the last min(steps, 50) step losses
} BertTrainResult;

// Trains model on tokens (n ordinary ids, n >= max_length − 3) with inputs of model's
// max_length. Fails on a bad config (batch < 1, neither or both budgets, lr <= 0 ...) or a
// non-finite loss (naming the step).
int bert_pretrain(BertModel *model, const int *tokens, long n, const BertTrainConfig *config, BertStepCallback callback,
                  void *context, BertTrainResult *result, Error *error);

typedef struct MlmScore {
    long predictions;      // masked positions scored
    double mean_loss;      // nats per masked token
    double perplexity;     // exp(mean_loss)
    double accuracy;       // argmax == original token
} MlmScore;

// Scores every prediction of set (rows of the model's length or shorter) without recording,
// batch rows at a time.
int mlm_evaluate(const BertNet *net, const MlmBatch *set, int batch, MlmScore *score, Error *error);

typedef struct FillMaskResult {
    int n_masks;           // [MASK]s in the text
    int k;                 // completions per mask
    int *ids;              // (n_masks, k) best first
    float *probs;          // (n_masks, k)
} FillMaskResult;

// The k most probable tokens for each [MASK] of text (UTF-8; a space before "[MASK]" belongs to
// the token predicted, as in training, where " whale" is one token). The input is [CLS] text
// [SEP]; types 1 after a [SEP] in the text. Errors: no [MASK]; more tokens than the model's
// maximum length (both counts named); k < 1.
int bert_fill_mask(const BertModel *model, const char *text, int k, FillMaskResult *result, Error *error);
void fill_mask_result_free(FillMaskResult *result);

#endif
