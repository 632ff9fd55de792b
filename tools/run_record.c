// Run records (see run_record.h): cJSON builds the object, foundations/file.h writes it safely.
#include "tools/run_record.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "foundations/file.h"

enum { RECORD_MAX_BYTES = 1 << 20 };

// The papers (first authors and the year of the first public version, arXiv where there was one).
static const RunRecordModel MODELS[] = {
    {"bigram", "bigram language model", "Shannon", 1948},
    {"lm-mlp", "MLP language model", "Bengio et al.", 2003},
    {"gpt2", "GPT-2", "Radford et al.", 2019},
    {"lora", "LoRA on GPT-2", "Hu et al.", 2021},
    {"dpo", "DPO on GPT-2", "Rafailov et al.", 2023},
    {"mlp", "MLP", "Rumelhart, Hinton & Williams", 1986},
    {"lenet5", "LeNet-5", "LeCun et al.", 1998},
    {"alexnet", "AlexNet", "Krizhevsky, Sutskever & Hinton", 2012},
    {"resnet", "ResNet", "He et al.", 2015},
    {"vit", "ViT", "Dosovitskiy et al.", 2020},
    {"unet", "U-Net", "Ronneberger, Fischer & Brox", 2015},
    {"transformer", "Transformer", "Vaswani et al.", 2017},
    {"gru", "GRU encoder-decoder with attention", "Bahdanau, Cho & Bengio", 2014},
    {"lstm", "LSTM encoder-decoder with attention", "Bahdanau, Cho & Bengio", 2014},
    {"bert", "BERT", "Devlin et al.", 2018},
    {"vae", "VAE", "Kingma & Welling", 2013},
    {"gan", "GAN", "Goodfellow et al.", 2014},
    {"dcgan", "DCGAN", "Radford, Metz & Chintala", 2015},
    {"ddpm", "DDPM", "Ho, Jain & Abbeel", 2020},
    {"realnvp", "RealNVP", "Dinh, Sohl-Dickstein & Bengio", 2016},
    {"score_model", "NCSN (score model)", "Song & Ermon", 2019},
    {"gcn", "GCN", "Kipf & Welling", 2017},
    {"neural_ode", "Neural ODE", "Chen et al.", 2018},
    {"maml", "MAML", "Finn, Abbeel & Levine", 2017},
};

const RunRecordModel *run_record_model(const char *key) {
    for (size_t i = 0; key && i < sizeof MODELS / sizeof MODELS[0]; i++)
        if (strcmp(MODELS[i].key, key) == 0) return &MODELS[i];
    return NULL;
}

int run_record_is_experiment(const RunRecord *record) {
    return record->kind && strcmp(record->kind, RUN_RECORD_EXPERIMENT) == 0;
}

const char *run_record_directory(void) {
    const char *directory = getenv("GROUNDUP_RUNS");
    return directory && directory[0] ? directory : "out/runs";
}

// Appends " word" to buffer (used of size bytes so far) if it fits whole, in single quotes when
// it holds a space, a quote, a shell character or nothing (a quote inside as '\''); returns the
// new length (unchanged when it does not fit: the line is cut between words).
static int append_word(char *buffer, int used, int size, const char *word) {
    int quoted = !word[0] || strpbrk(word, " \t'\"\\$`;&|<>()*?#~!") != NULL;
    int n = snprintf(buffer + used, (size_t)(size - used), quoted ? " '" : " ");
    for (const char *c = word; *c && used + n < size; c++)
        n += snprintf(buffer + used + n, (size_t)(size - used - n), *c == '\'' && quoted ? "'\\''" : "%c", *c);
    if (quoted && used + n < size) n += snprintf(buffer + used + n, (size_t)(size - used - n), "'");
    if (used + n >= size) {  // cut: take the word back out
        buffer[used] = '\0';
        return used;
    }
    return used + n;
}

const char *run_record_subcommand(const char *command, int argc, char **argv, char *buffer, int size) {
    if (size < 1) return buffer;
    int used = snprintf(buffer, (size_t)size, "groundup");
    used = used < size ? used : size - 1;
    if (command) used = append_word(buffer, used, size, command);
    for (int i = 0; i < argc; i++) used = append_word(buffer, used, size, argv[i]);
    return buffer;
}

const char *run_record_command(int argc, char **argv, char *buffer, int size) {
    return run_record_subcommand(NULL, argc, argv, buffer, size);
}

static int plain_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

// Letters, digits, '-', '_' and '.', not starting with '.' (no hidden files, no "." or "..").
static int name_is_plain(const char *name) {
    if (!name || !name[0] || name[0] == '.') return 0;
    for (const char *c = name; *c; c++)
        if (!plain_character(*c)) return 0;
    return 1;
}

const char *run_record_name_from(const char *prefix, const char *path, char *name, int size) {
    size_t length = strlen(path);
    while (length > 1 && path[length - 1] == '/') length--;  // "data/mnist/" -> "mnist"
    size_t start = length;
    while (start > 0 && path[start - 1] != '/') start--;
    snprintf(name, (size_t)size, "%s-%.*s", prefix, (int)(length - start), path + start);
    for (char *c = name; *c; c++)
        if (!plain_character(*c)) *c = '-';
    return name;
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
    if (record->train_seconds > 0) cJSON_AddNumberToObject(object, "train_seconds", round(record->train_seconds * 1000.0) / 1000.0);  // ms
    add_string(object, "metric", record->metric);
    cJSON_AddNumberToObject(object, "value", record->value);
    cJSON_AddBoolToObject(object, "higher_is_better", record->higher_is_better);
    add_string(object, "checkpoint", record->checkpoint);
    cJSON *figures = cJSON_AddArrayToObject(object, "figures");
    int n = record->n_figures > 0 && record->n_figures < RUN_RECORD_MAX_FIGURES ? record->n_figures : RUN_RECORD_MAX_FIGURES;
    for (int i = 0; figures && i < n; i++) {
        if (!record->figures[i] && record->n_figures == 0) break;  // NULL-terminated
        if (record->figures[i]) cJSON_AddItemToArray(figures, cJSON_CreateString(record->figures[i]));  // NULL: skipped
    }
    add_string(object, "kind", record->kind);
    if (record->against && isfinite(record->against_value)) {
        add_string(object, "against", record->against);
        cJSON_AddNumberToObject(object, "against_value", record->against_value);
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

// The optional string field key into *value (NULL when absent); -1 when it is not a string.
static int optional_string(const cJSON *object, const char *key, const char **value, const char *path, Error *error) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    *value = NULL;
    if (!item || cJSON_IsNull(item)) return 0;
    if (!cJSON_IsString(item) || !item->valuestring) return error_set(error, "%s: \"%s\" is not a string", path, key);
    *value = item->valuestring;
    return 0;
}

// The optional number field key into *value (fallback when absent), checked to lie in [low, high].
static int optional_number(const cJSON *object, const char *key, double low, double high, double fallback, double *value,
                           const char *path, Error *error) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    *value = fallback;
    if (!item || cJSON_IsNull(item)) return 0;
    if (!cJSON_IsNumber(item)) return error_set(error, "%s: \"%s\" is not a number", path, key);
    if (!(item->valuedouble >= low && item->valuedouble <= high))
        return error_set(error, "%s: \"%s\" %g is outside [%g, %g]", path, key, item->valuedouble, low, high);
    *value = item->valuedouble;
    return 0;
}

// The fields of a parsed object into record (strings pointing into object).
static int record_from_json(const cJSON *object, RunRecord *record, const char *path, Error *error) {
    double year, parameters, seconds, against_value;
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, "value");
    const cJSON *better = cJSON_GetObjectItemCaseSensitive(object, "higher_is_better");
    const cJSON *figures = cJSON_GetObjectItemCaseSensitive(object, "figures");
    if (optional_string(object, "name", &record->name, path, error) || optional_string(object, "model", &record->model, path, error) ||
        optional_string(object, "paper", &record->paper, path, error) ||
        optional_string(object, "command", &record->command, path, error) ||
        optional_string(object, "dataset", &record->dataset, path, error) ||
        optional_string(object, "metric", &record->metric, path, error) ||
        optional_string(object, "checkpoint", &record->checkpoint, path, error) ||
        optional_string(object, "kind", &record->kind, path, error) ||
        optional_string(object, "against", &record->against, path, error) ||
        optional_number(object, "against_value", -DBL_MAX, DBL_MAX, NAN, &against_value, path, error) ||
        optional_number(object, "year", 0.0, 9999.0, 0.0, &year, path, error) ||
        optional_number(object, "parameters", 0.0, 1e15, 0.0, &parameters, path, error) ||
        optional_number(object, "train_seconds", 0.0, 1e9, 0.0, &seconds, path, error))
        return -1;
    if (!record->name) return error_set(error, "%s: not a run record (no \"name\")", path);
    if (!name_is_plain(record->name)) return error_set(error, "%s: name \"%.60s\" is not letters, digits, '-', '_' or '.'", path, record->name);
    if (!record->metric) return error_set(error, "%s: not a run record (no \"metric\")", path);
    if (!cJSON_IsNumber(value) || !isfinite(value->valuedouble))
        return error_set(error, "%s: \"value\" is missing or not a finite number", path);
    if (better && !cJSON_IsBool(better)) return error_set(error, "%s: \"higher_is_better\" is not true or false", path);
    if (figures && !cJSON_IsArray(figures) && !cJSON_IsNull(figures)) return error_set(error, "%s: \"figures\" is not an array", path);
    record->year = (int)year, record->parameters = (long)parameters, record->train_seconds = seconds;
    record->value = value->valuedouble, record->against_value = against_value;
    if (!isfinite(against_value)) record->against = NULL;  // a name without its value says nothing
    record->higher_is_better = cJSON_IsTrue(better);
    const cJSON *figure;
    const cJSON *list = cJSON_IsArray(figures) ? figures : NULL;
    cJSON_ArrayForEach(figure, list) {
        if (!cJSON_IsString(figure) || !figure->valuestring) return error_set(error, "%s: a figure is not a string", path);
        if (record->n_figures < RUN_RECORD_MAX_FIGURES) record->figures[record->n_figures++] = figure->valuestring;
    }
    return 0;
}

int run_record_parse(RunRecordFile *file, const char *text, size_t length, const char *path, Error *error) {
    memset(file, 0, sizeof *file);
    const char *end = NULL;
    cJSON *object = cJSON_ParseWithLengthOpts(text, length, &end, 0);
    if (!object) return error_set(error, "%s: not JSON (near byte %ld)", path, end && end >= text ? (long)(end - text) : 0L);
    for (; end && end < text + length; end++)  // only white space may follow the object
        if (!(*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) {
            cJSON_Delete(object);
            return error_set(error, "%s: text after the JSON object (byte %ld)", path, (long)(end - text));
        }
    if (!cJSON_IsObject(object)) {
        cJSON_Delete(object);
        return error_set(error, "%s: not a run record (not a JSON object)", path);
    }
    if (record_from_json(object, &file->record, path, error)) {
        cJSON_Delete(object);
        memset(file, 0, sizeof *file);
        return -1;
    }
    file->json = object;
    return 0;
}

int run_record_read(RunRecordFile *file, const char *path, Error *error) {
    memset(file, 0, sizeof *file);
    struct stat status_of;
    if (stat(path, &status_of) == 0 && status_of.st_size > RECORD_MAX_BYTES)
        return error_set(error, "%s: %lld bytes, too large for a run record", path, (long long)status_of.st_size);
    unsigned char *data;
    size_t n;
    if (file_read_all(path, &data, &n, error)) return -1;
    int status = run_record_parse(file, (const char *)data, n, path, error);
    free(data);
    return status;
}

void run_record_file_free(RunRecordFile *file) {
    cJSON_Delete(file->json);
    memset(file, 0, sizeof *file);
}
