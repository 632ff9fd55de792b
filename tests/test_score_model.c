// The score model (models/score_model.c): annealed Langevin dynamics with the exact score of a
// noised Gaussian samples that Gaussian; denoising score matching on Gaussian data learns the
// known optimum, the score of N(μ, Σ + σ²I); the learned model's samples have the data's
// moments; the checkpoint keeps the noise levels and refuses another model's file; on two moons
// a small model's samples are far closer to fresh data than the fitted Gaussian (MMD²).
#include <math.h>
#include <string.h>

#include "models/score_model.h"
#include "models/toy2d_quality.h"
#include "nn/state_dict.h"
#include "tests/check.h"

enum { N = 2000 };
static const float mean[2] = {1.0f, -0.5f}, std[2] = {0.5f, 1.0f};

// ∇ log N(x; μ, diag(s²) + σ²I) = −(x − μ)/(s² + σ²), coordinate by coordinate.
static int gaussian_score(void *context, const float *x, int n, float sigma, float *score, Error *error) {
    (void)context, (void)error;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < 2; d++) score[2 * i + d] = -(x[2 * i + d] - mean[d]) / (std[d] * std[d] + sigma * sigma);
    return 0;
}

static void gaussian_data(float *xy, int n, uint64_t seed) {
    Random rng;
    random_seed(&rng, seed);
    for (int i = 0; i < n; i++)
        for (int d = 0; d < 2; d++) xy[2 * i + d] = random_normal(&rng, mean[d], std[d]);
}

static void moments_match(const float *xy, int n, double tolerance) {
    double m[2] = {0, 0}, v[2] = {0, 0};
    for (int i = 0; i < n; i++)
        for (int d = 0; d < 2; d++) m[d] += xy[2 * i + d] / n;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < 2; d++) v[d] += (xy[2 * i + d] - m[d]) * (xy[2 * i + d] - m[d]) / n;
    for (int d = 0; d < 2; d++) {
        CHECK_NEAR(m[d], mean[d], tolerance * std[d]);
        CHECK_NEAR(sqrt(v[d]), std[d], tolerance * std[d]);
    }
}

static void langevin_with_the_exact_score_samples_the_gaussian(void) {
    ScoreModel model;
    Error error;
    ScoreConfig config = {8, 10, 2.0f, 0.05f, SCORE_RELU};
    REQUIRE(score_model_init(&model, &config, 1, &error) == 0, "%s", error.message);
    static float samples[2 * N];
    LangevinConfig langevin = {100, 2e-3f, 1, -3.0f, 3.0f};
    REQUIRE(annealed_langevin(gaussian_score, NULL, model.sigmas, 10, &langevin, N, 5, samples, &error) == 0, "%s",
            error.message);
    moments_match(samples, N, 0.08);
    CHECK_NEAR(model.sigmas[0], 2.0, 1e-6);
    CHECK_NEAR(model.sigmas[9], 0.05, 1e-6);
    CHECK_NEAR(model.sigmas[1] / model.sigmas[0], model.sigmas[9] / model.sigmas[8], 1e-5);  // geometric
    langevin.steps_per_sigma = 0;
    CHECK(annealed_langevin(gaussian_score, NULL, model.sigmas, 10, &langevin, N, 5, samples, &error) != 0, "0 steps accepted");
    score_model_free(&model);
}

// A model of config initialised from seed 1 and trained on data (n,2); freed on failure.
static int trained_model(ScoreModel *model, const ScoreConfig *config, const float *data, int n,
                         const ScoreTraining *training, Error *error) {
    float loss;
    if (score_model_init(model, config, 1, error)) return -1;
    if (!score_model_train(model, data, n, training, &loss, error)) return 0;
    score_model_free(model);
    return -1;
}

// The DSM optimum on N(μ, diag(s²)) at level σ is −(x − μ)/(s² + σ²): the trained network's
// score at points within two standard deviations is within 15% (mean relative error).
static void dsm_learns_the_gaussian_score(void) {
    static float data[2 * N];
    gaussian_data(data, N, 1);
    ScoreModel model;
    Error error;
    ScoreConfig config = {64, 6, 2.0f, 0.1f, SCORE_RELU};
    ScoreTraining training = {2500, 128, 2e-3f, 1};
    REQUIRE(trained_model(&model, &config, data, N, &training, &error) == 0, "%s", error.message);
    for (int level = 0; level < config.n_sigmas; level += 2) {
        float sigma = model.sigmas[level], points[2 * 25], learned[2 * 25], exact[2 * 25];
        for (int i = 0; i < 25; i++)
            for (int d = 0; d < 2; d++) points[2 * i + d] = mean[d] + std[d] * (float)((d ? i / 5 : i % 5) - 2) * 0.8f;
        REQUIRE(score_model_score(&model, points, 25, sigma, learned, &error) == 0, "%s", error.message);
        gaussian_score(NULL, points, 25, sigma, exact, NULL);
        double error_norm = 0.0, exact_norm = 0.0;
        for (int i = 0; i < 50; i++) error_norm += fabs(learned[i] - exact[i]), exact_norm += fabs(exact[i]);
        CHECK(error_norm / exact_norm < 0.15, "sigma %g: relative error %g", (double)sigma, error_norm / exact_norm);
    }
    // the learned model's samples (no denoising needed at σ_L = 0.1 ≪ s) have the data's moments
    // (the sanitizer build draws a quarter as many, tolerance doubled: check_quick)
    static float samples[2 * N];
    LangevinConfig langevin = {100, 2e-3f, 1, -3.0f, 3.0f};
    int n_samples = check_quick() ? N / 8 : N / 2;
    REQUIRE(annealed_langevin(score_model_function, &model, model.sigmas, config.n_sigmas, &langevin, n_samples, 2,
                              samples, &error) == 0, "%s", error.message);
    moments_match(samples, n_samples, check_quick() ? 0.24 : 0.12);
    // the checkpoint keeps the noise levels and the scores
    const char *path = check_path("score.safetensors");
    REQUIRE(score_model_save(&model, path, "gaussian", &error) == 0, "%s", error.message);
    ScoreModel loaded;
    REQUIRE(score_model_load(&loaded, path, NULL, 0, &error) == 0, "%s", error.message);
    CHECK(memcmp(loaded.sigmas, model.sigmas, sizeof model.sigmas) == 0, "noise levels differ after loading");
    float a[2], b[2];
    score_model_score(&model, data, 1, 0.3f, a, &error);
    score_model_score(&loaded, data, 1, 0.3f, b, &error);
    CHECK(a[0] == b[0] && a[1] == b[1], "scores differ after loading");
    score_model_free(&loaded);
    // a checkpoint without "activation" is the softplus version's; an unknown one is refused
    SafetensorsMetadata before[] = {{"arch", "score_model"}, {"hidden", "64"}, {"n_sigmas", "6"}, {"sigma_max", "2"},
                                    {"sigma_min", "0.1"}, {"activation", "tanh"}};
    REQUIRE(state_dict_save(&model.params, path, before, 5, &error) == 0, "%s", error.message);
    REQUIRE(score_model_load(&loaded, path, NULL, 0, &error) == 0, "%s", error.message);
    CHECK(loaded.config.activation == SCORE_SOFTPLUS, "a checkpoint without an activation loads as %s",
          score_activation_name(loaded.config.activation));
    score_model_free(&loaded);
    REQUIRE(state_dict_save(&model.params, path, before, 6, &error) == 0, "%s", error.message);
    CHECK(score_model_load(&loaded, path, NULL, 0, &error) != 0 && strstr(error.message, "unknown activation 'tanh'") &&
              strstr(error.message, path), "%s", error.message);
    SafetensorsMetadata metadata[] = {{"arch", "realnvp"}};
    REQUIRE(state_dict_save(&model.params, path, metadata, 1, &error) == 0, "%s", error.message);
    CHECK(score_model_load(&loaded, path, NULL, 0, &error) != 0 &&
              strstr(error.message, "a realnvp checkpoint, not a score_model one"), "%s", error.message);
    score_model_free(&model);
}

// Two moons, a model small enough for a test (width 64, 3,000 steps of 128 at a peak rate of
// 3e-3: 0.4 s of CPU in Release) sampled with T = 30: the samples' MMD² to fresh data at h/4,
// which sees the moons' width, is below a quarter of the fitted Gaussian's (measured over seeds
// 1–3: 0.0048–0.0063 against 0.032–0.034). At h itself 500 points are too few to tell them apart
// reliably (floors from −0.0010 to +0.0007 against the Gaussian's 0.002–0.004), so it is not
// asserted. A sampler that does not move the points, drops the noise or follows the score the
// wrong way lands far above the Gaussian.
static void moons_samples_beat_the_gaussian(void) {
    enum { POINTS = 2000, SAMPLES = 500 };
    static float data[2 * POINTS], samples[2 * SAMPLES];
    toy2d_sample(TOY2D_MOONS, POINTS, 1, data, NULL);
    ScoreModel model;
    Error error;
    ScoreConfig config = {64, 10, 2.0f, 0.05f, SCORE_RELU};
    ScoreTraining training = {3000, 128, 3e-3f, 1};
    REQUIRE(trained_model(&model, &config, data, POINTS, &training, &error) == 0, "%s", error.message);
    LangevinConfig langevin = {30, 1e-4f, 1, -3.0f, 3.0f};
    Toy2dQuality q;
    int status = annealed_langevin(score_model_function, &model, model.sigmas, config.n_sigmas, &langevin, SAMPLES, 1,
                                   samples, &error) ||
                 toy2d_quality(TOY2D_MOONS, samples, SAMPLES, 1001, &q, &error);
    score_model_free(&model);
    REQUIRE(status == 0, "%s", error.message);
    CHECK(q.samples_fine < q.gaussian_fine / 4, "MMD² at h/4: samples %g, the Gaussian %g, floor %g", q.samples_fine,
          q.gaussian_fine, q.floor_fine);
    CHECK(fabs(q.floor_fine) < q.gaussian_fine / 10, "floor %g against the Gaussian's %g", q.floor_fine, q.gaussian_fine);
}

static const CheckCase CASES[] = {
    {"langevin with the exact score samples the gaussian", langevin_with_the_exact_score_samples_the_gaussian},
    {"dsm learns the gaussian score", dsm_learns_the_gaussian_score},
    {"moons samples beat the gaussian", moons_samples_beat_the_gaussian},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
