// Tokenizers by name, and where the bundled data is.
//
// A name is one of:
//   "gpt2"          GPT-2's encoder.json and vocab.bpe, in <data>/gpt2/
//   "cl100k_base"   <data>/cl100k_base/cl100k_base.tiktoken with cl100k's special tokens
//   FILE.tiktoken   a tiktoken rank file (cl100k's pattern; cl100k's special tokens when it has
//                   cl100k's 100256 ranks)
//   FILE            a tokenizer in groundup's own format (tokenizer/bpe.h)
// where <data> is the bundled data folder (bundled_data_directory).
#ifndef TOKENIZER_NAMED_H
#define TOKENIZER_NAMED_H

#include "tokenizer/bpe.h"

// The folder that holds the bundled data (gpt2/, cl100k_base/, the corpora), found so that
// the program works from any working directory: $GROUNDUP_DATA when set; else ./data when it
// holds gpt2/; else the data/ of the source tree the program was built from; else the
// folder `cmake --install` copied it to (<prefix>/share/groundup/data). The returned string
// is the environment's or a constant; nothing is allocated.
const char *bundled_data_directory(void);

// The special tokens of cl100k_base (not in its rank file), as tiktoken defines them.
enum { CL100K_RANKS = 100256, CL100K_N_SPECIAL = 5 };
extern const char *const CL100K_SPECIAL_TEXTS[CL100K_N_SPECIAL];
extern const int CL100K_SPECIAL_IDS[CL100K_N_SPECIAL];

// Loads the tokenizer called name (above); data_directory NULL means bundled_data_directory().
// Errors: those of the file readers, each naming the file.
int bpe_load_named(Bpe *bpe, const char *name, const char *data_directory, Error *error);

#endif
