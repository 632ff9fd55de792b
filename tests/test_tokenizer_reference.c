// The tokenizer against OpenAI's tiktoken: every fixture case and the whole of Moby-Dick,
// id for id, with GPT-2's files (encoding "gpt2") and with cl100k_base's rank file.
// The expected ids were produced by tiktoken itself (tests/fixtures/tokenizer/README.md).
#include <string.h>

#include "tests/check.h"
#include "tests/tokenizer_fixtures.h"
#include "tokenizer/bpe.h"

enum { N_CASES = 43 };

// Encodes text and compares with expected; also checks that decoding gives text back.
static void check_encoding(const Bpe *bpe, const char *name, const unsigned char *text, size_t n, int allow_special,
                           const int *expected, size_t n_expected) {
    int *ids = NULL;
    size_t n_ids = 0;
    Error error = {{0}};
    int status = bpe_encode(bpe, text, n, allow_special, &ids, &n_ids, &error);
    CHECK(status == 0, "%s: encode failed: %s", name, error.message);
    if (status != 0) return;
    size_t first_difference = 0;
    while (first_difference < n_ids && first_difference < n_expected && ids[first_difference] == expected[first_difference])
        first_difference++;
    CHECK(n_ids == n_expected && first_difference == n_ids, "%s: %zu ids (expected %zu), first difference at %zu: %d vs %d",
          name, n_ids, n_expected, first_difference, first_difference < n_ids ? ids[first_difference] : -1,
          first_difference < n_expected ? expected[first_difference] : -1);
    unsigned char *decoded = NULL;
    size_t n_decoded = 0;
    status = bpe_decode(bpe, ids, n_ids, &decoded, &n_decoded, &error);
    CHECK(status == 0 && n_decoded == n && memcmp(decoded, text, n) == 0, "%s: decode(encode(text)) != text", name);
    free(decoded);
    free(ids);
}

static void check_cases(const Bpe *bpe, const char *suffix) {
    char path[256], name[64];
    for (int k = 1; k <= N_CASES; k++) {
        size_t n = 0, n_expected = 0;
        snprintf(path, sizeof path, "tests/fixtures/tokenizer/cases/case_%02d.txt", k);
        unsigned char *text = read_file(path, &n);
        snprintf(path, sizeof path, "tests/fixtures/tokenizer/cases/case_%02d.%s", k, suffix);
        int *expected = read_id_lines(path, &n_expected);
        CHECK(text && expected, "cannot read case %d", k);
        if (text && expected) {
            snprintf(name, sizeof name, "case_%02d.%s", k, suffix);
            check_encoding(bpe, name, text, n, 0, expected, n_expected);
        }
        free(text), free(expected);
    }
    // Case 29 holds "<|endoftext|>": ordinary text above, a special token when allowed.
    size_t n = 0, n_expected = 0;
    unsigned char *text = read_file("tests/fixtures/tokenizer/cases/case_29.txt", &n);
    snprintf(path, sizeof path, "tests/fixtures/tokenizer/cases/case_29.%s.allow_special", suffix);
    int *expected = read_id_lines(path, &n_expected);
    CHECK(text && expected, "cannot read case 29 with special tokens");
    if (text && expected) {
        snprintf(name, sizeof name, "case_29.%s.allow_special", suffix);
        check_encoding(bpe, name, text, n, 1, expected, n_expected);
    }
    free(text), free(expected);
}

static void check_book(const Bpe *bpe, const char *ids_path) {
    size_t n = 0, n_expected = 0;
    unsigned char *text = read_file("data/mobydick.txt", &n);
    int *expected = read_id_binary(ids_path, &n_expected);
    CHECK(text && expected, "cannot read data/mobydick.txt or %s", ids_path);
    if (text && expected) check_encoding(bpe, ids_path, text, n, 0, expected, n_expected);
    free(text), free(expected);
}

static void gpt2_matches_tiktoken(void) {
    Error error = {{0}};
    Bpe gpt2;
    int status = bpe_load_gpt2(&gpt2, "data/gpt2/encoder.json", "data/gpt2/vocab.bpe", &error);
    REQUIRE(status == 0, "loading GPT-2: %s", error.message);
    CHECK(gpt2.n_tokens == 50256 && bpe_vocab_size(&gpt2) == 50257, "GPT-2 has %d + specials, vocab %d", gpt2.n_tokens,
          bpe_vocab_size(&gpt2));
    // Byte tokens follow GPT-2's byte-to-unicode order: '!' is 0, ' ' 220, '\n' 198.
    CHECK(gpt2.byte_tokens['!'] == 0 && gpt2.byte_tokens[' '] == 220 && gpt2.byte_tokens['\n'] == 198,
          "byte tokens: ! %d, space %d, newline %d", gpt2.byte_tokens['!'], gpt2.byte_tokens[' '], gpt2.byte_tokens['\n']);
    check_cases(&gpt2, "gpt2");
    check_book(&gpt2, "tests/fixtures/tokenizer/mobydick.gpt2.bin");
    bpe_free(&gpt2);
}

static void cl100k_matches_tiktoken(void) {
    Error error = {{0}};
    Bpe cl100k;
    int status = bpe_load_tiktoken(&cl100k, "tests/fixtures/tokenizer/cl100k_base/cl100k_base.tiktoken", PATTERN_CL100K,
                                   &error);
    REQUIRE(status == 0, "loading cl100k_base: %s", error.message);
    const char *names[] = {"<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|endofprompt|>"};
    const int ids[] = {100257, 100258, 100259, 100260, 100276};
    for (int k = 0; k < 5; k++) CHECK(bpe_add_special(&cl100k, names[k], ids[k], &error) == 0, "%s", error.message);
    CHECK(cl100k.n_tokens == 100256, "cl100k has %d ordinary tokens", cl100k.n_tokens);
    check_cases(&cl100k, "cl100k");
    check_book(&cl100k, "tests/fixtures/tokenizer/mobydick.cl100k.bin");
    bpe_free(&cl100k);
}

static const CheckCase CASES[] = {
    {"GPT-2 matches tiktoken, id for id", gpt2_matches_tiktoken},
    {"cl100k_base matches tiktoken, id for id", cl100k_matches_tiktoken},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
