// Pre-tokenization: cutting text into the chunks that BPE merges within (merges never
// cross a chunk boundary). Written by hand, no regex library: each pattern below is the
// regular expression its tokenizer ships, and the code follows the regex engine's
// leftmost-first alternation exactly (the fixtures in tests/ check it against tiktoken).
//
//   PATTERN_NONE    the whole text is one chunk.
//   PATTERN_GPT2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   PATTERN_CL100K  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//                   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// \p{L} is General_Category Letter, \p{N} Number, \s the White_Space property, from the
// generated tokenizer/unicode_tables.h. Text is read as UTF-8; a byte that does not start a
// valid UTF-8 sequence (invalid, overlong, surrogate, truncated) counts as one character of
// class "other", so every byte string is cut into chunks that cover it exactly.
#ifndef TOKENIZER_PRETOKENIZE_H
#define TOKENIZER_PRETOKENIZE_H

#include <stddef.h>
#include <stdint.h>

enum { PATTERN_NONE = 0, PATTERN_GPT2 = 1, PATTERN_CL100K = 2 };

enum { UNICODE_OTHER = 0, UNICODE_LETTER = 1, UNICODE_NUMBER = 2, UNICODE_SPACE = 3 };

// The class of a code point: UNICODE_LETTER, _NUMBER, _SPACE or _OTHER.
int unicode_class(uint32_t code_point);

// Decodes the UTF-8 character at text[0..n), n > 0: returns its length in bytes (1..4) and
// stores the code point, or returns 1 with *code_point = UINT32_MAX for an invalid byte.
int utf8_decode(const unsigned char *text, size_t n, uint32_t *code_point);

// The end (exclusive) of the chunk that starts at text[start], start < n; always > start.
size_t pretokenize_chunk_end(const unsigned char *text, size_t n, size_t start, int pattern);

// The pattern's name ("none", "gpt2", "cl100k") and back (-1 for an unknown name).
const char *pattern_name(int pattern);
int pattern_from_name(const char *name);

#endif
