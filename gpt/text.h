// The tokenizer a model carries: text bytes <-> token ids, the same at training, sampling
// and evaluation because the checkpoint embeds it.
//
// Two kinds:
//   char  one token per byte value that occurs in the training text, ids in byte order
//         (so "abc" -> the ids of 'a' < 'b' < 'c'); exact round trip; a byte that did not
//         occur cannot be encoded (an error naming the byte and where it is).
//   bpe   a byte-level BPE from tokenizer/bpe.h: trained on the training text (`bpe:N`,
//         N tokens), loaded from groundup's tokenizer file, or GPT-2's released files.
//
// Serialised form (inside a checkpoint, or on its own), text lines:
//   groundup-text-tokenizer 1
//   kind char | kind bpe
//   char:  chars N / one line of the N bytes in hex / end
//   bpe:   the tokenizer in tokenizer/bpe.h's format (up to its own "end")
//
// Not here: normalisation, special tokens beyond what the BPE holds.
#ifndef GPT_TEXT_H
#define GPT_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "foundations/error.h"
#include "tokenizer/bpe.h"

typedef enum { TEXT_TOKENIZER_CHAR = 1, TEXT_TOKENIZER_BPE = 2 } TextTokenizerKind;

typedef struct TextTokenizer {
    TextTokenizerKind kind;
    // char
    int n_chars;
    unsigned char chars[256];  // id -> byte
    int ids[256];              // byte -> id, -1 if the byte is not in the vocabulary
    // bpe
    Bpe bpe;
} TextTokenizer;

// A char tokenizer of the bytes occurring in text[n] (n >= 1).
int text_tokenizer_chars(TextTokenizer *tokenizer, const unsigned char *text, size_t n, Error *error);
// A BPE of vocab_size tokens trained on text[n] with GPT-2's pre-tokenizer pattern.
int text_tokenizer_train_bpe(TextTokenizer *tokenizer, const unsigned char *text, size_t n, int vocab_size, Error *error);
// GPT-2's tokenizer from data_directory/gpt2/ (encoder.json, vocab.bpe); data_directory NULL:
// the bundled data, wherever the program runs from (tokenizer/named.h).
int text_tokenizer_gpt2(TextTokenizer *tokenizer, const char *data_directory, Error *error);
// A groundup BPE file (tokenizer/bpe.h's format) or a serialised TextTokenizer.
int text_tokenizer_load(TextTokenizer *tokenizer, const char *path, Error *error);
int text_tokenizer_save(const TextTokenizer *tokenizer, const char *path, Error *error);
void text_tokenizer_free(TextTokenizer *tokenizer);

int text_tokenizer_write(const TextTokenizer *tokenizer, FILE *file, Error *error);
// name is the file's name for messages.
int text_tokenizer_read(TextTokenizer *tokenizer, FILE *file, const char *name, Error *error);

int text_vocab_size(const TextTokenizer *tokenizer);
// "char (65 symbols)" / "bpe (512 tokens)", for messages.
void text_tokenizer_describe(const TextTokenizer *tokenizer, char *out, size_t size);

// text[n] -> *ids (n_ids, malloc'ed; the caller frees).
int text_encode(const TextTokenizer *tokenizer, const unsigned char *text, size_t n, int **ids, size_t *n_ids,
                Error *error);
// ids[n_ids] -> *text (n_text bytes, malloc'ed, NUL-terminated).
int text_decode(const TextTokenizer *tokenizer, const int *ids, size_t n_ids, unsigned char **text, size_t *n_text,
                Error *error);
// The bytes of one token (for streaming), NULL for an unknown id.
const unsigned char *text_token_bytes(const TextTokenizer *tokenizer, int id, size_t *length);
// The token that starts a text with no prompt (and precedes a held-out text in evaluation):
// "<|endoftext|>" when the BPE has it, else the newline's token, else id 0.
int text_start_token(const TextTokenizer *tokenizer);

#endif
