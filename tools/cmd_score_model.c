// groundup score-model train|sample: a noise-conditional score network (models/score_model.h)
// on a 2-D toy data set (models/toy2d.h), sampled by annealed Langevin dynamics.
//
//   groundup score-model train [--data moons] [--hidden 128 --levels 10 --sigma-max 2 --sigma-min 0.05]
//                              [--activation relu] [--steps 15000 --batch 256 --lr 1e-3]
//                              [--out out/score_model.safetensors]
//                              [--field out/score_field.svg] [--samples out/score_samples.svg]
//   groundup score-model sample --model M [--n 2000] [--steps-per-level 100] [--step-size 1e-4] [--svg S]
//
// train prints the denoising score matching loss, the samples' mean and covariance beside the
// data's, and their MMD² to fresh data beside a second draw's (the floor) and a fitted
// Gaussian's (the baseline), which is the run record's value; the field SVG draws s_θ(x, σ) as
// arrows at one noise level over the data.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "foundations/plane_plot.h"
#include "models/score_model.h"
#include "models/toy2d.h"
#include "models/toy2d_quality.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/plane_pictures.h"
#include "tools/run_record.h"

enum { ARROWS = 21 };

// s_θ(x, σ) on an ARROWS² grid over data. Lengths are compressed (∝ √|s|, the longest 90% of a
// cell): far from the data |s| grows linearly and would dwarf the arrows near it.
static int write_field_svg(const ScoreModel *model, float sigma, const float *data, int n, const char *path,
                           Error *error) {
    static float from[2 * ARROWS * ARROWS], vector[2 * ARROWS * ARROWS];
    const float cell = 2.0f * PLANE_WINDOW / ARROWS;
    for (int r = 0; r < ARROWS; r++)
        for (int c = 0; c < ARROWS; c++) {
            from[2 * (r * ARROWS + c)] = -PLANE_WINDOW + (c + 0.5f) * cell;
            from[2 * (r * ARROWS + c) + 1] = -PLANE_WINDOW + (r + 0.5f) * cell;
        }
    if (score_model_score(model, from, ARROWS * ARROWS, sigma, vector, error)) return -1;
    float longest = 1e-12f;
    for (int i = 0; i < ARROWS * ARROWS; i++) longest = fmaxf(longest, hypotf(vector[2 * i], vector[2 * i + 1]));
    for (int i = 0; i < ARROWS * ARROWS; i++) {
        float length = hypotf(vector[2 * i], vector[2 * i + 1]);
        float scale = length > 0.0f ? 0.9f * cell * sqrtf(length / longest) / length : 0.0f;
        vector[2 * i] *= scale, vector[2 * i + 1] *= scale;
    }
    char title[96];
    snprintf(title, sizeof title, "score field s(x, sigma = %.3g), lengths as sqrt|s|", (double)sigma);
    PlanePicture picture = {.title = title, .x_min = -PLANE_WINDOW, .x_max = PLANE_WINDOW, .y_min = -PLANE_WINDOW,
                            .y_max = PLANE_WINDOW, .arrow_from = from, .arrow_vector = vector,
                            .n_arrows = ARROWS * ARROWS, .points = data, .n_points = n};
    return make_parent_directory(path, error) || plane_plot_write_svg(path, &picture, error);
}

// Prints the samples' MMD² to fresh draws of the data beside a second draw's and a fitted
// Gaussian's (models/toy2d_quality.h); the draws come from seed + 1000 on, not the training seed.
static int print_quality(Toy2dKind kind, const float *samples, int n, uint64_t seed, Toy2dQuality *quality,
                         Error *error) {
    if (toy2d_quality(kind, samples, n, seed + 1000, quality, error)) return -1;
    const Toy2dQuality *q = quality;
    printf("sample quality, MMD^2 to %d fresh %s points (Gaussian kernel, median-distance bandwidth h = %.3f):\n", n,
           toy2d_name(kind), q->bandwidth);
    printf("  at h:   samples %.5f, a second draw of the data %.5f (floor), the fitted Gaussian %.5f (baseline)\n",
           q->samples, q->floor, q->gaussian);
    printf("  at h/4: samples %.5f, a second draw of the data %.5f (floor), the fitted Gaussian %.5f (baseline)\n",
           q->samples_fine, q->floor_fine, q->gaussian_fine);
    return 0;
}

// Draws n samples, prints their moments and (when kind is a toy data set, not -1) their quality
// into *quality, and draws them into an SVG at path.
static int write_samples(const ScoreModel *model, const LangevinConfig *langevin, int n, uint64_t seed, int kind,
                         const char *path, const char *title, Toy2dQuality *quality, Error *error) {
    float *samples = malloc(sizeof(float) * 2 * (size_t)n);
    if (!samples) return error_set(error, "score-model: out of memory for %d samples", n);
    int status = annealed_langevin(score_model_function, (void *)model, model->sigmas, model->config.n_sigmas, langevin,
                                   n, seed, samples, error);
    if (!status) print_point_statistics("samples", samples, n);
    if (!status && kind >= 0 && n >= 2) status = print_quality((Toy2dKind)kind, samples, n, seed, quality, error);
    if (!status) status = make_parent_directory(path, error) || write_points_svg(path, title, samples, n, error);
    free(samples);
    return status;
}

static int score_train(int argc, char **argv) {
    const char *data = "moons", *out = "out/score_model.safetensors", *field = "out/score_field.svg";
    const char *samples_path = "out/score_samples.svg";
    int points = 4000, samples = 2000, field_level = -1;
    long seed = 1;
    const char *activation = "relu";
    ScoreConfig config = {128, 10, 2.0f, 0.05f, SCORE_RELU};
    ScoreTraining training = {15000, 256, 1e-3f, 1};
    LangevinConfig langevin = {100, 1e-4f, 1, -PLANE_WINDOW, PLANE_WINDOW};
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "moons, spirals or gaussians"},
        {"--points", OPTION_INT, &points, "training points"},
        {"--hidden", OPTION_INT, &config.hidden, "MLP width"},
        {"--levels", OPTION_INT, &config.n_sigmas, "noise levels L"},
        {"--sigma-max", OPTION_FLOAT, &config.sigma_max, "the largest noise level"},
        {"--sigma-min", OPTION_FLOAT, &config.sigma_min, "the smallest noise level"},
        {"--activation", OPTION_STRING, &activation, "relu, or softplus (the first version's)"},
        {"--steps", OPTION_INT, &training.steps, "Adam steps"},
        {"--batch", OPTION_INT, &training.batch, "points per step"},
        {"--lr", OPTION_FLOAT, &training.lr, "peak learning rate (a cosine takes it to lr/100)"},
        {"--seed", OPTION_LONG, &seed, "seed of the data, initialisation, noise and sampling"},
        {"--out", OPTION_STRING, &out, "the checkpoint"},
        {"--field", OPTION_STRING, &field, "the score field as arrows (SVG)"},
        {"--field-level", OPTION_INT, &field_level, "noise level drawn (0 = largest; default: the middle one)"},
        {"--samples", OPTION_STRING, &samples_path, "samples as an SVG scatter"},
        {"--n", OPTION_INT, &samples, "samples drawn"},
        {"--steps-per-level", OPTION_INT, &langevin.steps_per_sigma, "Langevin steps at each noise level"},
        {"--step-size", OPTION_FLOAT, &langevin.step_size, "Langevin step at the last level"},
    };
    int parsed = options_parse(argc, argv, "groundup score-model train [options]", options, 18, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    Error error = {{0}};
    Toy2dKind kind;
    if (toy2d_parse(data, &kind, &error) || score_activation_parse(activation, &config.activation, &error))
        return fail("score-model", error.message);
    if (points < 1 || samples < 1 || training.steps < 1 || training.batch < 1 || langevin.steps_per_sigma < 1)
        return fail("score-model", "--points, --n, --steps, --batch and --steps-per-level must be at least 1");
    if (field_level < 0) field_level = config.n_sigmas / 2;
    if (field_level >= config.n_sigmas) return fail("score-model", "--field-level must be below --levels");
    float *train_points = malloc(sizeof(float) * 2 * (size_t)points);
    if (!train_points) return fail("score-model", "out of memory");
    toy2d_sample(kind, points, (uint64_t)seed, train_points, NULL);
    training.seed = (uint64_t)seed;
    ScoreModel model;
    float loss = 0.0f;
    Toy2dQuality quality = {0};
    double start = clock_seconds();
    int status = score_model_init(&model, &config, (uint64_t)seed, &error);
    if (!status) {
        fprintf(stderr, "score-model: training on %d %s points for %d steps\n", points, data, training.steps);
        status = score_model_train(&model, train_points, points, &training, &loss, &error);
    }
    double seconds = clock_seconds() - start;
    if (!status) {
        printf("score model on %s: width %d (%s), %d noise levels %.3g .. %.3g, %ld parameters, %d steps in %.1f s\n",
               data, config.hidden, activation, config.n_sigmas, (double)config.sigma_max, (double)config.sigma_min,
               parameters_count(&model.params), training.steps, seconds);
        printf("denoising score matching loss (last 100 steps): %.4f\n", (double)loss);
        print_point_statistics("data", train_points, points);
        char title[96];
        snprintf(title, sizeof title, "annealed Langevin samples (%s)", data);
        status = make_parent_directory(out, &error) || score_model_save(&model, out, data, &error) ||
                 write_field_svg(&model, model.sigmas[field_level], train_points, points < 1000 ? points : 1000, field,
                                 &error) ||
                 write_samples(&model, &langevin, samples, (uint64_t)seed, (int)kind, samples_path, title, &quality, &error);
        if (!status) printf("checkpoint %s, score field %s, samples %s\n", out, field, samples_path);
        // The headline: the samples' MMD² to fresh data (the floor and the Gaussian baseline are
        // printed beside it); with fewer than 2 samples, the training objective.
        char name[80], command[1024], dataset[96];
        snprintf(name, sizeof name, "score-model-%s", data);
        snprintf(dataset, sizeof dataset, "%s: %d points", data, points);
        RunRecord record = {.name = name, .command = run_record_subcommand("score-model", argc, argv, command, sizeof command),
                            .dataset = dataset, .parameters = parameters_count(&model.params), .train_seconds = seconds,
                            .metric = "samples' MMD^2 to fresh data (median-distance bandwidth)", .value = quality.samples,
                            .checkpoint = out, .figures = {field, samples_path}};
        if (quality.n == 0) record.metric = "denoising score matching loss, last 100 steps", record.value = loss;
        if (!status) record_run("score-model train", "score_model", &record);
    }
    score_model_free(&model);
    free(train_points);
    return status ? fail("score-model", error.message) : 0;
}

static int score_sample(int argc, char **argv) {
    const char *model_path = NULL, *svg = "out/score_samples.svg";
    int n = 2000;
    long seed = 1;
    LangevinConfig langevin = {100, 1e-4f, 1, -PLANE_WINDOW, PLANE_WINDOW};
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a checkpoint of score-model train"},
        {"--n", OPTION_INT, &n, "samples"},
        {"--steps-per-level", OPTION_INT, &langevin.steps_per_sigma, "Langevin steps at each noise level"},
        {"--step-size", OPTION_FLOAT, &langevin.step_size, "Langevin step at the last level"},
        {"--seed", OPTION_LONG, &seed, "seed of the start points and the noise"},
        {"--svg", OPTION_STRING, &svg, "the samples as an SVG scatter"},
    };
    int parsed = options_parse(argc, argv, "groundup score-model sample --model M [options]", options, 6, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path) return fail("score-model", "sample needs --model");
    if (n < 1) return fail("score-model", "--n must be at least 1");
    if (langevin.steps_per_sigma < 1) return fail("score-model", "--steps-per-level must be at least 1");
    if (!(langevin.step_size > 0.0f)) return fail("score-model", "--step-size must be positive");
    Error error = {{0}};
    ScoreModel model;
    char data[64];
    Toy2dQuality quality;
    if (score_model_load(&model, model_path, data, sizeof data, &error)) return fail("score-model", error.message);
    char title[96];
    snprintf(title, sizeof title, "annealed Langevin samples (%s)", data);
    Toy2dKind kind;
    Error unknown;  // a checkpoint of other data: samples without a score
    int known = toy2d_parse(data, &kind, &unknown) == 0;
    int status = write_samples(&model, &langevin, n, (uint64_t)seed, known ? (int)kind : -1, svg, title, &quality, &error);
    if (!status) printf("%d samples: %s\n", n, svg);
    score_model_free(&model);
    return status ? fail("score-model", error.message) : 0;
}

int command_score_model(int argc, char **argv) {
    const char *usage = "usage: groundup score-model train|sample [options]   (groundup score-model train --help)\n";
    if (argc >= 2 && !strcmp(argv[1], "train")) return score_train(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "sample")) return score_sample(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) return printf("%s", usage), 0;
    fprintf(stderr, "groundup: score-model: expected train or sample\n%s", usage);
    return 2;
}
