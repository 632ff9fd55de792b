// groundup explore <topic> [options]: the mathematics made visible. Each topic measures one
// idea (explore/), prints a markdown table on stdout and writes an SVG; `groundup explore`
// lists the topics. The topics' own parsing and printing live in tools/cmd_explore_<area>.c.
#include <stdio.h>
#include <string.h>

#include "foundations/clock.h"
#include "tools/commands.h"
#include "tools/explore_topics.h"
#include "tools/options.h"
#include "tools/run_record.h"

// One line per topic, grouped by area; the sentinel ends the table.
static const ExploreTopic topics[] = {
    {"finite-differences", "calculus", "forward and central differences: the error against h, log-log",
     explore_run_finite_differences},
    {"jacobian-hessian", "calculus", "gradients, Jacobians, Hessians (and a network's) against differences",
     explore_run_jacobian_hessian},
    {"chain-rule", "calculus", "a 3-layer MLP's backward as its vector-Jacobian products, checked",
     explore_run_chain_rule},
    {"softmax-stability", "numerical stability", "log-sum-exp and softmax, naive against stable, logits up to 1e4",
     explore_run_softmax_stability},
    {"variance-stability", "numerical stability", "variance one-pass, two-pass and Welford on data with a large mean",
     explore_run_variance_stability},
    {"summation", "numerical stability", "1e7 float32 values summed running, pairwise, Kahan, against float64",
     explore_run_summation},
    {"orthogonality", "numerical stability", "Gram-Schmidt against Householder: ||QᵀQ - I|| against κ",
     explore_run_orthogonality},
    {"ill-conditioning", "numerical stability", "Hilbert systems: the error against κ, the residual at ε",
     explore_run_ill_conditioning},
    {"sampling", "probability", "seven distributions sampled: histograms against densities, chi-square fit",
     explore_run_sampling},
    {"maximum-likelihood", "probability", "MLE of each family, Fisher standard errors, convergence with n",
     explore_run_maximum_likelihood},
    {"bayes", "probability", "Beta-Bernoulli posteriors; a diagnostic test and its base rate", explore_run_bayes},
    {"central-limit", "probability", "means of skewed draws against the normal: KS distance against n",
     explore_run_central_limit},
    {"pca", "probability", "covariance of MNIST's pixels: eigen-digits and variance explained", explore_run_pca},
    {"naive-bayes", "probability", "naive Bayes and LDA on MNIST: accuracy against training size",
     explore_run_naive_bayes},
    {"entropy", "information theory", "Moby-Dick's bits per character; cross-entropy = entropy + KL",
     explore_run_entropy},
    {"mutual-information", "information theory", "mutual information between characters k apart",
     explore_run_mutual_information},
    {"divergences", "information theory", "KL both ways and Jensen-Shannon: names against Moby-Dick",
     explore_run_divergences},
    {"information-plane", "information theory", "binned I(X;T), I(T;Y) of a tanh network during training",
     explore_run_information_plane},
    {"lr-range", "optimisation", "the learning-rate range test on the MNIST MLP and a GPT-2: loss against lr",
     explore_run_lr_range},
    {"schedules", "optimisation", "constant, step, cosine, warmup-cosine, one-cycle: one MLP, one budget",
     explore_run_schedules},
    {"warmup", "optimisation", "a GPT-2 under Adam at high rates, with and without warmup", explore_run_warmup},
    {"clipping", "optimisation", "an exploding deep net: no clipping, by norm, by value; the gradient norm",
     explore_run_clipping},
    {"second-order", "optimisation", "L-BFGS, Newton-CG, natural gradient against Adam: MNIST logistic regression",
     explore_run_second_order},
    {"loss-landscape", "optimisation", "loss from init to trained weights; 2-D filter-normalised slices (MLP, ResNet)",
     explore_run_loss_landscape},
    {"l1-l2", "generalisation", "L1 (proximal) against L2 on the MNIST MLP: exact zeros, histograms, accuracy",
     explore_run_l1_l2},
    {"early-stopping", "generalisation", "the validation curve, where patience stops, the kept checkpoint's accuracy",
     explore_run_early_stopping},
    {"dropout-ensemble", "generalisation", "weight scaling against Monte-Carlo averaging of k dropout masks",
     explore_run_dropout_ensemble},
    {"lottery-ticket", "generalisation", "iterative magnitude pruning, rewound to init, against random re-init",
     explore_run_lottery_ticket},
    {"augmentation", "generalisation", "shifts, rotations, elastic distortion on 1,000 images: the accuracy gained",
     explore_run_augmentation},
    {"bias-variance", "generalisation", "polynomial fits over resampled sets: bias², variance, noise against degree",
     explore_run_bias_variance},
    {"double-descent", "generalisation", "random ReLU features on MNIST: test error peaks at p = n, then falls",
     explore_run_double_descent},
    {NULL, NULL, NULL, NULL},
};

int explore_parse_options(int argc, char **argv, const char *usage, const Option *options, int n_options) {
    int status = options_parse(argc, argv, usage, options, n_options, NULL, 0, NULL);
    return status == OPTIONS_HELP ? 0 : status == OPTIONS_ERROR ? 2 : -1;
}

void explore_record(int argc, char **argv, RunRecord *record, double started) {
    char name[96], command[1024], who[96];
    snprintf(name, sizeof name, "explore-%s", argv[0]);
    snprintf(who, sizeof who, "explore %s", argv[0]);
    record->name = name, record->kind = RUN_RECORD_EXPERIMENT;
    record->command = run_record_subcommand("explore", argc, argv, command, sizeof command);
    record->train_seconds = clock_seconds() - started;
    record_run(who, NULL, record);
}

static void print_topics(FILE *out) {
    fprintf(out, "usage: groundup explore <topic> [options]   (groundup explore <topic> --help)\n\ntopics:\n");
    const char *area = "";
    for (const ExploreTopic *t = topics; t->name; t++) {
        if (strcmp(area, t->area) != 0) fprintf(out, "  %s\n", area = t->area);
        fprintf(out, "    %-22s %s\n", t->name, t->summary);
    }
}

int command_explore(int argc, char **argv) {
    if (argc < 2) {
        print_topics(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_topics(stdout);
        return 0;
    }
    for (const ExploreTopic *t = topics; t->name; t++)
        if (strcmp(argv[1], t->name) == 0) return t->run(argc - 1, argv + 1);
    char message[160];
    snprintf(message, sizeof message, "unknown topic '%s' (groundup explore --help lists them)", argv[1]);
    return fail("explore", message);
}
