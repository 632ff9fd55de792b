// BERT composed from the framework's operations: see bert.h. Forward only; the tape gives the
// backward.
#include "models/bert.h"

#include <stdio.h>
#include <string.h>

#include "nn/init.h"

int bert_config_check(const BertConfig *c, Error *error) {
    if (c->vocab_size < 1 || c->max_length < 1 || c->n_layers < 1 || c->n_layers > BERT_MAX_LAYERS || c->n_heads < 1 ||
        c->d_model < 1 || c->d_ff < 1 || c->d_model % c->n_heads)
        return error_set(error, "bert: sizes V %d, max length %d, layers %d (1 to %d), heads %d, dim %d, ff %d (heads must divide dim)",
                         c->vocab_size, c->max_length, c->n_layers, BERT_MAX_LAYERS, c->n_heads, c->d_model, c->d_ff);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) return error_set(error, "bert: dropout %g outside [0, 1)", c->dropout);
    return 0;
}

// BERT's initialisation: every matrix and embedding N(0, 0.02), biases 0 (norms keep 1 and 0).
static void bert_initialise(BertNet *net, Random *rng) {
    for (int i = 0; i < net->params.count; i++) {
        NamedTensor *entry = &net->params.entries[i];
        if (strstr(entry->name, "norm")) continue;
        if (entry->tensor->n_dims == 2) init_normal(entry->tensor, 0.0f, 0.02f, rng);
        else init_constant(entry->tensor, 0.0f);
    }
}

int bert_net_create(BertNet *net, const BertConfig *config, Random *rng, Error *error) {
    memset(net, 0, sizeof *net);
    if (bert_config_check(config, error)) return -1;
    net->config = *config;
    int V = config->vocab_size, C = config->d_model;
    Parameters *p = &net->params;
    int status = embedding_init(&net->word_embeddings, p, "embeddings.word_embeddings", V, C, rng, error) ||
                 embedding_init(&net->position_embeddings, p, "embeddings.position_embeddings", config->max_length, C, rng, error) ||
                 embedding_init(&net->token_type_embeddings, p, "embeddings.token_type_embeddings", BERT_TYPE_VOCAB, C, rng, error) ||
                 layer_norm_init(&net->embeddings_norm, p, "embeddings.layer_norm", C, error);
    TransformerLayerConfig layer = {.d_model = C, .n_heads = config->n_heads, .dim_feedforward = config->d_ff,
                                    .activation = TRANSFORMER_GELU, .norm_first = 0, .dropout = config->dropout};
    for (int l = 0; l < config->n_layers && !status; l++) {
        char name[64];
        snprintf(name, sizeof name, "encoder.layers.%d", l);
        status = transformer_encoder_layer_init(&net->layers[l], p, name, &layer, rng, error);
    }
    if (!status)
        status = linear_init(&net->head_dense, p, "mlm_head.dense", C, C, 1, rng, error) ||
                 layer_norm_init(&net->head_norm, p, "mlm_head.layer_norm", C, error) ||
                 !(net->head_bias = parameters_add(p, "mlm_head", "bias", 1, &V, 0, error));
    if (status) {
        bert_net_free(net);
        return -1;
    }
    bert_initialise(net, rng);
    return 0;
}

void bert_net_free(BertNet *net) {
    parameters_free(&net->params);
    memset(net, 0, sizeof *net);
}

// LayerNorm(word[ids] + position[0:T] + token_type[types]) (B,T,C), dropout while training.
static Tensor *embed(Tape *tape, const BertNet *net, const int *ids, const int *types, int B, int T, int training,
                     Random *rng) {
    Tensor *words = embedding_apply(tape, &net->word_embeddings, ids, 2, (int[]){B, T});
    Tensor *segments = embedding_apply(tape, &net->token_type_embeddings, types, 2, (int[]){B, T});
    Tensor *positions = nn_slice(tape, net->position_embeddings.weight, 0, 0, T);  // (T,C), broadcast over B
    Tensor *sum = nn_add(tape, nn_add(tape, words, positions), segments);
    return nn_dropout(tape, layer_norm_apply(tape, &net->embeddings_norm, sum), net->config.dropout, training, rng);
}

Tensor *bert_forward(Tape *tape, const BertNet *net, const int *ids, const int *types, const unsigned char *key_padding,
                     int B, int T, const int *positions, int M, const int *targets, Tensor **loss, int training,
                     Random *rng) {
    if (loss) *loss = NULL;
    const BertConfig *c = &net->config;
    if (B < 1 || T < 1 || M < 1) return tape_fail(tape, "bert: a batch of %d x %d with %d positions to predict", B, T, M);
    if (T > c->max_length) return tape_fail(tape, "bert: %d tokens is longer than the model's maximum %d", T, c->max_length);
    Tensor *x = embed(tape, net, ids, types, B, T, training, rng);
    for (int l = 0; l < c->n_layers; l++)
        x = transformer_encoder_layer_apply(tape, &net->layers[l], x, key_padding, training, rng);
    // Only the M positions to predict go through the head: (B·T,C) -> (M,C).
    Tensor *chosen = nn_index_select(tape, nn_reshape(tape, x, 2, (int[]){B * T, c->d_model}), 0, positions, M);
    Tensor *h = layer_norm_apply(tape, &net->head_norm, nn_gelu(tape, linear_apply(tape, &net->head_dense, chosen)));
    Tensor *logits = nn_linear(tape, h, net->word_embeddings.weight, net->head_bias);  // tied decoder, (M,V)
    if (loss && targets) *loss = nn_cross_entropy(tape, logits, targets, NN_NO_IGNORE, 0.0f);
    return logits;
}
