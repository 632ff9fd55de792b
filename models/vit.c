// The Vision Transformer: see vit.h. Configuration, parameters, forward; the tape gives the
// backward.
#include "models/vit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_checkpoint.h"
#include "nn/init.h"
#include "nn/state_dict.h"

VitConfig vit_default_config(void) {
    VitConfig config = {1, 28, 7, 48, 3, 4, 96, 10, 0.0f};
    return config;
}

int vit_check_config(const VitConfig *c, Error *error) {
    if (c->in_channels < 1 || c->image_size < 1 || c->patch_size < 1 || c->dim < 1 || c->depth < 1 || c->heads < 1 ||
        c->mlp_dim < 1 || c->classes < 1)
        return error_set(error, "vit: %d channels, image %d, patch %d, dim %d, depth %d, %d heads, mlp %d, %d classes: "
                         "each must be positive", c->in_channels, c->image_size, c->patch_size, c->dim, c->depth,
                         c->heads, c->mlp_dim, c->classes);
    if (c->image_size % c->patch_size)
        return error_set(error, "vit: patch size %d does not divide the image side %d", c->patch_size, c->image_size);
    long side = c->image_size / c->patch_size;
    if (side * side > VIT_MAX_PATCHES)
        return error_set(error, "vit: %ld patches (at most %d)", side * side, VIT_MAX_PATCHES);
    if (c->depth > VIT_MAX_DEPTH) return error_set(error, "vit: depth %d (1 to %d)", c->depth, VIT_MAX_DEPTH);
    if (c->dim % c->heads) return error_set(error, "vit: %d heads do not divide dim %d", c->heads, c->dim);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) return error_set(error, "vit: dropout %g outside [0, 1)", c->dropout);
    return 0;
}

static int patches(const VitConfig *c) { return (c->image_size / c->patch_size) * (c->image_size / c->patch_size); }

// The modules in PyTorch's registration order of tools/reference/vit_reference.py.
static int register_modules(Vit *model, Random *rng, Error *error) {
    const VitConfig *c = &model->config;
    Parameters *p = &model->params;
    int D = c->dim, T = patches(c) + 1;
    model->cls_token = parameters_add(p, "", "cls_token", 3, (int[]){1, 1, D}, 0, error);
    model->pos_embed = model->cls_token ? parameters_add(p, "", "pos_embed", 3, (int[]){1, T, D}, 0, error) : NULL;
    if (!model->pos_embed || conv2d_init(&model->patch_embed, p, "patch_embed.proj", c->in_channels, D, c->patch_size,
                                         c->patch_size, 0, 1, 1, 1, rng, error))
        return -1;
    TransformerLayerConfig layer = {D, c->heads, c->mlp_dim, TRANSFORMER_GELU, 1, c->dropout};
    char name[PARAMETER_NAME_MAX];
    for (int l = 0; l < c->depth; l++) {
        snprintf(name, sizeof name, "encoder.layers.%d", l);
        if (transformer_encoder_layer_init(&model->layers[l], p, name, &layer, rng, error)) return -1;
    }
    if (layer_norm_init(&model->norm, p, "encoder.norm", D, error) ||
        linear_init(&model->head, p, "head", D, c->classes, 1, rng, error))
        return -1;
    init_constant(model->cls_token, 0.0f);
    init_normal(model->pos_embed, 0.0f, 0.02f, rng);
    return 0;
}

int vit_create(Vit *model, const VitConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    if (vit_check_config(config, error)) return -1;
    model->config = *config;
    snprintf(model->heads_text, sizeof model->heads_text, "%d", config->heads);
    snprintf(model->dropout_text, sizeof model->dropout_text, "%.9g", (double)config->dropout);
    if (register_modules(model, rng, error)) {
        vit_free(model);
        return -1;
    }
    random_seed(&model->dropout_rng, random_u32(rng));
    return 0;
}

void vit_free(Vit *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

// ---------------------------------------------------------------------------------------
// Files

// The metadata's "heads" (required) and "dropout" (0 when absent) into c.
static int metadata_options(const Safetensors *file, const char *path, VitConfig *c, Error *error) {
    if (model_checkpoint_int(file, path, "heads", 1, 1 << 16, &c->heads, error)) return -1;
    c->dropout = 0.0f;
    return safetensors_metadata(file, "dropout") ? model_checkpoint_float(file, path, "dropout", 0.0f, 1.0f, &c->dropout, error)
                                                 : 0;
}

static int count_layers(const Safetensors *file) {
    char name[PARAMETER_NAME_MAX];
    int n = 0;
    for (;; n++) {
        snprintf(name, sizeof name, "encoder.layers.%d.self_attn.in_proj_weight", n);
        if (!safetensors_find(file, name)) return n;
    }
}

int vit_from_file(Vit *model, const Safetensors *file, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    const SafetensorsTensor *proj = model_checkpoint_tensor(file, path, "patch_embed.proj.weight", 4, "a vit", error);
    const SafetensorsTensor *pos = proj ? model_checkpoint_tensor(file, path, "pos_embed", 3, "a vit", error) : NULL;
    const SafetensorsTensor *mlp = pos ? model_checkpoint_tensor(file, path, "encoder.layers.0.linear1.weight", 2, "a vit", error) : NULL;
    const SafetensorsTensor *head = mlp ? model_checkpoint_tensor(file, path, "head.weight", 2, "a vit", error) : NULL;
    if (!head) return -1;
    VitConfig c = {proj->shape[1], 0, proj->shape[2], proj->shape[0], count_layers(file), 0, mlp->shape[0],
                   head->shape[0], 0.0f};
    if (proj->shape[3] != c.patch_size)
        return error_set(error, "%s: patch_embed.proj.weight has a %dx%d kernel, not square", path, proj->shape[3],
                         proj->shape[2]);
    // pos_embed has N + 1 rows for N = (side/P)² patches: the image side is P·√N.
    int side = (int)lround(sqrt((double)pos->shape[1] - 1.0));
    if (pos->shape[1] < 2 || (long)side * side != pos->shape[1] - 1)
        return error_set(error, "%s: pos_embed has %d positions, not one more than a square number of patches", path,
                         pos->shape[1]);
    c.image_size = side * c.patch_size;
    if (metadata_options(file, path, &c, error)) return -1;
    Random unused;
    random_seed(&unused, 0);
    if (vit_create(model, &c, &unused, error)) return error_prefix(error, "%s", path);
    if (state_dict_load_file(&model->params, file, path, error)) {
        vit_free(model);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------
// Forward

// x (B,C,H,W) -> z_0 (B,N+1,D): the patches projected, the class token in front, positions added.
static Tensor *embed(Tape *tape, Vit *model, Tensor *x) {
    const VitConfig *c = &model->config;
    int B = x->shape[0], D = c->dim, N = patches(c);
    Tensor *p = conv2d_apply(tape, &model->patch_embed, x);               // (B,D,H/P,W/P)
    p = nn_transpose(tape, nn_reshape(tape, p, 3, (int[]){B, D, N}), 1, 2);  // (B,N,D), row by row
    // The class token broadcast over the batch: zeros (B,1,D) + cls_token (1,1,D).
    Tensor *cls = nn_add(tape, tensor_zeros(tape, 3, (int[]){B, 1, D}), model->cls_token);
    Tensor *tokens[2] = {cls, p};
    return nn_add(tape, nn_concat(tape, tokens, 2, 1), model->pos_embed);
}

static Tensor *check_input(Tape *tape, const Vit *model, Tensor *x) {
    const VitConfig *c = &model->config;
    if (x->n_dims == 4 && x->shape[1] == c->in_channels && x->shape[2] == c->image_size && x->shape[3] == c->image_size)
        return x;
    char shape[64];
    return tape_fail(tape, "vit: input %s; the model takes (N,%d,%d,%d)", tensor_shape_string(x, shape, sizeof shape),
                     c->in_channels, c->image_size, c->image_size);
}

Tensor *vit_forward(Tape *tape, Vit *model, Tensor *x, int training) {
    if (!x || !check_input(tape, model, x)) return NULL;
    int B = x->shape[0], D = model->config.dim;
    Tensor *z = embed(tape, model, x);
    for (int l = 0; l < model->config.depth; l++)
        z = transformer_encoder_layer_apply(tape, &model->layers[l], z, NULL, training, &model->dropout_rng);
    Tensor *y = layer_norm_apply(tape, &model->norm, nn_slice(tape, z, 1, 0, 1));  // the class token, (B,1,D)
    return linear_apply(tape, &model->head, nn_reshape(tape, y, 2, (int[]){B, D}));
}

static Tensor *classifier_forward(void *model, Tape *tape, Tensor *inputs, int training) {
    return vit_forward(tape, model, inputs, training);
}

Classifier vit_as_classifier(Vit *model) {
    Classifier classifier = {model, &model->params, model->config.classes, classifier_forward};
    return classifier;
}

// The final LayerNorm acts on each token alone, so applying it to the class token only (above)
// gives eq. 4's y exactly. The attention map: layers 1..L−1 as in the forward, then the last
// layer's own attention module on its pre-LN input with the probabilities kept.
int vit_class_attention(Vit *model, const float *image, float *weights, float *to_self, Error *error) {
    const VitConfig *c = &model->config;
    int T = patches(c) + 1, L = c->depth;
    float *all = malloc(sizeof(float) * (size_t)T * T);
    if (!all) return error_set(error, "vit: out of memory");
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *z = embed(&tape, model, tensor_from(&tape, image, 4, (int[]){1, c->in_channels, c->image_size, c->image_size}));
    for (int l = 0; l < L - 1; l++) z = transformer_encoder_layer_apply(&tape, &model->layers[l], z, NULL, 0, NULL);
    Tensor *h = layer_norm_apply(&tape, &model->layers[L - 1].norm1, z);
    int status = multihead_attention_apply(&tape, &model->layers[L - 1].self_attn, h, h, 0, NULL, all) ? 0 : -1;
    if (status) tape_error(&tape, error);
    else {
        *to_self = all[0];  // row 0 is the class token's query; column 0 its own key
        memcpy(weights, all + 1, sizeof(float) * (size_t)(T - 1));
    }
    tape_free(&tape);
    free(all);
    return status;
}
