// What the commands that train (`groundup train`, `groundup lora train`) share around the
// library's training loop: Ctrl-C turned into a clean stop, the progress printer, the files
// beside a checkpoint, and samples at the end.
#ifndef TOOLS_RUN_H
#define TOOLS_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "gpt/train.h"
#include "tools/options.h"

// The options of a training run that every training command takes; each command sets its
// own defaults and option table over these fields.
typedef struct TrainOptions {
    int batch, context, eval_every, eval_batches, threads;  // threads 0: OpenMP's default
    long steps, warmup, seed;  // steps 0: by time, or the command's default
    double seconds;            // 0: by steps
    float lr, min_lr, weight_decay, clip;  // min_lr < 0: lr / 10; clip: by global norm
    const char *optimizer, *schedule;      // names (foundations/optimizer.h); NULL: AdamW, warmup-cosine
    float clip_value, l1, gamma, dropout;  // dropout < 0: not given
    long step_size;
    int early_stop;                        // patience in validations; < 0: not given
} TrainOptions;

// The options every training command shares (--steps --time --batch --context --lr --min-lr
// --warmup --weight-decay --clip-norm (alias --clip) --clip-value --l1 --optimizer --schedule
// --gamma --step-size --dropout --early-stop --seed --eval-every --eval-batches --threads),
// bound to train's fields: written to table (room for TRAIN_OPTION_COUNT), their count returned.
enum { TRAIN_OPTION_COUNT = 22 };
int train_options_table(TrainOptions *train, Option *table);
// 0 when the values make sense, else -1 and what is wrong (for the command's one-line
// error): negative coefficients, unknown names, --clip-norm beside --clip-value, patience 0.
// argc, argv tell which options were given.
int train_options_check(const TrainOptions *train, int argc, char **argv, Error *error);

// The training loop's config for these options; without --steps or --time, default_steps.
// Fails on an unknown optimizer or schedule name.
int train_config_from(const TrainOptions *options, long default_steps, TrainConfig *config, Error *error);

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
// Ctrl-C and SIGTERM set the flag returned (the signal's number) instead of killing, once: a
// second one kills as usual; for a loop that polls it (run_training's, the classifier trainer's).
// stop_signals_release restores the defaults.
const volatile sig_atomic_t *stop_signals_catch(void);
void stop_signals_release(void);
// After run_training returned TRAIN_STOPPED: the exit status the signal calls for, 128 + its
// number (130 for Ctrl-C's SIGINT, 143 for SIGTERM), as a shell reports a killed process.
int stopped_exit_status(void);

// "out/mlp.ckpt" -> "out/mlp.svg"; "out/model" -> "out/model.svg"
void svg_path_for(const char *checkpoint, char *out, size_t size);
// Where early stopping keeps the best: "out/gpt2.ckpt" -> "out/gpt2.best.ckpt"
void best_path_for(const char *checkpoint, char *out, size_t size);
// The directory of path ("." when none).
void directory_of(const char *path, char *out, size_t size);

// A TokenCallback (gpt/sample.h) for generate(): the token's bytes to stdout, flushed so the
// text streams; context is the TextTokenizer.
int write_token(void *tokenizer, int token);

// n_samples samples of n_tokens from the start token at temperature 1, on stdout.
int print_samples(Model *model, const TextTokenizer *tokenizer, int n_samples, int n_tokens, uint64_t seed,
                  Error *error);

#endif
