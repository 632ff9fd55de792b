// The tiny GPT-2 the debug-state harness reads states for (and make_corpus.c writes them for).
#ifndef TESTS_FUZZ_TINY_H
#define TESTS_FUZZ_TINY_H

#include "gpt/model.h"

static const ModelConfig FUZZ_TINY_GPT2 = {
    .arch = ARCH_GPT2, .vocab_size = 20, .context_length = 8, .n_layers = 1, .n_heads = 2, .d_model = 8};

#endif
