// The maximum mean discrepancy (foundations/mmd.c): a case worked by hand, the median of the
// pairwise distances by hand, two draws of one Gaussian near 0 and a shifted one far above,
// symmetry, and the one-line errors.
#include <math.h>

#include "foundations/mmd.h"
#include "foundations/random.h"
#include "tests/check.h"

// x = {(0,0), (1,0)}, y = {(0,1), (0,2)}, h = 1, k = exp(−d²/2). Squared distances: within x 1,
// within y 1; across (0,0)-(0,1) 1, (0,0)-(0,2) 4, (1,0)-(0,1) 2, (1,0)-(0,2) 5. So
// MMD²_u = e^{−1/2} + e^{−1/2} − (2/4)(e^{−1/2} + e^{−2} + e^{−1} + e^{−5/2})
//        = 1.5 e^{−1/2} − 0.5 (e^{−1} + e^{−2} + e^{−5/2}) = 0.6171455...
static void a_case_by_hand(void) {
    const float x[] = {0, 0, 1, 0}, y[] = {0, 1, 0, 2};
    double mmd2 = 0.0, swapped = 0.0;
    Error error;
    REQUIRE(mmd2_gaussian(x, 2, y, 2, 2, 1.0, &mmd2, &error) == 0, "%s", error.message);
    CHECK_NEAR(mmd2, 1.5 * exp(-0.5) - 0.5 * (exp(-1.0) + exp(-2.0) + exp(-2.5)), 1e-12);
    CHECK_NEAR(mmd2, 0.6171455, 1e-6);
    REQUIRE(mmd2_gaussian(y, 2, x, 2, 2, 1.0, &swapped, &error) == 0, "%s", error.message);
    CHECK_NEAR(swapped, mmd2, 1e-15);
    // h = 2: every exponent divided by 4
    REQUIRE(mmd2_gaussian(x, 2, y, 2, 2, 2.0, &mmd2, &error) == 0, "%s", error.message);
    CHECK_NEAR(mmd2, 1.5 * exp(-0.125) - 0.5 * (exp(-0.25) + exp(-0.5) + exp(-0.625)), 1e-12);
}

// (0,0), (3,0), (0,4): distances 3, 4, 5 → 4; with (3,4) too: 3, 3, 4, 4, 5, 5 → 4; the first
// two only (max_points 2): 3.
static void median_distance_by_hand(void) {
    const float x[] = {0, 0, 3, 0, 0, 4, 3, 4};
    double median = 0.0;
    Error error;
    REQUIRE(median_pairwise_distance(x, 3, 2, 100, &median, &error) == 0, "%s", error.message);
    CHECK_NEAR(median, 4.0, 1e-12);
    REQUIRE(median_pairwise_distance(x, 4, 2, 100, &median, &error) == 0, "%s", error.message);
    CHECK_NEAR(median, 4.0, 1e-12);
    REQUIRE(median_pairwise_distance(x, 4, 2, 2, &median, &error) == 0, "%s", error.message);
    CHECK_NEAR(median, 3.0, 1e-12);
    const float line[] = {0, 1, 2, 10};  // 1-D: 1, 2, 10, 1, 9, 8 → (2 + 8) / 2
    REQUIRE(median_pairwise_distance(line, 4, 1, 4, &median, &error) == 0, "%s", error.message);
    CHECK_NEAR(median, 5.0, 1e-12);
}

enum { N = 600 };

static void gaussian_draw(float *x, float shift, uint64_t seed) {
    Random rng;
    random_seed(&rng, seed);
    for (int i = 0; i < 2 * N; i++) x[i] = random_normal(&rng, i % 2 ? 0.0f : shift, 1.0f);
}

// Two draws of N(0, I) give |MMD²_u| of order 1/N; a draw of N((1, 0), I) is two orders above.
static void same_near_zero_shifted_far(void) {
    static float a[2 * N], b[2 * N], c[2 * N];
    gaussian_draw(a, 0.0f, 1), gaussian_draw(b, 0.0f, 2), gaussian_draw(c, 1.0f, 3);
    double h = 0.0, same = 0.0, shifted = 0.0;
    Error error;
    REQUIRE(median_pairwise_distance(a, N, 2, N, &h, &error) == 0, "%s", error.message);
    CHECK(fabs(h - sqrt(2.0 * 2.0 * log(2.0))) < 0.1, "median distance %g: sqrt(4 ln 2) = 1.665 for N(0, I)", h);
    REQUIRE(mmd2_gaussian(a, N, b, N, 2, h, &same, &error) == 0, "%s", error.message);
    REQUIRE(mmd2_gaussian(a, N, c, N, 2, h, &shifted, &error) == 0, "%s", error.message);
    CHECK(fabs(same) < 3e-3, "two draws of one Gaussian: %g", same);
    CHECK(shifted > 0.05 && shifted > 30.0 * fabs(same), "shifted %g against the same distribution's %g", shifted, same);
}

static void errors(void) {
    const float x[] = {0, 0, 1, 0}, bad[] = {0, 0, NAN, 0};
    double value;
    Error error;
    CHECK(mmd2_gaussian(x, 1, x, 2, 2, 1.0, &value, &error) != 0, "one point accepted");
    CHECK(mmd2_gaussian(x, 2, x, 2, 2, 0.0, &value, &error) != 0 && strstr(error.message, "bandwidth 0"), "%s", error.message);
    CHECK(mmd2_gaussian(x, 2, x, 2, 2, INFINITY, &value, &error) != 0, "infinite bandwidth accepted");
    CHECK(mmd2_gaussian(x, 2, bad, 2, 2, 1.0, &value, &error) != 0 && strstr(error.message, "not finite"), "%s",
          error.message);
    CHECK(median_pairwise_distance(x, 2, 2, 1, &value, &error) != 0, "one point accepted");
    CHECK(median_pairwise_distance(bad, 2, 2, 2, &value, &error) != 0, "a NaN accepted");
}

static const CheckCase CASES[] = {
    {"a case by hand", a_case_by_hand},
    {"median distance by hand", median_distance_by_hand},
    {"same near zero shifted far", same_near_zero_shifted_far},
    {"errors", errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
