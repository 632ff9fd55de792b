// LoRA adapters on a frozen GPT-2 (gpt/lora.h): adapter gradients against finite differences
// on fp32 and q8_0 bases, B = 0 leaving the logits bit for bit, merged against unmerged,
// decoding with the key/value cache against the full forward, adapter files (round trip,
// another base, truncation) and bad configurations.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/file.h"
#include "foundations/gradcheck.h"
#include "gpt/checkpoint.h"
#include "gpt/gpt2.h"
#include "gpt/lora.h"
#include "gpt/quantize.h"
#include "tests/check.h"

enum { V = 37, MAX_T = 12, L = 2, NH = 2, B = 2, T = 5, RANK = 2 };
static const float ALPHA = 3.0f;

// A tiny GPT-2 of width C with weights larger than the 0.02 initialisation (so every path
// carries a visible gradient), made from seed; weight_type TENSOR_F32 or a quantized copy
// (linear matrices only: the output matrix stays fp32).
static void make_base_with(Model *base, uint64_t seed, int C, int n_layers, int weight_type, float spread) {
    Error error;
    Random rng;
    random_seed(&rng, seed);
    ModelConfig config = {.arch = ARCH_GPT2, .vocab_size = V, .context_length = MAX_T, .n_layers = n_layers,
                          .n_heads = NH, .d_model = C};
    Model fp32;
    CHECK(model_init(&fp32, &config, &rng, &error) == 0, "create: %s", error.message);
    for (long i = 0; i < fp32.n_params; i++) fp32.params[i] += random_normal(&rng, 0.0f, spread);
    if (weight_type == TENSOR_F32) {
        *base = fp32;
        return;
    }
    CHECK(model_quantize(base, &fp32, weight_type, TENSOR_F32, NULL, &error) == 0, "quantize: %s", error.message);
    model_free(&fp32);
}

static void make_base(Model *base, uint64_t seed, int C, int n_layers, int weight_type) {
    make_base_with(base, seed, C, n_layers, weight_type, 0.3f);
}

// Adapters on base with B random too (with B = 0 the gradient of A would be 0).
static void make_lora(Model *lora, Model *base, Random *rng, int targets) {
    Error error;
    CHECK(lora_init_fresh(lora, base, RANK, ALPHA, targets, rng, &error) == 0, "lora_init_fresh: %s", error.message);
    for (int t = 0; t < lora->n_tensors; t++)
        if (strstr(lora->tensors[t].name, "lora_b"))
            random_fill_normal(rng, lora->params + lora->tensors[t].offset, lora->tensors[t].size, 0.0f, 0.3f);
}

static void random_tokens(Random *rng, int *tokens, int n) {
    for (int i = 0; i < n; i++) tokens[i] = (int)random_below(rng, V);
}

typedef struct LossContext {
    Model *model;
    int inputs[B * T], targets[B * T];
} LossContext;

static double loss_at(void *context) {
    LossContext *c = context;
    Error error;
    if (c->model->ops->forward(c->model, c->inputs, c->targets, B, T, &error)) return NAN;
    return c->model->loss;
}

// A model of the same config with fp32 weights: the dequantized ones of a quantized model.
static void dequantized_copy(Model *out, const Model *model) {
    Error error;
    ModelConfig config = model->config;
    config.weight_type = config.embedding_type = TENSOR_F32;
    CHECK(model_init(out, &config, NULL, &error) == 0, "create: %s", error.message);
    for (int i = 0; i < model->n_tensors; i++) {
        const TensorInfo *t = &model->tensors[i];
        float *to = out->params + out->tensors[i].offset;
        if (t->type == TENSOR_F32) memcpy(to, model->params + t->offset, sizeof(float) * (size_t)t->size);
        else quant_dequantize(&model->quantized[i], to);
    }
}

// The adapters' analytic gradients for one batch (lora prepared for training).
static float *analytic_gradients(Model *lora, LossContext *context) {
    loss_at(context);
    memset(lora->grads, 0, sizeof(float) * (size_t)lora->n_params);
    Error error;
    CHECK(model_backward(lora, &error) == 0, "%s", error.message);
    float *analytic = malloc(sizeof(float) * (size_t)lora->n_params);
    memcpy(analytic, lora->grads, sizeof(float) * (size_t)lora->n_params);
    return analytic;
}

// Every adapter tensor's gradient against central differences, on an fp32 base.
static void check_gradients_fp32(void) {
    Model base, lora;
    Error error;
    Random rng;
    random_seed(&rng, 11);
    make_base(&base, 5, 8, L, TENSOR_F32);
    make_lora(&lora, &base, &rng, LORA_TARGET_ALL);
    CHECK(lora.n_tensors == 8, "8 adapter tensors for attn,mlp, got %d", lora.n_tensors);
    CHECK(model_prepare(&lora, B, T, 1, &error) == 0, "prepare: %s", error.message);
    const Model *frozen = lora_base(&lora);
    CHECK(frozen && frozen->grads == NULL, "the base has no gradient buffer");
    LossContext context = {.model = &lora};
    random_tokens(&rng, context.inputs, B * T);
    random_tokens(&rng, context.targets, B * T);
    float *analytic = analytic_gradients(&lora, &context);
    CHECK(lora_base_checksum(frozen) == lora.config.lora_base_checksum, "the base's weights are untouched");
    for (int t = 0; t < lora.n_tensors; t++) {
        const TensorInfo *tensor = &lora.tensors[t];
        GradcheckResult r = gradcheck(loss_at, &context, lora.params + tensor->offset, analytic + tensor->offset,
                                      tensor->size, 1e-2f, 1e-2);
        CHECK(r.max_rel_error < 2e-2, "fp32 base, d_%s: relative error %g at %ld (abs %g)", tensor->name,
              r.max_rel_error, r.worst_index, r.max_abs_error);
    }
    free(analytic);
    model_free(&lora);
}

// On a q8_0 base the forward also rounds the activations to 8 bits (per block of 32) before
// each quantized product: a step function, whose finite differences measure rounding jumps,
// not slopes. The backward differentiates the same network without that rounding (the
// straight-through rule of QLoRA): through x·Ŵᵀ with Ŵ the dequantized weights. So:
//  - the last layer's fcprojw adapters, which no rounding follows (fp32 output matrix), match
//    finite differences of the q8_0 model itself;
//  - every adapter's gradient (layer 0's) matches finite differences of the same network with fp32
//    weights Ŵ, up to what rounding the activations changes in the forward: about 1% of the
//    tensor's largest gradient (measured; a sign or indexing error would be 100%). Weights
//    N(0, 0.1) rather than 0.3 keep the tiny network from amplifying those roundings.
static void check_gradients_q8_0(void) {
    Model base, lora, dequantized, reference;
    Error error;
    Random rng;
    random_seed(&rng, 12);
    make_base_with(&base, 5, 32, L, QUANT_Q8_0, 0.1f);
    dequantized_copy(&dequantized, &base);
    make_lora(&lora, &base, &rng, LORA_TARGET_ALL);
    CHECK(lora_init_fresh(&reference, &dequantized, RANK, ALPHA, LORA_TARGET_ALL, NULL, &error) == 0, "%s", error.message);
    memcpy(reference.params, lora.params, sizeof(float) * (size_t)lora.n_params);
    CHECK(model_prepare(&lora, B, T, 1, &error) == 0 && model_prepare(&reference, B, T, 1, &error) == 0, "prepare");
    CHECK(lora_base(&lora)->grads == NULL && lora_base(&lora)->quantized, "a frozen quantized base");
    LossContext context = {.model = &lora}, reference_context = {.model = &reference};
    random_tokens(&rng, context.inputs, B * T);
    random_tokens(&rng, context.targets, B * T);
    memcpy(&reference_context.inputs, context.inputs, sizeof context.inputs);
    memcpy(&reference_context.targets, context.targets, sizeof context.targets);
    float *analytic = analytic_gradients(&lora, &context);
    CHECK(lora_base_checksum(lora_base(&lora)) == lora.config.lora_base_checksum, "the base's weights are untouched");
    for (int t = 0; t < lora.n_tensors; t++) {
        // layer 0, whose gradients come back through every quantized matrix after it
        const TensorInfo *tensor = &lora.tensors[t];
        long layer_size = tensor->size / L;
        double largest = 0.0;
        for (long i = 0; i < layer_size; i++) largest = fmax(largest, fabs(analytic[tensor->offset + i]));
        GradcheckResult r = gradcheck(loss_at, &reference_context, reference.params + tensor->offset,
                                      analytic + tensor->offset, layer_size, 1e-2f, largest);
        CHECK(largest > 1e-2 && r.max_rel_error < 5e-2,
              "q8_0 base, d_%s against fp32 dequantized weights: error %g of the largest gradient at %ld (abs %g)",
              tensor->name, r.max_rel_error, r.worst_index, r.max_abs_error);
        if (strncmp(tensor->name, "fcprojw", 7) != 0) continue;
        long last_layer = (L - 1) * layer_size;  // the layer L-1 block of (L, ., .)
        r = gradcheck(loss_at, &context, lora.params + tensor->offset + last_layer, analytic + tensor->offset + last_layer,
                      layer_size, 1e-2f, 1e-2);
        CHECK(r.max_rel_error < 2e-2, "q8_0 base, last layer d_%s: relative error %g at %ld (abs %g)", tensor->name,
              r.max_rel_error, r.worst_index, r.max_abs_error);
    }
    free(analytic);
    model_free(&reference);
    model_free(&lora);
}

// With B = 0 (fresh adapters) the logits are the base's, bit for bit, in the full forward and
// in decoding.
static void check_zero_b(int C, int weight_type) {
    Model base, lora;
    Error error;
    Random rng;
    random_seed(&rng, 12);
    make_base(&base, 6, C, L, weight_type);
    int tokens[B * T];
    random_tokens(&rng, tokens, B * T);
    CHECK(model_prepare(&base, B, T, 0, &error) == 0, "prepare: %s", error.message);
    CHECK(base.ops->forward(&base, tokens, NULL, B, T, &error) == 0, "forward: %s", error.message);
    float *expected = malloc(sizeof(float) * B * T * V), decoded[V], adapted[V];
    memcpy(expected, base.logits, sizeof(float) * B * T * V);
    CHECK(base.ops->next_logits(&base, tokens, T, decoded, &error) == 0, "next_logits: %s", error.message);
    CHECK(lora_init_fresh(&lora, &base, RANK, ALPHA, LORA_TARGET_ALL, &rng, &error) == 0, "lora_init_fresh: %s", error.message);
    CHECK(model_prepare(&lora, B, T, 0, &error) == 0, "prepare: %s", error.message);
    CHECK(lora.ops->forward(&lora, tokens, NULL, B, T, &error) == 0, "forward: %s", error.message);
    CHECK(memcmp(lora.logits, expected, sizeof(float) * B * T * V) == 0, "B = 0: the logits are the base's bit for bit");
    CHECK(lora.ops->next_logits(&lora, tokens, T, adapted, &error) == 0, "next_logits: %s", error.message);
    CHECK(memcmp(adapted, decoded, sizeof decoded) == 0, "B = 0: decoding gives the base's logits bit for bit");
    // A is not zero: the adapters are live once B is not.
    double norm = 0.0;
    for (long i = 0; i < lora.n_params; i++) norm += fabs(lora.params[i]);
    CHECK(norm > 0.0, "A is initialised");
    free(expected);
    model_free(&lora);
}

static double max_difference(const float *a, const float *b, long n) {
    double worst = 0.0;
    for (long i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
    return worst;
}

// Merged weights give the unmerged logits; decoding with the cache equals the full forward.
static void check_merge_and_decoding(void) {
    Model base, lora, merged;
    Error error;
    Random rng;
    random_seed(&rng, 13);
    make_base(&base, 7, 8, L, TENSOR_F32);
    make_lora(&lora, &base, &rng, LORA_TARGET_ALL);
    CHECK(lora_merge(&merged, &lora, &error) == 0, "merge: %s", error.message);
    int tokens[MAX_T];
    random_tokens(&rng, tokens, MAX_T);
    CHECK(model_prepare(&lora, 1, MAX_T, 0, &error) == 0 && model_prepare(&merged, 1, MAX_T, 0, &error) == 0, "prepare");
    lora.ops->forward(&lora, tokens, NULL, 1, MAX_T, &error);
    merged.ops->forward(&merged, tokens, NULL, 1, MAX_T, &error);
    double worst = max_difference(lora.logits, merged.logits, (long)MAX_T * V);
    CHECK(worst < 1e-5, "merged and unmerged logits differ by %g", worst);
    float *full = malloc(sizeof(float) * MAX_T * V), cached[V];
    memcpy(full, lora.logits, sizeof(float) * MAX_T * V);
    for (int n = 3; n <= MAX_T; n++) {  // a 3-token prompt, then one token at a time
        CHECK(lora.ops->next_logits(&lora, tokens, n, cached, &error) == 0, "next_logits: %s", error.message);
        worst = max_difference(cached, full + (long)(n - 1) * V, V);
        CHECK(worst < 1e-5, "n=%d: decoding with adapters differs from the full forward by %g", n, worst);
    }
    free(full);
    model_free(&merged);
    model_free(&lora);

    // On a quantized base the merged weights are the dequantized ones plus s·B·A, computed
    // here with plain loops.
    Model quantized;
    make_base(&quantized, 8, 32, 1, QUANT_Q8_0);
    float *dequantized = malloc(sizeof(float) * 3 * 32 * 32);
    quant_dequantize(&quantized.quantized[model_find_tensor(&quantized, "qkvw") - quantized.tensors], dequantized);
    make_lora(&lora, &quantized, &rng, LORA_TARGET_ATTN);
    CHECK(lora_merge(&merged, &lora, &error) == 0, "merge: %s", error.message);
    CHECK(merged.config.weight_type == TENSOR_F32 && merged.config.embedding_type == TENSOR_F32, "merged is fp32");
    const float *A = lora.params + model_find_tensor(&lora, "qkvw.lora_a")->offset;
    const float *Bm = lora.params + model_find_tensor(&lora, "qkvw.lora_b")->offset;
    const float *W = merged.params + model_find_tensor(&merged, "qkvw")->offset;
    worst = 0.0;
    for (int n = 0; n < 96; n++)
        for (int k = 0; k < 32; k++) {
            double update = 0.0;
            for (int j = 0; j < RANK; j++) update += (double)Bm[n * RANK + j] * A[j * 32 + k];
            worst = fmax(worst, fabs(W[n * 32 + k] - (dequantized[n * 32 + k] + ALPHA / RANK * update)));
        }
    CHECK(worst < 1e-5, "merged q8_0 weights = dequantized + s B A, off by %g", worst);
    free(dequantized);
    model_free(&merged);
    model_free(&lora);
}

// Adapter files: a round trip onto the same base, refusals for other bases, truncation.
static void check_files(void) {
    Model base, lora, other;
    Error error;
    Random rng;
    random_seed(&rng, 14);
    TextTokenizer tokenizer;
    const char *text = "the quick brown fox jumps over the lazy dog";
    CHECK(text_tokenizer_chars(&tokenizer, (const unsigned char *)text, strlen(text), &error) == 0, "%s", error.message);
    char path[64], truncated[64], plain[64];
    snprintf(path, sizeof path, "/tmp/test_lora_%d.lora", (int)getpid());
    snprintf(truncated, sizeof truncated, "/tmp/test_lora_%d.cut", (int)getpid());
    snprintf(plain, sizeof plain, "/tmp/test_lora_%d.ckpt", (int)getpid());
    make_base(&base, 9, 8, L, TENSOR_F32);
    make_lora(&lora, &base, &rng, LORA_TARGET_MLP);
    CHECK(checkpoint_save(path, &lora, &tokenizer, NULL, &error) == 0, "save: %s", error.message);
    int tokens[T];
    random_tokens(&rng, tokens, T);
    float expected[V], got[V];
    CHECK(lora.ops->next_logits(&lora, tokens, T, expected, &error) == 0, "next_logits: %s", error.message);

    make_base(&other, 9, 8, L, TENSOR_F32);  // the same base again
    CHECK(lora_load(path, &other, NULL, 0, &error) == 0, "load onto the same base: %s", error.message);
    CHECK(other.config.arch == ARCH_LORA && other.config.lora_targets == LORA_TARGET_MLP, "an mlp adapter model");
    CHECK(other.ops->next_logits(&other, tokens, T, got, &error) == 0, "next_logits: %s", error.message);
    CHECK(memcmp(got, expected, sizeof got) == 0, "the loaded adapters give the same logits");
    model_free(&other);

    make_base(&other, 10, 8, L, TENSOR_F32);  // same shape, other weights
    CHECK(lora_load(path, &other, NULL, 0, &error) != 0 && strstr(error.message, "another base") &&
              strstr(error.message, "checksum"),
          "another base's weights are refused: %s", error.message);
    CHECK(other.config.arch == ARCH_GPT2 && other.params, "the base is left as it was");
    model_free(&other);
    make_base(&other, 9, 8, 1, TENSOR_F32);  // another shape
    CHECK(lora_load(path, &other, NULL, 0, &error) != 0 && strstr(error.message, "another base") &&
              strstr(error.message, "1 layers"),
          "another base's config is refused: %s", error.message);

    // truncated: every length short of the whole file fails with one line
    unsigned char *bytes = NULL;
    size_t n_bytes = 0;
    REQUIRE(file_read_all(path, &bytes, &n_bytes, &error) == 0, "read back: %s", error.message);
    long size = (long)n_bytes;
    FILE *file;
    long cuts[3] = {100, size / 2, size - 1};
    for (int i = 0; i < 3; i++) {
        file = fopen(truncated, "wb");
        fwrite(bytes, 1, (size_t)cuts[i], file);
        fclose(file);
        Model again;
        make_base(&again, 9, 8, L, TENSOR_F32);
        CHECK(lora_load(truncated, &again, NULL, 0, &error) != 0 && strchr(error.message, '\n') == NULL &&
                  strstr(error.message, truncated),
              "truncated to %ld bytes: %s", cuts[i], error.message);
        model_free(&again);
    }
    free(bytes);
    // a plain GPT-2 checkpoint is not an adapter
    CHECK(checkpoint_save(plain, &other, &tokenizer, NULL, &error) == 0, "save: %s", error.message);
    Model again;
    make_base(&again, 9, 8, L, TENSOR_F32);
    CHECK(lora_load(plain, &again, NULL, 0, &error) != 0 && strstr(error.message, "not LoRA adapters"),
          "a gpt2 checkpoint as adapters: %s", error.message);
    model_free(&again);
    // the adapters alone (a checkpoint load, no base) refuse to run
    TextTokenizer loaded_tokenizer;
    CHECK(checkpoint_load(path, &again, &loaded_tokenizer, NULL, NULL, &error) == 0, "load: %s", error.message);
    CHECK(again.ops->next_logits(&again, tokens, T, got, &error) != 0 && strstr(error.message, "no base"),
          "adapters without a base: %s", error.message);
    CHECK(model_prepare(&again, 1, T, 0, &error) != 0, "adapters without a base cannot be prepared");
    model_free(&again);
    text_tokenizer_free(&loaded_tokenizer);
    unlink(path);
    unlink(truncated);
    unlink(plain);
    model_free(&other);
    model_free(&lora);
    text_tokenizer_free(&tokenizer);
}

static void check_bad_input(void) {
    Model base, lora;
    Error error;
    int targets = 0;
    CHECK(lora_parse_targets("attn,mlp", &targets, &error) == 0 && targets == LORA_TARGET_ALL, "attn,mlp");
    CHECK(lora_parse_targets("mlp,attn", &targets, &error) == 0 && targets == LORA_TARGET_ALL, "mlp,attn");
    CHECK(lora_parse_targets("mlp", &targets, &error) == 0 && targets == LORA_TARGET_MLP, "mlp");
    CHECK(lora_parse_targets("attn", &targets, &error) == 0 && targets == LORA_TARGET_ATTN, "attn");
    const char *bad[] = {"", "ffn", "attn,", "attn,attn", ",mlp", "attn mlp", "ATTN"};
    for (int i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++)
        CHECK(lora_parse_targets(bad[i], &targets, &error) != 0 && strstr(error.message, "targets"),
              "targets '%s' refused", bad[i]);

    make_base(&base, 3, 8, L, TENSOR_F32);
    int ranks[2] = {0, 9};  // the width is 8: every targeted matrix has min(N, K) = 8
    for (int i = 0; i < 2; i++) {
        CHECK(lora_init_fresh(&lora, &base, ranks[i], ALPHA, LORA_TARGET_ALL, NULL, &error) != 0 &&
                  strstr(error.message, "rank") && strstr(error.message, "[1, 8]"),
              "rank %d refused: %s", ranks[i], error.message);
        CHECK(base.params && base.config.arch == ARCH_GPT2, "the base survives a refused rank");
    }
    CHECK(lora_init_fresh(&lora, &base, 8, ALPHA, LORA_TARGET_ALL, NULL, &error) == 0, "rank 8 = C is fine: %s", error.message);
    model_free(&lora);
    make_base(&base, 3, 8, L, TENSOR_F32);
    CHECK(lora_init_fresh(&lora, &base, 2, ALPHA, 4, NULL, &error) != 0 && strstr(error.message, "targets"), "targets 4");
    CHECK(lora_init_fresh(&lora, &base, 2, 0.0f, LORA_TARGET_ALL, NULL, &error) != 0 && strstr(error.message, "alpha"),
          "alpha 0");
    Model adapters;
    CHECK(lora_init_fresh(&lora, &base, 2, ALPHA, LORA_TARGET_ALL, NULL, &error) == 0, "lora_init_fresh: %s", error.message);
    CHECK(lora_init_fresh(&adapters, &lora, 2, ALPHA, LORA_TARGET_ALL, NULL, &error) != 0 && strstr(error.message, "GPT-2"),
          "adapters on adapters are refused");
    model_free(&lora);
}

// The cases; those that draw random numbers start from the same seed each.
static void zero_b_fp32(void) {
    check_zero_b(8, TENSOR_F32);
}

static void zero_b_q4_0(void) {
    check_zero_b(32, QUANT_Q4_0);
}

static const CheckCase CASES[] = {
    {"gradients with an fp32 base", check_gradients_fp32},
    {"gradients with a q8_0 base", check_gradients_q8_0},
    {"B = 0 leaves an fp32 base unchanged", zero_b_fp32},
    {"B = 0 leaves a q4_0 base unchanged", zero_b_q4_0},
    {"merge and decoding", check_merge_and_decoding},
    {"adapter files", check_files},
    {"bad input is an error", check_bad_input},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
