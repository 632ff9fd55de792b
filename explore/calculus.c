// Calculus made visible: finite differences against analytic derivatives, and the chain rule
// as the backward pass runs it (see calculus.h for the mathematics).
#include "explore/calculus.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "foundations/gradcheck.h"
#include "foundations/random.h"
#include "nn/module.h"
#include "nn/ops.h"

// ---------------------------------------------------------------------------------------
// Sweeps of the step h

// h = 10^(-k / steps_per_decade) for k = 0 .. decades · steps_per_decade.
static void sweep_init(StepSweep *sweep, const char *name, const char *shape, int steps_per_decade, int decades,
                       double expected_h) {
    memset(sweep, 0, sizeof *sweep);
    sweep->name = name, sweep->shape = shape, sweep->expected_h = expected_h;
    sweep->n = decades * steps_per_decade + 1;
    for (int k = 0; k < sweep->n; k++) sweep->h[k] = pow(10.0, -(double)k / steps_per_decade);
}

// The h of the smallest finite error.
static void sweep_finish(StepSweep *sweep) {
    sweep->best_h = NAN, sweep->best_error = INFINITY;
    for (int k = 0; k < sweep->n; k++)
        if (isfinite(sweep->error[k]) && sweep->error[k] < sweep->best_error)
            sweep->best_error = sweep->error[k], sweep->best_h = sweep->h[k];
}

static double max_abs(const double *x, long n) {
    double m = 0.0;
    for (long i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

// ||a - b||_max / ||b||_max (NaN when a holds a NaN).
static double relative_error(const double *a, const double *b, long n) {
    double worst = 0.0;
    for (long i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (isnan(d)) return NAN;
        worst = fmax(worst, d);
    }
    return worst / max_abs(b, n);
}

// ---------------------------------------------------------------------------------------
// finite-differences: f(x) = eˣ sin x, f'(x) = eˣ (sin x + cos x)

static double f64(double x) { return exp(x) * sin(x); }
static float f32(float x) { return expf(x) * sinf(x); }
static double derivative(double x) { return exp(x) * (sin(x) + cos(x)); }

// The four differences at x with step h; the steps actually taken are what the precision
// represents ((x + h) - x, not h), NaN when they vanish.
static void differences_at(double x, double h, double *out) {
    double up = x + h, down = x - h;
    out[0] = up > x ? (f64(up) - f64(x)) / (up - x) : NAN;
    out[1] = up > down ? (f64(up) - f64(down)) / (up - down) : NAN;
    float xf = (float)x, upf = (float)(xf + (float)h), downf = (float)(xf - (float)h);
    out[2] = upf > xf ? ((double)f32(upf) - f32(xf)) / ((double)upf - xf) : NAN;
    out[3] = upf > downf ? ((double)f32(upf) - f32(downf)) / ((double)upf - downf) : NAN;
}

int explore_finite_differences(int steps_per_decade, int n_points, uint64_t seed, FiniteDifferenceResult *result,
                               Error *error) {
    if (explore_check_count(steps_per_decade, 1, "--per-decade", error) ||
        explore_check_range(steps_per_decade, 1, 6, 0, 0, "--per-decade", error) ||
        explore_check_count(n_points, 1, "--points", error))
        return -1;
    memset(result, 0, sizeof *result);
    result->epsilon64 = DBL_EPSILON, result->epsilon32 = FLT_EPSILON;
    static const char *const names[FINITE_DIFFERENCE_SWEEPS] = {"forward, float64", "central, float64",
                                                                "forward, float32", "central, float32"};
    double expected[FINITE_DIFFERENCE_SWEEPS] = {sqrt(DBL_EPSILON), cbrt(DBL_EPSILON), sqrt(FLT_EPSILON),
                                                 cbrt(FLT_EPSILON)};
    for (int s = 0; s < FINITE_DIFFERENCE_SWEEPS; s++)
        sweep_init(&result->sweeps[s], names[s], "1", steps_per_decade, 15, expected[s]);
    Random rng;
    random_seed(&rng, seed);
    double *points = malloc((size_t)n_points * sizeof *points);
    if (!points) return error_set(error, "finite-differences: out of memory for %d points", n_points);
    for (int p = 0; p < n_points; p++) points[p] = 0.5 + random_uniform_double(&rng);
    // RMS over the points of the relative error; a sweep where any point's step vanished is NaN there.
    for (int k = 0; k < result->sweeps[0].n; k++) {
        double squares[FINITE_DIFFERENCE_SWEEPS] = {0};
        for (int p = 0; p < n_points; p++) {
            double numeric[FINITE_DIFFERENCE_SWEEPS], exact = derivative(points[p]);
            differences_at(points[p], result->sweeps[0].h[k], numeric);
            for (int s = 0; s < FINITE_DIFFERENCE_SWEEPS; s++) {
                double relative = (numeric[s] - exact) / exact;
                squares[s] += relative * relative;
            }
        }
        for (int s = 0; s < FINITE_DIFFERENCE_SWEEPS; s++) result->sweeps[s].error[k] = sqrt(squares[s] / n_points);
    }
    for (int s = 0; s < FINITE_DIFFERENCE_SWEEPS; s++) sweep_finish(&result->sweeps[s]);
    free(points);
    return 0;
}

// ---------------------------------------------------------------------------------------
// Jacobians by central differences

typedef void (*VectorFunction)(const void *context, const double *in, double *out);

// J (n_out, n_in) with J[i][j] ≈ ∂out_i/∂in_j = (f(in + h e_j) - f(in - h e_j))_i / 2h, the
// step as represented. in is perturbed and restored; scratch holds 2 n_out doubles.
static void jacobian_central(VectorFunction f, const void *context, double *in, int n_in, int n_out, double h,
                             double *jacobian, double *scratch) {
    double *up = scratch, *down = scratch + n_out;
    for (int j = 0; j < n_in; j++) {
        double saved = in[j];
        in[j] = saved + h;
        double step = in[j];
        f(context, in, up);
        in[j] = saved - h;
        step -= in[j];
        f(context, in, down);
        in[j] = saved;
        for (int i = 0; i < n_out; i++) jacobian[i * n_in + j] = (up[i] - down[i]) / step;
    }
}

// Rosenbrock f(x, y) = (1 - x)² + 100 (y - x²)², its gradient and Hessian.
static void rosenbrock(const void *context, const double *p, double *out) {
    (void)context;
    out[0] = (1 - p[0]) * (1 - p[0]) + 100 * (p[1] - p[0] * p[0]) * (p[1] - p[0] * p[0]);
}
static void rosenbrock_gradient(const void *context, const double *p, double *out) {
    (void)context;
    out[0] = -2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] * p[0]);
    out[1] = 200 * (p[1] - p[0] * p[0]);
}
static void rosenbrock_hessian(const double *p, double *out) {
    out[0] = 2 - 400 * (p[1] - p[0] * p[0]) + 800 * p[0] * p[0];
    out[1] = out[2] = -400 * p[0];
    out[3] = 200;
}
// H_ij ≈ [f(+h e_i + h e_j) - f(+h e_i - h e_j) - f(-h e_i + h e_j) + f(-h e_i - h e_j)] / 4h².
static void rosenbrock_second_differences(const double *p, double h, double *out) {
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double sum = 0.0;
            for (int si = -1; si <= 1; si += 2)
                for (int sj = -1; sj <= 1; sj += 2) {
                    double q[2] = {p[0], p[1]}, value;
                    q[i] += si * h, q[j] += sj * h;
                    rosenbrock(NULL, q, &value);
                    sum += si * sj * value;
                }
            out[i * 2 + j] = sum / (4 * h * h);
        }
}

// Spherical (r, θ, φ) -> Cartesian (r sin θ cos φ, r sin θ sin φ, r cos θ), and its Jacobian.
static void spherical(const void *context, const double *s, double *out) {
    (void)context;
    out[0] = s[0] * sin(s[1]) * cos(s[2]), out[1] = s[0] * sin(s[1]) * sin(s[2]), out[2] = s[0] * cos(s[1]);
}
static void spherical_jacobian(const double *s, double *j) {
    double r = s[0], st = sin(s[1]), ct = cos(s[1]), sp = sin(s[2]), cp = cos(s[2]);
    double rows[9] = {st * cp, r * ct * cp, -r * st * sp, st * sp, r * ct * sp, r * st * cp, ct, -r * st, 0.0};
    memcpy(j, rows, sizeof rows);
}
static double determinant3(const double *m) {
    return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

// p = softmax(z) over SOFTMAX_SIZE logits (max subtracted), and ∂p/∂z = diag(p) - p pᵀ.
enum { SOFTMAX_SIZE = 5 };
static void softmax64(const void *context, const double *z, double *p) {
    (void)context;
    double m = z[0], sum = 0.0;
    for (int i = 1; i < SOFTMAX_SIZE; i++) m = fmax(m, z[i]);
    for (int i = 0; i < SOFTMAX_SIZE; i++) sum += p[i] = exp(z[i] - m);
    for (int i = 0; i < SOFTMAX_SIZE; i++) p[i] /= sum;
}
static void softmax_jacobian(const double *z, double *j) {
    double p[SOFTMAX_SIZE];
    softmax64(NULL, z, p);
    for (int a = 0; a < SOFTMAX_SIZE; a++)
        for (int b = 0; b < SOFTMAX_SIZE; b++) j[a * SOFTMAX_SIZE + b] = (a == b ? p[a] : 0.0) - p[a] * p[b];
}

// ---------------------------------------------------------------------------------------
// The small network, by hand in float64: layers l = 0, 1, 2 with z_l = W_l h_l + b_l,
// h_(l+1) = tanh(z_l) for l < 2, logits z_2, loss = logsumexp(z_2) - z_2[y]. The parameters
// are one flat vector in the framework's registration order: W1, b1, W2, b2, W3, b3.

enum { LAYERS = 3, BATCH = 8, WIDTH = CALCULUS_MAX_WIDTH, N_PARAMETERS = 6 * 4 + 6 + 5 * 6 + 5 + 3 * 5 + 3 };
static const int sizes[LAYERS + 1] = {4, 6, 5, 3};

// Where W_l and b_l start in the flat vector.
static int weight_offset(int l) {
    int offset = 0;
    for (int k = 0; k < l; k++) offset += sizes[k + 1] * (sizes[k] + 1);
    return offset;
}
static int bias_offset(int l) { return weight_offset(l) + sizes[l + 1] * sizes[l]; }

typedef struct Activations {
    double h[LAYERS][WIDTH];  // h[0] = x, h[l + 1] = tanh(z[l])
    double z[LAYERS][WIDTH];
    double p[WIDTH];  // softmax(z[2])
    double loss;
} Activations;

static void linear64(const double *theta, int l, const double *in, double *out) {
    const double *w = theta + weight_offset(l), *b = theta + bias_offset(l);
    for (int o = 0; o < sizes[l + 1]; o++) {
        double sum = b[o];
        for (int i = 0; i < sizes[l]; i++) sum += w[o * sizes[l] + i] * in[i];
        out[o] = sum;
    }
}

// -log softmax(z)[y] (max subtracted) and p = softmax(z).
static double cross_entropy64(const double *z, int n, int y, double *p) {
    double m = z[0], sum = 0.0;
    for (int i = 1; i < n; i++) m = fmax(m, z[i]);
    for (int i = 0; i < n; i++) sum += exp(z[i] - m);
    for (int i = 0; i < n; i++) p[i] = exp(z[i] - m) / sum;
    return m + log(sum) - z[y];
}

static double example_forward(const double *theta, const double *x, int y, Activations *a) {
    memcpy(a->h[0], x, sizes[0] * sizeof(double));
    for (int l = 0; l < LAYERS; l++) {
        linear64(theta, l, a->h[l], a->z[l]);
        if (l + 1 < LAYERS)
            for (int o = 0; o < sizes[l + 1]; o++) a->h[l + 1][o] = tanh(a->z[l][o]);
    }
    return a->loss = cross_entropy64(a->z[LAYERS - 1], sizes[LAYERS], y, a->p);
}

// Backward of one example: grad (N_PARAMETERS) += scale · ∂L/∂θ; input_grad (sizes[0]) =
// ∂L/∂x when not NULL. stages (CALCULUS_CHAIN_STAGES - 1) receive the vectors when not NULL.
static void example_backward(const double *theta, int y, const Activations *a, double scale, double *grad,
                             double *input_grad, ChainStage *stages) {
    double g[WIDTH], g_in[WIDTH];
    int n = sizes[LAYERS], stage = 0;
    for (int i = 0; i < n; i++) g[i] = a->p[i] - (i == y);  // ∂L/∂z = softmax(z) - onehot(y)
    if (stages) memcpy(stages[stage].vector, g, n * sizeof(double)), stages[stage++].n = n;
    for (int l = LAYERS - 1; l >= 0; l--) {
        const double *w = theta + weight_offset(l);
        double *gw = grad + weight_offset(l), *gb = grad + bias_offset(l);
        for (int o = 0; o < sizes[l + 1]; o++) {
            gb[o] += scale * g[o];
            for (int i = 0; i < sizes[l]; i++) gw[o * sizes[l] + i] += scale * g[o] * a->h[l][i];
        }
        for (int i = 0; i < sizes[l]; i++) {  // ∂L/∂h_l = W_lᵀ ∂L/∂z_l
            g_in[i] = 0.0;
            for (int o = 0; o < sizes[l + 1]; o++) g_in[i] += w[o * sizes[l] + i] * g[o];
        }
        if (stages) memcpy(stages[stage].vector, g_in, sizes[l] * sizeof(double)), stages[stage++].n = sizes[l];
        if (l == 0) break;
        for (int i = 0; i < sizes[l]; i++) g[i] = g_in[i] * (1.0 - a->h[l][i] * a->h[l][i]);  // diag(1 - tanh²)
        if (stages) memcpy(stages[stage].vector, g, sizes[l] * sizeof(double)), stages[stage++].n = sizes[l];
    }
    if (input_grad) memcpy(input_grad, g_in, sizes[0] * sizeof(double));
}

typedef struct Batch64 {
    const double *x;  // (batch, 4)
    const int *y;     // (batch)
    int batch;
} Batch64;

// The mean loss over the batch; grad (N_PARAMETERS) its gradient when not NULL.
static double network_loss64(const Batch64 *data, const double *theta, double *grad) {
    double loss = 0.0;
    if (grad) memset(grad, 0, N_PARAMETERS * sizeof(double));
    for (int b = 0; b < data->batch; b++) {
        Activations a;
        loss += example_forward(theta, data->x + b * sizes[0], data->y[b], &a);
        if (grad) example_backward(theta, data->y[b], &a, 1.0 / data->batch, grad, NULL, NULL);
    }
    return loss / data->batch;
}

// Hv ≈ (∇L(θ + h v) - ∇L(θ - h v)) / 2h in float64; scratch holds 3 N_PARAMETERS doubles.
static void network_hvp64(const Batch64 *data, const double *theta, const double *v, double h, double *hv,
                          double *scratch) {
    double *shifted = scratch, *up = scratch + N_PARAMETERS, *down = scratch + 2 * N_PARAMETERS;
    for (int i = 0; i < N_PARAMETERS; i++) shifted[i] = theta[i] + h * v[i];
    network_loss64(data, shifted, up);
    for (int i = 0; i < N_PARAMETERS; i++) shifted[i] = theta[i] - h * v[i];
    network_loss64(data, shifted, down);
    for (int i = 0; i < N_PARAMETERS; i++) hv[i] = (up[i] - down[i]) / (2 * h);
}

// ---------------------------------------------------------------------------------------
// The same network on the framework's tape (float32): three nn Linear layers, tanh, and the
// framework's cross-entropy, initialised as PyTorch does from the seed.

typedef struct TapeNetwork {
    Parameters params;
    Linear fc[LAYERS];
    Tape tape;
    float x[BATCH * 4];
    int y[BATCH];
    int batch;
} TapeNetwork;

static void tape_network_free(TapeNetwork *net) {
    parameters_free(&net->params);
    tape_free(&net->tape);
}

// batch (<= BATCH) examples x ~ N(0, 1), y uniform over the classes, from rng.
static int tape_network_init(TapeNetwork *net, int batch, Random *rng, Error *error) {
    memset(net, 0, sizeof *net);
    tape_init(&net->tape);
    net->batch = batch;
    static const char *const names[LAYERS] = {"fc1", "fc2", "fc3"};
    for (int l = 0; l < LAYERS; l++)
        if (linear_init(&net->fc[l], &net->params, names[l], sizes[l], sizes[l + 1], 1, rng, error)) {
            tape_network_free(net);
            return -1;
        }
    random_fill_normal(rng, net->x, (long)batch * sizes[0], 0.0f, 1.0f);
    for (int b = 0; b < batch; b++) net->y[b] = (int)random_below(rng, (uint32_t)sizes[LAYERS]);
    return 0;
}

// The parameters as one flat vector (N_PARAMETERS), in and out.
static void tape_network_read(const TapeNetwork *net, float *theta) {
    long offset = 0;
    for (int e = 0; e < net->params.count; e++) {
        const Tensor *t = net->params.entries[e].tensor;
        memcpy(theta + offset, t->data, (size_t)t->size * sizeof(float));
        offset += t->size;
    }
}
static void tape_network_write(TapeNetwork *net, const float *theta) {
    long offset = 0;
    for (int e = 0; e < net->params.count; e++) {
        Tensor *t = net->params.entries[e].tensor;
        memcpy(t->data, theta + offset, (size_t)t->size * sizeof(float));
        offset += t->size;
    }
}

// The mean cross-entropy; with grad (N_PARAMETERS, may be NULL: no recording) its gradient by
// the tape's backward. NaN on a tape failure (the message in net->tape.error).
static double tape_network_loss(TapeNetwork *net, float *grad) {
    Tape *tape = &net->tape;
    tape_reset(tape);
    tape->recording = grad != NULL;
    Tensor *h = tensor_from(tape, net->x, 2, (int[]){net->batch, sizes[0]});
    for (int l = 0; l < LAYERS; l++) {
        h = linear_apply(tape, &net->fc[l], h);
        if (l + 1 < LAYERS) h = nn_tanh(tape, h);
    }
    Tensor *loss = nn_cross_entropy(tape, h, net->y, NN_NO_IGNORE, 0.0f);
    tape->recording = 1;
    if (!loss) return NAN;
    double value = loss->data[0];
    if (grad) {
        parameters_zero_grad(&net->params);
        Error ignored;
        if (tape_backward(tape, loss, &ignored)) return NAN;
        long offset = 0;
        for (int e = 0; e < net->params.count; e++) {
            const Tensor *t = net->params.entries[e].tensor;
            memcpy(grad + offset, t->grad, (size_t)t->size * sizeof(float));
            offset += t->size;
        }
    }
    return value;
}

static double tape_objective(void *context) { return tape_network_loss(context, NULL); }

// The float64 twin of the tape network: the same weights and data, widened.
typedef struct Twin {
    double theta[N_PARAMETERS];
    double x[BATCH * 4];
    Batch64 data;
} Twin;

static void twin_init(Twin *twin, const TapeNetwork *net) {
    float theta[N_PARAMETERS];
    tape_network_read(net, theta);
    for (int i = 0; i < N_PARAMETERS; i++) twin->theta[i] = theta[i];
    for (int i = 0; i < net->batch * sizes[0]; i++) twin->x[i] = net->x[i];
    twin->data = (Batch64){twin->x, net->y, net->batch};
}

// ---------------------------------------------------------------------------------------
// jacobian-hessian

// Checks 0-4 at one point: the squared relative errors of the five added into squares[k][c].
static void small_function_errors(const double *rosen_point, const double *sphere_point, const double *logits, int n_steps,
                                  const double *steps, double (*squares)[JACOBIAN_HESSIAN_CHECKS]) {
    double rosen[2], sphere[3], z[SOFTMAX_SIZE];
    memcpy(rosen, rosen_point, sizeof rosen), memcpy(sphere, sphere_point, sizeof sphere), memcpy(z, logits, sizeof z);
    double gradient[2], jacobian[9], soft[SOFTMAX_SIZE * SOFTMAX_SIZE], hessian[4];
    rosenbrock_gradient(NULL, rosen, gradient);
    spherical_jacobian(sphere, jacobian);
    softmax_jacobian(z, soft);
    rosenbrock_hessian(rosen, hessian);
    double numeric[SOFTMAX_SIZE * SOFTMAX_SIZE], scratch[2 * SOFTMAX_SIZE], e[JACOBIAN_HESSIAN_CHECKS];
    for (int k = 0; k < n_steps; k++) {
        double h = steps[k];
        jacobian_central(rosenbrock, NULL, rosen, 2, 1, h, numeric, scratch);
        e[0] = relative_error(numeric, gradient, 2);
        jacobian_central(spherical, NULL, sphere, 3, 3, h, numeric, scratch);
        e[1] = relative_error(numeric, jacobian, 9);
        jacobian_central(softmax64, NULL, z, SOFTMAX_SIZE, SOFTMAX_SIZE, h, numeric, scratch);
        e[2] = relative_error(numeric, soft, SOFTMAX_SIZE * SOFTMAX_SIZE);
        jacobian_central(rosenbrock_gradient, NULL, rosen, 2, 2, h, numeric, scratch);
        e[3] = relative_error(numeric, hessian, 4);
        rosenbrock_second_differences(rosen, h, numeric);
        e[4] = relative_error(numeric, hessian, 4);
        for (int c = 0; c < 5; c++) squares[k][c] += e[c] * e[c];
    }
}

// Checks 0-4: the RMS error over SMALL_POINTS seeded points around (-1.2, 1), (2, 0.7, 1.1) and
// logits 2 N(0, 1) (one point alone can be exact at some h by luck, which would fake the best h).
enum { SMALL_POINTS = 8 };
static void small_function_sweeps(JacobianHessianResult *result, Random *rng) {
    double squares[CALCULUS_MAX_STEPS][JACOBIAN_HESSIAN_CHECKS] = {{0}};
    for (int p = 0; p < SMALL_POINTS; p++) {
        double rosen[2] = {-1.2, 1.0}, sphere[3] = {2.0, 0.7, 1.1}, logits[SOFTMAX_SIZE];
        for (int i = 0; i < 2; i++) rosen[i] += 0.1 * random_normal(rng, 0.0f, 1.0f);
        for (int i = 0; i < 3; i++) sphere[i] += 0.1 * random_normal(rng, 0.0f, 1.0f);
        for (int i = 0; i < SOFTMAX_SIZE; i++) logits[i] = 2.0 * random_normal(rng, 0.0f, 1.0f);
        small_function_errors(rosen, sphere, logits, result->checks[0].n, result->checks[0].h, squares);
    }
    for (int c = 0; c < 5; c++)
        for (int k = 0; k < result->checks[c].n; k++) result->checks[c].error[k] = sqrt(squares[k][c] / SMALL_POINTS);
    double sphere[3] = {2.0, 0.7, 1.1}, jacobian[9];
    spherical_jacobian(sphere, jacobian);
    result->spherical_determinant = determinant3(jacobian);
    result->spherical_determinant_expected = sphere[0] * sphere[0] * sin(sphere[1]);
}

// Check 5: the tape's gradient against central differences of the tape's loss (float32).
static int network_gradient_sweep(TapeNetwork *net, StepSweep *sweep, Error *error) {
    float grad[N_PARAMETERS];
    if (isnan(tape_network_loss(net, grad))) return tape_error(&net->tape, error);
    double scale = 0.0;
    for (int i = 0; i < N_PARAMETERS; i++) scale = fmax(scale, fabs(grad[i]));
    for (int k = 0; k < sweep->n; k++) {
        // gradcheck perturbs each parameter tensor in place (and restores it exactly).
        double worst = 0.0;
        for (int e = 0, offset = 0; e < net->params.count; e++) {
            Tensor *t = net->params.entries[e].tensor;
            GradcheckResult r = gradcheck(tape_objective, net, t->data, grad + offset, t->size, (float)sweep->h[k], 1e-3);
            worst = isnan(r.max_abs_error) ? NAN : fmax(worst, r.max_abs_error);
            offset += (int)t->size;
        }
        sweep->error[k] = worst / scale;
    }
    return 0;
}

// Check 6: Hv by differences of the tape's gradients along v, against the float64 twin's.
static int network_hvp_sweep(TapeNetwork *net, const Twin *twin, const double *v, StepSweep *sweep, Error *error) {
    double reference[N_PARAMETERS], scratch[3 * N_PARAMETERS], numeric[N_PARAMETERS];
    network_hvp64(&twin->data, twin->theta, v, 1e-5, reference, scratch);
    float theta[N_PARAMETERS], shifted[N_PARAMETERS], up[N_PARAMETERS], down[N_PARAMETERS];
    tape_network_read(net, theta);
    for (int k = 0; k < sweep->n; k++) {
        double h = sweep->h[k];
        for (int i = 0; i < N_PARAMETERS; i++) shifted[i] = (float)(theta[i] + h * v[i]);
        tape_network_write(net, shifted);
        double a = tape_network_loss(net, up);
        for (int i = 0; i < N_PARAMETERS; i++) shifted[i] = (float)(theta[i] - h * v[i]);
        tape_network_write(net, shifted);
        double b = tape_network_loss(net, down);
        tape_network_write(net, theta);
        if (isnan(a) || isnan(b)) return tape_error(&net->tape, error);
        for (int i = 0; i < N_PARAMETERS; i++) numeric[i] = ((double)up[i] - down[i]) / (2 * h);
        sweep->error[k] = relative_error(numeric, reference, N_PARAMETERS);
    }
    return 0;
}

// max |H - Hᵀ| / max |H| for the twin's Hessian, column j = differences of gradients along e_j.
static int hessian_asymmetry(const Twin *twin, double *asymmetry, Error *error) {
    double *hessian = malloc(sizeof(double) * N_PARAMETERS * N_PARAMETERS);
    if (!hessian) return error_set(error, "jacobian-hessian: out of memory for the Hessian");
    double column[N_PARAMETERS], v[N_PARAMETERS] = {0}, scratch[3 * N_PARAMETERS];
    for (int j = 0; j < N_PARAMETERS; j++) {
        v[j] = 1.0;
        network_hvp64(&twin->data, twin->theta, v, 1e-5, column, scratch);
        v[j] = 0.0;
        for (int i = 0; i < N_PARAMETERS; i++) hessian[i * N_PARAMETERS + j] = column[i];
    }
    double worst = 0.0;
    for (int i = 0; i < N_PARAMETERS; i++)
        for (int j = 0; j < i; j++)
            worst = fmax(worst, fabs(hessian[i * N_PARAMETERS + j] - hessian[j * N_PARAMETERS + i]));
    *asymmetry = worst / max_abs(hessian, (long)N_PARAMETERS * N_PARAMETERS);
    free(hessian);
    return 0;
}

int explore_jacobian_hessian(int steps_per_decade, uint64_t seed, JacobianHessianResult *result, Error *error) {
    if (explore_check_count(steps_per_decade, 1, "--per-decade", error) ||
        explore_check_range(steps_per_decade, 1, 6, 0, 0, "--per-decade", error))
        return -1;
    memset(result, 0, sizeof *result);
    static const char *const names[JACOBIAN_HESSIAN_CHECKS] = {
        "Rosenbrock ∇f",    "spherical J",   "softmax J", "Rosenbrock H (∇f)",
        "Rosenbrock H (f)", "network ∇L f32", "network Hv f32"};
    static const char *const shapes[JACOBIAN_HESSIAN_CHECKS] = {"2", "3x3", "5x5", "2x2", "2x2", "83", "83"};
    for (int c = 0; c < JACOBIAN_HESSIAN_CHECKS; c++) {
        double expected = c == 4 ? pow(DBL_EPSILON, 0.25) : c >= 5 ? cbrt(FLT_EPSILON) : cbrt(DBL_EPSILON);
        sweep_init(&result->checks[c], names[c], shapes[c], steps_per_decade, 12, expected);
    }
    Random rng;
    random_seed(&rng, seed);
    double v[N_PARAMETERS], norm = 0.0;
    small_function_sweeps(result, &rng);

    TapeNetwork net;
    if (tape_network_init(&net, BATCH, &rng, error)) return -1;
    for (int i = 0; i < N_PARAMETERS; i++) {
        v[i] = random_normal(&rng, 0.0f, 1.0f);
        norm += v[i] * v[i];
    }
    for (int i = 0; i < N_PARAMETERS; i++) v[i] /= sqrt(norm);
    Twin twin;
    twin_init(&twin, &net);
    result->n_parameters = N_PARAMETERS;
    int status = network_gradient_sweep(&net, &result->checks[5], error) ||
                 network_hvp_sweep(&net, &twin, v, &result->checks[6], error);
    tape_network_free(&net);
    if (status || hessian_asymmetry(&twin, &result->hessian_asymmetry, error)) return -1;
    for (int c = 0; c < JACOBIAN_HESSIAN_CHECKS; c++) sweep_finish(&result->checks[c]);
    return 0;
}

// ---------------------------------------------------------------------------------------
// chain-rule

// One stage's forward function, for its Jacobian by differences: the loss of the logits,
// a linear layer of its input, or tanh.
typedef enum { STAGE_LOSS, STAGE_LINEAR, STAGE_TANH } StageKind;
typedef struct StageContext {
    StageKind kind;
    const double *theta;
    int layer, n, target;
} StageContext;

static void stage_forward(const void *context, const double *in, double *out) {
    const StageContext *c = context;
    double p[WIDTH];
    if (c->kind == STAGE_LOSS) out[0] = cross_entropy64(in, c->n, c->target, p);
    else if (c->kind == STAGE_LINEAR) linear64(c->theta, c->layer, in, out);
    else
        for (int i = 0; i < c->n; i++) out[i] = tanh(in[i]);
}

// The stage's analytic Jacobian (n_out, n_in) and its input, from the forward's activations.
static void stage_jacobian(const StageContext *c, const Activations *a, double *jacobian, double *input, int *n_in,
                           int *n_out) {
    if (c->kind == STAGE_LOSS) {
        *n_out = 1, *n_in = c->n;
        for (int i = 0; i < c->n; i++) jacobian[i] = a->p[i] - (i == c->target), input[i] = a->z[LAYERS - 1][i];
    } else if (c->kind == STAGE_LINEAR) {
        *n_out = sizes[c->layer + 1], *n_in = sizes[c->layer];
        memcpy(jacobian, c->theta + weight_offset(c->layer), (size_t)*n_out * *n_in * sizeof(double));
        memcpy(input, a->h[c->layer], (size_t)*n_in * sizeof(double));
    } else {
        *n_out = *n_in = c->n;
        for (int i = 0; i < c->n; i++)
            for (int j = 0; j < c->n; j++)
                jacobian[i * c->n + j] = i == j ? 1.0 - a->h[c->layer + 1][i] * a->h[c->layer + 1][i] : 0.0;
        memcpy(input, a->z[c->layer], (size_t)c->n * sizeof(double));
    }
}

// Stages 0-5: each Jacobian against central differences of its forward function.
static void chain_jacobian_errors(const double *theta, const Activations *a, int target, ChainStage *stages) {
    static const StageKind kinds[6] = {STAGE_LOSS, STAGE_LINEAR, STAGE_TANH, STAGE_LINEAR, STAGE_TANH, STAGE_LINEAR};
    static const int layers[6] = {2, 2, 1, 1, 0, 0};
    for (int s = 0; s < 6; s++) {
        StageContext c = {kinds[s], theta, layers[s], kinds[s] == STAGE_LOSS ? sizes[LAYERS] : sizes[layers[s] + 1],
                          target};
        double jacobian[WIDTH * WIDTH], numeric[WIDTH * WIDTH], input[WIDTH], scratch[2 * WIDTH], worst = 0.0;
        int n_in, n_out;
        stage_jacobian(&c, a, jacobian, input, &n_in, &n_out);
        jacobian_central(stage_forward, &c, input, n_in, n_out, 1e-6, numeric, scratch);
        for (int i = 0; i < n_in * n_out; i++) worst = fmax(worst, fabs(numeric[i] - jacobian[i]));
        stages[s].jacobian_error = worst;
    }
}

int explore_chain_rule(uint64_t seed, ChainRuleResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    static const char *const formulas[CALCULUS_CHAIN_STAGES] = {
        "dL/dz3 = softmax(z3) - onehot(y)", "dL/da2 = W3^T dL/dz3", "dL/dz2 = diag(1 - a2^2) dL/da2",
        "dL/da1 = W2^T dL/dz2",             "dL/dz1 = diag(1 - a1^2) dL/da1", "dL/dx = W1^T dL/dz1",
        "dL/dW1 = dL/dz1 x^T"};
    static const char *const jacobians[CALCULUS_CHAIN_STAGES] = {
        "dL/dz3 (1x3)", "W3 (3x5)", "diag(1 - a2^2) (5x5)", "W2 (5x6)", "diag(1 - a1^2) (6x6)", "W1 (6x4)",
        "(the weight gradient)"};
    Random rng;
    random_seed(&rng, seed);
    TapeNetwork net;
    if (tape_network_init(&net, 1, &rng, error)) return -1;
    Twin twin;
    twin_init(&twin, &net);
    float tape_grad[N_PARAMETERS];
    if (isnan(tape_network_loss(&net, tape_grad))) {
        tape_error(&net.tape, error);
        tape_network_free(&net);
        return -1;
    }
    tape_network_free(&net);

    Activations a;
    double grad[N_PARAMETERS] = {0}, input_grad[WIDTH];
    result->loss = example_forward(twin.theta, twin.x, twin.data.y[0], &a);
    result->target = twin.data.y[0];
    result->n_parameters = N_PARAMETERS;
    example_backward(twin.theta, result->target, &a, 1.0, grad, input_grad, result->stages);
    chain_jacobian_errors(twin.theta, &a, result->target, result->stages);

    // Stage 6: the first layer's weight gradient, against central differences of the loss.
    ChainStage *last = &result->stages[CALCULUS_CHAIN_STAGES - 1];
    last->n = sizes[0] * sizes[1];
    memcpy(last->vector, grad, WIDTH * sizeof(double));
    double numeric[N_PARAMETERS], x_numeric[WIDTH], worst = 0.0, hand_scale = max_abs(grad, N_PARAMETERS);
    for (int i = 0; i < N_PARAMETERS; i++) {
        double saved = twin.theta[i];
        twin.theta[i] = saved + 1e-6;
        double up = network_loss64(&twin.data, twin.theta, NULL);
        twin.theta[i] = saved - 1e-6;
        double down = network_loss64(&twin.data, twin.theta, NULL);
        twin.theta[i] = saved;
        numeric[i] = (up - down) / 2e-6;
    }
    for (int i = 0; i < last->n; i++) worst = fmax(worst, fabs(numeric[i] - grad[i]));
    last->jacobian_error = worst;
    // ∂L/∂x by differences of the whole loss in x.
    for (int i = 0; i < sizes[0]; i++) {
        Activations scratch;
        double saved = twin.x[i];
        twin.x[i] = saved + 1e-6;
        double up = example_forward(twin.theta, twin.x, result->target, &scratch);
        twin.x[i] = saved - 1e-6;
        double down = example_forward(twin.theta, twin.x, result->target, &scratch);
        twin.x[i] = saved;
        x_numeric[i] = (up - down) / 2e-6;
    }
    result->input_gradient_error = relative_error(x_numeric, input_grad, sizes[0]);
    double tape_worst = 0.0;
    for (int i = 0; i < N_PARAMETERS; i++) tape_worst = fmax(tape_worst, fabs(grad[i] - tape_grad[i]));
    result->tape_gradient_error = tape_worst / hand_scale;
    for (int s = 0; s < CALCULUS_CHAIN_STAGES; s++) {
        result->stages[s].formula = formulas[s], result->stages[s].jacobian = jacobians[s];
        double sum = 0.0;
        int n = s == CALCULUS_CHAIN_STAGES - 1 ? sizes[0] * sizes[1] : result->stages[s].n;
        const double *values = s == CALCULUS_CHAIN_STAGES - 1 ? grad : result->stages[s].vector;
        for (int i = 0; i < n; i++) sum += values[i] * values[i];
        result->stages[s].norm = sqrt(sum);
    }
    return 0;
}
