// The generative adversarial network: see gan.h. Configuration, parameters, the two networks,
// the two losses (the tape gives their backward), the alternating training, sampling.
#include "models/gan.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/init.h"
#include "nn/optim.h"
#include "nn/state_dict.h"

enum { GAN_KERNEL = 4, GAN_QUARTER = GAN_IMAGE_SIZE / 4 };  // 4×4 kernels; 28 -> 14 -> 7
static const float LEAKY_SLOPE = 0.2f, DCGAN_INIT_STD = 0.02f;

GanConfig gan_default_config(GanArch arch) {
    GanConfig config = {arch, 64, arch == GAN_MLP ? 256 : 32};
    return config;
}

const char *gan_arch_name(GanArch arch) { return arch == GAN_MLP ? "mlp" : "dcgan"; }

int gan_arch_parse(const char *name, GanArch *arch, Error *error) {
    if (strcmp(name, "mlp") == 0) *arch = GAN_MLP;
    else if (strcmp(name, "dcgan") == 0) *arch = GAN_DCGAN;
    else return error_set(error, "unknown gan variant \"%s\" (mlp or dcgan)", name);
    return 0;
}

// A transposed convolution in -> out with 4×4 kernels, weight and bias N(0, 0.02²) and 0.
static int deconv_init(GanDeconv *layer, Parameters *p, const char *name, int in, int out, Random *rng, Error *error) {
    layer->weight = parameters_add(p, name, "weight", 4, (int[]){in, out, GAN_KERNEL, GAN_KERNEL}, 0, error);
    layer->bias = layer->weight ? parameters_add(p, name, "bias", 1, (int[]){out}, 0, error) : NULL;
    if (!layer->bias) return -1;
    init_normal(layer->weight, 0.0f, DCGAN_INIT_STD, rng);
    return 0;
}

static int create_mlp(Gan *m, Random *rng, Error *error) {
    int J = m->config.latent, W = m->config.width;
    Parameters *p = &m->params;
    if (linear_init(&m->g_fc1, p, "generator.fc1", J, W, 1, rng, error) ||
        linear_init(&m->g_fc2, p, "generator.fc2", W, 2 * W, 1, rng, error) ||
        batch_norm_init(&m->g_bn2, p, "generator.bn2", 2 * W, error) ||
        linear_init(&m->g_fc3, p, "generator.fc3", 2 * W, GAN_PIXELS, 1, rng, error))
        return -1;
    m->n_generator_entries = p->count;
    return linear_init(&m->d_fc1, p, "discriminator.fc1", GAN_PIXELS, 2 * W, 1, rng, error) ||
                   linear_init(&m->d_fc2, p, "discriminator.fc2", 2 * W, W, 1, rng, error) ||
                   linear_init(&m->d_fc3, p, "discriminator.fc3", W, 1, 1, rng, error)
               ? -1
               : 0;
}

static int create_dcgan(Gan *m, Random *rng, Error *error) {
    int J = m->config.latent, W = m->config.width, flat = 2 * W * GAN_QUARTER * GAN_QUARTER;
    Parameters *p = &m->params;
    if (linear_init(&m->g_fc, p, "generator.fc", J, flat, 1, rng, error) ||
        batch_norm_init(&m->g_bn1, p, "generator.bn1", 2 * W, error) ||
        deconv_init(&m->g_deconv1, p, "generator.deconv1", 2 * W, W, rng, error) ||
        batch_norm_init(&m->g_bn2, p, "generator.bn2", W, error) ||
        deconv_init(&m->g_deconv2, p, "generator.deconv2", W, 1, rng, error))
        return -1;
    m->n_generator_entries = p->count;
    if (conv2d_init(&m->d_conv1, p, "discriminator.conv1", 1, W, GAN_KERNEL, 2, 1, 1, 1, 1, rng, error) ||
        conv2d_init(&m->d_conv2, p, "discriminator.conv2", W, 2 * W, GAN_KERNEL, 2, 1, 1, 1, 1, rng, error) ||
        batch_norm_init(&m->d_bn2, p, "discriminator.bn2", 2 * W, error) ||
        linear_init(&m->d_fc, p, "discriminator.fc", flat, 1, 1, rng, error))
        return -1;
    // DCGAN's initialisation: every weight N(0, 0.02²), biases 0 (batch norms keep 1 and 0)
    Linear *linears[] = {&m->g_fc, &m->d_fc};
    Conv2d *convs[] = {&m->d_conv1, &m->d_conv2};
    for (int i = 0; i < 2; i++) {
        init_normal(linears[i]->weight, 0.0f, DCGAN_INIT_STD, rng), init_constant(linears[i]->bias, 0.0f);
        init_normal(convs[i]->weight, 0.0f, DCGAN_INIT_STD, rng), init_constant(convs[i]->bias, 0.0f);
    }
    return 0;
}

int gan_create(Gan *model, const GanConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    if (config->latent < 1 || config->width < 1 || config->latent > 1 << 16 || config->width > 1 << 14)
        return error_set(error, "gan: latent %d and width %d must be positive (and at most 65536 and 16384)",
                         config->latent, config->width);
    model->config = *config;
    if ((config->arch == GAN_MLP ? create_mlp : create_dcgan)(model, rng, error)) {
        gan_free(model);
        return -1;
    }
    return 0;
}

// A positive integer of the metadata, or -1 (with error).
static int metadata_size(const Safetensors *file, const char *path, const char *key, Error *error) {
    const char *text = safetensors_metadata(file, key);
    char *end;
    long value = text ? strtol(text, &end, 10) : 0;
    if (!text || *end || end == text || value < 1 || value > 1 << 16)
        return error_set(error, "%s: metadata %s is %s%s%s (a positive size)", path, key, text ? "\"" : "missing",
                         text ? text : "", text ? "\"" : "");
    return (int)value;
}

int gan_load(Gan *model, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    const char *arch = safetensors_metadata(&file, "arch"), *variant = safetensors_metadata(&file, "variant");
    GanConfig config;
    int status = 0;
    if (!arch) status = error_set(error, "%s: no \"arch\" in its metadata (not a gan checkpoint)", path);
    else if (strcmp(arch, "gan") != 0)
        status = error_set(error, "%s: %s %s checkpoint, not gan", path, strchr("aeiou", arch[0]) ? "an" : "a", arch);
    else if (!variant || gan_arch_parse(variant, &config.arch, error))
        status = variant ? error_prefix(error, "%s", path) : error_set(error, "%s: no gan variant in its metadata", path);
    else if ((config.latent = metadata_size(&file, path, "latent", error)) < 0 ||
             (config.width = metadata_size(&file, path, "width", error)) < 0)
        status = -1;
    if (!status) {
        Random unused;
        random_seed(&unused, 0);
        status = gan_create(model, &config, &unused, error) || state_dict_load_file(&model->params, &file, path, error);
        if (status) gan_free(model);
    }
    safetensors_free(&file);
    return status ? -1 : 0;
}

void gan_free(Gan *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

int gan_metadata(const Gan *model, SafetensorsMetadata *metadata, char *text) {
    int n = snprintf(text, 64, "%d", model->config.latent);
    snprintf(text + n + 1, (size_t)(63 - n), "%d", model->config.width);
    metadata[0] = (SafetensorsMetadata){"arch", "gan"};
    metadata[1] = (SafetensorsMetadata){"variant", gan_arch_name(model->config.arch)};
    metadata[2] = (SafetensorsMetadata){"latent", text};
    metadata[3] = (SafetensorsMetadata){"width", text + n + 1};
    return 4;
}

Parameters gan_generator_params(const Gan *model) {
    Parameters view = {model->n_generator_entries, model->n_generator_entries, model->params.entries};
    return view;
}

Parameters gan_discriminator_params(const Gan *model) {
    int n = model->params.count - model->n_generator_entries;
    Parameters view = {n, n, model->params.entries + model->n_generator_entries};
    return view;
}

// ---------------------------------------------------------------------------------------
// the networks and the losses

Tensor *gan_generate(Tape *tape, const Gan *model, Tensor *z, int training) {
    if (!z) return NULL;
    if (z->n_dims != 2 || z->shape[1] != model->config.latent) {
        char shape[64];
        return tape_fail(tape, "gan: latent %s; the generator takes (B,%d)", tensor_shape_string(z, shape, sizeof shape),
                         model->config.latent);
    }
    int B = z->shape[0], W = model->config.width;
    const Gan *m = model;
    Tensor *h;
    if (m->config.arch == GAN_MLP) {
        h = nn_leaky_relu(tape, linear_apply(tape, &m->g_fc1, z), LEAKY_SLOPE);
        h = nn_leaky_relu(tape, batch_norm_apply(tape, &m->g_bn2, linear_apply(tape, &m->g_fc2, h), training), LEAKY_SLOPE);
        h = nn_reshape(tape, linear_apply(tape, &m->g_fc3, h), 4, (int[]){B, 1, GAN_IMAGE_SIZE, GAN_IMAGE_SIZE});
    } else {
        h = nn_reshape(tape, linear_apply(tape, &m->g_fc, z), 4, (int[]){B, 2 * W, GAN_QUARTER, GAN_QUARTER});
        h = nn_relu(tape, batch_norm_apply(tape, &m->g_bn1, h, training));
        h = nn_conv_transpose2d(tape, h, m->g_deconv1.weight, m->g_deconv1.bias, 2, 1, 0, 1);  // (B,W,14,14)
        h = nn_relu(tape, batch_norm_apply(tape, &m->g_bn2, h, training));
        h = nn_conv_transpose2d(tape, h, m->g_deconv2.weight, m->g_deconv2.bias, 2, 1, 0, 1);  // (B,1,28,28)
    }
    return nn_sigmoid(tape, h);
}

Tensor *gan_discriminate(Tape *tape, const Gan *model, Tensor *images, int training) {
    if (!images) return NULL;
    if (images->n_dims != 4 || images->shape[1] != 1 || images->shape[2] != GAN_IMAGE_SIZE ||
        images->shape[3] != GAN_IMAGE_SIZE) {
        char shape[64];
        return tape_fail(tape, "gan: images %s; the discriminator takes (B,1,28,28)",
                         tensor_shape_string(images, shape, sizeof shape));
    }
    int B = images->shape[0];
    const Gan *m = model;
    if (m->config.arch == GAN_MLP) {
        Tensor *h = nn_reshape(tape, images, 2, (int[]){B, GAN_PIXELS});
        h = nn_leaky_relu(tape, linear_apply(tape, &m->d_fc1, h), LEAKY_SLOPE);
        h = nn_leaky_relu(tape, linear_apply(tape, &m->d_fc2, h), LEAKY_SLOPE);
        return linear_apply(tape, &m->d_fc3, h);
    }
    Tensor *h = nn_leaky_relu(tape, conv2d_apply(tape, &m->d_conv1, images), LEAKY_SLOPE);  // (B,W,14,14)
    h = nn_leaky_relu(tape, batch_norm_apply(tape, &m->d_bn2, conv2d_apply(tape, &m->d_conv2, h), training), LEAKY_SLOPE);
    return linear_apply(tape, &m->d_fc, nn_reshape(tape, h, 2, (int[]){B, -1}));  // (B,1)
}

// A constant tensor of logits' shape filled with value.
static Tensor *filled_like(Tape *tape, const Tensor *logits, float value) {
    Tensor *t = tensor_new(tape, logits->n_dims, logits->shape);
    for (long i = 0; t && i < t->size; i++) t->data[i] = value;
    return t;
}

Tensor *gan_discriminator_loss(Tape *tape, Tensor *real_logits, Tensor *fake_logits) {
    if (!real_logits || !fake_logits) return NULL;
    Tensor *real = nn_bce_with_logits(tape, real_logits, filled_like(tape, real_logits, 1.0f));
    return nn_add(tape, real, nn_bce_with_logits(tape, fake_logits, filled_like(tape, fake_logits, 0.0f)));
}

Tensor *gan_generator_loss(Tape *tape, Tensor *fake_logits) {
    if (!fake_logits) return NULL;
    return nn_bce_with_logits(tape, fake_logits, filled_like(tape, fake_logits, 1.0f));
}

// ---------------------------------------------------------------------------------------
// training

// Mean σ(logit) over a batch.
static double mean_probability(const Tensor *logits) {
    double sum = 0.0;
    for (long i = 0; i < logits->size; i++) sum += 1.0 / (1.0 + exp(-(double)logits->data[i]));
    return sum / (double)logits->size;
}

typedef struct GanStep {
    Tape *tape;
    ParamOptimizer *generator, *discriminator;
    Parameters generator_params, discriminator_params;
    float *noise;
    Random *rng;
} GanStep;

// One discriminator step then one generator step on n real images; the epoch's sums in record.
static int train_step(Gan *model, GanStep *s, const float *real, int n, float lr, GanEpoch *record, Error *error) {
    Tape *tape = s->tape;
    int J = model->config.latent, image_shape[4] = {n, 1, GAN_IMAGE_SIZE, GAN_IMAGE_SIZE};
    // D: G(z) without recording (G held fixed), then L_D on real and fake
    random_fill_normal(s->rng, s->noise, (long)n * J, 0.0f, 1.0f);
    tape_reset(tape);
    tape->recording = 0;
    Tensor *fake = gan_generate(tape, model, tensor_from(tape, s->noise, 2, (int[]){n, J}), 1);
    tape->recording = 1;
    Tensor *real_logits = gan_discriminate(tape, model, tensor_from(tape, real, 4, image_shape), 1);
    Tensor *fake_logits = gan_discriminate(tape, model, fake, 1);
    Tensor *d_loss = gan_discriminator_loss(tape, real_logits, fake_logits);
    if (!d_loss) return tape_error(tape, error);
    record->real_probability += mean_probability(real_logits), record->fake_probability += mean_probability(fake_logits);
    parameters_zero_grad(&s->discriminator_params);
    if (tape_backward(tape, d_loss, error)) return -1;
    param_optimizer_step(s->discriminator, lr);
    float d_value = d_loss->data[0];  // the tape's values go with the next reset
    record->discriminator_loss += d_value;
    // G: L_G through the updated D on the same z; only G's parameters move
    tape_reset(tape);
    Tensor *g_loss = gan_generator_loss(
        tape, gan_discriminate(tape, model, gan_generate(tape, model, tensor_from(tape, s->noise, 2, (int[]){n, J}), 1), 1));
    if (!g_loss) return tape_error(tape, error);
    parameters_zero_grad(&s->generator_params);
    if (tape_backward(tape, g_loss, error)) return -1;
    param_optimizer_step(s->generator, lr);
    record->generator_loss += g_loss->data[0];
    if (!isfinite(d_value) || !isfinite(g_loss->data[0]))
        return error_set(error, "the losses are %g and %g (lower the learning rate)", (double)d_value,
                         (double)g_loss->data[0]);
    return 0;
}

static int train_epoch(Gan *model, GanStep *step, Loader *loader, const GanTrainConfig *config, float *inputs,
                       int *labels, const GanCallbacks *callbacks, GanEpoch *record, Error *error) {
    int n, batch = 0, n_batches = loader_batches(loader);
    loader_start_epoch(loader);
    while ((n = loader_next(loader, inputs, labels)) > 0) {
        double d_before = record->discriminator_loss, g_before = record->generator_loss;
        if (train_step(model, step, inputs, n, config->lr, record, error))
            return error_prefix(error, "epoch %d, batch %d", record->epoch, batch);
        if (callbacks && callbacks->step)
            callbacks->step(callbacks->context, record->epoch, batch, n_batches,
                            (float)(record->discriminator_loss - d_before), (float)(record->generator_loss - g_before));
        batch++;
    }
    record->discriminator_loss /= batch, record->generator_loss /= batch;
    record->real_probability /= batch, record->fake_probability /= batch;
    return 0;
}

int gan_train(Gan *model, const LabelledSet *train, const GanTrainConfig *config, const GanCallbacks *callbacks,
              GanEpoch *records, Error *error) {
    if (config->epochs < 1 || config->epochs > 1000 || config->batch_size < 1 || !(config->lr > 0.0f))
        return error_set(error, "gan train: %d epochs (1 to 1000), batch %d (>= 1), lr %g (> 0)", config->epochs,
                         config->batch_size, (double)config->lr);
    if (train->sample_size != GAN_PIXELS)
        return error_set(error, "gan train: images of %d values; the model takes 28x28", train->sample_size);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    group.config.beta1 = 0.5f;
    ParamOptimizer generator = {0}, discriminator = {0};
    Loader loader = {0};
    Tape tape;
    tape_init(&tape);
    Random rng;
    random_seed(&rng, config->seed ^ 0x5851f42d4c957f2dull);
    GanStep step = {&tape, &generator, &discriminator, gan_generator_params(model), gan_discriminator_params(model),
                    malloc(sizeof(float) * (size_t)config->batch_size * (size_t)model->config.latent), &rng};
    float *inputs = malloc(sizeof(float) * (size_t)config->batch_size * GAN_PIXELS);
    int *labels = malloc(sizeof(int) * (size_t)config->batch_size), status = -1;
    char text[64];
    SafetensorsMetadata metadata[4];
    int n_metadata = gan_metadata(model, metadata, text);
    if (!step.noise || !inputs || !labels) {
        error_set(error, "gan train: out of memory");
        goto done;
    }
    if (loader_init(&loader, train, config->batch_size, 1, config->seed, error) ||
        param_optimizer_init(&generator, &step.generator_params, &group, 1, NULL, error) ||
        param_optimizer_init(&discriminator, &step.discriminator_params, &group, 1, NULL, error))
        goto done;
    for (int epoch = 1; epoch <= config->epochs; epoch++) {
        GanEpoch *record = &records[epoch - 1];
        memset(record, 0, sizeof *record);
        record->epoch = epoch;
        double start = omp_get_wtime();
        if (train_epoch(model, &step, &loader, config, inputs, labels, callbacks, record, error)) goto done;
        record->seconds = omp_get_wtime() - start;
        if (config->checkpoint_path && state_dict_save(&model->params, config->checkpoint_path, metadata, n_metadata, error))
            goto done;
        if (callbacks && callbacks->epoch && callbacks->epoch(callbacks->context, model, record, error)) goto done;
    }
    status = 0;
done:
    loader_free(&loader);
    param_optimizer_free(&generator), param_optimizer_free(&discriminator);
    tape_free(&tape);
    free(step.noise), free(inputs), free(labels);
    return status;
}

// ---------------------------------------------------------------------------------------
// sampling

int gan_generate_images(const Gan *model, const float *z, int n, float *images, Error *error) {
    if (n < 1) return error_set(error, "gan generate: %d images", n);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    int status = 0;
    for (int start = 0; start < n && !status; start += 500) {
        int b = n - start < 500 ? n - start : 500;
        tape_reset(&tape);
        Tensor *x = gan_generate(&tape, model, tensor_from(&tape, z + (long)start * model->config.latent, 2,
                                                           (int[]){b, model->config.latent}), 0);
        if (!x) status = tape_error(&tape, error);
        else memcpy(images + (long)start * GAN_PIXELS, x->data, sizeof(float) * (size_t)x->size);
    }
    tape_free(&tape);
    return status;
}

int gan_sample(const Gan *model, int n, unsigned long long seed, float *images, Error *error) {
    if (n < 1) return error_set(error, "gan sample: %d images", n);
    float *z = malloc(sizeof(float) * (size_t)n * (size_t)model->config.latent);
    if (!z) return error_set(error, "gan sample: out of memory");
    Random rng;
    random_seed(&rng, seed);
    random_fill_normal(&rng, z, (long)n * model->config.latent, 0.0f, 1.0f);
    int status = gan_generate_images(model, z, n, images, error);
    free(z);
    return status;
}
