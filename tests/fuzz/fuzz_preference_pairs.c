// libFuzzer harness: DPO's pairs file (gpt/dpo.h preference_set_read), JSON lines encoded with a
// tokenizer that knows every byte (so every text encodes) for a context of 12: what it accepts
// has pairs whose sequences fit the context, each completion at least one token.
#include "gpt/dpo.h"
#include "tests/fuzz/fuzz_common.h"

enum { CONTEXT = 12 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static TextTokenizer tokenizer;
    static int ready = 0;
    Error error = {{0}};
    if (!ready) {
        unsigned char bytes[256];
        for (int i = 0; i < 256; i++) bytes[i] = (unsigned char)i;
        fuzz_require(text_tokenizer_chars(&tokenizer, bytes, sizeof bytes, &error) == 0, "the byte tokenizer");
        ready = 1;
    }
    const char *path = fuzz_path(0, "pairs.jsonl");
    fuzz_write(path, data, size);
    PreferenceSet set;
    if (preference_set_read(&set, path, &tokenizer, CONTEXT, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    fuzz_require(set.n > 0, "a pairs file read with no pairs");
    for (int i = 0; i < set.n; i++) {
        const PreferencePair *p = &set.pairs[i];
        fuzz_require(p->n_prompt >= 1 && p->n_chosen >= 1 && p->n_rejected >= 1, "an empty part");
        fuzz_require(p->n_prompt + p->n_chosen - 1 <= CONTEXT && p->n_prompt + p->n_rejected - 1 <= CONTEXT,
                     "a sequence longer than the context");
    }
    preference_set_free(&set);
    return 0;
}
