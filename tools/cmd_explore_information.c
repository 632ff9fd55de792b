// groundup explore entropy | mutual-information | divergences | information-plane: information
// theory made visible. Each parses its options, calls explore/information_demos.h, writes its
// SVG and prints a markdown table (the SVG first: if it cannot be written, stdout stays empty).
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "explore/information_demos.h"
#include "foundations/clock.h"
#include "foundations/plot.h"
#include "tools/explore_topics.h"
#include "tools/options.h"

// Bits per byte of the project's trained models on the same held-out 10% of Moby-Dick, as the
// README measured them with `groundup eval` (not recomputed here): the character-level MLP
// (block 8, 75 s of training) and the main job's GPT-2 (4096-token BPE, 300 s).
static const double README_MLP_BITS = 2.371, README_GPT2_BITS = 2.010;

// ----------------------------------------------------------------------------

static int write_entropy_svg(const EntropyResult *r, const char *path, Error *error) {
    float k[ENTROPY_ORDERS], in_sample[ENTROPY_ORDERS], cross[ENTROPY_ORDERS], held[ENTROPY_ORDERS];
    float line_x[2] = {0.0f, (float)(ENTROPY_ORDERS - 1)}, mlp[2], gpt[2];
    for (int i = 0; i < ENTROPY_ORDERS; i++) {
        const EntropyOrder *o = &r->orders[i];
        k[i] = (float)o->order, in_sample[i] = (float)o->in_sample;
        cross[i] = (float)o->cross_entropy, held[i] = (float)o->held_out_entropy;
    }
    mlp[0] = mlp[1] = (float)README_MLP_BITS, gpt[0] = gpt[1] = (float)README_GPT2_BITS;
    PlotSeries series[5] = {
        {"in-sample H", k, in_sample, ENTROPY_ORDERS},
        {"held-out CE", k, cross, ENTROPY_ORDERS},
        {"held-out H = CE - KL", k, held, ENTROPY_ORDERS},
        {"MLP (README)", line_x, mlp, 2},
        {"GPT-2 (README)", line_x, gpt, 2},
    };
    PlotChart chart = {"Moby-Dick: bits per character against context length", "k (bytes of context)", "bits per byte", 0,
                       series, 5, 0, 0};
    return plot_write_svg(path, &chart, 1, 1, error);
}

int explore_run_entropy(int argc, char **argv) {
    const char *text = "data/mobydick.txt", *out = "entropy.svg";
    double holdout = 0.1, smoothing = 1.0;
    const Option options[] = {
        {"--text", OPTION_STRING, &text, "text file"},
        {"--holdout", OPTION_DOUBLE, &holdout, "fraction held out at the end, in (0, 1)"},
        {"--smoothing", OPTION_DOUBLE, &smoothing, "add-alpha smoothing of the count models (> 0)"},
        {"--out", OPTION_STRING, &out, "SVG file: bits per byte against context length"},
    };
    const char *usage = "groundup explore entropy [--text FILE] [--holdout F] [--smoothing A] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    EntropyResult r;
    Error error;
    if (explore_entropy(text, holdout, smoothing, &r, &error) || write_entropy_svg(&r, out, &error))
        return fail("explore entropy", error.message);
    fprintf(stderr, "explore entropy: wrote %s\n", out);
    printf("%s: %ld bytes counted, the last %ld held out, %d distinct bytes. An order-k model predicts a byte from the k\n"
           "before it with add-%g counts. Held-out cross-entropy = the held-out text's own conditional entropy + KL(held-out\n"
           "|| model), each computed separately; orders 0 and 1 again with foundations/information.h on dense tables.\n\n",
           text, r.train_bytes, r.held_out_bytes, r.alphabet, smoothing);
    printf("| k | contexts | in-sample H (bits/byte) | held-out cross-entropy | = held-out H | + KL | identity error | "
           "information.h difference |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < ENTROPY_ORDERS; i++) {
        const EntropyOrder *o = &r.orders[i];
        char dense[32] = "—";
        if (o->order <= 1) snprintf(dense, sizeof dense, "%.1e", o->dense_difference);
        printf("| %d | %ld | %.4f | %.4f | %.4f | %.4f | %.1e | %s |\n", o->order, o->contexts, o->in_sample, o->cross_entropy,
               o->held_out_entropy, o->kl, o->identity_error, dense);
    }
    printf("\nFor scale, the README's trained models on the same held-out 10%% (measured there, not here): the character\n"
           "MLP (8 bytes of context) %.3f bits per byte, the main job's GPT-2 %.3f.\n", README_MLP_BITS, README_GPT2_BITS);
    return 0;
}

// ----------------------------------------------------------------------------

static int write_mutual_information_svg(const MutualInformationResult *r, const char *path, Error *error) {
    float x[MI_MAX_LAGS], y[MI_MAX_LAGS], floor_y[MI_MAX_LAGS], shuffled_y[MI_MAX_LAGS];
    for (int j = 0; j < r->n_lags; j++) {
        x[j] = (float)r->lags[j], y[j] = (float)r->information[j];
        floor_y[j] = (float)r->bias_estimate, shuffled_y[j] = (float)r->shuffled;
    }
    PlotSeries series[3] = {
        {"I(X_t; X_t+k)", x, y, r->n_lags},
        {"shuffled, k = 1", x, shuffled_y, r->n_lags},
        {"bias estimate", x, floor_y, r->n_lags},
    };
    PlotChart chart = {"Moby-Dick: mutual information between characters k apart", "k (log)", "bits (log)", 1, series, 3, 1, 0};
    return plot_write_svg(path, &chart, 1, 1, error);
}

int explore_run_mutual_information(int argc, char **argv) {
    const char *text = "data/mobydick.txt", *out = "mutual-information.svg";
    int max_lag = 1000;
    long seed = 1;
    const Option options[] = {
        {"--text", OPTION_STRING, &text, "text file"},
        {"--max-lag", OPTION_INT, &max_lag, "largest distance k"},
        {"--seed", OPTION_LONG, &seed, "seed of the shuffled control"},
        {"--out", OPTION_STRING, &out, "SVG file: I against k"},
    };
    const char *usage = "groundup explore mutual-information [--text FILE] [--max-lag K] [--seed S] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    MutualInformationResult r;
    Error error;
    if (explore_mutual_information(text, max_lag, (uint64_t)seed, &r, &error) ||
        write_mutual_information_svg(&r, out, &error))
        return fail("explore mutual-information", error.message);
    fprintf(stderr, "explore mutual-information: wrote %s\n", out);
    printf("%s: %ld bytes, %d distinct. H(X) = %.4f bits, H(X_t | X_t-1) = %.4f bits, so I at k = 1 should be their\n"
           "difference %.4f. Shuffled text (no dependence left) at k = 1: %.4f bits; the plug-in bias estimate\n"
           "(A-1)^2/(2N ln 2) = %.4f bits.\n\n", text, r.bytes, r.alphabet, r.entropy, r.conditional_entropy,
           r.entropy - r.conditional_entropy, r.shuffled, r.bias_estimate);
    printf("| k | I(X_t; X_t+k), bits |\n|---:|---:|\n");
    for (int j = 0; j < r.n_lags; j++) printf("| %d | %.4f |\n", r.lags[j], r.information[j]);
    return 0;
}

// ----------------------------------------------------------------------------

static int write_divergences_svg(const DivergenceResult *r, const char *names[2], const char *path, Error *error) {
    float x[LETTERS], p[LETTERS], q[LETTERS], c[LETTERS];
    for (int i = 0; i < LETTERS; i++) {
        x[i] = (float)i, p[i] = (float)r->letters_p[i], q[i] = (float)r->letters_q[i], c[i] = (float)r->contribution[i];
    }
    PlotSeries letters[2] = {{names[0], x, p, LETTERS}, {names[1], x, q, LETTERS}};
    PlotSeries terms[1] = {{"p log2(p / q)", x, c, LETTERS}};
    PlotChart charts[2] = {
        {"Letter frequencies (a = 0, e = 4, ..., z = 25)", "letter", "probability", 0, letters, 2, 0, 0},
        {"The terms of KL(p || q) on letters (sum = KL)", "letter", "bits", 0, terms, 1, 0, 0},
    };
    return plot_write_svg(path, charts, 2, 2, error);
}

static void print_bits(double bits) {
    if (isinf(bits)) printf(" infinite |");
    else printf(" %.4f |", bits);
}

int explore_run_divergences(int argc, char **argv) {
    const char *p_path = "data/names.txt", *q_path = "data/mobydick.txt", *out = "divergences.svg";
    const Option options[] = {
        {"--p", OPTION_STRING, &p_path, "first text (p)"},
        {"--q", OPTION_STRING, &q_path, "second text (q)"},
        {"--out", OPTION_STRING, &out, "SVG file: the letter distributions and the KL terms"},
    };
    const char *usage = "groundup explore divergences [--p FILE] [--q FILE] [--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    DivergenceResult r;
    Error error;
    const char *names[2] = {p_path, q_path};
    if (explore_divergences(p_path, q_path, &r, &error) || write_divergences_svg(&r, names, out, &error))
        return fail("explore divergences", error.message);
    fprintf(stderr, "explore divergences: wrote %s\n", out);
    printf("p = the characters of %s (%ld bytes), q = those of %s (%ld bytes), in bits. KL is not symmetric; on all\n"
           "bytes a byte of q that p never has makes KL(q || p) infinite, while JS (at most 1 bit) stays finite.\n\n",
           p_path, r.bytes_p, q_path, r.bytes_q);
    printf("| alphabet | symbols | H(p) | H(q) | KL(p \\|\\| q) | KL(q \\|\\| p) | JS(p, q) | H(p, q) = H(p) + KL(p \\|\\| q) |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < 2; i++) {
        const DivergenceRow *row = &r.rows[i];
        printf("| %s | %d |", row->alphabet, row->symbols);
        print_bits(row->entropy_p), print_bits(row->entropy_q), print_bits(row->kl_pq), print_bits(row->kl_qp);
        print_bits(row->js), print_bits(row->cross_pq);
        printf("\n");
    }
    return 0;
}

// ----------------------------------------------------------------------------

static int write_plane_svg(const InformationPlaneResult *r, const char *path, Error *error) {
    float x[PLANE_LAYERS][PLANE_MAX_SNAPSHOTS], y[PLANE_LAYERS][PLANE_MAX_SNAPSHOTS];
    float epochs[PLANE_MAX_SNAPSHOTS], train[PLANE_MAX_SNAPSHOTS], test[PLANE_MAX_SNAPSHOTS];
    char names[PLANE_LAYERS][48];
    PlotSeries layers[PLANE_LAYERS], accuracy[2];
    for (int l = 0; l < PLANE_LAYERS; l++) {
        for (int s = 0; s < r->n_snapshots; s++) x[l][s] = (float)r->ixt[s][l], y[l][s] = (float)r->ity[s][l];
        snprintf(names[l], sizeof names[l], "layer %d (%d units)", l + 1, r->widths[l]);
        layers[l] = (PlotSeries){names[l], x[l], y[l], r->n_snapshots};
    }
    for (int s = 0; s < r->n_snapshots; s++) {
        epochs[s] = (float)(r->snapshot_epochs[s] + 1.0);
        train[s] = (float)r->train_accuracy[s], test[s] = (float)r->test_accuracy[s];
    }
    accuracy[0] = (PlotSeries){"train", epochs, train, r->n_snapshots};
    accuracy[1] = (PlotSeries){"held-out", epochs, test, r->n_snapshots};
    char title[96];
    snprintf(title, sizeof title, "Information plane, %d bins, epochs 0 to %d", r->bins, r->epochs);
    PlotChart charts[2] = {
        {title, "I(X; T), bits", "I(T; Y), bits", 0, layers, PLANE_LAYERS, 0, 0},
        {"Accuracy", "epoch + 1 (log)", "accuracy", 0, accuracy, 2, 1, 0},
    };
    return plot_write_svg(path, charts, 2, 2, error);
}

int explore_run_information_plane(int argc, char **argv) {
    const char *out = "information-plane.svg";
    int epochs = 2000, bins = 30, threads = 1;
    float lr = 0.003f;
    long seed = 1;
    const Option options[] = {
        {"--epochs", OPTION_INT, &epochs, "full-batch Adam steps"},
        {"--bins", OPTION_INT, &bins, "bins per unit over [-1, 1]"},
        {"--lr", OPTION_FLOAT, &lr, "Adam learning rate"},
        {"--seed", OPTION_LONG, &seed, "seed of the split and the initialisation"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--out", OPTION_STRING, &out, "SVG file: the trajectories and the accuracy"},
    };
    const char *usage = "groundup explore information-plane [--epochs N] [--bins B] [--lr LR] [--seed S] [--threads N] "
                        "[--out FILE.svg]";
    int status = explore_parse_options(argc, argv, usage, options, sizeof options / sizeof *options);
    if (status >= 0) return status;
    // Layers of 3 to 12 units: a parallel region costs more than its arithmetic, and on a busy
    // machine two threads waiting for each other cost far more (measured: 1.7 s on one thread,
    // 84 s on two, for 300 epochs at load 12). Hence one thread unless asked.
    if (threads < 0 || threads > 256) return fail("explore information-plane", "--threads must be in [0, 256]");
    if (threads > 0) omp_set_num_threads(threads);
    InformationPlaneResult *r = malloc(sizeof *r);
    Error error;
    if (!r) return fail("explore information-plane", "out of memory");
    double started = clock_seconds();
    if (explore_information_plane(epochs, bins, lr, (uint64_t)seed, r, &error) || write_plane_svg(r, out, &error)) {
        free(r);
        return fail("explore information-plane", error.message);
    }
    fprintf(stderr, "explore information-plane: wrote %s\n", out);
    printf("A 12-10-7-5-4-3-1 tanh network on all 4096 12-bit patterns (85%% train), full-batch Adam at lr %g, seed %ld;\n"
           "each hidden layer binned into %d bins per unit. H(X) = %.0f bits, H(Y) = %.4f bits. I(X;T) / I(T;Y) in bits.\n\n",
           lr, seed, bins, r->input_entropy, r->label_entropy);
    printf("| epoch | train loss | train acc | held-out acc |");
    for (int l = 0; l < PLANE_LAYERS; l++) printf(" layer %d |", l + 1);
    printf("\n|---:|---:|---:|---:|");
    for (int l = 0; l < PLANE_LAYERS; l++) printf("---|");
    printf("\n");
    for (int s = 0; s < r->n_snapshots; s++) {
        if (s % 3 != 0 && s != r->n_snapshots - 1) continue;  // every third snapshot and the last
        printf("| %d | %.4f | %.4f | %.4f |", r->snapshot_epochs[s], r->train_loss[s], r->train_accuracy[s], r->test_accuracy[s]);
        for (int l = 0; l < PLANE_LAYERS; l++) printf(" %.2f / %.3f |", r->ixt[s][l], r->ity[s][l]);
        printf("\n");
    }
    int last = r->n_snapshots - 1;
    RunRecord record = {.model = "tanh MLP 12-10-7-5-4-3-1", .paper = "Shwartz-Ziv & Tishby", .year = 2017,
                        .dataset = "the 4096 12-bit patterns, 85% train", .metric = "held-out accuracy, last epoch",
                        .value = r->test_accuracy[last], .higher_is_better = 1, .against = "train accuracy",
                        .against_value = r->train_accuracy[last], .figures = {out}};
    explore_record(argc, argv, &record, started);
    free(r);
    return 0;
}
