// Neural ODE: see neural_ode.h.
#include "models/neural_ode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/optim.h"

int neural_ode_init(NeuralOde *model, int hidden, uint64_t seed, Error *error) {
    memset(model, 0, sizeof *model);
    if (hidden < 1 || hidden > 4096) return error_set(error, "neural ode: %d hidden units (1..4096)", hidden);
    model->hidden = hidden;
    Random rng;
    random_seed(&rng, seed);
    if (linear_init(&model->fc1, &model->params, "fc1", 2, hidden, 1, &rng, error) ||
        linear_init(&model->fc2, &model->params, "fc2", hidden, 2, 1, &rng, error)) {
        neural_ode_free(model);
        return -1;
    }
    return 0;
}

void neural_ode_free(NeuralOde *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

Tensor *neural_ode_velocity(Tape *tape, const NeuralOde *model, Tensor *z) {
    return linear_apply(tape, &model->fc2, nn_tanh(tape, linear_apply(tape, &model->fc1, z)));
}

// One step of the tableau on the tape: k_i = f(z + h Σ a_ij k_j), z + h Σ b_i k_i; k (stages).
static Tensor *tensor_rk_step(Tape *tape, const NeuralOde *model, const ButcherTableau *m, Tensor *z, float h, Tensor **k) {
    for (int i = 0; i < m->stages; i++) {
        Tensor *stage = z;
        for (int j = 0; j < i; j++)
            if (m->a[i][j] != 0.0) stage = nn_add(tape, stage, nn_scale(tape, k[j], (float)(h * m->a[i][j])));
        k[i] = neural_ode_velocity(tape, model, stage);
    }
    Tensor *next = z;
    for (int i = 0; i < m->stages; i++)
        if (m->b[i] != 0.0) next = nn_add(tape, next, nn_scale(tape, k[i], (float)(h * m->b[i])));
    return next;
}

// Dormand–Prince over one interval of length dt on the tape, steps chosen from the values.
static Tensor *adaptive_interval(Tape *tape, const NeuralOde *model, const OdeAdaptive *options, Tensor *z, float dt,
                                 long *steps, Error *error) {
    const ButcherTableau *m = &ode_dormand_prince;
    long n = z ? z->size : 0;
    double *work = malloc(sizeof(double) * 3 * (size_t)(n > 0 ? n : 1));
    if (!work) return error_set(error, "neural ode: out of memory"), NULL;
    double *e = work, *y = work + n, *y_next = work + 2 * n, t = 0.0;
    double h = options->first_step > 0.0 ? options->first_step : dt / 4.0;
    int tries = 0;
    while (z && t < dt) {
        if (++tries > options->max_steps) {
            error_set(error, "neural ode: more than %d steps in one interval", options->max_steps);
            z = NULL;
            break;
        }
        if (t + h > dt) h = dt - t;
        Tensor *k[ODE_MAX_STAGES];
        Tensor *next = tensor_rk_step(tape, model, m, z, (float)h, k);
        if (!next) return free(work), NULL;
        for (long d = 0; d < n; d++) {
            double sum = 0.0;
            for (int i = 0; i < m->stages; i++) sum += m->b_error[i] * k[i]->data[d];
            e[d] = h * sum, y[d] = z->data[d], y_next[d] = next->data[d];
        }
        double err = ode_error_norm(e, y, y_next, (int)n, options->rtol, options->atol);
        if (!isfinite(err)) {
            error_set(error, "neural ode: the solution is not finite");
            z = NULL;
            break;
        }
        if (err <= 1.0) t += h, z = next, ++*steps;  // rejected steps stay on the tape, unused
        h = ode_next_step(h, err, m->order);
    }
    free(work);
    return z;
}

int neural_ode_solve(Tape *tape, const NeuralOde *model, const OdeSolverConfig *solver, Tensor *z0, float dt, int K,
                     Tensor **states, long *steps, Error *error) {
    long counted = 0;
    if (K < 1 || !(dt > 0.0f)) return error_set(error, "neural ode: %d intervals of %g", K, (double)dt);
    if (solver->kind == SOLVER_RK4 && solver->steps_per_interval < 1)
        return error_set(error, "neural ode: %d steps per interval (at least 1)", solver->steps_per_interval);
    if (solver->kind == SOLVER_DOPRI5 && (!(solver->adaptive.rtol > 0.0) || !(solver->adaptive.atol > 0.0) ||
                                          solver->adaptive.max_steps < 1))
        return error_set(error, "neural ode: rtol %g, atol %g, %d steps (positive needed)", solver->adaptive.rtol,
                         solver->adaptive.atol, solver->adaptive.max_steps);
    Tensor *z = z0;
    for (int k = 0; k < K && z; k++) {
        if (solver->kind == SOLVER_RK4) {
            float h = dt / solver->steps_per_interval;
            for (int s = 0; s < solver->steps_per_interval && z; s++) {
                Tensor *stages[ODE_MAX_STAGES];
                z = tensor_rk_step(tape, model, &ode_rk4, z, h, stages);
                counted++;
            }
        } else {
            z = adaptive_interval(tape, model, &solver->adaptive, z, dt, &counted, error);
            if (!z) return -1;
        }
        states[k] = z;
    }
    if (steps) *steps += counted;
    return z ? 0 : tape_error(tape, error);
}

// ---------------------------------------------------------------------------------------
// Gradients

// Backpropagation through the solver.
static int backprop_gradient(const NeuralOde *model, const OdeSolverConfig *solver, const float *z0, int B,
                             const float *targets, float dt, int K, float *loss_value, Error *error) {
    Tape tape;
    tape_init(&tape);
    Tensor **states = malloc(sizeof *states * (size_t)K);
    int status = states ? 0 : error_set(error, "neural ode: out of memory");
    int shape[2] = {B, 2}, all[2] = {K * B, 2};
    if (!status) status = neural_ode_solve(&tape, model, solver, tensor_from(&tape, z0, 2, shape), dt, K, states, NULL, error);
    if (!status) {
        Tensor *loss = nn_mse_loss(&tape, nn_concat(&tape, states, K, 0), tensor_from(&tape, targets, 2, all));
        parameters_zero_grad((Parameters *)&model->params);
        if (!loss) status = tape_error(&tape, error);
        else if (!(status = tape_backward(&tape, loss, error))) *loss_value = loss->data[0];
    }
    free(states);
    tape_free(&tape);
    return status;
}

typedef struct AdjointContext {
    const NeuralOde *model;
    Tape tape;
    int B;
    long n_params;
    float *buffer;  // (2B) floats for conversions
} AdjointContext;

static int velocity_function(void *context, double t, const double *y, double *dy, Error *error) {
    (void)t;
    AdjointContext *c = context;
    tape_reset(&c->tape);
    c->tape.recording = 0;
    for (int i = 0; i < 2 * c->B; i++) c->buffer[i] = (float)y[i];
    Tensor *out = neural_ode_velocity(&c->tape, c->model, tensor_from(&c->tape, c->buffer, 2, (int[]){c->B, 2}));
    if (!out) return tape_error(&c->tape, error);
    for (int i = 0; i < 2 * c->B; i++) dy[i] = out->data[i];
    return 0;
}

// The augmented system [z, a, g]: dz/dt = f(z), da/dt = −aᵀ ∂f/∂z, dg/dt = −aᵀ ∂f/∂θ.
static int augmented_function(void *context, double t, const double *y, double *dy, Error *error) {
    (void)t;
    AdjointContext *c = context;
    int n = 2 * c->B, shape[2] = {c->B, 2};
    tape_reset(&c->tape);
    c->tape.recording = 1;
    for (int i = 0; i < n; i++) c->buffer[i] = (float)y[i];
    Tensor *z = tensor_from(&c->tape, c->buffer, 2, shape);
    for (int i = 0; i < n; i++) c->buffer[i] = (float)y[n + i];
    Tensor *a = tensor_from(&c->tape, c->buffer, 2, shape);
    if (!z || !a) return tape_error(&c->tape, error);
    z->requires_grad = 1;
    Tensor *f = neural_ode_velocity(&c->tape, c->model, z);
    Tensor *product = nn_sum(&c->tape, nn_mul(&c->tape, f, a), NULL, 0, 0);  // aᵀ f: its gradients are the VJPs
    parameters_zero_grad((Parameters *)&c->model->params);
    if (!product || tape_backward(&c->tape, product, error)) return product ? -1 : tape_error(&c->tape, error);
    float *dz = tensor_grad(&c->tape, z);
    for (int i = 0; i < n; i++) dy[i] = f->data[i], dy[n + i] = dz ? -dz[i] : 0.0;
    long offset = 2L * n;
    const Parameters *p = &c->model->params;
    for (int e = 0; e < p->count; e++)
        for (long i = 0; i < p->entries[e].tensor->size; i++) dy[offset++] = -p->entries[e].tensor->grad[i];
    return 0;
}

// The adjoint method with RK4: forward without a tape, storing z at the observations; then
// backwards interval by interval from the last observation, a jumping by ∂L/∂z(t_k).
static int adjoint_gradient(const NeuralOde *model, const OdeSolverConfig *solver, const float *z0, int B,
                            const float *targets, float dt, int K, float *loss_value, Error *error) {
    if (solver->kind != SOLVER_RK4 || solver->steps_per_interval < 1)
        return error_set(error, "neural ode: the adjoint method here needs the rk4 solver");
    AdjointContext c;
    memset(&c, 0, sizeof c);
    c.model = model, c.B = B, c.n_params = parameters_count(&model->params);
    int n = 2 * B;
    long size = 2L * n + c.n_params;
    double *z = malloc(sizeof(double) * (size_t)n * (K + 1)), *aug = malloc(sizeof(double) * (size_t)size);
    c.buffer = malloc(sizeof(float) * (size_t)n);
    tape_init(&c.tape);
    int status = z && aug && c.buffer ? 0 : error_set(error, "neural ode: out of memory");
    for (int i = 0; !status && i < n; i++) z[i] = z0[i];
    for (int k = 1; k <= K && !status; k++) {
        memcpy(z + (long)k * n, z + (long)(k - 1) * n, sizeof(double) * (size_t)n);
        status = ode_solve_fixed(&ode_rk4, velocity_function, &c, n, z + (long)k * n, (k - 1) * dt, k * dt,
                                 solver->steps_per_interval, error);
    }
    double loss = 0.0, scale = 1.0 / ((double)K * n);  // L = mean over K·B·2 squared differences
    for (int k = 1; k <= K && !status; k++)
        for (int i = 0; i < n; i++) loss += scale * pow(z[(long)k * n + i] - targets[(long)(k - 1) * n + i], 2);
    if (!status) memset(aug + n, 0, sizeof(double) * (size_t)(size - n));
    for (int k = K; k >= 1 && !status; k--) {
        memcpy(aug, z + (long)k * n, sizeof(double) * (size_t)n);  // z(t_k) from the forward pass
        for (int i = 0; i < n; i++) aug[n + i] += 2.0 * scale * (z[(long)k * n + i] - targets[(long)(k - 1) * n + i]);
        status = ode_solve_fixed(&ode_rk4, augmented_function, &c, (int)size, aug, k * dt, (k - 1) * dt,
                                 solver->steps_per_interval, error);
    }
    if (!status) {
        long offset = 2L * n;
        const Parameters *p = &model->params;
        for (int e = 0; e < p->count; e++)
            for (long i = 0; i < p->entries[e].tensor->size; i++) p->entries[e].tensor->grad[i] = (float)aug[offset++];
        *loss_value = (float)loss;
    }
    tape_free(&c.tape);
    free(z), free(aug), free(c.buffer);
    return status;
}

int neural_ode_loss_gradient(const NeuralOde *model, const OdeSolverConfig *solver, int adjoint, const float *z0, int B,
                             const float *targets, float dt, int K, float *loss, Error *error) {
    if (B < 1 || K < 1) return error_set(error, "neural ode: %d start points, %d intervals", B, K);
    return adjoint ? adjoint_gradient(model, solver, z0, B, targets, dt, K, loss, error)
                   : backprop_gradient(model, solver, z0, B, targets, dt, K, loss, error);
}

// ---------------------------------------------------------------------------------------
// Data and training

// dz/dt = Aᵀ z, A = [[−0.1, 2], [−2, −0.1]].
static int spiral_velocity(void *context, double t, const double *y, double *dy, Error *error) {
    (void)context, (void)t, (void)error;
    dy[0] = -0.1 * y[0] - 2.0 * y[1];
    dy[1] = 2.0 * y[0] - 0.1 * y[1];
    return 0;
}

int spiral_trajectory(int n, float dt, float *xy, Error *error) {
    if (n < 2 || !(dt > 0.0f)) return error_set(error, "spiral: %d points %g apart (at least 2, positive)", n, (double)dt);
    double y[2] = {2.0, 0.0};
    OdeAdaptive options = {1e-10, 1e-10, 0.0, 100000};
    for (int k = 0; k < n; k++) {
        if (k > 0 && ode_solve_adaptive(spiral_velocity, NULL, 2, y, (k - 1) * (double)dt, k * (double)dt, &options, NULL, error))
            return -1;
        xy[2 * k] = (float)y[0], xy[2 * k + 1] = (float)y[1];
    }
    return 0;
}

int neural_ode_train(NeuralOde *model, const OdeSolverConfig *solver, const float *xy, int n, float dt,
                     const OdeTraining *training, float *final_loss, Error *error) {
    int B = training->batch, K = training->horizon;
    if (training->iterations < 1 || B < 1 || K < 1 || K >= n || !(training->lr > 0.0f))
        return error_set(error, "neural ode: %d iterations, batch %d, horizon %d of %d points, lr %g", training->iterations,
                         B, K, n, (double)training->lr);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, &model->params, &group, 1, NULL, error)) return -1;
    float *z0 = malloc(sizeof(float) * 2 * (size_t)B), *targets = malloc(sizeof(float) * 2 * (size_t)B * K);
    int status = z0 && targets ? 0 : error_set(error, "neural ode: out of memory");
    Random rng;
    random_seed(&rng, training->seed);
    for (int it = 0; it < training->iterations && !status; it++) {
        for (int b = 0; b < B; b++) {
            int s = (int)random_below(&rng, (uint32_t)(n - K));
            memcpy(z0 + 2 * b, xy + 2 * s, 2 * sizeof(float));
            for (int k = 0; k < K; k++) memcpy(targets + 2 * ((long)k * B + b), xy + 2 * (s + k + 1), 2 * sizeof(float));
        }
        status = neural_ode_loss_gradient(model, solver, training->adjoint, z0, B, targets, dt, K, final_loss, error);
        if (!status) param_optimizer_step(&optimizer, training->lr);
    }
    free(z0), free(targets);
    param_optimizer_free(&optimizer);
    return status;
}

int neural_ode_trajectory(const NeuralOde *model, const OdeSolverConfig *solver, const float *xy0, int n, float dt,
                          float *out, Error *error) {
    if (n < 2) return error_set(error, "neural ode: a trajectory of %d points", n);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor **states = malloc(sizeof *states * (size_t)(n - 1));
    int status = states ? 0 : error_set(error, "neural ode: out of memory");
    if (!status)
        status = neural_ode_solve(&tape, model, solver, tensor_from(&tape, xy0, 2, (int[]){1, 2}), dt, n - 1, states, NULL,
                                  error);
    if (!status) {
        memcpy(out, xy0, 2 * sizeof(float));
        for (int k = 0; k < n - 1; k++) memcpy(out + 2 * (k + 1), states[k]->data, 2 * sizeof(float));
    }
    free(states);
    tape_free(&tape);
    return status;
}
