// GPT-2 in one file: the model, its forward and backward passes, and decoding with a
// key/value cache. The capstone stage: the same ModelOps interface as the bigram and the
// MLP, so the shared training loop, sampler, evaluator and checkpoints serve it unchanged.
//
// The architecture (Radford et al. 2019), as llm.c's train_gpt2.c lays it out:
//   x = wte[token] + wpe[position]
//   for each of L blocks:           (pre-LayerNorm)
//       x = x + attention_projection(causal_self_attention(qkv(layernorm_1(x))))
//       x = x + mlp_projection(gelu(mlp(layernorm_2(x))))
//   logits = layernorm_final(x) · wteᵀ     (the output matrix is tied to the token embedding)
// LayerNorm eps 1e-5, biases everywhere, GELU in its tanh form.
//
// Each linear layer is one call (gpt/linear_layer.h hides whether its weight is fp32 or
// quantized and whether it carries a LoRA adapter); attention is foundations/layers.h's.
// llm.c's file formats, which load the released GPT-2 weights, are in gpt/llmc.c.
//
// Dropout while training (model.h's ModelDropout; GPT-2's code: embd_pdrop, attn_pdrop,
// resid_pdrop), inverted, m = keep/(1-p) with keep ~ Bernoulli(1-p):
//   x = m_e ∘ (wte[token] + wpe[position])
//   att = m_a ∘ softmax(q kᵀ/√HS + mask)           (the probabilities, per head)
//   x = x + m_r ∘ attention_projection(...),  x = x + m_r' ∘ mlp_projection(...)
// and each backward is the same mask times the upstream gradient. The masks are stored as
// bytes (one per value, a quarter of the attention matrix they go with) rather than drawn again
// in the backward: drawing costs a Philox call per four values, and the bytes are small next to
// the activations kept anyway. Not here: mixed precision.
//
// Size letters: B batch, T time, C channels (d_model), NH heads, HS = C/NH head size,
// L layers, V vocabulary, maxT the context length.
#include "gpt/gpt2.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/layers.h"
#include "foundations/matmul.h"
#include "foundations/random.h"
#include "gpt/linear_layer.h"

// ----------------------------------------------------------------------------
// parameters: one flat buffer, sixteen named tensors, in llm.c's order

enum { N_GPT2_TENSORS = 16 };

// Indices into the tensor table, in the order llm.c stores them.
enum { WTE, WPE, LN1W, LN1B, QKVW, QKVB, ATTPROJW, ATTPROJB, LN2W, LN2B, FCW, FCB, FCPROJW, FCPROJB, LNFW, LNFB };

// The tensor table for a config, in llm.c's order. wte is (V, C) here; llm.c's file pads it
// to (Vp, C).
static void gpt2_layout(Model *model) {
    const ModelConfig *cfg = &model->config;
    int V = cfg->vocab_size, C = cfg->d_model, L = cfg->n_layers, maxT = cfg->context_length;
    int matrix = cfg->weight_type, embedding = cfg->embedding_type, f32 = TENSOR_F32;
    model_add_tensor(model, "wte", embedding, 2, (int[]){V, C});
    model_add_tensor(model, "wpe", f32, 2, (int[]){maxT, C});
    model_add_tensor(model, "ln1w", f32, 2, (int[]){L, C});
    model_add_tensor(model, "ln1b", f32, 2, (int[]){L, C});
    model_add_tensor(model, "qkvw", matrix, 3, (int[]){L, 3 * C, C});
    model_add_tensor(model, "qkvb", f32, 2, (int[]){L, 3 * C});
    model_add_tensor(model, "attprojw", matrix, 3, (int[]){L, C, C});
    model_add_tensor(model, "attprojb", f32, 2, (int[]){L, C});
    model_add_tensor(model, "ln2w", f32, 2, (int[]){L, C});
    model_add_tensor(model, "ln2b", f32, 2, (int[]){L, C});
    model_add_tensor(model, "fcw", matrix, 3, (int[]){L, 4 * C, C});
    model_add_tensor(model, "fcb", f32, 2, (int[]){L, 4 * C});
    model_add_tensor(model, "fcprojw", matrix, 3, (int[]){L, C, 4 * C});
    model_add_tensor(model, "fcprojb", f32, 2, (int[]){L, C});
    model_add_tensor(model, "lnfw", f32, 1, (int[]){C});
    model_add_tensor(model, "lnfb", f32, 1, (int[]){C});
}

// Pointers to the sixteen tensors of one buffer (params or grads).
typedef struct Weights {
    float *wte, *wpe, *ln1w, *ln1b, *qkvw, *qkvb, *attprojw, *attprojb;
    float *ln2w, *ln2b, *fcw, *fcb, *fcprojw, *fcprojb, *lnfw, *lnfb;
} Weights;

// Quantized tensors have no fp32 values: their pointers are NULL (linear_layer_of reads them).
static Weights weights_of(const Model *model, float *base) {
    const TensorInfo *t = model->tensors;
    float *p[N_GPT2_TENSORS];
    for (int i = 0; i < N_GPT2_TENSORS; i++) p[i] = t[i].type == TENSOR_F32 ? base + t[i].offset : NULL;
    Weights w = {p[WTE],  p[WPE],    p[LN1W], p[LN1B], p[QKVW],    p[QKVB],    p[ATTPROJW], p[ATTPROJB],
                 p[LN2W], p[LN2B],   p[FCW],  p[FCB],  p[FCPROJW], p[FCPROJB], p[LNFW],     p[LNFB]};
    return w;
}

int gpt2_matrix_tensor(Gpt2Matrix matrix) {
    static const int tensors[GPT2_N_MATRICES] = {QKVW, ATTPROJW, FCW, FCPROJW};
    return tensors[matrix];
}

const char *gpt2_matrix_name(Gpt2Matrix matrix) {
    static const char *names[GPT2_N_MATRICES] = {"qkvw", "attprojw", "fcw", "fcprojw"};
    return names[matrix];
}

void gpt2_matrix_shape(const ModelConfig *config, Gpt2Matrix matrix, int *N, int *K) {
    int C = config->d_model;
    static const int outputs[GPT2_N_MATRICES] = {3, 1, 4, 1}, inputs[GPT2_N_MATRICES] = {1, 1, 1, 4};
    *N = outputs[matrix] * C;
    *K = inputs[matrix] * C;
}

// ----------------------------------------------------------------------------
// activations: what the forward keeps for the backward, per layer, for B x T

typedef struct Activations {
    float *encoded;                        // (B,T,C)
    float *ln1, *ln1_mean, *ln1_rstd;      // (L,B,T,C), (L,B,T), (L,B,T)
    float *qkv;                            // (L,B,T,3C)
    float *atty;                           // (L,B,T,C) attention output before the projection
    float *att;                            // (L,B,NH,T,T) attention probabilities
    float *attproj;                        // (L,B,T,C)
    float *residual2;                      // (L,B,T,C) after the attention's residual add
    float *ln2, *ln2_mean, *ln2_rstd;      // (L,B,T,C), (L,B,T), (L,B,T)
    float *fch, *fch_gelu;                 // (L,B,T,4C)
    float *fcproj;                         // (L,B,T,C)
    float *residual3;                      // (L,B,T,C) the block's output
    float *lnf, *lnf_mean, *lnf_rstd;      // (B,T,C), (B,T), (B,T)
    float *logits, *probs;                 // (B,T,V)
    float *losses;                         // (B,T)
} Activations;

// Gradients of activations for the backward. One layer's worth, reused layer after layer,
// since a layer's activation gradients are dead once its weights' gradients are done.
typedef struct ActivationGrads {
    float *d_logits;                       // (B,T,V)
    float *d_lnf;                          // (B,T,C)
    float *d_residual;                     // (B,T,C) gradient flowing down the residual stream
    float *d_ln, *d_atty;                  // (B,T,C)
    float *d_qkv;                          // (B,T,3C)
    float *d_fch, *d_fch_gelu;             // (B,T,4C)
    float *frozen_sink;                    // (2C) where a frozen base's LayerNorm gradients go
} ActivationGrads;

// Decoding state: the key/value cache and single-chunk scratch buffers.
typedef struct Decoder {
    float *key_cache, *value_cache;        // (L, maxT, C) each
    int *cached_tokens;                    // (maxT) the tokens whose keys/values are cached
    int n_cached;
    float *x, *ln, *qkv, *atty, *proj, *fch; // (chunk, C / 3C / 4C) scratch for new tokens
    float *att;                            // (NH, chunk, maxT)
    float *mean, *rstd;                    // (chunk)
} Decoder;

// Prompt tokens are processed together in chunks of at most this many, so the scratch
// stays small while the matmuls still see many rows.
enum { DECODE_CHUNK = 64 };

typedef struct Gpt2State {
    Activations acts;
    ActivationGrads grads;
    int *inputs, *targets;                 // (B,T) copies of the last forward's batch
    int B, T;                              // the sizes of the last forward
    Decoder decoder;
    float *activation_memory, *grad_memory;
    // LoRA (gpt2.h): the adapters, or NULL, and their scratch: h and d_h, (rows, r) each, for
    // up to max(B·T, DECODE_CHUNK) rows.
    const Gpt2Adapters *adapters;
    float *adapter_scratch;
    long adapter_scratch_floats;
    // Dropout: the last forward's (all zero when it had none, or was not training), and its
    // keep flags (gpt2_dropout_mask gives the layout), allocated by the first forward that needs them.
    ModelDropout dropout;
    unsigned char *dropout_memory;
} Gpt2State;

static void free_activations(Gpt2State *state) {
    free(state->activation_memory);
    free(state->grad_memory);
    free(state->inputs);
    free(state->targets);
    free(state->dropout_memory);
    state->dropout_memory = NULL;
    memset(&state->dropout, 0, sizeof state->dropout);
    state->activation_memory = state->grad_memory = NULL;
    state->inputs = state->targets = NULL;
}

static void free_decoder(Decoder *d) {
    free(d->key_cache), free(d->value_cache), free(d->cached_tokens);
    free(d->x), free(d->ln), free(d->qkv), free(d->atty), free(d->proj), free(d->fch), free(d->att);
    free(d->mean), free(d->rstd);
    memset(d, 0, sizeof *d);
}

static void gpt2_free_state(Model *model) {
    Gpt2State *state = model->state;
    if (!state) return;
    free_activations(state);
    free_decoder(&state->decoder);
    free(state->adapter_scratch);
    free(state);
    model->state = NULL;
}

// Makes the adapters' scratch hold h and d_h for rows rows (none needed without adapters).
static int adapter_scratch_reserve(Gpt2State *state, long rows, Error *error) {
    if (!state->adapters) return 0;
    long floats = 2 * rows * state->adapters->rank;
    if (floats <= state->adapter_scratch_floats) return 0;
    float *scratch = realloc(state->adapter_scratch, sizeof(float) * (size_t)floats);
    if (!scratch) return error_set(error, "gpt2: out of memory for the adapters' scratch of %ld floats", floats);
    state->adapter_scratch = scratch;
    state->adapter_scratch_floats = floats;
    return 0;
}

// Carves consecutive pieces out of one allocation.
static float *take(float **cursor, long n) {
    float *piece = *cursor;
    *cursor += n;
    return piece;
}

static int gpt2_prepare(Model *model, int B, int T, Error *error) {
    const ModelConfig *cfg = &model->config;
    if (B < 1 || T < 1) return error_set(error, "gpt2: batch %d x %d must be at least 1 x 1", B, T);
    if (T > cfg->context_length)
        return error_set(error, "gpt2: context %d is longer than the model's %d", T, cfg->context_length);
    Gpt2State *state = model->state;
    free_activations(state);
    long L = cfg->n_layers, C = cfg->d_model, NH = cfg->n_heads, V = cfg->vocab_size, BT = (long)B * T;
    // per layer: 18 (B,T,C)-sized tensors (ln1, atty, attproj, residual2, ln2, fcproj, residual3,
    // qkv x3, fch and fch_gelu x4 each), 4 row statistics and the attention matrix
    long n_acts = 18 * L * BT * C + 4 * L * BT + L * B * NH * T * T + BT * C /* encoded */ + BT * C + 2 * BT /* lnf */ +
                  2 * BT * V /* logits, probs */ + BT /* losses */;
    state->activation_memory = malloc(sizeof(float) * (size_t)n_acts);
    state->inputs = malloc(sizeof(int) * (size_t)BT);
    state->targets = malloc(sizeof(int) * (size_t)BT);
    if (!state->activation_memory || !state->inputs || !state->targets) {
        free_activations(state);
        return error_set(error, "gpt2: out of memory for activations of batch %d x %d", B, T);
    }
    float *cursor = state->activation_memory;
    Activations *a = &state->acts;
    a->encoded = take(&cursor, BT * C);
    a->ln1 = take(&cursor, L * BT * C);
    a->ln1_mean = take(&cursor, L * BT);
    a->ln1_rstd = take(&cursor, L * BT);
    a->qkv = take(&cursor, L * BT * 3 * C);
    a->atty = take(&cursor, L * BT * C);
    a->att = take(&cursor, L * B * NH * T * T);
    a->attproj = take(&cursor, L * BT * C);
    a->residual2 = take(&cursor, L * BT * C);
    a->ln2 = take(&cursor, L * BT * C);
    a->ln2_mean = take(&cursor, L * BT);
    a->ln2_rstd = take(&cursor, L * BT);
    a->fch = take(&cursor, L * BT * 4 * C);
    a->fch_gelu = take(&cursor, L * BT * 4 * C);
    a->fcproj = take(&cursor, L * BT * C);
    a->residual3 = take(&cursor, L * BT * C);
    a->lnf = take(&cursor, BT * C);
    a->lnf_mean = take(&cursor, BT);
    a->lnf_rstd = take(&cursor, BT);
    a->logits = take(&cursor, BT * V);
    a->probs = take(&cursor, BT * V);
    a->losses = take(&cursor, BT);
    if (model->training) {
        long n_grads = BT * V + 4 * BT * C + BT * 3 * C + 2 * BT * 4 * C + 2 * C;
        state->grad_memory = malloc(sizeof(float) * (size_t)n_grads);
        if (!state->grad_memory) {
            free_activations(state);
            return error_set(error, "gpt2: out of memory for the gradients of batch %d x %d", B, T);
        }
        cursor = state->grad_memory;
        ActivationGrads *g = &state->grads;
        g->d_logits = take(&cursor, BT * V);
        g->d_lnf = take(&cursor, BT * C);
        g->d_residual = take(&cursor, BT * C);
        g->d_ln = take(&cursor, BT * C);
        g->d_atty = take(&cursor, BT * C);
        g->d_qkv = take(&cursor, BT * 3 * C);
        g->d_fch = take(&cursor, BT * 4 * C);
        g->d_fch_gelu = take(&cursor, BT * 4 * C);
        g->frozen_sink = take(&cursor, 2 * C);
    }
    if (adapter_scratch_reserve(state, BT > DECODE_CHUNK ? BT : DECODE_CHUNK, error)) {
        free_activations(state);
        return -1;
    }
    model->batch_size = B;
    model->seq_len = T;
    return 0;
}

// ----------------------------------------------------------------------------
// the linear layers: fp32 or quantized weights, perhaps with adapters (gpt/linear_layer.h)

// A gradient of the base's own parameters (offset floats into tensor), or NULL when the base
// is frozen (see gpt2.h).
static float *grad_of(const Model *model, int tensor, long offset) {
    if (!model->grads || model->quantized) return NULL;
    return model->grads + model->tensors[tensor].offset + offset;
}

// The layer-th (N,K) matrix of weight tensor (L,N,K) (layer 0 for wte, which is also the
// output matrix), its bias (bias_tensor, or -1: none), their gradients and its adapter.
static LinearLayer linear_layer_of(const Model *model, int tensor, int bias_tensor, int layer) {
    const Gpt2State *state = model->state;
    const TensorInfo *t = &model->tensors[tensor];
    int N = t->shape[t->n_dims - 2], K = t->shape[t->n_dims - 1];
    LinearLayer linear = {.in_features = K, .out_features = N};
    if (t->type == TENSOR_F32) {
        linear.weight = model->params + t->offset + (long)layer * N * K;
    } else {
        size_t bytes = (size_t)N * quant_row_bytes(t->type, K);
        linear.quantized = model->quantized[tensor];
        linear.quantized.data = (unsigned char *)linear.quantized.data + (size_t)layer * bytes;
        linear.quantized.rows = N;
        linear.quantized.bytes = bytes;
        linear.quantized.owns_data = 0;
    }
    if (bias_tensor >= 0) {
        linear.bias = model->params + model->tensors[bias_tensor].offset + (long)layer * N;
        linear.d_bias = grad_of(model, bias_tensor, (long)layer * N);
    }
    linear.d_weight = grad_of(model, tensor, (long)layer * N * K);
    const Gpt2Adapters *adapters = state->adapters;
    int m = -1;
    for (int i = 0; i < GPT2_N_MATRICES; i++)
        if (gpt2_matrix_tensor(i) == tensor) m = i;
    if (adapters && m >= 0 && adapters->a[m]) {
        int r = adapters->rank;
        linear.rank = r;
        linear.scale = adapters->scale;
        linear.lora_a = adapters->a[m] + (long)layer * r * K;
        linear.lora_b = adapters->b[m] + (long)layer * N * r;
        linear.d_lora_a = adapters->d_a[m] ? adapters->d_a[m] + (long)layer * r * K : NULL;
        linear.d_lora_b = adapters->d_b[m] ? adapters->d_b[m] + (long)layer * N * r : NULL;
        linear.scratch = state->adapter_scratch;  // prepare and gpt2_set_adapters size it
    }
    return linear;
}

// out (M,N) = inp (M,K) · Wᵀ + bias for the layer-th matrix of tensor.
static void linear_forward_of(float *out, const float *inp, const Model *model, int tensor, int bias, int layer,
                              long M) {
    LinearLayer linear = linear_layer_of(model, tensor, bias, layer);
    linear_layer_forward(&linear, out, inp, (int)M);
}

// Its backward: d_inp (M,K) += d_out · W, and the weight's, bias's and adapter's gradients.
static int linear_backward_of(float *d_inp, const float *d_out, const float *inp, const Model *model, int tensor,
                              int bias, int layer, long M, Error *error) {
    LinearLayer linear = linear_layer_of(model, tensor, bias, layer);
    return linear_layer_backward(&linear, d_inp, d_out, inp, (int)M, error);
}

// ----------------------------------------------------------------------------
// the layers GPT-2 adds to the foundations

// Token plus position embedding: inputs (B,T), wte (V,C), wpe (maxT,C) -> out (B,T,C).
// A quantized wte gives its rows dequantized.
static void encoder_forward(float *out, const int *inputs, const Model *model, int B, int T, int C, int first_position) {
    Weights w = weights_of(model, model->params);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((long)b * T + t) * C;
            const float *position = w.wpe + (long)(first_position + t) * C;
            if (w.wte) memcpy(o, w.wte + (long)inputs[b * T + t] * C, sizeof(float) * (size_t)C);
            else quant_dequantize_row(&model->quantized[WTE], inputs[b * T + t], o);
            for (int c = 0; c < C; c++) o[c] += position[c];
        }
}

// out = wte[token] + wpe[t]: each receives d_out; repeated tokens add up (serially, so the
// order, and with it the result, is the same on every run).
static void encoder_backward(float *d_wte, float *d_wpe, const float *d_out, const int *inputs, int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *g = d_out + ((long)b * T + t) * C;
            float *d_token = d_wte + (long)inputs[b * T + t] * C, *d_position = d_wpe + (long)t * C;
            for (int c = 0; c < C; c++) {
                d_token[c] += g[c];
                d_position[c] += g[c];
            }
        }
}

// ----------------------------------------------------------------------------
// dropout: masks drawn by name (model.h), kept as bytes for the backward

// The probability of a site.
static float dropout_p(const ModelDropout *d, Gpt2DropoutSite site) {
    return site == GPT2_DROPOUT_EMBEDDING ? d->embedding : site == GPT2_DROPOUT_ATTENTION ? d->attention : d->residual;
}

// Where the keep flags of a site and layer are for the last forward's B x T (see gpt2.h).
static unsigned char *dropout_keep(const Model *model, Gpt2DropoutSite site, int layer) {
    const Gpt2State *state = model->state;
    long L = model->config.n_layers, C = model->config.d_model, NH = model->config.n_heads, B = state->B, T = state->T;
    long BTC = B * T * C, attention = B * NH * T * T;
    unsigned char *m = state->dropout_memory;
    switch (site) {
    case GPT2_DROPOUT_EMBEDDING: return m;
    case GPT2_DROPOUT_ATTENTION: return m + BTC + layer * attention;
    case GPT2_DROPOUT_ATTPROJ: return m + BTC + L * attention + layer * BTC;
    default: return m + BTC + L * attention + L * BTC + layer * BTC;
    }
}

const unsigned char *gpt2_dropout_mask(const Model *model, Gpt2DropoutSite site, int layer) {
    const Gpt2State *state = model->state;
    if (!state || !state->dropout_memory || !(dropout_p(&state->dropout, site) > 0.0f)) return NULL;
    return dropout_keep(model, site, layer);
}

// Checks the probabilities and allocates the flags for the prepared B x T (once).
static int dropout_prepare(Model *model, const ModelDropout *d, Error *error) {
    Gpt2State *state = model->state;
    float p[3] = {d->embedding, d->attention, d->residual};
    for (int i = 0; i < 3; i++)
        if (!(p[i] >= 0.0f && p[i] < 1.0f)) return error_set(error, "gpt2: dropout probability %g outside [0, 1)", (double)p[i]);
    if (state->dropout_memory) return 0;
    const ModelConfig *cfg = &model->config;
    long L = cfg->n_layers, C = cfg->d_model, NH = cfg->n_heads, B = model->batch_size, T = model->seq_len;
    size_t bytes = (size_t)(B * T * C * (1 + 2 * L) + L * B * NH * T * T);
    state->dropout_memory = malloc(bytes);
    if (!state->dropout_memory) return error_set(error, "gpt2: out of memory for %zu bytes of dropout masks", bytes);
    return 0;
}

// keep (B, n): keep[b][i] = 0 with probability p. The flag is Philox's (foundations/random.h)
// word i mod 4 for the counter (step, first_sample + b, site, i / 4) under the seed, 0 when
// below p·2^32; site is 0 for the embedding and 4 (layer + 1) + site for the others. Each
// sample's flags depend on its global index alone, whoever draws them.
static void dropout_draw(unsigned char *keep, const ModelDropout *d, Gpt2DropoutSite site, int layer, int B, long n) {
    double below = (double)dropout_p(d, site) * 4294967296.0;
    uint32_t threshold = below < 4294967295.0 ? (uint32_t)below : 4294967295u;
    uint32_t site_word = site == GPT2_DROPOUT_EMBEDDING ? 0u : (uint32_t)(4 * (layer + 1) + (int)site);
#pragma omp parallel for if ((long)B * n > 65536)
    for (int b = 0; b < B; b++) {
        unsigned char *row = keep + (long)b * n;
        for (long i = 0; i < n; i += 4) {
            uint32_t counter[4] = {(uint32_t)d->step, (uint32_t)(d->first_sample + b), site_word, (uint32_t)(i / 4)};
            uint32_t words[4];
            random_philox(counter, d->seed, words);
            for (long j = 0; j < 4 && i + j < n; j++) row[i + j] = words[j] >= threshold;
        }
    }
}

// out (n) = m ∘ x with m = keep/(1-p): the forward on activations and the backward on
// gradients alike (out may be x).
static void dropout_apply(float *out, const float *x, const unsigned char *keep, float p, long n) {
    float scale = 1.0f / (1.0f - p);
    for (long i = 0; i < n; i++) out[i] = keep[i] ? x[i] * scale : 0.0f;
}

// The forward's dropout at a (B,T,C)-shaped site: draws the flags and applies them to x in place.
static void dropout_forward_site(Model *model, float *x, Gpt2DropoutSite site, int layer) {
    const Gpt2State *state = model->state;
    long n = (long)model->config.d_model * state->T;
    unsigned char *keep = dropout_keep(model, site, layer);
    dropout_draw(keep, &state->dropout, site, layer, state->B, n);
    dropout_apply(x, x, keep, dropout_p(&state->dropout, site), state->B * n);
}

// ----------------------------------------------------------------------------
// forward and backward over a batch (training and evaluation)

static int gpt2_forward(Model *model, const int *inputs, const int *targets, int B, int T, Error *error) {
    const ModelConfig *cfg = &model->config;
    Gpt2State *state = model->state;
    if (!state->activation_memory || B > model->batch_size || T > model->seq_len || (long)B * T > (long)model->batch_size * model->seq_len)
        return error_set(error, "gpt2: batch %d x %d exceeds the prepared %d x %d", B, T, model->batch_size, model->seq_len);
    int L = cfg->n_layers, C = cfg->d_model, NH = cfg->n_heads, V = cfg->vocab_size;
    long BT = (long)B * T;
    for (long i = 0; i < BT; i++) {
        if (inputs[i] < 0 || inputs[i] >= V) return error_set(error, "gpt2: input token %d outside [0, %d)", inputs[i], V);
        if (targets && (targets[i] < 0 || targets[i] >= V))
            return error_set(error, "gpt2: target token %d outside [0, %d)", targets[i], V);
    }
    // dropout only while training, and only at the sites whose p is not 0
    ModelDropout dropout = {0};
    if (model->training) dropout = model->dropout;
    int drops = dropout.embedding != 0.0f || dropout.attention != 0.0f || dropout.residual != 0.0f;
    if (drops && dropout_prepare(model, &dropout, error)) return -1;
    memcpy(state->inputs, inputs, sizeof(int) * (size_t)BT);
    if (targets) memcpy(state->targets, targets, sizeof(int) * (size_t)BT);
    state->B = B, state->T = T;
    state->dropout = dropout;

    Weights w = weights_of(model, model->params);
    Activations *a = &state->acts;
    encoder_forward(a->encoded, inputs, model, B, T, C, 0);
    if (dropout.embedding > 0.0f) dropout_forward_site(model, a->encoded, GPT2_DROPOUT_EMBEDDING, 0);
    for (int l = 0; l < L; l++) {
        const float *residual = l == 0 ? a->encoded : a->residual3 + (l - 1) * BT * C;
        // this layer's weights
        const float *ln1w = w.ln1w + l * C, *ln1b = w.ln1b + l * C;
        const float *ln2w = w.ln2w + l * C, *ln2b = w.ln2b + l * C;
        // this layer's activations
        float *ln1 = a->ln1 + l * BT * C, *ln1_mean = a->ln1_mean + l * BT, *ln1_rstd = a->ln1_rstd + l * BT;
        float *qkv = a->qkv + l * BT * 3 * C, *atty = a->atty + l * BT * C;
        float *att = a->att + (long)l * B * NH * T * T, *attproj = a->attproj + l * BT * C;
        float *residual2 = a->residual2 + l * BT * C;
        float *ln2 = a->ln2 + l * BT * C, *ln2_mean = a->ln2_mean + l * BT, *ln2_rstd = a->ln2_rstd + l * BT;
        float *fch = a->fch + l * BT * 4 * C, *fch_gelu = a->fch_gelu + l * BT * 4 * C;
        float *fcproj = a->fcproj + l * BT * C, *residual3 = a->residual3 + l * BT * C;

        layernorm_forward(ln1, ln1_mean, ln1_rstd, residual, ln1w, ln1b, (int)BT, C);
        linear_forward_of(qkv, ln1, model, QKVW, QKVB, l, BT);
        Attention attention = attention_self(qkv, B, T, C, NH);
        if (dropout.attention > 0.0f) {
            unsigned char *keep = dropout_keep(model, GPT2_DROPOUT_ATTENTION, l);
            dropout_draw(keep, &dropout, GPT2_DROPOUT_ATTENTION, l, B, (long)NH * T * T);
            attention.dropout_keep = keep;
            attention.dropout_scale = 1.0f / (1.0f - dropout.attention);
        }
        if (attention_forward(atty, att, &attention))
            return error_set(error, "gpt2: out of memory for the attention's dropout");
        linear_forward_of(attproj, atty, model, ATTPROJW, ATTPROJB, l, BT);
        if (dropout.residual > 0.0f) dropout_forward_site(model, attproj, GPT2_DROPOUT_ATTPROJ, l);
        residual_forward(residual2, residual, attproj, BT * C);
        layernorm_forward(ln2, ln2_mean, ln2_rstd, residual2, ln2w, ln2b, (int)BT, C);
        linear_forward_of(fch, ln2, model, FCW, FCB, l, BT);
        gelu_forward(fch_gelu, fch, BT * 4 * C);
        linear_forward_of(fcproj, fch_gelu, model, FCPROJW, FCPROJB, l, BT);
        if (dropout.residual > 0.0f) dropout_forward_site(model, fcproj, GPT2_DROPOUT_FCPROJ, l);
        residual_forward(residual3, residual2, fcproj, BT * C);
    }
    const float *last = a->residual3 + (L - 1) * BT * C;
    layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, last, w.lnfw, w.lnfb, (int)BT, C);
    linear_forward_of(a->logits, a->lnf, model, WTE, -1, 0, BT);
    model->logits = a->logits;
    model->loss = targets ? cross_entropy_forward(a->losses, a->probs, a->logits, targets, (int)BT, V) : -1.0f;
    return 0;
}

// LayerNorm's weight and bias gradients of layer `layer`, or the sink for a frozen base.
static void layernorm_grads(const Model *model, int weight, int bias, int layer, float **d_weight, float **d_bias) {
    const Gpt2State *state = model->state;
    long C = model->config.d_model;
    *d_weight = grad_of(model, weight, layer * C);
    *d_bias = grad_of(model, bias, layer * C);
    if (!*d_weight) *d_weight = state->grads.frozen_sink, *d_bias = state->grads.frozen_sink + C;
}

// The chain rule through the forward above, last layer first. Gradients of the weights
// accumulate into model->grads (the caller zeroes them once per step); a frozen base (gpt2.h)
// computes only the activations' gradients and the adapters'.
static int gpt2_backward(Model *model, Error *error) {
    const ModelConfig *cfg = &model->config;
    Gpt2State *state = model->state;
    int B = state->B, T = state->T, L = cfg->n_layers, C = cfg->d_model, NH = cfg->n_heads, V = cfg->vocab_size;
    long BT = (long)B * T;
    Weights w = weights_of(model, model->params);
    Activations *a = &state->acts;
    ActivationGrads *g = &state->grads;
    float *d_weight, *d_bias;
    float p_residual = state->dropout.residual, p_attention = state->dropout.attention;

    // the mean loss: each position's loss has weight 1/(B T); or the caller's weights (model.h)
    memset(g->d_logits, 0, sizeof(float) * (size_t)(BT * V));
    if (!model->loss_weights) {
        cross_entropy_backward(g->d_logits, a->probs, state->targets, 1.0f / (float)BT, (int)BT, V);
    } else {
        for (long i = 0; i < BT; i++)
            if (model->loss_weights[i] != 0.0f)
                cross_entropy_backward(g->d_logits + i * V, a->probs + i * V, state->targets + i,
                                       model->loss_weights[i], 1, V);
    }
    memset(g->d_lnf, 0, sizeof(float) * (size_t)(BT * C));
    if (linear_backward_of(g->d_lnf, g->d_logits, a->lnf, model, WTE, -1, 0, BT, error)) return -1;
    memset(g->d_residual, 0, sizeof(float) * (size_t)(BT * C));
    const float *last = a->residual3 + (L - 1) * BT * C;
    layernorm_grads(model, LNFW, LNFB, 0, &d_weight, &d_bias);
    layernorm_backward(g->d_residual, d_weight, d_bias, g->d_lnf, last, w.lnfw, a->lnf_mean, a->lnf_rstd, (int)BT, C);

    for (int l = L - 1; l >= 0; l--) {
        const float *residual = l == 0 ? a->encoded : a->residual3 + (l - 1) * BT * C;
        const float *ln1w = w.ln1w + l * C, *ln2w = w.ln2w + l * C;
        const float *ln1 = a->ln1 + l * BT * C, *ln1_mean = a->ln1_mean + l * BT, *ln1_rstd = a->ln1_rstd + l * BT;
        const float *qkv = a->qkv + l * BT * 3 * C, *atty = a->atty + l * BT * C;
        const float *att = a->att + (long)l * B * NH * T * T, *residual2 = a->residual2 + l * BT * C;
        const float *ln2 = a->ln2 + l * BT * C, *ln2_mean = a->ln2_mean + l * BT, *ln2_rstd = a->ln2_rstd + l * BT;
        const float *fch = a->fch + l * BT * 4 * C, *fch_gelu = a->fch_gelu + l * BT * 4 * C;

        // residual3 = residual2 + m ∘ fcproj: d_residual reaches residual2 unchanged, so it stays
        // where it is, and is d_fcproj (after the mask, in d_ln, which is free until below).
        const float *d_fcproj = g->d_residual;
        if (p_residual > 0.0f) {
            dropout_apply(g->d_ln, g->d_residual, dropout_keep(model, GPT2_DROPOUT_FCPROJ, l), p_residual, BT * C);
            d_fcproj = g->d_ln;
        }
        memset(g->d_fch_gelu, 0, sizeof(float) * (size_t)(BT * 4 * C));
        if (linear_backward_of(g->d_fch_gelu, d_fcproj, fch_gelu, model, FCPROJW, FCPROJB, l, BT, error)) return -1;
        memset(g->d_fch, 0, sizeof(float) * (size_t)(BT * 4 * C));
        gelu_backward(g->d_fch, g->d_fch_gelu, fch, BT * 4 * C);
        memset(g->d_ln, 0, sizeof(float) * (size_t)(BT * C));
        if (linear_backward_of(g->d_ln, g->d_fch, ln2, model, FCW, FCB, l, BT, error)) return -1;
        layernorm_grads(model, LN2W, LN2B, l, &d_weight, &d_bias);
        layernorm_backward(g->d_residual, d_weight, d_bias, g->d_ln, residual2, ln2w, ln2_mean, ln2_rstd, (int)BT, C);
        // residual2 = residual + m ∘ attproj: the same trick.
        const float *d_attproj = g->d_residual;
        if (p_residual > 0.0f) {
            dropout_apply(g->d_ln, g->d_residual, dropout_keep(model, GPT2_DROPOUT_ATTPROJ, l), p_residual, BT * C);
            d_attproj = g->d_ln;
        }
        memset(g->d_atty, 0, sizeof(float) * (size_t)(BT * C));
        if (linear_backward_of(g->d_atty, d_attproj, atty, model, ATTPROJW, ATTPROJB, l, BT, error)) return -1;
        memset(g->d_qkv, 0, sizeof(float) * (size_t)(BT * 3 * C));
        Attention attention = attention_self(qkv, B, T, C, NH);
        if (p_attention > 0.0f) {
            attention.dropout_keep = dropout_keep(model, GPT2_DROPOUT_ATTENTION, l);
            attention.dropout_scale = 1.0f / (1.0f - p_attention);
        }
        if (attention_backward(g->d_qkv, g->d_qkv + C, g->d_qkv + 2 * C, g->d_atty, att, &attention))
            return error_set(error, "gpt2: out of memory in attention's backward");
        memset(g->d_ln, 0, sizeof(float) * (size_t)(BT * C));
        if (linear_backward_of(g->d_ln, g->d_qkv, ln1, model, QKVW, QKVB, l, BT, error)) return -1;
        layernorm_grads(model, LN1W, LN1B, l, &d_weight, &d_bias);
        layernorm_backward(g->d_residual, d_weight, d_bias, g->d_ln, residual, ln1w, ln1_mean, ln1_rstd, (int)BT, C);
        if (model->layer_gradients_final) model->layer_gradients_final(model->layer_gradients_context, l);
    }
    float *d_wte = grad_of(model, WTE, 0), *d_wpe = grad_of(model, WPE, 0);
    if (d_wte && state->dropout.embedding > 0.0f)
        dropout_apply(g->d_residual, g->d_residual, dropout_keep(model, GPT2_DROPOUT_EMBEDDING, 0),
                      state->dropout.embedding, BT * C);
    if (d_wte) encoder_backward(d_wte, d_wpe, g->d_residual, state->inputs, B, T, C);
    return 0;
}

// Block l's parameters are one row of each of the twelve (L, ...) tensors.
int gpt2_layer_gradients(const Model *model, int layer, long offsets[GPT2_LAYER_TENSORS],
                         long counts[GPT2_LAYER_TENSORS]) {
    for (int i = 0; i < GPT2_LAYER_TENSORS; i++) {
        const TensorInfo *t = &model->tensors[LN1W + i];
        counts[i] = t->size / model->config.n_layers;
        offsets[i] = t->offset + (long)layer * counts[i];
    }
    return GPT2_LAYER_TENSORS;
}

// ----------------------------------------------------------------------------
// decoding with a key/value cache: each new token costs one row, not the whole context

static int decoder_allocate(Model *model, Error *error) {
    Decoder *d = &((Gpt2State *)model->state)->decoder;
    if (d->key_cache) return 0;
    const ModelConfig *cfg = &model->config;
    long L = cfg->n_layers, C = cfg->d_model, maxT = cfg->context_length, NH = cfg->n_heads;
    d->key_cache = malloc(sizeof(float) * (size_t)(L * maxT * C));
    d->value_cache = malloc(sizeof(float) * (size_t)(L * maxT * C));
    d->cached_tokens = malloc(sizeof(int) * (size_t)maxT);
    d->x = malloc(sizeof(float) * DECODE_CHUNK * (size_t)C);
    d->ln = malloc(sizeof(float) * DECODE_CHUNK * (size_t)C);
    d->qkv = malloc(sizeof(float) * DECODE_CHUNK * (size_t)(3 * C));
    d->atty = malloc(sizeof(float) * DECODE_CHUNK * (size_t)C);
    d->proj = malloc(sizeof(float) * DECODE_CHUNK * (size_t)C);
    d->fch = malloc(sizeof(float) * DECODE_CHUNK * (size_t)(4 * C));
    d->att = malloc(sizeof(float) * DECODE_CHUNK * (size_t)(NH * maxT));
    d->mean = malloc(sizeof(float) * DECODE_CHUNK);
    d->rstd = malloc(sizeof(float) * DECODE_CHUNK);
    if (!d->key_cache || !d->value_cache || !d->cached_tokens || !d->x || !d->ln || !d->qkv || !d->atty || !d->proj ||
        !d->fch || !d->att || !d->mean || !d->rstd) {
        free_decoder(d);
        return error_set(error, "gpt2: out of memory for the key/value cache");
    }
    d->n_cached = 0;
    return 0;
}

// Runs n tokens at positions start.. through every layer, appending their keys and values
// to the cache; leaves the last token's final hidden state (before lnf) in d->x[n-1].
// The same arithmetic as gpt2_forward, with attention over the cache instead of the batch.
static void decode_chunk(Model *model, const int *tokens, int n, int start) {
    const ModelConfig *cfg = &model->config;
    Decoder *d = &((Gpt2State *)model->state)->decoder;
    int L = cfg->n_layers, C = cfg->d_model, NH = cfg->n_heads;
    long maxT = cfg->context_length;
    Weights w = weights_of(model, model->params);
    encoder_forward(d->x, tokens, model, 1, n, C, start);
    for (int l = 0; l < L; l++) {
        float *keys = d->key_cache + l * maxT * C, *values = d->value_cache + l * maxT * C;
        layernorm_forward(d->ln, d->mean, d->rstd, d->x, w.ln1w + l * C, w.ln1b + l * C, n, C);
        linear_forward_of(d->qkv, d->ln, model, QKVW, QKVB, l, n);
        for (int i = 0; i < n; i++) {
            memcpy(keys + (long)(start + i) * C, d->qkv + (long)i * 3 * C + C, sizeof(float) * (size_t)C);
            memcpy(values + (long)(start + i) * C, d->qkv + (long)i * 3 * C + 2 * C, sizeof(float) * (size_t)C);
        }
        // the n new queries against every cached key, themselves included
        Attention attention = {.q = d->qkv, .k = keys, .v = values, .q_stride = 3L * C, .kv_stride = C,
                               .B = 1, .Tq = n, .Tk = start + n, .C = C, .NH = NH, .causal = 1};
        attention_forward(d->atty, d->att, &attention);
        linear_forward_of(d->proj, d->atty, model, ATTPROJW, ATTPROJB, l, n);
        residual_forward(d->x, d->x, d->proj, (long)n * C);
        layernorm_forward(d->ln, d->mean, d->rstd, d->x, w.ln2w + l * C, w.ln2b + l * C, n, C);
        linear_forward_of(d->fch, d->ln, model, FCW, FCB, l, n);
        gelu_forward(d->fch, d->fch, (long)n * 4 * C);
        linear_forward_of(d->proj, d->fch, model, FCPROJW, FCPROJB, l, n);
        residual_forward(d->x, d->x, d->proj, (long)n * C);
    }
}

static int gpt2_next_logits(Model *model, const int *tokens, int n, float *logits, Error *error) {
    const ModelConfig *cfg = &model->config;
    int C = cfg->d_model, V = cfg->vocab_size;
    if (n < 1 || n > cfg->context_length)
        return error_set(error, "gpt2: %d context tokens, the model takes 1 to %d", n, cfg->context_length);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= V) return error_set(error, "gpt2: token %d outside [0, %d)", tokens[i], V);
    if (decoder_allocate(model, error)) return -1;
    Decoder *d = &((Gpt2State *)model->state)->decoder;
    // Reuse the cache for the longest common prefix; always run at least the last token,
    // whose hidden state gives the logits.
    int keep = 0;
    while (keep < d->n_cached && keep < n - 1 && d->cached_tokens[keep] == tokens[keep]) keep++;
    d->n_cached = keep;
    while (d->n_cached < n) {
        int chunk = n - d->n_cached < DECODE_CHUNK ? n - d->n_cached : DECODE_CHUNK;
        decode_chunk(model, tokens + d->n_cached, chunk, d->n_cached);
        memcpy(d->cached_tokens + d->n_cached, tokens + d->n_cached, sizeof(int) * (size_t)chunk);
        d->n_cached += chunk;
        if (d->n_cached == n) {
            Weights w = weights_of(model, model->params);
            const float *last = d->x + (long)(chunk - 1) * C;
            layernorm_forward(d->ln, d->mean, d->rstd, last, w.lnfw, w.lnfb, 1, C);
            linear_forward_of(logits, d->ln, model, WTE, -1, 0, 1);
        }
    }
    return 0;
}

int gpt2_set_adapters(Model *model, const Gpt2Adapters *adapters, Error *error) {
    Gpt2State *state = model->state;
    assert(model->config.arch == ARCH_GPT2 && state);
    state->adapters = adapters;
    state->decoder.n_cached = 0;  // keys and values computed without these adapters
    long rows = (long)model->batch_size * model->seq_len;
    return adapter_scratch_reserve(state, rows > DECODE_CHUNK ? rows : DECODE_CHUNK, error);
}

// ----------------------------------------------------------------------------
// creation

static const ModelOps gpt2_ops = {
    .prepare = gpt2_prepare,
    .forward = gpt2_forward,
    .backward = gpt2_backward,
    .next_logits = gpt2_next_logits,
    .fit = NULL,
    .free_state = gpt2_free_state,
};

int gpt2_check_config(const ModelConfig *cfg, Error *error) {
    if (cfg->vocab_size < 1 || cfg->context_length < 1 || cfg->n_layers < 1 || cfg->n_heads < 1 || cfg->d_model < 1)
        return error_set(error, "gpt2: vocab %d, context %d, layers %d, heads %d, width %d must all be positive",
                         cfg->vocab_size, cfg->context_length, cfg->n_layers, cfg->n_heads, cfg->d_model);
    if (cfg->d_model % cfg->n_heads)
        return error_set(error, "gpt2: width %d is not a multiple of the %d heads", cfg->d_model, cfg->n_heads);
    int types[2] = {cfg->weight_type, cfg->embedding_type};
    for (int i = 0; i < 2; i++) {
        if (types[i] == TENSOR_F32) continue;
        if (types[i] != QUANT_Q8_0 && types[i] != QUANT_Q4_0)
            return error_set(error, "gpt2: unknown weight type %d", types[i]);
        if (cfg->d_model % QUANT_BLOCK)
            return error_set(error, "gpt2: width %d is not a multiple of %d, so the weights cannot be quantized",
                             cfg->d_model, QUANT_BLOCK);
    }
    double n = (double)cfg->vocab_size * cfg->d_model + (double)cfg->context_length * cfg->d_model +
               12.0 * cfg->n_layers * (double)cfg->d_model * cfg->d_model;
    if (n > 4e9) return error_set(error, "gpt2: %.3g parameters is more than this program handles", n);
    return 0;
}

int gpt2_init(Model *model, Random *rng, Error *error) {
    const ModelConfig *cfg = &model->config;
    if (gpt2_check_config(cfg, error)) return -1;
    model->ops = &gpt2_ops;
    model->tensors = calloc(N_GPT2_TENSORS, sizeof(TensorInfo));
    model->state = calloc(1, sizeof(Gpt2State));
    if (!model->tensors || !model->state) return error_set(error, "gpt2: out of memory");
    gpt2_layout(model);
    model->n_trainable = model->n_params;
    // calloc: large zeroed blocks come straight from the kernel, untouched until written, so a
    // model that is then loaded (or memory-mapped) does not pay for zeroing them.
    model->params = calloc((size_t)(model->n_params > 0 ? model->n_params : 1), sizeof(float));
    if (!model->params) return error_set(error, "gpt2: out of memory for %ld parameters", model->n_params);
    if (cfg->weight_type != TENSOR_F32 || cfg->embedding_type != TENSOR_F32) {
        // quantized tensors: one block of bytes, each tensor 64-byte aligned within it
        size_t offsets[N_GPT2_TENSORS], total = 0;
        for (int i = 0; i < N_GPT2_TENSORS; i++) {
            const TensorInfo *t = &model->tensors[i];
            offsets[i] = total;
            if (t->type == TENSOR_F32) continue;
            int cols = t->shape[t->n_dims - 1];
            total += ((size_t)(t->size / cols) * quant_row_bytes(t->type, cols) + 63) / 64 * 64;
        }
        model->quantized = calloc(N_GPT2_TENSORS, sizeof(QuantMatrix));
        model->quant_data = calloc(total, 1);  // 64-byte aligned offsets within; the blocks need 2
        if (!model->quantized || !model->quant_data) return error_set(error, "gpt2: out of memory for %zu bytes", total);
        model->quant_bytes = total;
        for (int i = 0; i < N_GPT2_TENSORS; i++) {
            const TensorInfo *t = &model->tensors[i];
            if (t->type == TENSOR_F32) continue;
            int cols = t->shape[t->n_dims - 1], rows = (int)(t->size / cols);
            if (quant_matrix_view(&model->quantized[i], t->type, rows, cols, model->quant_data + offsets[i],
                                  (size_t)rows * quant_row_bytes(t->type, cols), error))
                return -1;
        }
    }
    if (!rng) return 0;
    if (model->quantized) return error_set(error, "gpt2: a quantized model is made by quantizing a trained one");
    // nanoGPT's initialisation: weights N(0, 0.02), the two projections into the residual
    // stream scaled by 1/sqrt(2L) (2L of them add up along the stream), biases 0, LN 1 and 0.
    float residual_std = 0.02f / sqrtf(2.0f * (float)cfg->n_layers);
    for (int i = 0; i < N_GPT2_TENSORS; i++) {
        const TensorInfo *t = &model->tensors[i];
        float *p = model->params + t->offset;
        if (i == LN1W || i == LN2W || i == LNFW) {
            for (long j = 0; j < t->size; j++) p[j] = 1.0f;
        } else if (t->n_dims == 1 || i == LN1B || i == LN2B || i == QKVB || i == ATTPROJB || i == FCB || i == FCPROJB) {
            memset(p, 0, sizeof(float) * (size_t)t->size);
        } else {
            float std = (i == ATTPROJW || i == FCPROJW) ? residual_std : 0.02f;
            random_fill_normal(rng, p, t->size, 0.0f, std);
        }
    }
    return 0;
}
