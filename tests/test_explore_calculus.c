// The calculus topics of `groundup explore` (explore/calculus.h): the numbers their tables and
// figures show. The best finite-difference step sits within a decade of the theory's
// (ε^(1/2) forward, ε^(1/3) central, ε^(1/4) second differences) in float64 and float32; the
// truncation error falls as h (forward) and h² (central); every derivative, the network's
// included, matches its differences to the precision the theory allows; the chain rule's
// vector-Jacobian products match each stage's Jacobian and the framework's tape backward.
#include <float.h>
#include <math.h>
#include <string.h>

#include "explore/calculus.h"
#include "tests/check.h"

// |log10(best / expected)| <= 1: the best step within a decade of the theory's.
static void check_within_decade(const StepSweep *sweep) {
    double decades = fabs(log10(sweep->best_h / sweep->expected_h));
    CHECK(decades <= 1.0, "%s: best h %.2e, theory %.2e (%.2f decades apart)", sweep->name, sweep->best_h,
          sweep->expected_h, decades);
}

// The error at the h closest to target.
static double error_at(const StepSweep *sweep, double target) {
    int best = 0;
    for (int k = 1; k < sweep->n; k++)
        if (fabs(log(sweep->h[k] / target)) < fabs(log(sweep->h[best] / target))) best = k;
    return sweep->error[best];
}

static void finite_differences(void) {
    FiniteDifferenceResult r;
    Error error;
    REQUIRE(explore_finite_differences(4, 16, 1, &r, &error) == 0, "%s", error.message);
    CHECK(r.sweeps[0].n == 61, "%d steps (1 to 1e-15, 4 a decade)", r.sweeps[0].n);
    for (int s = 0; s < FINITE_DIFFERENCE_SWEEPS; s++) check_within_decade(&r.sweeps[s]);
    CHECK_NEAR(r.sweeps[1].expected_h, cbrt(DBL_EPSILON), 1e-12);
    // The best errors: about ε^(1/2) forward and ε^(2/3) central, in each precision.
    CHECK(r.sweeps[0].best_error < 1e-7 && r.sweeps[1].best_error < 1e-10, "float64 best errors %.2e, %.2e",
          r.sweeps[0].best_error, r.sweeps[1].best_error);
    CHECK(r.sweeps[2].best_error < 1e-3 && r.sweeps[3].best_error < 1e-4, "float32 best errors %.2e, %.2e",
          r.sweeps[2].best_error, r.sweeps[3].best_error);
    // Truncation: a decade less h, a decade (forward) or two (central) less error.
    double forward = error_at(&r.sweeps[0], 1e-2) / error_at(&r.sweeps[0], 1e-3);
    double central = error_at(&r.sweeps[1], 1e-2) / error_at(&r.sweeps[1], 1e-3);
    CHECK(forward > 8 && forward < 12, "forward truncation ratio per decade %.2f, expected ~10", forward);
    CHECK(central > 80 && central < 120, "central truncation ratio per decade %.2f, expected ~100", central);
    // Round-off: far below the best step the error has risen again by orders of magnitude.
    CHECK(error_at(&r.sweeps[1], 1e-13) > 1e4 * r.sweeps[1].best_error, "central float64 at 1e-13: %.2e",
          error_at(&r.sweeps[1], 1e-13));
    // float32: below its ε the step vanishes (no value), and central beats forward at its best.
    CHECK(isnan(error_at(&r.sweeps[3], 1e-12)), "float32 step 1e-12 should vanish");
    CHECK(r.sweeps[3].best_error < r.sweeps[2].best_error / 10, "central %.2e vs forward %.2e in float32",
          r.sweeps[3].best_error, r.sweeps[2].best_error);

    FiniteDifferenceResult again, other;
    REQUIRE(explore_finite_differences(4, 16, 1, &again, &error) == 0, "%s", error.message);
    REQUIRE(explore_finite_differences(4, 16, 2, &other, &error) == 0, "%s", error.message);
    CHECK(memcmp(again.sweeps[1].error, r.sweeps[1].error, sizeof r.sweeps[1].error) == 0, "not reproducible");
    CHECK(memcmp(other.sweeps[1].error, r.sweeps[1].error, sizeof r.sweeps[1].error) != 0, "the seed changes nothing");
}

static void jacobian_hessian(void) {
    JacobianHessianResult r;
    Error error;
    REQUIRE(explore_jacobian_hessian(4, 1, &r, &error) == 0, "%s", error.message);
    CHECK(r.n_parameters == 83, "%ld parameters", r.n_parameters);
    for (int c = 0; c < JACOBIAN_HESSIAN_CHECKS; c++) check_within_decade(&r.checks[c]);
    for (int c = 0; c < 4; c++)
        CHECK(r.checks[c].best_error < 1e-9, "%s: best error %.2e", r.checks[c].name, r.checks[c].best_error);
    // Second differences of f: a larger best step (ε^(1/4)) and a worse best error (~ε^(1/2)).
    CHECK(r.checks[4].best_h > r.checks[3].best_h && r.checks[4].best_error < 1e-7 &&
              r.checks[4].best_error > 10 * r.checks[3].best_error,
          "Hessian from f: best h %.1e error %.1e; from the gradient: %.1e, %.1e", r.checks[4].best_h,
          r.checks[4].best_error, r.checks[3].best_h, r.checks[3].best_error);
    // float32 network: the tape's gradient and Hv agree with differences to ~ε32^(2/3).
    CHECK(r.checks[5].best_error < 1e-3, "network gradient: best error %.2e", r.checks[5].best_error);
    CHECK(r.checks[6].best_error < 1e-3, "network Hv: best error %.2e", r.checks[6].best_error);
    CHECK_NEAR(r.spherical_determinant, r.spherical_determinant_expected, 1e-12);
    CHECK(r.hessian_asymmetry < 1e-7, "network Hessian asymmetry %.2e", r.hessian_asymmetry);
}

static void chain_rule(void) {
    ChainRuleResult r;
    Error error;
    REQUIRE(explore_chain_rule(1, &r, &error) == 0, "%s", error.message);
    static const int lengths[CALCULUS_CHAIN_STAGES] = {3, 5, 5, 6, 6, 4, 24};
    for (int s = 0; s < CALCULUS_CHAIN_STAGES; s++) {
        CHECK(r.stages[s].n == lengths[s], "stage %d: length %d, expected %d", s, r.stages[s].n, lengths[s]);
        CHECK(r.stages[s].jacobian_error < 1e-8, "stage %d (%s): Jacobian off by %.2e", s, r.stages[s].formula,
              r.stages[s].jacobian_error);
        CHECK(r.stages[s].norm > 0 && isfinite(r.stages[s].norm), "stage %d norm %g", s, r.stages[s].norm);
    }
    // softmax - onehot sums to 0, with -1 + p_y at the target.
    double sum = 0.0;
    for (int i = 0; i < 3; i++) sum += r.stages[0].vector[i];
    CHECK_NEAR(sum, 0.0, 1e-12);
    CHECK(r.stages[0].vector[r.target] < 0, "dL/dz3 at the target %g should be negative", r.stages[0].vector[r.target]);
    // diag(1 - tanh²) only shrinks: each entry of dL/dz is no larger than dL/da's, same sign.
    for (int s = 2; s <= 4; s += 2)
        for (int i = 0; i < r.stages[s].n; i++)
            CHECK(fabs(r.stages[s].vector[i]) <= fabs(r.stages[s - 1].vector[i]) &&
                      r.stages[s].vector[i] * r.stages[s - 1].vector[i] >= 0,
                  "stage %d entry %d: %g from %g", s, i, r.stages[s].vector[i], r.stages[s - 1].vector[i]);
    CHECK(r.input_gradient_error < 1e-7, "dL/dx against differences: %.2e", r.input_gradient_error);
    CHECK(r.tape_gradient_error < 1e-5, "hand backward against the tape: %.2e", r.tape_gradient_error);
    CHECK(r.loss > 0 && r.loss < 5, "loss %g", r.loss);
}

static void bad_input(void) {
    FiniteDifferenceResult f;
    JacobianHessianResult j;
    Error error;
    CHECK(explore_finite_differences(0, 16, 1, &f, &error) == -1 && strstr(error.message, "--per-decade"), "%s",
          error.message);
    CHECK(explore_finite_differences(7, 16, 1, &f, &error) == -1 && strstr(error.message, "[1, 6]"), "%s",
          error.message);
    CHECK(explore_finite_differences(4, 0, 1, &f, &error) == -1 && strstr(error.message, "--points must be at least 1"),
          "%s", error.message);
    CHECK(explore_jacobian_hessian(-3, 1, &j, &error) == -1 && strstr(error.message, "--per-decade"), "%s",
          error.message);
}

static const CheckCase CASES[] = {
    {"finite differences: the best step and the two slopes", finite_differences},
    {"jacobian-hessian: every derivative against differences", jacobian_hessian},
    {"chain rule: vector-Jacobian products checked", chain_rule},
    {"bad input", bad_input},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
