// PCA and generative classifiers on MNIST: see probability.h.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/probability.h"
#include "foundations/idx.h"
#include "foundations/linalg.h"
#include "foundations/matmul.h"
#include "foundations/statistics.h"

// covariance (pixels, pixels) = Σ_i (x_i - m_(c_i))(x_i - m_(c_i))ᵀ / divisor, where m is the
// mean image, or the mean of image i's class when class_means (classes, pixels) and labels
// are given. centred (n, pixels) is scratch. One float matrix product (foundations/matmul.h)
// does the n·pixels² work; the result is widened to double.
static void scatter_matrix(const float *images, const int32_t *labels, const double *class_means, const double *mean,
                           int n, int pixels, double divisor, float *centred, float *product, Matrix *covariance) {
    for (int i = 0; i < n; i++) {
        const double *m = class_means ? class_means + (size_t)labels[i] * pixels : mean;
        for (int j = 0; j < pixels; j++) centred[(size_t)i * pixels + j] = (float)(images[(size_t)i * pixels + j] - m[j]);
    }
    // product (pixels, pixels) = centredᵀ (pixels, n) · centred (n, pixels)
    gemm(pixels, pixels, n, centred, 1, pixels, centred, pixels, 1, product, pixels, 0);
    for (long k = 0; k < (long)pixels * pixels; k++) covariance->values[k] = product[k] / divisor;
    // symmetric exactly (the product is symmetric up to the order of float additions)
    for (int a = 0; a < pixels; a++)
        for (int b = 0; b < a; b++) {
            double average = 0.5 * (covariance->values[a * pixels + b] + covariance->values[b * pixels + a]);
            covariance->values[a * pixels + b] = covariance->values[b * pixels + a] = average;
        }
}

// ----------------------------------------------------------------------------
// pca

void pca_result_free(PcaResult *result) {
    free(result->eigenvalues);
    free(result->components);
    free(result->mean_image);
    memset(result, 0, sizeof *result);
}

double pca_explained(const PcaResult *result, int k) {
    double sum = 0.0;
    for (int i = 0; i < k && i < result->pixels; i++) sum += result->eigenvalues[i];
    return sum / result->total_variance;
}

int pca_components_for(const PcaResult *result, double fraction) {
    double sum = 0.0;
    for (int i = 0; i < result->pixels; i++)
        if ((sum += result->eigenvalues[i]) >= fraction * result->total_variance) return i + 1;
    return result->pixels;
}

// The centre pixel's mean and variance and its covariance and correlation with two others,
// by foundations/statistics.h from the pixel columns, and the matching covariance entry.
static int pixel_statistics(const MnistSet *set, int n, const Matrix *covariance, PcaResult *out, Error *error) {
    int pixels = set->height * set->width, centre = (set->height / 2) * set->width + set->width / 2;
    // the right neighbour and the pixel 2/7 of the width to the right: (14, 15) and (14, 22) at 28 × 28
    int neighbour = centre + 1, far = centre + 2 * set->width / 7;
    float *columns = malloc((size_t)3 * n * sizeof *columns);
    if (!columns) return error_set(error, "out of memory");
    const int which[3] = {centre, neighbour, far};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < n; i++) columns[(size_t)c * n + i] = set->images[(size_t)i * pixels + which[c]];
    int status = statistics_mean(columns, n, &out->centre_mean, error) ||
                 statistics_variance(columns, n, VARIANCE_SAMPLE, &out->centre_variance, error) ||
                 statistics_covariance(columns, columns + n, n, VARIANCE_SAMPLE, &out->neighbour_covariance, error) ||
                 statistics_correlation(columns, columns + n, n, &out->neighbour_correlation, error) ||
                 statistics_correlation(columns, columns + 2 * n, n, &out->far_correlation, error)
                     ? -1 : 0;
    out->covariance_entry_difference = fabs(covariance->values[(size_t)centre * pixels + neighbour] - out->neighbour_covariance);
    free(columns);
    return status;
}

// Eigenvalues descending into out, the leading PCA_SHOWN vectors as components, and the
// power-iteration cross-check of the leading PCA_POWER_CHECKED eigenvalues.
static int pca_eigen(const Matrix *covariance, PcaResult *out, Error *error) {
    int p = out->pixels;
    Matrix vectors = {0}, power_vectors = {0};
    double *ascending = malloc((size_t)p * sizeof *ascending), power[PCA_POWER_CHECKED];
    int status = -1;
    if (!ascending) {
        error_set(error, "out of memory");
        goto done;
    }
    if (matrix_init(&vectors, p, p, error) || matrix_init(&power_vectors, p, PCA_POWER_CHECKED, error) ||
        eigen_symmetric_tridiagonal_qr(covariance, ascending, &vectors, error))
        goto done;
    // The cross-check is not the result: power iteration stalls when two leading eigenvalues
    // nearly tie (few images), which is reported, not an error.
    Error power_error;
    out->power_converged = eigen_power_top_k(covariance, PCA_POWER_CHECKED, power, &power_vectors, 3000, 1e-9, 1,
                                             &power_error) == 0;
    out->orthonormality_error = matrix_orthonormality_error(&vectors);
    for (int i = 0; i < p; i++) out->eigenvalues[i] = ascending[p - 1 - i];
    for (int k = 0; k < PCA_SHOWN && k < p; k++)
        for (int j = 0; j < p; j++) out->components[(size_t)k * p + j] = (float)vectors.values[(size_t)j * p + (p - 1 - k)];
    for (int k = 0; k < PCA_POWER_CHECKED && out->power_converged; k++)
        out->power_difference = fmax(out->power_difference, fabs(power[k] - out->eigenvalues[k]) / out->eigenvalues[k]);
    status = 0;
done:
    free(ascending);
    matrix_free(&vectors);
    matrix_free(&power_vectors);
    return status;
}

// Replaces the first n images of set by their pool × pool averages (height and width divided by pool).
static int average_pool(MnistSet *set, int n, int pool, Error *error) {
    if (set->height % pool || set->width % pool)
        return error_set(error, "--pool %d does not divide the %d x %d images", pool, set->height, set->width);
    int h = set->height / pool, w = set->width / pool;
    float *pooled = calloc((size_t)n * h * w, sizeof *pooled);
    if (!pooled) return error_set(error, "out of memory");
    for (int i = 0; i < n; i++)
        for (int y = 0; y < set->height; y++)
            for (int x = 0; x < set->width; x++)
                pooled[((size_t)i * h + y / pool) * w + x / pool] +=
                    set->images[((size_t)i * set->height + y) * set->width + x] / (float)(pool * pool);
    free(set->images);
    set->images = pooled, set->height = h, set->width = w, set->count = n;
    return 0;
}

int explore_pca(const char *directory, int images, int pool, PcaResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (explore_check_count(images, 2, "--images", error) || explore_check_count(pool, 1, "--pool", error)) return -1;
    MnistSet set;
    if (mnist_load(directory, "train", &set, error)) return -1;
    int n = images < set.count ? images : set.count;
    if (pool > 1 && average_pool(&set, n, pool, error)) {
        mnist_free(&set);
        return -1;
    }
    int p = set.height * set.width;
    out->images = n, out->pixels = p, out->height = set.height, out->width = set.width;
    Matrix covariance = {0};
    double *mean = calloc((size_t)p, sizeof *mean);
    float *centred = malloc((size_t)n * p * sizeof *centred), *product = malloc((size_t)p * p * sizeof *product);
    out->eigenvalues = malloc((size_t)p * sizeof *out->eigenvalues);
    out->components = calloc((size_t)PCA_SHOWN * p, sizeof *out->components);
    out->mean_image = malloc((size_t)p * sizeof *out->mean_image);
    int status = -1;
    if (!mean || !centred || !product || !out->eigenvalues || !out->components || !out->mean_image) {
        error_set(error, "out of memory for the covariance of %d images", n);
        goto done;
    }
    if (matrix_init(&covariance, p, p, error)) goto done;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) mean[j] += set.images[(size_t)i * p + j];
    for (int j = 0; j < p; j++) out->mean_image[j] = (float)(mean[j] /= n);
    scatter_matrix(set.images, NULL, NULL, mean, n, p, n - 1.0, centred, product, &covariance);
    for (int j = 0; j < p; j++) out->total_variance += covariance.values[(size_t)j * p + j];
    if (pixel_statistics(&set, n, &covariance, out, error) || pca_eigen(&covariance, out, error)) goto done;
    status = 0;
done:
    free(mean);
    free(centred);
    free(product);
    matrix_free(&covariance);
    mnist_free(&set);
    if (status) pca_result_free(out);
    return status;
}

// ----------------------------------------------------------------------------
// naive-bayes

static const double LDA_RIDGE = 0.01;          // λ added to the shared covariance's diagonal
static const double GAUSSIAN_NB_SMOOTHING = 0.1;  // ε as a fraction of the largest pixel variance

void naive_bayes_result_free(NaiveBayesResult *result) {
    free(result->bernoulli_means);
    memset(result, 0, sizeof *result);
}

// The model of all three classifiers after training on the first n images: per class the
// count, mean image, pixel variances and share of ones; the LDA weights Σ⁻¹μ_c and offsets.
typedef struct GenerativeModel {
    int pixels;
    double log_prior[NB_CLASSES];
    double *mean;        // (NB_CLASSES, pixels)
    double *variance;    // (NB_CLASSES, pixels)
    double *log_on;      // (NB_CLASSES, pixels): log p(x_j = 1 | c)
    double *log_off;     // (NB_CLASSES, pixels): log p(x_j = 0 | c)
    double *lda_weight;  // (pixels, NB_CLASSES): Σ⁻¹ μ_c as columns
    double lda_offset[NB_CLASSES];
    double epsilon;
} GenerativeModel;

// Class counts, means, variances and Bernoulli log-probabilities of the first n images.
static void class_moments(const MnistSet *train, int n, double smoothing, GenerativeModel *m) {
    int p = m->pixels;
    double count[NB_CLASSES] = {0}, largest = 0.0;
    size_t size = (size_t)NB_CLASSES * p;
    memset(m->mean, 0, size * sizeof(double));
    memset(m->variance, 0, size * sizeof(double));
    memset(m->log_on, 0, size * sizeof(double));  // first the counts of ones
    for (int i = 0; i < n; i++) {
        int c = train->labels[i];
        count[c] += 1.0;
        for (int j = 0; j < p; j++) {
            double x = train->images[(size_t)i * p + j];
            m->mean[(size_t)c * p + j] += x;
            m->log_on[(size_t)c * p + j] += x > 0.5;
        }
    }
    for (int c = 0; c < NB_CLASSES; c++)
        for (int j = 0; j < p; j++) m->mean[(size_t)c * p + j] /= count[c] > 0 ? count[c] : 1.0;
    for (int i = 0; i < n; i++) {
        int c = train->labels[i];
        for (int j = 0; j < p; j++) {
            double d = train->images[(size_t)i * p + j] - m->mean[(size_t)c * p + j];
            m->variance[(size_t)c * p + j] += d * d;
        }
    }
    for (int c = 0; c < NB_CLASSES; c++) {
        m->log_prior[c] = count[c] > 0 ? log(count[c] / n) : -INFINITY;
        for (int j = 0; j < p; j++) {
            size_t k = (size_t)c * p + j;
            m->variance[k] /= count[c] > 0 ? count[c] : 1.0;
            largest = fmax(largest, m->variance[k]);
            double on = (m->log_on[k] + smoothing) / (count[c] + 2.0 * smoothing);
            m->log_on[k] = log(on), m->log_off[k] = log1p(-on);
        }
    }
    m->epsilon = GAUSSIAN_NB_SMOOTHING * largest;
}

// The shared covariance Σ (within-class scatter / (n - classes), + λI) and w_c = Σ⁻¹ μ_c.
static int lda_fit(const MnistSet *train, int n, GenerativeModel *m, float *centred, float *product, Error *error) {
    int p = m->pixels;
    Matrix sigma = {0}, means = {0}, weights = {0};
    int status = -1;
    if (matrix_init(&sigma, p, p, error) || matrix_init(&means, p, NB_CLASSES, error) ||
        matrix_init(&weights, p, NB_CLASSES, error))
        goto done;
    double divisor = n > NB_CLASSES ? n - NB_CLASSES : 1.0;
    scatter_matrix(train->images, train->labels, m->mean, NULL, n, p, divisor, centred, product, &sigma);
    for (int j = 0; j < p; j++) sigma.values[(size_t)j * p + j] += LDA_RIDGE;
    for (int c = 0; c < NB_CLASSES; c++)
        for (int j = 0; j < p; j++) means.values[(size_t)j * NB_CLASSES + c] = m->mean[(size_t)c * p + j];
    if (linear_solve(&weights, &sigma, &means, error)) goto done;
    memcpy(m->lda_weight, weights.values, (size_t)p * NB_CLASSES * sizeof(double));
    for (int c = 0; c < NB_CLASSES; c++) {
        double quadratic = 0.0;
        for (int j = 0; j < p; j++) quadratic += m->mean[(size_t)c * p + j] * weights.values[(size_t)j * NB_CLASSES + c];
        m->lda_offset[c] = -0.5 * quadratic + m->log_prior[c];
    }
    status = 0;
done:
    matrix_free(&sigma);
    matrix_free(&means);
    matrix_free(&weights);
    return status;
}

// The class each classifier picks for image x (pixels).
static void classify(const GenerativeModel *m, const float *x, int predicted[NB_CLASSIFIERS]) {
    int p = m->pixels;
    double best[NB_CLASSIFIERS] = {-INFINITY, -INFINITY, -INFINITY};
    for (int k = 0; k < NB_CLASSIFIERS; k++) predicted[k] = 0;
    for (int c = 0; c < NB_CLASSES; c++) {
        if (m->log_prior[c] == -INFINITY) continue;
        double score[NB_CLASSIFIERS] = {m->log_prior[c], m->log_prior[c], m->lda_offset[c]};
        for (int j = 0; j < p; j++) {
            size_t k = (size_t)c * p + j;
            score[0] += x[j] > 0.5f ? m->log_on[k] : m->log_off[k];
            double v = m->variance[k] + m->epsilon, d = x[j] - m->mean[k];
            score[1] -= 0.5 * (log(v) + d * d / v);  // the common ½ log 2π left out
            score[2] += x[j] * m->lda_weight[(size_t)j * NB_CLASSES + c];
        }
        for (int k = 0; k < NB_CLASSIFIERS; k++)
            if (score[k] > best[k]) best[k] = score[k], predicted[k] = c;
    }
}

// Trains on the first n, scores the test images; fills accuracies of size index z.
static int naive_bayes_size(const MnistSet *train, const MnistSet *test, int n, int z, double smoothing,
                            GenerativeModel *m, float *centred, float *product, NaiveBayesResult *out, Error *error) {
    class_moments(train, n, smoothing, m);
    if (lda_fit(train, n, m, centred, product, error)) return -1;
    long correct[NB_CLASSIFIERS] = {0}, class_correct[NB_CLASSIFIERS][NB_CLASSES] = {{0}}, class_count[NB_CLASSES] = {0};
    for (int i = 0; i < out->test_images; i++) {
        int predicted[NB_CLASSIFIERS], label = test->labels[i];
        classify(m, test->images + (size_t)i * m->pixels, predicted);
        class_count[label]++;
        for (int k = 0; k < NB_CLASSIFIERS; k++) {
            correct[k] += predicted[k] == label;
            class_correct[k][label] += predicted[k] == label;
        }
    }
    for (int k = 0; k < NB_CLASSIFIERS; k++) {
        out->accuracy[k][z] = (double)correct[k] / out->test_images;
        for (int c = 0; c < NB_CLASSES; c++)
            out->class_accuracy[k][c] = class_count[c] ? (double)class_correct[k][c] / class_count[c] : NAN;
    }
    for (size_t k = 0; k < (size_t)NB_CLASSES * m->pixels; k++) out->bernoulli_means[k] = (float)exp(m->log_on[k]);
    return 0;
}

int explore_naive_bayes(const char *directory, int max_train, int test_images, double smoothing, NaiveBayesResult *out,
                        Error *error) {
    memset(out, 0, sizeof *out);
    if (explore_check_count(max_train, 10, "--train", error) || explore_check_count(test_images, 1, "--test", error) ||
        explore_check_range(smoothing, 0.0, 1e6, 1, 0, "--smoothing", error))
        return -1;
    MnistSet train = {0}, test = {0};
    if (mnist_load(directory, "train", &train, error)) return -1;
    if (mnist_load(directory, "test", &test, error)) {
        mnist_free(&train);
        return -1;
    }
    int p = train.height * train.width, status = -1;
    if (max_train > train.count) max_train = train.count;
    out->test_images = test_images < test.count ? test_images : test.count;
    out->pixels = p, out->height = train.height, out->width = train.width;
    out->names[0] = "bernoulli naive Bayes", out->names[1] = "gaussian naive Bayes", out->names[2] = "LDA (shared covariance)";
    static const int candidates[] = {100, 300, 1000, 3000, 10000, 30000};
    for (int i = 0; i < 6; i++)
        if (candidates[i] < max_train) out->sizes[out->n_sizes++] = candidates[i];
    out->sizes[out->n_sizes++] = max_train;
    GenerativeModel m = {.pixels = p};
    size_t size = (size_t)NB_CLASSES * p;
    m.mean = malloc(size * sizeof(double)), m.variance = malloc(size * sizeof(double));
    m.log_on = malloc(size * sizeof(double)), m.log_off = malloc(size * sizeof(double));
    m.lda_weight = malloc(size * sizeof(double));
    float *centred = malloc((size_t)max_train * p * sizeof(float)), *product = malloc((size_t)p * p * sizeof(float));
    out->bernoulli_means = malloc(size * sizeof(float));
    if (!m.mean || !m.variance || !m.log_on || !m.log_off || !m.lda_weight || !centred || !product || !out->bernoulli_means) {
        error_set(error, "out of memory for %d training images", max_train);
        goto done;
    }
    for (int z = 0; z < out->n_sizes; z++)
        if (naive_bayes_size(&train, &test, out->sizes[z], z, smoothing, &m, centred, product, out, error)) goto done;
    status = 0;
done:
    free(m.mean), free(m.variance), free(m.log_on), free(m.log_off), free(m.lda_weight);
    free(centred), free(product);
    mnist_free(&train), mnist_free(&test);
    if (status) naive_bayes_result_free(out);
    return status;
}
