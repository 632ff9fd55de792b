// The learning-rate range test on the MNIST MLP and the small GPT-2 (explore/optimisation.h):
// foundations/optimizer.h's lr_finder over each model's parameters as one flat vector.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/optimisation_models.h"
#include "models/mlp.h"
#include "models/vision_experiments.h"

static int check_setup(const LrRangeSetup *setup, Error *error) {
    if (explore_check_count(setup->steps, 3, "--steps", error)) return -1;
    if (setup->steps > LR_RANGE_MAX_STEPS) return error_set(error, "steps %d: at most %d", setup->steps, LR_RANGE_MAX_STEPS);
    if (!(setup->lr_start > 0.0f && setup->lr_start < setup->lr_end) || !isfinite(setup->lr_end))
        return error_set(error, "need 0 < --lr-start (%g) < --lr-end (%g)", (double)setup->lr_start, (double)setup->lr_end);
    return 0;
}

// lr_finder with Smith's settings: stop once the smoothed loss is 4x its minimum, smoothing 0.9.
static int run_finder(const LrRangeSetup *setup, const float *params, long n, LossGradientFunction function,
                      void *context, LrRangeCurve *curve, Error *error) {
    OptimizerConfig optimizer = optimizer_default_config(setup->optimizer);
    LrFinderConfig config = {setup->lr_start, setup->lr_end, setup->steps, 4.0f, 0.9f};
    LrFinderResult result;
    double start = omp_get_wtime();
    if (lr_finder(&optimizer, &config, params, n, function, context, &result, error)) return -1;
    curve->seconds = omp_get_wtime() - start;
    curve->n = result.n_recorded;
    for (int i = 0; i < result.n_recorded; i++)
        curve->lr[i] = result.lrs[i], curve->loss[i] = (float)result.losses[i], curve->smoothed[i] = (float)result.smoothed[i];
    curve->diverged = result.diverged;
    curve->steepest_lr = result.steepest_lr;
    curve->minimum_lr = result.minimum_lr;
    curve->parameters = n;
    lr_finder_result_free(&result);
    return 0;
}

int explore_lr_range_mlp(const char *mnist_directory, int n_train, int batch_size, const LrRangeSetup *setup,
                         LrRangeCurve *curve, Error *error) {
    memset(curve, 0, sizeof *curve);
    if (check_setup(setup, error) || explore_check_count(batch_size, 1, "--batch", error) ||
        explore_check_count(n_train, 1, "--train", error))
        return -1;
    LabelledSet train = {0};
    if (mnist_subset(mnist_directory, "train", n_train, &train, error)) return -1;
    Mlp mlp;
    Random init;
    random_seed(&init, setup->seed);
    if (mlp_classifier_create(&mlp, (int[]){784, 256, 128, 10}, 4, NULL, &init, error)) {
        labelled_set_free(&train);
        return -1;
    }
    Classifier classifier = mlp_as_classifier(&mlp);
    FlatClassifier flat;
    float *params = NULL;
    int status = flat_classifier_init(&flat, &classifier, &train, batch_size, setup->seed + 1, error);
    if (status == 0 && !(params = malloc(sizeof(float) * (size_t)flat.n))) status = error_set(error, "out of memory");
    if (status == 0) {
        flat_classifier_get(&flat, params);
        status = run_finder(setup, params, flat.n, flat_classifier_loss_gradient, &flat, curve, error);
        if (status == 0 && flat.failed) status = error_set(error, "the MLP's forward or backward failed");
    }
    free(params);
    flat_classifier_free(&flat);
    mlp_classifier_free(&mlp);
    labelled_set_free(&train);
    return status;
}

// The GPT-2 behind a LossGradientFunction: a fresh batch at params.
typedef struct GptContext {
    SmallGpt *gpt;
    Random rng;
    int *inputs, *targets;
    int failed;
} GptContext;

static double gpt_loss_gradient(void *context, const float *params, float *grads, long n) {
    GptContext *c = context;
    Model *model = &c->gpt->model;
    int B = c->gpt->batch, T = c->gpt->context;
    Error error;
    memcpy(model->params, params, sizeof(float) * (size_t)n);
    data_sample_batch(c->gpt->data.train, c->gpt->data.n_train, B, T, &c->rng, c->inputs, c->targets);
    if (model->ops->forward(model, c->inputs, c->targets, B, T, &error)) {
        c->failed = 1;
        return NAN;
    }
    if (!isfinite(model->loss)) return model->loss;
    memset(model->grads, 0, sizeof(float) * (size_t)model->n_params);
    if (model_backward(model, &error)) {
        c->failed = 1;
        return NAN;
    }
    memcpy(grads, model->grads, sizeof(float) * (size_t)n);
    return model->loss;
}

int explore_lr_range_gpt(const SmallGptSetup *setup_gpt, const LrRangeSetup *setup, LrRangeCurve *curve, Error *error) {
    memset(curve, 0, sizeof *curve);
    if (check_setup(setup, error)) return -1;
    SmallGpt gpt;
    if (small_gpt_create(&gpt, setup_gpt, setup->seed, error)) {
        small_gpt_free(&gpt);
        return -1;
    }
    GptContext context = {&gpt, {0}, NULL, NULL, 0};
    random_seed(&context.rng, setup->seed + 1);
    size_t batch = (size_t)gpt.batch * gpt.context;
    context.inputs = malloc(sizeof(int) * batch);
    context.targets = malloc(sizeof(int) * batch);
    float *params = malloc(sizeof(float) * (size_t)gpt.model.n_trainable);
    int status = 0;
    if (!context.inputs || !context.targets || !params) status = error_set(error, "out of memory");
    if (status == 0) {
        memcpy(params, gpt.model.params, sizeof(float) * (size_t)gpt.model.n_trainable);
        status = run_finder(setup, params, gpt.model.n_trainable, gpt_loss_gradient, &context, curve, error);
        if (status == 0 && context.failed) status = error_set(error, "the GPT-2's forward or backward failed");
    }
    free(params), free(context.inputs), free(context.targets);
    small_gpt_free(&gpt);
    return status;
}
