// gpt/defaults.h: each stage's default recipe.
#include "gpt/defaults.h"

#include <stdio.h>
#include <string.h>

enum { LARGE_TEXT = 1000000, CHAR_TEXT = 20000 };

static TrainDefaults gpt2_defaults(const DataSource *source) {
    TrainDefaults d = {.batch = 16, .context = 128, .lr = 2e-3f, .seconds = 300.0, .layers = 4, .heads = 4, .dim = 256};
    snprintf(d.tokenizer, sizeof d.tokenizer, "%s", source->is_tokens ? "gpt2" : "bpe:4096");
    size_t bytes = source->split;
    if (source->is_tokens || bytes >= LARGE_TEXT) return d;
    // A small text: a vocabulary it can fill, a model it cannot simply memorise at once, and
    // a shorter run.
    long vocab = 256 + (long)bytes / 64 / 64 * 64;
    if (vocab > 4096) vocab = 4096;
    if (bytes < CHAR_TEXT) snprintf(d.tokenizer, sizeof d.tokenizer, "char");
    else snprintf(d.tokenizer, sizeof d.tokenizer, "bpe:%ld", vocab);
    d.layers = 2, d.dim = 128, d.context = 64, d.seconds = 120.0;
    snprintf(d.reason, sizeof d.reason, "a %.0f KB text: tokenizer %s, %d layers of width %d, context %d, %.0f s",
             (double)bytes / 1000.0, d.tokenizer, d.layers, d.dim, d.context, d.seconds);
    return d;
}

TrainDefaults train_defaults(Architecture arch, const DataSource *source) {
    TrainDefaults d = {.batch = 32, .context = 16, .steps = 2000, .block = 5, .embed = 16, .hidden = 200};
    snprintf(d.tokenizer, sizeof d.tokenizer, "%s", source->is_tokens ? "gpt2" : "char");
    switch (arch) {
    case ARCH_BIGRAM: d.lr = 0.05f; return d;
    case ARCH_MLP: d.lr = 3e-3f; return d;
    default: return gpt2_defaults(source);
    }
}
