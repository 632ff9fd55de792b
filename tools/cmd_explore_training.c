// groundup explore lr-range | schedules | warmup | clipping: optimisation on real networks
// (explore/optimisation.h measures; this file parses, calls, draws the SVG and prints the
// tables the SVG is drawn from; the SVG first: if it cannot be written, stdout stays empty).
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explore/optimisation.h"
#include "foundations/clock.h"
#include "foundations/plot.h"
#include "tools/explore_topics.h"
#include "tools/options.h"

enum { MAX_SERIES = 8 };

// A number, or "—" where there is none (a diverged run's final loss): never inf or nan.
static void print_value(double v, const char *format) {
    if (!isfinite(v)) {
        printf(" — |");
        return;
    }
    printf(" ");
    printf(format, v);
    printf(" |");
}

// The table of curves the SVG draws: one row per `every` steps (and the last), a column each.
static void print_curves(const char *x_name, const float *x, int n, const char *const *names, const float *const *y,
                         const int *lengths, int n_series, int every) {
    printf("| %s |", x_name);
    for (int s = 0; s < n_series; s++) printf(" %s |", names[s]);
    printf("\n|---:|");
    for (int s = 0; s < n_series; s++) printf("---:|");
    printf("\n");
    for (int i = 0; i < n; i++) {
        if (i % every != 0 && i != n - 1) continue;
        printf("| %.4g |", (double)x[i]);
        for (int s = 0; s < n_series; s++) print_value(i < lengths[s] ? (double)y[s][i] : NAN, "%.4g");
        printf("\n");
    }
}

// Bias-corrected exponential moving average of x (n) into out (the curves drawn are smoothed
// so that five noisy lines stay readable; the tables give the same smoothed values).
static void smooth(const float *x, int n, float beta, float *out) {
    double average = 0.0;
    for (int i = 0; i < n; i++) {
        average = beta * average + (1.0 - beta) * x[i];
        out[i] = (float)(average / (1.0 - pow(beta, i + 1)));
    }
}

static double cpu_seconds(void) { return (double)clock() / CLOCKS_PER_SEC; }

// ---------------------------------------------------------------------------------------
// lr-range

// The smoothed loss against the rate on a log axis, the raw loss faint beside it, and the
// suggestion as a vertical line over the smoothed loss's range.
static PlotChart lr_range_chart(const LrRangeCurve *c, const char *title, PlotSeries *series, float *line_x,
                                float *line_y) {
    float low = INFINITY, high = -INFINITY;
    for (int i = 0; i < c->n; i++) low = fminf(low, c->smoothed[i]), high = fmaxf(high, c->smoothed[i]);
    line_x[0] = line_x[1] = c->steepest_lr, line_y[0] = low, line_y[1] = high;
    series[0] = (PlotSeries){"batch loss", c->lr, c->loss, c->n};
    series[1] = (PlotSeries){"smoothed", c->lr, c->smoothed, c->n};
    series[2] = (PlotSeries){"suggested lr (steepest fall)", line_x, line_y, 2};
    PlotChart chart = {.title = title, .x_label = "learning rate", .y_label = "loss (nats)", .series = series,
                       .n_series = 3, .log_x = 1};
    return chart;
}

static void print_lr_range(const char *name, const LrRangeCurve *c) {
    printf("\n### %s: %ld parameters, %d steps in %.1f s%s\n\n", name, c->parameters, c->n, c->seconds,
           c->diverged ? ", stopped when the smoothed loss passed 4x its minimum" : "");
    printf("suggested (steepest fall of the smoothed loss): lr = %.3g; the minimum of the smoothed loss is at lr = %.3g "
           "(about 10x too high to train at)\n\n",
           (double)c->steepest_lr, (double)c->minimum_lr);
    const char *names[2] = {"batch loss", "smoothed"};
    const float *y[2] = {c->loss, c->smoothed};
    int lengths[2] = {c->n, c->n};
    print_curves("lr", c->lr, c->n, names, y, lengths, 2, 1);
}

int explore_run_lr_range(int argc, char **argv) {
    const char *data = "data/mnist", *text = "data/mobydick.txt", *out = "lr-range.svg", *optimizer_name = "adam";
    int steps = 100, n_train = 10000, batch = 128, gpt_batch = 16, only_mlp = 0;
    float lr_start = 1e-5f, lr_end = 10.0f;
    long seed = 1;
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "MNIST directory (the MLP)"},
        {"--text", OPTION_STRING, &text, "text file (the GPT-2, character tokens)"},
        {"--optimizer", OPTION_STRING, &optimizer_name, "sgd | momentum | nesterov | rmsprop | adam | adamw"},
        {"--lr-start", OPTION_FLOAT, &lr_start, "first learning rate"},
        {"--lr-end", OPTION_FLOAT, &lr_end, "last learning rate (the test stops earlier once the loss blows up)"},
        {"--steps", OPTION_INT, &steps, "steps (learning rates) per model"},
        {"--train", OPTION_INT, &n_train, "MNIST training images the MLP's batches are drawn from"},
        {"--batch", OPTION_INT, &batch, "MLP images per step"},
        {"--gpt-batch", OPTION_INT, &gpt_batch, "GPT-2 sequences (of 64 characters) per step"},
        {"--mlp-only", OPTION_FLAG, &only_mlp, "only the MLP"},
        {"--seed", OPTION_LONG, &seed, "seed of the weights and the batches"},
        {"--out", OPTION_STRING, &out, "SVG file: loss against learning rate, log axis, the suggestion marked"},
    };
    const char *usage = "groundup explore lr-range [--data DIR] [--text FILE] [--optimizer adam] [--lr-start X] [--lr-end X] "
                        "[--steps N] [--mlp-only] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    Error error;
    LrRangeSetup setup = {OPTIMIZER_ADAM, lr_start, lr_end, steps, (uint64_t)seed};
    if (optimizer_kind_parse(optimizer_name, &setup.optimizer, &error))
        return error_prefix(&error, "--optimizer"), fail("explore lr-range", error.message);
    SmallGptSetup gpt = {text, 2, 4, 64, 64, gpt_batch};
    LrRangeCurve *curves = calloc(2, sizeof *curves);
    if (!curves) return fail("explore lr-range", "out of memory");
    double cpu = cpu_seconds(), started = clock_seconds();
    int failed = explore_lr_range_mlp(data, n_train, batch, &setup, &curves[0], &error) ||
                 (!only_mlp && explore_lr_range_gpt(&gpt, &setup, &curves[1], &error));
    if (!failed) {
        PlotSeries series[2][3];
        float line_x[2][2], line_y[2][2];
        PlotChart charts[2] = {lr_range_chart(&curves[0], "MNIST MLP 784-256-128-10", series[0], line_x[0], line_y[0]),
                               lr_range_chart(&curves[1], "GPT-2, 2 layers of 64, characters", series[1], line_x[1], line_y[1])};
        failed = plot_write_svg(out, charts, only_mlp ? 1 : 2, only_mlp ? 1 : 2, &error);
    }
    if (failed) {
        free(curves);
        return fail("explore lr-range", error.message);
    }
    cpu = cpu_seconds() - cpu;
    fprintf(stderr, "explore lr-range: wrote %s\n", out);
    printf("The learning-rate range test (Smith 2017): from the initial weights, one %s step per learning rate, the rates\n"
           "growing geometrically from %g to %g; the loss of each step's batch before it, smoothed by a bias-corrected\n"
           "moving average (0.9). The loss falls, flattens and blows up; the suggestion is where it falls fastest.\n"
           "%.1f s of CPU time in all, %d threads.\n",
           optimizer_kind_name(setup.optimizer), (double)lr_start, (double)lr_end, cpu, omp_get_max_threads());
    print_lr_range("MNIST MLP (batches of 128 from the training images)", &curves[0]);
    if (!only_mlp) print_lr_range("GPT-2 (2 layers, 4 heads, width 64, 64 characters of Moby-Dick)", &curves[1]);
    char dataset[96];
    snprintf(dataset, sizeof dataset, "MNIST, batches of %d from the first %d training images", batch, n_train);
    RunRecord record = {.model = "MLP 784-256-128-10", .paper = "Smith", .year = 2017, .dataset = dataset,
                        .parameters = curves[0].parameters, .metric = "suggested learning rate (steepest fall), MNIST MLP",
                        .value = curves[0].steepest_lr, .against = "minimum of the smoothed loss",
                        .against_value = curves[0].minimum_lr, .figures = {out}};
    explore_record(argc, argv, &record, started);
    free(curves);
    return 0;
}

// ---------------------------------------------------------------------------------------
// schedules

// The record's headline: the best schedule's test accuracy against the constant rate's.
static void record_schedules(int argc, char **argv, const SchedulesSetup *s, const SchedulesResult *r, const char *out,
                             double started) {
    int best = 0, constant = -1;
    for (int k = 0; k < r->n_runs; k++) {
        if (r->runs[k].test_accuracy > r->runs[best].test_accuracy) best = k;
        if (r->runs[k].kind == SCHEDULE_CONSTANT) constant = k;
    }
    char metric[96], dataset[96];
    snprintf(metric, sizeof metric, "test accuracy (%%), the best schedule: %s", schedule_kind_name(r->runs[best].kind));
    snprintf(dataset, sizeof dataset, "MNIST, %d training and %d test images", s->n_train, s->n_test);
    RunRecord record = {.model = "MLP 784-256-128-10", .paper = "Loshchilov & Hutter", .year = 2016, .dataset = dataset,
                        .metric = metric, .value = 100.0 * r->runs[best].test_accuracy, .higher_is_better = 1,
                        .against = constant >= 0 ? "constant" : NULL,
                        .against_value = constant >= 0 ? 100.0 * r->runs[constant].test_accuracy : 0.0, .figures = {out}};
    explore_record(argc, argv, &record, started);
}

int explore_run_schedules(int argc, char **argv) {
    const char *data = "data/mnist", *out = "schedules.svg", *optimizer_name = "momentum";
    SchedulesSetup s = {.n_train = 10000, .n_test = 10000, .epochs = 3, .batch_size = 128, .lr = 0.3f, .min_lr = 0.0f,
                        .gamma = 0.3f, .warmup_steps = 20};
    long seed = 1;
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "MNIST directory"},
        {"--train", OPTION_INT, &s.n_train, "training images (the first N)"},
        {"--test", OPTION_INT, &s.n_test, "test images"},
        {"--epochs", OPTION_INT, &s.epochs, "epochs (the same budget for every schedule)"},
        {"--batch", OPTION_INT, &s.batch_size, "images per step"},
        {"--optimizer", OPTION_STRING, &optimizer_name, "sgd | momentum | nesterov | rmsprop | adam | adamw"},
        {"--lr", OPTION_FLOAT, &s.lr, "the peak learning rate of every schedule"},
        {"--min-lr", OPTION_FLOAT, &s.min_lr, "where the cosines end"},
        {"--gamma", OPTION_FLOAT, &s.gamma, "step decay: factor after each epoch"},
        {"--warmup", OPTION_LONG, &s.warmup_steps, "warmup-cosine: warmup steps (one-cycle rises over 30%)"},
        {"--seed", OPTION_LONG, &seed, "seed of the weights and the batches"},
        {"--out", OPTION_STRING, &out, "SVG file: the rate and the (smoothed) training loss per step"},
    };
    const char *usage = "groundup explore schedules [--data DIR] [--epochs N] [--optimizer momentum] [--lr X] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    Error error;
    s.seed = (uint64_t)seed;
    if (optimizer_kind_parse(optimizer_name, &s.optimizer, &error))
        return error_prefix(&error, "--optimizer"), fail("explore schedules", error.message);
    SchedulesResult *r = calloc(1, sizeof *r);
    float(*smoothed)[SCHEDULE_MAX_STEPS] = calloc(N_SCHEDULE_KINDS, sizeof *smoothed);
    float *steps = calloc(SCHEDULE_MAX_STEPS, sizeof *steps);
    if (!r || !smoothed || !steps) {
        free(r), free(smoothed), free(steps);
        return fail("explore schedules", "out of memory");
    }
    double cpu = cpu_seconds(), started = clock_seconds();
    int failed = explore_schedules(data, &s, r, &error);
    cpu = cpu_seconds() - cpu;
    const char *names[N_SCHEDULE_KINDS];
    const float *loss[N_SCHEDULE_KINDS], *lr[N_SCHEDULE_KINDS];
    int lengths[N_SCHEDULE_KINDS];
    if (!failed) {
        PlotSeries rate_series[N_SCHEDULE_KINDS], loss_series[N_SCHEDULE_KINDS];
        for (int i = 0; i < SCHEDULE_MAX_STEPS; i++) steps[i] = (float)(i + 1);
        for (int k = 0; k < r->n_runs; k++) {
            const ScheduleRun *run = &r->runs[k];
            smooth(run->loss, run->n_steps, 0.95f, smoothed[k]);
            names[k] = schedule_kind_name(run->kind), loss[k] = smoothed[k], lr[k] = run->lr, lengths[k] = run->n_steps;
            rate_series[k] = (PlotSeries){names[k], steps, run->lr, run->n_steps};
            loss_series[k] = (PlotSeries){names[k], steps, smoothed[k], run->n_steps};
        }
        PlotChart charts[2] = {{.title = "learning rate", .x_label = "step", .y_label = "lr", .series = rate_series,
                                .n_series = r->n_runs},
                               {.title = "training loss (moving average 0.95)", .x_label = "step", .y_label = "cross-entropy (nats)",
                                .log_y = 1, .series = loss_series, .n_series = r->n_runs}};
        failed = plot_write_svg(out, charts, 2, 2, &error);
    }
    if (failed) {
        free(r), free(smoothed), free(steps);
        return fail("explore schedules", error.message);
    }
    fprintf(stderr, "explore schedules: wrote %s\n", out);
    int n = r->runs[0].n_steps;
    printf("The MNIST MLP 784-256-128-10 trained by %s with each schedule of foundations/optimizer.h: the same %d steps\n"
           "(%d epochs of %d images in batches of %d), the same peak rate %g, the same initial weights and batches;\n"
           "scored on %d test images. %.1f s of CPU time in all, %d threads.\n\n",
           optimizer_kind_name(s.optimizer), n, s.epochs, s.n_train, s.batch_size, (double)s.lr, s.n_test, cpu,
           omp_get_max_threads());
    printf("| schedule | last epoch's training loss | test loss | test accuracy | seconds |\n|---|---:|---:|---:|---:|\n");
    for (int k = 0; k < r->n_runs; k++) {
        const ScheduleRun *run = &r->runs[k];
        printf("| %s | %.4f | %.4f | %.2f%% | %.1f |\n", schedule_kind_name(run->kind), run->final_train_loss, run->test_loss,
               100.0 * run->test_accuracy, run->seconds);
    }
    printf("\nThe curves (every 10th step): the rate, then the smoothed training loss.\n\n");
    print_curves("step", steps, n, names, lr, lengths, r->n_runs, 10);
    printf("\n");
    print_curves("step", steps, n, names, loss, lengths, r->n_runs, 10);
    record_schedules(argc, argv, &s, r, out, started);
    free(r), free(smoothed), free(steps);
    return 0;
}

// ---------------------------------------------------------------------------------------
// warmup

// "3e-3,1e-2" into lrs (at most max); the count, or -1 on a bad list.
static int parse_rates(const char *text, float *lrs, int max) {
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        double value = strtod(p, &end);
        if (end == p || n == max || !(value > 0.0) || !isfinite(value)) return -1;
        lrs[n++] = (float)value;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

// The record's headline: how many of the peak rates diverge with warmup, against without.
static void record_warmup(int argc, char **argv, const WarmupSetup *s, const WarmupResult *r, const char *out,
                          double started) {
    int diverged[2] = {0, 0};  // [with warmup]
    for (int k = 0; k < r->n_runs; k++) diverged[r->runs[k].warmup != 0] += r->runs[k].diverged != 0;
    char model[64], metric[96], dataset[1100];
    snprintf(model, sizeof model, "GPT-2, %d layers of width %d", s->gpt.layers, s->gpt.dim);
    snprintf(metric, sizeof metric, "runs that diverged with warmup (of %d peak rates)", s->n_lrs);
    snprintf(dataset, sizeof dataset, "%s, characters", s->gpt.text_path);
    RunRecord record = {.model = model, .paper = "Goyal et al.", .year = 2017, .dataset = dataset, .parameters = r->parameters,
                        .metric = metric, .value = diverged[1], .against = "without warmup", .against_value = diverged[0],
                        .figures = {out}};
    explore_record(argc, argv, &record, started);
}

int explore_run_warmup(int argc, char **argv) {
    const char *text = "data/mobydick.txt", *out = "warmup.svg", *rates = "3e-2,1e-1,3e-1";
    WarmupSetup s = {.gpt = {NULL, 2, 4, 64, 64, 16}, .steps = 200, .warmup_steps = 20};
    long seed = 1;
    const Option options[] = {
        {"--text", OPTION_STRING, &text, "text file (character tokens, the last 10% held out)"},
        {"--lrs", OPTION_STRING, &rates, "peak learning rates, comma-separated (at most 4)"},
        {"--steps", OPTION_LONG, &s.steps, "steps of each run"},
        {"--warmup", OPTION_LONG, &s.warmup_steps, "warmup steps of the runs with warmup"},
        {"--layers", OPTION_INT, &s.gpt.layers, "GPT-2 layers"},
        {"--dim", OPTION_INT, &s.gpt.dim, "GPT-2 width"},
        {"--batch", OPTION_INT, &s.gpt.batch, "sequences per step"},
        {"--context", OPTION_INT, &s.gpt.context, "characters per sequence"},
        {"--seed", OPTION_LONG, &seed, "seed of the weights and the batches"},
        {"--out", OPTION_STRING, &out, "SVG file: the training loss and the gradient norm per step"},
    };
    const char *usage = "groundup explore warmup [--text FILE] [--lrs 3e-2,1e-1,3e-1] [--steps N] [--warmup N] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    s.gpt.text_path = text, s.seed = (uint64_t)seed;
    if ((s.n_lrs = parse_rates(rates, s.lrs, WARMUP_MAX_RUNS / 2)) < 1)
        return fail("explore warmup", "--lrs: 1 to 4 positive rates, comma-separated (3e-2,1e-1,3e-1)");
    Error error;
    WarmupResult *r = calloc(1, sizeof *r);
    float *steps = calloc(WARMUP_MAX_STEPS, sizeof *steps);
    if (!r || !steps) {
        free(r), free(steps);
        return fail("explore warmup", "out of memory");
    }
    double cpu = cpu_seconds(), started = clock_seconds();
    int failed = explore_warmup(&s, r, &error);
    cpu = cpu_seconds() - cpu;
    char names[WARMUP_MAX_RUNS][48];
    const char *name_of[WARMUP_MAX_RUNS];
    const float *loss[WARMUP_MAX_RUNS], *norm[WARMUP_MAX_RUNS];
    int lengths[WARMUP_MAX_RUNS];
    if (!failed) {
        PlotSeries loss_series[WARMUP_MAX_RUNS], norm_series[WARMUP_MAX_RUNS];
        for (int i = 0; i < WARMUP_MAX_STEPS; i++) steps[i] = (float)(i + 1);
        for (int k = 0; k < r->n_runs; k++) {
            const WarmupRun *run = &r->runs[k];
            snprintf(names[k], sizeof names[k], "lr %g, %s", (double)run->lr, run->warmup ? "warmup" : "no warmup");
            name_of[k] = names[k], loss[k] = run->loss, norm[k] = run->grad_norm, lengths[k] = run->n_steps;
            loss_series[k] = (PlotSeries){names[k], steps, run->loss, run->n_steps};
            norm_series[k] = (PlotSeries){names[k], steps, run->grad_norm, run->n_steps};
        }
        PlotChart charts[2] = {{.title = "training loss", .x_label = "step", .y_label = "nats per character", .log_y = 1,
                                .series = loss_series, .n_series = r->n_runs},
                               {.title = "gradient norm", .x_label = "step", .y_label = "||g||", .log_y = 1,
                                .series = norm_series, .n_series = r->n_runs}};
        failed = plot_write_svg(out, charts, 2, 2, &error);
    }
    if (failed) {
        free(r), free(steps);
        return fail("explore warmup", error.message);
    }
    fprintf(stderr, "explore warmup: wrote %s\n", out);
    printf("The GPT-2 (%d layers, 4 heads, width %d, %ld parameters) on %d-character windows of %s, trained by Adam for\n"
           "%ld steps of %d sequences, no gradient clipping, at each peak rate: with a linear warmup of %ld steps then a\n"
           "cosine to lr/10, and with the cosine alone. Same initial weights and batches. %.1f s of CPU time in all\n"
           "(%.1f s wall), %d threads. Diverged: the loss stopped being a finite number, or ended above where it started.\n\n",
           s.gpt.layers, s.gpt.dim, r->parameters, s.gpt.context, text, s.steps, s.gpt.batch, s.warmup_steps, cpu,
           r->seconds, omp_get_max_threads());
    printf("| peak lr | warmup | steps | not finite at step | step 1 loss | highest loss after | highest / step 1 | last 10%% loss | "
           "validation loss | diverged |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int k = 0; k < r->n_runs; k++) {
        const WarmupRun *run = &r->runs[k];
        printf("| %g | %s | %d |", (double)run->lr, run->warmup ? "yes" : "no", run->n_steps);
        if (run->nan_step) printf(" %d |", run->nan_step);
        else printf(" — |");
        print_value(run->initial_loss, "%.3f");
        print_value(run->peak_loss, "%.3f");
        print_value(run->peak_loss / run->initial_loss, "%.2f");
        print_value(run->final_loss, "%.3f");
        print_value(run->val_loss, "%.3f");
        printf(" %s |\n", run->diverged ? "yes" : "no");
    }
    printf("\nThe curves (every 10th step): the training loss, then the gradient norm.\n\n");
    print_curves("step", steps, (int)s.steps, name_of, loss, lengths, r->n_runs, 10);
    printf("\n");
    print_curves("step", steps, (int)s.steps, name_of, norm, lengths, r->n_runs, 10);
    record_warmup(argc, argv, &s, r, out, started);
    free(r), free(steps);
    return 0;
}

// ---------------------------------------------------------------------------------------
// clipping

// The record's headline: the training accuracy when clipping by norm, against no clipping (left
// out when that run overflowed: its accuracy is not a number).
static void record_clipping(int argc, char **argv, const ClippingSetup *s, const ClippingResult *r, const char *out,
                            double started) {
    char model[64], dataset[64];
    snprintf(model, sizeof model, "ReLU MLP, %d hidden layers of %d", s->depth, s->width);
    snprintf(dataset, sizeof dataset, "MNIST, %d training images", s->n_train);
    RunRecord record = {.model = model, .paper = "Pascanu, Mikolov & Bengio", .year = 2013, .dataset = dataset,
                        .parameters = r->parameters, .metric = "training accuracy (%), clipping by norm",
                        .value = 100.0 * r->runs[CLIP_NORM].accuracy, .higher_is_better = 1, .against = "no clipping",
                        .against_value = 100.0 * r->runs[CLIP_NONE].accuracy, .figures = {out}};
    explore_record(argc, argv, &record, started);
}

int explore_run_clipping(int argc, char **argv) {
    const char *data = "data/mnist", *out = "clipping.svg";
    ClippingSetup s = {.n_train = 5000, .depth = 10, .width = 64, .gain = 1.5f, .lr = 0.1f, .max_norm = 1.0f,
                       .max_value = 0.01f, .steps = 300, .batch_size = 64};
    long seed = 1;
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "MNIST directory"},
        {"--train", OPTION_INT, &s.n_train, "training images"},
        {"--depth", OPTION_INT, &s.depth, "hidden ReLU layers"},
        {"--width", OPTION_INT, &s.width, "their width"},
        {"--gain", OPTION_FLOAT, &s.gain, "initial weights in units of He's sqrt(2/fan_in)"},
        {"--lr", OPTION_FLOAT, &s.lr, "SGD's learning rate"},
        {"--max-norm", OPTION_FLOAT, &s.max_norm, "clipping by norm: the largest global gradient norm"},
        {"--max-value", OPTION_FLOAT, &s.max_value, "clipping by value: the largest |gradient| of a weight"},
        {"--steps", OPTION_INT, &s.steps, "steps of each run"},
        {"--batch", OPTION_INT, &s.batch_size, "images per step"},
        {"--seed", OPTION_LONG, &seed, "seed of the weights and the batches"},
        {"--out", OPTION_STRING, &out, "SVG file: the gradient norm and the loss per step"},
    };
    const char *usage = "groundup explore clipping [--data DIR] [--depth N] [--gain G] [--lr X] [--max-norm X] "
                        "[--max-value X] [--steps N] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    s.seed = (uint64_t)seed;
    Error error;
    ClippingResult *r = calloc(1, sizeof *r);
    float *steps = calloc(CLIPPING_MAX_STEPS, sizeof *steps);
    if (!r || !steps) {
        free(r), free(steps);
        return fail("explore clipping", "out of memory");
    }
    double cpu = cpu_seconds(), started = clock_seconds();
    int failed = explore_clipping(data, &s, r, &error);
    cpu = cpu_seconds() - cpu;
    const char *names[N_CLIP_MODES] = {"no clipping", "clip by norm", "clip by value"};
    const float *norm[N_CLIP_MODES], *loss[N_CLIP_MODES];
    int lengths[N_CLIP_MODES];
    if (!failed) {
        PlotSeries norm_series[N_CLIP_MODES], loss_series[N_CLIP_MODES];
        for (int i = 0; i < CLIPPING_MAX_STEPS; i++) steps[i] = (float)(i + 1);
        for (int m = 0; m < N_CLIP_MODES; m++) {
            const ClippingRun *run = &r->runs[m];
            norm[m] = run->grad_norm, loss[m] = run->loss, lengths[m] = run->n_steps;
            norm_series[m] = (PlotSeries){names[m], steps, run->grad_norm, run->n_steps};
            loss_series[m] = (PlotSeries){names[m], steps, run->loss, run->n_steps};
        }
        PlotChart charts[2] = {{.title = "gradient norm before clipping", .x_label = "step", .y_label = "||g||",
                                .log_y = 1, .series = norm_series, .n_series = N_CLIP_MODES},
                               {.title = "training loss", .x_label = "step", .y_label = "cross-entropy (nats)",
                                .log_y = 1, .series = loss_series, .n_series = N_CLIP_MODES}};
        failed = plot_write_svg(out, charts, 2, 2, &error);
    }
    if (failed) {
        free(r), free(steps);
        return fail("explore clipping", error.message);
    }
    fprintf(stderr, "explore clipping: wrote %s\n", out);
    printf("A deep ReLU MLP (784, %d hidden layers of %d, 10; %ld parameters) whose weights start %g times He's\n"
           "sqrt(2/fan_in), so activations and gradients grow about %gx per layer, trained by SGD at lr %g on batches of\n"
           "%d from %d MNIST images, %d steps, three times from the same weights and batches: without clipping, clipping\n"
           "the global gradient norm to %g, clipping every coordinate to [-%g, %g]. The step's gradient norm before\n"
           "clipping was %.3g. %.1f s of CPU time in all, %d threads.\n\n",
           s.depth, s.width, r->parameters, (double)s.gain, (double)s.gain, (double)s.lr, s.batch_size, s.n_train,
           s.steps, (double)s.max_norm, (double)s.max_value, (double)s.max_value, (double)r->initial_grad_norm, cpu,
           omp_get_max_threads());
    printf("| clipping | steps | overflow at step | largest gradient norm | largest step lr·||g|| | last 10%% loss | "
           "training accuracy |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (int m = 0; m < N_CLIP_MODES; m++) {
        const ClippingRun *run = &r->runs[m];
        printf("| %s | %d |", clipping_mode_name(m), run->n_steps);
        if (run->nan_step) printf(" %d |", run->nan_step);
        else printf(" — |");
        print_value(run->max_grad_norm, "%.3g");
        print_value(run->max_step_norm, "%.3g");
        print_value(run->final_loss, "%.4f");
        print_value(100.0 * run->accuracy, "%.2f%%");
        printf("\n");
    }
    printf("\nThe curves (every 10th step): the gradient norm before clipping, then the loss.\n\n");
    print_curves("step", steps, s.steps, names, norm, lengths, N_CLIP_MODES, 10);
    printf("\n");
    print_curves("step", steps, s.steps, names, loss, lengths, N_CLIP_MODES, 10);
    record_clipping(argc, argv, &s, r, out, started);
    free(r), free(steps);
    return 0;
}
