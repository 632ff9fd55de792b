// The gradient-flow experiment's deep network; see deep_conv.h.
#include "models/deep_conv.h"

#include <stdio.h>
#include <string.h>

#include "nn/init.h"
#include "nn/ops.h"

static void initialize(Tensor *weight, Tensor *bias, const DeepConvConfig *c, Random *rng) {
    if (c->init == INIT_XAVIER) init_xavier_normal(weight, 1.0f, rng);
    else if (c->init == INIT_HE) init_kaiming_normal(weight, 0.0f, FAN_IN, GAIN_RELU, rng);
    else init_normal(weight, 0.0f, c->std, rng);
    if (bias) init_constant(bias, 0.0f);
}

int deep_conv_create(DeepConv *model, const DeepConvConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    const DeepConvConfig *c = config;
    if (c->layers < 3 || c->layers > DEEP_CONV_MAX_LAYERS)
        return error_set(error, "deep conv: %d layers (3 to %d)", c->layers, DEEP_CONV_MAX_LAYERS);
    if (c->residual && c->layers % 2)
        return error_set(error, "deep conv: residual blocks pair the convolutions after the stem: %d layers is odd", c->layers);
    if (c->in_channels < 1 || c->channels < 1 || c->classes < 1)
        return error_set(error, "deep conv: sizes %d, %d, %d (each at least 1)", c->in_channels, c->channels, c->classes);
    if (c->init == INIT_NORMAL && !(c->std > 0.0f)) return error_set(error, "deep conv: σ %g (positive)", c->std);
    if (c->init != INIT_NORMAL && c->init != INIT_XAVIER && c->init != INIT_HE)
        return error_set(error, "deep conv: unknown initialisation %d", c->init);
    model->config = *c;
    for (int l = 0; l < c->layers - 1; l++) {
        char name[16];
        snprintf(name, sizeof name, "conv%d", l + 1);
        if (conv2d_init(&model->conv[l], &model->params, name, l ? c->channels : c->in_channels, c->channels, 3,
                        l ? 1 : 2, 1, 1, 1, 1, rng, error)) {
            deep_conv_free(model);
            return -1;
        }
        initialize(model->conv[l].weight, model->conv[l].bias, c, rng);
    }
    if (linear_init(&model->fc, &model->params, "fc", c->channels, c->classes, 1, rng, error)) {
        deep_conv_free(model);
        return -1;
    }
    initialize(model->fc.weight, model->fc.bias, c, rng);
    return 0;
}

void deep_conv_free(DeepConv *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

const Tensor *deep_conv_weight(const DeepConv *model, int l) {
    return l < model->config.layers - 1 ? model->conv[l].weight : model->fc.weight;
}

Tensor *deep_conv_forward(Tape *tape, DeepConv *model, Tensor *x, Tensor **z) {
    const DeepConvConfig *c = &model->config;
    Tensor *scratch[DEEP_CONV_MAX_LAYERS];
    if (!z) z = scratch;
    z[0] = conv2d_apply(tape, &model->conv[0], x);
    Tensor *h = nn_relu(tape, z[0]);
    for (int l = 1; l < c->layers - 1; l++) {
        if (c->residual) {  // a block of conv_l, conv_(l+1)
            z[l] = conv2d_apply(tape, &model->conv[l], h);
            z[l + 1] = conv2d_apply(tape, &model->conv[l + 1], nn_relu(tape, z[l]));
            h = nn_relu(tape, nn_add(tape, h, z[l + 1]));
            l++;
        } else {
            z[l] = conv2d_apply(tape, &model->conv[l], h);
            h = nn_relu(tape, z[l]);
        }
    }
    Tensor *pooled = nn_mean(tape, h, (const int[]){2, 3}, 2, 0);  // (N, C)
    return z[c->layers - 1] = linear_apply(tape, &model->fc, pooled);
}

static Tensor *classifier_forward(void *model, Tape *tape, Tensor *inputs, int training) {
    (void)training;
    return deep_conv_forward(tape, model, inputs, NULL);
}

Classifier deep_conv_as_classifier(DeepConv *model) {
    Classifier classifier = {model, &model->params, model->config.classes, classifier_forward};
    return classifier;
}
