// LoRA adapters on a frozen GPT-2 (gpt/lora.h): the adapter model (its tensors, its ops that
// delegate to the base), the base's identity, attaching and loading, and merging.
#include "gpt/lora.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/matmul.h"
#include "gpt/checkpoint.h"
#include "gpt/data.h"
#include "gpt/gpt2.h"

// The adapter model's state: the base it owns (empty until attached) and the hook the base's
// linear layers read (pointers into the adapter model's params and grads).
typedef struct LoraState {
    Model base;
    int attached;
    Gpt2Adapters adapters;
    int a_tensor[GPT2_N_MATRICES];  // index of <matrix>.lora_a in the adapter model, or -1
} LoraState;

// ----------------------------------------------------------------------------
// targets

int lora_parse_targets(const char *text, int *targets, Error *error) {
    *targets = 0;
    const char *p = text;
    while (*p) {
        size_t length = strcspn(p, ",");
        int target = 0;
        if (length == 4 && strncmp(p, "attn", 4) == 0) target = LORA_TARGET_ATTN;
        else if (length == 3 && strncmp(p, "mlp", 3) == 0) target = LORA_TARGET_MLP;
        if (!target || (*targets & target))
            return error_set(error, "targets '%s': give attn, mlp or attn,mlp (each once)", text);
        *targets |= target;
        p += length;
        if (*p == ',' && *++p == '\0') return error_set(error, "targets '%s': a comma with nothing after it", text);
    }
    if (!*targets) return error_set(error, "targets '%s': give attn, mlp or attn,mlp", text);
    return 0;
}

const char *lora_targets_name(int targets) {
    switch (targets) {
    case LORA_TARGET_ATTN: return "attn";
    case LORA_TARGET_MLP: return "mlp";
    case LORA_TARGET_ALL: return "attn,mlp";
    }
    return "?";
}

static int targets_matrix(int targets, Gpt2Matrix matrix) {
    int attention = matrix == GPT2_QKVW || matrix == GPT2_ATTPROJW;
    return (targets & (attention ? LORA_TARGET_ATTN : LORA_TARGET_MLP)) != 0;
}

// ----------------------------------------------------------------------------
// the base's identity

uint64_t lora_base_checksum(const Model *base) {
    uint64_t hash = FNV_OFFSET;
    for (int i = 0; i < base->n_tensors; i++) {
        const TensorInfo *t = &base->tensors[i];
        if (t->type == TENSOR_F32) hash = fnv1a(hash, base->params + t->offset, sizeof(float) * (size_t)t->size);
        else hash = fnv1a(hash, base->quantized[i].data, base->quantized[i].bytes);
    }
    return hash;
}

static const char *weight_type_name(int type) { return type == TENSOR_F32 ? "fp32" : quant_type_name((QuantType)type); }

// "4 layers, 4 heads, width 256, vocabulary 4096, context 128, q4_0 weights, q4_0 embedding"
static void describe_base(const ModelConfig *c, char *out, size_t size) {
    snprintf(out, size, "%d layers, %d heads, width %d, vocabulary %d, context %d, %s weights, %s embedding",
             c->n_layers, c->n_heads, c->d_model, c->vocab_size, c->context_length, weight_type_name(c->weight_type),
             weight_type_name(c->embedding_type));
}

// ----------------------------------------------------------------------------
// the adapter model's ops: the base's, with the hook pointed at this model's buffers

static LoraState *state_of(const Model *lora) { return lora->state; }

static int need_base(const Model *lora, Error *error) {
    if (state_of(lora)->attached) return 0;
    return error_set(error, "lora: these adapters have no base model attached (they run on the GPT-2 they were "
                            "trained on)");
}

// Points the hook at the adapters (params) and their gradients (grads, once allocated).
static void bind_adapters(Model *lora) {
    LoraState *state = state_of(lora);
    for (int m = 0; m < GPT2_N_MATRICES; m++) {
        int a = state->a_tensor[m];
        if (a < 0) continue;
        const TensorInfo *ta = &lora->tensors[a], *tb = &lora->tensors[a + 1];
        state->adapters.a[m] = lora->params + ta->offset;
        state->adapters.b[m] = lora->params + tb->offset;
        state->adapters.d_a[m] = lora->grads ? lora->grads + ta->offset : NULL;
        state->adapters.d_b[m] = lora->grads ? lora->grads + tb->offset : NULL;
    }
}

// The base gets the activations (and, when training, the activation gradients) it needs, but
// never grads of its own: model_prepare is not called on it, so it stays frozen.
static int lora_prepare(Model *lora, int B, int T, Error *error) {
    if (need_base(lora, error)) return -1;
    LoraState *state = state_of(lora);
    bind_adapters(lora);
    state->base.training = lora->training;
    if (state->base.ops->prepare(&state->base, B, T, error)) return -1;
    lora->batch_size = state->base.batch_size;
    lora->seq_len = state->base.seq_len;
    return 0;
}

static int lora_forward(Model *lora, const int *inputs, const int *targets, int B, int T, Error *error) {
    if (need_base(lora, error)) return -1;
    Model *base = &state_of(lora)->base;
    base->training = lora->training;
    int status = base->ops->forward(base, inputs, targets, B, T, error);
    lora->logits = base->logits;
    lora->loss = base->loss;
    return status;
}

static int lora_backward(Model *lora, Error *error) {
    Model *base = &state_of(lora)->base;
    base->loss_weights = lora->loss_weights;
    return base->ops->backward(base, error);
}

static int lora_next_logits(Model *lora, const int *tokens, int n, float *logits, Error *error) {
    if (need_base(lora, error)) return -1;
    Model *base = &state_of(lora)->base;
    return base->ops->next_logits(base, tokens, n, logits, error);
}

static void lora_free_state(Model *lora) {
    LoraState *state = state_of(lora);
    if (!state) return;
    if (state->attached) model_free(&state->base);
    free(state);
    lora->state = NULL;
}

static const ModelOps lora_ops = {
    .prepare = lora_prepare,
    .forward = lora_forward,
    .backward = lora_backward,
    .next_logits = lora_next_logits,
    .fit = NULL,
    .free_state = lora_free_state,
};

// ----------------------------------------------------------------------------
// creation (model_init with ARCH_LORA comes here)

static int check_lora_config(const ModelConfig *c, Error *error) {
    ModelConfig base = *c;
    base.arch = ARCH_GPT2;
    if (gpt2_check_config(&base, error)) return -1;
    if (c->lora_targets < 1 || c->lora_targets > LORA_TARGET_ALL)
        return error_set(error, "lora: targets %d, must be attn (1), mlp (2) or both (3)", c->lora_targets);
    if (!(c->lora_alpha > 0.0f) || !isfinite(c->lora_alpha))
        return error_set(error, "lora: alpha %g must be positive", (double)c->lora_alpha);
    for (int m = 0; m < GPT2_N_MATRICES; m++) {
        if (!targets_matrix(c->lora_targets, (Gpt2Matrix)m)) continue;
        int N, K;
        gpt2_matrix_shape(c, (Gpt2Matrix)m, &N, &K);
        int largest = N < K ? N : K;
        if (c->lora_rank < 1 || c->lora_rank > largest)
            return error_set(error, "lora: rank %d must be in [1, %d] for %s (%d x %d)", c->lora_rank, largest,
                             gpt2_matrix_name((Gpt2Matrix)m), N, K);
    }
    return 0;
}

int lora_init(Model *model, Random *rng, Error *error) {
    const ModelConfig *c = &model->config;
    if (check_lora_config(c, error)) return -1;
    model->ops = &lora_ops;
    LoraState *state = calloc(1, sizeof(LoraState));
    model->tensors = calloc(2 * GPT2_N_MATRICES, sizeof(TensorInfo));
    model->state = state;
    if (!state || !model->tensors) return error_set(error, "lora: out of memory");
    int r = c->lora_rank, L = c->n_layers;
    state->adapters.rank = r;
    state->adapters.scale = c->lora_alpha / (float)r;
    for (int m = 0; m < GPT2_N_MATRICES; m++) {
        state->a_tensor[m] = -1;
        if (!targets_matrix(c->lora_targets, (Gpt2Matrix)m)) continue;
        int N, K;
        gpt2_matrix_shape(c, (Gpt2Matrix)m, &N, &K);
        const char *name = gpt2_matrix_name((Gpt2Matrix)m);
        state->a_tensor[m] = model->n_tensors;
        char a_name[TENSOR_NAME_LENGTH], b_name[TENSOR_NAME_LENGTH];
        snprintf(a_name, sizeof a_name, "%s.lora_a", name);
        snprintf(b_name, sizeof b_name, "%s.lora_b", name);
        model_add_tensor(model, a_name, TENSOR_F32, 3, (int[]){L, r, K});
        model_add_tensor(model, b_name, TENSOR_F32, 3, (int[]){L, N, r});
    }
    model->params = calloc((size_t)model->n_params, sizeof(float));  // B = 0 (and the alignment gaps)
    if (!model->params) return error_set(error, "lora: out of memory for %ld parameters", model->n_params);
    if (!rng) return 0;
    for (int m = 0; m < GPT2_N_MATRICES; m++) {
        if (state->a_tensor[m] < 0) continue;
        const TensorInfo *a = &model->tensors[state->a_tensor[m]];
        float bound = 1.0f / sqrtf((float)a->shape[2]);  // 1/√K
        float *values = model->params + a->offset;
        for (long i = 0; i < a->size; i++) values[i] = bound * (2.0f * random_uniform(rng) - 1.0f);
    }
    return 0;
}

// ----------------------------------------------------------------------------
// attaching, loading

int lora_attach(Model *lora, Model *base, Error *error) {
    if (lora->config.arch != ARCH_LORA) return error_set(error, "lora: a %s model is not an adapter", architecture_name(lora->config.arch));
    LoraState *state = state_of(lora);
    if (state->attached) return error_set(error, "lora: the adapters already have a base");
    if (base->config.arch != ARCH_GPT2)
        return error_set(error, "lora: the base is a %s model; adapters go on GPT-2", architecture_name(base->config.arch));
    const ModelConfig *want = &lora->config, *have = &base->config;
    if (want->vocab_size != have->vocab_size || want->context_length != have->context_length ||
        want->n_layers != have->n_layers || want->n_heads != have->n_heads || want->d_model != have->d_model ||
        want->weight_type != have->weight_type || want->embedding_type != have->embedding_type) {
        char wanted[200], given[200];
        describe_base(want, wanted, sizeof wanted);
        describe_base(have, given, sizeof given);
        return error_set(error, "the adapters were trained on another base (a GPT-2 of %s; this one has %s)", wanted,
                         given);
    }
    uint64_t checksum = lora_base_checksum(base);
    if (checksum != want->lora_base_checksum)
        return error_set(error, "the adapters were trained on another base (weights checksum %016llx, this base's %016llx)",
                         (unsigned long long)want->lora_base_checksum, (unsigned long long)checksum);
    state->base = *base;
    bind_adapters(lora);
    if (gpt2_set_adapters(&state->base, &state->adapters, error)) {
        gpt2_set_adapters(&state->base, NULL, NULL);
        *base = state->base;
        memset(&state->base, 0, sizeof state->base);
        return -1;
    }
    memset(base, 0, sizeof *base);
    state->attached = 1;
    return 0;
}

int lora_init_fresh(Model *lora, Model *base, int rank, float alpha, int targets, Random *rng, Error *error) {
    memset(lora, 0, sizeof *lora);
    if (base->config.arch != ARCH_GPT2)
        return error_set(error, "lora: the base is a %s model; adapters go on GPT-2", architecture_name(base->config.arch));
    ModelConfig config = base->config;
    config.arch = ARCH_LORA;
    config.lora_rank = rank;
    config.lora_alpha = alpha;
    config.lora_targets = targets;
    config.lora_reserved = 0;
    config.lora_base_checksum = lora_base_checksum(base);
    if (model_init(lora, &config, rng, error)) return -1;
    if (lora_attach(lora, base, error)) {
        model_free(lora);
        return -1;
    }
    return 0;
}

int lora_load(const char *path, Model *model, char *data_path, size_t data_path_size, Error *error) {
    Model adapters;
    TextTokenizer tokenizer;
    TrainState training;
    int has_training = 0;
    if (data_path && data_path_size) data_path[0] = '\0';
    if (checkpoint_load(path, &adapters, &tokenizer, &training, &has_training, error)) return -1;
    text_tokenizer_free(&tokenizer);  // the base's own
    if (data_path && data_path_size && has_training) snprintf(data_path, data_path_size, "%s", training.data_path);
    train_state_free(&training);
    if (adapters.config.arch != ARCH_LORA) {
        error_set(error, "%s: a %s checkpoint, not LoRA adapters", path, architecture_name(adapters.config.arch));
        model_free(&adapters);
        return -1;
    }
    if (lora_attach(&adapters, model, error)) {
        error_prefix(error, "%s", path);
        model_free(&adapters);
        return -1;
    }
    *model = adapters;
    return 0;
}

const Model *lora_base(const Model *lora) {
    if (lora->config.arch != ARCH_LORA || !state_of(lora)->attached) return NULL;
    return &state_of(lora)->base;
}

// ----------------------------------------------------------------------------
// merging

int lora_merge(Model *merged, const Model *lora, Error *error) {
    memset(merged, 0, sizeof *merged);
    const Model *base = lora_base(lora);
    if (!base) return need_base(lora, error);
    const LoraState *state = state_of(lora);
    ModelConfig config = base->config;
    config.weight_type = config.embedding_type = TENSOR_F32;
    if (model_init(merged, &config, NULL, error)) return -1;
    for (int i = 0; i < base->n_tensors; i++) {
        const TensorInfo *from = &base->tensors[i];
        float *to = merged->params + merged->tensors[i].offset;
        if (from->type == TENSOR_F32) memcpy(to, base->params + from->offset, sizeof(float) * (size_t)from->size);
        else quant_dequantize(&base->quantized[i], to);
    }
    int r = state->adapters.rank, L = config.n_layers;
    float scale = state->adapters.scale;
    for (int m = 0; m < GPT2_N_MATRICES; m++) {
        if (state->a_tensor[m] < 0) continue;
        int N, K;
        gpt2_matrix_shape(&config, (Gpt2Matrix)m, &N, &K);
        float *scaled_b = malloc(sizeof(float) * (size_t)N * r);
        if (!scaled_b) {
            model_free(merged);
            return error_set(error, "lora: out of memory");
        }
        float *weights = merged->params + merged->tensors[gpt2_matrix_tensor((Gpt2Matrix)m)].offset;
        for (int l = 0; l < L; l++) {
            const float *A = state->adapters.a[m] + (long)l * r * K, *B = state->adapters.b[m] + (long)l * N * r;
            for (long i = 0; i < (long)N * r; i++) scaled_b[i] = scale * B[i];
            // W (N,K) += (s B) (N,r) · A (r,K)
            gemm(N, K, r, scaled_b, r, 1, A, K, 1, weights + (long)l * N * K, K, 1);
        }
        free(scaled_b);
    }
    return 0;
}
