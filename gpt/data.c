// Training data (gpt/data.h): reading, splitting, tokenizing with a cache, token files, batches.
#include "gpt/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "foundations/file.h"

// ----------------------------------------------------------------------------
// token files (llm.c's format)

// The bytes per id of a token file's header, or 0 when the magic and version are not a
// layout this program reads.
static int token_bytes_of(const int32_t *header) {
    if (header[0] == TOKEN_FILE_MAGIC && header[1] == TOKEN_FILE_VERSION) return 2;
    if (header[0] == LLAMA3_TOKEN_FILE_MAGIC && header[1] == LLAMA3_TOKEN_FILE_VERSION) return 4;
    return 0;
}

// 1 when size bytes starting with header look like an llm.c token file whatever the magic:
// a non-negative count of 2- or 4-byte ids that exactly fills the file after the header.
static int shaped_like_token_file(const int32_t *header, long size) {
    long after = size - (long)sizeof(int32_t) * TOKEN_FILE_HEADER_INTS, count = header[2];
    return after >= 0 && count >= 0 && (after == 2 * count || after == 4 * count);
}

// "not a token file this program reads" with what the header says.
static int unknown_layout(const char *path, const int32_t *header, Error *error) {
    return error_set(error, "%s: an llm.c-style token file (magic %d, version %d, %d ids) in a layout this program "
                     "does not read (magic %d version %d: GPT-2's uint16 ids; magic %d version %d: Llama-3's uint32 ids)",
                     path, header[0], header[1], header[2], TOKEN_FILE_MAGIC, TOKEN_FILE_VERSION,
                     LLAMA3_TOKEN_FILE_MAGIC, LLAMA3_TOKEN_FILE_VERSION);
}

int token_file_read(const char *path, int **tokens, long *n, Error *error) {
    *tokens = NULL;
    *n = 0;
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open: %s", path, strerror(errno));
    int32_t header[TOKEN_FILE_HEADER_INTS];
    long size = file_size(file, path, error);
    int status = -1;
    void *raw = NULL;
    if (size < 0) goto done;
    if (read_exact(file, header, sizeof header, path, "the token-file header", error)) goto done;
    int width = token_bytes_of(header);
    if (!width) {
        if (header[0] == TOKEN_FILE_MAGIC || header[0] == LLAMA3_TOKEN_FILE_MAGIC || shaped_like_token_file(header, size))
            unknown_layout(path, header, error);
        else
            error_set(error, "%s: not a token file (magic %d, expected %d or %d)", path, header[0], TOKEN_FILE_MAGIC,
                      LLAMA3_TOKEN_FILE_MAGIC);
        goto done;
    }
    long count = header[2];
    if (count < 0 || size != (long)sizeof header + width * count) {
        error_set(error, "%s: the header says %ld tokens (%ld bytes) but the file has %ld bytes", path, count,
                  (long)sizeof header + width * count, size);
        goto done;
    }
    if (count == 0) {
        error_set(error, "%s: empty token file", path);
        goto done;
    }
    raw = malloc((size_t)width * (size_t)count);
    *tokens = malloc(sizeof(int) * (size_t)count);
    if (!raw || !*tokens) {
        error_set(error, "%s: out of memory for %ld tokens", path, count);
        goto done;
    }
    if (read_exact(file, raw, (size_t)width * (size_t)count, path, "the tokens", error)) goto done;
    for (long i = 0; i < count; i++) {
        uint32_t id = width == 2 ? ((const uint16_t *)raw)[i] : ((const uint32_t *)raw)[i];
        if (id > 0x7fffffffu) {
            error_set(error, "%s: token %ld has the id %u, too large for any vocabulary", path, i, id);
            goto done;
        }
        (*tokens)[i] = (int)id;
    }
    *n = count;
    status = 0;
done:
    if (status) {
        free(*tokens);
        *tokens = NULL;
    }
    free(raw);
    fclose(file);
    return status;
}

int token_file_write(const char *path, const int *tokens, long n, Error *error) {
    if (n > 0x7fffffffL) return error_set(error, "%s: %ld tokens do not fit a token file", path, n);
    for (long i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] > 65535)
            return error_set(error, "%s: token id %d does not fit a token file's uint16", path, tokens[i]);
    int32_t header[TOKEN_FILE_HEADER_INTS] = {TOKEN_FILE_MAGIC, TOKEN_FILE_VERSION, (int32_t)n};
    uint16_t *raw = malloc(sizeof(uint16_t) * (size_t)(n ? n : 1));
    if (!raw) return error_set(error, "%s: out of memory", path);
    for (long i = 0; i < n; i++) raw[i] = (uint16_t)tokens[i];
    SafeFile out;
    if (safe_file_open(&out, path, error)) {
        free(raw);
        return -1;
    }
    fwrite(header, sizeof header, 1, out.file);
    fwrite(raw, sizeof(uint16_t), (size_t)n, out.file);
    free(raw);
    return safe_file_commit(&out, error);
}

// ----------------------------------------------------------------------------
// reading a data file

// The held-out part starts just after the first newline at or after 90% of the text; with
// no newline there, at 90% moved forward to the start of a UTF-8 character.
static size_t text_split_point(const unsigned char *text, size_t n) {
    size_t split = n - n / 10;
    const unsigned char *newline = memchr(text + split, '\n', n - split);
    if (newline && (size_t)(newline - text) + 1 < n) return (size_t)(newline - text) + 1;
    while (split < n && (text[split] & 0xC0) == 0x80) split++;
    return split;
}

int data_source_load(DataSource *source, const char *path, Error *error) {
    memset(source, 0, sizeof *source);
    if (strlen(path) >= sizeof source->path) return error_set(error, "%s: path too long", path);
    snprintf(source->path, sizeof source->path, "%s", path);
    unsigned char *data = NULL;
    size_t size = 0;
    if (file_read_all(path, &data, &size, error)) return -1;
    if (size == 0) {
        free(data);
        return error_set(error, "%s: empty file", path);
    }
    int32_t header[TOKEN_FILE_HEADER_INTS] = {0};
    if (size >= sizeof header) memcpy(header, data, sizeof header);
    if (header[0] == TOKEN_FILE_MAGIC || header[0] == LLAMA3_TOKEN_FILE_MAGIC ||
        shaped_like_token_file(header, (long)size)) {
        free(data);
        source->is_tokens = 1;
        if (token_file_read(path, &source->tokens, &source->n_tokens, error)) return -1;
        source->hash = fnv1a(FNV_OFFSET, source->tokens, sizeof(int) * (size_t)source->n_tokens);
        return 0;
    }
    source->text = data;  // with a 0 byte after the text
    source->n_text = size;
    source->split = text_split_point(source->text, source->n_text);
    source->hash = fnv1a(FNV_OFFSET, source->text, source->n_text);
    return 0;
}

void data_source_free(DataSource *source) {
    free(source->text);
    free(source->tokens);
    memset(source, 0, sizeof *source);
}

// ----------------------------------------------------------------------------
// tokenizer and cache

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// <cache_dir>/<data file name>.<hash as 16 hex digits><suffix>
static void cache_path(char *out, size_t size, const char *cache_dir, const DataSource *source, uint64_t hash,
                       const char *suffix) {
    snprintf(out, size, "%s/%s.%016llx%s", cache_dir, base_name(source->path), (unsigned long long)hash, suffix);
}

static int file_exists(const char *path) {
    struct stat info;
    return stat(path, &info) == 0;
}

int data_make_tokenizer(const DataSource *source, const char *spec, const char *data_directory,
                        const char *cache_dir, TextTokenizer *tokenizer, Error *error) {
    memset(tokenizer, 0, sizeof *tokenizer);
    if (strcmp(spec, "gpt2") == 0) return text_tokenizer_gpt2(tokenizer, data_directory, error);
    int is_char = strcmp(spec, "char") == 0, is_bpe = strncmp(spec, "bpe:", 4) == 0;
    if (source->is_tokens && (is_char || is_bpe))
        return error_set(error, "%s: a token file needs the tokenizer that made it (--tokenizer gpt2 or a file), not %s",
                         source->path, spec);
    if (is_char) return text_tokenizer_chars(tokenizer, source->text, source->n_text, error);
    if (!is_bpe) return text_tokenizer_load(tokenizer, spec, error);

    char *end = NULL;
    long vocab_size = strtol(spec + 4, &end, 10);
    if (end == spec + 4 || *end || vocab_size < 256 || vocab_size > 65536)
        return error_set(error, "tokenizer '%s': expected bpe:N with 256 <= N <= 65536", spec);
    char path[1200] = "";
    if (cache_dir) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, ".bpe%ld.tok", vocab_size);
        cache_path(path, sizeof path, cache_dir, source, source->hash, suffix);
        if (file_exists(path) && text_tokenizer_load(tokenizer, path, error) == 0 &&
            text_vocab_size(tokenizer) == vocab_size)
            return 0;
        text_tokenizer_free(tokenizer);
    }
    if (text_tokenizer_train_bpe(tokenizer, source->text, source->split, (int)vocab_size, error)) return -1;
    if (cache_dir) {
        if (make_directories(cache_dir, error) || text_tokenizer_save(tokenizer, path, error)) {
            text_tokenizer_free(tokenizer);
            return -1;
        }
    }
    return 0;
}

// The hash that names a cached tokenization: the data's bytes, where they are split, and the
// tokenizer's serialised form. Any of them changed gives another cache.
static int tokenization_hash(const DataSource *source, const TextTokenizer *tokenizer, uint64_t *hash, Error *error) {
    char *buffer = NULL;
    size_t size = 0;
    FILE *memory = open_memstream(&buffer, &size);
    if (!memory) return error_set(error, "out of memory");
    int status = text_tokenizer_write(tokenizer, memory, error);
    fclose(memory);
    uint64_t split = source->split;
    if (status == 0) *hash = fnv1a(fnv1a(source->hash, &split, sizeof split), buffer, size);
    free(buffer);
    return status;
}

static int check_ids(const int *ids, long n, int V, const char *path, Error *error) {
    for (long i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return error_set(error, "%s: token id %d at %ld is outside the tokenizer's vocabulary of %d", path, ids[i], i, V);
    return 0;
}

// text[n] -> ids with a leading start token when with_start.
static int encode_part(const TextTokenizer *tokenizer, const unsigned char *text, size_t n, int with_start, int **ids,
                       long *n_ids, const char *path, Error *error) {
    int *encoded = NULL;
    size_t n_encoded = 0;
    if (text_encode(tokenizer, text, n, &encoded, &n_encoded, error)) return error_prefix(error, "%s", path);
    if (!with_start) {
        *ids = encoded;
        *n_ids = (long)n_encoded;
        return 0;
    }
    *ids = malloc(sizeof(int) * (n_encoded + 1));
    if (!*ids) {
        free(encoded);
        return error_set(error, "%s: out of memory", path);
    }
    (*ids)[0] = text_start_token(tokenizer);
    memcpy(*ids + 1, encoded, sizeof(int) * n_encoded);
    *n_ids = (long)n_encoded + 1;
    free(encoded);
    return 0;
}

// Bytes that ids[1..n) decode to.
static int decoded_bytes(const TextTokenizer *tokenizer, const int *ids, long n, long *bytes, Error *error) {
    unsigned char *text = NULL;
    size_t n_text = 0;
    if (text_decode(tokenizer, ids + 1, (size_t)(n - 1), &text, &n_text, error)) return -1;
    free(text);
    *bytes = (long)n_text;
    return 0;
}

int dataset_init(Dataset *dataset, const DataSource *source, const TextTokenizer *tokenizer, const char *cache_dir,
                  Error *error) {
    memset(dataset, 0, sizeof *dataset);
    int V = text_vocab_size(tokenizer);
    if (source->is_tokens) {
        long n_val = source->n_tokens / 10;
        long n_train = source->n_tokens - n_val;
        dataset->train = malloc(sizeof(int) * (size_t)(n_train ? n_train : 1));
        dataset->val = malloc(sizeof(int) * (size_t)(n_val ? n_val : 1));
        if (!dataset->train || !dataset->val) {
            dataset_free(dataset);
            return error_set(error, "%s: out of memory", source->path);
        }
        memcpy(dataset->train, source->tokens, sizeof(int) * (size_t)n_train);
        memcpy(dataset->val, source->tokens + n_train, sizeof(int) * (size_t)n_val);
        dataset->n_train = n_train;
        dataset->n_val = n_val;
        if (check_ids(source->tokens, source->n_tokens, V, source->path, error) ||
            (n_val > 1 && decoded_bytes(tokenizer, dataset->val, n_val, &dataset->val_bytes, error))) {
            dataset_free(dataset);
            return -1;
        }
        return 0;
    }

    char train_path[1200] = "", val_path[1200] = "";
    if (cache_dir) {
        uint64_t hash = 0;
        if (tokenization_hash(source, tokenizer, &hash, error)) return -1;
        cache_path(train_path, sizeof train_path, cache_dir, source, hash, ".train.bin");
        cache_path(val_path, sizeof val_path, cache_dir, source, hash, ".val.bin");
        if (file_exists(train_path) && file_exists(val_path)) {
            Error ignored;  // an unreadable cache is rebuilt, not an error
            if (token_file_read(train_path, &dataset->train, &dataset->n_train, &ignored) == 0 &&
                token_file_read(val_path, &dataset->val, &dataset->n_val, &ignored) == 0 &&
                check_ids(dataset->train, dataset->n_train, V, train_path, &ignored) == 0 &&
                check_ids(dataset->val, dataset->n_val, V, val_path, &ignored) == 0) {
                dataset->val_bytes = (long)(source->n_text - source->split);
                return 0;
            }
            dataset_free(dataset);
        }
    }
    if (encode_part(tokenizer, source->text, source->split, 0, &dataset->train, &dataset->n_train, source->path, error) ||
        encode_part(tokenizer, source->text + source->split, source->n_text - source->split, 1, &dataset->val,
                    &dataset->n_val, source->path, error)) {
        dataset_free(dataset);
        return -1;
    }
    dataset->val_bytes = (long)(source->n_text - source->split);
    if (cache_dir && V <= 65536) {
        if (make_directories(cache_dir, error) || token_file_write(train_path, dataset->train, dataset->n_train, error) ||
            token_file_write(val_path, dataset->val, dataset->n_val, error)) {
            dataset_free(dataset);
            return -1;
        }
    }
    return 0;
}

int dataset_init_heldout(Dataset *dataset, const DataSource *source, const TextTokenizer *tokenizer, int whole,
                          Error *error) {
    memset(dataset, 0, sizeof *dataset);
    if (source->is_tokens) {
        long start = whole ? 0 : source->n_tokens - source->n_tokens / 10;
        long n = source->n_tokens - start;
        dataset->val = malloc(sizeof(int) * (size_t)(n ? n : 1));
        if (!dataset->val) return error_set(error, "%s: out of memory", source->path);
        memcpy(dataset->val, source->tokens + start, sizeof(int) * (size_t)n);
        dataset->n_val = n;
        if (check_ids(dataset->val, n, text_vocab_size(tokenizer), source->path, error) ||
            (n > 1 && decoded_bytes(tokenizer, dataset->val, n, &dataset->val_bytes, error))) {
            dataset_free(dataset);
            return -1;
        }
        return 0;
    }
    size_t start = whole ? 0 : source->split;
    if (encode_part(tokenizer, source->text + start, source->n_text - start, 1, &dataset->val, &dataset->n_val,
                    source->path, error))
        return -1;
    dataset->val_bytes = (long)(source->n_text - start);
    return 0;
}

void dataset_free(Dataset *dataset) {
    free(dataset->train);
    free(dataset->val);
    memset(dataset, 0, sizeof *dataset);
}

// ----------------------------------------------------------------------------
// batches

// One window start in [0, n_starts), uniform.
static long sample_start(long n_starts, Random *rng) {
    return n_starts > 0xffffffffL ? (long)(random_uniform_double(rng) * n_starts)
                                  : (long)random_below(rng, (uint32_t)n_starts);
}

static void copy_window(const int *tokens, long start, int T, int *inputs, int *targets) {
    memcpy(inputs, tokens + start, sizeof(int) * (size_t)T);
    memcpy(targets, tokens + start + 1, sizeof(int) * (size_t)T);
}

void data_sample_batch(const int *tokens, long n, int B, int T, Random *rng, int *inputs, int *targets) {
    // n - T possible starts: 0 .. n-T-1, each leaving T+1 ids.
    for (int b = 0; b < B; b++)
        copy_window(tokens, sample_start(n - T, rng), T, inputs + (long)b * T, targets + (long)b * T);
}

void data_sample_starts(long n, int B, int T, Random *rng, long *starts) {
    for (int b = 0; b < B; b++) starts[b] = sample_start(n - T, rng);
}

void data_copy_windows(const int *tokens, const long *starts, int count, int T, int *inputs, int *targets) {
    for (int b = 0; b < count; b++) copy_window(tokens, starts[b], T, inputs + (long)b * T, targets + (long)b * T);
}

long data_window_count(long n, int T) { return T > 0 && n > 1 ? (n - 1) / T : 0; }
