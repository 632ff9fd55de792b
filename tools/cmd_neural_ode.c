// groundup neural-ode: fits a neural ODE (models/neural_ode.h) to the 2-D spiral trajectory.
//
//   groundup neural-ode [--points 200] [--dt 0.05] [--hidden 32] [--iterations 1000] [--batch 16]
//                       [--horizon 10] [--lr 0.01] [--solver rk4|dopri5] [--steps-per-interval 1]
//                       [--rtol 1e-5] [--adjoint] [--seed 1] [--svg out/neural_ode.svg]
//
// Prints the mean squared error of the whole fitted trajectory (integrated from z(0) with the
// learned velocity field) against the true one, before and after training, and draws both.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "foundations/plane_plot.h"
#include "models/neural_ode.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/plane_pictures.h"
#include "tools/run_record.h"

static double mean_squared(const float *a, const float *b, int n) {
    double sum = 0.0;
    for (int i = 0; i < 2 * n; i++) sum += (double)(a[i] - b[i]) * (a[i] - b[i]) / (2.0 * n);
    return sum;
}

static int write_trajectories(const float *truth, const float *fitted, int n, const char *path, Error *error) {
    const float *paths[2] = {truth, fitted};
    const int lengths[2] = {n, n};
    const char *names[2] = {"true spiral", "neural ODE"};
    PlanePicture picture = {.title = "neural ODE: true and fitted trajectories from z(0) = (2, 0)", .x_min = -2.5f,
                            .x_max = 2.5f, .y_min = -2.5f, .y_max = 2.5f, .path_xy = paths, .path_lengths = lengths,
                            .path_names = names, .n_paths = 2, .points = truth, .n_points = 1};
    return make_parent_directory(path, error) || plane_plot_write_svg(path, &picture, error);
}

int command_neural_ode(int argc, char **argv) {
    int points = 200, hidden = 32;
    float dt = 0.05f;
    double rtol = 1e-5;
    const char *solver_name = "rk4", *svg = "out/neural_ode.svg";
    long seed = 1;
    OdeTraining training = {1000, 16, 10, 0.01f, 0, 1};
    OdeSolverConfig solver = {SOLVER_RK4, 1, {1e-5, 1e-7, 0.0, 1000}};
    const Option options[] = {
        {"--points", OPTION_INT, &points, "observations of the true trajectory"},
        {"--dt", OPTION_FLOAT, &dt, "time between observations"},
        {"--hidden", OPTION_INT, &hidden, "hidden units of the velocity field"},
        {"--iterations", OPTION_INT, &training.iterations, "Adam steps"},
        {"--batch", OPTION_INT, &training.batch, "start points per step"},
        {"--horizon", OPTION_INT, &training.horizon, "observations ahead each start point is integrated"},
        {"--lr", OPTION_FLOAT, &training.lr, "learning rate"},
        {"--solver", OPTION_STRING, &solver_name, "rk4 (fixed steps) or dopri5 (adaptive)"},
        {"--steps-per-interval", OPTION_INT, &solver.steps_per_interval, "rk4 steps between observations"},
        {"--rtol", OPTION_DOUBLE, &rtol, "dopri5's relative tolerance"},
        {"--adjoint", OPTION_FLAG, &training.adjoint, "gradients by the adjoint method (rk4)"},
        {"--seed", OPTION_LONG, &seed, "seed of the initialisation and the batches"},
        {"--svg", OPTION_STRING, &svg, "the true and fitted trajectories"},
    };
    int parsed = options_parse(argc, argv, "groundup neural-ode [options]", options, 13, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!strcmp(solver_name, "dopri5")) solver.kind = SOLVER_DOPRI5;
    else if (strcmp(solver_name, "rk4")) return fail("neural-ode", "--solver must be rk4 or dopri5");
    if (training.adjoint && solver.kind != SOLVER_RK4) return fail("neural-ode", "--adjoint needs --solver rk4");
    if (points < 2 || !(dt > 0.0f) || training.horizon < 1 || training.horizon >= points)
        return fail("neural-ode", "--points must be at least 2, --dt positive and --horizon in [1, points)");
    if (solver.steps_per_interval < 1 || !(rtol > 0.0)) return fail("neural-ode", "--steps-per-interval and --rtol must be positive");
    solver.adaptive.rtol = rtol;
    training.seed = (uint64_t)seed;
    Error error = {{0}};
    float *truth = malloc(sizeof(float) * 4 * (size_t)points), *fitted = truth + 2 * (size_t)points;
    if (!truth) return fail("neural-ode", "out of memory");
    NeuralOde model;
    float loss = 0.0f;
    double before = 0.0, start = clock_seconds();
    int status = spiral_trajectory(points, dt, truth, &error) || neural_ode_init(&model, hidden, (uint64_t)seed, &error);
    if (!status) {
        status = neural_ode_trajectory(&model, &solver, truth, points, dt, fitted, &error);
        before = mean_squared(truth, fitted, points);
        if (!status) status = neural_ode_train(&model, &solver, truth, points, dt, &training, &loss, &error);
        double seconds = clock_seconds() - start;
        if (!status) status = neural_ode_trajectory(&model, &solver, truth, points, dt, fitted, &error);
        if (!status) {
            printf("neural ode: %d hidden units, %s solver%s, %d iterations in %.1f s, last batch loss %.5f\n", hidden,
                   solver_name, training.adjoint ? " with adjoint gradients" : "", training.iterations,
                   clock_seconds() - start, (double)loss);
            printf("trajectory mean squared error over t in [0, %g]: %.5f (untrained: %.4f)\n", (double)(dt * (points - 1)),
                   mean_squared(truth, fitted, points), before);
            status = write_trajectories(truth, fitted, points, svg, &error);
            if (!status) printf("trajectories %s\n", svg);
            char name[64], command[1024], dataset[96];
            snprintf(name, sizeof name, "neural-ode-%s%s", solver_name, training.adjoint ? "-adjoint" : "");
            snprintf(dataset, sizeof dataset, "2-D spiral: %d points, dt %g", points, (double)dt);
            RunRecord record = {.name = name, .command = run_record_command(argc, argv, command, sizeof command),
                                .dataset = dataset, .parameters = parameters_count(&model.params), .train_seconds = seconds,
                                .metric = "trajectory MSE", .value = mean_squared(truth, fitted, points), .figures = {svg}};
            if (!status) record_run("neural-ode", "neural_ode", &record);
        }
        neural_ode_free(&model);
    }
    free(truth);
    return status ? fail("neural-ode", error.message) : 0;
}
