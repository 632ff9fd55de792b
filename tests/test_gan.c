// The GAN (models/gan.h): the two losses at known discriminator outputs (D = 1/2 everywhere:
// L_D = 2 log 2, L_G = log 2; D(x) = 0.9, D(G(z)) = 0.2: L_D = −log 0.9 − log 0.8, L_G =
// −log 0.2) and the non-saturating gradient dL_G/dlogit = (σ − 1)/B; both variants' shapes and
// ranges; the generator and discriminator views splitting the parameters; a short training run
// with finite losses whose checkpoint loads back to the same images; other checkpoints refused.
#include <math.h>
#include <string.h>

#include "models/gan.h"
#include "models/vae.h"
#include "nn/state_dict.h"
#include "tests/check.h"

static Tensor *logits_of(Tape *tape, const float *values, int n) {
    Tensor *t = tensor_from(tape, values, 2, (int[]){n, 1});
    if (t) t->requires_grad = 1;  // a leaf the backward reaches
    return t;
}

static void losses_at_known_outputs(void) {
    Tape tape;
    tape_init(&tape);
    float zeros[4] = {0, 0, 0, 0};
    Tensor *d_loss = gan_discriminator_loss(&tape, logits_of(&tape, zeros, 4), logits_of(&tape, zeros, 4));
    Tensor *g_loss = gan_generator_loss(&tape, logits_of(&tape, zeros, 4));
    REQUIRE(d_loss && g_loss, "%s", tape.error.message);
    CHECK_NEAR(d_loss->data[0], 2.0 * log(2.0), 1e-6);
    CHECK_NEAR(g_loss->data[0], log(2.0), 1e-6);
    // D(x) = 0.9 on real images, D(G(z)) = 0.2 on fakes: logits log(p/(1−p))
    float real[3], fake[3];
    for (int i = 0; i < 3; i++) real[i] = (float)log(0.9 / 0.1), fake[i] = (float)log(0.2 / 0.8);
    tape_reset(&tape);
    Tensor *fake_logits = logits_of(&tape, fake, 3);
    d_loss = gan_discriminator_loss(&tape, logits_of(&tape, real, 3), logits_of(&tape, fake, 3));
    g_loss = gan_generator_loss(&tape, fake_logits);
    REQUIRE(d_loss && g_loss, "%s", tape.error.message);
    CHECK_NEAR(d_loss->data[0], -log(0.9) - log(0.8), 1e-6);
    CHECK_NEAR(g_loss->data[0], -log(0.2), 1e-6);
    // The non-saturating gradient: dL_G/dl = (σ(l) − 1)/B = −0.8/3 per logit, where the
    // saturating loss log(1 − D) would give −σ(l)/B = −0.2/3
    Error error;
    REQUIRE(tape_backward(&tape, g_loss, &error) == 0, "%s", error.message);
    for (int i = 0; i < 3; i++) CHECK_NEAR(fake_logits->grad[i], -0.8 / 3.0, 1e-6);
    tape_free(&tape);
}

static void shapes_and_ranges(void) {
    for (int arch = GAN_MLP; arch <= GAN_DCGAN; arch++) {
        GanConfig config = {(GanArch)arch, 8, 4};
        Gan model;
        Random rng;
        random_seed(&rng, 3);
        Error error;
        REQUIRE(gan_create(&model, &config, &rng, &error) == 0, "%s", error.message);
        Parameters g = gan_generator_params(&model), d = gan_discriminator_params(&model);
        CHECK(g.count + d.count == model.params.count && g.count > 0 && d.count > 0, "views %d + %d of %d", g.count,
              d.count, model.params.count);
        for (int i = 0; i < g.count; i++) CHECK(strncmp(g.entries[i].name, "generator.", 10) == 0, "%s", g.entries[i].name);
        for (int i = 0; i < d.count; i++)
            CHECK(strncmp(d.entries[i].name, "discriminator.", 14) == 0, "%s", d.entries[i].name);
        Tape tape;
        tape_init(&tape);
        float z[5 * 8];
        random_fill_normal(&rng, z, 40, 0.0f, 1.0f);
        Tensor *images = gan_generate(&tape, &model, tensor_from(&tape, z, 2, (int[]){5, 8}), 1);
        Tensor *logits = gan_discriminate(&tape, &model, images, 1);
        REQUIRE(logits, "%s: %s", gan_arch_name(config.arch), tape.error.message);
        CHECK(images->n_dims == 4 && images->shape[0] == 5 && images->shape[1] == 1 && images->shape[2] == 28 &&
                  images->shape[3] == 28, "%s: generator shape", gan_arch_name(config.arch));
        for (long i = 0; i < images->size; i++) CHECK(images->data[i] > 0.0f && images->data[i] < 1.0f, "pixel %g", images->data[i]);
        CHECK(logits->n_dims == 2 && logits->shape[0] == 5 && logits->shape[1] == 1, "discriminator shape");
        tape_reset(&tape);
        CHECK(!gan_generate(&tape, &model, tensor_from(&tape, z, 2, (int[]){4, 10}), 0) && strstr(tape.error.message, "(B,8)"),
              "a latent of 10 accepted: %s", tape.error.message);
        tape_free(&tape);
        gan_free(&model);
    }
}

// A tiny training run of each variant on 64 synthetic images; the checkpoint loads back.
static void trains_and_reloads(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    enum { N = 64 };
    static float images[N * GAN_PIXELS];
    int labels[N];
    for (int i = 0; i < N; i++) {
        labels[i] = i % 10;
        for (int p = 0; p < GAN_PIXELS; p++) images[i * GAN_PIXELS + p] = (p / 28 == 4 + 2 * (i % 10)) ? 1.0f : 0.0f;
    }
    LabelledSet set;
    Error error;
    REQUIRE(labelled_set_create(&set, images, labels, N, 3, (int[]){1, 28, 28}, 10, &error) == 0, "%s", error.message);
    for (int arch = GAN_MLP; arch <= GAN_DCGAN; arch++) {
        char path[512];
        snprintf(path, sizeof path, "%s/gan_%d.safetensors", check_directory(), arch);
        GanConfig config = {(GanArch)arch, 6, 4};
        Gan model, loaded;
        Random rng;
        random_seed(&rng, 5);
        GanTrainConfig recipe = {2, 16, 2e-4f, 9, path};
        GanEpoch records[2];
        REQUIRE(gan_create(&model, &config, &rng, &error) == 0, "%s", error.message);
        REQUIRE(gan_train(&model, &set, &recipe, NULL, records, &error) == 0, "%s", error.message);
        for (int e = 0; e < 2; e++)
            CHECK(isfinite(records[e].discriminator_loss) && isfinite(records[e].generator_loss) &&
                      records[e].real_probability > 0 && records[e].real_probability < 1,
                  "epoch %d: %g %g", e + 1, records[e].discriminator_loss, records[e].generator_loss);
        REQUIRE(gan_load(&loaded, path, &error) == 0, "%s", error.message);
        CHECK(loaded.config.arch == config.arch && loaded.config.latent == 6 && loaded.config.width == 4, "config");
        float a[3 * GAN_PIXELS], b[3 * GAN_PIXELS];
        CHECK(gan_sample(&model, 3, 4, a, &error) == 0 && gan_sample(&loaded, 3, 4, b, &error) == 0, "%s", error.message);
        CHECK(memcmp(a, b, sizeof a) == 0, "%s: the loaded generator draws other images", gan_arch_name(config.arch));
        gan_free(&loaded);
        gan_free(&model);
    }
    labelled_set_free(&set);
}

static void refuses_other_checkpoints(void) {
    Gan model;
    Error error;
    CHECK(gan_load(&model, "tests/fixtures/vae/PARAMS.safetensors", &error) != 0 &&
              strstr(error.message, "a vae checkpoint, not gan"), "%s", error.message);
    CHECK(gan_load(&model, "tests/fixtures/lenet5/PARAMS.safetensors", &error) != 0 &&
              strstr(error.message, "a lenet5 checkpoint, not gan"), "%s", error.message);
    GanArch arch;
    CHECK(gan_arch_parse("wgan", &arch, &error) != 0 && strstr(error.message, "mlp or dcgan"), "%s", error.message);
}

static const CheckCase CASES[] = {
    {"losses at known discriminator outputs", losses_at_known_outputs},
    {"shapes and ranges of both variants", shapes_and_ranges},
    {"trains and reloads", trains_and_reloads},
    {"refuses other checkpoints", refuses_other_checkpoints},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
