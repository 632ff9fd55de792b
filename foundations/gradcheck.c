#include "foundations/gradcheck.h"

#include <math.h>

GradcheckResult gradcheck(ScalarFunction f, void *context, float *params, const float *analytic, long n, float h,
                          double floor) {
    GradcheckResult result = {0.0, 0.0, -1};
    for (long i = 0; i < n; i++) {
        float saved = params[i];
        // The actual step is what float can represent, not h itself.
        params[i] = saved + h;
        double step_up = (double)params[i] - saved;
        double up = f(context);
        params[i] = saved - h;
        double step_down = (double)saved - params[i];
        double down = f(context);
        params[i] = saved;
        double numeric = (up - down) / (step_up + step_down);
        double error = fabs(numeric - analytic[i]);
        double scale = fmax(fmax(fabs(numeric), fabs((double)analytic[i])), floor);
        if (error > result.max_abs_error) result.max_abs_error = error;
        if (error / scale > result.max_rel_error || result.worst_index < 0) {
            result.max_rel_error = fmax(result.max_rel_error, error / scale);
            if (error / scale >= result.max_rel_error) result.worst_index = i;
        }
        if (isnan(error)) result.max_rel_error = result.max_abs_error = NAN;
    }
    return result;
}
