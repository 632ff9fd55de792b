// libFuzzer harness: llm.c's GPT-2 checkpoints (gpt/gpt2.h llmc_read_checkpoint), then the
// next token's logits after token 0 when the model is small.
#include "gpt/gpt2.h"
#include "tests/fuzz/fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(0, "llmc.bin");
    fuzz_write(path, data, size);
    Model model;
    Error error = {{0}};
    if (llmc_read_checkpoint(&model, path, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    fuzz_use_model(&model, NULL);
    model_free(&model);
    return 0;
}
