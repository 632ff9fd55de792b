// A tiny assertion kit for the tests: each failed check prints where and why and counts;
// a test's main returns check_report(), non-zero when anything failed.
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures = 0;

#define CHECK(condition, ...)                                              \
    do {                                                                   \
        if (!(condition)) {                                                \
            check_failures++;                                              \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #condition); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

// |actual - expected| <= tolerance (absolute), NaN fails.
#define CHECK_NEAR(actual, expected, tolerance)                                          \
    do {                                                                                 \
        double check_a_ = (actual), check_e_ = (expected);                               \
        if (!(fabs(check_a_ - check_e_) <= (tolerance))) {                               \
            check_failures++;                                                            \
            fprintf(stderr, "FAIL %s:%d: %s = %.9g, expected %.9g (tolerance %g)\n",     \
                    __FILE__, __LINE__, #actual, check_a_, check_e_, (double)(tolerance)); \
        }                                                                                \
    } while (0)

static inline int check_report(const char *name) {
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
        return 1;
    }
    fprintf(stderr, "%s: all checks passed\n", name);
    return 0;
}

#endif
