// U-Net (models/unet.h) against its PyTorch reference (tests/fixtures/unet,
// tools/reference/unet_reference.py): the same weights and batch give the same logits (1e-4
// absolute), loss (1e-5 relative), every gradient (1e-3 relative to the tensor's largest
// reference value) and the losses of 10 AdamW steps (1e-5 relative); the classifier verify's
// tolerances. Also: the sizes come back from the file, inputs of a wrong size fail with one
// line, a checkpoint of another architecture is refused, the MNIST segmentation set is
// deterministic and what its header says, and training on a few images lowers the loss.
#include <math.h>
#include <string.h>

#include "foundations/idx.h"
#include "models/classifier_verify.h"
#include "models/segmenter.h"
#include "nn/optim.h"
#include "tests/check.h"

#ifndef UNET_TEST_SEED
#define UNET_TEST_SEED 3
#endif

static const char *MODEL = "tests/fixtures/unet/PARAMS.safetensors", *STATE = "tests/fixtures/unet/STATE.safetensors";

// The largest |ours − reference| relative to the largest |reference| (classifier_verify.h's).
static double relative_difference(const float *ours, const float *reference, long n) {
    return tensor_difference("", ours, reference, n, 0.0).relative;
}

static const SafetensorsTensor *tensor(const Safetensors *file, const char *name) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    CHECK(t && t->floats, "%s missing from the state", name);
    return t && t->floats ? t : NULL;
}

// The loss of the state's batch on a fresh tape (logits out).
static Tensor *loss_of(Tape *tape, const Unet *model, const SafetensorsTensor *inputs, const SafetensorsTensor *targets,
                       Tensor **logits) {
    tape_reset(tape);
    *logits = unet_forward(tape, model, tensor_from(tape, inputs->floats, inputs->ndim, inputs->shape));
    return nn_bce_with_logits(tape, *logits, tensor_from(tape, targets->floats, targets->ndim, targets->shape));
}

static void compare_gradients(const Unet *model, const Safetensors *state) {
    int compared = 0;
    for (int i = 0; i < model->params.count; i++) {
        const NamedTensor *entry = &model->params.entries[i];
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", entry->name);
        const SafetensorsTensor *reference = tensor(state, name);
        if (!reference) continue;
        CHECK(reference->count == entry->tensor->size, "%s: %lld values", name, (long long)reference->count);
        double relative = relative_difference(entry->tensor->grad, reference->floats, entry->tensor->size);
        CHECK(relative <= 1e-3, "%s differs by %g of its largest", name, relative);
        compared++;
    }
    // W 4, L 2: encoder1, encoder2, bottleneck, decoder2, decoder1 (2 convs each), upconv2, upconv1, conv
    CHECK(compared == 2 * (5 * 2 + 2 + 1), "%d gradients compared", compared);
}

static void matches_the_pytorch_reference(void) {
    Unet model;
    Corruption corruption;
    Safetensors state;
    Error error;
    REQUIRE(segmenter_load(&model, &corruption, MODEL, &error) == 0, "%s", error.message);
    REQUIRE(safetensors_read(&state, STATE, &error) == 0, "%s", error.message);
    const SafetensorsTensor *inputs = tensor(&state, "inputs"), *targets = tensor(&state, "targets");
    const SafetensorsTensor *logits_ref = tensor(&state, "logits"), *loss_ref = tensor(&state, "loss");
    const SafetensorsTensor *steps_ref = tensor(&state, "step_losses");
    Tape tape;
    tape_init(&tape);
    Tensor *logits, *loss = (inputs && targets) ? loss_of(&tape, &model, inputs, targets, &logits) : NULL;
    if (loss && logits_ref && loss_ref && steps_ref) {
        CHECK(logits->size == logits_ref->count, "%ld logits", logits->size);
        double logit_difference = 0.0;
        for (long i = 0; i < logits->size; i++)
            logit_difference = fmax(logit_difference, fabs((double)logits->data[i] - logits_ref->floats[i]));
        CHECK(logit_difference <= 1e-4, "logits differ by %g", logit_difference);
        CHECK(fabs(loss->data[0] - loss_ref->floats[0]) <= 1e-5 * fabs(loss_ref->floats[0]), "loss %.8f, reference %.8f",
              (double)loss->data[0], (double)loss_ref->floats[0]);
        parameters_zero_grad(&model.params);
        CHECK(tape_backward(&tape, loss, &error) == 0, "%s", error.message);
        compare_gradients(&model, &state);
        OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f};
        group.config.weight_decay = 0.01f;
        ParamOptimizer optimizer;
        REQUIRE(param_optimizer_init(&optimizer, &model.params, &group, 1, NULL, &error) == 0, "%s", error.message);
        CHECK(steps_ref->count == 10, "%lld steps", (long long)steps_ref->count);
        for (int k = 0; k < steps_ref->count; k++) {
            Tensor *step_loss = loss_of(&tape, &model, inputs, targets, &logits);
            REQUIRE(step_loss, "step %d failed", k);
            parameters_zero_grad(&model.params);
            CHECK(tape_backward(&tape, step_loss, &error) == 0, "%s", error.message);
            float reference = steps_ref->floats[k];
            CHECK(fabs(step_loss->data[0] - reference) <= 1e-5 * fabs(reference), "step %d: %.8f, reference %.8f", k,
                  (double)step_loss->data[0], (double)reference);
            param_optimizer_step(&optimizer, 1e-3f);
        }
        param_optimizer_free(&optimizer);
    } else {
        CHECK(0, "the forward failed or the state is incomplete");
    }
    tape_free(&tape);
    safetensors_free(&state);
    unet_free(&model);
}

static void sizes_and_shapes(void) {
    Unet model;
    Corruption corruption;
    Error error;
    REQUIRE(segmenter_load(&model, &corruption, MODEL, &error) == 0, "%s", error.message);
    CHECK(model.config.width == 4 && model.config.levels == 2 && model.config.in_channels == 1, "width %d, levels %d",
          model.config.width, model.config.levels);
    // no corruption recorded: the default
    CHECK(corruption.strokes == 2 && corruption.stroke_width == 1.5f && corruption.noise_std == 0.25f, "corruption");
    CHECK(unet_check_input(&model, 1, 28, 28, &error) == 0 && unet_check_input(&model, 1, 8, 12, &error) == 0, "sizes refused");
    CHECK(unet_check_input(&model, 1, 30, 28, &error) != 0 &&
              strstr(error.message, "a 28x30 image with 1 channel(s); the unet takes 1 channel(s) and sides that are multiples of 4"),
          "%s", error.message);
    CHECK(unet_check_input(&model, 3, 28, 28, &error) != 0, "3 channels accepted");
    Tape tape;
    tape_init(&tape);
    float x[2 * 8 * 12] = {0};
    Tensor *y = unet_forward(&tape, &model, tensor_from(&tape, x, 4, (int[]){2, 1, 8, 12}));
    CHECK(y && y->n_dims == 4 && y->shape[0] == 2 && y->shape[1] == 1 && y->shape[2] == 8 && y->shape[3] == 12, "output shape");
    CHECK(unet_forward(&tape, &model, tensor_from(&tape, x, 4, (int[]){1, 1, 6, 6})) == NULL, "6x6 accepted");
    CHECK(tape_error(&tape, &error) != 0 && strstr(error.message, "unet: input (1,1,6,6)"), "%s", error.message);
    tape_free(&tape);
    unet_free(&model);
    UnetConfig config = {1, 8, 5, 0};
    Random rng;
    random_seed(&rng, 1);
    CHECK(unet_create(&model, &config, &rng, &error) != 0 && strstr(error.message, "levels"), "5 levels accepted");
    config.levels = 2;
    REQUIRE(unet_create(&model, &config, &rng, &error) == 0, "%s", error.message);
    // W 8: encoder1 1->8->8, encoder2 8->16->16, bottleneck 16->32->32, upconv2 32->16, decoder2 32->16->16,
    // upconv1 16->8, decoder1 16->8->8, conv 8->1 (weights and biases)
    long expected = (9 * 1 * 8 + 8 + 9 * 8 * 8 + 8) + (9 * 8 * 16 + 16 + 9 * 16 * 16 + 16) + (9 * 16 * 32 + 32 + 9 * 32 * 32 + 32) +
                    (32 * 16 * 4 + 16) + (9 * 32 * 16 + 16 + 9 * 16 * 16 + 16) + (16 * 8 * 4 + 8) +
                    (9 * 16 * 8 + 8 + 9 * 8 * 8 + 8) + (8 + 1);
    CHECK(parameters_count(&model.params) == expected, "%ld parameters, expected %ld", parameters_count(&model.params), expected);
    unet_free(&model);
}

static void another_architecture_is_refused(void) {
    Unet model;
    Corruption corruption;
    Error error;
    CHECK(segmenter_load(&model, &corruption, "tests/fixtures/lenet5/PARAMS.safetensors", &error) != 0, "lenet5 loaded");
    CHECK(strstr(error.message, "PARAMS.safetensors: a lenet5 checkpoint, not unet"), "%s", error.message);
    CHECK(segmenter_load(&model, &corruption, "tests/fixtures/alexnet/PARAMS.safetensors", &error) != 0 &&
              strstr(error.message, "an alexnet checkpoint, not unet"), "%s", error.message);
    CHECK(segmenter_file_is_unet(MODEL) && !segmenter_file_is_unet("tests/fixtures/lenet5/PARAMS.safetensors") &&
              !segmenter_file_is_unet("no/such/file"), "segmenter_file_is_unet");
}

// Images of a known pattern: the mask is exactly pixel > 0.5; without corruption the input is
// the image; the same seed gives the same set, another seed another; strokes are 0 or 1 lines.
static void the_segmentation_set(void) {
    enum { N = 3, H = 8, W = 8 };
    float images[N * H * W];
    for (int i = 0; i < N * H * W; i++) images[i] = (float)((i * 37) % 11) / 10.0f;  // 0, 0.1, ... 1
    Corruption none = {0, 1.0f, 0.0f}, noisy = corruption_default();
    SegmentationSet a, b, c, clean;
    Error error;
    REQUIRE(mnist_segmentation_make(images, N, H, W, &none, 7, &clean, &error) == 0, "%s", error.message);
    for (int i = 0; i < N * H * W; i++) {
        CHECK(clean.masks[i] == (images[i] > 0.5f ? 1.0f : 0.0f), "mask %d", i);
        CHECK(clean.inputs[i] == images[i], "input %d changed without corruption", i);
    }
    REQUIRE(mnist_segmentation_make(images, N, H, W, &noisy, 7, &a, &error) == 0, "%s", error.message);
    REQUIRE(mnist_segmentation_make(images, N, H, W, &noisy, 7, &b, &error) == 0, "%s", error.message);
    REQUIRE(mnist_segmentation_make(images, N, H, W, &noisy, 8, &c, &error) == 0, "%s", error.message);
    CHECK(memcmp(a.inputs, b.inputs, sizeof a.inputs[0] * N * H * W) == 0, "the same seed, other inputs");
    CHECK(memcmp(a.inputs, c.inputs, sizeof a.inputs[0] * N * H * W) != 0, "another seed, the same inputs");
    CHECK(memcmp(a.masks, clean.masks, sizeof a.masks[0] * N * H * W) == 0, "the corruption changed the mask");
    // the first image alone gives the same corruption of it (independent of the others)
    SegmentationSet one;
    REQUIRE(mnist_segmentation_make(images, 1, H, W, &noisy, 7, &one, &error) == 0, "%s", error.message);
    CHECK(memcmp(one.inputs, a.inputs, sizeof a.inputs[0] * H * W) == 0, "image 0 depends on the count");
    double mean_shift = 0.0;
    for (int i = 0; i < N * H * W; i++) {
        CHECK(a.inputs[i] >= 0.0f && a.inputs[i] <= 1.0f, "input %d = %g outside [0, 1]", i, (double)a.inputs[i]);
        mean_shift += fabs(a.inputs[i] - images[i]);
    }
    CHECK(mean_shift / (N * H * W) > 0.05, "hardly corrupted: %g", mean_shift / (N * H * W));
    // one stroke, no noise: every changed pixel is 0 or 1
    Corruption stroke = {1, 1.5f, 0.0f};
    SegmentationSet s;
    REQUIRE(mnist_segmentation_make(images, N, H, W, &stroke, 3, &s, &error) == 0, "%s", error.message);
    int changed = 0;
    for (int i = 0; i < N * H * W; i++)
        if (s.inputs[i] != images[i]) {
            changed++;
            CHECK(s.inputs[i] == 0.0f || s.inputs[i] == 1.0f, "a stroke pixel of %g", (double)s.inputs[i]);
        }
    CHECK(changed >= N * 4, "strokes changed %d pixels", changed);
    Corruption bad = {17, 1.5f, 0.25f};
    SegmentationSet refused;
    CHECK(mnist_segmentation_make(images, N, H, W, &bad, 1, &refused, &error) != 0 && strstr(error.message, "strokes"), "17 strokes");
    bad = (Corruption){2, 1.5f, -0.1f};
    CHECK(corruption_check(&bad, &error) != 0 && strstr(error.message, "noise"), "negative noise");
    segmentation_set_free(&a), segmentation_set_free(&b), segmentation_set_free(&c), segmentation_set_free(&clean);
    segmentation_set_free(&one), segmentation_set_free(&s);
}

// 48 MNIST digits cropped to their central 16×16 (fully convolutional: any multiple of 4),
// W 4: eight epochs lower the loss and find the digits (IoU above 0.5); evaluation's IoU and
// Dice are consistent.
static void training_lowers_the_loss(void) {
    enum { N = 48, SIDE = 16, OFFSET = 6 };
    MnistSet mnist;
    Error error;
    REQUIRE(mnist_load("data/mnist", "test", &mnist, &error) == 0, "%s", error.message);
    static float crops[N * SIDE * SIDE];
    for (int i = 0; i < N; i++)
        for (int v = 0; v < SIDE; v++)
            memcpy(crops + (i * SIDE + v) * SIDE, mnist.images + (long)i * 784 + (v + OFFSET) * 28 + OFFSET,
                   sizeof(float) * SIDE);
    mnist_free(&mnist);
    Corruption corruption = corruption_default();
    SegmentationSet set;
    REQUIRE(mnist_segmentation_make(crops, N, SIDE, SIDE, &corruption, 1, &set, &error) == 0, "%s", error.message);
    Unet model;
    UnetConfig config = {1, 4, 2, 0};
    Random rng;
    random_seed(&rng, UNET_TEST_SEED);
    REQUIRE(unet_create(&model, &config, &rng, &error) == 0, "%s", error.message);
    SegmentationEvaluation before, after;
    REQUIRE(segmenter_evaluate(&model, &set, 20, &before, &error) == 0, "%s", error.message);
    SegmenterConfig train = {8, 4, 1e-2f, 5, corruption, NULL, NULL};
    EpochRecord records[8];
    int n_records;
    REQUIRE(segmenter_train(&model, &set, &train, NULL, records, &n_records, &error) == 0, "%s", error.message);
    REQUIRE(segmenter_evaluate(&model, &set, 20, &after, &error) == 0, "%s", error.message);
    CHECK(n_records == 8 && records[7].train_loss < records[0].train_loss, "train loss %g -> %g",
          records[0].train_loss, records[n_records - 1].train_loss);
    CHECK(after.mean_loss < before.mean_loss - 0.05, "loss %g -> %g", before.mean_loss, after.mean_loss);
    CHECK(after.count == N && after.iou > 0.5 && after.iou <= 1.0, "IoU %g", after.iou);
    CHECK(fabs(after.dice - 2 * after.iou / (1 + after.iou)) < 1e-12, "pooled Dice %g, IoU %g", after.dice, after.iou);
    CHECK(after.mean_iou <= after.mean_dice + 1e-12, "mean IoU %g above mean Dice %g", after.mean_iou, after.mean_dice);
    segmentation_set_free(&set);
    unet_free(&model);
}

static const CheckCase CASES[] = {
    {"matches the PyTorch reference", matches_the_pytorch_reference},
    {"sizes and shapes", sizes_and_shapes},
    {"another architecture is refused", another_architecture_is_refused},
    {"the segmentation set", the_segmentation_set},
    {"training lowers the loss", training_lowers_the_loss},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
