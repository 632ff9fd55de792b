// Probability and statistics made visible (roadmap module 4): sampling, maximum likelihood,
// Bayes' theorem and the central limit theorem on the project's own generator
// (foundations/random.h), and PCA and naive Bayes on MNIST (explore/probability_mnist.c).
// Each function fills a struct with the numbers a table and a figure show; nothing prints.
// Everything is seeded: the same seed gives the same numbers.
#ifndef EXPLORE_PROBABILITY_H
#define EXPLORE_PROBABILITY_H

#include <stdint.h>

#include "foundations/error.h"

// ----------------------------------------------------------------------------
// Distributions: seven families and the parameters they are drawn with.

typedef enum {
    DISTRIBUTION_GAUSSIAN,
    DISTRIBUTION_BERNOULLI,
    DISTRIBUTION_CATEGORICAL,
    DISTRIBUTION_POISSON,
    DISTRIBUTION_EXPONENTIAL,
    DISTRIBUTION_BETA,
    DISTRIBUTION_GAMMA,
    N_DISTRIBUTIONS
} DistributionKind;

enum { CATEGORICAL_CLASSES = 4 };

typedef struct DistributionParameters {
    double mean, std;                          // Gaussian: std > 0
    double p;                                  // Bernoulli: p in [0, 1]
    double categorical[CATEGORICAL_CLASSES];   // fixed: 0.1, 0.2, 0.3, 0.4
    double lambda;                             // Poisson: lambda in (0, 1000]
    double rate;                               // exponential: rate > 0, mean 1/rate
    double alpha, beta;                        // Beta: both > 0
    double shape, scale;                       // Gamma: both > 0, mean shape·scale
} DistributionParameters;

// The defaults: N(0, 1), Bernoulli(0.3), categorical (0.1, 0.2, 0.3, 0.4), Poisson(4),
// exponential(1.5), Beta(2, 5), Gamma(2.5, 1).
DistributionParameters distribution_defaults(void);
// Checks every parameter against its domain: an error naming the first one outside.
int distribution_check(const DistributionParameters *parameters, Error *error);
// "gaussian", "bernoulli", ...
const char *distribution_name(DistributionKind kind);

// ----------------------------------------------------------------------------
// sampling: n draws of each family, their histogram against the density (or probability mass),
// and Pearson's χ² goodness-of-fit statistic  χ² = Σ_cells (observed - expected)² / expected,
// cells merged left to right until each expects at least 5 draws, dof = cells - 1 (no
// parameter is estimated). Continuous families: bins equally wide over a range holding all
// but ~1e-4 of the mass, the mass outside added to the end bins (and the draws outside
// counted there); the expected count of a bin is n·(F(right) - F(left)) from the exact CDF
// (foundations/special.h). Discrete families: one cell per value; Poisson's last cell is
// "this value or more".

enum { SAMPLING_MAX_BINS = 64, SAMPLING_CURVE_POINTS = 201 };

typedef struct SampledDistribution {
    DistributionKind kind;
    int discrete;                          // 1: integer values; bin [e_i, e_(i+1)) holds the
    int n_bins;                            //    values e_i ... e_(i+1) - 1
    double edges[SAMPLING_MAX_BINS + 1];   // bin edges; draws outside count in the end bins
    double observed[SAMPLING_MAX_BINS];    // draws in each bin
    double expected[SAMPLING_MAX_BINS];    // n · probability of the bin
    int n_curve;                           // points of the curve:
    double curve_x[SAMPLING_CURVE_POINTS]; // the density on the range (discrete: the probability
    double curve_density[SAMPLING_CURVE_POINTS];  // of value v, per unit width, at v + ½)
    double sample_mean, sample_variance;   // of the draws (population variance)
    double true_mean, true_variance;       // from the parameters
    double chi_square;                     // over the merged cells
    int cells, dof;
    double p_value;                        // χ² upper tail at dof
} SampledDistribution;

typedef struct SamplingResult {
    long n;
    SampledDistribution distributions[N_DISTRIBUTIONS];
} SamplingResult;

// n >= 1 draws of each family; 2 <= bins <= SAMPLING_MAX_BINS for the continuous ones.
// Errors: n or bins out of range, a parameter outside its domain, out of memory.
int explore_sampling(const DistributionParameters *parameters, long n, int bins, uint64_t seed, SamplingResult *out,
                     Error *error);

// Pearson's χ² over observed (n) and expected (n) counts after merging cells left to right
// until each expects >= min_expected (a short tail merges into the last cell). Returns the
// statistic; *cells receives the merged count. For tests and the demo.
double chi_square_statistic(const double *observed, const double *expected, int n, double min_expected, int *cells);

// ----------------------------------------------------------------------------
// maximum-likelihood: each family fitted to n draws, again and again. The MLE and the
// standard error from the inverse Fisher information I(θ)⁻¹ / n at the estimate:
//   Gaussian    μ̂ = x̄, σ̂² = Σ(x - x̄)²/n           SE(μ̂) = σ̂/√n, SE(σ̂) = σ̂/√(2n)
//   Bernoulli   p̂ = x̄                              SE = √(p̂(1-p̂)/n)
//   categorical p̂_k = n_k/n                        SE = √(p̂_k(1-p̂_k)/n)
//   Poisson     λ̂ = x̄                              SE = √(λ̂/n)
//   exponential λ̂ = 1/x̄                            SE = λ̂/√n
//   Gamma       ln k - ψ(k) = ln x̄ - mean(ln x) by Newton, θ̂ = x̄/k̂;
//               I = [[ψ'(k), 1/θ], [1/θ, k/θ²]]
//   Beta        ψ(a) - ψ(a+b) = mean(ln x), ψ(b) - ψ(a+b) = mean(ln(1-x)) by Newton;
//               I = [[ψ'(a) - ψ'(a+b), -ψ'(a+b)], [-ψ'(a+b), ψ'(b) - ψ'(a+b)]]
// Over `repetitions` fresh samples at each size the spread (standard deviation) of the
// estimates should match the Fisher standard error, and both fall as 1/√n.

enum { MLE_PARAMETERS = 13, MLE_MAX_SIZES = 12 };

typedef struct MleParameter {
    DistributionKind family;
    const char *name;           // "mu", "sigma", "p", "p[0]", "lambda", "rate", "shape", "scale", "alpha", "beta"
    double truth;
    double estimate, standard_error;            // of the first repetition at the table size
    double spread, mean_standard_error;         // over the repetitions at the table size
    double rmse[MLE_MAX_SIZES];                 // √(mean (θ̂ - θ)²) over the repetitions, each size
    double fisher_se[MLE_MAX_SIZES];            // mean Fisher standard error, each size
} MleParameter;

typedef struct MleResult {
    int n_sizes;
    long sizes[MLE_MAX_SIZES];
    long table_size;
    int repetitions;
    int failed_fits;            // Gamma/Beta Newton fits that did not converge (left out)
    MleParameter parameters[MLE_PARAMETERS];
} MleResult;

// Sizes 10, 20, 50, 100, ... (1-2-5 per decade) up to max_size (>= 10); the table at
// table_size (one of the sizes, else the largest below it); repetitions >= 2.
int explore_maximum_likelihood(const DistributionParameters *parameters, long max_size, long table_size, int repetitions,
                               uint64_t seed, MleResult *out, Error *error);

// The Gamma and Beta MLEs alone, for tests: x (n) positive (in (0, 1) for Beta). Errors:
// a value outside the support, constant data, Newton not converging in 100 steps.
int gamma_fit(const double *x, long n, double *shape, double *scale, Error *error);
int beta_fit(const double *x, long n, double *alpha, double *beta, Error *error);

// ----------------------------------------------------------------------------
// bayes: (1) the Beta–Bernoulli posterior. Prior Beta(a₀, b₀), observations x_i ~ Bernoulli(p);
// after h ones and t zeros the posterior is Beta(a₀ + h, b₀ + t) (conjugacy), checked against a
// grid posterior prior × likelihood normalised numerically. (2) A diagnostic test:
//   P(disease | positive) = s π / (s π + (1 - c)(1 - π))   (sensitivity s, specificity c, base rate π)
// against the fraction found by simulating `population` people.

enum { BAYES_STAGES = 4, BAYES_CURVE_POINTS = 201, BAYES_BASE_RATES = 5, BAYES_RATE_CURVE = 61 };

typedef struct BayesStage {
    int observations, ones;
    double alpha, beta;                 // the posterior
    double mean, low, high;             // posterior mean and central 95% interval
    double density[BAYES_CURVE_POINTS]; // on x = i / (BAYES_CURVE_POINTS - 1)
    double grid_difference;             // max |conjugate density - grid posterior density|
} BayesStage;

typedef struct DiagnosticRow {
    double base_rate;
    double posterior;                   // P(disease | positive) by Bayes
    double simulated;                   // the fraction of positives who are ill, simulated
    long positives;
} DiagnosticRow;

typedef struct BayesResult {
    double true_p, prior_alpha, prior_beta;
    BayesStage stages[BAYES_STAGES];    // after 0, 1, 10, 100 observations
    double sensitivity, specificity;
    long population;
    DiagnosticRow rows[BAYES_BASE_RATES];          // base rates 0.001, 0.01, 0.05, 0.2, 0.5
    double rate_curve_x[BAYES_RATE_CURVE];         // base rates 1e-4 ... 1, log-spaced
    double rate_curve_posterior[BAYES_RATE_CURVE];
} BayesResult;

// true_p in [0, 1]; prior parameters > 0; sensitivity and specificity in (0, 1]; population >= 1.
int explore_bayes(double true_p, double prior_alpha, double prior_beta, double sensitivity, double specificity,
                  long population, uint64_t seed, BayesResult *out, Error *error);

// ----------------------------------------------------------------------------
// central-limit: the mean of n draws from a skewed distribution, standardised
// z = (x̄ - μ)√n / σ, against N(0, 1): the Kolmogorov–Smirnov distance
//   D = sup_z |F_m(z) - Φ(z)|   over m means,
// for n = 1, 2, 3, 5, 10, 20, 30, 50, 100, with the Edgeworth prediction D ≈ |γ| / (6√(2π n))
// (γ the skewness: the first correction to the normal CDF is -γ (z² - 1) φ(z) / (6√n), largest
// at z = 0). Sources: exponential(1) (γ = 2) and Gamma(½, 1), a scaled χ²₁ (γ = 2√2).

enum { CLT_SOURCES = 2, CLT_SIZES = 9, CLT_HISTOGRAMS = 4, CLT_BINS = 40 };

typedef struct CltSource {
    const char *name;
    double skewness;
    double ks[CLT_SIZES];
    double edgeworth[CLT_SIZES];
    // histograms of z for n = 1, 2, 5, 30 on [-4, 4] (CLT_BINS bins) as densities
    double histogram[CLT_HISTOGRAMS][CLT_BINS];
} CltSource;

typedef struct CltResult {
    long means;                          // m: means per size
    int sizes[CLT_SIZES];                // 1, 2, 3, 5, 10, 20, 30, 50, 100
    int histogram_sizes[CLT_HISTOGRAMS]; // 1, 2, 5, 30
    double ks_noise;                     // ≈ 0.87/√m: the typical D of m exact normal draws
    CltSource sources[CLT_SOURCES];
} CltResult;

// means >= 10.
int explore_central_limit(long means, uint64_t seed, CltResult *out, Error *error);

// The Kolmogorov–Smirnov distance of sorted values z (m) from Φ, m >= 1.
double ks_distance_normal(const double *sorted, long m);

// ----------------------------------------------------------------------------
// pca (probability_mnist.c): the covariance of MNIST's pixels and its eigenvectors.
//   mean image  μ = Σ x_i / N,   covariance  C = Σ (x_i - μ)(x_i - μ)ᵀ / (N - 1)   (784 × 784)
// eigendecomposed by Householder tridiagonalisation and implicit QR (foundations/linalg.h),
// cross-checked against power iteration for the leading ones. The fraction of variance that
// the first k components explain is Σ_(i<k) λ_i / Σ λ_i.

enum { PCA_SHOWN = 16, PCA_POWER_CHECKED = 4 };

typedef struct PcaResult {
    int images, pixels, height, width;
    double *eigenvalues;         // (pixels), descending; the caller frees with pca_result_free
    float *components;           // (PCA_SHOWN, pixels): the leading eigenvectors, unit length
    float *mean_image;           // (pixels)
    double total_variance;       // trace of C
    int power_converged;         // 0: power iteration stalled (nearly tied eigenvalues), no check
    double power_difference;     // max relative difference of the leading PCA_POWER_CHECKED
                                 // eigenvalues: tridiagonal QR against power iteration
    double orthonormality_error; // ||VᵀV - I||_F of all eigenvectors
    // pixel statistics by foundations/statistics.h: the centre pixel (14, 14) against its
    // right neighbour (14, 15) and one 2/7 of the width to the right (14, 22) (at pool 1)
    double centre_mean, centre_variance, neighbour_covariance, neighbour_correlation, far_correlation;
    double covariance_entry_difference;  // |C[centre, neighbour] - statistics_covariance|
} PcaResult;

// The first `images` (>= 2) training images of the MNIST files in directory (foundations/idx.h),
// each averaged over pool × pool blocks first (pool 1: as they are; 2: 14 × 14; pool must divide
// the image size). The eigenproblem costs O(pixels³): 784³ at pool 1, 64 times less at pool 2.
int explore_pca(const char *directory, int images, int pool, PcaResult *out, Error *error);
void pca_result_free(PcaResult *result);
// The number of leading components that explain at least `fraction` of the variance.
int pca_components_for(const PcaResult *result, double fraction);
// The fraction explained by the first k.
double pca_explained(const PcaResult *result, int k);

// ----------------------------------------------------------------------------
// naive-bayes (probability_mnist.c): three generative classifiers on MNIST, each
// argmax_c log p(c) + log p(x | c):
//   Bernoulli naive Bayes   pixels binarised at ½, p(x_j = 1 | c) = (n_cj + α) / (n_c + 2α)
//   Gaussian naive Bayes    p(x_j | c) = N(μ_cj, σ²_cj + ε), ε = 0.1 × the largest pixel variance
//                           (pixels that are always 0 in a class would otherwise have variance 0)
//   Gaussian discriminant   p(x | c) = N(μ_c, Σ) with one shared covariance Σ + λI (λ = 0.01):
//   analysis (LDA)          linear scores x·Σ⁻¹μ_c - ½ μ_cᵀΣ⁻¹μ_c + log p(c)
// trained on the first n of the 60000 training images for several n, scored on the 10000 test images.

enum { NB_CLASSIFIERS = 3, NB_MAX_SIZES = 8, NB_CLASSES = 10 };

typedef struct NaiveBayesResult {
    int n_sizes;
    int sizes[NB_MAX_SIZES];
    int test_images;
    const char *names[NB_CLASSIFIERS];       // "bernoulli naive Bayes", ...
    double accuracy[NB_CLASSIFIERS][NB_MAX_SIZES];
    double class_accuracy[NB_CLASSIFIERS][NB_CLASSES];   // at the largest size
    float *bernoulli_means;                  // (NB_CLASSES, pixels): p(x_j = 1 | c) at the largest size
    int pixels, height, width;
} NaiveBayesResult;

// Training sizes 100, 300, 1000, 3000, 10000, 30000 and max_train (<= the training set) where they are smaller;
// smoothing α > 0; test_images >= 1 (the first ones of the test set).
int explore_naive_bayes(const char *directory, int max_train, int test_images, double smoothing, NaiveBayesResult *out,
                        Error *error);
void naive_bayes_result_free(NaiveBayesResult *result);

#endif
