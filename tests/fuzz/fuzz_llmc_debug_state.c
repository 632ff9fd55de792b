// libFuzzer harness: llm.c's debug states (gpt/gpt2.h llmc_read_debug_state) for a tiny GPT-2
// (fuzz_tiny.h), then what test_gpt2 does with one: a forward and backward on its batch.
#include <stdlib.h>
#include <string.h>

#include "gpt/gpt2.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_tiny.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static Model model;
    static int initialised = 0;
    Error error = {{0}};
    if (!initialised) {
        Random rng;
        random_seed(&rng, 1);
        fuzz_require(model_init(&model, &FUZZ_TINY_GPT2, &rng, &error) == 0, "cannot make the tiny GPT-2");
        initialised = 1;
    }
    const char *path = fuzz_path(0, "state.bin");
    fuzz_write(path, data, size);
    DebugState state;
    if (llmc_read_debug_state(&state, &model, path, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    fuzz_require(model_prepare(&model, state.B, state.T, 1, &error) == 0, "cannot prepare the tiny GPT-2");
    memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
    fuzz_require(model.ops->forward(&model, state.inputs, state.targets, state.B, state.T, &error) == 0,
                 "forward on a debug state that loaded failed");
    fuzz_require(model_backward(&model, &error) == 0, "backward on a debug state that loaded failed");
    debug_state_free(&state);
    return 0;
}
