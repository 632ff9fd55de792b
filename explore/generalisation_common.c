// The MNIST MLP every generalisation experiment trains: see generalisation.h.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/generalisation.h"
#include "foundations/idx.h"

MnistMlpSetup mnist_mlp_default_setup(void) {
    MnistMlpSetup setup = {"data/mnist", 5000, 2000, {300, 100}, 10, 50, 0.1f, 1};
    return setup;
}

int mnist_mlp_check_setup(const MnistMlpSetup *setup, Error *error) {
    if (explore_check_count(setup->n_train, 1, "the training images", error) ||
        explore_check_count(setup->n_test, 1, "the test images", error) ||
        explore_check_count(setup->hidden[0], 1, "the first hidden width", error) ||
        explore_check_count(setup->hidden[1], 0, "the second hidden width", error) ||
        explore_check_count(setup->epochs, 1, "the epochs", error) ||
        explore_check_count(setup->batch_size, 1, "the batch size", error))
        return -1;
    if (setup->n_train > 60000) return error_set(error, "the training images must be at most 60000, not %d", setup->n_train);
    if (setup->n_test > 10000) return error_set(error, "the test images must be at most 10000, not %d", setup->n_test);
    if (setup->epochs > 1000) return error_set(error, "the epochs must be at most 1000, not %d", setup->epochs);
    if (!(setup->lr > 0.0f) || !isfinite(setup->lr))
        return error_set(error, "the learning rate must be finite and above 0, not %g", (double)setup->lr);
    return 0;
}

// Examples [first, first + count) of an MNIST split as a LabelledSet.
static int mnist_range(const MnistSet *mnist, int first, int count, LabelledSet *set, Error *error) {
    if (first + count > mnist->count)
        return error_set(error, "MNIST has %d images, %d asked for", mnist->count, first + count);
    int shape[3] = {1, mnist->height, mnist->width};
    size_t pixels = (size_t)mnist->height * mnist->width;
    return labelled_set_create(set, mnist->images + (size_t)first * pixels, mnist->labels + first, count, 3, shape, 10,
                               error);
}

int mnist_mlp_load(const MnistMlpSetup *setup, LabelledSet *train, int extra, LabelledSet *validation,
                   LabelledSet *test, Error *error) {
    memset(train, 0, sizeof *train), memset(test, 0, sizeof *test);
    if (validation) memset(validation, 0, sizeof *validation);
    MnistSet mnist;
    if (mnist_load(setup->data, "train", &mnist, error)) return -1;
    int status = mnist_range(&mnist, 0, setup->n_train, train, error) ||
                 (validation && mnist_range(&mnist, setup->n_train, extra, validation, error));
    mnist_free(&mnist);
    if (!status && mnist_load(setup->data, "test", &mnist, error) == 0) {
        status = mnist_range(&mnist, 0, setup->n_test, test, error);
        mnist_free(&mnist);
    } else {
        status = -1;
    }
    if (status) {
        labelled_set_free(train), labelled_set_free(test);
        if (validation) labelled_set_free(validation);
        return -1;
    }
    return 0;
}

int mnist_mlp_create(const MnistMlpSetup *setup, float dropout, uint64_t seed, Mlp *mlp, Error *error) {
    int sizes[4] = {784, setup->hidden[0], setup->hidden[1], 10};
    int n_sizes = 4;
    if (setup->hidden[1] == 0) sizes[2] = 10, n_sizes = 3;
    MlpOptions options = {0, dropout};
    Random rng;
    random_seed(&rng, seed);
    if (mlp_classifier_create(mlp, sizes, n_sizes, &options, &rng, error)) return -1;
    random_seed(&mlp->dropout_rng, seed ^ 0x9e3779b97f4a7c15ull);
    return 0;
}

typedef struct TrainHooks {
    Mlp *mlp;
    float lr;
    AfterUpdate after_update;
    void (*epoch_done)(void *, const EpochRecord *);
    void *context;
} TrainHooks;

static void hook_step(void *context, int epoch, int batch, int n_batches, float loss) {
    (void)epoch, (void)batch, (void)n_batches, (void)loss;
    TrainHooks *hooks = context;
    if (hooks->after_update) hooks->after_update(hooks->context, hooks->mlp, hooks->lr);
}

static void hook_epoch(void *context, const EpochRecord *record) {
    TrainHooks *hooks = context;
    if (hooks->epoch_done) hooks->epoch_done(hooks->context, record);
}

int mnist_mlp_train(const MnistMlpSetup *setup, Mlp *mlp, const LabelledSet *train, const LabelledSet *validation,
                    float weight_decay, AfterUpdate after_update, void (*epoch_done)(void *, const EpochRecord *),
                    void *context, TrainerHistory *history, Error *error) {
    TrainerConfig config = {.epochs = setup->epochs, .batch_size = setup->batch_size, .lr = setup->lr,
                            .schedule = SCHEDULE_CONSTANT, .gamma = 1.0f, .optimizer = OPTIMIZER_SGD,
                            .weight_decay = weight_decay, .seed = setup->seed};
    TrainHooks hooks = {mlp, setup->lr, after_update, epoch_done, context};
    TrainerCallbacks callbacks = {&hooks, hook_step, hook_epoch};
    TrainerHistory *own = history ? history : malloc(sizeof *own);
    if (!own) return error_set(error, "out of memory");
    Classifier classifier = mlp_as_classifier(mlp);
    int status = classifier_train(&classifier, train, validation, &config, &callbacks, own, error);
    if (!history) free(own);
    return status;
}

int mnist_mlp_accuracy(Mlp *mlp, const LabelledSet *set, double *accuracy, double *loss, Error *error) {
    Classifier classifier = mlp_as_classifier(mlp);
    Evaluation evaluation;
    if (classifier_evaluate(&classifier, set, 500, &evaluation, error)) return -1;
    *accuracy = evaluation.accuracy;
    if (loss) *loss = evaluation.mean_loss;
    evaluation_free(&evaluation);
    return 0;
}
