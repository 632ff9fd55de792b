// Parameters and the basic modules: see module.h.
#include "nn/module.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/array.h"
#include "foundations/optimizer.h"
#include "nn/init.h"

Tensor *parameters_add(Parameters *params, const char *prefix, const char *name, int n_dims, const int *shape,
                       int is_buffer, Error *error) {
    char full[PARAMETER_NAME_MAX];
    int length = prefix && prefix[0] ? snprintf(full, sizeof full, "%s.%s", prefix, name)
                                     : snprintf(full, sizeof full, "%s", name);
    if (length < 0 || length >= (int)sizeof full) return error_set(error, "parameter name %s.%s is too long", prefix, name), NULL;
    if (parameters_find(params, full)) return error_set(error, "parameter %s registered twice", full), NULL;
    if (params->count == params->capacity) {
        size_t capacity = array_grown_capacity((size_t)params->capacity, (size_t)params->count + 1);
        if (capacity == 0 || capacity > INT_MAX || array_resize(&params->entries, capacity, sizeof *params->entries))
            return error_set(error, "out of memory registering %s", full), NULL;
        params->capacity = (int)capacity;
    }
    Tensor *t = malloc(sizeof *t);
    if (!t) return error_set(error, "out of memory registering %s", full), NULL;
    if (tensor_parameter(t, n_dims, shape, error)) {
        free(t);
        return NULL;
    }
    t->requires_grad = !is_buffer;
    NamedTensor *entry = &params->entries[params->count++];
    snprintf(entry->name, sizeof entry->name, "%s", full);
    entry->tensor = t;
    entry->is_buffer = is_buffer;
    return t;
}

void parameters_free(Parameters *params) {
    for (int i = 0; i < params->count; i++) {
        tensor_parameter_free(params->entries[i].tensor);
        free(params->entries[i].tensor);
    }
    free(params->entries);
    memset(params, 0, sizeof *params);
}

Tensor *parameters_find(const Parameters *params, const char *name) {
    for (int i = 0; i < params->count; i++)
        if (strcmp(params->entries[i].name, name) == 0) return params->entries[i].tensor;
    return NULL;
}

void parameters_zero_grad(Parameters *params) {
    for (int i = 0; i < params->count; i++) {
        Tensor *t = params->entries[i].tensor;
        if (!params->entries[i].is_buffer) memset(t->grad, 0, sizeof(float) * (size_t)t->size);
    }
}

long parameters_count(const Parameters *params) {
    long n = 0;
    for (int i = 0; i < params->count; i++)
        if (!params->entries[i].is_buffer) n += params->entries[i].tensor->size;
    return n;
}

// The floats of entry i that part names, or NULL when the part does not include it.
static float *part_of(const Parameters *params, ParametersPart part, int i) {
    const NamedTensor *entry = &params->entries[i];
    if ((part == PARAMETERS_BUFFERS) != (entry->is_buffer != 0)) return NULL;
    return part == PARAMETERS_GRADIENTS ? entry->tensor->grad : entry->tensor->data;
}

long parameters_part_size(const Parameters *params, ParametersPart part) {
    long n = 0;
    for (int i = 0; i < params->count; i++)
        if (part_of(params, part, i)) n += params->entries[i].tensor->size;
    return n;
}

void parameters_gather_part(const Parameters *params, ParametersPart part, float *flat) {
    for (int i = 0; i < params->count; i++) {
        const float *values = part_of(params, part, i);
        if (!values) continue;
        memcpy(flat, values, sizeof(float) * (size_t)params->entries[i].tensor->size);
        flat += params->entries[i].tensor->size;
    }
}

void parameters_scatter_part(Parameters *params, ParametersPart part, const float *flat) {
    for (int i = 0; i < params->count; i++) {
        float *values = part_of(params, part, i);
        if (!values) continue;
        memcpy(values, flat, sizeof(float) * (size_t)params->entries[i].tensor->size);
        flat += params->entries[i].tensor->size;
    }
}

void parameters_gather(const Parameters *params, float *flat) { parameters_gather_part(params, PARAMETERS_VALUES, flat); }

void parameters_scatter(Parameters *params, const float *flat) { parameters_scatter_part(params, PARAMETERS_VALUES, flat); }

float parameters_clip_grad_norm(Parameters *params, float max_norm) {
    double sum = 0.0;
    for (int i = 0; i < params->count; i++) {
        if (params->entries[i].is_buffer) continue;
        double norm = gradient_global_norm(params->entries[i].tensor->grad, params->entries[i].tensor->size);
        sum += norm * norm;
    }
    float norm = (float)sqrt(sum);
    if (max_norm > 0.0f && norm > max_norm) {
        float scale = max_norm / norm;
        for (int i = 0; i < params->count; i++) {
            Tensor *t = params->entries[i].tensor;
            if (params->entries[i].is_buffer) continue;
            for (long j = 0; j < t->size; j++) t->grad[j] *= scale;
        }
    }
    return norm;
}

// ----------------------------------------------------------------------------
// modules

int linear_init(Linear *layer, Parameters *params, const char *name, int in_features, int out_features, int bias,
                Random *rng, Error *error) {
    memset(layer, 0, sizeof *layer);
    if (in_features < 1 || out_features < 1)
        return error_set(error, "%s: Linear(%d, %d) needs positive sizes", name, in_features, out_features);
    layer->in_features = in_features, layer->out_features = out_features;
    layer->weight = parameters_add(params, name, "weight", 2, (int[]){out_features, in_features}, 0, error);
    if (!layer->weight) return -1;
    // PyTorch's reset_parameters: kaiming_uniform(a = √5) is U(±1/√in); the bias the same bound.
    float bound = 1.0f / sqrtf((float)in_features);
    init_kaiming_uniform(layer->weight, sqrtf(5.0f), FAN_IN, GAIN_LEAKY_RELU, rng);
    if (bias) {
        layer->bias = parameters_add(params, name, "bias", 1, (int[]){out_features}, 0, error);
        if (!layer->bias) return -1;
        init_uniform(layer->bias, -bound, bound, rng);
    }
    return 0;
}

Tensor *linear_apply(Tape *tape, const Linear *layer, Tensor *x) { return nn_linear(tape, x, layer->weight, layer->bias); }

int embedding_init(Embedding *layer, Parameters *params, const char *name, int num_embeddings, int embedding_dim,
                   Random *rng, Error *error) {
    memset(layer, 0, sizeof *layer);
    if (num_embeddings < 1 || embedding_dim < 1)
        return error_set(error, "%s: Embedding(%d, %d) needs positive sizes", name, num_embeddings, embedding_dim);
    layer->num_embeddings = num_embeddings, layer->embedding_dim = embedding_dim;
    layer->weight = parameters_add(params, name, "weight", 2, (int[]){num_embeddings, embedding_dim}, 0, error);
    if (!layer->weight) return -1;
    init_normal(layer->weight, 0.0f, 1.0f, rng);
    return 0;
}

Tensor *embedding_apply(Tape *tape, const Embedding *layer, const int *ids, int id_dims, const int *id_shape) {
    return nn_embedding(tape, layer->weight, ids, id_dims, id_shape);
}

int layer_norm_init(LayerNorm *layer, Parameters *params, const char *name, int C, Error *error) {
    memset(layer, 0, sizeof *layer);
    if (C < 1) return error_set(error, "%s: LayerNorm(%d) needs a positive size", name, C);
    layer->weight = parameters_add(params, name, "weight", 1, &C, 0, error);
    layer->bias = layer->weight ? parameters_add(params, name, "bias", 1, &C, 0, error) : NULL;
    if (!layer->bias) return -1;
    init_constant(layer->weight, 1.0f);
    return 0;
}

Tensor *layer_norm_apply(Tape *tape, const LayerNorm *layer, Tensor *x) {
    return nn_layer_norm(tape, x, layer->weight, layer->bias);
}

int batch_norm_init(BatchNorm1d *layer, Parameters *params, const char *name, int C, Error *error) {
    memset(layer, 0, sizeof *layer);
    if (C < 1) return error_set(error, "%s: BatchNorm1d(%d) needs a positive size", name, C);
    if (!(layer->weight = parameters_add(params, name, "weight", 1, &C, 0, error)) ||
        !(layer->bias = parameters_add(params, name, "bias", 1, &C, 0, error)) ||
        !(layer->running_mean = parameters_add(params, name, "running_mean", 1, &C, 1, error)) ||
        !(layer->running_var = parameters_add(params, name, "running_var", 1, &C, 1, error)) ||
        !(layer->num_batches_tracked = parameters_add(params, name, "num_batches_tracked", 0, NULL, 1, error)))
        return -1;
    init_constant(layer->weight, 1.0f);
    init_constant(layer->running_var, 1.0f);
    return 0;
}

Tensor *batch_norm_apply(Tape *tape, const BatchNorm1d *layer, Tensor *x, int training) {
    Tensor *out = nn_batch_norm(tape, x, layer->weight, layer->bias, layer->running_mean, layer->running_var, training);
    if (out && training) layer->num_batches_tracked->data[0] += 1.0f;
    return out;
}

int conv2d_init(Conv2d *layer, Parameters *params, const char *name, int in_channels, int out_channels,
                int kernel_size, int stride, int padding, int dilation, int groups, int bias, Random *rng, Error *error) {
    memset(layer, 0, sizeof *layer);
    if (in_channels < 1 || out_channels < 1 || kernel_size < 1 || stride < 1 || padding < 0 || dilation < 1 ||
        groups < 1 || in_channels % groups || out_channels % groups)
        return error_set(error, "%s: Conv2d(%d, %d, kernel %d, stride %d, padding %d, dilation %d, groups %d) needs "
                         "positive sizes and channels divisible by groups", name, in_channels, out_channels,
                         kernel_size, stride, padding, dilation, groups);
    *layer = (Conv2d){NULL, NULL, in_channels, out_channels, kernel_size, stride, padding, dilation, groups};
    int shape[4] = {out_channels, in_channels / groups, kernel_size, kernel_size};
    layer->weight = parameters_add(params, name, "weight", 4, shape, 0, error);
    if (!layer->weight) return -1;
    // As Linear: kaiming_uniform(a = √5) is U(±1/√fan_in), fan_in = in/groups · k²; the bias the same bound.
    init_kaiming_uniform(layer->weight, sqrtf(5.0f), FAN_IN, GAIN_LEAKY_RELU, rng);
    if (bias) {
        layer->bias = parameters_add(params, name, "bias", 1, &out_channels, 0, error);
        if (!layer->bias) return -1;
        float bound = 1.0f / sqrtf((float)(in_channels / groups * kernel_size * kernel_size));
        init_uniform(layer->bias, -bound, bound, rng);
    }
    return 0;
}

Tensor *conv2d_apply(Tape *tape, const Conv2d *layer, Tensor *x) {
    return nn_conv2d(tape, x, layer->weight, layer->bias, layer->stride, layer->padding, layer->dilation, layer->groups);
}

int group_norm_init(GroupNorm *layer, Parameters *params, const char *name, int groups, int C, Error *error) {
    memset(layer, 0, sizeof *layer);
    if (C < 1 || groups < 1 || C % groups)
        return error_set(error, "%s: GroupNorm(%d groups, %d channels) needs channels divisible by groups", name, groups, C);
    layer->groups = groups;
    layer->weight = parameters_add(params, name, "weight", 1, &C, 0, error);
    layer->bias = layer->weight ? parameters_add(params, name, "bias", 1, &C, 0, error) : NULL;
    if (!layer->bias) return -1;
    init_constant(layer->weight, 1.0f);
    return 0;
}

Tensor *group_norm_apply(Tape *tape, const GroupNorm *layer, Tensor *x) {
    return nn_group_norm(tape, x, layer->groups, layer->weight, layer->bias);
}

Tensor *dropout_apply(Tape *tape, const Dropout *layer, Tensor *x, int training, Random *rng) {
    return nn_dropout(tape, x, layer->p, training, rng);
}
