// The comparison report (run_report.h): the records of a directory, then Markdown.
#include "tools/run_report.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char REFERENCE_SUFFIX[] = ".pytorch.json", RECORD_SUFFIX[] = ".json";

static int ends_with(const char *text, const char *suffix) {
    size_t n = strlen(text), m = strlen(suffix);
    return n > m && strcmp(text + n - m, suffix) == 0;
}

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// The *.json file names of directory, sorted (malloc'd array of malloc'd strings).
static int list_records(const char *directory, char ***names, int *n, Error *error) {
    *names = NULL, *n = 0;
    DIR *dir = opendir(directory);
    if (!dir) return error_set(error, "%s: cannot open the directory of run records", directory);
    int capacity = 0, status = 0;
    for (struct dirent *entry; !status && (entry = readdir(dir)) != NULL;) {
        if (entry->d_name[0] == '.' || !ends_with(entry->d_name, RECORD_SUFFIX)) continue;
        if (*n == capacity) {
            capacity = capacity ? 2 * capacity : 16;
            char **grown = realloc(*names, sizeof *grown * (size_t)capacity);
            if (!grown) {
                status = error_set(error, "%s: out of memory", directory);
                break;
            }
            *names = grown;
        }
        if (!((*names)[*n] = strdup(entry->d_name))) status = error_set(error, "%s: out of memory", directory);
        else ++*n;
    }
    closedir(dir);
    if (*n > 1) qsort(*names, (size_t)*n, sizeof **names, compare_strings);
    return status;
}

// Appends what to the growing array *items of *n elements of size bytes; -1 out of memory.
static int append(void *items, int *n, size_t size, const void *what) {
    void *grown = realloc(*(void **)items, size * (size_t)(*n + 1));
    if (!grown) return -1;
    memcpy((char *)grown + size * (size_t)*n, what, size);
    *(void **)items = grown;
    ++*n;
    return 0;
}

static int skip(RunReport *report, const char *message) {
    char *line = strdup(message);
    if (!line || append(&report->skipped, &report->n_skipped, sizeof line, &line)) {
        free(line);
        return -1;
    }
    return 0;
}

// Reads directory/name into the runs or the references, or notes why it is skipped.
static int collect_one(RunReport *report, const char *directory, const char *name, Error *error) {
    char path[4096];
    Error why = {{0}};
    if (snprintf(path, sizeof path, "%s/%s", directory, name) >= (int)sizeof path)
        return skip(report, "a run record's path is too long") ? error_set(error, "out of memory") : 0;
    int reference = ends_with(name, REFERENCE_SUFFIX);
    size_t stem = strlen(name) - strlen(reference ? REFERENCE_SUFFIX : RECORD_SUFFIX);
    RunRecordFile file;
    if (run_record_read(&file, path, &why) == 0 &&
        (strlen(file.record.name) != stem || strncmp(file.record.name, name, stem) != 0)) {
        error_set(&why, "%s: the record of \"%.80s\" under another file name", path, file.record.name);
        run_record_file_free(&file);
    } else if (file.json) {
        if (append(reference ? (void *)&report->references : (void *)&report->runs,
                   reference ? &report->n_references : &report->n_runs, sizeof file, &file)) {
            run_record_file_free(&file);
            return error_set(error, "out of memory");
        }
        return 0;
    }
    return skip(report, why.message) ? error_set(error, "out of memory") : 0;
}

int run_report_collect(RunReport *report, const char *directory, Error *error) {
    memset(report, 0, sizeof *report);
    char **names;
    int n, status = list_records(directory, &names, &n, error);
    for (int i = 0; i < n && !status; i++) status = collect_one(report, directory, names[i], error);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    if (status) run_report_free(report);
    return status;
}

const RunRecordFile *run_report_reference(const RunReport *report, const RunRecord *run) {
    for (int i = 0; i < report->n_references; i++) {
        const RunRecord *r = &report->references[i].record;
        if (strcmp(r->name, run->name) == 0 && strcmp(r->metric, run->metric) == 0) return &report->references[i];
    }
    return NULL;
}

// Text in a table cell: '|' escaped, line breaks and tabs as spaces.
static void write_cell(FILE *out, const char *text) {
    fputs("| ", out);
    for (const char *c = text ? text : "—"; *c; c++) {
        if (*c == '|') fputs("\\|", out);
        else if (*c == '\n' || *c == '\r' || *c == '\t') fputc(' ', out);
        else fputc(*c, out);
    }
    fputc(' ', out);
}

// 652824 -> "652,824"; 0 -> "—".
static void format_count(long n, char *text, size_t size) {
    if (n <= 0) {
        snprintf(text, size, "—");
        return;
    }
    char digits[32];
    int length = snprintf(digits, sizeof digits, "%ld", n), used = 0;
    for (int i = 0; i < length && used + 2 < (int)size; i++) {
        if (i > 0 && (length - i) % 3 == 0) text[used++] = ',';
        text[used++] = digits[i];
    }
    text[used] = '\0';
}

// 0.0206 -> "0.02 s"; 12.3 -> "12.3 s"; 181.4 -> "3 min 01 s"; 5400 -> "1 h 30 min"; 0 -> "—".
static void format_seconds(double s, char *text, size_t size) {
    if (!(s > 0.0)) snprintf(text, size, "—");
    else if (s < 1.0) snprintf(text, size, "%.2f s", s);
    else if (s < 60.0) snprintf(text, size, "%.1f s", s);
    else if (s < 3600.0) snprintf(text, size, "%d min %02d s", (int)(s / 60.0), (int)fmod(s, 60.0));
    else snprintf(text, size, "%d h %02d min", (int)(s / 3600.0), (int)fmod(s / 60.0, 60.0));
}

// Four significant digits, whole numbers from 10,000 on.
static void format_value(double v, char *text, size_t size) {
    if (fabs(v) >= 1e4) snprintf(text, size, "%.0f", v);
    else snprintf(text, size, "%.4g", v);
}

// "Kingma & Welling 2013", the paper alone, the year alone, or "—".
static void format_paper(const RunRecord *run, char *text, size_t size) {
    if (run->paper && run->year > 0) snprintf(text, size, "%s %d", run->paper, run->year);
    else if (run->paper) snprintf(text, size, "%s", run->paper);
    else if (run->year > 0) snprintf(text, size, "%d", run->year);
    else snprintf(text, size, "—");
}

static void write_row(FILE *out, const RunRecord *run, const RunRecord *ours, const RunRecord *pytorch) {
    char paper[160], count[32], seconds[32], metric[200], value[32], theirs[32];
    format_paper(run, paper, sizeof paper);
    format_count(run->parameters, count, sizeof count);
    format_seconds(run->train_seconds, seconds, sizeof seconds);
    snprintf(metric, sizeof metric, "%s %s", run->metric, run->higher_is_better ? "↑" : "↓");
    if (ours) format_value(ours->value, value, sizeof value);
    else snprintf(value, sizeof value, "—");
    if (pytorch) format_value(pytorch->value, theirs, sizeof theirs);
    else snprintf(theirs, sizeof theirs, "—");
    write_cell(out, run->name), write_cell(out, run->model ? run->model : run->name), write_cell(out, paper);
    write_cell(out, count), write_cell(out, seconds), write_cell(out, metric), write_cell(out, value);
    write_cell(out, theirs);
    fputs("|\n", out);
}

// Whether a reference has a run of ours with its name and metric.
static int has_run(const RunReport *report, const RunRecord *reference) {
    for (int i = 0; i < report->n_runs; i++)
        if (strcmp(report->runs[i].record.name, reference->name) == 0 &&
            strcmp(report->runs[i].record.metric, reference->metric) == 0)
            return 1;
    return 0;
}

// "../" once per directory of out_path's folder, when the report goes to a relative path in a
// folder below this one (the figures' relative paths are from here); "" otherwise.
static int link_prefix(const char *out_path, char *prefix, size_t size) {
    prefix[0] = '\0';
    if (!out_path || out_path[0] == '/') return 0;
    const char *slash = strrchr(out_path, '/');
    size_t used = 0;
    for (const char *part = out_path; slash && part < slash;) {
        const char *end = strchr(part, '/');
        size_t length = (size_t)(end - part);
        if (length == 2 && part[0] == '.' && part[1] == '.') return -1;  // above here: give up rewriting
        if (length > 0 && !(length == 1 && part[0] == '.')) {
            if (used + 4 > size) return -1;
            memcpy(prefix + used, "../", 4), used += 3;
        }
        part = end + 1;
    }
    return 0;
}

// A path as a link target: percent-encoded where Markdown would end or break the link.
static void write_link_target(FILE *out, const char *prefix, const char *path) {
    if (path[0] != '/') fputs(prefix, out);
    for (const char *c = path; *c; c++) {
        if (strchr(" ()<>[]\"'", *c) || (unsigned char)*c < 0x20) fprintf(out, "%%%02X", (unsigned char)*c);
        else fputc(*c, out);
    }
}

static void write_figures(FILE *out, const RunReport *report, const char *prefix) {
    int any = 0;
    for (int i = 0; i < report->n_runs; i++) any |= report->runs[i].record.n_figures > 0;
    if (!any) return;
    fputs("\n## Figures\n", out);
    for (int i = 0; i < report->n_runs; i++) {
        const RunRecord *r = &report->runs[i].record;
        if (r->n_figures == 0) continue;
        fprintf(out, "\n**%s**", r->name);
        if (r->model) fprintf(out, " (%s)", r->model);
        fputs("\n\n", out);
        for (int f = 0; f < r->n_figures; f++) {
            const char *base = strrchr(r->figures[f], '/');
            fputs("![", out);
            for (const char *c = base ? base + 1 : r->figures[f]; *c; c++) fputc(strchr("[]\n\r", *c) ? ' ' : *c, out);
            fputs("](", out);
            write_link_target(out, prefix, r->figures[f]);
            fputs(")\n", out);
        }
    }
}

static void write_commands(FILE *out, const RunReport *report) {
    int any = 0;
    for (int i = 0; i < report->n_runs; i++) any |= report->runs[i].record.command != NULL;
    if (!any) return;
    fputs("\n## Commands\n\n", out);
    for (int i = 0; i < report->n_runs; i++) {
        const RunRecord *r = &report->runs[i].record;
        if (!r->command) continue;
        const char *fence = strchr(r->command, '`') ? "`` " : "`";
        fprintf(out, "- %s: %s", r->name, fence);
        for (const char *c = r->command; *c; c++) fputc(*c == '\n' || *c == '\r' ? ' ' : *c, out);
        fprintf(out, "%s\n", strchr(r->command, '`') ? " ``" : "`");
    }
}

// The trained models beside PyTorch's: a row per run of ours, then PyTorch's runs that have
// none of ours. Nothing when there are only experiments; returns whether it wrote the table.
static int write_models(FILE *out, const RunReport *report) {
    int models = report->n_references;
    for (int i = 0; i < report->n_runs; i++) models += !run_record_is_experiment(&report->runs[i].record);
    if (models == 0) return 0;
    fputs("| Run | Model | Paper | Parameters | Training | Metric | groundup | PyTorch |\n", out);
    fputs("|---|---|---|--:|--:|---|--:|--:|\n", out);
    for (int i = 0; i < report->n_runs; i++) {
        const RunRecord *run = &report->runs[i].record;
        if (run_record_is_experiment(run)) continue;
        const RunRecordFile *reference = run_report_reference(report, run);
        write_row(out, run, run, reference ? &reference->record : NULL);
    }
    for (int i = 0; i < report->n_references; i++)
        if (!has_run(report, &report->references[i].record))
            write_row(out, &report->references[i].record, NULL, &report->references[i].record);
    return 1;
}

// groundup explore's records, apart from the models: what each experiment trained, its headline
// and what that is measured against (the runs of one experiment compared with each other, not
// a model to rank).
static void write_experiments(FILE *out, const RunReport *report, int after_models) {
    int any = 0;
    for (int i = 0; i < report->n_runs; i++) {
        const RunRecord *r = &report->runs[i].record;
        if (!run_record_is_experiment(r)) continue;
        if (!any++)
            fprintf(out, "%s## Experiments (groundup explore: measurements, not trained models)\n\n"
                         "| Experiment | Trained | Paper | Time | Result | Value | Against |\n|---|---|---|--:|---|--:|---|\n",
                    after_models ? "\n" : "");
        char paper[160], seconds[32], value[32], against[160] = "—";
        format_paper(r, paper, sizeof paper);
        format_seconds(r->train_seconds, seconds, sizeof seconds);
        format_value(r->value, value, sizeof value);
        if (r->against) {
            char theirs[32];
            format_value(r->against_value, theirs, sizeof theirs);
            snprintf(against, sizeof against, "%s: %s", r->against, theirs);
        }
        write_cell(out, r->name), write_cell(out, r->model), write_cell(out, paper), write_cell(out, seconds);
        write_cell(out, r->metric), write_cell(out, value), write_cell(out, against);
        fputs("|\n", out);
    }
}

int run_report_write_markdown(const RunReport *report, FILE *out, const char *out_path, Error *error) {
    char prefix[1024];
    if (link_prefix(out_path, prefix, sizeof prefix)) prefix[0] = '\0';
    write_experiments(out, report, write_models(out, report));
    write_figures(out, report, prefix);
    write_commands(out, report);
    if (fflush(out) != 0 || ferror(out)) return error_set(error, "%s: cannot write the report", out_path ? out_path : "stdout");
    return 0;
}

void run_report_free(RunReport *report) {
    for (int i = 0; i < report->n_runs; i++) run_record_file_free(&report->runs[i]);
    for (int i = 0; i < report->n_references; i++) run_record_file_free(&report->references[i]);
    for (int i = 0; i < report->n_skipped; i++) free(report->skipped[i]);
    free(report->runs), free(report->references), free(report->skipped);
    memset(report, 0, sizeof *report);
}
