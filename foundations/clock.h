// Time for measuring: seconds on the monotonic clock (CLOCK_MONOTONIC), which never jumps
// when the wall clock is set. Only differences mean anything.
#ifndef FOUNDATIONS_CLOCK_H
#define FOUNDATIONS_CLOCK_H

double clock_seconds(void);

#endif
