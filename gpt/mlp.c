// Stage 2: the MLP language model of Bengio, Ducharme, Vincent and Jauvin (2003), "A Neural
// Probabilistic Language Model".
//
// The next token is predicted from the previous K = block_size tokens: each is looked up in
// an embedding table, the K vectors are concatenated, a hidden tanh layer mixes them and a
// linear layer gives the logits. With N = B*T positions, E = d_embed, H = d_hidden:
//
//   context  ctx (N,K)     ctx[b,t,j] = inputs[b, t-K+1+j], or PAD = V before the start
//   embed    emb (N,K*E)   emb[n] = concat_j table[ctx[n,j]]         table (V+1,E)
//   hidden   pre (N,H)     pre = emb · W1ᵀ (+ b1)                     W1 (H,K*E)
//   norm     bn  (N,H)     optional batch normalisation (below)
//   tanh     h   (N,H)     h = tanh(bn or pre)
//   output   logits (N,V)  logits = h · W2ᵀ + b2                      W2 (V,H)
//
// The table has one row more than the vocabulary: the padding row, for positions before the
// start of the sequence, so a prompt of one token is a valid context (as makemore pads
// names with '.'). Position t sees exactly inputs[t-K+1..t].
//
// Batch normalisation (Ioffe and Szegedy 2015; foundations/layers.h) over the N positions of
// a batch, per unit: xhat = (pre - mean) / sqrt(var + eps),  bn = gain * xhat + bias.
// In training the batch's own mean and (biased) variance are used and running averages are
// kept, running = (1 - m) running + m batch with momentum m = 0.1 (the variance unbiased,
// as PyTorch); in inference (sampling, evaluation) the running statistics replace the
// batch's, so one position alone gives a defined answer. The running statistics are
// parameters placed after the trained ones (model->n_trainable), so checkpoints save them
// and the optimizer leaves them alone. With batch normalisation the bias b1 is dropped:
// the mean subtraction would cancel it, and the norm's bias takes its place.
//
// Not here: dropout, several hidden layers, weight tying (all later stages' business).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/layers.h"
#include "gpt/model.h"

typedef struct MlpState {
    int capacity;     // N = B*T the activations hold
    int n_positions;  // N of the last forward
    // activations (N = B*T)
    int *context;      // (N,K) ids, PAD = V before the start
    float *embedded;   // (N,K*E)
    float *pre;        // (N,H) hidden pre-activation
    float *normed;     // (N,H) gain * xhat + bias (batch norm only)
    float *hidden;     // (N,H) tanh output
    float *probs;      // (N,V)
    float *losses;     // (N)
    int *targets;      // (N)
    float *batch_mean; // (H) statistics of the last forward (the batch's or the running ones)
    float *batch_rstd; // (H) 1 / sqrt(var + eps)
    int batch_statistics;  // 1: the last forward normalised with batch statistics (training)
    // gradients of the activations, for the backward
    float *d_logits;   // (N,V)
    float *d_hidden;   // (N,H)
    float *d_normed;   // (N,H) batch norm only
    float *d_pre;      // (N,H)
    float *d_embedded; // (N,K*E)
    // next_logits scratch: one position
    int *one_context;       // (K)
    float *one_embedded;    // (K*E)
    float *one_pre;         // (H)
    float *one_mean;        // (H) the running statistics as batchnorm_forward caches them
    float *one_rstd;        // (H)
} MlpState;

// Where each parameter lives inside model->params.
typedef struct MlpParams {
    float *table;    // (V+1,E)
    float *w1;       // (H,K*E)
    float *b1;       // (H) or NULL with batch norm
    float *gain;     // (H) batch norm
    float *bias;     // (H) batch norm
    float *w2;       // (V,H)
    float *b2;       // (V)
    float *running_mean;  // (H) batch norm, not trained
    float *running_var;   // (H) batch norm, not trained
} MlpParams;

static float *tensor_data(float *base, const Model *model, const char *name) {
    const TensorInfo *t = model_find_tensor(model, name);
    return t ? base + t->offset : NULL;
}

// The same pointers into params or into grads (same layout).
static MlpParams mlp_params(const Model *model, float *base) {
    MlpParams p;
    p.table = tensor_data(base, model, "embedding");
    p.w1 = tensor_data(base, model, "hidden_weight");
    p.b1 = tensor_data(base, model, "hidden_bias");
    p.gain = tensor_data(base, model, "norm_gain");
    p.bias = tensor_data(base, model, "norm_bias");
    p.w2 = tensor_data(base, model, "output_weight");
    p.b2 = tensor_data(base, model, "output_bias");
    p.running_mean = tensor_data(base, model, "norm_running_mean");
    p.running_var = tensor_data(base, model, "norm_running_var");
    return p;
}

// ----------------------------------------------------------------------------
// activations

static void free_activations(MlpState *s) {
    free(s->context);
    free(s->embedded);
    free(s->pre);
    free(s->normed);
    free(s->hidden);
    free(s->probs);
    free(s->losses);
    free(s->targets);
    free(s->d_logits);
    free(s->d_hidden);
    free(s->d_normed);
    free(s->d_pre);
    free(s->d_embedded);
    s->capacity = 0;
}

static void mlp_free_state(Model *model) {
    MlpState *s = model->state;
    if (!s) return;
    free_activations(s);
    free(s->batch_mean);
    free(s->batch_rstd);
    free(s->one_context);
    free(s->one_embedded);
    free(s->one_pre);
    free(s->one_mean);
    free(s->one_rstd);
    free(model->logits);
    model->logits = NULL;
    free(s);
    model->state = NULL;
}

static int mlp_prepare(Model *model, int B, int T, Error *error) {
    MlpState *s = model->state;
    const ModelConfig *c = &model->config;
    size_t N = (size_t)B * (size_t)T, K = (size_t)c->block_size, E = (size_t)c->d_embed, H = (size_t)c->d_hidden;
    size_t V = (size_t)c->vocab_size;
    model->batch_size = B;
    model->seq_len = T;
    if ((int)N <= s->capacity) return 0;
    free_activations(s);
    free(model->logits);
    s->context = malloc(sizeof(int) * N * K);
    s->embedded = malloc(sizeof(float) * N * K * E);
    s->pre = malloc(sizeof(float) * N * H);
    s->normed = malloc(sizeof(float) * N * H);
    s->hidden = malloc(sizeof(float) * N * H);
    s->probs = malloc(sizeof(float) * N * V);
    s->losses = malloc(sizeof(float) * N);
    s->targets = malloc(sizeof(int) * N);
    s->d_logits = malloc(sizeof(float) * N * V);
    s->d_hidden = malloc(sizeof(float) * N * H);
    s->d_normed = malloc(sizeof(float) * N * H);
    s->d_pre = malloc(sizeof(float) * N * H);
    s->d_embedded = malloc(sizeof(float) * N * K * E);
    model->logits = malloc(sizeof(float) * N * V);
    if (!s->context || !s->embedded || !s->pre || !s->normed || !s->hidden || !s->probs || !s->losses ||
        !s->targets || !s->d_logits || !s->d_hidden || !s->d_normed || !s->d_pre || !s->d_embedded || !model->logits) {
        free_activations(s);
        return error_set(error, "mlp: out of memory for a batch of %d x %d", B, T);
    }
    s->capacity = (int)N;
    return 0;
}

// ----------------------------------------------------------------------------
// forward

// inputs (B,T) -> context (B*T,K): the K tokens up to and including t, PAD before the start.
static void build_context(int *context, const int *inputs, int B, int T, int K, int pad) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int *ctx = context + ((long)b * T + t) * K;
            for (int j = 0; j < K; j++) {
                int source = t - K + 1 + j;
                ctx[j] = source >= 0 ? inputs[(long)b * T + source] : pad;
            }
        }
}

static int check_tokens(const int *tokens, long n, int V, Error *error) {
    for (long i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= V) return error_set(error, "token id %d outside the vocabulary of %d", tokens[i], V);
    return 0;
}

// inputs (B,T), targets (B,T) or NULL -> logits (B,T,V), loss
static int mlp_forward(Model *model, const int *inputs, const int *targets, int B, int T, Error *error) {
    MlpState *s = model->state;
    const ModelConfig *c = &model->config;
    int V = c->vocab_size, K = c->block_size, E = c->d_embed, H = c->d_hidden;
    int N = B * T;
    if (N > s->capacity || T > c->context_length)
        return error_set(error, "mlp: batch %d x %d exceeds what was prepared", B, T);
    if (check_tokens(inputs, N, V, error)) return -1;
    if (targets && check_tokens(targets, N, V, error)) return -1;
    MlpParams p = mlp_params(model, model->params);

    build_context(s->context, inputs, B, T, K, V);
    embedding_forward(s->embedded, s->context, p.table, N * K, E);  // (N*K,E) = (N,K*E)
    linear_forward(s->pre, s->embedded, p.w1, p.b1, N, K * E, H);
    const float *activation = s->pre;
    s->batch_statistics = model->training;
    if (c->batch_norm) {
        batchnorm_forward(s->normed, s->batch_mean, s->batch_rstd, p.running_mean, p.running_var, s->pre, p.gain,
                          p.bias, N, H, s->batch_statistics);
        activation = s->normed;
    }
    tanh_forward(s->hidden, activation, (long)N * H);
    linear_forward(model->logits, s->hidden, p.w2, p.b2, N, H, V);

    s->n_positions = N;
    model->loss = -1.0f;
    if (targets) {
        memcpy(s->targets, targets, sizeof(int) * (size_t)N);
        model->loss = cross_entropy_forward(s->losses, s->probs, model->logits, targets, N, V);
    }
    return 0;
}

// ----------------------------------------------------------------------------
// backward

// The forward in reverse; every parameter gradient accumulates (+=) into model->grads.
static int mlp_backward(Model *model, Error *error) {
    (void)error;
    MlpState *s = model->state;
    const ModelConfig *c = &model->config;
    int V = c->vocab_size, K = c->block_size, E = c->d_embed, H = c->d_hidden;
    int N = s->n_positions;
    MlpParams p = mlp_params(model, model->params);
    MlpParams g = mlp_params(model, model->grads);
    long NH = (long)N * H;

    memset(s->d_logits, 0, sizeof(float) * (size_t)N * V);
    cross_entropy_backward(s->d_logits, s->probs, s->targets, 1.0f / (float)N, N, V);
    memset(s->d_hidden, 0, sizeof(float) * (size_t)NH);
    linear_backward(s->d_hidden, g.w2, g.b2, s->d_logits, s->hidden, p.w2, N, H, V);
    memset(s->d_pre, 0, sizeof(float) * (size_t)NH);
    if (c->batch_norm) {
        memset(s->d_normed, 0, sizeof(float) * (size_t)NH);
        tanh_backward(s->d_normed, s->d_hidden, s->hidden, NH);
        batchnorm_backward(s->d_pre, g.gain, g.bias, s->d_normed, s->pre, p.gain, s->batch_mean, s->batch_rstd, N, H,
                           s->batch_statistics);
    } else {
        tanh_backward(s->d_pre, s->d_hidden, s->hidden, NH);
    }
    memset(s->d_embedded, 0, sizeof(float) * (size_t)N * K * E);
    linear_backward(s->d_embedded, g.w1, g.b1, s->d_pre, s->embedded, p.w1, N, K * E, H);
    embedding_backward(g.table, s->d_embedded, s->context, N * K, E);
    return 0;
}

// ----------------------------------------------------------------------------
// one position, for sampling: always the inference path (running statistics)

// tokens (n) -> logits (V) of the token after tokens[n-1]
static int mlp_next_logits(Model *model, const int *tokens, int n, float *logits, Error *error) {
    MlpState *s = model->state;
    const ModelConfig *c = &model->config;
    int V = c->vocab_size, K = c->block_size, E = c->d_embed, H = c->d_hidden;
    if (n < 1) return error_set(error, "mlp: next_logits needs at least one token");
    if (check_tokens(tokens, n, V, error)) return -1;
    MlpParams p = mlp_params(model, model->params);
    for (int j = 0; j < K; j++) {
        int source = n - K + j;
        s->one_context[j] = source >= 0 ? tokens[source] : V;
    }
    embedding_forward(s->one_embedded, s->one_context, p.table, K, E);
    linear_forward(s->one_pre, s->one_embedded, p.w1, p.b1, 1, K * E, H);
    if (c->batch_norm)  // in place: one row, each value read before it is written
        batchnorm_forward(s->one_pre, s->one_mean, s->one_rstd, p.running_mean, p.running_var, s->one_pre, p.gain,
                          p.bias, 1, H, 0);
    tanh_forward(s->one_pre, s->one_pre, H);
    linear_forward(logits, s->one_pre, p.w2, p.b2, 1, H, V);
    return 0;
}

// ----------------------------------------------------------------------------
// construction

static const ModelOps MLP_OPS = {
    mlp_prepare, mlp_forward, mlp_backward, mlp_next_logits, NULL, mlp_free_state,
};

// A matrix (rows, columns), or a vector (rows) when columns is 0.
static void add_tensor(Model *model, const char *name, int rows, int columns) {
    model_add_tensor(model, name, TENSOR_F32, columns > 0 ? 2 : 1, (int[]){rows, columns});
}

// Initialisation (makemore's, after Kaiming He et al. 2015 for tanh):
//   embedding ~ N(0, 1), W1 ~ N(0, (5/3) / sqrt(K E)), b1 = 0,
//   W2 ~ N(0, 0.01) so the first predictions are nearly uniform, b2 = 0,
//   gain = 1, bias = 0, running mean = 0, running variance = 1.
int mlp_init(Model *model, Random *rng, Error *error) {
    const ModelConfig *c = &model->config;
    int V = c->vocab_size, K = c->block_size, E = c->d_embed, H = c->d_hidden;
    model->ops = &MLP_OPS;
    model->tensors = calloc(9, sizeof(TensorInfo));
    model->state = calloc(1, sizeof(MlpState));
    if (!model->tensors || !model->state) return error_set(error, "mlp: out of memory");
    add_tensor(model, "embedding", V + 1, E);
    add_tensor(model, "hidden_weight", H, K * E);
    if (!c->batch_norm) add_tensor(model, "hidden_bias", H, 0);
    if (c->batch_norm) {
        add_tensor(model, "norm_gain", H, 0);
        add_tensor(model, "norm_bias", H, 0);
    }
    add_tensor(model, "output_weight", V, H);
    add_tensor(model, "output_bias", V, 0);
    model->n_trainable = model->n_params;
    if (c->batch_norm) {
        add_tensor(model, "norm_running_mean", H, 0);
        add_tensor(model, "norm_running_var", H, 0);
    }
    model->params = calloc((size_t)model->n_params, sizeof(float));
    MlpState *s = model->state;
    s->batch_mean = malloc(sizeof(float) * (size_t)H);
    s->batch_rstd = malloc(sizeof(float) * (size_t)H);
    s->one_context = malloc(sizeof(int) * (size_t)K);
    s->one_embedded = malloc(sizeof(float) * (size_t)K * E);
    s->one_pre = malloc(sizeof(float) * (size_t)H);
    s->one_mean = malloc(sizeof(float) * (size_t)H);
    s->one_rstd = malloc(sizeof(float) * (size_t)H);
    if (!model->params || !s->batch_mean || !s->batch_rstd || !s->one_context || !s->one_embedded || !s->one_pre ||
        !s->one_mean || !s->one_rstd)
        return error_set(error, "mlp: out of memory for %ld parameters", model->n_params);

    MlpParams p = mlp_params(model, model->params);
    if (c->batch_norm)
        for (int h = 0; h < H; h++) {
            p.gain[h] = 1.0f;
            p.running_var[h] = 1.0f;
        }
    if (rng) {
        random_fill_normal(rng, p.table, (long)(V + 1) * E, 0.0f, 1.0f);
        random_fill_normal(rng, p.w1, (long)H * K * E, 0.0f, (5.0f / 3.0f) / sqrtf((float)(K * E)));
        random_fill_normal(rng, p.w2, (long)V * H, 0.0f, 0.01f);
    }
    return 0;
}
