// The mathematics made visible: what every `groundup explore` topic shares.
//
// A topic is a measurement (explore/<area>.c: calculus, stability, probability, information)
// that returns its numbers in a struct; tools/cmd_explore*.c prints them as a markdown table
// and draws the SVG, and a test asserts the same numbers (tests/test_explore_*.c). Every topic
// is seeded, so a run is reproduced exactly by its seed.
#ifndef EXPLORE_EXPLORE_H
#define EXPLORE_EXPLORE_H

#include "foundations/error.h"

// Checks a count option (sample size, repetitions, bins ...): an error "<name> must be at least
// <minimum>, not <value>" otherwise.
int explore_check_count(long value, long minimum, const char *name, Error *error);

// Checks a distribution parameter against its open or closed domain (low, high): an error
// naming the parameter, its value and the domain otherwise (NaN is always outside).
int explore_check_range(double value, double low, double high, int low_open, int high_open, const char *name,
                        Error *error);

#endif
