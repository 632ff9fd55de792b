// Time for measuring: seconds on the monotonic clock (CLOCK_MONOTONIC), which never jumps
// when the wall clock is set. Only differences mean anything.
#ifndef FOUNDATIONS_CLOCK_H
#define FOUNDATIONS_CLOCK_H

double clock_seconds(void);
// CPU seconds the process has used, over all its threads (CLOCK_PROCESS_CPUTIME_ID): on a
// machine shared with other jobs, the work done rather than the time waited for a core.
double clock_cpu_seconds(void);

#endif
