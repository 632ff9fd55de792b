// groundup explore second-order | bias-variance | double-descent: second-order methods against
// Adam on MNIST logistic regression (area "optimisation"), and two curves of generalisation
// (area "generalisation"). Each parses its options, calls explore/, writes its SVG and prints
// the table the SVG is drawn from (the SVG first: if it cannot be written, stdout stays empty).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "explore/bias_variance.h"
#include "explore/double_descent.h"
#include "explore/second_order_mnist.h"
#include "foundations/clock.h"
#include "foundations/plot.h"
#include "tools/explore_topics.h"
#include "tools/options.h"

static const float GAP_FLOOR = 1e-12f;  // the log axis' floor: below it the gap is rounding

// ----------------------------------------------------------------------------
// second-order

static int write_second_order_svg(const SecondOrderMnistResult *r, const char *path, Error *error) {
    PlotSeries series[SECOND_ORDER_MAX_METHODS];
    float *floored[SECOND_ORDER_MAX_METHODS] = {0};
    int status = -1;
    for (int m = 0; m < r->n_methods; m++) {
        const MethodCurve *c = &r->methods[m];
        if (!(floored[m] = malloc((size_t)c->count * sizeof(float)))) {
            error_set(error, "out of memory");
            goto done;
        }
        for (int k = 0; k < c->count; k++) floored[m][k] = fmaxf(c->gap[k], GAP_FLOOR);
        series[m] = (PlotSeries){c->name, c->passes, floored[m], c->count};
    }
    char title[128];
    snprintf(title, sizeof title, "MNIST logistic regression, %d images", r->images);
    PlotChart chart = {title, "passes over the data (log)", "loss - optimum (log, floor 1e-12)", 1, series, r->n_methods,
                       1, 0};
    status = plot_write_svg(path, &chart, 1, 1, error);
done:
    for (int m = 0; m < r->n_methods; m++) free(floored[m]);
    return status;
}

static void print_count(long value) {
    if (value >= 0) printf(" %ld |", value);
    else printf(" — |");
}

static void print_seconds(double value) {
    if (value >= 0) printf(" %.2f |", value);
    else printf(" — |");
}

// The record's headline: L-BFGS's passes to the tolerance against Adam's (against Adam's whole
// budget when Adam never gets there); both final gaps when L-BFGS does not get there either.
static void record_second_order(int argc, char **argv, const SecondOrderMnistResult *r, double tolerance,
                                const char *out, double started) {
    const MethodCurve *lbfgs = &r->methods[0], *adam = &r->methods[3];
    char metric[96], dataset[64];
    snprintf(dataset, sizeof dataset, "MNIST, the first %d training images", r->images);
    RunRecord record = {.model = "multinomial logistic regression", .paper = "Liu & Nocedal", .year = 1989,
                        .dataset = dataset, .parameters = r->parameters, .metric = metric, .figures = {out}};
    if (lbfgs->passes_to_tolerance > 0) {
        snprintf(metric, sizeof metric, "passes to loss - f* <= %g, L-BFGS", tolerance);
        record.value = (double)lbfgs->passes_to_tolerance;
        record.against = adam->passes_to_tolerance > 0 ? "Adam" : "Adam, not there in its passes";
        record.against_value = (double)(adam->passes_to_tolerance > 0 ? adam->passes_to_tolerance : adam->total_passes);
    } else {
        snprintf(metric, sizeof metric, "final loss - f*, L-BFGS (tolerance %g not reached)", tolerance);
        record.value = lbfgs->final_gap, record.against = "Adam", record.against_value = adam->final_gap;
    }
    explore_record(argc, argv, &record, started);
}

int explore_run_second_order(int argc, char **argv) {
    SecondOrderMnistConfig c = second_order_mnist_defaults();
    const char *out = "second-order.svg";
    const Option options[] = {
        {"--data", OPTION_STRING, &c.directory, "MNIST directory"},
        {"--images", OPTION_INT, &c.images, "training images (the first ones; >= 10, at most all)"},
        {"--l2", OPTION_DOUBLE, &c.l2, "L2 coefficient lambda (> 0): (lambda/2) ||theta||^2"},
        {"--tolerance", OPTION_DOUBLE, &c.tolerance, "loss - optimum counted as reached, in (0, 1]"},
        {"--adam-passes", OPTION_INT, &c.adam_passes, "Adam's budget in passes, per learning rate"},
        {"--iterations", OPTION_INT, &c.max_iterations, "the second-order methods' budget in iterations"},
        {"--memory", OPTION_INT, &c.memory, "L-BFGS memory m"},
        {"--damping", OPTION_DOUBLE, &c.damping, "natural gradient damping (F + damping I), > 0"},
        {"--out", OPTION_STRING, &out, "SVG file: loss - optimum against passes"},
    };
    const char *usage = "groundup explore second-order [--data DIR] [--images N] [--l2 L] [--tolerance T] "
                        "[--adam-passes N] [--iterations N] [--memory M] [--damping D] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    SecondOrderMnistResult r;
    Error error;
    double started = clock_seconds();
    if (explore_second_order_mnist(&c, &r, &error)) return fail("explore second-order", error.message);
    if (write_second_order_svg(&r, out, &error)) {
        second_order_mnist_result_free(&r);
        return fail("explore second-order", error.message);
    }
    fprintf(stderr, "explore second-order: wrote %s\n", out);
    printf("Multinomial logistic regression on the first %d MNIST training images, full batch, n = %ld parameters,\n"
           "L2 %g on every parameter. Optimum f* = %.10f by Newton-CG (|grad| %.1e, %ld passes, %.1f s; training\n"
           "accuracy %.4f). Passes: one per loss-and-gradient evaluation and one per Hessian/Fisher-vector product.\n"
           "\"to tol\": loss - f* <= %g from then on. L-BFGS m = %d with a strong Wolfe line search (c1 1e-4, c2 0.9);\n"
           "Newton-CG: truncated CG + the same line search; natural gradient: (F + %g I)^-1 grad by CG, full step;\n"
           "Adam: the best of the learning rates below, %d passes each.\n\n",
           r.images, r.parameters, c.l2, r.optimum, r.optimum_gradient_norm, r.optimum_passes, r.optimum_seconds,
           r.train_accuracy, c.tolerance, c.memory, c.damping, c.adam_passes);
    printf("| method | passes to tol | seconds to tol | CPU s to tol | passes run | final loss - f* |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (int m = 0; m < r.n_methods; m++) {
        const MethodCurve *mc = &r.methods[m];
        printf("| %s |", mc->name);
        print_count(mc->passes_to_tolerance);
        print_seconds(mc->seconds_to_tolerance);
        print_seconds(mc->cpu_to_tolerance);
        printf(" %ld | %.2e |\n", mc->total_passes, mc->final_gap);
    }
    printf("\n| Adam learning rate | passes to tol | final loss - f* |\n|---:|---:|---:|\n");
    for (int g = 0; g < SECOND_ORDER_ADAM_GRID; g++) {
        printf("| %g |", r.adam_grid[g]);
        print_count(r.adam_grid_passes[g]);
        printf(" %.2e |\n", r.adam_grid_gap[g]);
    }
    const MethodCurve *lbfgs = &r.methods[0], *adam = &r.methods[3];
    if (lbfgs->passes_to_tolerance > 0 && adam->passes_to_tolerance > 0)
        printf("\nL-BFGS needs %.1fx fewer passes than Adam.\n", (double)adam->passes_to_tolerance / lbfgs->passes_to_tolerance);
    else if (lbfgs->passes_to_tolerance > 0)
        printf("\nL-BFGS reaches the tolerance in %ld passes; Adam does not in %ld (its gap then: %.2e).\n",
               lbfgs->passes_to_tolerance, adam->total_passes, adam->final_gap);
    record_second_order(argc, argv, &r, c.tolerance, out, started);
    second_order_mnist_result_free(&r);
    return 0;
}

// ----------------------------------------------------------------------------
// bias-variance

static int write_bias_variance_svg(const BiasVarianceResult *r, const char *path, Error *error) {
    enum { SERIES = 5 };
    float x[BIAS_VARIANCE_MAX_DEGREE + 1], y[SERIES][BIAS_VARIANCE_MAX_DEGREE + 1];
    for (int d = 0; d < r->n_degrees; d++) {
        x[d] = (float)d;
        y[0][d] = (float)r->bias2[d], y[1][d] = (float)r->variance[d], y[2][d] = (float)r->noise;
        y[3][d] = (float)(r->bias2[d] + r->variance[d] + r->noise), y[4][d] = (float)r->test_error[d];
    }
    const char *names[SERIES] = {"bias^2", "variance", "noise", "sum of the three", "measured"};
    PlotSeries series[SERIES];
    for (int s = 0; s < SERIES; s++) series[s] = (PlotSeries){names[s], x, y[s], r->n_degrees};
    PlotChart chart = {"Bias-variance of polynomial fits", "degree",
                       "squared error (log)", 1, series, SERIES, 0, 0};
    return plot_write_svg(path, &chart, 1, 1, error);
}

int explore_run_bias_variance(int argc, char **argv) {
    BiasVarianceConfig c = bias_variance_defaults();
    const char *out = "bias-variance.svg";
    long seed = (long)c.seed;
    const Option options[] = {
        {"--train-size", OPTION_INT, &c.train_size, "points per training set (> max degree)"},
        {"--datasets", OPTION_INT, &c.datasets, "independent training sets (>= 2)"},
        {"--max-degree", OPTION_INT, &c.max_degree, "degrees 0 .. this (at most 20)"},
        {"--test-points", OPTION_INT, &c.test_points, "test x on a grid over [0, 1]"},
        {"--test-draws", OPTION_INT, &c.test_draws, "fresh noisy labels per test point and fit"},
        {"--noise", OPTION_DOUBLE, &c.noise, "noise standard deviation sigma (>= 0)"},
        {"--seed", OPTION_LONG, &seed, "seed"},
        {"--out", OPTION_STRING, &out, "SVG file: the decomposition against the degree"},
    };
    const char *usage = "groundup explore bias-variance [--train-size N] [--datasets M] [--max-degree D] [--test-points T] "
                        "[--test-draws K] [--noise S] [--seed S] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    c.seed = (uint64_t)seed;
    BiasVarianceResult r;
    Error error;
    double started = clock_seconds();
    if (explore_bias_variance(&c, &r, &error) || write_bias_variance_svg(&r, out, &error))
        return fail("explore bias-variance", error.message);
    fprintf(stderr, "explore bias-variance: wrote %s\n", out);
    printf("y = sin(2 pi x) + N(0, %g^2), x ~ U[0, 1]; %d training sets of %d points, least-squares polynomials (Legendre\n"
           "basis) of degree 0..%d; bias^2 and variance over %d test points; the test error measured with %d fresh noisy\n"
           "labels per test point and fit. \"identity gap\": measured - (bias^2 + variance + noise), beside its standard error.\n\n",
           c.noise, c.datasets, c.train_size, c.max_degree, c.test_points, c.test_draws);
    printf("| degree | bias^2 | variance | noise | bias^2+var+noise | measured test error | identity gap | std. error | train error |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int d = 0; d < r.n_degrees; d++) {
        double sum = r.bias2[d] + r.variance[d] + r.noise;
        printf("| %d | %.5f | %.5f | %.5f | %.5f | %.5f | %+.1e | %.1e | %.5f |\n", d, r.bias2[d], r.variance[d], r.noise, sum,
               r.test_error[d], r.test_error[d] - sum, r.test_error_stderr[d], r.train_error[d]);
    }
    printf("\nLowest measured test error at degree %d.\n", r.best_degree);
    char metric[96], dataset[96];
    int best = r.best_degree;
    snprintf(metric, sizeof metric, "lowest measured test error (degree %d)", best);
    snprintf(dataset, sizeof dataset, "%d sets of %d points, sin(2 pi x) + N(0, %g^2)", c.datasets, c.train_size, c.noise);
    RunRecord record = {.model = "least-squares polynomials", .paper = "Geman, Bienenstock & Doursat", .year = 1992,
                        .dataset = dataset, .metric = metric, .value = r.test_error[best],
                        .against = "bias^2 + variance + noise there", .against_value = r.bias2[best] + r.variance[best] + r.noise,
                        .figures = {out}};
    explore_record(argc, argv, &record, started);
    return 0;
}

// ----------------------------------------------------------------------------
// double-descent

static int write_double_descent_svg(const DoubleDescentResult *r, const char *path, Error *error) {
    float x[DOUBLE_DESCENT_MAX_POINTS], mse[DOUBLE_DESCENT_MAX_POINTS], train[DOUBLE_DESCENT_MAX_POINTS];
    float errors[DOUBLE_DESCENT_MAX_POINTS], norms[DOUBLE_DESCENT_MAX_POINTS];
    float low = INFINITY, high = 0;
    for (int j = 0; j < r->n_points; j++) {
        x[j] = (float)r->features[j];
        mse[j] = (float)r->test_mse[j], train[j] = fmaxf((float)r->train_mse[j], 1e-6f);
        errors[j] = (float)r->test_error[j], norms[j] = (float)r->norm[j];
        low = fminf(low, fminf(mse[j], train[j])), high = fmaxf(high, mse[j]);
    }
    float threshold_x[2] = {(float)r->train_size, (float)r->train_size}, threshold_y[2] = {low, high};
    float error_y[2] = {0.0f, 1.0f};
    PlotSeries loss_series[3] = {{"test", x, mse, r->n_points},
                                 {"train (floor 1e-6)", x, train, r->n_points},
                                 {"p = n", threshold_x, threshold_y, 2}};
    PlotSeries error_series[2] = {{"test", x, errors, r->n_points},
                                  {"p = n", threshold_x, error_y, 2}};
    PlotSeries norm_series[1] = {{"||beta||", x, norms, r->n_points}};
    PlotChart charts[3] = {
        {"Min-norm fit: squared loss", "features p (log)", "MSE (log)", 1,
         loss_series, 3, 1, 0},
        {"Test classification error", "features p (log)", "fraction wrong", 0, error_series, 2, 1, 0},
        {"Norm of the fit", "features p (log)", "||beta|| (log)", 1, norm_series, 1, 1, 0},
    };
    return plot_write_svg(path, charts, 3, 3, error);
}

// The record's headline: the test MSE at its peak against the test MSE with the most features.
static void record_double_descent(int argc, char **argv, const DoubleDescentResult *r, const char *out, double started) {
    int peak = 0, last = r->n_points - 1;
    for (int j = 0; j < r->n_points; j++)
        if (r->features[j] == r->peak_features) peak = j;
    char metric[96], against[64], dataset[96];
    snprintf(metric, sizeof metric, "peak test MSE (p = %d, p / n = %.2f)", r->peak_features,
             (double)r->peak_features / r->train_size);
    snprintf(against, sizeof against, "test MSE at p = %d", r->features[last]);
    snprintf(dataset, sizeof dataset, "MNIST, %d training and %d test images", r->train_size, r->test_size);
    RunRecord record = {.model = "random ReLU features, minimum-norm least squares", .paper = "Belkin et al.",
                        .year = 2019, .dataset = dataset, .metric = metric, .value = r->test_mse[peak],
                        .against = against, .against_value = r->test_mse[last], .figures = {out}};
    explore_record(argc, argv, &record, started);
}

int explore_run_double_descent(int argc, char **argv) {
    DoubleDescentConfig c = double_descent_defaults();
    const char *out = "double-descent.svg";
    long seed = (long)c.seed;
    const Option options[] = {
        {"--data", OPTION_STRING, &c.directory, "MNIST directory"},
        {"--train", OPTION_INT, &c.train_size, "training images n (the first ones, >= 10)"},
        {"--test", OPTION_INT, &c.test_size, "test images scored"},
        {"--min-ratio", OPTION_DOUBLE, &c.min_ratio, "fewest features as a fraction of n, in (0, 1)"},
        {"--max-ratio", OPTION_DOUBLE, &c.max_ratio, "most features as a multiple of n, in (1, 20]"},
        {"--points", OPTION_INT, &c.n_points, "feature counts in the sweep (log-spaced, n among them)"},
        {"--seed", OPTION_LONG, &seed, "seed of the random features"},
        {"--out", OPTION_STRING, &out, "SVG file: test error against the number of features"},
    };
    const char *usage = "groundup explore double-descent [--data DIR] [--train N] [--test N] [--min-ratio R] "
                        "[--max-ratio R] [--points K] [--seed S] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    c.seed = (uint64_t)seed;
    DoubleDescentResult r;
    Error error;
    double started = clock_seconds();
    if (explore_double_descent(&c, &r, &error) || write_double_descent_svg(&r, out, &error))
        return fail("explore double-descent", error.message);
    fprintf(stderr, "explore double-descent: wrote %s\n", out);
    printf("Random ReLU features max(0, w.x), w ~ N(0, I/784), and the minimum-norm least-squares fit of one-hot labels on\n"
           "the first %d MNIST training images, scored on %d test images. The interpolation threshold is p = n = %d.\n\n",
           r.train_size, r.test_size, r.train_size);
    printf("| features p | p / n | train MSE | test MSE | test error | norm of beta |\n|---:|---:|---:|---:|---:|---:|\n");
    for (int j = 0; j < r.n_points; j++)
        printf("| %d | %.2f | %.2e | %.4f | %.4f | %.3g |\n", r.features[j], (double)r.features[j] / r.train_size,
               r.train_mse[j], r.test_mse[j], r.test_error[j], r.norm[j]);
    printf("\nThe test MSE peaks at p = %d (p / n = %.2f).\n", r.peak_features, (double)r.peak_features / r.train_size);
    record_double_descent(argc, argv, &r, out, started);
    return 0;
}
