// What every training command does at its end: leave a run record for `groundup report`
// (tools/run_record.h). record_run fills in the paper; record_language_model is `groundup
// train`'s record of a language model stage (bigram, mlp, gpt2).
#include <stdio.h>
#include <string.h>

#include "gpt/eval.h"
#include "gpt/model.h"
#include "gpt/train.h"
#include "tools/commands.h"
#include "tools/run_record.h"

void record_run(const char *command, const char *key, RunRecord *record) {
    const RunRecordModel *known = run_record_model(key);
    if (known && !record->model) record->model = known->model;
    if (known && !record->paper) record->paper = known->paper;
    if (known && record->year == 0) record->year = known->year;
    Error error = {{0}};
    if (run_record_write(record, &error))
        fprintf(stderr, "groundup: %s: warning: no run record: %s\n", command, error.message);
    else
        fprintf(stderr, "run record %s/%s.json\n", run_record_directory(), record->name);
}

const char *record_name_from_file(const char *prefix, const char *path, char *name, int size) {
    run_record_name_from(prefix, path, name, size);
    char *extension = strrchr(name, '.');  // "lm-gpt2-mobydick.txt" -> "lm-gpt2-mobydick"
    if (extension && extension > name + strlen(prefix)) *extension = '\0';
    return name;
}

void record_language_model(const Model *model, int argc, char **argv, const char *data_path, const TrainState *state,
                           const EvalResult *heldout, const char *out_path, const char *svg_path) {
    const char *arch = architecture_name(model->config.arch);
    char name[96], stem[96], command[1024], dataset[1100];
    snprintf(stem, sizeof stem, "lm-%s", arch);
    record_name_from_file(stem, data_path, name, sizeof name);
    snprintf(dataset, sizeof dataset, "%s", data_path);
    RunRecord record = {.name = name, .command = run_record_command(argc, argv, command, sizeof command), .dataset = dataset,
                        .parameters = model_count_parameters(model), .train_seconds = state->elapsed_seconds,
                        .checkpoint = out_path, .figures = {svg_path}};
    if (heldout) {  // the whole held-out text: comparable whatever the tokenizer
        record.metric = "held-out bits per byte", record.value = heldout->bits_per_byte;
    } else if (state->val_curve.n > 0) {
        record.metric = "validation loss (nats/token)", record.value = state->val_curve.losses[state->val_curve.n - 1];
    } else {
        return;  // nothing was measured on held-out text: no record
    }
    record_run("train", model->config.arch == ARCH_MLP ? "lm-mlp" : arch, &record);
}
