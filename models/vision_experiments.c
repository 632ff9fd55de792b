// Training curves and gradient flow; see vision_experiments.h.
#include "models/vision_experiments.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "foundations/idx.h"
#include "nn/ops.h"
#include "nn/optim.h"

typedef struct CurvesContext {
    const Classifier *classifier;
    const LabelledSet *train, *test;
    int batch_size;
    TrainingCurves *curves;
    int failed;
    Error error;
} CurvesContext;

static int evaluate(CurvesContext *c, const LabelledSet *set, float *loss, float *accuracy) {
    Evaluation e;
    if (classifier_evaluate(c->classifier, set, c->batch_size, &e, &c->error)) return -1;
    *loss = (float)e.mean_loss, *accuracy = (float)e.accuracy;
    evaluation_free(&e);
    return 0;
}

static void after_epoch(void *context, const EpochRecord *record) {
    CurvesContext *c = context;
    TrainingCurves *k = c->curves;
    int e = record->epoch - 1;
    if (c->failed || e < 0 || e >= CURVES_MAX_EPOCHS) return;
    if (evaluate(c, c->train, &k->train_loss[e], &k->train_accuracy[e]) ||
        evaluate(c, c->test, &k->test_loss[e], &k->test_accuracy[e])) {
        c->failed = 1;
        return;
    }
    k->n_epochs = e + 1;
}

int train_with_curves(const Classifier *classifier, const LabelledSet *train, const LabelledSet *test,
                      const TrainerConfig *config, TrainingCurves *curves, Error *error) {
    memset(curves, 0, sizeof *curves);
    if (config->epochs > CURVES_MAX_EPOCHS)
        return error_set(error, "%d epochs (at most %d are recorded)", config->epochs, CURVES_MAX_EPOCHS);
    CurvesContext context = {classifier, train, test, config->batch_size, curves, 0, {{0}}};
    TrainerCallbacks callbacks = {&context, NULL, after_epoch};
    TrainerHistory *history = malloc(sizeof *history);
    if (!history) return error_set(error, "out of memory");
    double start = clock_seconds();
    int status = classifier_train(classifier, train, NULL, config, &callbacks, history, error);
    free(history);
    curves->seconds = clock_seconds() - start;
    if (!status && context.failed) {
        *error = context.error;
        status = -1;
    }
    return status;
}

// Norms of one recorded step: ‖∂L/∂z_l‖ from the outputs' gradients, ‖∂L/∂W_l‖ from the weights'.
static void record_norms(const DeepConv *model, Tensor *const *z, GradientFlow *flow, int r) {
    for (int l = 0; l < flow->layers; l++) {
        double out = 0.0, weight = 0.0;
        for (long i = 0; z[l]->grad && i < z[l]->size; i++) out += (double)z[l]->grad[i] * z[l]->grad[i];
        const Tensor *w = deep_conv_weight(model, l);
        for (long i = 0; i < w->size; i++) weight += (double)w->grad[i] * w->grad[i];
        flow->output_grad[r][l] = (float)sqrt(out), flow->weight_grad[r][l] = (float)sqrt(weight);
    }
}

static int all_finite(const float *values, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(values[i])) return 0;
    return 1;
}

// One step: forward, loss, backward (recording the norms when r >= 0), and the update.
static int flow_step(DeepConv *model, Tape *tape, ParamOptimizer *optimizer, const float *inputs, const int *labels,
                     int n, const LabelledSet *set, float lr, GradientFlow *flow, int r, float *loss_value, Error *error) {
    tape_reset(tape);
    int shape[5] = {n, set->shape[0], set->shape[1], set->shape[2], 0};
    Tensor *z[DEEP_CONV_MAX_LAYERS];
    Tensor *x = tensor_from(tape, inputs, 1 + set->n_dims, shape);
    Tensor *logits = deep_conv_forward(tape, model, x, z);
    Tensor *loss = nn_cross_entropy(tape, logits, labels, NN_NO_IGNORE, 0.0f);
    if (!loss) return tape_error(tape, error);
    parameters_zero_grad(&model->params);
    if (tape_backward(tape, loss, error)) return -1;
    *loss_value = loss->data[0];
    if (r >= 0) record_norms(model, z, flow, r);
    param_optimizer_step(optimizer, lr);
    return 0;
}

// The training loop of gradient_flow_run, once the model and optimizer exist.
static int flow_train(DeepConv *model, ParamOptimizer *optimizer, const LabelledSet *train,
                      const GradientFlowSetup *s, GradientFlow *flow, Error *error) {
    Loader loader;
    if (loader_init(&loader, train, s->batch_size, 1, s->seed, error)) return -1;
    float *inputs = malloc(sizeof(float) * (size_t)s->batch_size * (size_t)train->sample_size);
    int *labels = malloc(sizeof(int) * (size_t)s->batch_size);
    Tape tape;
    tape_init(&tape);
    int status = inputs && labels ? 0 : error_set(error, "out of memory");
    double window = 0.0, since = 0.0;  // the last record_every steps' losses; those since the last record
    int in_window = 0, n_since = 0;
    loader_start_epoch(&loader);
    for (int step = 0; !status && step <= s->steps; step++) {
        int n = loader_next(&loader, inputs, labels);
        if (n == 0) {
            loader_start_epoch(&loader);
            n = loader_next(&loader, inputs, labels);
        }
        int r = step % s->record_every == 0 ? flow->n_records : -1;
        float loss = 0.0f;
        if (step == s->steps && r < 0) break;  // the last step is only a measurement
        status = flow_step(model, &tape, optimizer, inputs, labels, n, train, s->lr, flow, r, &loss, error);
        if (status) break;
        since += loss, n_since++;
        if (r >= 0) {
            flow->step[r] = step, flow->loss[r] = (float)(since / n_since), flow->n_records++;
            if (r > 0 && !(flow->loss[r] <= flow->peak_loss)) flow->peak_loss = flow->loss[r];
            since = 0.0, n_since = 0;
        }
        if (!isfinite(loss) || (r >= 0 && !(all_finite(flow->output_grad[r], flow->layers) &&
                                             all_finite(flow->weight_grad[r], flow->layers)))) {
            flow->diverged_at = step;
            break;
        }
        if (step >= s->steps - s->record_every) window += loss, in_window++;
    }
    flow->final_loss = flow->diverged_at >= 0 || in_window == 0 ? NAN : (float)(window / in_window);
    tape_free(&tape);
    free(inputs);
    free(labels);
    loader_free(&loader);
    return status;
}

int gradient_flow_run(const DeepConvConfig *config, unsigned long long model_seed, const LabelledSet *train,
                      const GradientFlowSetup *setup, GradientFlow *flow, Error *error) {
    memset(flow, 0, sizeof *flow);
    flow->diverged_at = -1;
    const GradientFlowSetup *s = setup;
    if (s->steps < 0 || s->batch_size < 1 || s->record_every < 1 || !(s->lr > 0.0f) || !(s->momentum >= 0.0f && s->momentum < 1.0f))
        return error_set(error, "gradient flow: steps %d, batch %d, record every %d, lr %g, momentum %g", s->steps,
                         s->batch_size, s->record_every, s->lr, s->momentum);
    if (s->steps / s->record_every + 1 > FLOW_MAX_RECORDS)
        return error_set(error, "gradient flow: %d records (at most %d)", s->steps / s->record_every + 1, FLOW_MAX_RECORDS);
    if (train->n_dims != 3) return error_set(error, "gradient flow: examples of %d dimensions (C, H, W expected)", train->n_dims);
    Random rng;
    random_seed(&rng, model_seed);
    DeepConv *model = malloc(sizeof *model);
    if (!model) return error_set(error, "out of memory");
    if (deep_conv_create(model, config, &rng, error)) {
        free(model);
        return -1;
    }
    flow->layers = config->layers;
    OptimizerGroup group = {optimizer_default_config(s->momentum > 0.0f ? OPTIMIZER_MOMENTUM : OPTIMIZER_SGD), 1.0f};
    group.config.momentum = s->momentum;
    ParamOptimizer optimizer;
    int status = param_optimizer_init(&optimizer, &model->params, &group, 1, NULL, error);
    if (!status) {
        status = flow_train(model, &optimizer, train, s, flow, error);
        param_optimizer_free(&optimizer);
    }
    deep_conv_free(model);
    free(model);
    return status;
}

int mnist_subset(const char *directory, const char *split, int count, LabelledSet *set, Error *error) {
    MnistSet mnist;
    if (mnist_load(directory, split, &mnist, error)) return -1;
    if (count <= 0 || count > mnist.count) count = mnist.count;
    int shape[3] = {1, mnist.height, mnist.width};
    int status = labelled_set_create(set, mnist.images, mnist.labels, count, 3, shape, 10, error);
    mnist_free(&mnist);
    return status;
}
