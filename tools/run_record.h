// A run record: what a training command leaves in out/runs/ so that `groundup report` can
// compare every model without training anything. One small JSON file per run, written
// safely (temporary file, then rename), named after the run: out/runs/<name>.json.
//
//   {"name": "vae-latent20", "model": "VAE", "paper": "Kingma & Welling", "year": 2013,
//    "command": "groundup vae train --latent 20", "dataset": "MNIST 8,000/2,000",
//    "parameters": 652824, "train_seconds": 181.4,
//    "metric": "test ELBO (nats)", "value": -118.43, "higher_is_better": true,
//    "checkpoint": "out/vae.safetensors", "figures": ["out/vae-samples.png", ...]}
//
// A PyTorch reference script measuring the same model and recipe writes the same fields to
// out/runs/<name>.pytorch.json (at least "name", "metric" and "value"); the report puts its
// value beside ours.
//
// `groundup explore <topic>` leaves an experiment's record, out/runs/explore-<topic>.json: the
// same fields with "kind": "experiment", and its headline measured against what the topic
// compares it with: "against": "Adam", "against_value": 340. The report lists experiments in a
// table of their own: they are measurements, not models to rank.
#ifndef TOOLS_RUN_RECORD_H
#define TOOLS_RUN_RECORD_H

#include <stddef.h>

#include "foundations/error.h"

enum { RUN_RECORD_MAX_FIGURES = 8 };

typedef struct RunRecord {
    const char *name;        // file name stem, e.g. "vae-latent20" (letters, digits, - _ .)
    const char *model;       // the model's usual name: "VAE", "DDPM", "ResNet-8"
    const char *paper;       // first author(s), e.g. "Kingma & Welling"; NULL if none
    int year;                // the paper's year; 0 if none
    const char *command;     // the command line that made the run (run_record_command)
    const char *dataset;     // what it was trained and measured on
    long parameters;         // trained parameters
    double train_seconds;    // wall-clock training time, s
    const char *metric;      // what value measures, with its unit: "test accuracy (%)"
    double value;
    int higher_is_better;
    const char *checkpoint;  // the weights written, or NULL
    const char *figures[RUN_RECORD_MAX_FIGURES];  // pictures written: NULL-terminated, or the first
    int n_figures;                                // n_figures with the NULL ones skipped
    const char *kind;        // RUN_RECORD_EXPERIMENT for groundup explore's records; NULL: a trained model
    const char *against;     // what value is measured against ("Adam", "random re-initialisation"), or NULL
    double against_value;    // its value, in value's unit (written only with against, and when finite)
} RunRecord;

// The kind of groundup explore's records.
#define RUN_RECORD_EXPERIMENT "experiment"

// Whether a record is an experiment's (kind RUN_RECORD_EXPERIMENT) rather than a trained model's.
int run_record_is_experiment(const RunRecord *record);

// A model's usual name and its paper, for a record: run_record_model("lenet5") is
// {"lenet5", "LeNet-5", "LeCun et al.", 1998}. Keys are the architecture names the commands
// use (classifier_arch_name, the checkpoints' "arch"); NULL for an unknown one.
typedef struct RunRecordModel {
    const char *key, *model, *paper;
    int year;
} RunRecordModel;
const RunRecordModel *run_record_model(const char *key);

// The directory records go to: $GROUNDUP_RUNS if set, else "out/runs".
const char *run_record_directory(void);

// The command line of a command as `groundup` dispatched it (argv[0] is the command's name:
// "train", "gcn"): "groundup train --arch lenet5 ..." into buffer (cut to size), an argument
// with a space or a quote in single quotes; returns buffer.
const char *run_record_command(int argc, char **argv, char *buffer, int size);
// The same for a sub-command (argv[0] is "train" of `groundup vae train`): "groundup vae train ...".
const char *run_record_subcommand(const char *command, int argc, char **argv, char *buffer, int size);

// "<prefix>-<the last part of path>" into name (cut to size), every character a file name of a
// record cannot have as '-': run_record_name_from("lenet5", "data/mnist/", ...) is "lenet5-mnist".
const char *run_record_name_from(const char *prefix, const char *path, char *name, int size);

// Writes <run_record_directory()>/<record->name>.json (making the directory). Errors: a
// missing name or metric, a name with characters outside [A-Za-z0-9._-], a non-finite value,
// the file not writable.
int run_record_write(const RunRecord *record, Error *error);

// A record read back (by groundup report): record's strings point into json, the parsed file,
// which run_record_file_free releases.
typedef struct RunRecordFile {
    RunRecord record;
    void *json;  // the cJSON tree the strings live in
} RunRecordFile;

// Parses a record from text (length bytes; no terminating NUL needed); path only names it in
// errors. Needs "name" (as run_record_write allows), "metric" (a string) and a finite "value";
// the other fields are optional but, when present, of their type and range ("year" 0..9999,
// "against_value" finite,
// "parameters" and "train_seconds" finite and >= 0, "figures" an array of strings: the first
// RUN_RECORD_MAX_FIGURES kept). Errors, one line "<path>: ...": not JSON, not an object, a
// field missing or of the wrong type or range, out of memory. On failure file is empty.
int run_record_parse(RunRecordFile *file, const char *text, size_t length, const char *path, Error *error);
// Reads and parses the file at path (errors as above, or the file cannot be read; at most 1 MB).
int run_record_read(RunRecordFile *file, const char *path, Error *error);
void run_record_file_free(RunRecordFile *file);

#endif
