// Character-level toy tasks for sequence-to-sequence models (the Transformer, models/
// transformer.h; the recurrent encoder–decoder, models/seq2seq_rnn.h). Each task maps a source
// string to a target string by a rule a model must discover from examples:
//   reverse   "31415926"        -> "62951413"     8 to 16 random digits, reversed
//   addition  "1234+56"         -> "1290"         two numbers of 1 to 4 digits, their sum
//   dates     "march 12, 2019"  -> "2019-03-12"   a date in 1900–2099 written one of six ways,
//                                                 in ISO 8601
// Every task shares one vocabulary: three special ids, then the characters of SEQ_CHARACTERS.
// Sources carry no special ids; targets are BOS t_1 .. t_m EOS, so a decoder reads BOS first
// and is trained to end with EOS.
//
// A training set and a held-out set come from one seed, and no held-out source occurs in the
// training set, so exact-match accuracy on the held-out set measures the rule, not memory.
#ifndef MODELS_SEQ_TASKS_H
#define MODELS_SEQ_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "foundations/error.h"
#include "foundations/random.h"

enum { SEQ_PAD = 0, SEQ_BOS = 1, SEQ_EOS = 2 };
#define SEQ_CHARACTERS "0123456789abcdefghijklmnopqrstuvwxyz ,.-+/"

// 3 + strlen(SEQ_CHARACTERS).
int seq_vocab_size(void);

typedef enum { SEQ_TASK_REVERSE, SEQ_TASK_ADDITION, SEQ_TASK_DATES } SeqTask;

// "reverse" | "addition" | "dates"; an error names the unknown task.
int seq_task_parse(const char *name, SeqTask *task, Error *error);
const char *seq_task_name(SeqTask task);
// The longest source (characters) and target (ids, BOS and EOS counted) a task produces.
int seq_task_max_source(SeqTask task);
int seq_task_max_target(SeqTask task);

// Writes one example's source and target text (NUL-terminated; buffers of at least
// seq_task_max_source + 1 and seq_task_max_target + 1 bytes) drawn with rng.
void seq_task_example(SeqTask task, Random *rng, char *source, char *target);

// n examples: sources (n, max_source) padded with SEQ_PAD after the characters, targets
// (n, max_target) = BOS t_1 .. t_m EOS then SEQ_PAD; source_length counts the characters,
// target_length the ids from BOS to EOS inclusive.
typedef struct SeqDataset {
    SeqTask task;
    int n, max_source, max_target;
    int *source, *source_length;  // (n, max_source), (n)
    int *target, *target_length;  // (n, max_target), (n)
} SeqDataset;

// Training (n_train) and held-out (n_test) sets generated from seed; no held-out source occurs
// in the training set. Errors: counts below 1 (or n_test below 0), more examples than the task
// can make distinct enough of, out of memory.
int seq_datasets_make(SeqTask task, int n_train, int n_test, uint64_t seed, SeqDataset *train, SeqDataset *test,
                      Error *error);
void seq_dataset_free(SeqDataset *dataset);

// Text -> ids (no BOS/EOS added), at most capacity of them. Errors: a character outside
// SEQ_CHARACTERS (named, with its position), text longer than capacity.
int seq_encode(const char *text, int *ids, int capacity, int *length, Error *error);
// Ids -> text, stopping at EOS and skipping BOS and PAD; ids that are no character print as
// '?'. text (size >= 1) is always NUL-terminated, cut to fit.
void seq_decode(const int *ids, int n, char *text, size_t size);

#endif
