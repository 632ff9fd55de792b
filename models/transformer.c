// The Transformer composed from operations: see transformer.h. Forward only; the tape gives
// the backward.
#include "models/transformer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/layers.h"
#include "nn/init.h"
#include "nn/state_dict.h"

const char *transformer_activation_name(TransformerActivation activation) {
    return activation == TRANSFORMER_GELU ? "gelu" : "relu";
}

int transformer_activation_parse(const char *name, TransformerActivation *activation, Error *error) {
    if (!strcmp(name, "relu")) *activation = TRANSFORMER_RELU;
    else if (!strcmp(name, "gelu")) *activation = TRANSFORMER_GELU;
    else return error_set(error, "unknown activation '%s' (relu | gelu)", name);
    return 0;
}

// ---------------------------------------------------------------------------------------
// MultiheadAttention

int multihead_attention_init(MultiheadAttention *mha, Parameters *params, const char *name, int C, int NH,
                             Random *rng, Error *error) {
    memset(mha, 0, sizeof *mha);
    if (C < 1 || NH < 1 || C % NH)
        return error_set(error, "%s: %d heads do not divide embed_dim %d", name, NH, C);
    mha->embed_dim = C, mha->num_heads = NH;
    char out_name[PARAMETER_NAME_MAX];
    snprintf(out_name, sizeof out_name, "%s.out_proj", name);
    mha->in_proj_weight = parameters_add(params, name, "in_proj_weight", 2, (int[]){3 * C, C}, 0, error);
    mha->in_proj_bias = mha->in_proj_weight ? parameters_add(params, name, "in_proj_bias", 1, (int[]){3 * C}, 0, error) : NULL;
    if (!mha->in_proj_bias || linear_init(&mha->out_proj, params, out_name, C, C, 1, rng, error)) return -1;
    // torch.nn.MultiheadAttention._reset_parameters: xavier_uniform in_proj, zero biases.
    init_xavier_uniform(mha->in_proj_weight, 1.0f, rng);
    init_constant(mha->in_proj_bias, 0.0f);
    init_constant(mha->out_proj.bias, 0.0f);
    return 0;
}

// The probabilities of the attention of q (B,Tq,C) over k, v (B,Tk,C), averaged over the heads
// into weights (B,Tq,Tk): the kernel run once more with its probability output kept.
static void head_averaged_weights(Tape *tape, Tensor *q, Tensor *k, Tensor *v, int NH, int causal,
                                  const unsigned char *key_padding, float *weights) {
    int B = q->shape[0], Tq = q->shape[1], Tk = k->shape[1], C = q->shape[2];
    float *out = tape_alloc(tape, sizeof(float) * (size_t)B * Tq * C);
    float *att = tape_alloc(tape, sizeof(float) * (size_t)B * NH * Tq * Tk);
    if (!out || !att) return;
    Attention a = {.q = q->data, .k = k->data, .v = v->data, .q_stride = C, .kv_stride = C, .B = B, .Tq = Tq,
                   .Tk = Tk, .C = C, .NH = NH, .causal = causal, .key_padding = key_padding};
    attention_forward(out, att, &a);
    for (long b = 0; b < B; b++)
        for (long i = 0; i < (long)Tq * Tk; i++) {
            float sum = 0.0f;
            for (int h = 0; h < NH; h++) sum += att[(b * NH + h) * Tq * Tk + i];
            weights[b * Tq * Tk + i] = sum / (float)NH;
        }
}

Tensor *multihead_attention_apply(Tape *tape, const MultiheadAttention *mha, Tensor *query, Tensor *key_value,
                                  int causal, const unsigned char *key_padding, float *weights) {
    int C = mha->embed_dim;
    Tensor *q, *k, *v;
    if (key_value == query) {  // self-attention: one (3C) projection
        Tensor *qkv = nn_linear(tape, query, mha->in_proj_weight, mha->in_proj_bias);
        q = nn_slice(tape, qkv, -1, 0, C), k = nn_slice(tape, qkv, -1, C, 2 * C), v = nn_slice(tape, qkv, -1, 2 * C, 3 * C);
    } else {  // W^Q on the queries, [W^K; W^V] on the keys' sequence
        Tensor *w = mha->in_proj_weight, *bias = mha->in_proj_bias;
        q = nn_linear(tape, query, nn_slice(tape, w, 0, 0, C), nn_slice(tape, bias, 0, 0, C));
        Tensor *kv = nn_linear(tape, key_value, nn_slice(tape, w, 0, C, 3 * C), nn_slice(tape, bias, 0, C, 3 * C));
        k = nn_slice(tape, kv, -1, 0, C), v = nn_slice(tape, kv, -1, C, 2 * C);
    }
    Tensor *attended = nn_attention(tape, q, k, v, mha->num_heads, causal, key_padding);
    if (attended && weights) head_averaged_weights(tape, q, k, v, mha->num_heads, causal, key_padding, weights);
    return linear_apply(tape, &mha->out_proj, attended);
}

// ---------------------------------------------------------------------------------------
// The layers

static int layer_config_check(const TransformerLayerConfig *c, const char *name, Error *error) {
    if (c->d_model < 1 || c->n_heads < 1 || c->d_model % c->n_heads || c->dim_feedforward < 1)
        return error_set(error, "%s: d_model %d, %d heads (must divide it), feed-forward width %d", name, c->d_model,
                         c->n_heads, c->dim_feedforward);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) return error_set(error, "%s: dropout %g outside [0, 1)", name, c->dropout);
    return 0;
}

// linear1 and linear2 with nn.Transformer's xavier_uniform weights (biases keep Linear's default).
static int feed_forward_init(Linear *linear1, Linear *linear2, Parameters *params, const char *name,
                             const TransformerLayerConfig *c, Random *rng, Error *error) {
    char names[2][PARAMETER_NAME_MAX];
    snprintf(names[0], sizeof names[0], "%s.linear1", name);
    snprintf(names[1], sizeof names[1], "%s.linear2", name);
    if (linear_init(linear1, params, names[0], c->d_model, c->dim_feedforward, 1, rng, error) ||
        linear_init(linear2, params, names[1], c->dim_feedforward, c->d_model, 1, rng, error))
        return -1;
    init_xavier_uniform(linear1->weight, 1.0f, rng);
    init_xavier_uniform(linear2->weight, 1.0f, rng);
    return 0;
}

// "<name>.<module>" for the layer's sub-modules.
static int sub_name(char *out, const char *name, const char *module) {
    snprintf(out, PARAMETER_NAME_MAX, "%s.%s", name, module);
    return 0;
}

int transformer_encoder_layer_init(TransformerEncoderLayer *layer, Parameters *params, const char *name,
                                   const TransformerLayerConfig *config, Random *rng, Error *error) {
    memset(layer, 0, sizeof *layer);
    if (layer_config_check(config, name, error)) return -1;
    layer->config = *config;
    char attn[PARAMETER_NAME_MAX], norm1[PARAMETER_NAME_MAX], norm2[PARAMETER_NAME_MAX];
    sub_name(attn, name, "self_attn"), sub_name(norm1, name, "norm1"), sub_name(norm2, name, "norm2");
    return multihead_attention_init(&layer->self_attn, params, attn, config->d_model, config->n_heads, rng, error) ||
                   feed_forward_init(&layer->linear1, &layer->linear2, params, name, config, rng, error) ||
                   layer_norm_init(&layer->norm1, params, norm1, config->d_model, error) ||
                   layer_norm_init(&layer->norm2, params, norm2, config->d_model, error)
               ? -1
               : 0;
}

int transformer_decoder_layer_init(TransformerDecoderLayer *layer, Parameters *params, const char *name,
                                   const TransformerLayerConfig *config, Random *rng, Error *error) {
    memset(layer, 0, sizeof *layer);
    if (layer_config_check(config, name, error)) return -1;
    layer->config = *config;
    char self[PARAMETER_NAME_MAX], cross[PARAMETER_NAME_MAX], norms[3][PARAMETER_NAME_MAX];
    sub_name(self, name, "self_attn"), sub_name(cross, name, "multihead_attn");
    sub_name(norms[0], name, "norm1"), sub_name(norms[1], name, "norm2"), sub_name(norms[2], name, "norm3");
    int C = config->d_model, NH = config->n_heads;
    return multihead_attention_init(&layer->self_attn, params, self, C, NH, rng, error) ||
                   multihead_attention_init(&layer->multihead_attn, params, cross, C, NH, rng, error) ||
                   feed_forward_init(&layer->linear1, &layer->linear2, params, name, config, rng, error) ||
                   layer_norm_init(&layer->norm1, params, norms[0], C, error) ||
                   layer_norm_init(&layer->norm2, params, norms[1], C, error) ||
                   layer_norm_init(&layer->norm3, params, norms[2], C, error)
               ? -1
               : 0;
}

// linear2(dropout(act(linear1(x)))): the position-wise feed-forward (paper eq. 2 with ReLU).
static Tensor *feed_forward(Tape *tape, const Linear *linear1, const Linear *linear2, const TransformerLayerConfig *c,
                            Tensor *x, int training, Random *rng) {
    Tensor *h = linear_apply(tape, linear1, x);
    h = c->activation == TRANSFORMER_GELU ? nn_gelu(tape, h) : nn_relu(tape, h);
    return linear_apply(tape, linear2, nn_dropout(tape, h, c->dropout, training, rng));
}

// A sublayer's input: norm(x) before it with pre-LN, x itself with post-LN.
static Tensor *sublayer_input(Tape *tape, const TransformerLayerConfig *c, const LayerNorm *norm, Tensor *x) {
    return c->norm_first ? layer_norm_apply(tape, norm, x) : x;
}

// The residual around a sublayer's output h: x + dropout(h), then norm with post-LN.
static Tensor *residual(Tape *tape, const TransformerLayerConfig *c, const LayerNorm *norm, Tensor *x, Tensor *h,
                        int training, Random *rng) {
    Tensor *sum = nn_add(tape, x, nn_dropout(tape, h, c->dropout, training, rng));
    return c->norm_first ? sum : layer_norm_apply(tape, norm, sum);
}

Tensor *transformer_encoder_layer_apply(Tape *tape, const TransformerEncoderLayer *layer, Tensor *x,
                                        const unsigned char *key_padding, int training, Random *rng) {
    const TransformerLayerConfig *c = &layer->config;
    Tensor *h = sublayer_input(tape, c, &layer->norm1, x);
    x = residual(tape, c, &layer->norm1, x, multihead_attention_apply(tape, &layer->self_attn, h, h, 0, key_padding, NULL),
                 training, rng);
    h = sublayer_input(tape, c, &layer->norm2, x);
    return residual(tape, c, &layer->norm2, x, feed_forward(tape, &layer->linear1, &layer->linear2, c, h, training, rng),
                    training, rng);
}

Tensor *transformer_decoder_layer_apply(Tape *tape, const TransformerDecoderLayer *layer, Tensor *x, Tensor *memory,
                                        const unsigned char *memory_padding, float *cross_weights, int training,
                                        Random *rng) {
    const TransformerLayerConfig *c = &layer->config;
    Tensor *h = sublayer_input(tape, c, &layer->norm1, x);
    x = residual(tape, c, &layer->norm1, x, multihead_attention_apply(tape, &layer->self_attn, h, h, 1, NULL, NULL),
                 training, rng);
    h = sublayer_input(tape, c, &layer->norm2, x);
    Tensor *crossed = multihead_attention_apply(tape, &layer->multihead_attn, h, memory, 0, memory_padding, cross_weights);
    x = residual(tape, c, &layer->norm2, x, crossed, training, rng);
    h = sublayer_input(tape, c, &layer->norm3, x);
    return residual(tape, c, &layer->norm3, x, feed_forward(tape, &layer->linear1, &layer->linear2, c, h, training, rng),
                    training, rng);
}

// ---------------------------------------------------------------------------------------
// The model

static int config_check(const TransformerConfig *c, Error *error) {
    if (c->src_vocab_size < 1 || c->tgt_vocab_size < 1)
        return error_set(error, "transformer: vocabularies of %d and %d", c->src_vocab_size, c->tgt_vocab_size);
    if (c->max_source_length < 1 || c->max_target_length < 1)
        return error_set(error, "transformer: maximum lengths %d and %d", c->max_source_length, c->max_target_length);
    if (c->n_encoder_layers < 1 || c->n_encoder_layers > TRANSFORMER_MAX_LAYERS || c->n_decoder_layers < 1 ||
        c->n_decoder_layers > TRANSFORMER_MAX_LAYERS)
        return error_set(error, "transformer: %d encoder and %d decoder layers (1 to %d each)", c->n_encoder_layers,
                         c->n_decoder_layers, TRANSFORMER_MAX_LAYERS);
    return 0;
}

// PE(p, 2i) = sin(p / 10000^(2i/C)), PE(p, 2i+1) = cos(p / 10000^(2i/C)) (paper §3.5), (T,C).
static void sinusoidal_positions(float *pe, int T, int C) {
    for (int p = 0; p < T; p++)
        for (int i = 0; i < C; i += 2) {
            double angle = p / pow(10000.0, (double)i / C);
            pe[(long)p * C + i] = (float)sin(angle);
            if (i + 1 < C) pe[(long)p * C + i + 1] = (float)cos(angle);
        }
}

// The embeddings (and learned positions) and the two stacks, registered in that order.
static int register_modules(TransformerNet *net, Random *rng, Error *error) {
    const TransformerConfig *c = &net->config;
    Parameters *p = &net->params;
    int C = c->d_model;
    if (embedding_init(&net->src_embed, p, "src_embed", c->src_vocab_size, C, rng, error) ||
        embedding_init(&net->tgt_embed, p, "tgt_embed", c->tgt_vocab_size, C, rng, error))
        return -1;
    if (c->learned_positions && (embedding_init(&net->src_pos, p, "src_pos", c->max_source_length, C, rng, error) ||
                                 embedding_init(&net->tgt_pos, p, "tgt_pos", c->max_target_length, C, rng, error)))
        return -1;
    TransformerLayerConfig layer = {C, c->n_heads, c->dim_feedforward, c->activation, c->norm_first, c->dropout};
    char name[PARAMETER_NAME_MAX];
    for (int l = 0; l < c->n_encoder_layers; l++) {
        snprintf(name, sizeof name, "transformer.encoder.layers.%d", l);
        if (transformer_encoder_layer_init(&net->encoder[l], p, name, &layer, rng, error)) return -1;
    }
    if (layer_norm_init(&net->encoder_norm, p, "transformer.encoder.norm", C, error)) return -1;
    for (int l = 0; l < c->n_decoder_layers; l++) {
        snprintf(name, sizeof name, "transformer.decoder.layers.%d", l);
        if (transformer_decoder_layer_init(&net->decoder[l], p, name, &layer, rng, error)) return -1;
    }
    if (layer_norm_init(&net->decoder_norm, p, "transformer.decoder.norm", C, error) ||
        linear_init(&net->generator, p, "generator", C, c->tgt_vocab_size, 1, rng, error))
        return -1;
    init_xavier_uniform(net->generator.weight, 1.0f, rng);
    // Token embeddings N(0, 1/C): × √C gives them unit scale, as the positions have.
    init_normal(net->src_embed.weight, 0.0f, 1.0f / sqrtf((float)C), rng);
    init_normal(net->tgt_embed.weight, 0.0f, 1.0f / sqrtf((float)C), rng);
    return 0;
}

int transformer_create(TransformerNet *net, const TransformerConfig *config, Random *rng, Error *error) {
    memset(net, 0, sizeof *net);
    if (config_check(config, error)) return -1;
    net->config = *config;
    if (register_modules(net, rng, error)) {
        transformer_free(net);
        return -1;
    }
    int T = config->max_source_length > config->max_target_length ? config->max_source_length : config->max_target_length;
    net->positions = malloc(sizeof(float) * (size_t)T * (size_t)config->d_model);
    if (!net->positions) {
        transformer_free(net);
        return error_set(error, "transformer: out of memory");
    }
    sinusoidal_positions(net->positions, T, config->d_model);
    return 0;
}

void transformer_free(TransformerNet *net) {
    parameters_free(&net->params);
    free(net->positions);
    memset(net, 0, sizeof *net);
}

// ids (B,T) -> embed[ids] · √C + positions[0:T] (B,T,C); an id outside the table or T past
// max_length fails on the tape naming which.
static Tensor *embed(Tape *tape, const TransformerNet *net, const Embedding *table, const Embedding *learned,
                     const int *ids, int B, int T, int max_length, const char *what) {
    if (T < 1 || T > max_length)
        return tape_fail(tape, "transformer: %s of length %d (the model takes 1 to %d)", what, T, max_length);
    for (long i = 0; i < (long)B * T; i++)
        if (ids[i] < 0 || ids[i] >= table->num_embeddings)
            return tape_fail(tape, "transformer: %s id %d at position %ld of row %ld is outside the vocabulary of %d",
                             what, ids[i], i % T, i / T, table->num_embeddings);
    int C = net->config.d_model;
    Tensor *x = nn_scale(tape, embedding_apply(tape, table, ids, 2, (int[]){B, T}), sqrtf((float)C));
    Tensor *positions = net->config.learned_positions ? nn_slice(tape, learned->weight, 0, 0, T)
                                                      : tensor_from(tape, net->positions, 2, (int[]){T, C});
    return nn_add(tape, x, positions);
}

Tensor *transformer_encode(Tape *tape, const TransformerNet *net, const int *source, int B, int S,
                           const unsigned char *source_padding, int training, Random *rng) {
    Tensor *x = embed(tape, net, &net->src_embed, &net->src_pos, source, B, S, net->config.max_source_length, "source");
    for (int l = 0; l < net->config.n_encoder_layers; l++)
        x = transformer_encoder_layer_apply(tape, &net->encoder[l], x, source_padding, training, rng);
    return layer_norm_apply(tape, &net->encoder_norm, x);
}

Tensor *transformer_decode(Tape *tape, const TransformerNet *net, const int *target_in, int B, int T, Tensor *memory,
                           const unsigned char *source_padding, float *cross_weights, int training, Random *rng) {
    Tensor *x = embed(tape, net, &net->tgt_embed, &net->tgt_pos, target_in, B, T, net->config.max_target_length, "target");
    int L = net->config.n_decoder_layers;
    for (int l = 0; l < L; l++)
        x = transformer_decoder_layer_apply(tape, &net->decoder[l], x, memory, source_padding,
                                            l == L - 1 ? cross_weights : NULL, training, rng);
    return linear_apply(tape, &net->generator, layer_norm_apply(tape, &net->decoder_norm, x));
}

Tensor *transformer_forward(Tape *tape, const TransformerNet *net, const int *source, int S, const int *target_in,
                            int B, int T, const unsigned char *source_padding, const int *target_out, int ignore_index,
                            float smoothing, Tensor **loss, int training, Random *rng) {
    Tensor *memory = transformer_encode(tape, net, source, B, S, source_padding, training, rng);
    Tensor *logits = transformer_decode(tape, net, target_in, B, T, memory, source_padding, NULL, training, rng);
    if (loss) *loss = target_out ? nn_cross_entropy(tape, logits, target_out, ignore_index, smoothing) : NULL;
    return logits;
}

// ---------------------------------------------------------------------------------------
// Files

// A 2-D float tensor's shape from the file, or -1 (with error) when missing or not 2-D.
static int file_matrix(const Safetensors *file, const char *path, const char *name, int *rows, int *cols, Error *error) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    if (!t || t->ndim != 2) return error_set(error, "%s: %s is missing or not a matrix (not a transformer?)", path, name);
    *rows = (int)t->shape[0], *cols = (int)t->shape[1];
    return 0;
}

static int count_layers(const Safetensors *file, const char *stack) {
    char name[PARAMETER_NAME_MAX];
    int n = 0;
    for (;; n++) {
        snprintf(name, sizeof name, "transformer.%s.layers.%d.self_attn.in_proj_weight", stack, n);
        if (!safetensors_find(file, name)) return n;
    }
}

// An integer of the metadata, or fallback when absent; -1 (with error) when not a number.
static int metadata_int(const Safetensors *file, const char *path, const char *key, int fallback, int *value,
                        Error *error) {
    const char *text = safetensors_metadata(file, key);
    if (!text) return *value = fallback, 0;
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < 0 || v > 1 << 24) return error_set(error, "%s: metadata %s '%s' is not a size", path, key, text);
    *value = (int)v;
    return 0;
}

int transformer_config_from_file(const Safetensors *file, const char *path, int n_heads, int max_source_length,
                                 int max_target_length, TransformerConfig *c, Error *error) {
    memset(c, 0, sizeof *c);
    int C2 = 0, rows = 0;
    if (file_matrix(file, path, "src_embed.weight", &c->src_vocab_size, &c->d_model, error) ||
        file_matrix(file, path, "tgt_embed.weight", &c->tgt_vocab_size, &C2, error) ||
        file_matrix(file, path, "transformer.encoder.layers.0.linear1.weight", &c->dim_feedforward, &rows, error))
        return -1;
    if (C2 != c->d_model) return error_set(error, "%s: src_embed has width %d, tgt_embed %d", path, c->d_model, C2);
    c->n_encoder_layers = count_layers(file, "encoder"), c->n_decoder_layers = count_layers(file, "decoder");
    c->learned_positions = safetensors_find(file, "src_pos.weight") != NULL;
    if (c->learned_positions && (file_matrix(file, path, "src_pos.weight", &max_source_length, &rows, error) ||
                                 file_matrix(file, path, "tgt_pos.weight", &max_target_length, &rows, error)))
        return -1;
    if (metadata_int(file, path, "n_heads", 0, &c->n_heads, error) ||
        metadata_int(file, path, "max_source_length", max_source_length, &c->max_source_length, error) ||
        metadata_int(file, path, "max_target_length", max_target_length, &c->max_target_length, error) ||
        metadata_int(file, path, "norm_first", 0, &c->norm_first, error))
        return -1;
    if (n_heads > 0) c->n_heads = n_heads;  // the caller's, over the file's
    if (c->n_heads < 1) return error_set(error, "%s: the number of heads is not in the file: give it (--heads)", path);
    const char *activation = safetensors_metadata(file, "activation");
    if (activation && transformer_activation_parse(activation, &c->activation, error)) return error_prefix(error, "%s", path);
    if (c->d_model % c->n_heads)
        return error_set(error, "%s: %d heads do not divide d_model %d", path, c->n_heads, c->d_model);
    return config_check(c, error) ? error_prefix(error, "%s", path) : 0;
}

int transformer_load(TransformerNet *net, const char *path, int n_heads, int max_source_length, int max_target_length,
                     Error *error) {
    memset(net, 0, sizeof *net);
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    TransformerConfig config;
    Random rng;
    random_seed(&rng, 0);
    int status = transformer_config_from_file(&file, path, n_heads, max_source_length, max_target_length, &config, error);
    if (!status) status = transformer_create(net, &config, &rng, error);
    if (!status && (status = state_dict_load_file(&net->params, &file, path, error))) transformer_free(net);
    safetensors_free(&file);
    return status;
}

int transformer_metadata(const TransformerNet *net, SafetensorsMetadata *metadata, char strings[][32]) {
    const TransformerConfig *c = &net->config;
    snprintf(strings[0], 32, "%d", c->n_heads);
    snprintf(strings[1], 32, "%d", c->max_source_length);
    snprintf(strings[2], 32, "%d", c->max_target_length);
    snprintf(strings[3], 32, "%d", c->norm_first);
    metadata[0] = (SafetensorsMetadata){"arch", "transformer"};
    metadata[1] = (SafetensorsMetadata){"n_heads", strings[0]};
    metadata[2] = (SafetensorsMetadata){"max_source_length", strings[1]};
    metadata[3] = (SafetensorsMetadata){"max_target_length", strings[2]};
    metadata[4] = (SafetensorsMetadata){"norm_first", strings[3]};
    metadata[5] = (SafetensorsMetadata){"activation", transformer_activation_name(c->activation)};
    return 6;
}
