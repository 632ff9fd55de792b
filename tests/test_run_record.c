// Run records and the comparison report (tools/run_record.h, tools/run_report.h): records
// written into a temporary $GROUNDUP_RUNS come back field for field; the report of a directory
// with two runs, a PyTorch reference, a reference without a run of ours, a malformed file, a
// foreign JSON file and a record under another file name has one row per run with the values
// and PyTorch's beside ours, skips the bad files naming each, and links the figures.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "tools/run_record.h"
#include "tools/run_report.h"

static void write_text(const char *directory, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

// The report as text (malloc'd), written to a temporary file and read back.
static char *report_text(const RunReport *report, const char *out_path) {
    FILE *f = tmpfile();
    if (!f) return NULL;
    Error error = {{0}};
    char *text = NULL;
    long n;
    if (run_report_write_markdown(report, f, out_path, &error) == 0 && (n = ftell(f)) >= 0 && (text = calloc((size_t)n + 1, 1))) {
        rewind(f);
        if (fread(text, 1, (size_t)n, f) != (size_t)n) free(text), text = NULL;
    }
    fclose(f);
    return text;
}

// The table row (a line) that starts with "| name |", or NULL.
static const char *row_of(const char *text, const char *name) {
    char start[96];
    snprintf(start, sizeof start, "\n| %s |", name);
    const char *row = strstr(text, start);
    return row ? row + 1 : NULL;
}

static int row_has(const char *row, const char *cell) {
    const char *end = row ? strchr(row, '\n') : NULL;
    const char *found = row ? strstr(row, cell) : NULL;
    return found && end && found < end;
}

static void records_round_trip(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    char directory[128];
    snprintf(directory, sizeof directory, "%s/trip", check_directory());
    setenv("GROUNDUP_RUNS", directory, 1);
    CHECK(strcmp(run_record_directory(), directory) == 0, "directory %s", run_record_directory());
    RunRecord record = {.name = "vae-latent20", .model = "VAE", .paper = "Kingma & Welling", .year = 2013,
                        .command = "groundup vae train --data data/mnist", .dataset = "MNIST", .parameters = 652824,
                        .train_seconds = 181.5, .metric = "test ELBO (nats)", .value = -118.4375, .higher_is_better = 1,
                        .checkpoint = "out/vae.safetensors", .figures = {"out/vae_samples.png", "out/vae_latent.svg"}};
    Error error = {{0}};
    REQUIRE(run_record_write(&record, &error) == 0, "write: %s", error.message);
    char path[256];
    snprintf(path, sizeof path, "%s/vae-latent20.json", directory);
    RunRecordFile file;
    REQUIRE(run_record_read(&file, path, &error) == 0, "read: %s", error.message);
    const RunRecord *r = &file.record;
    CHECK(strcmp(r->name, "vae-latent20") == 0 && strcmp(r->model, "VAE") == 0 && strcmp(r->paper, "Kingma & Welling") == 0,
          "strings %s %s %s", r->name, r->model, r->paper);
    CHECK(r->year == 2013 && r->parameters == 652824 && r->higher_is_better == 1, "numbers %d %ld", r->year, r->parameters);
    CHECK_NEAR(r->train_seconds, 181.5, 0.0);
    CHECK_NEAR(r->value, -118.4375, 0.0);
    CHECK(r->n_figures == 2 && strcmp(r->figures[1], "out/vae_latent.svg") == 0, "figures %d", r->n_figures);
    CHECK(strcmp(r->checkpoint, "out/vae.safetensors") == 0 && strcmp(r->command, record.command) == 0, "%s", r->checkpoint);
    run_record_file_free(&file);
    RunRecord bad = record;
    bad.name = "../escape";
    CHECK(run_record_write(&bad, &error) != 0 && strstr(error.message, "../escape"), "a name with a slash: %s", error.message);
    bad = record, bad.value = NAN;
    CHECK(run_record_write(&bad, &error) != 0 && strstr(error.message, "not finite"), "a NaN value: %s", error.message);
    unsetenv("GROUNDUP_RUNS");
}

static void command_lines_quote_and_cut(void) {
    char *argv[] = {"train", "--data", "my data", "--note", "it's", "--empty", ""};
    char line[128];
    run_record_subcommand("vae", 7, argv, line, sizeof line);
    CHECK(strcmp(line, "groundup vae train --data 'my data' --note 'it'\\''s' --empty ''") == 0, "%s", line);
    run_record_command(2, argv, line, sizeof line);
    CHECK(strcmp(line, "groundup train --data") == 0, "%s", line);
    char small[20];
    run_record_subcommand("vae", 7, argv, small, sizeof small);  // cut at the buffer, still a string
    CHECK(strcmp(small, "groundup vae train") == 0, "cut: '%s'", small);
    char name[64];
    run_record_name_from("lenet5", "data/fashion mnist/", name, sizeof name);
    CHECK(strcmp(name, "lenet5-fashion-mnist") == 0, "%s", name);
    RunRecord hidden = {.name = ".hidden", .metric = "m", .value = 1.0};
    Error error = {{0}};
    CHECK(run_record_write(&hidden, &error) != 0, "a name starting with '.' was written");
}

static void parse_errors_name_the_file(void) {
    static const struct {
        const char *text, *why;
    } cases[] = {
        {"", "not JSON"},
        {"{\"name\": \"a\", \"metric\": \"m\", \"value\": 1", "not JSON"},
        {"[1, 2]", "not a JSON object"},
        {"{\"name\": \"pkg\", \"version\": \"1.0\"}", "no \"metric\""},
        {"{\"metric\": \"m\", \"value\": 1}", "no \"name\""},
        {"{\"name\": \"a/b\", \"metric\": \"m\", \"value\": 1}", "is not letters"},
        {"{\"name\": \"a\", \"metric\": \"m\", \"value\": \"1\"}", "\"value\" is missing"},
        {"{\"name\": \"a\", \"metric\": 3, \"value\": 1}", "\"metric\" is not a string"},
        {"{\"name\": \"a\", \"metric\": \"m\", \"value\": 1, \"year\": -5}", "\"year\" -5 is outside"},
        {"{\"name\": \"a\", \"metric\": \"m\", \"value\": 1, \"parameters\": 1e300}", "\"parameters\""},
        {"{\"name\": \"a\", \"metric\": \"m\", \"value\": 1, \"figures\": \"x.png\"}", "\"figures\" is not an array"},
        {"{\"name\": \"a\", \"metric\": \"m\", \"value\": 1, \"figures\": [1]}", "a figure is not a string"},
        {"{\"name\": \"a\", \"metric\": \"m\", \"value\": 1, \"higher_is_better\": 1}", "\"higher_is_better\""},
        {"{\"name\": \"a\", \"metric\": \"m\", \"value\": 1} {}", "text after"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        RunRecordFile file;
        Error error = {{0}};
        int status = run_record_parse(&file, cases[i].text, strlen(cases[i].text), "runs/x.json", &error);
        CHECK(status != 0, "case %zu (%s) parsed", i, cases[i].text);
        CHECK(strncmp(error.message, "runs/x.json: ", 13) == 0 && strstr(error.message, cases[i].why),
              "case %zu: '%s' lacks '%s'", i, error.message, cases[i].why);
        CHECK(file.json == NULL, "case %zu left a tree", i);
        if (status == 0) run_record_file_free(&file);
    }
    RunRecordFile file;
    Error error;
    const char *minimal = "{\"name\": \"a\", \"metric\": \"m\", \"value\": 2.5, \"extra\": {\"x\": [1]}}";
    REQUIRE(run_record_parse(&file, minimal, strlen(minimal), "a.json", &error) == 0, "%s", error.message);
    CHECK(file.record.model == NULL && file.record.year == 0 && file.record.n_figures == 0, "optional fields present");
    CHECK_NEAR(file.record.value, 2.5, 0.0);
    run_record_file_free(&file);
}

static void report_rows_values_and_skips(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    char directory[128];
    snprintf(directory, sizeof directory, "%s/runs", check_directory());
    setenv("GROUNDUP_RUNS", directory, 1);
    Error error = {{0}};
    RunRecord vae = {.name = "vae-latent20", .model = "VAE", .paper = "Kingma & Welling", .year = 2013, .parameters = 652824,
                     .train_seconds = 181.4, .metric = "test ELBO (nats)", .value = -118.43, .higher_is_better = 1,
                     .command = "groundup vae train --data data/mnist", .figures = {"out/vae samples.png"}};
    RunRecord gcn = {.name = "gcn-karate", .model = "GCN", .paper = "Kipf & Welling", .year = 2017, .parameters = 578,
                     .train_seconds = 0.05, .metric = "accuracy | unlabelled (%)", .value = 96.875, .higher_is_better = 1};
    REQUIRE(run_record_write(&vae, &error) == 0 && run_record_write(&gcn, &error) == 0, "write: %s", error.message);
    write_text(directory, "vae-latent20.pytorch.json", "{\"name\": \"vae-latent20\", \"metric\": \"test ELBO (nats)\", \"value\": -117.9}");
    write_text(directory, "mlp.pytorch.json", "{\"name\": \"mlp\", \"model\": \"MLP\", \"metric\": \"test accuracy (%)\", \"value\": 97.5, \"higher_is_better\": true}");
    write_text(directory, "broken.json", "{\"name\": \"broken\", \"metric\": ");
    write_text(directory, "package.json", "{\"name\": \"package\", \"version\": \"1.0.0\"}");
    write_text(directory, "renamed.json", "{\"name\": \"other\", \"metric\": \"m\", \"value\": 1}");
    write_text(directory, "notes.txt", "not a record");
    unsetenv("GROUNDUP_RUNS");

    RunReport report;
    REQUIRE(run_report_collect(&report, directory, &error) == 0, "collect: %s", error.message);
    CHECK(report.n_runs == 2 && report.n_references == 2, "%d runs, %d references", report.n_runs, report.n_references);
    CHECK(report.n_skipped == 3, "%d skipped", report.n_skipped);
    const char *expected[] = {"broken.json: not JSON", "package.json: not a run record (no \"metric\")",
                              "renamed.json: the record of \"other\" under another file name"};
    for (int i = 0; i < 3 && i < report.n_skipped; i++)
        CHECK(strstr(report.skipped[i], expected[i]) && strstr(report.skipped[i], directory), "skipped[%d] '%s'", i,
              report.skipped[i]);
    CHECK(report.n_runs == 2 && strcmp(report.runs[0].record.name, "gcn-karate") == 0, "not sorted by name");
    char *text = report_text(&report, NULL);
    REQUIRE(text, "no report text");
    CHECK(strncmp(text, "| Run | Model | Paper | Parameters | Training | Metric | groundup | PyTorch |\n", 75) == 0, "header: %.80s", text);
    const char *row = row_of(text, "vae-latent20");
    CHECK(row_has(row, "| VAE | Kingma & Welling 2013 | 652,824 | 3 min 01 s | test ELBO (nats) ↑ | -118.4 | -117.9 |"),
          "vae row: %.160s", row ? row : "(none)");
    row = row_of(text, "gcn-karate");
    CHECK(row_has(row, "| GCN | Kipf & Welling 2017 | 578 | 0.05 s | accuracy \\| unlabelled (%) ↑ | 96.88 | — |"),
          "gcn row: %.160s", row ? row : "(none)");
    row = row_of(text, "mlp");
    CHECK(row_has(row, "| MLP | — | — | — | test accuracy (%) ↑ | — | 97.5 |"), "PyTorch-only row: %.160s", row ? row : "(none)");
    CHECK(!row_of(text, "broken") && !row_of(text, "package") && !row_of(text, "other"), "a skipped file has a row");
    CHECK(strstr(text, "## Figures") && strstr(text, "![vae samples.png](out/vae%20samples.png)"), "no figure link");
    CHECK(strstr(text, "- vae-latent20: `groundup vae train --data data/mnist`"), "no command");
    free(text);
    text = report_text(&report, "docs/reports/report.md");  // links relative to where the report goes
    CHECK(text && strstr(text, "](../../out/vae%20samples.png)"), "links from docs/reports/");
    free(text);
    run_report_free(&report);
    CHECK(run_report_collect(&report, "/nonexistent-runs", &error) != 0 && strstr(error.message, "/nonexistent-runs"),
          "a missing directory: %s", error.message);
}

// groundup explore's records: kind and against come back; the report puts them in a table of
// their own after the models', never among the models' rows; only experiments: no models' table.
static int write_in(const char *directory, const RunRecord *record, Error *error) {
    setenv("GROUNDUP_RUNS", directory, 1);
    int status = run_record_write(record, error);
    unsetenv("GROUNDUP_RUNS");
    return status;
}

static void experiments_apart_from_models(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    char directory[128];
    snprintf(directory, sizeof directory, "%s/experiments", check_directory());
    RunRecord ticket = {.name = "explore-lottery-ticket", .model = "MLP 784-32-10", .paper = "Frankle & Carbin",
                        .year = 2018, .train_seconds = 12.5, .metric = "test accuracy (%) at 25.00% of the weights",
                        .value = 91.25, .higher_is_better = 1, .kind = RUN_RECORD_EXPERIMENT,
                        .against = "random re-initialisation", .against_value = 88.5};
    RunRecord lonely = {.name = "explore-x", .metric = "m", .value = 1.0, .kind = RUN_RECORD_EXPERIMENT,
                        .against = "not a number", .against_value = NAN};
    Error error = {{0}};
    REQUIRE(write_in(directory, &ticket, &error) == 0 && write_in(directory, &lonely, &error) == 0, "write: %s", error.message);
    RunReport report;
    REQUIRE(run_report_collect(&report, directory, &error) == 0, "collect: %s", error.message);
    REQUIRE(report.n_runs == 2, "%d runs", report.n_runs);
    const RunRecord *r = &report.runs[0].record, *x = &report.runs[1].record;
    CHECK(run_record_is_experiment(r) && strcmp(r->against, "random re-initialisation") == 0, "kind or against lost");
    CHECK_NEAR(r->against_value, 88.5, 0.0);
    CHECK(run_record_is_experiment(x) && x->against == NULL, "a non-finite against_value was kept");
    char *text = report_text(&report, NULL);
    REQUIRE(text, "no report text");
    CHECK(strncmp(text, "## Experiments", 14) == 0, "only experiments, yet: %.60s", text);
    CHECK(!strstr(text, "| Run | Model |"), "a models' table without models");
    CHECK(row_has(row_of(text, "explore-lottery-ticket"), "| MLP 784-32-10 | Frankle & Carbin 2018 | 12.5 s | test accuracy "
                                                          "(%) at 25.00% of the weights | 91.25 | random re-initialisation: 88.5 |"),
          "experiment row: %.200s", text);
    free(text);
    run_report_free(&report);
    RunRecord vae = {.name = "vae", .metric = "test ELBO (nats)", .value = -118.0, .higher_is_better = 1};
    REQUIRE(write_in(directory, &vae, &error) == 0, "write: %s", error.message);
    REQUIRE(run_report_collect(&report, directory, &error) == 0, "collect: %s", error.message);
    text = report_text(&report, NULL);
    REQUIRE(text, "no report text");
    const char *experiments = strstr(text, "\n\n## Experiments"), *vae_row = row_of(text, "vae");
    CHECK(strncmp(text, "| Run | Model |", 15) == 0 && experiments && vae_row && vae_row < experiments,
          "the model's table first, then the experiments': %.300s", text);
    CHECK(row_of(text, "explore-x") > experiments, "an experiment among the models");
    free(text);
    run_report_free(&report);
}

static const CheckCase CASES[] = {
    {"records round trip", records_round_trip},
    {"command lines quote and cut", command_lines_quote_and_cut},
    {"parse errors name the file", parse_errors_name_the_file},
    {"report rows values and skips", report_rows_values_and_skips},
    {"experiments apart from models", experiments_apart_from_models},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
