// Noise-conditional score network, denoising score matching, annealed Langevin: see score_model.h.
#include "models/score_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/optimizer.h"
#include "models/model_checkpoint.h"
#include "nn/optim.h"
#include "nn/state_dict.h"

static const char *const activation_names[] = {"relu", "softplus"};

const char *score_activation_name(ScoreActivation activation) {
    return activation == SCORE_SOFTPLUS ? activation_names[1] : activation_names[0];
}

int score_activation_parse(const char *name, ScoreActivation *activation, Error *error) {
    for (int k = 0; k < 2; k++)
        if (!strcmp(name, activation_names[k])) return *activation = (ScoreActivation)k, 0;
    return error_set(error, "unknown activation '%s' (relu or softplus)", name);
}

int score_model_init(ScoreModel *model, const ScoreConfig *config, uint64_t seed, Error *error) {
    memset(model, 0, sizeof *model);
    const ScoreConfig *c = config;
    if (c->hidden < 1 || c->hidden > 4096 || c->n_sigmas < 1 || c->n_sigmas > SCORE_MAX_SIGMAS ||
        !(c->sigma_min > 0.0f) || !(c->sigma_max >= c->sigma_min) || !isfinite(c->sigma_max) ||
        (c->activation != SCORE_RELU && c->activation != SCORE_SOFTPLUS))
        return error_set(error, "score model: width %d, %d noise levels from %g to %g (width 1..4096, 1..%d levels, "
                                "0 < sigma_min <= sigma_max)",
                         c->hidden, c->n_sigmas, (double)c->sigma_max, (double)c->sigma_min, SCORE_MAX_SIGMAS);
    model->config = *c;
    for (int i = 0; i < c->n_sigmas; i++) {  // σ_i = σ₁ (σ_L/σ₁)^(i/(L−1))
        double t = c->n_sigmas > 1 ? (double)i / (c->n_sigmas - 1) : 0.0;
        model->sigmas[i] = (float)(c->sigma_max * pow((double)c->sigma_min / c->sigma_max, t));
    }
    Random rng;
    random_seed(&rng, seed);
    if (linear_init(&model->fc1, &model->params, "fc1", 3, c->hidden, 1, &rng, error) ||
        linear_init(&model->fc2, &model->params, "fc2", c->hidden, c->hidden, 1, &rng, error) ||
        linear_init(&model->fc3, &model->params, "fc3", c->hidden, 2, 1, &rng, error)) {
        score_model_free(model);
        return -1;
    }
    return 0;
}

void score_model_free(ScoreModel *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

static Tensor *activate(Tape *tape, const ScoreModel *model, Tensor *x) {
    return model->config.activation == SCORE_SOFTPLUS ? nn_softplus(tape, x) : nn_relu(tape, x);
}

Tensor *score_model_scaled_score(Tape *tape, const ScoreModel *model, Tensor *x, Tensor *log_sigma) {
    Tensor *inputs[2] = {x, log_sigma};
    Tensor *h = activate(tape, model, linear_apply(tape, &model->fc1, nn_concat(tape, inputs, 2, 1)));
    h = activate(tape, model, linear_apply(tape, &model->fc2, h));
    return linear_apply(tape, &model->fc3, h);  // f_θ(x, log σ) = σ s_θ(x, σ)
}

enum { CHUNK = 4096 };

int score_model_score(const ScoreModel *model, const float *xy, int n, float sigma, float *score, Error *error) {
    if (!(sigma > 0.0f)) return error_set(error, "score model: sigma %g (positive needed)", (double)sigma);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    int status = 0;
    for (int start = 0; !status && start < n; start += CHUNK) {
        int m = n - start < CHUNK ? n - start : CHUNK, shape[2] = {m, 2}, column[2] = {m, 1};
        tape_reset(&tape);
        Tensor *log_sigma = tensor_new(&tape, 2, column);
        for (int i = 0; log_sigma && i < m; i++) log_sigma->data[i] = logf(sigma);
        Tensor *out = score_model_scaled_score(&tape, model, tensor_from(&tape, xy + 2L * start, 2, shape), log_sigma);
        if (!out) status = tape_error(&tape, error);
        for (int i = 0; !status && i < 2 * m; i++) score[2L * start + i] = out->data[i] / sigma;
    }
    tape_free(&tape);
    return status;
}

int score_model_function(void *context, const float *x, int n, float sigma, float *score, Error *error) {
    return score_model_score(context, x, n, sigma, score, error);
}

// One minibatch's loss ½ mean ‖f_θ(x + σε, log σ) + ε‖² (summed over the two coordinates).
static Tensor *dsm_loss(Tape *tape, const ScoreModel *model, const float *data, int n, int batch, Random *rng) {
    int shape[2] = {batch, 2}, column[2] = {batch, 1};
    Tensor *noisy = tensor_new(tape, 2, shape), *noise = tensor_new(tape, 2, shape), *log_sigma = tensor_new(tape, 2, column);
    if (!noisy || !noise || !log_sigma) return NULL;
    for (int b = 0; b < batch; b++) {
        const float *x = data + 2 * random_below(rng, (uint32_t)n);
        float sigma = model->sigmas[random_below(rng, (uint32_t)model->config.n_sigmas)];
        log_sigma->data[b] = logf(sigma);
        for (int d = 0; d < 2; d++) {
            noise->data[2 * b + d] = random_normal(rng, 0.0f, 1.0f);
            noisy->data[2 * b + d] = x[d] + sigma * noise->data[2 * b + d];
        }
    }
    Tensor *residual = nn_add(tape, score_model_scaled_score(tape, model, noisy, log_sigma), noise);
    const int axis = 1;
    return nn_scale(tape, nn_mean(tape, nn_sum(tape, nn_mul(tape, residual, residual), &axis, 1, 0), NULL, 0, 0), 0.5f);
}

int score_model_train(ScoreModel *model, const float *data, int n, const ScoreTraining *training, float *final_loss,
                      Error *error) {
    if (n < 1 || training->steps < 1 || training->batch < 1 || !(training->lr > 0.0f))
        return error_set(error, "score model: %d points, %d steps, batch %d, lr %g (positive needed)", n, training->steps,
                         training->batch, (double)training->lr);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, &model->params, &group, 1, NULL, error)) return -1;
    Random rng;
    random_seed(&rng, training->seed);
    Tape tape;
    tape_init(&tape);
    int status = 0, tail = training->steps < 100 ? training->steps : 100;
    double tail_sum = 0.0;
    // A cosine from lr to lr/100 (Loshchilov & Hutter 2017): the last steps settle the weights
    // instead of leaving them jittering, which at the small noise levels is a jittering field.
    Schedule schedule = {.kind = SCHEDULE_COSINE, .base_lr = training->lr, .total_steps = training->steps,
                         .min_lr = training->lr / 100};
    for (int step = 0; step < training->steps && !status; step++) {
        tape_reset(&tape);
        Tensor *loss = dsm_loss(&tape, model, data, n, training->batch, &rng);
        parameters_zero_grad(&model->params);
        if (!loss) status = tape_error(&tape, error);
        else if (!isfinite(loss->data[0])) status = error_set(error, "score model: the loss is %g at step %d", (double)loss->data[0], step);
        else if (!(status = tape_backward(&tape, loss, error))) {
            param_optimizer_step(&optimizer, schedule_lr(&schedule, step));
            if (step >= training->steps - tail) tail_sum += loss->data[0];
        }
    }
    tape_free(&tape);
    param_optimizer_free(&optimizer);
    *final_loss = (float)(tail_sum / tail);
    return status;
}

int annealed_langevin(ScoreFunction score, void *context, const float *sigmas, int n_sigmas,
                      const LangevinConfig *config, int n, uint64_t seed, float *x, Error *error) {
    if (config->steps_per_sigma < 1 || !(config->step_size > 0.0f) || n < 1 || n_sigmas < 1)
        return error_set(error, "langevin: %d steps per noise level, step size %g, %d samples (all positive needed)",
                         config->steps_per_sigma, (double)config->step_size, n);
    float *s = malloc(sizeof(float) * 2 * (size_t)n);
    if (!s) return error_set(error, "langevin: out of memory for %d samples", n);
    Random rng;
    random_seed(&rng, seed);
    for (long i = 0; i < 2L * n; i++)
        x[i] = config->init_low + (config->init_high - config->init_low) * random_uniform(&rng);
    const float sigma_last = sigmas[n_sigmas - 1];
    int status = 0;
    for (int level = 0; level < n_sigmas && !status; level++) {
        float alpha = config->step_size * (sigmas[level] / sigma_last) * (sigmas[level] / sigma_last);
        float noise = sqrtf(alpha);
        for (int t = 0; t < config->steps_per_sigma && !status; t++) {
            if ((status = score(context, x, n, sigmas[level], s, error))) break;
            for (long i = 0; i < 2L * n; i++) x[i] += 0.5f * alpha * s[i] + noise * random_normal(&rng, 0.0f, 1.0f);
        }
        for (long i = 0; i < 2L * n && !status; i++)
            if (!isfinite(x[i]) || fabsf(x[i]) > 1e6f)
                status = error_set(error, "langevin: the samples diverged at noise level %d (sigma %g): lower the step size",
                                   level, (double)sigmas[level]);
    }
    if (!status && config->denoise && !(status = score(context, x, n, sigma_last, s, error)))
        for (long i = 0; i < 2L * n; i++) x[i] += sigma_last * sigma_last * s[i];  // E[x | x̃] (Tweedie)
    free(s);
    return status;
}

int score_model_save(const ScoreModel *model, const char *path, const char *data_name, Error *error) {
    char hidden[16], levels[16], high[32], low[32];
    snprintf(hidden, sizeof hidden, "%d", model->config.hidden);
    snprintf(levels, sizeof levels, "%d", model->config.n_sigmas);
    snprintf(high, sizeof high, "%.9g", (double)model->config.sigma_max);
    snprintf(low, sizeof low, "%.9g", (double)model->config.sigma_min);
    SafetensorsMetadata metadata[] = {{"arch", "score_model"}, {"hidden", hidden}, {"n_sigmas", levels},
                                      {"sigma_max", high}, {"sigma_min", low},
                                      {"activation", score_activation_name(model->config.activation)},
                                      {"data", data_name ? data_name : ""}};
    return state_dict_save(&model->params, path, metadata, 7, error);
}

int score_model_load(ScoreModel *model, const char *path, char *data_name, int data_name_size, Error *error) {
    Safetensors file;
    if (model_checkpoint_open(&file, path, "score_model", error)) return -1;
    ScoreConfig c = {0};
    const char *activation = safetensors_metadata(&file, "activation");  // none: the softplus version
    c.activation = SCORE_SOFTPLUS;
    int status = activation && score_activation_parse(activation, &c.activation, error);
    if (status) error_prefix(error, "%s", path);
    status = status || model_checkpoint_int(&file, path, "hidden", 1, 4096, &c.hidden, error) ||
                 model_checkpoint_int(&file, path, "n_sigmas", 1, SCORE_MAX_SIGMAS, &c.n_sigmas, error) ||
                 model_checkpoint_float(&file, path, "sigma_max", 1e-6f, 1e6f, &c.sigma_max, error) ||
                 model_checkpoint_float(&file, path, "sigma_min", 1e-6f, 1e6f, &c.sigma_min, error);
    if (!status) status = score_model_init(model, &c, 0, error);
    if (!status && (status = state_dict_load_file(&model->params, &file, path, error))) score_model_free(model);
    const char *data = safetensors_metadata(&file, "data");
    if (!status && data_name) snprintf(data_name, (size_t)data_name_size, "%s", data ? data : "");
    safetensors_free(&file);
    return status ? -1 : 0;
}
