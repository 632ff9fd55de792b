// The numbers behind `groundup explore sampling | maximum-likelihood | bayes | central-limit | pca |
// naive-bayes` (explore/probability.h): each figure's claim asserted on its seeded run.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/probability.h"
#include "foundations/idx.h"
#include "foundations/random.h"
#include "foundations/special.h"
#include "tests/check.h"

// The χ² statistic by hand: cells (o, e) = (12, 10), (8, 10); the tail (3, 2) + (1, 2) = (4, 4)
// expects fewer than 5 and joins the last full cell, (12, 14): 2²/10 + 2²/14 over 2 cells.
static void chi_square_merges_small_cells(void) {
    const double observed[4] = {12, 8, 3, 1}, expected[4] = {10, 10, 2, 2};
    int cells = 0;
    CHECK_NEAR(chi_square_statistic(observed, expected, 4, 5.0, &cells), 0.4 + 4.0 / 14.0, 1e-12);
    CHECK(cells == 2, "the short tail joins the last full cell: %d cells, not 2", cells);
    const double small_observed[2] = {1, 2}, small_expected[2] = {1.5, 1.5};
    CHECK_NEAR(chi_square_statistic(small_observed, small_expected, 2, 5.0, &cells), 0.0, 1e-15);
    CHECK(cells == 1, "all cells short: one cell, not %d", cells);
}

// Every family's draws pass the goodness-of-fit test (p > 0.001 and χ² below the 99.9% quantile)
// and their mean is within 4 standard errors of the exact one; the same statistic rejects the
// exponential draws against a rate 10% off.
static void sampling_fits_every_density(void) {
    SamplingResult *r = malloc(sizeof *r);
    Error error;
    DistributionParameters d = distribution_defaults();
    REQUIRE(r && explore_sampling(&d, 10000, 30, 1, r, &error) == 0, "%s", error.message);
    for (int k = 0; k < N_DISTRIBUTIONS; k++) {
        const SampledDistribution *s = &r->distributions[k];
        CHECK(s->p_value > 0.001, "%s: p = %g", distribution_name((DistributionKind)k), s->p_value);
        CHECK(chi_square_upper_tail(s->chi_square, s->dof) > 0.001 && s->dof >= 1, "%s: chi-square %g at dof %d",
              distribution_name((DistributionKind)k), s->chi_square, s->dof);
        double se = sqrt(s->true_variance / r->n);
        CHECK(fabs(s->sample_mean - s->true_mean) < 4.0 * se, "%s: mean %g against %g", distribution_name((DistributionKind)k),
              s->sample_mean, s->true_mean);
        double total = 0.0;
        for (int b = 0; b < s->n_bins; b++) total += s->observed[b];
        CHECK_NEAR(total, (double)r->n, 0.0);
    }
    const SampledDistribution *e = &r->distributions[DISTRIBUTION_EXPONENTIAL];
    double wrong[SAMPLING_MAX_BINS];
    for (int b = 0; b < e->n_bins; b++) {
        double left = b == 0 ? 0.0 : exp(-1.65 * e->edges[b]), right = b == e->n_bins - 1 ? 0.0 : exp(-1.65 * e->edges[b + 1]);
        wrong[b] = r->n * ((b == 0 ? 1.0 : left) - right);
    }
    int cells;
    double statistic = chi_square_statistic(e->observed, wrong, e->n_bins, 5.0, &cells);
    CHECK(chi_square_upper_tail(statistic, cells - 1) < 1e-6, "rate 1.65 not rejected: chi-square %g", statistic);
    free(r);
}

static void sampling_rejects_bad_input(void) {
    SamplingResult *r = malloc(sizeof *r);
    Error error;
    DistributionParameters d = distribution_defaults();
    REQUIRE(r, "out of memory");
    CHECK(explore_sampling(&d, 0, 30, 1, r, &error) == -1 && strstr(error.message, "--samples"), "n = 0");
    d.p = 1.5;
    CHECK(explore_sampling(&d, 100, 30, 1, r, &error) == -1 && strstr(error.message, "--p"), "p = 1.5: %s", error.message);
    d = distribution_defaults(), d.shape = -1.0;
    CHECK(explore_sampling(&d, 100, 30, 1, r, &error) == -1 && strstr(error.message, "--shape"), "shape -1");
    d = distribution_defaults(), d.std = NAN;
    CHECK(explore_sampling(&d, 100, 30, 1, r, &error) == -1 && strstr(error.message, "--std"), "std NaN");
    free(r);
}

// At n = 1000 the spread of every MLE over 200 repetitions matches its Fisher standard error
// (the spread of a standard deviation from 200 values is itself uncertain by ~5%: 20% allowed),
// and from n = 10 to 2000 (sizes 10, 20, 50, ..., 2000) the RMSE falls by about √200 ≈ 14 (at least 10).
static void mle_spread_matches_fisher(void) {
    MleResult *r = malloc(sizeof *r);
    Error error;
    DistributionParameters d = distribution_defaults();
    REQUIRE(r && explore_maximum_likelihood(&d, 3000, 1000, 200, 1, r, &error) == 0, "%s", error.message);
    CHECK(r->table_size == 1000 && r->n_sizes == 8, "sizes: %d, table %ld", r->n_sizes, r->table_size);
    CHECK(r->failed_fits == 0, "%d fits failed", r->failed_fits);
    for (int j = 0; j < MLE_PARAMETERS; j++) {
        const MleParameter *p = &r->parameters[j];
        double ratio = p->spread / p->mean_standard_error;
        CHECK(ratio > 0.8 && ratio < 1.2, "%s %s: spread %g, Fisher SE %g", distribution_name(p->family), p->name, p->spread,
              p->mean_standard_error);
        CHECK(fabs(p->estimate - p->truth) < 4.0 * p->standard_error, "%s %s: estimate %g, truth %g",
              distribution_name(p->family), p->name, p->estimate, p->truth);
        CHECK(p->rmse[0] > 10.0 * p->rmse[r->n_sizes - 1], "%s %s: RMSE %g at 10, %g at 2000", distribution_name(p->family),
              p->name, p->rmse[0], p->rmse[r->n_sizes - 1]);
    }
    free(r);
}

// The Newton fits recover Gamma(0.7, 3) and Beta(0.5, 2.5) from 200000 draws, and refuse
// constant data and values outside the support.
static void gamma_and_beta_fits_recover_parameters(void) {
    enum { N = 200000 };
    double *x = malloc(N * sizeof *x), shape, scale, a, b;
    Random rng;
    Error error;
    REQUIRE(x, "out of memory");
    random_seed(&rng, 5);
    for (int i = 0; i < N; i++) x[i] = random_gamma(&rng, 0.7, 3.0);
    CHECK(gamma_fit(x, N, &shape, &scale, &error) == 0, "%s", error.message);
    CHECK_NEAR(shape, 0.7, 0.01);
    CHECK_NEAR(scale, 3.0, 0.05);
    for (int i = 0; i < N; i++) x[i] = random_beta(&rng, 0.5, 2.5);
    CHECK(beta_fit(x, N, &a, &b, &error) == 0, "%s", error.message);
    CHECK_NEAR(a, 0.5, 0.01);
    CHECK_NEAR(b, 2.5, 0.05);
    for (int i = 0; i < 10; i++) x[i] = 2.0;
    CHECK(gamma_fit(x, 10, &shape, &scale, &error) == -1 && strstr(error.message, "constant"), "constant data");
    x[3] = -1.0;
    CHECK(gamma_fit(x, 10, &shape, &scale, &error) == -1 && strstr(error.message, "support"), "negative value");
    CHECK(beta_fit(x, 10, &a, &b, &error) == -1 && strstr(error.message, "support"), "2 is outside (0, 1)");
    free(x);
}

// The conjugate posterior is prior + counts, matches the grid posterior, and its interval has
// 2.5% on each side; the diagnostic test's simulation agrees with Bayes within 4 standard errors.
static void bayes_posterior_and_base_rates(void) {
    BayesResult *r = malloc(sizeof *r);
    Error error;
    REQUIRE(r && explore_bayes(0.3, 1.0, 1.0, 0.9, 0.95, 200000, 1, r, &error) == 0, "%s", error.message);
    for (int s = 0; s < BAYES_STAGES; s++) {
        const BayesStage *st = &r->stages[s];
        CHECK_NEAR(st->alpha, 1.0 + st->ones, 0.0);
        CHECK_NEAR(st->beta, 1.0 + st->observations - st->ones, 0.0);
        CHECK(st->grid_difference < 1e-5, "after %d: grid difference %g", st->observations, st->grid_difference);
        CHECK_NEAR(beta_incomplete(st->alpha, st->beta, st->low), 0.025, 1e-9);
        CHECK_NEAR(beta_incomplete(st->alpha, st->beta, st->high), 0.975, 1e-9);
    }
    const BayesStage *last = &r->stages[BAYES_STAGES - 1];
    CHECK(last->observations == 100 && last->low < 0.3 && 0.3 < last->high, "after 100: [%g, %g]", last->low, last->high);
    CHECK_NEAR(r->rows[1].posterior, 0.9 * 0.01 / (0.9 * 0.01 + 0.05 * 0.99), 1e-15);
    for (int i = 0; i < BAYES_BASE_RATES; i++) {
        const DiagnosticRow *row = &r->rows[i];
        double se = sqrt(row->posterior * (1.0 - row->posterior) / row->positives);
        CHECK(fabs(row->simulated - row->posterior) < 4.0 * se, "base rate %g: simulated %g, Bayes %g", row->base_rate,
              row->simulated, row->posterior);
    }
    CHECK(explore_bayes(0.3, 0.0, 1.0, 0.9, 0.95, 10, 1, r, &error) == -1 && strstr(error.message, "--prior-alpha"),
          "prior alpha 0");
    CHECK(explore_bayes(0.3, 1.0, 1.0, 1.2, 0.95, 10, 1, r, &error) == -1, "sensitivity 1.2");
    free(r);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// KS distance of the standardised mean from N(0, 1): far at n = 1, within the bound at n = 30
// (exponential: Edgeworth predicts 0.024, bound 0.035; Gamma(½): 0.034, bound 0.05), near the
// Edgeworth prediction from n = 5 on, and N(0, 1) draws themselves below the 99% critical value.
static void central_limit_ks_falls(void) {
    CltResult *r = malloc(sizeof *r);
    Error error;
    REQUIRE(r && explore_central_limit(20000, 1, r, &error) == 0, "%s", error.message);
    const double bound_30[CLT_SOURCES] = {0.035, 0.05};
    for (int s = 0; s < CLT_SOURCES; s++) {
        const CltSource *source = &r->sources[s];
        CHECK(source->ks[0] > 0.1, "%s at n = 1: D %g", source->name, source->ks[0]);
        CHECK(r->sizes[6] == 30 && source->ks[6] < bound_30[s], "%s at n = 30: D %g", source->name, source->ks[6]);
        CHECK(source->ks[CLT_SIZES - 1] < source->ks[0] / 5.0, "%s: D at 100 %g", source->name, source->ks[CLT_SIZES - 1]);
        for (int j = 3; j < CLT_SIZES; j++)
            CHECK(fabs(source->ks[j] - source->edgeworth[j]) < 0.015, "%s at n = %d: D %g, Edgeworth %g", source->name,
                  r->sizes[j], source->ks[j], source->edgeworth[j]);
    }
    enum { M = 20000 };
    double *z = malloc(M * sizeof *z);
    Random rng;
    random_seed(&rng, 3);
    REQUIRE(z, "out of memory");
    for (int i = 0; i < M; i++) z[i] = random_standard_normal(&rng);
    qsort(z, M, sizeof *z, compare_doubles);
    double d = ks_distance_normal(z, M);
    CHECK(d < 1.63 / sqrt((double)M), "N(0, 1) draws: D %g above the 99%% critical value", d);
    CHECK(d > 0.2 / sqrt((double)M), "N(0, 1) draws: D %g implausibly small", d);
    free(z);
    CHECK(explore_central_limit(5, 1, r, &error) == -1 && strstr(error.message, "--means"), "5 means");
    free(r);
}

// PCA of the first 2000 of the repository's 8000 training images (fewer would do for the
// checks; the 784×784 eigenproblem costs the same, the covariance product less under the sanitizers): the eigenvalues sum to the trace, agree with power
// iteration, the eigenvectors are orthonormal; 50 components explain 80-86% of the variance
// (MNIST's well-known ~82%); the covariance entry equals statistics.h's covariance.
static void pca_of_mnist(void) {
    PcaResult r;
    Error error;
    REQUIRE(explore_pca("data/mnist", 2000, 1, &r, &error) == 0, "%s", error.message);
    double sum = 0.0;
    for (int i = 0; i < r.pixels; i++) {
        sum += r.eigenvalues[i];
        if (i > 0) CHECK(r.eigenvalues[i] <= r.eigenvalues[i - 1], "eigenvalues not descending at %d", i);
        CHECK(r.eigenvalues[i] > -1e-9, "eigenvalue %d = %g < 0", i, r.eigenvalues[i]);
    }
    CHECK(fabs(sum - r.total_variance) < 1e-9 * r.total_variance, "sum %.15g, trace %.15g", sum, r.total_variance);
    CHECK(r.power_converged && r.power_difference < 1e-6, "power iteration differs by %g", r.power_difference);
    CHECK(r.orthonormality_error < 1e-10, "orthonormality %g", r.orthonormality_error);
    double explained = pca_explained(&r, 50);
    CHECK(explained > 0.80 && explained < 0.86, "50 components explain %g", explained);
    int k90 = pca_components_for(&r, 0.9);
    CHECK(k90 > 70 && k90 < 100 && pca_explained(&r, k90) >= 0.9 && pca_explained(&r, k90 - 1) < 0.9, "90%% at %d", k90);
    CHECK(r.images == 2000, "%d images", r.images);
    CHECK(r.covariance_entry_difference < 1e-4 * r.neighbour_covariance, "covariance entry off by %g",
          r.covariance_entry_difference);
    CHECK(r.neighbour_correlation > 0.5 && r.neighbour_correlation <= 1.0, "neighbour correlation %g", r.neighbour_correlation);
    CHECK(fabs(r.far_correlation) < r.neighbour_correlation, "far correlation %g", r.far_correlation);
    pca_result_free(&r);
    CHECK(explore_pca("data/mnist", 1, 1, &r, &error) == -1 && strstr(error.message, "--images"), "1 image");
    CHECK(explore_pca("data/mnist", 100, 3, &r, &error) == -1 && strstr(error.message, "--pool"), "pool 3");
    CHECK(explore_pca("/nonexistent", 100, 1, &r, &error) == -1, "missing directory");
    // pooled 4 × 4: 7 × 7 images whose pixels are the averages (the total intensity is kept)
    REQUIRE(explore_pca("data/mnist", 500, 4, &r, &error) == 0, "%s", error.message);
    CHECK(r.pixels == 49 && r.height == 7 && r.width == 7, "%d pixels", r.pixels);
    MnistSet set;
    REQUIRE(mnist_load("data/mnist", "train", &set, &error) == 0, "%s", error.message);
    double pooled_sum = 0.0, full_sum = 0.0;
    for (int j = 0; j < 49; j++) pooled_sum += r.mean_image[j];
    for (long k = 0; k < 500L * 784; k++) full_sum += set.images[k];
    CHECK_NEAR(16.0 * pooled_sum, full_sum / 500.0, 1e-3);
    mnist_free(&set);
    pca_result_free(&r);
}

// The three generative classifiers on the 2000 test images: Bernoulli naive Bayes at 80-87%,
// LDA above it, every one above 75% with 1000 training images and better than with 100.
static void naive_bayes_on_mnist(void) {
    NaiveBayesResult r;
    Error error;
    REQUIRE(explore_naive_bayes("data/mnist", 1000, 10000, 1.0, &r, &error) == 0, "%s", error.message);
    int last = r.n_sizes - 1;
    CHECK(r.sizes[last] == 1000 && r.test_images == 2000, "sizes: %d train, %d test", r.sizes[last], r.test_images);
    CHECK(r.accuracy[0][last] > 0.80 && r.accuracy[0][last] < 0.87, "Bernoulli naive Bayes %g", r.accuracy[0][last]);
    CHECK(r.accuracy[2][last] > r.accuracy[0][last], "LDA %g not above naive Bayes", r.accuracy[2][last]);
    for (int k = 0; k < NB_CLASSIFIERS; k++) {
        CHECK(r.accuracy[k][last] > 0.75, "%s: %g", r.names[k], r.accuracy[k][last]);
        CHECK(r.accuracy[k][last] > r.accuracy[k][0], "%s: %g at 100, %g at 1000", r.names[k], r.accuracy[k][0],
              r.accuracy[k][last]);
    }
    for (int j = 0; j < r.pixels * NB_CLASSES; j++)
        if (!(r.bernoulli_means[j] > 0.0f && r.bernoulli_means[j] < 1.0f)) {
            CHECK(0, "p(x = 1 | c) at %d is %g, outside (0, 1) despite smoothing", j, r.bernoulli_means[j]);
            break;
        }
    naive_bayes_result_free(&r);
    CHECK(explore_naive_bayes("data/mnist", 100, 100, 0.0, &r, &error) == -1 && strstr(error.message, "--smoothing"),
          "smoothing 0");
}

static const CheckCase CASES[] = {
    {"chi-square merges small cells", chi_square_merges_small_cells},
    {"sampling fits every density", sampling_fits_every_density},
    {"sampling rejects bad input", sampling_rejects_bad_input},
    {"mle spread matches fisher", mle_spread_matches_fisher},
    {"gamma and beta fits recover parameters", gamma_and_beta_fits_recover_parameters},
    {"bayes posterior and base rates", bayes_posterior_and_base_rates},
    {"central limit ks falls", central_limit_ks_falls},
    {"pca of mnist", pca_of_mnist},
    {"naive bayes on mnist", naive_bayes_on_mnist},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
