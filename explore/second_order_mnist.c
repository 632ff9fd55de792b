// Second-order methods against Adam on MNIST logistic regression: see second_order_mnist.h.
#include "explore/second_order_mnist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "foundations/clock.h"
#include "foundations/idx.h"
#include "foundations/optimizer.h"
#include "foundations/second_order.h"
#include "foundations/softmax_regression.h"

static const double ADAM_GRID[SECOND_ORDER_ADAM_GRID] = {3e-3, 1e-2, 3e-2, 1e-1};
static const double OPTIMUM_GRADIENT_TOLERANCE = 1e-9;

SecondOrderMnistConfig second_order_mnist_defaults(void) {
    return (SecondOrderMnistConfig){.directory = "data/mnist", .images = 8000, .l2 = 1e-4, .tolerance = 1e-6,
                                    .adam_passes = 2000, .max_iterations = 300, .memory = 10, .damping = 1e-4};
}

void second_order_mnist_result_free(SecondOrderMnistResult *result) {
    for (int m = 0; m < SECOND_ORDER_MAX_METHODS; m++) {
        free(result->methods[m].passes);
        free(result->methods[m].gap);
    }
    memset(result, 0, sizeof *result);
}

static int check_config(const SecondOrderMnistConfig *c, Error *error) {
    if (explore_check_count(c->images, 10, "--images", error) || explore_check_count(c->adam_passes, 1, "--adam-passes", error) ||
        explore_check_count(c->max_iterations, 1, "--iterations", error) || explore_check_count(c->memory, 1, "--memory", error))
        return -1;
    if (explore_check_range(c->l2, 0, 1e3, 1, 0, "--l2", error) || explore_check_range(c->tolerance, 0, 1, 1, 0, "--tolerance", error) ||
        explore_check_range(c->damping, 0, 1e3, 1, 0, "--damping", error))
        return -1;
    // Where F has no curvature (pixels that are 0 in every image) the full natural-gradient step
    // is θ ← θ - (λ/damping) θ, which shrinks only for damping > λ/2.
    if (!(c->damping > c->l2 / 2))
        return error_set(error, "--damping %g must exceed half the --l2 %g (else the full step diverges where F is 0)",
                         c->damping, c->l2);
    return 0;
}

// A curve of raw losses (count) against passes; turned into gaps once f* is final.
typedef struct RawCurve {
    int count;
    double *loss, *seconds, *cpu_seconds;
    long *passes;
} RawCurve;

static int raw_curve_init(RawCurve *c, int capacity, Error *error) {
    memset(c, 0, sizeof *c);
    c->loss = malloc((size_t)capacity * sizeof(double));
    c->seconds = malloc((size_t)capacity * sizeof(double));
    c->cpu_seconds = malloc((size_t)capacity * sizeof(double));
    c->passes = malloc((size_t)capacity * sizeof(long));
    if (c->loss && c->seconds && c->cpu_seconds && c->passes) return 0;
    free(c->loss), free(c->seconds), free(c->cpu_seconds), free(c->passes);
    memset(c, 0, sizeof *c);
    return error_set(error, "out of memory for a curve of %d points", capacity);
}

static void raw_curve_free(RawCurve *c) {
    free(c->loss), free(c->seconds), free(c->cpu_seconds), free(c->passes);
    memset(c, 0, sizeof *c);
}

// One second-order method from θ = 0: its trace becomes the raw curve (the trace's arrays are
// taken over). which: 0 L-BFGS, 1 Newton-CG, 2 natural gradient.
static int run_method(SoftmaxRegression *model, int which, const SecondOrderMnistConfig *c, RawCurve *curve,
                      Error *error) {
    long n = softmax_regression_parameters(model);
    double *theta = calloc((size_t)n, sizeof(double));
    SecondOrderTrace trace;
    if (!theta || second_order_trace_init(&trace, c->max_iterations + 1, error)) {
        free(theta);
        return theta ? -1 : error_set(error, "out of memory");
    }
    SecondOrderConfig config = second_order_default_config();
    config.max_iterations = c->max_iterations;
    config.gradient_tolerance = 1e-8;
    config.memory = c->memory;
    config.damping = c->damping;
    SecondOrderResult result;
    model->forward_recomputations = 0;
    int status = which == 0 ? lbfgs_minimize(softmax_regression_loss, model, n, theta, &config, &trace, &result, error)
                 : which == 1 ? newton_cg_minimize(softmax_regression_loss, softmax_regression_hessian_vector, model, n,
                                                   theta, &config, &trace, &result, error)
                              : natural_gradient_minimize(softmax_regression_loss, softmax_regression_fisher_vector, model,
                                                          n, theta, &config, &trace, &result, error);
    free(theta);
    if (status) {
        second_order_trace_free(&trace);
        return -1;
    }
    // A forward a product had to redo (rare: the line search ended off its last point) is a
    // pass too; spread over the curve's end, where it happened, by adding it to the total.
    if (trace.count > 0) trace.evaluations[trace.count - 1] += model->forward_recomputations;
    *curve = (RawCurve){trace.count, trace.loss, trace.seconds, trace.cpu_seconds, trace.evaluations};
    free(trace.gradient_norm);
    return 0;
}

// Adam (foundations/optimizer.h, float parameters, default betas) at learning rate lr for
// passes steps from θ = 0: one pass per step, the loss recorded before each step and at the end.
static int run_adam(SoftmaxRegression *model, double lr, int passes, RawCurve *curve, Error *error) {
    long n = softmax_regression_parameters(model);
    if (raw_curve_init(curve, passes + 1, error)) return -1;
    Optimizer adam;
    OptimizerConfig config = optimizer_default_config(OPTIMIZER_ADAM);
    float *params = calloc((size_t)n, sizeof(float)), *grads = malloc((size_t)n * sizeof(float));
    double *theta = malloc((size_t)n * sizeof(double)), *gradient = malloc((size_t)n * sizeof(double));
    int status = -1;
    if (!params || !grads || !theta || !gradient) {
        error_set(error, "out of memory");
        goto done;
    }
    if (optimizer_init(&adam, &config, n, error)) goto done;
    double start = clock_seconds(), cpu_start = clock_cpu_seconds();
    for (int step = 0; step <= passes; step++) {
        for (long q = 0; q < n; q++) theta[q] = params[q];
        double loss = softmax_regression_loss(model, theta, gradient, n);
        curve->loss[step] = loss, curve->passes[step] = step + 1;
        curve->seconds[step] = clock_seconds() - start, curve->cpu_seconds[step] = clock_cpu_seconds() - cpu_start;
        curve->count = step + 1;
        if (!isfinite(loss)) break;
        for (long q = 0; q < n; q++) grads[q] = (float)gradient[q];
        if (step < passes) optimizer_step(&adam, params, grads, n, (float)lr);
    }
    optimizer_free(&adam);
    status = 0;
done:
    free(params), free(grads), free(theta), free(gradient);
    if (status) raw_curve_free(curve);
    return status;
}

// The first index from which the gap stays ≤ tolerance (-1 if the last point is above).
static int index_to_tolerance(const RawCurve *c, double optimum, double tolerance) {
    int last_above = c->count - 1;
    while (last_above >= 0 && c->loss[last_above] - optimum <= tolerance) last_above--;
    return last_above == c->count - 1 ? -1 : last_above + 1;
}

// The raw curve against the final f* into a MethodCurve (which takes floats for the plot).
static int summarise(const RawCurve *raw, double optimum, double tolerance, const char *name, double lr,
                     MethodCurve *out, Error *error) {
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->passes = malloc((size_t)raw->count * sizeof(float));
    out->gap = malloc((size_t)raw->count * sizeof(float));
    if (!out->passes || !out->gap) return error_set(error, "out of memory");
    out->count = raw->count;
    for (int k = 0; k < raw->count; k++) {
        out->passes[k] = (float)raw->passes[k];
        out->gap[k] = (float)(raw->loss[k] - optimum);
    }
    int reached = index_to_tolerance(raw, optimum, tolerance);
    out->passes_to_tolerance = reached >= 0 ? raw->passes[reached] : -1;
    out->seconds_to_tolerance = reached >= 0 ? raw->seconds[reached] : -1;
    out->cpu_to_tolerance = reached >= 0 ? raw->cpu_seconds[reached] : -1;
    out->final_gap = raw->loss[raw->count - 1] - optimum;
    out->total_passes = raw->passes[raw->count - 1];
    out->seconds = raw->seconds[raw->count - 1];
    out->learning_rate = lr;
    return 0;
}

// f* by Newton-CG until ‖∇f‖ ≤ 1e-9 (or it stalls at rounding), and the optimum's accuracy.
static int find_optimum(SoftmaxRegression *model, SecondOrderMnistResult *r, Error *error) {
    long n = softmax_regression_parameters(model);
    double *theta = calloc((size_t)n, sizeof(double));
    if (!theta) return error_set(error, "out of memory");
    SecondOrderConfig config = second_order_default_config();
    config.max_iterations = 200;
    config.gradient_tolerance = OPTIMUM_GRADIENT_TOLERANCE;
    config.max_cg_iterations = 500;
    SecondOrderResult result;
    double start = clock_seconds();
    if (newton_cg_minimize(softmax_regression_loss, softmax_regression_hessian_vector, model, n, theta, &config, NULL,
                           &result, error)) {
        free(theta);
        return -1;
    }
    r->optimum = result.loss, r->optimum_gradient_norm = result.gradient_norm;
    r->optimum_seconds = clock_seconds() - start, r->optimum_passes = result.evaluations;
    // Accuracy from the cached probabilities: the last evaluation was at or near θ*, so evaluate there.
    double *gradient = malloc((size_t)n * sizeof(double));
    if (!gradient) {
        free(theta);
        return error_set(error, "out of memory");
    }
    softmax_regression_loss(model, theta, gradient, n);
    int correct = 0, K = model->n_classes;
    for (int i = 0; i < model->n_samples; i++) {
        const double *p = model->probabilities + (size_t)i * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (p[k] > p[best]) best = k;
        correct += best == model->labels[i];
    }
    r->train_accuracy = (double)correct / model->n_samples;
    free(theta), free(gradient);
    return 0;
}

static int load_model(const SecondOrderMnistConfig *c, SoftmaxRegression *model, Error *error) {
    MnistSet set;
    if (mnist_load(c->directory, "train", &set, error)) return -1;
    int images = c->images < set.count ? c->images : set.count;
    int status = softmax_regression_init(model, set.images, set.labels, images, set.height * set.width, 10, c->l2, error);
    mnist_free(&set);
    return status;
}

int explore_second_order_mnist(const SecondOrderMnistConfig *c, SecondOrderMnistResult *r, Error *error) {
    memset(r, 0, sizeof *r);
    if (check_config(c, error)) return -1;
    SoftmaxRegression model;
    if (load_model(c, &model, error)) return -1;
    r->images = model.n_samples, r->parameters = softmax_regression_parameters(&model);
    RawCurve raw[3 + SECOND_ORDER_ADAM_GRID];
    memset(raw, 0, sizeof raw);
    int status = -1;
    if (find_optimum(&model, r, error)) goto done;
    for (int m = 0; m < 3; m++)
        if (run_method(&model, m, c, &raw[m], error)) goto done;
    for (int g = 0; g < SECOND_ORDER_ADAM_GRID; g++)
        if (run_adam(&model, ADAM_GRID[g], c->adam_passes, &raw[3 + g], error)) goto done;
    // f*: Newton-CG's, or lower if any run went below it by rounding, so every gap is ≥ 0.
    for (int m = 0; m < 3 + SECOND_ORDER_ADAM_GRID; m++)
        for (int k = 0; k < raw[m].count; k++) r->optimum = fmin(r->optimum, raw[m].loss[k]);
    int best_adam = 3;
    for (int g = 0; g < SECOND_ORDER_ADAM_GRID; g++) {
        const RawCurve *a = &raw[3 + g];
        int reached = index_to_tolerance(a, r->optimum, c->tolerance);
        r->adam_grid[g] = ADAM_GRID[g];
        r->adam_grid_passes[g] = reached >= 0 ? a->passes[reached] : -1;
        r->adam_grid_gap[g] = a->loss[a->count - 1] - r->optimum;
        // The best rate: fewest passes to the tolerance, else the lowest final gap.
        int best_reached = index_to_tolerance(&raw[best_adam], r->optimum, c->tolerance);
        double best_gap = raw[best_adam].loss[raw[best_adam].count - 1] - r->optimum;
        int better = reached >= 0 ? (best_reached < 0 || reached < best_reached)
                                  : (best_reached < 0 && r->adam_grid_gap[g] < best_gap);
        if (better) best_adam = 3 + g;
    }
    const char *names[3] = {"L-BFGS", "Newton-CG", "natural gradient"};
    char adam_name[48];
    snprintf(adam_name, sizeof adam_name, "Adam (lr %g)", ADAM_GRID[best_adam - 3]);
    for (int m = 0; m < 3; m++)
        if (summarise(&raw[m], r->optimum, c->tolerance, names[m], 0.0, &r->methods[m], error)) goto done;
    if (summarise(&raw[best_adam], r->optimum, c->tolerance, adam_name, ADAM_GRID[best_adam - 3], &r->methods[3], error))
        goto done;
    r->n_methods = 4;
    status = 0;
done:
    for (int m = 0; m < 3 + SECOND_ORDER_ADAM_GRID; m++) raw_curve_free(&raw[m]);
    softmax_regression_free(&model);
    if (status) second_order_mnist_result_free(r);
    return status;
}
