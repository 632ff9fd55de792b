// The comparison report of `groundup report`: every run record in a directory (run_record.h)
// gathered and written as one Markdown table, with PyTorch's value beside ours where a
// reference script left <name>.pytorch.json for the same run name and metric, groundup
// explore's experiments in a table of their own, then the figures as image links and the
// commands that made the runs. Reads records; trains nothing.
#ifndef TOOLS_RUN_REPORT_H
#define TOOLS_RUN_REPORT_H

#include <stdio.h>

#include "foundations/error.h"
#include "tools/run_record.h"

typedef struct RunReport {
    RunRecordFile *runs;        // ours (<name>.json), sorted by name
    int n_runs;
    RunRecordFile *references;  // PyTorch's (<name>.pytorch.json), sorted by name
    int n_references;
    char **skipped;             // one line per file left out: "<path>: why" (malloc'd)
    int n_skipped;
} RunReport;

// Reads every *.json of directory into report. A file that is not a run record (not JSON,
// another JSON, a field of the wrong type, a file name that is not "<its name>.json", a second
// record of a name) is skipped and listed in report->skipped, never an error. Errors: the
// directory cannot be opened, out of memory. On failure report is empty (safe to free).
int run_report_collect(RunReport *report, const char *directory, Error *error);

// The report as Markdown on out: a heading, the table (run, model, paper and year, parameters,
// training time, metric with ↑ or ↓, our value, PyTorch's; left out when every record is an
// experiment), the experiments' table under "## Experiments" (experiment, what it trained,
// paper, time, result, value, what it is measured against), the figures as image links and the
// commands. out_path is where the text goes (NULL: stdout): relative figure paths are rewritten
// relative to its directory so the links work from there. Errors: a write error on out.
int run_report_write_markdown(const RunReport *report, FILE *out, const char *out_path, Error *error);

// The PyTorch reference for run (same name and metric), or NULL.
const RunRecordFile *run_report_reference(const RunReport *report, const RunRecord *run);

void run_report_free(RunReport *report);

#endif
