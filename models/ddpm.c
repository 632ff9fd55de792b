// Denoising diffusion (DDPM) and DDIM sampling: see ddpm.h. The schedule and its closed forms,
// the model and its checkpoint, the objective, training, then the samplers.
#include "models/ddpm.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_checkpoint.h"
#include "nn/optim.h"
#include "nn/state_dict.h"

enum { SAMPLE_BATCH = 250, LOSS_WINDOW = 100 };

// ---------------------------------------------------------------------------------------
// schedule

int ddpm_schedule_create(DdpmSchedule *schedule, int steps, double beta_start, double beta_end, Error *error) {
    memset(schedule, 0, sizeof *schedule);
    if (steps < 1 || steps > DDPM_MAX_STEPS)
        return error_set(error, "ddpm: %d diffusion steps (1 to %d)", steps, DDPM_MAX_STEPS);
    if (!(beta_start > 0.0 && beta_start <= beta_end && beta_end < 1.0))
        return error_set(error, "ddpm: betas %g to %g (0 < beta_start <= beta_end < 1 needed)", beta_start, beta_end);
    schedule->betas = malloc(sizeof(double) * (size_t)(steps + 1));
    schedule->alphas_cumprod = malloc(sizeof(double) * (size_t)(steps + 1));
    if (!schedule->betas || !schedule->alphas_cumprod) {
        ddpm_schedule_free(schedule);
        return error_set(error, "ddpm: out of memory");
    }
    schedule->steps = steps, schedule->beta_start = beta_start, schedule->beta_end = beta_end;
    schedule->betas[0] = 0.0, schedule->alphas_cumprod[0] = 1.0;
    double log_alpha_bar = 0.0;  // Σ log(1 − β_s): a product of 1000 factors near 1, kept as a sum
    for (int t = 1; t <= steps; t++) {
        double beta = steps == 1 ? beta_start : beta_start + (beta_end - beta_start) * (t - 1) / (steps - 1);
        log_alpha_bar += log1p(-beta);
        schedule->betas[t] = beta;
        schedule->alphas_cumprod[t] = exp(log_alpha_bar);
    }
    return 0;
}

void ddpm_schedule_free(DdpmSchedule *schedule) {
    free(schedule->betas), free(schedule->alphas_cumprod);
    memset(schedule, 0, sizeof *schedule);
}

DdpmPosterior ddpm_posterior(const DdpmSchedule *schedule, int t) {
    double beta = schedule->betas[t], alpha_bar = schedule->alphas_cumprod[t];
    double alpha_bar_prev = schedule->alphas_cumprod[t - 1];
    DdpmPosterior p = {sqrt(alpha_bar_prev) * beta / (1.0 - alpha_bar),
                       sqrt(1.0 - beta) * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar),
                       (1.0 - alpha_bar_prev) / (1.0 - alpha_bar) * beta};
    return p;
}

void ddpm_diffuse(const DdpmSchedule *schedule, const int *t, const float *x0, const float *noise, int n, long size,
                  float *xt) {
    for (int i = 0; i < n; i++) {
        double alpha_bar = schedule->alphas_cumprod[t[i]];
        float a = (float)sqrt(alpha_bar), b = (float)sqrt(1.0 - alpha_bar);
        for (long j = i * size; j < (i + 1) * size; j++) xt[j] = a * x0[j] + b * noise[j];
    }
}

void ddpm_predict_x0(const DdpmSchedule *schedule, int t, const float *xt, const float *epsilon, long count, int clip,
                     float *x0) {
    double alpha_bar = schedule->alphas_cumprod[t];
    float scale = (float)(1.0 / sqrt(alpha_bar)), noise = (float)sqrt(1.0 - alpha_bar);
    for (long i = 0; i < count; i++) {
        float v = (xt[i] - noise * epsilon[i]) * scale;
        x0[i] = clip ? fminf(1.0f, fmaxf(-1.0f, v)) : v;
    }
}

void ddpm_ancestral_step(const DdpmSchedule *schedule, int t, const float *xt, const float *epsilon, const float *z,
                         long count, int clip, float *out) {
    DdpmPosterior p = ddpm_posterior(schedule, t);
    float a = (float)p.x0_coefficient, b = (float)p.xt_coefficient;
    float sigma = t > 1 ? (float)sqrt(schedule->betas[t]) : 0.0f;  // σ_t² = β_t; no noise at the last step
    double alpha_bar = schedule->alphas_cumprod[t];
    float scale = (float)(1.0 / sqrt(alpha_bar)), noise = (float)sqrt(1.0 - alpha_bar);
    for (long i = 0; i < count; i++) {
        float x0 = (xt[i] - noise * epsilon[i]) * scale;  // x̂_0
        if (clip) x0 = fminf(1.0f, fmaxf(-1.0f, x0));
        out[i] = a * x0 + b * xt[i] + (sigma > 0.0f ? sigma * z[i] : 0.0f);
    }
}

double ddim_sigma(const DdpmSchedule *schedule, int t, int s, double eta) {
    double alpha_bar = schedule->alphas_cumprod[t], alpha_bar_s = schedule->alphas_cumprod[s];
    return eta * sqrt((1.0 - alpha_bar_s) / (1.0 - alpha_bar)) * sqrt(1.0 - alpha_bar / alpha_bar_s);
}

void ddim_step(const DdpmSchedule *schedule, int t, int s, double eta, const float *xt, const float *epsilon,
               const float *z, long count, int clip, float *out) {
    double alpha_bar = schedule->alphas_cumprod[t], alpha_bar_s = schedule->alphas_cumprod[s];
    double sigma = ddim_sigma(schedule, t, s, eta);
    float scale = (float)(1.0 / sqrt(alpha_bar)), noise = (float)sqrt(1.0 - alpha_bar);
    float to_x0 = (float)sqrt(alpha_bar_s), direction = (float)sqrt(fmax(0.0, 1.0 - alpha_bar_s - sigma * sigma));
    for (long i = 0; i < count; i++) {
        float x0 = (xt[i] - noise * epsilon[i]) * scale, e = epsilon[i];
        if (clip && fabsf(x0) > 1.0f) {  // clamp x̂_0 and take the noise that goes with it
            x0 = fminf(1.0f, fmaxf(-1.0f, x0));
            e = (xt[i] - x0 / scale) / noise;
        }
        out[i] = to_x0 * x0 + direction * e + (sigma > 0.0 ? (float)sigma * z[i] : 0.0f);
    }
}

void ddim_timesteps(int T, int S, int *tau) {
    for (int i = 0; i < S; i++) tau[i] = 1 + (int)((long)i * T / S);
}

// ---------------------------------------------------------------------------------------
// model and checkpoint

DdpmConfig ddpm_default_config(void) {
    DdpmConfig config = {{1, 16, 2, 64}, 28, 28, 1000, 1e-4f, 0.02f};
    return config;
}

int ddpm_create(Ddpm *model, const DdpmConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    if (config->unet.time_channels < 2)
        return error_set(error, "ddpm: %d time channels (the noise predictor needs at least 2)", config->unet.time_channels);
    if (unet_create(&model->unet, &config->unet, rng, error)) return -1;
    if (unet_check_input(&model->unet, config->unet.in_channels, config->height, config->width, error) ||
        ddpm_schedule_create(&model->schedule, config->steps, config->beta_start, config->beta_end, error)) {
        ddpm_free(model);
        return -1;
    }
    model->config = *config;
    return 0;
}

int ddpm_load(Ddpm *model, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    Safetensors file;
    if (model_checkpoint_open(&file, path, "ddpm", error)) return -1;
    DdpmConfig c;
    int status = model_checkpoint_int(&file, path, "steps", 1, DDPM_MAX_STEPS, &c.steps, error) ||
                 model_checkpoint_float(&file, path, "beta_start", 1e-8f, 0.999f, &c.beta_start, error) ||
                 model_checkpoint_float(&file, path, "beta_end", 1e-8f, 0.999f, &c.beta_end, error) ||
                 model_checkpoint_int(&file, path, "height", 1, 4096, &c.height, error) ||
                 model_checkpoint_int(&file, path, "width", 1, 4096, &c.width, error) ||
                 unet_from_file(&model->unet, &file, path, error);
    safetensors_free(&file);
    if (status) return -1;
    c.unet = model->unet.config;
    if (c.unet.time_channels < 2) status = error_set(error, "%s: a U-Net without time conditioning", path);
    else if (unet_check_input(&model->unet, c.unet.in_channels, c.height, c.width, error) ||
             ddpm_schedule_create(&model->schedule, c.steps, c.beta_start, c.beta_end, error))
        status = error_prefix(error, "%s", path);
    if (status) {
        ddpm_free(model);
        return -1;
    }
    model->config = c;
    return 0;
}

int ddpm_save(const Ddpm *model, const char *path, Error *error) {
    const DdpmConfig *c = &model->config;
    char steps[16], beta_start[32], beta_end[32], height[16], width[16];
    snprintf(steps, sizeof steps, "%d", c->steps);
    snprintf(beta_start, sizeof beta_start, "%.9g", (double)c->beta_start);
    snprintf(beta_end, sizeof beta_end, "%.9g", (double)c->beta_end);
    snprintf(height, sizeof height, "%d", c->height);
    snprintf(width, sizeof width, "%d", c->width);
    SafetensorsMetadata metadata[] = {{"arch", "ddpm"},         {"steps", steps},   {"beta_start", beta_start},
                                      {"beta_end", beta_end},   {"height", height}, {"width", width}};
    return state_dict_save(&model->unet.params, path, metadata, (int)(sizeof metadata / sizeof metadata[0]), error);
}

void ddpm_free(Ddpm *model) {
    unet_free(&model->unet);
    ddpm_schedule_free(&model->schedule);
    memset(model, 0, sizeof *model);
}

// ---------------------------------------------------------------------------------------
// objective

Tensor *ddpm_predict_noise(Tape *tape, const Ddpm *model, Tensor *xt, const int *t) {
    if (!xt) return NULL;
    int n = xt->shape[0];
    float *timesteps = tape_alloc(tape, sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!timesteps) return NULL;
    for (int i = 0; i < n; i++) {
        if (t[i] < 1 || t[i] > model->config.steps)
            return tape_fail(tape, "ddpm: timestep %d of image %d outside 1..%d", t[i], i, model->config.steps);
        timesteps[i] = (float)t[i];
    }
    return unet_forward_time(tape, &model->unet, xt, timesteps);
}

Tensor *ddpm_loss(Tape *tape, const Ddpm *model, Tensor *x0, const int *t, const float *noise) {
    if (!x0) return NULL;
    if (x0->n_dims != 4) return tape_fail(tape, "ddpm: x0 must be (N,C,H,W)");
    Tensor *xt = tensor_new(tape, 4, x0->shape), *epsilon = tensor_from(tape, noise, 4, x0->shape);
    if (!xt || !epsilon) return NULL;
    int n = x0->shape[0];
    for (int i = 0; i < n; i++)
        if (t[i] < 1 || t[i] > model->config.steps)
            return tape_fail(tape, "ddpm: timestep %d of image %d outside 1..%d", t[i], i, model->config.steps);
    ddpm_diffuse(&model->schedule, t, x0->data, noise, n, x0->size / (n > 0 ? n : 1), xt->data);
    return nn_mse_loss(tape, ddpm_predict_noise(tape, model, xt, t), epsilon);
}

// ---------------------------------------------------------------------------------------
// training

// One step on a batch drawn with replacement: L_simple, its gradient, Adam. *loss_value out.
static int train_step(Ddpm *model, ParamOptimizer *optimizer, Tape *tape, Random *rng, const float *images, int n,
                      const DdpmTrainConfig *config, float *batch, int *t, float *noise, float *loss_value,
                      Error *error) {
    const DdpmConfig *c = &model->config;
    int B = config->batch_size;
    long size = (long)c->unet.in_channels * c->height * c->width;
    for (int i = 0; i < B; i++) {
        const float *image = images + (long)random_below(rng, (uint32_t)n) * size;
        for (long j = 0; j < size; j++) batch[i * size + j] = 2.0f * image[j] - 1.0f;  // [0, 1] -> [−1, 1]
        t[i] = 1 + (int)random_below(rng, (uint32_t)c->steps);                        // t ~ U{1..T}
    }
    random_fill_normal(rng, noise, B * size, 0.0f, 1.0f);
    tape_reset(tape);
    int shape[4] = {B, c->unet.in_channels, c->height, c->width};
    Tensor *loss = ddpm_loss(tape, model, tensor_from(tape, batch, 4, shape), t, noise);
    if (!loss) return tape_error(tape, error);
    *loss_value = loss->data[0];
    if (!isfinite(loss->data[0])) return error_set(error, "the loss is %g (lower the learning rate)", (double)loss->data[0]);
    parameters_zero_grad(&model->unet.params);
    if (tape_backward(tape, loss, error)) return -1;
    if (config->clip > 0.0f) parameters_clip_grad_norm(&model->unet.params, config->clip);
    param_optimizer_step(optimizer, config->lr);
    return 0;
}

int ddpm_train(Ddpm *model, const float *images, int n, const DdpmTrainConfig *config, DdpmStepCallback callback,
               void *context, DdpmTrainResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (config->steps < 1 || config->batch_size < 1 || config->batch_size > 65536 || !(config->lr > 0.0f) ||
        !(config->clip >= 0.0f) || !(config->seconds >= 0.0))
        return error_set(error, "ddpm train: %d steps (>= 1), batch %d (1..65536), lr %g (> 0), clip %g, %g s (>= 0)",
                         config->steps, config->batch_size, (double)config->lr, (double)config->clip, config->seconds);
    if (n < 1) return error_set(error, "ddpm train: no images");
    const DdpmConfig *c = &model->config;
    long size = (long)c->unet.in_channels * c->height * c->width;
    float *batch = malloc(sizeof(float) * (size_t)config->batch_size * (size_t)size);
    float *noise = malloc(sizeof(float) * (size_t)config->batch_size * (size_t)size);
    float *losses = malloc(sizeof(float) * (size_t)config->steps);
    int *t = malloc(sizeof(int) * (size_t)config->batch_size), status = -1;
    ParamOptimizer optimizer = {0};
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    Tape tape;
    tape_init(&tape);
    Random rng;
    random_seed(&rng, config->seed);
    if (!batch || !noise || !losses || !t) {
        error_set(error, "ddpm train: out of memory");
        goto done;
    }
    if (param_optimizer_init(&optimizer, &model->unet.params, &group, 1, NULL, error)) goto done;
    double start = omp_get_wtime();
    int step = 0;
    while (step < config->steps && (config->seconds <= 0.0 || omp_get_wtime() - start < config->seconds)) {
        if (train_step(model, &optimizer, &tape, &rng, images, n, config, batch, t, noise, &losses[step], error)) {
            error_prefix(error, "ddpm train, step %d", step + 1);
            goto done;
        }
        step++;
        if (callback) callback(context, step, config->steps, losses[step - 1], omp_get_wtime() - start);
    }
    result->steps = step, result->seconds = omp_get_wtime() - start;
    int window = step / 2 < LOSS_WINDOW ? (step + 1) / 2 : LOSS_WINDOW;
    for (int i = 0; i < window; i++) result->first_loss += losses[i] / window, result->last_loss += losses[step - 1 - i] / window;
    status = 0;
done:
    param_optimizer_free(&optimizer);
    tape_free(&tape);
    free(batch), free(noise), free(losses), free(t);
    return status;
}

// ---------------------------------------------------------------------------------------
// sampling

int ddpm_sampler_parse(const char *name, DdpmSampler *sampler, Error *error) {
    if (strcmp(name, "ddpm") == 0) *sampler = DDPM_SAMPLER_ANCESTRAL;
    else if (strcmp(name, "ddim") == 0) *sampler = DDPM_SAMPLER_DDIM;
    else return error_set(error, "sampler '%.40s' (ddpm or ddim)", name);
    return 0;
}

// Frame f of chain_frames: the first image of x (mapped to [0, 1]) when step `done` of `total`
// is the frame's (frames evenly spaced over 0..total).
static void record_frame(float *chain, int frames, int done, int total, const float *x, long size) {
    for (int f = 0; f < frames; f++) {
        int at = (int)((long)f * total / (frames - 1));
        if (at != done) continue;
        for (long j = 0; j < size; j++) chain[f * size + j] = fminf(1.0f, fmaxf(0.0f, 0.5f * (x[j] + 1.0f)));
    }
}

// b images from x_T in x (b, size) to x_0 in place; the chain of the first when chain is not NULL.
static int sample_batch(const Ddpm *model, const DdpmSampling *sampling, const int *tau, int S, int b, Random *rng,
                        float *x, float *z, float *chain, int frames, Tape *tape, Error *error) {
    const DdpmConfig *c = &model->config;
    long size = (long)c->unet.in_channels * c->height * c->width, count = b * size;
    int shape[4] = {b, c->unet.in_channels, c->height, c->width}, *t = malloc(sizeof(int) * (size_t)b);
    if (!t) return error_set(error, "ddpm sample: out of memory");
    random_fill_normal(rng, x, count, 0.0f, 1.0f);  // x_T
    if (chain) record_frame(chain, frames, 0, S, x, size);
    int status = 0;
    for (int i = S - 1; i >= 0 && !status; i--) {
        int now = tau[i], next = i > 0 ? tau[i - 1] : 0;
        for (int k = 0; k < b; k++) t[k] = now;
        tape_reset(tape);
        Tensor *epsilon = ddpm_predict_noise(tape, model, tensor_from(tape, x, 4, shape), t);
        if (!epsilon) {
            status = tape_error(tape, error);
            break;
        }
        int noisy = sampling->sampler == DDPM_SAMPLER_ANCESTRAL ? now > 1 : ddim_sigma(&model->schedule, now, next, sampling->eta) > 0.0;
        if (noisy) random_fill_normal(rng, z, count, 0.0f, 1.0f);
        if (sampling->sampler == DDPM_SAMPLER_ANCESTRAL)
            ddpm_ancestral_step(&model->schedule, now, x, epsilon->data, z, count, sampling->clip, x);
        else
            ddim_step(&model->schedule, now, next, sampling->eta, x, epsilon->data, z, count, sampling->clip, x);
        if (chain) record_frame(chain, frames, S - i, S, x, size);
    }
    free(t);
    return status;
}

int ddpm_sample(const Ddpm *model, const DdpmSampling *sampling, int n, unsigned long long seed, float *images,
                float *chain, int chain_frames, Error *error) {
    const DdpmConfig *c = &model->config;
    int T = c->steps, S = sampling->sampler == DDPM_SAMPLER_ANCESTRAL ? T : sampling->steps;
    if (n < 1) return error_set(error, "ddpm sample: %d images (at least 1)", n);
    if (sampling->sampler == DDPM_SAMPLER_DDIM && (S < 1 || S > T || !(sampling->eta >= 0.0f) || !isfinite(sampling->eta)))
        return error_set(error, "ddim: %d sampling steps (1 to T = %d), eta %g (>= 0)", S, T, (double)sampling->eta);
    if (chain && chain_frames < 2) return error_set(error, "ddpm sample: %d chain frames (at least 2)", chain_frames);
    long size = (long)c->unet.in_channels * c->height * c->width;
    int B = n < SAMPLE_BATCH ? n : SAMPLE_BATCH, *tau = malloc(sizeof(int) * (size_t)S);
    float *x = malloc(sizeof(float) * (size_t)B * (size_t)size), *z = malloc(sizeof(float) * (size_t)B * (size_t)size);
    int status = (!tau || !x || !z) ? error_set(error, "ddpm sample: out of memory") : 0;
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Random rng;
    random_seed(&rng, seed);
    if (tau) ddim_timesteps(T, S, tau);  // S = T: every step 1..T
    for (int start = 0; start < n && !status; start += B) {
        int b = n - start < B ? n - start : B;
        status = sample_batch(model, sampling, tau, S, b, &rng, x, z, start == 0 ? chain : NULL, chain_frames, &tape, error);
        for (long j = 0; j < b * size && !status; j++) images[start * size + j] = fminf(1.0f, fmaxf(0.0f, 0.5f * (x[j] + 1.0f)));
    }
    tape_free(&tape);
    free(tau), free(x), free(z);
    return status ? -1 : 0;
}
