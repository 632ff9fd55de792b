// The ODE solvers (foundations/ode.c) on equations with known solutions: the measured order
// of convergence of fixed-step RK4 is 4 and of fixed-step Dormand–Prince 5; the adaptive
// solver meets its tolerance, takes fewer steps on looser tolerances, runs backwards, and
// refuses bad options and endless integrations.
#include <math.h>

#include "foundations/ode.h"
#include "tests/check.h"

// y' = −y: y(t) = y0 e^−t.  Harmonic oscillator: y1' = y2, y2' = −y1, y(t) = (cos t, −sin t) from (1, 0).
static int decay(void *context, double t, const double *y, double *dy, Error *error) {
    (void)context, (void)t, (void)error;
    dy[0] = -y[0];
    return 0;
}
static int oscillator(void *context, double t, const double *y, double *dy, Error *error) {
    (void)t, (void)error;
    if (context) ++*(int *)context;
    dy[0] = y[1], dy[1] = -y[0];
    return 0;
}
// y' = t y: y = exp(t²/2), time-dependent.
static int growth(void *context, double t, const double *y, double *dy, Error *error) {
    (void)context, (void)error;
    dy[0] = t * y[0];
    return 0;
}

// log2 of the error ratio between N and 2N steps, at t = 2 on the oscillator.
static double measured_order(const ButcherTableau *method, int steps) {
    double errors[2];
    for (int k = 0; k < 2; k++) {
        double y[2] = {1.0, 0.0};
        Error error;
        ode_solve_fixed(method, oscillator, NULL, 2, y, 0.0, 2.0, steps << k, &error);
        errors[k] = hypot(y[0] - cos(2.0), y[1] + sin(2.0));
    }
    return log2(errors[0] / errors[1]);
}

static void orders_of_convergence(void) {
    double rk4 = measured_order(&ode_rk4, 20), dopri = measured_order(&ode_dormand_prince, 10);
    printf("measured orders: rk4 %.3f, dopri5 %.3f\n", rk4, dopri);
    CHECK_NEAR(rk4, 4.0, 0.1);
    CHECK_NEAR(dopri, 5.0, 0.15);
    double y[1] = {2.0};
    Error error;
    REQUIRE(ode_solve_fixed(&ode_rk4, growth, NULL, 1, y, 0.0, 1.0, 200, &error) == 0, "%s", error.message);
    CHECK_NEAR(y[0], 2.0 * exp(0.5), 1e-8);
}

static void adaptive_meets_its_tolerance(void) {
    int previous_evaluations = 1 << 30;
    for (double tol = 1e-10; tol < 1e-3; tol *= 100) {
        double y[2] = {1.0, 0.0};
        OdeAdaptive options = {tol, tol, 0.0, 100000};
        OdeStats stats;
        Error error;
        int evaluations = 0;
        REQUIRE(ode_solve_adaptive(oscillator, &evaluations, 2, y, 0.0, 10.0, &options, &stats, &error) == 0, "%s",
                error.message);
        double global = hypot(y[0] - cos(10.0), y[1] + sin(10.0));
        CHECK(global < 50 * tol, "tolerance %g: error %g", tol, global);
        CHECK(stats.evaluations == evaluations && stats.evaluations == 7 * (stats.accepted + stats.rejected),
              "%d evaluations counted, %d made", stats.evaluations, evaluations);
        CHECK(evaluations < previous_evaluations, "tolerance %g took %d evaluations (tighter took %d)", tol, evaluations,
              previous_evaluations);
        previous_evaluations = evaluations;
    }
    // backwards: from y(3) = e^−3 to t = 0
    double y[1] = {exp(-3.0)};
    OdeAdaptive options = {1e-9, 1e-12, 0.0, 10000};
    Error error;
    REQUIRE(ode_solve_adaptive(decay, NULL, 1, y, 3.0, 0.0, &options, NULL, &error) == 0, "%s", error.message);
    CHECK_NEAR(y[0], 1.0, 1e-7);
}

static void bad_options_are_errors(void) {
    double y[2] = {1.0, 0.0};
    Error error;
    CHECK(ode_solve_fixed(&ode_rk4, oscillator, NULL, 2, y, 0.0, 1.0, 0, &error) != 0, "0 steps accepted");
    OdeAdaptive options = {0.0, 1e-6, 0.0, 100};
    CHECK(ode_solve_adaptive(oscillator, NULL, 2, y, 0.0, 1.0, &options, NULL, &error) != 0, "rtol 0 accepted");
    options = (OdeAdaptive){1e-12, 1e-12, 0.0, 5};
    CHECK(ode_solve_adaptive(oscillator, NULL, 2, y, 0.0, 100.0, &options, NULL, &error) != 0 &&
              strstr(error.message, "more than 5 steps"), "%s", error.message);
}

static const CheckCase CASES[] = {
    {"orders of convergence", orders_of_convergence},
    {"adaptive meets its tolerance", adaptive_meets_its_tolerance},
    {"bad options are errors", bad_options_are_errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
