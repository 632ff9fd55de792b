// Training and evaluating classifiers: see trainer.h.
#include "nn/trainer.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/plot.h"
#include "nn/optim.h"
#include "nn/state_dict.h"

long trainer_resident_bytes(void) {
    FILE *file = fopen("/proc/self/statm", "r");
    if (!file) return 0;
    long total = 0, resident = 0;
    int ok = fscanf(file, "%ld %ld", &total, &resident) == 2;
    fclose(file);
    return ok ? resident * sysconf(_SC_PAGESIZE) : 0;
}

// The batch as a tensor (n, example shape...) on the tape.
static Tensor *batch_tensor(Tape *tape, const float *inputs, int n, int n_dims, const int *shape) {
    int full[NN_MAX_DIMS] = {n};
    for (int d = 0; d < n_dims && d + 1 < NN_MAX_DIMS; d++) full[d + 1] = shape[d];
    return tensor_from(tape, inputs, n_dims + 1, full);
}

// Index of the largest of n values (the first on ties).
static int argmax(const float *values, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (values[i] > values[best]) best = i;
    return best;
}

int classifier_evaluate(const Classifier *classifier, const LabelledSet *set, int batch_size, Evaluation *result,
                        Error *error) {
    memset(result, 0, sizeof *result);
    int K = classifier->n_classes;
    if (K < 1 || K > 64) return error_set(error, "evaluate: %d classes (1 to 64)", K);
    result->n_classes = K;
    result->confusion = calloc((size_t)K * K, sizeof(int));
    float *inputs = malloc(sizeof(float) * (size_t)batch_size * set->sample_size);
    int *labels = malloc(sizeof(int) * (size_t)batch_size);
    Loader loader = {0};
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    int status = -1;
    double total_loss = 0.0;
    if (!result->confusion || !inputs || !labels) {
        error_set(error, "evaluate: out of memory");
        goto done;
    }
    if (loader_init(&loader, set, batch_size, 0, 0, error)) goto done;
    loader_start_epoch(&loader);
    int n;
    while ((n = loader_next(&loader, inputs, labels)) > 0) {
        tape_reset(&tape);
        Tensor *x = batch_tensor(&tape, inputs, n, set->n_dims, set->shape);
        Tensor *logits = classifier->forward(classifier->model, &tape, x, 0);
        Tensor *loss = nn_cross_entropy(&tape, logits, labels, NN_NO_IGNORE, 0.0f);
        if (!loss) {
            tape_error(&tape, error);
            goto done;
        }
        total_loss += (double)loss->data[0] * n;
        for (int i = 0; i < n; i++) {
            int predicted = argmax(logits->data + (long)i * K, K);
            result->confusion[labels[i] * K + predicted]++;
            result->correct += predicted == labels[i];
        }
        result->count += n;
    }
    result->mean_loss = result->count ? total_loss / result->count : NAN;
    result->accuracy = result->count ? (double)result->correct / result->count : NAN;
    for (int k = 0; k < K; k++) {
        int row = 0;
        for (int j = 0; j < K; j++) row += result->confusion[k * K + j];
        result->per_class[k] = row ? (double)result->confusion[k * K + k] / row : NAN;
    }
    status = 0;
done:
    if (status) evaluation_free(result);
    loader_free(&loader);
    tape_free(&tape);
    free(inputs);
    free(labels);
    return status;
}

void evaluation_free(Evaluation *evaluation) {
    free(evaluation->confusion);
    evaluation->confusion = NULL;
}

int classifier_predict(const Classifier *classifier, const float *inputs, int n, int n_dims, const int *shape,
                       float *probs, Error *error) {
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *p = nn_softmax(&tape, classifier->forward(classifier->model, &tape, batch_tensor(&tape, inputs, n, n_dims, shape), 0));
    int status = p ? 0 : tape_error(&tape, error);
    if (p) memcpy(probs, p->data, sizeof(float) * (size_t)p->size);
    tape_free(&tape);
    return status;
}

// ----------------------------------------------------------------------------
// training

// After backward: the L1 subgradient on the tensors weight decay reaches (group 0), then
// clipping by norm or by value. Returns the global norm before clipping.
static float regularise_and_clip(const Classifier *classifier, ParamOptimizer *optimizer, const TrainerConfig *config) {
    if (config->l1 > 0.0f)
        for (int i = 0; i < optimizer->n_tensors; i++) {
            Tensor *t = optimizer->tensors[i];
            if (optimizer->group_of[i] == 0 && t->grad) gradient_add_l1(t->grad, t->data, t->size, config->l1);
        }
    float norm = parameters_clip_grad_norm(classifier->params, config->clip);  // clip 0: only the norm
    if (config->clip_value > 0.0f)
        for (int i = 0; i < optimizer->n_tensors; i++) {
            Tensor *t = optimizer->tensors[i];
            if (t->grad) gradient_clip_value(t->grad, t->size, config->clip_value);
        }
    return norm;
}

// ----------------------------------------------------------------------------
// data parallel (see trainer.h)

static int rank_of(const TrainerConfig *config) { return config->distributed ? config->distributed->rank : 0; }
static int ranks_of(const TrainerConfig *config) { return config->distributed ? config->distributed->size : 1; }
static int parts_per_rank(const TrainerConfig *config) { return config->grad_accum > 1 ? config->grad_accum : 1; }

// The first example of part j of `parts` parts of a batch of n (part j is [start(j), start(j+1))).
static int part_start(int n, int parts, int j) { return (int)((long)j * n / parts); }

// Every rank's failure state in, the lowest failing rank's error out on every rank ("rank R: ..."
// for R > 0): 0 when no rank failed.
static int agree(const TrainerConfig *config, int stop, const Error *local_failure, DistributedAgreement *agreed,
                 Error *error) {
    if (distributed_agree(config->distributed, stop, local_failure, agreed, error)) return -1;
    if (agreed->failed_rank < 0) return 0;
    if (agreed->failed_rank == 0) return error_set(error, "%s", agreed->failure.message);
    return error_set(error, "rank %d: %s", agreed->failed_rank, agreed->failure.message);
}

// The mean loss and accuracy of a set, split across the ranks: rank r evaluates examples
// [r count/N, (r+1) count/N) and the losses and counts are summed, so every rank has the
// whole set's. Without recording; a rank's failure fails all.
static int evaluate_split(const Classifier *classifier, const LabelledSet *set, const TrainerConfig *config,
                          double *loss, double *accuracy, Error *error) {
    int rank = rank_of(config), ranks = ranks_of(config), failed = 0;
    int lo = part_start(set->count, ranks, rank), hi = part_start(set->count, ranks, rank + 1);
    LabelledSet slice = *set;
    slice.count = hi - lo;
    slice.inputs += (long)lo * set->sample_size;
    slice.labels += lo;
    double sums[3] = {0.0, 0.0, 0.0};  // Σ loss, correct, count
    Error local;
    Evaluation evaluation;
    if (slice.count > 0 && !(failed = classifier_evaluate(classifier, &slice, config->batch_size, &evaluation, &local))) {
        sums[0] = evaluation.mean_loss * evaluation.count, sums[1] = evaluation.correct, sums[2] = evaluation.count;
        evaluation_free(&evaluation);
    }
    DistributedAgreement agreed;
    if (agree(config, 0, failed ? &local : NULL, &agreed, error) || distributed_sum(config->distributed, sums, 3, error))
        return -1;
    *loss = sums[0] / sums[2];
    *accuracy = sums[1] / sums[2];
    return 0;
}

// What a run keeps between its steps.
typedef struct Run {
    const Classifier *classifier;
    const TrainerConfig *config;
    const TrainerCallbacks *callbacks;
    TrainerHistory *history;
    ParamOptimizer optimizer;
    Loader loader;
    Schedule schedule;
    Tape tape;
    float *inputs;           // the global batch (batch_size, sample_size)
    int *labels;             // (batch_size)
    float *flat;             // several ranks: gradients, loss and correct count, averaged at once
    long n_gradients;
    TapeReduction reduction; // several ranks: sums across them for batch norm
} Run;

// This rank's parts of the global batch of n in run->inputs: forward, cross-entropy, backward
// of the loss scaled by N m / n (the gradients accumulate); sums[0] += m × the part's mean
// loss, sums[1] += its correct predictions.
static int local_gradient(Run *run, int n, double *sums, Error *error) {
    const Classifier *classifier = run->classifier;
    const LabelledSet *set = run->loader.set;
    Tape *tape = &run->tape;
    int K = parts_per_rank(run->config), N = ranks_of(run->config), C = classifier->n_classes;
    parameters_zero_grad(classifier->params);
    for (int k = 0; k < K; k++) {
        // Part k of every rank together: the batch's k-th block of n/K, one process's k-th part.
        int j = k * N + rank_of(run->config), lo = part_start(n, N * K, j), m = part_start(n, N * K, j + 1) - lo;
        if (m == 0) continue;  // the last batch may have fewer examples than parts
        tape_reset(tape);
        Tensor *x = batch_tensor(tape, run->inputs + (long)lo * set->sample_size, m, set->n_dims, set->shape);
        Tensor *logits = classifier->forward(classifier->model, tape, x, 1);
        Tensor *loss = nn_cross_entropy(tape, logits, run->labels + lo, NN_NO_IGNORE, 0.0f);
        float weight = (float)((double)N * m / n);  // 1 for equal parts of a batch without accumulation
        Tensor *scaled = weight == 1.0f ? loss : nn_scale(tape, loss, weight);
        if (!scaled) return tape_error(tape, error);
        if (tape_backward(tape, scaled, error)) return -1;
        sums[0] += (double)loss->data[0] * m;
        for (int i = 0; i < m; i++) sums[1] += argmax(logits->data + (long)i * C, C) == run->labels[lo + i];
    }
    return 0;
}

// Several ranks: the gradients and the sums (2) averaged across them in one all-reduce; the
// sums come back added up. (Batch norm's running statistics need none: synchronised, they are
// the same on every rank.) Alone: nothing to do.
static int average_over_ranks(Run *run, double *sums, Error *error) {
    int N = ranks_of(run->config);
    if (N == 1) return 0;
    Parameters *params = run->classifier->params;
    float *flat = run->flat, *tail = flat + run->n_gradients;
    parameters_gather_part(params, PARAMETERS_GRADIENTS, flat);
    tail[0] = (float)(sums[0] * N), tail[1] = (float)(sums[1] * N);  // averaged: the sums over all ranks
    if (distributed_average(run->config->distributed, flat, run->n_gradients + 2, error)) return -1;
    parameters_scatter_part(params, PARAMETERS_GRADIENTS, flat);
    sums[0] = tail[0], sums[1] = lround(tail[1]);
    return 0;
}

// The tape's reduction (nn/tensor.h) over the job: synchronised batch norm.
static int sum_over_ranks(void *distributed, double *values, long n, Error *error) {
    return distributed_sum(distributed, values, n, error);
}

// Every check_every steps: the parameters' checksums compared across the ranks.
static int check_parameters(Run *run, Error *error) {
    long step = run->history->steps;
    if (ranks_of(run->config) == 1 || run->config->check_every <= 0 || step % run->config->check_every) return 0;
    char what[64];
    snprintf(what, sizeof what, "the parameters after step %ld", step);
    parameters_gather(run->classifier->params, run->flat);
    return distributed_check_same(run->config->distributed, run->flat, sizeof(float) * (size_t)run->n_gradients, what,
                                  error);
}

// One optimizer step on every rank over the global batch of n in run->inputs: the local
// gradient, the agreement on a stop or a failure, the average, L1 and clipping, the update.
// *loss and *correct are the global batch's. Returns 1 when some rank asked to stop (after
// the step), 0 to go on, -1 on a failure.
static int train_step(Run *run, int n, EpochRecord *record, int batch, double *loss, int *correct, Error *error) {
    const TrainerConfig *config = run->config;
    TrainerHistory *history = run->history;
    double start = omp_get_wtime(), sums[2] = {0.0, 0.0};
    Error local;
    int failed = local_gradient(run, n, sums, &local), stop = config->stop && *config->stop;
    double computed = omp_get_wtime();
    DistributedAgreement agreed;
    if (agree(config, stop, failed ? &local : NULL, &agreed, error)) return -1;
    double reduce_start = omp_get_wtime();
    if (average_over_ranks(run, sums, error)) return -1;
    double reduced = omp_get_wtime();
    *loss = sums[0] / n, *correct = (int)sums[1];
    if (!isfinite(*loss))
        return error_set(error, "epoch %d, batch %d: the loss is %g (lower the learning rate)", record->epoch, batch, *loss);
    float norm = regularise_and_clip(run->classifier, &run->optimizer, config);
    record->grad_norm += norm;
    if (norm > record->max_grad_norm) record->max_grad_norm = norm;
    long step = (long)(record->epoch - 1) * loader_batches(&run->loader) + batch;
    record->last_lr = schedule_lr(&run->schedule, step);
    param_optimizer_step(&run->optimizer, record->last_lr);
    history->steps++;
    if (check_parameters(run, error)) return -1;
    double seconds = omp_get_wtime() - start;  // the slowest rank's: the step waits for it
    if (distributed_max(config->distributed, &seconds, error)) return -1;
    history->step_seconds += seconds, history->reduce_seconds += reduced - reduce_start;
    history->wait_seconds += reduce_start - computed;
    if (agreed.stop) history->stop_rank = agreed.stop_rank;
    return agreed.stop ? 1 : 0;
}

// ----------------------------------------------------------------------------
// the loop

// The checkpoint after `epoch` epochs and `batch` batches of the next (a stopped run): weights,
// optimizer, epoch, batch and the config's metadata. Rank 0 alone writes it.
static int save_checkpoint(const Run *run, int epoch, int batch, Error *error) {
    enum { MAX_METADATA = 16 };
    const TrainerConfig *config = run->config;
    if (!config->checkpoint_path || rank_of(config) != 0) return 0;
    if (config->n_metadata < 0 || config->n_metadata >= MAX_METADATA - 1)
        return error_set(error, "train: %d metadata pairs (at most %d)", config->n_metadata, MAX_METADATA - 2);
    char epoch_text[32], batch_text[32];
    snprintf(epoch_text, sizeof epoch_text, "%d", epoch);
    snprintf(batch_text, sizeof batch_text, "%d", batch);
    SafetensorsMetadata metadata[MAX_METADATA] = {{"epoch", epoch_text}, {"batch", batch_text}};
    int own = batch > 0 ? 2 : 1;  // the batch only when stopped within an epoch
    for (int i = 0; i < config->n_metadata; i++) metadata[i + own] = config->metadata[i];
    return nn_checkpoint_save(run->classifier->params, &run->optimizer, config->checkpoint_path, metadata,
                              config->n_metadata + own, error);
}

// Rank 0 saves the checkpoint of the steps done (when stopped: `batch` batches of the epoch);
// every rank learns whether it failed.
static int save_agreed(const Run *run, int epoch, int batch, Error *error) {
    Error local;
    int failed = save_checkpoint(run, epoch, batch, &local);
    DistributedAgreement agreed;
    return agree(run->config, 0, failed ? &local : NULL, &agreed, error);
}

// One epoch of steps from batch `first` (0, or a stopped run's batches done); fills the
// record's train loss and accuracy. Returns 1 when stopped, 0 at the epoch's end, -1 on failure.
static int train_epoch(Run *run, int first, EpochRecord *record, Error *error) {
    Loader *loader = &run->loader;
    const TrainerCallbacks *callbacks = run->callbacks;
    int n, batch = first, steps = 0, n_batches = loader_batches(loader), correct = 0, seen = 0, stopped = 0;
    double total_loss = 0.0;
    loader_start_epoch(loader);
    loader->position = first * loader->batch_size < loader->set->count ? first * loader->batch_size : loader->set->count;
    while (!stopped && (n = loader_next(loader, run->inputs, run->labels)) > 0) {
        double loss;
        int batch_correct;
        if ((stopped = train_step(run, n, record, batch, &loss, &batch_correct, error)) < 0) return -1;
        correct += batch_correct, seen += n, total_loss += loss, steps++;
        if (callbacks && callbacks->step) callbacks->step(callbacks->context, record->epoch, batch, n_batches, (float)loss);
        batch++;
    }
    record->train_loss = steps ? total_loss / steps : NAN;
    record->grad_norm = steps ? record->grad_norm / steps : NAN;
    record->train_accuracy = seen ? (double)correct / seen : NAN;
    if (stopped) run->history->stop_epoch = record->epoch, run->history->stop_batch = batch;
    return stopped;
}

// Restores weights, optimizer, epochs and batches done from a checkpoint.
static int resume(Run *run, const char *path, int *epochs_done, int *batches_done, Error *error) {
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    int status = state_dict_load_file(run->classifier->params, &file, path, error) ||
                 nn_checkpoint_load_optimizer(&run->optimizer, run->classifier->params, &file, path, error);
    const char *epoch = safetensors_metadata(&file, "epoch"), *batch = safetensors_metadata(&file, "batch");
    *batches_done = 0;
    if (!status && (!epoch || sscanf(epoch, "%d", epochs_done) != 1 || *epochs_done < 0))
        status = error_set(error, "%s: no epoch count in its metadata", path);
    if (!status && batch && (sscanf(batch, "%d", batches_done) != 1 || *batches_done < 0 ||
                             *batches_done > loader_batches(&run->loader)))
        status = error_set(error, "%s: stopped after batch \"%s\" of an epoch, which has %d batches of %d here (resume "
                           "with the run's --batch)", path, batch, loader_batches(&run->loader), run->config->batch_size);
    safetensors_free(&file);
    return status ? -1 : 0;
}

// The schedule of a run of n_batches per epoch (one-cycle without a warmup rises over 30%).
static Schedule schedule_of(const TrainerConfig *config, long n_batches) {
    long total = (long)config->epochs * n_batches, warmup = config->warmup_steps;
    if (config->schedule == SCHEDULE_ONE_CYCLE && warmup <= 0) warmup = total * 3 / 10 > 0 ? total * 3 / 10 : 1;
    Schedule schedule = {config->schedule, config->lr, n_batches, config->gamma, warmup, total, config->min_lr};
    return schedule;
}

int trainer_check(const TrainerConfig *config, int n_train, Error *error) {
    if (config->epochs < 1 || config->epochs > 1000) return error_set(error, "train: %d epochs (1 to 1000)", config->epochs);
    if (config->batch_size < 1) return error_set(error, "train: batch size %d", config->batch_size);
    if (!(config->lr > 0.0f)) return error_set(error, "train: learning rate %g", (double)config->lr);
    if (!(config->clip >= 0.0f) || !(config->clip_value >= 0.0f) || !(config->l1 >= 0.0f) ||
        !(config->weight_decay >= 0.0f) || !isfinite(config->l1) || !isfinite(config->clip_value))
        return error_set(error, "train: clip %g, clip value %g, L1 %g and weight decay %g must be >= 0",
                         (double)config->clip, (double)config->clip_value, (double)config->l1,
                         (double)config->weight_decay);
    if (config->clip > 0.0f && config->clip_value > 0.0f)
        return error_set(error, "train: clip by norm (%g) or by value (%g), not both", (double)config->clip,
                         (double)config->clip_value);
    if (config->patience < 0) return error_set(error, "train: patience %d (0: none)", config->patience);
    if (n_train < 1) return error_set(error, "train: no training examples");
    int ranks = ranks_of(config), K = parts_per_rank(config);
    if (config->grad_accum < 0 || config->grad_accum > 1 << 16 || config->check_every < 0)
        return error_set(error, "train: %d accumulation steps (1 to 65536), checks every %d steps (>= 0)",
                         config->grad_accum, config->check_every);
    if (config->batch_size < (long)ranks * K)
        return error_set(error, "train: the global batch of %d examples is smaller than %d ranks x %d accumulation "
                         "steps (at least one example each)", config->batch_size, ranks, K);
    if (config->batch_size % ((long)ranks * K) != 0)
        return error_set(error, "train: the global batch of %d examples is not divisible by %d ranks x %d accumulation "
                         "steps", config->batch_size, ranks, K);
    Schedule schedule = schedule_of(config, (n_train + config->batch_size - 1) / config->batch_size);
    return schedule_check(&schedule, error);
}

// With several ranks, before the first step: the same training set and parameters on every
// rank (the same data and checkpoint on every node, the same seed).
static int check_ranks_agree(const Run *run, const LabelledSet *train, Error *error) {
    const Distributed *job = run->config->distributed;
    if (ranks_of(run->config) == 1) return 0;
    parameters_gather(run->classifier->params, run->flat);
    if (distributed_check_same(job, train->labels, sizeof(int) * (size_t)train->count, "the training labels", error) ||
        distributed_check_same(job, train->inputs, sizeof(float) * (size_t)train->count * train->sample_size,
                               "the training examples", error) ||
        distributed_check_same(job, run->flat, sizeof(float) * (size_t)run->n_gradients, "the parameters", error))
        return -1;
    return 0;
}

// The run's buffers, optimizer, loader and schedule; the state of a resumed checkpoint.
static int run_init(Run *run, const LabelledSet *train, int *epochs_done, int *batches_done, Error *error) {
    const TrainerConfig *config = run->config;
    OptimizerGroup groups[2];
    groups[0].config = optimizer_default_config(config->optimizer);
    groups[0].config.weight_decay = config->weight_decay;
    groups[0].lr_scale = 1.0f;
    groups[1] = groups[0];
    groups[1].config.weight_decay = 0.0f;
    tape_init(&run->tape);
    run->n_gradients = parameters_count(run->classifier->params);
    run->inputs = malloc(sizeof(float) * (size_t)config->batch_size * train->sample_size);
    run->labels = malloc(sizeof(int) * (size_t)config->batch_size);
    run->flat = malloc(sizeof(float) * (size_t)(run->n_gradients + 2));
    if (!run->inputs || !run->labels || !run->flat) return error_set(error, "train: out of memory");
    if (param_optimizer_init(&run->optimizer, run->classifier->params, groups, 2, group_no_decay_on_vectors, error) ||
        loader_init(&run->loader, train, config->batch_size, 1, config->seed, error))
        return -1;
    run->schedule = schedule_of(config, loader_batches(&run->loader));
    if (ranks_of(config) > 1) {  // batch norm over the job's whole batch
        run->reduction = (TapeReduction){(void *)config->distributed, sum_over_ranks};
        run->tape.reduction = &run->reduction;
        int tail = train->count % config->batch_size, parts = ranks_of(config) * parts_per_rank(config);
        if (parameters_part_size(run->classifier->params, PARAMETERS_BUFFERS) > 0 && tail > 0 && tail < parts)
            return error_set(error, "train: the last batch of an epoch holds %d examples, fewer than the %d ranks x %d "
                             "accumulation steps that batch norm synchronises (another --batch)", tail,
                             ranks_of(config), parts_per_rank(config));
    }
    *epochs_done = *batches_done = 0;
    if (config->resume_path && resume(run, config->resume_path, epochs_done, batches_done, error)) return -1;
    for (int e = 0; e < *epochs_done; e++) loader_start_epoch(&run->loader);  // the shuffles those epochs used
    return check_ranks_agree(run, train, error);
}

static void run_free(Run *run) {
    param_optimizer_free(&run->optimizer);
    loader_free(&run->loader);
    tape_free(&run->tape);
    free(run->inputs), free(run->labels), free(run->flat);
}

// After an epoch's steps: validation (split across the ranks), the checkpoint and the best
// weights (rank 0), the record. Returns 1 when the patience ran out.
static int end_epoch(Run *run, const LabelledSet *validation, EpochRecord *record, double *best, int *since_best,
                     Error *error) {
    const TrainerConfig *config = run->config;
    TrainerHistory *history = run->history;
    int validates = validation && validation->count > 0, improved = 0;
    if (validates && evaluate_split(run->classifier, validation, config, &record->val_loss, &record->val_accuracy, error))
        return -1;
    if (validates && (improved = record->val_accuracy > *best)) *best = record->val_accuracy;
    Error local;
    int failed = save_checkpoint(run, record->epoch, 0, &local);
    if (!failed && improved && config->best_path && rank_of(config) == 0)
        failed = state_dict_save(run->classifier->params, config->best_path, config->metadata, config->n_metadata, &local);
    DistributedAgreement agreed;
    if (agree(config, 0, failed ? &local : NULL, &agreed, error)) return -1;
    record->resident_bytes = trainer_resident_bytes();  // after everything an epoch does, the save included
    history->records[history->n_epochs++] = record[0];
    if (improved) history->best_epoch = record->epoch, *since_best = 0;
    else if (validates) ++*since_best;
    if (run->callbacks && run->callbacks->epoch) run->callbacks->epoch(run->callbacks->context, record);
    return config->patience > 0 && *since_best >= config->patience;
}

int classifier_train(const Classifier *classifier, const LabelledSet *train, const LabelledSet *validation,
                     const TrainerConfig *config, const TrainerCallbacks *callbacks, TrainerHistory *history,
                     Error *error) {
    memset(history, 0, sizeof *history);
    history->stop_rank = -1;
    if (trainer_check(config, train->count, error)) return -1;
    Run run;
    memset(&run, 0, sizeof run);
    run.classifier = classifier, run.config = config, run.callbacks = callbacks, run.history = history;
    int status = -1, epochs_done = 0, batches_done = 0, since_best = 0;
    double best = -1.0;
    if (run_init(&run, train, &epochs_done, &batches_done, error)) goto done;
    history->first_epoch = epochs_done + 1;
    for (int epoch = epochs_done + 1; epoch <= config->epochs; epoch++) {
        EpochRecord record = {.epoch = epoch, .val_loss = NAN, .val_accuracy = NAN};
        double start = omp_get_wtime();
        int stopped = train_epoch(&run, epoch == epochs_done + 1 ? batches_done : 0, &record, error);
        if (stopped < 0) goto done;
        if (stopped) {
            history->stopped = 1;
            if (save_agreed(&run, epoch - 1, history->stop_batch, error)) goto done;
            break;
        }
        record.seconds = omp_get_wtime() - start;
        int patience_out = end_epoch(&run, validation, &record, &best, &since_best, error);
        if (patience_out < 0) goto done;
        if (patience_out) {
            history->stopped_early = 1;
            break;
        }
    }
    status = 0;
done:
    run_free(&run);
    return status;
}

int trainer_write_curves(const TrainerHistory *history, const char *path, Error *error) {
    int n = history->n_epochs, has_norm = 0;
    float x[1000], values[6][1000];
    for (int i = 0; i < n; i++) {
        const EpochRecord *r = &history->records[i];
        x[i] = (float)r->epoch;
        values[0][i] = (float)r->train_loss, values[1][i] = (float)r->val_loss;
        values[2][i] = (float)(100.0 * r->train_accuracy), values[3][i] = (float)(100.0 * r->val_accuracy);
        values[4][i] = (float)r->grad_norm, values[5][i] = (float)r->max_grad_norm;
        has_norm |= r->max_grad_norm > 0.0;
    }
    PlotSeries loss[2] = {{"train", x, values[0], n}, {"validation", x, values[1], n}};
    PlotSeries accuracy[2] = {{"train", x, values[2], n}, {"validation", x, values[3], n}};
    PlotSeries norm[2] = {{"mean", x, values[4], n}, {"largest", x, values[5], n}};
    PlotChart charts[3] = {{.title = "loss", .x_label = "epoch", .y_label = "cross-entropy (nats)",
                            .series = loss, .n_series = 2},
                           {.title = "accuracy", .x_label = "epoch", .y_label = "accuracy (%)",
                            .series = accuracy, .n_series = 2},
                           {.title = "gradient norm (before clipping)", .x_label = "epoch", .y_label = "||g||",
                            .log_y = 1, .series = norm, .n_series = 2}};
    return plot_write_svg(path, charts, has_norm ? 3 : 2, has_norm ? 3 : 2, error);
}
