// GPT-2 composed from operations: see gpt2.h. Forward only; the tape gives the backward.
#include "models/gpt2.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/init.h"

int gpt2_net_create(Gpt2Net *net, int V, int maxT, int L, int NH, int C, Random *rng, Error *error) {
    memset(net, 0, sizeof *net);
    if (V < 1 || maxT < 1 || L < 1 || L > GPT2_NN_MAX_LAYERS || NH < 1 || C < 1 || C % NH)
        return error_set(error, "gpt2: sizes V %d, T %d, L %d, NH %d, C %d (NH must divide C)", V, maxT, L, NH, C);
    net->vocab_size = V, net->context_length = maxT, net->n_layers = L, net->n_heads = NH, net->d_model = C;
    Parameters *p = &net->params;
    int status = embedding_init(&net->wte, p, "transformer.wte", V, C, rng, error) ||
                 embedding_init(&net->wpe, p, "transformer.wpe", maxT, C, rng, error);
    for (int l = 0; l < L && !status; l++) {
        Gpt2Block *b = &net->blocks[l];
        char name[6][64];
        const char *modules[6] = {"ln_1", "attn.c_attn", "attn.c_proj", "ln_2", "mlp.c_fc", "mlp.c_proj"};
        for (int m = 0; m < 6; m++) snprintf(name[m], sizeof name[m], "transformer.h.%d.%s", l, modules[m]);
        status = layer_norm_init(&b->ln_1, p, name[0], C, error) ||
                 linear_init(&b->c_attn, p, name[1], C, 3 * C, 1, rng, error) ||
                 linear_init(&b->attn_proj, p, name[2], C, C, 1, rng, error) ||
                 layer_norm_init(&b->ln_2, p, name[3], C, error) ||
                 linear_init(&b->c_fc, p, name[4], C, 4 * C, 1, rng, error) ||
                 linear_init(&b->mlp_proj, p, name[5], 4 * C, C, 1, rng, error);
    }
    if (!status) status = layer_norm_init(&net->ln_f, p, "transformer.ln_f", C, error);
    if (status) {
        gpt2_net_free(net);
        return -1;
    }
    // GPT-2's (nanoGPT's) initialisation rather than the modules' defaults: matrices and
    // embeddings N(0, 0.02), the two projections into the residual stream N(0, 0.02/√(2L))
    // (2L of them add up along it), biases 0; LayerNorms keep 1 and 0.
    float residual_std = 0.02f / sqrtf(2.0f * (float)L);
    init_normal(net->wte.weight, 0.0f, 0.02f, rng);
    init_normal(net->wpe.weight, 0.0f, 0.02f, rng);
    for (int l = 0; l < L; l++) {
        Gpt2Block *b = &net->blocks[l];
        Linear *linears[4] = {&b->c_attn, &b->attn_proj, &b->c_fc, &b->mlp_proj};
        for (int i = 0; i < 4; i++) {
            init_normal(linears[i]->weight, 0.0f, i == 1 || i == 3 ? residual_std : 0.02f, rng);
            init_constant(linears[i]->bias, 0.0f);
        }
    }
    return 0;
}

void gpt2_net_free(Gpt2Net *net) {
    parameters_free(&net->params);
    memset(net, 0, sizeof *net);
}

// One transformer block on x (B,T,C).
static Tensor *block_forward(Tape *tape, const Gpt2Block *b, Tensor *x, int NH) {
    int C = x ? x->shape[2] : 0;
    Tensor *qkv = linear_apply(tape, &b->c_attn, layer_norm_apply(tape, &b->ln_1, x));  // (B,T,3C)
    Tensor *q = nn_slice(tape, qkv, -1, 0, C), *k = nn_slice(tape, qkv, -1, C, 2 * C), *v = nn_slice(tape, qkv, -1, 2 * C, 3 * C);
    x = nn_add(tape, x, linear_apply(tape, &b->attn_proj, nn_attention(tape, q, k, v, NH, 1, NULL)));
    Tensor *h = nn_gelu(tape, linear_apply(tape, &b->c_fc, layer_norm_apply(tape, &b->ln_2, x)));  // (B,T,4C)
    return nn_add(tape, x, linear_apply(tape, &b->mlp_proj, h));
}

Tensor *gpt2_net_forward(Tape *tape, const Gpt2Net *net, const int *tokens, const int *targets, int B, int T,
                         Tensor **loss) {
    if (T > net->context_length) return tape_fail(tape, "gpt2: context %d is longer than the model's %d", T, net->context_length);
    Tensor *tok = embedding_apply(tape, &net->wte, tokens, 2, (int[]){B, T});  // (B,T,C)
    Tensor *pos = nn_slice(tape, net->wpe.weight, 0, 0, T);                     // (T,C), broadcast over B
    Tensor *x = nn_add(tape, tok, pos);
    for (int l = 0; l < net->n_layers; l++) x = block_forward(tape, &net->blocks[l], x, net->n_heads);
    Tensor *logits = nn_linear(tape, layer_norm_apply(tape, &net->ln_f, x), net->wte.weight, NULL);  // tied
    if (loss) *loss = targets ? nn_cross_entropy(tape, logits, targets, NN_NO_IGNORE, 0.0f) : NULL;
    return logits;
}
