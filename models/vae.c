// The variational auto-encoder: see vae.h. Configuration, parameters, forward; the tape gives
// the backward; then training, evaluation (ELBO and the importance-weighted bound) and sampling.
#include "models/vae.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/optim.h"
#include "nn/state_dict.h"

const SafetensorsMetadata VAE_METADATA = {"arch", "vae"};

enum { VAE_EVAL_BATCH = 500 };

VaeConfig vae_default_config(void) {
    VaeConfig config = {784, 400, 20};
    return config;
}

int vae_create(Vae *model, const VaeConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    const VaeConfig *c = config;
    if (c->input_size < 1 || c->hidden < 1 || c->latent < 1)
        return error_set(error, "vae: %d inputs, %d hidden, latent %d: each must be positive", c->input_size, c->hidden,
                         c->latent);
    model->config = *c;
    Parameters *p = &model->params;
    if (linear_init(&model->fc1, p, "fc1", c->input_size, c->hidden, 1, rng, error) ||
        linear_init(&model->fc_mu, p, "fc_mu", c->hidden, c->latent, 1, rng, error) ||
        linear_init(&model->fc_log_var, p, "fc_log_var", c->hidden, c->latent, 1, rng, error) ||
        linear_init(&model->fc2, p, "fc2", c->latent, c->hidden, 1, rng, error) ||
        linear_init(&model->fc3, p, "fc3", c->hidden, c->input_size, 1, rng, error)) {
        vae_free(model);
        return -1;
    }
    return 0;
}

int vae_load(Vae *model, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    const char *arch = safetensors_metadata(&file, "arch");
    const SafetensorsTensor *fc1 = safetensors_find(&file, "fc1.weight"), *mu = safetensors_find(&file, "fc_mu.weight");
    int status = 0;
    if (arch && strcmp(arch, "vae") != 0)
        status = error_set(error, "%s: %s %s checkpoint, not vae", path, strchr("aeiou", arch[0]) ? "an" : "a", arch);
    else if (!fc1 || !mu || fc1->ndim != 2 || mu->ndim != 2 || mu->shape[1] != fc1->shape[0])
        status = error_set(error, "%s: not a vae state_dict (fc1.weight (H,D) and fc_mu.weight (J,H) needed)", path);
    if (!status) {
        VaeConfig config = {(int)fc1->shape[1], (int)fc1->shape[0], (int)mu->shape[0]};
        Random unused;
        random_seed(&unused, 0);
        status = vae_create(model, &config, &unused, error) || state_dict_load_file(&model->params, &file, path, error);
        if (status) vae_free(model);
    }
    safetensors_free(&file);
    return status ? -1 : 0;
}

void vae_free(Vae *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

// ---------------------------------------------------------------------------------------
// forward

Tensor *vae_encode(Tape *tape, const Vae *model, Tensor *x, Tensor **log_var) {
    Tensor *h = nn_relu(tape, linear_apply(tape, &model->fc1, x));
    *log_var = linear_apply(tape, &model->fc_log_var, h);
    return linear_apply(tape, &model->fc_mu, h);
}

Tensor *vae_decode(Tape *tape, const Vae *model, Tensor *z) {
    return linear_apply(tape, &model->fc3, nn_relu(tape, linear_apply(tape, &model->fc2, z)));
}

Tensor *vae_loss(Tape *tape, const Vae *model, Tensor *x, Tensor *epsilon, VaeLoss *out) {
    memset(out, 0, sizeof *out);
    if (!x || !epsilon) return NULL;
    const VaeConfig *c = &model->config;
    if (x->n_dims != 2 || x->shape[1] != c->input_size || epsilon->n_dims != 2 || epsilon->shape[0] != x->shape[0] ||
        epsilon->shape[1] != c->latent) {
        char xs[64], es[64];
        return tape_fail(tape, "vae: x %s and ε %s; the model takes (B,%d) and (B,%d)",
                         tensor_shape_string(x, xs, sizeof xs), tensor_shape_string(epsilon, es, sizeof es), c->input_size,
                         c->latent);
    }
    float B = (float)x->shape[0];
    out->mean = vae_encode(tape, model, x, &out->log_var);
    Tensor *sigma = nn_exp(tape, nn_scale(tape, out->log_var, 0.5f));             // σ = exp(½ log σ²)
    Tensor *z = nn_add(tape, out->mean, nn_mul(tape, sigma, epsilon));            // z = μ + σ ⊙ ε
    out->logits = vae_decode(tape, model, z);
    // the mean over the batch of Σ_d BCE = D · the mean over all B·D elements
    out->distortion = nn_scale(tape, nn_bce_with_logits(tape, out->logits, x), (float)c->input_size);
    // KL = −½ Σ (1 + log σ² − μ² − σ²), summed over the batch then divided by B
    Tensor *terms = nn_sub(tape, nn_sub(tape, out->log_var, nn_mul(tape, out->mean, out->mean)), nn_exp(tape, out->log_var));
    out->rate = nn_scale(tape, nn_sum(tape, nn_add_scalar(tape, terms, 1.0f), NULL, 0, 0), -0.5f / B);
    out->loss = nn_add(tape, out->distortion, out->rate);
    return out->loss;
}

double vae_gaussian_kl(const float *mean, const float *log_var, int n) {
    double sum = 0.0;
    for (int j = 0; j < n; j++) sum += 1.0 + log_var[j] - (double)mean[j] * mean[j] - exp(log_var[j]);
    return -0.5 * sum;
}

// ---------------------------------------------------------------------------------------
// training

// One epoch of Adam steps; the record's train_loss is the mean −ELBO of its batches.
static int train_epoch(const Vae *model, Loader *loader, ParamOptimizer *optimizer, Tape *tape, float *inputs,
                       int *labels, float *noise, Random *rng, const VaeTrainConfig *config,
                       const TrainerCallbacks *callbacks, EpochRecord *record, Error *error) {
    int n, batch = 0, n_batches = loader_batches(loader), D = model->config.input_size, J = model->config.latent;
    double total = 0.0;
    loader_start_epoch(loader);
    while ((n = loader_next(loader, inputs, labels)) > 0) {
        tape_reset(tape);
        random_fill_normal(rng, noise, (long)n * J, 0.0f, 1.0f);
        VaeLoss terms;
        Tensor *loss = vae_loss(tape, model, tensor_from(tape, inputs, 2, (int[]){n, D}),
                                tensor_from(tape, noise, 2, (int[]){n, J}), &terms);
        if (!loss) return tape_error(tape, error);
        if (!isfinite(loss->data[0]))
            return error_set(error, "epoch %d, batch %d: the loss is %g (lower the learning rate)", record->epoch, batch,
                             (double)loss->data[0]);
        parameters_zero_grad((Parameters *)&model->params);
        if (tape_backward(tape, loss, error)) return -1;
        param_optimizer_step(optimizer, config->lr);
        total += loss->data[0];
        if (callbacks && callbacks->step) callbacks->step(callbacks->context, record->epoch, batch, n_batches, loss->data[0]);
        batch++;
    }
    record->train_loss = batch ? total / batch : NAN;
    record->last_lr = config->lr;
    return 0;
}

int vae_train(Vae *model, const LabelledSet *train, const VaeTrainConfig *config, const TrainerCallbacks *callbacks,
              EpochRecord *records, Error *error) {
    if (config->epochs < 1 || config->epochs > 1000 || config->batch_size < 1 || !(config->lr > 0.0f))
        return error_set(error, "vae train: %d epochs (1 to 1000), batch %d (>= 1), lr %g (> 0)", config->epochs,
                         config->batch_size, (double)config->lr);
    if (train->sample_size != model->config.input_size)
        return error_set(error, "vae train: images of %d values; the model takes %d", train->sample_size,
                         model->config.input_size);
    Loader loader = {0};
    ParamOptimizer optimizer = {0};
    Tape tape;
    tape_init(&tape);
    Random rng;
    random_seed(&rng, config->seed ^ 0x9e3779b97f4a7c15ull);
    float *inputs = malloc(sizeof(float) * (size_t)config->batch_size * (size_t)train->sample_size);
    float *noise = malloc(sizeof(float) * (size_t)config->batch_size * (size_t)model->config.latent);
    int *labels = malloc(sizeof(int) * (size_t)config->batch_size), status = -1;
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    if (!inputs || !noise || !labels) {
        error_set(error, "vae train: out of memory");
        goto done;
    }
    if (loader_init(&loader, train, config->batch_size, 1, config->seed, error) ||
        param_optimizer_init(&optimizer, &model->params, &group, 1, NULL, error))
        goto done;
    for (int epoch = 1; epoch <= config->epochs; epoch++) {
        EpochRecord record = {.epoch = epoch, .train_accuracy = NAN, .val_loss = NAN, .val_accuracy = NAN};
        double start = omp_get_wtime();
        if (train_epoch(model, &loader, &optimizer, &tape, inputs, labels, noise, &rng, config, callbacks, &record, error))
            goto done;
        record.seconds = omp_get_wtime() - start;
        if (config->checkpoint_path && state_dict_save(&model->params, config->checkpoint_path, &VAE_METADATA, 1, error))
            goto done;
        record.resident_bytes = trainer_resident_bytes();
        records[epoch - 1] = record;
        if (callbacks && callbacks->epoch) callbacks->epoch(callbacks->context, &record);
    }
    status = 0;
done:
    loader_free(&loader);
    param_optimizer_free(&optimizer);
    tape_free(&tape);
    free(inputs), free(noise), free(labels);
    return status;
}

// ---------------------------------------------------------------------------------------
// evaluation and sampling

// log(1 + e^l), without overflow.
static double softplus(double l) { return l > 0 ? l + log1p(exp(-l)) : log1p(exp(l)); }

// log p(x|z) = Σ_d x_d l_d − log(1 + e^{l_d}) for one image's logits l (the Bernoulli
// log-likelihood of grey targets, the negative of Σ BCE).
static double bernoulli_log_likelihood(const float *x, const float *logits, int D) {
    double sum = 0.0;
    for (int d = 0; d < D; d++) sum += (double)x[d] * logits[d] - softplus(logits[d]);
    return sum;
}

int vae_evaluate(const Vae *model, const float *images, int n, int image_size, int k, unsigned long long seed,
                 VaeEvaluation *result, Error *error) {
    memset(result, 0, sizeof *result);
    int D = model->config.input_size, J = model->config.latent;
    if (n < 1 || k < 0) return error_set(error, "vae evaluate: %d images, k = %d", n, k);
    if (image_size != D) return error_set(error, "vae evaluate: images of %d values; the model takes %d", image_size, D);
    Random rng;
    random_seed(&rng, seed);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    float *noise = malloc(sizeof(float) * (size_t)VAE_EVAL_BATCH * (size_t)J);
    double *log_likelihoods = k ? malloc(sizeof(double) * (size_t)n) : NULL;
    int status = 0;
    if (!noise || (k && !log_likelihoods)) status = error_set(error, "vae evaluate: out of memory");
    for (int start = 0; start < n && !status; start += VAE_EVAL_BATCH) {
        int b = n - start < VAE_EVAL_BATCH ? n - start : VAE_EVAL_BATCH;
        tape_reset(&tape);
        random_fill_normal(&rng, noise, (long)b * J, 0.0f, 1.0f);
        VaeLoss terms;
        Tensor *loss = vae_loss(&tape, model, tensor_from(&tape, images + (long)start * D, 2, (int[]){b, D}),
                                tensor_from(&tape, noise, 2, (int[]){b, J}), &terms);
        if (!loss) status = tape_error(&tape, error);
        else result->distortion += (double)terms.distortion->data[0] * b, result->rate += (double)terms.rate->data[0] * b;
    }
    if (!status && k) status = vae_importance_log_likelihood(model, images, n, k, &rng, log_likelihoods, error);
    if (!status) {
        result->count = n, result->importance_samples = k;
        result->distortion /= n, result->rate /= n;
        result->elbo = -(result->distortion + result->rate);
        for (int i = 0; i < n && k; i++) result->log_likelihood += log_likelihoods[i] / n;
    }
    tape_free(&tape);
    free(noise), free(log_likelihoods);
    return status ? -1 : 0;
}

// log-weights (b, k) of one batch: log w = log p(x|z) + log p(z) − log q(z|x), with
// log p(z) − log q(z|x) = Σ_j −½ z² + ½ ε² + ½ log σ² (the 2π terms cancel).
static int batch_log_weights(const Vae *model, Tape *tape, const float *x, int b, int k, Random *rng, double *log_w,
                             float *z, float *noise, Error *error) {
    int D = model->config.input_size, J = model->config.latent;
    tape_reset(tape);
    Tensor *log_var, *mean = vae_encode(tape, model, tensor_from(tape, x, 2, (int[]){b, D}), &log_var);
    if (!mean) return tape_error(tape, error);
    for (int i = 0; i < k; i++) {
        random_fill_normal(rng, noise, (long)b * J, 0.0f, 1.0f);
        double prior_ratio[VAE_EVAL_BATCH];
        for (int r = 0; r < b; r++) {
            prior_ratio[r] = 0.0;
            for (int j = 0; j < J; j++) {
                long at = (long)r * J + j;
                double e = noise[at], lv = log_var->data[at];
                z[at] = (float)(mean->data[at] + exp(0.5 * lv) * e);
                prior_ratio[r] += -0.5 * (double)z[at] * z[at] + 0.5 * e * e + 0.5 * lv;
            }
        }
        Tensor *logits = vae_decode(tape, model, tensor_from(tape, z, 2, (int[]){b, J}));
        if (!logits) return tape_error(tape, error);
        for (int r = 0; r < b; r++)
            log_w[(long)r * k + i] = bernoulli_log_likelihood(x + (long)r * D, logits->data + (long)r * D, D) + prior_ratio[r];
    }
    return 0;
}

int vae_importance_log_likelihood(const Vae *model, const float *images, int n, int k, Random *rng,
                                  double *log_likelihoods, Error *error) {
    if (n < 1 || k < 1) return error_set(error, "vae log-likelihood: %d images, k = %d (both >= 1)", n, k);
    int D = model->config.input_size, J = model->config.latent, b_max = n < VAE_EVAL_BATCH ? n : VAE_EVAL_BATCH;
    double *log_w = malloc(sizeof(double) * (size_t)b_max * (size_t)k);
    float *z = malloc(sizeof(float) * (size_t)b_max * (size_t)J), *noise = malloc(sizeof(float) * (size_t)b_max * (size_t)J);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    int status = (!log_w || !z || !noise) ? error_set(error, "vae log-likelihood: out of memory") : 0;
    for (int start = 0; start < n && !status; start += b_max) {
        int b = n - start < b_max ? n - start : b_max;
        status = batch_log_weights(model, &tape, images + (long)start * D, b, k, rng, log_w, z, noise, error);
        for (int r = 0; r < b && !status; r++) {  // log-mean-exp: m + log((1/k) Σ e^{w − m})
            const double *w = log_w + (long)r * k;
            double m = w[0], sum = 0.0;
            for (int i = 1; i < k; i++) m = fmax(m, w[i]);
            for (int i = 0; i < k; i++) sum += exp(w[i] - m);
            log_likelihoods[start + r] = m + log(sum / k);
        }
    }
    tape_free(&tape);
    free(log_w), free(z), free(noise);
    return status ? -1 : 0;
}

int vae_decode_means(const Vae *model, const float *z, int n, float *images, Error *error) {
    if (n < 1) return error_set(error, "vae decode: %d latents", n);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *p = nn_sigmoid(&tape, vae_decode(&tape, model, tensor_from(&tape, z, 2, (int[]){n, model->config.latent})));
    int status = p ? 0 : tape_error(&tape, error);
    if (p) memcpy(images, p->data, sizeof(float) * (size_t)p->size);
    tape_free(&tape);
    return status;
}

int vae_sample(const Vae *model, int n, unsigned long long seed, float *images, Error *error) {
    if (n < 1) return error_set(error, "vae sample: %d images", n);
    float *z = malloc(sizeof(float) * (size_t)n * (size_t)model->config.latent);
    if (!z) return error_set(error, "vae sample: out of memory");
    Random rng;
    random_seed(&rng, seed);
    random_fill_normal(&rng, z, (long)n * model->config.latent, 0.0f, 1.0f);
    int status = vae_decode_means(model, z, n, images, error);
    free(z);
    return status;
}

int vae_encode_means(const Vae *model, const float *images, int n, float *means, float *reconstructions, Error *error) {
    if (n < 1) return error_set(error, "vae encode: %d images", n);
    int D = model->config.input_size, J = model->config.latent, status = 0;
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    for (int start = 0; start < n && !status; start += VAE_EVAL_BATCH) {
        int b = n - start < VAE_EVAL_BATCH ? n - start : VAE_EVAL_BATCH;
        tape_reset(&tape);
        Tensor *log_var, *mean = vae_encode(&tape, model, tensor_from(&tape, images + (long)start * D, 2, (int[]){b, D}), &log_var);
        Tensor *p = reconstructions ? nn_sigmoid(&tape, vae_decode(&tape, model, mean)) : mean;
        if (!p) status = tape_error(&tape, error);
        else memcpy(means + (long)start * J, mean->data, sizeof(float) * (size_t)b * (size_t)J);
        if (p && reconstructions) memcpy(reconstructions + (long)start * D, p->data, sizeof(float) * (size_t)b * (size_t)D);
    }
    tape_free(&tape);
    return status;
}
