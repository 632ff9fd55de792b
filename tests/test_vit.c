// The Vision Transformer (models/vit.h): the PyTorch fixture (tests/fixtures/vit) passes verify —
// logits, loss, every gradient, 10 AdamW step losses and the evaluation logits after them; the
// backward of the whole model (patch projection, class token, concatenation, positions, layers,
// head) agrees with finite differences; the sizes come back from the file; bad sizes, a
// checkpoint of another architecture and a file without its head count are one-line errors;
// a saved model loads back to the same logits; dropout acts only while training; the class
// token's attention over the patches is a distribution.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "foundations/gradcheck.h"
#include "models/classifier_verify.h"
#include "nn/state_dict.h"
#include "tests/check.h"

static const char *MODEL = "tests/fixtures/vit/PARAMS.safetensors", *STATE = "tests/fixtures/vit/STATE.safetensors";

static void the_pytorch_fixture_passes(void) {
    static ClassifierVerification v;
    Error error;
    REQUIRE(classifier_verify(CLASSIFIER_VIT, MODEL, STATE, 10, 1e-3f, &v, &error) == 0, "%s", error.message);
    for (int i = 0; i < v.n_grads; i++) CHECK(v.grads[i].ok, "grad %s: %g", v.grads[i].name, v.grads[i].relative);
    CHECK(v.ok && v.logits_ok && v.loss_ok && v.steps_ok && v.eval_compared && v.eval_logits_ok,
          "loss %g vs %g, steps %g, eval logits %g", v.loss, v.reference_loss, v.steps_max_relative, v.eval_logits_max_abs);
    // cls_token, pos_embed, patch_embed.proj (2), 2 layers of 12, encoder.norm (2), head (2)
    CHECK(v.n_grads == 2 + 2 + 2 * 12 + 2 + 2 && v.n_reference_steps == 10, "%d grads, %d steps", v.n_grads,
          v.n_reference_steps);
    CHECK(v.logits_max_abs < 1e-5 && v.steps_max_relative < 1e-6, "logits %g, steps %g", v.logits_max_abs,
          v.steps_max_relative);
    CHECK(classifier_verify(CLASSIFIER_LENET5, MODEL, STATE, 0, 1e-3f, &v, &error) != 0 &&
              strstr(error.message, "a vit checkpoint, not lenet5"), "a vit verified as lenet5: %s", error.message);
    CHECK(classifier_verify(CLASSIFIER_VIT, "tests/fixtures/lenet5/PARAMS.safetensors", STATE, 0, 1e-3f, &v, &error) != 0 &&
              strstr(error.message, "a lenet5 checkpoint, not vit"), "a lenet5 verified as vit: %s", error.message);
}

static void sizes_come_from_the_file(void) {
    ImageClassifier model;
    Error error;
    REQUIRE(image_classifier_load(&model, MODEL, NULL, &error) == 0, "%s", error.message);
    CHECK(model.arch == CLASSIFIER_VIT, "arch %d", model.arch);
    const VitConfig *c = &model.vit.config;
    CHECK(c->in_channels == 1 && c->image_size == 28 && c->patch_size == 7 && c->dim == 16 && c->depth == 2 &&
              c->heads == 4 && c->mlp_dim == 32 && c->classes == 10 && c->dropout == 0.0f,
          "in %d, image %d, patch %d, dim %d, depth %d, heads %d, mlp %d, classes %d", c->in_channels, c->image_size,
          c->patch_size, c->dim, c->depth, c->heads, c->mlp_dim, c->classes);
    char description[128];
    image_classifier_describe(&model, description, sizeof description);
    CHECK(strcmp(description, "vit patch 7 dim 16 depth 2 heads 4 mlp 32") == 0, "%s", description);
    SafetensorsMetadata metadata[IMAGE_CLASSIFIER_MAX_METADATA];
    CHECK(image_classifier_metadata(&model, metadata) == 3 && strcmp(metadata[1].key, "heads") == 0 &&
              strcmp(metadata[1].value, "4") == 0 && strcmp(metadata[2].key, "dropout") == 0, "metadata");
    CHECK(image_classifier_check_input(&model, 1, 28, 28, &error) == 0, "28x28 refused");
    CHECK(image_classifier_check_input(&model, 1, 32, 32, &error) != 0 &&
              strstr(error.message, "the vit takes 28x28 with 1"), "32x32: %s", error.message);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    float zeros[2 * 14 * 14] = {0};
    CHECK(!vit_forward(&tape, &model.vit, tensor_from(&tape, zeros, 4, (int[]){2, 1, 14, 14}), 0) &&
              strstr(tape.error.message, "the model takes (N,1,28,28)"), "14x14 input: %s", tape.error.message);
    tape_free(&tape);
    image_classifier_free(&model);
}

// ---------------------------------------------------------------------------------------
// The backward against central differences of the loss (step 1e-2, float32), for every
// parameter tensor: measured at most 1.6e-3 relative, checked below 5e-3.

typedef struct GradContext {
    Vit *model;
    Tape tape;
    const float *x;
    const int *targets;
} GradContext;

static double loss_of(void *pointer) {
    GradContext *g = pointer;
    tape_reset(&g->tape);
    g->tape.recording = 0;
    Tensor *logits = vit_forward(&g->tape, g->model, tensor_from(&g->tape, g->x, 4, (int[]){2, 1, 14, 14}), 1);
    Tensor *loss = nn_cross_entropy(&g->tape, logits, g->targets, NN_NO_IGNORE, 0.0f);
    g->tape.recording = 1;
    return loss ? loss->data[0] : NAN;
}

static void the_backward_matches_finite_differences(void) {
    // 14×14 images, patches 7×7: 4 patches and the class token, dim 8, 2 layers of 2 heads, 3 classes.
    VitConfig config = {1, 14, 7, 8, 2, 2, 12, 3, 0.0f};
    static Vit model;
    Random rng;
    random_seed(&rng, 11);
    Error error;
    REQUIRE(vit_create(&model, &config, &rng, &error) == 0, "%s", error.message);
    // The class token and positions off their zeros/small values so that each matters.
    random_fill_normal(&rng, model.cls_token->data, model.cls_token->size, 0.0f, 0.5f);
    random_fill_normal(&rng, model.pos_embed->data, model.pos_embed->size, 0.0f, 0.5f);
    float x[2 * 14 * 14];
    for (int i = 0; i < 2 * 14 * 14; i++) x[i] = random_uniform(&rng);
    int targets[2] = {2, 0};
    GradContext g = {.model = &model, .x = x, .targets = targets};
    tape_init(&g.tape);
    Tensor *logits = vit_forward(&g.tape, &model, tensor_from(&g.tape, x, 4, (int[]){2, 1, 14, 14}), 1);
    Tensor *loss = nn_cross_entropy(&g.tape, logits, targets, NN_NO_IGNORE, 0.0f);
    parameters_zero_grad(&model.params);
    REQUIRE(loss && tape_backward(&g.tape, loss, &error) == 0, "backward: %s %s", g.tape.error.message, error.message);
    int checked = 0;
    for (int i = 0; i < model.params.count; i++) {
        Tensor *t = model.params.entries[i].tensor;
        float analytic[512];
        REQUIRE(t->size <= (long)(sizeof analytic / sizeof *analytic), "%s is too large", model.params.entries[i].name);
        memcpy(analytic, t->grad, sizeof(float) * (size_t)t->size);
        GradcheckResult r = gradcheck(loss_of, &g, t->data, analytic, t->size, 1e-2f, 1e-2);
        CHECK(r.max_rel_error < 5e-3, "%s: relative error %g at %ld (abs %g)", model.params.entries[i].name,
              r.max_rel_error, r.worst_index, r.max_abs_error);
        checked++;
    }
    CHECK(checked == 2 + 2 + 2 * 12 + 2 + 2, "%d tensors checked", checked);
    tape_free(&g.tape);
    vit_free(&model);
}

static void bad_sizes_are_one_line_errors(void) {
    struct {
        VitConfig config;
        const char *message;
    } cases[] = {
        {{1, 28, 7, 48, 3, 5, 96, 10, 0.0f}, "5 heads do not divide dim 48"},
        {{1, 28, 5, 48, 3, 4, 96, 10, 0.0f}, "patch size 5 does not divide the image side 28"},
        {{1, 28, 7, 48, 0, 4, 96, 10, 0.0f}, "each must be positive"},
        {{1, 28, 7, 48, VIT_MAX_DEPTH + 1, 4, 96, 10, 0.0f}, "depth 25"},
        {{1, 28, 7, 48, 3, 4, 96, 10, 1.0f}, "dropout 1 outside [0, 1)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Vit model;
        Random rng;
        random_seed(&rng, 1);
        Error error = {{0}};
        CHECK(vit_create(&model, &cases[i].config, &rng, &error) != 0 && strstr(error.message, cases[i].message) &&
                  !strchr(error.message, '\n'), "case %zu: %s", i, error.message);
    }
}

// Logits of the first n fixture inputs in evaluation mode into out.
static int fixture_logits(Vit *model, int n, float *out) {
    Safetensors state;
    Error error;
    if (safetensors_read(&state, STATE, &error)) return -1;
    const SafetensorsTensor *inputs = safetensors_find(&state, "inputs");
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *logits = vit_forward(&tape, model, tensor_from(&tape, inputs->floats, 4, (int[]){n, 1, 28, 28}), 0);
    if (logits) memcpy(out, logits->data, sizeof(float) * (size_t)logits->size);
    tape_free(&tape);
    safetensors_free(&state);
    return logits ? 0 : -1;
}

static void a_saved_model_loads_back(void) {
    ImageClassifier model, back;
    Error error;
    REQUIRE(image_classifier_load(&model, MODEL, NULL, &error) == 0, "%s", error.message);
    SafetensorsMetadata metadata[IMAGE_CLASSIFIER_MAX_METADATA];
    int n = image_classifier_metadata(&model, metadata);
    char path[1200], bare[1200];
    snprintf(path, sizeof path, "%s/vit.safetensors", check_directory());
    snprintf(bare, sizeof bare, "%s/no_heads.safetensors", check_directory());
    REQUIRE(state_dict_save(&model.vit.params, path, metadata, n, &error) == 0, "%s", error.message);
    REQUIRE(state_dict_save(&model.vit.params, bare, metadata, 1, &error) == 0, "%s", error.message);  // arch only
    REQUIRE(image_classifier_load(&back, path, NULL, &error) == 0, "%s", error.message);
    float a[4 * 10], b[4 * 10];
    CHECK(fixture_logits(&model.vit, 4, a) == 0 && fixture_logits(&back.vit, 4, b) == 0, "forward failed");
    CHECK(memcmp(a, b, sizeof a) == 0, "the reloaded model's logits differ");
    image_classifier_free(&back);
    CHECK(image_classifier_load(&back, bare, NULL, &error) != 0 && strstr(error.message, "no \"heads\" in its metadata"),
          "no heads: %s", error.message);
    image_classifier_free(&model);
}

// The fixture's weights with dropout 0.5: evaluation mode gives dropout 0's logits, training mode others.
static void dropout_only_while_training(void) {
    ImageClassifier model;
    Error error;
    REQUIRE(image_classifier_load(&model, MODEL, NULL, &error) == 0, "%s", error.message);
    float plain[4 * 10], evaluation[4 * 10];
    REQUIRE(fixture_logits(&model.vit, 4, plain) == 0, "forward failed");
    for (int l = 0; l < model.vit.config.depth; l++) model.vit.layers[l].config.dropout = 0.5f;
    REQUIRE(fixture_logits(&model.vit, 4, evaluation) == 0, "forward failed");
    CHECK(memcmp(plain, evaluation, sizeof plain) == 0, "dropout changed the evaluation-mode logits");
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    float x[28 * 28] = {0};
    for (int i = 0; i < 28 * 28; i++) x[i] = (float)(i % 29) / 29.0f;
    Tensor *train = vit_forward(&tape, &model.vit, tensor_from(&tape, x, 4, (int[]){1, 1, 28, 28}), 1);
    Tensor *eval = vit_forward(&tape, &model.vit, tensor_from(&tape, x, 4, (int[]){1, 1, 28, 28}), 0);
    REQUIRE(train && eval, "%s", tape.error.message);
    double difference = 0;
    for (int k = 0; k < 10; k++) difference = fmax(difference, fabs((double)train->data[k] - eval->data[k]));
    CHECK(difference > 1e-3, "training-mode logits equal evaluation's (%g)", difference);
    tape_free(&tape);
    image_classifier_free(&model);
}

static void class_attention_is_a_distribution(void) {
    ImageClassifier model;
    Error error;
    REQUIRE(image_classifier_load(&model, MODEL, NULL, &error) == 0, "%s", error.message);
    Safetensors state;
    REQUIRE(safetensors_read(&state, STATE, &error) == 0, "%s", error.message);
    const float *inputs = safetensors_find(&state, "inputs")->floats;
    float weights[2][16], to_self[2];
    for (int image = 0; image < 2; image++) {
        REQUIRE(vit_class_attention(&model.vit, inputs + image * 784, weights[image], &to_self[image], &error) == 0, "%s",
                error.message);
        double sum = to_self[image];
        for (int p = 0; p < 16; p++) {
            CHECK(weights[image][p] >= 0.0f, "a negative weight");
            sum += weights[image][p];
        }
        CHECK_NEAR(sum, 1.0, 1e-5);
    }
    double difference = 0;
    for (int p = 0; p < 16; p++) difference = fmax(difference, fabs((double)weights[0][p] - weights[1][p]));
    CHECK(difference > 1e-4, "two digits gave the same attention (%g)", difference);
    safetensors_free(&state);
    image_classifier_free(&model);
}

static const CheckCase CASES[] = {
    {"the PyTorch fixture passes verify", the_pytorch_fixture_passes},
    {"sizes come from the file", sizes_come_from_the_file},
    {"the backward matches finite differences", the_backward_matches_finite_differences},
    {"bad sizes are one-line errors", bad_sizes_are_one_line_errors},
    {"a saved model loads back", a_saved_model_loads_back},
    {"dropout only while training", dropout_only_while_training},
    {"class attention is a distribution", class_attention_is_a_distribution},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
