// libFuzzer harness: checkpoints read for generation and evaluation (gpt/checkpoint.h
// checkpoint_load_for_inference: groundup's format with the weights memory-mapped, or an
// llm.c checkpoint), then used: the prompt encoded, the next token's logits computed. The
// header checksum is recomputed as in fuzz_checkpoint_load.c.
#include "gpt/checkpoint.h"
#include "tests/fuzz/fuzz_checkpoint_fix.h"
#include "tests/fuzz/fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(0, "checkpoint");
    uint8_t *fixed = fuzz_checkpoint_fix_checksum(data, size);
    fuzz_write(path, fixed, size);
    free(fixed);
    Model model;
    TextTokenizer tokenizer;
    char data_path[1024];
    Error error = {{0}};
    if (checkpoint_load_for_inference(path, NULL, &model, &tokenizer, data_path, sizeof data_path, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    fuzz_require(memchr(data_path, '\0', sizeof data_path) != NULL, "the data path is not a string");
    fuzz_use_model(&model, &tokenizer);
    model_free(&model);
    text_tokenizer_free(&tokenizer);
    return 0;
}
