// Diffusion (models/ddpm.h): the schedule's closed forms against direct products and the
// Gaussian posterior worked out by completing the square; q(x_t | x_0)'s moments against
// chains of single steps; the time features; the noise predictor's backward (every parameter
// of a small time-conditioned U-Net, through L_simple) against central differences; DDIM
// against the DDPM posterior where they must agree, and its η = 0 step exact on the true
// noise; the samplers' determinism and ranges; checkpoints; a short training run lowers the loss;
// and the PyTorch reference (tools/reference/ddpm_reference.py, tests/fixtures/ddpm): the
// predicted noise, L_simple, every gradient, five Adam steps and a DDIM step.
#include <math.h>
#include <string.h>

#include "foundations/gradcheck.h"
#include "models/classifier_verify.h"
#include "models/ddpm.h"
#include "models/vae.h"
#include "nn/optim.h"
#include "nn/state_dict.h"
#include "tests/check.h"

static void schedule_matches_direct_products(void) {
    DdpmSchedule s;
    Error error;
    REQUIRE(ddpm_schedule_create(&s, 1000, 1e-4, 0.02, &error) == 0, "%s", error.message);
    CHECK_NEAR(s.betas[1], 1e-4, 1e-15);
    CHECK_NEAR(s.betas[1000], 0.02, 1e-15);
    CHECK_NEAR(s.betas[500] - s.betas[499], (0.02 - 1e-4) / 999, 1e-15);
    long double product = 1.0L;
    double worst = 0.0;
    for (int t = 1; t <= 1000; t++) {
        product *= 1.0L - (long double)s.betas[t];
        worst = fmax(worst, fabs((double)(s.alphas_cumprod[t] / product - 1.0L)));
    }
    CHECK(worst < 1e-12, "alpha_bar differs from the direct product by %g (relative)", worst);
    CHECK(s.alphas_cumprod[1000] > 0.0 && s.alphas_cumprod[1000] < 1e-4, "alpha_bar_T = %g: x_T is not noise", s.alphas_cumprod[1000]);
    // q(x_{t−1}|x_t,x_0) ∝ q(x_t|x_{t−1}) q(x_{t−1}|x_0): precision α_t/β_t + 1/(1−ᾱ_{t−1}),
    // mean = variance · (√α_t x_t/β_t + √ᾱ_{t−1} x_0/(1−ᾱ_{t−1})).
    for (int t = 2; t <= 1000; t += 37) {
        double beta = s.betas[t], alpha = 1.0 - beta, previous = s.alphas_cumprod[t - 1];
        double variance = 1.0 / (alpha / beta + 1.0 / (1.0 - previous));
        DdpmPosterior p = ddpm_posterior(&s, t);
        CHECK(fabs(p.variance / variance - 1.0) < 1e-9, "t %d: variance %g, by completing the square %g", t, p.variance, variance);
        CHECK(fabs(p.xt_coefficient / (variance * sqrt(alpha) / beta) - 1.0) < 1e-9, "t %d: x_t coefficient", t);
        CHECK(fabs(p.x0_coefficient / (variance * sqrt(previous) / (1.0 - previous)) - 1.0) < 1e-9, "t %d: x_0 coefficient", t);
    }
    DdpmPosterior first = ddpm_posterior(&s, 1);  // ᾱ_0 = 1: x_0 itself, no variance
    CHECK(fabs(first.x0_coefficient - 1.0) < 1e-12 && first.xt_coefficient == 0.0 && first.variance == 0.0, "t = 1: %g %g %g",
          first.x0_coefficient, first.xt_coefficient, first.variance);
    ddpm_schedule_free(&s);
    CHECK(ddpm_schedule_create(&s, 0, 1e-4, 0.02, &error) != 0, "T = 0 accepted");
    CHECK(ddpm_schedule_create(&s, 10, 0.5, 0.1, &error) != 0, "decreasing betas accepted");
    CHECK(ddpm_schedule_create(&s, 10, 1e-4, 1.0, &error) != 0, "beta 1 accepted");
}

// x_t reached by t single steps x_s = √(1−β_s) x_{s−1} + √β_s z has the closed form's
// moments √ᾱ_t x_0 and 1 − ᾱ_t; and ddpm_diffuse draws from that closed form.
static void diffusion_moments(void) {
    DdpmSchedule s;
    Error error;
    REQUIRE(ddpm_schedule_create(&s, 100, 1e-3, 0.1, &error) == 0, "%s", error.message);
    enum { N = 40000 };
    static float x[N], noise[N], closed[N], x0[N];
    static int t[N];
    Random rng;
    random_seed(&rng, 7);
    for (int i = 0; i < N; i++) x[i] = x0[i] = 0.8f, t[i] = 30;
    for (int step = 1; step <= 30; step++)
        for (int i = 0; i < N; i++) x[i] = (float)(sqrt(1.0 - s.betas[step]) * x[i] + sqrt(s.betas[step]) * random_normal(&rng, 0, 1));
    random_fill_normal(&rng, noise, N, 0.0f, 1.0f);
    ddpm_diffuse(&s, t, x0, noise, N, 1, closed);
    double expected_mean = sqrt(s.alphas_cumprod[30]) * 0.8, expected_variance = 1.0 - s.alphas_cumprod[30];
    const float *sets[2] = {x, closed};
    for (int k = 0; k < 2; k++) {
        double mean = 0.0, square = 0.0;
        for (int i = 0; i < N; i++) mean += sets[k][i] / (double)N;
        for (int i = 0; i < N; i++) square += (sets[k][i] - mean) * (sets[k][i] - mean) / (N - 1.0);
        // 5 standard errors: √(var/N) for the mean, var·√(2/N) for the variance
        CHECK(fabs(mean - expected_mean) < 5 * sqrt(expected_variance / N), "%s: mean %g, closed form %g",
              k ? "closed form" : "chain", mean, expected_mean);
        CHECK(fabs(square - expected_variance) < 5 * expected_variance * sqrt(2.0 / N), "%s: variance %g, closed form %g",
              k ? "closed form" : "chain", square, expected_variance);
    }
    ddpm_schedule_free(&s);
}

static void time_features(void) {
    float t[2] = {0.0f, 3.0f}, e[2 * 8];
    unet_time_features(t, 2, 8, e);
    for (int k = 0; k < 4; k++) CHECK(e[k] == 0.0f && e[4 + k] == 1.0f, "e(0)[%d] = %g, %g", k, e[k], e[4 + k]);
    for (int k = 0; k < 4; k++) {
        double omega = pow(10000.0, -k / 4.0);
        CHECK_NEAR(e[8 + k], sin(3.0 * omega), 1e-6);
        CHECK_NEAR(e[12 + k], cos(3.0 * omega), 1e-6);
    }
}

// A small model: width 4, 2 levels, E 6, T 50, 8×8 images.
static int small_model(Ddpm *model, unsigned long long seed, Error *error) {
    DdpmConfig config = {{1, 4, 2, 6}, 8, 8, 50, 1e-3f, 0.2f};
    Random rng;
    random_seed(&rng, seed);
    return ddpm_create(model, &config, &rng, error);
}

typedef struct LossContext {
    Ddpm *model;
    Tape tape;
    float x0[2 * 64], noise[2 * 64];
    int t[2];
} LossContext;

static double loss_at(void *pointer) {
    LossContext *c = pointer;
    tape_reset(&c->tape);
    c->tape.recording = 0;
    Tensor *loss = ddpm_loss(&c->tape, c->model, tensor_from(&c->tape, c->x0, 4, (int[]){2, 1, 8, 8}), c->t, c->noise);
    c->tape.recording = 1;
    return loss ? loss->data[0] : NAN;
}

static void noise_predictor_backward(void) {
    Ddpm model;
    Error error;
    REQUIRE(small_model(&model, 11, &error) == 0, "%s", error.message);
    LossContext c = {.model = &model, .t = {3, 41}};
    tape_init(&c.tape);
    Random rng;
    random_seed(&rng, 5);
    for (int i = 0; i < 128; i++) c.x0[i] = 2.0f * random_uniform(&rng) - 1.0f;
    random_fill_normal(&rng, c.noise, 128, 0.0f, 1.0f);
    tape_reset(&c.tape);
    Tensor *loss = ddpm_loss(&c.tape, &model, tensor_from(&c.tape, c.x0, 4, (int[]){2, 1, 8, 8}), c.t, c.noise);
    REQUIRE(loss != NULL, "%s", c.tape.error.message);
    parameters_zero_grad(&model.unet.params);
    REQUIRE(tape_backward(&c.tape, loss, &error) == 0, "%s", error.message);
    int checked = 0;
    for (int i = 0; i < model.unet.params.count; i++) {
        Tensor *p = model.unet.params.entries[i].tensor;
        float *analytic = malloc(sizeof(float) * (size_t)p->size);
        memcpy(analytic, p->grad, sizeof(float) * (size_t)p->size);
        double largest = 0.0;
        for (long j = 0; j < p->size; j++) largest = fmax(largest, fabs(analytic[j]));
        // ReLU and max-pooling kinks: a central difference whose step crosses one is off, and
        // on 8×8 maps many units sit near 0. An entry agrees when the difference at h = 1e-3 or
        // at 3e-4 is within 1% of the tensor's largest gradient (a kink rarely lies within
        // both steps; a wrong backward fails at both); at most 1 + 1 in 20 entries may disagree.
        // At most 24 entries of a tensor, evenly spread (first and last included): a wrong
        // backward is wrong for most of them, and the sanitizer build stays fast.
        long disagree = 0, stride = p->size > 24 ? (p->size - 1) / 23 : 1, n_checked = 0;
        for (long j = 0; j < p->size; j += stride, n_checked++) {
            double tolerance = 1e-2 * largest + 1e-4;
            GradcheckResult wide = gradcheck(loss_at, &c, p->data + j, analytic + j, 1, 1e-3f, 1e-3);
            if (wide.max_abs_error <= tolerance) continue;
            GradcheckResult narrow = gradcheck(loss_at, &c, p->data + j, analytic + j, 1, 3e-4f, 1e-3);
            disagree += narrow.max_abs_error > tolerance;
        }
        CHECK(disagree <= 1 + n_checked / 20, "%s: %ld of %ld entries differ from central differences (largest gradient %g)",
              model.unet.params.entries[i].name, disagree, n_checked, largest);
        CHECK(largest > 0.0, "%s: no gradient", model.unet.params.entries[i].name);
        free(analytic);
        checked++;
    }
    // time_embed.0/.2 (2 each), 5 blocks × (2 convs + time: 6 each), 2 up-convolutions (2), conv (2)
    CHECK(checked == 4 + 5 * 6 + 2 * 2 + 2, "%d tensors checked", checked);
    CHECK(parameters_find(&model.unet.params, "time_embed.0.weight") && parameters_find(&model.unet.params, "encoder1.time.weight") &&
              parameters_find(&model.unet.params, "decoder1.time.bias"),
          "PyTorch names missing");
    tape_free(&c.tape);
    ddpm_free(&model);
}

// DDIM with η = 1 from t to t − 1 is the posterior step with σ² = β̃_t; its mean is also the
// ancestral step's; η = 0 on the true noise lands exactly on the closed form at s.
static void ddim_agrees_with_ddpm(void) {
    DdpmSchedule s;
    Error error;
    REQUIRE(ddpm_schedule_create(&s, 1000, 1e-4, 0.02, &error) == 0, "%s", error.message);
    enum { N = 64 };
    float x0[N], noise[N], xt[N], z[N], zero[N] = {0}, ddim[N], ancestral[N], predicted[N], at_s[N];
    Random rng;
    random_seed(&rng, 3);
    for (int i = 0; i < N; i++) x0[i] = 1.6f * random_uniform(&rng) - 0.8f;
    random_fill_normal(&rng, noise, N, 0.0f, 1.0f);
    random_fill_normal(&rng, z, N, 0.0f, 1.0f);
    int ts[3] = {2, 250, 999};
    for (int k = 0; k < 3; k++) {
        int t = ts[k], ti[1] = {t};
        for (int i = 0; i < N; i++) ddpm_diffuse(&s, ti, x0 + i, noise + i, 1, 1, xt + i);
        float epsilon[N];  // a prediction that is not the true noise
        for (int i = 0; i < N; i++) epsilon[i] = 0.7f * noise[i] + 0.1f;
        DdpmPosterior p = ddpm_posterior(&s, t);
        CHECK(fabs(ddim_sigma(&s, t, t - 1, 1.0) - sqrt(p.variance)) < 1e-9 * sqrt(p.variance), "t %d: sigma %g, beta tilde %g",
              t, ddim_sigma(&s, t, t - 1, 1.0), sqrt(p.variance));
        ddim_step(&s, t, t - 1, 1.0, xt, epsilon, z, N, 0, ddim);
        ddpm_ancestral_step(&s, t, xt, epsilon, zero, N, 0, ancestral);  // the mean only
        ddpm_predict_x0(&s, t, xt, epsilon, N, 0, predicted);
        double worst = 0.0, paper = 0.0;
        for (int i = 0; i < N; i++) {
            double mean = p.x0_coefficient * predicted[i] + p.xt_coefficient * xt[i];
            worst = fmax(worst, fabs(ddim[i] - (mean + sqrt(p.variance) * z[i])));
            worst = fmax(worst, fabs(ancestral[i] - mean));
            // the paper's form: (x_t − β_t/√(1−ᾱ_t) ε)/√α_t
            double beta = s.betas[t];
            paper = fmax(paper, fabs(ancestral[i] - (xt[i] - beta / sqrt(1.0 - s.alphas_cumprod[t]) * epsilon[i]) / sqrt(1.0 - beta)));
        }
        CHECK(worst < 2e-5, "t %d: DDIM (eta 1) against the posterior: %g", t, worst);
        CHECK(paper < 2e-5, "t %d: the ancestral mean against the paper's form: %g", t, paper);
        int s_to = t / 3;  // η = 0 with ε the true noise: x_s = √ᾱ_s x_0 + √(1−ᾱ_s) ε exactly
        ddim_step(&s, t, s_to, 0.0, xt, noise, NULL, N, 0, at_s);
        double exact = 0.0;
        for (int i = 0; i < N; i++) {
            double expected = sqrt(s.alphas_cumprod[s_to]) * x0[i] + sqrt(1.0 - s.alphas_cumprod[s_to]) * noise[i];
            exact = fmax(exact, fabs(at_s[i] - expected));
        }
        CHECK(exact < 1e-4, "t %d -> %d: DDIM eta 0 off the closed form by %g", t, s_to, exact);
    }
    int tau[50];
    ddim_timesteps(1000, 50, tau);
    CHECK(tau[0] == 1 && tau[1] == 21 && tau[49] == 981, "tau %d %d ... %d", tau[0], tau[1], tau[49]);
    int every[7];
    ddim_timesteps(7, 7, every);
    for (int i = 0; i < 7; i++) CHECK(every[i] == i + 1, "S = T: tau[%d] = %d", i, every[i]);
    ddpm_schedule_free(&s);
}

static void samplers(void) {
    Ddpm model;
    Error error;
    REQUIRE(small_model(&model, 2, &error) == 0, "%s", error.message);
    float a[3 * 64], b[3 * 64], chain[5 * 64];
    DdpmSampling ddim = {DDPM_SAMPLER_DDIM, 10, 0.0f, 1}, ddpm = {DDPM_SAMPLER_ANCESTRAL, 50, 0.0f, 1};
    REQUIRE(ddpm_sample(&model, &ddim, 3, 4, a, chain, 5, &error) == 0, "%s", error.message);
    REQUIRE(ddpm_sample(&model, &ddim, 3, 4, b, NULL, 0, &error) == 0, "%s", error.message);
    CHECK(memcmp(a, b, sizeof a) == 0, "the same seed gave other DDIM samples");
    CHECK(memcmp(chain + 4 * 64, a, sizeof(float) * 64) == 0, "the chain's last frame is not the first sample");
    REQUIRE(ddpm_sample(&model, &ddpm, 3, 4, b, NULL, 0, &error) == 0, "%s", error.message);
    int inside = 1, differs = 0;
    for (int i = 0; i < 3 * 64; i++) inside &= a[i] >= 0.0f && a[i] <= 1.0f && b[i] >= 0.0f && b[i] <= 1.0f, differs |= a[i] != b[i];
    CHECK(inside, "a pixel outside [0, 1]");
    CHECK(differs, "ancestral and DDIM samples are identical");
    ddim.steps = 0;
    CHECK(ddpm_sample(&model, &ddim, 3, 4, a, NULL, 0, &error) != 0 && strstr(error.message, "sampling steps"), "0 steps accepted");
    ddim.steps = 51;
    CHECK(ddpm_sample(&model, &ddim, 3, 4, a, NULL, 0, &error) != 0, "S > T accepted");
    ddim.steps = 5, ddim.eta = -1.0f;
    CHECK(ddpm_sample(&model, &ddim, 3, 4, a, NULL, 0, &error) != 0, "a negative eta accepted");
    ddpm_free(&model);
}

static void checkpoints(void) {
    Ddpm model, loaded;
    Error error;
    REQUIRE(small_model(&model, 9, &error) == 0, "%s", error.message);
    char path[512], other[512];
    snprintf(path, sizeof path, "%s/ddpm.safetensors", check_directory());
    snprintf(other, sizeof other, "%s/vae.safetensors", check_directory());
    REQUIRE(ddpm_save(&model, path, &error) == 0, "%s", error.message);
    REQUIRE(ddpm_load(&loaded, path, &error) == 0, "%s", error.message);
    CHECK(loaded.config.steps == 50 && loaded.config.height == 8 && loaded.config.unet.width == 4 &&
              loaded.config.unet.levels == 2 && loaded.config.unet.time_channels == 6 && loaded.schedule.betas[50] == model.schedule.betas[50],
          "the configuration did not come back");
    float a[64], b[64];
    DdpmSampling ddim = {DDPM_SAMPLER_DDIM, 5, 0.5f, 1};
    CHECK(ddpm_sample(&model, &ddim, 1, 1, a, NULL, 0, &error) == 0 && ddpm_sample(&loaded, &ddim, 1, 1, b, NULL, 0, &error) == 0 &&
              memcmp(a, b, sizeof a) == 0,
          "the loaded model samples otherwise");
    ddpm_free(&loaded);
    Vae vae;
    VaeConfig vae_config = {16, 4, 2};
    Random rng;
    random_seed(&rng, 1);
    REQUIRE(vae_create(&vae, &vae_config, &rng, &error) == 0, "%s", error.message);
    REQUIRE(state_dict_save(&vae.params, other, &VAE_METADATA, 1, &error) == 0, "%s", error.message);
    CHECK(ddpm_load(&loaded, other, &error) != 0 && strstr(error.message, "a vae checkpoint, not a ddpm one"), "%s", error.message);
    vae_free(&vae);
    ddpm_free(&model);
}

// 120 steps on 16 squares of 5 sizes at 3 places: the last steps' loss well below the first's.
static void training_lowers_the_loss(void) {
    Ddpm model;
    Error error;
    REQUIRE(small_model(&model, 4, &error) == 0, "%s", error.message);
    float images[16 * 64] = {0};
    for (int i = 0; i < 16; i++) {
        int side = 2 + i % 5, corner = i % 3;
        for (int y = corner; y < corner + side; y++)
            for (int x = corner; x < corner + side; x++) images[i * 64 + y * 8 + x] = 1.0f;
    }
    DdpmTrainConfig config = {120, 0.0, 16, 3e-3f, 1.0f, 5};
    DdpmTrainResult result;
    REQUIRE(ddpm_train(&model, images, 16, &config, NULL, NULL, &result, &error) == 0, "%s", error.message);
    CHECK(result.steps == 120, "%d steps", result.steps);
    CHECK(result.first_loss > 0.5 && result.last_loss < 0.6 * result.first_loss, "loss %g -> %g", result.first_loss,
          result.last_loss);
    config.steps = 0;
    CHECK(ddpm_train(&model, images, 16, &config, NULL, NULL, &result, &error) != 0, "0 steps accepted");
    ddpm_free(&model);
}

static const SafetensorsTensor *state_tensor(const Safetensors *file, const char *name) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    CHECK(t && t->floats, "%s missing from the reference state", name);
    return t && t->floats ? t : NULL;
}

// The largest |ours − reference| over n values, relative to the largest |reference|
// (classifier_verify.h's).
static double relative_difference(const float *ours, const float *reference, long n) {
    return tensor_difference("", ours, reference, n, 0.0).relative;
}

// tools/reference/ddpm_reference.py's fixture: the schedule, the predicted noise, L_simple,
// every gradient, five Adam steps and one DDIM step (tolerances of test_unet.c).
static void matches_the_pytorch_reference(void) {
    Ddpm model;
    Safetensors state;
    Error error;
    REQUIRE(ddpm_load(&model, "tests/fixtures/ddpm/PARAMS.safetensors", &error) == 0, "%s", error.message);
    REQUIRE(safetensors_read(&state, "tests/fixtures/ddpm/STATE.safetensors", &error) == 0, "%s", error.message);
    const SafetensorsTensor *x0 = state_tensor(&state, "x0"), *tt = state_tensor(&state, "t"), *noise = state_tensor(&state, "noise");
    const SafetensorsTensor *alpha_bar = state_tensor(&state, "alphas_cumprod"), *epsilon_ref = state_tensor(&state, "epsilon");
    const SafetensorsTensor *loss_ref = state_tensor(&state, "loss"), *steps_ref = state_tensor(&state, "step_losses");
    const SafetensorsTensor *z = state_tensor(&state, "z"), *ddim_ref = state_tensor(&state, "ddim");
    if (!x0 || !tt || !noise || !alpha_bar || !epsilon_ref || !loss_ref || !steps_ref || !z || !ddim_ref) {
        safetensors_free(&state), ddpm_free(&model);
        return;
    }
    int B = (int)x0->shape[0], t[16];
    long size = x0->count / B;
    REQUIRE(B <= 16 && alpha_bar->count == model.config.steps + 1, "batch %d, %lld alpha_bar values", B, (long long)alpha_bar->count);
    for (int i = 0; i < B; i++) t[i] = (int)tt->floats[i];
    double schedule = 0.0;
    for (int i = 0; i <= model.config.steps; i++) schedule = fmax(schedule, fabs(model.schedule.alphas_cumprod[i] - alpha_bar->floats[i]));
    CHECK(schedule < 1e-7, "alpha_bar differs from numpy's cumprod by %g", schedule);
    Tape tape;
    tape_init(&tape);
    Tensor *x = tensor_from(&tape, x0->floats, 4, (int[]){B, 1, 28, 28}), *xt = tensor_new(&tape, 4, (int[]){B, 1, 28, 28});
    ddpm_diffuse(&model.schedule, t, x0->floats, noise->floats, B, size, xt->data);
    Tensor *epsilon = ddpm_predict_noise(&tape, &model, xt, t);
    REQUIRE(epsilon != NULL, "%s", tape.error.message);
    CHECK(relative_difference(epsilon->data, epsilon_ref->floats, epsilon->size) < 1e-4, "epsilon differs by %g of its largest",
          relative_difference(epsilon->data, epsilon_ref->floats, epsilon->size));
    float ddim[4 * 784];
    for (int i = 0; i < B && B <= 4; i++)
        ddim_step(&model.schedule, t[i], t[i] / 2, 0.5, xt->data + i * size, epsilon->data + i * size, z->floats + i * size, size, 1,
                  ddim + i * size);
    if (B <= 4) CHECK(relative_difference(ddim, ddim_ref->floats, B * size) < 1e-4, "the DDIM step differs");
    Tensor *loss = ddpm_loss(&tape, &model, x, t, noise->floats);
    REQUIRE(loss != NULL, "%s", tape.error.message);
    CHECK(fabs(loss->data[0] - loss_ref->floats[0]) <= 1e-5 * fabs(loss_ref->floats[0]), "loss %.8f, reference %.8f",
          (double)loss->data[0], (double)loss_ref->floats[0]);
    parameters_zero_grad(&model.unet.params);
    REQUIRE(tape_backward(&tape, loss, &error) == 0, "%s", error.message);
    int compared = 0;
    for (int i = 0; i < model.unet.params.count; i++) {
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", model.unet.params.entries[i].name);
        const SafetensorsTensor *reference = state_tensor(&state, name);
        Tensor *p = model.unet.params.entries[i].tensor;
        if (!reference || reference->count != p->size) continue;
        double relative = relative_difference(p->grad, reference->floats, p->size);
        CHECK(relative <= 1e-3, "%s differs by %g of its largest", name, relative);
        compared++;
    }
    CHECK(compared == model.unet.params.count && compared == 40, "%d gradients compared", compared);
    ParamOptimizer optimizer;
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    REQUIRE(param_optimizer_init(&optimizer, &model.unet.params, &group, 1, NULL, &error) == 0, "%s", error.message);
    for (int step = 0; step < (int)steps_ref->count; step++) {
        tape_reset(&tape);
        loss = ddpm_loss(&tape, &model, tensor_from(&tape, x0->floats, 4, (int[]){B, 1, 28, 28}), t, noise->floats);
        if (!loss) break;
        CHECK(fabs(loss->data[0] - steps_ref->floats[step]) <= 1e-5 * fabs(steps_ref->floats[step]), "step %d: loss %.8f, reference %.8f",
              step, (double)loss->data[0], (double)steps_ref->floats[step]);
        parameters_zero_grad(&model.unet.params);
        if (tape_backward(&tape, loss, &error)) break;
        param_optimizer_step(&optimizer, 1e-3f);
    }
    param_optimizer_free(&optimizer);
    tape_free(&tape);
    safetensors_free(&state);
    ddpm_free(&model);
}

static const CheckCase CASES[] = {
    {"schedule", schedule_matches_direct_products},
    {"moments", diffusion_moments},
    {"time features", time_features},
    {"backward", noise_predictor_backward},
    {"ddim", ddim_agrees_with_ddpm},
    {"samplers", samplers},
    {"checkpoints", checkpoints},
    {"training", training_lowers_the_loss},
    {"pytorch", matches_the_pytorch_reference},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
