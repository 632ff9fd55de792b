// Direct Preference Optimization (gpt/dpo.h): the pairs file, sequence log-probabilities of
// completions, the DPO loss and its gradient through the model's own backward, the loop.
#include "gpt/dpo.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"
#include "foundations/optimizer.h"
#include "foundations/random.h"

// ----------------------------------------------------------------------------
// the pairs file

static void pair_free(PreferencePair *pair) {
    free(pair->prompt), free(pair->chosen), free(pair->rejected);
    memset(pair, 0, sizeof *pair);
}

void preference_set_free(PreferenceSet *set) {
    for (int i = 0; i < set->n; i++) pair_free(&set->pairs[i]);
    free(set->pairs);
    memset(set, 0, sizeof *set);
}

// The string field key of object, or an error naming it.
static int string_field(const cJSON *object, const char *key, const char **value, Error *error) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    if (!cJSON_IsString(item) || !item->valuestring) return error_set(error, "no \"%s\" string", key);
    *value = item->valuestring;
    return 0;
}

// text -> ids; an empty prompt is the start of a text (the start token).
static int encode_field(const TextTokenizer *tokenizer, const char *text, int is_prompt, const char *key, int **ids,
                        int *n, Error *error) {
    size_t n_ids = 0;
    *ids = NULL;
    if (!*text && is_prompt) {
        if (!(*ids = malloc(sizeof(int)))) return error_set(error, "out of memory");
        (*ids)[0] = text_start_token(tokenizer);
        *n = 1;
        return 0;
    }
    if (!*text) return error_set(error, "empty completion \"%s\"", key);
    if (text_encode(tokenizer, (const unsigned char *)text, strlen(text), ids, &n_ids, error))
        return error_prefix(error, "\"%s\"", key);
    if (n_ids == 0) return error_set(error, "empty completion \"%s\"", key);
    *n = (int)n_ids;
    return 0;
}

// One line's object -> pair, completions cut to fit the context (*truncated set when one was).
static int parse_pair(const cJSON *object, const TextTokenizer *tokenizer, int context_length, PreferencePair *pair,
                      int *truncated, Error *error) {
    const char *prompt = NULL, *chosen = NULL, *rejected = NULL;
    if (!cJSON_IsObject(object)) return error_set(error, "not a JSON object");
    if (string_field(object, "prompt", &prompt, error) || string_field(object, "chosen", &chosen, error) ||
        string_field(object, "rejected", &rejected, error))
        return -1;
    if (encode_field(tokenizer, prompt, 1, "prompt", &pair->prompt, &pair->n_prompt, error) ||
        encode_field(tokenizer, chosen, 0, "chosen", &pair->chosen, &pair->n_chosen, error) ||
        encode_field(tokenizer, rejected, 0, "rejected", &pair->rejected, &pair->n_rejected, error))
        return -1;
    // A sequence of n tokens scores n − 1 targets with n − 1 <= context_length inputs.
    int room = context_length + 1 - pair->n_prompt;
    if (room < 1)
        return error_set(error, "the prompt's %d tokens leave no room in the model's context of %d", pair->n_prompt,
                         context_length);
    *truncated = pair->n_chosen > room || pair->n_rejected > room;
    if (pair->n_chosen > room) pair->n_chosen = room;
    if (pair->n_rejected > room) pair->n_rejected = room;
    return 0;
}

// Adds the pair of one non-blank line (line_number for messages).
static int read_line(PreferenceSet *set, int *capacity, const char *line, size_t length, int line_number,
                     const TextTokenizer *tokenizer, int context_length, Error *error) {
    if (set->n == *capacity) {
        int grown = *capacity ? 2 * *capacity : 64;
        PreferencePair *pairs = realloc(set->pairs, sizeof(PreferencePair) * (size_t)grown);
        if (!pairs) return error_set(error, "out of memory for %d pairs", grown);
        set->pairs = pairs;
        *capacity = grown;
    }
    const char *end = NULL;
    cJSON *object = cJSON_ParseWithLengthOpts(line, length, &end, 0);
    if (!object) return error_set(error, "line %d: not JSON", line_number);
    while (end && end < line + length && (*end == ' ' || *end == '\t' || *end == '\r')) end++;
    if (end && end < line + length) {
        cJSON_Delete(object);
        return error_set(error, "line %d: more after the JSON object", line_number);
    }
    PreferencePair *pair = &set->pairs[set->n];
    memset(pair, 0, sizeof *pair);
    int truncated = 0;
    int status = parse_pair(object, tokenizer, context_length, pair, &truncated, error);
    cJSON_Delete(object);
    if (status) {
        pair_free(pair);
        return error_prefix(error, "line %d", line_number);
    }
    set->n++;
    set->n_truncated += truncated;
    return 0;
}

int preference_set_read(PreferenceSet *set, const char *path, const TextTokenizer *tokenizer, int context_length,
                        Error *error) {
    memset(set, 0, sizeof *set);
    unsigned char *data;
    size_t n;
    if (file_read_all(path, &data, &n, error)) return -1;
    int capacity = 0, line_number = 0, status = 0;
    for (size_t start = 0; start < n && status == 0;) {
        const unsigned char *newline = memchr(data + start, '\n', n - start);
        size_t end = newline ? (size_t)(newline - data) : n;
        line_number++;
        size_t first = start;
        while (first < end && (data[first] == ' ' || data[first] == '\t' || data[first] == '\r')) first++;
        if (first < end)
            status = read_line(set, &capacity, (const char *)data + start, end - start, line_number, tokenizer,
                               context_length, error);
        start = end + 1;
    }
    free(data);
    if (status == 0 && set->n == 0) status = error_set(error, "no pairs (JSON lines {\"prompt\", \"chosen\", \"rejected\"})");
    if (status) {
        preference_set_free(set);
        return error_prefix(error, "%s", path);
    }
    return 0;
}

int preference_texts_write(const char *path, const char *const *prompts, const char *const *chosen,
                           const char *const *rejected, int n, Error *error) {
    SafeFile out;
    if (safe_file_open(&out, path, error)) return -1;
    for (int i = 0; i < n; i++) {
        cJSON *object = cJSON_CreateObject();
        if (!object || !cJSON_AddStringToObject(object, "prompt", prompts[i]) ||
            !cJSON_AddStringToObject(object, "chosen", chosen[i]) ||
            !cJSON_AddStringToObject(object, "rejected", rejected[i])) {
            cJSON_Delete(object);
            safe_file_abort(&out);
            return error_set(error, "%s: out of memory", path);
        }
        char *line = cJSON_PrintUnformatted(object);
        cJSON_Delete(object);
        if (!line) {
            safe_file_abort(&out);
            return error_set(error, "%s: out of memory", path);
        }
        fputs(line, out.file);
        fputc('\n', out.file);
        cJSON_free(line);
    }
    return safe_file_commit(&out, error);
}

// ----------------------------------------------------------------------------
// scoring completions

void pair_scored_texts(const PreferencePair *pair, ScoredText texts[2]) {
    texts[0] = (ScoredText){pair->prompt, pair->chosen, pair->n_prompt, pair->n_chosen};
    texts[1] = (ScoredText){pair->prompt, pair->rejected, pair->n_prompt, pair->n_rejected};
}

void scoring_batch_free(ScoringBatch *batch) {
    free(batch->inputs), free(batch->targets), free(batch->weights), free(batch->scored);
    memset(batch, 0, sizeof *batch);
}

static int scoring_batch_reserve(ScoringBatch *batch, int size, Error *error) {
    if (size <= batch->capacity) return 0;
    int *inputs = realloc(batch->inputs, sizeof(int) * (size_t)size);
    if (inputs) batch->inputs = inputs;
    int *targets = realloc(batch->targets, sizeof(int) * (size_t)size);
    if (targets) batch->targets = targets;
    float *weights = realloc(batch->weights, sizeof(float) * (size_t)size);
    if (weights) batch->weights = weights;
    unsigned char *scored = realloc(batch->scored, (size_t)size);
    if (scored) batch->scored = scored;
    if (!inputs || !targets || !weights || !scored) return error_set(error, "out of memory for a batch of %d", size);
    batch->capacity = size;
    return 0;
}

int scoring_batch_fill(ScoringBatch *batch, const ScoredText *texts, int n, int context_length, Error *error) {
    int T = 1;
    for (int i = 0; i < n; i++) {
        int length = texts[i].n_prompt + texts[i].n_completion;
        if (texts[i].n_prompt < 1 || texts[i].n_completion < 1)
            return error_set(error, "text %d: a prompt and a completion of at least one token each", i);
        if (length - 1 > context_length)
            return error_set(error, "text %d: %d tokens, more than the context of %d holds", i, length, context_length);
        if (length - 1 > T) T = length - 1;
    }
    if (scoring_batch_reserve(batch, n * T, error)) return -1;
    batch->n = n, batch->T = T;
    for (int i = 0; i < n; i++) {
        const ScoredText *text = &texts[i];
        int length = text->n_prompt + text->n_completion;
        int *inputs = batch->inputs + (long)i * T, *targets = batch->targets + (long)i * T;
        unsigned char *scored = batch->scored + (long)i * T;
        for (int t = 0; t < T; t++) {
            // the sequence x ++ y at position t + 1 is the target of position t; padding
            // repeats the last token (causal attention: it changes nothing before it)
            int at = t + 1 < length ? t + 1 : length - 1;
            int next = at < text->n_prompt ? text->prompt[at] : text->completion[at - text->n_prompt];
            if (t + 1 < length)
                inputs[t] = t < text->n_prompt ? text->prompt[t] : text->completion[t - text->n_prompt];
            else
                inputs[t] = next;
            targets[t] = next;
            scored[t] = t + 1 < length && t + 1 >= text->n_prompt;
        }
    }
    return 0;
}

// log softmax(logits)[target] = logits[target] − logsumexp(logits), in double.
static double log_probability(const float *logits, int V, int target) {
    float largest = logits[0];
    for (int v = 1; v < V; v++)
        if (logits[v] > largest) largest = logits[v];
    double sum = 0.0;
    for (int v = 0; v < V; v++) sum += exp((double)logits[v] - largest);
    return (double)logits[target] - largest - log(sum);
}

int sequence_logprobs(Model *model, ScoringBatch *batch, const ScoredText *texts, int n, double *logprobs,
                      Error *error) {
    if (scoring_batch_fill(batch, texts, n, model->config.context_length, error)) return -1;
    int T = batch->T, V = model->config.vocab_size;
    if (model->ops->forward(model, batch->inputs, batch->targets, n, T, error)) return -1;
    for (int i = 0; i < n; i++) {
        double sum = 0.0;
        for (int t = 0; t < T; t++) {
            long row = (long)i * T + t;
            if (batch->scored[row]) sum += log_probability(model->logits + row * V, V, batch->targets[row]);
        }
        logprobs[i] = sum;
    }
    return 0;
}

// ----------------------------------------------------------------------------
// the loss

double dpo_pair_loss(double beta, double policy_chosen, double reference_chosen, double policy_rejected,
                     double reference_rejected, double *d_h) {
    double h = (policy_chosen - reference_chosen) - (policy_rejected - reference_rejected);
    double z = beta * h;
    // −log σ(z) = softplus(−z) = max(−z, 0) + log(1 + e^−|z|);  ∂/∂h = −β σ(−z)
    if (d_h) *d_h = -beta / (1.0 + exp(z));
    return fmax(-z, 0.0) + log1p(exp(-fabs(z)));
}

int dpo_loss(Model *model, ScoringBatch *batch, const PreferencePair *const *pairs, int n,
             const double *reference_chosen, const double *reference_rejected, float beta, int backward,
             DpoStats *stats, Error *error) {
    if (n < 1) return error_set(error, "dpo: a batch of %d pairs", n);
    ScoredText *texts = malloc(sizeof(ScoredText) * (size_t)(2 * n));
    double *policy = malloc(sizeof(double) * (size_t)(2 * n)), *d_h = malloc(sizeof(double) * (size_t)n);
    int status = -1;
    if (!texts || !policy || !d_h) {
        error_set(error, "dpo: out of memory for %d pairs", n);
        goto done;
    }
    for (int i = 0; i < n; i++) pair_scored_texts(pairs[i], texts + 2 * i);
    if (sequence_logprobs(model, batch, texts, 2 * n, policy, error)) goto done;
    memset(stats, 0, sizeof *stats);
    for (int i = 0; i < n; i++) {
        stats->loss += dpo_pair_loss(beta, policy[2 * i], reference_chosen[i], policy[2 * i + 1], reference_rejected[i],
                                     &d_h[i]);
        double chosen = beta * (policy[2 * i] - reference_chosen[i]);
        double rejected = beta * (policy[2 * i + 1] - reference_rejected[i]);
        stats->accuracy += chosen > rejected;
        stats->chosen_reward += chosen;
        stats->rejected_reward += rejected;
    }
    stats->loss /= n, stats->accuracy /= n, stats->chosen_reward /= n, stats->rejected_reward /= n;
    if (backward) {
        // L = (1/n) Σ loss_i: ∂L/∂log π(y_w) = d_h/n, ∂L/∂log π(y_l) = −d_h/n, and a position's
        // cross-entropy weight is −∂L/∂log p (model.h).
        long T = batch->T;
        for (int i = 0; i < 2 * n; i++) {
            float weight = (float)((i % 2 == 0 ? -d_h[i / 2] : d_h[i / 2]) / n);
            for (long t = 0; t < T; t++) batch->weights[i * T + t] = batch->scored[i * T + t] ? weight : 0.0f;
        }
        model->loss_weights = batch->weights;
        int failed = model_backward(model, error);
        model->loss_weights = NULL;
        if (failed) goto done;
    }
    status = 0;
done:
    free(texts), free(policy), free(d_h);
    return status;
}

// ----------------------------------------------------------------------------
// the training loop

DpoConfig dpo_default_config(void) {
    return (DpoConfig){.beta = 0.1f, .batch_pairs = 8, .steps = 100, .learning_rate = 1e-4f,
                       .min_learning_rate = 1e-5f, .warmup_steps = -1, .weight_decay = 0.0f, .grad_clip = 1.0f,
                       .seed = 1};
}

int dpo_config_check(const DpoConfig *c, Error *error) {
    if (!(c->beta > 0.0f) || !isfinite(c->beta)) return error_set(error, "beta %g must be positive", (double)c->beta);
    if (c->batch_pairs < 1 || c->batch_pairs > 1 << 14)
        return error_set(error, "batch of %d pairs must be in [1, 16384]", c->batch_pairs);
    if (c->steps < 1) return error_set(error, "%ld steps: need at least 1", c->steps);
    if (!(c->learning_rate > 0.0f) || !isfinite(c->learning_rate))
        return error_set(error, "learning rate %g must be positive", (double)c->learning_rate);
    if (!(c->min_learning_rate >= 0.0f) || c->min_learning_rate > c->learning_rate)
        return error_set(error, "minimum learning rate %g must be in [0, lr]", (double)c->min_learning_rate);
    if (c->warmup_steps < -1 || c->warmup_steps >= c->steps)
        return error_set(error, "warmup of %ld steps must be in [0, %ld steps) (or -1: a tenth of them)", c->warmup_steps,
                         c->steps);
    if (!(c->weight_decay >= 0.0f) || !isfinite(c->weight_decay))
        return error_set(error, "weight decay %g must be >= 0", (double)c->weight_decay);
    if (!(c->grad_clip >= 0.0f) || !isfinite(c->grad_clip))
        return error_set(error, "gradient clip %g must be >= 0", (double)c->grad_clip);
    return 0;
}

// What dpo_train works with: the pairs' reference log-probabilities, the visiting order and
// the batch.
typedef struct Trainer {
    double *reference_chosen, *reference_rejected;  // (n pairs)
    int *order;                                     // (n pairs)
    const PreferencePair **batch_pairs;             // (P)
    double *batch_chosen, *batch_rejected;          // (P)
    ScoredText *texts;                              // (2P)
    double *logprobs;                               // (2P)
    ScoringBatch batch;
} Trainer;

static void trainer_free(Trainer *t) {
    free(t->reference_chosen), free(t->reference_rejected), free(t->order), free(t->batch_pairs);
    free(t->batch_chosen), free(t->batch_rejected), free(t->texts), free(t->logprobs);
    scoring_batch_free(&t->batch);
}

// The reference log-probabilities of every pair (the model as it is now), P pairs at a time.
static int reference_logprobs(Model *model, Trainer *t, const PreferenceSet *set, int P, Error *error) {
    ScoredText *texts = t->texts;
    double *logprobs = t->logprobs;
    for (int first = 0; first < set->n; first += P) {
        int n = set->n - first < P ? set->n - first : P;
        for (int i = 0; i < n; i++) pair_scored_texts(&set->pairs[first + i], texts + 2 * i);
        if (sequence_logprobs(model, &t->batch, texts, 2 * n, logprobs, error)) return -1;
        for (int i = 0; i < n; i++) {
            t->reference_chosen[first + i] = logprobs[2 * i];
            t->reference_rejected[first + i] = logprobs[2 * i + 1];
        }
    }
    return 0;
}

// The DPO statistics over every pair (no gradient).
static int whole_set_stats(Model *model, Trainer *t, const PreferenceSet *set, int P, float beta, DpoStats *total,
                           Error *error) {
    memset(total, 0, sizeof *total);
    for (int first = 0; first < set->n; first += P) {
        int n = set->n - first < P ? set->n - first : P;
        for (int i = 0; i < n; i++) t->batch_pairs[i] = &set->pairs[first + i];
        DpoStats stats = {0};
        if (dpo_loss(model, &t->batch, t->batch_pairs, n, t->reference_chosen + first, t->reference_rejected + first,
                     beta, 0, &stats, error))
            return -1;
        total->loss += stats.loss * n, total->accuracy += stats.accuracy * n;
        total->chosen_reward += stats.chosen_reward * n, total->rejected_reward += stats.rejected_reward * n;
    }
    total->loss /= set->n, total->accuracy /= set->n;
    total->chosen_reward /= set->n, total->rejected_reward /= set->n;
    return 0;
}

static int trainer_init(Trainer *t, Model *model, const PreferenceSet *set, int P, Error *error) {
    memset(t, 0, sizeof *t);
    int n = set->n, T = 1;
    t->reference_chosen = malloc(sizeof(double) * (size_t)n);
    t->reference_rejected = malloc(sizeof(double) * (size_t)n);
    t->order = malloc(sizeof(int) * (size_t)n);
    t->batch_pairs = malloc(sizeof(PreferencePair *) * (size_t)P);
    t->batch_chosen = malloc(sizeof(double) * (size_t)P);
    t->batch_rejected = malloc(sizeof(double) * (size_t)P);
    t->texts = malloc(sizeof(ScoredText) * (size_t)(2 * P));
    t->logprobs = malloc(sizeof(double) * (size_t)(2 * P));
    if (!t->reference_chosen || !t->reference_rejected || !t->order || !t->batch_pairs || !t->batch_chosen ||
        !t->batch_rejected || !t->texts || !t->logprobs)
        return error_set(error, "dpo: out of memory for %d pairs", n);
    for (int i = 0; i < n; i++) {
        const PreferencePair *p = &set->pairs[i];
        int longest = p->n_prompt + (p->n_chosen > p->n_rejected ? p->n_chosen : p->n_rejected) - 1;
        if (longest > T) T = longest;
        t->order[i] = i;
    }
    return model_prepare(model, 2 * P, T, 1, error);
}

int dpo_train(Model *model, const PreferenceSet *set, const DpoConfig *c, DpoCallback callback, void *callback_context,
              DpoStats *first, DpoStats *last, Error *error) {
    if (dpo_config_check(c, error)) return -1;
    if (set->n < 1) return error_set(error, "dpo: no pairs");
    if (model->config.arch != ARCH_GPT2 && model->config.arch != ARCH_LORA)
        return error_set(error, "dpo: a %s model; DPO here trains GPT-2 or its LoRA adapters",
                         architecture_name(model->config.arch));
    if (model->quantized) return error_set(error, "dpo: quantized weights train only through LoRA adapters");
    int P = c->batch_pairs < set->n ? c->batch_pairs : set->n;
    Trainer t;
    Optimizer optimizer = {0};
    int status = -1;
    if (trainer_init(&t, model, set, P, error) || reference_logprobs(model, &t, set, P, error)) goto done;
    if (first && whole_set_stats(model, &t, set, P, c->beta, first, error)) goto done;
    OptimizerConfig optimizer_config = optimizer_default_config(OPTIMIZER_ADAMW);
    optimizer_config.weight_decay = c->weight_decay;
    if (optimizer_init(&optimizer, &optimizer_config, model->n_trainable, error)) goto done;
    long warmup = c->warmup_steps >= 0 ? c->warmup_steps : c->steps / 10;
    Schedule schedule = {SCHEDULE_WARMUP_COSINE, c->learning_rate, 1, 1.0f, warmup, c->steps, c->min_learning_rate};
    Random rng;
    random_seed(&rng, c->seed);
    int next = set->n;  // the position in order of the next pair; at the end: reshuffle
    for (long step = 0; step < c->steps; step++) {
        for (int i = 0; i < P; i++) {
            if (next == set->n) random_shuffle(&rng, t.order, set->n), next = 0;
            int k = t.order[next++];
            t.batch_pairs[i] = &set->pairs[k];
            t.batch_chosen[i] = t.reference_chosen[k];
            t.batch_rejected[i] = t.reference_rejected[k];
        }
        DpoProgress progress = {.step = step + 1, .steps = c->steps, .lr = schedule_lr(&schedule, step)};
        memset(model->grads, 0, sizeof(float) * (size_t)model->n_params);
        if (dpo_loss(model, &t.batch, t.batch_pairs, P, t.batch_chosen, t.batch_rejected, c->beta, 1, &progress.stats,
                     error))
            goto done;
        if (!isfinite(progress.stats.loss)) {
            error_set(error, "dpo: step %ld: the loss is %s; training stopped (lower --lr?)", step + 1,
                      isnan(progress.stats.loss) ? "nan" : "infinite");
            goto done;
        }
        progress.grad_norm = c->grad_clip > 0.0f ? gradient_clip_global_norm(model->grads, model->n_trainable, c->grad_clip)
                                                 : gradient_global_norm(model->grads, model->n_trainable);
        optimizer_step(&optimizer, model->params, model->grads, model->n_trainable, progress.lr);
        if (callback) callback(callback_context, &progress);
    }
    if (last && whole_set_stats(model, &t, set, P, c->beta, last, error)) goto done;
    status = 0;
done:
    optimizer_free(&optimizer);
    trainer_free(&t);
    return status;
}
