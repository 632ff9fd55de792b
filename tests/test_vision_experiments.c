// Tests for the experiments' models and measurements (models/small_cnn, models/deep_conv,
// models/vision_experiments), at tiny sizes:
// - gradient flow at initialisation of a 20-layer, 8-channel network on random 12×12 images: the
//   ratio ‖∂L/∂z_1‖ / ‖∂L/∂z_19‖ vanishes for N(0, 0.01²) (theory: (9·8·10⁻⁴/2)^(17/2) ≈ 10⁻²¹),
//   is ~0.707¹⁷ ≈ 3·10⁻³ for Xavier, ~1 for He, explodes for 2× He (~2¹⁷), and stays ~1 with
//   residual connections even at N(0, 0.01²); the weight gradients' ratio stays near 1 in the
//   plain networks; and the recorded norms equal a direct full-batch computation;
// - normalisation: after one epoch of SGD with momentum at lr 0.05 on 600 MNIST images, every
//   normalised network beats the unnormalised one on the test images by more than 20 points;
//   the parameters each variant registers;
// - dropout: on 200 images the network with dropout fits the training set less (higher training
//   loss in evaluation mode); the curves hold every epoch.
#include <math.h>
#include <string.h>

#include "models/small_cnn.h"
#include "models/vision_experiments.h"
#include "nn/ops.h"
#include "tests/check.h"

static int random_set(LabelledSet *set, int count, int side) {
    Random rng;
    random_seed(&rng, 42);
    float *x = malloc(sizeof(float) * (size_t)count * side * side);
    int *y = malloc(sizeof(int) * (size_t)count);
    for (long i = 0; x && i < (long)count * side * side; i++) x[i] = random_uniform(&rng);
    for (int i = 0; y && i < count; i++) y[i] = (int)random_below(&rng, 10);
    Error error;
    int status = x && y ? labelled_set_create(set, x, y, count, 3, (const int[]){1, side, side}, 10, &error) : -1;
    free(x);
    free(y);
    return status;
}

static float ratio_at_init(const DeepConvConfig *config, const LabelledSet *set, float *weight_ratio) {
    GradientFlowSetup setup = {0, set->count, 0.01f, 0.9f, 1, 3};
    static GradientFlow flow;
    Error error;
    if (gradient_flow_run(config, 5, set, &setup, &flow, &error)) {
        CHECK(0, "%s", error.message);
        return NAN;
    }
    CHECK(flow.n_records == 1 && flow.step[0] == 0, "%d records", flow.n_records);
    *weight_ratio = flow.weight_grad[0][0] / flow.weight_grad[0][18];
    return flow.output_grad[0][0] / flow.output_grad[0][18];
}

static void gradient_flow_at_initialisation(void) {
    LabelledSet set;
    REQUIRE(random_set(&set, 16, 12) == 0, "random set");
    float he_std = sqrtf(2.0f / 72.0f), w = 0.0f;
    const struct {
        int residual;
        InitKind init;
        float std, low, high;
        const char *name;
    } cases[] = {{0, INIT_NORMAL, 0.01f, 0.0f, 1e-15f, "plain N(0, 0.01)"},
                 {0, INIT_XAVIER, 0, 1e-4f, 0.05f, "plain Xavier"},
                 {0, INIT_HE, 0, 0.1f, 10.0f, "plain He"},
                 {0, INIT_NORMAL, 2.0f * he_std, 1e3f, 1e12f, "plain 2x He"},
                 {1, INIT_NORMAL, 0.01f, 0.05f, 20.0f, "residual N(0, 0.01)"}};
    for (int c = 0; c < 5; c++) {
        DeepConvConfig config = {1, 8, 10, 20, cases[c].residual, cases[c].init, cases[c].std};
        float ratio = ratio_at_init(&config, &set, &w);
        CHECK(ratio >= cases[c].low && ratio <= cases[c].high, "%s: ratio %g outside [%g, %g]", cases[c].name, ratio,
              cases[c].low, cases[c].high);
        if (!cases[c].residual) CHECK(w > 0.1f && w < 10.0f, "%s: weight-gradient ratio %g", cases[c].name, w);
    }
    labelled_set_free(&set);
}

// The recorded norms against one forward and backward of the whole set by hand.
static void recorded_norms_are_the_gradients(void) {
    LabelledSet set;
    REQUIRE(random_set(&set, 12, 8) == 0, "random set");
    DeepConvConfig config = {1, 3, 10, 6, 1, INIT_HE, 0};
    GradientFlowSetup setup = {0, 12, 0.01f, 0.9f, 1, 3};
    static GradientFlow flow;
    Error error;
    REQUIRE(gradient_flow_run(&config, 9, &set, &setup, &flow, &error) == 0, "%s", error.message);
    Random rng;
    random_seed(&rng, 9);
    DeepConv model;
    REQUIRE(deep_conv_create(&model, &config, &rng, &error) == 0, "%s", error.message);
    Tape tape;
    tape_init(&tape);
    Tensor *z[DEEP_CONV_MAX_LAYERS];
    Tensor *x = tensor_from(&tape, set.inputs, 4, (const int[]){12, 1, 8, 8});
    Tensor *loss = nn_cross_entropy(&tape, deep_conv_forward(&tape, &model, x, z), set.labels, NN_NO_IGNORE, 0.0f);
    REQUIRE(loss && tape_backward(&tape, loss, &error) == 0, "backward");
    CHECK(fabsf(loss->data[0] - flow.loss[0]) < 1e-5f, "loss %g, recorded %g", loss->data[0], flow.loss[0]);
    for (int l = 0; l < config.layers; l++) {
        double zz = 0, ww = 0;
        for (long i = 0; i < z[l]->size; i++) zz += (double)z[l]->grad[i] * z[l]->grad[i];
        const Tensor *weight = deep_conv_weight(&model, l);
        for (long i = 0; i < weight->size; i++) ww += (double)weight->grad[i] * weight->grad[i];
        CHECK(fabs(sqrt(zz) - flow.output_grad[0][l]) <= 1e-4 * sqrt(zz), "layer %d: ||dL/dz|| %g, recorded %g", l + 1,
              sqrt(zz), flow.output_grad[0][l]);
        CHECK(fabs(sqrt(ww) - flow.weight_grad[0][l]) <= 1e-4 * sqrt(ww), "layer %d: ||dL/dW|| %g, recorded %g", l + 1,
              sqrt(ww), flow.weight_grad[0][l]);
    }
    tape_free(&tape);
    deep_conv_free(&model);
    labelled_set_free(&set);
}

static int train_small(const SmallCnnConfig *config, const LabelledSet *train, const LabelledSet *test,
                       const TrainerConfig *t, TrainingCurves *curves) {
    Random rng;
    random_seed(&rng, 1);
    SmallCnn model;
    Error error;
    if (small_cnn_create(&model, config, &rng, &error)) {
        CHECK(0, "%s", error.message);
        return -1;
    }
    Classifier classifier = small_cnn_as_classifier(&model);
    int status = train_with_curves(&classifier, train, test, t, curves, &error);
    CHECK(status == 0, "%s", error.message);
    small_cnn_free(&model);
    return status;
}

static void normalisation_helps(void) {
    LabelledSet train, test;
    Error error;
    REQUIRE(mnist_subset("data/mnist", "train", 600, &train, &error) == 0, "%s", error.message);
    REQUIRE(mnist_subset("data/mnist", "test", 200, &test, &error) == 0, "%s", error.message);
    TrainerConfig t = {0};
    t.epochs = 1, t.batch_size = 32, t.lr = 0.05f, t.optimizer = OPTIMIZER_MOMENTUM, t.seed = 1;
    static TrainingCurves curves[NORM_KIND_COUNT];
    for (int k = 0; k < NORM_KIND_COUNT; k++) {
        SmallCnnConfig config = {1, 28, 4, 8, 32, 10, (NormKind)k, 2, 0.0f};
        if (train_small(&config, &train, &test, &t, &curves[k])) break;
        CHECK(curves[k].n_epochs == 1, "%s: %d epochs recorded", norm_kind_name((NormKind)k), curves[k].n_epochs);
    }
    for (int k = 1; k < NORM_KIND_COUNT; k++)
        CHECK(curves[k].test_accuracy[0] > curves[0].test_accuracy[0] + 0.2f, "%s norm: test accuracy %.3f, none %.3f",
              norm_kind_name((NormKind)k), curves[k].test_accuracy[0], curves[0].test_accuracy[0]);
    // What each variant registers: conv biases only without normalisation; batch norm's buffers.
    const char *names[NORM_KIND_COUNT][2] = {{"conv1.bias", "norm1.weight"}, {"norm2.running_var", "conv1.bias"},
                                             {"norm1.weight", "norm1.running_mean"}, {"norm2.bias", "conv2.bias"}};
    for (int k = 0; k < NORM_KIND_COUNT; k++) {
        Random rng;
        random_seed(&rng, 1);
        SmallCnn model;
        SmallCnnConfig config = {1, 28, 4, 8, 32, 10, (NormKind)k, 2, 0.0f};
        REQUIRE(small_cnn_create(&model, &config, &rng, &error) == 0, "%s", error.message);
        CHECK(parameters_find(&model.params, names[k][0]) != NULL, "%s: no %s", norm_kind_name((NormKind)k), names[k][0]);
        CHECK(parameters_find(&model.params, names[k][1]) == NULL, "%s: a %s", norm_kind_name((NormKind)k), names[k][1]);
        small_cnn_free(&model);
    }
    SmallCnn model;
    Random rng;
    random_seed(&rng, 1);
    SmallCnnConfig bad = {1, 28, 4, 6, 32, 10, NORM_GROUP, 4, 0.0f};
    CHECK(small_cnn_create(&model, &bad, &rng, &error) != 0, "4 groups of 6 channels accepted");
    labelled_set_free(&train);
    labelled_set_free(&test);
}

static void dropout_fits_less(void) {
    LabelledSet train, test;
    Error error;
    REQUIRE(mnist_subset("data/mnist", "train", 200, &train, &error) == 0, "%s", error.message);
    REQUIRE(mnist_subset("data/mnist", "test", 100, &test, &error) == 0, "%s", error.message);
    TrainerConfig t = {0};
    t.epochs = 5, t.batch_size = 32, t.lr = 4e-3f, t.optimizer = OPTIMIZER_ADAM, t.seed = 1;
    static TrainingCurves curves[2];
    for (int k = 0; k < 2; k++) {
        SmallCnnConfig config = {1, 28, 4, 8, 64, 10, NORM_NONE, 1, k ? 0.5f : 0.0f};
        if (train_small(&config, &train, &test, &t, &curves[k])) break;
        CHECK(curves[k].n_epochs == 5, "%d epochs recorded", curves[k].n_epochs);
        for (int e = 0; e < curves[k].n_epochs; e++)
            CHECK(curves[k].train_accuracy[e] >= 0 && curves[k].train_accuracy[e] <= 1 && isfinite(curves[k].test_loss[e]),
                  "epoch %d: accuracy %g, test loss %g", e + 1, curves[k].train_accuracy[e], curves[k].test_loss[e]);
    }
    CHECK(curves[1].train_loss[4] > curves[0].train_loss[4] * 1.1f, "training loss with dropout %g, without %g",
          curves[1].train_loss[4], curves[0].train_loss[4]);
    labelled_set_free(&train);
    labelled_set_free(&test);
}

static const CheckCase CASES[] = {
    {"gradient flow at initialisation", gradient_flow_at_initialisation},
    {"recorded norms are the gradients", recorded_norms_are_the_gradients},
    {"normalisation helps", normalisation_helps},
    {"dropout fits less", dropout_fits_less},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
