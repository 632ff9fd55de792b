// What a user does next with a BPE that loaded: encode a text that exercises every part of
// the pre-tokenizer (letters, digits, spaces, punctuation, a contraction, UTF-8, invalid
// UTF-8, the end-of-text marker) with and without special tokens, and require that the ids
// decode back to the text exactly and are all known tokens.
#ifndef TESTS_FUZZ_BPE_COMMON_H
#define TESTS_FUZZ_BPE_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_common.h"
#include "tokenizer/bpe.h"

static inline void fuzz_bpe_round_trip(const Bpe *bpe) {
    static const char text[] = "Hello, world! It's 2024: caf\xc3\xa9 \xe2\x82\xac\xff\n\n  <|endoftext|>x  y";
    size_t n = sizeof text - 1;
    for (int allow_special = 0; allow_special <= 1; allow_special++) {
        int *ids = NULL;
        size_t n_ids = 0;
        Error error = {{0}};
        fuzz_require(bpe_encode(bpe, (const unsigned char *)text, n, allow_special, &ids, &n_ids, &error) == 0,
                     "a tokenizer that loaded cannot encode");
        size_t length;
        for (size_t i = 0; i < n_ids; i++) fuzz_require(bpe_token(bpe, ids[i], &length) != NULL, "encode gave an unknown id");
        unsigned char *decoded = NULL;
        size_t n_decoded = 0;
        fuzz_require(bpe_decode(bpe, ids, n_ids, &decoded, &n_decoded, &error) == 0, "the ids do not decode");
        fuzz_require(n_decoded == n && memcmp(decoded, text, n) == 0, "decode(encode(text)) != text");
        free(decoded);
        free(ids);
    }
    fuzz_require(bpe_vocab_size(bpe) >= 256, "a loaded tokenizer with fewer than 256 tokens");
}

#endif
