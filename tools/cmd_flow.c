// groundup flow train|sample: RealNVP (models/realnvp.h) on a 2-D toy data set (models/toy2d.h).
//
//   groundup flow train [--data moons] [--layers 8 --hidden 64] [--steps 3000 --batch 256 --lr 1e-3]
//                       [--out out/flow.safetensors] [--density out/flow_density.svg] [--samples out/flow_samples.svg]
//   groundup flow sample --model out/flow.safetensors [--n 2000] [--seed 1] [--svg out/flow_samples.svg]
//
// train prints the negative log-likelihood in nats per point on the training points and on
// held-out points of the same distribution (another seed), beside the best single Gaussian's,
// and writes the learned density as a heat map and samples as a scatter.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "foundations/plane_plot.h"
#include "models/realnvp.h"
#include "models/toy2d.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/plane_pictures.h"
#include "tools/run_record.h"

enum { GRID = 120 };

// The density p(x) on a GRID² grid over the window, as a heat map.
static int write_density_svg(const RealNvp *flow, const char *path, const char *title, Error *error) {
    float *points = malloc(sizeof(float) * 2 * GRID * GRID), *log_p = malloc(sizeof(float) * GRID * GRID);
    int status = points && log_p ? 0 : error_set(error, "flow: out of memory");
    const float cell = 2.0f * PLANE_WINDOW / GRID;
    for (int r = 0; !status && r < GRID; r++)
        for (int c = 0; c < GRID; c++) {
            points[2 * (r * GRID + c)] = -PLANE_WINDOW + (c + 0.5f) * cell;
            points[2 * (r * GRID + c) + 1] = -PLANE_WINDOW + (r + 0.5f) * cell;
        }
    if (!status) status = realnvp_log_prob(flow, points, GRID * GRID, log_p, error);
    for (int i = 0; !status && i < GRID * GRID; i++) log_p[i] = expf(log_p[i]);
    PlanePicture picture = {.title = title, .x_min = -PLANE_WINDOW, .x_max = PLANE_WINDOW, .y_min = -PLANE_WINDOW,
                            .y_max = PLANE_WINDOW, .grid = log_p, .grid_rows = GRID, .grid_columns = GRID};
    if (!status) status = plane_plot_write_svg(path, &picture, error);
    free(points), free(log_p);
    return status;
}

static int write_samples(const RealNvp *flow, int n, uint64_t seed, const char *path, const char *title, Error *error) {
    float *samples = malloc(sizeof(float) * 2 * (size_t)n);
    if (!samples) return error_set(error, "flow: out of memory for %d samples", n);
    int status = realnvp_sample(flow, n, seed, samples, error);
    if (!status) print_point_statistics("samples", samples, n);
    if (!status) status = make_parent_directory(path, error) || write_points_svg(path, title, samples, n, error);
    free(samples);
    return status;
}

// −mean log p of points (n,2).
static int mean_nll(const RealNvp *flow, const float *points, int n, double *nll, Error *error) {
    float *log_p = malloc(sizeof(float) * (size_t)n);
    if (!log_p) return error_set(error, "flow: out of memory");
    int status = realnvp_log_prob(flow, points, n, log_p, error);
    *nll = 0.0;
    for (int i = 0; i < n; i++) *nll -= (double)log_p[i] / n;
    free(log_p);
    return status;
}

static int flow_train(int argc, char **argv) {
    const char *data = "moons", *out = "out/flow.safetensors", *density = "out/flow_density.svg";
    const char *samples_path = "out/flow_samples.svg";
    int points = 4000, samples = 2000;
    long seed = 1;
    RealNvpConfig config = {8, 64};
    FlowTraining training = {3000, 256, 1e-3f, 1};
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "moons, spirals or gaussians"},
        {"--points", OPTION_INT, &points, "training points (held-out: as many, another seed)"},
        {"--layers", OPTION_INT, &config.n_layers, "coupling layers"},
        {"--hidden", OPTION_INT, &config.hidden, "width of each coupling's MLP"},
        {"--steps", OPTION_INT, &training.steps, "Adam steps"},
        {"--batch", OPTION_INT, &training.batch, "points per step"},
        {"--lr", OPTION_FLOAT, &training.lr, "learning rate"},
        {"--seed", OPTION_LONG, &seed, "seed of the data, the initialisation and the batches"},
        {"--out", OPTION_STRING, &out, "the checkpoint"},
        {"--density", OPTION_STRING, &density, "the learned density as an SVG heat map"},
        {"--samples", OPTION_STRING, &samples_path, "samples as an SVG scatter"},
        {"--n", OPTION_INT, &samples, "samples drawn for the picture"},
    };
    int parsed = options_parse(argc, argv, "groundup flow train [options]", options, 12, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    Error error = {{0}};
    Toy2dKind kind;
    if (toy2d_parse(data, &kind, &error)) return fail("flow", error.message);
    if (points < 1 || samples < 1 || training.steps < 1 || training.batch < 1)
        return fail("flow", "--points, --n, --steps and --batch must be at least 1");
    float *train_points = malloc(sizeof(float) * 4 * (size_t)points);
    if (!train_points) return fail("flow", "out of memory");
    float *held_out = train_points + 2 * (size_t)points;
    toy2d_sample(kind, points, (uint64_t)seed, train_points, NULL);
    toy2d_sample(kind, points, (uint64_t)seed + 1000003, held_out, NULL);
    training.seed = (uint64_t)seed;
    RealNvp flow;
    float train_nll;
    double held_out_nll = 0.0, start = clock_seconds(), seconds = 0.0;
    int status = realnvp_init(&flow, &config, (uint64_t)seed, &error);
    if (!status) {
        fprintf(stderr, "flow: training %d coupling layers of width %d on %d %s points for %d steps\n", config.n_layers,
                config.hidden, points, data, training.steps);
        status = realnvp_train(&flow, train_points, points, &training, &train_nll, &error);
        seconds = clock_seconds() - start;
        if (!status) status = mean_nll(&flow, held_out, points, &held_out_nll, &error);
    }
    if (!status) {
        printf("realnvp on %s: %d layers of width %d, %ld parameters, %d steps in %.1f s\n", data, config.n_layers,
               config.hidden, parameters_count(&flow.params), training.steps, clock_seconds() - start);
        printf("negative log-likelihood: %.4f nats per point on the training points, %.4f held out\n", (double)train_nll,
               held_out_nll);
        char title[96];
        snprintf(title, sizeof title, "RealNVP density on %s (held-out NLL %.3f)", data, held_out_nll);
        status = make_parent_directory(out, &error) || realnvp_save(&flow, out, data, &error) ||
                 make_parent_directory(density, &error) || write_density_svg(&flow, density, title, &error);
        snprintf(title, sizeof title, "RealNVP samples (%s)", data);
        if (!status) status = write_samples(&flow, samples, (uint64_t)seed, samples_path, title, &error);
        if (!status) printf("checkpoint %s, density %s, samples %s\n", out, density, samples_path);
        char name[80], command[1024], dataset[128];
        snprintf(name, sizeof name, "flow-%s", data);
        snprintf(dataset, sizeof dataset, "%s: %d points (held out: %d of another seed)", data, points, points);
        RunRecord record = {.name = name, .command = run_record_subcommand("flow", argc, argv, command, sizeof command),
                            .dataset = dataset, .parameters = parameters_count(&flow.params), .train_seconds = seconds,
                            .metric = "held-out NLL (nats/point)", .value = held_out_nll, .checkpoint = out,
                            .figures = {density, samples_path}};
        if (!status) record_run("flow train", "realnvp", &record);
    }
    realnvp_free(&flow);
    free(train_points);
    return status ? fail("flow", error.message) : 0;
}

static int flow_sample(int argc, char **argv) {
    const char *model = NULL, *svg = "out/flow_samples.svg";
    int n = 2000;
    long seed = 1;
    const Option options[] = {
        {"--model", OPTION_STRING, &model, "a checkpoint of flow train"},
        {"--n", OPTION_INT, &n, "samples"},
        {"--seed", OPTION_LONG, &seed, "seed of the latent draws"},
        {"--svg", OPTION_STRING, &svg, "the samples as an SVG scatter"},
    };
    int parsed = options_parse(argc, argv, "groundup flow sample --model F [--n 2000] [--seed 1] [--svg S]", options, 4,
                               NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model) return fail("flow", "sample needs --model");
    if (n < 1) return fail("flow", "--n must be at least 1");
    Error error = {{0}};
    RealNvp flow;
    char data[64];
    if (realnvp_load(&flow, model, data, sizeof data, &error)) return fail("flow", error.message);
    char title[96];
    snprintf(title, sizeof title, "RealNVP samples (%s)", data);
    int status = write_samples(&flow, n, (uint64_t)seed, svg, title, &error);
    if (!status) printf("%d samples: %s\n", n, svg);
    realnvp_free(&flow);
    return status ? fail("flow", error.message) : 0;
}

int command_flow(int argc, char **argv) {
    const char *usage = "usage: groundup flow train|sample [options]   (groundup flow train --help)\n";
    if (argc >= 2 && !strcmp(argv[1], "train")) return flow_train(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "sample")) return flow_sample(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) return printf("%s", usage), 0;
    fprintf(stderr, "groundup: flow: expected train or sample\n%s", usage);
    return 2;
}
