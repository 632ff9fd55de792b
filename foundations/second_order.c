// Second-order methods: see second_order.h for the math and the sources.
#include "foundations/second_order.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"

SecondOrderConfig second_order_default_config(void) {
    return (SecondOrderConfig){.max_iterations = 100, .gradient_tolerance = 1e-8, .c1 = 1e-4, .c2 = 0.9,
                               .max_line_search = 20, .memory = 10, .finite_difference_step = 1e-5,
                               .max_cg_iterations = 100, .damping = 1e-3, .learning_rate = 1.0, .cg_tolerance = 1e-2};
}

int second_order_config_check(const SecondOrderConfig *c, Error *error) {
    if (c->max_iterations < 0) return error_set(error, "max_iterations %d must be >= 0", c->max_iterations);
    if (!(c->gradient_tolerance >= 0)) return error_set(error, "gradient tolerance %g must be >= 0", c->gradient_tolerance);
    if (!(c->c1 > 0 && c->c1 < c->c2 && c->c2 < 1))
        return error_set(error, "Wolfe constants c1 %g, c2 %g: need 0 < c1 < c2 < 1", c->c1, c->c2);
    if (c->max_line_search < 1) return error_set(error, "max_line_search %d must be >= 1", c->max_line_search);
    if (c->memory < 1) return error_set(error, "L-BFGS memory %d must be >= 1", c->memory);
    if (!(c->finite_difference_step > 0 && isfinite(c->finite_difference_step)))
        return error_set(error, "finite-difference step %g must be > 0", c->finite_difference_step);
    if (c->max_cg_iterations < 1) return error_set(error, "max_cg_iterations %d must be >= 1", c->max_cg_iterations);
    if (!(c->damping > 0 && isfinite(c->damping))) return error_set(error, "damping %g must be > 0", c->damping);
    if (!(c->learning_rate > 0 && isfinite(c->learning_rate)))
        return error_set(error, "learning rate %g must be > 0", c->learning_rate);
    if (!(c->cg_tolerance > 0 && c->cg_tolerance < 1))
        return error_set(error, "CG tolerance %g must be in (0, 1)", c->cg_tolerance);
    return 0;
}

int second_order_trace_init(SecondOrderTrace *trace, int capacity, Error *error) {
    memset(trace, 0, sizeof *trace);
    if (capacity < 1) return error_set(error, "trace capacity %d must be >= 1", capacity);
    trace->loss = malloc((size_t)capacity * sizeof(double));
    trace->gradient_norm = malloc((size_t)capacity * sizeof(double));
    trace->evaluations = malloc((size_t)capacity * sizeof(long));
    trace->seconds = malloc((size_t)capacity * sizeof(double));
    trace->cpu_seconds = malloc((size_t)capacity * sizeof(double));
    if (!trace->loss || !trace->gradient_norm || !trace->evaluations || !trace->seconds || !trace->cpu_seconds) {
        second_order_trace_free(trace);
        return error_set(error, "out of memory for a trace of %d entries", capacity);
    }
    trace->capacity = capacity;
    return 0;
}

void second_order_trace_free(SecondOrderTrace *trace) {
    free(trace->loss);
    free(trace->gradient_norm);
    free(trace->evaluations);
    free(trace->seconds);
    free(trace->cpu_seconds);
    memset(trace, 0, sizeof *trace);
}

// ---------------------------------------------------------------------------------------
// Small vector helpers (double, n entries).

static double dot(const double *a, const double *b, long n) {
    double sum = 0.0;
    for (long i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static double norm(const double *a, long n) { return sqrt(dot(a, a, n)); }

// y += alpha x
static void axpy(double *y, double alpha, const double *x, long n) {
    for (long i = 0; i < n; i++) y[i] += alpha * x[i];
}

// What every minimiser does after an update: the result's counters and the trace.
typedef struct Progress {
    SecondOrderResult *result;
    SecondOrderTrace *trace;
    double start, cpu_start;
} Progress;

static void progress_record(Progress *p, double loss, double gradient_norm) {
    SecondOrderResult *r = p->result;
    r->evaluations = r->gradient_evaluations + r->matrix_vector_products;
    r->loss = loss;
    r->gradient_norm = gradient_norm;
    SecondOrderTrace *t = p->trace;
    if (!t || t->count >= t->capacity) return;
    t->loss[t->count] = loss;
    t->gradient_norm[t->count] = gradient_norm;
    t->evaluations[t->count] = r->evaluations;
    t->seconds[t->count] = clock_seconds() - p->start;
    t->cpu_seconds[t->count] = clock_cpu_seconds() - p->cpu_start;
    t->count++;
}

// Checks the config, evaluates f and ∇f at the start and records it. gradient (n) is filled.
static int start(ObjectiveFunction f, void *context, long n, const double *x, const SecondOrderConfig *config,
                 double *gradient, double *loss, Progress *progress, Error *error) {
    memset(progress->result, 0, sizeof *progress->result);
    progress->start = clock_seconds();
    progress->cpu_start = clock_cpu_seconds();
    if (second_order_config_check(config, error)) return -1;
    *loss = f(context, x, gradient, n);
    progress->result->gradient_evaluations = 1;
    double g = norm(gradient, n);
    if (!isfinite(*loss) || !isfinite(g)) return error_set(error, "the loss or its gradient is not finite at the start");
    progress_record(progress, *loss, g);
    return 0;
}

// The scratch vectors of a minimiser: count (n) doubles in one block (NULL, with the error set
// and the result cleared, when memory runs out).
static double *allocate_vectors(long n, long count, SecondOrderResult *result, const char *method, Error *error) {
    memset(result, 0, sizeof *result);
    if (n < 1) {
        error_set(error, "%s: the problem has %ld parameters, need at least 1", method, n);
        return NULL;
    }
    double *buffer = malloc(((size_t)n * count + 1) * sizeof(double));
    if (!buffer) error_set(error, "%s: out of memory for %ld parameters", method, n);
    return buffer;
}

// ---------------------------------------------------------------------------------------
// Line search (N&W Alg. 3.5 and 3.6). φ(α) = f(x + αd), φ'(α) = ∇f(x + αd)ᵀd.

typedef struct Point {
    double step, loss, slope;  // α, φ(α), φ'(α)
} Point;

// Evaluates φ and φ' at step into x_new and gradient_new. A non-finite loss gives slope NaN,
// which every test below treats as failure.
static Point evaluate(ObjectiveFunction f, void *context, long n, const double *x, const double *direction, double step,
                      double *x_new, double *gradient_new) {
    for (long i = 0; i < n; i++) x_new[i] = x[i] + step * direction[i];
    double loss = f(context, x_new, gradient_new, n);
    double slope = isfinite(loss) ? dot(gradient_new, direction, n) : NAN;
    return (Point){step, isfinite(loss) ? loss : INFINITY, slope};
}

// The minimiser of the cubic through (a, φ(a), φ'(a)) and (b, φ(b), φ'(b)) (N&W eq. 3.59),
// kept at least a tenth of the interval from its ends; the midpoint when the cubic has no
// minimum there or a value is not finite.
static double cubic_step(Point a, Point b) {
    double d1 = a.slope + b.slope - 3.0 * (a.loss - b.loss) / (a.step - b.step);
    double d2 = (b.step > a.step ? 1.0 : -1.0) * sqrt(d1 * d1 - a.slope * b.slope);
    double step = b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
    double low = fmin(a.step, b.step), high = fmax(a.step, b.step), margin = 0.1 * (high - low);
    if (!(step >= low + margin && step <= high - margin)) step = 0.5 * (a.step + b.step);
    return step;
}

typedef struct Search {
    ObjectiveFunction f;
    void *context;
    long n;
    const double *x, *direction;
    double *x_new, *gradient_new;  // the last trial point
    double *x_low, *gradient_low;  // the point of `low`
    double loss0, slope0, c1, c2;
    int evaluations, max_evaluations;
} Search;

static int sufficient_decrease(const Search *s, Point p) { return p.loss <= s->loss0 + s->c1 * p.step * s->slope0; }
static int curvature(const Search *s, Point p) { return fabs(p.slope) <= -s->c2 * s->slope0; }

static void keep_low(Search *s) {
    memcpy(s->x_low, s->x_new, (size_t)s->n * sizeof(double));
    memcpy(s->gradient_low, s->gradient_new, (size_t)s->n * sizeof(double));
}

// Alg. 3.6: low satisfies sufficient decrease and has the lowest φ so far; the interval between
// low and high holds steps with both Wolfe conditions. Returns 1 with the answer in x_new when
// found, 0 when the evaluations run out (the best point is then low).
static int zoom(Search *s, Point *low, Point high) {
    while (s->evaluations < s->max_evaluations && fabs(high.step - low->step) > 1e-14 * fmax(low->step, high.step)) {
        double step = cubic_step(*low, high);
        Point p = evaluate(s->f, s->context, s->n, s->x, s->direction, step, s->x_new, s->gradient_new);
        s->evaluations++;
        if (!sufficient_decrease(s, p) || p.loss >= low->loss) {
            high = p;
        } else {
            if (curvature(s, p)) {
                *low = p;
                return 1;
            }
            if (p.slope * (high.step - low->step) >= 0) high = *low;
            *low = p;
            keep_low(s);
        }
    }
    return 0;
}

// Alg. 3.5: try steps growing by 2 until one brackets an acceptable step, then zoom.
static int bracket_and_zoom(Search *s, double initial_step, Point *low) {
    Point previous = *low;  // α = 0
    double step = initial_step;
    while (s->evaluations < s->max_evaluations) {
        Point p = evaluate(s->f, s->context, s->n, s->x, s->direction, step, s->x_new, s->gradient_new);
        s->evaluations++;
        if (!sufficient_decrease(s, p) || (s->evaluations > 1 && p.loss >= previous.loss)) return zoom(s, low, p);
        if (curvature(s, p)) {
            *low = p;
            return 1;
        }
        *low = p;
        keep_low(s);
        if (p.slope >= 0) return zoom(s, low, previous);
        previous = p;
        step *= 2.0;
    }
    return 0;
}

int line_search_strong_wolfe(ObjectiveFunction f, void *context, long n, const double *x, double loss,
                             const double *gradient, const double *direction, double initial_step, double c1, double c2,
                             int max_evaluations, double *x_new, double *gradient_new, LineSearchResult *result,
                             Error *error) {
    memset(result, 0, sizeof *result);
    double slope0 = dot(gradient, direction, n);
    if (!(slope0 < 0)) return error_set(error, "line search: not a descent direction (slope %g)", slope0);
    if (!(initial_step > 0 && isfinite(initial_step))) return error_set(error, "line search: initial step %g", initial_step);
    if (!(c1 > 0 && c1 < c2 && c2 < 1)) return error_set(error, "line search: need 0 < c1 %g < c2 %g < 1", c1, c2);
    if (max_evaluations < 1) return error_set(error, "line search: max_evaluations %d", max_evaluations);
    Search s = {f, context, n, x, direction, x_new, gradient_new, malloc((size_t)n * sizeof(double)),
                malloc((size_t)n * sizeof(double)), loss, slope0, c1, c2, 0, max_evaluations};
    if (!s.x_low || !s.gradient_low) {
        free(s.x_low);
        free(s.gradient_low);
        return error_set(error, "line search: out of memory for %ld parameters", n);
    }
    Point low = {0.0, loss, slope0};
    int found = bracket_and_zoom(&s, initial_step, &low);
    int status = 0;
    if (!found && low.step > 0) {  // out of evaluations: the best sufficient-decrease point
        memcpy(x_new, s.x_low, (size_t)n * sizeof(double));
        memcpy(gradient_new, s.gradient_low, (size_t)n * sizeof(double));
    } else if (!found) {
        status = 1;
    }
    *result = (LineSearchResult){low.step, low.loss, s.evaluations, found};
    free(s.x_low);
    free(s.gradient_low);
    return status;
}

// ---------------------------------------------------------------------------------------
// Newton's method with a dense Hessian.

// The central-difference Hessian (n, n) from 2n gradient evaluations, symmetrised;
// gradient_plus, gradient_minus (n) are scratch. x is restored.
static void difference_hessian(ObjectiveFunction f, void *context, long n, double *x, double h, double *hessian,
                               double *gradient_plus, double *gradient_minus) {
    for (long j = 0; j < n; j++) {
        double saved = x[j], step = h * fmax(1.0, fabs(saved));
        x[j] = saved + step;
        f(context, x, gradient_plus, n);
        x[j] = saved - step;
        f(context, x, gradient_minus, n);
        x[j] = saved;
        for (long i = 0; i < n; i++) hessian[i * n + j] = (gradient_plus[i] - gradient_minus[i]) / (2.0 * step);
    }
    for (long i = 0; i < n; i++)
        for (long j = 0; j < i; j++) hessian[i * n + j] = hessian[j * n + i] = 0.5 * (hessian[i * n + j] + hessian[j * n + i]);
}

// Cholesky A = L Lᵀ of a (n, n) + shift I into lower (n, n); 0, or -1 when A + shift I is not
// (numerically) positive definite. foundations/solve.c's LU would solve an indefinite system
// just as happily, which is what Newton must not do: its step would then climb.
static int cholesky(const double *a, long n, double shift, double *lower) {
    for (long j = 0; j < n; j++) {
        double diagonal = a[j * n + j] + shift - dot(lower + j * n, lower + j * n, j);
        if (!(diagonal > 0)) return -1;
        lower[j * n + j] = sqrt(diagonal);
        for (long i = j + 1; i < n; i++)
            lower[i * n + j] = (a[i * n + j] - dot(lower + i * n, lower + j * n, j)) / lower[j * n + j];
    }
    return 0;
}

// d = -(H + τI)⁻¹ g with the smallest τ in 0, β, 2β, 4β ... (or from -min H_ii + β) whose Cholesky
// factorisation succeeds, β = 1e-3 max(1, max|H_ii|) (N&W Alg. 3.3). lower (n, n) is scratch.
static int modified_newton_direction(const double *hessian, const double *gradient, long n, double *lower,
                                     double *direction) {
    double smallest = INFINITY, largest = 0.0;
    for (long i = 0; i < n; i++) {
        smallest = fmin(smallest, hessian[i * n + i]);
        largest = fmax(largest, fabs(hessian[i * n + i]));
    }
    double beta = 1e-3 * fmax(1.0, largest), shift = smallest > 0 ? 0.0 : -smallest + beta;
    for (int attempt = 0; cholesky(hessian, n, shift, lower); attempt++) {
        if (attempt == 60 || !isfinite(shift)) return -1;
        shift = fmax(2.0 * shift, beta);
    }
    for (long i = 0; i < n; i++)  // L y = -g
        direction[i] = (-gradient[i] - dot(lower + i * n, direction, i)) / lower[i * n + i];
    for (long i = n - 1; i >= 0; i--) {  // Lᵀ d = y
        double sum = direction[i];
        for (long k = i + 1; k < n; k++) sum -= lower[k * n + i] * direction[k];
        direction[i] = sum / lower[i * n + i];
    }
    return 0;
}

// The loop every line-search method shares after it has a direction: the strong Wolfe search
// from step `initial_step`, then x, gradient and loss moved to the new point. Returns 0, 1 when
// the search stalled, -1 on error.
static int take_step(ObjectiveFunction f, void *context, long n, double *x, double *gradient, double *loss,
                     const double *direction, double initial_step, const SecondOrderConfig *config, double *x_new,
                     double *gradient_new, Progress *progress, Error *error) {
    LineSearchResult search;
    int status = line_search_strong_wolfe(f, context, n, x, *loss, gradient, direction, initial_step, config->c1,
                                          config->c2, config->max_line_search, x_new, gradient_new, &search, error);
    progress->result->gradient_evaluations += search.evaluations;
    if (status) {
        progress->result->stalled = status == 1;
        return status;
    }
    memcpy(x, x_new, (size_t)n * sizeof(double));
    memcpy(gradient, gradient_new, (size_t)n * sizeof(double));
    *loss = search.loss;
    progress->result->iterations++;
    progress_record(progress, *loss, norm(gradient, n));
    return 0;
}

// After the loop: converged or not, and a stalled search is no error.
static int finish(Progress *progress, const SecondOrderConfig *config, int status) {
    // a stalled last search spent evaluations after the last record
    progress->result->evaluations = progress->result->gradient_evaluations + progress->result->matrix_vector_products;
    progress->result->converged = progress->result->gradient_norm <= config->gradient_tolerance;
    return status < 0 ? -1 : 0;
}

int newton_minimize(ObjectiveFunction f, HessianFunction hessian_function, void *context, long n, double *x,
                    const SecondOrderConfig *config, SecondOrderTrace *trace, SecondOrderResult *result, Error *error) {
    Progress progress = {result, trace, 0, 0};
    double *gradient = allocate_vectors(n, 4, result, "newton", error);
    double *hessian = gradient ? allocate_vectors(n, 2 * n, result, "newton", error) : NULL;  // H and its factor
    if (!hessian) {
        free(gradient);
        return -1;
    }
    double *direction = gradient + n, *x_new = gradient + 2 * n, *gradient_new = gradient + 3 * n;
    double *lower = hessian + n * n, loss;
    int status = start(f, context, n, x, config, gradient, &loss, &progress, error);
    while (status == 0 && result->iterations < config->max_iterations && result->gradient_norm > config->gradient_tolerance) {
        if (hessian_function) {
            hessian_function(context, x, hessian, n);
            result->hessian_evaluations++;
            result->matrix_vector_products += n;  // the cost of forming it (see the header)
        } else {
            difference_hessian(f, context, n, x, config->finite_difference_step, hessian, x_new, gradient_new);
            result->gradient_evaluations += 2 * n;
        }
        if (modified_newton_direction(hessian, gradient, n, lower, direction)) {
            status = error_set(error, "newton: the Hessian is not finite at iteration %d", result->iterations);
            break;
        }
        status = take_step(f, context, n, x, gradient, &loss, direction, 1.0, config, x_new, gradient_new, &progress, error);
    }
    free(gradient);
    free(hessian);
    return finish(&progress, config, status);
}

// ---------------------------------------------------------------------------------------
// Conjugate gradients on (M + shift I) z = b from z = 0, M given by products (N&W Alg. 5.2).
// Stops when ‖r‖ ≤ tolerance, after max_iterations, or — when stop_on_negative_curvature — at a
// direction p with pᵀ(M + shift I)p ≤ 0: then z is the last iterate, or b itself if that
// happens at once (N&W Alg. 7.1). r, p, mp (n) are scratch. Returns the products used.
typedef struct CgProblem {
    MatrixVectorFunction product;
    void *context;
    const double *x;
    long n;
    double shift;
} CgProblem;

static long conjugate_gradient(const CgProblem *problem, const double *b, double tolerance, int max_iterations,
                               int stop_on_negative_curvature, double *z, double *r, double *p, double *mp) {
    long n = problem->n, products = 0;
    memset(z, 0, (size_t)n * sizeof(double));
    memcpy(r, b, (size_t)n * sizeof(double));  // r = b - A z
    memcpy(p, b, (size_t)n * sizeof(double));
    double rr = dot(r, r, n);
    for (int j = 0; j < max_iterations && sqrt(rr) > tolerance; j++) {
        problem->product(problem->context, problem->x, p, mp, n);
        products++;
        axpy(mp, problem->shift, p, n);
        double curvature = dot(p, mp, n);
        if (!(curvature > 0)) {
            if (stop_on_negative_curvature && j == 0) memcpy(z, b, (size_t)n * sizeof(double));
            break;
        }
        double alpha = rr / curvature;
        axpy(z, alpha, p, n);
        axpy(r, -alpha, mp, n);
        double rr_new = dot(r, r, n);
        for (long i = 0; i < n; i++) p[i] = r[i] + (rr_new / rr) * p[i];
        rr = rr_new;
    }
    return products;
}

// H v ≈ (∇f(x + εv) - ∇f(x)) / ε, for Newton-CG without a Hessian-vector callback.
typedef struct DifferenceProduct {
    ObjectiveFunction f;
    void *context;
    const double *gradient;  // ∇f(x)
    double *shifted, *shifted_gradient;  // (n) scratch
    long evaluations;
} DifferenceProduct;

static void difference_product(void *context, const double *x, const double *v, double *product, long n) {
    DifferenceProduct *d = context;
    double v_norm = norm(v, n);
    if (v_norm == 0) {
        memset(product, 0, (size_t)n * sizeof(double));
        return;
    }
    double epsilon = sqrt(2.2e-16) * (1.0 + norm(x, n)) / v_norm;
    for (long i = 0; i < n; i++) d->shifted[i] = x[i] + epsilon * v[i];
    d->f(d->context, d->shifted, d->shifted_gradient, n);
    d->evaluations++;
    for (long i = 0; i < n; i++) product[i] = (d->shifted_gradient[i] - d->gradient[i]) / epsilon;
}

int newton_cg_minimize(ObjectiveFunction f, MatrixVectorFunction hessian_vector, void *context, long n, double *x,
                       const SecondOrderConfig *config, SecondOrderTrace *trace, SecondOrderResult *result,
                       Error *error) {
    Progress progress = {result, trace, 0, 0};
    double *buffer = allocate_vectors(n, 10, result, "newton-cg", error);
    if (!buffer) return -1;
    double *gradient = buffer, *direction = buffer + n, *x_new = buffer + 2 * n, *gradient_new = buffer + 3 * n;
    double *r = buffer + 4 * n, *p = buffer + 5 * n, *mp = buffer + 6 * n, *minus_gradient = buffer + 7 * n, loss;
    DifferenceProduct differences = {f, context, gradient, buffer + 8 * n, buffer + 9 * n, 0};
    CgProblem problem = {hessian_vector ? hessian_vector : difference_product, hessian_vector ? context : &differences,
                         x, n, 0.0};
    int status = start(f, context, n, x, config, gradient, &loss, &progress, error);
    while (status == 0 && result->iterations < config->max_iterations && result->gradient_norm > config->gradient_tolerance) {
        double g = result->gradient_norm;
        for (long i = 0; i < n; i++) minus_gradient[i] = -gradient[i];
        long products = conjugate_gradient(&problem, minus_gradient, fmin(0.5, sqrt(g)) * g, config->max_cg_iterations, 1,
                                           direction, r, p, mp);
        if (hessian_vector) result->matrix_vector_products += products;
        result->gradient_evaluations += differences.evaluations;
        differences.evaluations = 0;
        status = take_step(f, context, n, x, gradient, &loss, direction, 1.0, config, x_new, gradient_new, &progress, error);
    }
    free(buffer);
    return finish(&progress, config, status);
}

// ---------------------------------------------------------------------------------------
// L-BFGS (N&W Alg. 7.4, two-loop recursion, and 7.5).

// direction = -H_k ∇f: H_k the BFGS inverse built from H_0 = γI, γ = sᵀy / yᵀy of the newest
// pair (N&W eq. 7.20), by the count stored pairs (s_i, y_i, ρ_i = 1 / y_iᵀs_i), the newest at
// index newest of the ring of size memory. alpha (memory) is scratch.
static void two_loop(const double *gradient, long n, const double *s, const double *y, const double *rho, int count,
                     int newest, int memory, double *alpha, double *direction) {
    for (long i = 0; i < n; i++) direction[i] = -gradient[i];  // q = -g, so the result is -H g
    for (int k = 0; k < count; k++) {  // newest to oldest
        int i = (newest - k + memory) % memory;
        alpha[i] = rho[i] * dot(s + (size_t)i * n, direction, n);
        axpy(direction, -alpha[i], y + (size_t)i * n, n);
    }
    const double *s_new = s + (size_t)newest * n, *y_new = y + (size_t)newest * n;
    double gamma = dot(s_new, y_new, n) / dot(y_new, y_new, n);
    for (long i = 0; i < n; i++) direction[i] *= gamma;
    for (int k = count - 1; k >= 0; k--) {  // oldest to newest
        int i = (newest - k + memory) % memory;
        double beta = rho[i] * dot(y + (size_t)i * n, direction, n);
        axpy(direction, alpha[i] - beta, s + (size_t)i * n, n);
    }
}

int lbfgs_minimize(ObjectiveFunction f, void *context, long n, double *x, const SecondOrderConfig *config,
                   SecondOrderTrace *trace, SecondOrderResult *result, Error *error) {
    Progress progress = {result, trace, 0, 0};
    int m = config->memory > 0 ? config->memory : 1;
    // gradient, direction, x_new, gradient_new, then s and y (m, n) each, then ρ and α (m) each
    // (2m more vectors hold those 2m numbers for any n >= 1)
    double *buffer = allocate_vectors(n, 4 + 4 * m, result, "l-bfgs", error);
    if (!buffer) return -1;
    double *gradient = buffer, *direction = buffer + n, *x_new = buffer + 2 * n, *gradient_new = buffer + 3 * n;
    double *s = buffer + 4 * n, *y = s + (size_t)m * n, *rho = y + (size_t)m * n, *alpha = rho + m, loss;
    int count = 0, newest = -1;
    int status = start(f, context, n, x, config, gradient, &loss, &progress, error);
    while (status == 0 && result->iterations < config->max_iterations && result->gradient_norm > config->gradient_tolerance) {
        double initial_step = 1.0;
        if (count == 0) {  // no curvature yet: steepest descent, a first step of length ≤ 1
            for (long i = 0; i < n; i++) direction[i] = -gradient[i];
            initial_step = fmin(1.0, 1.0 / result->gradient_norm);
        } else {
            two_loop(gradient, n, s, y, rho, count, newest, m, alpha, direction);
        }
        // The next pair goes into the slot after the newest (over the oldest once m are kept):
        // s = x_{k+1} - x_k, y = g_{k+1} - g_k, formed in place around the step.
        int slot = (newest + 1) % m;
        double *s_slot = s + (size_t)slot * n, *y_slot = y + (size_t)slot * n;
        memcpy(s_slot, x, (size_t)n * sizeof(double));
        memcpy(y_slot, gradient, (size_t)n * sizeof(double));
        status = take_step(f, context, n, x, gradient, &loss, direction, initial_step, config, x_new, gradient_new,
                           &progress, error);
        if (status) break;
        for (long i = 0; i < n; i++) s_slot[i] = x[i] - s_slot[i], y_slot[i] = gradient[i] - y_slot[i];
        // The Wolfe curvature condition makes yᵀs > 0, so H stays positive definite; a pair
        // from a search that ran out of evaluations may not have it and is dropped.
        double curvature = dot(s_slot, y_slot, n);
        if (curvature > 1e-12 * norm(s_slot, n) * norm(y_slot, n)) {
            rho[slot] = 1.0 / curvature;
            newest = slot;
            if (count < m) count++;
        }
    }
    free(buffer);
    return finish(&progress, config, status);
}

// ---------------------------------------------------------------------------------------
// Natural gradient: x -= η (F + λI)⁻¹ ∇f.
//
// The Fisher information F(x) = E_{y ~ p(y|x)} [∇log p ∇log pᵀ] is the metric in which a step
// is measured by how much it changes the model's distribution (KL(p_x ‖ p_{x+d}) ≈ ½ dᵀF d),
// not the parameters; the steepest descent in that metric is -F⁻¹∇f (Amari 1998). λ keeps
// the solve well posed where F is (nearly) singular. CG stops at ‖r‖ ≤ cg_tolerance ‖g‖.
int natural_gradient_minimize(ObjectiveFunction f, MatrixVectorFunction fisher_vector, void *context, long n, double *x,
                              const SecondOrderConfig *config, SecondOrderTrace *trace, SecondOrderResult *result,
                              Error *error) {
    Progress progress = {result, trace, 0, 0};
    double *buffer = allocate_vectors(n, 5, result, "natural gradient", error);
    if (!buffer) return -1;
    double *gradient = buffer, *direction = buffer + n, *r = buffer + 2 * n, *p = buffer + 3 * n, *mp = buffer + 4 * n;
    double loss;
    CgProblem problem = {fisher_vector, context, x, n, config->damping};
    int status = start(f, context, n, x, config, gradient, &loss, &progress, error);
    while (status == 0 && result->iterations < config->max_iterations && result->gradient_norm > config->gradient_tolerance) {
        result->matrix_vector_products += conjugate_gradient(&problem, gradient, config->cg_tolerance * result->gradient_norm,
                                                             config->max_cg_iterations, 0, direction, r, p, mp);
        axpy(x, -config->learning_rate, direction, n);
        loss = f(context, x, gradient, n);
        result->gradient_evaluations++;
        result->iterations++;
        double g = norm(gradient, n);
        if (!isfinite(loss) || !isfinite(g)) {
            status = error_set(error, "natural gradient: the loss is not finite after iteration %d (lower the learning "
                               "rate or raise the damping)", result->iterations);
            break;
        }
        progress_record(&progress, loss, g);
    }
    free(buffer);
    return finish(&progress, config, status);
}
