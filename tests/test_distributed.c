// foundations/distributed: the collectives give the values they promise on every rank.
// ctest runs this alone (a job of one) and, when the build has MPI, as 2 ranks under mpirun
// (test_distributed_mpi); each case then runs on both ranks, which call the collectives in
// the same order.
#include <stdlib.h>
#include <string.h>

#include "foundations/distributed.h"
#include "tests/check.h"

// The job, joined once in main (every case uses it).
static Distributed job;

static void average_is_the_mean_over_ranks(void) {
    enum { N = 1000 };
    float buffer[N];
    for (int i = 0; i < N; i++) buffer[i] = (float)(job.rank * 1000 + i);
    Error error;
    REQUIRE(distributed_average(&job, buffer, N, &error) == 0, "%s", error.message);
    // mean over r of (1000 r + i) = 1000 (N-1)/2 + i, exact in floats for these sizes
    double offset = 1000.0 * (job.size - 1) / 2.0;
    int wrong = 0;
    for (int i = 0; i < N; i++) wrong += buffer[i] != (float)(offset + i);
    CHECK(wrong == 0, "%d of %d elements are not the mean (first: %g, want %g)", wrong, N, (double)buffer[0], offset);
}

static void broadcast_copies_the_roots_bytes(void) {
    int root = job.size - 1;
    char text[32];
    snprintf(text, sizeof text, "from rank %d", job.rank);
    Error error;
    REQUIRE(distributed_broadcast(&job, text, sizeof text, root, &error) == 0, "%s", error.message);
    char want[32];
    snprintf(want, sizeof want, "from rank %d", root);
    CHECK(strcmp(text, want) == 0, "rank %d has '%s', want '%s'", job.rank, text, want);
}

static void agreement_names_the_lowest_failing_rank(void) {
    Error error, mine;
    DistributedAgreement agreed;
    REQUIRE(distributed_agree(&job, 0, NULL, &agreed, &error) == 0, "%s", error.message);
    CHECK(!agreed.stop && agreed.stop_rank == -1 && agreed.failed_rank == -1, "nothing happened: stop %d failed %d",
          agreed.stop, agreed.failed_rank);

    // The last rank fails (and, with several ranks, rank 0 too: the lowest is named).
    int last = job.size - 1, fails = job.rank == last || job.rank == 0;
    snprintf(mine.message, sizeof mine.message, "out of disk on rank %d", job.rank);
    REQUIRE(distributed_agree(&job, 0, fails ? &mine : NULL, &agreed, &error) == 0, "%s", error.message);
    CHECK(agreed.failed_rank == 0, "failed rank %d, want 0", agreed.failed_rank);
    CHECK(strcmp(agreed.failure.message, "out of disk on rank 0") == 0, "message '%s'", agreed.failure.message);
    CHECK(!agreed.stop, "nobody asked to stop");

    // Only the last rank fails: every rank gets its message.
    REQUIRE(distributed_agree(&job, 0, job.rank == last ? &mine : NULL, &agreed, &error) == 0, "%s", error.message);
    char want[64];
    snprintf(want, sizeof want, "out of disk on rank %d", last);
    CHECK(agreed.failed_rank == last && strcmp(agreed.failure.message, want) == 0, "rank %d: '%s'", agreed.failed_rank,
          agreed.failure.message);
}

static void a_stop_on_one_rank_stops_all(void) {
    Error error;
    DistributedAgreement agreed;
    int last = job.size - 1;
    REQUIRE(distributed_agree(&job, job.rank == last, NULL, &agreed, &error) == 0, "%s", error.message);
    CHECK(agreed.stop && agreed.stop_rank == last && agreed.failed_rank == -1, "stop %d by rank %d, failed %d",
          agreed.stop, agreed.stop_rank, agreed.failed_rank);
}

static void checksums_compare_across_ranks(void) {
    float same[64], differs[64];
    for (int i = 0; i < 64; i++) same[i] = differs[i] = (float)i;
    Error error;
    CHECK(distributed_check_same(&job, same, sizeof same, "the parameters", &error) == 0, "%s", error.message);
    differs[7] += (float)job.rank;  // rank 0 keeps the values, the others change one
    int status = distributed_check_same(&job, differs, sizeof differs, "the parameters", &error);
    if (job.size == 1) {
        CHECK(status == 0, "alone: always the same");
    } else {
        CHECK(status == -1, "rank 1's parameters differ");
        if (status) CHECK(strstr(error.message, "the parameters differ between ranks: rank 1's checksum"), "%s", error.message);
    }
}

static void maximum_over_ranks(void) {
    double value = 10.0 + job.rank;
    Error error;
    REQUIRE(distributed_max(&job, &value, &error) == 0, "%s", error.message);
    CHECK(value == 10.0 + job.size - 1, "max %g", value);
}

// Asked for several ranks without a launcher: a build with MPI says how to start the job, one
// without says it has no MPI. (Skipped inside a launched job, whose environment says mpirun.)
static void ranks_requested_alone_is_an_error(void) {
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE")) return;
    Distributed other;
    Error error;
    CHECK(distributed_init(&other, 2, &error) == -1, "--ranks 2 alone must fail");
    if (distributed_available())
        CHECK(strstr(error.message, "mpirun -np 2"), "%s", error.message);
    else
        CHECK(strstr(error.message, "built without MPI"), "%s", error.message);
    CHECK(distributed_init(&other, 1, &error) == 0 && other.size == 1 && other.rank == 0, "--ranks 1 alone is fine");
    CHECK(distributed_init(&other, -1, &error) == -1, "--ranks -1");
    // A build without MPI started by mpirun refuses rather than run unrelated copies.
    if (!distributed_available()) {
        setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
        CHECK(distributed_init(&other, 0, &error) == -1 && strstr(error.message, "started by mpirun"), "%s",
              error.message);
        unsetenv("OMPI_COMM_WORLD_SIZE");
    }
}

static const CheckCase CASES[] = {
    {"average is the mean over ranks", average_is_the_mean_over_ranks},
    {"broadcast copies the root's bytes", broadcast_copies_the_roots_bytes},
    {"agreement names the lowest failing rank", agreement_names_the_lowest_failing_rank},
    {"a stop on one rank stops all", a_stop_on_one_rank_stops_all},
    {"checksums compare across ranks", checksums_compare_across_ranks},
    {"maximum over ranks", maximum_over_ranks},
    {"ranks requested alone is an error", ranks_requested_alone_is_an_error},
};

int main(int argc, char **argv) {
    Error error;
    if (distributed_init(&job, 0, &error)) {
        fprintf(stderr, "%s\n", error.message);
        return 1;
    }
    int status = check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES);
    distributed_finalize(&job);
    return status;
}
