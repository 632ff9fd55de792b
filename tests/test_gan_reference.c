// The GAN (models/gan.h) against its PyTorch reference (tests/fixtures/gan/{mlp,dcgan},
// tools/reference/gan_reference.py), both variants: the same weights, real images and noise
// give, in gan.c's training step, the same generated images (1e-5 absolute), discriminator
// logits (1e-4 absolute), L_D and L_G (1e-5 relative), every gradient of L_D with respect to
// the discriminator and of L_G with respect to the generator (1e-3 relative to the tensor's
// largest reference value, or 1e-5 absolute where the true gradient is 0), the losses of 5
// alternating Adam steps (1e-4 relative), and after them the same weights and batch-norm running
// statistics and counts.
#include <math.h>
#include <string.h>

#include "models/classifier_verify.h"
#include "models/gan.h"
#include "nn/optim.h"
#include "tests/check.h"

static const SafetensorsTensor *tensor(const Safetensors *file, const char *name, long count) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    CHECK(t && t->floats && t->count == count, "%s missing from the state or of another size", name);
    return t && t->floats && t->count == count ? t : NULL;
}

static double max_abs(const Tensor *ours, const SafetensorsTensor *reference) {
    return tensor_difference("", ours->data, reference->floats, ours->size, INFINITY).max_abs;
}

// The biases right in front of a batch norm, whose gradient is 0 up to rounding, and the
// running means of those norms, which carry the biases.
static int follows_noise(const char *name) {
    static const char *const names[] = {"generator.fc2.bias",        "generator.deconv1.bias",
                                        "discriminator.conv2.bias",  "generator.bn2.running_mean",
                                        "discriminator.bn2.running_mean"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, names[i])) return 1;
    return 0;
}

// Every parameter's gradient (buffers have none) against grad.<name>; returns how many.
static int compare_gradients(const char *variant, const Parameters *params, const Safetensors *state) {
    int compared = 0;
    for (int i = 0; i < params->count; i++) {
        const NamedTensor *entry = &params->entries[i];
        if (entry->is_buffer) continue;
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", entry->name);
        const SafetensorsTensor *reference = tensor(state, name, entry->tensor->size);
        if (!reference) continue;
        TensorDifference difference = tensor_difference("", entry->tensor->grad, reference->floats, entry->tensor->size, INFINITY);
        // A bias right in front of a batch norm has gradient 0 (the norm subtracts the mean):
        // both sides hold rounding noise there (measured up to 1.1e-6), compared absolutely.
        if (follows_noise(entry->name))
            CHECK(difference.max_abs <= 1e-5, "%s: %s is not about 0: differs by %g", variant, name, difference.max_abs);
        else
            CHECK(difference.relative <= 1e-3, "%s: %s differs by %g of its largest", variant, name, difference.relative);
        compared++;
    }
    return compared;
}

// After the steps: every tensor to 1e-5 (measured: at most 1.2e-7) and num_batches_tracked
// exactly; but Adam's first steps move each weight by about lr whatever the gradient's size,
// so where the gradient is rounding noise (follows_noise) the two sides move apart by up to
// 2 lr per step: 2e-3 there (measured: up to 8.3e-4).
static void compare_after(const char *variant, const Gan *model, const Safetensors *state) {
    for (int i = 0; i < model->params.count; i++) {
        const NamedTensor *entry = &model->params.entries[i];
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "after.%s", entry->name);
        const SafetensorsTensor *reference = safetensors_find(state, name);
        REQUIRE(reference && reference->count == entry->tensor->size, "%s: %s missing", variant, name);
        if (reference->ints) {
            CHECK(entry->tensor->data[0] == (float)reference->ints[0], "%s: %s is %g, PyTorch %d", variant, name,
                  (double)entry->tensor->data[0], reference->ints[0]);
            continue;
        }
        double difference = max_abs(entry->tensor, reference);
        double tolerance = follows_noise(entry->name) ? 2e-3 : 1e-5;
        CHECK(difference <= tolerance, "%s: %s differs by %g", variant, name, difference);
    }
}

typedef struct Reference {
    const SafetensorsTensor *inputs, *noise, *fake, *real_logits, *fake_logits, *d_loss, *g_loss, *d_losses, *g_losses;
} Reference;

// The first step's forward values against the reference.
static void compare_first_forward(const char *variant, const Reference *r, const Tensor *fake, const Tensor *real_logits,
                                  const Tensor *fake_logits, const Tensor *d_loss) {
    CHECK(max_abs(fake, r->fake) <= 1e-5, "%s: G(z) differs", variant);
    CHECK(max_abs(real_logits, r->real_logits) <= 1e-4, "%s: D(x) logits differ", variant);
    CHECK(max_abs(fake_logits, r->fake_logits) <= 1e-4, "%s: D(G(z)) logits differ", variant);
    CHECK_NEAR(d_loss->data[0], r->d_loss->floats[0], 1e-5 * fabs(r->d_loss->floats[0]));
}

// gan.c's training step, spelled out with the public functions, for every noise batch.
static void train_steps(const char *variant, Gan *model, const Reference *r, const Safetensors *state) {
    Error error;
    int B = r->inputs->shape[0], J = model->config.latent, S = (int)r->d_losses->count;
    Parameters g = gan_generator_params(model), d = gan_discriminator_params(model);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    group.config.beta1 = 0.5f;
    ParamOptimizer g_optimizer, d_optimizer;
    REQUIRE(param_optimizer_init(&g_optimizer, &g, &group, 1, NULL, &error) == 0, "%s", error.message);
    REQUIRE(param_optimizer_init(&d_optimizer, &d, &group, 1, NULL, &error) == 0, "%s", error.message);
    Tape tape;
    tape_init(&tape);
    for (int step = 0; step < S; step++) {
        const float *z = r->noise->floats + (long)step * B * J;
        tape_reset(&tape);
        tape.recording = 0;
        Tensor *fake = gan_generate(&tape, model, tensor_from(&tape, z, 2, (int[]){B, J}), 1);
        tape.recording = 1;
        Tensor *real_logits = gan_discriminate(&tape, model, tensor_from(&tape, r->inputs->floats, 4, r->inputs->shape), 1);
        Tensor *fake_logits = gan_discriminate(&tape, model, fake, 1);
        Tensor *d_loss = gan_discriminator_loss(&tape, real_logits, fake_logits);
        REQUIRE(d_loss, "%s: %s", variant, tape.error.message);
        if (step == 0) compare_first_forward(variant, r, fake, real_logits, fake_logits, d_loss);
        CHECK_NEAR(d_loss->data[0], r->d_losses->floats[step], 1e-4 * fabs(r->d_losses->floats[step]));
        parameters_zero_grad(&d);
        CHECK(tape_backward(&tape, d_loss, &error) == 0, "%s", error.message);
        if (step == 0) CHECK(compare_gradients(variant, &d, state) == (model->config.arch == GAN_MLP ? 6 : 8), "D gradients");
        param_optimizer_step(&d_optimizer, 2e-4f);
        tape_reset(&tape);
        Tensor *g_loss = gan_generator_loss(
            &tape, gan_discriminate(&tape, model, gan_generate(&tape, model, tensor_from(&tape, z, 2, (int[]){B, J}), 1), 1));
        REQUIRE(g_loss, "%s: %s", variant, tape.error.message);
        if (step == 0) CHECK_NEAR(g_loss->data[0], r->g_loss->floats[0], 1e-5 * fabs(r->g_loss->floats[0]));
        CHECK_NEAR(g_loss->data[0], r->g_losses->floats[step], 1e-4 * fabs(r->g_losses->floats[step]));
        parameters_zero_grad(&g);
        CHECK(tape_backward(&tape, g_loss, &error) == 0, "%s", error.message);
        if (step == 0) CHECK(compare_gradients(variant, &g, state) == (model->config.arch == GAN_MLP ? 8 : 10), "G gradients");
        param_optimizer_step(&g_optimizer, 2e-4f);
    }
    tape_free(&tape);
    param_optimizer_free(&g_optimizer), param_optimizer_free(&d_optimizer);
    compare_after(variant, model, state);
}

static void variant_matches(const char *variant) {
    char params_path[128], state_path[128];
    snprintf(params_path, sizeof params_path, "tests/fixtures/gan/%s/PARAMS.safetensors", variant);
    snprintf(state_path, sizeof state_path, "tests/fixtures/gan/%s/STATE.safetensors", variant);
    Gan model;
    Safetensors state;
    Error error;
    REQUIRE(gan_load(&model, params_path, &error) == 0, "%s", error.message);
    if (safetensors_read(&state, state_path, &error)) {
        gan_free(&model);
        REQUIRE(0, "%s", error.message);
    }
    int J = model.config.latent;
    Reference r = {.inputs = safetensors_find(&state, "inputs"), .d_losses = safetensors_find(&state, "d_losses")};
    long B = r.inputs && r.inputs->ndim == 4 ? r.inputs->shape[0] : 0, S = r.d_losses ? r.d_losses->count : 0;
    CHECK(B == 8 && S == 5 && J == 8 && model.config.width == 4, "%s: batch %ld, %ld steps, latent %d", variant, B, S, J);
    r.noise = tensor(&state, "noise", S * B * J), r.fake = tensor(&state, "fake", B * GAN_PIXELS);
    r.real_logits = tensor(&state, "real_logits", B), r.fake_logits = tensor(&state, "fake_logits", B);
    r.d_loss = tensor(&state, "d_loss", 1), r.g_loss = tensor(&state, "g_loss", 1), r.g_losses = tensor(&state, "g_losses", S);
    if (B > 0 && S > 0 && r.inputs->count == B * GAN_PIXELS && r.noise && r.fake && r.real_logits && r.fake_logits &&
        r.d_loss && r.g_loss && r.g_losses)
        train_steps(variant, &model, &r, &state);
    else
        CHECK(0, "%s: the state lacks a tensor", variant);
    safetensors_free(&state);
    gan_free(&model);
}

static void mlp_matches_the_pytorch_reference(void) { variant_matches("mlp"); }
static void dcgan_matches_the_pytorch_reference(void) { variant_matches("dcgan"); }

static const CheckCase CASES[] = {
    {"mlp matches the pytorch reference", mlp_matches_the_pytorch_reference},
    {"dcgan matches the pytorch reference", dcgan_matches_the_pytorch_reference},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
