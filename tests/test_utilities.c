// The small utilities of foundations/: files (whole-file read, temporary-then-rename,
// mkdir -p), FNV-1a, hex, the monotonic clock, error prefixes, growable arrays, the heap
// and the warmup+cosine schedule at a given progress.
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "foundations/array.h"
#include "foundations/clock.h"
#include "foundations/error.h"
#include "foundations/file.h"
#include "foundations/hash.h"
#include "foundations/heap.h"
#include "foundations/hex.h"
#include "foundations/optimizer.h"
#include "foundations/random.h"
#include "tests/check.h"

static int write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *file = fopen(path, "wb");
    if (!file) return -1;
    size_t written = fwrite(bytes, 1, n, file);
    return fclose(file) == 0 && written == n ? 0 : -1;
}

// ----------------------------------------------------------------------------
// files

static void file_read_all_reads_every_byte(void) {
    const char *directory = check_directory();
    REQUIRE(directory[0], "no temporary directory");
    char path[128];
    snprintf(path, sizeof path, "%s/bytes.bin", directory);
    // 200000 bytes (more than the first 64 KiB buffer, so it grows) with zeros inside
    size_t n = 200000;
    unsigned char *bytes = malloc(n);
    REQUIRE(bytes, "out of memory");
    for (size_t i = 0; i < n; i++) bytes[i] = (unsigned char)(i * 7 % 251);
    REQUIRE(write_bytes(path, bytes, n) == 0, "cannot write %s", path);
    unsigned char *data = NULL;
    size_t got = 0;
    Error error = {""};
    CHECK(file_read_all(path, &data, &got, &error) == 0, "%s", error.message);
    CHECK(got == n, "read %zu bytes, expected %zu", got, n);
    CHECK(data && memcmp(data, bytes, n) == 0, "the bytes differ");
    CHECK(data && data[n] == 0, "no terminating 0 byte");
    free(data), free(bytes);

    // an empty file: n = 0 and an empty string
    snprintf(path, sizeof path, "%s/empty.bin", directory);
    REQUIRE(write_bytes(path, "", 0) == 0, "cannot write %s", path);
    CHECK(file_read_all(path, &data, &got, &error) == 0 && got == 0 && data && data[0] == 0, "empty file: %s",
          error.message);
    free(data);
}

static void file_read_all_names_a_missing_file(void) {
    unsigned char *data = (unsigned char *)"not touched";
    size_t n = 5;
    Error error = {""};
    CHECK(file_read_all("/nonexistent-groundup/none.txt", &data, &n, &error) == -1, "a missing file was read");
    CHECK(strstr(error.message, "/nonexistent-groundup/none.txt: cannot open") != NULL, "message: '%s'", error.message);
    CHECK(data == NULL && n == 0, "outputs not cleared on failure");
}

static void file_read_stream_reads_to_the_end(void) {
    FILE *file = tmpfile();
    REQUIRE(file, "no temporary file");
    fputs("hello, stream", file);
    rewind(file);
    unsigned char *data = NULL;
    size_t n = 0;
    Error error = {""};
    CHECK(file_read_stream(file, "the stream", &data, &n, &error) == 0, "%s", error.message);
    CHECK(n == 13 && data && strcmp((const char *)data, "hello, stream") == 0, "read '%s' (%zu bytes)",
          data ? (const char *)data : "", n);
    free(data);
    fclose(file);
}

static void safe_file_replaces_only_on_commit(void) {
    const char *directory = check_directory();
    REQUIRE(directory[0], "no temporary directory");
    char path[128];
    snprintf(path, sizeof path, "%s/safe.txt", directory);
    REQUIRE(write_bytes(path, "old", 3) == 0, "cannot write %s", path);
    Error error = {""};
    SafeFile out;
    // abandoned: the old contents stay, no temporary file is left
    REQUIRE(safe_file_open(&out, path, &error) == 0, "%s", error.message);
    fputs("half", out.file);
    safe_file_abort(&out);
    unsigned char *data = NULL;
    size_t n = 0;
    CHECK(file_read_all(path, &data, &n, &error) == 0 && strcmp((const char *)data, "old") == 0, "after abort: '%s'",
          data ? (const char *)data : "");
    free(data);
    struct stat info;
    CHECK(stat(out.temp_path, &info) != 0, "temporary %s left behind", out.temp_path);
    // committed: the new contents
    REQUIRE(safe_file_open(&out, path, &error) == 0, "%s", error.message);
    fputs("new", out.file);
    CHECK(safe_file_commit(&out, &error) == 0, "%s", error.message);
    CHECK(file_read_all(path, &data, &n, &error) == 0 && strcmp((const char *)data, "new") == 0, "after commit: '%s'",
          data ? (const char *)data : "");
    free(data);
    // a directory that does not exist
    CHECK(safe_file_open(&out, "/nonexistent-groundup/x.txt", &error) == -1 &&
              strstr(error.message, "/nonexistent-groundup/x.txt: cannot create"),
          "message: '%s'", error.message);
}

static void make_directories_creates_the_parents(void) {
    const char *directory = check_directory();
    REQUIRE(directory[0], "no temporary directory");
    char path[160];
    snprintf(path, sizeof path, "%s/a/b/c", directory);
    Error error = {""};
    CHECK(make_directories(path, &error) == 0, "%s", error.message);
    struct stat info;
    CHECK(stat(path, &info) == 0 && S_ISDIR(info.st_mode), "%s is not a directory", path);
    CHECK(make_directories(path, &error) == 0, "an existing directory: %s", error.message);
    // a file in the way
    char file[192];
    snprintf(file, sizeof file, "%s/a/file", directory);
    REQUIRE(write_bytes(file, "x", 1) == 0, "cannot write %s", file);
    snprintf(path, sizeof path, "%s/a/file/d", directory);
    CHECK(make_directories(path, &error) == -1 && strstr(error.message, "cannot create directory"), "message: '%s'",
          error.message);
    CHECK(make_directories("", &error) == -1, "an empty path was accepted");
}

// ----------------------------------------------------------------------------
// hash, hex, clock, errors

// Reference values of 64-bit FNV-1a (from the test vectors of the FNV reference code).
static void fnv1a_matches_the_reference_values(void) {
    CHECK(fnv1a(FNV_OFFSET, "", 0) == 0xcbf29ce484222325ULL, "empty");
    CHECK(fnv1a(FNV_OFFSET, "a", 1) == 0xaf63dc4c8601ec8cULL, "\"a\": %016llx",
          (unsigned long long)fnv1a(FNV_OFFSET, "a", 1));
    CHECK(fnv1a(FNV_OFFSET, "foobar", 6) == 0x85944171f73967e8ULL, "\"foobar\": %016llx",
          (unsigned long long)fnv1a(FNV_OFFSET, "foobar", 6));
    // continued hashing equals hashing the concatenation
    CHECK(fnv1a(fnv1a(FNV_OFFSET, "foo", 3), "bar", 3) == fnv1a(FNV_OFFSET, "foobar", 6), "not continuable");
}

static void hex_round_trips(void) {
    const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff, 'H', 'i'};
    char text[2 * sizeof bytes + 1];
    hex_encode(text, bytes, sizeof bytes);
    CHECK(strcmp(text, "00017f80abff4869") == 0, "encoded '%s'", text);
    unsigned char decoded[sizeof bytes];
    CHECK(hex_decode(text, strlen(text), decoded) == (long)sizeof bytes, "decoded length");
    CHECK(memcmp(decoded, bytes, sizeof bytes) == 0, "decoded bytes differ");
    CHECK(hex_decode("ABff", 4, decoded) == 2 && decoded[0] == 0xab && decoded[1] == 0xff, "upper case");
    CHECK(hex_decode("abc", 3, decoded) == -1, "odd length accepted");
    CHECK(hex_decode("zz", 2, decoded) == -1, "non-digit accepted");
    CHECK(hex_value('7') == 7 && hex_value('f') == 15 && hex_value('F') == 15 && hex_value('g') == -1, "hex_value");
    FILE *file = tmpfile();
    REQUIRE(file, "no temporary file");
    CHECK(hex_write(file, bytes, sizeof bytes) == 0, "hex_write failed");
    rewind(file);
    char written[64] = "";
    CHECK(fgets(written, sizeof written, file) && strcmp(written, text) == 0, "hex_write wrote '%s'", written);
    fclose(file);
}

static void clock_seconds_measures_a_sleep(void) {
    double start = clock_seconds();
    struct timespec pause = {0, 20 * 1000 * 1000};  // 20 ms
    nanosleep(&pause, NULL);
    double elapsed = clock_seconds() - start;
    CHECK(elapsed >= 0.019 && elapsed < 5.0, "a 20 ms sleep measured %g s", elapsed);
    double a = clock_seconds(), b = clock_seconds();
    CHECK(b >= a, "the clock went back");
}

static int fails_with(Error *error, const char *message) { return error_set(error, "%s", message); }

static void error_prefix_puts_where_before_what(void) {
    Error error = {""};
    int status = fails_with(&error, "token 3 is out of range");
    CHECK(status == -1, "error_set returns -1");
    CHECK(error_prefix(&error, "%s line %d", "ids.txt", 12) == -1, "error_prefix returns -1");
    CHECK(strcmp(error.message, "ids.txt line 12: token 3 is out of range") == 0, "message: '%s'", error.message);
    CHECK(error_prefix(NULL, "x") == -1, "NULL error");
    // a long message is cut at the end, never overflows
    char long_prefix[600];
    memset(long_prefix, 'p', sizeof long_prefix - 1);
    long_prefix[sizeof long_prefix - 1] = '\0';
    error_prefix(&error, "%s", long_prefix);
    CHECK(strlen(error.message) == sizeof error.message - 1, "length %zu", strlen(error.message));
}

// ----------------------------------------------------------------------------
// arrays and the heap

static void array_reserve_grows_by_doubling(void) {
    int *items = NULL;
    size_t capacity = 0;
    for (int i = 0; i < 1000; i++) {
        REQUIRE(array_reserve(&items, &capacity, (size_t)i + 1, sizeof *items) == 0, "out of memory at %d", i);
        items[i] = i * i;
    }
    CHECK(capacity == 1024, "capacity %zu after 1000 items (16 doubled 6 times)", capacity);
    long sum = 0;
    for (int i = 0; i < 1000; i++) sum += items[i] == i * i;
    CHECK(sum == 1000, "%ld of 1000 items kept their values", sum);
    CHECK(array_reserve(&items, &capacity, 10, sizeof *items) == 0 && capacity == 1024, "never shrinks");
    free(items);
    CHECK(array_grown_capacity(0, 1) == 16 && array_grown_capacity(16, 17) == 32 && array_grown_capacity(16, 100) == 128,
          "grown capacities");
    CHECK(array_grown_capacity(SIZE_MAX / 2 + 2, SIZE_MAX) == 0, "overflow not reported");
    double *values = NULL;
    CHECK(array_resize(&values, (size_t)1 << 62, sizeof *values) == -1 && values == NULL, "impossible size accepted");
}

static void heap_pops_in_order(void) {
    Heap heap = {0};
    Random rng;
    random_seed(&rng, 5);
    enum { N = 2000 };
    for (int i = 0; i < N; i++) {
        HeapItem item = {(int64_t)random_below(&rng, 50) - 25, (int64_t)random_below(&rng, 1000), i};
        REQUIRE(heap_push(&heap, item) == 0, "out of memory");
    }
    CHECK(heap.count == N, "count %zu", heap.count);
    HeapItem previous = heap_pop(&heap);
    int in_order = 1;
    for (int i = 1; i < N; i++) {
        HeapItem item = heap_pop(&heap);
        if (item.key < previous.key || (item.key == previous.key && item.tie < previous.tie)) in_order = 0;
        previous = item;
    }
    CHECK(in_order, "popped out of (key, tie) order");
    CHECK(heap.count == 0, "count %zu after popping all", heap.count);
    // values ride along; -key makes a max-heap
    int64_t counts[] = {3, 9, 1, 9, 4};
    for (int i = 0; i < 5; i++) heap_push(&heap, (HeapItem){-counts[i], 5 - i, i});
    HeapItem top = heap_pop(&heap);
    CHECK(-top.key == 9 && top.value == 3, "largest count first, the smaller tie on a tie: got count %lld value %lld",
          (long long)-top.key, (long long)top.value);
    heap_free(&heap);
    CHECK(heap.items == NULL && heap.count == 0, "heap_free");
}

// ----------------------------------------------------------------------------
// the schedule at a given progress

static void schedule_at_progress_matches_steps(void) {
    Schedule schedule = {SCHEDULE_WARMUP_COSINE, 1e-3f, 1, 1.0f, 10, 110, 1e-4f};
    // counted in steps, the progress is (s - warmup) / (total - warmup)
    for (long step = 0; step <= 120; step += 7) {
        double progress = (double)(step - 10) / 100.0;
        float by_steps = schedule_lr(&schedule, step), at = schedule_warmup_cosine_at(&schedule, step, progress);
        CHECK(by_steps == at, "step %ld: %g by steps, %g at progress %g", step, (double)by_steps, (double)at, progress);
    }
    CHECK_NEAR(schedule_warmup_cosine_at(&schedule, 0, 0.9), 1e-4, 1e-9);  // warmup: (0+1)/10 of base
    CHECK_NEAR(schedule_warmup_cosine_at(&schedule, 50, 0.5), 5.5e-4, 1e-9);  // half way: the middle
    CHECK_NEAR(schedule_warmup_cosine_at(&schedule, 50, 3.0), 1e-4, 1e-9);  // clamped to the end
    CHECK_NEAR(schedule_warmup_cosine_at(&schedule, 50, -1.0), 1e-3, 1e-9);  // clamped to the start
}

static const CheckCase CASES[] = {
    {"file_read_all reads every byte", file_read_all_reads_every_byte},
    {"file_read_all names a missing file", file_read_all_names_a_missing_file},
    {"file_read_stream reads to the end", file_read_stream_reads_to_the_end},
    {"safe_file replaces only on commit", safe_file_replaces_only_on_commit},
    {"make_directories creates the parents", make_directories_creates_the_parents},
    {"fnv1a matches the reference values", fnv1a_matches_the_reference_values},
    {"hex round-trips", hex_round_trips},
    {"clock_seconds measures a sleep", clock_seconds_measures_a_sleep},
    {"error_prefix puts where before what", error_prefix_puts_where_before_what},
    {"array_reserve grows by doubling", array_reserve_grows_by_doubling},
    {"heap pops in order", heap_pops_in_order},
    {"schedule at a progress matches the steps", schedule_at_progress_matches_steps},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
