// Training data: a text file (or an llm.c token file) -> train / validation token ids, and
// random batches from them.
//
// A text file is split deterministically at 90% of its bytes, moved forward to just after
// the next newline (so the split never cuts a line, a token or a UTF-8 character); the
// first part trains, the last is held out. The tokenizer is built from the text (see
// data_make_tokenizer) and both parts are tokenized separately. The held-out ids start
// with the tokenizer's start token, so that every byte of the held-out text is scored by
// the evaluator (which scores tokens[1..n) given what precedes them).
//
// A token file in llm.c's format is used as is: the last 10% of its ids are held out.
//   header  256 int32: [0] magic, [1] version, [2] number of tokens
//   body    the tokens: uint16 each (magic 20240520, version 1: GPT-2's layout), or uint32
//           each (magic 20240801, version 7: llm.c's Llama-3 layout)
// Token files made for llm.c train here with --data file.bin. A file shaped like one (a 1 KiB
// int32 header whose count matches the bytes after it) with another magic or version is
// refused, not read as text.
//
// Cache: tokenizing Moby Dick with a BPE (and training that BPE) takes seconds, so the ids
// are cached as token files in a cache directory, named after the data file plus a 64-bit
// FNV-1a hash of the data's bytes and of the serialised tokenizer:
//   <cache>/<data file name>.<hash>.train.bin  and  .val.bin,  <cache>/<name>.<hash>.bpe<N>.tok
// A changed file or tokenizer changes the hash, so a stale cache is never read; deleting
// the directory is always safe.
#ifndef GPT_DATA_H
#define GPT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "foundations/error.h"
#include "foundations/hash.h"  // fnv1a, which names the cache files
#include "foundations/random.h"
#include "gpt/text.h"

enum {
    TOKEN_FILE_MAGIC = 20240520, TOKEN_FILE_VERSION = 1,                // GPT-2's layout, uint16 ids
    LLAMA3_TOKEN_FILE_MAGIC = 20240801, LLAMA3_TOKEN_FILE_VERSION = 7,  // Llama-3's layout, uint32 ids
    TOKEN_FILE_HEADER_INTS = 256,
};

// A data file as read: text (split into train and held-out bytes) or token ids.
typedef struct DataSource {
    char path[1024];
    int is_tokens;         // 1: an llm.c token file
    unsigned char *text;   // (n_text) text files
    size_t n_text;
    size_t split;          // text[0..split) trains, text[split..n_text) is held out
    int *tokens;           // (n_tokens) token files
    long n_tokens;
    uint64_t hash;         // FNV-1a of the file's bytes
} DataSource;

typedef struct Dataset {
    int *train;       // (n_train)
    long n_train;
    int *val;         // (n_val), val[0] the start token for text files
    long n_val;
    long val_bytes;   // bytes of the held-out text the ids val[1..n_val) stand for
} Dataset;

// Reads path: a token file if it starts with the token-file magic, else text. Errors: a
// missing or empty file, a malformed token file.
int data_source_load(DataSource *source, const char *path, Error *error);
void data_source_free(DataSource *source);

// The tokenizer named by spec for this data:
//   "char"    the bytes occurring in the whole text (held-out part included, so that
//             evaluation never meets an unknown byte)
//   "bpe:N"   a BPE of N tokens trained on the training part (cached when cache_dir is set)
//   "gpt2"    GPT-2's tokenizer from data_directory/gpt2/ (NULL: the bundled data)
//   anything else: a tokenizer file (tokenizer/bpe.h's format or a saved TextTokenizer)
// Token files accept only "gpt2" or a file (their ids were made by some existing tokenizer).
int data_make_tokenizer(const DataSource *source, const char *spec, const char *data_directory,
                        const char *cache_dir, TextTokenizer *tokenizer, Error *error);

// Tokenizes (or reads from the cache, when cache_dir is not NULL) both parts. Checks that
// every id fits the tokenizer's vocabulary.
int dataset_init(Dataset *dataset, const DataSource *source, const TextTokenizer *tokenizer, const char *cache_dir,
                  Error *error);
// Only the held-out part (for evaluation); whole = 1 takes the whole text instead.
int dataset_init_heldout(Dataset *dataset, const DataSource *source, const TextTokenizer *tokenizer, int whole,
                          Error *error);
void dataset_free(Dataset *dataset);

// B windows of T+1 consecutive ids at uniform random offsets of tokens (n >= T+1):
// inputs (B,T) = window[0..T), targets (B,T) = window[1..T+1).
void data_sample_batch(const int *tokens, long n, int B, int T, Random *rng, int *inputs, int *targets);

// Data-parallel training splits one global batch of B windows into shares: the starts of all
// B windows are drawn (the same draws, in the same order, as data_sample_batch), and a
// share is a contiguous range of them. Rank r of N with K accumulation steps of b = B/(N K)
// windows takes windows [(r K + k) b, (r K + k + 1) b) at its step k: disjoint shares, every
// window used once, and the global batch (and so the run) the same whatever N and K are.
// starts (B) <- window starts in [0, n - T) from rng.
void data_sample_starts(long n, int B, int T, Random *rng, long *starts);
// The windows at starts[0..count): inputs (count,T), targets (count,T).
void data_copy_windows(const int *tokens, const long *starts, int count, int T, int *inputs, int *targets);
// The number of non-overlapping windows of T+1 ids in n ids: (n - 1) / T.
long data_window_count(long n, int T);

// llm.c token files. Writing checks ids are in [0, 65536) and goes through a temp file.
int token_file_read(const char *path, int **tokens, long *n, Error *error);
int token_file_write(const char *path, const int *tokens, long n, Error *error);

#endif
