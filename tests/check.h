// A tiny test runner. Each test file is a list of named cases, each case a function:
//
//   static void softmax_rows_sum_to_one(void) { ... CHECK_NEAR(sum, 1.0, 1e-6); ... }
//   static const CheckCase CASES[] = {
//       {"softmax rows sum to one", softmax_rows_sum_to_one},
//       ...
//   };
//   int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
//
// CHECK and CHECK_NEAR record a failure with the case's name, the file, the line and why,
// and the case goes on (so one run shows every wrong value). REQUIRE is for setup that
// the rest of the case needs (a file that must open, a model that must build): when it
// fails it also returns from the function it is written in, so nothing runs on a broken
// setup; the other cases still run. That function must return void: the case itself, or
// a helper that is the rest of the case.
//
// `test_x` runs every case; `test_x softmax layernorm` only the cases whose names contain
// one of the words. The exit status is 0 when every check of every case passed.
//
// check_directory() is a temporary directory for the cases' files, made when first asked
// for; check_run removes it, with everything in it, after the last case.
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct CheckCase {
    const char *name;
    void (*run)(void);
} CheckCase;

// The runner's bookkeeping: the case running now and the failures so far.
static const char *check_case_name = "";
static int check_failures = 0;

static inline void check_failed(const char *file, int line) {
    check_failures++;
    fprintf(stderr, "FAIL [%s] %s:%d: ", check_case_name, file, line);
}

#define CHECK(condition, ...)                                   \
    do {                                                        \
        if (!(condition)) {                                     \
            check_failed(__FILE__, __LINE__);                   \
            fprintf(stderr, "%s: ", #condition);                \
            fprintf(stderr, __VA_ARGS__);                       \
            fprintf(stderr, "\n");                              \
        }                                                       \
    } while (0)

// |actual - expected| <= tolerance (absolute), NaN fails.
#define CHECK_NEAR(actual, expected, tolerance)                                                     \
    do {                                                                                            \
        double check_a_ = (actual), check_e_ = (expected);                                          \
        if (!(fabs(check_a_ - check_e_) <= (tolerance))) {                                          \
            check_failed(__FILE__, __LINE__);                                                       \
            fprintf(stderr, "%s = %.9g, expected %.9g (tolerance %g)\n", #actual, check_a_, check_e_, \
                    (double)(tolerance));                                                           \
        }                                                                                           \
    } while (0)

// As CHECK, and on failure the case stops here (returns).
#define REQUIRE(condition, ...)                                 \
    do {                                                        \
        if (!(condition)) {                                     \
            check_failed(__FILE__, __LINE__);                   \
            fprintf(stderr, "%s: ", #condition);                \
            fprintf(stderr, __VA_ARGS__);                       \
            fprintf(stderr, " (setup failed: the case stops)\n"); \
            return;                                             \
        }                                                       \
    } while (0)

static char check_directory_path[64] = "";

// "/tmp/groundup-test-XXXXXX", made on the first call; "" when it cannot be made (a case
// then REQUIREs it: REQUIRE(check_directory()[0], "no temporary directory")).
static inline const char *check_directory(void) {
    if (!check_directory_path[0]) {
        snprintf(check_directory_path, sizeof check_directory_path, "/tmp/groundup-test-XXXXXX");
        if (!mkdtemp(check_directory_path)) check_directory_path[0] = '\0';
    }
    return check_directory_path;
}

// <check_directory()>/name, in one of four rotating buffers (so a call can take two paths).
static inline const char *check_path(const char *name) {
    static char paths[4][256];
    static int next = 0;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", check_directory(), name);
    return path;
}

static inline void check_remove_directory(void) {
    if (!check_directory_path[0]) return;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", check_directory_path);
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", check_directory_path);
    check_directory_path[0] = '\0';
}

static inline int check_selected(const char *name, int argc, char **argv) {
    if (argc < 2) return 1;
    for (int i = 1; i < argc; i++)
        if (strstr(name, argv[i])) return 1;
    return 0;
}

// Runs the selected cases in order; prints one line per case and a summary on stderr.
static inline int check_run(int argc, char **argv, const CheckCase *cases, size_t n_cases) {
    const char *program = argc > 0 ? argv[0] : "test";
    const char *slash = strrchr(program, '/');
    if (slash) program = slash + 1;
    int n_run = 0, n_failed = 0;
    for (size_t i = 0; i < n_cases; i++) {
        if (!check_selected(cases[i].name, argc, argv)) continue;
        check_case_name = cases[i].name;
        int before = check_failures;
        cases[i].run();
        int failed = check_failures - before;
        n_run++;
        n_failed += failed > 0;
        if (failed) fprintf(stderr, "%s: FAIL %s (%d check(s) failed)\n", program, cases[i].name, failed);
        else fprintf(stderr, "%s: ok   %s\n", program, cases[i].name);
    }
    check_case_name = "";
    check_remove_directory();
    if (n_run == 0) {
        fprintf(stderr, "%s: no case matches the arguments\n", program);
        return 1;
    }
    if (n_failed) {
        fprintf(stderr, "%s: %d of %d case(s) failed\n", program, n_failed, n_run);
        return 1;
    }
    fprintf(stderr, "%s: all %d case(s) passed\n", program, n_run);
    return 0;
}

#endif
