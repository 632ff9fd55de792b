// The classifier-based score of generated images: see sample_score.h.
#include "models/sample_score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/information.h"

enum { SCORE_BATCH = 500 };

double class_histogram_entropy_bits(const int *counts, int n_classes) {
    double p[SAMPLE_SCORE_MAX_CLASSES], total = 0.0, nats = 0.0;
    for (int k = 0; k < n_classes; k++) total += counts[k];
    if (total <= 0.0 || n_classes > SAMPLE_SCORE_MAX_CLASSES) return 0.0;
    for (int k = 0; k < n_classes; k++) p[k] = counts[k] / total;
    Error unused;
    if (information_entropy(p, n_classes, &nats, &unused)) return NAN;
    return nats / log(2.0);
}

int sample_score(const Classifier *classifier, const float *images, int n, int channels, int height, int width,
                 SampleScore *score, Error *error) {
    memset(score, 0, sizeof *score);
    int K = classifier->n_classes, shape[3] = {channels, height, width};
    if (n < 1) return error_set(error, "sample score: %d images (at least 1)", n);
    if (K < 1 || K > SAMPLE_SCORE_MAX_CLASSES)
        return error_set(error, "sample score: a classifier of %d classes (1 to %d)", K, SAMPLE_SCORE_MAX_CLASSES);
    long size = (long)channels * height * width;
    float *probs = malloc(sizeof(float) * (size_t)SCORE_BATCH * (size_t)K);
    if (!probs) return error_set(error, "sample score: out of memory");
    double confidence = 0.0;
    int status = 0;
    for (int start = 0; start < n && !status; start += SCORE_BATCH) {
        int b = n - start < SCORE_BATCH ? n - start : SCORE_BATCH;
        status = classifier_predict(classifier, images + start * size, b, 3, shape, probs, error);
        for (int i = 0; i < b && !status; i++) {
            const float *p = probs + (long)i * K;
            int best = 0;
            for (int k = 1; k < K; k++)
                if (p[k] > p[best]) best = k;
            confidence += p[best];
            score->class_counts[best]++;
        }
    }
    free(probs);
    if (status) return -1;
    score->count = n, score->n_classes = K;
    score->mean_confidence = confidence / n;
    score->class_entropy_bits = class_histogram_entropy_bits(score->class_counts, K);
    return 0;
}
