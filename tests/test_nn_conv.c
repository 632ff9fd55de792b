// The convolutional operations of nn/ops.h (conv2d, conv_transpose2d, pooling, batch norm over
// images, group norm, local response norm, channel dropout, up-sampling): every backward
// against central finite differences on small odd shapes, the fast convolution against the
// seven-loop definition, the modules' initialisation, and the errors.
// (Their values against PyTorch's: tests/test_nn_torch.c.)
#include <math.h>
#include <string.h>

#include "foundations/convolution.h"
#include "foundations/random.h"
#include "nn/module.h"
#include "nn/ops.h"
#include "tests/check.h"
#include "tests/op_gradcheck.h"

static Tensor *b_conv(Tape *t, Tensor **in) { return nn_conv2d(t, in[0], in[1], in[2], 1, 1, 1, 1); }
static Tensor *b_conv_strided_dilated(Tape *t, Tensor **in) { return nn_conv2d(t, in[0], in[1], in[2], 2, 2, 2, 1); }
static Tensor *b_conv_groups(Tape *t, Tensor **in) { return nn_conv2d(t, in[0], in[1], in[2], 2, 1, 1, 2); }
static Tensor *b_conv_depthwise(Tape *t, Tensor **in) { return nn_conv2d(t, in[0], in[1], NULL, 1, 1, 1, 3); }
static Tensor *b_conv_pointwise(Tape *t, Tensor **in) { return nn_conv2d(t, in[0], in[1], in[2], 1, 0, 1, 1); }
static Tensor *b_conv_pointwise_strided(Tape *t, Tensor **in) { return nn_conv2d(t, in[0], in[1], NULL, 2, 0, 1, 1); }
static Tensor *b_conv_no_bias(Tape *t, Tensor **in) { return nn_conv2d(t, in[0], in[1], NULL, 3, 0, 1, 1); }
static Tensor *b_transpose(Tape *t, Tensor **in) { return nn_conv_transpose2d(t, in[0], in[1], in[2], 2, 1, 1, 1); }
static Tensor *b_transpose_groups(Tape *t, Tensor **in) { return nn_conv_transpose2d(t, in[0], in[1], NULL, 2, 0, 0, 2); }
static Tensor *b_max_pool(Tape *t, Tensor **in) { return nn_max_pool2d(t, in[0], 3, 2, 1); }
static Tensor *b_max_pool_default(Tape *t, Tensor **in) { return nn_max_pool2d(t, in[0], 2, 0, 0); }
static Tensor *b_avg_pool(Tape *t, Tensor **in) { return nn_avg_pool2d(t, in[0], 3, 2, 1); }
static Tensor *b_avg_pool_default(Tape *t, Tensor **in) { return nn_avg_pool2d(t, in[0], 2, 0, 0); }
static Tensor *b_adaptive(Tape *t, Tensor **in) { return nn_adaptive_avg_pool2d(t, in[0], 3, 2); }
static Tensor *b_global(Tape *t, Tensor **in) { return nn_adaptive_avg_pool2d(t, in[0], 1, 1); }
static Tensor *b_group_norm(Tape *t, Tensor **in) { return nn_group_norm(t, in[0], 3, in[1], in[2]); }
static Tensor *b_group_norm_plain(Tape *t, Tensor **in) { return nn_group_norm(t, in[0], 2, NULL, NULL); }
static Tensor *b_lrn_odd(Tape *t, Tensor **in) { return nn_local_response_norm(t, in[0], 3, 0.5f, 0.75f, 1.0f); }
static Tensor *b_lrn_even(Tape *t, Tensor **in) { return nn_local_response_norm(t, in[0], 4, 0.8f, 0.6f, 2.0f); }
static Tensor *b_nearest(Tape *t, Tensor **in) { return nn_upsample_nearest2d(t, in[0], 2); }
static Tensor *b_bilinear(Tape *t, Tensor **in) { return nn_upsample_bilinear2d(t, in[0], 2, 0); }
static Tensor *b_bilinear_corners(Tape *t, Tensor **in) { return nn_upsample_bilinear2d(t, in[0], 3, 1); }
static Tensor *b_dropout2d(Tape *t, Tensor **in) {
    Random rng;
    random_seed(&rng, 3);  // the same channels dropped on every evaluation
    return nn_dropout2d(t, in[0], 0.4f, 1, &rng);
}
static float running[2][4];  // batch norm's running statistics, the same before every forward
static Tensor *b_batch_norm(Tape *t, Tensor **in, int training) {
    int C = in[0]->shape[1];
    Tensor *mean = tensor_zeros(t, 1, &C), *var = tensor_zeros(t, 1, &C);
    for (int c = 0; c < C && var; c++) mean->data[c] = running[0][c], var->data[c] = 1.0f + running[1][c] * running[1][c];
    return nn_batch_norm(t, in[0], in[1], in[2], mean, var, training);
}
static Tensor *b_batch_norm_train(Tape *t, Tensor **in) { return b_batch_norm(t, in, 1); }
static Tensor *b_batch_norm_eval(Tape *t, Tensor **in) { return b_batch_norm(t, in, 0); }

static const Case cases[] = {
    {"conv2d 3x3 padding 1", b_conv, 3, {4, 4, 1}, {{2, 3, 7, 6}, {4, 3, 3, 3}, {4}}, {0}},
    {"conv2d stride 2 padding 2 dilation 2, 3x2", b_conv_strided_dilated, 3, {4, 4, 1},
     {{2, 2, 9, 8}, {3, 2, 3, 2}, {3}}, {0}},
    {"conv2d groups 2 stride 2", b_conv_groups, 3, {4, 4, 1}, {{2, 4, 6, 5}, {6, 2, 3, 3}, {6}}, {0}},
    {"conv2d depthwise, no bias", b_conv_depthwise, 2, {4, 4}, {{1, 3, 5, 5}, {3, 1, 3, 3}}, {0}},
    {"conv2d kernel 1", b_conv_pointwise, 3, {4, 4, 1}, {{2, 3, 4, 5}, {5, 3, 1, 1}, {5}}, {0}},
    {"conv2d kernel 1 stride 2, no bias", b_conv_pointwise_strided, 2, {4, 4}, {{2, 3, 5, 5}, {2, 3, 1, 1}}, {0}},
    {"conv2d stride 3 no padding, no bias", b_conv_no_bias, 2, {4, 4}, {{3, 2, 8, 7}, {2, 2, 2, 2}}, {0}},
    {"conv_transpose2d stride 2 padding 1 output_padding 1", b_transpose, 3, {4, 4, 1},
     {{2, 4, 3, 4}, {4, 3, 3, 3}, {3}}, {0}},
    {"conv_transpose2d groups 2, no bias", b_transpose_groups, 2, {4, 4}, {{1, 4, 3, 3}, {4, 1, 2, 2}}, {0}},
    {"max_pool2d 3 stride 2 padding 1", b_max_pool, 1, {4}, {{2, 3, 7, 7}}, {SPACED}},
    {"max_pool2d 2", b_max_pool_default, 1, {4}, {{1, 2, 6, 5}}, {SPACED}},
    {"avg_pool2d 3 stride 2 padding 1", b_avg_pool, 1, {4}, {{2, 3, 7, 7}}, {0}},
    {"avg_pool2d 2", b_avg_pool_default, 1, {4}, {{1, 2, 6, 5}}, {0}},
    {"adaptive_avg_pool2d to 3x2", b_adaptive, 1, {4}, {{2, 3, 7, 5}}, {0}},
    {"adaptive_avg_pool2d global", b_global, 1, {4}, {{2, 3, 4, 3}}, {0}},
    {"batch_norm (N,C,H,W) training", b_batch_norm_train, 3, {4, 1, 1}, {{3, 4, 3, 5}, {4}, {4}}, {0}},
    {"batch_norm (N,C,H,W) evaluation", b_batch_norm_eval, 3, {4, 1, 1}, {{3, 4, 3, 5}, {4}, {4}}, {0}},
    {"group_norm 3 groups", b_group_norm, 3, {4, 1, 1}, {{2, 6, 3, 4}, {6}, {6}}, {0}},
    {"group_norm 2 groups, no affine", b_group_norm_plain, 1, {3}, {{3, 4, 5}}, {0}},
    {"local_response_norm size 3", b_lrn_odd, 1, {4}, {{2, 6, 3, 3}}, {0}},
    {"local_response_norm size 4", b_lrn_even, 1, {4}, {{2, 5, 2, 3}}, {0}},
    {"dropout2d", b_dropout2d, 1, {4}, {{3, 4, 2, 3}}, {0}},
    {"upsample_nearest2d 2", b_nearest, 1, {4}, {{2, 3, 3, 4}}, {0}},
    {"upsample_bilinear2d 2", b_bilinear, 1, {4}, {{2, 3, 3, 4}}, {0}},
    {"upsample_bilinear2d 3 align_corners", b_bilinear_corners, 1, {4}, {{1, 2, 3, 4}}, {0}},
};

static void every_backward_against_finite_differences(void) {
    Random rng;
    random_seed(&rng, 23);
    random_fill_normal(&rng, running[0], 8, 0.0f, 1.0f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i], &rng);
}

// Σ a·b in double.
static double dot(const float *a, const float *b, long n) {
    double sum = 0.0;
    for (long i = 0; i < n; i++) sum += (double)a[i] * b[i];
    return sum;
}

// The fast convolution (pieces of several images, or bands of rows of one, over threads; or one
// piece with the threads in the product; the implicit gemm for square kernels) against the seven loops, on shapes whose products
// cross the matrix multiply's blocks; its backward and the transposed convolution by the
// adjoint identities of a bilinear map: Σ conv(x, w)·g = Σ x·(d x) = Σ w·(d w) = Σ z·convᵀ(g).
static void convolution_against_definition(void) {
    Convolution shapes[] = {
        {5, 3, 17, 13, 8, 5, 5, 1, 2, 1, 1, 0, 0},    {1, 16, 12, 12, 32, 3, 3, 1, 1, 1, 1, 0, 0},
        {3, 6, 11, 9, 4, 3, 3, 2, 1, 2, 2, 0, 0},      {2, 8, 9, 9, 8, 3, 3, 1, 1, 1, 8, 0, 0},
        {4, 64, 6, 6, 70, 1, 1, 1, 0, 1, 1, 0, 0},     {2, 5, 7, 7, 3, 7, 7, 1, 0, 1, 1, 0, 0},
        {1, 64, 40, 40, 8, 3, 3, 1, 1, 1, 1, 0, 0},    {3, 48, 45, 37, 6, 3, 3, 2, 1, 1, 2, 0, 0},
        {2, 96, 30, 30, 5, 1, 1, 1, 0, 1, 1, 0, 0},    {2, 16, 9, 11, 16, 3, 3, 1, 0, 1, 2, 0, 0},
        {3, 8, 7, 6, 12, 3, 3, 1, 2, 1, 1, 0, 0},      {1, 8, 64, 70, 8, 3, 3, 1, 1, 1, 1, 0, 0},
    };
    Random rng;
    random_seed(&rng, 4);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        Convolution c = shapes[s];
        REQUIRE(conv2d_shape(&c) == 0, "shape %zu", s);
        long n_in = (long)c.N * c.C * c.H * c.W, n_w = (long)c.OC * (c.C / c.groups) * c.KH * c.KW;
        long n_out = (long)c.N * c.OC * c.OH * c.OW, depth = (long)(c.C / c.groups) * c.KH * c.KW;
        float *x = malloc(sizeof(float) * (size_t)n_in), *w = malloc(sizeof(float) * (size_t)n_w);
        float *b = malloc(sizeof(float) * (size_t)c.OC), *fast = malloc(sizeof(float) * (size_t)n_out);
        float *slow = malloc(sizeof(float) * (size_t)n_out), *g = malloc(sizeof(float) * (size_t)n_out);
        float *dx = calloc((size_t)n_in, sizeof(float)), *dw = calloc((size_t)n_w, sizeof(float));
        float *db = calloc((size_t)c.OC, sizeof(float)), *transposed = malloc(sizeof(float) * (size_t)n_in);
        float *work = malloc(sizeof(float) * (size_t)conv2d_workspace_floats(&c));
        random_fill_normal(&rng, x, n_in, 0.0f, 1.0f);
        random_fill_normal(&rng, w, n_w, 0.0f, 1.0f);
        random_fill_normal(&rng, b, c.OC, 0.0f, 1.0f);
        random_fill_normal(&rng, g, n_out, 0.0f, 1.0f);
        conv2d_forward_reference(slow, x, w, b, &c);
        for (int im2col = 0; im2col < 2; im2col++) {
            CHECK((im2col ? conv2d_forward_im2col : conv2d_forward)(fast, x, w, b, &c, work) == 0, "forward");
            double worst = 0.0;
            for (long i = 0; i < n_out; i++) worst = fmax(worst, fabs((double)fast[i] - slow[i]));
            CHECK(worst < 1e-4 * sqrt((double)depth), "shape %zu (%s): differs by %g", s, im2col ? "im2col" : "best",
                  worst);
        }
        // the same without the bias, then the identities
        conv2d_forward_reference(slow, x, w, NULL, &c);
        CHECK(conv2d_backward(dx, dw, db, g, x, w, &c, NULL) == 0, "backward");  // its own work space
        CHECK(conv_transpose2d_forward(transposed, g, w, NULL, &c, work) == 0, "transposed forward");
        double y_g = dot(slow, g, n_out), scale = sqrt((double)n_out * depth) * 1e-5;
        CHECK(fabs(dot(x, dx, n_in) - y_g) < scale, "shape %zu: Σ x·dx %g, Σ y·g %g", s, dot(x, dx, n_in), y_g);
        CHECK(fabs(dot(w, dw, n_w) - y_g) < scale, "shape %zu: Σ w·dw %g, Σ y·g %g", s, dot(w, dw, n_w), y_g);
        CHECK(fabs(dot(x, transposed, n_in) - y_g) < scale, "shape %zu: Σ x·convᵀ(g) %g", s, dot(x, transposed, n_in));
        double bias_sum = 0.0;
        for (int o = 0; o < c.OC; o++) bias_sum += db[o];
        double g_sum = 0.0;
        for (long i = 0; i < n_out; i++) g_sum += g[i];
        CHECK_NEAR(bias_sum, g_sum, 1e-3 * sqrt((double)n_out));
        free(x), free(w), free(b), free(fast), free(slow), free(g), free(dx), free(dw), free(db), free(transposed), free(work);
    }
    // by hand: a 3x3 image of 1..9, the 2x2 kernel of ones, padding 1, stride 2 -> corners' sums
    Tape tape;
    tape_init(&tape);
    Tensor *image = tensor_from(&tape, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9}, 4, (int[]){1, 1, 3, 3});
    Tensor *ones = tensor_from(&tape, (float[]){1, 1, 1, 1}, 4, (int[]){1, 1, 2, 2});
    Tensor *y = nn_conv2d(&tape, image, ones, NULL, 2, 1, 1, 1);
    REQUIRE(y && y->shape[2] == 2 && y->shape[3] == 2, "conv2d (1,1,3,3) by (1,1,2,2): %s", tape.error.message);
    float expected[4] = {1, 2 + 3, 4 + 7, 5 + 6 + 8 + 9};
    for (int i = 0; i < 4; i++) CHECK_NEAR(y->data[i], expected[i], 0.0);
    tape_free(&tape);
}

// Max pooling's ties (the first maximum gets the gradient), NaN (propagates) and a window of −∞
// (its first pixel gets the gradient, as in PyTorch); average pooling counts padding as zeros.
static void pooling_by_hand(void) {
    Tape tape;
    tape_init(&tape);
    Tensor x;
    Error error;
    REQUIRE(tensor_parameter(&x, 4, (int[]){1, 1, 2, 6}, &error) == 0, "%s", error.message);
    float values[12] = {1, 3, -INFINITY, -INFINITY, 1, NAN, 3, 0, -INFINITY, -INFINITY, 5, 2};
    memcpy(x.data, values, sizeof values);
    Tensor *y = nn_max_pool2d(&tape, &x, 2, 0, 0);
    REQUIRE(y && y->size == 3, "max_pool2d (1,1,2,6) by 2: %s", tape.error.message);
    CHECK(y->data[0] == 3.0f && y->data[1] == -INFINITY && isnan(y->data[2]), "maxima %g %g %g", y->data[0], y->data[1],
          y->data[2]);
    CHECK(tape_backward(&tape, nn_sum(&tape, nn_slice(&tape, nn_reshape(&tape, y, 1, (int[]){3}), 0, 0, 2), NULL, 0, 0),
                        &error) == 0, "%s", error.message);
    float expected[12] = {0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // the first 3 of the tie; the first −∞
    for (int i = 0; i < 12; i++) CHECK(x.grad[i] == expected[i], "gradient %d: %g", i, x.grad[i]);
    tape_reset(&tape);
    Tensor *ones = tensor_from(&tape, (float[]){1, 1, 1, 1}, 4, (int[]){1, 1, 2, 2});
    Tensor *avg = nn_avg_pool2d(&tape, ones, 2, 1, 1);  // 3×3 windows of 1, 2 or 4 ones in 4 places
    REQUIRE(avg && avg->size == 9, "avg_pool2d: %s", tape.error.message);
    CHECK(avg->data[0] == 0.25f && avg->data[1] == 0.5f && avg->data[4] == 1.0f, "%g %g %g", avg->data[0], avg->data[1],
          avg->data[4]);
    tensor_parameter_free(&x);
    tape_free(&tape);
}

// PyTorch's default initialisation bounds and the state_dict names.
static void modules_initialise_as_pytorch(void) {
    Parameters params = {0};
    Random rng;
    random_seed(&rng, 1);
    Error error;
    Conv2d conv;
    GroupNorm norm;
    BatchNorm2d bn;
    REQUIRE(conv2d_init(&conv, &params, "conv1", 6, 16, 5, 1, 0, 1, 2, 1, &rng, &error) == 0, "%s", error.message);
    REQUIRE(group_norm_init(&norm, &params, "gn1", 4, 16, &error) == 0, "%s", error.message);
    REQUIRE(batch_norm_init(&bn, &params, "bn1", 16, &error) == 0, "%s", error.message);
    CHECK(parameters_find(&params, "conv1.weight") == conv.weight && parameters_find(&params, "conv1.bias") == conv.bias,
          "conv1 names");
    CHECK(conv.weight->n_dims == 4 && conv.weight->shape[0] == 16 && conv.weight->shape[1] == 3 &&
              conv.weight->shape[3] == 5, "weight (16,3,5,5)");
    double bound = 1.0 / sqrt(3.0 * 25.0), largest = 0.0, squares = 0.0;
    for (long i = 0; i < conv.weight->size; i++) {
        largest = fmax(largest, fabs(conv.weight->data[i]));
        squares += (double)conv.weight->data[i] * conv.weight->data[i];
    }
    CHECK(largest <= bound && largest > 0.9 * bound, "weights within ±%g, largest %g", bound, largest);
    // U(±a) has variance a²/3
    CHECK_NEAR(squares / (double)conv.weight->size, bound * bound / 3.0, 0.15 * bound * bound / 3.0);
    for (int c = 0; c < 16; c++) CHECK(fabs(conv.bias->data[c]) <= bound, "bias %d", c);
    CHECK(norm.weight->data[3] == 1.0f && norm.bias->data[3] == 0.0f && parameters_find(&params, "gn1.bias"), "gn1");
    // BatchNorm2d on (N,C,H,W) counts its batches
    Tape tape;
    tape_init(&tape);
    Tensor *x = tensor_zeros(&tape, 4, (int[]){2, 6, 9, 9});
    for (long i = 0; i < x->size; i++) x->data[i] = (float)(i % 7);
    Tensor *y = batch_norm_apply(&tape, &bn, group_norm_apply(&tape, &norm, conv2d_apply(&tape, &conv, x)), 1);
    CHECK(y && y->shape[1] == 16 && y->shape[2] == 5 && bn.num_batches_tracked->data[0] == 1.0f, "%s",
          tape.error.message);
    CHECK(conv2d_init(&conv, &params, "bad", 6, 16, 5, 1, 0, 1, 4, 1, &rng, &error) != 0 && strstr(error.message, "groups"),
          "6 channels in 4 groups: %s", error.message);
    CHECK(group_norm_init(&norm, &params, "bad", 5, 16, &error) != 0, "16 channels in 5 groups");
    tape_free(&tape);
    parameters_free(&params);
}

// The convolutions work in the tape's scratch buffer: after the first step, a loop's steps
// neither grow it nor move it (nothing allocated, nothing faulted in).
static void steps_reuse_the_scratch(void) {
    Parameters params = {0};
    Random rng;
    random_seed(&rng, 2);
    Error error;
    Conv2d conv1, conv2;
    REQUIRE(conv2d_init(&conv1, &params, "conv1", 3, 16, 3, 1, 1, 1, 1, 1, &rng, &error) == 0, "%s", error.message);
    REQUIRE(conv2d_init(&conv2, &params, "conv2", 16, 8, 5, 2, 0, 1, 1, 1, &rng, &error) == 0, "%s", error.message);
    Tape tape;
    tape_init(&tape);
    void *first = NULL;
    size_t bytes = 0;
    for (int step = 0; step < 3; step++) {
        tape_reset(&tape);
        Tensor *x = tensor_zeros(&tape, 4, (int[]){4, 3, 12, 12});
        for (long i = 0; x && i < x->size; i++) x->data[i] = (float)(i % 11) * 0.1f;
        Tensor *y = conv2d_apply(&tape, &conv2, nn_relu(&tape, conv2d_apply(&tape, &conv1, x)));
        parameters_zero_grad(&params);
        REQUIRE(y && tape_backward(&tape, nn_sum(&tape, y, NULL, 0, 0), &error) == 0, "step %d: %s", step,
                y ? error.message : tape.error.message);
        if (step == 0) first = tape.scratch, bytes = tape.scratch_bytes;
        CHECK(first && tape.scratch == first && tape.scratch_bytes == bytes, "step %d: scratch moved or grew", step);
    }
    tape_free(&tape);
    parameters_free(&params);
}

// One failure: NULL, and tape->error names the operation, the shapes and contains why.
static void expect_failure(Tape *tape, Tensor *result, const char *op, const char *shape, const char *why) {
    CHECK(result == NULL && tape->failed, "%s with %s should fail", op, shape);
    CHECK(strncmp(tape->error.message, op, strlen(op)) == 0 && strstr(tape->error.message, shape) &&
              strstr(tape->error.message, why) && !strchr(tape->error.message, '\n'),
          "message: %s", tape->error.message);
    tape_reset(tape);
}

static void bad_shapes_fail_with_one_line(void) {
    Tape tape;
    tape_init(&tape);
    Tensor *x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5});
    Tensor *w = tensor_zeros(&tape, 4, (int[]){6, 4, 7, 7}), *w3 = tensor_zeros(&tape, 4, (int[]){6, 4, 3, 3});
    Tensor *flat = tensor_zeros(&tape, 2, (int[]){2, 4});
    expect_failure(&tape, nn_conv2d(&tape, x, w, NULL, 1, 0, 1, 1), "conv2d", "(2,4,5,5)", "kernel larger than the padded input");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5}), w3 = tensor_zeros(&tape, 4, (int[]){6, 4, 3, 3});
    CHECK(nn_conv2d(&tape, x, tensor_zeros(&tape, 4, (int[]){6, 4, 7, 7}), NULL, 1, 1, 1, 1) != NULL,
          "a 7x7 kernel fits 5x5 padded by 1");
    expect_failure(&tape, nn_conv2d(&tape, x, w3, NULL, 0, 1, 1, 1), "conv2d", "(6,4,3,3)", "stride");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5}), w3 = tensor_zeros(&tape, 4, (int[]){6, 4, 3, 3});
    expect_failure(&tape, nn_conv2d(&tape, x, w3, NULL, 1, 1, 1, 3), "conv2d", "(2,4,5,5)", "divisible by groups");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5}), flat = tensor_zeros(&tape, 2, (int[]){2, 4});
    w3 = tensor_zeros(&tape, 4, (int[]){6, 4, 3, 3});
    expect_failure(&tape, nn_conv2d(&tape, flat, w3, NULL, 1, 1, 1, 1), "conv2d", "(2,4)", "4-d");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5}), w3 = tensor_zeros(&tape, 4, (int[]){6, 4, 3, 3});
    expect_failure(&tape, nn_conv2d(&tape, x, w3, tensor_zeros(&tape, 1, (int[]){5}), 1, 1, 1, 1), "conv2d", "(5)", "bias");
    x = tensor_zeros(&tape, 4, (int[]){0, 4, 5, 5}), w3 = tensor_zeros(&tape, 4, (int[]){6, 4, 3, 3});
    expect_failure(&tape, nn_conv2d(&tape, x, w3, NULL, 1, 1, 1, 1), "conv2d", "(0,4,5,5)", "at least 1");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5}), w3 = tensor_zeros(&tape, 4, (int[]){4, 2, 3, 3});
    expect_failure(&tape, nn_conv_transpose2d(&tape, x, w3, NULL, 2, 1, 2, 1), "conv_transpose2d", "(2,4,5,5)",
                   "output_padding");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5});
    expect_failure(&tape, nn_max_pool2d(&tape, x, 7, 1, 0), "max_pool2d", "(2,4,5,5)", "kernel larger than the padded input");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5});
    expect_failure(&tape, nn_avg_pool2d(&tape, x, 3, 1, 2), "avg_pool2d", "(2,4,5,5)", "padding");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5});
    expect_failure(&tape, nn_max_pool2d(&tape, x, 2, -1, 0), "max_pool2d", "(2,4,5,5)", "stride");
    flat = tensor_zeros(&tape, 2, (int[]){2, 4});
    expect_failure(&tape, nn_adaptive_avg_pool2d(&tape, flat, 1, 1), "adaptive_avg_pool2d", "(2,4)", "4-d");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5});
    expect_failure(&tape, nn_group_norm(&tape, x, 3, NULL, NULL), "group_norm", "(2,4,5,5)", "divisible by groups");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5});
    expect_failure(&tape, nn_upsample_bilinear2d(&tape, x, 0, 0), "upsample_bilinear2d", "(2,4,5,5)", "scale");
    x = tensor_zeros(&tape, 4, (int[]){2, 4, 5, 5});
    expect_failure(&tape, nn_local_response_norm(&tape, x, 0, 1e-4f, 0.75f, 1.0f), "local_response_norm", "(2,4,5,5)",
                   "size");
    x = tensor_zeros(&tape, 4, (int[]){1, 4, 1, 1});
    Tensor *c = tensor_zeros(&tape, 1, (int[]){4});
    expect_failure(&tape, nn_batch_norm(&tape, x, c, c, c, c, 1), "batch_norm", "(1,4,1,1)", "more than one value");
    CHECK(nn_conv2d(&tape, NULL, NULL, NULL, 1, 0, 1, 1) == NULL && !tape.failed, "NULL in, NULL out");
    tape_free(&tape);
}

static const CheckCase CASES[] = {
    {"every backward against finite differences", every_backward_against_finite_differences},
    {"convolution against the definition", convolution_against_definition},
    {"pooling by hand: ties, NaN, -inf, padding", pooling_by_hand},
    {"modules initialise as PyTorch", modules_initialise_as_pytorch},
    {"steps reuse the tape's scratch", steps_reuse_the_scratch},
    {"bad shapes fail with one line", bad_shapes_fail_with_one_line},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
