// The claim of `groundup explore lottery-ticket` (explore/generalisation.h, Frankle and Carbin
// 2018) on a 784-64-10 MLP and 600 MNIST images: magnitude pruning removes exactly the smallest
// remaining weights, and a ticket rewound to its initialisation trains to a better accuracy than
// the same mask re-initialised at random; the one-line errors.
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

static void pruning_removes_the_smallest_remaining(void) {
    float w[8] = {0.9f, -0.1f, 0.5f, 0.05f, -0.7f, 0.2f, 0.0f, -0.3f};
    float mask[8] = {1, 1, 1, 1, 1, 1, 0, 1};  // index 6 pruned already
    long removed = prune_smallest(w, mask, 8, 0.5);
    CHECK(removed == 4, "7 alive, half rounds to 4, not %ld", removed);  // lround(3.5) = 4
    const float expected[8] = {1, 0, 1, 0, 1, 0, 0, 0};
    for (int i = 0; i < 8; i++) CHECK(mask[i] == expected[i], "mask[%d] = %g", i, mask[i]);
    CHECK(prune_smallest(w, mask, 8, 0.1) == 0, "10%% of 3 rounds to nothing");
}

// Pruned to 12.9% and rewound, the ticket trains to a far better accuracy than the same mask
// re-initialised at random, and nearly the dense network's (measured: 72.8%, 45.2%, dense 74.0%).
static void lottery_tickets_beat_random_reinitialisation(void) {
    MnistMlpSetup setup = small_setup();
    setup.n_train = 600;
    LotteryResult *r = malloc(sizeof *r);
    Error error;
    REQUIRE(r, "out of memory");
    REQUIRE(explore_lottery_ticket(&setup, 3, 0.5, r, &error) == 0, "%s", error.message);
    const LotteryRound *last = &r->round[3];
    CHECK(r->round[0].remaining == 1.0, "round 0 is dense");
    // each round keeps half the hidden layer's weights and 3/4 of the output layer's
    double expected = (784.0 * 64 * pow(0.5, 3) + 640.0 * pow(0.75, 3)) / (784.0 * 64 + 640.0);
    CHECK(fabs(last->remaining - expected) < 1e-3, "%g remaining, expected %g", last->remaining, expected);
    CHECK(last->ticket_accuracy > last->random_accuracy + 0.1, "ticket %g, random %g", last->ticket_accuracy,
          last->random_accuracy);
    CHECK(last->ticket_accuracy > r->round[0].ticket_accuracy - 0.05, "ticket %g, dense %g", last->ticket_accuracy,
          r->round[0].ticket_accuracy);
    CHECK(explore_lottery_ticket(&setup, 0, 0.5, r, &error) == -1 && strstr(error.message, "rounds"), "0 rounds");
    CHECK(explore_lottery_ticket(&setup, 2, 1.0, r, &error) == -1 && strstr(error.message, "rate"), "rate 1");
    free(r);
}

static const CheckCase CASES[] = {
    {"pruning removes the smallest remaining", pruning_removes_the_smallest_remaining},
    {"lottery tickets beat random reinitialisation", lottery_tickets_beat_random_reinitialisation},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
