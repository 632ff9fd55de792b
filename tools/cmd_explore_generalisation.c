// groundup explore l1-l2 | early-stopping | dropout-ensemble | lottery-ticket | augmentation |
// loss-landscape: regularisation and generalisation measured on the MNIST MLP
// (explore/generalisation.h), and the loss landscape of the MLP and a ResNet (explore/loss_landscape.h). Each
// parses its options, runs the experiment, writes its SVG and prints a markdown table (the SVG
// first: if it cannot be written, stdout stays empty); wall and CPU seconds go to stderr.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore/generalisation.h"
#include "explore/loss_landscape.h"
#include "foundations/clock.h"
#include "foundations/image_grid.h"
#include "foundations/png.h"
#include "foundations/plane_plot.h"
#include "foundations/plot.h"
#include "tools/explore_topics.h"
#include "tools/options.h"

enum { SETUP_OPTIONS = 10, MAX_OPTIONS = 28 };

// The options every experiment shares, bound to setup (seed and threads through their own variables).
typedef struct SetupOptions {
    MnistMlpSetup setup;
    long seed;
    int threads;
    double wall, cpu;  // the clocks when the experiment started (parse_setup), s
} SetupOptions;

static int setup_options(SetupOptions *s, Option *options) {
    Option shared[SETUP_OPTIONS] = {
        {"--data", OPTION_STRING, &s->setup.data, "directory of MNIST's IDX files"},
        {"--train", OPTION_INT, &s->setup.n_train, "training images (the first of MNIST's training split)"},
        {"--test", OPTION_INT, &s->setup.n_test, "test images (the first of MNIST's test split)"},
        {"--hidden1", OPTION_INT, &s->setup.hidden[0], "first hidden layer's width"},
        {"--hidden2", OPTION_INT, &s->setup.hidden[1], "second hidden layer's width (0: one hidden layer)"},
        {"--epochs", OPTION_INT, &s->setup.epochs, "epochs of SGD"},
        {"--batch", OPTION_INT, &s->setup.batch_size, "batch size"},
        {"--lr", OPTION_FLOAT, &s->setup.lr, "SGD's constant learning rate"},
        {"--seed", OPTION_LONG, &s->seed, "seed of the initialisation and the batches"},
        {"--threads", OPTION_INT, &s->threads, "OpenMP threads (0: OpenMP's default)"},
    };
    memcpy(options, shared, sizeof shared);
    return SETUP_OPTIONS;
}

// After parsing: the seed into the setup, the threads set. Returns 0, or the exit status.
static int setup_finish(SetupOptions *s, const char *command) {
    if (s->threads < 0 || s->threads > 256) return fail(command, "--threads must be in [0, 256]");
    if (s->threads > 0) omp_set_num_threads(s->threads);
    s->setup.seed = (uint64_t)s->seed;
    return 0;
}

static SetupOptions default_setup_options(void) {
    SetupOptions s = {mnist_mlp_default_setup(), 1, 1, 0.0, 0.0};
    return s;
}

// Parses a topic's options (the setup's and its own), then setup_finish, then starts the clocks.
// Returns -1 to go on, else the exit status (explore_parse_options).
static int parse_setup(int argc, char **argv, const char *usage, SetupOptions *s, const Option *options, int n_options) {
    char command[64];
    snprintf(command, sizeof command, "explore %s", argv[0]);
    int status = explore_parse_options(argc, argv, usage, options, n_options);
    if (status >= 0) return status;
    if ((status = setup_finish(s, command))) return status;
    s->wall = clock_seconds(), s->cpu = clock_cpu_seconds();
    return -1;
}

// "MLP 784-256-128-10", or "MLP 784-32-10" with one hidden layer.
static const char *setup_network(const MnistMlpSetup *s, char *text, size_t size) {
    if (s->hidden[1]) snprintf(text, size, "MLP 784-%d-%d-10", s->hidden[0], s->hidden[1]);
    else snprintf(text, size, "MLP 784-%d-10", s->hidden[0]);
    return text;
}

static void describe_setup(const MnistMlpSetup *s) {
    char network[64];
    printf("%s (ReLU)", setup_network(s, network, sizeof network));
    printf(" on the first %d MNIST training images, tested on the first %d test images; plain SGD, %d epochs of batch "
           "%d at lr %g, seed %llu.\n",
           s->n_train, s->n_test, s->epochs, s->batch_size, (double)s->lr, (unsigned long long)s->seed);
}

static void report_time(const char *topic, const SetupOptions *s, const char *out) {
    fprintf(stderr, "explore %s: wrote %s (%.1f s wall, %.1f s CPU)\n", topic, out, clock_seconds() - s->wall,
            clock_cpu_seconds() - s->cpu);
}

// The time on stderr, the network and its data on stdout: the start of a topic's report.
static void report_setup(const char *topic, const SetupOptions *s, const char *out) {
    report_time(topic, s, out);
    describe_setup(&s->setup);
}

// Leaves the record of a topic run on the MNIST MLP (explore_record): record holds the headline;
// the network, the data and the figure come from here.
static void record_setup_topic(int argc, char **argv, const SetupOptions *s, RunRecord *record, const char *out) {
    char network[64], dataset[96];
    snprintf(dataset, sizeof dataset, "MNIST, the first %d training and %d test images", s->setup.n_train, s->setup.n_test);
    record->model = setup_network(&s->setup, network, sizeof network), record->dataset = dataset, record->figures[0] = out;
    explore_record(argc, argv, record, s->wall);
}

// "1e-5,1e-4" into values; returns the count, or -1 (a word that is not a number, too many).
static int parse_list(const char *text, double *values, int max) {
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || n == max || (*end && *end != ',')) return -1;
        values[n++] = v;
        p = *end ? end + 1 : end;
    }
    return n;
}

// ----------------------------------------------------------------------------
// l1-l2

static int write_l1_l2_svg(const L1L2Result *r, const char *path, Error *error) {
    int n = r->n_coefficients;
    float lambda[L1L2_MAX_COEFFICIENTS], acc[2][L1L2_MAX_COEFFICIENTS], zeros[2][L1L2_MAX_COEFFICIENTS];
    float base_x[2] = {(float)r->l1[0].coefficient, (float)r->l1[n - 1].coefficient};
    float base_acc[2] = {(float)(100 * r->baseline.test_accuracy), (float)(100 * r->baseline.test_accuracy)};
    for (int i = 0; i < n; i++) {
        lambda[i] = (float)r->l1[i].coefficient;
        acc[0][i] = (float)(100 * r->l1[i].test_accuracy), acc[1][i] = (float)(100 * r->l2[i].test_accuracy);
        zeros[0][i] = (float)(100 * r->l1[i].zero_fraction), zeros[1][i] = (float)(100 * r->l2[i].zero_fraction);
    }
    float centre[L1L2_BINS], counts[3][L1L2_BINS];
    int l1 = r->comparable_l1 >= 0 ? r->comparable_l1 : 0, l2 = r->comparable_l2;
    for (int b = 0; b < L1L2_BINS; b++) {
        centre[b] = (float)(-r->histogram_limit + (b + 0.5) * 2 * r->histogram_limit / L1L2_BINS);
        counts[0][b] = (float)r->baseline.histogram[b];
        counts[1][b] = (float)r->l1[l1].histogram[b], counts[2][b] = (float)r->l2[l2].histogram[b];
    }
    char l1_name[64], l2_name[64];
    snprintf(l1_name, sizeof l1_name, "L1, lambda %g", r->l1[l1].coefficient);
    snprintf(l2_name, sizeof l2_name, "L2, lambda %g", r->l2[l2].coefficient);
    PlotSeries accuracy[3] = {{"L1 (proximal)", lambda, acc[0], n}, {"L2 (weight decay)", lambda, acc[1], n},
                              {"no penalty", base_x, base_acc, 2}};
    PlotSeries zero[2] = {{"L1 (proximal)", lambda, zeros[0], n}, {"L2 (weight decay)", lambda, zeros[1], n}};
    PlotSeries histogram[3] = {{"no penalty", centre, counts[0], L1L2_BINS}, {l1_name, centre, counts[1], L1L2_BINS},
                               {l2_name, centre, counts[2], L1L2_BINS}};
    PlotChart charts[3] = {
        {"test accuracy against the coefficient", "lambda", "test accuracy (%)", 0, accuracy, 3, 1, 0},
        {"weights exactly zero", "lambda", "exact zeros (% of weights)", 0, zero, 2, 1, 0},
        {"weights (end bins clamped), the comparable pair", "weight", "count", 1, histogram, 3, 0, 0},
    };
    return plot_write_svg(path, charts, 3, 3, error);
}

// The record's headline: the exact zeros of the comparable L1 run against L2's best; without
// one, L2's best accuracy against L1's.
static void record_l1_l2(int argc, char **argv, const SetupOptions *s, const L1L2Result *r, const char *out) {
    const PenaltyRun *b2 = &r->l2[r->comparable_l2];
    char metric[96];
    RunRecord record = {.paper = "Tibshirani", .year = 1996, .metric = metric, .higher_is_better = 1};
    if (r->comparable_l1 >= 0) {
        const PenaltyRun *b1 = &r->l1[r->comparable_l1];
        snprintf(metric, sizeof metric, "weights exactly zero (%%), L1 at lambda %g (comparable accuracy)", b1->coefficient);
        record.value = 100 * b1->zero_fraction;
        record.against = "L2 at its best", record.against_value = 100 * b2->zero_fraction;
    } else {
        double l1_best = 0;
        for (int i = 0; i < r->n_coefficients; i++) l1_best = fmax(l1_best, r->l1[i].test_accuracy);
        snprintf(metric, sizeof metric, "test accuracy (%%), L2 at its best (lambda %g)", b2->coefficient);
        record.value = 100 * b2->test_accuracy, record.against = "L1 at its best", record.against_value = 100 * l1_best;
    }
    record_setup_topic(argc, argv, s, &record, out);
}

int explore_run_l1_l2(int argc, char **argv) {
    const char *command = "explore l1-l2", *out = "l1-l2.svg", *list = "1e-5,3e-5,1e-4,3e-4,1e-3,3e-3";
    SetupOptions s = default_setup_options();
    double tolerance = 0.01;
    Option options[MAX_OPTIONS];
    int n_options = setup_options(&s, options);
    options[n_options++] = (Option){"--coefficients", OPTION_STRING, &list, "comma-separated lambdas, each > 0"};
    options[n_options++] = (Option){"--tolerance", OPTION_DOUBLE, &tolerance, "accuracy within which L1 and L2 compare"};
    options[n_options++] = (Option){"--out", OPTION_STRING, &out, "SVG file: accuracy, zeros, histograms"};
    const char *usage = "groundup explore l1-l2 [--coefficients L,...] [--tolerance T] [setup options] [--out FILE.svg]";
    int status = parse_setup(argc, argv, usage, &s, options, n_options);
    if (status >= 0) return status;
    double coefficients[L1L2_MAX_COEFFICIENTS];
    int n = parse_list(list, coefficients, L1L2_MAX_COEFFICIENTS);
    if (n < 1) return fail(command, "--coefficients must be up to 16 numbers separated by commas");
    L1L2Result *r = malloc(sizeof *r);
    Error error;
    if (!r) return fail(command, "out of memory");
    if (explore_l1_l2(&s.setup, coefficients, n, tolerance, r, &error) || write_l1_l2_svg(r, out, &error)) {
        free(r);
        return fail(command, error.message);
    }
    report_setup(argv[0], &s, out);
    printf("L1 by a soft-threshold (proximal) step after each SGD step, so its zeros are exact; L2 as weight decay.\n"
           "Penalties on the %ld weights of the matrices, not the biases. Accuracy and zeros in %%.\n\n",
           r->n_weights);
    printf("| lambda | L1 test acc | L1 exact zeros | L1 mean abs w | L2 test acc | L2 exact zeros | L2 mean abs w |\n"
           "|---:|---:|---:|---:|---:|---:|---:|\n");
    printf("| 0 | %.2f | %.2f | %.4f | %.2f | %.2f | %.4f |\n", 100 * r->baseline.test_accuracy,
           100 * r->baseline.zero_fraction, r->baseline.mean_absolute, 100 * r->baseline.test_accuracy,
           100 * r->baseline.zero_fraction, r->baseline.mean_absolute);
    for (int i = 0; i < n; i++)
        printf("| %g | %.2f | %.2f | %.4f | %.2f | %.2f | %.4f |\n", r->l1[i].coefficient, 100 * r->l1[i].test_accuracy,
               100 * r->l1[i].zero_fraction, r->l1[i].mean_absolute, 100 * r->l2[i].test_accuracy,
               100 * r->l2[i].zero_fraction, r->l2[i].mean_absolute);
    const PenaltyRun *b2 = &r->l2[r->comparable_l2];
    if (r->comparable_l1 >= 0) {
        const PenaltyRun *b1 = &r->l1[r->comparable_l1];
        printf("\nComparable accuracy (within %.1f points of L2's best, %.2f%% at lambda %g): L1 at lambda %g reaches "
               "%.2f%% with %.2f%% of its weights exactly zero; L2 has %.2f%%.\n",
               100 * tolerance, 100 * b2->test_accuracy, b2->coefficient, b1->coefficient, 100 * b1->test_accuracy,
               100 * b1->zero_fraction, 100 * b2->zero_fraction);
    } else {
        printf("\nNo L1 coefficient comes within %.1f points of L2's best (%.2f%%).\n", 100 * tolerance,
               100 * b2->test_accuracy);
    }
    record_l1_l2(argc, argv, &s, r, out);
    free(r);
    return 0;
}

// ----------------------------------------------------------------------------
// early-stopping

static int write_early_svg(const EarlyStoppingResult *r, const char *path, Error *error) {
    int n = r->epochs;
    float *x = malloc(sizeof(float) * 6 * (size_t)n);
    if (!x) return error_set(error, "out of memory");
    float *train = x + n, *val = x + 2 * n, *test = x + 3 * n, *val_acc = x + 4 * n, *test_acc = x + 5 * n;
    float low[2] = {INFINITY, INFINITY}, high[2] = {-INFINITY, -INFINITY};  // loss, accuracy
    for (int e = 0; e < n; e++) {
        x[e] = (float)(e + 1);
        train[e] = (float)r->train_loss[e], val[e] = (float)r->validation_loss[e], test[e] = (float)r->test_loss[e];
        val_acc[e] = (float)(100 * r->validation_accuracy[e]), test_acc[e] = (float)(100 * r->test_accuracy[e]);
        low[0] = fminf(low[0], train[e]), high[0] = fmaxf(high[0], fmaxf(val[e], test[e]));
        low[1] = fminf(low[1], fminf(val_acc[e], test_acc[e])), high[1] = fmaxf(high[1], fmaxf(val_acc[e], test_acc[e]));
    }
    // each rule's stopping point as a vertical line in both panels
    float stop_x[2][2], loss_y[2] = {low[0], high[0]}, acc_y[2] = {low[1], high[1]};
    for (int k = 0; k < 2; k++) stop_x[k][0] = stop_x[k][1] = (float)r->rules[k].stop_epoch;
    PlotSeries loss[5] = {{"train", x, train, n}, {"validation", x, val, n}, {"test", x, test, n},
                          {"stop (validation loss)", stop_x[0], loss_y, 2},
                          {"stop (validation accuracy)", stop_x[1], loss_y, 2}};
    PlotSeries accuracy[4] = {{"validation", x, val_acc, n}, {"test", x, test_acc, n},
                              {"stop (validation loss)", stop_x[0], acc_y, 2},
                              {"stop (validation accuracy)", stop_x[1], acc_y, 2}};
    PlotChart charts[2] = {{"cross-entropy against epoch", "epoch", "loss (nats)", 1, loss, 5, 0, 0},
                           {"accuracy against epoch", "epoch", "accuracy (%)", 0, accuracy, 4, 0, 0}};
    int status = plot_write_svg(path, charts, 2, 2, error);
    free(x);
    return status;
}

int explore_run_early_stopping(int argc, char **argv) {
    const char *command = "explore early-stopping", *out = "early-stopping.svg";
    SetupOptions s = default_setup_options();
    s.setup.n_train = 1000, s.setup.epochs = 60;
    int patience = 5, n_validation = 1000;
    double label_noise = 0.2;
    Option options[MAX_OPTIONS];
    int n_options = setup_options(&s, options);
    options[n_options++] = (Option){"--patience", OPTION_INT, &patience, "epochs without a lower validation loss"};
    options[n_options++] = (Option){"--validation", OPTION_INT, &n_validation, "validation images (after the training ones)"};
    options[n_options++] = (Option){"--label-noise", OPTION_DOUBLE, &label_noise,
                                    "probability a training or validation label is redrawn at random"};
    options[n_options++] = (Option){"--out", OPTION_STRING, &out, "SVG file: loss and accuracy curves"};
    const char *usage = "groundup explore early-stopping [--patience P] [--validation N] [--label-noise Q] [setup options] [--out FILE.svg]";
    int status = parse_setup(argc, argv, usage, &s, options, n_options);
    if (status >= 0) return status;
    EarlyStoppingResult *r = malloc(sizeof *r);
    Error error;
    if (!r) return fail(command, "out of memory");
    if (explore_early_stopping(&s.setup, n_validation, patience, label_noise, r, &error) || write_early_svg(r, out, &error)) {
        free(r);
        return fail(command, error.message);
    }
    report_setup(argv[0], &s, out);
    const StoppingRule *by_loss = &r->rules[0], *by_accuracy = &r->rules[1];
    printf("Label noise %g: %d of the %d training and validation labels redrawn at random (test labels clean).\n",
           label_noise, r->labels_changed, s.setup.n_train + n_validation);
    printf("Validation: the next %d training images. Patience %d: on the validation loss it stops after epoch %d "
           "(keeps %d),\non the validation accuracy after epoch %d (keeps %d).\n\n",
           n_validation, patience, by_loss->stop_epoch, by_loss->kept_epoch, by_accuracy->stop_epoch,
           by_accuracy->kept_epoch);
    printf("| epoch | train loss | validation loss | validation acc | test loss | test acc |\n"
           "|---:|---:|---:|---:|---:|---:|\n");
    for (int e = 0; e < r->epochs; e++)
        printf("| %d | %.4f | %.4f | %.2f | %.4f | %.2f |\n", e + 1, r->train_loss[e], r->validation_loss[e],
               100 * r->validation_accuracy[e], r->test_loss[e], 100 * r->test_accuracy[e]);
    printf("\n| weights | epochs trained | test accuracy (%%) | test loss |\n|---|---:|---:|---:|\n");
    for (int k = 0; k < 2; k++)
        printf("| kept by %s (epoch %d) | %d | %.2f | %.4f |\n", r->rules[k].criterion, r->rules[k].kept_epoch,
               r->rules[k].stop_epoch, 100 * r->rules[k].kept_test_accuracy, r->rules[k].kept_test_loss);
    printf("| last epoch | %d | %.2f | %.4f |\n", r->epochs, 100 * r->last_test_accuracy, r->last_test_loss);
    char metric[96], against[48];
    snprintf(metric, sizeof metric, "test accuracy (%%), kept by %s (epoch %d)", by_loss->criterion, by_loss->kept_epoch);
    snprintf(against, sizeof against, "last epoch (%d)", r->epochs);
    RunRecord record = {.paper = "Prechelt", .year = 1998, .metric = metric, .value = 100 * by_loss->kept_test_accuracy,
                        .higher_is_better = 1, .against = against, .against_value = 100 * r->last_test_accuracy};
    record_setup_topic(argc, argv, &s, &record, out);
    free(r);
    return 0;
}

// ----------------------------------------------------------------------------
// dropout-ensemble

static int write_dropout_svg(const DropoutEnsembleResult *r, const char *path, Error *error) {
    float k[DROPOUT_MAX_SAMPLES], acc[DROPOUT_MAX_SAMPLES];
    for (int i = 0; i < r->max_k; i++) k[i] = (float)(i + 1), acc[i] = (float)(100 * r->mc_accuracy[i]);
    float ends[2] = {1.0f, (float)(r->max_k > 1 ? r->max_k : 2)};
    float scaling[2] = {(float)(100 * r->weight_scaling_accuracy), (float)(100 * r->weight_scaling_accuracy)};
    float single[2] = {(float)(100 * r->single_mask_accuracy), (float)(100 * r->single_mask_accuracy)};
    PlotSeries series[3] = {{"Monte-Carlo average of k masks", k, acc, r->max_k}, {"weight scaling", ends, scaling, 2},
                            {"one mask (mean)", ends, single, 2}};
    PlotChart chart = {"dropout as an ensemble: test accuracy", "k (masks averaged)", "test accuracy (%)", 0, series, 3, 1, 0};
    return plot_write_svg(path, &chart, 1, 1, error);
}

int explore_run_dropout_ensemble(int argc, char **argv) {
    const char *command = "explore dropout-ensemble", *out = "dropout-ensemble.svg";
    SetupOptions s = default_setup_options();
    float p = 0.5f;
    int max_k = 100;
    Option options[MAX_OPTIONS];
    int n_options = setup_options(&s, options);
    options[n_options++] = (Option){"--p", OPTION_FLOAT, &p, "dropout probability after each hidden ReLU, in (0, 1)"};
    options[n_options++] = (Option){"--k", OPTION_INT, &max_k, "most masks averaged (1 to 1000)"};
    options[n_options++] = (Option){"--out", OPTION_STRING, &out, "SVG file: accuracy against k"};
    const char *usage = "groundup explore dropout-ensemble [--p P] [--k K] [setup options] [--out FILE.svg]";
    int status = parse_setup(argc, argv, usage, &s, options, n_options);
    if (status >= 0) return status;
    DropoutEnsembleResult *r = malloc(sizeof *r);
    Error error;
    if (!r) return fail(command, "out of memory");
    if (explore_dropout_ensemble(&s.setup, p, max_k, r, &error) || write_dropout_svg(r, out, &error)) {
        free(r);
        return fail(command, error.message);
    }
    report_setup(argv[0], &s, out);
    printf("Dropout p = %g after each hidden ReLU (inverted: weight scaling is the unmasked network). Test accuracy "
           "in %%: weight scaling %.2f, one mask %.2f on average.\n\n",
           (double)p, 100 * r->weight_scaling_accuracy, 100 * r->single_mask_accuracy);
    printf("| k masks averaged | Monte-Carlo test acc | minus weight scaling |\n|---:|---:|---:|\n");
    for (int k = 1; k <= r->max_k; k++)
        if (k <= 3 || k == 5 || k == 10 || k == 20 || k == 30 || k == 50 || k == 100 || k % 200 == 0 || k == r->max_k)
            printf("| %d | %.2f | %+.2f |\n", k, 100 * r->mc_accuracy[k - 1],
                   100 * (r->mc_accuracy[k - 1] - r->weight_scaling_accuracy));
    char metric[96];
    snprintf(metric, sizeof metric, "test accuracy (%%), Monte-Carlo average of %d dropout masks", r->max_k);
    RunRecord record = {.paper = "Srivastava et al.", .year = 2014, .metric = metric, .value = 100 * r->mc_accuracy[r->max_k - 1],
                        .higher_is_better = 1, .against = "weight scaling", .against_value = 100 * r->weight_scaling_accuracy};
    record_setup_topic(argc, argv, &s, &record, out);
    free(r);
    return 0;
}

// ----------------------------------------------------------------------------
// lottery-ticket

static int write_lottery_svg(const LotteryResult *r, const char *path, Error *error) {
    float remaining[LOTTERY_MAX_ROUNDS + 1], ticket[LOTTERY_MAX_ROUNDS + 1], random[LOTTERY_MAX_ROUNDS + 1];
    for (int i = 0; i <= r->rounds; i++) {
        remaining[i] = (float)(100 * r->round[i].remaining);
        ticket[i] = (float)(100 * r->round[i].ticket_accuracy), random[i] = (float)(100 * r->round[i].random_accuracy);
    }
    PlotSeries series[2] = {{"winning ticket (rewound to init)", remaining, ticket, r->rounds + 1},
                            {"random re-initialisation", remaining, random, r->rounds + 1}};
    PlotChart chart = {"iterative magnitude pruning: test accuracy against weights remaining", "weights remaining (%)",
                       "test accuracy (%)", 0, series, 2, 1, 0};
    return plot_write_svg(path, &chart, 1, 1, error);
}

int explore_run_lottery_ticket(int argc, char **argv) {
    const char *command = "explore lottery-ticket", *out = "lottery-ticket.svg";
    SetupOptions s = default_setup_options();
    int rounds = 8;
    double rate = 0.4;
    Option options[MAX_OPTIONS];
    int n_options = setup_options(&s, options);
    options[n_options++] = (Option){"--rounds", OPTION_INT, &rounds, "pruning rounds"};
    options[n_options++] = (Option){"--rate", OPTION_DOUBLE, &rate, "fraction of remaining weights pruned per round"};
    options[n_options++] = (Option){"--out", OPTION_STRING, &out, "SVG file: accuracy against sparsity"};
    const char *usage = "groundup explore lottery-ticket [--rounds R] [--rate P] [setup options] [--out FILE.svg]";
    int status = parse_setup(argc, argv, usage, &s, options, n_options);
    if (status >= 0) return status;
    LotteryResult *r = malloc(sizeof *r);
    Error error;
    if (!r) return fail(command, "out of memory");
    if (explore_lottery_ticket(&s.setup, rounds, rate, r, &error) || write_lottery_svg(r, out, &error)) {
        free(r);
        return fail(command, error.message);
    }
    report_setup(argv[0], &s, out);
    printf("Each round prunes %g of each hidden layer's remaining weights (%g of the output layer's) by magnitude "
           "after training,\nthen rewinds the rest to their initial values; the control re-initialises the same "
           "mask at random. %ld weights; accuracy in %%.\n\n",
           rate, rate / 2, r->n_weights);
    printf("| round | weights remaining (%%) | winning ticket | random re-init | difference |\n|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i <= r->rounds; i++)
        printf("| %d | %.2f | %.2f | %.2f | %+.2f |\n", i, 100 * r->round[i].remaining, 100 * r->round[i].ticket_accuracy,
               100 * r->round[i].random_accuracy, 100 * (r->round[i].ticket_accuracy - r->round[i].random_accuracy));
    const LotteryRound *sparsest = &r->round[r->rounds];
    char metric[96];
    snprintf(metric, sizeof metric, "test accuracy (%%) at %.2f%% of the weights, winning ticket", 100 * sparsest->remaining);
    RunRecord record = {.paper = "Frankle & Carbin", .year = 2018, .metric = metric, .value = 100 * sparsest->ticket_accuracy,
                        .higher_is_better = 1, .against = "random re-initialisation",
                        .against_value = 100 * sparsest->random_accuracy};
    record_setup_topic(argc, argv, &s, &record, out);
    free(r);
    return 0;
}

// ----------------------------------------------------------------------------
// augmentation

// Rows of digits, columns none | shift | rotation | elastic | all three, 3× enlarged.
static int write_augmentation_png(const MnistMlpSetup *setup, const AugmentConfig *config, int n, const char *path,
                                  Error *error) {
    float *tiles = malloc(sizeof(float) * (size_t)n * AUGMENT_KINDS * 784);
    if (!tiles) return error_set(error, "out of memory");
    Image grid = {0};
    int status = augmentation_examples(setup, config, n, tiles, error) ||
                 image_grid(&grid, tiles, n * AUGMENT_KINDS, 1, 28, 28, AUGMENT_KINDS, 3, GRID_UNIT_RANGE, error) ||
                 png_write(&grid, path, error);
    image_free(&grid);
    free(tiles);
    return status ? -1 : 0;
}

int explore_run_augmentation(int argc, char **argv) {
    const char *command = "explore augmentation", *out = "augmentation.png";
    SetupOptions s = default_setup_options();
    s.setup.n_train = 1000, s.setup.epochs = 60;
    AugmentConfig config = augment_default_config();
    int examples = 8;
    Option options[MAX_OPTIONS];
    int n_options = setup_options(&s, options);
    options[n_options++] = (Option){"--shift", OPTION_INT, &config.max_shift, "largest shift in pixels, each axis"};
    options[n_options++] = (Option){"--degrees", OPTION_DOUBLE, &config.max_degrees, "largest rotation in degrees"};
    options[n_options++] = (Option){"--alpha", OPTION_DOUBLE, &config.alpha, "elastic distortion's scale (pixels)"};
    options[n_options++] = (Option){"--sigma", OPTION_DOUBLE, &config.sigma, "elastic distortion's smoothing (pixels)"};
    options[n_options++] = (Option){"--examples", OPTION_INT, &examples, "digits in the picture (1 to 100)"};
    options[n_options++] = (Option){"--out", OPTION_STRING, &out, "PNG file: digits and their transforms"};
    const char *usage = "groundup explore augmentation [--shift N] [--degrees D] [--alpha A] [--sigma S] [--examples N] "
                        "[setup options] [--out FILE.png]";
    int status = parse_setup(argc, argv, usage, &s, options, n_options);
    if (status >= 0) return status;
    AugmentationResult r;
    Error error;
    if (write_augmentation_png(&s.setup, &config, examples, out, &error) ||
        explore_augmentation(&s.setup, &config, AUGMENT_ALL_KINDS, &r, &error))
        return fail(command, error.message);
    report_setup(argv[0], &s, out);
    printf("Every epoch each training image is replaced by a fresh random transform of its original: shifts up to "
           "±%d px,\nrotations up to ±%g degrees, elastic distortion with alpha %g and sigma %g px (Simard et al. 2003). "
           "Accuracy in %%;\ntrain accuracy is on the original images.\n\n",
           config.max_shift, config.max_degrees, config.alpha, config.sigma);
    printf("| augmentation | test acc | gained | train acc |\n|---|---:|---:|---:|\n");
    for (int k = 0; k < AUGMENT_KINDS; k++)
        printf("| %s | %.2f | %+.2f | %.2f |\n", augment_kind_name((AugmentKind)k), 100 * r.test_accuracy[k],
               100 * (r.test_accuracy[k] - r.test_accuracy[AUGMENT_NONE]), 100 * r.train_accuracy[k]);
    RunRecord record = {.paper = "Simard, Steinkraus & Platt", .year = 2003, .metric = "test accuracy (%), all three augmentations",
                        .value = 100 * r.test_accuracy[AUGMENT_ALL], .higher_is_better = 1, .against = "none",
                        .against_value = 100 * r.test_accuracy[AUGMENT_NONE]};
    record_setup_topic(argc, argv, &s, &record, out);
    return 0;
}

// ----------------------------------------------------------------------------
// loss-landscape

static const char *const LANDSCAPE_KEYS[LANDSCAPE_MODELS] = {"mlp", "resnet", "resnet-no-skip"};

// "mlp,resnet" into chosen[]; returns the count, or -1 for an unknown name.
static int parse_models(const char *text, int *chosen) {
    int n = 0;
    char copy[128];
    snprintf(copy, sizeof copy, "%s", text);
    memset(chosen, 0, sizeof(int) * LANDSCAPE_MODELS);
    for (char *word = strtok(copy, ","); word; word = strtok(NULL, ",")) {
        int found = -1;
        for (int m = 0; m < LANDSCAPE_MODELS; m++)
            if (strcmp(word, LANDSCAPE_KEYS[m]) == 0) found = m;
        if (found < 0) return -1;
        n += !chosen[found], chosen[found] = 1;
    }
    return n;
}

// The surface as a heat map of log10(L / L_min) over (α, β), the minimum's 0 white.
static int write_surface_svg(const LandscapeSetup *s, const Landscape *l, const char *path, Error *error) {
    float grid[LANDSCAPE_MAX_GRID * LANDSCAPE_MAX_GRID];
    for (int b = 0; b < s->grid; b++)
        for (int a = 0; a < s->grid; a++) grid[b * s->grid + a] = (float)log10(l->surface[b][a] / l->surface_min);
    float centre[2] = {0.0f, 0.0f};
    const char *group[1] = {"trained weights"};
    char title[160];
    snprintf(title, sizeof title, "%s: log10(loss / %.3g)", l->name, l->surface_min);
    float span = (float)s->span;
    PlanePicture picture = {.title = title, .x_min = -span, .x_max = span, .y_min = -span, .y_max = span,
                            .grid = grid, .grid_rows = s->grid, .grid_columns = s->grid,
                            .points = centre, .n_points = 1, .n_groups = 1, .group_names = group};
    return plane_plot_write_svg(path, &picture, error);
}

static int write_line_svg(const Landscape *l, const int *chosen, int line_points, const char *path, Error *error) {
    float t[LANDSCAPE_MAX_LINE], loss[LANDSCAPE_MODELS][LANDSCAPE_MAX_LINE];
    PlotSeries series[LANDSCAPE_MODELS];
    int n = 0;
    for (int m = 0; m < LANDSCAPE_MODELS; m++) {
        if (!chosen[m]) continue;
        for (int k = 0; k < line_points; k++) t[k] = (float)l[m].line_t[k], loss[m][k] = (float)l[m].line_loss[k];
        series[n++] = (PlotSeries){l[m].name, t, loss[m], line_points};
    }
    PlotChart chart = {"training loss from initialisation (t = 0) to the trained weights (t = 1)", "t", "loss (nats)", 1,
                       series, n, 0, 0};
    return plot_write_svg(path, &chart, 1, 1, error);
}

static void print_landscapes(const LandscapeSetup *s, const Landscape *l, const int *chosen) {
    printf("Loss: mean cross-entropy on the first %d training images, batch norm on batch statistics. Surface over [-%g, %g]^2, %d x %d "
           "points.\n\n",
           s->n_eval, s->span, s->span, s->grid, s->grid);
    printf("| model | parameters | train acc | loss at theta* | surface min | surface max | curving down | train s | "
           "landscape s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int m = 0; m < LANDSCAPE_MODELS; m++)
        if (chosen[m])
            printf("| %s | %ld | %.2f | %.4f | %.4f | %.4f | %.2f | %.1f | %.1f |\n", l[m].name, l[m].parameters,
                   100 * l[m].train_accuracy, l[m].centre_loss, l[m].surface_min, l[m].surface_max,
                   l[m].non_convex_fraction, l[m].train_seconds, l[m].landscape_seconds);
    printf("\n| t |");
    for (int m = 0; m < LANDSCAPE_MODELS; m++)
        if (chosen[m]) printf(" %s |", l[m].name);
    printf("\n|---:|");
    for (int m = 0; m < LANDSCAPE_MODELS; m++)
        if (chosen[m]) printf("---:|");
    printf("\n");
    for (int k = 0; k < s->line_points; k++) {
        printf("| %.3f |", -0.5 + 2.0 * k / (s->line_points - 1));
        for (int m = 0; m < LANDSCAPE_MODELS; m++)
            if (chosen[m]) printf(" %.4f |", l[m].line_loss[k]);
        printf("\n");
    }
    for (int m = 0; m < LANDSCAPE_MODELS; m++) {
        if (!chosen[m]) continue;
        printf("\n%s surface (rows beta from -%g to %g, columns alpha):\n\n| beta \\ alpha |", l[m].name, s->span, s->span);
        for (int a = 0; a < s->grid; a++) printf(" %.2f |", s->span * (2.0 * a / (s->grid - 1) - 1.0));
        printf("\n|---:|");
        for (int a = 0; a < s->grid; a++) printf("---:|");
        printf("\n");
        for (int b = 0; b < s->grid; b++) {
            printf("| %.2f |", s->span * (2.0 * b / (s->grid - 1) - 1.0));
            for (int a = 0; a < s->grid; a++) printf(" %.3f |", l[m].surface[b][a]);
            printf("\n");
        }
    }
}

// The record's headline: the fraction of the first model's surface that curves down, against
// the last model's (with the default models: the ResNet with skips against without).
static void record_landscape(int argc, char **argv, const MnistMlpSetup *s, const Landscape *l, const int *chosen,
                             const char *out, double started) {
    int first = -1, last = -1;
    for (int m = 0; m < LANDSCAPE_MODELS; m++)
        if (chosen[m]) last = m, first = first < 0 ? m : first;
    char metric[96], models[128], dataset[64];
    snprintf(metric, sizeof metric, "fraction of the surface curving down, %s", l[first].name);
    snprintf(models, sizeof models, "%s%s%s", l[first].name, last != first ? " and " : "", last != first ? l[last].name : "");
    snprintf(dataset, sizeof dataset, "MNIST, the first %d training images", s->n_train);
    RunRecord record = {.model = models, .paper = "Li et al.", .year = 2018, .dataset = dataset, .metric = metric,
                        .value = l[first].non_convex_fraction, .parameters = l[first].parameters,
                        .against = last != first ? l[last].name : NULL, .against_value = l[last].non_convex_fraction,
                        .figures = {out}};
    explore_record(argc, argv, &record, started);
}

int explore_run_loss_landscape(int argc, char **argv) {
    const char *command = "explore loss-landscape", *out = "loss-landscape.svg", *models = "mlp,resnet,resnet-no-skip";
    const char *prefix = "loss-landscape";
    SetupOptions s = default_setup_options();
    LandscapeSetup setup = landscape_default_setup();
    s.setup = setup.train;
    Option options[MAX_OPTIONS];
    int n_options = setup_options(&s, options);
    options[n_options++] = (Option){"--models", OPTION_STRING, &models, "comma-separated: mlp, resnet, resnet-no-skip"};
    options[n_options++] = (Option){"--grid", OPTION_INT, &setup.grid, "surface points per axis (odd, 3 to 61)"};
    options[n_options++] = (Option){"--span", OPTION_DOUBLE, &setup.span, "the surface covers [-span, span]^2"};
    options[n_options++] = (Option){"--line-points", OPTION_INT, &setup.line_points, "points along t in [-0.5, 1.5]"};
    options[n_options++] = (Option){"--eval", OPTION_INT, &setup.n_eval, "training images the loss is measured on"};
    options[n_options++] = (Option){"--resnet-width", OPTION_INT, &setup.resnet_width, "the ResNet's first width"};
    options[n_options++] = (Option){"--resnet-blocks", OPTION_INT, &setup.resnet_blocks, "BasicBlocks per stage (2 stages)"};
    options[n_options++] = (Option){"--resnet-epochs", OPTION_INT, &setup.resnet_epochs, "the ResNets' epochs"};
    options[n_options++] = (Option){"--surfaces", OPTION_STRING, &prefix, "surface SVGs: PREFIX-<model>.svg"};
    options[n_options++] = (Option){"--out", OPTION_STRING, &out, "SVG file: the loss along the line"};
    const char *usage = "groundup explore loss-landscape [--models M,...] [--grid G] [--span S] [--eval N] "
                        "[--resnet-width W] [--resnet-blocks B] [setup options] [--surfaces PREFIX] [--out FILE.svg]";
    int status = parse_setup(argc, argv, usage, &s, options, n_options);
    if (status >= 0) return status;
    setup.train = s.setup;
    int chosen[LANDSCAPE_MODELS];
    if (parse_models(models, chosen) < 1) return fail(command, "--models must name mlp, resnet or resnet-no-skip");
    Error error;
    if (landscape_check_setup(&setup, &error)) return fail(command, error.message);
    Landscape *l = calloc(LANDSCAPE_MODELS, sizeof *l);
    if (!l) return fail(command, "out of memory");
    for (int m = 0; m < LANDSCAPE_MODELS; m++) {
        if (!chosen[m]) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s-%s.svg", prefix, LANDSCAPE_KEYS[m]);
        fprintf(stderr, "explore loss-landscape: %s ...\n", LANDSCAPE_KEYS[m]);
        if (explore_loss_landscape(&setup, (LandscapeModel)m, &l[m], &error) ||
            write_surface_svg(&setup, &l[m], path, &error)) {
            free(l);
            return fail(command, error.message);
        }
        fprintf(stderr, "explore loss-landscape: wrote %s\n", path);
    }
    if (write_line_svg(l, chosen, setup.line_points, out, &error)) {
        free(l);
        return fail(command, error.message);
    }
    report_time(argv[0], &s, out);
    printf("MLP 784-%d-%d-10 (ReLU; 0: one hidden layer) on the first %d MNIST training images, plain SGD, %d epochs of "
           "batch %d at lr %g, seed %ld.\n",
           s.setup.hidden[0], s.setup.hidden[1], s.setup.n_train, s.setup.epochs, s.setup.batch_size, (double)s.setup.lr,
           s.seed);
    printf("ResNet: 2 stages of %d BasicBlocks, widths %d and %d, Adam at lr 0.003 for %d epochs; "
           "without skips every block is relu(F(x)).\n",
           setup.resnet_blocks, setup.resnet_width, 2 * setup.resnet_width, setup.resnet_epochs);
    print_landscapes(&setup, l, chosen);
    record_landscape(argc, argv, &s.setup, l, chosen, out, s.wall);
    free(l);
    return 0;
}
