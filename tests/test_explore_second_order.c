// explore second-order, bias-variance, double-descent (explore/second_order_mnist.h,
// explore/bias_variance.h, explore/double_descent.h) at small sizes: L-BFGS reaches MNIST
// logistic regression's optimum in fewer passes than Adam; bias² + variance + noise equals the
// measured expected test error and the test error is U-shaped in the degree; the double-descent
// curve has its maximum near the interpolation threshold p = n; bad configurations are refused.
#include <math.h>
#include <string.h>

#include "explore/bias_variance.h"
#include "explore/double_descent.h"
#include "explore/second_order_mnist.h"
#include "tests/check.h"

static void lbfgs_beats_adam_on_mnist_logistic_regression(void) {
    SecondOrderMnistConfig c = second_order_mnist_defaults();
    c.images = 300;
    c.l2 = c.damping = 1e-3;
    c.adam_passes = 300;
    c.max_iterations = 200;
    SecondOrderMnistResult r;
    Error error;
    REQUIRE(explore_second_order_mnist(&c, &r, &error) == 0, "%s", error.message);
    CHECK(r.n_methods == 4, "methods %d", r.n_methods);
    CHECK(r.optimum_gradient_norm < 1e-8, "optimum |grad| %g", r.optimum_gradient_norm);
    // f - f* ≤ ‖∇f‖² / 2λ: the optimum is far more exact than the tolerance.
    CHECK(r.optimum_gradient_norm * r.optimum_gradient_norm / (2 * c.l2) < c.tolerance * 1e-3, "optimum inexact");
    const MethodCurve *lbfgs = &r.methods[0], *newton = &r.methods[1], *natural = &r.methods[2], *adam = &r.methods[3];
    CHECK(strcmp(lbfgs->name, "L-BFGS") == 0, "first method %s", lbfgs->name);
    CHECK(lbfgs->passes_to_tolerance > 0, "L-BFGS did not reach the tolerance (gap %g)", lbfgs->final_gap);
    CHECK(newton->passes_to_tolerance > 0, "Newton-CG did not reach the tolerance (gap %g)", newton->final_gap);
    CHECK(natural->passes_to_tolerance > 0, "natural gradient did not reach the tolerance (gap %g)", natural->final_gap);
    CHECK(adam->passes_to_tolerance < 0 || adam->passes_to_tolerance > lbfgs->passes_to_tolerance,
          "Adam %ld passes, L-BFGS %ld", adam->passes_to_tolerance, lbfgs->passes_to_tolerance);
    for (int m = 0; m < r.n_methods; m++) {
        const MethodCurve *mc = &r.methods[m];
        for (int k = 0; k < mc->count; k++) CHECK(mc->gap[k] >= 0, "%s: negative gap %g at %d", mc->name, mc->gap[k], k);
        for (int k = 1; k < mc->count; k++) CHECK(mc->passes[k] > mc->passes[k - 1], "%s: passes not increasing", mc->name);
    }
    second_order_mnist_result_free(&r);
}

static void bias_variance_identity_and_u_curve(void) {
    BiasVarianceConfig c = bias_variance_defaults();
    c.datasets = 200;
    c.max_degree = 9;
    BiasVarianceResult r;
    Error error;
    REQUIRE(explore_bias_variance(&c, &r, &error) == 0, "%s", error.message);
    CHECK(r.n_degrees == 10, "degrees %d", r.n_degrees);
    for (int d = 0; d < r.n_degrees; d++) {
        // mean_m (f - ŷ_m)² = bias² + variance: an algebraic identity, exact to rounding.
        double decomposition = r.bias2[d] + r.variance[d];
        CHECK(fabs(r.expected_squared_error[d] - decomposition) <= 1e-10 * fmax(1.0, decomposition),
              "degree %d: E(f - y)^2 %.15g, bias^2 + variance %.15g", d, r.expected_squared_error[d], decomposition);
        // The measured test error = bias² + variance + noise, to its Monte-Carlo error (5 standard errors).
        double sum = decomposition + r.noise;
        CHECK(fabs(r.test_error[d] - sum) <= 5 * r.test_error_stderr[d] + 1e-12,
              "degree %d: measured %.6f, bias^2 + variance + noise %.6f, stderr %.2g", d, r.test_error[d], sum,
              r.test_error_stderr[d]);
        CHECK(r.test_error[d] >= r.noise * 0.9, "degree %d: test error %g below the noise", d, r.test_error[d]);
    }
    CHECK_NEAR(r.noise, 0.09, 1e-15);
    // The U: the best degree is in the middle; underfitting on its left, overfitting on its right.
    CHECK(r.best_degree >= 3 && r.best_degree <= 6, "best degree %d", r.best_degree);
    CHECK(r.test_error[0] > 3 * r.test_error[r.best_degree], "degree 0 is not clearly worse");
    CHECK(r.test_error[9] > 3 * r.test_error[r.best_degree], "degree 9 is not clearly worse");
    CHECK(r.bias2[0] > 10 * r.bias2[6] && r.variance[9] > 10 * r.variance[1], "bias falls, variance rises");
    // Training error only falls with the degree (nested models, the same data).
    for (int d = 1; d < r.n_degrees; d++) CHECK(r.train_error[d] <= r.train_error[d - 1] + 1e-12, "train error rose at %d", d);
}

static void double_descent_peaks_at_the_threshold(void) {
    DoubleDescentConfig c = double_descent_defaults();
    c.train_size = 100;
    c.test_size = 400;
    c.n_points = 15;
    DoubleDescentResult r;
    Error error;
    REQUIRE(explore_double_descent(&c, &r, &error) == 0, "%s", error.message);
    CHECK(r.train_size == 100 && r.test_size == 400, "sizes %d %d", r.train_size, r.test_size);
    int has_threshold = 0;
    for (int j = 0; j < r.n_points; j++) has_threshold |= r.features[j] == r.train_size;
    CHECK(has_threshold, "p = n not in the sweep");
    CHECK(r.peak_features >= r.train_size * 0.7 && r.peak_features <= r.train_size * 1.4, "peak at p = %d, n = %d",
          r.peak_features, r.train_size);
    // Interpolation past the threshold (train MSE ~ 0) and a second descent below the peak.
    double peak = 0, last = r.test_mse[r.n_points - 1];
    for (int j = 0; j < r.n_points; j++) {
        peak = fmax(peak, r.test_mse[j]);
        if (r.features[j] > r.train_size) CHECK(r.train_mse[j] < 1e-8, "p = %d: train MSE %g", r.features[j], r.train_mse[j]);
    }
    CHECK(peak > 3 * last && peak > 3 * r.test_mse[0], "peak %g, ends %g %g", peak, r.test_mse[0], last);
}

static void bad_configurations_are_refused(void) {
    Error error;
    BiasVarianceConfig b = bias_variance_defaults();
    b.max_degree = 30;
    BiasVarianceResult br;
    CHECK(explore_bias_variance(&b, &br, &error) == -1 && strstr(error.message, "--max-degree"), "max degree 30");
    b = bias_variance_defaults();
    b.train_size = 5;
    CHECK(explore_bias_variance(&b, &br, &error) == -1 && strstr(error.message, "--train-size"), "train size 5");
    b = bias_variance_defaults();
    b.noise = NAN;
    CHECK(explore_bias_variance(&b, &br, &error) == -1 && strstr(error.message, "--noise"), "NaN noise");
    DoubleDescentConfig d = double_descent_defaults();
    d.max_ratio = 0.5;
    DoubleDescentResult dr;
    CHECK(explore_double_descent(&d, &dr, &error) == -1 && strstr(error.message, "--max-ratio"), "max ratio 0.5");
    d = double_descent_defaults();
    d.directory = "/nonexistent-groundup";
    CHECK(explore_double_descent(&d, &dr, &error) == -1 && strstr(error.message, "nonexistent"), "missing data");
    SecondOrderMnistConfig s = second_order_mnist_defaults();
    s.l2 = 0;
    SecondOrderMnistResult sr;
    CHECK(explore_second_order_mnist(&s, &sr, &error) == -1 && strstr(error.message, "--l2"), "L2 0 (no unique optimum)");
    s = second_order_mnist_defaults();
    s.damping = -1;
    CHECK(explore_second_order_mnist(&s, &sr, &error) == -1 && strstr(error.message, "--damping"), "negative damping");
    s.damping = s.l2 / 4;
    CHECK(explore_second_order_mnist(&s, &sr, &error) == -1 && strstr(error.message, "--damping"), "damping below l2/2");
}

static const CheckCase CASES[] = {
    {"lbfgs beats adam on mnist logistic regression", lbfgs_beats_adam_on_mnist_logistic_regression},
    {"bias variance identity and u curve", bias_variance_identity_and_u_curve},
    {"double descent peaks at the threshold", double_descent_peaks_at_the_threshold},
    {"bad configurations are refused", bad_configurations_are_refused},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
