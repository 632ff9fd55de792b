// The schedules compared on the MNIST MLP (explore/optimisation.h): nn/trainer.h's loop, once
// per schedule, from the same initial weights and batches.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/optimisation.h"
#include "models/mlp.h"
#include "models/vision_experiments.h"

// Records every step's loss; the rates are computed from the same Schedule as the trainer's.
static void record_step(void *context, int epoch, int batch, int n_batches, float loss) {
    ScheduleRun *run = context;
    long step = (long)(epoch - 1) * n_batches + batch;
    if (step < SCHEDULE_MAX_STEPS) run->loss[step] = loss, run->n_steps = (int)step + 1;
}

// The trainer's schedule for this setup (nn/trainer.c's schedule_of, written out so the rate
// of each step can be drawn): step decay per epoch, one-cycle rising over 30%.
static Schedule schedule_for(const SchedulesSetup *s, ScheduleKind kind, long n_batches) {
    long total = (long)s->epochs * n_batches;
    long warmup = kind == SCHEDULE_WARMUP_COSINE ? s->warmup_steps : kind == SCHEDULE_ONE_CYCLE ? total * 3 / 10 : 0;
    Schedule schedule = {kind, s->lr, n_batches, s->gamma, warmup, total, s->min_lr};
    return schedule;
}

static int train_one(const SchedulesSetup *s, ScheduleKind kind, const LabelledSet *train, const LabelledSet *test,
                     ScheduleRun *run, Error *error) {
    memset(run, 0, sizeof *run);
    run->kind = kind;
    Mlp mlp;
    Random init;
    random_seed(&init, s->seed);
    if (mlp_classifier_create(&mlp, (int[]){784, 256, 128, 10}, 4, NULL, &init, error)) return -1;
    Classifier classifier = mlp_as_classifier(&mlp);
    TrainerConfig config = {.epochs = s->epochs, .batch_size = s->batch_size, .lr = s->lr, .schedule = kind,
                            .gamma = s->gamma, .warmup_steps = kind == SCHEDULE_WARMUP_COSINE ? s->warmup_steps : 0,
                            .min_lr = s->min_lr, .optimizer = s->optimizer, .seed = s->seed + 1};
    TrainerCallbacks callbacks = {run, record_step, NULL};
    TrainerHistory *history = calloc(1, sizeof *history);
    Evaluation evaluation = {0};
    int status = history ? 0 : error_set(error, "out of memory");
    double start = omp_get_wtime();
    if (status == 0) status = classifier_train(&classifier, train, NULL, &config, &callbacks, history, error);
    run->seconds = omp_get_wtime() - start;
    if (status == 0) status = classifier_evaluate(&classifier, test, 500, &evaluation, error);
    if (status == 0) {
        run->final_train_loss = history->records[history->n_epochs - 1].train_loss;
        run->test_loss = evaluation.mean_loss, run->test_accuracy = evaluation.accuracy;
        long n_batches = (train->count + s->batch_size - 1) / s->batch_size;
        Schedule schedule = schedule_for(s, kind, n_batches);
        for (int i = 0; i < run->n_steps; i++) run->lr[i] = schedule_lr(&schedule, i);
    }
    evaluation_free(&evaluation);
    free(history);
    mlp_classifier_free(&mlp);
    return status;
}

int explore_schedules(const char *mnist_directory, const SchedulesSetup *s, SchedulesResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (explore_check_count(s->n_train, 1, "--train", error) || explore_check_count(s->n_test, 1, "--test", error) ||
        explore_check_count(s->epochs, 1, "--epochs", error) || explore_check_count(s->batch_size, 1, "--batch", error))
        return -1;
    long steps = (long)s->epochs * ((s->n_train + s->batch_size - 1) / s->batch_size);
    if (steps > SCHEDULE_MAX_STEPS) return error_set(error, "%ld steps (--epochs x batches): at most %d", steps, SCHEDULE_MAX_STEPS);
    if (!(s->lr > 0.0f) || !(s->min_lr >= 0.0f && s->min_lr <= s->lr) || !(s->gamma > 0.0f) || s->warmup_steps < 1 ||
        s->warmup_steps >= steps)
        return error_set(error, "need --lr > 0, 0 <= --min-lr <= --lr, --gamma > 0 and 1 <= --warmup < the %ld steps", steps);
    LabelledSet train = {0}, test = {0};
    int status = mnist_subset(mnist_directory, "train", s->n_train, &train, error) ||
                 mnist_subset(mnist_directory, "test", s->n_test, &test, error);
    for (int k = 0; status == 0 && k < N_SCHEDULE_KINDS; k++)
        status = train_one(s, (ScheduleKind)k, &train, &test, &result->runs[k], error);
    if (status == 0) result->n_runs = N_SCHEDULE_KINDS;
    labelled_set_free(&train), labelled_set_free(&test);
    return status ? -1 : 0;
}
