// Softmax regression's loss, gradient, Hessian and Fisher: see softmax_regression.h.
#include "foundations/softmax_regression.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

long softmax_regression_parameters(const SoftmaxRegression *model) {
    return (long)model->n_classes * (model->n_features + 1);
}

void softmax_regression_free(SoftmaxRegression *model) {
    free(model->row_start);
    free(model->column);
    free(model->value);
    free(model->labels);
    free(model->probabilities);
    free(model->cached_theta);
    free(model->weight_t);
    free(model->gradient_t);
    free(model->row);
    free(model->score);
    memset(model, 0, sizeof *model);
}

int softmax_regression_init(SoftmaxRegression *model, const float *features, const int32_t *labels, int n_samples,
                            int n_features, int n_classes, double l2, Error *error) {
    memset(model, 0, sizeof *model);
    if (n_samples < 1 || n_features < 1 || n_classes < 2)
        return error_set(error, "softmax regression: %d samples, %d features, %d classes (need >= 1, >= 1, >= 2)",
                         n_samples, n_features, n_classes);
    if (!(l2 >= 0) || !isfinite(l2)) return error_set(error, "softmax regression: L2 coefficient %g must be >= 0", l2);
    long nnz = 0;
    for (long k = 0; k < (long)n_samples * n_features; k++) {
        if (!isfinite(features[k])) return error_set(error, "softmax regression: feature %ld is not finite", k);
        nnz += features[k] != 0.0f;
    }
    for (int i = 0; i < n_samples; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return error_set(error, "softmax regression: label %d of sample %d not in [0, %d)", labels[i], i, n_classes);
    model->n_samples = n_samples, model->n_features = n_features, model->n_classes = n_classes, model->l2 = l2;
    long n = softmax_regression_parameters(model);
    model->row_start = malloc((size_t)(n_samples + 1) * sizeof(long));
    model->column = malloc((size_t)(nnz + 1) * sizeof(int));
    model->value = malloc((size_t)(nnz + 1) * sizeof(double));
    model->labels = malloc((size_t)n_samples * sizeof(int32_t));
    model->probabilities = malloc((size_t)n_samples * n_classes * sizeof(double));
    model->cached_theta = malloc((size_t)n * sizeof(double));
    model->weight_t = malloc((size_t)n_features * n_classes * sizeof(double));
    model->gradient_t = malloc((size_t)n_features * n_classes * sizeof(double));
    model->row = malloc((size_t)(n_features + 1) * sizeof(double));
    model->score = malloc((size_t)n * sizeof(double));
    if (!model->row_start || !model->column || !model->value || !model->labels || !model->probabilities ||
        !model->cached_theta || !model->weight_t || !model->gradient_t || !model->row || !model->score) {
        softmax_regression_free(model);
        return error_set(error, "softmax regression: out of memory for %d samples", n_samples);
    }
    long k = 0;
    for (int i = 0; i < n_samples; i++) {
        model->row_start[i] = k;
        for (int j = 0; j < n_features; j++) {
            float v = features[(size_t)i * n_features + j];
            if (v != 0.0f) model->column[k] = j, model->value[k++] = v;
        }
    }
    model->row_start[n_samples] = k;
    memcpy(model->labels, labels, (size_t)n_samples * sizeof(int32_t));
    return 0;
}

// weight_t (D, K) = Wᵀ from θ or from a direction v laid out like θ.
static void transpose_weights(const SoftmaxRegression *m, const double *theta, double *weight_t) {
    int D = m->n_features, K = m->n_classes;
    for (int k = 0; k < K; k++)
        for (int j = 0; j < D; j++) weight_t[(size_t)j * K + k] = theta[(size_t)k * D + j];
}

// z (K) = W x_i + b with W given transposed (D, K).
static void logits(const SoftmaxRegression *m, int i, const double *weight_t, const double *bias, double *z) {
    int K = m->n_classes;
    for (int k = 0; k < K; k++) z[k] = bias[k];
    for (long e = m->row_start[i]; e < m->row_start[i + 1]; e++) {
        const double *w = weight_t + (size_t)m->column[e] * K;
        double x = m->value[e];
        for (int k = 0; k < K; k++) z[k] += x * w[k];
    }
}

// gradient_t (D, K) += x_i ⊗ a (K), and the bias part bias_gradient (K) += a.
static void accumulate(const SoftmaxRegression *m, int i, const double *a, double *gradient_t, double *bias_gradient) {
    int K = m->n_classes;
    for (long e = m->row_start[i]; e < m->row_start[i + 1]; e++) {
        double *g = gradient_t + (size_t)m->column[e] * K;
        double x = m->value[e];
        for (int k = 0; k < K; k++) g[k] += x * a[k];
    }
    for (int k = 0; k < K; k++) bias_gradient[k] += a[k];
}

// θ-shaped out (n) = [gradient_tᵀ, bias] / N + λ theta (theta NULL: no λ term).
static void finish_gradient(const SoftmaxRegression *m, const double *bias_gradient, const double *theta, double lambda,
                            double *out) {
    int D = m->n_features, K = m->n_classes;
    double scale = 1.0 / m->n_samples;
    for (int k = 0; k < K; k++)
        for (int j = 0; j < D; j++) out[(size_t)k * D + j] = m->gradient_t[(size_t)j * K + k] * scale;
    for (int k = 0; k < K; k++) out[(size_t)K * D + k] = bias_gradient[k] * scale;
    if (theta)
        for (long q = 0; q < (long)K * (D + 1); q++) out[q] += lambda * theta[q];
}

// The forward pass: probabilities (N, K) at θ, cached; returns the mean negative log-likelihood.
static double forward(SoftmaxRegression *m, const double *theta) {
    int D = m->n_features, K = m->n_classes;
    transpose_weights(m, theta, m->weight_t);
    const double *bias = theta + (size_t)K * D;
    double nll = 0.0;
    for (int i = 0; i < m->n_samples; i++) {
        double *p = m->probabilities + (size_t)i * K, largest = -INFINITY, sum = 0.0;
        logits(m, i, m->weight_t, bias, p);
        for (int k = 0; k < K; k++) largest = fmax(largest, p[k]);
        for (int k = 0; k < K; k++) sum += (p[k] = exp(p[k] - largest));
        // -log p_y = log Σ e^{z_k} - z_y = log(sum) + largest - z_y, with p[y] = e^{z_y - largest}
        nll += log(sum) - log(p[m->labels[i]]);
        for (int k = 0; k < K; k++) p[k] /= sum;
    }
    memcpy(m->cached_theta, theta, (size_t)softmax_regression_parameters(m) * sizeof(double));
    m->cached = 1;
    return nll / m->n_samples;
}

double softmax_regression_loss(void *context, const double *theta, double *gradient, long n) {
    SoftmaxRegression *m = context;
    int D = m->n_features, K = m->n_classes;
    double loss = forward(m, theta), bias_gradient[K], a[K];
    memset(m->gradient_t, 0, (size_t)D * K * sizeof(double));
    memset(bias_gradient, 0, sizeof bias_gradient);
    for (int i = 0; i < m->n_samples; i++) {  // dz = p - e_y
        memcpy(a, m->probabilities + (size_t)i * K, sizeof a);
        a[m->labels[i]] -= 1.0;
        accumulate(m, i, a, m->gradient_t, bias_gradient);
    }
    finish_gradient(m, bias_gradient, theta, m->l2, gradient);
    double squared = 0.0;
    for (long q = 0; q < n; q++) squared += theta[q] * theta[q];
    return loss + 0.5 * m->l2 * squared;
}

// product (n) = F v + lambda v at θ: per sample u = V x̃_i (the change of the logits along v),
// then (diag p - p pᵀ) u = p ⊙ (u - pᵀu), spread back as ⊗ x̃_i. The probabilities come from the
// cache when θ is the point last evaluated (as it is inside Newton-CG and the natural gradient).
static void curvature_vector(SoftmaxRegression *m, const double *theta, const double *v, double lambda,
                             double *product) {
    int D = m->n_features, K = m->n_classes;
    long n = softmax_regression_parameters(m);
    if (!m->cached || memcmp(theta, m->cached_theta, (size_t)n * sizeof(double)) != 0) {
        forward(m, theta);
        m->forward_recomputations++;
    }
    transpose_weights(m, v, m->weight_t);  // V transposed; weight_t is scratch here
    memset(m->gradient_t, 0, (size_t)D * K * sizeof(double));
    double bias_gradient[K], u[K];
    memset(bias_gradient, 0, sizeof bias_gradient);
    for (int i = 0; i < m->n_samples; i++) {
        const double *p = m->probabilities + (size_t)i * K;
        logits(m, i, m->weight_t, v + (size_t)K * D, u);
        double mean = 0.0;
        for (int k = 0; k < K; k++) mean += p[k] * u[k];
        for (int k = 0; k < K; k++) u[k] = p[k] * (u[k] - mean);
        accumulate(m, i, u, m->gradient_t, bias_gradient);
    }
    finish_gradient(m, bias_gradient, v, lambda, product);
}

void softmax_regression_hessian_vector(void *context, const double *theta, const double *v, double *product, long n) {
    SoftmaxRegression *m = context;
    (void)n;
    curvature_vector(m, theta, v, m->l2, product);
}

void softmax_regression_fisher_vector(void *context, const double *theta, const double *v, double *product, long n) {
    (void)n;
    curvature_vector(context, theta, v, 0.0, product);
}

// x̃_i (D + 1) dense: the features then 1.
static void dense_row(const SoftmaxRegression *m, int i, double *x) {
    memset(x, 0, (size_t)m->n_features * sizeof(double));
    for (long e = m->row_start[i]; e < m->row_start[i + 1]; e++) x[m->column[e]] = m->value[e];
    x[m->n_features] = 1.0;
}

// The parameter index of (class k, input j), j = D being the bias.
static long parameter_index(const SoftmaxRegression *m, int k, int j) {
    return j < m->n_features ? (long)k * m->n_features + j : (long)m->n_classes * m->n_features + k;
}

void softmax_regression_fisher(SoftmaxRegression *m, const double *theta, double *fisher) {
    int D = m->n_features, K = m->n_classes;
    long n = softmax_regression_parameters(m);
    forward(m, theta);
    memset(fisher, 0, (size_t)n * n * sizeof(double));
    double *x = m->row;
    for (int i = 0; i < m->n_samples; i++) {
        const double *p = m->probabilities + (size_t)i * K;
        dense_row(m, i, x);
        for (int k = 0; k < K; k++)
            for (int l = 0; l < K; l++) {
                double c = (k == l ? p[k] : 0.0) - p[k] * p[l];  // (diag p - p pᵀ)_kl
                for (int a = 0; a <= D; a++)
                    for (int b = 0; b <= D; b++)
                        fisher[parameter_index(m, k, a) * n + parameter_index(m, l, b)] += c * x[a] * x[b];
            }
    }
    for (long q = 0; q < n * n; q++) fisher[q] /= m->n_samples;
}

void softmax_regression_hessian(void *context, const double *theta, double *hessian, long n) {
    SoftmaxRegression *m = context;
    softmax_regression_fisher(m, theta, hessian);
    for (long q = 0; q < n; q++) hessian[q * n + q] += m->l2;
}

void softmax_regression_fisher_outer_product(SoftmaxRegression *m, const double *theta, int empirical, double *fisher) {
    int D = m->n_features, K = m->n_classes;
    long n = softmax_regression_parameters(m);
    forward(m, theta);
    memset(fisher, 0, (size_t)n * n * sizeof(double));
    double *x = m->row, *score = m->score;
    for (int i = 0; i < m->n_samples; i++) {
        const double *p = m->probabilities + (size_t)i * K;
        dense_row(m, i, x);
        for (int y = 0; y < K; y++) {
            double weight = empirical ? (y == m->labels[i]) : p[y];
            if (weight == 0.0) continue;
            for (int k = 0; k < K; k++)  // g_iy = (e_y - p_i) ⊗ x̃_i
                for (int a = 0; a <= D; a++) score[parameter_index(m, k, a)] = ((k == y) - p[k]) * x[a];
            for (long r = 0; r < n; r++)
                for (long c = 0; c < n; c++) fisher[r * n + c] += weight * score[r] * score[c];
        }
    }
    for (long q = 0; q < n * n; q++) fisher[q] /= m->n_samples;
}
