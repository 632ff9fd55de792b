// Sequence to sequence with attention over GRU or LSTM cells: see seq2seq_rnn.h.
#include "models/seq2seq_rnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/beam_search.h"
#include "nn/state_dict.h"

// A masked score: exp underflows to exactly 0 in the softmax (finite, so no ∞ − ∞).
static const float MASKED_SCORE = -1e9f;

int rnn_kind_parse(const char *name, RnnKind *kind, Error *error) {
    if (strcmp(name, "gru") == 0) *kind = RNN_GRU;
    else if (strcmp(name, "lstm") == 0) *kind = RNN_LSTM;
    else return error_set(error, "unknown recurrent cell \"%s\" (gru or lstm)", name);
    return 0;
}

int attention_kind_parse(const char *name, AttentionKind *kind, Error *error) {
    if (strcmp(name, "additive") == 0) *kind = ATTENTION_ADDITIVE;
    else if (strcmp(name, "multiplicative") == 0) *kind = ATTENTION_MULTIPLICATIVE;
    else return error_set(error, "unknown attention \"%s\" (additive or multiplicative)", name);
    return 0;
}

const char *rnn_kind_name(RnnKind kind) { return kind == RNN_LSTM ? "lstm" : "gru"; }
const char *attention_kind_name(AttentionKind kind) {
    return kind == ATTENTION_MULTIPLICATIVE ? "multiplicative" : "additive";
}

// ----------------------------------------------------------------------------
// a cell of either kind; its state is h, and c for the LSTM (NULL for the GRU)

typedef LSTMState RnnState;

static int rnn_cell_init(RnnCell *cell, RnnKind kind, Parameters *params, const char *name, int input_size,
                         int hidden_size, Random *rng, Error *error) {
    memset(cell, 0, sizeof *cell);
    cell->kind = kind;
    return kind == RNN_GRU ? gru_cell_init(&cell->gru, params, name, input_size, hidden_size, rng, error)
                           : lstm_cell_init(&cell->lstm, params, name, input_size, hidden_size, rng, error);
}

static RnnState rnn_cell_apply(Tape *tape, const RnnCell *cell, Tensor *x, RnnState state) {
    if (cell->kind == RNN_LSTM) return lstm_cell_apply(tape, &cell->lstm, x, state);
    RnnState next = {gru_cell_apply(tape, &cell->gru, x, state.h), NULL};
    return next;
}

// A zero state (B,H) of the cell's kind.
static RnnState rnn_zero_state(Tape *tape, RnnKind kind, int B, int H) {
    RnnState state = {tensor_zeros(tape, 2, (int[]){B, H}), NULL};
    if (kind == RNN_LSTM) state.c = tensor_zeros(tape, 2, (int[]){B, H});
    return state;
}

// old + mask ⊙ (new − old): the new state where mask (B,1) is 1, the old one where it is 0.
static Tensor *masked_update(Tape *tape, Tensor *old, Tensor *new, Tensor *mask) {
    return nn_add(tape, old, nn_mul(tape, mask, nn_sub(tape, new, old)));
}

// ----------------------------------------------------------------------------
// model

int seq2seq_rnn_create(Seq2seqRnn *model, const Seq2seqRnnConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    const Seq2seqRnnConfig *c = config;
    if (c->vocab_size < 1 || c->embedding_size < 1 || c->hidden_size < 1 || c->max_source < 1 || c->max_target < 2)
        return error_set(error, "seq2seq-rnn: sizes V %d, E %d, H %d, max source %d, max target %d: each must be "
                                "positive (max target at least 2)",
                         c->vocab_size, c->embedding_size, c->hidden_size, c->max_source, c->max_target);
    if (c->pad < 0 || c->pad >= c->vocab_size || c->bos < 0 || c->bos >= c->vocab_size || c->eos < 0 ||
        c->eos >= c->vocab_size)
        return error_set(error, "seq2seq-rnn: special ids pad %d, bos %d, eos %d outside the vocabulary of %d", c->pad,
                         c->bos, c->eos, c->vocab_size);
    if ((unsigned)c->cell > RNN_LSTM || (unsigned)c->attention > ATTENTION_MULTIPLICATIVE)
        return error_set(error, "seq2seq-rnn: unknown cell or attention kind");
    model->config = *config;
    int V = c->vocab_size, E = c->embedding_size, H = c->hidden_size;
    Parameters *p = &model->params;
    int failed = embedding_init(&model->source_embedding, p, "source_embedding", V, E, rng, error) ||
                 rnn_cell_init(&model->encoder_forward, c->cell, p, "encoder.forward", E, H, rng, error) ||
                 rnn_cell_init(&model->encoder_backward, c->cell, p, "encoder.backward", E, H, rng, error) ||
                 linear_init(&model->bridge, p, "bridge", 2 * H, H, 1, rng, error) ||
                 embedding_init(&model->target_embedding, p, "target_embedding", V, E, rng, error);
    if (!failed && c->attention == ATTENTION_ADDITIVE)
        failed = linear_init(&model->attention_query, p, "attention.query", H, H, 0, rng, error) ||
                 linear_init(&model->attention_key, p, "attention.key", 2 * H, H, 0, rng, error) ||
                 linear_init(&model->attention_score, p, "attention.score", H, 1, 0, rng, error);
    else if (!failed)
        failed = linear_init(&model->attention_key, p, "attention.key", 2 * H, H, 0, rng, error);
    if (!failed)
        failed = rnn_cell_init(&model->decoder, c->cell, p, "decoder", E + 2 * H, H, rng, error) ||
                 linear_init(&model->generator, p, "generator", 3 * H + E, V, 1, rng, error);
    if (failed) {
        seq2seq_rnn_free(model);
        return -1;
    }
    return 0;
}

void seq2seq_rnn_free(Seq2seqRnn *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

int seq2seq_rnn_check_batch(const Seq2seqRnn *model, const int *source, const int *source_length, int B, int S,
                            const int *target, int T, Error *error) {
    const Seq2seqRnnConfig *c = &model->config;
    if (B < 1) return error_set(error, "seq2seq-rnn: an empty batch");
    if (S < 1 || S > c->max_source)
        return error_set(error, "seq2seq-rnn: sources padded to %d tokens; the model takes 1 to %d", S, c->max_source);
    if (target && (T < 2 || T > c->max_target))
        return error_set(error, "seq2seq-rnn: targets padded to %d tokens; the model takes 2 to %d (BOS and EOS counted)",
                         T, c->max_target);
    for (int b = 0; b < B; b++) {
        if (source_length[b] < 1 || source_length[b] > S)
            return error_set(error, "seq2seq-rnn: example %d: source length %d outside 1..%d", b, source_length[b], S);
        for (int t = 0; t < S; t++)
            if (source[b * S + t] < 0 || source[b * S + t] >= c->vocab_size)
                return error_set(error, "seq2seq-rnn: example %d: source id %d at %d outside the vocabulary of %d", b,
                                 source[b * S + t], t, c->vocab_size);
        for (int t = 0; target && t < T; t++)
            if (target[b * T + t] < 0 || target[b * T + t] >= c->vocab_size)
                return error_set(error, "seq2seq-rnn: example %d: target id %d at %d outside the vocabulary of %d", b,
                                 target[b * T + t], t, c->vocab_size);
        if (target && target[b * T] != c->bos)
            return error_set(error, "seq2seq-rnn: example %d: the target starts with %d, not BOS (%d)", b, target[b * T],
                             c->bos);
    }
    return 0;
}

// ----------------------------------------------------------------------------
// encoder

// The encoded source a decoder attends to.
typedef struct Encoded {
    Tensor *annotations;  // (B,S,2H) h_j = [→h_j; ←h_j]
    Tensor *keys;         // (B,S,H) U_a h_j (additive) or W_a h_j (multiplicative)
    Tensor *mask;         // (B,S) 0 at a source token, MASKED_SCORE at padding
    RnnState initial;     // s_0 (B,H), and c_0 = 0 for the LSTM
} Encoded;

// One direction over the embedded source xs[0..S): step t from `first` by `direction` (±1);
// examples whose source has ended (t >= length) keep their state. hs[t] receives h_t; returns
// the final state (NULL h on failure).
static RnnState encode_direction(Tape *tape, const RnnCell *cell, Tensor **xs, const int *source_length, int B, int S,
                                 int H, int direction, Tensor **hs) {
    RnnState state = rnn_zero_state(tape, cell->kind, B, H);
    float *mask = tape_alloc(tape, sizeof(float) * (size_t)B);
    if (!mask || !state.h) return (RnnState){NULL, NULL};
    for (int k = 0; k < S; k++) {
        int t = direction > 0 ? k : S - 1 - k, active = 0;
        for (int b = 0; b < B; b++) active += (mask[b] = source_length[b] > t ? 1.0f : 0.0f) > 0;
        if (active > 0) {
            RnnState next = rnn_cell_apply(tape, cell, xs[t], state);
            if (active < B) {
                Tensor *m = tensor_from(tape, mask, 2, (int[]){B, 1});
                next.h = masked_update(tape, state.h, next.h, m);
                if (cell->kind == RNN_LSTM) next.c = masked_update(tape, state.c, next.c, m);
            }
            state = next;
        }
        hs[t] = state.h;
    }
    return state;
}

static int encode(Tape *tape, const Seq2seqRnn *model, const int *source, const int *source_length, int B, int S,
                  Encoded *out) {
    int H = model->config.hidden_size;
    Tensor **xs = tape_alloc(tape, sizeof(Tensor *) * (size_t)S * 3);
    int *column = tape_alloc(tape, sizeof(int) * (size_t)B);
    if (!xs || !column) return -1;
    Tensor **forward = xs + S, **backward = xs + 2 * S;
    for (int t = 0; t < S; t++) {
        for (int b = 0; b < B; b++) column[b] = source[b * S + t];
        xs[t] = embedding_apply(tape, &model->source_embedding, column, 1, (int[]){B});
    }
    RnnState last = encode_direction(tape, &model->encoder_forward, xs, source_length, B, S, H, 1, forward);
    RnnState first = encode_direction(tape, &model->encoder_backward, xs, source_length, B, S, H, -1, backward);
    if (!last.h || !first.h) return -1;
    Tensor *directions[2] = {nn_stack(tape, forward, S, 1), nn_stack(tape, backward, S, 1)};
    out->annotations = nn_concat(tape, directions, 2, 2);
    out->keys = nn_linear(tape, out->annotations, model->attention_key.weight, NULL);
    Tensor *ends[2] = {last.h, first.h};
    out->initial.h = nn_tanh(tape, linear_apply(tape, &model->bridge, nn_concat(tape, ends, 2, 1)));
    out->initial.c = model->config.cell == RNN_LSTM ? tensor_zeros(tape, 2, (int[]){B, H}) : NULL;
    float *mask = tape_alloc(tape, sizeof(float) * (size_t)B * (size_t)S);
    if (!mask) return -1;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < S; t++) mask[b * S + t] = t < source_length[b] ? 0.0f : MASKED_SCORE;
    out->mask = tensor_from(tape, mask, 2, (int[]){B, S});
    return out->keys && out->initial.h && out->mask ? 0 : -1;
}

// ----------------------------------------------------------------------------
// decoder

// c_i = Σ_j α_ij h_j from the previous decoder state s (B,H) -> (B,2H); *weights gets α (B,S).
static Tensor *attend(Tape *tape, const Seq2seqRnn *model, const Encoded *encoded, Tensor *s, Tensor **weights) {
    if (!s || !encoded->keys) return NULL;
    int B = encoded->keys->shape[0], S = encoded->keys->shape[1], H = encoded->keys->shape[2];
    Tensor *scores;
    if (model->config.attention == ATTENTION_ADDITIVE) {  // v_aᵀ tanh(W_a s + U_a h_j)
        Tensor *query = nn_reshape(tape, linear_apply(tape, &model->attention_query, s), 3, (int[]){B, 1, H});
        Tensor *energy = nn_tanh(tape, nn_add(tape, encoded->keys, query));
        scores = nn_reshape(tape, linear_apply(tape, &model->attention_score, energy), 2, (int[]){B, S});
    } else {  // sᵀ W_a h_j
        Tensor *column = nn_reshape(tape, s, 3, (int[]){B, H, 1});
        scores = nn_reshape(tape, nn_matmul(tape, encoded->keys, column), 2, (int[]){B, S});
    }
    Tensor *alpha = nn_softmax(tape, nn_add(tape, scores, encoded->mask));
    if (weights) *weights = alpha;
    Tensor *context = nn_matmul(tape, nn_reshape(tape, alpha, 3, (int[]){B, 1, S}), encoded->annotations);
    return nn_reshape(tape, context, 2, (int[]){B, 2 * H});
}

// One decoder step from the previous tokens (B): attends from *state, advances it, -> logits (B,V).
static Tensor *decoder_step(Tape *tape, const Seq2seqRnn *model, const Encoded *encoded, const int *previous, int B,
                            RnnState *state) {
    Tensor *embedded = embedding_apply(tape, &model->target_embedding, previous, 1, (int[]){B});
    Tensor *context = attend(tape, model, encoded, state->h, NULL);
    Tensor *input[2] = {embedded, context};
    *state = rnn_cell_apply(tape, &model->decoder, nn_concat(tape, input, 2, 1), *state);
    Tensor *features[3] = {state->h, context, embedded};
    return linear_apply(tape, &model->generator, nn_concat(tape, features, 3, 1));
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

Tensor *seq2seq_rnn_loss(Tape *tape, const Seq2seqRnn *model, const int *source, const int *source_length, int B, int S,
                         const int *target, int T, float teacher_forcing, Random *rng, Tensor **logits) {
    Error error;
    if (seq2seq_rnn_check_batch(model, source, source_length, B, S, target, T, &error))
        return tape_fail(tape, "%s", error.message);
    if (!(teacher_forcing >= 0.0f && teacher_forcing <= 1.0f) || (teacher_forcing < 1.0f && !rng))
        return tape_fail(tape, "seq2seq-rnn: teacher forcing %g (in [0, 1]; below 1 needs a generator)",
                         (double)teacher_forcing);
    Encoded encoded = {0};
    if (encode(tape, model, source, source_length, B, S, &encoded)) return NULL;
    int V = model->config.vocab_size;
    Tensor **steps = tape_alloc(tape, sizeof(Tensor *) * (size_t)(T - 1));
    int *previous = tape_alloc(tape, sizeof(int) * (size_t)B);
    int *targets = tape_alloc(tape, sizeof(int) * (size_t)B * (size_t)(T - 1));
    if (!steps || !previous || !targets) return NULL;
    for (int b = 0; b < B; b++) previous[b] = target[b * T];
    RnnState state = encoded.initial;
    for (int i = 1; i < T; i++) {
        Tensor *step = steps[i - 1] = decoder_step(tape, model, &encoded, previous, B, &state);
        if (!step) return NULL;
        for (int b = 0; b < B; b++) {
            targets[b * (T - 1) + i - 1] = target[b * T + i];
            int forced = teacher_forcing >= 1.0f || random_uniform(rng) < teacher_forcing;
            previous[b] = forced ? target[b * T + i] : argmax(step->data + (size_t)b * V, V);
        }
    }
    Tensor *all = nn_stack(tape, steps, T - 1, 1);
    if (logits) *logits = all;
    return nn_cross_entropy(tape, all, targets, model->config.pad, 0.0f);
}

int seq2seq_rnn_greedy(Tape *tape, const Seq2seqRnn *model, const int *source, const int *source_length, int B, int S,
                       int *out, Error *error) {
    const Seq2seqRnnConfig *c = &model->config;
    if (seq2seq_rnn_check_batch(model, source, source_length, B, S, NULL, 0, error)) return -1;
    tape_reset(tape);
    int recording = tape->recording;
    tape->recording = 0;
    Encoded encoded = {0};
    int *previous = tape_alloc(tape, sizeof(int) * (size_t)B), *done = tape_alloc(tape, sizeof(int) * (size_t)B);
    int status = previous && done ? encode(tape, model, source, source_length, B, S, &encoded) : -1;
    RnnState state = encoded.initial;
    for (int b = 0; !status && b < B; b++) out[b * c->max_target] = previous[b] = c->bos, done[b] = 0;
    for (int i = 1, live = B; !status && i < c->max_target; i++) {
        Tensor *logits = live ? decoder_step(tape, model, &encoded, previous, B, &state) : NULL;
        if (live && !logits) status = -1;
        for (int b = 0; !status && b < B; b++) {
            int token = done[b] ? c->pad : argmax(logits->data + (size_t)b * c->vocab_size, c->vocab_size);
            out[b * c->max_target + i] = previous[b] = token;
            if (!done[b] && token == c->eos) done[b] = 1, live--;
        }
    }
    tape->recording = recording;
    return status ? tape_error(tape, error) : 0;
}

// ----------------------------------------------------------------------------
// beam search: the context is the model and one encoded source, kept outside the tape

typedef struct BeamContext {
    const Seq2seqRnn *model;
    Tape tape;
    int S;
    float *annotations, *keys, *mask, *initial;  // (S,2H), (S,H), (S), (H)
} BeamContext;

// n copies of a row of `size` floats as a tensor (n, shape...).
static Tensor *repeated(Tape *tape, const float *row, long size, int n, int n_dims, const int *shape) {
    int full[NN_MAX_DIMS] = {n};
    for (int d = 0; d < n_dims; d++) full[d + 1] = shape[d];
    Tensor *t = tensor_new(tape, n_dims + 1, full);
    for (int i = 0; t && i < n; i++) memcpy(t->data + (size_t)i * size, row, sizeof(float) * (size_t)size);
    return t;
}

static int beam_step(void *pointer, const int *prefixes, int n, int length, float *log_probs, Error *error) {
    BeamContext *context = pointer;
    const Seq2seqRnn *model = context->model;
    int S = context->S, H = model->config.hidden_size, V = model->config.vocab_size;
    Tape *tape = &context->tape;
    tape_reset(tape);
    Encoded encoded = {0};
    encoded.annotations = repeated(tape, context->annotations, (long)S * 2 * H, n, 2, (int[]){S, 2 * H});
    encoded.keys = repeated(tape, context->keys, (long)S * H, n, 2, (int[]){S, H});
    encoded.mask = repeated(tape, context->mask, S, n, 1, (int[]){S});
    encoded.initial.h = repeated(tape, context->initial, H, n, 1, (int[]){H});
    encoded.initial.c = model->config.cell == RNN_LSTM ? tensor_zeros(tape, 2, (int[]){n, H}) : NULL;
    int *previous = tape_alloc(tape, sizeof(int) * (size_t)n);
    RnnState state = encoded.initial;
    Tensor *logits = NULL;
    for (int i = 0; previous && i < length; i++) {
        for (int b = 0; b < n; b++) previous[b] = prefixes[b * length + i];
        logits = decoder_step(tape, model, &encoded, previous, n, &state);
    }
    Tensor *result = nn_log_softmax(tape, logits);
    if (!result) return tape_error(tape, error);
    memcpy(log_probs, result->data, sizeof(float) * (size_t)n * (size_t)V);
    return 0;
}

static float *copy_floats(const Tensor *t) {
    float *copy = t ? malloc(sizeof(float) * (size_t)t->size) : NULL;
    if (copy) memcpy(copy, t->data, sizeof(float) * (size_t)t->size);
    return copy;
}

int seq2seq_rnn_beam(const Seq2seqRnn *model, const int *source, int length, int beam_width, float alpha, int *out,
                     int *out_length, Error *error) {
    if (seq2seq_rnn_check_batch(model, source, &length, 1, length, NULL, 0, error)) return -1;
    if (beam_width < 1) return error_set(error, "seq2seq-rnn: beam width %d (at least 1)", beam_width);
    BeamContext context = {.model = model, .S = length};
    tape_init(&context.tape);
    context.tape.recording = 0;
    Encoded encoded = {0};
    int status = encode(&context.tape, model, source, &length, 1, length, &encoded) ? tape_error(&context.tape, error) : 0;
    if (!status) {
        context.annotations = copy_floats(encoded.annotations), context.keys = copy_floats(encoded.keys);
        context.mask = copy_floats(encoded.mask), context.initial = copy_floats(encoded.initial.h);
        if (!context.annotations || !context.keys || !context.mask || !context.initial)
            status = error_set(error, "seq2seq-rnn: out of memory for beam search");
    }
    const Seq2seqRnnConfig *c = &model->config;
    if (!status)
        status = beam_search(beam_step, &context, c->vocab_size, c->bos, c->eos, c->max_target, beam_width, alpha, out,
                             out_length, error);
    free(context.annotations), free(context.keys), free(context.mask), free(context.initial);
    tape_free(&context.tape);
    return status ? -1 : 0;
}

// ----------------------------------------------------------------------------
// files: the parameters, and the configuration as metadata

enum { CONFIG_INTS = 8 };
static const char *config_keys[CONFIG_INTS] = {"vocab_size", "embedding_size", "hidden_size", "max_source",
                                               "max_target", "pad", "bos", "eos"};

static void config_ints(Seq2seqRnnConfig *c, int **fields) {
    int *f[CONFIG_INTS] = {&c->vocab_size, &c->embedding_size, &c->hidden_size, &c->max_source,
                           &c->max_target, &c->pad, &c->bos, &c->eos};
    memcpy(fields, f, sizeof f);
}

int seq2seq_rnn_save(const Seq2seqRnn *model, const char *path, Error *error) {
    Seq2seqRnnConfig config = model->config;
    int *fields[CONFIG_INTS];
    config_ints(&config, fields);
    char values[CONFIG_INTS][16];
    SafetensorsMetadata metadata[CONFIG_INTS + 3] = {{"arch", "seq2seq-rnn"},
                                                     {"cell", rnn_kind_name(config.cell)},
                                                     {"attention", attention_kind_name(config.attention)}};
    for (int i = 0; i < CONFIG_INTS; i++) {
        snprintf(values[i], sizeof values[i], "%d", *fields[i]);
        metadata[3 + i] = (SafetensorsMetadata){config_keys[i], values[i]};
    }
    return state_dict_save(&model->params, path, metadata, CONFIG_INTS + 3, error);
}

static int config_from_file(const Safetensors *file, const char *path, Seq2seqRnnConfig *config, Error *error) {
    const char *arch = safetensors_metadata(file, "arch");
    if (!arch || strcmp(arch, "seq2seq-rnn") != 0)
        return error_set(error, "%s: not a seq2seq-rnn model (arch %s)", path, arch ? arch : "missing");
    const char *cell = safetensors_metadata(file, "cell"), *attention = safetensors_metadata(file, "attention");
    if (!cell || rnn_kind_parse(cell, &config->cell, error)) return error_set(error, "%s: bad or missing cell", path);
    if (!attention || attention_kind_parse(attention, &config->attention, error))
        return error_set(error, "%s: bad or missing attention", path);
    int *fields[CONFIG_INTS];
    config_ints(config, fields);
    for (int i = 0; i < CONFIG_INTS; i++) {
        const char *text = safetensors_metadata(file, config_keys[i]);
        char *end = NULL;
        long value = text ? strtol(text, &end, 10) : 0;
        if (!text || *end || end == text || value < 0 || value > 1000000)
            return error_set(error, "%s: metadata %s is %s%s%s, not a size", path, config_keys[i], text ? "\"" : "",
                             text ? text : "missing", text ? "\"" : "");
        *fields[i] = (int)value;
    }
    return 0;
}

int seq2seq_rnn_load(Seq2seqRnn *model, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    Seq2seqRnnConfig config;
    Random rng;
    random_seed(&rng, 0);
    int status = config_from_file(&file, path, &config, error);
    if (!status && seq2seq_rnn_create(model, &config, &rng, error)) status = error_prefix(error, "%s", path);
    if (!status && state_dict_load_file(&model->params, &file, path, error)) {
        seq2seq_rnn_free(model);
        status = -1;
    }
    safetensors_free(&file);
    return status ? -1 : 0;
}
