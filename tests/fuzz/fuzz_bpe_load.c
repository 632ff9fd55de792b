// libFuzzer harness: groundup's own tokenizer files (tokenizer/bpe.h bpe_load, which reads
// with bpe_read), then a text encoded and decoded exactly, and the tokenizer written out and
// read back the same.
#include "tests/fuzz/fuzz_bpe_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(0, "tokenizer.bpe");
    fuzz_write(path, data, size);
    Bpe bpe;
    Error error = {{0}};
    if (bpe_load(&bpe, path, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    fuzz_bpe_round_trip(&bpe);
    char *written = NULL;
    size_t n_written = 0;
    FILE *memory = open_memstream(&written, &n_written);
    fuzz_require(memory && bpe_write(&bpe, memory, &error) == 0, "a loaded tokenizer cannot be written");
    fclose(memory);
    Bpe again;
    FILE *reader = fmemopen(written, n_written, "r");
    fuzz_require(reader && bpe_read(&again, reader, "written", &error) == 0, "a written tokenizer does not read back");
    fclose(reader);
    fuzz_require(again.n_tokens == bpe.n_tokens && again.n_specials == bpe.n_specials, "read back differs");
    bpe_free(&again);
    free(written);
    bpe_free(&bpe);
    return 0;
}
