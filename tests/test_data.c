// Data: llm.c token files (write, read, header checks), the deterministic split, the char
// tokenizer's exact round trip and its serialisation, the token cache, batches, and bad
// input (missing, empty, malformed files; a token file with a char tokenizer).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpt/data.h"
#include "tests/check.h"

static void write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(bytes, 1, n, f);
    fclose(f);
}

// Token files: the layout is llm.c's, byte for byte; a wrong version or a count that does
// not match the length is an error.
static void token_files_are_llmc_layout(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Error error = {{0}};
    char path[256];
    int ids[5] = {0, 1, 65535, 50256, 7};
    snprintf(path, sizeof path, "%s/tokens.bin", check_directory());
    CHECK(token_file_write(path, ids, 5, &error) == 0, "%s", error.message);
    FILE *f = fopen(path, "rb");
    REQUIRE(f, "cannot open %s", path);
    int32_t header[256];
    uint16_t body[5];
    CHECK(fread(header, 4, 256, f) == 256 && fread(body, 2, 5, f) == 5 && fgetc(f) == EOF, "file is 1024 + 10 bytes");
    fclose(f);
    CHECK(header[0] == 20240520 && header[1] == 1 && header[2] == 5, "header %d %d %d", header[0], header[1], header[2]);
    CHECK(body[2] == 65535 && body[3] == 50256, "uint16 body");
    int *read_ids = NULL;
    long n_read = 0;
    CHECK(token_file_read(path, &read_ids, &n_read, &error) == 0 && n_read == 5 && memcmp(read_ids, ids, sizeof ids) == 0,
          "token file round trip");
    free(read_ids);
    int too_big = 70000;
    CHECK(token_file_write(path, &too_big, 1, &error) != 0, "id 70000 does not fit uint16");
    header[1] = 2;
    write_bytes(path, header, sizeof header);
    CHECK(token_file_read(path, &read_ids, &n_read, &error) != 0 && strstr(error.message, "version"), "%s", error.message);
    header[1] = 1;
    header[2] = 1000;
    write_bytes(path, header, sizeof header);
    DataSource source;
    CHECK(data_source_load(&source, path, &error) != 0 && strstr(error.message, "1000 tokens"), "%s", error.message);
}

// llm.c's Llama-3 layout (magic 20240801, version 7, uint32 ids) is read; a file shaped like
// a token file (1 KiB int32 header, a count that fills the rest) with another magic is
// refused with what its header says, not tokenized as text.
static void other_token_file_layouts(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Error error = {{0}};
    char path[256];
    snprintf(path, sizeof path, "%s/llama3.bin", check_directory());
    struct {
        int32_t header[256];
        uint32_t ids[4];
    } llama3 = {{20240801, 7, 4}, {128000, 9906, 1917, 0}};
    write_bytes(path, &llama3, sizeof llama3);
    DataSource source;
    REQUIRE(data_source_load(&source, path, &error) == 0, "%s", error.message);
    CHECK(source.is_tokens && source.n_tokens == 4 && source.tokens[0] == 128000 && source.tokens[2] == 1917,
          "Llama-3 ids read: %d tokens, first %d", (int)source.n_tokens, source.n_tokens ? source.tokens[0] : -1);
    data_source_free(&source);
    struct {
        int32_t header[256];
        uint16_t ids[6];
    } other = {{20240521, 1, 6}, {1, 2, 3, 4, 5, 6}};
    snprintf(path, sizeof path, "%s/badmagic.bin", check_directory());
    write_bytes(path, &other, sizeof other);
    CHECK(data_source_load(&source, path, &error) != 0 && strstr(error.message, "magic 20240521, version 1, 6 ids") &&
              strstr(error.message, "does not read"),
          "another magic: %s", error.message);
    other.header[0] = 20240801;  // Llama-3's magic with GPT-2's version
    write_bytes(path, &other, sizeof other);
    CHECK(data_source_load(&source, path, &error) != 0 && strstr(error.message, "does not read"), "mixed header: %s",
          error.message);
}

static void missing_and_empty_files_are_errors(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Error error = {{0}};
    DataSource source;
    CHECK(data_source_load(&source, "/nonexistent/text.txt", &error) != 0 && strstr(error.message, "/nonexistent/text.txt"),
          "missing: %s", error.message);
    char path[256];
    snprintf(path, sizeof path, "%s/empty.txt", check_directory());
    write_bytes(path, "", 0);
    CHECK(data_source_load(&source, path, &error) != 0 && strstr(error.message, "empty"), "empty: %s", error.message);
}

// names.txt with the tokenizer data_make_tokenizer makes for "char".
static int names_by_char_spec(DataSource *source, TextTokenizer *tokenizer) {
    Error error = {{0}};
    int ok = data_source_load(source, "data/names.txt", &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    ok = data_make_tokenizer(source, "char", NULL, NULL, tokenizer, &error) == 0;
    CHECK(ok, "%s", error.message);
    return ok ? 0 : -1;
}

// A text: split after the newline that follows 90%, char tokenizer, exact round trip, an
// unknown byte named, the tokenizer saved and loaded.
static void split_and_char_tokenizer(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Error error = {{0}};
    DataSource source;
    TextTokenizer tokenizer;
    REQUIRE(names_by_char_spec(&source, &tokenizer) == 0, "cannot load the names");
    CHECK(source.split >= source.n_text - source.n_text / 10 && source.text[source.split - 1] == '\n', "split after a newline");
    size_t split = source.split;
    DataSource again;
    data_source_load(&again, "data/names.txt", &error);
    CHECK(again.split == split && again.hash == source.hash, "deterministic");
    data_source_free(&again);
    CHECK(text_vocab_size(&tokenizer) == 28, "28 symbols");
    CHECK(tokenizer.chars[0] == '\n' && tokenizer.chars[1] == '-' && tokenizer.chars[2] == 'a', "ids in byte order");
    int *encoded = NULL;
    size_t n_encoded = 0;
    unsigned char *decoded = NULL;
    size_t n_decoded = 0;
    CHECK(text_encode(&tokenizer, source.text, source.n_text, &encoded, &n_encoded, &error) == 0, "%s", error.message);
    CHECK(text_decode(&tokenizer, encoded, n_encoded, &decoded, &n_decoded, &error) == 0, "%s", error.message);
    CHECK(n_decoded == source.n_text && memcmp(decoded, source.text, n_decoded) == 0, "exact round trip");
    free(encoded);
    free(decoded);
    CHECK(text_encode(&tokenizer, (const unsigned char *)"ABC", 3, &encoded, &n_encoded, &error) != 0 &&
              strstr(error.message, "0x41"),
          "unknown byte named: %s", error.message);
    char path[256];
    snprintf(path, sizeof path, "%s/chars.tok", check_directory());
    CHECK(text_tokenizer_save(&tokenizer, path, &error) == 0, "%s", error.message);
    TextTokenizer loaded;
    CHECK(text_tokenizer_load(&loaded, path, &error) == 0 && loaded.n_chars == 28 &&
              memcmp(loaded.chars, tokenizer.chars, 28) == 0,
          "char tokenizer file round trip: %s", error.message);
    text_tokenizer_free(&loaded);
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
}

// Dataset with the cache: the second build reads the cache and gets the same ids; the
// cache files are llm.c token files named after the data.
static void the_cache_gives_the_same_ids(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Error error = {{0}};
    DataSource source;
    TextTokenizer tokenizer;
    REQUIRE(names_by_char_spec(&source, &tokenizer) == 0, "cannot load the names");
    size_t split = source.split;
    char cache[256];
    snprintf(cache, sizeof cache, "%s/cache", check_directory());
    Dataset first, second;
    REQUIRE(dataset_init(&first, &source, &tokenizer, cache, &error) == 0, "%s", error.message);
    CHECK(first.val[0] == text_start_token(&tokenizer), "held-out ids start with the start token");
    CHECK(first.val_bytes == (long)(source.n_text - split), "held-out bytes");
    CHECK(first.n_train == (long)split && first.n_val == (long)(source.n_text - split) + 1, "one id per byte, plus start");
    REQUIRE(dataset_init(&second, &source, &tokenizer, cache, &error) == 0, "%s", error.message);
    CHECK(second.n_train == first.n_train && memcmp(second.train, first.train, sizeof(int) * first.n_train) == 0 &&
              second.n_val == first.n_val && memcmp(second.val, first.val, sizeof(int) * first.n_val) == 0,
          "cache gives the same ids");
    char listing[512];
    snprintf(listing, sizeof listing, "ls %s | grep -c '^names.txt\\.[0-9a-f]\\{16\\}\\.\\(train\\|val\\)\\.bin$'", cache);
    FILE *ls = popen(listing, "r");
    int n_files = 0;
    CHECK(ls && fscanf(ls, "%d", &n_files) == 1 && n_files == 2, "two cache files, found %d", n_files);
    if (ls) pclose(ls);
    dataset_free(&first);
    dataset_free(&second);
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
}

// The ids of source's split under tokenizer, computed without a cache.
static int fresh_ids(const DataSource *source, const TextTokenizer *tokenizer, Dataset *out) {
    Error error = {{0}};
    int ok = dataset_init(out, source, tokenizer, NULL, &error) == 0;
    CHECK(ok, "%s", error.message);
    return ok ? 0 : -1;
}

static int same_ids(const Dataset *a, const Dataset *b) {
    return a->n_train == b->n_train && a->n_val == b->n_val &&
           memcmp(a->train, b->train, sizeof(int) * (size_t)a->n_train) == 0 &&
           memcmp(a->val, b->val, sizeof(int) * (size_t)a->n_val) == 0;
}

// The cache key: a char run then a bpe:300 run in one cache folder must give bpe:300's ids
// (not the char run's, still on disk); a changed text or a changed split gives new ids too.
static void the_cache_key_is_text_split_and_tokenizer(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Error error = {{0}};
    DataSource source;
    TextTokenizer chars, bpe;
    REQUIRE(data_source_load(&source, "data/names.txt", &error) == 0, "%s", error.message);
    REQUIRE(data_make_tokenizer(&source, "char", NULL, NULL, &chars, &error) == 0, "%s", error.message);
    REQUIRE(data_make_tokenizer(&source, "bpe:300", NULL, NULL, &bpe, &error) == 0, "%s", error.message);
    const char *cache = check_path("key-cache");
    Dataset cached_chars, cached_bpe, expected;
    REQUIRE(dataset_init(&cached_chars, &source, &chars, cache, &error) == 0, "%s", error.message);
    REQUIRE(dataset_init(&cached_bpe, &source, &bpe, cache, &error) == 0, "%s", error.message);
    REQUIRE(fresh_ids(&source, &bpe, &expected) == 0, "bpe ids");
    CHECK(same_ids(&cached_bpe, &expected), "a changed tokenizer reads its own cache");
    CHECK(cached_bpe.n_train < cached_chars.n_train, "bpe:300 makes fewer ids than chars");
    dataset_free(&expected), dataset_free(&cached_bpe);
    // Another split of the same text (as a changed split rule would make).
    source.split -= 100;
    while (source.split > 0 && source.text[source.split - 1] != '\n') source.split--;
    Dataset moved;
    REQUIRE(dataset_init(&moved, &source, &chars, cache, &error) == 0, "%s", error.message);
    REQUIRE(fresh_ids(&source, &chars, &expected) == 0, "moved split ids");
    CHECK(same_ids(&moved, &expected) && moved.n_train < cached_chars.n_train, "a changed split gives new ids");
    dataset_free(&expected), dataset_free(&moved);
    // Another text: one byte changed.
    source.text[10] = source.text[10] == 'a' ? 'b' : 'a';
    source.hash = fnv1a(FNV_OFFSET, source.text, source.n_text);
    Dataset changed;
    REQUIRE(dataset_init(&changed, &source, &chars, cache, &error) == 0, "%s", error.message);
    REQUIRE(fresh_ids(&source, &chars, &expected) == 0, "changed text ids");
    CHECK(same_ids(&changed, &expected), "a changed text gives new ids");
    dataset_free(&expected), dataset_free(&changed), dataset_free(&cached_chars);
    text_tokenizer_free(&chars), text_tokenizer_free(&bpe), data_source_free(&source);
}

// Batches: windows of T+1 consecutive ids; a window at the very end is possible and never
// overruns (n = T+1: one start).
static void batches_are_windows_of_consecutive_ids(void) {
    Error error = {{0}};
    DataSource source;
    TextTokenizer tokenizer;
    REQUIRE(names_by_char_spec(&source, &tokenizer) == 0, "cannot load the names");
    Dataset first;
    REQUIRE(dataset_init(&first, &source, &tokenizer, NULL, &error) == 0, "%s", error.message);
    Random rng;
    random_seed(&rng, 1);
    int inputs[4 * 8], targets[4 * 8];
    data_sample_batch(first.train, first.n_train, 4, 8, &rng, inputs, targets);
    for (int b = 0; b < 4; b++)
        for (int t = 0; t < 7; t++) CHECK(targets[b * 8 + t] == inputs[b * 8 + t + 1], "targets are inputs shifted");
    data_sample_batch(first.train, 9, 4, 8, &rng, inputs, targets);
    CHECK(memcmp(inputs, first.train, sizeof(int) * 8) == 0 && targets[7] == first.train[8], "single window");
    dataset_free(&first);
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
}

// Data-parallel shares: the starts of a global batch, copied share by share (2 ranks x 2
// accumulation steps of 3 windows), give exactly data_sample_batch's 12 windows from the same
// generator, and leave the generator where it does (so the next step agrees too).
static void shares_of_a_global_batch_are_its_windows(void) {
    Error error = {{0}};
    DataSource source;
    TextTokenizer tokenizer;
    REQUIRE(names_by_char_spec(&source, &tokenizer) == 0, "cannot load the names");
    Dataset data;
    REQUIRE(dataset_init(&data, &source, &tokenizer, NULL, &error) == 0, "%s", error.message);
    enum { B = 12, T = 5, SHARE = 3 };
    Random whole_rng, shares_rng;
    random_seed(&whole_rng, 7);
    random_seed(&shares_rng, 7);
    for (int step = 0; step < 2; step++) {
        int inputs[B * T], targets[B * T], share_inputs[B * T], share_targets[B * T];
        data_sample_batch(data.train, data.n_train, B, T, &whole_rng, inputs, targets);
        long starts[B];
        data_sample_starts(data.n_train, B, T, &shares_rng, starts);
        for (int share = 0; share < B / SHARE; share++)
            data_copy_windows(data.train, starts + share * SHARE, SHARE, T, share_inputs + share * SHARE * T,
                              share_targets + share * SHARE * T);
        CHECK(memcmp(inputs, share_inputs, sizeof inputs) == 0 && memcmp(targets, share_targets, sizeof targets) == 0,
              "step %d: the shares are the batch's windows", step);
    }
    CHECK(whole_rng.state == shares_rng.state, "the generators agree after the draws");
    CHECK(data_window_count(data.n_train, T) == (data.n_train - 1) / T && data_window_count(9, 8) == 1 &&
              data_window_count(8, 8) == 0, "non-overlapping windows");
    dataset_free(&data);
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
}

// A token file trains with GPT-2's tokenizer id space but not with char or bpe:N; the
// held-out part of a token file is its last 10%; ids beyond the tokenizer are errors.
static void a_token_file_needs_its_tokenizer(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Error error = {{0}};
    DataSource source;
    TextTokenizer tokenizer;
    REQUIRE(names_by_char_spec(&source, &tokenizer) == 0, "cannot load the names");
    char path[256];
    snprintf(path, sizeof path, "%s/text.bin", check_directory());
    int small[20];
    for (int i = 0; i < 20; i++) small[i] = 100 + i;
    token_file_write(path, small, 20, &error);
    DataSource tokens;
    REQUIRE(data_source_load(&tokens, path, &error) == 0 && tokens.is_tokens && tokens.n_tokens == 20, "%s", error.message);
    TextTokenizer wrong;
    CHECK(data_make_tokenizer(&tokens, "char", NULL, NULL, &wrong, &error) != 0, "char on a token file rejected");
    Dataset token_data;
    CHECK(dataset_init(&token_data, &tokens, &tokenizer, NULL, &error) != 0 && strstr(error.message, "vocabulary"),
          "ids beyond a 28-symbol vocabulary: %s", error.message);
    data_source_free(&tokens);
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
}

static void bpe_specs_are_checked(void) {
    Error error = {{0}};
    DataSource source;
    TextTokenizer tokenizer, wrong;
    REQUIRE(names_by_char_spec(&source, &tokenizer) == 0, "cannot load the names");
    CHECK(data_make_tokenizer(&source, "bpe:12", NULL, NULL, &wrong, &error) != 0, "bpe:12 rejected");
    CHECK(data_make_tokenizer(&source, "bpe:x", NULL, NULL, &wrong, &error) != 0, "bpe:x rejected");
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
}

static const CheckCase CASES[] = {
    {"token files are llm.c's layout", token_files_are_llmc_layout},
    {"other token file layouts", other_token_file_layouts},
    {"missing and empty files are errors", missing_and_empty_files_are_errors},
    {"the split and the char tokenizer", split_and_char_tokenizer},
    {"the cache gives the same ids", the_cache_gives_the_same_ids},
    {"the cache key is text, split and tokenizer", the_cache_key_is_text_split_and_tokenizer},
    {"batches are windows of consecutive ids", batches_are_windows_of_consecutive_ids},
    {"shares of a global batch are its windows", shares_of_a_global_batch_are_its_windows},
    {"a token file needs its tokenizer", a_token_file_needs_its_tokenizer},
    {"bpe:N specs are checked", bpe_specs_are_checked},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
