// libFuzzer harness: run records (tools/run_record.h run_record_read) and the report over them
// (tools/run_report.h). The input is a file <dir>/fuzz.json. A record that loads must keep its
// promises (a plain name, a metric, a finite value, at most RUN_RECORD_MAX_FIGURES figures,
// fields in range); then the directory is collected — the one file either a run or skipped
// with a one-line reason naming it — and the report written (to /dev/null) whatever its text.
#include <math.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz_common.h"
#include "tools/run_record.h"
#include "tools/run_report.h"

static char directory[128], record_path[192];

static void remove_directory(void) {
    unlink(record_path);
    rmdir(directory);
}

static void check_record(const RunRecord *r) {
    fuzz_require(r->name && r->name[0] && strspn(r->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                                              strlen(r->name), "a name that is not plain");
    fuzz_require(r->metric != NULL && isfinite(r->value), "no metric or a non-finite value");
    fuzz_require(r->year >= 0 && r->year <= 9999 && r->parameters >= 0 && r->train_seconds >= 0.0, "a field out of range");
    fuzz_require(r->n_figures >= 0 && r->n_figures <= RUN_RECORD_MAX_FIGURES, "too many figures");
    for (int i = 0; i < r->n_figures; i++) fuzz_require(r->figures[i] != NULL, "a NULL figure");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!directory[0]) {
        snprintf(directory, sizeof directory, "%s/groundup-fuzz-%ld-runs", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                 (long)getpid());
        snprintf(record_path, sizeof record_path, "%s/fuzz.json", directory);
        if (mkdir(directory, 0700) != 0) {
            fprintf(stderr, "fuzz: cannot create %s\n", directory);
            exit(2);
        }
        atexit(remove_directory);
    }
    fuzz_write(record_path, data, size);
    RunRecordFile file;
    Error error = {{0}};
    if (run_record_read(&file, record_path, &error)) {
        fuzz_check_error(&error, record_path);
    } else {
        check_record(&file.record);
        run_record_file_free(&file);
    }
    RunReport report;
    fuzz_require(run_report_collect(&report, directory, &error) == 0, "the directory could not be collected");
    fuzz_require(report.n_runs + report.n_skipped == 1 && report.n_references == 0, "the file is neither a run nor skipped");
    for (int i = 0; i < report.n_skipped; i++)
        fuzz_require(!strchr(report.skipped[i], '\n') && strstr(report.skipped[i], record_path), "a skip reason");
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        fuzz_require(run_report_write_markdown(&report, sink, "docs/report.md", &error) == 0, "the report failed");
        fclose(sink);
    }
    run_report_free(&report);
    return 0;
}
