// groundup explore sampling | maximum-likelihood | bayes | central-limit | pca | naive-bayes:
// probability and statistics made visible. Each parses its options, calls explore/probability.h,
// writes its figure and prints a markdown table (the figure first: if it cannot be written,
// stdout stays empty).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "explore/probability.h"
#include "foundations/clock.h"
#include "foundations/image_grid.h"
#include "foundations/plot.h"
#include "foundations/png.h"
#include "tools/explore_topics.h"
#include "tools/options.h"

static void to_floats(float *out, const double *in, int n) {
    for (int i = 0; i < n; i++) out[i] = (float)in[i];
}

// A histogram as a step line: heights (n) over edges (n + 1) -> x, y (2n) each.
static void histogram_steps(const double *edges, const double *heights, int n, float *x, float *y) {
    for (int i = 0; i < n; i++) {
        x[2 * i] = (float)edges[i], x[2 * i + 1] = (float)edges[i + 1];
        y[2 * i] = y[2 * i + 1] = (float)heights[i];
    }
}

// Parses the distribution parameters shared by sampling and maximum-likelihood, plus extra;
// returns as explore_parse_options (-1: go on).
static int parse_with_distributions(int argc, char **argv, const char *usage, DistributionParameters *d,
                                    const Option *extra, int n_extra) {
    Option options[24];
    const Option shared[] = {
        {"--mean", OPTION_DOUBLE, &d->mean, "Gaussian mean"},
        {"--std", OPTION_DOUBLE, &d->std, "Gaussian standard deviation (> 0)"},
        {"--p", OPTION_DOUBLE, &d->p, "Bernoulli probability of 1, in [0, 1]"},
        {"--lambda", OPTION_DOUBLE, &d->lambda, "Poisson mean, in (0, 1000]"},
        {"--rate", OPTION_DOUBLE, &d->rate, "exponential rate (> 0)"},
        {"--alpha", OPTION_DOUBLE, &d->alpha, "Beta alpha (> 0)"},
        {"--beta", OPTION_DOUBLE, &d->beta, "Beta beta (> 0)"},
        {"--shape", OPTION_DOUBLE, &d->shape, "Gamma shape (> 0)"},
        {"--scale", OPTION_DOUBLE, &d->scale, "Gamma scale (> 0)"},
    };
    int n = 0;
    for (int i = 0; i < n_extra; i++) options[n++] = extra[i];
    for (int i = 0; i < (int)(sizeof shared / sizeof *shared); i++) options[n++] = shared[i];
    return explore_parse_options(argc, argv, usage, options, n);
}

// ----------------------------------------------------------------------------

static int write_sampling_svg(const SamplingResult *r, const char *path, Error *error) {
    enum { K = N_DISTRIBUTIONS };
    float hx[K][2 * SAMPLING_MAX_BINS], hy[K][2 * SAMPLING_MAX_BINS];
    float cx[K][SAMPLING_CURVE_POINTS], cy[K][SAMPLING_CURVE_POINTS];
    PlotSeries series[K][2];
    PlotChart charts[K];
    char titles[K][96];
    for (int k = 0; k < K; k++) {
        const SampledDistribution *s = &r->distributions[k];
        double heights[SAMPLING_MAX_BINS];
        double width = s->edges[1] - s->edges[0];
        for (int b = 0; b < s->n_bins; b++) heights[b] = s->observed[b] / (r->n * width);
        histogram_steps(s->edges, heights, s->n_bins, hx[k], hy[k]);
        to_floats(cx[k], s->curve_x, s->n_curve);
        to_floats(cy[k], s->curve_density, s->n_curve);
        series[k][0] = (PlotSeries){"histogram of the draws", hx[k], hy[k], 2 * s->n_bins};
        series[k][1] = (PlotSeries){s->discrete ? "probability mass" : "density", cx[k], cy[k], s->n_curve};
        snprintf(titles[k], sizeof titles[k], "%s: chi-square %.1f, dof %d, p = %.3f", distribution_name((DistributionKind)k),
                 s->chi_square, s->dof, s->p_value);
        charts[k] = (PlotChart){titles[k], s->discrete ? "value (bin [v, v + 1))" : "x", "density", 0, series[k], 2, 0, 0};
    }
    return plot_write_svg(path, charts, K, 4, error);
}

int explore_run_sampling(int argc, char **argv) {
    DistributionParameters d = distribution_defaults();
    const char *out = "sampling.svg";
    long samples = 10000, seed = 1;
    int bins = 30;
    const Option extra[] = {
        {"--samples", OPTION_LONG, &samples, "draws of each distribution"},
        {"--bins", OPTION_INT, &bins, "histogram bins of the continuous ones"},
        {"--seed", OPTION_LONG, &seed, "seed of the generator"},
        {"--out", OPTION_STRING, &out, "SVG file: histograms against the densities"},
    };
    const char *usage = "groundup explore sampling [--samples N] [--bins B] [--seed S] [--out FILE.svg] [--mean M --std S "
                        "--p P --lambda L --rate R --alpha A --beta B --shape K --scale T]";
    int status = parse_with_distributions(argc, argv, usage, &d, extra, sizeof extra / sizeof *extra);
    if (status >= 0) return status;
    SamplingResult *r = malloc(sizeof *r);
    Error error;
    if (!r) return fail("explore sampling", "out of memory");
    if (explore_sampling(&d, samples, bins, (uint64_t)seed, r, &error) || write_sampling_svg(r, out, &error)) {
        free(r);
        return fail("explore sampling", error.message);
    }
    fprintf(stderr, "explore sampling: wrote %s\n", out);
    printf("%ld draws of each distribution (seed %ld) against its density; Pearson's chi-square over cells merged to\n"
           "expect >= 5 draws each, dof = cells - 1, p = the chi-square upper tail (a correct sampler gives p roughly\n"
           "uniform in [0, 1]; p < 0.001 would reject it).\n\n", samples, seed);
    printf("| distribution | parameters | mean (draws / exact) | variance (draws / exact) | chi-square | dof | p-value |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    char parameters[N_DISTRIBUTIONS][64];
    snprintf(parameters[0], 64, "mean %g, std %g", d.mean, d.std);
    snprintf(parameters[1], 64, "p %g", d.p);
    snprintf(parameters[2], 64, "p = (%g, %g, %g, %g)", d.categorical[0], d.categorical[1], d.categorical[2], d.categorical[3]);
    snprintf(parameters[3], 64, "lambda %g", d.lambda);
    snprintf(parameters[4], 64, "rate %g", d.rate);
    snprintf(parameters[5], 64, "alpha %g, beta %g", d.alpha, d.beta);
    snprintf(parameters[6], 64, "shape %g, scale %g", d.shape, d.scale);
    for (int k = 0; k < N_DISTRIBUTIONS; k++) {
        const SampledDistribution *s = &r->distributions[k];
        printf("| %s | %s | %.4f / %.4f | %.4f / %.4f | %.2f | %d | %.3f |\n", distribution_name((DistributionKind)k),
               parameters[k], s->sample_mean, s->true_mean, s->sample_variance, s->true_variance, s->chi_square, s->dof,
               s->p_value);
    }
    free(r);
    return 0;
}

// ----------------------------------------------------------------------------

static int write_mle_svg(const MleResult *r, const char *path, Error *error) {
    float x[MLE_MAX_SIZES], rmse[MLE_PARAMETERS][MLE_MAX_SIZES], ratio[MLE_PARAMETERS][MLE_MAX_SIZES];
    char names[MLE_PARAMETERS][48];
    PlotSeries a[MLE_PARAMETERS], b[MLE_PARAMETERS];
    for (int z = 0; z < r->n_sizes; z++) x[z] = (float)r->sizes[z];
    for (int j = 0; j < MLE_PARAMETERS; j++) {
        const MleParameter *p = &r->parameters[j];
        for (int z = 0; z < r->n_sizes; z++) {
            rmse[j][z] = (float)p->rmse[z];
            ratio[j][z] = (float)(p->rmse[z] / p->fisher_se[z]);
        }
        snprintf(names[j], sizeof names[j], "%s %s", distribution_name(p->family), p->name);
        a[j] = (PlotSeries){names[j], x, rmse[j], r->n_sizes};
        b[j] = (PlotSeries){names[j], x, ratio[j], r->n_sizes};
    }
    PlotChart charts[2] = {
        {"RMSE of the MLE over the repetitions (falls as 1/sqrt(n))", "n (log)", "RMSE (log)", 1, a, MLE_PARAMETERS, 1, 0},
        {"RMSE / mean Fisher standard error (-> 1)", "n (log)", "ratio", 0, b, MLE_PARAMETERS, 1, 0},
    };
    return plot_write_svg(path, charts, 2, 2, error);
}

int explore_run_maximum_likelihood(int argc, char **argv) {
    DistributionParameters d = distribution_defaults();
    const char *out = "maximum-likelihood.svg";
    long max_samples = 10000, table_samples = 1000, seed = 1;
    int repetitions = 200;
    const Option extra[] = {
        {"--max-samples", OPTION_LONG, &max_samples, "largest sample size (sizes 10, 20, 50, ... up to it)"},
        {"--table-samples", OPTION_LONG, &table_samples, "sample size of the table"},
        {"--repetitions", OPTION_INT, &repetitions, "fresh samples fitted at each size"},
        {"--seed", OPTION_LONG, &seed, "seed of the generator"},
        {"--out", OPTION_STRING, &out, "SVG file: error against n"},
    };
    const char *usage = "groundup explore maximum-likelihood [--max-samples N] [--table-samples N] [--repetitions R] "
                        "[--seed S] [--out FILE.svg] [distribution parameters as for sampling]";
    int status = parse_with_distributions(argc, argv, usage, &d, extra, sizeof extra / sizeof *extra);
    if (status >= 0) return status;
    MleResult *r = malloc(sizeof *r);
    Error error;
    if (!r) return fail("explore maximum-likelihood", "out of memory");
    if (explore_maximum_likelihood(&d, max_samples, table_samples, repetitions, (uint64_t)seed, r, &error) ||
        write_mle_svg(r, out, &error)) {
        free(r);
        return fail("explore maximum-likelihood", error.message);
    }
    fprintf(stderr, "explore maximum-likelihood: wrote %s\n", out);
    printf("Maximum-likelihood fits at n = %ld (seed %ld): the first repetition's estimate and its standard error from\n"
           "the inverse Fisher information, against the spread (standard deviation) of the estimates over %d fresh samples.\n"
           "Newton fits that failed to converge (left out): %d.\n\n", r->table_size, seed, r->repetitions, r->failed_fits);
    printf("| family | parameter | true | estimate | Fisher SE | spread over repetitions | spread / mean SE |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    for (int j = 0; j < MLE_PARAMETERS; j++) {
        const MleParameter *p = &r->parameters[j];
        printf("| %s | %s | %g | %.4f | %.4f | %.4f | %.3f |\n", distribution_name(p->family), p->name, p->truth, p->estimate,
               p->standard_error, p->spread, p->spread / p->mean_standard_error);
    }
    free(r);
    return 0;
}

// ----------------------------------------------------------------------------

static int write_bayes_svg(const BayesResult *r, const char *path, Error *error) {
    float x[BAYES_CURVE_POINTS], y[BAYES_STAGES][BAYES_CURVE_POINTS];
    float rate_x[BAYES_RATE_CURVE], rate_y[BAYES_RATE_CURVE], point_x[BAYES_BASE_RATES], point_y[BAYES_BASE_RATES];
    char names[BAYES_STAGES][64];
    PlotSeries posteriors[BAYES_STAGES], diagnostic[2];
    for (int i = 0; i < BAYES_CURVE_POINTS; i++) x[i] = (float)i / (BAYES_CURVE_POINTS - 1);
    for (int s = 0; s < BAYES_STAGES; s++) {
        const BayesStage *st = &r->stages[s];
        to_floats(y[s], st->density, BAYES_CURVE_POINTS);
        snprintf(names[s], sizeof names[s], "%d flips: Beta(%g, %g)", st->observations, st->alpha, st->beta);
        posteriors[s] = (PlotSeries){names[s], x, y[s], BAYES_CURVE_POINTS};
    }
    for (int i = 0; i < BAYES_RATE_CURVE; i++) {
        rate_x[i] = (float)r->rate_curve_x[i];
        rate_y[i] = (float)r->rate_curve_posterior[i];
    }
    for (int i = 0; i < BAYES_BASE_RATES; i++) {
        point_x[i] = (float)r->rows[i].base_rate;
        point_y[i] = (float)r->rows[i].simulated;
    }
    diagnostic[0] = (PlotSeries){"Bayes' theorem", rate_x, rate_y, BAYES_RATE_CURVE};
    diagnostic[1] = (PlotSeries){"simulated", point_x, point_y, BAYES_BASE_RATES};
    char title[2][96];
    snprintf(title[0], sizeof title[0], "Beta-Bernoulli posterior, true p = %g", r->true_p);
    snprintf(title[1], sizeof title[1], "P(ill | positive), sensitivity %g, specificity %g", r->sensitivity, r->specificity);
    PlotChart charts[2] = {
        {title[0], "p", "posterior density", 0, posteriors, BAYES_STAGES, 0, 0},
        {title[1], "base rate (log)", "P(ill | positive)", 0, diagnostic, 2, 1, 0},
    };
    return plot_write_svg(path, charts, 2, 2, error);
}

int explore_run_bayes(int argc, char **argv) {
    const char *out = "bayes.svg";
    double p = 0.3, prior_alpha = 1.0, prior_beta = 1.0, sensitivity = 0.9, specificity = 0.95;
    long population = 1000000, seed = 1;
    const Option options[] = {
        {"--p", OPTION_DOUBLE, &p, "the coin's true probability of 1, in [0, 1]"},
        {"--prior-alpha", OPTION_DOUBLE, &prior_alpha, "prior Beta alpha (> 0)"},
        {"--prior-beta", OPTION_DOUBLE, &prior_beta, "prior Beta beta (> 0)"},
        {"--sensitivity", OPTION_DOUBLE, &sensitivity, "P(positive | ill), in (0, 1]"},
        {"--specificity", OPTION_DOUBLE, &specificity, "P(negative | healthy), in (0, 1]"},
        {"--population", OPTION_LONG, &population, "people simulated per base rate"},
        {"--seed", OPTION_LONG, &seed, "seed of the generator"},
        {"--out", OPTION_STRING, &out, "SVG file: posteriors and the base-rate curve"},
    };
    const char *usage = "groundup explore bayes [--p P] [--prior-alpha A] [--prior-beta B] [--sensitivity S] "
                        "[--specificity C] [--population N] [--seed S] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    BayesResult *r = malloc(sizeof *r);
    Error error;
    if (!r) return fail("explore bayes", "out of memory");
    if (explore_bayes(p, prior_alpha, prior_beta, sensitivity, specificity, population, (uint64_t)seed, r, &error) ||
        write_bayes_svg(r, out, &error)) {
        free(r);
        return fail("explore bayes", error.message);
    }
    fprintf(stderr, "explore bayes: wrote %s\n", out);
    printf("Beta(%g, %g) prior, Bernoulli(%g) observations (seed %ld): the conjugate posterior, and its largest difference\n"
           "(relative to its peak) from prior x likelihood normalised by the midpoint rule on 4000 cells.\n\n", prior_alpha, prior_beta,
           p, seed);
    printf("| observations | ones | posterior | mean | 95%% interval | grid difference |\n|---:|---:|---|---:|---|---:|\n");
    for (int s = 0; s < BAYES_STAGES; s++) {
        const BayesStage *st = &r->stages[s];
        printf("| %d | %d | Beta(%g, %g) | %.4f | [%.4f, %.4f] | %.1e |\n", st->observations, st->ones, st->alpha, st->beta,
               st->mean, st->low, st->high, st->grid_difference);
    }
    printf("\nA diagnostic test with sensitivity %g and specificity %g: P(ill | positive) by Bayes' theorem against the\n"
           "fraction of positives who are ill among %ld simulated people per base rate.\n\n", sensitivity, specificity,
           population);
    printf("| base rate | P(ill given positive), Bayes | simulated | positives |\n|---:|---:|---:|---:|\n");
    for (int i = 0; i < BAYES_BASE_RATES; i++)
        printf("| %g | %.4f | %.4f | %ld |\n", r->rows[i].base_rate, r->rows[i].posterior, r->rows[i].simulated,
               r->rows[i].positives);
    free(r);
    return 0;
}

// ----------------------------------------------------------------------------

static int write_clt_svg(const CltResult *r, const char *path, Error *error) {
    enum { H = CLT_HISTOGRAMS, S = CLT_SOURCES };
    double edges[CLT_BINS + 1];
    float hx[S][H][2 * CLT_BINS], hy[S][H][2 * CLT_BINS], nx[81], ny[81];
    float ks_x[CLT_SIZES], ks[S][CLT_SIZES], edgeworth[S][CLT_SIZES];
    char titles[H][64], ks_names[S][2][64];
    PlotSeries histograms[H][S + 1], ks_series[2 * S];
    PlotChart charts[H + 1];
    for (int b = 0; b <= CLT_BINS; b++) edges[b] = -4.0 + 8.0 * b / CLT_BINS;
    for (int i = 0; i <= 80; i++) nx[i] = (float)(-4.0 + 0.1 * i), ny[i] = (float)(exp(-0.5 * nx[i] * nx[i]) / sqrt(2.0 * 3.14159265358979));
    for (int h = 0; h < H; h++) {
        for (int s = 0; s < S; s++) {
            histogram_steps(edges, r->sources[s].histogram[h], CLT_BINS, hx[s][h], hy[s][h]);
            histograms[h][s] = (PlotSeries){r->sources[s].name, hx[s][h], hy[s][h], 2 * CLT_BINS};
        }
        histograms[h][S] = (PlotSeries){"N(0, 1)", nx, ny, 81};
        snprintf(titles[h], sizeof titles[h], "standardised mean of n = %d draws", r->histogram_sizes[h]);
        charts[h] = (PlotChart){titles[h], "z = (mean - mu) sqrt(n) / sigma", "density", 0, histograms[h], S + 1, 0, 0};
    }
    for (int j = 0; j < CLT_SIZES; j++) ks_x[j] = (float)r->sizes[j];
    for (int s = 0; s < S; s++) {
        to_floats(ks[s], r->sources[s].ks, CLT_SIZES);
        to_floats(edgeworth[s], r->sources[s].edgeworth, CLT_SIZES);
        snprintf(ks_names[s][0], 64, "%s: KS distance", r->sources[s].name);
        snprintf(ks_names[s][1], 64, "%s: Edgeworth skew/(6 sqrt(2 pi n))", r->sources[s].name);
        ks_series[2 * s] = (PlotSeries){ks_names[s][0], ks_x, ks[s], CLT_SIZES};
        ks_series[2 * s + 1] = (PlotSeries){ks_names[s][1], ks_x, edgeworth[s], CLT_SIZES};
    }
    charts[H] = (PlotChart){"Kolmogorov-Smirnov distance to N(0, 1)", "n (log)", "D (log)", 1, ks_series, 2 * S, 1, 0};
    return plot_write_svg(path, charts, H + 1, 3, error);
}

int explore_run_central_limit(int argc, char **argv) {
    const char *out = "central-limit.svg";
    long means = 20000, seed = 1;
    const Option options[] = {
        {"--means", OPTION_LONG, &means, "means drawn at each n"},
        {"--seed", OPTION_LONG, &seed, "seed of the generator"},
        {"--out", OPTION_STRING, &out, "SVG file: histograms and the KS distance against n"},
    };
    const char *usage = "groundup explore central-limit [--means M] [--seed S] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    CltResult *r = malloc(sizeof *r);
    Error error;
    if (!r) return fail("explore central-limit", "out of memory");
    if (explore_central_limit(means, (uint64_t)seed, r, &error) || write_clt_svg(r, out, &error)) {
        free(r);
        return fail("explore central-limit", error.message);
    }
    fprintf(stderr, "explore central-limit: wrote %s\n", out);
    printf("The mean of n draws, standardised, against N(0, 1): the Kolmogorov-Smirnov distance D over %ld means (seed\n"
           "%ld), and the Edgeworth prediction skewness / (6 sqrt(2 pi n)). D of %ld exact normal draws is about %.4f.\n\n",
           means, seed, means, r->ks_noise);
    printf("| n | %s: D | Edgeworth | %s: D | Edgeworth |\n|---:|---:|---:|---:|---:|\n", r->sources[0].name, r->sources[1].name);
    for (int j = 0; j < CLT_SIZES; j++)
        printf("| %d | %.4f | %.4f | %.4f | %.4f |\n", r->sizes[j], r->sources[0].ks[j], r->sources[0].edgeworth[j],
               r->sources[1].ks[j], r->sources[1].edgeworth[j]);
    free(r);
    return 0;
}

// ----------------------------------------------------------------------------

// The mean image and the leading eigenvectors as one PNG grid (each tile scaled to its own range).
static int write_pca_png(const PcaResult *r, const char *path, Error *error) {
    int p = r->pixels, tiles = PCA_SHOWN;  // the mean, then PCA_SHOWN - 1 components
    float *maps = malloc((size_t)tiles * p * sizeof *maps);
    if (!maps) return error_set(error, "out of memory");
    for (int j = 0; j < p; j++) maps[j] = r->mean_image[j];
    for (int k = 1; k < tiles; k++)
        for (int j = 0; j < p; j++) maps[(size_t)k * p + j] = r->components[(size_t)(k - 1) * p + j];
    Image grid;
    int status = image_grid(&grid, maps, tiles, 1, r->height, r->width, 8, 4, GRID_EACH_TILE, error);
    free(maps);
    if (status) return -1;
    status = png_write(&grid, path, error);
    image_free(&grid);
    return status;
}

static int write_pca_svg(const PcaResult *r, const char *path, Error *error) {
    int p = r->pixels;
    float *k = malloc((size_t)p * sizeof *k), *explained = malloc((size_t)p * sizeof *explained);
    float *spectrum = malloc((size_t)p * sizeof *spectrum);
    int status = -1;
    if (!k || !explained || !spectrum) {
        error_set(error, "out of memory");
        goto done;
    }
    double sum = 0.0;
    for (int i = 0; i < p; i++) {
        k[i] = (float)(i + 1);
        explained[i] = (float)((sum += r->eigenvalues[i]) / r->total_variance);
        spectrum[i] = (float)(r->eigenvalues[i] / r->total_variance);
    }
    PlotSeries a = {"cumulative", k, explained, p}, b = {"eigenvalue / total", k, spectrum, p};
    PlotChart charts[2] = {
        {"MNIST: variance explained by the first k components", "k", "fraction of the variance", 0, &a, 1, 0, 0},
        {"MNIST covariance spectrum", "k", "eigenvalue / trace (log)", 1, &b, 1, 0, 0},
    };
    status = plot_write_svg(path, charts, 2, 2, error);
done:
    free(k), free(explained), free(spectrum);
    return status;
}

int explore_run_pca(int argc, char **argv) {
    const char *data = "data/mnist", *out = "pca.png", *svg = "pca.svg";
    int images = 60000, pool = 1;
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "MNIST directory"},
        {"--images", OPTION_INT, &images, "training images whose covariance is taken (at most all of them)"},
        {"--pool", OPTION_INT, &pool, "average pool x pool pixel blocks first (2: 14 x 14 images)"},
        {"--out", OPTION_STRING, &out, "PNG file: the mean image and the leading eigenvectors"},
        {"--svg", OPTION_STRING, &svg, "SVG file: variance explained and the spectrum"},
    };
    const char *usage = "groundup explore pca [--data DIR] [--images N] [--pool P] [--out FILE.png] [--svg FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    PcaResult r;
    Error error;
    if (explore_pca(data, images, pool, &r, &error)) return fail("explore pca", error.message);
    if (write_pca_png(&r, out, &error) || write_pca_svg(&r, svg, &error)) {
        pca_result_free(&r);
        return fail("explore pca", error.message);
    }
    fprintf(stderr, "explore pca: wrote %s and %s\n", out, svg);
    char check[96];
    if (r.power_converged) snprintf(check, sizeof check, "agree with power iteration to %.1e (relative)", r.power_difference);
    else snprintf(check, sizeof check, "were not cross-checked (power iteration stalled on nearly tied eigenvalues)");
    printf("The covariance of MNIST's %d pixels (%d x %d) over the first %d training images (pixels in [0, 1]), eigendecomposed by\n"
           "Householder tridiagonalisation and QR; the %d leading eigenvalues %s, the %d eigenvectors\n"
           "are orthonormal to %.1e. Total variance (trace) %.4f.\n\n", r.pixels, r.height, r.width, r.images, PCA_POWER_CHECKED, check, r.pixels,
           r.orthonormality_error, r.total_variance);
    printf("| k | eigenvalue k | variance explained by the first k |\n|---:|---:|---:|\n");
    static const int ks[] = {1, 2, 3, 5, 10, 20, 50, 100, 200, 400};
    for (int i = 0; i < (int)(sizeof ks / sizeof *ks); i++)
        if (ks[i] <= r.pixels) printf("| %d | %.5f | %.4f |\n", ks[i], r.eigenvalues[ks[i] - 1], pca_explained(&r, ks[i]));
    printf("\nComponents for 90%%, 95%%, 99%% of the variance: %d, %d, %d.\n\n", pca_components_for(&r, 0.90),
           pca_components_for(&r, 0.95), pca_components_for(&r, 0.99));
    int row = r.height / 2, column = r.width / 2, far = column + 2 * r.width / 7;
    printf("| pixel statistics (statistics.h) | value |\n|---|---:|\n");
    printf("| mean of the centre pixel (%d, %d) | %.4f |\n| its variance | %.4f |\n", row, column, r.centre_mean,
           r.centre_variance);
    printf("| covariance with (%d, %d) | %.4f |\n| correlation with (%d, %d) | %.4f |\n", row, column + 1,
           r.neighbour_covariance, row, column + 1, r.neighbour_correlation);
    printf("| correlation with (%d, %d) | %.4f |\n", row, far, r.far_correlation);
    pca_result_free(&r);
    return 0;
}

// ----------------------------------------------------------------------------

static int write_naive_bayes_svg(const NaiveBayesResult *r, const char *path, Error *error) {
    float x[NB_MAX_SIZES], y[NB_CLASSIFIERS][NB_MAX_SIZES];
    PlotSeries series[NB_CLASSIFIERS];
    for (int z = 0; z < r->n_sizes; z++) x[z] = (float)r->sizes[z];
    for (int k = 0; k < NB_CLASSIFIERS; k++) {
        to_floats(y[k], r->accuracy[k], r->n_sizes);
        series[k] = (PlotSeries){r->names[k], x, y[k], r->n_sizes};
    }
    PlotChart chart = {"MNIST test accuracy of generative classifiers", "training images (log)", "accuracy", 0, series,
                       NB_CLASSIFIERS, 1, 0};
    return plot_write_svg(path, &chart, 1, 1, error);
}

int explore_run_naive_bayes(int argc, char **argv) {
    const char *data = "data/mnist", *out = "naive-bayes.svg";
    int train = 60000, test = 10000;
    double smoothing = 1.0;
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "MNIST directory"},
        {"--train", OPTION_INT, &train, "largest number of training images, at most all (also 100, 300, 1000, ... below it)"},
        {"--test", OPTION_INT, &test, "test images scored (at most all)"},
        {"--smoothing", OPTION_DOUBLE, &smoothing, "Laplace smoothing alpha of the Bernoulli model (> 0)"},
        {"--out", OPTION_STRING, &out, "SVG file: accuracy against the training size"},
    };
    const char *usage = "groundup explore naive-bayes [--data DIR] [--train N] [--test N] [--smoothing A] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    NaiveBayesResult r;
    Error error;
    double started = clock_seconds();
    if (explore_naive_bayes(data, train, test, smoothing, &r, &error)) return fail("explore naive-bayes", error.message);
    if (write_naive_bayes_svg(&r, out, &error)) {
        naive_bayes_result_free(&r);
        return fail("explore naive-bayes", error.message);
    }
    fprintf(stderr, "explore naive-bayes: wrote %s\n", out);
    printf("Generative classifiers argmax_c log p(c) + log p(x | c) on MNIST, trained on the first n training images,\n"
           "scored on %d test images. Bernoulli: pixels > 0.5, Laplace alpha %g; Gaussian: per-pixel variances + 0.1 x the\n"
           "largest; LDA: one shared covariance + 0.01 I.\n\n", r.test_images, smoothing);
    printf("| classifier |");
    for (int z = 0; z < r.n_sizes; z++) printf(" n = %d |", r.sizes[z]);
    printf("\n|---|");
    for (int z = 0; z < r.n_sizes; z++) printf("---:|");
    printf("\n");
    for (int k = 0; k < NB_CLASSIFIERS; k++) {
        printf("| %s |", r.names[k]);
        for (int z = 0; z < r.n_sizes; z++) printf(" %.4f |", r.accuracy[k][z]);
        printf("\n");
    }
    printf("\nPer digit at n = %d:\n\n| classifier |", r.sizes[r.n_sizes - 1]);
    for (int c = 0; c < NB_CLASSES; c++) printf(" %d |", c);
    printf("\n|---|");
    for (int c = 0; c < NB_CLASSES; c++) printf("---:|");
    printf("\n");
    for (int k = 0; k < NB_CLASSIFIERS; k++) {
        printf("| %s |", r.names[k]);
        for (int c = 0; c < NB_CLASSES; c++) printf(" %.3f |", r.class_accuracy[k][c]);
        printf("\n");
    }
    // The record's headline: the first classifier (Bernoulli naive Bayes) at the largest n, against LDA.
    int largest = r.n_sizes - 1;
    char metric[96], dataset[64];
    snprintf(metric, sizeof metric, "test accuracy, %s at n = %d", r.names[0], r.sizes[largest]);
    snprintf(dataset, sizeof dataset, "MNIST, %d training and %d test images", r.sizes[largest], r.test_images);
    RunRecord record = {.model = "naive Bayes and LDA", .dataset = dataset, .metric = metric, .higher_is_better = 1,
                        .value = r.accuracy[0][largest], .against = r.names[NB_CLASSIFIERS - 1],
                        .against_value = r.accuracy[NB_CLASSIFIERS - 1][largest], .figures = {out}};
    explore_record(argc, argv, &record, started);
    naive_bayes_result_free(&r);
    return 0;
}
