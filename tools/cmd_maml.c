// groundup maml: meta-learning on sine-wave regression (models/maml.h): FOMAML, full MAML
// (exact second order) and a pretrained baseline, then their adaptation on held-out tasks.
//
//   groundup maml [--method all|fomaml|maml|pretrained] [--meta-steps 20000] [--meta-batch 25]
//                 [--shots 10] [--inner-steps 1] [--inner-lr 0.01] [--outer-lr 0.001] [--hidden 40]
//                 [--test-tasks 100] [--test-steps 10] [--test-seed 1000] [--seed 1]
//                 [--out out/maml.safetensors] [--svg out/maml_adaptation.svg] [--fits-svg out/maml_fits.svg]
//                 [--no-tune]
//
// Every method starts from the same initialisation and sees the same training tasks. Prints
// the held-out MSE after 0, 1, …, test-steps SGD steps on each task's K shots (with α, and the
// pretrained baseline with the step tuned on validation tasks as in the paper); writes the
// curves (SVG), one held-out task's fits before and after adaptation (SVG), the trained
// parameters (safetensors, "<method>.fc1.weight", …) and a run record per method.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/clock.h"
#include "foundations/plane_plot.h"
#include "foundations/plot.h"
#include "foundations/safetensors.h"
#include "models/maml.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/plane_pictures.h"
#include "tools/run_record.h"

enum { MAX_TEST_STEPS = 100, FIT_POINTS = 200 };

typedef struct MethodRun {
    MamlMethod method;
    float *params;
    double seconds;
    float loss;
    float test_lr;  // the fine-tuning step: α, or the tuned one of the pretrained baseline
    double mse[MAX_TEST_STEPS + 1];
} MethodRun;

typedef struct Progress {
    int terminal;
    const char *method;
    long steps;
    double last;
} Progress;

static void show_progress(void *context, long step, float loss) {
    Progress *p = context;
    double now = clock_seconds();
    if (!p->terminal || (now - p->last < 0.1 && step < p->steps)) return;
    p->last = now;
    fprintf(stderr, "\r%s: meta-step %ld/%ld  loss %.4f   ", p->method, step, p->steps, (double)loss);
    if (step == p->steps) fputc('\n', stderr);
}

// The adaptation curves: held-out MSE against SGD steps, one line per method.
static int write_curves(const char *path, const MethodRun *runs, int n_runs, int steps, Error *error) {
    float x[MAX_TEST_STEPS + 1], y[N_MAML_METHODS][MAX_TEST_STEPS + 1];
    PlotSeries series[N_MAML_METHODS];
    for (int s = 0; s <= steps; s++) x[s] = (float)s;
    for (int r = 0; r < n_runs; r++) {
        for (int s = 0; s <= steps; s++) y[r][s] = (float)runs[r].mse[s];
        series[r] = (PlotSeries){maml_method_name(runs[r].method), x, y[r], steps + 1};
    }
    PlotChart chart = {"sine regression: held-out MSE while adapting on K shots", "SGD steps on the K shots",
                       "mean squared error", 1, series, n_runs, 0, 0};
    return make_parent_directory(path, error) || plot_write_svg(path, &chart, 1, 1, error);
}

// One held-out task: the true sine, its K shots, and each method's fit before adaptation and
// after `steps` SGD steps on the shots.
static int write_fits(const char *path, const MethodRun *runs, int n_runs, int hidden, int shots, int steps,
                      uint64_t seed, Error *error) {
    SineNetWork work;
    if (sine_net_work_init(&work, hidden, FIT_POINTS, error)) return -1;
    long size = sine_net_size(hidden);
    int n_paths = 1 + 2 * n_runs;
    float *xy = malloc(sizeof(float) * (size_t)n_paths * 2 * FIT_POINTS), *x = malloc(sizeof(float) * FIT_POINTS),
          *y = malloc(sizeof(float) * FIT_POINTS), *adapted = malloc(sizeof(float) * (size_t)size),
          *shots_xy = malloc(sizeof(float) * 4 * (size_t)shots);
    int status = 0;
    if (!xy || !x || !y || !adapted || !shots_xy) status = error_set(error, "out of memory");
    if (!status) {
        Random rng;
        random_seed(&rng, seed);
        SineTask task = sine_task_sample(&rng);
        float *shot_x = shots_xy + 2 * shots, *shot_t = shot_x + shots;
        sine_task_points(task, &rng, shots, shot_x, shot_t);
        for (int i = 0; i < shots; i++) shots_xy[2 * i] = shot_x[i], shots_xy[2 * i + 1] = shot_t[i];
        for (int i = 0; i < FIT_POINTS; i++) x[i] = SINE_X_MIN + (SINE_X_MAX - SINE_X_MIN) * (float)i / (FIT_POINTS - 1);
        const float *paths[1 + 2 * N_MAML_METHODS];
        int lengths[1 + 2 * N_MAML_METHODS];
        char names[1 + 2 * N_MAML_METHODS][64];
        const char *name_pointers[1 + 2 * N_MAML_METHODS];
        for (int p = 0; p < n_paths; p++) {
            float *path_xy = xy + (size_t)p * 2 * FIT_POINTS;
            int run = (p - 1) / 2, adapt_steps = p % 2 ? 0 : steps;
            if (p == 0) {
                for (int i = 0; i < FIT_POINTS; i++) y[i] = sine_task_value(task, x[i]);
                snprintf(names[p], sizeof names[p], "the task");
            } else {
                maml_adapt(&work, runs[run].params, shot_x, shot_t, shots, adapt_steps, runs[run].test_lr, adapted, NULL);
                sine_net_forward(&work, adapted, x, FIT_POINTS, y);
                snprintf(names[p], sizeof names[p], "%s +%d", maml_method_name(runs[run].method), adapt_steps);
            }
            for (int i = 0; i < FIT_POINTS; i++) path_xy[2 * i] = x[i], path_xy[2 * i + 1] = y[i];
            paths[p] = path_xy, lengths[p] = FIT_POINTS, name_pointers[p] = names[p];
        }
        const char *group[1] = {"K shots"};
        char title[160];
        snprintf(title, sizeof title, "%.2f sin(x - %.2f): fits after +n steps on %d shots", (double)task.amplitude,
                 (double)task.phase, shots);
        PlanePicture picture = {.title = title,
                                .x_min = SINE_X_MIN, .x_max = SINE_X_MAX, .y_min = -6.0f, .y_max = 6.0f,
                                .path_xy = paths, .path_lengths = lengths, .path_names = name_pointers,
                                .n_paths = n_paths, .points = shots_xy, .n_points = shots, .n_groups = 1,
                                .group_names = group};
        status = make_parent_directory(path, error) || plane_plot_write_svg(path, &picture, error);
    }
    free(xy), free(x), free(y), free(adapted), free(shots_xy);
    sine_net_work_free(&work);
    return status;
}

// Every run's parameters as "<method>.<tensor>" in one safetensors file.
static int write_checkpoint(const char *path, const MethodRun *runs, int n_runs, int hidden, Error *error) {
    SafetensorsTensor tensors[6 * N_MAML_METHODS];
    char names[6 * N_MAML_METHODS][48];
    int n = 0;
    for (int r = 0; r < n_runs; r++) {
        const char *name;
        int ndim, shape[2];
        long offset;
        for (int i = 0; !sine_net_tensor(hidden, i, &name, &ndim, shape, &offset); i++, n++) {
            snprintf(names[n], sizeof names[n], "%s.%s", maml_method_name(runs[r].method), name);
            tensors[n] = (SafetensorsTensor){.name = names[n], .dtype = SAFETENSORS_F32, .ndim = ndim,
                                             .shape = {shape[0], shape[1]}, .floats = runs[r].params + offset};
        }
    }
    SafetensorsMetadata metadata[1] = {{"model", "maml-sine"}};
    return make_parent_directory(path, error) || safetensors_write(path, tensors, n, metadata, 1, error);
}

static void print_table(const MethodRun *runs, int n_runs, const MamlEvaluation *evaluation) {
    printf("held-out MSE over %d tasks (K = %d shots, SGD), after n adaptation steps:\n", evaluation->tasks,
           evaluation->shots);
    printf("%-11s %7s", "method", "lr");
    for (int s = 0; s <= evaluation->steps; s++) printf(" %7d", s);
    printf("\n");
    for (int r = 0; r < n_runs; r++) {
        printf("%-11s %7g", maml_method_name(runs[r].method), (double)runs[r].test_lr);
        for (int s = 0; s <= evaluation->steps; s++) printf(" %7.3f", runs[r].mse[s]);
        printf("\n");
    }
}

static int write_records(const MethodRun *runs, int n_runs, const MamlConfig *config, const char *command,
                         const char *out, const char *svg, const char *fits, Error *error) {
    char dataset[96];
    snprintf(dataset, sizeof dataset, "sine regression, K = %d shots, held-out tasks", config->shots);
    for (int r = 0; r < n_runs; r++) {
        char name[64];
        snprintf(name, sizeof name, "maml-sine-%s", maml_method_name(runs[r].method));
        RunRecord record = {.name = name,
                            .model = runs[r].method == MAML_FIRST_ORDER   ? "first-order MAML"
                                     : runs[r].method == MAML_SECOND_ORDER ? "MAML (exact second order)"
                                                                           : "pretrained + fine-tuning",
                            .paper = "Finn, Abbeel & Levine", .year = 2017, .command = command,
                            .dataset = dataset,
                            .parameters = sine_net_size(config->hidden), .train_seconds = runs[r].seconds,
                            .metric = "held-out MSE after 1 step", .value = runs[r].mse[1], .higher_is_better = 0,
                            .checkpoint = out, .figures = {svg, fits}, .n_figures = 2};
        if (run_record_write(&record, error)) return -1;
    }
    return 0;
}

// The pretrained baseline's fine-tuning step, as the paper's: the best of α/4 … 8α after the
// test's number of steps on validation tasks (other than the test tasks).
static int tune_pretrained(MethodRun *run, int hidden, const MamlEvaluation *evaluation, Error *error) {
    const float factors[6] = {0.25f, 0.5f, 1.0f, 2.0f, 4.0f, 8.0f};
    float candidates[6];
    for (int i = 0; i < 6; i++) candidates[i] = factors[i] * evaluation->lr;
    MamlEvaluation validation = *evaluation;
    validation.seed = evaluation->seed + 1;
    if (validation.steps == 0) validation.steps = 1;
    if (maml_tune_lr(run->params, hidden, &validation, candidates, 6, &run->test_lr, error)) return -1;
    printf("pretrained: fine-tuning step %g (the best of %g ... %g after %d steps on %d validation tasks)\n",
           (double)run->test_lr, (double)candidates[0], (double)candidates[5], validation.steps, validation.tasks);
    return 0;
}

// Trains and evaluates each run in turn: a live progress line on a terminal's stderr, a line per
// method on stdout.
static int train_runs(MethodRun *runs, int n_runs, const MamlConfig *base, const MamlEvaluation *evaluation,
                      int tune, Error *error) {
    long size = sine_net_size(base->hidden);
    for (int r = 0; r < n_runs; r++) {
        MamlConfig config = *base;
        config.method = runs[r].method;
        if (!(runs[r].params = malloc(sizeof(float) * (size_t)size))) return error_set(error, "out of memory");
        Random rng;
        random_seed(&rng, base->seed);  // the same initialisation for every method
        sine_net_init(runs[r].params, base->hidden, &rng);
        config.seed = base->seed + 1;  // and the same training tasks
        Progress progress = {isatty(fileno(stderr)), maml_method_name(config.method), config.meta_steps, -1e9};
        double start = clock_seconds();
        if (maml_train(&config, runs[r].params, show_progress, &progress, &runs[r].loss, error)) return -1;
        runs[r].seconds = clock_seconds() - start;
        printf("%s: %ld meta-steps in %.1f s, training loss %.4f (mean of the last 100 steps)\n",
                progress.method, config.meta_steps, runs[r].seconds, (double)runs[r].loss);
        runs[r].test_lr = evaluation->lr;
        if (tune && runs[r].method == MAML_PRETRAINED && tune_pretrained(&runs[r], base->hidden, evaluation, error))
            return -1;
        MamlEvaluation test = *evaluation;
        test.lr = runs[r].test_lr;
        if (maml_evaluate(runs[r].params, base->hidden, &test, runs[r].mse, error)) return -1;
    }
    return 0;
}

int command_maml(int argc, char **argv) {
    const char *method_name = "all", *out = "out/maml.safetensors", *svg = "out/maml_adaptation.svg",
               *fits = "out/maml_fits.svg";
    MamlConfig config = maml_default_config(MAML_FIRST_ORDER);
    MamlEvaluation evaluation = {100, 10, 10, 100, 0.01f, 1000};
    long seed = 1, test_seed = 1000;
    int no_tune = 0;
    config.meta_steps = 20000;
    const Option options[] = {
        {"--method", OPTION_STRING, &method_name, "fomaml, maml (exact second order), pretrained, or all"},
        {"--meta-steps", OPTION_LONG, &config.meta_steps, "outer Adam steps (the paper: 70000)"},
        {"--meta-batch", OPTION_INT, &config.meta_batch, "tasks per outer step"},
        {"--shots", OPTION_INT, &config.shots, "K: points per support set, per query set, and at test"},
        {"--inner-steps", OPTION_INT, &config.inner_steps, "SGD steps of the inner loop in training"},
        {"--inner-lr", OPTION_FLOAT, &config.inner_lr, "alpha: the inner and the test-time SGD step"},
        {"--outer-lr", OPTION_FLOAT, &config.outer_lr, "beta: Adam's learning rate"},
        {"--hidden", OPTION_INT, &config.hidden, "units in each of the two hidden layers"},
        {"--test-tasks", OPTION_INT, &evaluation.tasks, "held-out tasks"},
        {"--test-steps", OPTION_INT, &evaluation.steps, "adaptation steps measured (0 to 100)"},
        {"--test-seed", OPTION_LONG, &test_seed, "seed of the held-out tasks"},
        {"--seed", OPTION_LONG, &seed, "seed of the initialisation and the training tasks"},
        {"--out", OPTION_STRING, &out, "the trained parameters (safetensors)"},
        {"--svg", OPTION_STRING, &svg, "the adaptation curves"},
        {"--fits-svg", OPTION_STRING, &fits, "one held-out task's fits before and after adaptation"},
        {"--no-tune", OPTION_FLAG, &no_tune, "fine-tune the pretrained baseline with alpha too (default: tuned)"},
    };
    int parsed = options_parse(argc, argv, "groundup maml [options]", options, 16, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    Error error = {{0}};
    MethodRun runs[N_MAML_METHODS] = {{0}};
    int n_runs = 0;
    if (!strcmp(method_name, "all")) {
        for (int m = 0; m < N_MAML_METHODS; m++) runs[n_runs++].method = (MamlMethod)m;
    } else {
        if (maml_method_parse(method_name, &runs[0].method, &error)) return fail("maml", error.message);
        n_runs = 1;
    }
    if (maml_config_check(&config, &error)) return fail("maml", error.message);
    if (evaluation.steps < 0 || evaluation.steps > MAX_TEST_STEPS || evaluation.tasks < 1)
        return fail("maml", "--test-steps must be in 0..100 and --test-tasks positive");
    if (seed < 0 || test_seed < 0) return fail("maml", "--seed and --test-seed must be non-negative");
    config.seed = (uint64_t)seed;
    evaluation.shots = config.shots, evaluation.lr = config.inner_lr, evaluation.seed = (uint64_t)test_seed;
    int status = train_runs(runs, n_runs, &config, &evaluation, !no_tune, &error);
    if (!status) {
        print_table(runs, n_runs, &evaluation);
        status = write_checkpoint(out, runs, n_runs, config.hidden, &error) ||
                 write_curves(svg, runs, n_runs, evaluation.steps, &error) ||
                 write_fits(fits, runs, n_runs, config.hidden, config.shots, evaluation.steps, evaluation.seed, &error);
    }
    if (!status) {
        char command[512];
        status = write_records(runs, n_runs, &config, run_record_command(argc, argv, command, sizeof command), out,
                               svg, fits, &error);
    }
    if (!status) printf("parameters %s\nadaptation curves %s\nfits %s\n", out, svg, fits);
    for (int r = 0; r < n_runs; r++) free(runs[r].params);
    return status ? fail("maml", error.message) : 0;
}
