// Information theory: closed-form values (uniform, disjoint supports), the identities
// (KL ≥ 0, KL(p‖p) = 0, KL = H(p,q) - H(p), JS symmetric and ≤ ln 2, H(X,Y) = H(X) + H(Y|X),
// I = H(X) + H(Y) - H(X,Y), I = 0 for independent variables) on random distributions,
// zero probabilities, and bad input.
#include <math.h>
#include <string.h>

#include "foundations/information.h"
#include "foundations/random.h"
#include "tests/check.h"

static const double LN2 = 0.69314718055994530942;

// A random distribution (n), with some entries exactly zero when zeros is set.
static void random_distribution(Random *rng, double *p, int n, int zeros) {
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        p[i] = random_uniform_double(rng);
        if (zeros && random_below(rng, 4) == 0) p[i] = 0.0;
        total += p[i];
    }
    if (total == 0.0) {
        p[0] = total = 1.0;
    }
    for (int i = 0; i < n; i++) p[i] /= total;
}

static void test_closed_forms(void) {
    Error error;
    double uniform[8], nats;
    for (int i = 0; i < 8; i++) uniform[i] = 0.125;
    CHECK(information_entropy(uniform, 8, &nats, &error) == 0, "%s", error.message);
    CHECK_NEAR(nats, log(8.0), 1e-12);
    CHECK_NEAR(nats_to_bits(nats), 3.0, 1e-12);

    // Zeros contribute nothing: {½, ½, 0} has one bit.
    const double half[3] = {0.5, 0.5, 0.0}, certain[3] = {0.0, 1.0, 0.0};
    CHECK(information_entropy(half, 3, &nats, &error) == 0, "%s", error.message);
    CHECK_NEAR(nats_to_bits(nats), 1.0, 1e-12);
    CHECK(information_entropy(certain, 3, &nats, &error) == 0 && nats == 0.0, "entropy of a certain outcome %g", nats);

    // Cross-entropy of a one-hot target is -log q[target] (the training loss).
    const double q[3] = {0.2, 0.7, 0.1};
    CHECK(information_cross_entropy(certain, q, 3, &nats, &error) == 0, "%s", error.message);
    CHECK_NEAR(nats, -log(0.7), 1e-12);

    // KL(p‖q) is infinite where q = 0 < p, finite where p = 0 < q.
    CHECK(information_kl_divergence(q, half, 3, &nats, &error) == 0 && isinf(nats) && nats > 0, "KL with q = 0 < p: %g", nats);
    CHECK(information_cross_entropy(q, half, 3, &nats, &error) == 0 && isinf(nats), "H(p,q) with q = 0 < p: %g", nats);
    CHECK(information_kl_divergence(half, q, 3, &nats, &error) == 0, "%s", error.message);
    CHECK_NEAR(nats, 0.5 * log(0.5 / 0.2) + 0.5 * log(0.5 / 0.7), 1e-12);

    // JS of disjoint supports is exactly ln 2; of identical ones 0.
    const double left[4] = {0.5, 0.5, 0, 0}, right[4] = {0, 0, 0.25, 0.75};
    CHECK(information_js_divergence(left, right, 4, &nats, &error) == 0, "%s", error.message);
    CHECK_NEAR(nats, LN2, 1e-12);
    CHECK(information_js_divergence(left, left, 4, &nats, &error) == 0 && fabs(nats) < 1e-15, "JS(p,p) = %g", nats);
}

static void test_identities(void) {
    Random rng;
    random_seed(&rng, 2024);
    Error error;
    for (int trial = 0; trial < 200; trial++) {
        int n = 2 + (int)random_below(&rng, 30);
        double p[32], q[32];
        random_distribution(&rng, p, n, trial % 2);
        random_distribution(&rng, q, n, 0);  // q > 0 everywhere: KL finite
        double h_p, h_pq, kl, kl_self, js_pq, js_qp;
        CHECK(information_entropy(p, n, &h_p, &error) == 0, "%s", error.message);
        CHECK(information_cross_entropy(p, q, n, &h_pq, &error) == 0, "%s", error.message);
        CHECK(information_kl_divergence(p, q, n, &kl, &error) == 0, "%s", error.message);
        CHECK(information_kl_divergence(p, p, n, &kl_self, &error) == 0, "%s", error.message);
        CHECK(information_js_divergence(p, q, n, &js_pq, &error) == 0, "%s", error.message);
        CHECK(information_js_divergence(q, p, n, &js_qp, &error) == 0, "%s", error.message);
        CHECK(kl >= 0.0, "trial %d: KL = %g < 0", trial, kl);
        CHECK_NEAR(kl_self, 0.0, 1e-15);
        CHECK_NEAR(kl, h_pq - h_p, 1e-12);  // Gibbs: cross-entropy = entropy + KL
        CHECK(h_p >= 0.0 && h_p <= log((double)n) + 1e-12, "trial %d: H = %g outside [0, ln %d]", trial, h_p, n);
        CHECK_NEAR(js_pq, js_qp, 1e-15);
        CHECK(js_pq >= 0.0 && js_pq <= LN2, "trial %d: JS = %g outside [0, ln 2]", trial, js_pq);
        // Convexity of KL in its second argument: KL(p‖m) ≤ ½ KL(p‖q), so JS ≤ ¼ (KL(p‖q) + KL(q‖p)).
        double kl_reverse;
        CHECK(information_kl_divergence(q, p, n, &kl_reverse, &error) == 0, "%s", error.message);
        CHECK(js_pq <= 0.25 * (kl + kl_reverse) + 1e-12, "trial %d: JS %g above the KL bound", trial, js_pq);
    }
}

static void test_joint_tables(void) {
    Random rng;
    random_seed(&rng, 5);
    Error error;
    for (int trial = 0; trial < 50; trial++) {
        int rows = 1 + (int)random_below(&rng, 6), cols = 1 + (int)random_below(&rng, 6);
        double joint[36], p_x[6], p_y[6];
        random_distribution(&rng, joint, rows * cols, trial % 2);  // half the tables have zero cells
        CHECK(information_marginals(joint, rows, cols, p_x, p_y, &error) == 0, "%s", error.message);
        double h_xy, h_x, h_y, h_y_given_x, mi;
        CHECK(information_joint_entropy(joint, rows, cols, &h_xy, &error) == 0, "%s", error.message);
        CHECK(information_entropy(p_x, rows, &h_x, &error) == 0, "%s", error.message);
        CHECK(information_entropy(p_y, cols, &h_y, &error) == 0, "%s", error.message);
        CHECK(information_conditional_entropy(joint, rows, cols, &h_y_given_x, &error) == 0, "%s", error.message);
        CHECK(information_mutual_information(joint, rows, cols, &mi, &error) == 0, "%s", error.message);
        CHECK_NEAR(h_xy, h_x + h_y_given_x, 1e-12);  // chain rule
        CHECK_NEAR(mi, h_x + h_y - h_xy, 1e-12);
        CHECK(mi >= 0.0 && mi <= fmin(h_x, h_y) + 1e-12, "trial %d: I = %g", trial, mi);

        // The product of the marginals is independent: I = 0, H(Y|X) = H(Y).
        double product[36];
        for (int x = 0; x < rows; x++)
            for (int y = 0; y < cols; y++) product[x * cols + y] = p_x[x] * p_y[y];
        double mi_independent, h_cond_independent;
        CHECK(information_mutual_information(product, rows, cols, &mi_independent, &error) == 0, "%s", error.message);
        CHECK(information_conditional_entropy(product, rows, cols, &h_cond_independent, &error) == 0, "%s", error.message);
        CHECK_NEAR(mi_independent, 0.0, 1e-12);
        CHECK_NEAR(h_cond_independent, h_y, 1e-12);
    }
    // Y a copy of X: I = H(X), H(Y|X) = 0 (a diagonal table, zeros off the diagonal).
    const double diagonal[9] = {0.2, 0, 0, 0, 0.3, 0, 0, 0, 0.5};
    double mi, h_cond;
    CHECK(information_mutual_information(diagonal, 3, 3, &mi, &error) == 0, "%s", error.message);
    CHECK_NEAR(mi, -(0.2 * log(0.2) + 0.3 * log(0.3) + 0.5 * log(0.5)), 1e-12);
    CHECK(information_conditional_entropy(diagonal, 3, 3, &h_cond, &error) == 0 && h_cond == 0.0, "H(Y|X) = %g", h_cond);
}

static void test_bad_input(void) {
    Error error;
    double nats;
    const double negative[3] = {0.5, 0.7, -0.2}, unnormalised[2] = {0.5, 0.6}, with_nan[2] = {NAN, 1.0}, fine[2] = {0.5, 0.5};
    CHECK(information_entropy(negative, 3, &nats, &error) == -1 && strstr(error.message, "entry 2"), "negative: %s", error.message);
    CHECK(information_entropy(unnormalised, 2, &nats, &error) == -1 && strstr(error.message, "sums to"), "sum 1.1 accepted");
    CHECK(information_entropy(with_nan, 2, &nats, &error) == -1, "NaN accepted");
    CHECK(information_entropy(fine, 0, &nats, &error) == -1, "n = 0 accepted");
    CHECK(information_kl_divergence(fine, unnormalised, 2, &nats, &error) == -1 && strncmp(error.message, "q:", 2) == 0,
          "bad q: %s", error.message);
    CHECK(information_mutual_information(fine, 0, 2, &nats, &error) == -1 && strstr(error.message, "shape"), "0 rows accepted");
    CHECK(information_joint_entropy(unnormalised, 1, 2, &nats, &error) == -1, "unnormalised table accepted");
}

static const CheckCase CASES[] = {
    {"closed forms: uniform, zeros, one-hot, disjoint supports", test_closed_forms},
    {"identities on random distributions", test_identities},
    {"joint tables: chain rule, mutual information, independence", test_joint_tables},
    {"bad input is an error", test_bad_input},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
