// The numerical-stability topics of `groundup explore` (explore/stability.h): the numbers their
// tables and figures show. Naive log-sum-exp and softmax overflow in float32 from logits of
// about 89 on while the stable ones stay at float32 rounding; the one-pass variance loses
// every digit at a mean of 1e7 where two passes and Welford keep ~8 or more; pairwise and
// Kahan float32 sums stay near ε where the running sum drifts; classical Gram-Schmidt loses
// orthogonality as κ² ε, modified as κ ε, Householder not at all; a Hilbert system's error
// follows κ ε while its residual stays at ε.
#include <float.h>
#include <math.h>
#include <string.h>

#include "explore/stability.h"
#include "tests/check.h"

static void softmax(void) {
    SoftmaxResult r;
    Error error;
    REQUIRE(explore_softmax(4, 64, 1, &r, &error) == 0, "%s", error.message);
    REQUIRE(r.n == 17, "%d scales (1 to 1e4, 4 a decade)", r.n);
    CHECK_NEAR(r.rows[0].scale, 1.0, 1e-12);
    CHECK_NEAR(r.rows[16].scale, 1e4, 1e-8);
    for (int k = 0; k < r.n; k++) {
        const SoftmaxRow *row = &r.rows[k];
        // The stable ones: float32 rounding at every scale.
        CHECK(row->stable_lse_error < 1e-6 && row->stable_softmax_error < 1e-6, "scale %g: stable %.2e, %.2e",
              row->scale, row->stable_lse_error, row->stable_softmax_error);
        // The naive ones: as good while no exp overflows (logits below 88.7: scale 10 and under here) ...
        if (row->scale <= 10.0)
            CHECK(row->naive_lse_error < 1e-6 && row->naive_softmax_error < 1e-6 && row->naive_failed_fraction == 0,
                  "scale %g: naive %.2e, %.2e", row->scale, row->naive_lse_error, row->naive_softmax_error);
        // ... and not finite on every row from a scale of 1000 on.
        if (row->scale >= 1000.0)
            CHECK(isinf(row->naive_lse_error) && isinf(row->naive_softmax_error) && row->naive_failed_fraction == 1.0,
                  "scale %g: naive %.2e, %.2e, failed %.2f", row->scale, row->naive_lse_error,
                  row->naive_softmax_error, row->naive_failed_fraction);
    }
    CHECK(r.rows[8].naive_failed_fraction > 0.5, "scale 100: only %.2f of the rows overflowed",
          r.rows[8].naive_failed_fraction);
    Error bad;
    CHECK(explore_softmax(0, 64, 1, &r, &bad) == -1 && strstr(bad.message, "--per-decade"), "%s", bad.message);
    CHECK(explore_softmax(4, -1, 1, &r, &bad) == -1 && strstr(bad.message, "--rows must be at least 1"), "%s",
          bad.message);
}

static void variance(void) {
    VarianceResult r;
    Error error;
    REQUIRE(explore_variance(100000, 1, &r, &error) == 0, "%s", error.message);
    REQUIRE(r.n == 11, "%d shifts (1 to 1e10)", r.n);
    CHECK(fabs(r.rows[0].reference - 1.0) < 0.02, "the reference variance %g of N(0, 1) data", r.rows[0].reference);
    for (int k = 0; k < r.n; k++) {
        const VarianceRow *v = &r.rows[k];
        // Two passes: exact to ~shift·ε relative to the spread; Welford close behind.
        CHECK(v->two_pass_error < 1e-8, "shift %g: two-pass error %.2e", v->shift, v->two_pass_error);
        CHECK(v->welford_error < 1e-6, "shift %g: Welford error %.2e", v->shift, v->welford_error);
    }
    // At a mean of 1: all three agree to 1e-13.
    CHECK(r.rows[0].naive_error < 1e-13 && r.rows[0].welford_error < 1e-13, "shift 1: %.2e, %.2e",
          r.rows[0].naive_error, r.rows[0].welford_error);
    // At 1e7 the one-pass formula has lost every digit (error above 10%), at 1e8 even the sign may go,
    // while Welford keeps 9 digits.
    CHECK(r.rows[7].naive_error > 0.1, "shift 1e7: one-pass error only %.2e", r.rows[7].naive_error);
    CHECK(r.rows[8].naive_error > 1.0, "shift 1e8: one-pass error only %.2e", r.rows[8].naive_error);
    CHECK(r.rows[7].welford_error < 1e-9, "shift 1e7: Welford error %.2e", r.rows[7].welford_error);
    // The one-pass error grows as shift²: two decades per decade between 1e3 and 1e6 (within one).
    double slope = log10(r.rows[6].naive_error / r.rows[4].naive_error) / 2;
    CHECK(slope > 1.0 && slope < 3.0, "one-pass error slope %.2f per decade of shift", slope);
    Error bad;
    CHECK(explore_variance(1, 1, &r, &bad) == -1 && strstr(bad.message, "--n must be at least 2"), "%s", bad.message);
}

static void summation(void) {
    SummationResult r;
    Error error;
    REQUIRE(explore_summation(10000000, 1, &r, &error) == 0, "%s", error.message);
    REQUIRE(r.n == 9 && r.rows[r.n - 1].n == 10000000, "%d checkpoints, the last %ld", r.n, r.rows[r.n - 1].n);
    const SummationRow *last = &r.rows[r.n - 1];
    CHECK(fabs(last->reference / 5e6 - 1) < 1e-3, "the sum of 1e7 uniforms %g, expected ~5e6", last->reference);
    // 1e7 values: the running float32 sum is off by more than 1e-6, pairwise and Kahan stay below 2 ε32.
    CHECK(last->error[0] > 1e-6, "running float32: %.2e", last->error[0]);
    CHECK(last->error[1] < 2 * FLT_EPSILON, "pairwise float32: %.2e", last->error[1]);
    CHECK(last->error[2] < 2 * FLT_EPSILON, "Kahan float32: %.2e", last->error[2]);
    CHECK(last->error[0] > 50 * last->error[2], "running %.2e not far worse than Kahan %.2e", last->error[0],
          last->error[2]);
    // The running sum's error grows with n: more than 30 times larger at 1e7 than at 1e3.
    CHECK(last->error[0] > 30 * r.rows[0].error[0], "running error %.2e at 1e7, %.2e at 1e3", last->error[0],
          r.rows[0].error[0]);
    Error bad;
    CHECK(explore_summation(0, 1, &r, &bad) == -1 && strstr(bad.message, "--n must be at least 1000"), "%s",
          bad.message);
    CHECK(explore_summation(200000000, 1, &r, &bad) == -1 && strstr(bad.message, "--n must be in"), "%s", bad.message);
}

// Least-squares slope of log10(y) against log10(x) over points [first, last].
static double log_slope(const OrthogonalityResult *r, int method, int first, int last) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = last - first + 1;
    for (int k = first; k <= last; k++) {
        double x = log10(r->points[k].condition_target), y = log10(r->points[k].loss[method]);
        sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

static void orthogonality(void) {
    OrthogonalityResult r;
    Error error;
    REQUIRE(explore_orthogonality(40, 10, 14, 1, &r, &error) == 0, "%s", error.message);
    REQUIRE(r.n == 29, "%d condition numbers (1 to 1e14, two a decade)", r.n);
    for (int k = 0; k < r.n; k++) {
        const OrthogonalityRow *p = &r.points[k];
        CHECK(fabs(p->condition_measured / p->condition_target - 1) < 1e-2, "kappa %g measured %g",
              p->condition_target, p->condition_measured);
        CHECK(p->loss[2] < 1e-14, "Householder at kappa %g: %.2e", p->condition_target, p->loss[2]);
        for (int m = 0; m < ORTHOGONALITY_METHODS; m++)
            CHECK(p->reconstruction[m] < 1e-14, "%s at kappa %g: ||A - QR|| %.2e", r.names[m], p->condition_target,
                  p->reconstruction[m]);
    }
    // Between κ = 1e2 and 1e6 (points 4 to 12): CGS's loss grows as κ², MGS's as κ.
    double cgs = log_slope(&r, 0, 4, 12), mgs = log_slope(&r, 1, 4, 12);
    CHECK(cgs > 1.6 && cgs < 2.5, "classical Gram-Schmidt slope %.2f, expected ~2", cgs);
    CHECK(mgs > 0.7 && mgs < 1.3, "modified Gram-Schmidt slope %.2f, expected ~1", mgs);
    // Both within a factor 100 of their model at κ = 1e4, CGS at O(1) from κ = 1e9 on.
    CHECK(r.points[8].loss[0] < 100 * 1e8 * DBL_EPSILON && r.points[8].loss[0] > 1e8 * DBL_EPSILON / 100, "CGS at 1e4: %.2e",
          r.points[8].loss[0]);
    CHECK(r.points[8].loss[1] < 100 * 1e4 * DBL_EPSILON && r.points[8].loss[1] > 1e4 * DBL_EPSILON / 100, "MGS at 1e4: %.2e",
          r.points[8].loss[1]);
    CHECK(r.points[18].loss[0] > 0.5, "CGS at kappa 1e9: %.2e, expected O(1)", r.points[18].loss[0]);
    Error bad;
    CHECK(explore_orthogonality(5, 10, 14, 1, &r, &bad) == -1 && strstr(bad.message, "--rows"), "%s", bad.message);
    CHECK(explore_orthogonality(40, 10, 17, 1, &r, &bad) == -1 && strstr(bad.message, "--max-exponent"), "%s",
          bad.message);
    CHECK(explore_orthogonality(40, 0, 14, 1, &r, &bad) == -1 && strstr(bad.message, "--cols must be at least 2"), "%s",
          bad.message);
}

static void ill_conditioning(void) {
    HilbertResult r;
    Error error;
    REQUIRE(explore_ill_conditioning(14, &r, &error) == 0, "%s", error.message);
    REQUIRE(r.n == 13 && r.rows[0].n == 2, "%d sizes", r.n);
    // Known values: κ∞(H5) = 943656 exactly (||H5||∞ = 137/60, ||H5⁻¹||∞ = 413280), κ₂(H5) = 476607.25.
    CHECK_NEAR(r.rows[3].condition, 943656.0, 1e-6);
    CHECK_NEAR(r.rows[3].condition_2 / 476607.25, 1.0, 1e-6);
    CHECK_NEAR(r.rows[8].condition / 3.5354e13, 1.0, 1e-4);  // κ∞(H10)
    for (int k = 0; k < r.n; k++) {
        const HilbertRow *h = &r.rows[k];
        if (k > 0) CHECK(h->condition > 20 * r.rows[k - 1].condition, "kappa(H%d) %.2e", h->n, h->condition);
        if (isnan(h->error)) continue;  // singular to working precision (n >= 13)
        // LU with partial pivoting is backward stable: the residual stays at ε whatever κ ...
        CHECK(h->residual < 4 * DBL_EPSILON, "H%d: residual %.2e", h->n, h->residual);
        // ... and the forward error is bounded by (a small multiple of) κ ε.
        CHECK(h->error < 10 * h->condition * DBL_EPSILON, "H%d: error %.2e, kappa eps %.2e", h->n, h->error,
              h->condition * DBL_EPSILON);
    }
    // The error grows with κ: 8 decades between n = 3 and n = 10 (each within reach of κ ε).
    CHECK(r.rows[1].error < 1e-13 && r.rows[8].error > 1e-5, "H3 %.2e, H10 %.2e", r.rows[1].error, r.rows[8].error);
    CHECK(isnan(r.rows[12].error), "H14 should be singular to working precision, error %g", r.rows[12].error);
    Error bad;
    CHECK(explore_ill_conditioning(1, &r, &bad) == -1 && strstr(bad.message, "--max-n must be at least 2"), "%s",
          bad.message);
    CHECK(explore_ill_conditioning(21, &r, &bad) == -1 && strstr(bad.message, "--max-n must be in [2, 20]"), "%s",
          bad.message);
}

static const CheckCase CASES[] = {
    {"softmax and log-sum-exp: naive overflow, stable rounding", softmax},
    {"variance: one pass against two passes and Welford", variance},
    {"summation: running, pairwise, Kahan against the float64 sum", summation},
    {"orthogonality: Gram-Schmidt against Householder", orthogonality},
    {"ill-conditioning: Hilbert systems", ill_conditioning},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
