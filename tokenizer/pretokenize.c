// The split patterns of GPT-2 and cl100k_base by hand (see pretokenize.h for the regexes).
// Each function below answers "where does the regex's match that starts here end?", trying
// the alternatives in the pattern's order, as a backtracking regex engine does.
#include "tokenizer/pretokenize.h"

#include <string.h>

#include "tokenizer/unicode_tables.h"

// ------------------------------------------------------------------ characters and classes

// ASCII classes, the hot path (English text is almost all ASCII).
static int ascii_class(unsigned char c) {
    if (c >= 'a' && c <= 'z') return UNICODE_LETTER;
    if (c >= 'A' && c <= 'Z') return UNICODE_LETTER;
    if (c >= '0' && c <= '9') return UNICODE_NUMBER;
    if (c == ' ' || (c >= '\t' && c <= '\r')) return UNICODE_SPACE;
    return UNICODE_OTHER;
}

int unicode_class(uint32_t code_point) {
    if (code_point < 128) return ascii_class((unsigned char)code_point);
    int low = 0, high = unicode_n_ranges - 1;
    while (low <= high) {
        int middle = (low + high) / 2;
        if (code_point < unicode_ranges[middle].first) high = middle - 1;
        else if (code_point > unicode_ranges[middle].last) low = middle + 1;
        else return unicode_ranges[middle].class_id;
    }
    return UNICODE_OTHER;
}

int utf8_decode(const unsigned char *text, size_t n, uint32_t *code_point) {
    unsigned char c = text[0];
    *code_point = UINT32_MAX;
    if (c < 0x80) {
        *code_point = c;
        return 1;
    }
    int length;
    uint32_t value, minimum;
    if (c >= 0xC2 && c <= 0xDF) length = 2, value = c & 0x1F, minimum = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) length = 3, value = c & 0x0F, minimum = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) length = 4, value = c & 0x07, minimum = 0x10000;
    else return 1;  // continuation byte, C0/C1 (overlong), F5..FF
    if ((size_t)length > n) return 1;
    for (int k = 1; k < length; k++) {
        if ((text[k] & 0xC0) != 0x80) return 1;
        value = (value << 6) | (text[k] & 0x3F);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 1;
    *code_point = value;
    return length;
}

// One character at text[i]: its class and length; invalid bytes are "other", length 1.
typedef struct Character {
    uint32_t code_point;  // UINT32_MAX for an invalid byte
    int length;
    int class_id;
} Character;

static Character character_at(const unsigned char *text, size_t n, size_t i) {
    Character c;
    if (text[i] < 0x80) {
        c.code_point = text[i], c.length = 1, c.class_id = ascii_class(text[i]);
        return c;
    }
    c.length = utf8_decode(text + i, n - i, &c.code_point);
    c.class_id = c.code_point == UINT32_MAX ? UNICODE_OTHER : unicode_class(c.code_point);
    return c;
}

// The end of the run of characters of class class_id starting at i (i itself if none).
static size_t run_of_class(const unsigned char *text, size_t n, size_t i, int class_id) {
    while (i < n) {
        Character c = character_at(text, n, i);
        if (c.class_id != class_id) break;
        i += (size_t)c.length;
    }
    return i;
}

// Whitespace run starting at i (text[i] is whitespace). Returns its end and the start of
// its last character, and the end of its last \r or \n (0 if none).
typedef struct SpaceRun {
    size_t end, last_start, after_last_newline;
} SpaceRun;

static SpaceRun space_run(const unsigned char *text, size_t n, size_t i) {
    SpaceRun run = {i, i, 0};
    while (run.end < n) {
        Character c = character_at(text, n, run.end);
        if (c.class_id != UNICODE_SPACE) break;
        run.last_start = run.end;
        run.end += (size_t)c.length;
        if (c.code_point == '\r' || c.code_point == '\n') run.after_last_newline = run.end;
    }
    return run;
}

// \s+(?!\S) then \s+: the whole run if it reaches the end of the text; otherwise all but
// the last whitespace character (which the next word takes as its leading space), or, for
// a run of one, that one character (the second alternative).
static size_t trailing_space_rule(SpaceRun run, size_t n, size_t start) {
    if (run.end == n) return run.end;
    return run.last_start > start ? run.last_start : run.end;
}

// ------------------------------------------------------------------ GPT-2

// 's 't 're 've 'm 'll 'd, lowercase only: the end of the contraction at i, or 0.
static size_t gpt2_contraction(const unsigned char *text, size_t n, size_t i) {
    if (i + 1 >= n) return 0;
    unsigned char a = text[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 >= n) return 0;
    unsigned char b = text[i + 2];
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    return 0;
}

static size_t gpt2_chunk_end(const unsigned char *text, size_t n, size_t i) {
    if (text[i] == '\'') {
        size_t end = gpt2_contraction(text, n, i);
        if (end) return end;
    }
    Character c = character_at(text, n, i);
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional U+0020 then a run of one class.
    if (c.code_point == ' ' && i + 1 < n) {
        Character next = character_at(text, n, i + 1);
        if (next.class_id != UNICODE_SPACE) return run_of_class(text, n, i + 1, next.class_id);
    }
    if (c.class_id != UNICODE_SPACE) return run_of_class(text, n, i, c.class_id);
    return trailing_space_rule(space_run(text, n, i), n, i);
}

// ------------------------------------------------------------------ cl100k_base

static int ascii_lower(uint32_t c) { return c >= 'A' && c <= 'Z' ? (int)(c + 32) : (int)c; }

// (?i:'s|'t|'re|'ve|'m|'ll|'d): case-insensitive with Unicode simple case folding, under
// which 's' also matches U+017F LATIN SMALL LETTER LONG S. Returns the end, or 0.
static size_t cl100k_contraction(const unsigned char *text, size_t n, size_t i) {
    if (i + 1 >= n) return 0;
    Character a = character_at(text, n, i + 1);
    int la = ascii_lower(a.code_point);
    if (la == 's' || la == 't' || la == 'm' || la == 'd' || a.code_point == 0x17F) return i + 1 + (size_t)a.length;
    if (i + 2 >= n) return 0;
    int lb = ascii_lower(text[i + 2]);
    if ((la == 'r' && lb == 'e') || (la == 'v' && lb == 'e') || (la == 'l' && lb == 'l')) return i + 3;
    return 0;
}

static size_t skip_newlines(const unsigned char *text, size_t n, size_t i) {
    while (i < n && (text[i] == '\r' || text[i] == '\n')) i++;
    return i;
}

static size_t cl100k_chunk_end(const unsigned char *text, size_t n, size_t i) {
    if (text[i] == '\'') {
        size_t end = cl100k_contraction(text, n, i);
        if (end) return end;
    }
    Character c = character_at(text, n, i);
    size_t after = i + (size_t)c.length;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (c.class_id == UNICODE_LETTER) return run_of_class(text, n, i, UNICODE_LETTER);
    int is_newline = c.code_point == '\r' || c.code_point == '\n';
    if (c.class_id != UNICODE_NUMBER && !is_newline && after < n) {
        size_t end = run_of_class(text, n, after, UNICODE_LETTER);
        if (end > after) return end;
    }
    // \p{N}{1,3}
    if (c.class_id == UNICODE_NUMBER) {
        size_t end = after;
        for (int k = 1; k < 3 && end < n; k++) {
            Character next = character_at(text, n, end);
            if (next.class_id != UNICODE_NUMBER) break;
            end += (size_t)next.length;
        }
        return end;
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    if (c.code_point == ' ' && after < n) {
        size_t end = run_of_class(text, n, after, UNICODE_OTHER);
        if (end > after) return skip_newlines(text, n, end);
    }
    if (c.class_id == UNICODE_OTHER) return skip_newlines(text, n, run_of_class(text, n, i, UNICODE_OTHER));
    // \s*[\r\n]+ : the greedy \s* backs off to the last \r or \n of the run.
    SpaceRun run = space_run(text, n, i);
    if (run.after_last_newline) return run.after_last_newline;
    return trailing_space_rule(run, n, i);
}

// ------------------------------------------------------------------ dispatch

size_t pretokenize_chunk_end(const unsigned char *text, size_t n, size_t start, int pattern) {
    switch (pattern) {
    case PATTERN_GPT2: return gpt2_chunk_end(text, n, start);
    case PATTERN_CL100K: return cl100k_chunk_end(text, n, start);
    default: return n;
    }
}

const char *pattern_name(int pattern) {
    switch (pattern) {
    case PATTERN_GPT2: return "gpt2";
    case PATTERN_CL100K: return "cl100k";
    default: return "none";
    }
}

int pattern_from_name(const char *name) {
    if (strcmp(name, "none") == 0) return PATTERN_NONE;
    if (strcmp(name, "gpt2") == 0) return PATTERN_GPT2;
    if (strcmp(name, "cl100k") == 0) return PATTERN_CL100K;
    return -1;
}
