// Training and evaluating classifiers: see trainer.h.
#include "nn/trainer.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/plot.h"
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

// One epoch of steps; fills the record's train loss and accuracy.
static int train_epoch(const Classifier *classifier, Loader *loader, ParamOptimizer *optimizer, Tape *tape,
                       float *inputs, int *labels, const TrainerConfig *config, const Schedule *schedule,
                       const TrainerCallbacks *callbacks, EpochRecord *record, Error *error) {
    const LabelledSet *set = loader->set;
    int K = classifier->n_classes, n, batch = 0, n_batches = loader_batches(loader), correct = 0, seen = 0;
    double total_loss = 0.0;
    loader_start_epoch(loader);
    while ((n = loader_next(loader, inputs, labels)) > 0) {
        tape_reset(tape);
        Tensor *x = batch_tensor(tape, inputs, n, set->n_dims, set->shape);
        Tensor *logits = classifier->forward(classifier->model, tape, x, 1);
        Tensor *loss = nn_cross_entropy(tape, logits, labels, NN_NO_IGNORE, 0.0f);
        if (!loss) return tape_error(tape, error);
        if (!isfinite(loss->data[0]))
            return error_set(error, "epoch %d, batch %d: the loss is %g (lower the learning rate)", record->epoch, batch,
                             (double)loss->data[0]);
        parameters_zero_grad(classifier->params);
        if (tape_backward(tape, loss, error)) return -1;
        float norm = regularise_and_clip(classifier, optimizer, config);
        record->grad_norm += norm;
        if (norm > record->max_grad_norm) record->max_grad_norm = norm;
        long step = (long)(record->epoch - 1) * n_batches + batch;
        record->last_lr = schedule_lr(schedule, step);
        param_optimizer_step(optimizer, record->last_lr);
        for (int i = 0; i < n; i++) correct += argmax(logits->data + (long)i * K, K) == labels[i];
        seen += n;
        total_loss += loss->data[0];
        if (callbacks && callbacks->step) callbacks->step(callbacks->context, record->epoch, batch, n_batches, loss->data[0]);
        batch++;
    }
    record->train_loss = batch ? total_loss / batch : NAN;
    record->grad_norm = batch ? record->grad_norm / batch : NAN;
    record->train_accuracy = seen ? (double)correct / seen : NAN;
    return 0;
}

// Restores weights, optimizer and epoch from a checkpoint; returns the epochs it had done.
static int resume(const Classifier *classifier, ParamOptimizer *optimizer, const char *path, int *epochs_done,
                  Error *error) {
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    int status = state_dict_load_file(classifier->params, &file, path, error) ||
                 nn_checkpoint_load_optimizer(optimizer, classifier->params, &file, path, error);
    const char *epoch = safetensors_metadata(&file, "epoch");
    if (!status && (!epoch || sscanf(epoch, "%d", epochs_done) != 1 || *epochs_done < 0))
        status = error_set(error, "%s: no epoch count in its metadata", path);
    safetensors_free(&file);
    return status ? -1 : 0;
}

// The checkpoint after an epoch: weights, optimizer, the epoch and the config's metadata.
static int save_checkpoint(const Classifier *classifier, const ParamOptimizer *optimizer, const TrainerConfig *config,
                           int epoch, Error *error) {
    enum { MAX_METADATA = 16 };
    if (config->n_metadata < 0 || config->n_metadata >= MAX_METADATA)
        return error_set(error, "train: %d metadata pairs (at most %d)", config->n_metadata, MAX_METADATA - 1);
    char epoch_text[32];
    snprintf(epoch_text, sizeof epoch_text, "%d", epoch);
    SafetensorsMetadata metadata[MAX_METADATA] = {{"epoch", epoch_text}};
    for (int i = 0; i < config->n_metadata; i++) metadata[i + 1] = config->metadata[i];
    return nn_checkpoint_save(classifier->params, optimizer, config->checkpoint_path, metadata, config->n_metadata + 1,
                              error);
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
    Schedule schedule = schedule_of(config, (n_train + config->batch_size - 1) / config->batch_size);
    return schedule_check(&schedule, error);
}

int classifier_train(const Classifier *classifier, const LabelledSet *train, const LabelledSet *validation,
                     const TrainerConfig *config, const TrainerCallbacks *callbacks, TrainerHistory *history,
                     Error *error) {
    memset(history, 0, sizeof *history);
    if (trainer_check(config, train->count, error)) return -1;
    OptimizerGroup groups[2];
    groups[0].config = optimizer_default_config(config->optimizer);
    groups[0].config.weight_decay = config->weight_decay;
    groups[0].lr_scale = 1.0f;
    groups[1] = groups[0];
    groups[1].config.weight_decay = 0.0f;
    ParamOptimizer optimizer;
    Loader loader;
    Tape tape;
    tape_init(&tape);
    float *inputs = malloc(sizeof(float) * (size_t)config->batch_size * train->sample_size);
    int *labels = malloc(sizeof(int) * (size_t)config->batch_size);
    int status = -1, epochs_done = 0, since_best = 0;
    double best = -1.0;
    memset(&optimizer, 0, sizeof optimizer);
    memset(&loader, 0, sizeof loader);
    if (!inputs || !labels) {
        error_set(error, "train: out of memory");
        goto done;
    }
    if (param_optimizer_init(&optimizer, classifier->params, groups, 2, group_no_decay_on_vectors, error)) goto done;
    if (loader_init(&loader, train, config->batch_size, 1, config->seed, error)) goto done;
    Schedule schedule = schedule_of(config, loader_batches(&loader));
    if (config->resume_path && resume(classifier, &optimizer, config->resume_path, &epochs_done, error)) goto done;
    for (int e = 0; e < epochs_done; e++) loader_start_epoch(&loader);  // the shuffles those epochs used
    history->first_epoch = epochs_done + 1;
    for (int epoch = epochs_done + 1; epoch <= config->epochs; epoch++) {
        EpochRecord record = {.epoch = epoch, .val_loss = NAN, .val_accuracy = NAN};
        double start = omp_get_wtime();
        if (train_epoch(classifier, &loader, &optimizer, &tape, inputs, labels, config, &schedule, callbacks, &record, error))
            goto done;
        record.seconds = omp_get_wtime() - start;
        if (validation && validation->count > 0) {
            Evaluation evaluation;
            if (classifier_evaluate(classifier, validation, config->batch_size, &evaluation, error)) goto done;
            record.val_loss = evaluation.mean_loss;
            record.val_accuracy = evaluation.accuracy;
            evaluation_free(&evaluation);
        }
        if (config->checkpoint_path && save_checkpoint(classifier, &optimizer, config, epoch, error)) goto done;
        record.resident_bytes = trainer_resident_bytes();  // after everything an epoch does, the save included
        history->records[history->n_epochs++] = record;
        if (validation && validation->count > 0) {
            if (record.val_accuracy > best) {
                best = record.val_accuracy, history->best_epoch = epoch, since_best = 0;
                if (config->best_path &&
                    state_dict_save(classifier->params, config->best_path, config->metadata, config->n_metadata, error))
                    goto done;
            } else {
                since_best++;
            }
        }
        if (callbacks && callbacks->epoch) callbacks->epoch(callbacks->context, &record);
        if (config->patience > 0 && since_best >= config->patience) {
            history->stopped_early = 1;
            break;
        }
    }
    status = 0;
done:
    param_optimizer_free(&optimizer);
    loader_free(&loader);
    tape_free(&tape);
    free(inputs);
    free(labels);
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
