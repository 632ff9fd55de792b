// optimizer_choose_lr: the grid search behind `groundup optimizers`. On the quadratic
// (condition 100) plain SGD converges only below lr 2/λ_max = 0.02: the search must pick the
// grid's largest stable rate, its curve must be the chosen run's, and the comparison of
// runs must follow its rule (fewer steps to tolerance, else the lower finite final loss).
#include <math.h>
#include <stdlib.h>

#include "foundations/optimizer_problems.h"
#include "tests/check.h"

static void runs_compare_by_their_rule(void) {
    OptimizerRun reached_10 = {10, 1e-9}, reached_20 = {20, 1e-9}, never_low = {-1, 1e-3}, never_high = {-1, 1.0},
                 diverged = {-1, NAN};
    CHECK(optimizer_run_is_better(&reached_10, &reached_20) && !optimizer_run_is_better(&reached_20, &reached_10),
          "fewer steps wins");
    CHECK(optimizer_run_is_better(&reached_20, &never_low) && !optimizer_run_is_better(&never_low, &reached_20),
          "reaching the tolerance wins");
    CHECK(optimizer_run_is_better(&never_low, &never_high) && optimizer_run_is_better(&never_high, &diverged) &&
              !optimizer_run_is_better(&diverged, &never_high),
          "then the lower finite loss");
}

static void sgd_on_the_quadratic_picks_the_largest_stable_rate(void) {
    Error error;
    OptimizerProblem quadratic;
    REQUIRE(optimizer_problem_quadratic(&quadratic, 10, 100.0, 1, &error) == 0, "%s", error.message);
    OptimizerConfig sgd = optimizer_default_config(OPTIMIZER_SGD);
    const float grid[5] = {0.001f, 0.005f, 0.015f, 0.03f, 0.1f};
    enum { STEPS = 2000 };
    double *losses = malloc(sizeof(double) * (STEPS + 1));
    REQUIRE(losses, "out of memory");
    OptimizerChoice choice;
    CHECK(optimizer_choose_lr(&quadratic, &sgd, grid, 5, STEPS, 1e-6, losses, &choice, &error) == 0, "%s", error.message);
    CHECK(choice.lr == 0.015f, "chose lr %g, expected 0.015 (the largest below 2/100)", choice.lr);
    CHECK(choice.run.steps_to_tolerance > 0, "the choice reaches the tolerance");
    CHECK(losses[STEPS] == choice.run.final_loss, "the curve is the chosen run's");
    CHECK(choice.finder_lr > 0.0f && isfinite(choice.finder_lr), "the LR finder suggests a rate: %g", choice.finder_lr);
    CHECK(optimizer_choose_lr(&quadratic, &sgd, grid, 0, STEPS, 1e-6, NULL, &choice, &error) != 0, "an empty grid is an error");
    free(losses);
    optimizer_problem_free(&quadratic);
}

static const CheckCase CASES[] = {
    {"runs compare by their rule", runs_compare_by_their_rule},
    {"SGD on the quadratic picks the largest stable rate", sgd_on_the_quadratic_picks_the_largest_stable_rate},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }

