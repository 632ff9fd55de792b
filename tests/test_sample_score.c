// The classifier-based sample score (models/sample_score.h), with a classifier whose
// probabilities are known exactly: it reads the class k from an image's first pixel (k/10) and
// gives logit 5 to k and 0 to the others, so every confidence is e⁵/(e⁵ + 9). The histogram's
// entropy in bits: uniform over 10 classes log₂ 10, one class 0, two equal classes 1.
#include <math.h>
#include <string.h>

#include "models/sample_score.h"
#include "nn/ops.h"
#include "tests/check.h"

enum { SIDE = 4, CLASSES = 10 };

// logits (B, 10): 5 at class round(10·x[0]), 0 elsewhere.
static Tensor *pixel_classifier(void *model, Tape *tape, Tensor *inputs, int training) {
    (void)model, (void)training;
    if (!inputs) return NULL;
    if (inputs->n_dims != 4 || inputs->shape[2] != SIDE) return tape_fail(tape, "pixel classifier: takes (B,1,4,4)");
    int B = inputs->shape[0];
    Tensor *logits = tensor_zeros(tape, 2, (int[]){B, CLASSES});
    for (int b = 0; logits && b < B; b++) {
        int k = (int)lroundf(10.0f * inputs->data[(long)b * SIDE * SIDE]);
        logits->data[b * CLASSES + (k < 0 ? 0 : k > 9 ? 9 : k)] = 5.0f;
    }
    return logits;
}

static void entropy_of_histograms(void) {
    int uniform[CLASSES], one[CLASSES] = {0}, two[CLASSES] = {0};
    for (int k = 0; k < CLASSES; k++) uniform[k] = 7;
    one[3] = 50, two[1] = 20, two[8] = 20;
    CHECK_NEAR(class_histogram_entropy_bits(uniform, CLASSES), log2(10.0), 1e-12);
    CHECK_NEAR(class_histogram_entropy_bits(one, CLASSES), 0.0, 1e-12);
    CHECK_NEAR(class_histogram_entropy_bits(two, CLASSES), 1.0, 1e-12);
}

static void scores_known_probabilities(void) {
    enum { N = 1200 };  // more than one batch of 500
    static float images[N * SIDE * SIDE];
    memset(images, 0, sizeof images);
    for (int i = 0; i < N; i++) images[i * SIDE * SIDE] = (i % 4 == 0) ? 0.2f : (float)(i % 10) / 10.0f;
    Classifier classifier = {NULL, NULL, CLASSES, pixel_classifier};
    SampleScore score;
    Error error;
    REQUIRE(sample_score(&classifier, images, N, 1, SIDE, SIDE, &score, &error) == 0, "%s", error.message);
    CHECK(score.count == N && score.n_classes == CLASSES, "%d images, %d classes", score.count, score.n_classes);
    CHECK_NEAR(score.mean_confidence, exp(5.0) / (exp(5.0) + 9.0), 1e-6);
    int counts[CLASSES] = {0}, total = 0;
    for (int i = 0; i < N; i++) counts[i % 4 == 0 ? 2 : i % 10]++;
    for (int k = 0; k < CLASSES; k++) {
        CHECK(score.class_counts[k] == counts[k], "class %d: %d, expected %d", k, score.class_counts[k], counts[k]);
        total += score.class_counts[k];
    }
    CHECK(total == N, "%d counted", total);
    CHECK_NEAR(score.class_entropy_bits, class_histogram_entropy_bits(counts, CLASSES), 1e-12);
    CHECK(score.class_entropy_bits > 2.5 && score.class_entropy_bits < log2(10.0), "%g bits", score.class_entropy_bits);
    // errors: no images, images the classifier does not take
    CHECK(sample_score(&classifier, images, 0, 1, SIDE, SIDE, &score, &error) != 0 && strstr(error.message, "0 images"),
          "%s", error.message);
    CHECK(sample_score(&classifier, images, 4, 1, 2, 8, &score, &error) != 0 && strstr(error.message, "takes"), "%s",
          error.message);
}

static const CheckCase CASES[] = {
    {"entropy of histograms", entropy_of_histograms},
    {"scores known probabilities", scores_known_probabilities},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
