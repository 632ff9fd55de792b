// Explicit Runge–Kutta solvers for ordinary differential equations dy/dt = f(t, y), y ∈ ℝⁿ.
//
// A method is a Butcher tableau (c, A, b): for a step of size h from (t, y),
//   k_i = f(t + c_i h, y + h Σ_{j<i} a_ij k_j),   y_next = y + h Σ_i b_i k_i.
// RK4 is the classical fourth-order method (Kutta 1901). Dormand–Prince 5(4) (Dormand and
// Prince 1980) has seven stages whose two weight rows give a fifth-order solution and an
// embedded fourth-order one; their difference estimates the local error, which chooses the
// next step (Hairer, Nørsett and Wanner, Solving ODEs I, §II.4):
//   err = √(mean_i (e_i / (atol + rtol·max(|y_i|, |y_next,i|)))²),  accept when err <= 1,
//   h_next = h · min(5, max(0.2, 0.9·err^(−1/5))).
// The last stage of Dormand–Prince is f at the new point (first same as last); it is
// recomputed here for clarity. Integration may run backwards (t1 < t0): h is then negative.
#ifndef FOUNDATIONS_ODE_H
#define FOUNDATIONS_ODE_H

#include "foundations/error.h"

enum { ODE_MAX_STAGES = 7 };

typedef struct ButcherTableau {
    const char *name;
    int stages, order;                             // order of the b solution
    double c[ODE_MAX_STAGES];
    double a[ODE_MAX_STAGES][ODE_MAX_STAGES];      // a[i][j], j < i
    double b[ODE_MAX_STAGES];
    double b_error[ODE_MAX_STAGES];                // b − b̂ of the embedded solution (zeros: none)
} ButcherTableau;

extern const ButcherTableau ode_rk4;
extern const ButcherTableau ode_dormand_prince;

// f: dy (n) = f(t, y (n)); returns 0, or -1 with error set.
typedef int (*OdeFunction)(void *context, double t, const double *y, double *dy, Error *error);

// y (n) from t0 to t1 in steps equal steps of the tableau, in place. Fails on steps < 1, out
// of memory or f's failure.
int ode_solve_fixed(const ButcherTableau *method, OdeFunction f, void *context, int n, double *y, double t0, double t1,
                    int steps, Error *error);

typedef struct OdeAdaptive {
    double rtol, atol;  // > 0
    double first_step;  // |h| of the first try (0: (t1 − t0)/100)
    int max_steps;      // accepted plus rejected steps allowed (>= 1)
} OdeAdaptive;

typedef struct OdeStats {
    int accepted, rejected, evaluations;
} OdeStats;

// The error norm above of an embedded error e (n) between y and y_next.
double ode_error_norm(const double *e, const double *y, const double *y_next, int n, double rtol, double atol);
// The next step size from h and the error norm err of a method of that order.
double ode_next_step(double h, double err, int order);

// Dormand–Prince with error control, y (n) from t0 to t1 in place. Fails on bad tolerances,
// more than max_steps steps, a step that underflows, or f's failure. stats may be NULL.
int ode_solve_adaptive(OdeFunction f, void *context, int n, double *y, double t0, double t1, const OdeAdaptive *options,
                       OdeStats *stats, Error *error);

#endif
