// groundup explore finite-differences | jacobian-hessian | chain-rule: the calculus topics
// (explore/calculus.h measures; this file parses, calls, prints the tables and draws the SVGs).
#include <math.h>
#include <stdio.h>

#include "explore/calculus.h"
#include "foundations/plot.h"
#include "tools/explore_topics.h"
#include "tools/options.h"

// The error of every sweep at every h: a markdown table (the sweeps share their h values).
static void print_sweep_table(const StepSweep *sweeps, int n_sweeps) {
    printf("| h |");
    for (int s = 0; s < n_sweeps; s++) printf(" %s |", sweeps[s].name);
    printf("\n|---:|");
    for (int s = 0; s < n_sweeps; s++) printf("---:|");
    printf("\n");
    for (int k = 0; k < sweeps[0].n; k++) {
        printf("| %.1e |", sweeps[0].h[k]);
        for (int s = 0; s < n_sweeps; s++) printf(isnan(sweeps[s].error[k]) ? " — |" : " %.2e |", sweeps[s].error[k]);
        printf("\n");
    }
}

// The best step of each sweep beside the theory's.
static void print_best_steps(const StepSweep *sweeps, int n_sweeps, const char *const *theory) {
    printf("\n| derivative | size | best h | error there | theory's h |\n|---|---:|---:|---:|---|\n");
    for (int s = 0; s < n_sweeps; s++)
        printf("| %s | %s | %.1e | %.2e | %s = %.1e |\n", sweeps[s].name, sweeps[s].shape, sweeps[s].best_h,
               sweeps[s].best_error, theory[s], sweeps[s].expected_h);
}

// One log-log panel of error against h, a series per sweep (float copies for plot.h).
static int write_sweep_svg(const char *path, const char *title, const StepSweep *sweeps, int n_sweeps,
                           Error *error) {
    float h[CALCULUS_MAX_STEPS], errors[JACOBIAN_HESSIAN_CHECKS][CALCULUS_MAX_STEPS];
    PlotSeries series[JACOBIAN_HESSIAN_CHECKS];
    for (int k = 0; k < sweeps[0].n; k++) h[k] = (float)sweeps[0].h[k];
    for (int s = 0; s < n_sweeps; s++) {
        for (int k = 0; k < sweeps[s].n; k++) errors[s][k] = sweeps[s].error[k] > 1.0 ? 1.0f : (float)sweeps[s].error[k];
        series[s] = (PlotSeries){sweeps[s].name, h, errors[s], sweeps[s].n};
    }
    PlotChart chart = {.title = title, .x_label = "step h", .y_label = "relative error (above 1: at 1)", .log_y = 1,
                       .series = series, .n_series = n_sweeps, .log_x = 1};
    return plot_write_svg(path, &chart, 1, 1, error);
}

int explore_run_finite_differences(int argc, char **argv) {
    const char *out = "finite-differences.svg";
    int per_decade = 4, points = 16;
    long seed = 1;
    const Option options[] = {
        {"--out", OPTION_STRING, &out, "SVG file: the error against h, log-log"},
        {"--per-decade", OPTION_INT, &per_decade, "values of h per decade, 1 to 6 (h = 1 ... 1e-15)"},
        {"--points", OPTION_INT, &points, "points x in [0.5, 1.5] the error is averaged (RMS) over"},
        {"--seed", OPTION_LONG, &seed, "seed of the points"},
    };
    const char *usage = "groundup explore finite-differences [--out FILE.svg] [--per-decade N] [--points N] [--seed S]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof options[0]);
    if (status >= 0) return status;
    Error error;
    FiniteDifferenceResult r;
    if (explore_finite_differences(per_decade, points, (uint64_t)seed, &r, &error) ||
        write_sweep_svg(out, "f(x) = exp(x) sin(x): error of f'(x) against the step h", r.sweeps,
                        FINITE_DIFFERENCE_SWEEPS, &error))
        return fail("explore finite-differences", error.message);
    fprintf(stderr, "explore finite-differences: wrote %s\n", out);
    printf("f(x) = e^x sin x, f'(x) = e^x (sin x + cos x): the RMS relative error of forward (f(x+h) - f(x))/h and\n"
           "central (f(x+h) - f(x-h))/2h differences over %d points x in [0.5, 1.5], in float64 (eps %.2e) and\n"
           "float32 (eps %.2e); — where the step vanished in that precision.\n\n",
           points, r.epsilon64, r.epsilon32);
    print_sweep_table(r.sweeps, FINITE_DIFFERENCE_SWEEPS);
    static const char *const theory[FINITE_DIFFERENCE_SWEEPS] = {"eps64^(1/2)", "eps64^(1/3)", "eps32^(1/2)",
                                                                 "eps32^(1/3)"};
    print_best_steps(r.sweeps, FINITE_DIFFERENCE_SWEEPS, theory);
    return 0;
}

int explore_run_jacobian_hessian(int argc, char **argv) {
    const char *out = "jacobian-hessian.svg";
    int per_decade = 4;
    long seed = 1;
    const Option options[] = {
        {"--out", OPTION_STRING, &out, "SVG file: each check's error against h, log-log"},
        {"--per-decade", OPTION_INT, &per_decade, "values of h per decade, 1 to 6 (h = 1 ... 1e-12)"},
        {"--seed", OPTION_LONG, &seed, "seed of the softmax logits, the network and its data, and v"},
    };
    const char *usage = "groundup explore jacobian-hessian [--out FILE.svg] [--per-decade N] [--seed S]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof options[0]);
    if (status >= 0) return status;
    Error error;
    JacobianHessianResult r;
    if (explore_jacobian_hessian(per_decade, (uint64_t)seed, &r, &error) ||
        write_sweep_svg(out, "Derivatives: differences against analytic", r.checks,
                        JACOBIAN_HESSIAN_CHECKS, &error))
        return fail("explore jacobian-hessian", error.message);
    fprintf(stderr, "explore jacobian-hessian: wrote %s\n", out);
    printf("Each derivative analytic (the network's: the framework's tape backward) against central differences;\n"
           "error = max |numeric - analytic| / max |analytic| (RMS over 8 points for the small functions). H (∇f):\n"
           "the Hessian by differences of the analytic gradient, H (f): by second differences of f. The network: tanh\n"
           "MLP 4-6-5-3, %ld parameters, mean cross-entropy over 8 examples; its Hv by differences of tape gradients\n"
           "along a unit v, against the float64 twin's Hv.\n\n",
           r.n_parameters);
    print_sweep_table(r.checks, JACOBIAN_HESSIAN_CHECKS);
    static const char *const theory[JACOBIAN_HESSIAN_CHECKS] = {"eps64^(1/3)", "eps64^(1/3)", "eps64^(1/3)",
                                                                "eps64^(1/3)", "eps64^(1/4)", "eps32^(1/3)",
                                                                "eps32^(1/3)"};
    print_best_steps(r.checks, JACOBIAN_HESSIAN_CHECKS, theory);
    printf("\nSpherical coordinates: det J = %.12f, r^2 sin(theta) = %.12f. The network's Hessian (83x83, float64\n"
           "differences of gradients): max |H - H^T| / max |H| = %.1e.\n",
           r.spherical_determinant, r.spherical_determinant_expected, r.hessian_asymmetry);
    return 0;
}

// ||vector|| at each stage of the backward, and each stage's Jacobian check, one log-y panel.
static int write_chain_svg(const char *path, const ChainRuleResult *r, Error *error) {
    float stage[CALCULUS_CHAIN_STAGES], norm[CALCULUS_CHAIN_STAGES], check[CALCULUS_CHAIN_STAGES];
    for (int s = 0; s < CALCULUS_CHAIN_STAGES; s++)
        stage[s] = (float)s, norm[s] = (float)r->stages[s].norm, check[s] = (float)r->stages[s].jacobian_error;
    PlotSeries series[2] = {{"||vector||", stage, norm, CALCULUS_CHAIN_STAGES},
                            {"max |J - J_fd|", stage, check, CALCULUS_CHAIN_STAGES}};
    PlotChart chart = {.title = "Backward of a 3-layer tanh MLP, stage by stage",
                       .x_label = "stage (0 = dL/dz3, 5 = dL/dx, 6 = dL/dW1)",
                       .y_label = "value (log)", .log_y = 1, .series = series, .n_series = 2};
    return plot_write_svg(path, &chart, 1, 1, error);
}

int explore_run_chain_rule(int argc, char **argv) {
    const char *out = "chain-rule.svg";
    long seed = 1;
    const Option options[] = {
        {"--out", OPTION_STRING, &out, "SVG file: the vectors' norms and the Jacobian checks by stage"},
        {"--seed", OPTION_LONG, &seed, "seed of the network's weights and the example"},
    };
    const char *usage = "groundup explore chain-rule [--out FILE.svg] [--seed S]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof options[0]);
    if (status >= 0) return status;
    Error error;
    ChainRuleResult r;
    if (explore_chain_rule((uint64_t)seed, &r, &error) || write_chain_svg(out, &r, &error))
        return fail("explore chain-rule", error.message);
    fprintf(stderr, "explore chain-rule: wrote %s\n", out);
    printf("The backward of a tanh MLP 4-6-5-3 (z1 = W1 x + b1, a1 = tanh z1, z2 = W2 a1 + b2, a2 = tanh z2,\n"
           "z3 = W3 a2 + b3, L = -log softmax(z3)[y]) on one example, y = %d, L = %.6f: each stage a\n"
           "vector-Jacobian product; \"check\" = max |J - J_fd| of the stage's Jacobian against central differences\n"
           "of its forward (h = 1e-6, float64).\n\n",
           r.target, r.loss);
    printf("| stage | vector-Jacobian product | Jacobian | vector | norm | check |\n|---:|---|---|---|---:|---:|\n");
    for (int s = 0; s < CALCULUS_CHAIN_STAGES; s++) {
        const ChainStage *c = &r.stages[s];
        printf("| %d | %s | %s | (", s, c->formula, c->jacobian);
        int shown = c->n < CALCULUS_MAX_WIDTH ? c->n : CALCULUS_MAX_WIDTH;
        for (int i = 0; i < shown; i++) printf("%s%.4f", i ? ", " : "", c->vector[i]);
        printf("%s) | %.4f | %.1e |\n", c->n > shown ? ", ..." : "", c->norm, c->jacobian_error);
    }
    printf("\nThe whole chain: dL/dx against central differences of L in x: relative error %.1e. Every one of the\n"
           "%ld parameter gradients against the framework's tape backward (float32) on the same weights: %.1e.\n",
           r.input_gradient_error, r.n_parameters, r.tape_gradient_error);
    return 0;
}
