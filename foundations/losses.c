// Losses: see losses.h for the definitions. Sums are accumulated in double.
#include "foundations/losses.h"

#include <math.h>

float cross_entropy_smoothed_forward(float *losses, float *probs, int *counted, const float *logits,
                                     const int *targets, int N, int V, int ignore_index, float smoothing) {
    double total = 0.0;
    int count = 0;
    for (int n = 0; n < N; n++) {
        const float *z = logits + (long)n * V;
        float *p = probs + (long)n * V;
        float maximum = z[0];
        for (int v = 1; v < V; v++) maximum = fmaxf(maximum, z[v]);
        double sum = 0.0, sum_z = 0.0;
        for (int v = 0; v < V; v++) {
            p[v] = expf(z[v] - maximum);
            sum += p[v];
            sum_z += z[v];
        }
        for (int v = 0; v < V; v++) p[v] = (float)(p[v] / sum);
        if (targets[n] == ignore_index) {
            losses[n] = 0.0f;
            continue;
        }
        double log_normaliser = maximum + log(sum);
        losses[n] = (float)(log_normaliser - (1.0 - smoothing) * z[targets[n]] - smoothing * sum_z / V);
        total += losses[n];
        count++;
    }
    *counted = count;
    return count ? (float)(total / count) : NAN;
}

void cross_entropy_smoothed_backward(float *d_logits, const float *probs, const int *targets, float scale, int N,
                                     int V, int ignore_index, float smoothing) {
    for (int n = 0; n < N; n++) {
        if (targets[n] == ignore_index) continue;
        float *d = d_logits + (long)n * V;
        const float *p = probs + (long)n * V;
        for (int v = 0; v < V; v++) d[v] += scale * (p[v] - smoothing / V);
        d[targets[n]] -= scale * (1.0f - smoothing);
    }
}

float nll_forward(float *losses, int *counted, const float *log_probs, const int *targets, int N, int V,
                  int ignore_index) {
    double total = 0.0;
    int count = 0;
    for (int n = 0; n < N; n++) {
        losses[n] = targets[n] == ignore_index ? 0.0f : -log_probs[(long)n * V + targets[n]];
        if (targets[n] != ignore_index) total += losses[n], count++;
    }
    *counted = count;
    return count ? (float)(total / count) : NAN;
}

void nll_backward(float *d_log_probs, const int *targets, float scale, int N, int V, int ignore_index) {
    for (int n = 0; n < N; n++)
        if (targets[n] != ignore_index) d_log_probs[(long)n * V + targets[n]] -= scale;
}

float mse_forward(float *losses, const float *x, const float *y, long n) {
    double total = 0.0;
    for (long i = 0; i < n; i++) {
        float e = x[i] - y[i];
        losses[i] = e * e;
        total += losses[i];
    }
    return n ? (float)(total / n) : NAN;
}

void mse_backward(float *d_x, float *d_y, const float *x, const float *y, float scale, long n) {
    for (long i = 0; i < n; i++) {
        float g = 2.0f * scale * (x[i] - y[i]);
        if (d_x) d_x[i] += g;
        if (d_y) d_y[i] -= g;
    }
}

float bce_with_logits_forward(float *losses, const float *x, const float *y, long n) {
    double total = 0.0;
    for (long i = 0; i < n; i++) {
        losses[i] = fmaxf(x[i], 0.0f) - x[i] * y[i] + log1pf(expf(-fabsf(x[i])));
        total += losses[i];
    }
    return n ? (float)(total / n) : NAN;
}

void bce_with_logits_backward(float *d_x, float *d_y, const float *x, const float *y, float scale, long n) {
    for (long i = 0; i < n; i++) {
        if (d_x) d_x[i] += scale * (1.0f / (1.0f + expf(-x[i])) - y[i]);
        if (d_y) d_y[i] -= scale * x[i];
    }
}
