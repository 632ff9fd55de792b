// Sequence-to-sequence training, decoding and evaluation over any architecture: see seq2seq.h.
#include "models/seq2seq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "models/beam_search.h"
#include "models/recurrent_seq2seq.h"
#include "models/transformer_seq2seq.h"
#include "nn/optim.h"
#include "nn/state_dict.h"

void seq2seq_free(Seq2SeqModel *model) {
    if (model->free) model->free(model->model);
    memset(model, 0, sizeof *model);
}

int seq2seq_save(const Seq2SeqModel *model, SeqTask task, const SafetensorsMetadata *extra, int n_extra,
                 const char *path, Error *error) {
    SafetensorsMetadata metadata[SEQ2SEQ_MAX_METADATA];
    char strings[SEQ2SEQ_MAX_METADATA][32];
    if (n_extra < 0 || n_extra > 4) return error_set(error, "seq2seq: %d extra metadata pairs (at most 4)", n_extra);
    int n = model->metadata(model->model, metadata, strings);
    metadata[n++] = (SafetensorsMetadata){"task", seq_task_name(task)};
    for (int i = 0; i < n_extra; i++) metadata[n++] = extra[i];
    return state_dict_save(model->params, path, metadata, n, error);
}

int seq2seq_load(Seq2SeqModel *model, SeqTask *task, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    const char *arch = safetensors_metadata(&file, "arch"), *task_name = safetensors_metadata(&file, "task");
    char arch_copy[32] = "";
    int status = 0;
    if (!arch || !task_name) status = error_set(error, "%s: no \"arch\" and \"task\" in its metadata (not a seq2seq model)", path);
    else if (seq_task_parse(task_name, task, error)) status = error_prefix(error, "%s", path);
    else snprintf(arch_copy, sizeof arch_copy, "%s", arch);
    safetensors_free(&file);
    if (status) return -1;
    // One line per architecture.
    if (!strcmp(arch_copy, "transformer")) return transformer_seq2seq_load(model, path, error);
    if (!strcmp(arch_copy, "gru") || !strcmp(arch_copy, "lstm")) return recurrent_seq2seq_load(model, path, error);
    return error_set(error, "%s: unknown architecture '%s' (known: transformer, gru, lstm)", path, arch_copy);
}

int seq2seq_check_source(const Seq2SeqModel *model, const int *source, int length, Error *error) {
    if (length < 1 || length > model->max_source)
        return error_set(error, "a source of %d ids: the model takes 1 to %d", length, model->max_source);
    for (int i = 0; i < length; i++)
        if (source[i] <= SEQ_EOS || source[i] >= model->vocab_size)
            return error_set(error, "source id %d at position %d is outside the vocabulary (%d to %d)", source[i], i,
                             SEQ_EOS + 1, model->vocab_size - 1);
    return 0;
}

// ---------------------------------------------------------------------------------------
// Training

static int train_config_check(const Seq2SeqTrainConfig *c, Error *error) {
    if (c->steps < 1 || c->batch_size < 1 || !(c->lr > 0.0f) || c->warmup_steps < 0 || c->warmup_steps >= c->steps)
        return error_set(error, "seq2seq: steps %ld, batch %d, lr %g, warmup %ld (steps and batch >= 1, lr > 0, "
                         "warmup below the steps)", c->steps, c->batch_size, (double)c->lr, c->warmup_steps);
    if (!(c->weight_decay >= 0.0f) || !(c->clip >= 0.0f) || !(c->smoothing >= 0.0f && c->smoothing < 1.0f) ||
        !(c->time_limit >= 0.0))
        return error_set(error, "seq2seq: weight decay %g, clip %g, smoothing %g, time limit %g", (double)c->weight_decay,
                         (double)c->clip, (double)c->smoothing, c->time_limit);
    return 0;
}

// The next batch in a shuffled order (reshuffled every epoch), cut to its longest source and target.
typedef struct Batcher {
    const SeqDataset *set;
    int *order, position, B, S, T;
    int *source, *target;  // (B, max_source), (B, max_target)
    Random rng;
} Batcher;

static int batcher_init(Batcher *b, const SeqDataset *set, int B, uint64_t seed, Error *error) {
    memset(b, 0, sizeof *b);
    b->set = set, b->B = B, b->position = set->n;
    random_seed(&b->rng, seed);
    b->order = malloc(sizeof(int) * (size_t)set->n);
    b->source = malloc(sizeof(int) * (size_t)B * set->max_source);
    b->target = malloc(sizeof(int) * (size_t)B * set->max_target);
    if (!b->order || !b->source || !b->target) return error_set(error, "seq2seq: out of memory for batches of %d", B);
    for (int i = 0; i < set->n; i++) b->order[i] = i;
    return 0;
}

static void batcher_free(Batcher *b) { free(b->order), free(b->source), free(b->target); }

static void batcher_next(Batcher *b) {
    const SeqDataset *d = b->set;
    int rows[b->B];
    b->S = b->T = 1;
    for (int i = 0; i < b->B; i++) {
        if (b->position == d->n) random_shuffle(&b->rng, b->order, d->n), b->position = 0;
        rows[i] = b->order[b->position++];
        if (d->source_length[rows[i]] > b->S) b->S = d->source_length[rows[i]];
        if (d->target_length[rows[i]] > b->T) b->T = d->target_length[rows[i]];
    }
    for (int i = 0; i < b->B; i++) {
        memcpy(b->source + (size_t)i * b->S, d->source + (size_t)rows[i] * d->max_source, sizeof(int) * (size_t)b->S);
        memcpy(b->target + (size_t)i * b->T, d->target + (size_t)rows[i] * d->max_target, sizeof(int) * (size_t)b->T);
    }
}

// One update: the loss, its gradients, clipping, AdamW. Returns the loss, or NaN with error set.
static float train_step(const Seq2SeqModel *model, Tape *tape, ParamOptimizer *optimizer, const Batcher *b,
                        const Seq2SeqTrainConfig *c, float lr, Random *rng, long step, Error *error) {
    tape_reset(tape);
    Tensor *loss = model->loss(model->model, tape, b->source, b->S, b->target, b->T, b->B, c->smoothing, 1, rng);
    if (!loss) return tape_error(tape, error), NAN;
    if (!isfinite(loss->data[0])) return error_set(error, "seq2seq: the loss is %g at step %ld", loss->data[0], step + 1), NAN;
    parameters_zero_grad(model->params);
    if (tape_backward(tape, loss, error)) return NAN;
    if (c->clip > 0.0f) parameters_clip_grad_norm(model->params, c->clip);
    param_optimizer_step(optimizer, lr);
    return loss->data[0];
}

int seq2seq_train(const Seq2SeqModel *model, const SeqDataset *set, const Seq2SeqTrainConfig *c,
                  void (*report)(void *context, const Seq2SeqProgress *progress), void *context, long *steps_done,
                  double *seconds, Error *error) {
    *steps_done = 0, *seconds = 0.0;
    if (train_config_check(c, error)) return -1;
    if (set->max_source > model->max_source || set->max_target > model->max_target)
        return error_set(error, "seq2seq: the set's sources (up to %d) or targets (up to %d) are longer than the "
                         "model's %d and %d", set->max_source, set->max_target, model->max_source, model->max_target);
    OptimizerGroup groups[2] = {{optimizer_default_config(OPTIMIZER_ADAMW), 1.0f}, {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f}};
    groups[0].config.beta2 = groups[1].config.beta2 = 0.98f;  // Vaswani et al. 2017, §5.3
    groups[0].config.weight_decay = c->weight_decay;
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, model->params, groups, 2, group_no_decay_on_vectors, error)) return -1;
    Batcher batcher;
    Tape tape;
    tape_init(&tape);
    Random rng;
    random_seed(&rng, c->seed ^ 0x5eed);
    Schedule schedule = {.kind = SCHEDULE_WARMUP_COSINE, .base_lr = c->lr, .warmup_steps = c->warmup_steps,
                         .total_steps = c->steps, .min_lr = c->lr / 10.0f};
    int status = batcher_init(&batcher, set, c->batch_size, c->seed, error);
    double start = clock_seconds();
    for (long step = 0; step < c->steps && !status; step++) {
        double elapsed = clock_seconds() - start;
        if (c->time_limit > 0.0 && elapsed >= c->time_limit) break;
        double progress = c->time_limit > 0.0 ? elapsed / c->time_limit : (double)step / (double)c->steps;
        float lr = schedule_warmup_cosine_at(&schedule, step, progress);
        batcher_next(&batcher);
        float loss = train_step(model, &tape, &optimizer, &batcher, c, lr, &rng, step, error);
        if (isnan(loss)) status = -1;
        *steps_done = step + 1, *seconds = clock_seconds() - start;
        if (!status && report) report(context, &(Seq2SeqProgress){step + 1, loss, lr, *seconds});
    }
    batcher_free(&batcher);
    tape_free(&tape);
    param_optimizer_free(&optimizer);
    return status;
}

// ---------------------------------------------------------------------------------------
// Decoding

// The first largest log-probability (the lowest id among equals, as beam search's order);
// -1 for a NaN.
static int argmax_row(const float *row, int V) {
    int best = 0;
    for (int t = 0; t < V; t++) {
        if (isnan(row[t])) return -1;
        if (row[t] > row[best]) best = t;
    }
    return best;
}

// The greedy loop over the encoded sources; the unfinished rows decode together.
static int greedy_steps(const Seq2SeqModel *model, Tape *tape, const void *encoding, int n, int *out, int *lengths,
                        int *rows, int *prefixes, float *log_probs, Error *error) {
    int L = model->max_target, V = model->vocab_size, active = n;
    for (int i = 0; i < n; i++) rows[i] = i, out[(size_t)i * L] = SEQ_BOS, lengths[i] = L;
    for (int length = 1; length < L && active > 0; length++) {
        for (int a = 0; a < active; a++)
            memcpy(prefixes + (size_t)a * length, out + (size_t)rows[a] * L, sizeof(int) * (size_t)length);
        tape_reset(tape);
        if (model->next_log_probs(model->model, tape, encoding, rows, active, prefixes, length, log_probs))
            return tape_error(tape, error);
        int still = 0;
        for (int a = 0; a < active; a++) {
            int token = argmax_row(log_probs + (size_t)a * V, V);
            if (token < 0) return error_set(error, "seq2seq: the model gave NaN after %d tokens", length);
            out[(size_t)rows[a] * L + length] = token;
            if (token == SEQ_EOS) lengths[rows[a]] = length + 1;
            else rows[still++] = rows[a];
        }
        active = still;
    }
    return 0;
}

int seq2seq_greedy(const Seq2SeqModel *model, const int *sources, int n, int S, int *out, int *lengths, Error *error) {
    Tape encode_tape, step_tape;
    tape_init(&encode_tape), tape_init(&step_tape);
    encode_tape.recording = step_tape.recording = 0;
    int *rows = malloc(sizeof(int) * (size_t)n), *prefixes = malloc(sizeof(int) * (size_t)n * model->max_target);
    float *log_probs = malloc(sizeof(float) * (size_t)n * model->vocab_size);
    int status = -1;
    if (!rows || !prefixes || !log_probs) error_set(error, "seq2seq: out of memory decoding %d sources", n);
    else {
        void *encoding = model->encode(model->model, &encode_tape, sources, n, S);
        status = encoding ? greedy_steps(model, &step_tape, encoding, n, out, lengths, rows, prefixes, log_probs, error)
                          : tape_error(&encode_tape, error);
    }
    free(rows), free(prefixes), free(log_probs);
    tape_free(&encode_tape), tape_free(&step_tape);
    return status;
}

// Beam search's view of a model decoding one encoded source: every hypothesis reads row 0.
typedef struct BeamContext {
    const Seq2SeqModel *model;
    Tape *tape;
    const void *encoding;
    const int *rows;  // zeros, one per hypothesis
} BeamContext;

static int beam_step(void *context, const int *prefixes, int n, int length, float *log_probs, Error *error) {
    BeamContext *c = context;
    tape_reset(c->tape);
    if (c->model->next_log_probs(c->model->model, c->tape, c->encoding, c->rows, n, prefixes, length, log_probs))
        return tape_error(c->tape, error);
    return 0;
}

int seq2seq_beam(const Seq2SeqModel *model, const int *source, int S, int beam_width, float alpha, int *out,
                 int *length, Error *error) {
    if (beam_width < 1) return error_set(error, "beam width %d: it must be at least 1", beam_width);
    if (seq2seq_check_source(model, source, S, error)) return -1;
    Tape encode_tape, step_tape;
    tape_init(&encode_tape), tape_init(&step_tape);
    encode_tape.recording = step_tape.recording = 0;
    int width = beam_width < 65536 ? beam_width : 65536;
    int *rows = calloc((size_t)width, sizeof(int));
    int status = -1;
    if (!rows) error_set(error, "seq2seq: out of memory for a beam of %d", beam_width);
    else {
        BeamContext context = {model, &step_tape, model->encode(model->model, &encode_tape, source, 1, S), rows};
        status = context.encoding ? beam_search(beam_step, &context, model->vocab_size, SEQ_BOS, SEQ_EOS,
                                                model->max_target, beam_width, alpha, out, length, error)
                                  : tape_error(&encode_tape, error);
    }
    free(rows);
    tape_free(&encode_tape), tape_free(&step_tape);
    return status;
}

// ---------------------------------------------------------------------------------------
// Evaluation

// 1 when prediction (BOS .. EOS) equals target row t of set.
static int exact_match(const SeqDataset *set, int t, const int *prediction, int length) {
    const int *target = set->target + (size_t)t * set->max_target;
    return length == set->target_length[t] && prediction[length - 1] == SEQ_EOS &&
           !memcmp(prediction, target, sizeof(int) * (size_t)length);
}

int seq2seq_evaluate(const Seq2SeqModel *model, const SeqDataset *set, int beam_width, float alpha,
                     Seq2SeqEvaluation *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (beam_width < 1) return error_set(error, "beam width %d: it must be at least 1", beam_width);
    if (set->max_source > model->max_source || set->max_target > model->max_target)
        return error_set(error, "the %s task's sources (up to %d ids) or targets (up to %d) are longer than the model's "
                         "%d and %d", seq_task_name(set->task), set->max_source, set->max_target, model->max_source,
                         model->max_target);
    enum { CHUNK = 250 };
    int L = model->max_target, *out = malloc(sizeof(int) * CHUNK * (size_t)L), lengths[CHUNK];
    if (!out) return error_set(error, "seq2seq: out of memory");
    double start = clock_seconds();
    int status = 0;
    for (int first = 0; first < set->n && !status; first += CHUNK) {
        int n = set->n - first < CHUNK ? set->n - first : CHUNK;
        const int *sources = set->source + (size_t)first * set->max_source;
        if (beam_width == 1) status = seq2seq_greedy(model, sources, n, set->max_source, out, lengths, error);
        for (int i = 0; i < n && !status && beam_width > 1; i++)
            status = seq2seq_beam(model, sources + (size_t)i * set->max_source, set->source_length[first + i],
                                  beam_width, alpha, out + (size_t)i * L, &lengths[i], error);
        for (int i = 0; i < n && !status; i++) result->correct += exact_match(set, first + i, out + (size_t)i * L, lengths[i]);
    }
    free(out);
    result->count = set->n;
    result->accuracy = set->n ? (double)result->correct / set->n : 0.0;
    result->seconds = clock_seconds() - start;
    return status;
}
