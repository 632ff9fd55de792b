// The framework's operations against PyTorch's: outputs and the gradients of sum(out · proj)
// for the cases of tools/reference/nn_ops_reference.py (tests/fixtures/nn_ops/OPS.safetensors),
// to 1e-5 of each tensor's largest value; batch norm's running statistics too.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "foundations/safetensors.h"
#include "nn/ops.h"
#include "tests/check.h"

static const char *FIXTURE = "tests/fixtures/nn_ops/OPS.safetensors";
static const int TARGETS[6] = {1, -100, 3, 3, -100, 1};
static const unsigned char PADDING[10] = {0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
static float running_mean[8], running_var[8];  // (at most 8 channels)  // batch norm's statistics after the forward

static Tensor *batch_norm(Tape *t, Tensor **in) {
    int C = in[0]->shape[1];
    Tensor *mean = tensor_zeros(t, 1, &C), *var = tensor_zeros(t, 1, &C);
    for (int c = 0; c < C; c++) var->data[c] = 1.0f;
    Tensor *out = nn_batch_norm(t, in[0], in[1], in[2], mean, var, 1);
    memcpy(running_mean, mean->data, sizeof(float) * (size_t)C);
    memcpy(running_var, var->data, sizeof(float) * (size_t)C);
    return out;
}

static Tensor *build_image(Tape *t, const char *name, Tensor **in);

static Tensor *build(Tape *t, const char *name, Tensor **in) {
    if (!strcmp(name, "add_broadcast")) return nn_add(t, in[0], in[1]);
    if (!strcmp(name, "mul_broadcast")) return nn_mul(t, in[0], in[1]);
    if (!strcmp(name, "div")) return nn_div(t, in[0], in[1]);
    if (!strcmp(name, "var_unbiased_keepdim")) return nn_var(t, in[0], (int[]){1}, 1, 1, 1);
    if (!strcmp(name, "mean_axes")) return nn_mean(t, in[0], (int[]){0, 2}, 2, 0);
    if (!strcmp(name, "max_axis")) return nn_max(t, in[0], (int[]){1}, 1, 0);
    if (!strcmp(name, "softplus")) return nn_scale(t, nn_softplus(t, nn_scale(t, in[0], 4.0f)), 0.25f);
    if (!strcmp(name, "leaky_relu")) return nn_leaky_relu(t, in[0], 0.1f);
    if (!strcmp(name, "gelu_tanh")) return nn_gelu(t, in[0]);
    if (!strcmp(name, "log_softmax")) return nn_log_softmax(t, in[0]);
    if (!strcmp(name, "matmul_batched")) return nn_matmul(t, in[0], in[1]);
    if (!strcmp(name, "cross_entropy_smoothing_ignore")) return nn_cross_entropy(t, in[0], TARGETS, -100, 0.2f);
    if (!strcmp(name, "bce_with_logits")) return nn_bce_with_logits(t, in[0], in[1]);
    if (!strcmp(name, "mse")) return nn_mse_loss(t, in[0], in[1]);
    if (!strcmp(name, "layer_norm")) return nn_layer_norm(t, in[0], in[1], in[2]);
    if (!strcmp(name, "batch_norm_nc") || !strcmp(name, "batch_norm_ncl")) return batch_norm(t, in);
    if (!strcmp(name, "attention_causal_padding")) return nn_attention(t, in[0], in[1], in[2], 2, 1, PADDING);
    if (!strcmp(name, "attention_cross_padding")) return nn_attention(t, in[0], in[1], in[2], 2, 0, PADDING);
    return build_image(t, name, in);
}

// The convolutional networks' operations (issue 15).
static Tensor *build_image(Tape *t, const char *name, Tensor **in) {
    if (!strcmp(name, "conv2d_stride_padding")) return nn_conv2d(t, in[0], in[1], in[2], 2, 1, 1, 1);
    if (!strcmp(name, "conv2d_dilation_groups")) return nn_conv2d(t, in[0], in[1], NULL, 1, 2, 2, 2);
    if (!strcmp(name, "conv2d_depthwise")) return nn_conv2d(t, in[0], in[1], in[2], 1, 1, 1, 3);
    if (!strcmp(name, "conv2d_pointwise")) return nn_conv2d(t, in[0], in[1], in[2], 1, 0, 1, 1);
    if (!strcmp(name, "conv2d_winograd")) return nn_conv2d(t, in[0], in[1], in[2], 1, 1, 1, 1);
    if (!strcmp(name, "conv_transpose2d_winograd")) return nn_conv_transpose2d(t, in[0], in[1], NULL, 1, 1, 0, 1);
    if (!strcmp(name, "conv_transpose2d")) return nn_conv_transpose2d(t, in[0], in[1], in[2], 2, 1, 1, 1);
    if (!strcmp(name, "conv_transpose2d_groups")) return nn_conv_transpose2d(t, in[0], in[1], NULL, 2, 0, 0, 2);
    if (!strcmp(name, "max_pool2d")) return nn_max_pool2d(t, in[0], 3, 2, 1);
    if (!strcmp(name, "max_pool2d_default_stride")) return nn_max_pool2d(t, in[0], 2, 0, 0);
    if (!strcmp(name, "avg_pool2d")) return nn_avg_pool2d(t, in[0], 3, 2, 1);
    if (!strcmp(name, "adaptive_avg_pool2d")) return nn_adaptive_avg_pool2d(t, in[0], 3, 2);
    if (!strcmp(name, "batch_norm_nchw")) return batch_norm(t, in);
    if (!strcmp(name, "group_norm")) return nn_group_norm(t, in[0], 3, in[1], in[2]);
    if (!strcmp(name, "local_response_norm_3")) return nn_local_response_norm(t, in[0], 3, 0.5f, 0.75f, 1.0f);
    if (!strcmp(name, "local_response_norm_4")) return nn_local_response_norm(t, in[0], 4, 0.8f, 0.6f, 2.0f);
    if (!strcmp(name, "upsample_nearest2d")) return nn_upsample_nearest2d(t, in[0], 2);
    if (!strcmp(name, "upsample_bilinear2d")) return nn_upsample_bilinear2d(t, in[0], 2, 0);
    if (!strcmp(name, "upsample_bilinear2d_align_corners")) return nn_upsample_bilinear2d(t, in[0], 3, 1);
    return NULL;
}

static const char *CASE_NAMES[] = {"add_broadcast", "mul_broadcast", "div", "var_unbiased_keepdim", "mean_axes",
                                   "max_axis", "softplus", "leaky_relu", "gelu_tanh", "log_softmax", "matmul_batched",
                                   "cross_entropy_smoothing_ignore", "bce_with_logits", "mse", "layer_norm",
                                   "batch_norm_nc", "batch_norm_ncl", "attention_causal_padding",
                                   "attention_cross_padding", "conv2d_stride_padding", "conv2d_dilation_groups",
                                   "conv2d_depthwise", "conv2d_pointwise", "conv_transpose2d",
                                   "conv_transpose2d_groups", "max_pool2d", "max_pool2d_default_stride", "avg_pool2d",
                                   "adaptive_avg_pool2d", "batch_norm_nchw", "group_norm", "local_response_norm_3",
                                   "local_response_norm_4", "upsample_nearest2d", "upsample_bilinear2d",
                                   "upsample_bilinear2d_align_corners", "conv2d_winograd",
                                   "conv_transpose2d_winograd"};

// max |ours − theirs| <= 1e-5 · max(|theirs|, 1e-3)
static void compare(const char *what, const char *name, const float *ours, const SafetensorsTensor *theirs, long n) {
    if (!theirs || theirs->count != n) {
        CHECK(0, "%s %s: missing in the fixture or %ld values here", name, what, n);
        return;
    }
    double largest = 1e-3, difference = 0.0;
    for (long i = 0; i < n; i++) {
        largest = fmax(largest, fabs(theirs->floats[i]));
        difference = fmax(difference, fabs((double)ours[i] - theirs->floats[i]));
    }
    CHECK(difference <= 1e-5 * largest, "%s %s: differs from PyTorch by %g (largest %g)", name, what, difference, largest);
}

static const SafetensorsTensor *find(const Safetensors *file, const char *name, const char *suffix) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", name, suffix);
    return safetensors_find(file, key);
}

static void every_case_matches_pytorch(void) {
    Error error;
    Safetensors file;
    REQUIRE(safetensors_read(&file, FIXTURE, &error) == 0, "%s", error.message);
    for (size_t c = 0; c < sizeof CASE_NAMES / sizeof *CASE_NAMES; c++) {
        const char *name = CASE_NAMES[c];
        Tensor inputs[3];
        Tensor *in[3] = {NULL, NULL, NULL};
        int n_inputs = 0;
        for (; n_inputs < 3; n_inputs++) {
            char suffix[16];
            snprintf(suffix, sizeof suffix, "in%d", n_inputs);
            const SafetensorsTensor *s = find(&file, name, suffix);
            if (!s) break;
            tensor_parameter(&inputs[n_inputs], s->ndim, s->shape, &error);
            memcpy(inputs[n_inputs].data, s->floats, sizeof(float) * (size_t)s->count);
            in[n_inputs] = &inputs[n_inputs];
        }
        CHECK(n_inputs > 0, "%s: no inputs in the fixture", name);
        Tape tape;
        tape_init(&tape);
        Tensor *out = build(&tape, name, in);
        const SafetensorsTensor *proj = find(&file, name, "proj");
        CHECK(out && proj, "%s: %s", name, tape.error.message);
        if (out && proj) {
            compare("output", name, out->data, find(&file, name, "out"), out->size);
            Tensor *p = tensor_from(&tape, proj->floats, out->n_dims, out->shape);
            CHECK(tape_backward(&tape, nn_sum(&tape, nn_mul(&tape, out, p), NULL, 0, 0), &error) == 0, "%s", error.message);
            for (int i = 0; i < n_inputs; i++) {
                char suffix[16];
                snprintf(suffix, sizeof suffix, "grad%d", i);
                compare(suffix, name, inputs[i].grad, find(&file, name, suffix), inputs[i].size);
            }
            if (strstr(name, "batch_norm")) {
                compare("running_mean", name, running_mean, find(&file, name, "running_mean"), inputs[1].size);
                compare("running_var", name, running_var, find(&file, name, "running_var"), inputs[1].size);
            }
        }
        tape_free(&tape);
        for (int i = 0; i < n_inputs; i++) tensor_parameter_free(&inputs[i]);
    }
    safetensors_free(&file);
}

static const CheckCase CASES[] = {
    {"operations against PyTorch: outputs, gradients, running statistics", every_case_matches_pytorch},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
