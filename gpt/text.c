// The tokenizer a model carries (gpt/text.h): a char vocabulary or a byte-level BPE.
#include "gpt/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"
#include "foundations/hex.h"
#include "tokenizer/named.h"
#include "tokenizer/pretokenize.h"

static const char TEXT_TOKENIZER_MAGIC[] = "groundup-text-tokenizer 1";

// ----------------------------------------------------------------------------
// construction

int text_tokenizer_chars(TextTokenizer *tokenizer, const unsigned char *text, size_t n, Error *error) {
    memset(tokenizer, 0, sizeof *tokenizer);
    if (n == 0) return error_set(error, "char tokenizer: empty text");
    int present[256] = {0};
    for (size_t i = 0; i < n; i++) present[text[i]] = 1;
    tokenizer->kind = TEXT_TOKENIZER_CHAR;
    for (int byte = 0; byte < 256; byte++) {
        tokenizer->ids[byte] = -1;
        if (present[byte]) {
            tokenizer->ids[byte] = tokenizer->n_chars;
            tokenizer->chars[tokenizer->n_chars++] = (unsigned char)byte;
        }
    }
    if (tokenizer->n_chars < 2) return error_set(error, "char tokenizer: the text has only one distinct byte");
    return 0;
}

int text_tokenizer_train_bpe(TextTokenizer *tokenizer, const unsigned char *text, size_t n, int vocab_size, Error *error) {
    memset(tokenizer, 0, sizeof *tokenizer);
    tokenizer->kind = TEXT_TOKENIZER_BPE;
    return bpe_train(&tokenizer->bpe, text, n, vocab_size, PATTERN_GPT2, NULL, NULL, error);
}

int text_tokenizer_gpt2(TextTokenizer *tokenizer, const char *data_directory, Error *error) {
    memset(tokenizer, 0, sizeof *tokenizer);
    tokenizer->kind = TEXT_TOKENIZER_BPE;
    return bpe_load_named(&tokenizer->bpe, "gpt2", data_directory, error);
}

void text_tokenizer_free(TextTokenizer *tokenizer) {
    if (tokenizer->kind == TEXT_TOKENIZER_BPE) bpe_free(&tokenizer->bpe);
    memset(tokenizer, 0, sizeof *tokenizer);
}

int text_vocab_size(const TextTokenizer *tokenizer) {
    return tokenizer->kind == TEXT_TOKENIZER_CHAR ? tokenizer->n_chars : bpe_vocab_size(&tokenizer->bpe);
}

void text_tokenizer_describe(const TextTokenizer *tokenizer, char *out, size_t size) {
    if (tokenizer->kind == TEXT_TOKENIZER_CHAR) snprintf(out, size, "char (%d symbols)", tokenizer->n_chars);
    else snprintf(out, size, "bpe (%d tokens)", bpe_vocab_size(&tokenizer->bpe));
}

// ----------------------------------------------------------------------------
// encoding and decoding

int text_encode(const TextTokenizer *tokenizer, const unsigned char *text, size_t n, int **ids, size_t *n_ids,
                Error *error) {
    *ids = NULL;
    *n_ids = 0;
    if (tokenizer->kind == TEXT_TOKENIZER_BPE) return bpe_encode(&tokenizer->bpe, text, n, 0, ids, n_ids, error);
    int *out = malloc(sizeof(int) * (n ? n : 1));
    if (!out) return error_set(error, "char tokenizer: out of memory for %zu ids", n);
    for (size_t i = 0; i < n; i++) {
        out[i] = tokenizer->ids[text[i]];
        if (out[i] < 0) {
            free(out);
            return error_set(error, "byte 0x%02x at offset %zu is not in the model's character vocabulary", text[i], i);
        }
    }
    *ids = out;
    *n_ids = n;
    return 0;
}

int text_decode(const TextTokenizer *tokenizer, const int *ids, size_t n_ids, unsigned char **text, size_t *n_text,
                Error *error) {
    *text = NULL;
    *n_text = 0;
    if (tokenizer->kind == TEXT_TOKENIZER_BPE) return bpe_decode(&tokenizer->bpe, ids, n_ids, text, n_text, error);
    unsigned char *out = malloc(n_ids + 1);
    if (!out) return error_set(error, "char tokenizer: out of memory for %zu bytes", n_ids);
    for (size_t i = 0; i < n_ids; i++) {
        if (ids[i] < 0 || ids[i] >= tokenizer->n_chars) {
            free(out);
            return error_set(error, "token id %d at %zu is not in the character vocabulary of %d", ids[i], i,
                             tokenizer->n_chars);
        }
        out[i] = tokenizer->chars[ids[i]];
    }
    out[n_ids] = '\0';
    *text = out;
    *n_text = n_ids;
    return 0;
}

const unsigned char *text_token_bytes(const TextTokenizer *tokenizer, int id, size_t *length) {
    if (tokenizer->kind == TEXT_TOKENIZER_BPE) return bpe_token(&tokenizer->bpe, id, length);
    if (id < 0 || id >= tokenizer->n_chars) return NULL;
    *length = 1;
    return &tokenizer->chars[id];
}

int text_start_token(const TextTokenizer *tokenizer) {
    if (tokenizer->kind == TEXT_TOKENIZER_CHAR) return tokenizer->ids['\n'] >= 0 ? tokenizer->ids['\n'] : 0;
    for (int i = 0; i < tokenizer->bpe.n_specials; i++) {
        const BpeSpecial *special = &tokenizer->bpe.specials[i];
        if (special->length == 13 && memcmp(special->text, "<|endoftext|>", 13) == 0) return special->id;
    }
    return tokenizer->bpe.byte_tokens['\n'];
}

// ----------------------------------------------------------------------------
// files

int text_tokenizer_write(const TextTokenizer *tokenizer, FILE *file, Error *error) {
    fprintf(file, "%s\n", TEXT_TOKENIZER_MAGIC);
    if (tokenizer->kind == TEXT_TOKENIZER_BPE) {
        fprintf(file, "kind bpe\n");
        return bpe_write(&tokenizer->bpe, file, error);
    }
    fprintf(file, "kind char\nchars %d\n", tokenizer->n_chars);
    hex_write(file, tokenizer->chars, (size_t)tokenizer->n_chars);
    fprintf(file, "\nend\n");
    if (ferror(file)) return error_set(error, "tokenizer: write failed");
    return 0;
}

// Reads one line (without '\n') into line[size]; fails on end of file or a line too long.
static int read_line(FILE *file, char *line, size_t size, const char *name, const char *what, Error *error) {
    if (!fgets(line, (int)size, file)) return error_set(error, "%s: tokenizer: missing %s", name, what);
    size_t length = strlen(line);
    if (length == 0 || line[length - 1] != '\n') return error_set(error, "%s: tokenizer: %s line malformed", name, what);
    line[length - 1] = '\0';
    return 0;
}

int text_tokenizer_read(TextTokenizer *tokenizer, FILE *file, const char *name, Error *error) {
    memset(tokenizer, 0, sizeof *tokenizer);
    char line[600];
    if (read_line(file, line, sizeof line, name, "header", error)) return -1;
    if (strcmp(line, TEXT_TOKENIZER_MAGIC) != 0)
        return error_set(error, "%s: tokenizer: expected '%s', found '%.40s'", name, TEXT_TOKENIZER_MAGIC, line);
    if (read_line(file, line, sizeof line, name, "kind", error)) return -1;
    if (strcmp(line, "kind bpe") == 0) {
        tokenizer->kind = TEXT_TOKENIZER_BPE;
        if (bpe_read(&tokenizer->bpe, file, name, error)) {
            memset(tokenizer, 0, sizeof *tokenizer);
            return -1;
        }
        return 0;
    }
    if (strcmp(line, "kind char") != 0) return error_set(error, "%s: tokenizer: unknown '%.40s'", name, line);
    tokenizer->kind = TEXT_TOKENIZER_CHAR;
    int n = 0;
    if (read_line(file, line, sizeof line, name, "chars", error)) return -1;
    if (sscanf(line, "chars %d", &n) != 1 || n < 2 || n > 256)
        return error_set(error, "%s: tokenizer: bad character count '%.40s'", name, line);
    if (read_line(file, line, sizeof line, name, "characters", error)) return -1;
    if (strlen(line) != (size_t)n * 2) return error_set(error, "%s: tokenizer: %d characters expected", name, n);
    for (int byte = 0; byte < 256; byte++) tokenizer->ids[byte] = -1;
    unsigned char chars[256];
    if (hex_decode(line, (size_t)n * 2, chars) != n)
        return error_set(error, "%s: tokenizer: bad hex in the characters", name);
    for (int i = 0; i < n; i++) {
        int byte = chars[i];
        if (i > 0 && byte <= tokenizer->chars[i - 1])
            return error_set(error, "%s: tokenizer: characters not in increasing byte order", name);
        tokenizer->chars[i] = (unsigned char)byte;
        tokenizer->ids[byte] = i;
    }
    tokenizer->n_chars = n;
    if (read_line(file, line, sizeof line, name, "end", error)) return -1;
    if (strcmp(line, "end") != 0) return error_set(error, "%s: tokenizer: missing 'end'", name);
    return 0;
}

int text_tokenizer_save(const TextTokenizer *tokenizer, const char *path, Error *error) {
    SafeFile out;
    if (safe_file_open(&out, path, error)) return -1;
    if (text_tokenizer_write(tokenizer, out.file, error)) {
        safe_file_abort(&out);
        return -1;
    }
    return safe_file_commit(&out, error);
}

// Either file format: a serialised TextTokenizer or a bare groundup BPE file.
int text_tokenizer_load(TextTokenizer *tokenizer, const char *path, Error *error) {
    memset(tokenizer, 0, sizeof *tokenizer);
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open: %s", path, strerror(errno));
    char first[64] = "";
    if (!fgets(first, sizeof first, file)) first[0] = '\0';
    rewind(file);
    int status;
    if (strncmp(first, TEXT_TOKENIZER_MAGIC, strlen(TEXT_TOKENIZER_MAGIC)) == 0) {
        status = text_tokenizer_read(tokenizer, file, path, error);
    } else {
        tokenizer->kind = TEXT_TOKENIZER_BPE;
        status = bpe_read(&tokenizer->bpe, file, path, error);
        if (status) memset(tokenizer, 0, sizeof *tokenizer);
    }
    fclose(file);
    return status;
}
