// U-Net: see unet.h. Configuration, parameters, forward; the tape gives the backward.
#include "models/unet.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/init.h"
#include "nn/state_dict.h"

UnetConfig unet_default_config(void) {
    UnetConfig config = {1, 16, 2, 0};
    return config;
}

// <name>.0 and <name>.2: two 3×3 convolutions, padding 1; <name>.time: Linear(E, out) when E > 0.
static int block_init(UnetBlock *block, Parameters *params, const char *name, int in, int out, int time_channels,
                      Random *rng, Error *error) {
    char conv1[48], conv2[48], time[48];
    snprintf(conv1, sizeof conv1, "%s.0", name);
    snprintf(conv2, sizeof conv2, "%s.2", name);
    snprintf(time, sizeof time, "%s.time", name);
    return conv2d_init(&block->conv1, params, conv1, in, out, 3, 1, 1, 1, 1, 1, rng, error) ||
                   conv2d_init(&block->conv2, params, conv2, out, out, 3, 1, 1, 1, 1, 1, rng, error) ||
                   (time_channels > 0 && linear_init(&block->time, params, time, time_channels, out, 1, rng, error))
               ? -1
               : 0;
}

// upconv<level>: in -> out channels; PyTorch's ConvTranspose2d init, whose fan_in is the
// weight's dimension 1 (out) times 2·2.
static int upconv_init(UnetUpconv *upconv, Parameters *params, int level, int in, int out, Random *rng, Error *error) {
    char name[32];
    snprintf(name, sizeof name, "upconv%d", level);
    upconv->weight = parameters_add(params, name, "weight", 4, (int[]){in, out, 2, 2}, 0, error);
    upconv->bias = upconv->weight ? parameters_add(params, name, "bias", 1, (int[]){out}, 0, error) : NULL;
    if (!upconv->bias) return -1;
    float bound = 1.0f / sqrtf((float)out * 4.0f);
    init_uniform(upconv->weight, -bound, bound, rng);
    init_uniform(upconv->bias, -bound, bound, rng);
    return 0;
}

int unet_create(Unet *model, const UnetConfig *config, Random *rng, Error *error) {
    memset(model, 0, sizeof *model);
    const UnetConfig *c = config;
    if (c->levels < 1 || c->levels > UNET_MAX_LEVELS)
        return error_set(error, "unet: %d levels (1 to %d)", c->levels, UNET_MAX_LEVELS);
    if (c->in_channels < 1 || c->width < 1 || (long)c->width << c->levels > 65536)
        return error_set(error, "unet: width %d, %d input channels (positive; at most 65536 channels at the bottom)",
                         c->width, c->in_channels);
    if (c->time_channels < 0 || c->time_channels % 2 || c->time_channels > 65536)
        return error_set(error, "unet: %d time channels (0, or even up to 65536)", c->time_channels);
    model->config = *c;
    Parameters *p = &model->params;
    char name[32];
    int in = c->in_channels, status = 0, E = c->time_channels;
    if (E > 0)  // the order of a PyTorch module's state_dict: time_embed first
        status = linear_init(&model->time_embed0, p, "time_embed.0", E, E, 1, rng, error) ||
                 linear_init(&model->time_embed2, p, "time_embed.2", E, E, 1, rng, error);
    for (int k = 1; k <= c->levels && !status; k++) {
        snprintf(name, sizeof name, "encoder%d", k);
        status = block_init(&model->encoders[k - 1], p, name, in, c->width << (k - 1), E, rng, error);
        in = c->width << (k - 1);
    }
    if (!status) status = block_init(&model->bottleneck, p, "bottleneck", in, c->width << c->levels, E, rng, error);
    for (int k = c->levels; k >= 1 && !status; k--) {
        int out = c->width << (k - 1);
        snprintf(name, sizeof name, "decoder%d", k);
        status = upconv_init(&model->upconvs[k - 1], p, k, 2 * out, out, rng, error) ||
                 block_init(&model->decoders[k - 1], p, name, 2 * out, out, E, rng, error);
    }
    if (status || conv2d_init(&model->conv, p, "conv", c->width, 1, 1, 1, 0, 1, 1, 1, rng, error)) {
        unet_free(model);
        return -1;
    }
    return 0;
}

int unet_from_file(Unet *model, const Safetensors *file, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    const SafetensorsTensor *first = safetensors_find(file, "encoder1.0.weight");
    if (!first || first->ndim != 4 || first->shape[0] < 1 || first->shape[1] < 1)
        return error_set(error, "%s: encoder1.0.weight (W, in, 3, 3) is missing or not 4-D (not a unet state_dict)", path);
    const SafetensorsTensor *time = safetensors_find(file, "time_embed.0.weight");
    UnetConfig c = {first->shape[1], first->shape[0], 0, time && time->ndim == 2 ? (int)time->shape[0] : 0};
    char name[48];
    for (c.levels = 1; c.levels < UNET_MAX_LEVELS; c.levels++) {
        snprintf(name, sizeof name, "encoder%d.0.weight", c.levels + 1);
        if (!safetensors_find(file, name)) break;
    }
    Random unused;
    random_seed(&unused, 0);
    if (unet_create(model, &c, &unused, error)) return error_prefix(error, "%s", path);
    if (state_dict_load_file(&model->params, file, path, error)) {  // every shape checked there
        unet_free(model);
        return -1;
    }
    return 0;
}

void unet_free(Unet *model) {
    parameters_free(&model->params);
    memset(model, 0, sizeof *model);
}

int unet_check_input(const Unet *model, int channels, int height, int width, Error *error) {
    int multiple = 1 << model->config.levels;
    if (channels == model->config.in_channels && height >= multiple && width >= multiple && height % multiple == 0 &&
        width % multiple == 0)
        return 0;
    return error_set(error, "a %dx%d image with %d channel(s); the unet takes %d channel(s) and sides that are multiples of %d",
                     width, height, channels, model->config.in_channels, multiple);
}

void unet_time_features(const float *timesteps, int n, int dims, float *out) {
    int half = dims / 2;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < half; k++) {
            double angle = timesteps[i] * exp(-log(10000.0) * k / half);  // t·ω_k
            out[(long)i * dims + k] = (float)sin(angle);
            out[(long)i * dims + half + k] = (float)cos(angle);
        }
}

// SiLU(x) = x·σ(x) (Hendrycks and Gimpel's "sigmoid-weighted linear unit"), composed.
static Tensor *silu(Tape *tape, Tensor *x) { return nn_mul(tape, x, nn_sigmoid(tape, x)); }

// τ = SiLU(time_embed.2(SiLU(time_embed.0(e(t))))): timesteps (N) -> (N, E).
static Tensor *time_embedding(Tape *tape, const Unet *model, const float *timesteps, int n) {
    int E = model->config.time_channels;
    Tensor *features = tensor_new(tape, 2, (int[]){n, E});
    if (!features) return NULL;
    unet_time_features(timesteps, n, E, features->data);
    Tensor *h = silu(tape, linear_apply(tape, &model->time_embed0, features));
    return silu(tape, linear_apply(tape, &model->time_embed2, h));
}

// relu(conv2(relu(conv1(x) + time(τ)))), without the time term when τ is NULL.
static Tensor *block_forward(Tape *tape, const UnetBlock *block, Tensor *x, Tensor *tau) {
    Tensor *h = conv2d_apply(tape, &block->conv1, x);
    if (tau && h) {  // (N, C) -> (N, C, 1, 1), broadcast over the pixels
        Tensor *shift = linear_apply(tape, &block->time, tau);
        h = nn_add(tape, h, nn_reshape(tape, shift, 4, (int[]){h->shape[0], h->shape[1], 1, 1}));
    }
    return nn_relu(tape, conv2d_apply(tape, &block->conv2, nn_relu(tape, h)));
}

Tensor *unet_forward(Tape *tape, const Unet *model, Tensor *x) { return unet_forward_time(tape, model, x, NULL); }

Tensor *unet_forward_time(Tape *tape, const Unet *model, Tensor *x, const float *timesteps) {
    if (!x) return NULL;
    const UnetConfig *c = &model->config;
    Error error;
    if (x->n_dims != 4 || unet_check_input(model, x->shape[1], x->shape[2], x->shape[3], &error)) {
        char shape[64];
        return tape_fail(tape, "unet: input %s; the model takes (N,%d,H,W) with H and W multiples of %d",
                         tensor_shape_string(x, shape, sizeof shape), c->in_channels, 1 << c->levels);
    }
    if ((c->time_channels > 0) != (timesteps != NULL))
        return tape_fail(tape, c->time_channels > 0 ? "unet: a time-conditioned model needs the timesteps"
                                                    : "unet: timesteps given to a model without time conditioning");
    Tensor *tau = timesteps ? time_embedding(tape, model, timesteps, x->shape[0]) : NULL;
    if (timesteps && !tau) return NULL;
    Tensor *skips[UNET_MAX_LEVELS], *h = x;
    for (int k = 0; k < c->levels; k++) {
        skips[k] = block_forward(tape, &model->encoders[k], h, tau);  // (N, W·2^k, H/2^k, W/2^k)
        h = nn_max_pool2d(tape, skips[k], 2, 2, 0);
    }
    h = block_forward(tape, &model->bottleneck, h, tau);  // (N, W·2^L, H/2^L, W/2^L)
    for (int k = c->levels - 1; k >= 0; k--) {
        const UnetUpconv *up = &model->upconvs[k];
        Tensor *pair[2] = {nn_conv_transpose2d(tape, h, up->weight, up->bias, 2, 0, 0, 1), skips[k]};
        h = block_forward(tape, &model->decoders[k], nn_concat(tape, pair, 2, 1), tau);  // (N, W·2^k, H/2^k, W/2^k)
    }
    return conv2d_apply(tape, &model->conv, h);  // (N, 1, H, W)
}
