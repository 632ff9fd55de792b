// The claims of `groundup explore early-stopping` and `groundup explore dropout-ensemble`
// (explore/generalisation.h) on a 784-64-10 MLP and small MNIST subsets: label noise redraws
// what it says, stopping early keeps a better checkpoint than the last epoch when the labels are
// noisy, and averaging dropout masks approaches weight scaling; the one-line errors.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore/generalisation.h"
#include "tests/check.h"

// The small network every case trains: seconds even under the sanitizers.
static MnistMlpSetup small_setup(void) {
    MnistMlpSetup setup = mnist_mlp_default_setup();
    setup.n_train = 1000, setup.n_test = 500, setup.hidden[0] = 64, setup.hidden[1] = 0, setup.epochs = 5;
    return setup;
}

static void label_noise_redraws_the_asked_fraction(void) {
    enum { N = 4000 };
    float *inputs = calloc(N, sizeof *inputs);
    int *labels = malloc(N * sizeof *labels);
    REQUIRE(inputs && labels, "out of memory");
    for (int i = 0; i < N; i++) labels[i] = i % 10;
    LabelledSet set;
    Error error;
    REQUIRE(labelled_set_create(&set, inputs, labels, N, 1, (int[]){1}, 10, &error) == 0, "%s", error.message);
    Random rng;
    random_seed(&rng, 5);
    CHECK(randomise_labels(&set, 0.0, &rng) == 0, "q = 0 changes labels");
    int changed = randomise_labels(&set, 0.5, &rng), differ = 0;
    for (int i = 0; i < N; i++) differ += set.labels[i] != i % 10;
    CHECK(changed == differ, "%d reported, %d differ", changed, differ);
    // each label redrawn with probability 0.5 lands on another class with probability 0.9
    CHECK(fabs(changed / (double)N - 0.45) < 0.03, "%d of %d changed", changed, N);
    labelled_set_free(&set);
    free(inputs), free(labels);
}

// With 20% of the labels redrawn the network memorises them late: the checkpoint of the lowest
// validation loss tests better than the last epoch.
static void early_stopping_keeps_the_better_checkpoint(void) {
    MnistMlpSetup setup = small_setup();
    setup.n_train = 500, setup.epochs = 60, setup.n_test = 300;  // measured: kept 78.3%, last 71.7%
    EarlyStoppingResult *r = malloc(sizeof *r);
    Error error;
    REQUIRE(r, "out of memory");
    REQUIRE(explore_early_stopping(&setup, 200, 4, 0.2, r, &error) == 0, "%s", error.message);
    const StoppingRule *rule = &r->rules[0];
    CHECK(rule->stop_epoch < setup.epochs, "never stopped");
    CHECK(rule->kept_epoch <= rule->stop_epoch - r->patience, "kept %d, stopped %d", rule->kept_epoch, rule->stop_epoch);
    CHECK(r->validation_loss[setup.epochs - 1] > r->validation_loss[rule->kept_epoch - 1], "the validation loss did not rise");
    CHECK(rule->kept_test_accuracy > r->last_test_accuracy + 0.03, "kept %g, last %g", rule->kept_test_accuracy,
          r->last_test_accuracy);
    CHECK(rule->kept_test_loss < r->last_test_loss, "kept loss %g, last %g", rule->kept_test_loss, r->last_test_loss);
    // the kept weights are the ones evaluated at that epoch
    CHECK(fabs(rule->kept_test_accuracy - r->test_accuracy[rule->kept_epoch - 1]) < 1e-12, "kept weights differ");
    CHECK(explore_early_stopping(&setup, 300, 0, 0.2, r, &error) == -1 && strstr(error.message, "patience"),
          "patience 0: %s", error.message);
    CHECK(explore_early_stopping(&setup, 300, 3, 1.5, r, &error) == -1 && strstr(error.message, "label noise"),
          "noise 1.5: %s", error.message);
    free(r);
}

// One mask is a worse predictor than weight scaling; averaging masks closes the gap (measured:
// weight scaling 79.0%, one mask 70.6%, 30 masks 78.4%).
static void dropout_masks_average_to_weight_scaling(void) {
    MnistMlpSetup setup = small_setup();
    DropoutEnsembleResult *r = malloc(sizeof *r);
    Error error;
    REQUIRE(r, "out of memory");
    REQUIRE(explore_dropout_ensemble(&setup, 0.5f, 30, r, &error) == 0, "%s", error.message);
    double ws = r->weight_scaling_accuracy, one = r->mc_accuracy[0], many = r->mc_accuracy[29];
    CHECK(one < ws - 0.01, "one mask %g, weight scaling %g", one, ws);
    CHECK(r->single_mask_accuracy < ws - 0.01, "mean single mask %g", r->single_mask_accuracy);
    CHECK(many > one + 0.01, "30 masks %g, one %g", many, one);
    CHECK(fabs(many - ws) < 0.015, "30 masks %g against weight scaling %g", many, ws);
    CHECK(explore_dropout_ensemble(&setup, 0.5f, 0, r, &error) == -1 && strstr(error.message, "masks"), "k = 0: %s",
          error.message);
    CHECK(explore_dropout_ensemble(&setup, 1.0f, 5, r, &error) == -1 && strstr(error.message, "dropout"), "p = 1: %s",
          error.message);
    free(r);
}

static const CheckCase CASES[] = {
    {"label noise redraws the asked fraction", label_noise_redraws_the_asked_fraction},
    {"early stopping keeps the better checkpoint", early_stopping_keeps_the_better_checkpoint},
    {"dropout masks average to weight scaling", dropout_masks_average_to_weight_scaling},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
