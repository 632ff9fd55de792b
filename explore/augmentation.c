// Training on augmented images: see generalisation.h.
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/generalisation.h"

typedef struct AugmentContext {
    AugmentKind kind;
    const AugmentConfig *config;
    const float *originals;   // (count, 28·28)
    LabelledSet *train;       // its inputs rewritten before every epoch
    Random rng;
    int status;
    Error error;
} AugmentContext;

// Every training image replaced by a fresh transform of its original.
static int augment_set(AugmentContext *c) {
    LabelledSet *set = c->train;
    int h = set->shape[1], w = set->shape[2];
    for (int i = 0; i < set->count && !c->status; i++)
        if (augment_random(c->kind, c->config, c->originals + (size_t)i * set->sample_size,
                           set->inputs + (size_t)i * set->sample_size, h, w, &c->rng, &c->error))
            c->status = -1;
    return c->status;
}

static void augment_epoch(void *context, const EpochRecord *record) {
    (void)record;
    augment_set(context);
}

static int augmented_run(const MnistMlpSetup *setup, AugmentContext *context, const LabelledSet *test,
                         double *test_accuracy, double *train_accuracy, Error *error) {
    Mlp mlp;
    if (augment_set(context)) {
        *error = context->error;
        return -1;
    }
    if (mnist_mlp_create(setup, 0.0f, setup->seed, &mlp, error)) return -1;
    int status = mnist_mlp_train(setup, &mlp, context->train, NULL, 0.0f, NULL, augment_epoch, context, NULL, error);
    if (!status && context->status) *error = context->error, status = -1;
    if (!status) {  // the training images as they were, to see what augmentation does to the fit
        memcpy(context->train->inputs, context->originals, sizeof(float) * (size_t)context->train->count * context->train->sample_size);
        status = mnist_mlp_accuracy(&mlp, test, test_accuracy, NULL, error) ||
                 mnist_mlp_accuracy(&mlp, context->train, train_accuracy, NULL, error);
    }
    mlp_classifier_free(&mlp);
    return status ? -1 : 0;
}

static int check_config(const AugmentConfig *config, Error *error) {
    if (explore_check_count(config->max_shift, 0, "the largest shift", error) ||
        explore_check_range(config->max_degrees, 0.0, 180.0, 0, 0, "the largest rotation (degrees)", error) ||
        explore_check_range(config->alpha, 0.0, 1000.0, 0, 0, "the elastic alpha", error) ||
        explore_check_range(config->sigma, 0.0, 100.0, 1, 0, "the elastic sigma", error))
        return -1;
    if (config->max_shift > 14) return error_set(error, "the largest shift must be at most 14, not %d", config->max_shift);
    return 0;
}

int explore_augmentation(const MnistMlpSetup *setup, const AugmentConfig *config, unsigned kinds,
                         AugmentationResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (mnist_mlp_check_setup(setup, error) || check_config(config, error)) return -1;
    out->config = *config;
    LabelledSet train, test;
    if (mnist_mlp_load(setup, &train, 0, NULL, &test, error)) return -1;
    size_t bytes = sizeof(float) * (size_t)train.count * train.sample_size;
    float *originals = malloc(bytes);
    int status = originals ? 0 : error_set(error, "out of memory");
    if (originals) memcpy(originals, train.inputs, bytes);
    for (int k = 0; k < AUGMENT_KINDS && !status; k++) {
        if (k != AUGMENT_NONE && !(kinds & (1u << k))) continue;
        out->ran[k] = 1;
        AugmentContext context = {(AugmentKind)k, config, originals, &train, {0}, 0, {{0}}};
        random_seed(&context.rng, setup->seed * 1000 + (uint64_t)k);
        status = augmented_run(setup, &context, &test, &out->test_accuracy[k], &out->train_accuracy[k], error);
    }
    free(originals);
    labelled_set_free(&train), labelled_set_free(&test);
    return status;
}

int augmentation_examples(const MnistMlpSetup *setup, const AugmentConfig *config, int n, float *tiles, Error *error) {
    if (explore_check_count(n, 1, "the examples", error) || check_config(config, error)) return -1;
    if (n > 100) return error_set(error, "the examples must be at most 100, not %d", n);
    MnistMlpSetup small = *setup;
    small.n_train = n, small.n_test = 1;
    LabelledSet train, test;
    if (mnist_mlp_load(&small, &train, 0, NULL, &test, error)) return -1;
    Random rng;
    random_seed(&rng, setup->seed);
    int status = 0;
    for (int i = 0; i < n && !status; i++)
        for (int k = 0; k < AUGMENT_KINDS && !status; k++)
            status = augment_random((AugmentKind)k, config, train.inputs + (size_t)i * 784,
                                    tiles + ((size_t)i * AUGMENT_KINDS + k) * 784, 28, 28, &rng, error);
    labelled_set_free(&train), labelled_set_free(&test);
    return status;
}
