// The Transformer as a Seq2SeqModel: see transformer_seq2seq.h.
#include "models/transformer_seq2seq.h"

#include <stdlib.h>
#include <string.h>

// What encode hands to next_log_probs: the memory of n sources and their pad positions.
typedef struct TransformerEncoding {
    Tensor *memory;          // (n,S,C)
    unsigned char *padding;  // (n,S): 1 where the source is SEQ_PAD
    int n, S;
} TransformerEncoding;

// (n,S) pad mask of sources, in the tape's arena.
static unsigned char *pad_mask(Tape *tape, const int *sources, int n, int S) {
    unsigned char *mask = tape_alloc(tape, (size_t)n * (size_t)S);
    for (long i = 0; mask && i < (long)n * S; i++) mask[i] = sources[i] == SEQ_PAD;
    return mask;
}

static Tensor *transformer_seq2seq_loss(void *model, Tape *tape, const int *source, int S, const int *target, int T,
                                        int B, float smoothing, int training, Random *rng) {
    const TransformerNet *net = model;
    if (T < 2) return tape_fail(tape, "transformer: targets of %d ids (BOS, at least one token)", T);
    int *in = tape_alloc(tape, sizeof(int) * (size_t)B * (T - 1)), *out = tape_alloc(tape, sizeof(int) * (size_t)B * (T - 1));
    unsigned char *padding = pad_mask(tape, source, B, S);
    if (!in || !out || !padding) return NULL;
    for (int b = 0; b < B; b++) {  // teacher forcing: y_<t in, y_t out
        memcpy(in + (size_t)b * (T - 1), target + (size_t)b * T, sizeof(int) * (size_t)(T - 1));
        memcpy(out + (size_t)b * (T - 1), target + (size_t)b * T + 1, sizeof(int) * (size_t)(T - 1));
    }
    Tensor *loss = NULL;
    transformer_forward(tape, net, source, S, in, B, T - 1, padding, out, SEQ_PAD, smoothing, &loss, training, rng);
    return loss;
}

static void *transformer_seq2seq_encode(void *model, Tape *tape, const int *sources, int n, int S) {
    TransformerEncoding *e = tape_alloc(tape, sizeof *e);
    if (!e) return NULL;
    e->n = n, e->S = S;
    e->padding = pad_mask(tape, sources, n, S);
    e->memory = e->padding ? transformer_encode(tape, model, sources, n, S, e->padding, 0, NULL) : NULL;
    return e->memory ? e : NULL;
}

static int transformer_seq2seq_next(void *model, Tape *tape, const void *encoding, const int *rows, int n,
                                    const int *prefixes, int length, float *log_probs) {
    const TransformerNet *net = model;
    const TransformerEncoding *e = encoding;
    unsigned char *padding = tape_alloc(tape, (size_t)n * (size_t)e->S);
    if (!padding) return -1;
    for (int i = 0; i < n; i++) memcpy(padding + (size_t)i * e->S, e->padding + (size_t)rows[i] * e->S, (size_t)e->S);
    Tensor *memory = nn_index_select(tape, e->memory, 0, rows, n);
    Tensor *logits = transformer_decode(tape, net, prefixes, n, length, memory, padding, NULL, 0, NULL);
    Tensor *last = nn_log_softmax(tape, nn_slice(tape, logits, 1, length - 1, length));  // (n,1,V)
    if (!last) return -1;
    memcpy(log_probs, last->data, sizeof(float) * (size_t)last->size);
    return 0;
}

static int transformer_seq2seq_metadata(const void *model, SafetensorsMetadata *metadata, char strings[][32]) {
    return transformer_metadata(model, metadata, strings);
}

static void transformer_seq2seq_free(void *model) {
    transformer_free(model);
    free(model);
}

// The interface around an allocated, created net.
static void wrap(Seq2SeqModel *model, TransformerNet *net) {
    *model = (Seq2SeqModel){.arch = "transformer", .model = net, .params = &net->params,
                            .vocab_size = net->config.tgt_vocab_size, .max_source = net->config.max_source_length,
                            .max_target = net->config.max_target_length, .loss = transformer_seq2seq_loss,
                            .encode = transformer_seq2seq_encode, .next_log_probs = transformer_seq2seq_next,
                            .metadata = transformer_seq2seq_metadata, .free = transformer_seq2seq_free};
}

int transformer_seq2seq_create(Seq2SeqModel *model, const TransformerConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    if (config->src_vocab_size != config->tgt_vocab_size)
        return error_set(error, "transformer: one vocabulary for sources and targets (%d and %d)", config->src_vocab_size,
                         config->tgt_vocab_size);
    TransformerNet *net = malloc(sizeof *net);
    if (!net) return error_set(error, "transformer: out of memory");
    if (transformer_create(net, config, rng, error)) return free(net), -1;
    wrap(model, net);
    return 0;
}

int transformer_seq2seq_load(Seq2SeqModel *model, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    TransformerNet *net = malloc(sizeof *net);
    if (!net) return error_set(error, "transformer: out of memory");
    if (transformer_load(net, path, 0, 0, 0, error)) return free(net), -1;
    if (net->config.src_vocab_size != net->config.tgt_vocab_size) {
        transformer_seq2seq_free(net);
        return error_set(error, "%s: source and target vocabularies differ: not a seq2seq model", path);
    }
    wrap(model, net);
    return 0;
}

const TransformerNet *transformer_seq2seq_net(const Seq2SeqModel *model) { return model->model; }

int transformer_cross_attention(const Seq2SeqModel *model, const int *source, int S, const int *target, int T,
                                float *weights, Error *error) {
    if (T < 2) return error_set(error, "cross-attention: a target of %d ids (BOS and at least one)", T);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *memory = transformer_encode(&tape, model->model, source, 1, S, NULL, 0, NULL);
    Tensor *logits = transformer_decode(&tape, model->model, target, 1, T - 1, memory, NULL, weights, 0, NULL);
    int status = logits ? 0 : tape_error(&tape, error);
    tape_free(&tape);
    return status;
}
