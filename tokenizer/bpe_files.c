// Tokenizer files: groundup's own format (documented in bpe.h), GPT-2's released
// encoder.json + vocab.bpe, and tiktoken's .tiktoken rank files. Every reader checks
// what it reads and says which file, which line and what is wrong.
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/array.h"
#include "foundations/file.h"
#include "foundations/hex.h"
#include "tokenizer/bpe.h"

// ------------------------------------------------------------------ helpers

// A list of tokens under construction: bytes back to back, and where each starts.
typedef struct TokenList {
    unsigned char *bytes;
    size_t used, capacity;
    size_t *offsets;   // (count + 1)
    size_t *lengths;   // (count)
    int count, slots;
} TokenList;

static void token_list_free(TokenList *list) {
    free(list->bytes), free(list->offsets), free(list->lengths);
    memset(list, 0, sizeof *list);
}

// Reserves room for `count` tokens, all empty (length 0 marks a token not seen yet).
static int token_list_init(TokenList *list, int count) {
    memset(list, 0, sizeof *list);
    list->count = count;
    list->capacity = 1024;
    list->bytes = malloc(list->capacity);
    list->offsets = calloc((size_t)count + 1, sizeof(size_t));
    list->lengths = calloc((size_t)count + 1, sizeof(size_t));
    return list->bytes && list->offsets && list->lengths ? 0 : -1;
}

static int token_list_set(TokenList *list, int id, const unsigned char *bytes, size_t length) {
    if (list->used + length > list->capacity && array_reserve(&list->bytes, &list->capacity, list->used + length, 1))
        return -1;
    memcpy(list->bytes + list->used, bytes, length);
    list->offsets[id] = list->used;
    list->lengths[id] = length;
    list->used += length;
    return 0;
}

// Builds bpe from the first n_tokens entries of list.
static int bpe_from_list(Bpe *bpe, const TokenList *list, int n_tokens, int pattern, Error *error) {
    const unsigned char **pointers = malloc(sizeof *pointers * ((size_t)n_tokens + 1));
    if (!pointers) return error_set(error, "out of memory");
    for (int k = 0; k < n_tokens; k++) pointers[k] = list->bytes + list->offsets[k];
    int status = bpe_from_tokens(bpe, n_tokens, pointers, list->lengths, pattern, error);
    free(pointers);
    return status;
}

// ------------------------------------------------------------------ groundup's format

int bpe_write(const Bpe *bpe, FILE *file, Error *error) {
    int failed = fprintf(file, "groundup-bpe 1\npattern %s\ntokens %d\n", pattern_name(bpe->pattern), bpe->n_tokens) < 0;
    for (int id = 0; id < bpe->n_tokens && !failed; id++) {
        size_t length;
        const unsigned char *token = bpe_token(bpe, id, &length);
        failed = hex_write(file, token, length) != 0 || putc('\n', file) == EOF;
    }
    if (!failed) failed = fprintf(file, "special %d\n", bpe->n_specials) < 0;
    for (int k = 0; k < bpe->n_specials && !failed; k++) {
        failed = fprintf(file, "%d ", bpe->specials[k].id) < 0 ||
                 hex_write(file, bpe->specials[k].text, bpe->specials[k].length) != 0 || putc('\n', file) == EOF;
    }
    if (!failed) failed = fprintf(file, "end\n") < 0;
    return failed ? error_set(error, "cannot write the tokenizer: %s", strerror(errno)) : 0;
}

int bpe_save(const Bpe *bpe, const char *path, Error *error) {
    SafeFile out;
    if (safe_file_open(&out, path, error)) return -1;
    if (bpe_write(bpe, out.file, error)) {
        safe_file_abort(&out);
        return error_prefix(error, "%s", path);
    }
    return safe_file_commit(&out, error);
}

// Line reader for bpe_read: the current line without its '\n', and its number.
typedef struct LineReader {
    FILE *file;
    const char *name;
    char *line;
    size_t capacity;
    long length;
    int number;
} LineReader;

static int next_line(LineReader *reader, Error *error, const char *expected) {
    reader->length = (long)getline(&reader->line, &reader->capacity, reader->file);
    reader->number++;
    if (reader->length < 0 && ferror(reader->file))
        return error_set(error, "cannot read %s: %s", reader->name, strerror(errno));
    if (reader->length < 0)
        return error_set(error, "%s: truncated: ends before line %d (%s expected)", reader->name, reader->number,
                         expected);
    if (reader->length > 0 && reader->line[reader->length - 1] == '\n') reader->line[--reader->length] = 0;
    return 0;
}

// Parses "<keyword> <integer>" (the integer within [minimum, maximum]).
static int keyword_number(LineReader *reader, const char *keyword, int minimum, int maximum, int *value, Error *error) {
    size_t k = strlen(keyword);
    char *end = NULL;
    long number = 0;
    if (strncmp(reader->line, keyword, k) == 0 && reader->line[k] == ' ') number = strtol(reader->line + k + 1, &end, 10);
    if (!end || end == reader->line + k + 1 || *end || number < minimum || number > maximum)
        return error_set(error, "%s line %d: expected '%s N' with N in %d..%d, got '%.60s'", reader->name,
                         reader->number, keyword, minimum, maximum, reader->line);
    *value = (int)number;
    return 0;
}

static int read_body(Bpe *bpe, LineReader *reader, TokenList *list, Error *error) {
    const char *name = reader->name;
    if (next_line(reader, error, "the 'groundup-bpe 1' header") != 0) return -1;
    if (strcmp(reader->line, "groundup-bpe 1") != 0)
        return error_set(error, "%s line 1: not a groundup tokenizer (expected 'groundup-bpe 1', got '%.60s')", name,
                         reader->line);
    if (next_line(reader, error, "'pattern NAME'") != 0) return -1;
    int pattern = strncmp(reader->line, "pattern ", 8) == 0 ? pattern_from_name(reader->line + 8) : -1;
    if (pattern < 0)
        return error_set(error, "%s line %d: expected 'pattern none|gpt2|cl100k', got '%.60s'", name, reader->number,
                         reader->line);
    int n_tokens, n_specials;
    if (next_line(reader, error, "'tokens N'") != 0 ||
        keyword_number(reader, "tokens", 256, 1 << 24, &n_tokens, error) != 0)
        return -1;
    if (token_list_init(list, n_tokens) != 0) return error_set(error, "%s: out of memory", name);
    unsigned char *bytes = NULL;  // one token's bytes
    size_t bytes_capacity = 0;
    for (int id = 0; id < n_tokens; id++) {
        if (next_line(reader, error, "a token line") != 0) {
            free(bytes);
            return -1;
        }
        if (array_reserve(&bytes, &bytes_capacity, (size_t)reader->length / 2 + 1, 1)) {
            free(bytes);
            return error_set(error, "%s: out of memory", name);
        }
        long length = hex_decode(reader->line, (size_t)reader->length, bytes);
        if (length <= 0) {
            free(bytes);
            return error_set(error, "%s line %d: token %d is not a non-empty hex string: '%.60s'", name,
                             reader->number, id, reader->line);
        }
        if (token_list_set(list, id, bytes, (size_t)length) != 0) {
            free(bytes);
            return error_set(error, "%s: out of memory", name);
        }
    }
    free(bytes);
    if (bpe_from_list(bpe, list, n_tokens, pattern, error) != 0) return error_prefix(error, "%s", name);
    if (next_line(reader, error, "'special M'") != 0 ||
        keyword_number(reader, "special", 0, 1 << 20, &n_specials, error) != 0)
        return -1;
    for (int k = 0; k < n_specials; k++) {
        if (next_line(reader, error, "a special token line") != 0) return -1;
        char *end = NULL;
        long id = strtol(reader->line, &end, 10);
        char text[512];
        long length = -1;
        if (end != reader->line && *end == ' ' && strlen(end + 1) < 2 * sizeof text)
            length = hex_decode(end + 1, strlen(end + 1), (unsigned char *)text);
        if (length <= 0 || id < 0 || id > INT32_MAX || memchr(text, 0, (size_t)length))
            return error_set(error, "%s line %d: expected '<id> <hex text>' for a special token, got '%.60s'", name,
                             reader->number, reader->line);
        text[length] = 0;
        if (bpe_add_special(bpe, text, (int)id, error) != 0)
            return error_prefix(error, "%s line %d", name, reader->number);
    }
    if (next_line(reader, error, "'end'") != 0) return -1;
    if (strcmp(reader->line, "end") != 0)
        return error_set(error, "%s line %d: expected 'end', got '%.60s'", name, reader->number, reader->line);
    return 0;
}

int bpe_read(Bpe *bpe, FILE *file, const char *name, Error *error) {
    memset(bpe, 0, sizeof *bpe);
    LineReader reader = {file, name, NULL, 0, 0, 0};
    TokenList list;
    memset(&list, 0, sizeof list);
    int status = read_body(bpe, &reader, &list, error);
    free(reader.line);
    token_list_free(&list);
    if (status != 0) bpe_free(bpe);
    return status;
}

int bpe_load(Bpe *bpe, const char *path, Error *error) {
    memset(bpe, 0, sizeof *bpe);
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "cannot open %s: %s", path, strerror(errno));
    int status = bpe_read(bpe, file, path, error);
    fclose(file);
    return status;
}

// ------------------------------------------------------------------ GPT-2: encoder.json + vocab.bpe

// GPT-2 writes token bytes as printable characters: bytes 33..126, 161..172 and 174..255
// stand for themselves, the other 68 bytes for U+0100.. in increasing byte order
// (its bytes_to_unicode). character_to_byte is the inverse map, -1 off the alphabet.
static void gpt2_alphabet(int character_to_byte[512]) {
    for (int k = 0; k < 512; k++) character_to_byte[k] = -1;
    int extra = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        character_to_byte[printable ? b : 256 + extra++] = b;
    }
}

// One encoder.json key (GPT-2 alphabet characters, UTF-8 after cJSON has undone the JSON
// escapes) into token bytes; returns the byte count, or -1 with the reason.
static long decode_gpt2_key(const char *key, const int character_to_byte[512], unsigned char *out, const char *path,
                            int entry, Error *error) {
    const unsigned char *text = (const unsigned char *)key;
    size_t n = strlen(key), length = 0;
    if (n == 0) return error_set(error, "%s: entry %d: empty token", path, entry);
    for (size_t at = 0; at < n;) {
        uint32_t code_point;
        int n_bytes = utf8_decode(text + at, n - at, &code_point);
        if (code_point == UINT32_MAX) return error_set(error, "%s: entry %d: invalid UTF-8 in the token", path, entry);
        if (code_point >= 512 || character_to_byte[code_point] < 0)
            return error_set(error, "%s: entry %d: character U+%04X of token \"%.40s\" is not in GPT-2's byte alphabet",
                             path, entry, code_point, key);
        out[length++] = (unsigned char)character_to_byte[code_point];
        at += (size_t)n_bytes;
    }
    return (long)length;
}

static const char ENDOFTEXT[] = "<|endoftext|>";

// The parsed object's entries (token: id) into list; ids must be 0..count-1, each once.
static int read_encoder_entries(const cJSON *root, TokenList *list, int *endoftext_id, const int character_to_byte[512],
                                unsigned char *token, const char *path, Error *error) {
    int count = cJSON_GetArraySize(root), entry = 0;
    if (count == 0) return error_set(error, "%s: no tokens", path);
    if (token_list_init(list, count) != 0) return error_set(error, "out of memory reading %s", path);
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        long length = decode_gpt2_key(item->string, character_to_byte, token, path, entry, error);
        if (length < 0) return -1;
        double id = cJSON_IsNumber(item) ? item->valuedouble : -1;
        if (!cJSON_IsNumber(item) || id != floor(id))
            return error_set(error, "%s: entry %d (\"%.40s\"): the id is not an integer", path, entry, item->string);
        if (id < 0 || id >= count)
            return error_set(error, "%s: id %.0f is out of range for %d tokens (ids must be 0..%d, each once)", path, id,
                             count, count - 1);
        if (list->lengths[(int)id]) return error_set(error, "%s: duplicate id %d", path, (int)id);
        if (token_list_set(list, (int)id, token, (size_t)length) != 0)
            return error_set(error, "out of memory reading %s", path);
        if (length == sizeof ENDOFTEXT - 1 && memcmp(token, ENDOFTEXT, (size_t)length) == 0) *endoftext_id = (int)id;
        entry++;
    }
    return 0;
}

// encoder.json (a JSON object mapping each token, written in GPT-2's alphabet, to its id)
// -> list (ids 0..count-1) and the id of <|endoftext|> (or -1). Parsed with cJSON.
static int parse_encoder_json(const char *path, TokenList *list, int *n_entries, int *endoftext_id,
                              const int character_to_byte[512], Error *error) {
    unsigned char *text;
    size_t n;
    *endoftext_id = -1;
    if (file_read_all(path, &text, &n, error) != 0) return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)text, n, &end, 0);
    unsigned char *token = malloc(n + 1);
    int status = 0;
    if (!root) {
        size_t at = end && end >= (const char *)text ? (size_t)(end - (const char *)text) : 0;
        status = at + 1 >= n ? error_set(error, "%s: truncated JSON: the text ends at byte %zu inside it", path, n)
                             : error_set(error, "%s: invalid JSON at byte %zu", path, at);
    } else if (!cJSON_IsObject(root)) {
        status = error_set(error, "%s: expected a JSON object of token: id", path);
    } else if (!token) {
        status = error_set(error, "out of memory reading %s", path);
    }
    for (const char *p = end; status == 0 && p < (const char *)text + n; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
            status = error_set(error, "%s: text after the JSON object at byte %zu", path, (size_t)(p - (const char *)text));
    if (status == 0) status = read_encoder_entries(root, list, endoftext_id, character_to_byte, token, path, error);
    if (status == 0) *n_entries = list->count;
    cJSON_Delete(root);
    free(text), free(token);
    return status;
}

// vocab.bpe: "#version" line, then merge k (k = 0, 1, ...) on its own line as "left right".
static int check_vocab_bpe(const Bpe *bpe, const char *path, const int character_to_byte[512], Error *error) {
    unsigned char *text;
    size_t n;
    if (file_read_all(path, &text, &n, error) != 0) return -1;
    unsigned char *buffer = malloc(n + 1);
    if (!buffer) {
        free(text);
        return error_set(error, "out of memory reading %s", path);
    }
    int status = 0, line_number = 0, n_merges = 0;
    for (size_t at = 0; at < n && status == 0;) {
        size_t end = at;
        while (end < n && text[end] != '\n') end++;
        line_number++;
        size_t line_start = at;
        at = end + 1;
        if (end == line_start || (line_number == 1 && text[line_start] == '#')) continue;
        // The two halves, as in the JSON: each character of the alphabet is one byte.
        size_t halves[2] = {0, 0}, length = 0;
        int half = 0;
        for (size_t k = line_start; k < end && status == 0;) {
            if (text[k] == ' ') {
                if (half == 1) status = error_set(error, "%s line %d: more than two tokens in a merge", path, line_number);
                halves[0] = length, half = 1, k++;
                continue;
            }
            uint32_t code_point;
            int n_bytes = utf8_decode(text + k, end - k, &code_point);
            if (code_point == UINT32_MAX || code_point >= 512 || character_to_byte[code_point] < 0)
                status = error_set(error, "%s line %d: character not in GPT-2's byte alphabet", path, line_number);
            else buffer[length++] = (unsigned char)character_to_byte[code_point];
            k += (size_t)n_bytes;
        }
        if (status) break;
        halves[1] = length;
        if (half == 0 || halves[0] == 0 || halves[1] == halves[0]) {
            status = error_set(error, "%s line %d: expected 'left right', got '%.*s'", path, line_number,
                               (int)(end - line_start < 60 ? end - line_start : 60), (const char *)text + line_start);
            break;
        }
        const unsigned char *right = buffer + halves[0];
        size_t right_length = halves[1] - halves[0];
        int64_t *left_id = bytes_map_find(&bpe->ids_by_bytes, buffer, halves[0], bytes_hash(buffer, halves[0]));
        int64_t *right_id = bytes_map_find(&bpe->ids_by_bytes, right, right_length, bytes_hash(right, right_length));
        int64_t *merged = bytes_map_find(&bpe->ids_by_bytes, buffer, length, bytes_hash(buffer, length));
        if (!left_id || !right_id)
            status = error_set(error, "%s line %d: merge of a token that is not in the vocabulary ('%.*s')", path,
                               line_number, (int)(end - line_start < 60 ? end - line_start : 60),
                               (const char *)text + line_start);
        else if (!merged)
            status = error_set(error, "%s line %d: the merged token is not in the vocabulary", path, line_number);
        else if (*merged != 256 + n_merges)
            status = error_set(error, "%s line %d: merge %d makes token %d, expected id %d (ranks disagree)", path,
                               line_number, n_merges, (int)*merged, 256 + n_merges);
        n_merges++;
    }
    if (status == 0 && n_merges != bpe->n_tokens - 256)
        status = error_set(error, "%s: %d merges, but the vocabulary has %d tokens (%d merges expected)", path, n_merges,
                           bpe->n_tokens, bpe->n_tokens - 256);
    free(text), free(buffer);
    return status;
}

int bpe_load_gpt2(Bpe *bpe, const char *encoder_json_path, const char *vocab_bpe_path, Error *error) {
    memset(bpe, 0, sizeof *bpe);
    int character_to_byte[512];
    gpt2_alphabet(character_to_byte);
    TokenList list;
    memset(&list, 0, sizeof list);
    int n_entries = 0, endoftext_id = -1;
    int status = parse_encoder_json(encoder_json_path, &list, &n_entries, &endoftext_id, character_to_byte, error);
    // The ordinary tokens are ids 0..n-1; <|endoftext|>, if present, must come after them.
    int n_tokens = n_entries;
    if (status == 0 && endoftext_id >= 0) {
        if (endoftext_id != n_entries - 1)
            status = error_set(error, "%s: <|endoftext|> has id %d; expected the last id, %d", encoder_json_path,
                               endoftext_id, n_entries - 1);
        n_tokens = n_entries - 1;
    }
    if (status == 0 && bpe_from_list(bpe, &list, n_tokens, PATTERN_GPT2, error) != 0)
        status = error_prefix(error, "%s", encoder_json_path);
    token_list_free(&list);
    if (status == 0) status = check_vocab_bpe(bpe, vocab_bpe_path, character_to_byte, error);
    if (status == 0 && endoftext_id >= 0) status = bpe_add_special(bpe, ENDOFTEXT, endoftext_id, error);
    if (status != 0) bpe_free(bpe);
    return status;
}

// ------------------------------------------------------------------ tiktoken rank files

static int base64_value(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Standard base64 with '=' padding: text[n] -> out; returns the byte count or -1.
static long base64_decode(const unsigned char *text, size_t n, unsigned char *out) {
    if (n == 0 || n % 4) return -1;
    size_t length = 0;
    for (size_t k = 0; k < n; k += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            if (text[k + j] == '=' && k + 4 == n && j >= 2) {
                v[j] = 0, pad++;
                continue;
            }
            if (pad) return -1;
            v[j] = base64_value(text[k + j]);
            if (v[j] < 0) return -1;
        }
        uint32_t bits = (uint32_t)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        out[length++] = (unsigned char)(bits >> 16);
        if (pad < 2) out[length++] = (unsigned char)(bits >> 8);
        if (pad < 1) out[length++] = (unsigned char)bits;
    }
    return (long)length;
}

int bpe_load_tiktoken(Bpe *bpe, const char *path, int pattern, Error *error) {
    memset(bpe, 0, sizeof *bpe);
    unsigned char *text;
    size_t n;
    if (file_read_all(path, &text, &n, error) != 0) return -1;
    int n_lines = 0;
    for (size_t k = 0; k < n; k++) n_lines += text[k] == '\n';
    if (n && text[n - 1] != '\n') n_lines++;
    TokenList list;
    int status = 0;
    unsigned char *token = malloc(n + 1);
    if (token_list_init(&list, n_lines) != 0 || !token) status = error_set(error, "out of memory reading %s", path);
    if (status == 0 && n_lines == 0) status = error_set(error, "%s: no tokens", path);
    int line_number = 0;
    for (size_t at = 0; at < n && status == 0;) {
        size_t end = at;
        while (end < n && text[end] != '\n') end++;
        line_number++;
        size_t space = at;
        while (space < end && text[space] != ' ') space++;
        long length = space < end ? base64_decode(text + at, space - at, token) : -1;
        char *number_end = NULL;
        long rank = space < end ? strtol((const char *)text + space + 1, &number_end, 10) : -1;
        if (length <= 0 || !number_end || number_end != (const char *)text + end || number_end == (const char *)text + space + 1)
            status = error_set(error, "%s line %d: expected 'base64 rank'", path, line_number);
        else if (rank < 0 || rank >= n_lines)
            status = error_set(error, "%s line %d: rank %ld out of range (ranks must be 0..%d, each once)", path,
                               line_number, rank, n_lines - 1);
        else if (list.lengths[rank])
            status = error_set(error, "%s line %d: duplicate rank %ld", path, line_number, rank);
        else if (token_list_set(&list, (int)rank, token, (size_t)length) != 0)
            status = error_set(error, "out of memory reading %s", path);
        at = end + 1;
    }
    if (status == 0 && bpe_from_list(bpe, &list, n_lines, pattern, error) != 0) status = error_prefix(error, "%s", path);
    token_list_free(&list);
    free(text), free(token);
    if (status != 0) bpe_free(bpe);
    return status;
}
