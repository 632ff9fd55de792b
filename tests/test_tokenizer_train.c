// BPE training and round trips:
//   - the classic worked example "aaabdaaabac" (Wikipedia's byte pair encoding article),
//     merges checked by hand;
//   - the fast incremental trainer against a naive one written here (recount every pair
//     for every merge, O(n·V)), on Moby-Dick text and on random text over a tiny alphabet
//     (many ties, overlapping runs like "aaaa", and pairs whose bytes are already a token);
//   - decode(encode(x)) == x on random byte strings, invalid UTF-8 included, for trained
//     tokenizers of every pattern and for GPT-2's;
//   - saving and loading (to a file, and embedded in a larger FILE*) keep every token.
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "foundations/random.h"
#include "tests/check.h"
#include "tests/tokenizer_fixtures.h"
#include "tokenizer/bpe.h"

// ------------------------------------------------------------------ the naive trainer

// Tokens as byte strings: bytes[k][0..lengths[k]).
typedef struct NaiveVocabulary {
    unsigned char **bytes;
    size_t *lengths;
    int count;
} NaiveVocabulary;

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

// The same rules as tokenizer/train.c, the slow and obvious way: chunks from the same
// pre-tokenizer; every merge recounts all adjacent pairs of all chunks (occurrences of a
// chunk counted one by one, no deduplication); the highest count wins, ties to the smaller
// left id then the smaller right id; the pair is replaced left to right; if its bytes are
// already a token, that token is reused. Stops at vocab_size tokens or when no pair is left.
static NaiveVocabulary naive_train(const unsigned char *text, size_t n, int vocab_size, int pattern) {
    int *symbols = malloc(sizeof(int) * n);
    size_t *chunk_ends = malloc(sizeof(size_t) * (n + 1));
    size_t n_chunks = 0;
    for (size_t start = 0; start < n;) {
        size_t end = pretokenize_chunk_end(text, n, start, pattern);
        chunk_ends[n_chunks++] = end;
        start = end;
    }
    for (size_t k = 0; k < n; k++) symbols[k] = text[k];
    // Chunk c holds symbols[chunk_start .. chunk_start + chunk_length[c]), compacted in place.
    size_t *chunk_length = malloc(sizeof(size_t) * n_chunks);
    for (size_t c = 0; c < n_chunks; c++) chunk_length[c] = chunk_ends[c] - (c ? chunk_ends[c - 1] : 0);

    NaiveVocabulary v;
    v.bytes = malloc(sizeof(unsigned char *) * (size_t)vocab_size);
    v.lengths = malloc(sizeof(size_t) * (size_t)vocab_size);
    for (int b = 0; b < 256; b++) {
        v.bytes[b] = malloc(1);
        v.bytes[b][0] = (unsigned char)b;
        v.lengths[b] = 1;
    }
    v.count = 256;
    // Every adjacent pair as one number left * 2^32 + right; sorted, equal pairs are
    // neighbours, and the first longest run is the best pair (smaller ids sort first).
    uint64_t *pairs = malloc(sizeof(uint64_t) * (n + 1));
    while (v.count < vocab_size) {
        size_t n_pairs = 0;
        for (size_t c = 0, start = 0; c < n_chunks; start = chunk_ends[c], c++)
            for (size_t k = 0; k + 1 < chunk_length[c]; k++)
                pairs[n_pairs++] = (uint64_t)symbols[start + k] << 32 | (uint64_t)symbols[start + k + 1];
        qsort(pairs, n_pairs, sizeof(uint64_t), compare_u64);
        size_t best = 0;
        int best_left = -1, best_right = -1;
        for (size_t k = 0; k < n_pairs;) {
            size_t run = 1;
            while (k + run < n_pairs && pairs[k + run] == pairs[k]) run++;
            if (run > best) best = run, best_left = (int)(pairs[k] >> 32), best_right = (int)(pairs[k] & 0xFFFFFFFFu);
            k += run;
        }
        if (best == 0) break;
        size_t length = v.lengths[best_left] + v.lengths[best_right];
        unsigned char *merged = malloc(length);
        memcpy(merged, v.bytes[best_left], v.lengths[best_left]);
        memcpy(merged + v.lengths[best_left], v.bytes[best_right], v.lengths[best_right]);
        int token = -1;
        for (int k = 0; k < v.count && token < 0; k++)
            if (v.lengths[k] == length && memcmp(v.bytes[k], merged, length) == 0) token = k;
        if (token < 0) {
            token = v.count++;
            v.bytes[token] = merged;
            v.lengths[token] = length;
        } else {
            free(merged);
        }
        for (size_t c = 0, start = 0; c < n_chunks; start = chunk_ends[c], c++) {
            size_t out = 0;
            for (size_t k = 0; k < chunk_length[c]; k++) {
                if (k + 1 < chunk_length[c] && symbols[start + k] == best_left && symbols[start + k + 1] == best_right) {
                    symbols[start + out++] = token;
                    k++;
                } else {
                    symbols[start + out++] = symbols[start + k];
                }
            }
            chunk_length[c] = out;
        }
    }
    free(pairs), free(symbols), free(chunk_ends), free(chunk_length);
    return v;
}

static void naive_free(NaiveVocabulary *v) {
    for (int k = 0; k < v->count; k++) free(v->bytes[k]);
    free(v->bytes), free(v->lengths);
}

static void check_against_naive(const char *name, const unsigned char *text, size_t n, int vocab_size, int pattern) {
    NaiveVocabulary naive = naive_train(text, n, vocab_size, pattern);
    Bpe bpe;
    Error error = {{0}};
    // The naive trainer may run out of pairs first; then so must the fast one.
    int status = bpe_train(&bpe, text, n, naive.count, pattern, NULL, NULL, &error);
    CHECK(status == 0, "%s: training failed: %s", name, error.message);
    if (status == 0) {
        CHECK(bpe.n_tokens == naive.count, "%s: %d tokens, naive %d", name, bpe.n_tokens, naive.count);
        int first_difference = -1;
        for (int id = 0; id < bpe.n_tokens && id < naive.count && first_difference < 0; id++) {
            size_t length;
            const unsigned char *token = bpe_token(&bpe, id, &length);
            if (length != naive.lengths[id] || memcmp(token, naive.bytes[id], length) != 0) first_difference = id;
        }
        CHECK(first_difference < 0, "%s: token %d differs from the naive trainer's", name, first_difference);
        bpe_free(&bpe);
    }
    if (naive.count < vocab_size) {
        status = bpe_train(&bpe, text, n, naive.count + 1, pattern, NULL, NULL, &error);
        CHECK(status != 0 && strstr(error.message, "more than this text allows"),
              "%s: asking one token more than the text allows should fail", name);
        if (status == 0) bpe_free(&bpe);
    }
    naive_free(&naive);
}

// ------------------------------------------------------------------ round trips

static void check_round_trip(const Bpe *bpe, const char *name, const unsigned char *text, size_t n) {
    int *ids = NULL;
    size_t n_ids = 0;
    unsigned char *decoded = NULL;
    size_t n_decoded = 0;
    Error error = {{0}};
    int ok = bpe_encode(bpe, text, n, 0, &ids, &n_ids, &error) == 0 &&
             bpe_decode(bpe, ids, n_ids, &decoded, &n_decoded, &error) == 0;
    CHECK(ok && n_decoded == n && memcmp(decoded, text, n) == 0, "%s: round trip of %zu bytes failed %s", name, n,
          error.message);
    for (size_t k = 0; ok && k < n_ids; k++) CHECK(ids[k] >= 0 && ids[k] < bpe->n_tokens, "%s: id %d", name, ids[k]);
    free(ids), free(decoded);
}

// Random bytes of three kinds: uniform bytes (mostly invalid UTF-8), ASCII words and
// spaces, and pieces of valid multi-byte UTF-8 mixed with stray continuation bytes.
static size_t random_text(Random *rng, unsigned char *out, size_t max_length) {
    size_t n = random_below(rng, (uint32_t)max_length + 1);
    int kind = (int)random_below(rng, 3);
    static const char *pieces[] = {"a", "b", " ", "  ", "\n", "\r\n", "\t", "'s", "'ll", "12", "é", "—", "日本", "\xe2\x80",
                                   "\xf0\x9f\x98\x80", "\x80", "\xff", "\xc3", "Ω", "\xc2\xa0", "x", "The", "'"};
    size_t at = 0;
    while (at < n) {
        if (kind == 0) {
            out[at++] = (unsigned char)random_below(rng, 256);
        } else {
            const char *piece = pieces[random_below(rng, kind == 1 ? 10 : (uint32_t)(sizeof pieces / sizeof *pieces))];
            for (size_t k = 0; piece[k] && at < n; k++) out[at++] = (unsigned char)piece[k];
        }
    }
    return n;
}

// ------------------------------------------------------------------ saving and loading

static int same_tokenizer(const Bpe *a, const Bpe *b) {
    if (a->n_tokens != b->n_tokens || a->pattern != b->pattern || a->n_specials != b->n_specials) return 0;
    for (int id = 0; id < bpe_vocab_size(a); id++) {
        size_t length_a = 0, length_b = 0;
        const unsigned char *token_a = bpe_token(a, id, &length_a), *token_b = bpe_token(b, id, &length_b);
        if (!token_a != !token_b || length_a != length_b || (token_a && memcmp(token_a, token_b, length_a) != 0)) return 0;
    }
    return 1;
}

static void check_save_load(const Bpe *bpe, const char *directory) {
    char path[512];
    snprintf(path, sizeof path, "%s/tokenizer.bpe", directory);
    Error error = {{0}};
    Bpe loaded;
    CHECK(bpe_save(bpe, path, &error) == 0, "save: %s", error.message);
    int status = bpe_load(&loaded, path, &error);
    CHECK(status == 0, "load: %s", error.message);
    if (status == 0) {
        CHECK(same_tokenizer(bpe, &loaded), "saved and loaded tokenizers differ");
        bpe_free(&loaded);
    }
    remove(path);
    // Embedded in a larger file: bpe_read stops after its "end" line.
    FILE *file = tmpfile();
    CHECK(file != NULL, "tmpfile");
    if (!file) return;
    fputs("header of a checkpoint\n", file);
    CHECK(bpe_write(bpe, file, &error) == 0, "write: %s", error.message);
    fputs("after the tokenizer\n", file);
    rewind(file);
    char line[64];
    CHECK(fgets(line, sizeof line, file) != NULL, "read back the header");
    status = bpe_read(&loaded, file, "embedded", &error);
    CHECK(status == 0, "read: %s", error.message);
    CHECK(fgets(line, sizeof line, file) && strcmp(line, "after the tokenizer\n") == 0, "bpe_read read too far");
    if (status == 0) {
        CHECK(same_tokenizer(bpe, &loaded), "written and read tokenizers differ");
        bpe_free(&loaded);
    }
    fclose(file);
}

// ------------------------------------------------------------------ the tests

static void test_worked_example(void) {
    // "aaabdaaabac": (a,a) occurs 4 times (overlapping) -> 256 "aa"; "ZabdZabac" has (Z,a)
    // and (a,b) twice each, the tie goes to the smaller left id, 'a' = 97 -> 257 "ab";
    // then (256, 257) twice -> 258 "aaab". Text: 258 'd' 258 'a' 'c'.
    const unsigned char text[] = "aaabdaaabac";
    Bpe bpe;
    Error error = {{0}};
    int status = bpe_train(&bpe, text, 11, 259, PATTERN_NONE, NULL, NULL, &error);
    CHECK(status == 0, "train: %s", error.message);
    if (status != 0) return;
    const char *expected[] = {"aa", "ab", "aaab"};
    for (int k = 0; k < 3; k++) {
        size_t length;
        const unsigned char *token = bpe_token(&bpe, 256 + k, &length);
        CHECK(token && length == strlen(expected[k]) && memcmp(token, expected[k], length) == 0, "token %d should be %s",
              256 + k, expected[k]);
    }
    int *ids = NULL;
    size_t n_ids = 0;
    CHECK(bpe_encode(&bpe, text, 11, 0, &ids, &n_ids, &error) == 0, "encode: %s", error.message);
    const int expected_ids[] = {258, 'd', 258, 'a', 'c'};
    CHECK(n_ids == 5 && memcmp(ids, expected_ids, sizeof expected_ids) == 0, "aaabdaaabac encodes to %zu ids", n_ids);
    free(ids);
    bpe_free(&bpe);
}

// The fast trainer against the naive one: slices of Moby-Dick with each pattern, and small
// random texts over {a, b, space} (long runs, many ties, repeated byte strings from
// different pairs).
static void fast_trainer_equals_the_naive_one(void) {
    size_t book_length = 0;
    unsigned char *book = read_file("data/mobydick.txt", &book_length);
    REQUIRE(book != NULL, "cannot read data/mobydick.txt");
    check_against_naive("moby-dick 6 KB, gpt2 pattern", book + 100000, 6000, 256 + 300, PATTERN_GPT2);
    check_against_naive("moby-dick 3 KB, cl100k pattern", book + 200000, 3000, 256 + 200, PATTERN_CL100K);
    check_against_naive("moby-dick 2 KB, no pattern", book + 300000, 2000, 256 + 200, PATTERN_NONE);
    Random rng;
    random_seed(&rng, 7);
    unsigned char small[1500];
    for (int trial = 0; trial < 6; trial++) {
        size_t n = 300 + random_below(&rng, 1200);
        for (size_t k = 0; k < n; k++) small[k] = (unsigned char)"aab "[random_below(&rng, trial < 3 ? 2 : 4)];
        char name[64];
        snprintf(name, sizeof name, "random text %d (%zu bytes)", trial, n);
        check_against_naive(name, small, n, 256 + 400, trial % 2 ? PATTERN_GPT2 : PATTERN_NONE);
    }
    free(book);
}

// Round trips on random bytes and on the book with trained tokenizers of each pattern;
// each saved, loaded, written and read back.
static void trained_tokenizers_round_trip(void) {
    size_t book_length = 0;
    unsigned char *book = read_file("data/mobydick.txt", &book_length);
    REQUIRE(book != NULL, "cannot read data/mobydick.txt");
    const char *directory = check_directory();
    REQUIRE(directory[0], "no temporary directory");
    Random rng;
    random_seed(&rng, 8);
    unsigned char text[3000];
    for (int pattern = PATTERN_NONE; pattern <= PATTERN_CL100K; pattern++) {
        Bpe bpe;
        Error error = {{0}};
        int status = bpe_train(&bpe, book, 100000, 256 + 1000, pattern, NULL, NULL, &error);
        CHECK(status == 0, "train %s: %s", pattern_name(pattern), error.message);
        if (status != 0) continue;
        for (int trial = 0; trial < 100; trial++) {
            size_t n = random_text(&rng, text, sizeof text);
            check_round_trip(&bpe, pattern_name(pattern), text, n);
        }
        check_round_trip(&bpe, "book", book, book_length / 4);
        CHECK(bpe_add_special(&bpe, "<|endoftext|>", bpe.n_tokens, &error) == 0, "add special: %s", error.message);
        check_save_load(&bpe, directory);
        bpe_free(&bpe);
    }
    free(book);
}

// Round trips on random bytes with GPT-2's tokenizer; saved, loaded, written and read back.
static void gpt2_round_trips(void) {
    const char *directory = check_directory();
    REQUIRE(directory[0], "no temporary directory");
    Random rng;
    random_seed(&rng, 9);
    unsigned char text[3000];
    Bpe gpt2;
    Error error = {{0}};
    int status = bpe_load_gpt2(&gpt2, "data/gpt2/encoder.json", "data/gpt2/vocab.bpe", &error);
    CHECK(status == 0, "GPT-2: %s", error.message);
    if (status == 0) {
        for (int trial = 0; trial < 200; trial++) {
            size_t n = random_text(&rng, text, sizeof text);
            check_round_trip(&gpt2, "gpt2", text, n);
        }
        check_save_load(&gpt2, directory);
        bpe_free(&gpt2);
    }
}

// Training to every merge the text allows leaves each distinct chunk one token.
static void training_to_every_merge(void) {
    size_t book_length = 0;
    unsigned char *book = read_file("data/mobydick.txt", &book_length);
    REQUIRE(book != NULL, "cannot read data/mobydick.txt");
    Bpe full;
    Error error = {{0}};
    int status = bpe_train(&full, book, 20000, 0, PATTERN_GPT2, NULL, NULL, &error);
    CHECK(status == 0, "train to the maximum: %s", error.message);
    if (status == 0) {
        size_t chunks = 0;
        for (size_t start = 0; start < 20000; chunks++) start = pretokenize_chunk_end(book, 20000, start, PATTERN_GPT2);
        int *ids = NULL;
        size_t n_ids = 0;
        CHECK(bpe_encode(&full, book, 20000, 0, &ids, &n_ids, &error) == 0, "encode: %s", error.message);
        CHECK(n_ids == chunks, "fully trained: %zu ids for %zu chunks", n_ids, chunks);
        free(ids);
        bpe_free(&full);
    }
    free(book);
}

static const CheckCase CASES[] = {
    {"the worked example (aaabdaaabac)", test_worked_example},
    {"the fast trainer equals the naive one", fast_trainer_equals_the_naive_one},
    {"trained tokenizers round-trip, save and load", trained_tokenizers_round_trip},
    {"GPT-2's tokenizer round-trips, saves and loads", gpt2_round_trips},
    {"training to every merge leaves each chunk one token", training_to_every_merge},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
