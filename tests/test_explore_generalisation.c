// The claim of `groundup explore l1-l2` (explore/generalisation.h) at a small size: the
// soft-threshold exactly, then L1 against L2 on a 784-64-10 MLP trained on 2,000 MNIST images;
// the setup's one-line errors. tests/test_early_stopping.c and tests/test_lottery_ticket.c
// check the other experiments (one executable each, so each stays fast under the sanitizers).
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

static void soft_threshold_is_the_proximal_step(void) {
    float w[6] = {0.5f, -0.5f, 0.05f, -0.1f, 0.0f, 0.1f};
    soft_threshold(w, 6, 0.1f);
    const float expected[6] = {0.4f, -0.4f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < 6; i++) CHECK(fabsf(w[i] - expected[i]) < 1e-7f, "w[%d] = %g, not %g", i, w[i], expected[i]);
    CHECK(w[3] == 0.0f && !signbit(w[3]) && w[2] == 0.0f, "zeros are exact +0");
    float same[2] = {0.3f, -0.2f};
    soft_threshold(same, 2, 0.0f);
    CHECK(same[0] == 0.3f && same[1] == -0.2f, "a threshold of 0 changes nothing");
}

// L1 by proximal steps zeroes a fifth or more of the weights at an accuracy within 1.5 points
// of L2's best (measured: 31% at λ = 1e-3, 86.0% against 87.2%); L2 leaves no weight exactly zero.
static void l1_gives_exact_zeros_at_l2s_accuracy(void) {
    MnistMlpSetup setup = small_setup();
    setup.n_train = 2000;
    const double coefficients[2] = {1e-3, 2e-3};  // 5 trainings: 0.2 s, ~12 s of CPU under the sanitizers
    L1L2Result *r = malloc(sizeof *r);
    Error error;
    REQUIRE(r, "out of memory");
    REQUIRE(explore_l1_l2(&setup, coefficients, 2, 0.015, r, &error) == 0, "%s", error.message);
    CHECK(r->n_weights == 784 * 64 + 64 * 10, "%ld weights", r->n_weights);
    CHECK(r->baseline.test_accuracy > 0.8, "baseline accuracy %g", r->baseline.test_accuracy);
    REQUIRE(r->comparable_l1 >= 0, "no L1 run within 1.5 points of L2's best %g", r->l2[r->comparable_l2].test_accuracy);
    const PenaltyRun *l1 = &r->l1[r->comparable_l1], *l2 = &r->l2[r->comparable_l2];
    CHECK(l1->zero_fraction > 0.2, "L1 at %g: %g exact zeros", l1->coefficient, l1->zero_fraction);
    for (int i = 0; i < 2; i++) CHECK(r->l2[i].zero_fraction < 1e-4, "L2 at %g: %g zeros", coefficients[i], r->l2[i].zero_fraction);
    CHECK(l1->zero_fraction > 100 * l2->zero_fraction, "L1 %g against L2 %g", l1->zero_fraction, l2->zero_fraction);
    // the zeros grow with λ, and both penalties shrink the weights
    CHECK(r->l1[1].zero_fraction > r->l1[0].zero_fraction, "L1 zeros %g %g", r->l1[0].zero_fraction,
          r->l1[1].zero_fraction);
    CHECK(r->l2[1].mean_absolute < r->baseline.mean_absolute, "L2 mean |w| %g", r->l2[1].mean_absolute);
    long total = 0;
    for (int b = 0; b < L1L2_BINS; b++) total += l1->histogram[b];
    CHECK(total == r->n_weights, "the histogram holds %ld", total);
    double negative = -1e-4;
    CHECK(explore_l1_l2(&setup, &negative, 1, 0.01, r, &error) == -1 && strstr(error.message, "coefficient"),
          "a negative coefficient: %s", error.message);
    CHECK(explore_l1_l2(&setup, coefficients, 0, 0.01, r, &error) == -1, "no coefficients");
    free(r);
}

static void bad_setups_are_refused(void) {
    Error error;
    MnistMlpSetup setup = small_setup();
    setup.lr = -0.1f;
    CHECK(mnist_mlp_check_setup(&setup, &error) == -1 && strstr(error.message, "learning rate"), "%s", error.message);
    setup = small_setup(), setup.n_train = 70000;
    CHECK(mnist_mlp_check_setup(&setup, &error) == -1 && strstr(error.message, "60000"), "%s", error.message);
    setup = small_setup(), setup.epochs = 0;
    CHECK(mnist_mlp_check_setup(&setup, &error) == -1 && strstr(error.message, "epochs"), "%s", error.message);
    setup = small_setup(), setup.data = "/nonexistent";
    L1L2Result *r = malloc(sizeof *r);
    REQUIRE(r, "out of memory");
    const double lambda = 1e-4;
    CHECK(explore_l1_l2(&setup, &lambda, 1, 0.01, r, &error) == -1 && strstr(error.message, "/nonexistent"), "%s",
          error.message);
    free(r);
}

static const CheckCase CASES[] = {
    {"soft threshold is the proximal step", soft_threshold_is_the_proximal_step},
    {"l1 gives exact zeros at l2's accuracy", l1_gives_exact_zeros_at_l2s_accuracy},
    {"bad setups are refused", bad_setups_are_refused},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
