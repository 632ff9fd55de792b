// Three experiments on MNIST, each a command printing a markdown table and writing an SVG:
//   groundup normalization   the same small CNN with no normalisation, batch, layer and group norm
//   groundup gradient-flow   per-layer gradient norms of a 20-layer network: N(0, 0.01), Xavier, He,
//                            a too large N(0, σ²), and residual connections
//   groundup dropout         the train/test gap with and without dropout on 500 training images
// The models and measurements are models/small_cnn, models/deep_conv, models/vision_experiments;
// this file parses, calls, prints (progress on stderr) and plots.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"
#include "foundations/plot.h"
#include "models/small_cnn.h"
#include "models/vision_experiments.h"
#include "tools/commands.h"
#include "tools/options.h"

typedef struct CurveRun {  // one trained variant of the small CNN
    char name[32];
    TrainingCurves curves;
} CurveRun;

// Options every training experiment shares.
typedef struct TrainingOptions {
    const char *data, *out, *optimizer;
    int train_count, test_count, epochs, batch, conv1, conv2, hidden;
    float lr;
    long seed;
} TrainingOptions;

static int load_sets(const TrainingOptions *o, LabelledSet *train, LabelledSet *test, Error *error) {
    if (mnist_subset(o->data, "train", o->train_count, train, error)) return -1;
    if (mnist_subset(o->data, "test", o->test_count, test, error)) {
        labelled_set_free(train);
        return -1;
    }
    return 0;
}

// Trains one small CNN (the same seed for every variant) and prints its progress on stderr.
static int run_variant(const TrainingOptions *o, const SmallCnnConfig *config, const LabelledSet *train,
                       const LabelledSet *test, CurveRun *run, Error *error) {
    Random rng;
    random_seed(&rng, (unsigned long long)o->seed);
    SmallCnn *model = malloc(sizeof *model);
    if (!model) return error_set(error, "out of memory");
    if (small_cnn_create(model, config, &rng, error)) {
        free(model);
        return -1;
    }
    TrainerConfig t = {0};
    t.epochs = o->epochs, t.batch_size = o->batch, t.lr = o->lr, t.schedule = SCHEDULE_CONSTANT;
    t.seed = (unsigned long long)o->seed;
    int status = optimizer_kind_parse(o->optimizer, &t.optimizer, error);
    Classifier classifier = small_cnn_as_classifier(model);
    fprintf(stderr, "%s: training %d epochs on %d images...\n", run->name, o->epochs, train->count);
    if (!status) status = train_with_curves(&classifier, train, test, &t, &run->curves, error);
    if (!status) {
        int e = run->curves.n_epochs - 1;
        fprintf(stderr, "%s: train accuracy %.2f%%, test %.2f%% (%.1f s)\n", run->name, 100.0 * run->curves.train_accuracy[e],
                100.0 * run->curves.test_accuracy[e], run->curves.seconds);
    }
    small_cnn_free(model);
    free(model);
    return status;
}

// Two panels, accuracy and loss per epoch, a train and a test series for each run.
static int write_curves(const char *path, const char *title, const CurveRun *runs, int n_runs, Error *error) {
    enum { MAX_RUNS = 8 };
    static float epochs[CURVES_MAX_EPOCHS];
    PlotSeries accuracy[2 * MAX_RUNS], loss[2 * MAX_RUNS];
    char names[2 * MAX_RUNS][48];
    static float percent[2 * MAX_RUNS][CURVES_MAX_EPOCHS];
    for (int e = 0; e < CURVES_MAX_EPOCHS; e++) epochs[e] = (float)(e + 1);
    for (int r = 0; r < n_runs && r < MAX_RUNS; r++) {
        const TrainingCurves *k = &runs[r].curves;
        snprintf(names[2 * r], sizeof names[0], "%s train", runs[r].name);
        snprintf(names[2 * r + 1], sizeof names[0], "%s test", runs[r].name);
        for (int e = 0; e < k->n_epochs; e++)
            percent[2 * r][e] = 100.0f * k->train_accuracy[e], percent[2 * r + 1][e] = 100.0f * k->test_accuracy[e];
        for (int i = 0; i < 2; i++) {
            accuracy[2 * r + i] = (PlotSeries){names[2 * r + i], epochs, percent[2 * r + i], k->n_epochs};
            loss[2 * r + i] = (PlotSeries){names[2 * r + i], epochs, i ? k->test_loss : k->train_loss, k->n_epochs};
        }
    }
    char loss_title[128];
    snprintf(loss_title, sizeof loss_title, "%s: loss", title);
    PlotChart charts[2] = {{.title = title, .x_label = "epoch", .y_label = "accuracy (%)",
                            .series = accuracy, .n_series = 2 * n_runs},
                           {.title = loss_title, .x_label = "epoch", .y_label = "mean cross-entropy", .log_y = 1,
                            .series = loss, .n_series = 2 * n_runs}};
    return plot_write_svg(path, charts, 2, 2, error);
}

// Accuracy after each epoch: a row per epoch, train and test columns per run.
static void print_epoch_table(const CurveRun *runs, int n_runs) {
    printf("\n| epoch |");
    for (int r = 0; r < n_runs; r++) printf(" %s train | %s test |", runs[r].name, runs[r].name);
    printf("\n|---:|");
    for (int r = 0; r < n_runs; r++) printf("---:|---:|");
    printf("\n");
    for (int e = 0; e < runs[0].curves.n_epochs; e++) {
        printf("| %d |", e + 1);
        for (int r = 0; r < n_runs; r++)
            printf(" %.2f%% | %.2f%% |", 100.0 * runs[r].curves.train_accuracy[e], 100.0 * runs[r].curves.test_accuracy[e]);
        printf("\n");
    }
}

static void print_curve_table(const char *what, const CurveRun *runs, int n_runs) {
    printf("| %s | train accuracy | test accuracy | gap (points) | train loss | test loss | seconds |\n", what);
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < n_runs; r++) {
        const TrainingCurves *k = &runs[r].curves;
        int e = k->n_epochs - 1;
        printf("| %s | %.2f%% | %.2f%% | %.2f | %.4f | %.4f | %.1f |\n", runs[r].name, 100.0 * k->train_accuracy[e],
               100.0 * k->test_accuracy[e], 100.0 * (k->train_accuracy[e] - k->test_accuracy[e]),
               (double)k->train_loss[e], (double)k->test_loss[e], k->seconds);
    }
}

enum { N_TRAINING_OPTIONS = 12 };

// The shared options into options[0 .. N_TRAINING_OPTIONS).
static void training_options(Option *options, TrainingOptions *o) {
    const Option shared[N_TRAINING_OPTIONS] = {
        {"--data", OPTION_STRING, &o->data, "MNIST directory"},
        {"--train", OPTION_INT, &o->train_count, "training images (the first N; 0: all)"},
        {"--test", OPTION_INT, &o->test_count, "test images (the first N; 0: all)"},
        {"--epochs", OPTION_INT, &o->epochs, "epochs"},
        {"--batch", OPTION_INT, &o->batch, "batch size"},
        {"--lr", OPTION_FLOAT, &o->lr, "learning rate (constant)"},
        {"--optimizer", OPTION_STRING, &o->optimizer, "sgd, momentum, nesterov, rmsprop, adam, adamw"},
        {"--conv1", OPTION_INT, &o->conv1, "conv1's channels"},
        {"--conv2", OPTION_INT, &o->conv2, "conv2's channels"},
        {"--hidden", OPTION_INT, &o->hidden, "fc1's units"},
        {"--seed", OPTION_LONG, &o->seed, "seed of the weights and the batches"},
        {"--out", OPTION_STRING, &o->out, "SVG of the curves"},
    };
    memcpy(options, shared, sizeof shared);
}

// Whether the picture can be written, before minutes of training: a temporary file made and removed.
static int check_writable(const char *command, const char *path) {
    SafeFile file;
    Error error;
    if (safe_file_open(&file, path, &error)) return fail(command, error.message);
    safe_file_abort(&file);
    return 0;
}

static int check_training_options(const char *command, const TrainingOptions *o) {
    if (o->epochs < 1 || o->epochs > CURVES_MAX_EPOCHS) return fail(command, "--epochs must be in [1, 1000]");
    if (o->batch < 1 || o->train_count < 0 || o->test_count < 0) return fail(command, "--batch, --train and --test must be positive");
    if (!(o->lr > 0.0f)) return fail(command, "--lr must be positive");
    if (o->conv1 < 1 || o->conv2 < 1 || o->hidden < 1) return fail(command, "--conv1, --conv2 and --hidden must be positive");
    OptimizerKind kind;
    Error error;
    if (optimizer_kind_parse(o->optimizer, &kind, &error)) return fail(command, error.message);
    return check_writable(command, o->out);
}

// Trains every variant, prints the table, writes the SVG.
static int run_curve_experiment(const char *command, const TrainingOptions *o, const SmallCnnConfig *configs,
                                CurveRun *runs, int n_runs, const char *what, const char *title) {
    Error error = {{0}};
    LabelledSet train, test;
    if (load_sets(o, &train, &test, &error)) return fail(command, error.message);
    int status = 0;
    for (int r = 0; r < n_runs && !status; r++) status = run_variant(o, &configs[r], &train, &test, &runs[r], &error);
    if (!status) {
        print_curve_table(what, runs, n_runs);
        print_epoch_table(runs, n_runs);
        status = write_curves(o->out, title, runs, n_runs, &error);
        if (!status) printf("\ncurves: %s\n", o->out);
    }
    labelled_set_free(&train);
    labelled_set_free(&test);
    return status ? fail(command, error.message) : 0;
}

int command_normalization(int argc, char **argv) {
    TrainingOptions o = {"data/mnist", "normalization.svg", "momentum", 0, 0, 5, 64, 8, 16, 64, 0.05f, 1};
    int groups = 4;
    Option options[N_TRAINING_OPTIONS + 1];
    training_options(options, &o);
    options[N_TRAINING_OPTIONS] = (Option){"--groups", OPTION_INT, &groups, "group norm's groups (dividing both widths)"};
    const char *usage = "groundup normalization [--data DIR] [--train N] [--test N] [--epochs E] [--lr LR] [--out FILE.svg] ...";
    int parsed = options_parse(argc, argv, usage, options, sizeof options / sizeof options[0], NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (check_training_options("normalization", &o)) return 1;
    if (groups < 1 || o.conv1 % groups || o.conv2 % groups) return fail("normalization", "--groups must divide --conv1 and --conv2");
    SmallCnnConfig configs[NORM_KIND_COUNT];
    CurveRun *runs = calloc(NORM_KIND_COUNT, sizeof *runs);  // on the heap: each holds its curves
    if (!runs) return fail("normalization", "out of memory");
    for (int k = 0; k < NORM_KIND_COUNT; k++) {
        configs[k] = (SmallCnnConfig){1, 28, o.conv1, o.conv2, o.hidden, 10, (NormKind)k, groups, 0.0f};
        snprintf(runs[k].name, sizeof runs[k].name, "%s", norm_kind_name((NormKind)k));
    }
    int status = run_curve_experiment("normalization", &o, configs, runs, NORM_KIND_COUNT, "normalisation",
                                      "Small CNN on MNIST by normalisation");
    free(runs);
    return status;
}

int command_dropout(int argc, char **argv) {
    TrainingOptions o = {"data/mnist", "dropout.svg", "adam", 500, 1000, 40, 32, 8, 16, 256, 1e-3f, 1};
    float p = 0.5f;
    Option options[N_TRAINING_OPTIONS + 1];
    training_options(options, &o);
    options[N_TRAINING_OPTIONS] = (Option){"--p", OPTION_FLOAT, &p, "dropout probability after fc1"};
    const char *usage = "groundup dropout [--data DIR] [--train N] [--test N] [--epochs E] [--p P] [--out FILE.svg] ...";
    int parsed = options_parse(argc, argv, usage, options, sizeof options / sizeof options[0], NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (check_training_options("dropout", &o)) return 1;
    if (!(p > 0.0f && p < 1.0f)) return fail("dropout", "--p must be in (0, 1)");
    SmallCnnConfig configs[2];
    CurveRun *runs = calloc(2, sizeof *runs);
    if (!runs) return fail("dropout", "out of memory");
    for (int k = 0; k < 2; k++) configs[k] = (SmallCnnConfig){1, 28, o.conv1, o.conv2, o.hidden, 10, NORM_NONE, 1, k ? p : 0.0f};
    snprintf(runs[0].name, sizeof runs[0].name, "no dropout");
    snprintf(runs[1].name, sizeof runs[1].name, "dropout %.2g", (double)p);
    int status = run_curve_experiment("dropout", &o, configs, runs, 2, "model", "Small CNN on few images, with and without dropout");
    free(runs);
    return status;
}

enum { N_FLOW_RUNS = 6 };

typedef struct FlowRun {
    char name[48];
    DeepConvConfig config;
    GradientFlow flow;
} FlowRun;

// The six networks: plain with N(0, 0.01), Xavier, He and N(0, σ²) with σ = large_factor × He's
// √(2/(9C)); residual with N(0, 0.01) and He.
static void flow_runs(FlowRun *runs, int layers, int channels, float large_factor) {
    float large_std = large_factor * sqrtf(2.0f / (9.0f * (float)channels));
    const struct {
        int residual;
        InitKind init;
        float std;
    } kinds[N_FLOW_RUNS] = {{0, INIT_NORMAL, 0.01f}, {0, INIT_XAVIER, 0}, {0, INIT_HE, 0},
                            {0, INIT_NORMAL, large_std}, {1, INIT_NORMAL, 0.01f}, {1, INIT_HE, 0}};
    for (int r = 0; r < N_FLOW_RUNS; r++) {
        runs[r].config = (DeepConvConfig){1, channels, 10, layers, kinds[r].residual, kinds[r].init, kinds[r].std};
        const char *init = kinds[r].init == INIT_XAVIER ? "Xavier" : kinds[r].init == INIT_HE ? "He" : NULL;
        if (init) snprintf(runs[r].name, sizeof runs[r].name, "%s %s", kinds[r].residual ? "residual" : "plain", init);
        else snprintf(runs[r].name, sizeof runs[r].name, "%s N(0, %.2g²)", kinds[r].residual ? "residual" : "plain", (double)kinds[r].std);
    }
}

// The first layer against the last convolution (conv(L-1)): the same kind of layer with outputs
// of the same size. (fc's ∂L/∂z is the logits' gradient; the global average pool before it divides
// what reaches each position by H·W, so comparing conv1 with fc would mix in that factor.)
static float depth_ratio(const float *norms, int layers) { return norms[0] / norms[layers - 2]; }

// The ratio as text: "–" when both norms are 0 (every ReLU below is off: a dead network).
static void print_ratio(const float *norms, int layers) {
    if (norms[0] == 0.0f && norms[layers - 2] == 0.0f) printf("– (dead) | ");
    else printf("%.3g | ", (double)depth_ratio(norms, layers));
}

static void print_flow_table(const FlowRun *runs, int layers) {
    printf("| network | ‖∂L/∂z‖ conv1 | ‖∂L/∂z‖ conv%d | ratio | ‖∂L/∂W‖ conv1 | ‖∂L/∂W‖ conv%d | ratio | ratio ‖∂L/∂z‖ at the end "
           "| loss at step 0 | highest loss | final loss |\n", layers - 1, layers - 1);
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < N_FLOW_RUNS; r++) {
        const GradientFlow *f = &runs[r].flow;
        const float *z = f->output_grad[0], *w = f->weight_grad[0];
        int last = f->layers - 2;
        printf("| %s | %.3g | %.3g | ", runs[r].name, (double)z[0], (double)z[last]);
        print_ratio(z, f->layers);
        printf("%.3g | %.3g | ", (double)w[0], (double)w[last]);
        print_ratio(w, f->layers);
        if (f->diverged_at >= 0) {
            printf("– | %.4g | – | diverged at step %d |\n", (double)f->loss[0], f->diverged_at);
            continue;
        }
        print_ratio(f->output_grad[f->n_records - 1], f->layers);
        printf("%.4g | %.4g | %.4f |\n", (double)f->loss[0], (double)f->peak_loss, (double)f->final_loss);
    }
}

// Panels: ‖∂L/∂z_l‖ by depth at initialisation and at the end, ‖∂L/∂W_l‖ by depth at
// initialisation, the conv1/conv(L-1) ratio and the loss over the steps.
static int write_flow_svg(const char *path, const FlowRun *runs, Error *error) {
    enum { N_PANELS = 5 };
    static float depth[DEEP_CONV_MAX_LAYERS], steps[N_FLOW_RUNS][FLOW_MAX_RECORDS], ratio[N_FLOW_RUNS][FLOW_MAX_RECORDS];
    static PlotSeries series[N_PANELS][N_FLOW_RUNS];
    static float clipped[N_FLOW_RUNS][FLOW_MAX_RECORDS];
    const float LOSS_CLIP = 5.0f;
    for (int l = 0; l < DEEP_CONV_MAX_LAYERS; l++) depth[l] = (float)(l + 1);
    for (int r = 0; r < N_FLOW_RUNS; r++) {
        const GradientFlow *f = &runs[r].flow;
        for (int i = 0; i < f->n_records; i++)
            steps[r][i] = (float)f->step[i], ratio[r][i] = depth_ratio(f->output_grad[i], f->layers);
        int end = f->diverged_at >= 0 ? 0 : f->layers;  // a run that stopped on a non-finite loss has no end to show
        series[0][r] = (PlotSeries){runs[r].name, depth, f->output_grad[0], f->layers};
        series[1][r] = (PlotSeries){runs[r].name, depth, f->output_grad[f->n_records - 1], end};
        series[2][r] = (PlotSeries){runs[r].name, depth, f->weight_grad[0], f->layers};
        series[3][r] = (PlotSeries){runs[r].name, steps[r], ratio[r], f->n_records};
        // An exploding run's losses (up to 10^25) would flatten the others: drawn at LOSS_CLIP.
        for (int i = 0; i < f->n_records; i++) clipped[r][i] = f->loss[i] > LOSS_CLIP ? LOSS_CLIP : f->loss[i];
        series[4][r] = (PlotSeries){runs[r].name, steps[r], clipped[r], f->n_records};
    }
    PlotChart charts[N_PANELS] = {
        {.title = "At initialisation: back-propagated gradient by layer", .x_label = "layer (1 = conv1, last = fc)",
         .y_label = "||dL/dz_l||", .log_y = 1, .series = series[0], .n_series = N_FLOW_RUNS},
        {.title = "After training: back-propagated gradient by layer", .x_label = "layer (1 = conv1, last = fc)",
         .y_label = "||dL/dz_l||", .log_y = 1, .series = series[1], .n_series = N_FLOW_RUNS},
        {.title = "At initialisation: weight gradient by layer", .x_label = "layer",
         .y_label = "||dL/dW_l||", .log_y = 1, .series = series[2], .n_series = N_FLOW_RUNS},
        {.title = "During training: ||dL/dz|| of conv1 / last conv", .x_label = "SGD step",
         .y_label = "ratio", .log_y = 1, .series = series[3], .n_series = N_FLOW_RUNS},
        {.title = "During training: mean loss (above 5: at 5)", .x_label = "SGD step",
         .y_label = "cross-entropy since the last point", .series = series[4], .n_series = N_FLOW_RUNS},
    };
    return plot_write_svg(path, charts, N_PANELS, 2, error);
}

int command_gradient_flow(int argc, char **argv) {
    const char *data = "data/mnist", *out = "gradient_flow.svg";
    int layers = 20, channels = 16, train_count = 0;
    float large_factor = 2.0f;
    long seed = 1;
    GradientFlowSetup setup = {600, 32, 0.01f, 0.9f, 20, 1};
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "MNIST directory"},
        {"--train", OPTION_INT, &train_count, "training images (the first N; 0: all)"},
        {"--layers", OPTION_INT, &layers, "weight layers L (L-1 convolutions and fc; even for the residual networks)"},
        {"--channels", OPTION_INT, &channels, "channels of every convolution"},
        {"--large-factor", OPTION_FLOAT, &large_factor, "the too-large N(0, sigma^2): sigma this many times He's"},
        {"--steps", OPTION_INT, &setup.steps, "SGD steps after the measurement at initialisation"},
        {"--batch", OPTION_INT, &setup.batch_size, "batch size"},
        {"--lr", OPTION_FLOAT, &setup.lr, "learning rate"},
        {"--momentum", OPTION_FLOAT, &setup.momentum, "SGD momentum"},
        {"--record-every", OPTION_INT, &setup.record_every, "steps between gradient records"},
        {"--seed", OPTION_LONG, &seed, "seed of the weights and the batches"},
        {"--out", OPTION_STRING, &out, "SVG of the gradient norms"},
    };
    const char *usage = "groundup gradient-flow [--data DIR] [--layers L] [--channels C] [--steps N] [--out FILE.svg] ...";
    int parsed = options_parse(argc, argv, usage, options, sizeof options / sizeof options[0], NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (train_count < 0) return fail("gradient-flow", "--train must be positive (0: all)");
    if (channels < 1 || !(large_factor > 0.0f)) return fail("gradient-flow", "--channels and --large-factor must be positive");
    if (layers < 4 || layers > DEEP_CONV_MAX_LAYERS || layers % 2)
        return fail("gradient-flow", "--layers must be even (the residual networks pair convolutions) and in [4, 64]");
    if (setup.steps < 0 || setup.batch_size < 1 || setup.record_every < 1 || setup.steps / setup.record_every >= FLOW_MAX_RECORDS)
        return fail("gradient-flow", "--steps, --batch and --record-every: at most 511 records of positive sizes");
    if (check_writable("gradient-flow", out)) return 1;
    setup.seed = (unsigned long long)seed;
    Error error = {{0}};
    LabelledSet train;
    if (mnist_subset(data, "train", train_count, &train, &error)) return fail("gradient-flow", error.message);
    FlowRun *runs = calloc(N_FLOW_RUNS, sizeof *runs);  // on the heap: each holds its records
    if (!runs) {
        labelled_set_free(&train);
        return fail("gradient-flow", "out of memory");
    }
    flow_runs(runs, layers, channels, large_factor);
    int status = 0;
    for (int r = 0; r < N_FLOW_RUNS && !status; r++) {
        fprintf(stderr, "%s: %d layers, %d SGD steps...\n", runs[r].name, layers, setup.steps);
        status = gradient_flow_run(&runs[r].config, (unsigned long long)seed, &train, &setup, &runs[r].flow, &error);
    }
    if (!status) {
        print_flow_table(runs, layers);
        status = write_flow_svg(out, runs, &error);
        if (!status) printf("\ngradient norms: %s\n", out);
    }
    free(runs);
    labelled_set_free(&train);
    return status ? fail("gradient-flow", error.message) : 0;
}
