// What `groundup train` does when an option is not given. Each stage's defaults are the recipe
// that reaches its README result on the bundled data (the bigram and the MLP on names.txt,
// GPT-2 on Moby-Dick); GPT-2's are scaled down for a text smaller than Moby-Dick, so that
// "train a tiny GPT on my own text" works with no option but --data.
#ifndef GPT_DEFAULTS_H
#define GPT_DEFAULTS_H

#include "gpt/data.h"
#include "gpt/model.h"

typedef struct TrainDefaults {
    char tokenizer[32];             // "char", "bpe:N" or "gpt2" (token files)
    int batch, context;             // B, T
    float lr;                       // peak learning rate
    long steps;                     // 0: by time
    double seconds;                 // 0: by steps
    int layers, heads, dim;         // gpt2
    int block, embed, hidden;       // mlp
    char reason[160];               // one line saying why, when the text changed them; else ""
} TrainDefaults;

// The defaults for arch on source (its training part's size decides GPT-2's).
//   bigram  char, B 32, T 16, lr 0.05, 2000 steps
//   mlp     char, block 5, embed 16, hidden 200, B 32, T 16, lr 3e-3, 2000 steps
//   gpt2    >= 1 MB of text: bpe:4096, 4 layers, 4 heads, width 256, B 16, T 128, lr 2e-3, 300 s
//           smaller: bpe:N with N = 256 + bytes/64 (multiple of 64, at most 4096), or char
//           below 20 KB; 2 layers, 4 heads, width 128, T 64, 120 s
//           token files: GPT-2's tokenizer and the 1 MB model
TrainDefaults train_defaults(Architecture arch, const DataSource *source);

#endif
