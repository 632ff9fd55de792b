// main() of a test that runs alone and as N ranks under mpirun (tests/mpirun.bash): joins the
// job (foundations/distributed.h), runs the cases (tests/check.h) on every rank, leaves it.
#ifndef TESTS_CHECK_JOB_H
#define TESTS_CHECK_JOB_H

#include <stdio.h>

#include "foundations/distributed.h"
#include "tests/check.h"

// The exit status of check_run over the cases, 1 when the job cannot start.
static inline int check_run_job(Distributed *job, int argc, char **argv, const CheckCase *cases, size_t n_cases) {
    Error error;
    if (distributed_init(job, 0, &error)) {
        fprintf(stderr, "%s\n", error.message);
        return 1;
    }
    int status = check_run(argc, argv, cases, n_cases);
    distributed_finalize(job);
    return status;
}

#endif
