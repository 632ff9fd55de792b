// Tests for models/inspect.h: the saliency's gradient ∂S_c/∂x equals central finite
// differences of the class score on a few pixels (a smooth LeNet-5 — tanh and average pooling —
// with 3 input channels, and a small ResNet in evaluation mode), the saliency is the maximum of
// |gradient| over channels, the feature maps are every convolution's output under its
// state_dict name in the order computed, the model's gradients are left at zero, and a model
// without convolutions or an image of the wrong size is an error.
#include <math.h>
#include <string.h>

#include "models/inspect.h"
#include "models/lenet5.h"
#include "models/mlp.h"
#include "models/resnet.h"
#include "tests/check.h"

// Central differences (S_c(x + h e_i) − S_c(x − h e_i)) / 2h on n_pixels spread over the image
// and every channel, against the inspection's gradient; tolerance relative to the largest |∂S/∂x|.
static void check_against_finite_differences(const Classifier *classifier, float *x, const Inspection *ins, float h,
                                             float relative) {
    long plane = (long)ins->height * ins->width, n = plane * ins->channels;
    float largest = 0.0f;
    for (long i = 0; i < n; i++) largest = fmaxf(largest, fabsf(ins->gradient[i]));
    CHECK(largest > 0.0f, "the gradient is zero everywhere");
    Error error;
    for (int t = 0; t < 12; t++) {
        long i = (t * 7919L + 13) % n;  // spread over channels and pixels
        float saved = x[i], up, down;
        x[i] = saved + h;
        REQUIRE(classifier_class_score(classifier, x, ins->channels, ins->height, ins->width, ins->target, &up, &error) == 0,
                "%s", error.message);
        x[i] = saved - h;
        REQUIRE(classifier_class_score(classifier, x, ins->channels, ins->height, ins->width, ins->target, &down, &error) == 0,
                "%s", error.message);
        x[i] = saved;
        double estimate = ((double)up - down) / (2.0 * h);
        CHECK(fabs(estimate - ins->gradient[i]) <= relative * largest, "x[%ld]: gradient %g, finite differences %g (largest %g)",
              i, ins->gradient[i], estimate, largest);
    }
    for (long p = 0; p < plane; p++) {
        float m = 0.0f;
        for (int c = 0; c < ins->channels; c++) m = fmaxf(m, fabsf(ins->gradient[c * plane + p]));
        if (ins->saliency[p] != m) {
            CHECK(0, "saliency at %ld: %g, max |gradient| over channels %g", p, ins->saliency[p], m);
            break;
        }
    }
}

static float *random_image(int n, unsigned long long seed) {
    Random rng;
    random_seed(&rng, seed);
    float *x = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; x && i < n; i++) x[i] = random_uniform(&rng);
    return x;
}

static int all_zero_grads(const Parameters *params) {
    for (int i = 0; i < params->count; i++) {
        const Tensor *t = params->entries[i].tensor;
        for (long j = 0; t->grad && j < t->size; j++)
            if (t->grad[j] != 0.0f) return 0;
    }
    return 1;
}

static void lenet5_saliency_is_the_gradient(void) {
    Lenet5Config config = lenet5_default_config();
    config.in_channels = 3, config.original = 1;  // tanh and averages: smooth, finite differences are exact to O(h²)
    Random rng;
    random_seed(&rng, 3);
    Lenet5 model;
    Error error;
    REQUIRE(lenet5_create(&model, &config, &rng, &error) == 0, "%s", error.message);
    Classifier classifier = lenet5_as_classifier(&model);
    float *x = random_image(3 * 28 * 28, 5);
    REQUIRE(x != NULL, "out of memory");
    Inspection ins;
    if (classifier_inspect(&classifier, x, 3, 28, 28, -1, &ins, &error) == 0) {
        CHECK(ins.n_layers == 2, "%d convolution layers, expected 2", ins.n_layers);
        CHECK(strcmp(ins.layers[0].name, "conv1") == 0 && strcmp(ins.layers[1].name, "conv2") == 0, "names %s %s",
              ins.layers[0].name, ins.layers[1].name);
        CHECK(ins.layers[0].channels == 6 && ins.layers[0].height == 28 && ins.layers[1].channels == 16 &&
                  ins.layers[1].height == 10 && ins.layers[1].width == 10,
              "shapes %dx%dx%d and %dx%dx%d", ins.layers[0].channels, ins.layers[0].height, ins.layers[0].width,
              ins.layers[1].channels, ins.layers[1].height, ins.layers[1].width);
        CHECK(ins.first_weight == model.conv1.weight, "the first weight is not conv1.weight");
        int best = 0;
        for (int k = 1; k < 10; k++) best = ins.logits[k] > ins.logits[best] ? k : best;
        CHECK(ins.predicted == best && ins.target == best, "predicted %d target %d, argmax %d", ins.predicted, ins.target, best);
        CHECK(all_zero_grads(&model.params), "the model's gradients are not left at zero");
        check_against_finite_differences(&classifier, x, &ins, 1e-2f, 2e-3f);
        inspection_free(&ins);
    } else {
        CHECK(0, "%s", error.message);
    }
    // Another class's score; its gradient differs from the predicted one's.
    if (classifier_inspect(&classifier, x, 3, 28, 28, 7, &ins, &error) == 0) {
        CHECK(ins.target == 7, "target %d", ins.target);
        check_against_finite_differences(&classifier, x, &ins, 1e-2f, 2e-3f);
        inspection_free(&ins);
    } else {
        CHECK(0, "%s", error.message);
    }
    CHECK(classifier_inspect(&classifier, x, 3, 28, 28, 10, &ins, &error) != 0, "class 10 of 10 accepted");
    CHECK(classifier_inspect(&classifier, x, 1, 28, 28, -1, &ins, &error) != 0 && strstr(error.message, "lenet5") != NULL,
          "an image of 1 channel accepted by a 3-channel model: %s", error.message);
    free(x);
    lenet5_free(&model);
}

static void resnet_layers_and_gradient(void) {
    ResnetConfig config;
    Error error;
    REQUIRE(resnet_config(&config, 1, 4, (const int[]){1, 1}, 2, 10, &error) == 0, "%s", error.message);
    Random rng;
    random_seed(&rng, 11);
    Resnet model;
    REQUIRE(resnet_create(&model, &config, &rng, &error) == 0, "%s", error.message);
    Classifier classifier = resnet_as_classifier(&model);
    float *x = random_image(12 * 12, 2);
    REQUIRE(x != NULL, "out of memory");
    Inspection ins;
    if (classifier_inspect(&classifier, x, 1, 12, 12, -1, &ins, &error) == 0) {
        const char *names[] = {"conv1", "layer1.0.conv1", "layer1.0.conv2", "layer2.0.conv1", "layer2.0.conv2",
                               "layer2.0.downsample.0"};
        CHECK(ins.n_layers == 6, "%d convolution layers, expected 6", ins.n_layers);
        for (int l = 0; l < 6 && l < ins.n_layers; l++)
            CHECK(strcmp(ins.layers[l].name, names[l]) == 0, "layer %d: %s, expected %s", l, ins.layers[l].name, names[l]);
        CHECK(ins.layers[3].height == 6 && ins.layers[3].channels == 8, "layer2.0.conv1 %dx%d", ins.layers[3].channels,
              ins.layers[3].height);
        // Piecewise linear (ReLU) in evaluation mode: small steps rarely cross a kink.
        check_against_finite_differences(&classifier, x, &ins, 1e-3f, 1e-2f);
        inspection_free(&ins);
    } else {
        CHECK(0, "%s", error.message);
    }
    free(x);
    resnet_free(&model);
}

static void a_model_without_convolutions_is_an_error(void) {
    Random rng;
    random_seed(&rng, 1);
    Mlp mlp;
    Error error = {{0}};
    REQUIRE(mlp_classifier_create(&mlp, (const int[]){16, 8, 3}, 3, NULL, &rng, &error) == 0, "%s", error.message);
    Classifier classifier = mlp_as_classifier(&mlp);
    float x[16] = {0};
    Inspection ins;
    CHECK(classifier_inspect(&classifier, x, 1, 4, 4, -1, &ins, &error) != 0 && strstr(error.message, "convolution"),
          "an mlp inspected: %s", error.message);
    mlp_classifier_free(&mlp);
}

static const CheckCase CASES[] = {
    {"lenet5 saliency is the gradient", lenet5_saliency_is_the_gradient},
    {"resnet layers and gradient", resnet_layers_and_gradient},
    {"a model without convolutions is an error", a_model_without_convolutions_is_an_error},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
