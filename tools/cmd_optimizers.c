// groundup optimizers: every optimizer on the same three problems (Rosenbrock, an
// ill-conditioned quadratic, logistic regression on generated data). For each pair it picks
// the learning rate from a grid (fewest steps to the tolerance, else the lowest final loss),
// prints a markdown table, and writes one SVG with a panel of loss curves per problem. Then
// the second-order methods (Newton exact and by differences, L-BFGS, natural gradient) on the
// same problems, counted in evaluations (a first-order step is one), in a second table and in
// the same panels.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "foundations/optimizer.h"
#include "foundations/optimizer_problems.h"
#include "foundations/plot.h"
#include "tools/commands.h"
#include "tools/options.h"

enum { N_PROBLEMS = 3, N_GRID = 11 };
static const double TOLERANCE = 1e-6;  // on loss - minimum
static const float ADAMW_WEIGHT_DECAY = 0.01f;
static const double PLOT_FLOOR = 1e-12;

// Learning rates tried: 1e-4 ... 10 in half decades.
static float grid_lr(int i) { return (float)pow(10.0, -4.0 + 0.5 * i); }

int command_optimizers(int argc, char **argv) {
    const char *out_path = "optimizers.svg";
    int n_steps = 2000;
    long seed = 1;
    const Option options[] = {
        {"--out", OPTION_STRING, &out_path, "SVG file for the loss curves"},
        {"--steps", OPTION_INT, &n_steps, "optimizer steps per run"},
        {"--seed", OPTION_LONG, &seed, "seed of the generated problems"},
    };
    const char *usage = "groundup optimizers [--out FILE.svg] [--steps N] [--seed S]";
    int status = options_parse(argc, argv, usage, options, sizeof options / sizeof options[0], NULL, 0, NULL);
    if (status == OPTIONS_HELP) return 0;
    if (status == OPTIONS_ERROR) return 2;
    if (n_steps < 1 || n_steps > 1000000) return fail("optimizers", "--steps must be in [1, 1000000]");

    Error error;
    OptimizerProblem problems[N_PROBLEMS];
    const char *titles[N_PROBLEMS] = {"Rosenbrock (start -1.2, 1)", "Quadratic, dim 10, condition 100",
                                      "Logistic regression, 500 x 5"};
    if (optimizer_problem_rosenbrock(&problems[0], &error) ||
        optimizer_problem_quadratic(&problems[1], 10, 100.0, (uint64_t)seed, &error))
        return fail("optimizers", error.message);
    if (optimizer_problem_logistic(&problems[2], 500, 5, (uint64_t)seed + 1, &error)) {
        optimizer_problem_free(&problems[0]);
        optimizer_problem_free(&problems[1]);
        return fail("optimizers", error.message);
    }

    // curves[p][k] (n_steps + 1): loss - minimum of the chosen run; steps (n_steps + 1): the x axis.
    float *curves = malloc((size_t)N_PROBLEMS * N_OPTIMIZER_KINDS * (n_steps + 1) * sizeof(float));
    float *steps = malloc((size_t)(n_steps + 1) * sizeof(float));
    // second_x, second_y [p][m] (n_steps + 1): evaluations and loss - minimum of each second-order run.
    float *second_x = malloc((size_t)N_PROBLEMS * N_SECOND_ORDER_METHODS * (n_steps + 1) * sizeof(float));
    float *second_y = malloc((size_t)N_PROBLEMS * N_SECOND_ORDER_METHODS * (n_steps + 1) * sizeof(float));
    int second_count[N_PROBLEMS][N_SECOND_ORDER_METHODS] = {{0}};
    SecondOrderRun second_order[N_PROBLEMS][N_SECOND_ORDER_METHODS];
    SecondOrderTrace trace = {0};
    double *losses = malloc((size_t)(n_steps + 1) * sizeof(double));
    OptimizerChoice results[N_PROBLEMS][N_OPTIMIZER_KINDS];
    float grid[N_GRID];
    for (int g = 0; g < N_GRID; g++) grid[g] = grid_lr(g);
    int exit_status = 0;
    if (!curves || !steps || !losses || !second_x || !second_y) {
        exit_status = fail("optimizers", "out of memory");
        goto done;
    }
    for (int i = 0; i <= n_steps; i++) steps[i] = (float)i;

    for (int p = 0; p < N_PROBLEMS; p++) {
        const OptimizerProblem *problem = &problems[p];
        for (int k = 0; k < N_OPTIMIZER_KINDS; k++) {
            OptimizerConfig config = optimizer_default_config((OptimizerKind)k);
            // AdamW with its decay on, to show what decoupling does (with 0 it is Adam).
            if (k == OPTIMIZER_ADAMW) config.weight_decay = ADAMW_WEIGHT_DECAY;
            if (optimizer_choose_lr(problem, &config, grid, N_GRID, n_steps, TOLERANCE, losses, &results[p][k], &error)) {
                exit_status = fail("optimizers", error.message);
                goto done;
            }
            float *curve = curves + ((size_t)p * N_OPTIMIZER_KINDS + k) * (n_steps + 1);
            // Floored for the log axis: below 1e-12 the differences are rounding in float parameters.
            for (int i = 0; i <= n_steps; i++) curve[i] = (float)fmax(losses[i] - problem->loss_minimum, PLOT_FLOOR);
        }
        fprintf(stderr, "optimizers: %s done\n", problem->name);
    }

    // The second-order methods, up to n_steps iterations each; their curves against evaluations.
    if (second_order_trace_init(&trace, n_steps + 1, &error)) {
        exit_status = fail("optimizers", error.message);
        goto done;
    }
    for (int p = 0; p < N_PROBLEMS; p++)
        for (int m = 0; m < N_SECOND_ORDER_METHODS; m++) {
            SecondOrderRun *run = &second_order[p][m];
            if (optimizer_run_second_order(&problems[p], (SecondOrderMethod)m, n_steps, TOLERANCE, &trace, run, &error)) {
                exit_status = fail("optimizers", error.message);
                goto done;
            }
            float *x = second_x + ((size_t)p * N_SECOND_ORDER_METHODS + m) * (n_steps + 1);
            float *y = second_y + ((size_t)p * N_SECOND_ORDER_METHODS + m) * (n_steps + 1);
            second_count[p][m] = run->available ? trace.count : 0;
            for (int i = 0; i < second_count[p][m]; i++) {
                x[i] = (float)trace.evaluations[i];
                y[i] = (float)fmax(trace.loss[i] - problems[p].loss_minimum, PLOT_FLOOR);
            }
        }

    // The SVG first: if it cannot be written, stdout stays empty.
    {
        PlotSeries series[N_PROBLEMS][N_OPTIMIZER_KINDS + N_SECOND_ORDER_METHODS];
        PlotChart charts[N_PROBLEMS];
        for (int p = 0; p < N_PROBLEMS; p++) {
            int count = 0;
            for (int k = 0; k < N_OPTIMIZER_KINDS; k++) {
                series[p][count++] = (PlotSeries){.name = optimizer_kind_name((OptimizerKind)k), .x = steps,
                                                  .y = curves + ((size_t)p * N_OPTIMIZER_KINDS + k) * (n_steps + 1), .n = n_steps + 1};
            }
            for (int m = 0; m < N_SECOND_ORDER_METHODS; m++)
                if (second_count[p][m] > 0) {
                    size_t offset = ((size_t)p * N_SECOND_ORDER_METHODS + m) * (n_steps + 1);
                    series[p][count++] = (PlotSeries){.name = second_order_method_name((SecondOrderMethod)m),
                                                      .x = second_x + offset, .y = second_y + offset, .n = second_count[p][m]};
                }
            charts[p] = (PlotChart){.title = titles[p], .x_label = "gradient evaluations (a first-order step is one)",
                                    .y_label = "loss - minimum (log, floor 1e-12)", .log_y = 1, .series = series[p],
                                    .n_series = count};
        }
        if (plot_write_svg(out_path, charts, N_PROBLEMS, N_PROBLEMS, &error)) {
            exit_status = fail("optimizers", error.message);
            goto done;
        }
        fprintf(stderr, "optimizers: wrote %s\n", out_path);
    }

    printf("Each optimizer at the best learning rate of the grid 1e-4, 3e-4, ..., 10 (half decades), %d steps from the same start;\n"
           "\"steps\": loss - minimum <= %g from that step to the end (— if never). Defaults: momentum 0.9, rho 0.99, betas 0.9/0.999,\n"
           "eps 1e-8; AdamW with weight decay %g (the others 0). LR finder: steepest-descent suggestion of a 100-step range\n"
           "test from 1e-6 to 10.\n\n",
           n_steps, TOLERANCE, ADAMW_WEIGHT_DECAY);
    printf("| problem | optimizer | lr | steps to tol | final loss - min | LR finder |\n");
    printf("|---|---|---:|---:|---:|---:|\n");
    for (int p = 0; p < N_PROBLEMS; p++)
        for (int k = 0; k < N_OPTIMIZER_KINDS; k++) {
            const OptimizerChoice *r = &results[p][k];
            char steps_text[32];
            if (r->run.steps_to_tolerance >= 0) snprintf(steps_text, sizeof steps_text, "%d", r->run.steps_to_tolerance);
            else snprintf(steps_text, sizeof steps_text, "—");
            printf("| %s | %s | %.2g | %s | %.2e | %.2g |\n", problems[p].name, optimizer_kind_name((OptimizerKind)k), r->lr,
                   steps_text, r->run.final_loss - problems[p].loss_minimum, r->finder_lr);
        }

    printf("\nSecond-order methods from the same start, up to %d iterations (each a line search, or a full step for the\n"
           "natural gradient). Evaluations: gradient evaluations plus Hessian- or Fisher-vector products (a dense Hessian\n"
           "from its formula counts n, one by central differences 2n gradient evaluations). Natural gradient: (F + 1e-4 I)^-1\n"
           "grad, only for the likelihood (logistic regression, where F is also the Hessian).\n\n", n_steps);
    printf("| problem | method | iterations to tol | evaluations to tol | iterations run | final loss - min |\n");
    printf("|---|---|---:|---:|---:|---:|\n");
    for (int p = 0; p < N_PROBLEMS; p++)
        for (int m = 0; m < N_SECOND_ORDER_METHODS; m++) {
            const SecondOrderRun *run = &second_order[p][m];
            if (!run->available) continue;
            printf("| %s | %s |", problems[p].name, second_order_method_name((SecondOrderMethod)m));
            if (run->iterations_to_tolerance >= 0) printf(" %d | %ld |", run->iterations_to_tolerance, run->evaluations_to_tolerance);
            else printf(" — | — |");
            printf(" %d | %.2e |\n", run->iterations, run->final_loss - problems[p].loss_minimum);
        }

done:
    second_order_trace_free(&trace);
    free(second_x);
    free(second_y);
    free(curves);
    free(steps);
    free(losses);
    for (int p = 0; p < N_PROBLEMS; p++) optimizer_problem_free(&problems[p]);
    return exit_status;
}
