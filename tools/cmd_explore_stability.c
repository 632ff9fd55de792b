// groundup explore softmax-stability | variance-stability | summation | orthogonality |
// ill-conditioning: the numerical-stability topics (explore/stability.h measures; this file
// parses, calls, prints the tables and draws the SVGs).
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "explore/stability.h"
#include "foundations/plot.h"
#include "tools/explore_topics.h"
#include "tools/options.h"

enum { MAX_SERIES = 5 };

// A log-log chart. Each series' y (n) is read with stride doubles between points (a field of
// an array of result rows: every row struct holds a double, so its size is a multiple of one).
// 0 is drawn at floor, +inf (overflow) and anything above cap at cap, NaN not at all.
typedef struct LogLogSeries {
    const char *name;
    const double *y;
    int stride;  // in doubles
} LogLogSeries;

static int write_log_log(const char *path, const char *title, const char *x_label, const char *y_label,
                         const double *x, int x_stride, int n, const LogLogSeries *in, int n_series, double floor,
                         double cap, Error *error) {
    float xs[STABILITY_MAX_POINTS], ys[MAX_SERIES][STABILITY_MAX_POINTS];
    PlotSeries series[MAX_SERIES];
    for (int k = 0; k < n; k++) xs[k] = (float)x[k * x_stride];
    for (int s = 0; s < n_series; s++) {
        for (int k = 0; k < n; k++) {
            double v = in[s].y[k * in[s].stride];
            ys[s][k] = isnan(v) ? NAN : v > cap ? (float)cap : v < floor ? (float)floor : (float)v;
        }
        series[s] = (PlotSeries){in[s].name, xs, ys[s], n};
    }
    PlotChart chart = {.title = title, .x_label = x_label, .y_label = y_label, .log_y = 1, .series = series,
                       .n_series = n_series, .log_x = 1};
    return plot_write_svg(path, &chart, 1, 1, error);
}

// A number, or the word for what it is not (never "inf" or "nan" in a table).
static void print_value(double v, const char *format) {
    if (isinf(v)) printf(" overflow |");
    else if (isnan(v)) printf(" — |");
    else {
        printf(" ");
        printf(format, v);
        printf(" |");
    }
}

// ---------------------------------------------------------------------------------------

int explore_run_softmax_stability(int argc, char **argv) {
    const char *out = "softmax-stability.svg";
    int per_decade = 4, rows = 64;
    long seed = 1;
    const Option options[] = {
        {"--out", OPTION_STRING, &out, "SVG file: the errors against the logits' scale, log-log"},
        {"--per-decade", OPTION_INT, &per_decade, "scales per decade, 1 to 8 (scale 1 ... 1e4)"},
        {"--rows", OPTION_INT, &rows, "rows of 10 logits at each scale"},
        {"--seed", OPTION_LONG, &seed, "seed of the logits"},
    };
    const char *usage = "groundup explore softmax-stability [--out FILE.svg] [--per-decade N] [--rows N] [--seed S]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof options[0]);
    if (status >= 0) return status;
    Error error;
    SoftmaxResult r;
    if (explore_softmax(per_decade, rows, (uint64_t)seed, &r, &error)) return fail("explore softmax-stability", error.message);
    int stride = (int)(sizeof(SoftmaxRow) / sizeof(double));
    LogLogSeries series[4] = {{"naive LSE", &r.rows[0].naive_lse_error, stride},
                              {"stable LSE", &r.rows[0].stable_lse_error, stride},
                              {"naive softmax", &r.rows[0].naive_softmax_error, stride},
                              {"stable softmax", &r.rows[0].stable_softmax_error, stride}};
    if (write_log_log(out, "float32 log-sum-exp (LSE) and softmax against float64", "scale of the logits",
                      "worst error (overflow: at 10; 0: at 1e-10)", &r.rows[0].scale, stride, r.n, series, 4, 1e-10,
                      10.0, &error))
        return fail("explore softmax-stability", error.message);
    fprintf(stderr, "explore softmax-stability: wrote %s\n", out);
    printf("%d rows of %d float32 logits z = scale * N(0, 1) at each scale; naive: log sum exp z and exp z / sum exp z;\n"
           "stable: m + log sum exp(z - m) and the project's softmax (m = max z subtracted). Worst over the rows\n"
           "against float64: relative error of log-sum-exp, max |p - p_ref| of softmax; \"overflow\": exp(z) > 3.4e38.\n\n",
           r.n_rows, r.n_logits);
    printf("| scale | naive lse | stable lse | naive softmax | stable softmax | naive rows not finite |\n"
           "|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < r.n; k++) {
        const SoftmaxRow *row = &r.rows[k];
        printf("| %.3g |", row->scale);
        print_value(row->naive_lse_error, "%.1e");
        print_value(row->stable_lse_error, "%.1e");
        print_value(row->naive_softmax_error, "%.1e");
        print_value(row->stable_softmax_error, "%.1e");
        printf(" %.0f%% |\n", 100 * row->naive_failed_fraction);
    }
    return 0;
}

int explore_run_variance_stability(int argc, char **argv) {
    const char *out = "variance-stability.svg";
    long n = 100000, seed = 1;
    const Option options[] = {
        {"--out", OPTION_STRING, &out, "SVG file: the relative errors against the mean, log-log"},
        {"--n", OPTION_LONG, &n, "values (float64, N(shift, 1))"},
        {"--seed", OPTION_LONG, &seed, "seed of the values"},
    };
    const char *usage = "groundup explore variance-stability [--out FILE.svg] [--n N] [--seed S]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof options[0]);
    if (status >= 0) return status;
    Error error;
    VarianceResult r;
    if (explore_variance(n, (uint64_t)seed, &r, &error)) return fail("explore variance-stability", error.message);
    int stride = (int)(sizeof(VarianceRow) / sizeof(double));
    LogLogSeries series[3] = {{"one pass E[x²]-E[x]²", &r.rows[0].naive_error, stride},
                              {"two passes", &r.rows[0].two_pass_error, stride},
                              {"Welford", &r.rows[0].welford_error, stride}};
    if (write_log_log(out, "Variance of N(shift, 1) data, float64", "shift (the mean)", "relative error (0: at 1e-17)",
                      &r.rows[0].shift, stride, r.n, series, 3, 1e-17, 1e3, &error))
        return fail("explore variance-stability", error.message);
    fprintf(stderr, "explore variance-stability: wrote %s\n", out);
    printf("%ld float64 values x = shift + d, d ~ N(0, 1) on a grid of 2^-16 (so every x is exact and var(x) = var(d),\n"
           "the reference: two passes over d). Population variances; error = |estimate - reference| / reference.\n\n",
           r.n_values);
    printf("| shift | reference | one pass | two passes | Welford | one-pass error | two-pass error | Welford error |\n"
           "|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < r.n; k++) {
        const VarianceRow *v = &r.rows[k];
        printf("| %.0e | %.9f | %.9g | %.9f | %.9f | %.1e | %.1e | %.1e |\n", v->shift, v->reference, v->naive,
               v->two_pass, v->welford, v->naive_error, v->two_pass_error, v->welford_error);
    }
    return 0;
}

int explore_run_summation(int argc, char **argv) {
    const char *out = "summation.svg";
    long n = 10000000, seed = 1;
    const Option options[] = {
        {"--out", OPTION_STRING, &out, "SVG file: the relative errors against n, log-log"},
        {"--n", OPTION_LONG, &n, "float32 values, uniform in [0, 1), 1000 to 1e8"},
        {"--seed", OPTION_LONG, &seed, "seed of the values"},
    };
    const char *usage = "groundup explore summation [--out FILE.svg] [--n N] [--seed S]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof options[0]);
    if (status >= 0) return status;
    Error error;
    SummationResult r;
    if (explore_summation(n, (uint64_t)seed, &r, &error)) return fail("explore summation", error.message);
    int stride = (int)(sizeof(SummationRow) / sizeof(double));
    LogLogSeries series[SUMMATION_METHODS];
    for (int m = 0; m < SUMMATION_METHODS; m++) series[m] = (LogLogSeries){r.names[m], &r.rows[0].error[m], stride};
    double ns[STABILITY_MAX_POINTS];
    for (int k = 0; k < r.n; k++) ns[k] = (double)r.rows[k].n;
    if (write_log_log(out, "Sums of n float32 values in [0, 1)", "n", "relative error (0: at 1e-17)", ns, 1, r.n, series,
                      SUMMATION_METHODS, 1e-17, 1.0, &error))
        return fail("explore summation", error.message);
    fprintf(stderr, "explore summation: wrote %s\n", out);
    printf("The first n of %ld float32 values uniform in [0, 1), summed three ways in float32; error =\n"
           "|sum - reference| / reference, the reference their float64 sum (exact here: the values are multiples of\n"
           "2^-24 and the sums below 2^27). float32 eps = %.2e.\n\n",
           n, FLT_EPSILON);
    printf("| n | reference |");
    for (int m = 0; m < SUMMATION_METHODS; m++) printf(" %s |", r.names[m]);
    printf("\n|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < r.n; k++) {
        printf("| %ld | %.1f |", r.rows[k].n, r.rows[k].reference);
        for (int m = 0; m < SUMMATION_METHODS; m++) printf(" %.1e |", r.rows[k].error[m]);
        printf("\n");
    }
    return 0;
}

int explore_run_orthogonality(int argc, char **argv) {
    const char *out = "orthogonality.svg";
    int rows = 40, cols = 10, max_exponent = 14;
    long seed = 1;
    const Option options[] = {
        {"--out", OPTION_STRING, &out, "SVG file: ||Q^T Q - I|| against the condition number, log-log"},
        {"--rows", OPTION_INT, &rows, "rows of A (at least --cols)"},
        {"--cols", OPTION_INT, &cols, "columns of A, 2 to 60"},
        {"--max-exponent", OPTION_INT, &max_exponent, "the largest condition number is 10^this, 1 to 16"},
        {"--seed", OPTION_LONG, &seed, "seed of A's singular vectors"},
    };
    const char *usage = "groundup explore orthogonality [--out FILE.svg] [--rows M] [--cols N] [--max-exponent K] [--seed S]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof options[0]);
    if (status >= 0) return status;
    Error error;
    OrthogonalityResult r;
    if (explore_orthogonality(rows, cols, max_exponent, (uint64_t)seed, &r, &error))
        return fail("explore orthogonality", error.message);
    int stride = (int)(sizeof(OrthogonalityRow) / sizeof(double));
    double model1[STABILITY_MAX_POINTS], model2[STABILITY_MAX_POINTS];
    for (int k = 0; k < r.n; k++) {
        double kappa = r.points[k].condition_target;
        model1[k] = kappa * DBL_EPSILON, model2[k] = kappa * kappa * DBL_EPSILON;
    }
    LogLogSeries series[5] = {{r.names[0], &r.points[0].loss[0], stride},
                              {r.names[1], &r.points[0].loss[1], stride},
                              {r.names[2], &r.points[0].loss[2], stride},
                              {"κ² ε", model2, 1},
                              {"κ ε", model1, 1}};
    if (write_log_log(out, "Loss of orthogonality of Q in A = QR", "condition number κ of A", "||QᵀQ - I||_F",
                      &r.points[0].condition_target, stride, r.n, series, 5, 1e-17, 10.0, &error))
        return fail("explore orthogonality", error.message);
    fprintf(stderr, "explore orthogonality: wrote %s\n", out);
    printf("A (%d x %d) = U diag(s) V^T, seeded orthonormal U and V, s_i = kappa^(-i/%d); ||Q^T Q - I||_F of each QR's Q,\n"
           "and the worst ||A - QR||_F / ||A||_F of the three (all three factor A; only Householder keeps Q orthonormal).\n\n",
           r.rows, r.cols, r.cols - 1);
    printf("| kappa | measured kappa | classical GS | modified GS | Householder | worst ||A - QR|| / ||A|| |\n"
           "|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < r.n; k++) {
        const OrthogonalityRow *p = &r.points[k];
        printf("| %.1e | %.2e |", p->condition_target, p->condition_measured);
        for (int m = 0; m < ORTHOGONALITY_METHODS; m++) print_value(p->loss[m], "%.1e");
        double worst = fmax(fmax(p->reconstruction[0], p->reconstruction[1]), p->reconstruction[2]);
        print_value(worst, "%.1e");
        printf("\n");
    }
    return 0;
}

int explore_run_ill_conditioning(int argc, char **argv) {
    const char *out = "ill-conditioning.svg";
    int max_n = 14;
    const Option options[] = {
        {"--out", OPTION_STRING, &out, "SVG file: the error against the condition number, log-log"},
        {"--max-n", OPTION_INT, &max_n, "the largest Hilbert matrix, 2 to 20"},
    };
    const char *usage = "groundup explore ill-conditioning [--out FILE.svg] [--max-n N]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof options[0]);
    if (status >= 0) return status;
    Error error;
    HilbertResult r;
    if (explore_ill_conditioning(max_n, &r, &error)) return fail("explore ill-conditioning", error.message);
    int stride = (int)(sizeof(HilbertRow) / sizeof(double));
    double model[STABILITY_MAX_POINTS];
    for (int k = 0; k < r.n; k++) model[k] = r.rows[k].condition * DBL_EPSILON;
    LogLogSeries series[3] = {{"error ||x - 1||∞", &r.rows[0].error, stride},
                              {"κ∞ ε", model, 1},
                              {"relative residual", &r.rows[0].residual, stride}};
    if (write_log_log(out, "Hilbert systems H x = H·1 by LU", "condition number κ∞(H)", "relative error (0: at 1e-17)",
                      &r.rows[0].condition, stride, r.n, series, 3, 1e-17, 1e6, &error))
        return fail("explore ill-conditioning", error.message);
    fprintf(stderr, "explore ill-conditioning: wrote %s\n", out);
    printf("Hilbert matrices H_ij = 1/(i+j+1) (deterministic: no seed), b = H 1, x by LU with partial pivoting.\n"
           "error = ||x - 1||_inf; residual = ||H x - b||_inf / (||H||_inf ||x||_inf); kappa_inf = ||H||_inf ||H^-1||_inf\n"
           "with H^-1 from its closed form; kappa_2 by the SVD (\"> 1/eps\": s_min rounded to 0); \"—\": LU found H\n"
           "singular to working precision.\n\n");
    printf("| n | kappa_inf | kappa_2 | kappa_inf eps | error | residual |\n|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < r.n; k++) {
        const HilbertRow *h = &r.rows[k];
        printf("| %d | %.3e |", h->n, h->condition);
        if (isinf(h->condition_2)) printf(" > 1/eps |");
        else printf(" %.3e |", h->condition_2);
        printf(" %.1e |", model[k]);
        print_value(h->error, "%.1e");
        print_value(h->residual, "%.1e");
        printf("\n");
    }
    return 0;
}
