// Run records (see run_record.h): cJSON builds the object, foundations/file.h writes it safely.
#include "tools/run_record.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"

const char *run_record_directory(void) {
    const char *directory = getenv("GROUNDUP_RUNS");
    return directory && directory[0] ? directory : "out/runs";
}

const char *run_record_command(int argc, char **argv, char *buffer, int size) {
    int used = snprintf(buffer, (size_t)size, "groundup");
    for (int i = 1; i < argc && used < size; i++) used += snprintf(buffer + used, (size_t)(size - used), " %s", argv[i]);
    return buffer;
}

static int name_is_plain(const char *name) {
    if (!name || !name[0]) return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
              *c == '_' || *c == '.'))
            return 0;
    return 1;
}

static void add_string(cJSON *object, const char *key, const char *value) {
    if (value) cJSON_AddStringToObject(object, key, value);
}

static cJSON *record_to_json(const RunRecord *record) {
    cJSON *object = cJSON_CreateObject();
    if (!object) return NULL;
    add_string(object, "name", record->name);
    add_string(object, "model", record->model);
    add_string(object, "paper", record->paper);
    if (record->year > 0) cJSON_AddNumberToObject(object, "year", record->year);
    add_string(object, "command", record->command);
    add_string(object, "dataset", record->dataset);
    if (record->parameters > 0) cJSON_AddNumberToObject(object, "parameters", (double)record->parameters);
    if (record->train_seconds > 0) cJSON_AddNumberToObject(object, "train_seconds", record->train_seconds);
    add_string(object, "metric", record->metric);
    cJSON_AddNumberToObject(object, "value", record->value);
    cJSON_AddBoolToObject(object, "higher_is_better", record->higher_is_better);
    add_string(object, "checkpoint", record->checkpoint);
    cJSON *figures = cJSON_AddArrayToObject(object, "figures");
    for (int i = 0; figures && i < RUN_RECORD_MAX_FIGURES; i++) {
        if (record->n_figures > 0 && i >= record->n_figures) break;
        if (!record->figures[i]) break;
        cJSON_AddItemToArray(figures, cJSON_CreateString(record->figures[i]));
    }
    return object;
}

int run_record_write(const RunRecord *record, Error *error) {
    if (!name_is_plain(record->name))
        return error_set(error, "run record: name \"%s\" must be letters, digits, '-', '_' or '.'",
                         record->name ? record->name : "");
    if (!record->metric) return error_set(error, "run record %s: no metric", record->name);
    if (!isfinite(record->value)) return error_set(error, "run record %s: %s is not finite", record->name, record->metric);
    const char *directory = run_record_directory();
    if (make_directories(directory, error)) return -1;
    char path[1024];
    if (snprintf(path, sizeof path, "%s/%s.json", directory, record->name) >= (int)sizeof path)
        return error_set(error, "run record: path too long");
    cJSON *object = record_to_json(record);
    char *text = object ? cJSON_Print(object) : NULL;
    cJSON_Delete(object);
    if (!text) return error_set(error, "run record %s: out of memory", record->name);
    SafeFile out;
    int status = safe_file_open(&out, path, error);
    if (!status && (fputs(text, out.file) == EOF || fputc('\n', out.file) == EOF)) {
        safe_file_abort(&out);
        status = error_set(error, "%s: cannot write", path);
    } else if (!status) {
        status = safe_file_commit(&out, error);
    }
    free(text);
    return status;
}
