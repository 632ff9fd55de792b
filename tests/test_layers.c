// Every backward in foundations/layers.h against central finite differences.
//
// Each case wraps one layer as a scalar function f = sum_i proj_i * out_i with a fixed
// random projection, so d f / d out = proj: the backward is fed d_out = proj and its
// gradient compared with (f(x + h) - f(x - h)) / 2h for every input and weight.
#include <stdlib.h>
#include <string.h>

#include "foundations/gradcheck.h"
#include "foundations/layers.h"
#include "foundations/random.h"
#include "tests/check.h"

enum { LINEAR, EMBEDDING, RELU, SIGMOID, TANH, GELU, SOFTMAX, LOG_SOFTMAX, CROSS_ENTROPY, LAYERNORM, RESIDUAL,
       DROPOUT, ATTENTION, CROSS_ATTENTION, ATTENTION_FEW_QUERIES, ATTENTION_PADDING, ATTENTION_PADDING_FEW, BATCHNORM,
       BATCHNORM_EVAL, N_LAYERS };
static const char *layer_names[] = {"linear", "embedding", "relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax",
                                    "cross_entropy", "layernorm", "residual", "dropout", "attention",
                                    "cross_attention", "attention_few_queries", "attention_padding",
                                    "attention_padding_few_queries", "batchnorm", "batchnorm_eval"};

// Sizes shared by the cases: N rows of C channels; attention B x T x C with NH heads (T = 9
// queries take the matrix-product path, TF = 5 the row-by-row one: both forced, as the
// automatic choice would take rows for such small heads).
enum { N = 5, C = 8, OC = 6, V = 7, B = 2, T = 9, TF = 5, TK = 4, NH = 2 };

// A key padding mask (B,T) for the causal self-attention cases: batch 0 hides its keys 2 and
// 8, batch 1 its key 0 (so its first query sees no key at all and must give zeros).
static const unsigned char KEY_PADDING[B * T] = {0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};

typedef struct Case {
    int layer;
    float *x, *y, *w, *b;  // inputs and weights (which are used depends on the layer)
    int ids[N], targets[N];
    float *out, *cache1, *cache2;
    float *running_mean, *running_var;  // batch norm's (C)
    float *proj;
    long n_out;
    uint64_t dropout_seed;
} Case;

static void forward(Case *c) {
    Random rng;
    switch (c->layer) {
    case LINEAR: linear_forward(c->out, c->x, c->w, c->b, N, C, OC); break;
    case EMBEDDING: embedding_forward(c->out, c->ids, c->w, N, C); break;
    case RELU: relu_forward(c->out, c->x, N * C); break;
    case SIGMOID: sigmoid_forward(c->out, c->x, N * C); break;
    case TANH: tanh_forward(c->out, c->x, N * C); break;
    case GELU: gelu_forward(c->out, c->x, N * C); break;
    case SOFTMAX: softmax_forward(c->out, c->x, N, C); break;
    case LOG_SOFTMAX: log_softmax_forward(c->out, c->x, N, C); break;
    case CROSS_ENTROPY: cross_entropy_forward(c->out, c->cache1, c->x, c->targets, N, V); break;
    case LAYERNORM: layernorm_forward(c->out, c->cache1, c->cache2, c->x, c->w, c->b, N, C); break;
    case RESIDUAL: residual_forward(c->out, c->x, c->y, N * C); break;
    case DROPOUT:
        random_seed(&rng, c->dropout_seed);  // the same mask on every evaluation
        dropout_forward(c->out, c->cache1, c->x, N * C, 0.3f, &rng);
        break;
    case ATTENTION:  // packed qkv (B,T,3C)
        attention_forward(c->out, c->cache1, &(Attention){c->x, c->x + C, c->x + 2 * C, 3 * C, 3 * C, B, T, T, C, NH, 1, NULL, ATTENTION_PATH_GEMM, NULL, 0.0f});
        break;
    case CROSS_ATTENTION:  // q (B,T,C) from x, k/v (B,TK,2C) packed in y, no mask
        attention_forward(c->out, c->cache1, &(Attention){c->x, c->y, c->y + C, C, 2 * C, B, T, TK, C, NH, 0, NULL, ATTENTION_PATH_GEMM, NULL, 0.0f});
        break;
    case ATTENTION_FEW_QUERIES:  // the last TF queries of a causal sequence of T keys
        attention_forward(c->out, c->cache1, &(Attention){c->x, c->y, c->y + C, C, 2 * C, B, TF, T, C, NH, 1, NULL, ATTENTION_PATH_ROWS, NULL, 0.0f});
        break;
    case ATTENTION_PADDING:  // causal self-attention with hidden keys, matrix-product path
        attention_forward(c->out, c->cache1,
                          &(Attention){c->x, c->x + C, c->x + 2 * C, 3 * C, 3 * C, B, T, T, C, NH, 1, KEY_PADDING, ATTENTION_PATH_GEMM, NULL, 0.0f});
        break;
    case ATTENTION_PADDING_FEW:  // the last TF queries against T keys with hidden ones, row-by-row path
        attention_forward(c->out, c->cache1, &(Attention){c->x, c->y, c->y + C, C, 2 * C, B, TF, T, C, NH, 1, KEY_PADDING, ATTENTION_PATH_ROWS, NULL, 0.0f});
        break;
    case BATCHNORM:
    case BATCHNORM_EVAL:
        batchnorm_forward(c->out, c->cache1, c->cache2, c->running_mean, c->running_var, c->x, c->w, c->b, N, C,
                          c->layer == BATCHNORM);
        break;
    }
}

static double objective(void *context) {
    Case *c = context;
    forward(c);
    double sum = 0.0;
    for (long i = 0; i < c->n_out; i++) sum += (double)c->proj[i] * c->out[i];
    return sum;
}

// Fills d_x, d_y, d_w, d_b (zeroed first) with the analytic gradient of the objective.
static void backward(Case *c, float *d_x, float *d_y, float *d_w, float *d_b) {
    forward(c);
    const float *d_out = c->proj;
    switch (c->layer) {
    case LINEAR: linear_backward(d_x, d_w, d_b, d_out, c->x, c->w, N, C, OC); break;
    case EMBEDDING: embedding_backward(d_w, d_out, c->ids, N, C); break;
    case RELU: relu_backward(d_x, d_out, c->x, N * C); break;
    case SIGMOID: sigmoid_backward(d_x, d_out, c->out, N * C); break;
    case TANH: tanh_backward(d_x, d_out, c->out, N * C); break;
    case GELU: gelu_backward(d_x, d_out, c->x, N * C); break;
    case SOFTMAX: softmax_backward(d_x, d_out, c->out, N, C); break;
    case LOG_SOFTMAX: log_softmax_backward(d_x, d_out, c->out, N, C); break;
    case CROSS_ENTROPY:
        // The fused backward takes one scale for all rows; the per-row losses here have
        // different weights proj[n], so apply it row by row.
        for (int n = 0; n < N; n++)
            cross_entropy_backward(d_x + n * V, c->cache1 + n * V, c->targets + n, c->proj[n], 1, V);
        break;
    case LAYERNORM: layernorm_backward(d_x, d_w, d_b, d_out, c->x, c->w, c->cache1, c->cache2, N, C); break;
    case RESIDUAL: residual_backward(d_x, d_y, d_out, N * C); break;
    case DROPOUT: dropout_backward(d_x, d_out, c->cache1, N * C); break;
    case ATTENTION:
        attention_backward(d_x, d_x + C, d_x + 2 * C, d_out, c->cache1,
                           &(Attention){c->x, c->x + C, c->x + 2 * C, 3 * C, 3 * C, B, T, T, C, NH, 1, NULL, ATTENTION_PATH_GEMM, NULL, 0.0f});
        break;
    case CROSS_ATTENTION:
        attention_backward(d_x, d_y, d_y + C, d_out, c->cache1,
                           &(Attention){c->x, c->y, c->y + C, C, 2 * C, B, T, TK, C, NH, 0, NULL, ATTENTION_PATH_GEMM, NULL, 0.0f});
        break;
    case ATTENTION_FEW_QUERIES:
        attention_backward(d_x, d_y, d_y + C, d_out, c->cache1,
                           &(Attention){c->x, c->y, c->y + C, C, 2 * C, B, TF, T, C, NH, 1, NULL, ATTENTION_PATH_ROWS, NULL, 0.0f});
        break;
    case ATTENTION_PADDING:
        attention_backward(d_x, d_x + C, d_x + 2 * C, d_out, c->cache1,
                           &(Attention){c->x, c->x + C, c->x + 2 * C, 3 * C, 3 * C, B, T, T, C, NH, 1, KEY_PADDING, ATTENTION_PATH_GEMM, NULL, 0.0f});
        break;
    case ATTENTION_PADDING_FEW:
        attention_backward(d_x, d_y, d_y + C, d_out, c->cache1,
                           &(Attention){c->x, c->y, c->y + C, C, 2 * C, B, TF, T, C, NH, 1, KEY_PADDING, ATTENTION_PATH_ROWS, NULL, 0.0f});
        break;
    case BATCHNORM:
    case BATCHNORM_EVAL:
        batchnorm_backward(d_x, d_w, d_b, d_out, c->x, c->w, c->cache1, c->cache2, N, C, c->layer == BATCHNORM);
        break;
    }
}

static void check_gradient(Case *c, const char *what, float *params, const float *analytic, long n) {
    // float forward passes: a step of 1e-2 balances truncation (h^2) against rounding (eps/h);
    // what is left is ~1e-5 absolute, so 5e-3 relative (with a 1e-2 floor) catches any real error
    GradcheckResult r = gradcheck(objective, c, params, analytic, n, 1e-2f, 1e-2);
    CHECK(r.max_rel_error < 5e-3, "%s: d_%s relative error %g at %ld (abs %g)", layer_names[c->layer], what,
          r.max_rel_error, r.worst_index, r.max_abs_error);
}

// Each layer in turn; a failure names the layer and the gradient.
static void every_backward_matches_finite_differences(void) {
    enum { BIG = 3 * B * T * C * 2 };  // room for the largest input
    Random rng;
    random_seed(&rng, 7);
    for (int layer = 0; layer < N_LAYERS; layer++) {
        Case c = {.layer = layer, .dropout_seed = 99};
        float *buffers[11];
        for (int i = 0; i < 11; i++) {
            buffers[i] = calloc(BIG * 4, sizeof(float));
            REQUIRE(buffers[i], "out of memory");
            random_fill_normal(&rng, buffers[i], BIG * 4, 0.0f, 1.0f);
        }
        c.x = buffers[0], c.y = buffers[1], c.w = buffers[2], c.b = buffers[3];
        c.out = buffers[4], c.cache1 = buffers[5], c.cache2 = buffers[6], c.proj = buffers[7];
        c.running_mean = buffers[9], c.running_var = buffers[10];
        for (int i = 0; i < C; i++) c.running_var[i] = 0.5f + c.running_var[i] * c.running_var[i];
        for (int n = 0; n < N; n++) {
            c.ids[n] = (int)random_below(&rng, V);
            c.targets[n] = (int)random_below(&rng, V);
        }
        c.ids[3] = c.ids[1];  // a repeated id: its gradients must add up
        long n_x = N * C, n_y = 0, n_w = 0, n_b = 0;
        switch (layer) {
        case LINEAR: c.n_out = N * OC, n_w = OC * C, n_b = OC; break;
        case EMBEDDING: c.n_out = N * C, n_x = 0, n_w = V * C; break;
        case CROSS_ENTROPY: c.n_out = N, n_x = N * V; break;
        case LAYERNORM:
        case BATCHNORM:
        case BATCHNORM_EVAL: c.n_out = N * C, n_w = n_b = C; break;
        case RESIDUAL: c.n_out = N * C, n_y = N * C; break;
        case ATTENTION:
        case ATTENTION_PADDING: c.n_out = B * T * C, n_x = B * T * 3 * C; break;
        case ATTENTION_PADDING_FEW:
        case CROSS_ATTENTION: c.n_out = B * T * C, n_x = B * T * C, n_y = B * TK * 2 * C; break;
        case ATTENTION_FEW_QUERIES: c.n_out = B * TF * C, n_x = B * TF * C, n_y = B * T * 2 * C; break;
        case RELU:  // keep inputs away from the kink at 0, where the derivative jumps
            for (long i = 0; i < n_x; i++) c.x[i] += c.x[i] > 0 ? 0.1f : -0.1f;
            c.n_out = N * C;
            break;
        default: c.n_out = N * C;
        }
        if (layer == CROSS_ENTROPY) c.x[0] = 30.0f;  // a large logit must stay finite and exact
        float *d_x = calloc(BIG * 4, sizeof(float)), *d_y = calloc(BIG * 4, sizeof(float));
        float *d_w = calloc(BIG * 4, sizeof(float)), *d_b = calloc(BIG * 4, sizeof(float));
        REQUIRE(d_x && d_y && d_w && d_b, "out of memory");
        backward(&c, d_x, d_y, d_w, d_b);
        if (n_x) check_gradient(&c, "inp", c.x, d_x, n_x);
        if (n_y) check_gradient(&c, "inp2", c.y, d_y, n_y);
        if (n_w) check_gradient(&c, "weight", c.w, d_w, n_w);
        if (n_b) check_gradient(&c, "bias", c.b, d_b, n_b);
        for (int i = 0; i < 11; i++) free(buffers[i]);
        free(d_x), free(d_y), free(d_w), free(d_b);
    }
}

// Cross-entropy stays exact for huge logits: logits (0, 1e4) with target 0 -> loss 1e4.
static void cross_entropy_exact_for_huge_logits(void) {
    float logits[2] = {0.0f, 1e4f}, probs[2], loss[1];
    int target = 0;
    float mean = cross_entropy_forward(loss, probs, logits, &target, 1, 2);
    CHECK_NEAR(mean, 1e4, 1e-2);
    CHECK_NEAR(probs[1], 1.0, 1e-7);
}

// Causal attention: the first query sees only the first key, so its output is v_0.
static void causal_attention_first_query_sees_the_first_key(void) {
    Random rng;
    random_seed(&rng, 8);
    float qkv[1 * 3 * 3 * 4], out[3 * 4], att[2 * 3 * 3];
    random_fill_normal(&rng, qkv, 36, 0.0f, 1.0f);
    Attention causal = attention_self(qkv, 1, 3, 4, 2);
    attention_forward(out, att, &causal);
    for (int i = 0; i < 4; i++) CHECK_NEAR(out[i], qkv[8 + i], 1e-6);
    CHECK_NEAR(att[1], 0.0, 0.0);  // query 0, key 1 masked
}

// Key padding: hiding key 1 of three gives the attention over keys 0 and 2 alone (the
// same queries against a two-key sequence), with probability exactly 0 on key 1; a query
// whose every visible key is hidden gives zeros.
static void key_padding_hides_keys(void) {
    Random rng;
    random_seed(&rng, 8);
    float qkv[1 * 3 * 3 * 4], out[3 * 4], att[2 * 3 * 3];
    random_fill_normal(&rng, qkv, 36, 0.0f, 1.0f);
    float kv2[2 * 8], out2[3 * 4], att2[2 * 3 * 2];
    for (int i = 0; i < 4; i++) kv2[i] = qkv[4 + i], kv2[4 + i] = qkv[8 + i], kv2[8 + i] = qkv[24 + 4 + i], kv2[12 + i] = qkv[24 + 8 + i];
    const unsigned char hide_key_1[3] = {0, 1, 0};
    Attention padded = {qkv, qkv + 4, qkv + 8, 12, 12, 1, 3, 3, 4, 2, 0, hide_key_1, ATTENTION_PATH_AUTO, NULL, 0.0f};
    attention_forward(out, att, &padded);
    Attention two_keys = {qkv, kv2, kv2 + 4, 12, 8, 1, 3, 2, 4, 2, 0, NULL, ATTENTION_PATH_AUTO, NULL, 0.0f};
    attention_forward(out2, att2, &two_keys);
    for (int i = 0; i < 12; i++) CHECK_NEAR(out[i], out2[i], 1e-6);
    for (int t = 0; t < 6; t++) CHECK_NEAR(att[t * 3 + 1], 0.0, 0.0);
    const unsigned char hide_key_0[3] = {1, 0, 0};
    Attention causal_hidden = attention_self(qkv, 1, 3, 4, 2);
    causal_hidden.key_padding = hide_key_0;
    attention_forward(out, att, &causal_hidden);
    for (int i = 0; i < 4; i++) CHECK_NEAR(out[i], 0.0, 0.0);  // query 0 sees only key 0, hidden
}

// Batch norm by value, against a hand computation. inp (3,2) = [[1,2],[3,4],[5,9]]:
//   channel 0: mean 3, squares 4+0+4 = 8, biased var 8/3, unbiased 8/2 = 4
//   channel 1: mean 5, squares 9+1+16 = 26, biased var 26/3, unbiased 26/2 = 13
// From running mean 0 and var 1 with momentum 0.1: running_mean = 0.1 mean,
// running_var = 0.9 + 0.1 unbiased, i.e. (0.3, 0.5) and (1.3, 2.2).
static void batchnorm_running_statistics_by_hand(void) {
    float inp[6] = {1, 2, 3, 4, 5, 9}, out[6], mean[2], rstd[2];
    float weight[2] = {2.0f, 0.5f}, bias[2] = {1.0f, -1.0f};
    float running_mean[2] = {0, 0}, running_var[2] = {1, 1};
    batchnorm_forward(out, mean, rstd, running_mean, running_var, inp, weight, bias, 3, 2, 1);
    CHECK_NEAR(running_mean[0], 0.3, 1e-7);
    CHECK_NEAR(running_mean[1], 0.5, 1e-7);
    CHECK_NEAR(running_var[0], 1.3, 1e-6);
    CHECK_NEAR(running_var[1], 2.2, 1e-6);
    CHECK_NEAR(out[0], 2.0 * (1 - 3) / sqrt(8.0 / 3 + 1e-5) + 1.0, 1e-5);
    CHECK_NEAR(out[5], 0.5 * (9 - 5) / sqrt(26.0 / 3 + 1e-5) - 1.0, 1e-5);
    // a second training step moves them again: 0.9 * 0.3 + 0.1 * 3, 0.9 * 1.3 + 0.1 * 4
    batchnorm_forward(out, mean, rstd, running_mean, running_var, inp, weight, bias, 3, 2, 1);
    CHECK_NEAR(running_mean[0], 0.57, 1e-6);
    CHECK_NEAR(running_var[0], 1.57, 1e-6);
    // evaluation uses the running statistics and leaves them alone
    batchnorm_forward(out, mean, rstd, running_mean, running_var, inp, weight, bias, 3, 2, 0);
    CHECK_NEAR(out[0], 2.0 * (1 - 0.57) / sqrt(1.57 + 1e-5) + 1.0, 1e-5);
    CHECK_NEAR(running_mean[0], 0.57, 1e-6);
    CHECK_NEAR(running_var[0], 1.57, 1e-6);
}

// Dropout keeps the expectation: the mean of many dropped ones stays 1.
static void dropout_keeps_the_expectation(void) {
    Random rng;
    random_seed(&rng, 9);
    enum { MANY = 100000 };
    float *ones = malloc(sizeof(float) * MANY), *dropped = malloc(sizeof(float) * MANY), *mask = malloc(sizeof(float) * MANY);
    REQUIRE(ones && dropped && mask, "out of memory");
    for (int i = 0; i < MANY; i++) ones[i] = 1.0f;
    dropout_forward(dropped, mask, ones, MANY, 0.25f, &rng);
    double sum = 0.0;
    int zeros = 0;
    for (int i = 0; i < MANY; i++) sum += dropped[i], zeros += dropped[i] == 0.0f;
    CHECK_NEAR(sum / MANY, 1.0, 0.01);
    CHECK_NEAR((double)zeros / MANY, 0.25, 0.01);
    free(ones), free(dropped), free(mask);
}

static const CheckCase CASES[] = {
    {"every backward matches finite differences", every_backward_matches_finite_differences},
    {"cross-entropy exact for huge logits", cross_entropy_exact_for_huge_logits},
    {"causal attention: the first query sees the first key", causal_attention_first_query_sees_the_first_key},
    {"key padding hides keys", key_padding_hides_keys},
    {"batchnorm running statistics by hand", batchnorm_running_statistics_by_hand},
    {"dropout keeps the expectation", dropout_keeps_the_expectation},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
