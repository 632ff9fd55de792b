// libFuzzer harness: llm.c's token files, GPT-2 (uint16) and Llama-3 (uint32) layouts (gpt/data.h
// token_file_read), and the data reader that tells them from text (data_source_load), then a
// batch sampled from what was read.
#include <stdlib.h>

#include "gpt/data.h"
#include "tests/fuzz/fuzz_common.h"

static void sample_a_batch(const int *tokens, long n) {
    enum { B = 2, T = 4 };
    if (n < T + 1) return;
    int inputs[B * T], targets[B * T];
    Random rng;
    random_seed(&rng, 1);
    data_sample_batch(tokens, n, B, T, &rng, inputs, targets);
    for (int i = 0; i < B * T; i++) fuzz_require(inputs[i] >= 0 && targets[i] >= 0, "a sampled id is negative");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(0, "tokens.bin");
    fuzz_write(path, data, size);
    int *tokens = NULL;
    long n = 0;
    Error error = {{0}};
    if (token_file_read(path, &tokens, &n, &error)) {
        fuzz_check_error(&error, path);
    } else {
        fuzz_require(n > 0, "a token file read with no tokens");
        sample_a_batch(tokens, n);
        free(tokens);
    }
    DataSource source;
    if (data_source_load(&source, path, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    if (source.is_tokens) sample_a_batch(source.tokens, source.n_tokens);
    else fuzz_require(source.split <= source.n_text, "the split is past the end of the text");
    data_source_free(&source);
    return 0;
}
