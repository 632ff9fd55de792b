// Sequence to sequence with attention over GRU or LSTM cells: see seq2seq_rnn.h.
#include "models/seq2seq_rnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

// One direction over the embedded source xs[0..S): t = 0, 1, .. (direction 1) or S−1, S−2, ..
// (direction −1); examples whose source has ended (t >= length) keep their state. hs[t]
// receives h_t; returns the final state (NULL h on failure).
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

int seq2seq_rnn_encode(Tape *tape, const Seq2seqRnn *model, const int *source, const int *source_length, int B, int S,
                       Seq2seqRnnEncoding *out) {
    Error error;
    memset(out, 0, sizeof *out);
    if (seq2seq_rnn_check_batch(model, source, source_length, B, S, NULL, 0, &error))
        return tape_fail(tape, "%s", error.message), -1;
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
    out->initial = nn_tanh(tape, linear_apply(tape, &model->bridge, nn_concat(tape, ends, 2, 1)));
    float *mask = tape_alloc(tape, sizeof(float) * (size_t)B * (size_t)S);
    if (!mask) return -1;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < S; t++) mask[b * S + t] = t < source_length[b] ? 0.0f : MASKED_SCORE;
    out->mask = tensor_from(tape, mask, 2, (int[]){B, S});
    return out->keys && out->initial && out->mask ? 0 : -1;
}

// ----------------------------------------------------------------------------
// decoder

// c_i = Σ_j α_ij h_j from the previous decoder state s (B,H) -> (B,2H); *weights gets α (B,S).
static Tensor *attend(Tape *tape, const Seq2seqRnn *model, const Seq2seqRnnEncoding *encoded, Tensor *s, Tensor **weights) {
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

// One decoder step from the previous tokens (B): attends from *state, advances it, -> logits
// (B,V); *weights (may be NULL) gets the attention α (B,S).
static Tensor *decoder_step(Tape *tape, const Seq2seqRnn *model, const Seq2seqRnnEncoding *encoded, const int *previous,
                            int B, RnnState *state, Tensor **weights) {
    Tensor *embedded = embedding_apply(tape, &model->target_embedding, previous, 1, (int[]){B});
    Tensor *context = attend(tape, model, encoded, state->h, weights);
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

// The decoder's first state: s_0, and c_0 = 0 for the LSTM.
static RnnState initial_state(Tape *tape, const Seq2seqRnn *model, Tensor *initial) {
    RnnState state = {initial, NULL};
    if (initial && model->config.cell == RNN_LSTM) state.c = tensor_zeros(tape, 2, initial->shape);
    return state;
}

Tensor *seq2seq_rnn_loss(Tape *tape, const Seq2seqRnn *model, const int *source, const int *source_length, int B, int S,
                         const int *target, int T, float teacher_forcing, float smoothing, Random *rng,
                         Tensor **logits) {
    Error error;
    if (seq2seq_rnn_check_batch(model, source, source_length, B, S, target, T, &error))
        return tape_fail(tape, "%s", error.message);
    if (!(teacher_forcing >= 0.0f && teacher_forcing <= 1.0f) || (teacher_forcing < 1.0f && !rng))
        return tape_fail(tape, "seq2seq-rnn: teacher forcing %g (in [0, 1]; below 1 needs a generator)",
                         (double)teacher_forcing);
    Seq2seqRnnEncoding encoded;
    if (seq2seq_rnn_encode(tape, model, source, source_length, B, S, &encoded)) return NULL;
    int V = model->config.vocab_size;
    Tensor **steps = tape_alloc(tape, sizeof(Tensor *) * (size_t)(T - 1));
    int *previous = tape_alloc(tape, sizeof(int) * (size_t)B);
    int *targets = tape_alloc(tape, sizeof(int) * (size_t)B * (size_t)(T - 1));
    if (!steps || !previous || !targets) return NULL;
    for (int b = 0; b < B; b++) previous[b] = target[b * T];
    RnnState state = initial_state(tape, model, encoded.initial);
    for (int i = 1; i < T; i++) {
        Tensor *step = steps[i - 1] = decoder_step(tape, model, &encoded, previous, B, &state, NULL);
        if (!step) return NULL;
        for (int b = 0; b < B; b++) {
            targets[b * (T - 1) + i - 1] = target[b * T + i];
            int forced = teacher_forcing >= 1.0f || random_uniform(rng) < teacher_forcing;
            previous[b] = forced ? target[b * T + i] : argmax(step->data + (size_t)b * V, V);
        }
    }
    Tensor *all = nn_stack(tape, steps, T - 1, 1);
    if (logits) *logits = all;
    return nn_cross_entropy(tape, all, targets, model->config.pad, smoothing);
}

int seq2seq_rnn_next_log_probs(Tape *tape, const Seq2seqRnn *model, const Seq2seqRnnEncoding *encoding, const int *rows,
                               int n, const int *prefixes, int length, float *log_probs) {
    int B = encoding->annotations ? encoding->annotations->shape[0] : 0, V = model->config.vocab_size;
    if (n < 1 || length < 1) return tape_fail(tape, "seq2seq-rnn: %d prefixes of %d tokens", n, length), -1;
    for (int i = 0; rows && i < n; i++)
        if (rows[i] < 0 || rows[i] >= B) return tape_fail(tape, "seq2seq-rnn: row %d of %d encoded sources", rows[i], B), -1;
    for (long i = 0; i < (long)n * length; i++)
        if (prefixes[i] < 0 || prefixes[i] >= V)
            return tape_fail(tape, "seq2seq-rnn: prefix id %d outside the vocabulary of %d", prefixes[i], V), -1;
    Seq2seqRnnEncoding chosen = *encoding;
    if (rows) {  // the encoded rows each prefix decodes
        chosen.annotations = nn_index_select(tape, encoding->annotations, 0, rows, n);
        chosen.keys = nn_index_select(tape, encoding->keys, 0, rows, n);
        chosen.mask = nn_index_select(tape, encoding->mask, 0, rows, n);
        chosen.initial = nn_index_select(tape, encoding->initial, 0, rows, n);
    } else if (n != B) {
        return tape_fail(tape, "seq2seq-rnn: %d prefixes for %d encoded sources", n, B), -1;
    }
    int *previous = tape_alloc(tape, sizeof(int) * (size_t)n);
    RnnState state = initial_state(tape, model, chosen.initial);
    Tensor *logits = NULL;
    for (int i = 0; previous && i < length; i++) {
        for (int b = 0; b < n; b++) previous[b] = prefixes[b * length + i];
        logits = decoder_step(tape, model, &chosen, previous, n, &state, NULL);
    }
    Tensor *result = nn_log_softmax(tape, logits);
    if (!result) return -1;
    memcpy(log_probs, result->data, sizeof(float) * (size_t)n * (size_t)V);
    return 0;
}

int seq2seq_rnn_alignment(const Seq2seqRnn *model, const int *source, int S, const int *target, int T, float *weights,
                          Error *error) {
    if (seq2seq_rnn_check_batch(model, source, &S, 1, S, target, T, error)) return -1;
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Seq2seqRnnEncoding encoded;
    int status = seq2seq_rnn_encode(&tape, model, source, &S, 1, S, &encoded);
    RnnState state = initial_state(&tape, model, encoded.initial);
    for (int i = 0; !status && i < T - 1; i++) {
        Tensor *alpha = NULL;
        if (!decoder_step(&tape, model, &encoded, target + i, 1, &state, &alpha) || !alpha) status = -1;
        else memcpy(weights + (size_t)i * S, alpha->data, sizeof(float) * (size_t)S);
    }
    status = status ? tape_error(&tape, error) : 0;
    tape_free(&tape);
    return status;
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

int seq2seq_rnn_metadata(const Seq2seqRnn *model, SafetensorsMetadata *metadata, char strings[][32]) {
    Seq2seqRnnConfig config = model->config;
    int *fields[CONFIG_INTS];
    config_ints(&config, fields);
    metadata[0] = (SafetensorsMetadata){"arch", rnn_kind_name(config.cell)};
    metadata[1] = (SafetensorsMetadata){"attention", attention_kind_name(config.attention)};
    for (int i = 0; i < CONFIG_INTS; i++) {
        snprintf(strings[i], 32, "%d", *fields[i]);
        metadata[2 + i] = (SafetensorsMetadata){config_keys[i], strings[i]};
    }
    return SEQ2SEQ_RNN_METADATA;
}

static int config_from_file(const Safetensors *file, const char *path, Seq2seqRnnConfig *config, Error *error) {
    const char *arch = safetensors_metadata(file, "arch"), *attention = safetensors_metadata(file, "attention");
    if (!arch || rnn_kind_parse(arch, &config->cell, error))
        return error_set(error, "%s: not a gru or lstm seq2seq model (arch %s)", path, arch ? arch : "missing");
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
