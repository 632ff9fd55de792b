// What every `groundup explore` topic shares: see explore.h.
#include "explore/explore.h"

#include <math.h>

int explore_check_count(long value, long minimum, const char *name, Error *error) {
    if (value >= minimum) return 0;
    return error_set(error, "%s must be at least %ld, not %ld", name, minimum, value);
}

int explore_check_range(double value, double low, double high, int low_open, int high_open, const char *name,
                        Error *error) {
    int below = low_open ? !(value > low) : !(value >= low);
    int above = high_open ? !(value < high) : !(value <= high);
    if (isnan(value) || below || above)
        return error_set(error, "%s must be in %c%g, %g%c, not %g", name, low_open ? '(' : '[', low, high,
                         high_open ? ')' : ']', value);
    return 0;
}
