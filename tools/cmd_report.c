// groundup report: the comparison report of every model trained so far. Reads the run records
// the training commands left (tools/run_record.h: out/runs/<name>.json, and PyTorch's
// <name>.pytorch.json from the reference scripts) and writes one Markdown table with the
// figures and the commands (tools/run_report.h). Trains nothing.
//
//   groundup report [--runs out/runs] [--out FILE]
#include <stdio.h>
#include <unistd.h>

#include "foundations/file.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run_report.h"

int command_report(int argc, char **argv) {
    const char *runs = run_record_directory(), *out_path = NULL;
    const Option options[] = {
        {"--runs", OPTION_STRING, &runs, "the directory of run records (default $GROUNDUP_RUNS or out/runs)"},
        {"--out", OPTION_STRING, &out_path, "write the Markdown here (replaced only once complete) instead of stdout"},
    };
    int parsed = options_parse(argc, argv, "groundup report [--runs out/runs] [--out FILE.md]", options, 2, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    Error error = {{0}};
    RunReport report;
    if (access(runs, F_OK) != 0) {
        fprintf(stderr, "groundup: report: no run records: %s does not exist (a training command leaves one there)\n", runs);
        return 1;
    }
    if (run_report_collect(&report, runs, &error)) return fail("report", error.message);
    for (int i = 0; i < report.n_skipped; i++) fprintf(stderr, "groundup: report: skipped %s\n", report.skipped[i]);
    int status = 0;
    if (report.n_runs == 0) {
        fprintf(stderr, "groundup: report: no run records in %s (a training command leaves one: groundup vae train, gan "
                        "train, flow train, gcn, train --arch lenet5 --data DIR, ...)\n", runs);
        status = 1;
    } else if (out_path) {
        SafeFile out;
        status = safe_file_open(&out, out_path, &error);
        if (!status && run_report_write_markdown(&report, out.file, out_path, &error)) safe_file_abort(&out), status = -1;
        else if (!status) status = safe_file_commit(&out, &error);
        if (!status) fprintf(stderr, "report: %d runs, %d PyTorch references -> %s\n", report.n_runs, report.n_references, out_path);
        else status = fail("report", error.message);
    } else if (run_report_write_markdown(&report, stdout, NULL, &error)) {
        status = fail("report", error.message);
    }
    run_report_free(&report);
    return status;
}
