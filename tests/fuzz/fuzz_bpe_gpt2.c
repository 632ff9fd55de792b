// libFuzzer harness: GPT-2's tokenizer files (tokenizer/bpe.h bpe_load_gpt2). The input is
// encoder.json, a NUL byte, then vocab.bpe (no NUL: all of it is encoder.json and vocab.bpe
// is empty); a tokenizer that loads must encode and decode a text exactly.
#include "tests/fuzz/fuzz_bpe_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *encoder = fuzz_path(0, "encoder.json"), *vocab = fuzz_path(1, "vocab.bpe");
    const uint8_t *separator = memchr(data, '\0', size);
    size_t encoder_size = separator ? (size_t)(separator - data) : size;
    fuzz_write(encoder, data, encoder_size);
    fuzz_write(vocab, data + encoder_size + (separator != NULL), size - encoder_size - (separator != NULL));
    Bpe bpe;
    Error error = {{0}};
    if (bpe_load_gpt2(&bpe, encoder, vocab, &error)) {
        fuzz_check_error(&error, "groundup-fuzz-");
        return 0;
    }
    fuzz_bpe_round_trip(&bpe);
    bpe_free(&bpe);
    return 0;
}
