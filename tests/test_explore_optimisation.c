// The optimisation topics' qualitative claims (explore/optimisation.h), each on a small
// configuration: the range test's loss falls then blows up and its suggestion lies in the
// fall; every schedule learns and draws its own shape; at a high rate the run without warmup
// diverges or ends worse than the one with it; clipping keeps an exploding network's steps
// bounded and its loss finite where the unclipped run overflows.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore/optimisation.h"
#include "tests/check.h"

static void lr_range_falls_then_blows_up(void) {
    LrRangeSetup setup = {OPTIMIZER_ADAM, 1e-5f, 10.0f, 60, 3};
    LrRangeCurve *curve = calloc(1, sizeof *curve);
    REQUIRE(curve, "out of memory");
    Error error;
    REQUIRE(explore_lr_range_mlp("data/mnist", 2000, 32, &setup, curve, &error) == 0, "%s", error.message);
    int lowest = 0;
    for (int i = 1; i < curve->n; i++)
        if (curve->smoothed[i] < curve->smoothed[lowest]) lowest = i;
    CHECK(curve->smoothed[lowest] < 0.8f * curve->smoothed[0], "the loss falls: %g -> %g", curve->smoothed[0],
          curve->smoothed[lowest]);
    CHECK(curve->diverged && curve->n < setup.steps && curve->smoothed[curve->n - 1] > 2.0f * curve->smoothed[lowest],
          "then blows up before lr %g: stopped at step %d of %d at lr %g", setup.lr_end, curve->n, setup.steps,
          curve->lr[curve->n - 1]);
    CHECK(curve->steepest_lr > setup.lr_start && curve->steepest_lr <= curve->minimum_lr &&
              curve->minimum_lr < curve->lr[curve->n - 1],
          "the suggestion %g lies in the fall, below the minimum's lr %g", curve->steepest_lr, curve->minimum_lr);
    CHECK(curve->steepest_lr > 1e-4f && curve->steepest_lr < 1e-1f, "Adam's suggestion for the MLP %g is in [1e-4, 1e-1]",
          curve->steepest_lr);

    SmallGptSetup gpt = {"data/names.txt", 1, 2, 32, 16, 8};
    setup.steps = 40, setup.lr_start = 1e-4f;
    REQUIRE(explore_lr_range_gpt(&gpt, &setup, curve, &error) == 0, "%s", error.message);
    lowest = 0;
    for (int i = 1; i < curve->n; i++)
        if (curve->smoothed[i] < curve->smoothed[lowest]) lowest = i;
    CHECK(curve->smoothed[lowest] < 0.95f * curve->smoothed[0] && curve->diverged, "GPT-2: falls %g -> %g, then diverges (%d)",
          curve->smoothed[0], curve->smoothed[lowest], curve->diverged);
    SmallGptSetup bad = gpt;
    bad.text_path = "data/none.txt";
    CHECK(explore_lr_range_gpt(&bad, &setup, curve, &error) == -1 && strstr(error.message, "none.txt"), "%s", error.message);
    setup.lr_end = setup.lr_start;
    CHECK(explore_lr_range_mlp("data/mnist", 100, 8, &setup, curve, &error) == -1, "lr start = end accepted");
    free(curve);
}

static void schedules_learn_and_keep_their_shapes(void) {
    SchedulesSetup s = {.n_train = 2000, .n_test = 1000, .epochs = 2, .batch_size = 64, .optimizer = OPTIMIZER_MOMENTUM,
                        .lr = 0.3f, .min_lr = 0.0f, .gamma = 0.3f, .warmup_steps = 10, .seed = 2};
    const float peak = s.lr;  // high enough that the constant rate's noise keeps its loss up
    SchedulesResult *r = calloc(1, sizeof *r);
    REQUIRE(r, "out of memory");
    Error error;
    REQUIRE(explore_schedules("data/mnist", &s, r, &error) == 0, "%s", error.message);
    CHECK(r->n_runs == N_SCHEDULE_KINDS, "%d runs", r->n_runs);
    int n = 2 * 32;  // 2 epochs of ceil(2000 / 64) batches
    for (int k = 0; k < r->n_runs; k++) {
        const ScheduleRun *run = &r->runs[k];
        CHECK(run->n_steps == n, "%s: %d steps", schedule_kind_name(run->kind), run->n_steps);
        CHECK(run->test_accuracy > 0.8, "%s learns: test accuracy %g", schedule_kind_name(run->kind), run->test_accuracy);
    }
    const ScheduleRun *constant = &r->runs[SCHEDULE_CONSTANT], *step = &r->runs[SCHEDULE_STEP_DECAY];
    const ScheduleRun *cosine = &r->runs[SCHEDULE_COSINE], *cycle = &r->runs[SCHEDULE_ONE_CYCLE];
    const ScheduleRun *warm = &r->runs[SCHEDULE_WARMUP_COSINE];
    CHECK(constant->lr[0] == peak && constant->lr[n - 1] == peak, "constant");
    CHECK(step->lr[31] == peak && fabsf(step->lr[32] - 0.3f * peak) < 1e-6f, "step: x0.3 after the first epoch");
    CHECK(cosine->lr[0] == peak && cosine->lr[n - 1] < 0.01f * peak, "cosine from the peak to about 0: %g", cosine->lr[n - 1]);
    CHECK(fabsf(warm->lr[0] - 0.1f * peak) < 1e-6f && warm->lr[9] == peak, "warmup: lr (s+1)/10");
    CHECK(fabsf(cycle->lr[0] - peak / 25) < 1e-6f && cycle->lr[19] > 0.99f * peak && cycle->lr[n - 1] < 0.01f * peak,
          "one-cycle: from lr/25 up to the peak at 30%%, then down: %g %g %g", cycle->lr[0], cycle->lr[19], cycle->lr[n - 1]);
    // The schedules that anneal end lower than the constant rate on the same budget.
    fprintf(stderr, "last epoch's training loss: constant %.4f, step %.4f, cosine %.4f, warmup-cosine %.4f, one-cycle %.4f\n",
            constant->final_train_loss, step->final_train_loss, cosine->final_train_loss, warm->final_train_loss,
            cycle->final_train_loss);
    CHECK(cosine->final_train_loss < constant->final_train_loss && cycle->final_train_loss < constant->final_train_loss,
          "annealing ends lower: constant %g, cosine %g, one-cycle %g", constant->final_train_loss, cosine->final_train_loss,
          cycle->final_train_loss);
    free(r);
}

// Without warmup Adam's first steps at a high rate move every weight by about the rate at
// once: the loss jumps far above where it started before the run recovers (or not). With a
// warmup the same peak rate is reached gently and the loss never rises above its start.
static void warmup_keeps_a_high_rate_stable(void) {
    WarmupSetup s = {.gpt = {"data/names.txt", 2, 2, 32, 32, 8}, .n_lrs = 1, .lrs = {0.3f}, .steps = 80,
                     .warmup_steps = 20, .seed = 1};
    WarmupResult *r = calloc(1, sizeof *r);
    REQUIRE(r, "out of memory");
    Error error;
    REQUIRE(explore_warmup(&s, r, &error) == 0, "%s", error.message);
    REQUIRE(r->n_runs == 2 && r->runs[0].warmup && !r->runs[1].warmup, "with, then without warmup");
    const WarmupRun *with = &r->runs[0], *without = &r->runs[1];
    CHECK(!with->diverged && isfinite(with->val_loss) && with->final_loss < with->initial_loss,
          "with warmup the run learns: %g -> %g", with->initial_loss, with->final_loss);
    CHECK(with->peak_loss <= with->initial_loss, "with warmup the loss never rises above its start %g: %g",
          with->initial_loss, with->peak_loss);
    CHECK(without->nan_step > 0 || without->peak_loss > 1.5f * without->initial_loss,
          "without warmup the loss spikes above 1.5x its start %g: %g", without->initial_loss, without->peak_loss);
    s.warmup_steps = s.steps;
    CHECK(explore_warmup(&s, r, &error) == -1 && strstr(error.message, "warmup"), "%s", error.message);
    free(r);
}

static void clipping_bounds_an_exploding_network(void) {
    ClippingSetup s = {.n_train = 1000, .depth = 8, .width = 32, .gain = 1.5f, .lr = 0.1f, .max_norm = 1.0f,
                       .max_value = 0.01f, .steps = 40, .batch_size = 32, .seed = 1};
    ClippingResult *r = calloc(1, sizeof *r);
    REQUIRE(r, "out of memory");
    Error error;
    REQUIRE(explore_clipping("data/mnist", &s, r, &error) == 0, "%s", error.message);
    const ClippingRun *none = &r->runs[CLIP_NONE], *norm = &r->runs[CLIP_NORM], *value = &r->runs[CLIP_VALUE];
    CHECK(r->initial_grad_norm > 10.0f, "the network starts exploding: gradient norm %g", r->initial_grad_norm);
    CHECK(none->nan_step > 0 && none->nan_step < s.steps, "without clipping the loss overflows (step %d)", none->nan_step);
    for (int m = CLIP_NORM; m <= CLIP_VALUE; m++) {
        const ClippingRun *run = &r->runs[m];
        CHECK(run->nan_step == 0 && run->n_steps == s.steps && isfinite(run->final_loss),
              "%s: every step finite (NaN at %d)", clipping_mode_name(m), run->nan_step);
        for (int i = 0; i < run->n_steps; i++)
            if (!isfinite(run->loss[i]) || !isfinite(run->grad_norm[i])) {
                CHECK(0, "%s: step %d not finite", clipping_mode_name(m), i + 1);
                break;
            }
        CHECK(run->final_loss < run->loss[0], "%s: the loss falls %g -> %g", clipping_mode_name(m), run->loss[0],
              run->final_loss);
    }
    CHECK(norm->max_step_norm <= s.lr * s.max_norm * 1.0001f, "by norm: every step at most lr·max_norm: %g",
          norm->max_step_norm);
    float bound = s.lr * s.max_value * sqrtf((float)r->parameters);
    CHECK(value->max_step_norm <= bound, "by value: every step at most lr·v·sqrt(n) = %g: %g", bound, value->max_step_norm);
    CHECK(none->max_step_norm > 100.0f * norm->max_step_norm, "the unclipped steps were far larger: %g", none->max_step_norm);
    s.depth = 0;
    CHECK(explore_clipping("data/mnist", &s, r, &error) == -1 && strstr(error.message, "depth"), "%s", error.message);
    free(r);
}

static const CheckCase CASES[] = {
    {"lr-range: the loss falls then blows up", lr_range_falls_then_blows_up},
    {"schedules: each learns and keeps its shape", schedules_learn_and_keep_their_shapes},
    {"warmup keeps a high rate stable", warmup_keeps_a_high_rate_stable},
    {"clipping bounds an exploding network", clipping_bounds_an_exploding_network},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
