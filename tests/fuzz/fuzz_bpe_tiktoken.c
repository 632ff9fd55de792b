// libFuzzer harness: tiktoken's rank files (tokenizer/bpe.h bpe_load_tiktoken, cl100k's
// pattern), then a special token added and a text encoded and decoded exactly.
#include "tests/fuzz/fuzz_bpe_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(0, "ranks.tiktoken");
    fuzz_write(path, data, size);
    Bpe bpe;
    Error error = {{0}};
    if (bpe_load_tiktoken(&bpe, path, PATTERN_CL100K, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    if (bpe_add_special(&bpe, "<|endoftext|>", bpe.n_tokens, &error)) fuzz_check_error(&error, NULL);
    fuzz_bpe_round_trip(&bpe);
    bpe_free(&bpe);
    return 0;
}
