// libFuzzer harness: the text tokenizer's serialised form, as a checkpoint embeds it (gpt/text.h
// text_tokenizer_read, here from memory as the checkpoint reader does), then a prompt encoded
// and decoded exactly (a char tokenizer may lack the prompt's bytes: an error, then).
#include <stdlib.h>
#include <string.h>

#include "gpt/text.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;  // fmemopen needs a byte; the checkpoint reader gives it one
    uint8_t *copy = malloc(size);
    fuzz_require(copy != NULL, "out of memory for the input");
    memcpy(copy, data, size);
    FILE *file = fmemopen(copy, size, "r");
    fuzz_require(file != NULL, "fmemopen failed");
    TextTokenizer tokenizer;
    Error error = {{0}};
    int status = text_tokenizer_read(&tokenizer, file, "fuzz.ckpt", &error);
    fclose(file);
    free(copy);
    if (status) {
        fuzz_check_error(&error, "fuzz.ckpt");
        return 0;
    }
    static const char prompt[] = "Call me Ishmael. <|endoftext|>\n";
    int *ids = NULL;
    size_t n_ids = 0;
    if (text_encode(&tokenizer, (const unsigned char *)prompt, strlen(prompt), &ids, &n_ids, &error) == 0) {
        unsigned char *text = NULL;
        size_t n_text = 0;
        fuzz_require(text_decode(&tokenizer, ids, n_ids, &text, &n_text, &error) == 0, "the ids do not decode");
        fuzz_require(n_text == strlen(prompt) && memcmp(text, prompt, n_text) == 0, "the prompt does not round-trip");
        for (size_t i = 0; i < n_ids; i++)
            fuzz_require(ids[i] >= 0 && ids[i] < text_vocab_size(&tokenizer), "an id outside the vocabulary");
        free(text);
        free(ids);
    } else {
        fuzz_check_error(&error, NULL);
    }
    int start = text_start_token(&tokenizer);
    fuzz_require(start >= 0 && start < text_vocab_size(&tokenizer), "the start token is outside the vocabulary");
    text_tokenizer_free(&tokenizer);
    return 0;
}
