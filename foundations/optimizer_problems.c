// Test problems for optimizers (see optimizer_problems.h for the math) and the runner.
#include "foundations/optimizer_problems.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/random.h"

// ---------------------------------------------------------------------------------------
// Rosenbrock: f = (1 - x)² + 100 (y - x²)²
//   df/dx = -2 (1 - x) - 400 x (y - x²),   df/dy = 200 (y - x²)

static double rosenbrock(void *context, const float *params, float *grads, long n) {
    (void)context;
    (void)n;
    double x = params[0], y = params[1];
    double a = 1.0 - x, b = y - x * x;
    grads[0] = (float)(-2.0 * a - 400.0 * x * b);
    grads[1] = (float)(200.0 * b);
    return a * a + 100.0 * b * b;
}

static double rosenbrock_double(void *context, const double *params, double *grads, long n) {
    (void)context, (void)n;
    double x = params[0], y = params[1], a = 1.0 - x, b = y - x * x;
    grads[0] = -2.0 * a - 400.0 * x * b;
    grads[1] = 200.0 * b;
    return a * a + 100.0 * b * b;
}

// ∂²f/∂x² = 2 - 400 (y - x²) + 800 x²,  ∂²f/∂x∂y = -400 x,  ∂²f/∂y² = 200
static void rosenbrock_hessian(void *context, const double *params, double *hessian, long n) {
    (void)context, (void)n;
    double x = params[0], y = params[1];
    hessian[0] = 2.0 - 400.0 * (y - x * x) + 800.0 * x * x;
    hessian[1] = hessian[2] = -400.0 * x;
    hessian[3] = 200.0;
}

int optimizer_problem_rosenbrock(OptimizerProblem *problem, Error *error) {
    memset(problem, 0, sizeof *problem);
    problem->name = "rosenbrock";
    problem->n = 2;
    problem->loss_minimum = 0.0;
    problem->loss_and_gradient = rosenbrock;
    problem->objective = rosenbrock_double;
    problem->hessian = rosenbrock_hessian;
    if (!(problem->start = malloc(2 * sizeof(float)))) return error_set(error, "rosenbrock: out of memory");
    problem->start[0] = -1.2f;
    problem->start[1] = 1.0f;
    return 0;
}

// ---------------------------------------------------------------------------------------
// Quadratic: f = ½ xᵀ A x, grad = A x. A (dim, dim) row-major, symmetric positive definite.

typedef struct Quadratic {
    int dim;
    double *matrix;   // (dim, dim)
    double *scratch;  // (2 dim) the float interface's parameters and gradient in double
} Quadratic;

static double quadratic_double(void *context, const double *params, double *grads, long n) {
    const Quadratic *q = context;
    (void)n;
    double loss = 0.0;
    for (int i = 0; i < q->dim; i++) {
        double row = 0.0;
        for (int j = 0; j < q->dim; j++) row += q->matrix[i * q->dim + j] * params[j];
        grads[i] = row;
        loss += 0.5 * params[i] * row;
    }
    return loss;
}

// The float interface through the double one (scratch: 2 dim doubles in the context).
static double quadratic(void *context, const float *params, float *grads, long n) {
    Quadratic *q = context;
    for (int i = 0; i < q->dim; i++) q->scratch[i] = params[i];
    double loss = quadratic_double(q, q->scratch, q->scratch + q->dim, n);
    for (int i = 0; i < q->dim; i++) grads[i] = (float)q->scratch[q->dim + i];
    return loss;
}

static void quadratic_hessian(void *context, const double *params, double *hessian, long n) {
    const Quadratic *q = context;
    (void)params;
    memcpy(hessian, q->matrix, (size_t)n * n * sizeof(double));
}

int optimizer_problem_quadratic(OptimizerProblem *problem, int dim, double condition, uint64_t seed, Error *error) {
    memset(problem, 0, sizeof *problem);
    if (dim < 2) return error_set(error, "quadratic: dim %d, need at least 2", dim);
    if (!(condition >= 1.0) || !isfinite(condition)) return error_set(error, "quadratic: condition %g must be >= 1", condition);
    Quadratic *q = calloc(1, sizeof *q);
    double *rotation = malloc((size_t)dim * dim * sizeof(double));
    if (q) q->matrix = calloc((size_t)dim * dim, sizeof(double)), q->scratch = malloc((size_t)2 * dim * sizeof(double));
    problem->start = malloc((size_t)dim * sizeof(float));
    if (!q || !q->matrix || !q->scratch || !rotation || !problem->start) {
        if (q) free(q->matrix), free(q->scratch);
        free(q);
        free(rotation);
        free(problem->start);
        problem->start = NULL;
        return error_set(error, "quadratic: out of memory");
    }
    q->dim = dim;
    Random rng;
    random_seed(&rng, seed);

    // A random rotation: Gram-Schmidt on the rows of a Gaussian matrix.
    for (int i = 0; i < dim * dim; i++) rotation[i] = random_normal(&rng, 0.0f, 1.0f);
    for (int i = 0; i < dim; i++) {
        double *row = rotation + (size_t)i * dim;
        for (int k = 0; k < i; k++) {
            const double *previous = rotation + (size_t)k * dim;
            double dot = 0.0;
            for (int j = 0; j < dim; j++) dot += row[j] * previous[j];
            for (int j = 0; j < dim; j++) row[j] -= dot * previous[j];
        }
        double norm = 0.0;
        for (int j = 0; j < dim; j++) norm += row[j] * row[j];
        norm = sqrt(norm);
        for (int j = 0; j < dim; j++) row[j] /= norm;
    }
    // A = Σ_k λ_k q_k q_kᵀ with λ_k = condition^(k/(dim-1)), q_k the rows of the rotation.
    for (int k = 0; k < dim; k++) {
        double eigenvalue = pow(condition, (double)k / (dim - 1));
        const double *qk = rotation + (size_t)k * dim;
        for (int i = 0; i < dim; i++)
            for (int j = 0; j < dim; j++) q->matrix[i * dim + j] += eigenvalue * qk[i] * qk[j];
    }
    free(rotation);

    for (int i = 0; i < dim; i++) problem->start[i] = 1.0f;  // loss at start of order dim·mean(λ)/2
    problem->name = "quadratic";
    problem->n = dim;
    problem->loss_minimum = 0.0;
    problem->loss_and_gradient = quadratic;
    problem->objective = quadratic_double;
    problem->hessian = quadratic_hessian;
    problem->context = q;
    return 0;
}

// ---------------------------------------------------------------------------------------
// Logistic regression: f(w) = mean_i [softplus(z_i) - y_i z_i],  z_i = w · [x_i, 1]
//   df/dw = mean_i (σ(z_i) - y_i) [x_i, 1]

typedef struct Logistic {
    int n_samples, n_features;
    float *features;  // (n_samples, n_features)
    float *labels;    // (n_samples) 0 or 1
} Logistic;

// log(1 + e^z) without overflow for large |z|.
static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }
static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

// The same loss in double for double weights (Newton's method needs it).
static double logistic_loss_double(const Logistic *l, const double *weights, double *grads, double *hessian) {
    int d = l->n_features + 1;
    if (grads) memset(grads, 0, (size_t)d * sizeof(double));
    if (hessian) memset(hessian, 0, (size_t)d * d * sizeof(double));
    double loss = 0.0;
    for (int i = 0; i < l->n_samples; i++) {
        const float *x = l->features + (size_t)i * l->n_features;
        double z = weights[d - 1];
        for (int j = 0; j < l->n_features; j++) z += weights[j] * x[j];
        loss += softplus(z) - l->labels[i] * z;
        double s = sigmoid(z);
        for (int j = 0; j < d; j++) {
            double xj = j < l->n_features ? x[j] : 1.0;
            if (grads) grads[j] += (s - l->labels[i]) * xj;
            if (hessian)  // H = mean_i σ(1-σ) x xᵀ
                for (int k = 0; k < d; k++) hessian[j * d + k] += s * (1.0 - s) * xj * (k < l->n_features ? x[k] : 1.0);
        }
    }
    double scale = 1.0 / l->n_samples;
    if (grads)
        for (int j = 0; j < d; j++) grads[j] *= scale;
    if (hessian)
        for (int j = 0; j < d * d; j++) hessian[j] *= scale;
    return loss * scale;
}

static double logistic(void *context, const float *params, float *grads, long n) {
    const Logistic *l = context;
    (void)n;  // n = n_features + 1
    double weights[64] = {0}, grads_double[64];
    for (int j = 0; j <= l->n_features; j++) weights[j] = params[j];
    double loss = logistic_loss_double(l, weights, grads_double, NULL);
    for (int j = 0; j <= l->n_features; j++) grads[j] = (float)grads_double[j];
    return loss;
}

static double logistic_double(void *context, const double *params, double *grads, long n) {
    (void)n;
    return logistic_loss_double(context, params, grads, NULL);
}

// H = mean_i σ(1-σ) x̃ x̃ᵀ, which is also the Fisher information of this likelihood.
static void logistic_hessian(void *context, const double *params, double *hessian, long n) {
    const Logistic *l = context;
    double grads[64];
    (void)n;
    logistic_loss_double(l, params, grads, hessian);
}

int optimizer_problem_logistic(OptimizerProblem *problem, int n_samples, int n_features, uint64_t seed, Error *error) {
    memset(problem, 0, sizeof *problem);
    if (n_samples < 1) return error_set(error, "logistic: n_samples %d, need at least 1", n_samples);
    if (n_features < 1 || n_features > 63) return error_set(error, "logistic: n_features %d not in [1, 63]", n_features);
    int d = n_features + 1;
    Logistic *l = calloc(1, sizeof *l);
    if (l) {
        l->features = malloc((size_t)n_samples * n_features * sizeof(float));
        l->labels = malloc((size_t)n_samples * sizeof(float));
    }
    problem->start = calloc((size_t)d, sizeof(float));  // start at w = 0
    if (!l || !l->features || !l->labels || !problem->start) {
        if (l) {
            free(l->features);
            free(l->labels);
        }
        free(l);
        free(problem->start);
        problem->start = NULL;
        return error_set(error, "logistic: out of memory");
    }
    l->n_samples = n_samples;
    l->n_features = n_features;
    Random rng;
    random_seed(&rng, seed);
    double true_weights[64];
    for (int j = 0; j < d; j++) true_weights[j] = random_normal(&rng, 0.0f, 1.5f);
    for (int i = 0; i < n_samples; i++) {
        float *x = l->features + (size_t)i * n_features;
        double z = true_weights[d - 1];
        for (int j = 0; j < n_features; j++) {
            x[j] = random_normal(&rng, 0.0f, 1.0f);
            z += true_weights[j] * x[j];
        }
        l->labels[i] = random_uniform_double(&rng) < sigmoid(z) ? 1.0f : 0.0f;
    }

    // The minimum by Newton's method (second_order.h). Converges in a few steps unless the data
    // are separable (then there is no minimum; a small sample can be).
    double weights[64] = {0};
    SecondOrderConfig newton = second_order_default_config();
    newton.max_iterations = 50;
    newton.gradient_tolerance = 1e-10;
    SecondOrderResult result;
    Error newton_error;
    if (newton_minimize(logistic_double, logistic_hessian, l, d, weights, &newton, NULL, &result, &newton_error) ||
        !(result.gradient_norm < 1e-8)) {
        free(l->features);
        free(l->labels);
        free(l);
        free(problem->start);
        problem->start = NULL;
        return error_set(error, "logistic: Newton's method did not converge (separable data? use more samples)");
    }
    double loss = result.loss;
    problem->name = "logistic";
    problem->n = d;
    problem->loss_minimum = loss;
    problem->loss_and_gradient = logistic;
    problem->objective = logistic_double;
    problem->hessian = logistic_hessian;
    problem->fisher = logistic_hessian;
    problem->context = l;
    return 0;
}

void optimizer_problem_free(OptimizerProblem *problem) {
    if (problem->loss_and_gradient == quadratic && problem->context) {
        Quadratic *q = problem->context;
        free(q->matrix);
        free(q->scratch);
    } else if (problem->loss_and_gradient == logistic && problem->context) {
        Logistic *l = problem->context;
        free(l->features);
        free(l->labels);
    }
    free(problem->context);
    free(problem->start);
    memset(problem, 0, sizeof *problem);
}

// ---------------------------------------------------------------------------------------
// The runner.

int optimizer_run(const OptimizerProblem *problem, const OptimizerConfig *config, float lr, int n_steps, double tolerance,
                  double *losses, OptimizerRun *run, Error *error) {
    run->steps_to_tolerance = -1;
    run->final_loss = NAN;
    if (n_steps < 0) return error_set(error, "optimizer run: n_steps %d must be >= 0", n_steps);
    Optimizer optimizer;
    if (optimizer_init(&optimizer, config, problem->n, error)) return -1;
    float *params = malloc((size_t)problem->n * sizeof(float));
    float *grads = malloc((size_t)problem->n * sizeof(float));
    if (!params || !grads) {
        free(params);
        free(grads);
        optimizer_free(&optimizer);
        return error_set(error, "optimizer run: out of memory");
    }
    memcpy(params, problem->start, (size_t)problem->n * sizeof(float));

    double loss = 0.0;
    int last_above = -1;  // the last step whose loss was above the tolerance
    for (int step = 0; step <= n_steps; step++) {
        loss = problem->loss_and_gradient(problem->context, params, grads, problem->n);
        if (losses) losses[step] = loss;
        if (!isfinite(loss)) {
            if (losses)
                for (int rest = step + 1; rest <= n_steps; rest++) losses[rest] = loss;
            last_above = n_steps;
            break;
        }
        if (!(loss - problem->loss_minimum <= tolerance)) last_above = step;
        if (step < n_steps) optimizer_step(&optimizer, params, grads, problem->n, lr);
    }
    if (last_above < n_steps) run->steps_to_tolerance = last_above + 1;
    run->final_loss = loss;
    free(params);
    free(grads);
    optimizer_free(&optimizer);
    return 0;
}

int optimizer_run_is_better(const OptimizerRun *a, const OptimizerRun *b) {
    if (a->steps_to_tolerance >= 0 || b->steps_to_tolerance >= 0) {
        if (a->steps_to_tolerance < 0) return 0;
        if (b->steps_to_tolerance < 0) return 1;
        return a->steps_to_tolerance < b->steps_to_tolerance;
    }
    if (!isfinite(a->final_loss)) return 0;
    return !isfinite(b->final_loss) || a->final_loss < b->final_loss;
}

int optimizer_choose_lr(const OptimizerProblem *problem, const OptimizerConfig *config, const float *grid, int n_grid,
                        int n_steps, double tolerance, double *losses, OptimizerChoice *out, Error *error) {
    if (n_grid < 1) return error_set(error, "optimizer_choose_lr: an empty grid");
    for (int g = 0; g < n_grid; g++) {
        OptimizerRun run;
        if (optimizer_run(problem, config, grid[g], n_steps, tolerance, NULL, &run, error)) return -1;
        if (g == 0 || optimizer_run_is_better(&run, &out->run)) {
            out->run = run;
            out->lr = grid[g];
        }
    }
    // The chosen run again, this time keeping its curve.
    if (losses && optimizer_run(problem, config, out->lr, n_steps, tolerance, losses, &out->run, error)) return -1;
    LrFinderConfig finder = {.lr_start = 1e-6f, .lr_end = 10.0f, .n_steps = 100, .divergence_factor = 4.0f, .smoothing = 0.9f};
    LrFinderResult found;
    if (lr_finder(config, &finder, problem->start, problem->n, problem->loss_and_gradient, problem->context, &found, error))
        return -1;
    out->finder_lr = found.steepest_lr;
    lr_finder_result_free(&found);
    return 0;
}

// ---------------------------------------------------------------------------------------
// The second-order methods on the problems.

const char *second_order_method_name(SecondOrderMethod method) {
    static const char *names[N_SECOND_ORDER_METHODS] = {"newton", "newton-differences", "l-bfgs", "natural-gradient"};
    return (int)method >= 0 && (int)method < N_SECOND_ORDER_METHODS ? names[method] : "?";
}

// F v from the problem's dense Fisher (the natural gradient wants products); the natural
// gradient passes one context to both callbacks, so the objective is forwarded too.
typedef struct DenseFisher {
    const OptimizerProblem *problem;
    double *matrix;  // (n, n)
} DenseFisher;

static double dense_fisher_objective(void *context, const double *x, double *gradient, long n) {
    const DenseFisher *f = context;
    return f->problem->objective(f->problem->context, x, gradient, n);
}

static void dense_fisher_vector(void *context, const double *x, const double *v, double *product, long n) {
    DenseFisher *f = context;
    f->problem->fisher(f->problem->context, x, f->matrix, n);
    for (long i = 0; i < n; i++) {
        double sum = 0.0;
        for (long j = 0; j < n; j++) sum += f->matrix[i * n + j] * v[j];
        product[i] = sum;
    }
}

int optimizer_run_second_order(const OptimizerProblem *problem, SecondOrderMethod method, int max_iterations,
                               double tolerance, SecondOrderTrace *trace, SecondOrderRun *run, Error *error) {
    memset(run, 0, sizeof *run);
    run->iterations_to_tolerance = -1, run->evaluations_to_tolerance = -1, run->final_loss = NAN;
    if (method == SECOND_ORDER_NATURAL_GRADIENT && !problem->fisher) return 0;
    long n = problem->n;
    double *x = malloc((size_t)n * sizeof(double));
    DenseFisher fisher = {problem, method == SECOND_ORDER_NATURAL_GRADIENT ? malloc((size_t)n * n * sizeof(double)) : NULL};
    if (!x || (method == SECOND_ORDER_NATURAL_GRADIENT && !fisher.matrix)) {
        free(x), free(fisher.matrix);
        return error_set(error, "%s: out of memory", second_order_method_name(method));
    }
    for (long i = 0; i < n; i++) x[i] = problem->start[i];
    SecondOrderConfig config = second_order_default_config();
    config.max_iterations = max_iterations;
    config.gradient_tolerance = 1e-10;
    config.damping = 1e-4;
    SecondOrderResult result;
    trace->count = 0;
    int status = method == SECOND_ORDER_NEWTON ? newton_minimize(problem->objective, problem->hessian, problem->context, n, x,
                                                                 &config, trace, &result, error)
                 : method == SECOND_ORDER_NEWTON_DIFFERENCES
                     ? newton_minimize(problem->objective, NULL, problem->context, n, x, &config, trace, &result, error)
                 : method == SECOND_ORDER_LBFGS
                     ? lbfgs_minimize(problem->objective, problem->context, n, x, &config, trace, &result, error)
                     : natural_gradient_minimize(dense_fisher_objective, dense_fisher_vector, &fisher, n, x, &config, trace,
                                                 &result, error);
    free(x), free(fisher.matrix);
    if (status) return error_prefix(error, "%s on %s", second_order_method_name(method), problem->name);
    run->available = 1;
    run->iterations = result.iterations, run->evaluations = result.evaluations, run->final_loss = result.loss;
    int last_above = trace->count - 1;
    while (last_above >= 0 && trace->loss[last_above] - problem->loss_minimum <= tolerance) last_above--;
    if (last_above < trace->count - 1) {
        run->iterations_to_tolerance = last_above + 1;
        run->evaluations_to_tolerance = trace->evaluations[last_above + 1];
    }
    return 0;
}
