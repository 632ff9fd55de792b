// Collective operations for data-parallel training (foundations/distributed.h): over MPI when
// the build has it (GROUNDUP_MPI), a job of one process otherwise. The two are side by side
// per function; callers never see the difference.
#include "foundations/distributed.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/hash.h"

#if GROUNDUP_MPI
#include <mpi.h>
#endif

// Open MPI's mpirun, or a PMI launcher such as MPICH's hydra or Slurm's srun.
int distributed_launcher_size(void) {
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = getenv(names[i]);
        if (value && *value) {
            long size = strtol(value, NULL, 10);
            if (size > 0 && size < INT_MAX) return (int)size;
        }
    }
    return 0;
}

int distributed_launcher_rank(void) {
    const char *names[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = getenv(names[i]);
        if (value && *value) {
            long rank = strtol(value, NULL, 10);
            if (rank >= 0 && rank < INT_MAX) return (int)rank;
        }
    }
    return 0;
}

int distributed_available(void) { return GROUNDUP_MPI ? 1 : 0; }

#if GROUNDUP_MPI
// An MPI call's failure as one line.
static int mpi_failed(Error *error, const char *call, int code) {
    char text[MPI_MAX_ERROR_STRING] = "";
    int length = 0;
    MPI_Error_string(code, text, &length);
    return error_set(error, "%s failed: %s", call, text);
}
#endif

int distributed_init(Distributed *distributed, int requested_ranks, Error *error) {
    memset(distributed, 0, sizeof *distributed);
    distributed->size = 1;
    int launched = distributed_launcher_size();
    if (requested_ranks < 0) return error_set(error, "--ranks %d must be >= 1", requested_ranks);
    if (!GROUNDUP_MPI && (requested_ranks > 1 || launched > 1))
        return error_set(error, "%s, but this groundup was built without MPI (install libopenmpi-dev openmpi-bin and "
                         "rebuild: cmake -S . -B build -DGROUNDUP_MPI=ON)",
                         requested_ranks > 1 ? "--ranks asks for several processes" : "started by mpirun");
    if (!launched) {
        if (requested_ranks > 1)
            return error_set(error, "--ranks %d: this process was started alone; start the job with "
                             "mpirun -np %d groundup ...", requested_ranks, requested_ranks);
        return 0;
    }
#if GROUNDUP_MPI
    // OpenMP threads compute but only this thread calls MPI.
    int provided = 0, code = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Init_thread", code);
    distributed->joined = 1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &distributed->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &distributed->size);
#endif
    if (requested_ranks > 0 && requested_ranks != distributed->size)
        return error_set(error, "--ranks %d, but the job has %d (start it with mpirun -np %d)", requested_ranks,
                         distributed->size, requested_ranks);
    return 0;
}

void distributed_finalize(Distributed *distributed) {
#if GROUNDUP_MPI
    if (distributed->joined) MPI_Finalize();
#endif
    distributed->joined = 0;
}

int distributed_average(const Distributed *distributed, float *buffer, long n, Error *error) {
    if (!distributed || distributed->size == 1) return 0;
#if GROUNDUP_MPI
    // MPI counts are ints: a buffer past 2^31 floats goes in pieces.
    for (long done = 0; done < n;) {
        int count = n - done > (1L << 30) ? 1 << 30 : (int)(n - done);
        int code = MPI_Allreduce(MPI_IN_PLACE, buffer + done, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Allreduce", code);
        done += count;
    }
    float scale = 1.0f / (float)distributed->size;
    for (long i = 0; i < n; i++) buffer[i] *= scale;
#else
    (void)buffer, (void)n, (void)error;
#endif
    return 0;
}

int distributed_broadcast(const Distributed *distributed, void *buffer, size_t bytes, int root, Error *error) {
    if (!distributed || distributed->size == 1) return 0;
#if GROUNDUP_MPI
    for (size_t done = 0; done < bytes;) {
        int count = bytes - done > (1u << 30) ? 1 << 30 : (int)(bytes - done);
        int code = MPI_Bcast((char *)buffer + done, count, MPI_BYTE, root, MPI_COMM_WORLD);
        if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Bcast", code);
        done += (size_t)count;
    }
#else
    (void)buffer, (void)bytes, (void)root, (void)error;
#endif
    return 0;
}

int distributed_agree(const Distributed *distributed, int stop, const Error *local_failure,
                      DistributedAgreement *agreement, Error *error) {
    memset(agreement, 0, sizeof *agreement);
    int rank = distributed ? distributed->rank : 0;
    // The lowest rank with a property is the largest -rank: one MPI_MAX over both.
    int values[2] = {stop ? -rank : INT_MIN, local_failure ? -rank : INT_MIN};
    if (distributed && distributed->size > 1) {
#if GROUNDUP_MPI
        int code = MPI_Allreduce(MPI_IN_PLACE, values, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Allreduce", code);
#endif
    }
    agreement->stop = values[0] != INT_MIN;
    agreement->stop_rank = values[0] != INT_MIN ? -values[0] : -1;
    agreement->failed_rank = values[1] != INT_MIN ? -values[1] : -1;
    if (agreement->failed_rank < 0) return 0;
    if (agreement->failed_rank == rank) agreement->failure = *local_failure;
    return distributed_broadcast(distributed, agreement->failure.message, sizeof agreement->failure.message,
                                 agreement->failed_rank, error);
}

int distributed_check_same(const Distributed *distributed, const void *bytes, size_t n, const char *what,
                           Error *error) {
    if (!distributed || distributed->size == 1) return 0;
    uint64_t mine = fnv1a(FNV_OFFSET, bytes, n);
    uint64_t *all = malloc(sizeof(uint64_t) * (size_t)distributed->size);
    if (!all) return error_set(error, "out of memory for %d checksums", distributed->size);
    int status = 0;
#if GROUNDUP_MPI
    int code = MPI_Allgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    if (code != MPI_SUCCESS) status = mpi_failed(error, "MPI_Allgather", code);
#else
    all[0] = mine;
#endif
    for (int r = 1; r < distributed->size && status == 0; r++)
        if (all[r] != all[0])
            status = error_set(error, "%s differ between ranks: rank %d's checksum %016llx, rank 0's %016llx", what, r,
                               (unsigned long long)all[r], (unsigned long long)all[0]);
    free(all);
    return status;
}

int distributed_max(const Distributed *distributed, double *value, Error *error) {
    if (!distributed || distributed->size == 1) return 0;
#if GROUNDUP_MPI
    int code = MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Allreduce", code);
#else
    (void)value, (void)error;
#endif
    return 0;
}

// ---- nonblocking sums --------------------------------------------------------------------

int distributed_sum_start(const Distributed *distributed, float *buffer, long n, DistributedRequests *requests,
                          Error *error) {
    if (!distributed || distributed->size == 1) return 0;
#if GROUNDUP_MPI
    for (long done = 0; done < n;) {
        int count = n - done > (1L << 30) ? 1 << 30 : (int)(n - done);
        if (requests->n == requests->capacity) {
            int capacity = requests->capacity ? 2 * requests->capacity : 16;
            void *grown = realloc(requests->requests, sizeof(MPI_Request) * (size_t)capacity);
            if (!grown) return error_set(error, "out of memory for %d pending reductions", capacity);
            requests->requests = grown;
            requests->capacity = capacity;
        }
        MPI_Request *request = (MPI_Request *)requests->requests + requests->n;
        int code = MPI_Iallreduce(MPI_IN_PLACE, buffer + done, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, request);
        if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Iallreduce", code);
        requests->n++;
        done += count;
    }
#else
    (void)buffer, (void)n, (void)requests, (void)error;
#endif
    return 0;
}

int distributed_progress(const Distributed *distributed, DistributedRequests *requests, Error *error) {
    if (!distributed || distributed->size == 1 || requests->n == 0) return 0;
#if GROUNDUP_MPI
    int done = 0;
    int code = MPI_Testall(requests->n, requests->requests, &done, MPI_STATUSES_IGNORE);
    if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Testall", code);
    if (done) requests->n = 0;
#else
    (void)error;
#endif
    return 0;
}

int distributed_wait(const Distributed *distributed, DistributedRequests *requests, Error *error) {
    if (!distributed || distributed->size == 1 || requests->n == 0) return 0;
#if GROUNDUP_MPI
    int code = MPI_Waitall(requests->n, requests->requests, MPI_STATUSES_IGNORE);
    requests->n = 0;
    if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Waitall", code);
#else
    (void)error;
#endif
    return 0;
}

void distributed_requests_free(DistributedRequests *requests) {
    free(requests->requests);
    memset(requests, 0, sizeof *requests);
}

// ---- shards ------------------------------------------------------------------------------

void distributed_shard(const Distributed *distributed, long n, int rank, long *first, long *count) {
    int size = distributed ? distributed->size : 1;
    long part = (n + size - 1) / size;
    *first = (long)rank * part < n ? (long)rank * part : n;
    *count = n - *first < part ? n - *first : part;
}

#if GROUNDUP_MPI
// Every rank's count and first element of n values, as MPI's ints.
static int shard_table(const Distributed *distributed, long n, int **counts, int **firsts, Error *error) {
    if (n > INT_MAX) return error_set(error, "%ld values: a sharded buffer holds at most %d", n, INT_MAX);
    *counts = malloc(sizeof(int) * (size_t)distributed->size);
    *firsts = malloc(sizeof(int) * (size_t)distributed->size);
    if (!*counts || !*firsts) {
        free(*counts), free(*firsts);
        return error_set(error, "out of memory for %d shards", distributed->size);
    }
    for (int r = 0; r < distributed->size; r++) {
        long first, count;
        distributed_shard(distributed, n, r, &first, &count);
        (*counts)[r] = (int)count, (*firsts)[r] = (int)first;
    }
    return 0;
}
#endif

// Open MPI's reduce-scatter allocates a temporary as large as the whole buffer, which would
// cost what sharding the optimizer saves. So it goes in rounds: round k reduces piece k (at most
// 1 M floats) of every rank's part, packed side by side (a rank whose part is shorter sends
// zeros), with MPI_Reduce_scatter_block; N + 1 pieces of memory, the same traffic. In place
// works: round k writes this rank's piece k after every rank's piece k was packed, and later
// rounds read only later pieces.
int distributed_reduce_scatter(const Distributed *distributed, const float *buffer, long n, float *shard,
                               Error *error) {
    if (!distributed || distributed->size == 1) {
        memmove(shard, buffer, sizeof(float) * (size_t)n);
        return 0;
    }
#if GROUNDUP_MPI
    int size = distributed->size;
    long part = (n + size - 1) / size, piece = part < (1L << 20) ? part : 1L << 20, mine_first, mine;
    distributed_shard(distributed, n, distributed->rank, &mine_first, &mine);
    float *packed = malloc(sizeof(float) * (size_t)(piece * (size + 1)));
    if (!packed) return error_set(error, "out of memory for %d pieces of %ld floats", size + 1, piece);
    float *received = packed + piece * size;
    int status = 0;
    for (long offset = 0; offset < part && status == 0; offset += piece) {
        long m = part - offset < piece ? part - offset : piece;
        for (int r = 0; r < size; r++) {
            long first, count;
            distributed_shard(distributed, n, r, &first, &count);
            long have = count - offset < 0 ? 0 : count - offset < m ? count - offset : m;
            memcpy(packed + r * m, buffer + first + offset, sizeof(float) * (size_t)have);
            memset(packed + r * m + have, 0, sizeof(float) * (size_t)(m - have));
        }
        int code = MPI_Reduce_scatter_block(packed, received, (int)m, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (code != MPI_SUCCESS) status = mpi_failed(error, "MPI_Reduce_scatter_block", code);
        long have = mine - offset < 0 ? 0 : mine - offset < m ? mine - offset : m;
        if (status == 0) memcpy(shard + offset, received, sizeof(float) * (size_t)have);
    }
    free(packed);
    return status;
#else
    (void)error;
    return 0;
#endif
}

int distributed_all_gather(const Distributed *distributed, float *buffer, long n, Error *error) {
    if (!distributed || distributed->size == 1) return 0;
#if GROUNDUP_MPI
    int *counts, *firsts;
    if (shard_table(distributed, n, &counts, &firsts, error)) return -1;
    int code = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, buffer, counts, firsts, MPI_FLOAT, MPI_COMM_WORLD);
    free(counts), free(firsts);
    if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Allgatherv", code);
#else
    (void)buffer, (void)n, (void)error;
#endif
    return 0;
}

int distributed_gather(const Distributed *distributed, const float *shard, float *buffer, long n, int root,
                       Error *error) {
    if (!distributed || distributed->size == 1) {
        memmove(buffer, shard, sizeof(float) * (size_t)n);
        return 0;
    }
#if GROUNDUP_MPI
    int *counts, *firsts;
    if (shard_table(distributed, n, &counts, &firsts, error)) return -1;
    int code = MPI_Gatherv(shard, counts[distributed->rank], MPI_FLOAT, buffer, counts, firsts, MPI_FLOAT, root,
                           MPI_COMM_WORLD);
    free(counts), free(firsts);
    if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Gatherv", code);
#else
    (void)root, (void)error;
#endif
    return 0;
}

// ---- sums in double precision ------------------------------------------------------------

int distributed_sum(const Distributed *distributed, double *values, long n, Error *error) {
    if (!distributed || distributed->size == 1 || n == 0) return 0;
    if (n < 0 || n > INT_MAX) return error_set(error, "sum of %ld values across ranks: 0 to %d", n, INT_MAX);
#if GROUNDUP_MPI
    int code = MPI_Allreduce(MPI_IN_PLACE, values, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    if (code != MPI_SUCCESS) return mpi_failed(error, "MPI_Allreduce", code);
#else
    (void)values;
#endif
    return 0;
}
