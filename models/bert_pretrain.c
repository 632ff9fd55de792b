// Masked-LM pretraining, evaluation, fill-mask and the model file: see bert_pretrain.h.
#include "models/bert_pretrain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "foundations/optimizer.h"
#include "nn/optim.h"
#include "nn/state_dict.h"

int bert_model_create(BertModel *model, Bpe *bpe, BertConfig config, uint64_t seed, Error *error) {
    memset(model, 0, sizeof *model);
    model->bpe = *bpe;
    memset(bpe, 0, sizeof *bpe);
    if (mlm_find_specials(&model->bpe, &model->specials, error)) {
        bert_model_free(model);
        return -1;
    }
    config.vocab_size = bpe_vocab_size(&model->bpe);
    Random rng;
    random_seed(&rng, seed);
    if (bert_net_create(&model->net, &config, &rng, error)) {
        bert_model_free(model);
        return -1;
    }
    return 0;
}

void bert_model_free(BertModel *model) {
    bert_net_free(&model->net);
    bpe_free(&model->bpe);
    memset(model, 0, sizeof *model);
}

// ---------------------------------------------------------------------------------------
// the model file

int bert_model_save(const BertModel *model, const char *path, Error *error) {
    char *tokenizer = NULL;
    size_t size = 0;
    FILE *memory = open_memstream(&tokenizer, &size);
    if (!memory) return error_set(error, "%s: out of memory for the tokenizer", path);
    int written = bpe_write(&model->bpe, memory, error);
    if (fclose(memory) || written) {
        free(tokenizer);
        return written ? -1 : error_set(error, "%s: out of memory for the tokenizer", path);
    }
    const BertConfig *c = &model->net.config;
    char values[7][32];
    snprintf(values[0], sizeof values[0], "%d", c->vocab_size);
    snprintf(values[1], sizeof values[1], "%d", c->max_length);
    snprintf(values[2], sizeof values[2], "%d", c->n_layers);
    snprintf(values[3], sizeof values[3], "%d", c->n_heads);
    snprintf(values[4], sizeof values[4], "%d", c->d_model);
    snprintf(values[5], sizeof values[5], "%d", c->d_ff);
    snprintf(values[6], sizeof values[6], "%g", (double)c->dropout);
    SafetensorsMetadata metadata[] = {{"arch", "bert"},        {"vocab_size", values[0]}, {"max_length", values[1]},
                                      {"layers", values[2]},   {"heads", values[3]},      {"dim", values[4]},
                                      {"ff", values[5]},       {"dropout", values[6]},    {"tokenizer", tokenizer}};
    int status = state_dict_save(&model->net.params, path, metadata, (int)(sizeof metadata / sizeof metadata[0]), error);
    free(tokenizer);
    return status;
}

// A whole non-negative integer of the file's metadata.
static int metadata_int(const Safetensors *file, const char *path, const char *key, int *value, Error *error) {
    const char *text = safetensors_metadata(file, key);
    char *end = NULL;
    long parsed = text ? strtol(text, &end, 10) : -1;
    if (!text || end == text || *end || parsed < 0 || parsed > 1000000)
        return error_set(error, "%s: the metadata's %s is %s", path, key, text ? "not a size" : "missing");
    *value = (int)parsed;
    return 0;
}

// The configuration and tokenizer recorded in a model file's metadata.
static int read_metadata(const Safetensors *file, const char *path, BertConfig *config, Bpe *bpe, Error *error) {
    const char *arch = safetensors_metadata(file, "arch"), *dropout = safetensors_metadata(file, "dropout");
    const char *tokenizer = safetensors_metadata(file, "tokenizer");
    if (!arch || strcmp(arch, "bert") != 0)
        return error_set(error, "%s: not a bert model (its metadata's arch is %s)", path, arch ? arch : "missing");
    memset(config, 0, sizeof *config);
    if (metadata_int(file, path, "vocab_size", &config->vocab_size, error) ||
        metadata_int(file, path, "max_length", &config->max_length, error) ||
        metadata_int(file, path, "layers", &config->n_layers, error) || metadata_int(file, path, "heads", &config->n_heads, error) ||
        metadata_int(file, path, "dim", &config->d_model, error) || metadata_int(file, path, "ff", &config->d_ff, error))
        return -1;
    config->dropout = dropout ? strtof(dropout, NULL) : 0.0f;
    if (!tokenizer) return error_set(error, "%s: the metadata has no tokenizer", path);
    FILE *memory = fmemopen((void *)tokenizer, strlen(tokenizer), "r");
    if (!memory) return error_set(error, "%s: cannot read the tokenizer", path);
    int status = bpe_read(bpe, memory, path, error);
    fclose(memory);
    if (status) return -1;
    if (bpe_vocab_size(bpe) != config->vocab_size)
        return error_set(error, "%s: the tokenizer has %d ids, the model %d", path, bpe_vocab_size(bpe), config->vocab_size);
    return 0;
}

int bert_model_load(BertModel *model, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    BertConfig config;
    Bpe bpe;
    memset(&bpe, 0, sizeof bpe);
    int status = read_metadata(&file, path, &config, &bpe, error);
    if (!status && bert_config_check(&config, error)) status = error_prefix(error, "%s", path);
    if (!status) status = bert_model_create(model, &bpe, config, 0, error);
    else bpe_free(&bpe);
    if (!status && state_dict_load_file(&model->net.params, &file, path, error)) {
        bert_model_free(model);
        status = -1;
    }
    safetensors_free(&file);
    return status;
}

// ---------------------------------------------------------------------------------------
// evaluation

int mlm_evaluate(const BertNet *net, const MlmBatch *set, int batch, MlmScore *score, Error *error) {
    memset(score, 0, sizeof *score);
    if (batch < 1) return error_set(error, "mlm: evaluation batch %d", batch);
    int T = set->T, k = set->k, V = net->config.vocab_size;
    int *positions = malloc(sizeof(int) * (size_t)batch * (size_t)k);
    if (!positions) return error_set(error, "mlm: out of memory");
    Tape tape;
    tape_init(&tape);
    double loss_sum = 0.0;
    long correct = 0;
    int status = 0;
    for (int b0 = 0; b0 < set->B && !status; b0 += batch) {
        int B = set->B - b0 < batch ? set->B - b0 : batch, M = B * k;
        for (int i = 0; i < M; i++) positions[i] = set->positions[(size_t)b0 * k + i] - b0 * T;
        tape_reset(&tape);
        tape.recording = 0;
        Tensor *loss, *logits = bert_forward(&tape, net, set->ids + (size_t)b0 * T, set->types + (size_t)b0 * T, NULL, B, T,
                                             positions, M, set->targets + (size_t)b0 * k, &loss, 0, NULL);
        if (!logits || !loss) {
            status = tape_error(&tape, error);
            break;
        }
        loss_sum += (double)loss->data[0] * M;
        for (int m = 0; m < M; m++) {
            const float *row = logits->data + (size_t)m * V;
            int best = 0;
            for (int v = 1; v < V; v++)
                if (row[v] > row[best]) best = v;
            correct += best == set->targets[(size_t)b0 * k + m];
        }
        score->predictions += M;
    }
    tape_free(&tape);
    free(positions);
    if (status) return -1;
    score->mean_loss = loss_sum / (double)score->predictions;
    score->perplexity = exp(score->mean_loss);
    score->accuracy = (double)correct / (double)score->predictions;
    return 0;
}

// ---------------------------------------------------------------------------------------
// training

static int check_train_config(const BertTrainConfig *c, long n, int T, Error *error) {
    if (c->batch < 1) return error_set(error, "bert: batch %d (at least 1)", c->batch);
    if ((c->steps > 0) == (c->seconds > 0.0)) return error_set(error, "bert: give a budget in steps or in seconds (one of them)");
    if (c->warmup < 0 || (c->steps > 0 && c->warmup >= c->steps))
        return error_set(error, "bert: warmup %ld steps (0 to the steps' count - 1)", c->warmup);
    if (!(c->lr > 0.0f) || !(c->min_lr >= 0.0f && c->min_lr <= c->lr) || !(c->weight_decay >= 0.0f) || !(c->clip >= 0.0f))
        return error_set(error, "bert: lr %g, min lr %g, weight decay %g, clip %g (lr > 0, 0 <= min lr <= lr, the others >= 0)",
                         c->lr, c->min_lr, c->weight_decay, c->clip);
    if (n < T - 3) return error_set(error, "bert: %ld training tokens, fewer than one input of %d", n, T - 3);
    return 0;
}

// Warmup, then cosine to min_lr over the budget (steps, or training seconds).
static float learning_rate(const BertTrainConfig *c, long step, double seconds) {
    Schedule schedule = {.kind = SCHEDULE_WARMUP_COSINE, .base_lr = c->lr, .warmup_steps = c->warmup, .min_lr = c->min_lr};
    double progress = c->steps > 0 ? (double)(step - c->warmup) / (double)(c->steps - c->warmup) : seconds / c->seconds;
    return schedule_warmup_cosine_at(&schedule, step, progress);
}

// One step: forward and backward on batch, clip, update. Returns the loss, or NAN with error set.
static float train_step(BertModel *model, Tape *tape, const MlmBatch *batch, ParamOptimizer *optimizer, float lr,
                        float clip, Random *rng, Error *error) {
    tape_reset(tape);
    Tensor *loss;
    bert_forward(tape, &model->net, batch->ids, batch->types, NULL, batch->B, batch->T, batch->positions,
                 batch->B * batch->k, batch->targets, &loss, 1, rng);
    if (!loss) return tape_error(tape, error), NAN;
    parameters_zero_grad(&model->net.params);
    if (tape_backward(tape, loss, error)) return NAN;
    if (clip > 0.0f) parameters_clip_grad_norm(&model->net.params, clip);
    param_optimizer_step(optimizer, lr);
    return loss->data[0];
}

int bert_pretrain(BertModel *model, const int *tokens, long n, const BertTrainConfig *config, BertStepCallback callback,
                  void *context, BertTrainResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (check_train_config(config, n, model->net.config.max_length, error)) return -1;
    OptimizerGroup groups[2] = {{optimizer_default_config(OPTIMIZER_ADAMW), 1.0f}, {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f}};
    groups[0].config.weight_decay = config->weight_decay;
    ParamOptimizer optimizer;
    MlmBatch batch;
    if (param_optimizer_init(&optimizer, &model->net.params, groups, 2, group_no_decay_on_vectors, error)) return -1;
    if (mlm_batch_alloc(&batch, config->batch, model->net.config.max_length, error)) {
        param_optimizer_free(&optimizer);
        return -1;
    }
    Tape tape;
    tape_init(&tape);
    Random rng;
    random_seed(&rng, config->seed);
    float recent[50];
    int status = 0;
    double start = clock_seconds();
    for (long step = 0;; step++) {
        double seconds = clock_seconds() - start;
        if ((config->steps > 0 && step >= config->steps) || (config->seconds > 0.0 && seconds >= config->seconds)) break;
        float lr = learning_rate(config, step, seconds);
        mlm_batch_sample(&batch, tokens, n, &model->specials, &rng);
        float loss = train_step(model, &tape, &batch, &optimizer, lr, config->clip, &rng, error);
        if (!isfinite(loss)) {
            if (!isnan(loss) || !error->message[0]) error_set(error, "bert: the loss is %g at step %ld", (double)loss, step + 1);
            status = -1;
            break;
        }
        recent[step % 50] = loss;
        result->steps = step + 1;
        result->seconds = clock_seconds() - start;
        if (callback) callback(context, step + 1, loss, lr, result->seconds);
    }
    long counted = result->steps < 50 ? result->steps : 50;
    for (long i = 0; i < counted; i++) result->last_loss += recent[i] / (float)counted;
    tape_free(&tape);
    mlm_batch_free(&batch);
    param_optimizer_free(&optimizer);
    return status;
}

// ---------------------------------------------------------------------------------------
// fill-mask

// text with the space before each "[MASK]" removed (it belongs to the predicted token), and
// the count of [MASK]s; NULL when out of memory.
static char *absorb_spaces(const char *text, int *n_masks) {
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    if (!out) return NULL;
    *n_masks = 0;
    for (const char *p = text; *p; p++) {
        if (*p == ' ' && strncmp(p + 1, "[MASK]", 6) == 0) continue;
        *n_masks += strncmp(p, "[MASK]", 6) == 0;
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

// The k best (id, probability) of one row of logits (V), best first.
static void top_k(const float *logits, int V, int k, int *ids, float *probs) {
    float max = logits[0];
    for (int v = 1; v < V; v++) max = fmaxf(max, logits[v]);
    double sum = 0.0;
    for (int v = 0; v < V; v++) sum += exp((double)(logits[v] - max));
    for (int i = 0; i < k; i++) ids[i] = -1;
    for (int v = 0; v < V; v++) {
        int at = k;
        while (at > 0 && (ids[at - 1] < 0 || logits[v] > logits[ids[at - 1]])) at--;
        if (at == k) continue;
        memmove(ids + at + 1, ids + at, sizeof(int) * (size_t)(k - at - 1));
        ids[at] = v;
    }
    for (int i = 0; i < k; i++) probs[i] = (float)(exp((double)(logits[ids[i]] - max)) / sum);
}

// [CLS] text [SEP] -> ids, types, the [MASK] positions; T its length. Errors: too long.
static int fill_mask_input(const BertModel *model, const char *text, int **ids, int **types, int **positions, int *T,
                           Error *error) {
    size_t n_text_ids = 0;
    int *text_ids = NULL, M = 0;
    if (bpe_encode(&model->bpe, (const unsigned char *)text, strlen(text), 1, &text_ids, &n_text_ids, error)) return -1;
    *T = (int)n_text_ids + 2;
    if (n_text_ids + 2 > (size_t)model->net.config.max_length) {
        free(text_ids);
        return error_set(error, "the text is %zu tokens with [CLS] and [SEP], longer than the model's maximum %d", n_text_ids + 2,
                         model->net.config.max_length);
    }
    *ids = malloc(sizeof(int) * (size_t)*T), *types = malloc(sizeof(int) * (size_t)*T), *positions = malloc(sizeof(int) * (size_t)*T);
    if (!*ids || !*types || !*positions) {
        free(text_ids);
        return error_set(error, "fill-mask: out of memory");
    }
    (*ids)[0] = model->specials.cls;
    memcpy(*ids + 1, text_ids, sizeof(int) * n_text_ids);
    (*ids)[*T - 1] = model->specials.sep;
    free(text_ids);
    int type = 0;
    for (int t = 0; t < *T; t++) {
        (*types)[t] = type;
        if ((*ids)[t] == model->specials.sep) type = 1;
        if ((*ids)[t] == model->specials.mask) (*positions)[M++] = t;
    }
    return 0;
}

int bert_fill_mask(const BertModel *model, const char *text, int k, FillMaskResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    int V = model->net.config.vocab_size;
    if (k < 1) return error_set(error, "top-k %d (at least 1)", k);
    if (k > V) k = V;
    int n_masks = 0;
    char *absorbed = absorb_spaces(text, &n_masks);
    if (!absorbed) return error_set(error, "fill-mask: out of memory");
    if (n_masks == 0) {
        free(absorbed);
        return error_set(error, "the text has no [MASK] to fill");
    }
    int *ids = NULL, *types = NULL, *positions = NULL, T = 0;
    int status = fill_mask_input(model, absorbed, &ids, &types, &positions, &T, error);
    free(absorbed);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *logits = status ? NULL : bert_forward(&tape, &model->net, ids, types, NULL, 1, T, positions, n_masks, NULL, NULL, 0, NULL);
    if (!status && !logits) status = tape_error(&tape, error);
    if (!status) {
        result->n_masks = n_masks, result->k = k;
        result->ids = malloc(sizeof(int) * (size_t)n_masks * (size_t)k);
        result->probs = malloc(sizeof(float) * (size_t)n_masks * (size_t)k);
        if (!result->ids || !result->probs) status = error_set(error, "fill-mask: out of memory");
        for (int m = 0; m < n_masks && !status; m++)
            top_k(logits->data + (size_t)m * V, V, k, result->ids + (size_t)m * k, result->probs + (size_t)m * k);
    }
    if (status) fill_mask_result_free(result);
    tape_free(&tape);
    free(ids), free(types), free(positions);
    return status;
}

void fill_mask_result_free(FillMaskResult *result) {
    free(result->ids), free(result->probs);
    memset(result, 0, sizeof *result);
}
