// The recurrent seq2seq model as a Seq2SeqModel: see recurrent_seq2seq.h.
#include "models/recurrent_seq2seq.h"

#include <stdlib.h>
#include <string.h>

typedef struct RecurrentSeq2seq {
    Seq2seqRnn net;
    float teacher_forcing;
} RecurrentSeq2seq;

Seq2seqRnnConfig recurrent_seq2seq_config(SeqTask task, RnnKind cell, AttentionKind attention, int embedding_size,
                                          int hidden_size) {
    Seq2seqRnnConfig config = {cell,          attention, seq_vocab_size(), embedding_size, hidden_size,
                               seq_task_max_source(task), seq_task_max_target(task), SEQ_PAD, SEQ_BOS, SEQ_EOS};
    return config;
}

// Each source's length: the position of its first pad (S when none), in the tape's arena.
static int *source_lengths(Tape *tape, const int *source, int B, int S) {
    int *lengths = tape_alloc(tape, sizeof(int) * (size_t)B);
    for (int b = 0; lengths && b < B; b++) {
        lengths[b] = S;
        for (int t = 0; t < S; t++)
            if (source[b * S + t] == SEQ_PAD) {
                lengths[b] = t;
                break;
            }
    }
    return lengths;
}

static Tensor *recurrent_loss(void *model, Tape *tape, const int *source, int S, const int *target, int T, int B,
                              float smoothing, int training, Random *rng) {
    RecurrentSeq2seq *m = model;
    int *lengths = source_lengths(tape, source, B, S);
    if (!lengths) return NULL;
    return seq2seq_rnn_loss(tape, &m->net, source, lengths, B, S, target, T, training ? m->teacher_forcing : 1.0f,
                            smoothing, rng, NULL);
}

static void *recurrent_encode(void *model, Tape *tape, const int *sources, int n, int S) {
    RecurrentSeq2seq *m = model;
    Seq2seqRnnEncoding *encoding = tape_alloc(tape, sizeof *encoding);
    int *lengths = source_lengths(tape, sources, n, S);
    if (!encoding || !lengths) return NULL;
    return seq2seq_rnn_encode(tape, &m->net, sources, lengths, n, S, encoding) ? NULL : encoding;
}

static int recurrent_next(void *model, Tape *tape, const void *encoding, const int *rows, int n, const int *prefixes,
                          int length, float *log_probs) {
    RecurrentSeq2seq *m = model;
    return seq2seq_rnn_next_log_probs(tape, &m->net, encoding, rows, n, prefixes, length, log_probs);
}

static int recurrent_metadata(const void *model, SafetensorsMetadata *metadata, char strings[][32]) {
    const RecurrentSeq2seq *m = model;
    return seq2seq_rnn_metadata(&m->net, metadata, strings);
}

static void recurrent_free(void *model) {
    RecurrentSeq2seq *m = model;
    seq2seq_rnn_free(&m->net);
    free(m);
}

// The interface around an allocated, created model; fails when its ids are not the tasks'.
static int wrap(Seq2SeqModel *model, RecurrentSeq2seq *m, Error *error) {
    const Seq2seqRnnConfig *c = &m->net.config;
    if (c->vocab_size != seq_vocab_size() || c->pad != SEQ_PAD || c->bos != SEQ_BOS || c->eos != SEQ_EOS) {
        error_set(error, "seq2seq-rnn: vocabulary %d with pad %d, bos %d, eos %d is not the tasks' (%d; %d, %d, %d)",
                  c->vocab_size, c->pad, c->bos, c->eos, seq_vocab_size(), SEQ_PAD, SEQ_BOS, SEQ_EOS);
        recurrent_free(m);
        return -1;
    }
    *model = (Seq2SeqModel){.arch = rnn_kind_name(c->cell), .model = m, .params = &m->net.params,
                            .vocab_size = c->vocab_size, .max_source = c->max_source, .max_target = c->max_target,
                            .loss = recurrent_loss, .encode = recurrent_encode, .next_log_probs = recurrent_next,
                            .metadata = recurrent_metadata, .free = recurrent_free};
    return 0;
}

int recurrent_seq2seq_create(Seq2SeqModel *model, const Seq2seqRnnConfig *config, float teacher_forcing, Random *rng,
                             Error *error) {
    memset(model, 0, sizeof *model);
    if (!(teacher_forcing >= 0.0f && teacher_forcing <= 1.0f))
        return error_set(error, "seq2seq-rnn: teacher forcing %g (a probability, in [0, 1])", (double)teacher_forcing);
    RecurrentSeq2seq *m = malloc(sizeof *m);
    if (!m) return error_set(error, "seq2seq-rnn: out of memory");
    if (seq2seq_rnn_create(&m->net, config, rng, error)) return free(m), -1;
    m->teacher_forcing = teacher_forcing;
    return wrap(model, m, error);
}

int recurrent_seq2seq_load(Seq2SeqModel *model, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    RecurrentSeq2seq *m = malloc(sizeof *m);
    if (!m) return error_set(error, "seq2seq-rnn: out of memory");
    if (seq2seq_rnn_load(&m->net, path, error)) return free(m), -1;
    m->teacher_forcing = 1.0f;
    return wrap(model, m, error) ? error_prefix(error, "%s", path) : 0;
}

const Seq2seqRnn *recurrent_seq2seq_net(const Seq2SeqModel *model) {
    const RecurrentSeq2seq *m = model->model;
    return &m->net;
}
