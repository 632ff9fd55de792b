// Double descent with random ReLU features on MNIST: see double_descent.h.
#include "explore/double_descent.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "foundations/idx.h"
#include "foundations/linalg.h"
#include "foundations/matmul.h"
#include "foundations/random.h"

enum { CLASSES = 10 };
static const double EIGEN_CUTOFF = 1e-13;  // relative to the largest eigenvalue of the Gram matrix

DoubleDescentConfig double_descent_defaults(void) {
    return (DoubleDescentConfig){.directory = "data/mnist", .train_size = 500, .test_size = 2000, .min_ratio = 0.1,
                                 .max_ratio = 10.0, .n_points = 25, .seed = 1};
}

static int check_config(const DoubleDescentConfig *c, Error *error) {
    if (explore_check_count(c->train_size, 10, "--train", error) || explore_check_count(c->test_size, 1, "--test", error) ||
        explore_check_count(c->n_points, 3, "--points", error))
        return -1;
    if (c->n_points > DOUBLE_DESCENT_MAX_POINTS)
        return error_set(error, "--points must be at most %d, not %d", DOUBLE_DESCENT_MAX_POINTS, c->n_points);
    if (explore_check_range(c->min_ratio, 0, 1, 1, 1, "--min-ratio", error) ||
        explore_check_range(c->max_ratio, 1, 20, 1, 0, "--max-ratio", error))
        return -1;
    return 0;
}

// The sweep: n_points log-spaced p from min_ratio·n to max_ratio·n, the one nearest n replaced
// by n, duplicates dropped. Returns how many.
static int sweep(const DoubleDescentConfig *c, int n, int *features) {
    int count = 0, nearest = 0;
    for (int j = 0; j < c->n_points; j++) {
        double ratio = c->min_ratio * pow(c->max_ratio / c->min_ratio, (double)j / (c->n_points - 1));
        int p = (int)lround(ratio * n);
        if (p < 1) p = 1;
        if (count == 0 || p > features[count - 1]) features[count++] = p;
    }
    for (int j = 1; j < count; j++)
        if (abs(features[j] - n) < abs(features[nearest] - n)) nearest = j;
    features[nearest] = n;
    // keep it ascending and distinct after the replacement
    int kept = 0;
    for (int j = 0; j < count; j++)
        if (kept == 0 || features[j] > features[kept - 1]) features[kept++] = features[j];
    return kept;
}

// out (rows, P) = max(0, x (rows, D) · Wᵀ), W (P, D).
static void relu_features(const float *x, int rows, int D, const float *w, int P, float *out) {
    gemm(rows, P, D, x, D, 1, w, 1, D, out, P, 0);
    for (long q = 0; q < (long)rows * P; q++) out[q] = out[q] > 0 ? out[q] : 0;
}

// β (p, CLASSES) = V diag(1/λ)⁺ Vᵀ z for the Gram matrix gram (m, m) = V diag(λ) Vᵀ, applied to
// z (m, CLASSES); result (m, CLASSES). scratch (m, CLASSES).
static int pseudo_inverse_apply(const Matrix *gram, const double *z, double *result, double *scratch, Error *error) {
    int m = gram->rows;
    Matrix vectors = {0};
    double *values = malloc((size_t)m * sizeof(double));
    if (!values || matrix_init(&vectors, m, m, error)) {
        free(values);
        return values ? -1 : error_set(error, "out of memory");
    }
    if (eigen_symmetric_tridiagonal_qr(gram, values, &vectors, error)) {
        free(values), matrix_free(&vectors);
        return -1;
    }
    double cutoff = EIGEN_CUTOFF * fabs(values[m - 1]);
    memset(scratch, 0, (size_t)m * CLASSES * sizeof(double));
    for (int a = 0; a < m; a++) {  // scratch = diag(1/λ) Vᵀ z
        if (!(values[a] > cutoff)) continue;
        for (int i = 0; i < m; i++)
            for (int k = 0; k < CLASSES; k++) scratch[a * CLASSES + k] += vectors.values[(size_t)i * m + a] * z[i * CLASSES + k];
        for (int k = 0; k < CLASSES; k++) scratch[a * CLASSES + k] /= values[a];
    }
    memset(result, 0, (size_t)m * CLASSES * sizeof(double));
    for (int i = 0; i < m; i++)
        for (int a = 0; a < m; a++) {
            double v = vectors.values[(size_t)i * m + a];
            for (int k = 0; k < CLASSES; k++) result[i * CLASSES + k] += v * scratch[a * CLASSES + k];
        }
    free(values), matrix_free(&vectors);
    return 0;
}

typedef struct Data {
    int n, T, P;
    float *train, *test;   // features (n, P), (T, P)
    int32_t *train_labels, *test_labels;
    Matrix kernel;         // (n, n) Σ over the first `kernel_features` features of φ φᵀ
    int kernel_features;
} Data;

// Squared error ‖ŷ - onehot‖² summed and argmax mistakes counted over rows of features (rows, P)
// with the first p columns times beta (p, CLASSES).
static void score(const float *features, int rows, int P, int p, const double *beta, const int32_t *labels,
                  double *mse, double *error_rate) {
    double squared = 0.0;
    int wrong = 0;
    for (int i = 0; i < rows; i++) {
        double y[CLASSES] = {0};
        for (int a = 0; a < p; a++) {
            double f = features[(size_t)i * P + a];
            if (f != 0)
                for (int k = 0; k < CLASSES; k++) y[k] += f * beta[a * CLASSES + k];
        }
        int best = 0;
        for (int k = 0; k < CLASSES; k++) {
            double target = k == labels[i];
            squared += (y[k] - target) * (y[k] - target);
            if (y[k] > y[best]) best = k;
        }
        wrong += best != labels[i];
    }
    *mse = squared / rows, *error_rate = (double)wrong / rows;
}

// The minimum-norm fit with the first p features: β (p, CLASSES).
static int fit(Data *d, int p, double *beta, Error *error) {
    int n = d->n, P = d->P, m = p <= n ? p : n;
    Matrix gram = {0};
    double *z = calloc((size_t)(p > n ? p : n) * CLASSES, sizeof(double));
    double *solved = malloc((size_t)m * CLASSES * sizeof(double)), *scratch = malloc((size_t)m * CLASSES * sizeof(double));
    int status = -1;
    if (!z || !solved || !scratch) {
        error_set(error, "out of memory");
        goto done;
    }
    if (p <= n) {  // β = (ΦᵀΦ)⁺ Φᵀ Y
        if (matrix_init(&gram, p, p, error)) goto done;
        for (int i = 0; i < n; i++) {
            const float *row = d->train + (size_t)i * P;
            for (int a = 0; a < p; a++) {
                if (row[a] == 0) continue;
                for (int b = 0; b <= a; b++) gram.values[(size_t)a * p + b] += (double)row[a] * row[b];
                z[a * CLASSES + d->train_labels[i]] += row[a];
            }
        }
        for (int a = 0; a < p; a++)
            for (int b = 0; b < a; b++) gram.values[(size_t)b * p + a] = gram.values[(size_t)a * p + b];
        if (pseudo_inverse_apply(&gram, z, beta, scratch, error)) goto done;
    } else {  // β = Φᵀ (ΦΦᵀ)⁺ Y, the kernel grown to p features
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) {
                const float *a = d->train + (size_t)i * P, *b = d->train + (size_t)j * P;
                double sum = 0.0;
                for (int k = d->kernel_features; k < p; k++) sum += (double)a[k] * b[k];
                d->kernel.values[(size_t)i * n + j] += sum;
                if (j != i) d->kernel.values[(size_t)j * n + i] += sum;
            }
        d->kernel_features = p;
        for (int i = 0; i < n; i++) z[i * CLASSES + d->train_labels[i]] = 1.0;
        if (pseudo_inverse_apply(&d->kernel, z, solved, scratch, error)) goto done;
        memset(beta, 0, (size_t)p * CLASSES * sizeof(double));
        for (int i = 0; i < n; i++)
            for (int a = 0; a < p; a++) {
                double f = d->train[(size_t)i * P + a];
                if (f != 0)
                    for (int k = 0; k < CLASSES; k++) beta[a * CLASSES + k] += f * solved[i * CLASSES + k];
            }
    }
    status = 0;
done:
    free(z), free(solved), free(scratch), matrix_free(&gram);
    return status;
}

// Loads the images, chooses the sweep (into r), draws W and computes both feature matrices for
// the largest p.
static int prepare(const DoubleDescentConfig *c, Data *d, DoubleDescentResult *r, Error *error) {
    MnistSet train, test;
    if (mnist_load(c->directory, "train", &train, error)) return -1;
    if (mnist_load(c->directory, "test", &test, error)) {
        mnist_free(&train);
        return -1;
    }
    int D = train.height * train.width, status = -1;
    d->n = c->train_size < train.count ? c->train_size : train.count;
    d->T = c->test_size < test.count ? c->test_size : test.count;
    r->train_size = d->n, r->test_size = d->T;
    r->n_points = sweep(c, d->n, r->features);
    d->P = r->features[r->n_points - 1];
    float *w = malloc((size_t)d->P * D * sizeof(float));
    d->train = malloc((size_t)d->n * d->P * sizeof(float));
    d->test = malloc((size_t)d->T * d->P * sizeof(float));
    d->train_labels = malloc((size_t)d->n * sizeof(int32_t));
    d->test_labels = malloc((size_t)d->T * sizeof(int32_t));
    if (!w || !d->train || !d->test || !d->train_labels || !d->test_labels) {
        error_set(error, "out of memory for %d features", d->P);
        goto done;
    }
    if (test.height * test.width != D) {
        error_set(error, "the test images are %d x %d, the training images %d x %d", test.height, test.width, train.height,
                  train.width);
        goto done;
    }
    Random rng;
    random_seed(&rng, c->seed);
    random_fill_normal(&rng, w, (long)d->P * D, 0.0f, 1.0f / sqrtf((float)D));
    relu_features(train.images, d->n, D, w, d->P, d->train);
    relu_features(test.images, d->T, D, w, d->P, d->test);
    memcpy(d->train_labels, train.labels, (size_t)d->n * sizeof(int32_t));
    memcpy(d->test_labels, test.labels, (size_t)d->T * sizeof(int32_t));
    status = matrix_init(&d->kernel, d->n, d->n, error);
done:
    free(w);
    mnist_free(&train), mnist_free(&test);
    return status;
}

int explore_double_descent(const DoubleDescentConfig *c, DoubleDescentResult *r, Error *error) {
    memset(r, 0, sizeof *r);
    if (check_config(c, error)) return -1;
    Data d = {0};
    double *beta = NULL;
    int status = -1;
    if (prepare(c, &d, r, error)) goto done;
    if (!(beta = malloc((size_t)d.P * CLASSES * sizeof(double)))) {
        error_set(error, "out of memory");
        goto done;
    }
    for (int j = 0; j < r->n_points; j++) {
        int p = r->features[j];
        if (fit(&d, p, beta, error)) goto done;
        double ignored;
        score(d.test, d.T, d.P, p, beta, d.test_labels, &r->test_mse[j], &r->test_error[j]);
        score(d.train, d.n, d.P, p, beta, d.train_labels, &r->train_mse[j], &ignored);
        double squared = 0.0;
        for (long q = 0; q < (long)p * CLASSES; q++) squared += beta[q] * beta[q];
        r->norm[j] = sqrt(squared);
    }
    int peak = 0;
    for (int j = 1; j < r->n_points; j++)
        if (r->test_mse[j] > r->test_mse[peak]) peak = j;
    r->peak_features = r->features[peak];
    status = 0;
done:
    free(beta), free(d.train), free(d.test), free(d.train_labels), free(d.test_labels), matrix_free(&d.kernel);
    return status;
}
