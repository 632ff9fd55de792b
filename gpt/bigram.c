// Stage 1: the bigram language model, twice.
//
// A bigram model predicts the next token from the current one only: a table (V,V) whose
// row x holds the logits of the token after x. Two ways to fill that table:
//
//   counting  count every pair (x, y) in the training text, add k to every count
//             (add-k smoothing, so an unseen pair is unlikely rather than impossible), and
//             take logs of the normalised rows:
//                 table[x][y] = log((count[x][y] + k) / (sum_y' count[x][y'] + k V))
//             This is the maximum-likelihood estimate of the smoothed model, in one pass.
//   neural    a weight matrix W (V,V) trained by gradient descent on the softmax
//             cross-entropy. Looking up row x is the same as multiplying the one-hot
//             vector of x by W, so the "network" is one embedding lookup. Its optimum is
//             the counting table with k -> 0 (up to a constant per row), so both reach
//             the same loss: tests/test_bigram.c shows it on names.
//
// Either way the forward is the same lookup, logits[b,t] = table[inputs[b,t]], followed by
// the cross-entropy; the counting table's rows are already log-probabilities, so its
// softmax gives them back exactly. The counting model's parameter is its log-probability
// table (saved like any weights); its counts live only while fitting.
//
// Not here: anything that looks further back than one token (that is mlp.c).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/layers.h"
#include "gpt/model.h"

typedef struct BigramState {
    int capacity;     // B*T the buffers below hold
    int n_positions;  // B*T of the last forward
    int *inputs;      // (B*T) copy of the last forward's inputs, for the backward
    int *targets;     // (B*T)
    float *probs;     // (B*T,V) softmax of the logits, for the backward
    float *losses;    // (B*T)
    double *counts;   // (V,V) the counting model's pair counts (NULL for the neural one)
} BigramState;

// ----------------------------------------------------------------------------
// activations

static void bigram_free_state(Model *model) {
    BigramState *s = model->state;
    if (!s) return;
    free(s->inputs);
    free(s->targets);
    free(s->probs);
    free(s->losses);
    free(s->counts);
    free(model->logits);
    model->logits = NULL;
    free(s);
    model->state = NULL;
}

static int bigram_prepare(Model *model, int B, int T, Error *error) {
    BigramState *s = model->state;
    int V = model->config.vocab_size;
    int n = B * T;
    model->batch_size = B;
    model->seq_len = T;
    if (n <= s->capacity) return 0;
    free(s->inputs);
    free(s->targets);
    free(s->probs);
    free(s->losses);
    free(model->logits);
    s->inputs = malloc(sizeof(int) * (size_t)n);
    s->targets = malloc(sizeof(int) * (size_t)n);
    s->probs = malloc(sizeof(float) * (size_t)n * (size_t)V);
    s->losses = malloc(sizeof(float) * (size_t)n);
    model->logits = malloc(sizeof(float) * (size_t)n * (size_t)V);
    if (!s->inputs || !s->targets || !s->probs || !s->losses || !model->logits) {
        s->capacity = 0;
        return error_set(error, "bigram: out of memory for a batch of %d x %d", B, T);
    }
    s->capacity = n;
    return 0;
}

// The (V,V) table inside params or grads: through its tensor's offset, which is a file
// offset when the weights are memory-mapped.
static float *table_of(const Model *model, float *base) { return base + model->tensors[0].offset; }

// ----------------------------------------------------------------------------
// forward and backward

static int check_tokens(const int *tokens, long n, int V, Error *error) {
    for (long i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= V) return error_set(error, "token id %d outside the vocabulary of %d", tokens[i], V);
    return 0;
}

// inputs (B,T), targets (B,T) or NULL -> logits (B,T,V), loss
static int bigram_forward(Model *model, const int *inputs, const int *targets, int B, int T, Error *error) {
    BigramState *s = model->state;
    int V = model->config.vocab_size;
    int n = B * T;
    if (n > s->capacity || T > model->config.context_length)
        return error_set(error, "bigram: batch %d x %d exceeds what was prepared", B, T);
    if (check_tokens(inputs, n, V, error)) return -1;
    if (targets && check_tokens(targets, n, V, error)) return -1;
    // logits[n] = table[inputs[n]]: the whole model.
    embedding_forward(model->logits, inputs, table_of(model, model->params), n, V);
    memcpy(s->inputs, inputs, sizeof(int) * (size_t)n);
    s->n_positions = n;
    model->loss = -1.0f;
    if (targets) {
        memcpy(s->targets, targets, sizeof(int) * (size_t)n);
        model->loss = cross_entropy_forward(s->losses, s->probs, model->logits, targets, n, V);
    }
    return 0;
}

// loss = mean_n -log softmax(table[x_n])[y_n]:
//   d logits = (probs - onehot(y)) / N, and row x_n of d table gathers the d logits of n.
static int bigram_backward(Model *model, Error *error) {
    (void)error;
    BigramState *s = model->state;
    int V = model->config.vocab_size;
    int n = s->n_positions;
    // The d_logits go straight into the table's gradient rows: a lookup's gradient is a
    // scatter-add, and here the looked-up row IS the logits.
    for (int i = 0; i < n; i++) {
        float *d_row = table_of(model, model->grads) + (long)s->inputs[i] * V;
        const float *p = s->probs + (long)i * V;
        float scale = 1.0f / (float)n;
        for (int v = 0; v < V; v++) d_row[v] += scale * p[v];
        d_row[s->targets[i]] -= scale;
    }
    return 0;
}

// tokens (n) -> logits (V) of the token after tokens[n-1]
static int bigram_next_logits(Model *model, const int *tokens, int n, float *logits, Error *error) {
    int V = model->config.vocab_size;
    if (n < 1) return error_set(error, "bigram: next_logits needs at least one token");
    if (check_tokens(tokens + n - 1, 1, V, error)) return -1;
    memcpy(logits, table_of(model, model->params) + (long)tokens[n - 1] * V, sizeof(float) * (size_t)V);
    return 0;
}

// ----------------------------------------------------------------------------
// fitting the counting model

// Refreshes the log-probability table from the counts:
//   table[x][y] = log(count[x][y] + k) - log(sum_y' count[x][y'] + k V)
static void counting_update_table(Model *model) {
    BigramState *s = model->state;
    int V = model->config.vocab_size;
    double k = model->config.smoothing;
    for (int x = 0; x < V; x++) {
        const double *row = s->counts + (long)x * V;
        double total = k * V;
        for (int y = 0; y < V; y++) total += row[y];
        double log_total = log(total);
        float *out = table_of(model, model->params) + (long)x * V;
        for (int y = 0; y < V; y++) out[y] = (float)(log(row[y] + k) - log_total);
    }
}

// inputs, targets (B,T): count[inputs[i]][targets[i]] += 1 for every position.
// Ids out of range are skipped (the caller's data were checked when loaded).
static void counting_fit(Model *model, const int *inputs, const int *targets, int B, int T) {
    BigramState *s = model->state;
    int V = model->config.vocab_size;
    long n = (long)B * T;
    for (long i = 0; i < n; i++) {
        if (inputs[i] < 0 || inputs[i] >= V || targets[i] < 0 || targets[i] >= V) continue;
        s->counts[(long)inputs[i] * V + targets[i]] += 1.0;
    }
    counting_update_table(model);
}

// ----------------------------------------------------------------------------
// construction

static const ModelOps NEURAL_BIGRAM_OPS = {
    bigram_prepare, bigram_forward, bigram_backward, bigram_next_logits, NULL, bigram_free_state,
};
static const ModelOps COUNTING_BIGRAM_OPS = {
    bigram_prepare, bigram_forward, bigram_backward, bigram_next_logits, counting_fit, bigram_free_state,
};

// One tensor (V,V): "log_probs" for the counting model, "weight" for the neural one.
// Neural initialisation: normal, std 0.01 (nearly uniform predictions); zeros without rng.
int bigram_init(Model *model, Random *rng, Error *error) {
    int V = model->config.vocab_size;
    int counting = model->config.counting;
    model->ops = counting ? &COUNTING_BIGRAM_OPS : &NEURAL_BIGRAM_OPS;
    model->tensors = calloc(1, sizeof(TensorInfo));
    model->state = calloc(1, sizeof(BigramState));
    if (!model->tensors || !model->state) return error_set(error, "bigram: out of memory");
    model_add_tensor(model, counting ? "log_probs" : "weight", TENSOR_F32, 2, (int[]){V, V});
    model->n_trainable = model->n_params;
    model->params = calloc((size_t)model->n_params, sizeof(float));
    if (!model->params) return error_set(error, "bigram: out of memory for a %d x %d table", V, V);
    if (counting) {
        BigramState *s = model->state;
        s->counts = calloc((size_t)V * V, sizeof(double));
        if (!s->counts) return error_set(error, "bigram: out of memory for %d x %d counts", V, V);
        counting_update_table(model);  // no counts yet: uniform rows, log(1/V)
    } else if (rng) {
        random_fill_normal(rng, model->params, (long)V * V, 0.0f, 0.01f);
    }
    return 0;
}
