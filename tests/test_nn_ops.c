// Every operation of nn/ops.h: its backward, through the tape, against central finite
// differences of its forward; then broadcasting and reductions by value, and the errors.
//
// Each case builds out = op(inputs) from parameters; the objective is f = Σ proj_i out_i with a
// fixed random proj, so the tape's backward of sum(out · proj) must equal the numerical
// gradient of f with respect to every input.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/random.h"
#include "nn/ops.h"
#include "nn/tensor.h"
#include "tests/check.h"
#include "tests/op_gradcheck.h"

static const int targets[6] = {1, 0, 3, 3, 2, 1};
static const int ignored_targets[6] = {1, -100, 3, 3, -100, 1};
static const int ids[5] = {2, 0, 2, 1, 3};
static const int gather_index[2 * 2 * 4] = {0, 2, 1, 1, 2, 2, 0, 1, 1, 0, 0, 2, 2, 1, 2, 0};
static const unsigned char padding[2 * 5] = {0, 0, 0, 1, 1, 0, 0, 0, 0, 0};

static Tensor *b_add(Tape *t, Tensor **in) { return nn_add(t, in[0], in[1]); }
static Tensor *b_sub(Tape *t, Tensor **in) { return nn_sub(t, in[0], in[1]); }
static Tensor *b_mul(Tape *t, Tensor **in) { return nn_mul(t, in[0], in[1]); }
static Tensor *b_div(Tape *t, Tensor **in) { return nn_div(t, in[0], in[1]); }
static Tensor *b_scale(Tape *t, Tensor **in) { return nn_add_scalar(t, nn_scale(t, in[0], -1.5f), 2.0f); }
static Tensor *b_neg(Tape *t, Tensor **in) { return nn_neg(t, in[0]); }
static Tensor *b_exp(Tape *t, Tensor **in) { return nn_exp(t, in[0]); }
static Tensor *b_log(Tape *t, Tensor **in) { return nn_log(t, in[0]); }
static Tensor *b_sqrt(Tape *t, Tensor **in) { return nn_sqrt(t, in[0]); }
static Tensor *b_abs(Tape *t, Tensor **in) { return nn_abs(t, in[0]); }
static Tensor *b_pow(Tape *t, Tensor **in) { return nn_pow(t, in[0], 2.5f); }
static Tensor *b_tanh(Tape *t, Tensor **in) { return nn_tanh(t, in[0]); }
static Tensor *b_sigmoid(Tape *t, Tensor **in) { return nn_sigmoid(t, in[0]); }
static Tensor *b_relu(Tape *t, Tensor **in) { return nn_relu(t, in[0]); }
static Tensor *b_leaky_relu(Tape *t, Tensor **in) { return nn_leaky_relu(t, in[0], 0.1f); }
static Tensor *b_gelu(Tape *t, Tensor **in) { return nn_gelu(t, in[0]); }
static Tensor *b_softplus(Tape *t, Tensor **in) { return nn_softplus(t, in[0]); }
static Tensor *b_sum_all(Tape *t, Tensor **in) { return nn_sum(t, in[0], NULL, 0, 0); }
static Tensor *b_sum_axes(Tape *t, Tensor **in) { return nn_sum(t, in[0], (int[]){0, -1}, 2, 1); }
static Tensor *b_mean(Tape *t, Tensor **in) { return nn_mean(t, in[0], (int[]){1}, 1, 0); }
static Tensor *b_var(Tape *t, Tensor **in) { return nn_var(t, in[0], (int[]){1}, 1, 1, 1); }
static Tensor *b_var_all(Tape *t, Tensor **in) { return nn_var(t, in[0], NULL, 0, 0, 0); }
static Tensor *b_max(Tape *t, Tensor **in) { return nn_max(t, in[0], (int[]){1}, 1, 0); }
static Tensor *b_max_axes(Tape *t, Tensor **in) { return nn_max(t, in[0], (int[]){0, 2}, 2, 1); }
static Tensor *b_matmul(Tape *t, Tensor **in) { return nn_matmul(t, in[0], in[1]); }
static Tensor *b_linear(Tape *t, Tensor **in) { return nn_linear(t, in[0], in[1], in[2]); }
static Tensor *b_linear_no_bias(Tape *t, Tensor **in) { return nn_linear(t, in[0], in[1], NULL); }
static Tensor *b_reshape(Tape *t, Tensor **in) { return nn_exp(t, nn_reshape(t, in[0], 2, (int[]){-1, 6})); }
static Tensor *b_permute(Tape *t, Tensor **in) { return nn_permute(t, in[0], (int[]){2, 0, 1}); }
static Tensor *b_transpose(Tape *t, Tensor **in) { return nn_transpose(t, in[0], 0, -1); }
static Tensor *b_slice(Tape *t, Tensor **in) { return nn_slice(t, in[0], 1, 1, 3); }
static Tensor *b_concat(Tape *t, Tensor **in) { return nn_concat(t, in, 3, 1); }
static Tensor *b_stack(Tape *t, Tensor **in) { return nn_stack(t, in, 2, 1); }
// 11 tensors (more than a node holds): in[0], in[1] and in[0] again, alternating
static Tensor *b_stack_many(Tape *t, Tensor **in) {
    Tensor *many[11];
    for (int i = 0; i < 11; i++) many[i] = in[i % 3 == 1];
    return nn_stack(t, many, 11, 0);
}
static Tensor *b_index_select(Tape *t, Tensor **in) { return nn_index_select(t, in[0], 1, ids, 5); }
static Tensor *b_gather(Tape *t, Tensor **in) { return nn_gather(t, in[0], 1, gather_index, 2); }
static Tensor *b_embedding(Tape *t, Tensor **in) { return nn_embedding(t, in[0], ids, 2, (int[]){1, 5}); }
static Tensor *b_softmax(Tape *t, Tensor **in) { return nn_softmax(t, in[0]); }
static Tensor *b_log_softmax(Tape *t, Tensor **in) { return nn_log_softmax(t, in[0]); }
static Tensor *b_cross_entropy(Tape *t, Tensor **in) { return nn_cross_entropy(t, in[0], targets, NN_NO_IGNORE, 0.0f); }
static Tensor *b_cross_entropy_smooth(Tape *t, Tensor **in) {
    return nn_cross_entropy(t, in[0], ignored_targets, -100, 0.2f);
}
static Tensor *b_nll(Tape *t, Tensor **in) { return nn_nll_loss(t, nn_log_softmax(t, in[0]), ignored_targets, -100); }
static Tensor *b_mse(Tape *t, Tensor **in) { return nn_mse_loss(t, in[0], in[1]); }
static Tensor *b_bce(Tape *t, Tensor **in) { return nn_bce_with_logits(t, in[0], nn_sigmoid(t, in[1])); }
static Tensor *b_dropout(Tape *t, Tensor **in) {
    Random rng;
    random_seed(&rng, 5);  // the same mask on every evaluation
    return nn_dropout(t, in[0], 0.3f, 1, &rng);
}
static Tensor *b_layer_norm(Tape *t, Tensor **in) { return nn_layer_norm(t, in[0], in[1], in[2]); }
// Batch norm's running statistics live in buffers of the case (reset before each evaluation so
// every forward sees the same ones).
static float running[2][6];
static Tensor *b_batch_norm(Tape *t, Tensor **in, int training) {
    int C = in[0]->shape[1];
    Tensor *mean = tensor_zeros(t, 1, &C), *var = tensor_zeros(t, 1, &C);
    for (int c = 0; c < C && var; c++) mean->data[c] = running[0][c], var->data[c] = 1.0f + running[1][c] * running[1][c];
    return nn_batch_norm(t, in[0], in[1], in[2], mean, var, training);
}
static Tensor *b_batch_norm_train(Tape *t, Tensor **in) { return b_batch_norm(t, in, 1); }
static Tensor *b_batch_norm_eval(Tape *t, Tensor **in) { return b_batch_norm(t, in, 0); }
static Tensor *b_attention(Tape *t, Tensor **in) { return nn_attention(t, in[0], in[1], in[2], 2, 1, NULL); }
static Tensor *b_attention_padded(Tape *t, Tensor **in) { return nn_attention(t, in[0], in[1], in[2], 2, 0, padding); }
static Tensor *b_attention_both(Tape *t, Tensor **in) { return nn_attention(t, in[0], in[1], in[2], 2, 1, padding); }

static const Case cases[] = {
    {"add (2,3,4)+(3,1)", b_add, 2, {3, 2}, {{2, 3, 4}, {3, 1}}, {0}},
    {"sub (2,3)-(3)", b_sub, 2, {2, 1}, {{2, 3}, {3}}, {0}},
    {"mul (2,1,4)*(3,1)", b_mul, 2, {3, 2}, {{2, 1, 4}, {3, 1}}, {0}},
    {"div (2,3)/(2,3)", b_div, 2, {2, 2}, {{2, 3}, {2, 3}}, {NORMAL, POSITIVE}},
    {"div (4)/(1)", b_div, 2, {1, 1}, {{4}, {1}}, {NORMAL, POSITIVE}},
    {"scale and add_scalar", b_scale, 1, {2}, {{2, 3}}, {0}},
    {"neg", b_neg, 1, {2}, {{2, 3}}, {0}},
    {"exp", b_exp, 1, {2}, {{2, 3}}, {0}},
    {"log", b_log, 1, {2}, {{2, 3}}, {POSITIVE}},
    {"sqrt", b_sqrt, 1, {2}, {{2, 3}}, {POSITIVE}},
    {"abs", b_abs, 1, {2}, {{2, 3}}, {AWAY_FROM_ZERO}},
    {"pow 2.5", b_pow, 1, {2}, {{2, 3}}, {POSITIVE}},
    {"tanh", b_tanh, 1, {2}, {{2, 3}}, {0}},
    {"sigmoid", b_sigmoid, 1, {2}, {{2, 3}}, {0}},
    {"relu", b_relu, 1, {2}, {{2, 3}}, {AWAY_FROM_ZERO}},
    {"leaky_relu", b_leaky_relu, 1, {2}, {{2, 3}}, {AWAY_FROM_ZERO}},
    {"gelu", b_gelu, 1, {2}, {{2, 3}}, {0}},
    {"softplus", b_softplus, 1, {2}, {{2, 3}}, {0}},
    {"sum over all", b_sum_all, 1, {3}, {{2, 3, 4}}, {0}},
    {"sum over 0,-1 keepdim", b_sum_axes, 1, {3}, {{2, 3, 4}}, {0}},
    {"mean over 1", b_mean, 1, {3}, {{2, 3, 4}}, {0}},
    {"var over 1 unbiased keepdim", b_var, 1, {3}, {{2, 3, 4}}, {0}},
    {"var over all biased", b_var_all, 1, {2}, {{3, 4}}, {0}},
    {"max over 1", b_max, 1, {3}, {{2, 4, 3}}, {0}},
    {"max over 0,2 keepdim", b_max_axes, 1, {3}, {{2, 4, 3}}, {0}},
    {"matmul batched", b_matmul, 2, {3, 3}, {{2, 3, 4}, {2, 4, 5}}, {0}},
    {"matmul shared right", b_matmul, 2, {3, 2}, {{2, 3, 4}, {4, 5}}, {0}},
    {"linear", b_linear, 3, {3, 2, 1}, {{2, 3, 4}, {5, 4}, {5}}, {0}},
    {"linear without bias", b_linear_no_bias, 2, {2, 2}, {{3, 4}, {5, 4}}, {0}},
    {"reshape", b_reshape, 1, {3}, {{2, 3, 2}}, {0}},
    {"permute", b_permute, 1, {3}, {{2, 3, 4}}, {0}},
    {"transpose", b_transpose, 1, {3}, {{2, 3, 4}}, {0}},
    {"slice", b_slice, 1, {3}, {{2, 4, 3}}, {0}},
    {"concat", b_concat, 3, {3, 3, 3}, {{2, 1, 3}, {2, 2, 3}, {2, 3, 3}}, {0}},
    {"stack", b_stack, 2, {2, 2}, {{2, 3}, {2, 3}}, {0}},
    {"stack of 11 (groups), repeated inputs", b_stack_many, 2, {2, 2}, {{2, 3}, {2, 3}}, {0}},
    {"index_select (repeated id)", b_index_select, 1, {3}, {{2, 4, 3}}, {0}},
    {"gather", b_gather, 1, {3}, {{2, 3, 4}}, {0}},
    {"embedding", b_embedding, 1, {2}, {{4, 3}}, {0}},
    {"softmax", b_softmax, 1, {2}, {{3, 5}}, {0}},
    {"log_softmax", b_log_softmax, 1, {3}, {{2, 3, 5}}, {0}},
    {"cross_entropy", b_cross_entropy, 1, {3}, {{2, 3, 4}}, {0}},
    {"cross_entropy smoothing, ignore", b_cross_entropy_smooth, 1, {2}, {{6, 4}}, {0}},
    {"nll_loss ignore", b_nll, 1, {2}, {{6, 4}}, {0}},
    {"mse_loss", b_mse, 2, {2, 2}, {{2, 3}, {2, 3}}, {0}},
    {"bce_with_logits", b_bce, 2, {2, 2}, {{2, 3}, {2, 3}}, {0}},
    {"dropout", b_dropout, 1, {2}, {{4, 5}}, {0}},
    {"layer_norm", b_layer_norm, 3, {3, 1, 1}, {{2, 3, 6}, {6}, {6}}, {0}},
    {"batch_norm (N,C) training", b_batch_norm_train, 3, {2, 1, 1}, {{5, 6}, {6}, {6}}, {0}},
    {"batch_norm (N,C,L) training", b_batch_norm_train, 3, {3, 1, 1}, {{3, 4, 5}, {4}, {4}}, {0}},
    {"batch_norm (N,C) evaluation", b_batch_norm_eval, 3, {2, 1, 1}, {{5, 6}, {6}, {6}}, {0}},
    {"attention causal", b_attention, 3, {3, 3, 3}, {{2, 5, 4}, {2, 5, 4}, {2, 5, 4}}, {0}},
    {"attention padding mask", b_attention_padded, 3, {3, 3, 3}, {{2, 3, 4}, {2, 5, 4}, {2, 5, 4}}, {0}},
    {"attention causal + padding", b_attention_both, 3, {3, 3, 3}, {{2, 5, 4}, {2, 5, 4}, {2, 5, 4}}, {0}},
};

// A tensor of the given values on the tape (a step value, no gradient).
static Tensor *values(Tape *tape, int n_dims, const int *shape, const float *data) {
    return tensor_from(tape, data, n_dims, shape);
}

static void check_values(void) {
    Tape tape;
    tape_init(&tape);
    // broadcasting: (2,1) + (3) -> (2,3)
    Tensor *a = values(&tape, 2, (int[]){2, 1}, (float[]){10, 20});
    Tensor *b = values(&tape, 1, (int[]){3}, (float[]){1, 2, 3});
    Tensor *c = nn_add(&tape, a, b);
    float expected[6] = {11, 12, 13, 21, 22, 23};
    CHECK(c && c->n_dims == 2 && c->shape[0] == 2 && c->shape[1] == 3, "add broadcast shape");
    for (int i = 0; c && i < 6; i++) CHECK_NEAR(c->data[i], expected[i], 0.0);
    // var of 1..4 is 1.6667 unbiased, 1.25 biased; max and its axis
    Tensor *x = values(&tape, 1, (int[]){4}, (float[]){1, 2, 3, 4});
    CHECK_NEAR(nn_var(&tape, x, NULL, 0, 0, 1)->data[0], 5.0 / 3.0, 1e-6);
    CHECK_NEAR(nn_var(&tape, x, NULL, 0, 0, 0)->data[0], 1.25, 1e-6);
    CHECK_NEAR(nn_max(&tape, x, NULL, 0, 0)->data[0], 4.0, 0.0);
    // permute (2,3) -> (3,2) is the transpose
    Tensor *m = values(&tape, 2, (int[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    Tensor *mt = nn_transpose(&tape, m, 0, 1);
    float transposed[6] = {1, 4, 2, 5, 3, 6};
    for (int i = 0; mt && i < 6; i++) CHECK_NEAR(mt->data[i], transposed[i], 0.0);
    // cross-entropy with smoothing 0.1 on logits (0, 0) and target 0: log 2
    Tensor *z = values(&tape, 2, (int[]){1, 2}, (float[]){0, 0});
    CHECK_NEAR(nn_cross_entropy(&tape, z, (int[]){0}, NN_NO_IGNORE, 0.1f)->data[0], log(2.0), 1e-6);
    // softplus of a large input is the input; of 0 log 2
    Tensor *s = nn_softplus(&tape, values(&tape, 1, (int[]){2}, (float[]){30, 0}));
    CHECK_NEAR(s->data[0], 30.0, 0.0);
    CHECK_NEAR(s->data[1], log(2.0), 1e-6);
    // A tensor used twice receives both gradients: d(x·x)/dx = 2x.
    Tensor p;
    Error error;
    tensor_parameter(&p, 1, (int[]){1}, &error);
    p.data[0] = 3.0f;
    tape_reset(&tape);
    CHECK(tape_backward(&tape, nn_sum(&tape, nn_mul(&tape, &p, &p), NULL, 0, 0), &error) == 0, "%s", error.message);
    CHECK_NEAR(p.grad[0], 6.0, 0.0);
    // No-grad: nothing recorded, the output needs no gradient, backward refuses.
    tape_reset(&tape);
    tape.recording = 0;
    Tensor *y = nn_mul(&tape, &p, &p);
    CHECK(y && !y->requires_grad && tape.last == NULL, "no-grad records nothing");
    CHECK(tape_backward(&tape, y, &error) != 0, "backward without a recorded graph fails");
    tape.recording = 1;
    tensor_parameter_free(&p);
    tape_free(&tape);
}

// Shape errors: NULL, one line naming the operation and both shapes, and NULL onwards.
static void check_errors(void) {
    Tape tape;
    tape_init(&tape);
    Tensor *a = tensor_zeros(&tape, 2, (int[]){2, 3}), *b = tensor_zeros(&tape, 1, (int[]){4});
    Tensor *c = nn_add(&tape, a, b);
    CHECK(c == NULL && tape.failed, "add of (2,3) and (4) fails");
    CHECK(strcmp(tape.error.message, "add: shapes (2,3) and (4) do not broadcast") == 0, "message: %s", tape.error.message);
    CHECK(nn_relu(&tape, c) == NULL, "a failure propagates");
    tape_reset(&tape);
    CHECK(nn_matmul(&tape, a, a) == NULL, "matmul (2,3)(2,3)");
    CHECK(strstr(tape.error.message, "matmul") && strstr(tape.error.message, "(2,3) and (2,3)"), "%s", tape.error.message);
    tape_reset(&tape);
    CHECK(nn_cross_entropy(&tape, a, (int[]){0, 7}, NN_NO_IGNORE, 0.0f) == NULL, "target 7 of 3 classes");
    CHECK(strstr(tape.error.message, "target 7"), "%s", tape.error.message);
    tape_reset(&tape);
    CHECK(nn_reshape(&tape, a, 2, (int[]){4, 2}) == NULL, "reshape (2,3) to (4,2)");
    tape_reset(&tape);
    CHECK(nn_embedding(&tape, a, (int[]){1, 9}, 1, (int[]){2}) == NULL && strstr(tape.error.message, "index 9"),
          "embedding id 9 of 2 rows: %s", tape.error.message);
    tape_free(&tape);
}

static void every_backward_against_finite_differences(void) {
    Random rng;
    random_seed(&rng, 11);
    random_fill_normal(&rng, running[0], 12, 0.0f, 1.0f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i], &rng);
}

static const CheckCase CASES[] = {
    {"every backward against finite differences", every_backward_against_finite_differences},
    {"values: broadcasting, var, max, transpose, smoothing, softplus, a tensor used twice, no-grad", check_values},
    {"shape errors name the operation and both shapes", check_errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
