// MAML on sine regression (models/maml.c): the task sampler keeps the paper's ranges; the
// network's gradient and its exact Hessian-vector product (the R-operator) equal finite
// differences; the second-order meta-gradient equals finite differences of the meta-objective
// L^q(θ − α∇L^s(θ)) through two inner steps, and the first-order one differs from it; a small
// meta-training run adapts better in one step than the pretrained baseline; the baseline's
// step tuning picks the best candidate; bad settings are errors; and the meta-gradients of all
// three methods and five MAML Adam steps match PyTorch's (its double backward).
#include <math.h>
#include <omp.h>
#include <string.h>

#include "foundations/optimizer.h"
#include "foundations/safetensors.h"
#include "models/maml.h"
#include "tests/check.h"

enum { HIDDEN = 12, N = 10 };

static void sampler_keeps_the_ranges(void) {
    Random rng;
    random_seed(&rng, 5);
    float a_min = 1e9f, a_max = -1e9f, p_min = 1e9f, p_max = -1e9f, x_min = 1e9f, x_max = -1e9f;
    for (int i = 0; i < 5000; i++) {
        SineTask task = sine_task_sample(&rng);
        float x[4], y[4];
        sine_task_points(task, &rng, 4, x, y);
        a_min = fminf(a_min, task.amplitude), a_max = fmaxf(a_max, task.amplitude);
        p_min = fminf(p_min, task.phase), p_max = fmaxf(p_max, task.phase);
        for (int j = 0; j < 4; j++) {
            x_min = fminf(x_min, x[j]), x_max = fmaxf(x_max, x[j]);
            CHECK_NEAR(y[j], task.amplitude * sinf(x[j] - task.phase), 1e-6);
        }
    }
    // Inside the ranges, and filling them (5000 draws leave gaps of about 1/5000 at the ends).
    CHECK(a_min >= 0.1f && a_min < 0.11f, "amplitude minimum %g", (double)a_min);
    CHECK(a_max <= 5.0f && a_max > 4.99f, "amplitude maximum %g", (double)a_max);
    CHECK(p_min >= 0.0f && p_min < 0.01f, "phase minimum %g", (double)p_min);
    CHECK(p_max <= 3.1416f && p_max > 3.13f, "phase maximum %g", (double)p_max);
    CHECK(x_min >= -5.0f && x_min < -4.99f, "x minimum %g", (double)x_min);
    CHECK(x_max <= 5.0f && x_max > 4.99f, "x maximum %g", (double)x_max);
    CHECK_NEAR(sine_task_value((SineTask){2.0f, 0.5f}, 2.0f), 2.0 * sin(1.5), 1e-6);
}

// A network, its work buffers and one task's support and query points.
typedef struct Fixture {
    long size;
    float params[1 + HIDDEN * (HIDDEN + 4)];
    float x[N], t[N], qx[N], qt[N];
    SineNetWork work;
} Fixture;

static int fixture_init(Fixture *f, uint64_t seed) {
    Random rng;
    random_seed(&rng, seed);
    f->size = sine_net_size(HIDDEN);
    sine_net_init(f->params, HIDDEN, &rng);
    SineTask task = sine_task_sample(&rng);
    sine_task_points(task, &rng, N, f->x, f->t);
    sine_task_points(task, &rng, N, f->qx, f->qt);
    Error error;
    return sine_net_work_init(&f->work, HIDDEN, N, &error);
}

static double relative_difference(const float *a, const float *b, long n) {
    double diff = 0.0, norm = 0.0;
    for (long i = 0; i < n; i++) diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), norm += (double)b[i] * b[i];
    return sqrt(diff / (norm > 0.0 ? norm : 1.0));
}

static void layout_and_size(void) {
    CHECK(sine_net_size(40) == 1761, "1-40-40-1 has %ld parameters", sine_net_size(40));
    const char *name;
    int ndim, shape[2];
    long offset, total = 0;
    for (int i = 0; !sine_net_tensor(40, i, &name, &ndim, shape, &offset); i++) {
        CHECK(offset == total, "%s at %ld, expected %ld", name, offset, total);
        total += (long)shape[0] * (ndim == 2 ? shape[1] : 1);
    }
    CHECK(total == 1761, "the tensors cover %ld parameters", total);
    CHECK(sine_net_tensor(40, 2, &name, &ndim, shape, &offset) == 0 && !strcmp(name, "fc2.weight") &&
              shape[0] == 40 && shape[1] == 40 && offset == 80, "fc2.weight %s (%d,%d) at %ld", name, shape[0], shape[1], offset);
}

// ∂L/∂θ_i against (L(θ + h e_i) − L(θ − h e_i)) / 2h on every parameter.
static void gradient_matches_finite_differences(void) {
    static Fixture f;
    REQUIRE(fixture_init(&f, 11) == 0, "work buffers");
    static float grad[1 + HIDDEN * (HIDDEN + 4)], scratch[1 + HIDDEN * (HIDDEN + 4)], numeric[1 + HIDDEN * (HIDDEN + 4)];
    sine_net_loss_gradient(&f.work, f.params, f.x, f.t, N, grad);
    const float h = 1e-3f;
    for (long i = 0; i < f.size; i++) {
        float keep = f.params[i];
        f.params[i] = keep + h;
        double up = sine_net_loss_gradient(&f.work, f.params, f.x, f.t, N, scratch);
        f.params[i] = keep - h;
        double down = sine_net_loss_gradient(&f.work, f.params, f.x, f.t, N, scratch);
        f.params[i] = keep;
        numeric[i] = (float)((up - down) / (2.0 * h));
    }
    double difference = relative_difference(grad, numeric, f.size);
    CHECK(difference < 1e-2, "gradient relative difference %g", difference);
    sine_net_work_free(&f.work);
}

// ∇²L v against (∇L(θ + h v) − ∇L(θ − h v)) / 2h for random directions, and uᵀHv = vᵀHu.
static void hessian_vector_matches_finite_differences(void) {
    static Fixture f;
    REQUIRE(fixture_init(&f, 12) == 0, "work buffers");
    enum { P = 1 + HIDDEN * (HIDDEN + 4) };
    static float v[P], u[P], hv[P], hu[P], up[P], down[P], numeric[P], moved[P];
    Random rng;
    random_seed(&rng, 13);
    for (int trial = 0; trial < 4; trial++) {
        random_fill_normal(&rng, v, f.size, 0.0f, 1.0f);
        random_fill_normal(&rng, u, f.size, 0.0f, 1.0f);
        sine_net_hessian_vector(&f.work, f.params, f.x, f.t, N, v, hv);
        const float h = 1e-3f;
        for (long i = 0; i < f.size; i++) moved[i] = f.params[i] + h * v[i];
        sine_net_loss_gradient(&f.work, moved, f.x, f.t, N, up);
        for (long i = 0; i < f.size; i++) moved[i] = f.params[i] - h * v[i];
        sine_net_loss_gradient(&f.work, moved, f.x, f.t, N, down);
        for (long i = 0; i < f.size; i++) numeric[i] = (up[i] - down[i]) / (2.0f * h);
        double difference = relative_difference(hv, numeric, f.size);
        CHECK(difference < 1e-2, "trial %d: Hessian-vector relative difference %g", trial, difference);
        sine_net_hessian_vector(&f.work, f.params, f.x, f.t, N, u, hu);
        double uhv = 0.0, vhu = 0.0, scale = 0.0;
        for (long i = 0; i < f.size; i++) uhv += (double)u[i] * hv[i], vhu += (double)v[i] * hu[i], scale += fabs((double)u[i] * hv[i]);
        CHECK(fabs(uhv - vhu) < 1e-4 * scale, "trial %d: u'Hv %g, v'Hu %g", trial, uhv, vhu);
    }
    sine_net_work_free(&f.work);
}

// F(θ) = L^q(θ_2), θ_2 two SGD steps on the support set from θ.
static double meta_objective(Fixture *f, const float *params, float lr, float *adapted, float *grad) {
    maml_adapt(&f->work, params, f->x, f->t, N, 2, lr, adapted, NULL);
    return sine_net_loss_gradient(&f->work, adapted, f->qx, f->qt, N, grad);
}

// The second-order meta-gradient's directional derivatives against central differences of F;
// the first-order one is a different vector (the Hessian terms are not negligible here).
static void meta_gradient_matches_finite_differences(void) {
    static Fixture f;
    REQUIRE(fixture_init(&f, 14) == 0, "work buffers");
    enum { P = 1 + HIDDEN * (HIDDEN + 4) };
    static float second[P], first[P], scratch[4 * P], direction[P], moved[P], adapted[P], grad[P];
    const float lr = 0.02f;  // twice the paper's α: the second-order term is larger
    REQUIRE(maml_scratch_size(HIDDEN, 2, N) == 4 * P, "scratch of %zu floats", maml_scratch_size(HIDDEN, 2, N));
    maml_task_gradient(MAML_SECOND_ORDER, &f.work, f.params, f.x, f.t, f.qx, f.qt, N, 2, lr, second, scratch);
    maml_task_gradient(MAML_FIRST_ORDER, &f.work, f.params, f.x, f.t, f.qx, f.qt, N, 2, lr, first, scratch);
    Random rng;
    random_seed(&rng, 15);
    for (int trial = 0; trial < 4; trial++) {
        random_fill_normal(&rng, direction, f.size, 0.0f, 1.0f);
        // F is strongly curved along some directions (its third derivatives are large), so
        // h is small; float rounding then costs about 1e-3 (measured: 5e-3 to 1e-4 against |∇F·d| of 2 to 11).
        const float h = 1e-4f;
        for (long i = 0; i < f.size; i++) moved[i] = f.params[i] + h * direction[i];
        double up = meta_objective(&f, moved, lr, adapted, grad);
        for (long i = 0; i < f.size; i++) moved[i] = f.params[i] - h * direction[i];
        double down = meta_objective(&f, moved, lr, adapted, grad);
        double numeric = (up - down) / (2.0 * h), analytic = 0.0, scale = 0.0;
        for (long i = 0; i < f.size; i++) analytic += (double)second[i] * direction[i], scale += fabs((double)second[i] * direction[i]);
        CHECK(fabs(analytic - numeric) < 1e-3 * scale + 1e-3, "trial %d: directional derivative %g, finite differences %g",
              trial, analytic, numeric);
    }
    double gap = relative_difference(first, second, f.size);
    CHECK(gap > 0.1, "first- and second-order meta-gradients differ by only %g", gap);
    sine_net_work_free(&f.work);
}

// A short run (20 hidden units, 600 meta-steps of 10 tasks at β = 0.005): both MAMLs adapt in
// one step to a clearly lower held-out MSE than the pretrained network does, even with its
// step tuned.
static void maml_beats_pretrained_after_one_step(void) {
    enum { H = 20 };
    static float params[N_MAML_METHODS][1 + H * (H + 4)];
    double mse[N_MAML_METHODS][2];
    MamlEvaluation evaluation = {50, 10, 1, 100, 0.01f, 1000};
    Error error;
    for (int m = 0; m < N_MAML_METHODS; m++) {
        MamlConfig config = maml_default_config((MamlMethod)m);
        config.hidden = H, config.meta_batch = 10, config.meta_steps = 600, config.outer_lr = 0.005f, config.seed = 2;
        Random rng;
        random_seed(&rng, 1);
        sine_net_init(params[m], H, &rng);
        float loss;
        REQUIRE(maml_train(&config, params[m], NULL, NULL, &loss, &error) == 0, "%s", error.message);
        CHECK(isfinite(loss) && loss < 3.5f, "%s training loss %g", maml_method_name(config.method), (double)loss);
        MamlEvaluation test = evaluation;
        if (m == MAML_PRETRAINED) {  // the baseline's step tuned on other tasks, as the command does
            const float candidates[6] = {0.0025f, 0.005f, 0.01f, 0.02f, 0.04f, 0.08f};
            MamlEvaluation validation = evaluation;
            validation.seed = 1001;
            REQUIRE(maml_tune_lr(params[m], H, &validation, candidates, 6, &test.lr, &error) == 0, "%s", error.message);
        }
        REQUIRE(maml_evaluate(params[m], H, &test, mse[m], &error) == 0, "%s", error.message);
    }
    double pretrained = mse[MAML_PRETRAINED][1];
    fprintf(stderr, "after 1 step: fomaml %.3f, maml %.3f, pretrained %.3f\n", mse[0][1], mse[1][1], pretrained);
    CHECK(mse[MAML_FIRST_ORDER][1] < 0.8 * pretrained, "FOMAML after 1 step %g, pretrained %g", mse[MAML_FIRST_ORDER][1], pretrained);
    CHECK(mse[MAML_SECOND_ORDER][1] < 0.8 * pretrained, "MAML after 1 step %g, pretrained %g", mse[MAML_SECOND_ORDER][1], pretrained);
    CHECK(mse[MAML_SECOND_ORDER][1] < mse[MAML_SECOND_ORDER][0], "MAML's step lowers the MSE: %g -> %g",
          mse[MAML_SECOND_ORDER][0], mse[MAML_SECOND_ORDER][1]);
}

static void evaluation_is_deterministic_across_threads(void) {
    enum { H = 8 };
    float params[1 + H * (H + 4)];
    Random rng;
    random_seed(&rng, 3);
    sine_net_init(params, H, &rng);
    MamlEvaluation evaluation = {9, 5, 3, 30, 0.01f, 7};
    double first[4], second[4];
    Error error;
    REQUIRE(maml_evaluate(params, H, &evaluation, first, &error) == 0, "%s", error.message);
    int threads = omp_get_max_threads();
    omp_set_num_threads(threads > 1 ? 1 : 2);
    int status = maml_evaluate(params, H, &evaluation, second, &error);
    omp_set_num_threads(threads);
    REQUIRE(status == 0, "%s", error.message);
    for (int s = 0; s < 4; s++) CHECK(first[s] == second[s], "step %d: %g then %g", s, first[s], second[s]);
}

// The tuned step is the candidate with the lowest MSE after the steps; a diverging one is skipped.
static void tuning_picks_the_lowest_mse(void) {
    enum { H = 8 };
    float params[1 + H * (H + 4)];
    Random rng;
    random_seed(&rng, 4);
    sine_net_init(params, H, &rng);
    MamlEvaluation evaluation = {12, 10, 3, 40, 0.01f, 9};
    const float candidates[4] = {0.001f, 0.01f, 0.03f, 1e4f};
    double mse[4][4];
    Error error;
    for (int i = 0; i < 3; i++) {
        evaluation.lr = candidates[i];
        REQUIRE(maml_evaluate(params, H, &evaluation, mse[i], &error) == 0, "%s", error.message);
    }
    evaluation.lr = candidates[3];
    CHECK(maml_evaluate(params, H, &evaluation, mse[3], &error) == -1 && strstr(error.message, "not finite"),
          "lr 1e4 diverges: %s", error.message);
    float best = 0.0f;
    REQUIRE(maml_tune_lr(params, H, &evaluation, candidates, 4, &best, &error) == 0, "%s", error.message);
    int chosen = best == candidates[0] ? 0 : best == candidates[1] ? 1 : best == candidates[2] ? 2 : -1;
    REQUIRE(chosen >= 0, "chose %g", (double)best);
    for (int i = 0; i < 3; i++) CHECK(mse[chosen][3] <= mse[i][3], "lr %g: %g, chosen %g: %g", (double)candidates[i], mse[i][3], (double)best, mse[chosen][3]);
    CHECK(maml_tune_lr(params, H, &evaluation, candidates + 3, 1, &best, &error) == -1 && strstr(error.message, "every step size"),
          "%s", error.message);
}

// More shots than the tiny network has parameters: the pretrained baseline's joint batch
// (4K floats) still fits its scratch (the sanitizer build would see an overflow).
static void many_shots_on_a_tiny_network(void) {
    for (int m = 0; m < N_MAML_METHODS; m++) {
        MamlConfig config = maml_default_config((MamlMethod)m);
        config.hidden = 1, config.shots = 40, config.meta_batch = 3, config.meta_steps = 3;
        float params[1 + 1 * 5], loss;
        Random rng;
        random_seed(&rng, 6);
        sine_net_init(params, 1, &rng);
        Error error;
        CHECK(maml_train(&config, params, NULL, NULL, &loss, &error) == 0 && isfinite(loss), "%s: %s",
              maml_method_name(config.method), error.message);
    }
}

static void bad_settings_are_errors(void) {
    Error error = {{0}};
    MamlConfig good = maml_default_config(MAML_SECOND_ORDER);
    good.meta_steps = 10;
    CHECK(maml_config_check(&good, &error) == 0, "%s", error.message);
    MamlConfig bad = good;
    bad.shots = 0;
    CHECK(maml_config_check(&bad, &error) == -1 && strstr(error.message, "shots"), "%s", error.message);
    bad = good, bad.inner_lr = NAN;
    CHECK(maml_config_check(&bad, &error) == -1 && strstr(error.message, "learning rate"), "%s", error.message);
    bad = good, bad.meta_steps = 0;
    CHECK(maml_config_check(&bad, &error) == -1 && strstr(error.message, "meta-steps"), "%s", error.message);
    bad = good, bad.meta_batch = -3;
    CHECK(maml_train(&bad, NULL, NULL, NULL, NULL, &error) == -1 && strstr(error.message, "meta-batch"), "%s", error.message);
    MamlMethod method;
    CHECK(maml_method_parse("reptile", &method, &error) == -1 && strstr(error.message, "reptile"), "%s", error.message);
    CHECK(maml_method_parse("maml", &method, &error) == 0 && method == MAML_SECOND_ORDER, "maml parses");
    float params[1 + 4 * 8];
    double mse[2];
    MamlEvaluation evaluation = {0, 5, 1, 30, 0.01f, 7};
    CHECK(maml_evaluate(params, 4, &evaluation, mse, &error) == -1 && strstr(error.message, "tasks"), "%s", error.message);
    evaluation.tasks = 3, evaluation.lr = -1.0f;
    CHECK(maml_evaluate(params, 4, &evaluation, mse, &error) == -1, "a negative lr is refused");
    SineNetWork work;
    CHECK(sine_net_work_init(&work, 0, 5, &error) == -1 && strstr(error.message, "positive"), "%s", error.message);
}

// ---------------------------------------------------------------------------------------
// Against PyTorch (tests/fixtures/maml, tools/reference/maml_reference.py): the same weights and
// 4 tasks give the same mean meta-gradients of MAML (PyTorch's double backward through two inner
// steps), FOMAML and the pretrained baseline (1e-3 relative to each tensor's largest value),
// the same losses (1e-5 relative), and the same meta-losses over 5 Adam steps of MAML (1e-4).

enum { REF_TASKS = 4, REF_SHOTS = 10, REF_HIDDEN = 40, REF_STEPS = 2, REF_SIZE = 1 + REF_HIDDEN * (REF_HIDDEN + 4) };

// The mean over the fixture's tasks of one method's task gradient; returns the mean loss.
static double reference_meta_gradient(MamlMethod method, SineNetWork *work, const float *params, const float *const data[4],
                                      float *grad) {
    static float task_grad[REF_SIZE], scratch[(REF_STEPS + 2) * REF_SIZE];
    double loss = 0.0;
    memset(grad, 0, sizeof(float) * REF_SIZE);
    for (int k = 0; k < REF_TASKS; k++) {
        const float *at[4];
        for (int j = 0; j < 4; j++) at[j] = data[j] + k * REF_SHOTS;
        loss += maml_task_gradient(method, work, params, at[0], at[1], at[2], at[3], REF_SHOTS, REF_STEPS, 0.01f,
                                   task_grad, scratch) / REF_TASKS;
        for (long i = 0; i < REF_SIZE; i++) grad[i] += task_grad[i] / REF_TASKS;
    }
    return loss;
}

// grad (flat) against the state's "<method>.grad.<tensor>" for the six tensors.
static void compare_meta_gradient(const char *method, const float *grad, const Safetensors *state) {
    const char *name;
    int ndim, shape[2];
    long offset;
    for (int i = 0; !sine_net_tensor(REF_HIDDEN, i, &name, &ndim, shape, &offset); i++) {
        char key[64];
        snprintf(key, sizeof key, "%s.grad.%s", method, name);
        const SafetensorsTensor *t = safetensors_find(state, key);
        long count = (long)shape[0] * (ndim == 2 ? shape[1] : 1);
        REQUIRE(t && t->floats && t->count == count, "%s missing or of another size", key);
        double diff = 0.0, largest = 0.0;
        for (long j = 0; j < count; j++)
            diff = fmax(diff, fabs((double)grad[offset + j] - t->floats[j])), largest = fmax(largest, fabs((double)t->floats[j]));
        CHECK(diff <= 1e-3 * largest, "%s differs by %g (largest %g)", key, diff, largest);
    }
}

static void matches_the_pytorch_reference_body(const Safetensors *params_file, const Safetensors *state) {
    static float params[REF_SIZE], grad[REF_SIZE];
    const char *name;
    int ndim, shape[2];
    long offset;
    for (int i = 0; !sine_net_tensor(REF_HIDDEN, i, &name, &ndim, shape, &offset); i++) {
        const SafetensorsTensor *t = safetensors_find(params_file, name);
        REQUIRE(t && t->floats && t->count == (long)shape[0] * (ndim == 2 ? shape[1] : 1), "%s missing", name);
        memcpy(params + offset, t->floats, sizeof(float) * (size_t)t->count);
    }
    const char *keys[4] = {"support_x", "support_t", "query_x", "query_t"};
    const float *data[4];
    for (int j = 0; j < 4; j++) {
        const SafetensorsTensor *t = safetensors_find(state, keys[j]);
        REQUIRE(t && t->floats && t->count == REF_TASKS * REF_SHOTS, "%s missing", keys[j]);
        data[j] = t->floats;
    }
    SineNetWork work;
    Error error;
    REQUIRE(sine_net_work_init(&work, REF_HIDDEN, 2 * REF_SHOTS, &error) == 0, "%s", error.message);
    for (int m = 0; m < N_MAML_METHODS; m++) {
        const char *method = maml_method_name((MamlMethod)m);
        char key[64];
        snprintf(key, sizeof key, "%s.loss", method);
        const SafetensorsTensor *loss = safetensors_find(state, key);
        double ours = reference_meta_gradient((MamlMethod)m, &work, params, data, grad);
        CHECK(loss && loss->floats && fabs(ours - loss->floats[0]) <= 1e-5 * fabs(loss->floats[0]), "%s: %g, PyTorch %g",
              key, ours, loss && loss->floats ? loss->floats[0] : NAN);
        compare_meta_gradient(method, grad, state);
    }
    const SafetensorsTensor *steps = safetensors_find(state, "maml.step_losses");
    Optimizer adam;
    OptimizerConfig adam_config = optimizer_default_config(OPTIMIZER_ADAM);
    if (steps && steps->floats && steps->count == 5 && optimizer_init(&adam, &adam_config, REF_SIZE, &error) == 0) {
        for (int k = 0; k < 5; k++) {
            double ours = reference_meta_gradient(MAML_SECOND_ORDER, &work, params, data, grad);
            CHECK(fabs(ours - steps->floats[k]) <= 1e-4 * fabs(steps->floats[k]), "Adam step %d: %g, PyTorch %g", k, ours,
                  steps->floats[k]);
            optimizer_step(&adam, params, grad, REF_SIZE, 1e-3f);
        }
        optimizer_free(&adam);
    } else {
        CHECK(0, "maml.step_losses: missing, not 5 of them, or no optimizer: %s", error.message);
    }
    sine_net_work_free(&work);
}

static void matches_the_pytorch_reference(void) {
    Safetensors params_file, state;
    Error error;
    REQUIRE(safetensors_read(&params_file, "tests/fixtures/maml/PARAMS.safetensors", &error) == 0, "%s", error.message);
    if (safetensors_read(&state, "tests/fixtures/maml/STATE.safetensors", &error)) {
        safetensors_free(&params_file);
        REQUIRE(0, "%s", error.message);
    }
    matches_the_pytorch_reference_body(&params_file, &state);
    safetensors_free(&params_file);
    safetensors_free(&state);
}

static const CheckCase CASES[] = {
    {"matches the pytorch reference", matches_the_pytorch_reference},
    {"sampler keeps the ranges", sampler_keeps_the_ranges},
    {"layout and size", layout_and_size},
    {"gradient matches finite differences", gradient_matches_finite_differences},
    {"hessian vector matches finite differences", hessian_vector_matches_finite_differences},
    {"meta gradient matches finite differences", meta_gradient_matches_finite_differences},
    {"maml beats pretrained after one step", maml_beats_pretrained_after_one_step},
    {"evaluation is deterministic across threads", evaluation_is_deterministic_across_threads},
    {"tuning picks the lowest mse", tuning_picks_the_lowest_mse},
    {"many shots on a tiny network", many_shots_on_a_tiny_network},
    {"bad settings are errors", bad_settings_are_errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
