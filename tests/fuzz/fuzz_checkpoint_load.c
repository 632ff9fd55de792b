// libFuzzer harness: groundup checkpoints read for training (gpt/checkpoint.h checkpoint_load,
// with the training state), then used: the prompt encoded, the next token's logits computed.
//
// The header carries an FNV-1a checksum of itself, the tokenizer and the tensor table, which
// random mutations would almost never keep right, so the harness recomputes it over the
// fuzzer's bytes (where the header's offsets allow) before writing the file: a corrupt file
// with a correct checksum is what a buggy writer produces, and it reaches every check after
// the checksum's.
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
    TrainState training;
    int has_training = 0;
    Error error = {{0}};
    if (checkpoint_load(path, &model, &tokenizer, &training, &has_training, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    fuzz_use_model(&model, &tokenizer);
    if (has_training) train_state_free(&training);
    model_free(&model);
    text_tokenizer_free(&tokenizer);
    return 0;
}
