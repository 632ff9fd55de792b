// What the commands that train (`groundup train`, `groundup lora train`) share around the
// library's training loop: Ctrl-C turned into a clean stop, the progress printer, the files
// beside a checkpoint, and samples at the end.
#ifndef TOOLS_RUN_H
#define TOOLS_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "gpt/train.h"

// Progress on stderr: one live line on a terminal, otherwise a plain line now and then.
typedef struct Printer {
    int terminal;        // stderr is a terminal: one live line
    double last_update;  // when the live line was last redrawn
    long log_every;      // not a terminal: a line every this many steps
} Printer;

// A printer for a run that validates every eval_every steps (0: only at the end).
Printer printer_for(long eval_every);

// Runs train_run(run) with its progress going to printer and with Ctrl-C setting the loop's
// stop flag (the loop then saves and returns TRAIN_STOPPED); a second Ctrl-C kills as usual.
// Returns what train_run returns.
int run_training(TrainRun *run, Printer *printer, Error *error);

// "out/mlp.ckpt" -> "out/mlp.svg"; "out/model" -> "out/model.svg"
void svg_path_for(const char *checkpoint, char *out, size_t size);
// The directory of path ("." when none).
void directory_of(const char *path, char *out, size_t size);
// Wall-clock seconds from a monotonic clock.
double wall_seconds(void);

// n_samples samples of n_tokens from the start token at temperature 1, on stdout.
int print_samples(Model *model, const TextTokenizer *tokenizer, int n_samples, int n_tokens, uint64_t seed,
                  Error *error);

#endif
