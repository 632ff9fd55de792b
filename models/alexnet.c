// AlexNet: see alexnet.h. Configuration, parameters, forward; the tape gives the backward.
#include "models/alexnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_checkpoint.h"
#include "nn/state_dict.h"

const int ALEXNET_LRN_SIZE = 5;
const float ALEXNET_LRN_ALPHA = 5e-4f;  // torch's alpha/size = the paper's α = 1e-4
const float ALEXNET_LRN_BETA = 0.75f, ALEXNET_LRN_K = 2.0f;

// Each convolution's kernel, and its index in `features`.
static const int KERNEL[ALEXNET_CONVS] = {5, 5, 3, 3, 3};
static const int FEATURE_INDEX[ALEXNET_CONVS] = {0, 4, 8, 10, 12};
enum { POOLED_SIDE = 2 };  // 28 -> pool 13 -> pool 6 -> pool 2

AlexnetConfig alexnet_default_config(void) {
    AlexnetConfig config = {1, {24, 64, 96, 96, 64}, 256, 256, 10, 0.5f};
    return config;
}

int alexnet_create(Alexnet *model, const AlexnetConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    const AlexnetConfig *c = config;
    int positive = c->in_channels >= 1 && c->fc1 >= 1 && c->fc2 >= 1 && c->classes >= 1;
    for (int i = 0; i < ALEXNET_CONVS; i++) positive &= c->conv[i] >= 1 && c->conv[i] <= 65536;
    if (!positive)
        return error_set(error, "alexnet: sizes %d-%d-%d-%d-%d-%d-%d, %d input channels, %d classes: each must be positive",
                         c->conv[0], c->conv[1], c->conv[2], c->conv[3], c->conv[4], c->fc1, c->fc2, c->in_channels,
                         c->classes);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        return error_set(error, "alexnet: dropout %g outside [0, 1)", (double)c->dropout);
    model->config = *c;
    snprintf(model->dropout_text, sizeof model->dropout_text, "%.9g", (double)c->dropout);
    random_seed(&model->dropout_rng, random_u32(rng));
    Parameters *p = &model->params;
    char name[32];
    int in = c->in_channels, status = 0;
    for (int i = 0; i < ALEXNET_CONVS && !status; i++) {
        snprintf(name, sizeof name, "features.%d", FEATURE_INDEX[i]);
        status = conv2d_init(&model->conv[i], p, name, in, c->conv[i], KERNEL[i], 1, KERNEL[i] / 2, 1, 1, 1, rng, error);
        in = c->conv[i];
    }
    if (status || linear_init(&model->fc1, p, "classifier.1", in * POOLED_SIDE * POOLED_SIDE, c->fc1, 1, rng, error) ||
        linear_init(&model->fc2, p, "classifier.4", c->fc1, c->fc2, 1, rng, error) ||
        linear_init(&model->fc3, p, "classifier.6", c->fc2, c->classes, 1, rng, error)) {
        alexnet_free(model);
        return -1;
    }
    return 0;
}

int alexnet_from_file(Alexnet *model, const Safetensors *file, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    AlexnetConfig c = alexnet_default_config();
    char name[32];
    for (int i = 0; i < ALEXNET_CONVS; i++) {
        snprintf(name, sizeof name, "features.%d.weight", FEATURE_INDEX[i]);
        const SafetensorsTensor *conv = model_checkpoint_tensor(file, path, name, 4, "an alexnet", error);
        if (!conv) return -1;
        c.conv[i] = conv->shape[0];
        if (i == 0) c.in_channels = conv->shape[1];
    }
    const SafetensorsTensor *fc1 = model_checkpoint_tensor(file, path, "classifier.1.weight", 2, "an alexnet", error);
    const SafetensorsTensor *fc2 = fc1 ? model_checkpoint_tensor(file, path, "classifier.4.weight", 2, "an alexnet", error) : NULL;
    const SafetensorsTensor *fc3 = fc2 ? model_checkpoint_tensor(file, path, "classifier.6.weight", 2, "an alexnet", error) : NULL;
    if (!fc3) return -1;
    c.fc1 = fc1->shape[0], c.fc2 = fc2->shape[0], c.classes = fc3->shape[0];
    const char *dropout = safetensors_metadata(file, "dropout");
    if (dropout) {
        char *end;
        c.dropout = strtof(dropout, &end);
        if (end == dropout || *end || !(c.dropout >= 0.0f && c.dropout < 1.0f))
            return error_set(error, "%s: metadata dropout \"%s\" (a probability in [0, 1))", path, dropout);
    }
    Random unused;
    random_seed(&unused, 0);
    if (alexnet_create(model, &c, &unused, error)) return error_prefix(error, "%s", path);
    if (state_dict_load_file(&model->params, file, path, error)) {  // every shape checked there
        alexnet_free(model);
        return -1;
    }
    return 0;
}

void alexnet_free(Alexnet *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

// relu(conv(x)), then for conv1 and conv2 the local response normalisation.
static Tensor *conv_relu(Tape *tape, const Alexnet *model, int i, Tensor *x) {
    Tensor *h = nn_relu(tape, conv2d_apply(tape, &model->conv[i], x));
    if (i < 2) h = nn_local_response_norm(tape, h, ALEXNET_LRN_SIZE, ALEXNET_LRN_ALPHA, ALEXNET_LRN_BETA, ALEXNET_LRN_K);
    return h;
}

Tensor *alexnet_forward(Tape *tape, Alexnet *model, Tensor *x, int training) {
    if (!x) return NULL;
    const AlexnetConfig *c = &model->config;
    if (x->n_dims != 4 || x->shape[1] != c->in_channels || x->shape[2] != ALEXNET_IMAGE_SIZE ||
        x->shape[3] != ALEXNET_IMAGE_SIZE) {
        char shape[64];
        return tape_fail(tape, "alexnet: input %s; the model takes (N,%d,%d,%d)", tensor_shape_string(x, shape, sizeof shape),
                         c->in_channels, ALEXNET_IMAGE_SIZE, ALEXNET_IMAGE_SIZE);
    }
    Tensor *h = nn_max_pool2d(tape, conv_relu(tape, model, 0, x), 3, 2, 0);  // (N,C1,13,13)
    h = nn_max_pool2d(tape, conv_relu(tape, model, 1, h), 3, 2, 0);          // (N,C2,6,6)
    h = conv_relu(tape, model, 3, conv_relu(tape, model, 2, h));             // (N,C4,6,6)
    h = nn_max_pool2d(tape, conv_relu(tape, model, 4, h), 3, 2, 0);          // (N,C5,2,2)
    h = nn_reshape(tape, h, 2, (int[]){x->shape[0], -1});                    // (N,C5·2·2)
    float p = c->dropout;
    h = nn_relu(tape, linear_apply(tape, &model->fc1, nn_dropout(tape, h, p, training, &model->dropout_rng)));
    h = nn_relu(tape, linear_apply(tape, &model->fc2, nn_dropout(tape, h, p, training, &model->dropout_rng)));
    return linear_apply(tape, &model->fc3, h);  // (N, classes)
}

static Tensor *classifier_forward(void *model, Tape *tape, Tensor *inputs, int training) {
    return alexnet_forward(tape, model, inputs, training);
}

Classifier alexnet_as_classifier(Alexnet *model) {
    Classifier classifier = {model, &model->params, model->config.classes, classifier_forward};
    return classifier;
}
