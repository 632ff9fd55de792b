// The experiments' small CNN; see small_cnn.h.
#include "models/small_cnn.h"

#include <stdio.h>
#include <string.h>

#include "nn/ops.h"

static const char *const NORM_NAMES[NORM_KIND_COUNT] = {"none", "batch", "layer", "group"};

const char *norm_kind_name(NormKind kind) { return kind >= 0 && kind < NORM_KIND_COUNT ? NORM_NAMES[kind] : "unknown"; }

// The normalisation of stage `stage` (1 or 2) over C channels.
static int norm_init(SmallCnn *model, int stage, int C, Error *error) {
    const SmallCnnConfig *c = &model->config;
    char name[16];
    snprintf(name, sizeof name, "norm%d", stage);
    BatchNorm2d *bn = stage == 1 ? &model->bn1 : &model->bn2;
    GroupNorm *gn = stage == 1 ? &model->gn1 : &model->gn2;
    switch (c->norm) {
    case NORM_BATCH: return batch_norm_init(bn, &model->params, name, C, error);
    case NORM_LAYER: return group_norm_init(gn, &model->params, name, 1, C, error);
    case NORM_GROUP: return group_norm_init(gn, &model->params, name, c->groups, C, error);
    default: return 0;
    }
}

int small_cnn_create(SmallCnn *model, const SmallCnnConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    const SmallCnnConfig *c = config;
    if (c->in_channels < 1 || c->conv1 < 1 || c->conv2 < 1 || c->hidden < 1 || c->classes < 1 || c->image_size < 4 ||
        c->image_size % 4 != 0)
        return error_set(error, "small cnn: sizes %d, %d-%d-%d-%d, image %d (each at least 1, the image a multiple of 4)",
                         c->in_channels, c->conv1, c->conv2, c->hidden, c->classes, c->image_size);
    if (c->norm < 0 || c->norm >= NORM_KIND_COUNT) return error_set(error, "small cnn: unknown normalisation %d", c->norm);
    if (c->norm == NORM_GROUP && (c->groups < 1 || c->conv1 % c->groups || c->conv2 % c->groups))
        return error_set(error, "small cnn: %d groups do not divide %d and %d channels", c->groups, c->conv1, c->conv2);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) return error_set(error, "small cnn: dropout %g outside [0, 1)", c->dropout);
    model->config = *c;
    random_seed(&model->dropout_rng, random_u32(rng));
    int bias = c->norm == NORM_NONE, side = c->image_size / 4;
    if (conv2d_init(&model->conv1, &model->params, "conv1", c->in_channels, c->conv1, 3, 1, 1, 1, 1, bias, rng, error) ||
        norm_init(model, 1, c->conv1, error) ||
        conv2d_init(&model->conv2, &model->params, "conv2", c->conv1, c->conv2, 3, 1, 1, 1, 1, bias, rng, error) ||
        norm_init(model, 2, c->conv2, error) ||
        linear_init(&model->fc1, &model->params, "fc1", c->conv2 * side * side, c->hidden, 1, rng, error) ||
        linear_init(&model->fc2, &model->params, "fc2", c->hidden, c->classes, 1, rng, error)) {
        small_cnn_free(model);
        return -1;
    }
    return 0;
}

void small_cnn_free(SmallCnn *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

static Tensor *normalize(Tape *tape, SmallCnn *model, int stage, Tensor *x, int training) {
    switch (model->config.norm) {
    case NORM_BATCH: return batch_norm_apply(tape, stage == 1 ? &model->bn1 : &model->bn2, x, training);
    case NORM_LAYER:
    case NORM_GROUP: return group_norm_apply(tape, stage == 1 ? &model->gn1 : &model->gn2, x);
    default: return x;
    }
}

Tensor *small_cnn_forward(Tape *tape, SmallCnn *model, Tensor *x, int training) {
    if (!x) return NULL;
    const SmallCnnConfig *c = &model->config;
    if (x->n_dims != 4 || x->shape[1] != c->in_channels || x->shape[2] != c->image_size || x->shape[3] != c->image_size) {
        char shape[64];
        return tape_fail(tape, "small cnn: input %s; the model takes (N,%d,%d,%d)", tensor_shape_string(x, shape, sizeof shape),
                         c->in_channels, c->image_size, c->image_size);
    }
    Tensor *h = nn_relu(tape, normalize(tape, model, 1, conv2d_apply(tape, &model->conv1, x), training));
    h = nn_max_pool2d(tape, h, 2, 2, 0);                                                             // (N,C1,S/2,S/2)
    h = nn_relu(tape, normalize(tape, model, 2, conv2d_apply(tape, &model->conv2, h), training));
    h = nn_max_pool2d(tape, h, 2, 2, 0);                                                             // (N,C2,S/4,S/4)
    h = nn_relu(tape, linear_apply(tape, &model->fc1, nn_reshape(tape, h, 2, (int[]){x->shape[0], -1})));
    if (c->dropout > 0.0f) h = nn_dropout(tape, h, c->dropout, training, &model->dropout_rng);
    return linear_apply(tape, &model->fc2, h);                                                       // (N, classes)
}

static Tensor *classifier_forward(void *model, Tape *tape, Tensor *inputs, int training) {
    return small_cnn_forward(tape, model, inputs, training);
}

Classifier small_cnn_as_classifier(SmallCnn *model) {
    Classifier classifier = {model, &model->params, model->config.classes, classifier_forward};
    return classifier;
}
