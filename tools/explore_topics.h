// The topics of `groundup explore` (tools/cmd_explore.c lists them): each a function taking its
// own argc/argv (argv[0] is the topic's name) and returning the exit status, defined in
// tools/cmd_explore_<area>.c.
#ifndef TOOLS_EXPLORE_TOPICS_H
#define TOOLS_EXPLORE_TOPICS_H

#include "tools/options.h"
#include "tools/run_record.h"

typedef struct ExploreTopic {
    const char *name;     // "finite-differences"
    const char *area;     // "calculus", "numerical stability", "probability", "information theory",
                          // "optimisation", "generalisation"
    const char *summary;  // one line
    int (*run)(int argc, char **argv);
} ExploreTopic;

// Parses a topic's options (tools/options.h); returns -1 to go on, else the exit status to
// return: 0 after --help, 2 after an error (already printed).
int explore_parse_options(int argc, char **argv, const char *usage, const Option *options, int n_options);

// Leaves the run record of a topic that trains something (tools/run_record.h), for `groundup
// report`: record holds the headline (metric, value, against, what was trained, on what data,
// the figure); this names it explore-<topic> (argv[0] is the topic), marks it an experiment and
// adds the command line and the wall seconds since started (clock_seconds()). A record that
// cannot be written is a warning on stderr, not a failure: the topic's results are printed.
void explore_record(int argc, char **argv, RunRecord *record, double started);

// tools/cmd_explore_calculus.c
int explore_run_finite_differences(int argc, char **argv);
int explore_run_jacobian_hessian(int argc, char **argv);
int explore_run_chain_rule(int argc, char **argv);

// tools/cmd_explore_stability.c
int explore_run_softmax_stability(int argc, char **argv);
int explore_run_variance_stability(int argc, char **argv);
int explore_run_summation(int argc, char **argv);
int explore_run_orthogonality(int argc, char **argv);
int explore_run_ill_conditioning(int argc, char **argv);

// probability (tools/cmd_explore_probability.c)
int explore_run_sampling(int argc, char **argv);
int explore_run_maximum_likelihood(int argc, char **argv);
int explore_run_bayes(int argc, char **argv);
int explore_run_central_limit(int argc, char **argv);
int explore_run_pca(int argc, char **argv);
int explore_run_naive_bayes(int argc, char **argv);

// information theory (tools/cmd_explore_information.c)
int explore_run_entropy(int argc, char **argv);
int explore_run_mutual_information(int argc, char **argv);
int explore_run_divergences(int argc, char **argv);
int explore_run_information_plane(int argc, char **argv);

// optimisation (tools/cmd_explore_training.c)
int explore_run_lr_range(int argc, char **argv);
int explore_run_schedules(int argc, char **argv);
int explore_run_warmup(int argc, char **argv);
int explore_run_clipping(int argc, char **argv);

// generalisation (tools/cmd_explore_generalisation.c)
int explore_run_l1_l2(int argc, char **argv);
int explore_run_early_stopping(int argc, char **argv);
int explore_run_dropout_ensemble(int argc, char **argv);
int explore_run_lottery_ticket(int argc, char **argv);
int explore_run_augmentation(int argc, char **argv);
int explore_run_loss_landscape(int argc, char **argv);

// optimisation and generalisation: second-order methods, bias-variance, double descent
// (tools/cmd_explore_second_order.c)
int explore_run_second_order(int argc, char **argv);
int explore_run_bias_variance(int argc, char **argv);
int explore_run_double_descent(int argc, char **argv);

#endif
