// The numbers behind `groundup explore entropy | mutual-information | divergences |
// information-plane` (explore/information_demos.h), on synthetic texts whose answers are known
// and on the repository's Moby-Dick and names.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore/information_demos.h"
#include "tests/check.h"

// Writes `pattern` repeated to fill n bytes into the test directory; returns the path.
static const char *write_repeated(const char *name, const char *pattern, int n) {
    const char *path = check_path(name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    int length = (int)strlen(pattern);
    for (int i = 0; i < n; i++) fputc(pattern[i % length], f);
    fclose(f);
    return path;
}

// "abab...": one bit per character with no context, zero given the previous one.
static void entropy_of_a_known_text(void) {
    const char *path = write_repeated("abab.txt", "ab", 1000);
    REQUIRE(path, "cannot write the fixture");
    EntropyResult r;
    Error error;
    REQUIRE(explore_entropy(path, 0.2, 1.0, &r, &error) == 0, "%s", error.message);
    CHECK(r.alphabet == 2, "alphabet %d", r.alphabet);
    CHECK_NEAR(r.orders[0].in_sample, 1.0, 1e-12);
    CHECK_NEAR(r.orders[1].in_sample, 0.0, 1e-12);
    CHECK_NEAR(r.orders[1].held_out_entropy, 0.0, 1e-12);
    // 800 counted bytes: "a" then "b" 400 times, "b" then "a" 399; add-1 gives q(b|a) = 401/402 and
    // q(a|b) = 400/401. The 200 held-out bytes give 100 pairs after "a" and 99 after "b".
    CHECK_NEAR(r.orders[1].cross_entropy, (100.0 * log2(402.0 / 401.0) + 99.0 * log2(401.0 / 400.0)) / 199.0, 1e-12);
    CHECK_NEAR(r.orders[1].kl, r.orders[1].cross_entropy, 1e-12);
}

// Moby-Dick: unigram entropy ~4.4 bits per character, bigram-conditional ~3.5, falling with
// context; CE = H + KL to 1e-9 at every order and equal to information.h's dense figures; the
// held-out add-1 bigram reproduces the README's counting bigram (3.467 bits per byte, gpt/bigram).
static void entropy_of_moby_dick(void) {
    EntropyResult r;
    Error error;
    REQUIRE(explore_entropy("data/mobydick.txt", 0.1, 1.0, &r, &error) == 0, "%s", error.message);
    CHECK(r.orders[0].in_sample > 4.0 && r.orders[0].in_sample < 4.8, "unigram %g bits", r.orders[0].in_sample);
    CHECK(r.orders[1].in_sample > 3.0 && r.orders[1].in_sample < 3.8, "bigram %g bits", r.orders[1].in_sample);
    for (int k = 0; k < ENTROPY_ORDERS; k++) {
        const EntropyOrder *o = &r.orders[k];
        CHECK(o->identity_error < 1e-9, "order %d: |CE - (H + KL)| = %g", k, o->identity_error);
        CHECK(o->kl >= 0.0 && o->cross_entropy >= o->held_out_entropy, "order %d: KL %g", k, o->kl);
        if (k > 0) CHECK(o->in_sample < r.orders[k - 1].in_sample, "order %d: in-sample entropy did not fall", k);
        if (k <= 1) CHECK(o->dense_difference < 1e-9, "order %d: information.h differs by %g", k, o->dense_difference);
    }
    CHECK_NEAR(r.orders[1].cross_entropy, 3.467, 0.005);
    // more context overfits the counts: the held-out CE turns up at order 4 while in-sample H keeps falling
    CHECK(r.orders[4].cross_entropy > r.orders[3].cross_entropy, "order 4 CE %g", r.orders[4].cross_entropy);
    CHECK(explore_entropy("/nonexistent/text", 0.1, 1.0, &r, &error) == -1, "missing file");
    CHECK(explore_entropy("data/mobydick.txt", 0.0, 1.0, &r, &error) == -1 && strstr(error.message, "--holdout"), "holdout 0");
    CHECK(explore_entropy("data/mobydick.txt", 0.1, 0.0, &r, &error) == -1 && strstr(error.message, "--smoothing"), "α 0");
}

// "abcabc...": each character determines the one k later, so I = H(X) at every lag: log₂ 3 up
// to the unequal counts of the N - k pairs (H from those counts exactly).
static void mutual_information_of_a_periodic_text(void) {
    const char *path = write_repeated("abc.txt", "abc", 3000);
    REQUIRE(path, "cannot write the fixture");
    MutualInformationResult r;
    Error error;
    REQUIRE(explore_mutual_information(path, 50, 1, &r, &error) == 0, "%s", error.message);
    for (int j = 0; j < r.n_lags; j++) {
        double counts[3] = {0, 0, 0}, h = 0.0, pairs = 3000.0 - r.lags[j];
        for (int i = 0; i < 3000 - r.lags[j]; i++) counts[i % 3] += 1.0;
        for (int c = 0; c < 3; c++) h -= counts[c] / pairs * log2(counts[c] / pairs);
        CHECK_NEAR(r.information[j], h, 1e-12);
        CHECK_NEAR(r.information[j], log2(3.0), 1e-6);
    }
    CHECK(r.lags[r.n_lags - 1] <= 50 && r.lags[0] == 1, "lags %d ... %d", r.lags[0], r.lags[r.n_lags - 1]);
}

// Moby-Dick: I(1) = H(X) - H(X_t | X_t-1); falling over the first lags; the shuffled text at
// the plug-in bias level; bad lags refused.
static void mutual_information_of_moby_dick(void) {
    MutualInformationResult r;
    Error error;
    REQUIRE(explore_mutual_information("data/mobydick.txt", 1000, 1, &r, &error) == 0, "%s", error.message);
    CHECK_NEAR(r.information[0], r.entropy - r.conditional_entropy, 1e-9);
    CHECK(r.information[0] > 0.8 && r.information[0] < 1.2, "I(1) = %g bits", r.information[0]);
    for (int j = 1; j < 8; j++) CHECK(r.information[j] < r.information[j - 1], "I(%d) did not fall", r.lags[j]);
    for (int j = 0; j < r.n_lags; j++) CHECK(r.information[j] > 0.0, "I(%d) = %g", r.lags[j], r.information[j]);
    CHECK(r.shuffled < 2.0 * r.bias_estimate && r.shuffled > 0.2 * r.bias_estimate, "shuffled %g, bias %g", r.shuffled,
          r.bias_estimate);
    CHECK(r.information[r.n_lags - 1] < 0.01, "I(%d) = %g", r.lags[r.n_lags - 1], r.information[r.n_lags - 1]);
    CHECK(explore_mutual_information("data/mobydick.txt", 0, 1, &r, &error) == -1 && strstr(error.message, "--max-lag"), "0");
    CHECK(explore_mutual_information("data/mobydick.txt", 1000000, 1, &r, &error) == -1, "lag beyond a tenth");
}

// names against Moby-Dick: KL ≥ 0 both ways and unequal, JS ≤ ¼(KL(p‖q) + KL(q‖p)) (KL is convex in its
// second argument) and ≤ 1 bit; on all bytes KL(q‖p) is infinite, JS finite; H(p, q) = H(p) + KL(p‖q);
// the plotted terms sum to KL. A text against itself: 0.
static void divergences_of_names_and_moby_dick(void) {
    DivergenceResult r;
    Error error;
    REQUIRE(explore_divergences("data/names.txt", "data/mobydick.txt", &r, &error) == 0, "%s", error.message);
    for (int i = 0; i < 2; i++) {
        const DivergenceRow *row = &r.rows[i];
        CHECK(row->kl_pq > 0.0 && row->kl_qp > 0.0 && row->kl_pq != row->kl_qp, "%s: KL %g, %g", row->alphabet, row->kl_pq,
              row->kl_qp);
        CHECK(row->js > 0.0 && row->js <= 1.0 && row->js <= 0.25 * (row->kl_pq + row->kl_qp), "%s: JS %g", row->alphabet,
              row->js);
        CHECK_NEAR(row->cross_pq, row->entropy_p + row->kl_pq, 1e-12);
    }
    CHECK(r.rows[0].symbols == 26, "%d letters", r.rows[0].symbols);
    CHECK(isinf(r.rows[1].kl_qp) && isfinite(r.rows[1].kl_pq), "all bytes: KL %g, %g", r.rows[1].kl_pq, r.rows[1].kl_qp);
    double sum = 0.0;
    for (int i = 0; i < LETTERS; i++) sum += r.contribution[i];
    CHECK_NEAR(sum, r.rows[0].kl_pq, 1e-12);
    REQUIRE(explore_divergences("data/names.txt", "data/names.txt", &r, &error) == 0, "%s", error.message);
    CHECK(r.rows[1].kl_pq == 0.0 && r.rows[1].kl_qp == 0.0 && fabs(r.rows[1].js) < 1e-15, "a text against itself");
    CHECK(explore_divergences("data/names.txt", "/nonexistent", &r, &error) == -1, "missing file");
}

// binned_information on constructed activations: all rows in one bin carry nothing; all rows
// in different bins carry all of X (log₂ n bits) and all of Y.
static void binned_information_extremes(void) {
    enum { N = 8 };
    float same[N * 2], distinct[N * 2];
    int labels[N] = {0, 1, 0, 1, 1, 1, 0, 0};
    for (int i = 0; i < N; i++) {
        same[2 * i] = 0.1f, same[2 * i + 1] = -0.3f;
        distinct[2 * i] = -0.9f + 0.25f * i, distinct[2 * i + 1] = 0.0f;
    }
    double ixt, ity;
    Error error;
    REQUIRE(binned_information(same, labels, N, 2, 10, &ixt, &ity, &error) == 0, "%s", error.message);
    CHECK_NEAR(ixt, 0.0, 1e-12);
    CHECK_NEAR(ity, 0.0, 1e-12);
    REQUIRE(binned_information(distinct, labels, N, 2, 10, &ixt, &ity, &error) == 0, "%s", error.message);
    CHECK_NEAR(ixt, 3.0, 1e-12);
    CHECK_NEAR(ity, 1.0, 1e-12);  // four of each label: H(Y) = 1 bit
    CHECK(binned_information(same, labels, N, 2, 1, &ixt, &ity, &error) == -1, "1 bin");
}

// The tanh network learns the task; at epoch 0 the first layer keeps nearly all 12 bits of X;
// every estimate within its bounds (I(X;T) <= 12, I(T;Y) <= H(Y)); after fitting, the last
// layer's I(T;Y) reaches H(Y) and its I(X;T) falls more than 2 bits below its peak (compression).
static void information_plane_fits_then_compresses(void) {
    omp_set_num_threads(1);  // layers of 3-12 units: faster on one thread (see tools/cmd_explore_information.c)
    InformationPlaneResult *r = malloc(sizeof *r);
    Error error;
    REQUIRE(r && explore_information_plane(400, 30, 0.003f, 1, r, &error) == 0, "%s", error.message);
    int last = r->n_snapshots - 1, top = PLANE_LAYERS - 1;
    CHECK(r->snapshot_epochs[0] == 0 && r->snapshot_epochs[last] == 400, "snapshots %d ... %d", r->snapshot_epochs[0],
          r->snapshot_epochs[last]);
    CHECK(r->train_accuracy[last] > 0.98 && r->test_accuracy[last] > 0.95, "accuracy %g / %g", r->train_accuracy[last],
          r->test_accuracy[last]);
    CHECK(r->train_loss[last] < 0.5 * r->train_loss[0], "loss %g -> %g", r->train_loss[0], r->train_loss[last]);
    CHECK(r->ixt[0][0] > 11.0, "layer 1 at epoch 0: %g bits", r->ixt[0][0]);
    CHECK(r->label_entropy > 0.9 && r->label_entropy < 1.0, "H(Y) = %g", r->label_entropy);
    double peak = 0.0;
    for (int s = 0; s <= last; s++) {
        for (int l = 0; l < PLANE_LAYERS; l++) {
            CHECK(r->ixt[s][l] <= 12.0 + 1e-9 && r->ixt[s][l] >= 0.0, "I(X;T) = %g", r->ixt[s][l]);
            CHECK(r->ity[s][l] <= r->label_entropy + 1e-9 && r->ity[s][l] >= -1e-12, "I(T;Y) = %g", r->ity[s][l]);
            CHECK(r->ity[s][l] <= r->ixt[s][l] + 1e-9, "I(T;Y) above I(X;T)");
        }
        peak = fmax(peak, r->ixt[s][top]);
    }
    CHECK(r->ity[last][top] > 0.95 * r->label_entropy, "last layer I(T;Y) = %g", r->ity[last][top]);
    CHECK(r->ixt[last][top] < peak - 2.0, "last layer I(X;T) %g, peak %g: no compression", r->ixt[last][top], peak);
    CHECK(explore_information_plane(0, 30, 0.003f, 1, r, &error) == -1 && strstr(error.message, "--epochs"), "0 epochs");
    CHECK(explore_information_plane(10, 30, -1.0f, 1, r, &error) == -1 && strstr(error.message, "--lr"), "lr -1");
    free(r);
}

static const CheckCase CASES[] = {
    {"entropy of a known text", entropy_of_a_known_text},
    {"entropy of moby dick", entropy_of_moby_dick},
    {"mutual information of a periodic text", mutual_information_of_a_periodic_text},
    {"mutual information of moby dick", mutual_information_of_moby_dick},
    {"divergences of names and moby dick", divergences_of_names_and_moby_dick},
    {"binned information extremes", binned_information_extremes},
    {"information plane fits then compresses", information_plane_fits_then_compresses},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
