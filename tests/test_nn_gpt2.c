// GPT-2 composed from the framework's operations (models/gpt2.c) against the hand-written
// GPT-2 (gpt/gpt2.c): with the same weights and batch, the same loss and the same gradient of
// every parameter, to 1e-5 relative (each tensor's largest difference over its largest value).
#include <math.h>
#include <string.h>

#include "gpt/gpt2.h"
#include "gpt/model.h"
#include "models/gpt2.h"
#include "tests/check.h"

enum { V = 67, MAXT = 16, L = 2, NH = 4, C = 32, B = 3, T = 11 };

// gpt2.c's tensor `name`, layer `layer` (a (rows, cols) slab of its (L, rows, cols) tensor),
// in params or grads.
static float *slab(const Model *model, float *base, const char *name, int layer, long size) {
    const TensorInfo *t = model_find_tensor(model, name);
    return base + t->offset + (long)layer * size;
}

typedef struct Pair {
    const char *ours;   // the framework's name, with %d for the layer
    const char *theirs; // gpt2.c's tensor
    long size;          // values per layer
    int per_layer;
} Pair;

static const Pair pairs[] = {
    {"transformer.wte.weight", "wte", (long)V * C, 0},
    {"transformer.wpe.weight", "wpe", (long)MAXT * C, 0},
    {"transformer.h.%d.ln_1.weight", "ln1w", C, 1},
    {"transformer.h.%d.ln_1.bias", "ln1b", C, 1},
    {"transformer.h.%d.attn.c_attn.weight", "qkvw", 3L * C * C, 1},
    {"transformer.h.%d.attn.c_attn.bias", "qkvb", 3L * C, 1},
    {"transformer.h.%d.attn.c_proj.weight", "attprojw", (long)C * C, 1},
    {"transformer.h.%d.attn.c_proj.bias", "attprojb", C, 1},
    {"transformer.h.%d.ln_2.weight", "ln2w", C, 1},
    {"transformer.h.%d.ln_2.bias", "ln2b", C, 1},
    {"transformer.h.%d.mlp.c_fc.weight", "fcw", 4L * C * C, 1},
    {"transformer.h.%d.mlp.c_fc.bias", "fcb", 4L * C, 1},
    {"transformer.h.%d.mlp.c_proj.weight", "fcprojw", 4L * C * C, 1},
    {"transformer.h.%d.mlp.c_proj.bias", "fcprojb", C, 1},
    {"transformer.ln_f.weight", "lnfw", C, 0},
    {"transformer.ln_f.bias", "lnfb", C, 0},
};

static void same_loss_logits_and_gradients(void) {
    Error error;
    Random rng;
    random_seed(&rng, 21);
    ModelConfig config;
    memset(&config, 0, sizeof config);
    config.arch = ARCH_GPT2, config.vocab_size = V, config.context_length = MAXT;
    config.n_layers = L, config.n_heads = NH, config.d_model = C;
    Model model;
    CHECK(model_init(&model, &config, &rng, &error) == 0, "%s", error.message);
    CHECK(model_prepare(&model, B, T, 1, &error) == 0, "%s", error.message);
    Gpt2Net net;
    CHECK(gpt2_net_create(&net, V, MAXT, L, NH, C, &rng, &error) == 0, "%s", error.message);
    CHECK(net.params.count == 4 + 12 * L, "%d tensors", net.params.count);
    // gpt2.c's weights, with its LayerNorm weights and biases perturbed off their 1/0 start
    // so that every gradient is exercised
    for (long i = 0; i < model.n_params; i++) model.params[i] += 0.05f * random_normal(&rng, 0.0f, 1.0f);
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++)
        for (int l = 0; l < (pairs[p].per_layer ? L : 1); l++) {
            char name[96];
            snprintf(name, sizeof name, pairs[p].ours, l);
            Tensor *t = parameters_find(&net.params, name);
            CHECK(t && t->size == pairs[p].size, "%s", name);
            if (t) memcpy(t->data, slab(&model, model.params, pairs[p].theirs, l, pairs[p].size), sizeof(float) * (size_t)t->size);
        }
    int inputs[B * T], targets[B * T];
    for (int i = 0; i < B * T; i++) inputs[i] = (int)random_below(&rng, V), targets[i] = (int)random_below(&rng, V);

    // the hand-written model
    CHECK(model.ops->forward(&model, inputs, targets, B, T, &error) == 0, "%s", error.message);
    memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
    CHECK(model_backward(&model, &error) == 0, "%s", error.message);
    // the composed one
    Tape tape;
    tape_init(&tape);
    Tensor *loss = NULL;
    Tensor *logits = gpt2_net_forward(&tape, &net, inputs, targets, B, T, &loss);
    CHECK(logits && loss, "forward: %s", tape.error.message);
    parameters_zero_grad(&net.params);
    CHECK(tape_backward(&tape, loss, &error) == 0, "%s", error.message);

    CHECK(fabs(loss->data[0] - model.loss) <= 1e-5 * fabs(model.loss), "loss %.9g vs gpt2.c %.9g", (double)loss->data[0],
          (double)model.loss);
    double worst_logit = 0.0;
    for (long i = 0; i < (long)B * T * V; i++) worst_logit = fmax(worst_logit, fabs(logits->data[i] - model.logits[i]));
    CHECK(worst_logit < 1e-5, "logits differ by %g", worst_logit);
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++)
        for (int l = 0; l < (pairs[p].per_layer ? L : 1); l++) {
            char name[96];
            snprintf(name, sizeof name, pairs[p].ours, l);
            Tensor *t = parameters_find(&net.params, name);
            const float *reference = slab(&model, model.grads, pairs[p].theirs, l, pairs[p].size);
            double largest = 0.0, difference = 0.0;
            for (long i = 0; t && i < t->size; i++) {
                largest = fmax(largest, fabs(reference[i]));
                difference = fmax(difference, fabs(t->grad[i] - reference[i]));
            }
            CHECK(largest > 0.0 && difference <= 1e-5 * largest, "%s: gradient differs by %g (largest %g)", name,
                  difference, largest);
        }
    tape_free(&tape);
    gpt2_net_free(&net);
    model_free(&model);
}

static const CheckCase CASES[] = {
    {"GPT-2 from operations: the loss, logits and gradients of gpt/gpt2.c", same_loss_logits_and_gradients},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
