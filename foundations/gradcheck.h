// Gradient checking by finite differences: the test every backward pass must pass.
//
// For a scalar function f of parameters x (n), the central difference
//     (f(x + h e_i) - f(x - h e_i)) / 2h  =  df/dx_i + O(h^2)
// is compared with the analytic gradient. f is evaluated by the caller's callback, which
// should accumulate its result in double; the parameters are perturbed in place and
// restored exactly.
#ifndef FOUNDATIONS_GRADCHECK_H
#define FOUNDATIONS_GRADCHECK_H

// Returns f at the current parameters.
typedef double (*ScalarFunction)(void *context);

typedef struct GradcheckResult {
    double max_abs_error;  // max_i |analytic_i - numeric_i|
    double max_rel_error;  // max_i |analytic_i - numeric_i| / max(|analytic_i|, |numeric_i|, floor)
    long worst_index;      // the i of max_rel_error
} GradcheckResult;

// Checks analytic (n) against central differences of f at params (n) with step h.
// floor keeps the relative error meaningful where both gradients are near zero.
GradcheckResult gradcheck(ScalarFunction f, void *context, float *params, const float *analytic, long n, float h,
                          double floor);

#endif
