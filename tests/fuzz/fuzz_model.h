// What a user does next with a model that loaded: tokenize a short prompt with its tokenizer
// (when it has one), decode the ids back, and compute the next token's logits once. Kept
// cheap: the forward runs only on models of up to a million parameters.
#ifndef TESTS_FUZZ_MODEL_H
#define TESTS_FUZZ_MODEL_H

#include <stdlib.h>
#include <string.h>

#include "gpt/model.h"
#include "gpt/text.h"
#include "tests/fuzz/fuzz_common.h"

enum { FUZZ_MAX_FORWARD_PARAMS = 1000000 };

// The logits after ids[n] (n >= 1, every id in the vocabulary).
static inline void fuzz_next_logits(Model *model, const int *ids, int n) {
    if (model->n_params > FUZZ_MAX_FORWARD_PARAMS || n < 1) return;
    if (n > model->config.context_length) n = model->config.context_length;
    float *logits = malloc(sizeof(float) * (size_t)model->config.vocab_size);
    fuzz_require(logits != NULL, "out of memory for the logits");
    Error error = {{0}};
    if (model->ops->next_logits(model, ids, n, logits, &error)) fuzz_check_error(&error, NULL);
    free(logits);
}

// Encodes a prompt, checks that it decodes back, and runs the model on it (tokenizer NULL:
// on the token 0).
static inline void fuzz_use_model(Model *model, const TextTokenizer *tokenizer) {
    if (!tokenizer) {
        int token = 0;
        fuzz_next_logits(model, &token, 1);
        return;
    }
    static const char prompt[] = "Call me Ishmael.\n";
    int *ids = NULL;
    size_t n_ids = 0;
    Error error = {{0}};
    if (text_encode(tokenizer, (const unsigned char *)prompt, strlen(prompt), &ids, &n_ids, &error)) {
        fuzz_check_error(&error, NULL);  // a char tokenizer without one of the prompt's bytes
        int token = text_start_token(tokenizer);
        fuzz_next_logits(model, &token, 1);
        return;
    }
    unsigned char *text = NULL;
    size_t n_text = 0;
    fuzz_require(text_decode(tokenizer, ids, n_ids, &text, &n_text, &error) == 0, "the prompt's ids do not decode");
    fuzz_require(n_text == strlen(prompt) && memcmp(text, prompt, n_text) == 0, "the prompt does not round-trip");
    free(text);
    int in_vocabulary = 1;
    for (size_t i = 0; i < n_ids; i++) in_vocabulary &= ids[i] >= 0 && ids[i] < model->config.vocab_size;
    fuzz_require(in_vocabulary, "the tokenizer gives ids outside the model's vocabulary");
    fuzz_next_logits(model, ids, (int)n_ids);
    free(ids);
}

#endif
