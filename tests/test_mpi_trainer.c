// Data-parallel training of the classifiers (nn/trainer.h over foundations/distributed.h) is
// the same run as one process: N ranks, each with its part of a global batch B, give the
// losses, validation and final parameters of one process with the whole batch B (an MLP, an
// MLP with batch norm and a LeNet-5, the last batch of each epoch partial and split unequally), and so does gradient
// accumulation; a run stopped by one rank resumes on another number of ranks and ends where
// the uninterrupted run ends; bad shapes, different data on a rank and a failing rank are
// errors on every rank. Batch norm is synchronised: an MLP with it trains on N ranks as on
// one process.
//
// ctest runs this alone (a job of one: accumulation, resuming, the checks) and, when the
// build has MPI, as 2 ranks under mpirun (test_mpi_trainer_2_ranks). Every rank runs every
// case; the reference runs (distributed = NULL) are computed by each rank on its own.
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/distributed.h"
#include "foundations/idx.h"
#include "models/image_classifier.h"
#include "nn/trainer.h"
#include "tests/check.h"
#include "tests/check_job.h"
#include "tests/op_gradcheck.h"

static Distributed job;  // joined once in main

// 165 training images in batches of 16: 10 full batches and one of 5 per epoch (2 and 3 on
// 2 ranks), 22 steps in 2 epochs; 40 held out for validation. The sanitizer build (unoptimised)
// runs the same paths for one epoch.
#ifdef __SANITIZE_ADDRESS__
enum { EPOCHS = 1 };
#else
enum { EPOCHS = 2 };
#endif
enum { EXAMPLES = 165, VALIDATION = 40, BATCH = 16, STEPS_PER_EPOCH = 11, MAX_STEPS = 64 };
enum { MLP, LENET5, MLP_BATCH_NORM, RESNET };

static int load_sets(LabelledSet *train, LabelledSet *validation, Error *error) {
    MnistSet mnist;
    if (mnist_load("data/mnist", "train", &mnist, error)) return -1;
    int shape[3] = {1, mnist.height, mnist.width};
    long size = (long)mnist.height * mnist.width;
    int status = labelled_set_create(train, mnist.images, mnist.labels, EXAMPLES, 3, shape, 10, error) ||
                 labelled_set_create(validation, mnist.images + EXAMPLES * size, mnist.labels + EXAMPLES, VALIDATION, 3,
                                     shape, 10, error);
    mnist_free(&mnist);
    return status ? -1 : 0;
}

// A small model of the kind, the same on every rank (seeded).
static int make_model(int kind, ImageClassifier *model, Error *error) {
    Random init;
    random_seed(&init, 21);
    if (kind == RESNET) {  // BatchNorm2d: statistics over (N, H, W)
        Resnet resnet;
        ResnetConfig config;
        int blocks[1] = {1};
        if (resnet_config(&config, 1, 4, blocks, 1, 10, error) || resnet_create(&resnet, &config, &init, error)) return -1;
        image_classifier_from_resnet(model, &resnet);
        return 0;
    }
    if (kind == LENET5) {
        Lenet5 lenet5;
        Lenet5Config config = {1, 28, 4, 8, 32, 16, 10, 0};
        if (lenet5_create(&lenet5, &config, &init, error)) return -1;
        image_classifier_from_lenet5(model, &lenet5);
        return 0;
    }
    Mlp mlp;
    int sizes[3] = {784, 32, 10};
    MlpOptions options = {kind == MLP_BATCH_NORM, 0.0f};
    if (mlp_classifier_create(&mlp, sizes, 3, &options, &init, error)) return -1;
    image_classifier_from_mlp(model, &mlp);
    return 0;
}

static TrainerConfig config_of(const Distributed *distributed, int grad_accum) {
    TrainerConfig c = {.epochs = EPOCHS, .batch_size = BATCH, .lr = 3e-3f, .schedule = SCHEDULE_WARMUP_COSINE,
                       .warmup_steps = 3, .min_lr = 3e-4f, .optimizer = OPTIMIZER_ADAMW, .weight_decay = 0.01f,
                       .clip = 1.0f, .seed = 9, .distributed = distributed, .grad_accum = grad_accum, .check_every = 5};
    return c;
}

// Each step's loss, and a stop asked after a given step (on the ranks it is set on).
typedef struct Recorder {
    int n;
    float losses[MAX_STEPS];
    int stop_epoch, stop_batch;  // 0: never
    volatile sig_atomic_t flag;
} Recorder;

static void record_step(void *context, int epoch, int batch, int n_batches, float loss) {
    (void)n_batches;
    Recorder *r = context;
    if (r->n < MAX_STEPS) r->losses[r->n++] = loss;
    if (epoch == r->stop_epoch && batch == r->stop_batch) r->flag = 1;
}

// The largest |a-b| / max(|a|,|b|) over n values (NaN counts as the largest).
static double relative_difference(const float *a, const float *b, int n) {
    double worst = 0.0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(fmax(fabs(a[i]), fabs(b[i])), 1e-30);
        if (!(d <= worst)) worst = d;
    }
    return worst;
}

// ||a - b|| / ||a|| of two models' trainable values. In norm, not element by element: a
// weight whose gradient is near zero moves by Adam's normalised step in whichever direction
// the rounding of its gradient points.
static double parameter_distance(ImageClassifier *a, ImageClassifier *b) {
    Classifier va = image_classifier_view(a), vb = image_classifier_view(b);
    long n = parameters_count(va.params);
    float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
    if (!x || !y || parameters_count(vb.params) != n) return free(x), free(y), INFINITY;
    parameters_gather(va.params, x), parameters_gather(vb.params, y);
    double distance = 0.0, length = 0.0;
    for (long i = 0; i < n; i++) distance += ((double)x[i] - y[i]) * ((double)x[i] - y[i]), length += (double)x[i] * x[i];
    free(x), free(y);
    return sqrt(distance / length);
}

// A run of the model kind (a fresh one, or *model when already made), its losses recorded.
static int run(int kind, ImageClassifier *model, const LabelledSet *train, const LabelledSet *validation,
               const TrainerConfig *config, Recorder *recorder, TrainerHistory *history, Error *error) {
    if (make_model(kind, model, error)) return -1;
    Classifier classifier = image_classifier_view(model);
    TrainerCallbacks callbacks = {recorder, record_step, NULL};
    return classifier_train(&classifier, train, validation, config, &callbacks, history, error);
}

static void check_same_run(const Recorder *a, const TrainerHistory *ha, ImageClassifier *ma, const Recorder *b,
                           const TrainerHistory *hb, ImageClassifier *mb, const char *what) {
    CHECK(a->n == EPOCHS * STEPS_PER_EPOCH && b->n == a->n, "%s: %d and %d steps", what, a->n, b->n);
    CHECK(ha->n_epochs == EPOCHS && hb->n_epochs == EPOCHS, "%s: %d and %d epochs", what, ha->n_epochs, hb->n_epochs);
    if (a->n != b->n || ha->n_epochs != hb->n_epochs) return;
    double losses = relative_difference(a->losses, b->losses, a->n), validation = 0.0, accuracy = 0.0;
    for (int e = 0; e < ha->n_epochs; e++) {
        float x[2] = {(float)ha->records[e].val_loss, (float)ha->records[e].train_accuracy};
        float y[2] = {(float)hb->records[e].val_loss, (float)hb->records[e].train_accuracy};
        validation = fmax(validation, relative_difference(x, y, 1));
        accuracy = fmax(accuracy, fabs(ha->records[e].val_accuracy - hb->records[e].val_accuracy) +
                                      fabs(x[1] - y[1]));
    }
    double parameters = parameter_distance(ma, mb);
    CHECK(losses <= 1e-5, "%s: train losses differ by %.3g relative", what, losses);
    CHECK(validation <= 1e-5, "%s: validation losses differ by %.3g relative", what, validation);
    CHECK(accuracy == 0.0, "%s: accuracies differ by %g", what, accuracy);
    CHECK(parameters <= 1e-5, "%s: parameters differ by %.3g relative (in norm)", what, parameters);
    double early = 0.0, late = 0.0;  // the mean loss of the first and the last 5 steps
    for (int i = 0; i < 5; i++) early += a->losses[i] / 5.0, late += a->losses[a->n - 1 - i] / 5.0;
    CHECK(late < early, "%s: it learns: %g -> %g", what, early, late);
    if (job.rank == 0)
        printf("%s: losses %.2g (largest relative difference), validation %.2g, parameters %.2g (in norm)\n", what,
               losses, validation, parameters);
}

// The parameters and running statistics are the same on every rank, bit for bit.
static void check_ranks_identical(ImageClassifier *model, const char *what) {
    Classifier view = image_classifier_view(model);
    long n = parameters_count(view.params), n_buffers = parameters_part_size(view.params, PARAMETERS_BUFFERS);
    float *flat = malloc(sizeof(float) * (size_t)(n + n_buffers));
    REQUIRE(flat, "out of memory");
    parameters_gather(view.params, flat);
    parameters_gather_part(view.params, PARAMETERS_BUFFERS, flat + n);
    Error error;
    CHECK(distributed_check_same(&job, flat, sizeof(float) * (size_t)(n + n_buffers), what, &error) == 0, "%s",
          error.message);
    free(flat);
}

// The job's N ranks with parts of the global batch 16, and with 2 accumulation parts each,
// against one process with the whole batch (and with 2 accumulation parts), for an MLP, a
// LeNet-5, an MLP with batch norm and a ResNet (synchronised batch norm, over rows and over
// images' pixels; with accumulation, each part's statistics, so they are compared with one
// process's accumulation).
static void ranks_equal_one_process(void) {
    LabelledSet train, validation;
    Error error;
    REQUIRE(load_sets(&train, &validation, &error) == 0, "%s", error.message);
    const char *names[] = {"mlp", "lenet5", "mlp with batch norm", "resnet"};
    for (int kind = MLP; kind <= RESNET; kind++) {
        ImageClassifier models[4];  // alone, alone accumulating, ranks, ranks accumulating
        Recorder recorders[4] = {{0}};
        TrainerHistory *h = calloc(4, sizeof *h);
        REQUIRE(h, "out of memory");
        for (int i = 0; i < 4; i++) {
            TrainerConfig config = config_of(i < 2 ? NULL : &job, i % 2 ? 2 : 1);
            // The bias of the Linear before a batch norm has a gradient of zero in exact arithmetic
            // (the norm subtracts it again); Adam's m/√v would turn its rounding into steps of ~lr
            // that differ between the runs. SGD with momentum keeps rounding as small as it is.
            if (kind >= MLP_BATCH_NORM) config.optimizer = OPTIMIZER_MOMENTUM, config.lr = 0.05f, config.min_lr = 0.005f;
            CHECK(run(kind, &models[i], &train, &validation, &config, &recorders[i], &h[i], &error) == 0, "%s: %s",
                  names[kind], error.message);
        }
        char what[96];
        snprintf(what, sizeof what, "%s, %d rank(s) x %d images", names[kind], job.size, BATCH / job.size);
        check_same_run(&recorders[0], &h[0], &models[0], &recorders[2], &h[2], &models[2], what);
        snprintf(what, sizeof what, "%s, %d rank(s) x 2 accumulation parts x %d images", names[kind], job.size,
                 BATCH / job.size / 2);
        check_same_run(&recorders[1], &h[1], &models[1], &recorders[3], &h[3], &models[3], what);
        if (kind < MLP_BATCH_NORM) {
            snprintf(what, sizeof what, "%s, 2 accumulation parts x %d images alone", names[kind], BATCH / 2);
            check_same_run(&recorders[0], &h[0], &models[0], &recorders[1], &h[1], &models[1], what);
        }
        check_ranks_identical(&models[2], names[kind]);
        check_ranks_identical(&models[3], names[kind]);
        CHECK(h[2].steps == EPOCHS * STEPS_PER_EPOCH && h[2].step_seconds > 0.0 && h[2].reduce_seconds >= 0.0 &&
                  h[2].reduce_seconds <= h[2].step_seconds,
              "%s: %ld steps timed %g s, reduce %g s", what, h[2].steps, h[2].step_seconds, h[2].reduce_seconds);
        for (int i = 0; i < 4; i++) image_classifier_free(&models[i]);
        free(h);
    }
    labelled_set_free(&train), labelled_set_free(&validation);
}

// Batch norm on several ranks needs every part of an epoch's last batch non-empty.
static void batch_norm_needs_every_part_of_the_last_batch(void) {
    LabelledSet train, validation;
    Error error;
    REQUIRE(load_sets(&train, &validation, &error) == 0, "%s", error.message);
    ImageClassifier model;
    TrainerHistory *history = calloc(1, sizeof *history);
    REQUIRE(history && make_model(MLP_BATCH_NORM, &model, &error) == 0, "%s", error.message);
    Classifier classifier = image_classifier_view(&model);
    TrainerConfig config = config_of(&job, 1);
    config.batch_size = 8 * job.size;  // on 2 ranks the last batch holds 5 images, for 2 x 4 parts
    config.grad_accum = 4;
    int status = classifier_train(&classifier, &train, NULL, &config, NULL, history, &error);
    if (job.size == 2)
        CHECK(status == -1 && strstr(error.message, "the last batch of an epoch holds 5 examples, fewer than the 2 "
                                                    "ranks x 4 accumulation steps"),
              "%s", error.message);
    free(history);
    image_classifier_free(&model);
    labelled_set_free(&train), labelled_set_free(&validation);
}

// Rank 0's check_directory path, the same string on every rank (rank 0 alone writes).
static void shared_path(const char *name, char *path, size_t size) {
    snprintf(path, size, "%s", check_path(name));
    Error error;
    if (distributed_broadcast(&job, path, size, 0, &error)) path[0] = '\0';
}

// A LeNet-5 run stopped within its first epoch (by the last rank on the job, or alone) and
// resumed on the other number of ranks ends where the uninterrupted run ends.
static void a_stopped_run_resumes_on_other_rank_counts(void) {
    LabelledSet train, validation;
    Error error;
    REQUIRE(load_sets(&train, &validation, &error) == 0, "%s", error.message);
    REQUIRE(check_directory()[0], "no temporary directory");
    ImageClassifier whole;
    Recorder rw = {0};
    TrainerHistory *h = calloc(3, sizeof *h);
    REQUIRE(h, "out of memory");
    TrainerConfig config = config_of(NULL, 1);
    REQUIRE(run(LENET5, &whole, &train, &validation, &config, &rw, &h[0], &error) == 0, "%s", error.message);
    char paths[2][256];
    shared_path("by_ranks.safetensors", paths[0], sizeof paths[0]);
    shared_path("by_one.safetensors", paths[1], sizeof paths[1]);
    for (int writer_alone = 0; writer_alone < 2; writer_alone++) {
        ImageClassifier first, resumed;
        Recorder stopper = {.stop_epoch = 1, .stop_batch = 5}, rest = {0};
        // On the job the last rank alone asks; alone, only rank 0 writes (the others' runs are the same).
        if (!writer_alone && job.rank != job.size - 1) stopper.stop_epoch = 0;
        TrainerConfig c_first = config_of(writer_alone ? NULL : &job, 1);
        c_first.checkpoint_path = writer_alone && job.rank != 0 ? NULL : paths[writer_alone];
        c_first.stop = &stopper.flag;
        CHECK(run(LENET5, &first, &train, &validation, &c_first, &stopper, &h[1], &error) == 0, "%s", error.message);
        CHECK(h[1].stopped && h[1].stop_epoch == 1 && h[1].stop_batch == 7 && h[1].n_epochs == 0 &&
                  h[1].stop_rank == (writer_alone ? 0 : job.size - 1),
              "stopped %d at epoch %d batch %d by rank %d", h[1].stopped, h[1].stop_epoch, h[1].stop_batch,
              h[1].stop_rank);
        double barrier = 0.0;
        distributed_max(&job, &barrier, &error);  // rank 0's file is written before anyone reads it
        TrainerConfig c_rest = config_of(writer_alone ? &job : NULL, 1);
        c_rest.resume_path = paths[writer_alone];
        c_rest.batch_size = 32;  // 6 batches an epoch: not the run stopped after its 7th
        CHECK(run(LENET5, &resumed, &train, &validation, &c_rest, &rest, &h[2], &error) == -1 &&
                  strstr(error.message, "stopped after batch \"7\" of an epoch, which has 6 batches of 32 here"),
              "another batch size: %s", error.message);
        image_classifier_free(&resumed);
        c_rest.batch_size = BATCH;
        CHECK(run(LENET5, &resumed, &train, &validation, &c_rest, &rest, &h[2], &error) == 0, "%s", error.message);
        CHECK(stopper.n == 7 && rest.n == EPOCHS * STEPS_PER_EPOCH - 7 && h[2].first_epoch == 1,
              "%d steps, then %d from epoch %d", stopper.n, rest.n, h[2].first_epoch);
        if (rest.n == EPOCHS * STEPS_PER_EPOCH - 7) {
            double losses = relative_difference(rw.losses + 7, rest.losses, rest.n);
            double parameters = parameter_distance(&whole, &resumed);
            CHECK(losses <= 1e-5 && parameters <= 1e-5, "written %s, resumed %s: losses %.3g, parameters %.3g",
                  writer_alone ? "alone" : "by the job", writer_alone ? "by the job" : "alone", losses, parameters);
        }
        distributed_max(&job, &barrier, &error);  // nobody writes the next file before all read this one
        image_classifier_free(&first), image_classifier_free(&resumed);
    }
    image_classifier_free(&whole);
    free(h);
    labelled_set_free(&train), labelled_set_free(&validation);
}

// A forward that fails on the last rank at its 6th call.
typedef struct Failing {
    void *model;  // the classifier's
    Tensor *(*forward)(void *model, Tape *tape, Tensor *inputs, int training);
    int calls;
} Failing;

static Tensor *failing_forward(void *context, Tape *tape, Tensor *inputs, int training) {
    Failing *f = context;
    if (training && ++f->calls == 6 && job.rank == job.size - 1) return tape_fail(tape, "forward: the test's failure");
    return f->forward(f->model, tape, inputs, training);
}

// Batches that do not split, different data on a rank and a failing rank are errors on every
// rank, the last two naming the rank.
static void bad_shapes_and_a_failing_rank_are_errors_on_every_rank(void) {
    LabelledSet train, validation;
    Error error;
    REQUIRE(load_sets(&train, &validation, &error) == 0, "%s", error.message);
    TrainerConfig config = config_of(&job, 3);  // 16 is not divisible by N x 3
    CHECK(trainer_check(&config, EXAMPLES, &error) == -1 && strstr(error.message, "not divisible by"), "%s",
          error.message);
    config = config_of(&job, 1);
    config.batch_size = job.size == 1 ? 1 : job.size - 1;  // fewer images than ranks
    CHECK((job.size == 1) == (trainer_check(&config, EXAMPLES, &error) == 0), "batch %d on %d ranks: %s",
          config.batch_size, job.size, error.message);
    if (job.size > 1) CHECK(strstr(error.message, "smaller than 2 ranks x 1"), "%s", error.message);
    config.batch_size = 2 * job.size + 1;
    CHECK((job.size == 1) == (trainer_check(&config, EXAMPLES, &error) == 0), "batch %d on %d ranks: %s",
          config.batch_size, job.size, error.message);

    ImageClassifier model;
    TrainerHistory *history = calloc(1, sizeof *history);
    REQUIRE(history && make_model(MLP, &model, &error) == 0, "%s", error.message);
    Classifier classifier = image_classifier_view(&model);
    config = config_of(&job, 1);
    if (job.rank == job.size - 1) train.labels[3] = (train.labels[3] + 1) % 10;
    int status = classifier_train(&classifier, &train, NULL, &config, NULL, history, &error);
    if (job.size > 1) CHECK(status == -1 && strstr(error.message, "the training labels differ between ranks"), "%s", error.message);
    if (job.rank == job.size - 1) train.labels[3] = (train.labels[3] + 9) % 10;

    Failing failing = {classifier.model, classifier.forward, 0};
    classifier.model = &failing, classifier.forward = failing_forward;
    status = classifier_train(&classifier, &train, NULL, &config, NULL, history, &error);
    char named[32] = "";
    if (job.size > 1) snprintf(named, sizeof named, "rank %d: ", job.size - 1);
    CHECK(status == -1 && strncmp(error.message, named, strlen(named)) == 0 && strstr(error.message, "forward: the test's failure") &&
              history->steps == 5,
          "failure after %ld steps: %s", history->steps, error.message);
    image_classifier_free(&model);
    free(history);
    labelled_set_free(&train), labelled_set_free(&validation);
}

// ----------------------------------------------------------------------------
// synchronised batch norm on one process (a reduction that sums over this process alone)

static int sum_alone(void *context, double *values, long n, Error *error) {
    (void)context, (void)values, (void)n, (void)error;
    return 0;
}
static const TapeReduction ALONE = {NULL, sum_alone};

static float running_statistics[2][4];  // each evaluation starts from the same ones
static Tensor *synchronised_batch_norm(Tape *t, Tensor **in) {
    int C = in[0]->shape[1];
    Tensor *mean = tensor_from(t, running_statistics[0], 1, &C), *var = tensor_from(t, running_statistics[1], 1, &C);
    t->reduction = &ALONE;  // for the backward too
    return nn_batch_norm(t, in[0], in[1], in[2], mean, var, 1);
}

// Its gradients are the finite differences', over rows (N,C) and images (N,C,H,W); and its
// output, running statistics and gradients are the plain batch norm's.
static void synchronised_batch_norm_alone_is_batch_norm(void) {
    static const Case cases[] = {
        {"synchronised batch_norm (N,C)", synchronised_batch_norm, 3, {2, 1, 1}, {{5, 4}, {4}, {4}}, {0}},
        {"synchronised batch_norm (N,C,H,W)", synchronised_batch_norm, 3, {4, 1, 1}, {{3, 4, 2, 3}, {4}, {4}}, {0}},
    };
    Random rng;
    random_seed(&rng, 17);
    for (int c = 0; c < 4; c++) running_statistics[0][c] = 0.1f * c, running_statistics[1][c] = 1.0f + 0.2f * c;
    for (int i = 0; i < 2; i++) check_case(&cases[i], &rng);
    for (int i = 0; i < 2; i++) {
        const Case *c = &cases[i];
        float results[2][2][200];  // (plain, synchronised) x (output and statistics, gradients)
        for (int synchronised = 0; synchronised < 2; synchronised++) {
            Tape tape;
            tape_init(&tape);
            Random draw;
            random_seed(&draw, 3);
            Tensor *in[3];
            for (int k = 0; k < 3; k++) {
                in[k] = tensor_new(&tape, c->n_dims[k], c->shape[k]);
                for (long j = 0; in[k] && j < in[k]->size; j++) in[k]->data[j] = random_normal(&draw, 0.5f, 1.0f);
                if (in[k]) in[k]->requires_grad = 1;
            }
            int C = 4;
            Tensor *mean = tensor_zeros(&tape, 1, &C), *var = tensor_zeros(&tape, 1, &C);
            if (var) var->data[0] = 1.0f;
            tape.reduction = synchronised ? &ALONE : NULL;
            Tensor *out = nn_batch_norm(&tape, in[0], in[1], in[2], mean, var, 1);
            Tensor *loss = nn_sum(&tape, nn_mul(&tape, out, nn_mul(&tape, out, out)), NULL, 0, 0);  // Σ y³
            Error error;
            REQUIRE(loss && tape_backward(&tape, loss, &error) == 0, "%s", tape.error.message);
            long n = in[0]->size;
            memcpy(results[synchronised][0], out->data, sizeof(float) * (size_t)n);
            memcpy(results[synchronised][0] + n, mean->data, sizeof(float) * 4);
            memcpy(results[synchronised][0] + n + 4, var->data, sizeof(float) * 4);
            memcpy(results[synchronised][1], in[0]->grad, sizeof(float) * (size_t)n);
            memcpy(results[synchronised][1] + n, in[1]->grad, sizeof(float) * 4);
            memcpy(results[synchronised][1] + n + 4, in[2]->grad, sizeof(float) * 4);
            tape_free(&tape);
        }
        long n = shape_size(c->n_dims[0], c->shape[0]) + 8;
        for (long j = 0; j < n; j++) {
            CHECK_NEAR(results[1][0][j], results[0][0][j], 1e-5 * (1.0 + fabs(results[0][0][j])));
            CHECK_NEAR(results[1][1][j], results[0][1][j], 1e-4 * (1.0 + fabs(results[0][1][j])));
        }
    }
}

static const CheckCase CASES[] = {
    {"synchronised batch norm alone is batch norm", synchronised_batch_norm_alone_is_batch_norm},
    {"ranks equal one process", ranks_equal_one_process},
    {"batch norm needs every part of the last batch", batch_norm_needs_every_part_of_the_last_batch},
    {"a stopped run resumes on other rank counts", a_stopped_run_resumes_on_other_rank_counts},
    {"bad shapes and a failing rank are errors on every rank", bad_shapes_and_a_failing_rank_are_errors_on_every_rank},
};

int main(int argc, char **argv) { return check_run_job(&job, argc, argv, CASES, sizeof CASES / sizeof *CASES); }
