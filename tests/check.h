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
#include <stdarg.h>
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

// Counts a failure and prints "FAIL [case] file:line: what: why" (why: a printf format).
static inline void check_failed(const char *file, int line, const char *what, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
static inline void check_failed(const char *file, int line, const char *what, const char *format, ...) {
    check_failures++;
    fprintf(stderr, "FAIL [%s] %s:%d: %s: ", check_case_name, file, line, what);
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fprintf(stderr, "\n");
}

#define CHECK(condition, ...)                                                   \
    do {                                                                        \
        if (!(condition)) check_failed(__FILE__, __LINE__, #condition, __VA_ARGS__); \
    } while (0)

// |actual - expected| <= tolerance (absolute), NaN fails.
#define CHECK_NEAR(actual, expected, tolerance)                                                        \
    do {                                                                                               \
        double check_a_ = (actual), check_e_ = (expected);                                             \
        if (!(fabs(check_a_ - check_e_) <= (tolerance)))                                               \
            check_failed(__FILE__, __LINE__, #actual, "%.9g, expected %.9g (tolerance %g)", check_a_, check_e_, \
                         (double)(tolerance));                                                         \
    } while (0)

// As CHECK, and on failure the function it is in returns: the case stops (setup failed).
#define REQUIRE(condition, ...)                                                 \
    do {                                                                        \
        if (!(condition)) {                                                     \
            check_failed(__FILE__, __LINE__, #condition, __VA_ARGS__);          \
            fprintf(stderr, "  (setup failed: the case stops)\n");             \
            return;                                                             \
        }                                                                       \
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

// 1 when GROUNDUP_TEST_QUICK is set (tests/CMakeLists.txt sets it in the sanitizer build, which
// runs 5-20x slower): a case whose size serves only a statistic (a sample's moments) then takes
// fewer samples, with its tolerance widened by the square root of the ratio. Never for a size
// an assertion needs (a model that must learn, a bug that shows only at a size).
static inline int check_quick(void) {
    const char *quick = getenv("GROUNDUP_TEST_QUICK");
    return quick && quick[0] && strcmp(quick, "0") != 0;
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
