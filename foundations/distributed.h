// Data-parallel training across processes: the few collective operations a training loop
// needs, over MPI (the Message Passing Interface; Open MPI from Debian) when the build has
// it, and as a job of one process otherwise, so the loop is written once with no #ifdef.
//
// A job is N processes ("ranks" 0..N-1) started together by `mpirun -np N`, on one machine
// or several (--hostfile). Each rank holds the whole model. Per optimizer step each computes
// the gradient g_r of the mean loss over its own share of the global batch, and
//   g = (1/N) Σ_r g_r                                                    (all-reduce, average)
// is the gradient of the mean loss over the whole global batch (equal shares), so every rank
// applies the same update and the parameters stay identical without being sent.
//
// MPI is joined only when asked: when the process was started by mpirun (Open MPI's
// OMPI_COMM_WORLD_SIZE, or PMI_SIZE of MPICH-style launchers, is in the environment) or
// when a number of ranks is requested (--ranks N). A build without MPI that is asked
// refuses with one line, rather than run N unrelated copies that overwrite each other's files.
//
// Every function returns 0 or -1 with an Error; MPI's own failures become errors (the
// communicator returns them instead of aborting: MPI_ERRORS_RETURN).
#ifndef FOUNDATIONS_DISTRIBUTED_H
#define FOUNDATIONS_DISTRIBUTED_H

#include <stddef.h>
#include <stdint.h>

#include "foundations/error.h"

typedef struct Distributed {
    int rank;    // this process, 0..size-1
    int size;    // N, 1 when alone
    int joined;  // MPI_Init was called by distributed_init (distributed_finalize ends it)
} Distributed;

// 1 when this build has MPI (CMake's GROUNDUP_MPI), else 0.
int distributed_available(void);

// The number of ranks a launcher's environment announces (OMPI_COMM_WORLD_SIZE or PMI_SIZE),
// 0 when the process was not started by one.
int distributed_launcher_size(void);

// The rank a launcher's environment gives this process (OMPI_COMM_WORLD_RANK or PMI_RANK),
// 0 when none: known before MPI starts, so that only rank 0 prints even the errors found
// while parsing the command line.
int distributed_launcher_rank(void);

// The job this process belongs to. requested_ranks: 0 = whatever the launcher started (1 when
// no launcher); N > 0 = the run must have exactly N ranks. Errors: ranks requested (or a
// launcher's environment seen) in a build without MPI; N ranks requested but the job has
// another number (naming how to start it); MPI failing to start.
int distributed_init(Distributed *distributed, int requested_ranks, Error *error);
// Leaves MPI when distributed_init joined it (all ranks must call it). Safe on a zeroed struct.
void distributed_finalize(Distributed *distributed);

// buffer (n floats) <- the element-wise mean of every rank's buffer: one MPI_Allreduce
// (sum) then a scale by 1/N. Every rank calls it with the same n. Alone: unchanged.
int distributed_average(const Distributed *distributed, float *buffer, long n, Error *error);

// bytes of buffer on every rank <- root's. Alone: unchanged.
int distributed_broadcast(const Distributed *distributed, void *buffer, size_t bytes, int root, Error *error);

// What the ranks agreed on at a step: whether any asked to stop, and the lowest rank that
// failed (-1: none) with that rank's error message.
typedef struct DistributedAgreement {
    int stop;           // some rank asked to stop (Ctrl-C, SIGTERM)
    int stop_rank;      // the lowest rank that asked (-1: none)
    int failed_rank;    // the lowest rank whose local work failed (-1: none)
    Error failure;      // failed_rank's message, on every rank
} DistributedAgreement;

// Every rank calls it at the same point with its own state: stop (nonzero: this rank asks
// to stop), local_failure (NULL: this rank's work succeeded; else its error). One small
// all-reduce, plus a broadcast of the message when a rank failed. Alone: the local state.
int distributed_agree(const Distributed *distributed, int stop, const Error *local_failure,
                      DistributedAgreement *agreement, Error *error);

// Compares the FNV-1a 64 hash of bytes (n) across ranks (an all-gather of 8 bytes each).
// Error when some rank's differs from rank 0's: "<what> differ between ranks: rank R's
// checksum H, rank 0's H0". Alone: always equal.
int distributed_check_same(const Distributed *distributed, const void *bytes, size_t n, const char *what,
                           Error *error);

// The largest of every rank's value (for timings: a collective step takes the slowest rank's time).
int distributed_max(const Distributed *distributed, double *value, Error *error);

// ---- nonblocking sums (gpt/train.c's bucketed all-reduce) -------------------------------
// Sums started as soon as a part of a buffer is final and waited for together: a training
// step starts reducing the top layers' gradients while the backward computes the layers
// below, so the communication hides behind computation.

// The sums started and not yet waited for.
typedef struct DistributedRequests {
    void *requests;  // MPI_Request (capacity) in MPI builds
    int n, capacity;
} DistributedRequests;

// Starts buffer (n floats) <- the element-wise sum of every rank's buffer (MPI_Iallreduce, in
// place). The buffer must not be read or written until distributed_wait returns. Every rank
// starts the same sums (the same n) in the same order, and no rank calls another collective
// in between with a different one. Alone: nothing to do. Errors: out of memory, MPI's.
int distributed_sum_start(const Distributed *distributed, float *buffer, long n, DistributedRequests *requests,
                          Error *error);

// Lets MPI move the started sums on (MPI_Testall) without waiting: Open MPI progresses a
// nonblocking collective only inside MPI calls, so a long computation calls this now and then.
int distributed_progress(const Distributed *distributed, DistributedRequests *requests, Error *error);

// Waits for every started sum (MPI_Waitall); requests is empty after it.
int distributed_wait(const Distributed *distributed, DistributedRequests *requests, Error *error);

void distributed_requests_free(DistributedRequests *requests);

// ---- shards (ZeRO stage 1: gpt/train.c's --zero 1) ---------------------------------------
// A buffer of n values split across the ranks: rank r owns [first_r, first_r + count_r), equal
// parts of ceil(n/N) values in rank order, the last ones shorter (or empty when n < N).

// Rank `rank`'s part of n values (alone: all of them).
void distributed_shard(const Distributed *distributed, long n, int rank, long *first, long *count);

// shard (this rank's count) <- this rank's part of the element-wise sum of every rank's buffer
// (n floats): a reduce-scatter (half the traffic of an all-reduce), in rounds of at most 1 M
// floats per rank so that no temporary as large as the buffer is needed. shard may be this
// rank's part of buffer itself (in place). Alone: shard <- buffer. Errors: out of memory, MPI's.
int distributed_reduce_scatter(const Distributed *distributed, const float *buffer, long n, float *shard,
                               Error *error);

// buffer (n floats) on every rank <- each rank's part of it, from that rank's buffer
// (MPI_Allgatherv in place). Alone: unchanged.
int distributed_all_gather(const Distributed *distributed, float *buffer, long n, Error *error);

// buffer (n floats) on root <- each rank's part, sent from shard (this rank's count floats)
// (MPI_Gatherv). buffer is only read on root (NULL elsewhere). Alone: buffer <- shard.
int distributed_gather(const Distributed *distributed, const float *shard, float *buffer, long n, int root,
                       Error *error);

// ---- sums in double precision ------------------------------------------------------------

// values (n doubles) <- the element-wise sum of every rank's values: one MPI_Allreduce in
// double precision (counts and sums of losses, exact where a float average would round).
// Every rank calls it with the same n. Alone: unchanged.
int distributed_sum(const Distributed *distributed, double *values, long n, Error *error);

#endif
