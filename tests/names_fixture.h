// The fixture of the stage tests (bigram, eval, train): data/names.txt (one name a line),
// its character tokenizer and its dataset (the first 90% of the bytes train, the rest is
// held out, as gpt/data.h splits a text). A header, not a test.
#ifndef TESTS_NAMES_FIXTURE_H
#define TESTS_NAMES_FIXTURE_H

#include <string.h>

#include "gpt/data.h"
#include "tests/check.h"

typedef struct Names {
    DataSource source;
    TextTokenizer tokenizer;
    Dataset data;
    int V;  // the vocabulary: 28 (a-z, '-' and newline)
} Names;

// 0, or -1 after a failed check said why (the case then REQUIREs it).
static inline int names_load(Names *names) {
    Error error = {{0}};
    memset(names, 0, sizeof *names);
    int ok = data_source_load(&names->source, "data/names.txt", &error) == 0 &&
             text_tokenizer_chars(&names->tokenizer, names->source.text, names->source.n_text, &error) == 0 &&
             dataset_init(&names->data, &names->source, &names->tokenizer, NULL, &error) == 0;
    CHECK(ok, "%s", error.message);
    names->V = ok ? text_vocab_size(&names->tokenizer) : 0;
    return ok ? 0 : -1;
}

static inline void names_free(Names *names) {
    dataset_free(&names->data);
    text_tokenizer_free(&names->tokenizer);
    data_source_free(&names->source);
}

#endif
