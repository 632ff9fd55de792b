// Second-order methods (foundations/second_order.h) and softmax regression's curvature
// (foundations/softmax_regression.h): the line search's points satisfy both strong Wolfe
// conditions, Newton converges in one step on a quadratic and quadratically on a strictly convex
// problem, L-BFGS reaches Rosenbrock's minimum, Newton-CG and the natural gradient reach
// softmax regression's, the Fisher's closed form equals its outer-product definition and the
// Hessian, and bad configurations are refused.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/random.h"
#include "foundations/second_order.h"
#include "foundations/softmax_regression.h"
#include "tests/check.h"

// Rosenbrock f = (1 - x)² + 100 (y - x²)², minimum 0 at (1, 1).
static double rosenbrock(void *context, const double *x, double *gradient, long n) {
    (void)context, (void)n;
    double a = 1.0 - x[0], b = x[1] - x[0] * x[0];
    gradient[0] = -2.0 * a - 400.0 * x[0] * b;
    gradient[1] = 200.0 * b;
    return a * a + 100.0 * b * b;
}

static void rosenbrock_hessian(void *context, const double *x, double *h, long n) {
    (void)context, (void)n;
    h[0] = 2.0 - 400.0 * (x[1] - x[0] * x[0]) + 800.0 * x[0] * x[0];
    h[1] = h[2] = -400.0 * x[0];
    h[3] = 200.0;
}

// f = ½ xᵀ A x - bᵀx with A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]] (positive definite), b = (1, 2, 3).
static const double QUADRATIC_A[9] = {4, 1, 0, 1, 3, 1, 0, 1, 2}, QUADRATIC_B[3] = {1, 2, 3};
static double quadratic(void *context, const double *x, double *gradient, long n) {
    (void)context;
    double f = 0.0;
    for (long i = 0; i < n; i++) {
        gradient[i] = -QUADRATIC_B[i];
        for (long j = 0; j < n; j++) gradient[i] += QUADRATIC_A[i * n + j] * x[j];
        f += 0.5 * x[i] * (gradient[i] - QUADRATIC_B[i]);  // ½ xᵀAx - bᵀx = ½ xᵀ(Ax - b) - ½ bᵀx
    }
    return f;
}
static void quadratic_hessian(void *context, const double *x, double *h, long n) {
    (void)context, (void)x;
    memcpy(h, QUADRATIC_A, (size_t)n * n * sizeof(double));
}

static void line_search_points_satisfy_both_wolfe_conditions(void) {
    const double starts[4][2] = {{-1.2, 1.0}, {0.0, 0.0}, {1.5, 1.0}, {-0.5, 0.8}};
    const double initial_steps[3] = {1.0, 1e-4, 0.01};  // too long (zoom), too short (extrapolate), in between
    const double c1 = 1e-4, c2 = 0.9;
    for (int s = 0; s < 4; s++)
        for (int t = 0; t < 3; t++) {
            double g[2], d[2], x_new[2], g_new[2], g_check[2];
            double f0 = rosenbrock(NULL, starts[s], g, 2);
            d[0] = -g[0], d[1] = -g[1];
            LineSearchResult r;
            Error error;
            int status = line_search_strong_wolfe(rosenbrock, NULL, 2, starts[s], f0, g, d, initial_steps[t], c1, c2, 30,
                                                  x_new, g_new, &r, &error);
            REQUIRE(status == 0, "start %d step %d: status %d", s, t, status);
            CHECK(r.wolfe_satisfied, "start %d step %d: Wolfe not satisfied", s, t);
            // Both conditions checked from scratch at x + αd.
            double x_check[2] = {starts[s][0] + r.step * d[0], starts[s][1] + r.step * d[1]};
            double f_check = rosenbrock(NULL, x_check, g_check, 2);
            double slope0 = g[0] * d[0] + g[1] * d[1], slope = g_check[0] * d[0] + g_check[1] * d[1];
            CHECK(f_check <= f0 + c1 * r.step * slope0, "start %d step %d: sufficient decrease %g > %g", s, t, f_check,
                  f0 + c1 * r.step * slope0);
            CHECK(fabs(slope) <= c2 * fabs(slope0), "start %d step %d: curvature |%g| > %g", s, t, slope, c2 * fabs(slope0));
            CHECK_NEAR(r.loss, f_check, 1e-12 * fmax(1.0, fabs(f_check)));
            CHECK_NEAR(x_new[0], x_check[0], 1e-15);
            CHECK(r.evaluations >= 1 && r.evaluations <= 30, "evaluations %d", r.evaluations);
        }
    // An ascent direction is an error, not a search.
    double x[2] = {0, 0}, g[2], up[2], x_new[2], g_new[2];
    double f0 = rosenbrock(NULL, x, g, 2);
    up[0] = g[0], up[1] = g[1];
    LineSearchResult r;
    Error error;
    CHECK(line_search_strong_wolfe(rosenbrock, NULL, 2, x, f0, g, up, 1.0, 1e-4, 0.9, 20, x_new, g_new, &r, &error) == -1,
          "an ascent direction was accepted");
}

// On a quadratic in dimension 3 with a near-exact line search, BFGS (L-BFGS with m >= n) is
// conjugate gradients: the minimum in about n iterations.
static void lbfgs_on_a_quadratic_is_conjugate_gradients(void) {
    double x[3] = {5, -3, 2};
    SecondOrderConfig config = second_order_default_config();
    config.c2 = 0.01;
    config.gradient_tolerance = 1e-10;
    SecondOrderResult result;
    Error error;
    REQUIRE(lbfgs_minimize(quadratic, NULL, 3, x, &config, NULL, &result, &error) == 0, "%s", error.message);
    CHECK(result.converged && result.iterations <= 5, "iterations %d, |g| %g", result.iterations, result.gradient_norm);
}

static void newton_solves_a_quadratic_in_one_step(void) {
    SecondOrderConfig config = second_order_default_config();
    config.gradient_tolerance = 1e-12;
    for (int differences = 0; differences < 2; differences++) {
        double x[3] = {5, -3, 2};
        SecondOrderResult result;
        Error error;
        REQUIRE(newton_minimize(quadratic, differences ? NULL : quadratic_hessian, NULL, 3, x, &config, NULL, &result,
                                &error) == 0, "%s", error.message);
        CHECK(result.converged, "differences %d: not converged, |g| %g", differences, result.gradient_norm);
        // Exact Hessian: x* = A⁻¹b in one step (the unit step satisfies Wolfe on a quadratic).
        if (!differences) CHECK(result.iterations == 1, "iterations %d", result.iterations);
        else CHECK(result.iterations <= 2, "iterations %d with differences", result.iterations);
        double g[3];
        quadratic(NULL, x, g, 3);
        for (int i = 0; i < 3; i++) CHECK_NEAR(g[i], 0.0, 1e-10);
    }
}

// A small softmax regression: N samples of D Gaussian features, K classes from a random
// linear model with Gumbel noise (so the classes overlap and the optimum is interior).
static void make_problem(SoftmaxRegression *model, int N, int D, int K, double l2, uint64_t seed) {
    Random rng;
    random_seed(&rng, seed);
    float *features = malloc((size_t)N * D * sizeof(float));
    int32_t *labels = malloc((size_t)N * sizeof(int32_t));
    double *w = malloc((size_t)K * D * sizeof(double));
    for (int q = 0; q < K * D; q++) w[q] = random_normal(&rng, 0.0f, 1.0f);
    for (int i = 0; i < N; i++) {
        double best = -INFINITY;
        for (int j = 0; j < D; j++) features[i * D + j] = (j % 3 == 2 && i % 2) ? 0.0f : random_normal(&rng, 0.0f, 1.0f);
        for (int k = 0; k < K; k++) {
            double z = -log(-log(random_uniform_double(&rng) + 1e-300));
            for (int j = 0; j < D; j++) z += w[k * D + j] * features[i * D + j];
            if (z > best) best = z, labels[i] = k;
        }
    }
    Error error;
    int status = softmax_regression_init(model, features, labels, N, D, K, l2, &error);
    free(features);
    free(labels);
    free(w);
    if (status) fprintf(stderr, "make_problem: %s\n", error.message);
}

static void newton_converges_quadratically(void) {
    SoftmaxRegression model;
    make_problem(&model, 300, 4, 3, 1e-3, 7);
    long n = softmax_regression_parameters(&model);
    double *x = calloc((size_t)n, sizeof(double));
    SecondOrderConfig config = second_order_default_config();
    config.gradient_tolerance = 1e-13;
    config.max_iterations = 30;
    SecondOrderTrace trace;
    SecondOrderResult result;
    Error error;
    REQUIRE(second_order_trace_init(&trace, 31, &error) == 0, "%s", error.message);
    REQUIRE(newton_minimize(softmax_regression_loss, softmax_regression_hessian, &model, n, x, &config, &trace, &result,
                            &error) == 0, "%s", error.message);
    CHECK(result.iterations <= 12, "Newton took %d iterations", result.iterations);
    CHECK(result.gradient_norm < 1e-10, "gradient norm %g", result.gradient_norm);
    // Quadratic convergence: once ‖g_k‖ < 0.1, ‖g_{k+1}‖ ≤ C ‖g_k‖² (the unit step is taken),
    // until rounding (1e-10 here) is reached. C = 10 holds here with a wide margin.
    int checked = 0;
    for (int k = 0; k + 1 < trace.count; k++) {
        double g = trace.gradient_norm[k], next = trace.gradient_norm[k + 1];
        if (g < 0.1 && next > 1e-10) {
            CHECK(next <= 10.0 * g * g, "iteration %d: |g| %g -> %g, not quadratic", k, g, next);
            checked++;
        }
    }
    CHECK(checked >= 2, "only %d steps in the quadratic regime", checked);
    // The same minimum from the differenced Hessian.
    double *y = calloc((size_t)n, sizeof(double));
    SecondOrderResult differenced;
    REQUIRE(newton_minimize(softmax_regression_loss, NULL, &model, n, y, &config, NULL, &differenced, &error) == 0, "%s",
            error.message);
    CHECK_NEAR(differenced.loss, result.loss, 1e-12);
    second_order_trace_free(&trace);
    free(x);
    free(y);
    softmax_regression_free(&model);
}

static void lbfgs_reaches_rosenbrock_minimum(void) {
    for (int memory = 1; memory <= 10; memory += 9) {
        double x[2] = {-1.2, 1.0};
        SecondOrderConfig config = second_order_default_config();
        config.memory = memory;
        config.max_iterations = 200;
        config.gradient_tolerance = 1e-10;
        SecondOrderTrace trace;
        SecondOrderResult result;
        Error error;
        REQUIRE(second_order_trace_init(&trace, 201, &error) == 0, "%s", error.message);
        REQUIRE(lbfgs_minimize(rosenbrock, NULL, 2, x, &config, &trace, &result, &error) == 0, "%s", error.message);
        CHECK(result.converged, "memory %d: not converged, |g| %g after %d", memory, result.gradient_norm, result.iterations);
        CHECK_NEAR(x[0], 1.0, 1e-6);
        CHECK_NEAR(x[1], 1.0, 1e-6);
        CHECK(result.loss < 1e-12, "memory %d: loss %g", memory, result.loss);
        if (memory == 10) CHECK(result.iterations <= 60, "iterations %d", result.iterations);
        // Every accepted step decreased the loss (sufficient decrease).
        for (int k = 1; k < trace.count; k++) CHECK(trace.loss[k] < trace.loss[k - 1], "loss rose at %d", k);
        second_order_trace_free(&trace);
    }
    // And Newton with the exact Hessian, through the Cholesky shift (the Hessian is indefinite
    // at some iterates of this path).
    double x[2] = {-1.2, 1.0};
    SecondOrderConfig config = second_order_default_config();
    config.gradient_tolerance = 1e-10;
    SecondOrderResult result;
    Error error;
    REQUIRE(newton_minimize(rosenbrock, rosenbrock_hessian, NULL, 2, x, &config, NULL, &result, &error) == 0, "%s",
            error.message);
    CHECK(result.converged && fabs(x[0] - 1) < 1e-8, "newton on Rosenbrock: x %g, |g| %g", x[0], result.gradient_norm);
}

static double max_difference(const double *a, const double *b, long count) {
    double largest = 0.0;
    for (long q = 0; q < count; q++) largest = fmax(largest, fabs(a[q] - b[q]));
    return largest;
}

static void fisher_closed_form_matches_outer_products_and_hessian(void) {
    SoftmaxRegression model;
    make_problem(&model, 60, 3, 3, 0.0, 11);
    long n = softmax_regression_parameters(&model);
    double *theta = malloc((size_t)n * sizeof(double)), *fisher = malloc((size_t)n * n * sizeof(double));
    double *outer = malloc((size_t)n * n * sizeof(double)), *empirical = malloc((size_t)n * n * sizeof(double));
    double *hessian = calloc((size_t)n * n, sizeof(double)), *g_plus = malloc((size_t)n * sizeof(double));
    double *g_minus = malloc((size_t)n * sizeof(double)), *v = malloc((size_t)n * sizeof(double));
    double *product = malloc((size_t)n * sizeof(double)), *dense_product = malloc((size_t)n * sizeof(double));
    Random rng;
    random_seed(&rng, 3);
    for (long q = 0; q < n; q++) theta[q] = 0.5 * random_standard_normal(&rng), v[q] = random_standard_normal(&rng);
    softmax_regression_fisher(&model, theta, fisher);
    softmax_regression_fisher_outer_product(&model, theta, 0, outer);
    softmax_regression_fisher_outer_product(&model, theta, 1, empirical);
    CHECK(max_difference(fisher, outer, n * n) < 1e-13, "closed form against E[g gᵀ]: %g", max_difference(fisher, outer, n * n));
    // The empirical Fisher is another matrix (here, away from the optimum, clearly so).
    CHECK(max_difference(fisher, empirical, n * n) > 1e-2, "empirical Fisher equals the Fisher: %g",
          max_difference(fisher, empirical, n * n));
    // F is the Hessian of the mean negative log-likelihood: central differences of the gradient.
    for (long j = 0; j < n; j++) {
        double saved = theta[j], h = 1e-5;
        theta[j] = saved + h;
        softmax_regression_loss(&model, theta, g_plus, n);
        theta[j] = saved - h;
        softmax_regression_loss(&model, theta, g_minus, n);
        theta[j] = saved;
        for (long i = 0; i < n; i++) hessian[i * n + j] = (g_plus[i] - g_minus[i]) / (2 * h);
    }
    CHECK(max_difference(fisher, hessian, n * n) < 1e-8, "Fisher against the differenced Hessian: %g",
          max_difference(fisher, hessian, n * n));
    // The one-pass product equals the dense matrix times v.
    softmax_regression_fisher_vector(&model, theta, v, product, n);
    for (long i = 0; i < n; i++) {
        dense_product[i] = 0.0;
        for (long j = 0; j < n; j++) dense_product[i] += fisher[i * n + j] * v[j];
    }
    CHECK(max_difference(product, dense_product, n) < 1e-12, "F v: %g", max_difference(product, dense_product, n));
    free(theta), free(fisher), free(outer), free(empirical), free(hessian);
    free(g_plus), free(g_minus), free(v), free(product), free(dense_product);
    softmax_regression_free(&model);
}

static void softmax_gradient_matches_differences(void) {
    SoftmaxRegression model;
    make_problem(&model, 40, 5, 4, 0.1, 5);
    long n = softmax_regression_parameters(&model);
    double *theta = malloc((size_t)n * sizeof(double)), *g = malloc((size_t)n * sizeof(double));
    double *scratch = malloc((size_t)n * sizeof(double));
    Random rng;
    random_seed(&rng, 9);
    for (long q = 0; q < n; q++) theta[q] = random_standard_normal(&rng);
    softmax_regression_loss(&model, theta, g, n);
    for (long q = 0; q < n; q++) {
        double saved = theta[q], h = 1e-6;
        theta[q] = saved + h;
        double plus = softmax_regression_loss(&model, theta, scratch, n);
        theta[q] = saved - h;
        double minus = softmax_regression_loss(&model, theta, scratch, n);
        theta[q] = saved;
        CHECK_NEAR(g[q], (plus - minus) / (2 * h), 1e-7);
    }
    free(theta), free(g), free(scratch);
    softmax_regression_free(&model);
}

// Newton-CG (exact and differenced products), the natural gradient and L-BFGS reach the
// minimum Newton finds.
static void every_method_reaches_softmax_minimum(void) {
    SoftmaxRegression model;
    make_problem(&model, 400, 6, 4, 1e-2, 13);
    long n = softmax_regression_parameters(&model);
    double *x = calloc((size_t)n, sizeof(double));
    SecondOrderConfig config = second_order_default_config();
    config.gradient_tolerance = 1e-9;  // the rounding floor of ‖g‖ is ~1e-10 here
    config.max_iterations = 200;
    SecondOrderResult newton, result;
    Error error;
    REQUIRE(newton_minimize(softmax_regression_loss, softmax_regression_hessian, &model, n, x, &config, NULL, &newton,
                            &error) == 0, "%s", error.message);
    REQUIRE(newton.converged, "newton |g| %g", newton.gradient_norm);
    for (int method = 0; method < 4; method++) {
        memset(x, 0, (size_t)n * sizeof(double));
        SecondOrderConfig c = config;
        c.damping = model.l2;  // with λ = the L2 coefficient, F + λI is the Hessian
        int status = method == 0   ? newton_cg_minimize(softmax_regression_loss, softmax_regression_hessian_vector, &model,
                                                        n, x, &c, NULL, &result, &error)
                     : method == 1 ? newton_cg_minimize(softmax_regression_loss, NULL, &model, n, x, &c, NULL, &result,
                                                        &error)
                     : method == 2 ? natural_gradient_minimize(softmax_regression_loss, softmax_regression_fisher_vector,
                                                               &model, n, x, &c, NULL, &result, &error)
                                   : lbfgs_minimize(softmax_regression_loss, &model, n, x, &c, NULL, &result, &error);
        REQUIRE(status == 0, "method %d: %s", method, error.message);
        CHECK(fabs(result.loss - newton.loss) < 1e-12, "method %d: loss %.15g, Newton %.15g", method, result.loss,
              newton.loss);
        CHECK(result.gradient_norm < 1e-7, "method %d: |g| %g", method, result.gradient_norm);
        if (method == 0) CHECK(result.matrix_vector_products > 0, "no Hessian-vector products counted");
        CHECK(result.evaluations == result.gradient_evaluations + result.matrix_vector_products, "evaluations");
    }
    free(x);
    softmax_regression_free(&model);
}

static void bad_input_is_refused(void) {
    Error error;
    SecondOrderConfig config = second_order_default_config();
    config.c2 = 1e-5;  // c2 < c1
    CHECK(second_order_config_check(&config, &error) == -1, "c2 < c1 accepted");
    config = second_order_default_config();
    config.memory = 0;
    CHECK(second_order_config_check(&config, &error) == -1, "memory 0 accepted");
    config = second_order_default_config();
    config.damping = -1;
    CHECK(second_order_config_check(&config, &error) == -1 && strstr(error.message, "damping"), "negative damping");
    config = second_order_default_config();
    config.damping = NAN;
    CHECK(second_order_config_check(&config, &error) == -1, "NaN damping accepted");
    double x[2] = {NAN, 1};
    SecondOrderResult result;
    config = second_order_default_config();
    CHECK(lbfgs_minimize(rosenbrock, NULL, 2, x, &config, NULL, &result, &error) == -1, "a NaN start accepted");
    CHECK(newton_minimize(rosenbrock, NULL, NULL, -3, x, &config, NULL, &result, &error) == -1 &&
              strstr(error.message, "-3 parameters"), "n = -3 accepted");
    SoftmaxRegression model;
    float features[4] = {1, 2, 3, 4};
    int32_t labels[2] = {0, 5};
    CHECK(softmax_regression_init(&model, features, labels, 2, 2, 3, 0.0, &error) == -1 && strstr(error.message, "label 5"),
          "a label out of range accepted");
    labels[1] = 1;
    features[3] = INFINITY;
    CHECK(softmax_regression_init(&model, features, labels, 2, 2, 3, 0.0, &error) == -1, "an infinite feature accepted");
    features[3] = 4;
    CHECK(softmax_regression_init(&model, features, labels, 2, 2, 3, -1.0, &error) == -1, "a negative L2 accepted");
}

static const CheckCase CASES[] = {
    {"line search points satisfy both Wolfe conditions", line_search_points_satisfy_both_wolfe_conditions},
    {"newton solves a quadratic in one step", newton_solves_a_quadratic_in_one_step},
    {"lbfgs on a quadratic is conjugate gradients", lbfgs_on_a_quadratic_is_conjugate_gradients},
    {"newton converges quadratically", newton_converges_quadratically},
    {"lbfgs reaches rosenbrock minimum", lbfgs_reaches_rosenbrock_minimum},
    {"fisher closed form matches outer products and hessian", fisher_closed_form_matches_outer_products_and_hessian},
    {"softmax gradient matches differences", softmax_gradient_matches_differences},
    {"every method reaches softmax minimum", every_method_reaches_softmax_minimum},
    {"bad input is refused", bad_input_is_refused},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
