// LeNet-5: see lenet5.h. Configuration, parameters, forward; the tape gives the backward.
#include "models/lenet5.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/model_checkpoint.h"
#include "nn/state_dict.h"

enum { LENET5_KERNEL = 5 };

Lenet5Config lenet5_default_config(void) {
    Lenet5Config config = {1, 28, 6, 16, 120, 84, 10, 0};
    return config;
}

// The side of conv2's pooled output for an image side: conv1 keeps it (padding 2), each pool
// halves it (rounding down), conv2 takes 4 off.
static int pooled_side(int image_size) { return (image_size / 2 - (LENET5_KERNEL - 1)) / 2; }

int lenet5_create(Lenet5 *model, const Lenet5Config *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    const Lenet5Config *c = config;
    if (c->in_channels < 1 || c->conv1 < 1 || c->conv2 < 1 || c->fc1 < 1 || c->fc2 < 1 || c->classes < 1)
        return error_set(error, "lenet5: sizes %d-%d-%d-%d, %d input channels, %d classes: each must be positive",
                         c->conv1, c->conv2, c->fc1, c->fc2, c->in_channels, c->classes);
    if (c->image_size < 12 || c->image_size > 4096)
        return error_set(error, "lenet5: %d×%d images (12 to 4096: two 5×5 convolutions and two poolings)",
                         c->image_size, c->image_size);
    model->config = *c;
    int side = pooled_side(c->image_size);
    Parameters *p = &model->params;
    if (conv2d_init(&model->conv1, p, "conv1", c->in_channels, c->conv1, LENET5_KERNEL, 1, 2, 1, 1, 1, rng, error) ||
        conv2d_init(&model->conv2, p, "conv2", c->conv1, c->conv2, LENET5_KERNEL, 1, 0, 1, 1, 1, rng, error) ||
        linear_init(&model->fc1, p, "fc1", c->conv2 * side * side, c->fc1, 1, rng, error) ||
        linear_init(&model->fc2, p, "fc2", c->fc1, c->fc2, 1, rng, error) ||
        linear_init(&model->fc3, p, "fc3", c->fc2, c->classes, 1, rng, error)) {
        lenet5_free(model);
        return -1;
    }
    return 0;
}

int lenet5_from_file(Lenet5 *model, const Safetensors *file, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    const SafetensorsTensor *conv1 = model_checkpoint_tensor(file, path, "conv1.weight", 4, "a lenet5", error);
    const SafetensorsTensor *conv2 = conv1 ? model_checkpoint_tensor(file, path, "conv2.weight", 4, "a lenet5", error) : NULL;
    const SafetensorsTensor *fc1 = conv2 ? model_checkpoint_tensor(file, path, "fc1.weight", 2, "a lenet5", error) : NULL;
    const SafetensorsTensor *fc2 = fc1 ? model_checkpoint_tensor(file, path, "fc2.weight", 2, "a lenet5", error) : NULL;
    const SafetensorsTensor *fc3 = fc2 ? model_checkpoint_tensor(file, path, "fc3.weight", 2, "a lenet5", error) : NULL;
    if (!fc3) return -1;
    Lenet5Config c = {conv1->shape[1], 0, conv1->shape[0], conv2->shape[0], fc1->shape[0], fc2->shape[0], fc3->shape[0], 0};
    // fc1 takes C2·s·s values: the side s of the last pooled maps gives the image side 4s + 8.
    int side = (int)lround(sqrt((double)fc1->shape[1] / c.conv2));
    if (side < 1 || (long)c.conv2 * side * side != fc1->shape[1])
        return error_set(error, "%s: fc1.weight takes %d inputs, not conv2's %d channels times a square", path,
                         fc1->shape[1], c.conv2);
    c.image_size = 4 * side + 2 * (LENET5_KERNEL - 1);
    const char *variant = safetensors_metadata(file, "variant");
    if (variant && strcmp(variant, "relu-max") != 0 && strcmp(variant, "tanh-avg") != 0)
        return error_set(error, "%s: metadata variant \"%s\" (relu-max or tanh-avg)", path, variant);
    c.original = variant && strcmp(variant, "tanh-avg") == 0;
    Random unused;
    random_seed(&unused, 0);
    if (lenet5_create(model, &c, &unused, error)) return -1;
    if (state_dict_load_file(&model->params, file, path, error)) {
        lenet5_free(model);
        return -1;
    }
    return 0;
}

void lenet5_free(Lenet5 *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

const char *lenet5_variant(const Lenet5 *model) { return model->config.original ? "tanh-avg" : "relu-max"; }

// σ and pool of the configured variant.
static Tensor *activation(Tape *tape, const Lenet5 *model, Tensor *x) {
    return model->config.original ? nn_tanh(tape, x) : nn_relu(tape, x);
}

static Tensor *pool(Tape *tape, const Lenet5 *model, Tensor *x) {
    return model->config.original ? nn_avg_pool2d(tape, x, 2, 2, 0) : nn_max_pool2d(tape, x, 2, 2, 0);
}

Tensor *lenet5_forward(Tape *tape, Lenet5 *model, Tensor *x, int training) {
    (void)training;
    if (!x) return NULL;
    const Lenet5Config *c = &model->config;
    if (x->n_dims != 4 || x->shape[1] != c->in_channels || x->shape[2] != c->image_size || x->shape[3] != c->image_size) {
        char shape[64];
        return tape_fail(tape, "lenet5: input %s; the model takes (N,%d,%d,%d)", tensor_shape_string(x, shape, sizeof shape),
                         c->in_channels, c->image_size, c->image_size);
    }
    Tensor *h = pool(tape, model, activation(tape, model, conv2d_apply(tape, &model->conv1, x)));  // (N,C1,S/2,S/2)
    h = pool(tape, model, activation(tape, model, conv2d_apply(tape, &model->conv2, h)));           // (N,C2,s,s)
    h = nn_reshape(tape, h, 2, (int[]){x->shape[0], -1});                                           // (N,C2·s·s)
    h = activation(tape, model, linear_apply(tape, &model->fc1, h));
    h = activation(tape, model, linear_apply(tape, &model->fc2, h));
    return linear_apply(tape, &model->fc3, h);  // (N, classes)
}

static Tensor *classifier_forward(void *model, Tape *tape, Tensor *inputs, int training) {
    return lenet5_forward(tape, model, inputs, training);
}

Classifier lenet5_as_classifier(Lenet5 *model) {
    Classifier classifier = {model, &model->params, model->config.classes, classifier_forward};
    return classifier;
}
