// The shared half of gpt/model.h: checking a config, dispatching to the stage that builds
// the model, allocating gradients, freeing, and finding tensors by name. Nothing here
// knows a stage's layers; each stage file (bigram.c, mlp.c, gpt2.c) does.
#include "gpt/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *architecture_name(Architecture arch) {
    switch (arch) {
    case ARCH_BIGRAM: return "bigram";
    case ARCH_MLP: return "mlp";
    case ARCH_GPT2: return "gpt2";
    case ARCH_LORA: return "lora";
    }
    return "unknown";
}

int architecture_parse(const char *name, Architecture *arch, Error *error) {
    if (strcmp(name, "bigram") == 0) *arch = ARCH_BIGRAM;
    else if (strcmp(name, "mlp") == 0) *arch = ARCH_MLP;
    else if (strcmp(name, "gpt2") == 0) *arch = ARCH_GPT2;
    else return error_set(error, "unknown architecture '%s' (bigram, mlp or gpt2)", name);
    return 0;
}

// Sizes are bounded so that every product of them fits a long and a token id fits the
// uint16 of the token files.
enum { MAX_VOCAB = 65536, MAX_SIZE = 1 << 20 };

static int check_range(const char *field, int value, int low, int high, Error *error) {
    if (value < low || value > high) return error_set(error, "config: %s = %d, must be in [%d, %d]", field, value, low, high);
    return 0;
}

// Checks the fields the config's architecture uses; the others are ignored.
static int config_check(const ModelConfig *c, Error *error) {
    if (c->arch != ARCH_BIGRAM && c->arch != ARCH_MLP && c->arch != ARCH_GPT2 && c->arch != ARCH_LORA)
        return error_set(error, "config: unknown architecture %d", (int)c->arch);
    if (check_range("vocab_size", c->vocab_size, 2, MAX_VOCAB, error)) return -1;
    if (check_range("context_length", c->context_length, 1, MAX_SIZE, error)) return -1;
    switch (c->arch) {
    case ARCH_BIGRAM:
        if (c->counting != 0 && c->counting != 1) return error_set(error, "config: counting = %d, must be 0 or 1", c->counting);
        if (!(c->smoothing >= 0.0f && c->smoothing < 1e30f))
            return error_set(error, "config: smoothing = %g, must be >= 0", (double)c->smoothing);
        if (c->counting && c->smoothing == 0.0f)
            return error_set(error, "config: the counting bigram needs smoothing > 0 (unseen pairs would have log 0)");
        break;
    case ARCH_MLP:
        if (check_range("block_size", c->block_size, 1, 4096, error)) return -1;
        if (check_range("d_embed", c->d_embed, 1, 65536, error)) return -1;
        if (check_range("d_hidden", c->d_hidden, 1, 65536, error)) return -1;
        if (c->batch_norm != 0 && c->batch_norm != 1) return error_set(error, "config: batch_norm = %d, must be 0 or 1", c->batch_norm);
        break;
    case ARCH_GPT2:
    case ARCH_LORA:  // the base's GPT-2 fields; lora_init checks the adapters' own
        if (check_range("n_layers", c->n_layers, 1, 1024, error)) return -1;
        if (check_range("n_heads", c->n_heads, 1, 1024, error)) return -1;
        if (check_range("d_model", c->d_model, 1, 65536, error)) return -1;
        if (c->d_model % c->n_heads != 0)
            return error_set(error, "config: %d heads do not divide the width d_model = %d", c->n_heads, c->d_model);
        break;
    }
    return 0;
}

void model_add_tensor(Model *model, const char *name, int type, int n_dims, const int *shape) {
    TensorInfo *tensor = &model->tensors[model->n_tensors++];
    memset(tensor, 0, sizeof *tensor);
    snprintf(tensor->name, sizeof tensor->name, "%s", name);
    tensor->type = type;
    tensor->n_dims = n_dims;
    tensor->size = 1;
    for (int i = 0; i < n_dims; i++) {
        tensor->shape[i] = shape[i];
        tensor->size *= shape[i];
    }
    tensor->offset = model->n_params;
    if (type == TENSOR_F32) model->n_params += (tensor->size + 15) / 16 * 16;
}

long model_count_parameters(const Model *model) {
    long n = 0;
    for (int i = 0; i < model->n_tensors; i++) n += model->tensors[i].size;
    return n;
}

int model_backward(Model *model, Error *error) {
    const char *name = architecture_name(model->config.arch);
    if (!model->training) return error_set(error, "%s: backward needs a model prepared for training", name);
    if (model->loss == -1.0f) return error_set(error, "%s: backward needs a forward with targets first", name);
    if (model->loss_weights && model->config.arch != ARCH_GPT2 && model->config.arch != ARCH_LORA)
        return error_set(error, "%s: weighted losses are for GPT-2 and its adapters", name);
    return model->ops->backward(model, error);
}

int model_init(Model *model, const ModelConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    if (config_check(config, error)) return -1;
    model->config = *config;
    model->loss = -1.0f;
    int status = -1;
    switch (config->arch) {
    case ARCH_BIGRAM: status = bigram_init(model, rng, error); break;
    case ARCH_MLP: status = mlp_init(model, rng, error); break;
    case ARCH_GPT2: status = gpt2_init(model, rng, error); break;
    case ARCH_LORA: status = lora_init(model, rng, error); break;
    }
    if (status) {
        model_free(model);
        return -1;
    }
    if (model->n_trainable == 0) model->n_trainable = model->n_params;
    return 0;
}

int model_prepare(Model *model, int B, int T, int training, Error *error) {
    if (B < 1 || T < 1) return error_set(error, "model: batch %d x %d, both must be at least 1", B, T);
    if (T > model->config.context_length)
        return error_set(error, "model: sequence length %d is longer than the model's context of %d", T,
                         model->config.context_length);
    if (training && !model->grads) {
        model->grads = calloc((size_t)model->n_params, sizeof(float));
        if (!model->grads) return error_set(error, "model: out of memory for %ld gradients", model->n_params);
    }
    model->training = training;
    return model->ops->prepare(model, B, T, error);
}

void model_free(Model *model) {
    if (model->ops && model->ops->free_state) model->ops->free_state(model);
    if (model->mapping) {
        munmap(model->mapping, model->mapping_bytes);
    } else {
        free(model->params);
        free(model->quant_data);
    }
    free(model->grads);
    free(model->tensors);
    free(model->quantized);  // views into quant_data or the mapping
    memset(model, 0, sizeof *model);
}

const TensorInfo *model_find_tensor(const Model *model, const char *name) {
    for (int i = 0; i < model->n_tensors; i++)
        if (strcmp(model->tensors[i].name, name) == 0) return &model->tensors[i];
    return NULL;
}
