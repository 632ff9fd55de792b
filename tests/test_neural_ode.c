// The neural ODE (models/neural_ode.c): the tape's RK4 matches the double-precision solver;
// the adjoint method's gradient equals backpropagation through the solver; both equal finite
// differences of the loss; Dormand–Prince on the tape takes steps by tolerance; fitting the
// spiral brings the whole trajectory close to the true one.
#include <math.h>
#include <string.h>

#include "models/neural_ode.h"
#include "tests/check.h"

enum { B = 4, K = 5, HIDDEN = 16 };
static const float dt = 0.1f;

static void batch(const float *xy, float *z0, float *targets) {
    const int starts[B] = {0, 7, 20, 33};
    for (int b = 0; b < B; b++) {
        memcpy(z0 + 2 * b, xy + 2 * starts[b], 2 * sizeof(float));
        for (int k = 0; k < K; k++) memcpy(targets + 2 * (k * B + b), xy + 2 * (starts[b] + k + 1), 2 * sizeof(float));
    }
}

static float *gradient_copy(const NeuralOde *model, float *out) {
    long offset = 0;
    for (int e = 0; e < model->params.count; e++) {
        const Tensor *t = model->params.entries[e].tensor;
        memcpy(out + offset, t->grad, sizeof(float) * (size_t)t->size);
        offset += t->size;
    }
    return out;
}

static void adjoint_equals_backprop(void) {
    static float xy[2 * 60], z0[2 * B], targets[2 * B * K];
    Error error;
    REQUIRE(spiral_trajectory(60, dt, xy, &error) == 0, "%s", error.message);
    batch(xy, z0, targets);
    NeuralOde model;
    REQUIRE(neural_ode_init(&model, HIDDEN, 3, &error) == 0, "%s", error.message);
    long n = parameters_count(&model.params);
    static float backprop[1024], adjoint[1024];
    REQUIRE(n <= 1024, "%ld parameters", n);
    OdeSolverConfig solver = {SOLVER_RK4, 4, {0, 0, 0, 0}};
    float loss_backprop, loss_adjoint;
    REQUIRE(neural_ode_loss_gradient(&model, &solver, 0, z0, B, targets, dt, K, &loss_backprop, &error) == 0, "%s", error.message);
    gradient_copy(&model, backprop);
    REQUIRE(neural_ode_loss_gradient(&model, &solver, 1, z0, B, targets, dt, K, &loss_adjoint, &error) == 0, "%s", error.message);
    gradient_copy(&model, adjoint);
    CHECK_NEAR(loss_adjoint, loss_backprop, 1e-5 * loss_backprop);  // the tape's RK4 is the solver's
    double worst = 0.0, largest = 0.0;
    for (long i = 0; i < n; i++) worst = fmax(worst, fabs(adjoint[i] - backprop[i])), largest = fmax(largest, fabs(backprop[i]));
    printf("adjoint against backprop: largest difference %.3g of gradients up to %.3g\n", worst, largest);
    CHECK(worst < 1e-3 * largest, "adjoint and backprop differ by %g (largest gradient %g)", worst, largest);
    CHECK(largest > 1e-3, "gradients too small to compare (%g)", largest);
    // both against a central difference of the loss in one weight of fc2 (double-checked step)
    Tensor *w = model.fc2.weight;
    float saved = w->data[3], h = 1e-2f, plus, minus;
    long index = parameters_count(&model.params) - model.fc2.bias->size - w->size + 3;
    w->data[3] = saved + h;
    neural_ode_loss_gradient(&model, &solver, 0, z0, B, targets, dt, K, &plus, &error);
    w->data[3] = saved - h;
    neural_ode_loss_gradient(&model, &solver, 0, z0, B, targets, dt, K, &minus, &error);
    w->data[3] = saved;
    double numeric = (plus - minus) / (2.0 * h);
    CHECK_NEAR(backprop[index], numeric, 1e-3 * fabs(numeric) + 1e-5);
    neural_ode_free(&model);
}

static void dopri_on_the_tape_follows_its_tolerance(void) {
    NeuralOde model;
    Error error;
    REQUIRE(neural_ode_init(&model, HIDDEN, 3, &error) == 0, "%s", error.message);
    float z0[2] = {2.0f, 0.0f};
    long steps_loose = 0, steps_tight = 0;
    float loose[2], tight[2], reference[2];
    for (int pass = 0; pass < 3; pass++) {
        Tape tape;
        tape_init(&tape);
        Tensor *states[1];
        OdeSolverConfig solver = {pass < 2 ? SOLVER_DOPRI5 : SOLVER_RK4, 2000, {pass ? 1e-7 : 1e-3, 1e-7, 0.0, 1000}};
        long *steps = pass == 0 ? &steps_loose : &steps_tight;
        REQUIRE(neural_ode_solve(&tape, &model, &solver, tensor_from(&tape, z0, 2, (int[]){1, 2}), 3.0f, 1, states, steps,
                                 &error) == 0, "%s", error.message);
        memcpy(pass == 0 ? loose : pass == 1 ? tight : reference, states[0]->data, sizeof loose);
        tape_free(&tape);
    }
    CHECK(steps_tight > steps_loose, "%ld steps at 1e-7, %ld at 1e-3", steps_tight, steps_loose);
    CHECK(hypotf(tight[0] - reference[0], tight[1] - reference[1]) < 2e-5f, "dopri5 at 1e-7 is %g from rk4 with 2000 steps",
          (double)hypotf(tight[0] - reference[0], tight[1] - reference[1]));
    neural_ode_free(&model);
}

static double trajectory_error(const NeuralOde *model, const float *xy, int n) {
    static float fitted[2 * 200];
    Error error;
    OdeSolverConfig solver = {SOLVER_RK4, 1, {0, 0, 0, 0}};
    if (neural_ode_trajectory(model, &solver, xy, n, dt, fitted, &error)) return INFINITY;
    double sum = 0.0;
    for (int i = 0; i < 2 * n; i++) sum += (fitted[i] - xy[i]) * (fitted[i] - xy[i]) / (2.0 * n);
    return sum;
}

static void fits_the_spiral(void) {
    enum { N = 100 };
    static float xy[2 * N];
    Error error;
    REQUIRE(spiral_trajectory(N, dt, xy, &error) == 0, "%s", error.message);
    NeuralOde model;
    REQUIRE(neural_ode_init(&model, 32, 1, &error) == 0, "%s", error.message);
    double before = trajectory_error(&model, xy, N);
    OdeSolverConfig solver = {SOLVER_RK4, 1, {0, 0, 0, 0}};
    OdeTraining training = {400, 16, 8, 0.01f, 0, 1};
    float loss;
    REQUIRE(neural_ode_train(&model, &solver, xy, N, dt, &training, &loss, &error) == 0, "%s", error.message);
    double after = trajectory_error(&model, xy, N);
    printf("spiral: trajectory mean squared error %.4g before, %.4g after training\n", before, after);
    CHECK(after < 0.02 && after < before / 20, "trajectory error %g (before %g)", after, before);
    neural_ode_free(&model);
}

static const CheckCase CASES[] = {
    {"adjoint equals backprop", adjoint_equals_backprop},
    {"dopri on the tape follows its tolerance", dopri_on_the_tape_follows_its_tolerance},
    {"fits the spiral", fits_the_spiral},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
