// ResNet: see resnet.h. Configuration, parameters, forward; the tape gives the backward.
#include "models/resnet.h"

#include <stdio.h>
#include <string.h>

#include "nn/init.h"
#include "nn/state_dict.h"

int resnet_config(ResnetConfig *config, int in_channels, int width, const int *blocks, int n_stages, int classes,
                  Error *error) {
    memset(config, 0, sizeof *config);
    if (n_stages < 1 || n_stages > RESNET_MAX_STAGES)
        return error_set(error, "resnet: %d stages (1 to %d)", n_stages, RESNET_MAX_STAGES);
    if (in_channels < 1 || width < 1 || classes < 1 || (long)width << (n_stages - 1) > 65536)
        return error_set(error, "resnet: width %d, %d input channels, %d classes (positive; at most 65536 channels)",
                         width, in_channels, classes);
    config->in_channels = in_channels, config->n_stages = n_stages, config->classes = classes;
    for (int k = 0; k < n_stages; k++) {
        if (blocks[k] < 1 || blocks[k] > RESNET_MAX_BLOCKS)
            return error_set(error, "resnet: %d blocks in stage %d (1 to %d)", blocks[k], k + 1, RESNET_MAX_BLOCKS);
        config->blocks[k] = blocks[k];
        config->widths[k] = width << k;
    }
    return 0;
}

// A 3×3 (or 1×1 for the shortcut) convolution without bias, torchvision's kaiming_normal init.
static int conv_init(Conv2d *conv, Parameters *params, const char *name, int in, int out, int kernel, int stride,
                     Random *rng, Error *error) {
    if (conv2d_init(conv, params, name, in, out, kernel, stride, kernel / 2, 1, 1, 0, rng, error)) return -1;
    init_kaiming_normal(conv->weight, 0.0f, FAN_OUT, GAIN_RELU, rng);
    return 0;
}

// layer<stage>.<index>: in -> out channels, stride 1 or 2 in its first convolution.
static int basic_block_init(BasicBlock *block, Parameters *params, int stage, int index, int in, int out, int stride,
                            int no_skip, Random *rng, Error *error) {
    memset(block, 0, sizeof *block);
    char name[4][64];
    const char *suffixes[4] = {"conv1", "bn1", "conv2", "bn2"};
    for (int i = 0; i < 4; i++) snprintf(name[i], sizeof name[i], "layer%d.%d.%s", stage, index, suffixes[i]);
    if (conv_init(&block->conv1, params, name[0], in, out, 3, stride, rng, error) ||
        batch_norm_init(&block->bn1, params, name[1], out, error) ||
        conv_init(&block->conv2, params, name[2], out, out, 3, 1, rng, error) ||
        batch_norm_init(&block->bn2, params, name[3], out, error))
        return -1;
    block->no_skip = no_skip;
    block->has_downsample = !no_skip && (stride != 1 || in != out);
    if (!block->has_downsample) return 0;
    snprintf(name[0], sizeof name[0], "layer%d.%d.downsample.0", stage, index);
    snprintf(name[1], sizeof name[1], "layer%d.%d.downsample.1", stage, index);
    if (conv_init(&block->downsample_conv, params, name[0], in, out, 1, stride, rng, error) ||
        batch_norm_init(&block->downsample_bn, params, name[1], out, error))
        return -1;
    return 0;
}

int resnet_create(Resnet *model, const ResnetConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    model->config = *config;
    const ResnetConfig *c = &model->config;
    Parameters *p = &model->params;
    int status = conv_init(&model->conv1, p, "conv1", c->in_channels, c->widths[0], 3, 1, rng, error) ||
                 batch_norm_init(&model->bn1, p, "bn1", c->widths[0], error);
    int channels = c->widths[0];
    for (int k = 0; k < c->n_stages && !status; k++)
        for (int b = 0; b < c->blocks[k] && !status; b++) {
            int stride = k > 0 && b == 0 ? 2 : 1;
            status = basic_block_init(&model->layers[k][b], p, k + 1, b, channels, c->widths[k], stride, c->no_skip,
                                      rng, error);
            channels = c->widths[k];
        }
    if (status || linear_init(&model->fc, p, "fc", channels, c->classes, 1, rng, error)) {
        resnet_free(model);
        return -1;
    }
    return 0;
}

int resnet_from_file(Resnet *model, const Safetensors *file, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    ResnetConfig c = {0};
    const SafetensorsTensor *conv1 = safetensors_find(file, "conv1.weight"), *fc = safetensors_find(file, "fc.weight");
    if (!conv1 || conv1->ndim != 4 || conv1->shape[1] < 1)
        return error_set(error, "%s: conv1.weight (W, in, 3, 3) is missing or not 4-D (not a resnet state_dict)", path);
    if (!fc || fc->ndim != 2 || fc->shape[0] < 1)
        return error_set(error, "%s: fc.weight (classes, width) is missing or not 2-D", path);
    c.in_channels = conv1->shape[1], c.classes = fc->shape[0];
    char name[64];
    for (int k = 0; k < RESNET_MAX_STAGES; k++) {
        snprintf(name, sizeof name, "layer%d.0.conv1.weight", k + 1);
        const SafetensorsTensor *first = safetensors_find(file, name);
        if (!first) break;
        if (first->ndim != 4 || first->shape[0] < 1) return error_set(error, "%s: %s is not a (out, in, 3, 3) weight", path, name);
        c.widths[k] = first->shape[0];
        for (c.blocks[k] = 1; c.blocks[k] <= RESNET_MAX_BLOCKS; c.blocks[k]++) {
            snprintf(name, sizeof name, "layer%d.%d.conv1.weight", k + 1, c.blocks[k]);
            if (!safetensors_find(file, name)) break;
        }
        if (c.blocks[k] > RESNET_MAX_BLOCKS)
            return error_set(error, "%s: more than %d blocks in layer%d", path, RESNET_MAX_BLOCKS, k + 1);
        c.n_stages++;
    }
    if (c.n_stages == 0) return error_set(error, "%s: layer1.0.conv1.weight is missing (not a resnet state_dict)", path);
    Random unused;
    random_seed(&unused, 0);
    if (resnet_create(model, &c, &unused, error)) return -1;
    if (state_dict_load_file(&model->params, file, path, error)) {  // every shape checked there
        resnet_free(model);
        return -1;
    }
    return 0;
}

void resnet_free(Resnet *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

// y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), or without "+ shortcut(x)" (no_skip)
static Tensor *basic_block_forward(Tape *tape, const BasicBlock *block, Tensor *x, int training) {
    Tensor *out = nn_relu(tape, batch_norm_apply(tape, &block->bn1, conv2d_apply(tape, &block->conv1, x), training));
    out = batch_norm_apply(tape, &block->bn2, conv2d_apply(tape, &block->conv2, out), training);
    if (block->no_skip) return nn_relu(tape, out);
    Tensor *shortcut = x;
    if (block->has_downsample)
        shortcut = batch_norm_apply(tape, &block->downsample_bn, conv2d_apply(tape, &block->downsample_conv, x), training);
    return nn_relu(tape, nn_add(tape, out, shortcut));
}

Tensor *resnet_forward(Tape *tape, Resnet *model, Tensor *x, int training) {
    if (!x) return NULL;
    const ResnetConfig *c = &model->config;
    if (x->n_dims != 4 || x->shape[1] != c->in_channels) {
        char shape[64];
        return tape_fail(tape, "resnet: input %s; the model takes (N,%d,H,W)", tensor_shape_string(x, shape, sizeof shape),
                         c->in_channels);
    }
    Tensor *h = nn_relu(tape, batch_norm_apply(tape, &model->bn1, conv2d_apply(tape, &model->conv1, x), training));
    for (int k = 0; k < c->n_stages; k++)
        for (int b = 0; b < c->blocks[k]; b++) h = basic_block_forward(tape, &model->layers[k][b], h, training);
    h = nn_adaptive_avg_pool2d(tape, h, 1, 1);                   // (N, C, 1, 1)
    h = nn_reshape(tape, h, 2, (int[]){x->shape[0], -1});        // (N, C)
    return linear_apply(tape, &model->fc, h);                    // (N, classes)
}

static Tensor *classifier_forward(void *model, Tape *tape, Tensor *inputs, int training) {
    return resnet_forward(tape, model, inputs, training);
}

Classifier resnet_as_classifier(Resnet *model) {
    Classifier classifier = {model, &model->params, model->config.classes, classifier_forward};
    return classifier;
}
