// Optimizers: one hand-computed update per kind (in double, from the formulas), convergence
// on a convex quadratic and on Rosenbrock within stated step counts, gradient clipping,
// schedules at their key steps, the LR range test, the test problems' gradients.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/optimizer.h"
#include "foundations/optimizer_problems.h"
#include "foundations/random.h"
#include "tests/check.h"

// ---------------------------------------------------------------------------------------
// Reference updates in double, written from the textbook formulas, for a few steps.

typedef struct Reference {
    double p[8], m[8], v[8];
    long t;
} Reference;

static void reference_step(Reference *r, const OptimizerConfig *c, const double *g_raw, int n, double lr) {
    r->t++;
    for (int i = 0; i < n; i++) {
        double p = r->p[i], wd = c->weight_decay;
        double g = c->kind == OPTIMIZER_ADAMW ? g_raw[i] : g_raw[i] + wd * p;
        switch (c->kind) {
        case OPTIMIZER_SGD: r->p[i] = p - lr * g; break;
        case OPTIMIZER_MOMENTUM:
            r->m[i] = c->momentum * r->m[i] + g;
            r->p[i] = p - lr * r->m[i];
            break;
        case OPTIMIZER_NESTEROV:
            r->m[i] = c->momentum * r->m[i] + g;
            r->p[i] = p - lr * (g + c->momentum * r->m[i]);
            break;
        case OPTIMIZER_RMSPROP:
            r->v[i] = c->rms_decay * r->v[i] + (1 - c->rms_decay) * g * g;
            r->p[i] = p - lr * g / (sqrt(r->v[i]) + c->eps);
            break;
        case OPTIMIZER_ADAM:
        case OPTIMIZER_ADAMW: {
            r->m[i] = c->beta1 * r->m[i] + (1 - c->beta1) * g;
            r->v[i] = c->beta2 * r->v[i] + (1 - c->beta2) * g * g;
            double m_hat = r->m[i] / (1 - pow(c->beta1, (double)r->t));
            double v_hat = r->v[i] / (1 - pow(c->beta2, (double)r->t));
            double update = m_hat / (sqrt(v_hat) + c->eps);
            if (c->kind == OPTIMIZER_ADAMW) update += wd * p;
            r->p[i] = p - lr * update;
            break;
        }
        }
    }
}

static void test_hand_computed_steps(void) {
    const int n = 4;
    const float start[4] = {0.5f, -1.0f, 2.0f, 0.0f};
    // Three steps with different gradients, so momentum and bias correction matter.
    const double gradients[3][4] = {{0.1, -0.2, 0.3, 0.0}, {-0.05, 0.4, 0.1, 1e-3}, {0.2, 0.2, -0.6, -2.0}};
    for (int k = 0; k < N_OPTIMIZER_KINDS; k++) {
        OptimizerConfig config = optimizer_default_config((OptimizerKind)k);
        config.weight_decay = 0.1f;
        config.eps = 1e-3f;  // large enough to matter in the comparison
        Optimizer optimizer;
        Error error;
        REQUIRE(optimizer_init(&optimizer, &config, n, &error) == 0, "init %s: %s", optimizer_kind_name((OptimizerKind)k), error.message);
        float params[4];
        memcpy(params, start, sizeof params);
        Reference reference = {0};
        for (int i = 0; i < n; i++) reference.p[i] = start[i];
        for (int s = 0; s < 3; s++) {
            float grads[4];
            for (int i = 0; i < n; i++) grads[i] = (float)gradients[s][i];
            double g[4];
            for (int i = 0; i < n; i++) g[i] = grads[i];
            optimizer_step(&optimizer, params, grads, n, 0.05f);
            reference_step(&reference, &config, g, n, 0.05);
        }
        for (int i = 0; i < n; i++) CHECK_NEAR(params[i], reference.p[i], 2e-6);
        CHECK(optimizer.step == 3, "%s: step counter %ld", optimizer_kind_name((OptimizerKind)k), optimizer.step);
        optimizer_free(&optimizer);
    }
}

// AdamW with llm.c's hyper-parameters, one step worked out by hand: at t = 1 the bias
// corrections make m̂ = g and v̂ = g², so the step is p -= lr (g/(|g| + eps) + wd p).
static void test_adamw_first_step_by_hand(void) {
    OptimizerConfig config = optimizer_default_config(OPTIMIZER_ADAMW);
    config.weight_decay = 0.1f;
    Optimizer optimizer;
    Error error;
    REQUIRE(optimizer_init(&optimizer, &config, 2, &error) == 0, "%s", error.message);
    float params[2] = {1.0f, -2.0f}, grads[2] = {0.5f, -0.25f};
    optimizer_step(&optimizer, params, grads, 2, 1e-2f);
    // p0: 1 - 0.01 (1 + 0.1) = 0.989;  p1: -2 - 0.01 (-1 - 0.2) = -1.988 (eps negligible)
    CHECK_NEAR(params[0], 0.989, 1e-6);
    CHECK_NEAR(params[1], -1.988, 1e-6);
    // The state a checkpoint saves: m = (1-b1) g, v = (1-b2) g².
    CHECK_NEAR(optimizer.m[0], 0.1 * 0.5, 1e-7);
    CHECK_NEAR(optimizer.v[1], 0.001 * 0.0625, 1e-9);
    // Restoring {step, m, v} into a fresh optimizer continues identically.
    Optimizer restored;
    REQUIRE(optimizer_init(&restored, &config, 2, &error) == 0, "%s", error.message);
    restored.step = optimizer.step;
    memcpy(restored.m, optimizer.m, 2 * sizeof(float));
    memcpy(restored.v, optimizer.v, 2 * sizeof(float));
    float copy[2] = {params[0], params[1]};
    optimizer_step(&optimizer, params, grads, 2, 1e-2f);
    optimizer_step(&restored, copy, grads, 2, 1e-2f);
    CHECK(params[0] == copy[0] && params[1] == copy[1], "restored state diverges: %g vs %g", params[0], copy[0]);
    optimizer_free(&optimizer);
    optimizer_free(&restored);
}

// Large n takes the OpenMP path; every element must still follow the formula.
static void test_parallel_adamw(void) {
    const long n = 200000;
    float *params = malloc(n * sizeof(float)), *grads = malloc(n * sizeof(float));
    Random rng;
    random_seed(&rng, 3);
    random_fill_normal(&rng, params, n, 0.0f, 1.0f);
    random_fill_normal(&rng, grads, n, 0.0f, 1.0f);
    OptimizerConfig config = optimizer_default_config(OPTIMIZER_ADAMW);
    config.weight_decay = 0.1f;
    Optimizer optimizer;
    Error error;
    REQUIRE(optimizer_init(&optimizer, &config, n, &error) == 0, "%s", error.message);
    float *before = malloc(n * sizeof(float));
    memcpy(before, params, n * sizeof(float));
    optimizer_step(&optimizer, params, grads, n, 1e-3f);
    int bad = 0;
    for (long i = 0; i < n; i++) {
        double g = grads[i];
        double expected = before[i] - 1e-3 * (g / (fabs(g) + 1e-8) + 0.1 * before[i]);
        if (fabs(params[i] - expected) > 1e-6) bad++;
    }
    CHECK(bad == 0, "%d of %ld elements differ from the formula", bad, n);
    optimizer_free(&optimizer);
    free(params);
    free(grads);
    free(before);
}

// ---------------------------------------------------------------------------------------
// Convergence, with the objectives written here (independent of optimizer_problems.c).

static double diagonal_quadratic(const float *x, float *grads) {
    static const double curvature[5] = {1, 2, 4, 7, 10};  // condition number 10
    double loss = 0.0;
    for (int i = 0; i < 5; i++) {
        grads[i] = (float)(curvature[i] * x[i]);
        loss += 0.5 * curvature[i] * x[i] * x[i];
    }
    return loss;
}

static double rosenbrock_here(const float *x, float *grads) {
    double a = x[0], b = x[1];
    grads[0] = (float)(-2 * (1 - a) - 400 * a * (b - a * a));
    grads[1] = (float)(200 * (b - a * a));
    return (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a);
}

typedef struct Expectation {
    OptimizerKind kind;
    Schedule schedule;  // constant for most; RMSprop's steps do not shrink on their own
    int max_steps;      // stated bound: the loss must reach the tolerance within this many steps
} Expectation;

// Steps until loss <= tolerance (or -1), leaving the final point in x.
static int steps_to_converge(OptimizerKind kind, const Schedule *schedule, int limit, int rosenbrock, float *x, double tolerance) {
    int n = rosenbrock ? 2 : 5;
    OptimizerConfig config = optimizer_default_config(kind);
    Optimizer optimizer;
    Error error;
    if (optimizer_init(&optimizer, &config, n, &error)) return -1;
    float grads[5];
    int result = -1;
    for (int step = 0; step <= limit; step++) {
        double loss = rosenbrock ? rosenbrock_here(x, grads) : diagonal_quadratic(x, grads);
        if (!isfinite(loss)) break;
        if (loss <= tolerance) {
            result = step;
            break;
        }
        optimizer_step(&optimizer, x, grads, n, schedule_lr(schedule, step));
    }
    optimizer_free(&optimizer);
    return result;
}

#define CONSTANT(lr) {.kind = SCHEDULE_CONSTANT, .base_lr = (lr)}

static void test_convergence(void) {
    // Stated bounds, about 1.5x the measured step counts (in the comments). The quadratic
    // starts at an uneven point so that no step size lands on the minimum by coincidence.
    const Expectation quadratic[] = {
        {OPTIMIZER_SGD, CONSTANT(0.15f), 85},        // measured 55
        {OPTIMIZER_MOMENTUM, CONSTANT(0.01f), 270},  // measured 180
        {OPTIMIZER_NESTEROV, CONSTANT(0.05f), 140},  // measured 93
        {OPTIMIZER_RMSPROP, CONSTANT(0.01f), 260},   // measured 173
        {OPTIMIZER_ADAM, CONSTANT(0.05f), 270},      // measured 180
        {OPTIMIZER_ADAMW, CONSTANT(0.05f), 270},     // weight decay 0: the same as Adam
    };
    // RMSprop's step is about lr per coordinate whatever the gradient, so at a constant lr
    // it hovers around the minimum; it converges with the step decay schedule.
    const Expectation rosenbrock[] = {
        {OPTIMIZER_SGD, CONSTANT(0.002f), 16000},    // measured 10507
        {OPTIMIZER_MOMENTUM, CONSTANT(0.003f), 930}, // measured 617
        {OPTIMIZER_NESTEROV, CONSTANT(0.001f), 3000}, // measured 1981
        {OPTIMIZER_RMSPROP, {.kind = SCHEDULE_STEP_DECAY, .base_lr = 1e-2f, .step_size = 500, .gamma = 0.5f}, 12300}, // measured 8167
        {OPTIMIZER_ADAM, CONSTANT(0.1f), 2050},       // measured 1358
        {OPTIMIZER_ADAMW, CONSTANT(0.1f), 2050},      // the same as Adam
    };
    for (int k = 0; k < N_OPTIMIZER_KINDS; k++) {
        float x[5] = {1.0f, -0.6f, 0.8f, 0.3f, -0.9f};
        int steps = steps_to_converge(quadratic[k].kind, &quadratic[k].schedule, quadratic[k].max_steps, 0, x, 1e-8);
        fprintf(stderr, "quadratic  %-9s: %d steps\n", optimizer_kind_name(quadratic[k].kind), steps);
        CHECK(steps >= 0 && steps <= quadratic[k].max_steps, "%s on the quadratic: %d steps, bound %d",
              optimizer_kind_name(quadratic[k].kind), steps, quadratic[k].max_steps);
        for (int i = 0; i < 5; i++) CHECK_NEAR(x[i], 0.0, 2e-4);  // ½ λ x² <= 1e-8 with λ >= 1

        float r[2] = {-1.2f, 1.0f};
        steps = steps_to_converge(rosenbrock[k].kind, &rosenbrock[k].schedule, rosenbrock[k].max_steps, 1, r, 1e-8);
        fprintf(stderr, "rosenbrock %-9s: %d steps\n", optimizer_kind_name(rosenbrock[k].kind), steps);
        CHECK(steps >= 0 && steps <= rosenbrock[k].max_steps, "%s on Rosenbrock: %d steps, bound %d",
              optimizer_kind_name(rosenbrock[k].kind), steps, rosenbrock[k].max_steps);
        CHECK_NEAR(r[0], 1.0, 1e-3);
        CHECK_NEAR(r[1], 1.0, 2e-3);
    }
}

// ---------------------------------------------------------------------------------------
// Clipping

static void test_clipping(void) {
    float grads[100], original[100];
    Random rng;
    random_seed(&rng, 11);
    random_fill_normal(&rng, grads, 100, 0.0f, 1.0f);
    memcpy(original, grads, sizeof grads);
    double norm = 0.0;
    for (int i = 0; i < 100; i++) norm += (double)grads[i] * grads[i];
    norm = sqrt(norm);  // about 10

    float returned = gradient_clip_global_norm(grads, 100, 2.0f);
    CHECK_NEAR(returned, norm, 1e-4);
    double after = 0.0;
    for (int i = 0; i < 100; i++) after += (double)grads[i] * grads[i];
    CHECK_NEAR(sqrt(after), 2.0, 1e-5);
    for (int i = 0; i < 100; i++) CHECK_NEAR(grads[i], original[i] * 2.0 / norm, 1e-6);  // same direction

    // Below the limit nothing changes.
    memcpy(grads, original, sizeof grads);
    returned = gradient_clip_global_norm(grads, 100, 1000.0f);
    CHECK_NEAR(returned, norm, 1e-4);
    CHECK(memcmp(grads, original, sizeof grads) == 0, "gradients changed below the limit");
    // All-zero gradients stay zero (no division by zero).
    float zeros[3] = {0, 0, 0};
    CHECK(gradient_clip_global_norm(zeros, 3, 1.0f) == 0.0f && zeros[0] == 0.0f, "zero gradients");
}

// ---------------------------------------------------------------------------------------
// Schedules

static void test_schedules(void) {
    Error error;
    Schedule constant = {.kind = SCHEDULE_CONSTANT, .base_lr = 3e-4f};
    CHECK(schedule_check(&constant, &error) == 0, "%s", error.message);
    CHECK(schedule_lr(&constant, 0) == 3e-4f && schedule_lr(&constant, 123456) == 3e-4f, "constant");

    Schedule decay = {.kind = SCHEDULE_STEP_DECAY, .base_lr = 1.0f, .step_size = 10, .gamma = 0.5f};
    CHECK(schedule_check(&decay, &error) == 0, "%s", error.message);
    CHECK_NEAR(schedule_lr(&decay, 0), 1.0, 0);
    CHECK_NEAR(schedule_lr(&decay, 9), 1.0, 0);
    CHECK_NEAR(schedule_lr(&decay, 10), 0.5, 0);
    CHECK_NEAR(schedule_lr(&decay, 29), 0.25, 0);
    CHECK_NEAR(schedule_lr(&decay, 30), 0.125, 0);

    Schedule cosine = {.kind = SCHEDULE_WARMUP_COSINE, .base_lr = 6e-4f, .warmup_steps = 100, .total_steps = 1100, .min_lr = 6e-5f};
    CHECK(schedule_check(&cosine, &error) == 0, "%s", error.message);
    CHECK_NEAR(schedule_lr(&cosine, 0), 6e-4 / 100, 1e-10);      // first warmup step
    CHECK_NEAR(schedule_lr(&cosine, 49), 6e-4 * 50 / 100, 1e-10); // linear
    CHECK_NEAR(schedule_lr(&cosine, 99), 6e-4, 1e-10);            // end of warmup
    CHECK_NEAR(schedule_lr(&cosine, 100), 6e-4, 1e-10);           // cosine starts at the top
    CHECK_NEAR(schedule_lr(&cosine, 600), (6e-4 + 6e-5) / 2, 1e-9); // halfway: cos(π/2) = 0
    CHECK_NEAR(schedule_lr(&cosine, 350), 6e-5 + (6e-4 - 6e-5) * 0.5 * (1 + cos(acos(-1.0) / 4)), 1e-9);
    CHECK_NEAR(schedule_lr(&cosine, 1100), 6e-5, 1e-10);
    CHECK_NEAR(schedule_lr(&cosine, 5000), 6e-5, 1e-10);
    for (long s = 100; s < 1100; s++)
        if (schedule_lr(&cosine, s + 1) > schedule_lr(&cosine, s)) {
            CHECK(0, "cosine increases at step %ld", s);
            break;
        }

    Schedule bad = cosine;
    bad.warmup_steps = 2000;
    CHECK(schedule_check(&bad, &error) == -1 && strstr(error.message, "warmup"), "warmup >= total accepted");
    bad = decay;
    bad.step_size = 0;
    CHECK(schedule_check(&bad, &error) == -1, "step_size 0 accepted");
    bad = constant;
    bad.base_lr = -1.0f;
    CHECK(schedule_check(&bad, &error) == -1, "negative lr accepted");
}

// ---------------------------------------------------------------------------------------
// LR range test on f(x) = ½ a x² with SGD: a step multiplies x by (1 - lr a), so the loss
// falls fastest near lr = 1/a and diverges beyond lr = 2/a.

static double parabola(void *context, const float *params, float *grads, long n) {
    double a = *(const double *)context;
    double loss = 0.0;
    for (long i = 0; i < n; i++) {
        grads[i] = (float)(a * params[i]);
        loss += 0.5 * a * params[i] * params[i];
    }
    return loss;
}

static void test_lr_finder(void) {
    double curvature = 4.0;  // diverges above lr = 0.5
    float params[3] = {1.0f, -2.0f, 0.5f};
    OptimizerConfig sgd = optimizer_default_config(OPTIMIZER_SGD);
    LrFinderConfig config = {.lr_start = 1e-4f, .lr_end = 100.0f, .n_steps = 120, .divergence_factor = 4.0f, .smoothing = 0.5f};
    LrFinderResult result;
    Error error;
    CHECK(lr_finder(&sgd, &config, params, 3, parabola, &curvature, &result, &error) == 0, "%s", error.message);
    CHECK(result.diverged == 1, "did not detect divergence");
    CHECK(result.n_recorded < 120, "ran all %d steps", result.n_recorded);
    CHECK(result.lrs[result.n_recorded - 1] > 0.5f, "stopped at lr %g, before the divergence at 0.5", result.lrs[result.n_recorded - 1]);
    CHECK(result.steepest_lr > 1e-3f && result.steepest_lr <= 0.5f, "steepest lr %g", result.steepest_lr);
    // On an exact parabola the loss reaches ~0 at lr = 1/a and the smoothed minimum comes
    // late, past the divergence point; it still lies between the steepest lr and the stop.
    CHECK(result.minimum_lr >= result.steepest_lr && result.minimum_lr <= result.lrs[result.n_recorded - 1], "minimum lr %g",
          result.minimum_lr);
    CHECK_NEAR(result.lrs[0], 1e-4, 1e-10);
    CHECK_NEAR(result.losses[0], 0.5 * 4.0 * (1 + 4 + 0.25), 1e-9);
    CHECK(params[0] == 1.0f && params[1] == -2.0f, "lr_finder modified the parameters");
    lr_finder_result_free(&result);

    LrFinderConfig bad = config;
    bad.lr_end = bad.lr_start;
    CHECK(lr_finder(&sgd, &bad, params, 3, parabola, &curvature, &result, &error) == -1, "lr_end = lr_start accepted");
    bad = config;
    bad.n_steps = 2;
    CHECK(lr_finder(&sgd, &bad, params, 3, parabola, &curvature, &result, &error) == -1, "2 steps accepted");
}

// ---------------------------------------------------------------------------------------
// Configuration errors and names.

static void test_config_errors(void) {
    Optimizer optimizer;
    Error error;
    OptimizerConfig config = optimizer_default_config(OPTIMIZER_ADAM);
    config.beta2 = 1.0f;
    CHECK(optimizer_init(&optimizer, &config, 10, &error) == -1 && strstr(error.message, "beta2"), "beta2 = 1 accepted");
    config = optimizer_default_config(OPTIMIZER_SGD);
    CHECK(optimizer_init(&optimizer, &config, 0, &error) == -1, "n = 0 accepted");
    config.weight_decay = -1.0f;
    CHECK(optimizer_init(&optimizer, &config, 5, &error) == -1, "negative weight decay accepted");
    for (int k = 0; k < N_OPTIMIZER_KINDS; k++) {
        OptimizerKind parsed;
        CHECK(optimizer_kind_parse(optimizer_kind_name((OptimizerKind)k), &parsed, &error) == 0 && (int)parsed == k, "round trip %d", k);
    }
    OptimizerKind parsed;
    CHECK(optimizer_kind_parse("adagrad", &parsed, &error) == -1 && strstr(error.message, "adagrad"), "unknown name accepted");
    // SGD needs no state; AdamW needs both buffers.
    config = optimizer_default_config(OPTIMIZER_SGD);
    CHECK(optimizer_init(&optimizer, &config, 5, &error) == 0 && !optimizer.m && !optimizer.v, "sgd state");
    optimizer_free(&optimizer);
    config = optimizer_default_config(OPTIMIZER_ADAMW);
    CHECK(optimizer_init(&optimizer, &config, 5, &error) == 0 && optimizer.m && optimizer.v, "adamw state");
    optimizer.m[0] = 1.0f;
    optimizer.step = 7;
    optimizer_reset(&optimizer);
    CHECK(optimizer.m[0] == 0.0f && optimizer.step == 0, "reset");
    optimizer_free(&optimizer);
}

// ---------------------------------------------------------------------------------------
// The demo's problems: gradients against central differences (in double), minima.

static void check_gradient(const OptimizerProblem *problem, const float *at) {
    long n = problem->n;
    float *x = malloc(n * sizeof(float)), *grads = malloc(n * sizeof(float)), *scratch = malloc(n * sizeof(float));
    memcpy(x, at, n * sizeof(float));
    problem->loss_and_gradient(problem->context, x, grads, n);
    for (long i = 0; i < n; i++) {
        float saved = x[i], h = 1e-2f;  // float parameters: a wide step, exact for quadratics
        x[i] = saved + h;
        double up = problem->loss_and_gradient(problem->context, x, scratch, n);
        x[i] = saved - h;
        double down = problem->loss_and_gradient(problem->context, x, scratch, n);
        x[i] = saved;
        double numeric = (up - down) / (2.0 * h);
        CHECK(fabs(numeric - grads[i]) <= 2e-3 * (1.0 + fabs(numeric)), "%s: d/dx%ld analytic %g numeric %g", problem->name, i,
              grads[i], numeric);
    }
    free(x);
    free(grads);
    free(scratch);
}

static void test_problems(void) {
    Error error;
    OptimizerProblem problems[3];
    REQUIRE(optimizer_problem_rosenbrock(&problems[0], &error) == 0, "%s", error.message);
    REQUIRE(optimizer_problem_quadratic(&problems[1], 6, 50.0, 5, &error) == 0, "%s", error.message);
    REQUIRE(optimizer_problem_logistic(&problems[2], 300, 4, 9, &error) == 0, "%s", error.message);
    float point[8] = {0.3f, -0.7f, 0.2f, 1.1f, -0.4f, 0.9f, 0.1f, 0.0f};
    for (int p = 0; p < 3; p++) {
        check_gradient(&problems[p], problems[p].start);
        check_gradient(&problems[p], point);
    }
    // Rosenbrock's minimum value is exactly 0 at (1, 1).
    float one[2] = {1, 1}, grads[8];
    CHECK(problems[0].loss_and_gradient(NULL, one, grads, 2) == 0.0 && grads[0] == 0.0f, "rosenbrock at (1, 1)");
    // The quadratic's Hessian has eigenvalues in [1, 50]: along start, f = ½ xᵀAx is within those bounds.
    double at_start = problems[1].loss_and_gradient(problems[1].context, problems[1].start, grads, 6);
    CHECK(at_start >= 0.5 * 6 * 1.0 - 1e-9 && at_start <= 0.5 * 6 * 50.0 + 1e-9, "quadratic at start %g", at_start);

    // No optimizer gets below the logistic minimum found by Newton, and a long run reaches it.
    OptimizerConfig config = optimizer_default_config(OPTIMIZER_NESTEROV);
    double losses[3001];
    OptimizerRun run;
    CHECK(optimizer_run(&problems[2], &config, 1.0f, 3000, 1e-9, losses, &run, &error) == 0, "%s", error.message);
    double lowest = INFINITY;
    for (int i = 0; i <= 3000; i++) lowest = fmin(lowest, losses[i]);
    CHECK(lowest >= problems[2].loss_minimum - 1e-9, "run went below the minimum: %.12g < %.12g", lowest, problems[2].loss_minimum);
    CHECK(run.steps_to_tolerance >= 0 && run.final_loss - problems[2].loss_minimum <= 1e-9, "logistic not reached: %g",
          run.final_loss - problems[2].loss_minimum);
    CHECK(losses[0] == problems[2].loss_and_gradient(problems[2].context, problems[2].start, grads, 5), "losses[0] is the start");
    // steps_to_tolerance means "stays below from there": consistent with the recorded curve.
    for (int i = run.steps_to_tolerance; i <= 3000; i++)
        if (losses[i] - problems[2].loss_minimum > 1e-9) {
            CHECK(0, "loss above tolerance at step %d after steps_to_tolerance %d", i, run.steps_to_tolerance);
            break;
        }
    if (run.steps_to_tolerance > 0)
        CHECK(losses[run.steps_to_tolerance - 1] - problems[2].loss_minimum > 1e-9, "steps_to_tolerance not the first");

    // A diverging run (SGD far above 2/λmax) reports no convergence and a non-finite loss.
    config = optimizer_default_config(OPTIMIZER_SGD);
    CHECK(optimizer_run(&problems[1], &config, 10.0f, 500, 1e-6, NULL, &run, &error) == 0, "%s", error.message);
    CHECK(run.steps_to_tolerance == -1 && !isfinite(run.final_loss), "divergence: steps %d loss %g", run.steps_to_tolerance,
          run.final_loss);

    for (int p = 0; p < 3; p++) optimizer_problem_free(&problems[p]);
    OptimizerProblem rejected;
    CHECK(optimizer_problem_quadratic(&rejected, 1, 10.0, 1, &error) == -1, "dim 1 accepted");
    CHECK(optimizer_problem_logistic(&rejected, 0, 3, 1, &error) == -1, "0 samples accepted");
}

// Plain cosine is warmup+cosine with no warmup; one-cycle rises from base/25 to base along a
// half cosine over W steps, then falls as the cosine; names parse both ways.
static void test_cosine_and_one_cycle(void) {
    Error error;
    const double pi = acos(-1.0);
    Schedule cosine = {.kind = SCHEDULE_COSINE, .base_lr = 1e-2f, .warmup_steps = 123, .total_steps = 200, .min_lr = 1e-3f};
    CHECK(schedule_check(&cosine, &error) == 0, "%s", error.message);
    Schedule no_warmup = cosine;
    no_warmup.kind = SCHEDULE_WARMUP_COSINE, no_warmup.warmup_steps = 0;
    for (long step = 0; step <= 220; step += 11)
        CHECK(schedule_lr(&cosine, step) == schedule_lr(&no_warmup, step), "step %ld: cosine %g, warmup-cosine(0) %g", step,
              (double)schedule_lr(&cosine, step), (double)schedule_lr(&no_warmup, step));
    CHECK_NEAR(schedule_lr(&cosine, 0), 1e-2, 1e-9);
    CHECK_NEAR(schedule_lr(&cosine, 100), 5.5e-3, 1e-9);  // half way
    CHECK_NEAR(schedule_lr(&cosine, 50), 1e-3 + 9e-3 * 0.5 * (1 + cos(pi / 4)), 1e-9);
    CHECK_NEAR(schedule_lr(&cosine, 200), 1e-3, 1e-9);
    CHECK_NEAR(schedule_lr_at(&cosine, 7, 0.5), 5.5e-3, 1e-9);  // over a time budget: the progress

    Schedule cycle = {.kind = SCHEDULE_ONE_CYCLE, .base_lr = 1.0f, .warmup_steps = 30, .total_steps = 100, .min_lr = 1e-4f};
    CHECK(schedule_check(&cycle, &error) == 0, "%s", error.message);
    CHECK_NEAR(schedule_lr(&cycle, 0), 1.0 / 25, 1e-7);  // starts at base / 25
    CHECK_NEAR(schedule_lr(&cycle, 15), 0.04 + 0.96 * 0.5, 1e-6);  // half the rise: the middle
    CHECK_NEAR(schedule_lr(&cycle, 10), 0.04 + 0.96 * 0.5 * (1 - cos(pi / 3)), 1e-6);
    CHECK_NEAR(schedule_lr(&cycle, 30), 1.0, 1e-7);  // the peak
    CHECK_NEAR(schedule_lr(&cycle, 65), 1e-4 + (1 - 1e-4) * 0.5, 1e-6);  // half the fall
    CHECK_NEAR(schedule_lr(&cycle, 100), 1e-4, 1e-9);
    CHECK_NEAR(schedule_lr(&cycle, 1000), 1e-4, 1e-9);
    for (long step = 0; step < 100; step++) {
        float now = schedule_lr(&cycle, step), next = schedule_lr(&cycle, step + 1);
        if (step < 30 ? next < now : next > now) {
            CHECK(0, "one-cycle not up then down at step %ld: %g -> %g", step, (double)now, (double)next);
            break;
        }
    }
    Schedule flat = cycle;
    flat.warmup_steps = 0;
    CHECK(schedule_check(&flat, &error) == -1 && strstr(error.message, "one-cycle"), "one-cycle without a rise: %s",
          error.message);

    static const char *const names[] = {"constant", "step", "warmup-cosine", "cosine", "one-cycle"};
    for (int k = 0; k < N_SCHEDULE_KINDS; k++) {
        ScheduleKind kind = SCHEDULE_CONSTANT;
        CHECK(schedule_kind_parse(names[k], &kind, &error) == 0 && (int)kind == k && !strcmp(schedule_kind_name(kind), names[k]),
              "%s parses to %d", names[k], (int)kind);
    }
    ScheduleKind kind;
    CHECK(schedule_kind_parse("linear", &kind, &error) == -1 && strstr(error.message, "linear"), "unknown: %s",
          error.message);
}

// Clipping by value clamps each coordinate (the direction can turn); L1 adds λ sign(p).
static void test_clip_value_and_l1(void) {
    float grads[5] = {3.0f, -0.2f, -7.0f, 0.5f, 0.0f};
    gradient_clip_value(grads, 5, 0.5f);
    const float clipped[5] = {0.5f, -0.2f, -0.5f, 0.5f, 0.0f};
    for (int i = 0; i < 5; i++) CHECK(grads[i] == clipped[i], "grads[%d] = %g, expected %g", i, grads[i], clipped[i]);
    const float params[5] = {2.0f, -1.0f, 0.0f, 1e-30f, -3.0f};
    gradient_add_l1(grads, params, 5, 0.25f);
    const float expected[5] = {0.75f, -0.45f, -0.5f, 0.75f, -0.25f};  // sign(0) = 0
    for (int i = 0; i < 5; i++) CHECK(grads[i] == expected[i], "l1: grads[%d] = %g, expected %g", i, grads[i], expected[i]);
}

static const CheckCase CASES[] = {
    {"cosine and one-cycle schedules", test_cosine_and_one_cycle},
    {"clipping by value and L1", test_clip_value_and_l1},
    {"hand-computed steps", test_hand_computed_steps},
    {"adamw's first step by hand", test_adamw_first_step_by_hand},
    {"parallel adamw equals serial", test_parallel_adamw},
    {"convergence", test_convergence},
    {"gradient clipping", test_clipping},
    {"schedules", test_schedules},
    {"lr finder", test_lr_finder},
    {"config errors", test_config_errors},
    {"problems", test_problems},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
