// Byte-level BPE tokenizer: vocabulary, encoding, decoding, files. Training is in train.c.
//
// A tokenizer is a list of ordinary tokens, each a byte string, whose ids are also their
// ranks: ids 0..n_tokens-1, every single byte among them (so any byte string can be
// encoded), plus optional special tokens (text like "<|endoftext|>" with an id of their own).
//
// Encoding (the rule of OpenAI's tiktoken, so GPT-2 ids come out identical):
//   1. cut the text into chunks with the pre-tokenizer's pattern (tokenizer/pretokenize.h);
//   2. a chunk that is itself a token becomes that token;
//   3. otherwise start from its single bytes and repeatedly merge the adjacent pair whose
//      concatenation is the token of lowest id (the leftmost pair on a tie), until no
//      adjacent pair concatenates to a token.
// Special tokens are recognised in the text only when the caller passes allow_special;
// otherwise "<|endoftext|>" is ordinary text. Decoding concatenates the tokens' bytes, so
// decode(encode(x)) == x for every byte string x (invalid UTF-8 included).
//
// API (every function that can fail returns 0 or -1 and fills error):
//   Bpe bpe = {0};
//   bpe_load_gpt2(&bpe, "data/gpt2/encoder.json", "data/gpt2/vocab.bpe", &error);
//   bpe_encode(&bpe, text, n, allow_special, &ids, &n_ids, &error);   // free(ids)
//   bpe_decode(&bpe, ids, n_ids, &text, &n_text, &error);              // free(text)
//   bpe_free(&bpe);
// Other sources: bpe_train (train.c), bpe_load (groundup's own format, below),
// bpe_load_tiktoken (tiktoken's .tiktoken rank files). bpe_write / bpe_read put a
// tokenizer into / take it out of an open FILE* (so a model checkpoint can embed it; for
// memory use fmemopen / open_memstream). A loaded Bpe is read-only while encoding, so
// several threads may encode with one Bpe at once.
//
// groundup's tokenizer format (text, UTF-8 free: every token is written in hex):
//   groundup-bpe 1                  magic and version
//   pattern gpt2                    none | gpt2 | cl100k
//   tokens N                        the number of ordinary tokens
//   <hex bytes>                     N lines: line k is token k's bytes in lowercase hex
//   special M                       the number of special tokens
//   <id> <hex bytes>                M lines
//   end
// Loading checks that every line is there and well formed, that no two tokens have the
// same bytes, that every byte value has its one-byte token, and that special ids do not
// collide with ordinary ones.
#ifndef TOKENIZER_BPE_H
#define TOKENIZER_BPE_H

#include <stddef.h>
#include <stdio.h>

#include "foundations/error.h"
#include "tokenizer/hash_maps.h"
#include "tokenizer/pretokenize.h"

typedef struct BpeSpecial {
    unsigned char *text;
    size_t length;
    int id;
} BpeSpecial;

typedef struct Bpe {
    int n_tokens;                 // ordinary tokens, ids 0..n_tokens-1
    int pattern;                  // PATTERN_NONE, PATTERN_GPT2 or PATTERN_CL100K
    unsigned char *token_bytes;   // every token's bytes, back to back
    size_t *token_offsets;        // (n_tokens + 1): token k is token_bytes[offsets[k] .. offsets[k+1])
    int byte_tokens[256];         // the id of the one-byte token of each byte value
    BpeSpecial *specials;         // (n_specials)
    int n_specials;
    BytesMap ids_by_bytes;        // token bytes -> id (a chunk that is a token is looked up whole)
    PairMap merges;               // (left id, right id) -> id of the token left+right, if any
} Bpe;

// Tokenizer from n_tokens byte strings (token k = tokens[k][0..lengths[k])) and a pattern.
int bpe_from_tokens(Bpe *bpe, int n_tokens, const unsigned char *const *tokens, const size_t *lengths, int pattern,
                    Error *error);
// GPT-2's released files: encoder.json (token -> id, in GPT-2's byte-to-unicode alphabet)
// and vocab.bpe (the merges in rank order). "<|endoftext|>" becomes special token 50256.
// The two files are cross-checked (every merge joins known tokens into the token of id
// 256 + its line number).
int bpe_load_gpt2(Bpe *bpe, const char *encoder_json_path, const char *vocab_bpe_path, Error *error);
// tiktoken's rank file: one "base64(token) rank" line per token, ranks 0..N-1 each once.
// Special tokens are not in the file: add them with bpe_add_special.
int bpe_load_tiktoken(Bpe *bpe, const char *path, int pattern, Error *error);
// Adds a special token (text[0..n), id not an ordinary id nor another special's).
int bpe_add_special(Bpe *bpe, const char *text, int id, Error *error);

int bpe_save(const Bpe *bpe, const char *path, Error *error);  // writes path.tmp, then renames
int bpe_load(Bpe *bpe, const char *path, Error *error);
int bpe_write(const Bpe *bpe, FILE *file, Error *error);
// Reads one tokenizer from file, up to and including its "end" line; name is for messages.
int bpe_read(Bpe *bpe, FILE *file, const char *name, Error *error);

void bpe_free(Bpe *bpe);

// One more than the largest id (ordinary or special): the model's vocabulary size.
int bpe_vocab_size(const Bpe *bpe);
// The bytes of token id (ordinary or special) and their count, or NULL for an unknown id.
const unsigned char *bpe_token(const Bpe *bpe, int id, size_t *length);

// text[n] -> *ids (n_ids, malloc'ed, the caller frees). allow_special: recognise the
// special tokens' text. Keeps a cache of chunks already encoded during this call.
int bpe_encode(const Bpe *bpe, const unsigned char *text, size_t n, int allow_special, int **ids, size_t *n_ids,
               Error *error);
// ids[n_ids] -> *text (n_text bytes, malloc'ed, NUL-terminated for convenience); an id
// that is no token is an error.
int bpe_decode(const Bpe *bpe, const int *ids, size_t n_ids, unsigned char **text, size_t *n_text, Error *error);

// ------------------------------------------------------------------ training (train.c)

// Called every few hundred merges and at the end, so a tool can show progress.
typedef void (*BpeProgress)(void *context, int merges_done, int merges_wanted);

// Trains a tokenizer on text[n]: byte tokens 0..255 (id = byte value), then merges
// 256..vocab_size-1, each the most frequent adjacent pair of tokens within the pattern's
// chunks. Ties: the pair with the smaller left id wins, then the smaller right id.
// vocab_size 0 means "as many merges as the text allows". Errors: empty text,
// vocab_size < 256, or more merges asked than the text has pairs for.
int bpe_train(Bpe *bpe, const unsigned char *text, size_t n, int vocab_size, int pattern, BpeProgress progress,
              void *progress_context, Error *error);

#endif
