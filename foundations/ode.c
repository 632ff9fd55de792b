// Runge–Kutta solvers: see ode.h.
#include "foundations/ode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const ButcherTableau ode_rk4 = {
    .name = "rk4",
    .stages = 4,
    .order = 4,
    .c = {0, 0.5, 0.5, 1},
    .a = {{0}, {0.5}, {0, 0.5}, {0, 0, 1}},
    .b = {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6},
};

// Dormand and Prince (1980), the coefficients of their Table 2 (DOPRI5).
const ButcherTableau ode_dormand_prince = {
    .name = "dopri5",
    .stages = 7,
    .order = 5,
    .c = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1},
    .a = {{0},
          {1.0 / 5},
          {3.0 / 40, 9.0 / 40},
          {44.0 / 45, -56.0 / 15, 32.0 / 9},
          {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
          {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
          {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}},
    .b = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0},
    // b − b̂, b̂ = (5179/57600, 0, 7571/16695, 393/640, −92097/339200, 187/2100, 1/40)
    .b_error = {35.0 / 384 - 5179.0 / 57600, 0, 500.0 / 1113 - 7571.0 / 16695, 125.0 / 192 - 393.0 / 640,
                -2187.0 / 6784 + 92097.0 / 339200, 11.0 / 84 - 187.0 / 2100, -1.0 / 40},
};

// One step: k (stages, n) and the solution y_next (n); stage (n) is work space.
static int rk_step(const ButcherTableau *m, OdeFunction f, void *context, int n, const double *y, double t, double h,
                   double *k, double *stage, double *y_next, Error *error) {
    for (int i = 0; i < m->stages; i++) {
        for (int d = 0; d < n; d++) {
            double sum = 0.0;
            for (int j = 0; j < i; j++) sum += m->a[i][j] * k[(long)j * n + d];
            stage[d] = y[d] + h * sum;
        }
        if (f(context, t + m->c[i] * h, stage, k + (long)i * n, error)) return -1;
    }
    for (int d = 0; d < n; d++) {
        double sum = 0.0;
        for (int i = 0; i < m->stages; i++) sum += m->b[i] * k[(long)i * n + d];
        y_next[d] = y[d] + h * sum;
    }
    return 0;
}

int ode_solve_fixed(const ButcherTableau *method, OdeFunction f, void *context, int n, double *y, double t0, double t1,
                    int steps, Error *error) {
    if (steps < 1) return error_set(error, "ode: %d steps (at least 1)", steps);
    double *work = malloc(sizeof(double) * (size_t)n * (ODE_MAX_STAGES + 1));
    if (!work) return error_set(error, "ode: out of memory for %d equations", n);
    double h = (t1 - t0) / steps;
    int status = 0;
    for (int s = 0; s < steps && !status; s++)  // y_next may alias y: the stages are done by then
        status = rk_step(method, f, context, n, y, t0 + s * h, h, work, work + (long)ODE_MAX_STAGES * n, y, error);
    free(work);
    return status;
}

double ode_error_norm(const double *e, const double *y, const double *y_next, int n, double rtol, double atol) {
    double sum = 0.0;
    for (int d = 0; d < n; d++) {
        double scale = atol + rtol * fmax(fabs(y[d]), fabs(y_next[d]));
        sum += (e[d] / scale) * (e[d] / scale);
    }
    return sqrt(sum / n);
}

double ode_next_step(double h, double err, int order) {
    double factor = err > 0.0 ? 0.9 * pow(err, -1.0 / order) : 5.0;
    return h * fmin(5.0, fmax(0.2, factor));
}

int ode_solve_adaptive(OdeFunction f, void *context, int n, double *y, double t0, double t1, const OdeAdaptive *options,
                       OdeStats *stats, Error *error) {
    if (!(options->rtol > 0.0) || !(options->atol > 0.0) || options->max_steps < 1)
        return error_set(error, "ode: rtol %g, atol %g, %d steps (positive needed)", options->rtol, options->atol,
                         options->max_steps);
    const ButcherTableau *m = &ode_dormand_prince;
    double *work = malloc(sizeof(double) * (size_t)n * (ODE_MAX_STAGES + 3));
    if (!work) return error_set(error, "ode: out of memory for %d equations", n);
    double *k = work, *stage = work + (long)ODE_MAX_STAGES * n, *y_next = stage + n, *e = y_next + n;
    double direction = t1 >= t0 ? 1.0 : -1.0, t = t0;
    double h = direction * (options->first_step > 0.0 ? options->first_step : fabs(t1 - t0) / 100.0);
    OdeStats count = {0, 0, 0};
    int status = 0;
    while (direction * (t1 - t) > 0.0 && !status) {
        if (count.accepted + count.rejected >= options->max_steps) {
            status = error_set(error, "ode: more than %d steps from t = %g to %g (stopped at %g)", options->max_steps, t0, t1, t);
            break;
        }
        if (direction * (t + h - t1) > 0.0) h = t1 - t;  // land on t1
        if (fabs(h) < 1e-14 * fmax(1.0, fabs(t))) {
            status = error_set(error, "ode: the step size underflowed at t = %g", t);
            break;
        }
        if ((status = rk_step(m, f, context, n, y, t, h, k, stage, y_next, error))) break;
        count.evaluations += m->stages;
        for (int d = 0; d < n; d++) {
            double sum = 0.0;
            for (int i = 0; i < m->stages; i++) sum += m->b_error[i] * k[(long)i * n + d];
            e[d] = h * sum;
        }
        double err = ode_error_norm(e, y, y_next, n, options->rtol, options->atol);
        if (!isfinite(err)) {
            status = error_set(error, "ode: the solution is not finite at t = %g", t);
            break;
        }
        if (err <= 1.0) {
            t += h;
            memcpy(y, y_next, sizeof(double) * (size_t)n);
            count.accepted++;
        } else {
            count.rejected++;
        }
        h = ode_next_step(h, err, m->order);
    }
    if (stats) *stats = count;
    free(work);
    return status;
}
