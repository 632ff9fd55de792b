// groundup bench allreduce: the time of distributed_average (MPI_Allreduce of floats, then the
// 1/N scale) over buffers from one float to GPT-2 124M's gradients, as a job of N ranks:
//   mpirun -np 2 groundup bench allreduce
// Every repetition starts together (a small collective first), so a time is the reduction's,
// not a wait for a late rank. The "bus bandwidth" is what a ring all-reduce moves per rank,
// 2 (N-1)/N bytes, over the time: comparable across N (the α-β model of README's "Scaling out").
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "foundations/distributed.h"
#include "tools/bench.h"
#include "tools/options.h"

int bench_allreduce(int argc, char **argv) {
    int repeats = 5;
    const Option options[] = {{"--repeats", OPTION_INT, &repeats, "timed repetitions per size (median)"}};
    int parsed = options_parse(argc, argv, "mpirun -np N groundup bench allreduce [--repeats R]", options, 1, NULL, 0, NULL);
    if (parsed == OPTIONS_HELP) return 0;
    if (parsed != OPTIONS_OK) return 2;
    if (repeats < 1 || repeats > 1000) return fail("bench", "--repeats must be in [1, 1000]");
    Distributed job;
    Error error;
    if (distributed_init(&job, 0, &error)) {
        distributed_finalize(&job);
        return distributed_launcher_rank() == 0 ? fail("bench", error.message) : 1;
    }
    // One float, growing sizes, the default model (groundup train on Moby-Dick: 4 layers of
    // 256, bpe:4096, context 128) and GPT-2 124M (context 1024, vocabulary 50257).
    const long sizes[] = {1, 1024, 65536, 1048576, 4240896, 16777216, 124439808};
    const char *names[] = {"", "", "", "", "default gpt2", "", "GPT-2 124M"};
    int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    float *buffer = calloc((size_t)sizes[n_sizes - 1], sizeof(float));
    double *times = malloc(sizeof(double) * (size_t)repeats);
    int status = 0;
    if (!buffer || !times) status = error_set(&error, "out of memory for %ld floats", sizes[n_sizes - 1]);
    if (job.rank == 0 && status == 0)
        printf("all-reduce (average) of fp32 buffers, %d ranks, median of %d\n%12s %12s %12s %14s  %s\n", job.size,
               repeats, "floats", "MB", "ms", "bus GB/s", "");
    for (int s = 0; s < n_sizes && status == 0; s++) {
        for (int r = -1; r < repeats && status == 0; r++) {  // r = -1: a warm-up
            double together = 0.0;
            status = distributed_max(&job, &together, &error);
            double start = clock_seconds();
            if (status == 0) status = distributed_average(&job, buffer, sizes[s], &error);
            double seconds = clock_seconds() - start;
            if (status == 0) status = distributed_max(&job, &seconds, &error);
            if (r >= 0) times[r] = seconds;
        }
        if (status || job.rank != 0) continue;
        double median = bench_median(times, repeats), bytes = 4.0 * (double)sizes[s];
        double moved = job.size > 1 ? 2.0 * (job.size - 1) / job.size * bytes : 0.0;
        printf("%12ld %12.3f %12.3f %14.2f  %s\n", sizes[s], bytes / 1e6, median * 1e3, moved / median / 1e9, names[s]);
    }
    free(buffer);
    free(times);
    distributed_finalize(&job);
    if (status && job.rank == 0) return fail("bench", error.message);
    return status ? 1 : 0;
}
