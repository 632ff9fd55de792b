// Sampling, maximum likelihood, Bayes' theorem and the central limit theorem: see probability.h.
#include "explore/probability.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "foundations/random.h"
#include "foundations/special.h"

static const double PI = 3.14159265358979324;

// ----------------------------------------------------------------------------
// The families

static const char *const DISTRIBUTION_NAMES[N_DISTRIBUTIONS] = {"gaussian", "bernoulli", "categorical", "poisson",
                                                                 "exponential", "beta",     "gamma"};

const char *distribution_name(DistributionKind kind) { return DISTRIBUTION_NAMES[kind]; }

DistributionParameters distribution_defaults(void) {
    return (DistributionParameters){.mean = 0.0, .std = 1.0, .p = 0.3, .categorical = {0.1, 0.2, 0.3, 0.4},
                                    .lambda = 4.0, .rate = 1.5, .alpha = 2.0, .beta = 5.0, .shape = 2.5, .scale = 1.0};
}

int distribution_check(const DistributionParameters *d, Error *error) {
    if (!isfinite(d->mean)) return error_set(error, "--mean must be finite, not %g", d->mean);
    double sum = 0.0;
    for (int k = 0; k < CATEGORICAL_CLASSES; k++) {
        if (explore_check_range(d->categorical[k], 0.0, 1.0, 0, 0, "categorical probability", error)) return -1;
        sum += d->categorical[k];
    }
    if (fabs(sum - 1.0) > 1e-9) return error_set(error, "categorical probabilities sum to %g, not 1", sum);
    return explore_check_range(d->std, 0.0, INFINITY, 1, 1, "--std", error) ||
           explore_check_range(d->p, 0.0, 1.0, 0, 0, "--p", error) ||
           explore_check_range(d->lambda, 0.0, 1000.0, 1, 0, "--lambda", error) ||
           explore_check_range(d->rate, 0.0, INFINITY, 1, 1, "--rate", error) ||
           explore_check_range(d->alpha, 0.0, INFINITY, 1, 1, "--alpha", error) ||
           explore_check_range(d->beta, 0.0, INFINITY, 1, 1, "--beta", error) ||
           explore_check_range(d->shape, 0.0, INFINITY, 1, 1, "--shape", error) ||
           explore_check_range(d->scale, 0.0, INFINITY, 1, 1, "--scale", error);
}

static double draw(DistributionKind kind, const DistributionParameters *d, Random *rng) {
    switch (kind) {
    case DISTRIBUTION_GAUSSIAN: return d->mean + d->std * random_standard_normal(rng);
    case DISTRIBUTION_BERNOULLI: return random_uniform_double(rng) < d->p ? 1.0 : 0.0;
    case DISTRIBUTION_CATEGORICAL: {
        double u = random_uniform_double(rng), cumulative = 0.0;
        for (int k = 0; k < CATEGORICAL_CLASSES - 1; k++)
            if (u < (cumulative += d->categorical[k])) return k;
        return CATEGORICAL_CLASSES - 1;
    }
    case DISTRIBUTION_POISSON: return (double)random_poisson(rng, d->lambda);
    case DISTRIBUTION_EXPONENTIAL: return random_exponential(rng, d->rate);
    case DISTRIBUTION_BETA: return random_beta(rng, d->alpha, d->beta);
    default: return random_gamma(rng, d->shape, d->scale);
    }
}

static void true_moments(DistributionKind kind, const DistributionParameters *d, double *mean, double *variance) {
    double a = d->alpha, b = d->beta, m = 0.0, s = 0.0;
    switch (kind) {
    case DISTRIBUTION_GAUSSIAN: *mean = d->mean, *variance = d->std * d->std; return;
    case DISTRIBUTION_BERNOULLI: *mean = d->p, *variance = d->p * (1.0 - d->p); return;
    case DISTRIBUTION_CATEGORICAL:
        for (int k = 0; k < CATEGORICAL_CLASSES; k++) m += k * d->categorical[k], s += k * k * d->categorical[k];
        *mean = m, *variance = s - m * m;
        return;
    case DISTRIBUTION_POISSON: *mean = *variance = d->lambda; return;
    case DISTRIBUTION_EXPONENTIAL: *mean = 1.0 / d->rate, *variance = 1.0 / (d->rate * d->rate); return;
    case DISTRIBUTION_BETA: *mean = a / (a + b), *variance = a * b / ((a + b) * (a + b) * (a + b + 1.0)); return;
    default: *mean = d->shape * d->scale, *variance = d->shape * d->scale * d->scale; return;
    }
}

// F(x) = P(X < x): the exact CDF for the continuous families; for the discrete ones P(X < x)
// at integer x (P(N < v) = P(N <= v - 1) = Q(v, λ) for Poisson).
static double cdf_below(DistributionKind kind, const DistributionParameters *d, double x) {
    switch (kind) {
    case DISTRIBUTION_GAUSSIAN: return normal_cdf((x - d->mean) / d->std);
    case DISTRIBUTION_BERNOULLI: return x <= 0.0 ? 0.0 : x <= 1.0 ? 1.0 - d->p : 1.0;
    case DISTRIBUTION_CATEGORICAL: {
        double below = 0.0;
        for (int k = 0; k < CATEGORICAL_CLASSES && k < x; k++) below += d->categorical[k];
        return below;
    }
    case DISTRIBUTION_POISSON: return x <= 0.0 ? 0.0 : gamma_q(ceil(x), d->lambda);
    case DISTRIBUTION_EXPONENTIAL: return x <= 0.0 ? 0.0 : -expm1(-d->rate * x);
    case DISTRIBUTION_BETA: return x <= 0.0 ? 0.0 : x >= 1.0 ? 1.0 : beta_incomplete(d->alpha, d->beta, x);
    default: return x <= 0.0 ? 0.0 : gamma_p(d->shape, x / d->scale);
    }
}

// The density (continuous) or the probability of the integer value x (discrete).
static double density(DistributionKind kind, const DistributionParameters *d, double x) {
    switch (kind) {
    case DISTRIBUTION_GAUSSIAN: {
        double z = (x - d->mean) / d->std;
        return exp(-0.5 * z * z) / (d->std * sqrt(2.0 * PI));
    }
    case DISTRIBUTION_BERNOULLI:
    case DISTRIBUTION_CATEGORICAL: return cdf_below(kind, d, x + 1.0) - cdf_below(kind, d, x);
    case DISTRIBUTION_POISSON: return exp(x * log(d->lambda) - d->lambda - lgamma(x + 1.0));
    case DISTRIBUTION_EXPONENTIAL: return x < 0.0 ? 0.0 : d->rate * exp(-d->rate * x);
    case DISTRIBUTION_BETA: {
        if (x <= 0.0 || x >= 1.0) return 0.0;
        double a = d->alpha, b = d->beta;
        return exp((a - 1.0) * log(x) + (b - 1.0) * log1p(-x) + lgamma(a + b) - lgamma(a) - lgamma(b));
    }
    default:
        if (x <= 0.0) return 0.0;
        return exp((d->shape - 1.0) * log(x / d->scale) - x / d->scale - lgamma(d->shape)) / d->scale;
    }
}

// ----------------------------------------------------------------------------
// sampling

double chi_square_statistic(const double *observed, const double *expected, int n, double min_expected, int *cells) {
    double statistic = 0.0, o = 0.0, e = 0.0, last_o = 0.0, last_e = 0.0;
    int count = 0;
    for (int i = 0; i < n; i++) {
        o += observed[i], e += expected[i];
        if (e >= min_expected) {
            if (count > 0) statistic += (last_o - last_e) * (last_o - last_e) / last_e;
            last_o = o, last_e = e, o = e = 0.0;
            count++;
        }
    }
    // a short tail joins the last full cell (or is the only one)
    last_o += o, last_e += e;
    if (count == 0) count = 1;
    if (last_e > 0.0) statistic += (last_o - last_e) * (last_o - last_e) / last_e;
    *cells = count;
    return statistic;
}

// Bin edges for each family: continuous families over a range with all but ~1e-4 of the
// mass; Poisson in integer-wide groups of values around λ; Bernoulli and categorical one per value.
static void sampling_edges(DistributionKind kind, const DistributionParameters *d, int bins, SampledDistribution *s) {
    double low = 0.0, high = 1.0;
    s->discrete = kind == DISTRIBUTION_BERNOULLI || kind == DISTRIBUTION_CATEGORICAL || kind == DISTRIBUTION_POISSON;
    if (kind == DISTRIBUTION_BERNOULLI || kind == DISTRIBUTION_CATEGORICAL) {
        s->n_bins = kind == DISTRIBUTION_BERNOULLI ? 2 : CATEGORICAL_CLASSES;
        for (int i = 0; i <= s->n_bins; i++) s->edges[i] = i;
        return;
    }
    if (kind == DISTRIBUTION_POISSON) {
        double spread = 4.0 * sqrt(d->lambda) + 2.0;
        int first = (int)fmax(0.0, floor(d->lambda - spread)), last = (int)ceil(d->lambda + spread) + 1;
        int width = (last - first + SAMPLING_MAX_BINS - 1) / SAMPLING_MAX_BINS;
        s->n_bins = (last - first + width - 1) / width;
        for (int i = 0; i <= s->n_bins; i++) s->edges[i] = first + (double)i * width;
        return;
    }
    if (kind == DISTRIBUTION_GAUSSIAN) low = d->mean - 4.0 * d->std, high = d->mean + 4.0 * d->std;
    if (kind == DISTRIBUTION_EXPONENTIAL) high = log(1e4) / d->rate;
    if (kind == DISTRIBUTION_GAMMA)
        for (high = d->shape * d->scale + 4.0 * sqrt(d->shape) * d->scale; 1.0 - cdf_below(kind, d, high) > 1e-4;) high *= 1.2;
    s->n_bins = bins;
    for (int i = 0; i <= bins; i++) s->edges[i] = low + (high - low) * i / bins;
}

static void sampling_curve(DistributionKind kind, const DistributionParameters *d, SampledDistribution *s) {
    double low = s->edges[0], high = s->edges[s->n_bins];
    if (s->discrete) {
        s->n_curve = 0;
        for (double v = low; v < high && s->n_curve < SAMPLING_CURVE_POINTS; v += 1.0, s->n_curve++) {
            s->curve_x[s->n_curve] = v + 0.5;
            s->curve_density[s->n_curve] = density(kind, d, v);
        }
        return;
    }
    s->n_curve = SAMPLING_CURVE_POINTS;
    for (int i = 0; i < SAMPLING_CURVE_POINTS; i++) {
        s->curve_x[i] = low + (high - low) * i / (SAMPLING_CURVE_POINTS - 1);
        s->curve_density[i] = density(kind, d, s->curve_x[i]);
    }
}

static void sample_one(DistributionKind kind, const DistributionParameters *d, long n, int bins, Random *rng,
                       double *values, SampledDistribution *s) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    sampling_edges(kind, d, bins, s);
    double low = s->edges[0], width = s->edges[1] - s->edges[0], sum = 0.0, squares = 0.0;
    for (long i = 0; i < n; i++) {
        double x = values[i] = draw(kind, d, rng);
        long bin = (long)floor((x - low) / width);
        bin = bin < 0 ? 0 : bin >= s->n_bins ? s->n_bins - 1 : bin;
        s->observed[bin] += 1.0;
        sum += x;
    }
    s->sample_mean = sum / n;
    for (long i = 0; i < n; i++) squares += (values[i] - s->sample_mean) * (values[i] - s->sample_mean);
    s->sample_variance = squares / n;
    true_moments(kind, d, &s->true_mean, &s->true_variance);
    for (int b = 0; b < s->n_bins; b++) {
        double left = b == 0 ? 0.0 : cdf_below(kind, d, s->edges[b]);
        double right = b == s->n_bins - 1 ? 1.0 : cdf_below(kind, d, s->edges[b + 1]);
        s->expected[b] = n * fmax(right - left, 0.0);
    }
    s->chi_square = chi_square_statistic(s->observed, s->expected, s->n_bins, 5.0, &s->cells);
    s->dof = s->cells - 1;
    s->p_value = s->dof > 0 ? chi_square_upper_tail(s->chi_square, s->dof) : 1.0;
    sampling_curve(kind, d, s);
}

int explore_sampling(const DistributionParameters *parameters, long n, int bins, uint64_t seed, SamplingResult *out,
                     Error *error) {
    memset(out, 0, sizeof *out);
    if (explore_check_count(n, 1, "--samples", error) || explore_check_count(bins, 2, "--bins", error) ||
        distribution_check(parameters, error))
        return -1;
    if (bins > SAMPLING_MAX_BINS) return error_set(error, "--bins must be at most %d, not %d", SAMPLING_MAX_BINS, bins);
    if (n > 100000000L) return error_set(error, "--samples must be at most 100000000, not %ld", n);
    double *values = malloc((size_t)n * sizeof *values);
    if (!values) return error_set(error, "out of memory for %ld samples", n);
    Random rng;
    random_seed(&rng, seed);
    out->n = n;
    for (int k = 0; k < N_DISTRIBUTIONS; k++)
        sample_one((DistributionKind)k, parameters, n, bins, &rng, values, &out->distributions[k]);
    free(values);
    return 0;
}

// ----------------------------------------------------------------------------
// maximum-likelihood

// Mean of x and of ln x, and whether every x is inside (0, upper) (upper 0: no bound).
static int log_means(const double *x, long n, double upper, double *mean, double *mean_log, double *mean_log_complement,
                     Error *error) {
    double sum = 0.0, logs = 0.0, complement = 0.0;
    for (long i = 0; i < n; i++) {
        if (!(x[i] > 0.0) || (upper > 0.0 && !(x[i] < upper)))
            return error_set(error, "value %g at index %ld is outside the support", x[i], i);
        sum += x[i], logs += log(x[i]);
        if (upper > 0.0) complement += log1p(-x[i]);
    }
    *mean = sum / n, *mean_log = logs / n, *mean_log_complement = complement / n;
    return 0;
}

int gamma_fit(const double *x, long n, double *shape, double *scale, Error *error) {
    double mean = 0.0, mean_log = 0.0, unused = 0.0;
    if (n < 2) return error_set(error, "a Gamma fit needs at least 2 values, not %ld", n);
    if (log_means(x, n, 0.0, &mean, &mean_log, &unused, error)) return -1;
    double s = log(mean) - mean_log;  // >= 0 by Jensen, 0 only for constant data
    if (!(s > 1e-12)) return error_set(error, "a Gamma fit of constant data");
    // Start from the approximation k ≈ (3 - s + √((s - 3)² + 24 s)) / (12 s) (Minka 2002), then
    // Newton on f(k) = ln k - ψ(k) - s, f'(k) = 1/k - ψ'(k).
    double k = (3.0 - s + sqrt((s - 3.0) * (s - 3.0) + 24.0 * s)) / (12.0 * s);
    for (int step = 0; step < 100; step++) {
        double f = log(k) - digamma(k) - s, derivative = 1.0 / k - trigamma(k);
        double next = k - f / derivative;
        if (next <= 0.0) next = 0.5 * k;
        if (fabs(next - k) <= 1e-12 * k) {
            *shape = next, *scale = mean / next;
            return 0;
        }
        k = next;
    }
    return error_set(error, "the Gamma fit did not converge");
}

int beta_fit(const double *x, long n, double *alpha, double *beta, Error *error) {
    double mean = 0.0, mean_log = 0.0, mean_log_complement = 0.0, squares = 0.0;
    if (n < 2) return error_set(error, "a Beta fit needs at least 2 values, not %ld", n);
    if (log_means(x, n, 1.0, &mean, &mean_log, &mean_log_complement, error)) return -1;
    for (long i = 0; i < n; i++) squares += (x[i] - mean) * (x[i] - mean);
    double variance = squares / n;
    if (!(variance > 0.0)) return error_set(error, "a Beta fit of constant data");
    // Start from the method of moments, then Newton on the two score equations
    // g = (ψ(a) - ψ(a+b) - mean ln x, ψ(b) - ψ(a+b) - mean ln(1-x)), whose Jacobian is the Fisher matrix.
    double common = mean * (1.0 - mean) / variance - 1.0;
    double a = common > 0.0 ? mean * common : 1.0, b = common > 0.0 ? (1.0 - mean) * common : 1.0;
    for (int step = 0; step < 100; step++) {
        double both = trigamma(a + b), g1 = digamma(a) - digamma(a + b) - mean_log;
        double g2 = digamma(b) - digamma(a + b) - mean_log_complement;
        double j11 = trigamma(a) - both, j22 = trigamma(b) - both, j12 = -both, det = j11 * j22 - j12 * j12;
        double da = (j22 * g1 - j12 * g2) / det, db = (j11 * g2 - j12 * g1) / det, t = 1.0;
        while (a - t * da <= 0.0 || b - t * db <= 0.0) t *= 0.5;
        a -= t * da, b -= t * db;
        if (fabs(t * da) <= 1e-12 * a && fabs(t * db) <= 1e-12 * b) {
            *alpha = a, *beta = b;
            return 0;
        }
    }
    return error_set(error, "the Beta fit did not converge");
}

// The parameters in the order of MleResult.parameters: family, name, true value.
static int mle_layout(const DistributionParameters *d, MleParameter *p) {
    int i = 0;
    p[i++] = (MleParameter){.family = DISTRIBUTION_GAUSSIAN, .name = "mu", .truth = d->mean};
    p[i++] = (MleParameter){.family = DISTRIBUTION_GAUSSIAN, .name = "sigma", .truth = d->std};
    p[i++] = (MleParameter){.family = DISTRIBUTION_BERNOULLI, .name = "p", .truth = d->p};
    static const char *const names[CATEGORICAL_CLASSES] = {"p[0]", "p[1]", "p[2]", "p[3]"};
    for (int k = 0; k < CATEGORICAL_CLASSES; k++) p[i++] = (MleParameter){.family = DISTRIBUTION_CATEGORICAL, .name = names[k], .truth = d->categorical[k]};
    p[i++] = (MleParameter){.family = DISTRIBUTION_POISSON, .name = "lambda", .truth = d->lambda};
    p[i++] = (MleParameter){.family = DISTRIBUTION_EXPONENTIAL, .name = "rate", .truth = d->rate};
    p[i++] = (MleParameter){.family = DISTRIBUTION_GAMMA, .name = "shape", .truth = d->shape};
    p[i++] = (MleParameter){.family = DISTRIBUTION_GAMMA, .name = "scale", .truth = d->scale};
    p[i++] = (MleParameter){.family = DISTRIBUTION_BETA, .name = "alpha", .truth = d->alpha};
    p[i++] = (MleParameter){.family = DISTRIBUTION_BETA, .name = "beta", .truth = d->beta};
    return i;
}

// Fits family to x (n): estimates and Fisher standard errors of its parameters (1, 2 or 4).
static int mle_fit(DistributionKind family, const double *x, long n, double *estimate, double *se, Error *error) {
    double mean = 0.0, squares = 0.0;
    for (long i = 0; i < n; i++) mean += x[i];
    mean /= n;
    switch (family) {
    case DISTRIBUTION_GAUSSIAN:
        for (long i = 0; i < n; i++) squares += (x[i] - mean) * (x[i] - mean);
        estimate[0] = mean, estimate[1] = sqrt(squares / n);
        se[0] = estimate[1] / sqrt((double)n), se[1] = estimate[1] / sqrt(2.0 * n);
        return 0;
    case DISTRIBUTION_BERNOULLI: estimate[0] = mean, se[0] = sqrt(mean * (1.0 - mean) / n); return 0;
    case DISTRIBUTION_CATEGORICAL:
        for (int k = 0; k < CATEGORICAL_CLASSES; k++) estimate[k] = 0.0;
        for (long i = 0; i < n; i++) estimate[(int)x[i]] += 1.0 / n;
        for (int k = 0; k < CATEGORICAL_CLASSES; k++) se[k] = sqrt(estimate[k] * (1.0 - estimate[k]) / n);
        return 0;
    case DISTRIBUTION_POISSON: estimate[0] = mean, se[0] = sqrt(mean / n); return 0;
    case DISTRIBUTION_EXPONENTIAL: estimate[0] = 1.0 / mean, se[0] = estimate[0] / sqrt((double)n); return 0;
    case DISTRIBUTION_GAMMA: {
        if (gamma_fit(x, n, &estimate[0], &estimate[1], error)) return -1;
        double k = estimate[0], theta = estimate[1], t = trigamma(k), det = (k * t - 1.0) / (theta * theta);
        se[0] = sqrt(k / (theta * theta) / det / n), se[1] = sqrt(t / det / n);
        return 0;
    }
    default: {
        if (beta_fit(x, n, &estimate[0], &estimate[1], error)) return -1;
        double both = trigamma(estimate[0] + estimate[1]), i11 = trigamma(estimate[0]) - both;
        double i22 = trigamma(estimate[1]) - both, det = i11 * i22 - both * both;
        se[0] = sqrt(i22 / det / n), se[1] = sqrt(i11 / det / n);
        return 0;
    }
    }
}

// Running sums over the repetitions of one size: Σ(θ̂ - θ)², Σ(θ̂ - θ), Σ SE.
typedef struct MleSums {
    double squared_error, error, se;
    int count;
} MleSums;

// One size: `repetitions` fresh samples of each family, fitted; sums per parameter.
static void mle_size(const DistributionParameters *d, MleResult *out, int n_parameters, long size, int is_table,
                     Random *rng, double *x, MleSums *sums) {
    memset(sums, 0, sizeof(MleSums) * n_parameters);
    for (int r = 0; r < out->repetitions; r++)
        for (int first = 0; first < n_parameters;) {
            DistributionKind family = out->parameters[first].family;
            int count = 0;
            while (first + count < n_parameters && out->parameters[first + count].family == family) count++;
            for (long i = 0; i < size; i++) x[i] = draw(family, d, rng);
            double estimate[CATEGORICAL_CLASSES], se[CATEGORICAL_CLASSES];
            Error fit_error;
            if (mle_fit(family, x, size, estimate, se, &fit_error)) {
                out->failed_fits++;  // a rare non-convergence at small n: left out, counted
                first += count;
                continue;
            }
            for (int j = 0; j < count; j++) {
                MleParameter *p = &out->parameters[first + j];
                MleSums *s = &sums[first + j];
                s->squared_error += (estimate[j] - p->truth) * (estimate[j] - p->truth);
                s->error += estimate[j] - p->truth, s->se += se[j];
                if (is_table && s->count == 0) p->estimate = estimate[j], p->standard_error = se[j];
                s->count++;
            }
            first += count;
        }
}

int explore_maximum_likelihood(const DistributionParameters *d, long max_size, long table_size, int repetitions,
                               uint64_t seed, MleResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (explore_check_count(max_size, 10, "--max-samples", error) ||
        explore_check_count(repetitions, 2, "--repetitions", error) ||
        explore_check_count(table_size, 10, "--table-samples", error) || distribution_check(d, error))
        return -1;
    if (max_size > 10000000L) return error_set(error, "--max-samples must be at most 10000000, not %ld", max_size);
    if (d->p == 0.0 || d->p == 1.0)
        return error_set(error, "maximum likelihood needs --p strictly inside (0, 1)");
    static const int steps[3] = {1, 2, 5};
    for (long decade = 10; decade <= max_size && out->n_sizes < MLE_MAX_SIZES; decade *= 10)
        for (int s = 0; s < 3 && out->n_sizes < MLE_MAX_SIZES && decade * steps[s] <= max_size; s++)
            out->sizes[out->n_sizes++] = decade * steps[s];
    for (int i = 0; i < out->n_sizes; i++)
        if (out->sizes[i] <= table_size) out->table_size = out->sizes[i];
    out->repetitions = repetitions;
    int n_parameters = mle_layout(d, out->parameters);
    double *x = malloc((size_t)max_size * sizeof *x);
    if (!x) return error_set(error, "out of memory for %ld samples", max_size);
    Random rng;
    random_seed(&rng, seed);
    MleSums sums[MLE_PARAMETERS];
    for (int z = 0; z < out->n_sizes; z++) {
        int is_table = out->sizes[z] == out->table_size;
        mle_size(d, out, n_parameters, out->sizes[z], is_table, &rng, x, sums);
        for (int j = 0; j < n_parameters; j++) {
            MleParameter *p = &out->parameters[j];
            int c = sums[j].count > 0 ? sums[j].count : 1;
            p->rmse[z] = sqrt(sums[j].squared_error / c);
            p->fisher_se[z] = sums[j].se / c;
            if (is_table) {  // the sample standard deviation of the estimates, from their errors
                double centred = sums[j].squared_error - sums[j].error * sums[j].error / c;
                p->spread = sqrt(fmax(centred, 0.0) / (c > 1 ? c - 1 : 1));
                p->mean_standard_error = p->fisher_se[z];
            }
        }
    }
    free(x);
    return 0;
}

// ----------------------------------------------------------------------------
// bayes

// Beta(a, b) density at x in [0, 1] (+inf at an end where a or b is below 1).
static double beta_density(double a, double b, double x) {
    double left = a == 1.0 ? 0.0 : (a - 1.0) * log(x), right = b == 1.0 ? 0.0 : (b - 1.0) * log1p(-x);
    return exp(left + right + lgamma(a + b) - lgamma(a) - lgamma(b));
}

// x with I_x(a, b) = probability, by bisection (I_x is increasing in x).
static double beta_quantile(double a, double b, double probability) {
    double low = 0.0, high = 1.0;
    for (int i = 0; i < 60; i++) {
        double middle = 0.5 * (low + high);
        if (beta_incomplete(a, b, middle) < probability) low = middle;
        else high = middle;
    }
    return 0.5 * (low + high);
}

// The posterior computed the long way: prior density × x^h (1-x)^t at the centres of a fine
// grid of cells, normalised by the midpoint rule; the largest difference from the conjugate
// Beta(a₀+h, b₀+t) density at those centres, relative to the conjugate density's peak there.
static double grid_posterior_difference(double a0, double b0, int ones, int zeros) {
    enum { GRID = 4000 };
    double posterior[GRID], total = 0.0, h = 1.0 / GRID, worst = 0.0, peak = 0.0;
    for (int i = 0; i < GRID; i++) {
        double x = (i + 0.5) * h;
        posterior[i] = beta_density(a0, b0, x) * exp(ones * log(x) + zeros * log1p(-x));
        total += posterior[i] * h;
    }
    for (int i = 0; i < GRID; i++) {
        double conjugate = beta_density(a0 + ones, b0 + zeros, (i + 0.5) * h);
        worst = fmax(worst, fabs(posterior[i] / total - conjugate));
        peak = fmax(peak, conjugate);
    }
    return worst / peak;
}

int explore_bayes(double true_p, double prior_alpha, double prior_beta, double sensitivity, double specificity,
                  long population, uint64_t seed, BayesResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (explore_check_range(true_p, 0.0, 1.0, 0, 0, "--p", error) ||
        explore_check_range(prior_alpha, 0.0, 1e6, 1, 0, "--prior-alpha", error) ||
        explore_check_range(prior_beta, 0.0, 1e6, 1, 0, "--prior-beta", error) ||
        explore_check_range(sensitivity, 0.0, 1.0, 1, 0, "--sensitivity", error) ||
        explore_check_range(specificity, 0.0, 1.0, 1, 0, "--specificity", error) ||
        explore_check_count(population, 1, "--population", error))
        return -1;
    Random rng;
    random_seed(&rng, seed);
    out->true_p = true_p, out->prior_alpha = prior_alpha, out->prior_beta = prior_beta;
    static const int observations[BAYES_STAGES] = {0, 1, 10, 100};
    int ones = 0, seen = 0;
    for (int s = 0; s < BAYES_STAGES; s++) {
        for (; seen < observations[s]; seen++) ones += random_uniform_double(&rng) < true_p;
        BayesStage *stage = &out->stages[s];
        stage->observations = seen, stage->ones = ones;
        stage->alpha = prior_alpha + ones, stage->beta = prior_beta + (seen - ones);
        stage->mean = stage->alpha / (stage->alpha + stage->beta);
        stage->low = beta_quantile(stage->alpha, stage->beta, 0.025);
        stage->high = beta_quantile(stage->alpha, stage->beta, 0.975);
        for (int i = 0; i < BAYES_CURVE_POINTS; i++)
            stage->density[i] = beta_density(stage->alpha, stage->beta, (double)i / (BAYES_CURVE_POINTS - 1));
        stage->grid_difference = grid_posterior_difference(prior_alpha, prior_beta, ones, seen - ones);
    }
    out->sensitivity = sensitivity, out->specificity = specificity, out->population = population;
    static const double base_rates[BAYES_BASE_RATES] = {0.001, 0.01, 0.05, 0.2, 0.5};
    for (int r = 0; r < BAYES_BASE_RATES; r++) {
        DiagnosticRow *row = &out->rows[r];
        double pi = row->base_rate = base_rates[r];
        row->posterior = sensitivity * pi / (sensitivity * pi + (1.0 - specificity) * (1.0 - pi));
        long ill_positives = 0;
        for (long i = 0; i < population; i++) {
            int ill = random_uniform_double(&rng) < pi;
            int positive = random_uniform_double(&rng) < (ill ? sensitivity : 1.0 - specificity);
            row->positives += positive, ill_positives += positive && ill;
        }
        row->simulated = row->positives ? (double)ill_positives / row->positives : NAN;
    }
    for (int i = 0; i < BAYES_RATE_CURVE; i++) {
        double pi = out->rate_curve_x[i] = pow(10.0, -4.0 + 4.0 * i / (BAYES_RATE_CURVE - 1));
        out->rate_curve_posterior[i] = sensitivity * pi / (sensitivity * pi + (1.0 - specificity) * (1.0 - pi));
    }
    return 0;
}

// ----------------------------------------------------------------------------
// central-limit

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ks_distance_normal(const double *sorted, long m) {
    double worst = 0.0;
    for (long i = 0; i < m; i++) {
        double f = normal_cdf(sorted[i]);
        worst = fmax(worst, fmax((double)(i + 1) / m - f, f - (double)i / m));
    }
    return worst;
}

int explore_central_limit(long means, uint64_t seed, CltResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (explore_check_count(means, 10, "--means", error)) return -1;
    if (means > 10000000L) return error_set(error, "--means must be at most 10000000, not %ld", means);
    static const int sizes[CLT_SIZES] = {1, 2, 3, 5, 10, 20, 30, 50, 100};
    static const int histogram_sizes[CLT_HISTOGRAMS] = {1, 2, 5, 30};
    memcpy(out->sizes, sizes, sizeof sizes);
    memcpy(out->histogram_sizes, histogram_sizes, sizeof histogram_sizes);
    out->means = means;
    out->ks_noise = 0.8687 / sqrt((double)means);  // the Kolmogorov distribution's mean, √(π/2) ln 2, over √m
    double *z = malloc((size_t)means * sizeof *z);
    if (!z) return error_set(error, "out of memory for %ld means", means);
    Random rng;
    random_seed(&rng, seed);
    // exponential(1): mean 1, variance 1, skewness 2; Gamma(½, 1): mean ½, variance ½, skewness 2√2
    const double shapes[CLT_SOURCES] = {1.0, 0.5};
    const char *names[CLT_SOURCES] = {"exponential(1)", "gamma(0.5, 1)"};
    for (int s = 0; s < CLT_SOURCES; s++) {
        CltSource *source = &out->sources[s];
        double k = shapes[s], mean = k, std = sqrt(k);
        source->name = names[s], source->skewness = 2.0 / sqrt(k);
        for (int j = 0; j < CLT_SIZES; j++) {
            int n = sizes[j];
            for (long i = 0; i < means; i++) {
                double sum = 0.0;
                for (int t = 0; t < n; t++) sum += random_gamma(&rng, k, 1.0);
                z[i] = (sum / n - mean) * sqrt((double)n) / std;
            }
            qsort(z, (size_t)means, sizeof *z, compare_doubles);
            source->ks[j] = ks_distance_normal(z, means);
            source->edgeworth[j] = source->skewness / (6.0 * sqrt(2.0 * PI * n));
            for (int h = 0; h < CLT_HISTOGRAMS; h++) {
                if (histogram_sizes[h] != n) continue;
                const double width = 8.0 / CLT_BINS;
                for (long i = 0; i < means; i++) {
                    long bin = (long)floor((z[i] + 4.0) / width);
                    if (bin >= 0 && bin < CLT_BINS) source->histogram[h][bin] += 1.0 / (means * width);
                }
            }
        }
    }
    free(z);
    return 0;
}
