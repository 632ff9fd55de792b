// Bad input to the tokenizer: missing, unreadable, truncated and inconsistent vocabulary
// files, impossible vocabulary sizes, empty training text, unknown ids. Each must fail with
// -1 and a message naming the file (where there is one) and the problem; none may crash.
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "tests/tokenizer_fixtures.h"
#include "tokenizer/bpe.h"

static void write_file(const char *path, const void *data, size_t n) {
    FILE *file = fopen(path, "wb");
    CHECK(file != NULL, "cannot create %s", path);
    if (!file) return;
    fwrite(data, 1, n, file);
    fclose(file);
}

// Checks status == -1 and that the message contains both `a` and `b` (NULL: not checked).
static void expect_error(const char *what, int status, const Error *error, const char *a, const char *b) {
    CHECK(status == -1, "%s: should fail", what);
    CHECK(!a || strstr(error->message, a), "%s: message '%s' should mention '%s'", what, error->message, a);
    CHECK(!b || strstr(error->message, b), "%s: message '%s' should mention '%s'", what, error->message, b);
}

static void test_gpt2_files(void) {
    Bpe bpe;
    Error error = {{0}};
    const char *encoder = "data/gpt2/encoder.json", *vocab = "data/gpt2/vocab.bpe";
    expect_error("missing encoder.json", bpe_load_gpt2(&bpe, "no/such/encoder.json", vocab, &error), &error,
                 "no/such/encoder.json", "No such file");
    expect_error("missing vocab.bpe", bpe_load_gpt2(&bpe, encoder, "no/such/vocab.bpe", &error), &error,
                 "no/such/vocab.bpe", "No such file");
    expect_error("directory as encoder.json", bpe_load_gpt2(&bpe, "data", vocab, &error), &error, "data", NULL);

    size_t n = 0;
    unsigned char *json = read_file(encoder, &n);
    CHECK(json != NULL, "cannot read %s", encoder);
    if (!json) return;
    const char *truncated = check_path("truncated.json");
    write_file(truncated, json, n / 2);
    expect_error("truncated encoder.json", bpe_load_gpt2(&bpe, truncated, vocab, &error), &error, truncated, NULL);
    write_file(truncated, json, 0);
    expect_error("empty encoder.json", bpe_load_gpt2(&bpe, truncated, vocab, &error), &error, truncated, "truncated");

    // Two tokens with the same id: give "\u0120the" the id of "the" (both exist).
    const char *duplicate = check_path("duplicate.json");
    const char *entry = strstr((const char *)json, "\"\\u0120the\": 262,");
    CHECK(entry != NULL, "encoder.json should hold \"\\u0120the\": 262");
    if (entry) {
        size_t prefix = (size_t)(entry - (const char *)json) + strlen("\"\\u0120the\": ");
        char *changed = malloc(n + 2);
        memcpy(changed, json, prefix);
        memcpy(changed + prefix, "1169", 4);  // the id of "the"
        memcpy(changed + prefix + 4, json + prefix + 3, n - prefix - 3);
        write_file(duplicate, changed, n + 1);
        expect_error("duplicate id", bpe_load_gpt2(&bpe, duplicate, vocab, &error), &error, duplicate, "duplicate id 1169");
        free(changed);
    }
    free(json);

    // Small encoder.json files that are wrong as JSON or as a vocabulary: one line naming the file.
    const char *small = check_path("small.json");
    const struct {
        const char *text, *expected;
    } cases[] = {
        {"{\"a\": 0, \"b\" 1}", "invalid JSON at byte"},
        {"{\"a\": 0, \"b\": ", "truncated JSON"},
        {"[\"a\", \"b\"]", "expected a JSON object of token: id"},
        {"{\"a\": 0} {}", "text after the JSON object"},
        {"{}", "no tokens"},
        {"{\"a\": 0, \"b\": \"1\"}", "entry 1 (\"b\"): the id is not an integer"},
        {"{\"a\": 0, \"b\": 1.5}", "the id is not an integer"},
        {"{\"a\": 0, \"b\": 7}", "id 7 is out of range for 2 tokens"},
        {"{\"a\": 0, \"b c\": 1}", "character U+0020 of token \"b c\" is not in GPT-2's byte alphabet"},
        {"{\"a\": 0, \"\": 1}", "entry 1: empty token"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_file(small, cases[k].text, strlen(cases[k].text));
        expect_error(cases[k].text, bpe_load_gpt2(&bpe, small, vocab, &error), &error, small, cases[k].expected);
        CHECK(!strchr(error.message, '\n'), "one line: %s", error.message);
    }

    // vocab.bpe: a merge of a token that does not exist, and a truncated file.
    unsigned char *merges = read_file(vocab, &n);
    CHECK(merges != NULL, "cannot read %s", vocab);
    if (!merges) return;
    const char *bad_merge = check_path("bad_merge.bpe");
    // A first merge "qqqqqq e": qqqqqq is no token.
    char *first_merge = strchr((char *)merges, '\n') + 1;
    size_t header = (size_t)(first_merge - (char *)merges);
    char *inserted = malloc(n + 16);
    memcpy(inserted, merges, header);
    memcpy(inserted + header, "qqqqqq e\n", 9);
    memcpy(inserted + header + 9, first_merge, n - header);
    write_file(bad_merge, inserted, n + 9);
    expect_error("merge of an unknown token", bpe_load_gpt2(&bpe, encoder, bad_merge, &error), &error, bad_merge,
                 "not in the vocabulary");
    free(inserted);
    free(merges);
    merges = read_file(vocab, &n);
    write_file(bad_merge, merges, n / 2);
    expect_error("truncated vocab.bpe", bpe_load_gpt2(&bpe, encoder, bad_merge, &error), &error, bad_merge, "merges");
    // Swapping two merge lines makes the ranks disagree with encoder.json's ids.
    char *second = strchr((char *)merges, '\n') + 1, *third = strchr(second, '\n') + 1;
    CHECK(strncmp(second, "\xc4\xa0 t\n", 5) == 0 && strncmp(third, "\xc4\xa0 a\n", 5) == 0,
          "first merges should be 'Ġ t', 'Ġ a'");
    second[3] = 'a', third[3] = 't';
    write_file(bad_merge, merges, n);
    expect_error("merges out of rank order", bpe_load_gpt2(&bpe, encoder, bad_merge, &error), &error, bad_merge, "ranks");
    free(merges);
    // Found by fuzzing: a token holding a newline (no GPT-2 character) is quoted escaped, so
    // the message stays one line.
    const char *newline = check_path("newline.json");
    static const char json_newline[] = "{\"a\\nb\": 0}";
    write_file(newline, json_newline, strlen(json_newline));
    expect_error("a newline in a token", bpe_load_gpt2(&bpe, newline, vocab, &error), &error, newline, "\"a\\nb\"");
    CHECK(strchr(error.message, '\n') == NULL, "one line: '%s'", error.message);
}

static void test_tiktoken_files(void) {
    Bpe bpe;
    Error error = {{0}};
    expect_error("missing .tiktoken", bpe_load_tiktoken(&bpe, "no/such.tiktoken", PATTERN_CL100K, &error), &error,
                 "no/such.tiktoken", NULL);
    // 256 byte tokens, then a duplicate rank.
    char text[256 * 16 + 64];
    size_t at = 0;
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int b = 0; b < 256; b++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%c%c== %d\n", alphabet[b >> 2], alphabet[(b & 3) << 4], b);
    const char *path = check_path("ranks.tiktoken");
    write_file(path, text, at);
    int status = bpe_load_tiktoken(&bpe, path, PATTERN_GPT2, &error);
    CHECK(status == 0, "256 byte ranks should load: %s", error.message);
    if (status == 0) bpe_free(&bpe);
    at += (size_t)snprintf(text + at, sizeof text - at, "YWI= 7\n");  // "ab" with rank 7, taken by byte 7
    write_file(path, text, at);
    expect_error("duplicate rank", bpe_load_tiktoken(&bpe, path, PATTERN_GPT2, &error), &error, path, "duplicate rank");
    memcpy(text + at - 7, "Y!I= 256\n", 9);
    write_file(path, text, at + 2);
    expect_error("bad base64", bpe_load_tiktoken(&bpe, path, PATTERN_GPT2, &error), &error, path, "line 257");
    char *line_101 = text;
    for (int k = 0; k < 100; k++) line_101 = strchr(line_101, '\n') + 1;
    write_file(path, text, (size_t)(line_101 - text));  // ranks 0..99 only: bytes missing
    expect_error("missing byte tokens", bpe_load_tiktoken(&bpe, path, PATTERN_GPT2, &error), &error, path, "byte");
}

static void test_own_format(void) {
    Bpe bpe, loaded;
    Error error = {{0}};
    const unsigned char text[] = "the cat sat on the mat with the hat";
    int status = bpe_train(&bpe, text, sizeof text - 1, 260, PATTERN_GPT2, NULL, NULL, &error);
    CHECK(status == 0, "train: %s", error.message);
    if (status != 0) return;
    const char *path = check_path("tokenizer.bpe");
    CHECK(bpe_save(&bpe, path, &error) == 0, "save: %s", error.message);
    bpe_free(&bpe);
    expect_error("missing file", bpe_load(&loaded, "no/such/file.bpe", &error), &error, "no/such/file.bpe", NULL);
    expect_error("directory", bpe_load(&loaded, "data", &error), &error, "data", NULL);
    size_t n = 0;
    unsigned char *saved = read_file(path, &n);
    const char *bad = check_path("bad.bpe");
    write_file(bad, saved, n - 30);
    expect_error("truncated", bpe_load(&loaded, bad, &error), &error, bad, "truncated");
    write_file(bad, "hello\n", 6);
    expect_error("not a tokenizer", bpe_load(&loaded, bad, &error), &error, bad, "not a groundup tokenizer");
    // Token 257 made identical to token 256 (line 260 repeats line 259).
    char *lines = (char *)saved, *line_256 = lines;
    for (int k = 0; k < 3 + 256; k++) line_256 = strchr(line_256, '\n') + 1;
    char *line_257 = strchr(line_256, '\n') + 1, *after_257 = strchr(line_257, '\n') + 1;
    size_t length_256 = (size_t)(line_257 - line_256);
    char *duplicate = malloc(n + length_256);
    size_t prefix = (size_t)(line_257 - lines);
    memcpy(duplicate, lines, prefix);
    memcpy(duplicate + prefix, line_256, length_256);
    memcpy(duplicate + prefix + length_256, after_257, n - (size_t)(after_257 - lines));
    write_file(bad, duplicate, prefix + length_256 + n - (size_t)(after_257 - lines));
    expect_error("duplicate tokens", bpe_load(&loaded, bad, &error), &error, bad, "same bytes");
    free(duplicate);
    line_256[0] = 'x';  // not hex
    write_file(bad, saved, n);
    expect_error("bad hex", bpe_load(&loaded, bad, &error), &error, bad, "line 260");
    free(saved);
}

static void test_training_and_ids(void) {
    Bpe bpe;
    Error error = {{0}};
    const unsigned char text[] = "abababab cdcd";
    expect_error("empty text", bpe_train(&bpe, text, 0, 300, PATTERN_GPT2, NULL, NULL, &error), &error, "empty", NULL);
    expect_error("vocab 100", bpe_train(&bpe, text, 13, 100, PATTERN_GPT2, NULL, NULL, &error), &error, "100", "256");
    expect_error("vocab -5", bpe_train(&bpe, text, 13, -5, PATTERN_GPT2, NULL, NULL, &error), &error, "-5", NULL);
    expect_error("too many merges", bpe_train(&bpe, text, 13, 1000, PATTERN_GPT2, NULL, NULL, &error), &error,
                 "more than this text allows", NULL);
    int status = bpe_train(&bpe, text, 13, 0, PATTERN_GPT2, NULL, NULL, &error);
    CHECK(status == 0, "train to the maximum: %s", error.message);
    if (status != 0) return;
    unsigned char *decoded = NULL;
    size_t n_decoded = 0;
    int bad_ids[] = {97, bpe.n_tokens};
    expect_error("unknown id", bpe_decode(&bpe, bad_ids, 2, &decoded, &n_decoded, &error), &error, "id", "position 1");
    int negative[] = {-1};
    expect_error("negative id", bpe_decode(&bpe, negative, 1, &decoded, &n_decoded, &error), &error, "-1", NULL);
    expect_error("special with an ordinary id", bpe_add_special(&bpe, "<|x|>", 5, &error), &error, "<|x|>", NULL);
    CHECK(bpe_add_special(&bpe, "<|x|>", bpe.n_tokens, &error) == 0, "add special: %s", error.message);
    expect_error("special twice", bpe_add_special(&bpe, "<|x|>", bpe.n_tokens + 1, &error), &error, "<|x|>", NULL);
    bpe_free(&bpe);
}

static void gpt2_files(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    test_gpt2_files();
}

static void tiktoken_files(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    test_tiktoken_files();
}

static void own_format(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    test_own_format();
}

static const CheckCase CASES[] = {
    {"GPT-2's files: missing, truncated, inconsistent", gpt2_files},
    {"tiktoken rank files", tiktoken_files},
    {"groundup's own format", own_format},
    {"training sizes, empty text, unknown ids", test_training_and_ids},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
