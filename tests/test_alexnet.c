// AlexNet (models/alexnet.h): the PyTorch fixture (tests/fixtures/alexnet, dropout 0) passes
// verify, logits, loss, every gradient and 10 AdamW step losses within their tolerances; the
// sizes and the dropout come back from the file; dropout is the identity in evaluation mode
// and zeroes about p of fc1's and fc2's inputs in training mode; inputs of another size fail
// with one line; a file without "arch" is recognised by its names.
#include <math.h>
#include <string.h>

#include "models/classifier_verify.h"
#include "nn/state_dict.h"
#include "tests/check.h"

static const char *MODEL = "tests/fixtures/alexnet/PARAMS.safetensors", *STATE = "tests/fixtures/alexnet/STATE.safetensors";

static void the_fixture_passes(void) {
    static ClassifierVerification v;
    Error error;
    REQUIRE(classifier_verify(CLASSIFIER_ALEXNET, MODEL, STATE, 10, 1e-3f, &v, &error) == 0, "%s", error.message);
    for (int i = 0; i < v.n_grads; i++) CHECK(v.grads[i].ok, "grad %s: %g", v.grads[i].name, v.grads[i].relative);
    CHECK(v.ok && v.logits_ok && v.loss_ok && v.steps_ok, "loss %g vs %g, steps %g", v.loss, v.reference_loss,
          v.steps_max_relative);
    CHECK(v.n_grads == 16 && v.n_reference_steps == 10 && v.eval_compared && v.eval_logits_ok, "%d grads, %d steps",
          v.n_grads, v.n_reference_steps);
    CHECK(v.logits_max_abs < 1e-5 && v.steps_max_relative < 1e-6, "logits %g, steps %g", v.logits_max_abs,
          v.steps_max_relative);
    CHECK(classifier_verify(CLASSIFIER_LENET5, MODEL, STATE, 0, 1e-3f, &v, &error) != 0, "an alexnet verified as lenet5");
    CHECK(strstr(error.message, "an alexnet checkpoint, not lenet5"),
          "message: %s", error.message);
}

static void sizes_and_dropout_come_from_the_file(void) {
    ImageClassifier model;
    Error error;
    REQUIRE(image_classifier_load(&model, MODEL, NULL, &error) == 0, "%s", error.message);
    CHECK(model.arch == CLASSIFIER_ALEXNET, "arch %d", model.arch);
    const AlexnetConfig *c = &model.alexnet.config;
    int expected[7] = {4, 8, 8, 8, 6, 16, 12}, got[7] = {c->conv[0], c->conv[1], c->conv[2], c->conv[3], c->conv[4], c->fc1, c->fc2};
    for (int i = 0; i < 7; i++) CHECK(got[i] == expected[i], "size %d: %d, expected %d", i, got[i], expected[i]);
    CHECK(c->in_channels == 1 && c->classes == 10 && c->dropout == 0.0f, "in %d, classes %d, dropout %g", c->in_channels,
          c->classes, (double)c->dropout);
    char description[128];
    image_classifier_describe(&model, description, sizeof description);
    CHECK(strcmp(description, "alexnet 4-8-8-8-6-16-12 dropout 0") == 0, "%s", description);
    SafetensorsMetadata metadata[2];
    CHECK(image_classifier_metadata(&model, metadata) == 2 && strcmp(metadata[1].key, "dropout") == 0 &&
              strcmp(metadata[1].value, "0") == 0, "metadata");
    CHECK(image_classifier_check_input(&model, 1, 28, 28, &error) == 0, "28x28 refused");
    CHECK(image_classifier_check_input(&model, 1, 32, 32, &error) != 0 &&
              strstr(error.message, "the alexnet takes 28x28 with 1"), "32x32: %s", error.message);
    image_classifier_free(&model);
}

// The same weights with dropout 0.5: evaluation mode gives exactly dropout 0's logits, training
// mode others; the fraction of zeroed fc inputs is near 0.5.
static void dropout_only_while_training(void) {
    ImageClassifier model;
    Error error;
    REQUIRE(image_classifier_load(&model, MODEL, NULL, &error) == 0, "%s", error.message);
    Alexnet *alexnet = &model.alexnet;
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    float x[4 * 784];
    Random rng;
    random_seed(&rng, 5);
    for (int i = 0; i < 4 * 784; i++) x[i] = random_uniform(&rng);
    int shape[4] = {4, 1, 28, 28};
    Tensor *plain = alexnet_forward(&tape, alexnet, tensor_from(&tape, x, 4, shape), 0);
    alexnet->config.dropout = 0.5f;
    Tensor *evaluation = alexnet_forward(&tape, alexnet, tensor_from(&tape, x, 4, shape), 0);
    Tensor *training = alexnet_forward(&tape, alexnet, tensor_from(&tape, x, 4, shape), 1);
    REQUIRE(plain && evaluation && training, "forward failed");
    double same = 0.0, moved = 0.0;
    for (long i = 0; i < plain->size; i++) {
        same = fmax(same, fabs(plain->data[i] - evaluation->data[i]));
        moved = fmax(moved, fabs(plain->data[i] - training->data[i]));
    }
    CHECK(same == 0.0, "evaluation mode moved by dropout: %g", same);
    CHECK(moved > 1e-4, "training mode without dropout: %g", moved);
    // dropout's mask on a tensor of ones, with the model's generator: about half zeroed
    float ones[4096];
    for (int i = 0; i < 4096; i++) ones[i] = 1.0f;
    Tensor *dropped = nn_dropout(&tape, tensor_from(&tape, ones, 1, (int[]){4096}), 0.5f, 1, &alexnet->dropout_rng);
    int zeros = 0;
    for (int i = 0; dropped && i < 4096; i++) zeros += dropped->data[i] == 0.0f;
    CHECK(zeros > 1800 && zeros < 2300, "%d of 4096 zeroed", zeros);
    tape_free(&tape);
    image_classifier_free(&model);
}

static void another_size_fails_with_one_line(void) {
    Alexnet model;
    Error error;
    Random rng;
    random_seed(&rng, 1);
    AlexnetConfig config = alexnet_default_config();
    REQUIRE(alexnet_create(&model, &config, &rng, &error) == 0, "%s", error.message);
    CHECK(parameters_count(&model.params) == 24 * 25 + 24 + 64 * 24 * 25 + 64 + 96 * 64 * 9 + 96 + 96 * 96 * 9 + 96 +
                                                 64 * 96 * 9 + 64 + 256 * 256 + 256 + 256 * 256 + 256 + 10 * 256 + 10,
          "%ld parameters", parameters_count(&model.params));
    Tape tape;
    tape_init(&tape);
    float x[32 * 32] = {0};
    CHECK(alexnet_forward(&tape, &model, tensor_from(&tape, x, 4, (int[]){1, 1, 32, 32}), 0) == NULL, "32x32 accepted");
    CHECK(tape_error(&tape, &error) != 0 && strstr(error.message, "alexnet: input (1,1,32,32); the model takes (N,1,28,28)"),
          "%s", error.message);
    tape_free(&tape);
    alexnet_free(&model);
    config.dropout = 1.0f;
    CHECK(alexnet_create(&model, &config, &rng, &error) != 0 && strstr(error.message, "dropout"), "dropout 1 accepted");
    config = alexnet_default_config();
    config.conv[2] = 0;
    CHECK(alexnet_create(&model, &config, &rng, &error) != 0 && strstr(error.message, "positive"), "a 0 size accepted");
}

// The fixture's tensors without metadata: the names say alexnet, dropout is torchvision's 0.5.
static void names_alone_say_alexnet(void) {
    Safetensors file;
    Error error;
    REQUIRE(safetensors_read(&file, MODEL, &error) == 0, "%s", error.message);
    const char *path = check_path("bare.safetensors");
    int status = safetensors_write(path, file.tensors, file.n_tensors, NULL, 0, &error);
    safetensors_free(&file);
    REQUIRE(status == 0, "%s", error.message);
    ImageClassifier model;
    REQUIRE(image_classifier_load(&model, path, NULL, &error) == 0, "%s", error.message);
    CHECK(model.arch == CLASSIFIER_ALEXNET && model.alexnet.config.dropout == 0.5f, "arch %d, dropout %g", model.arch,
          (double)model.alexnet.config.dropout);
    image_classifier_free(&model);
}

static const CheckCase CASES[] = {
    {"the PyTorch fixture passes verify", the_fixture_passes},
    {"sizes and dropout come from the file", sizes_and_dropout_come_from_the_file},
    {"dropout only while training", dropout_only_while_training},
    {"another input size fails with one line", another_size_fails_with_one_line},
    {"names alone say alexnet", names_alone_say_alexnet},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
