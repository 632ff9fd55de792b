// Training and evaluating the U-Net: see segmenter.h.
#include "models/segmenter.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/overlap.h"
#include "nn/data.h"
#include "nn/optim.h"
#include "nn/state_dict.h"

// The masks (n, 1, H, W) of the set's images indices[0..n).
static void gather_masks(const SegmentationSet *set, const int *indices, int n, float *masks) {
    long plane = (long)set->height * set->width;
    for (int i = 0; i < n; i++)
        memcpy(masks + i * plane, set->masks + indices[i] * plane, sizeof(float) * (size_t)plane);
}

// ℓ of a batch on the tape; NULL with the tape's error.
static Tensor *batch_loss(Tape *tape, const Unet *model, const float *inputs, const float *masks, int n, int height,
                          int width, Tensor **logits) {
    int shape[4] = {n, 1, height, width};
    *logits = unet_forward(tape, model, tensor_from(tape, inputs, 4, shape));
    return nn_bce_with_logits(tape, *logits, tensor_from(tape, masks, 4, shape));
}

// Pixels whose predicted class (z > 0) is the target's.
static long correct_pixels(const float *logits, const float *masks, long n) {
    long correct = 0;
    for (long j = 0; j < n; j++) correct += (logits[j] > 0.0f) == (masks[j] > 0.5f);
    return correct;
}

// The checkpoint after an epoch: weights, optimizer, epoch, arch and corruption.
static int save_checkpoint(const Unet *model, const ParamOptimizer *optimizer, const SegmenterConfig *config, int epoch,
                           Error *error) {
    char epoch_text[24], strokes[24], width[24], noise[24];
    snprintf(epoch_text, sizeof epoch_text, "%d", epoch);
    snprintf(strokes, sizeof strokes, "%d", config->corruption.strokes);
    snprintf(width, sizeof width, "%.9g", (double)config->corruption.stroke_width);
    snprintf(noise, sizeof noise, "%.9g", (double)config->corruption.noise_std);
    SafetensorsMetadata metadata[] = {{"arch", "unet"}, {"epoch", epoch_text}, {"strokes", strokes},
                                      {"stroke_width", width}, {"noise_std", noise}};
    return nn_checkpoint_save(&model->params, optimizer, config->checkpoint_path, metadata, 5, error);
}

// Restores the optimizer and the epoch count from the checkpoint the model was loaded from.
static int resume(const Unet *model, ParamOptimizer *optimizer, const char *path, int *epochs_done, Error *error) {
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    int status = nn_checkpoint_load_optimizer(optimizer, &model->params, &file, path, error);
    const char *epoch = safetensors_metadata(&file, "epoch");
    if (!status && (!epoch || sscanf(epoch, "%d", epochs_done) != 1 || *epochs_done < 0))
        status = error_set(error, "%s: no epoch count in its metadata", path);
    safetensors_free(&file);
    return status ? -1 : 0;
}

// One epoch of steps over the loader: it gives a batch's inputs and, as labels, the images'
// indices, which give their masks.
static int train_epoch(Unet *model, const SegmentationSet *train, Loader *loader, ParamOptimizer *optimizer, Tape *tape,
                       float *inputs, float *masks, int *indices, const SegmenterConfig *config,
                       const TrainerCallbacks *callbacks, EpochRecord *record, Error *error) {
    long plane = (long)train->height * train->width, correct = 0, seen = 0;
    int n, batch = 0, n_batches = loader_batches(loader);
    double total = 0.0;
    loader_start_epoch(loader);
    while ((n = loader_next(loader, inputs, indices)) > 0) {
        gather_masks(train, indices, n, masks);
        tape_reset(tape);
        Tensor *logits, *loss = batch_loss(tape, model, inputs, masks, n, train->height, train->width, &logits);
        if (!loss) return tape_error(tape, error);
        if (!isfinite(loss->data[0]))
            return error_set(error, "epoch %d, batch %d: the loss is %g (lower the learning rate)", record->epoch, batch,
                             (double)loss->data[0]);
        parameters_zero_grad((Parameters *)&model->params);
        if (tape_backward(tape, loss, error)) return -1;
        param_optimizer_step(optimizer, config->lr);
        correct += correct_pixels(logits->data, masks, n * plane);
        seen += n * plane;
        total += loss->data[0];
        if (callbacks && callbacks->step) callbacks->step(callbacks->context, record->epoch, batch, n_batches, loss->data[0]);
        batch++;
    }
    record->train_loss = batch ? total / batch : NAN;
    record->train_accuracy = seen ? (double)correct / (double)seen : NAN;
    record->last_lr = config->lr;
    return 0;
}

int segmenter_train(Unet *model, const SegmentationSet *train, const SegmenterConfig *config,
                    const TrainerCallbacks *callbacks, EpochRecord *records, int *n_records, Error *error) {
    *n_records = 0;
    if (config->epochs < 1 || config->epochs > 1000 || config->batch_size < 1 || !(config->lr > 0.0f))
        return error_set(error, "train: %d epochs (1 to 1000), batch %d (>= 1), lr %g (> 0)", config->epochs,
                         config->batch_size, (double)config->lr);
    // The loader shuffles indices: a LabelledSet whose label of image i is i.
    LabelledSet order = {0};
    Loader loader = {0};
    ParamOptimizer optimizer = {0};
    Tape tape;
    tape_init(&tape);
    long plane = (long)train->height * train->width;
    float *inputs = malloc(sizeof(float) * (size_t)(config->batch_size * plane));
    float *masks = malloc(sizeof(float) * (size_t)(config->batch_size * plane));
    int *indices = malloc(sizeof(int) * (size_t)train->count), status = -1, epochs_done = 0;
    if (!inputs || !masks || !indices) {
        error_set(error, "train: out of memory");
        goto done;
    }
    for (int i = 0; i < train->count; i++) indices[i] = i;
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    int shape[3] = {1, train->height, train->width};
    if (labelled_set_create(&order, train->inputs, indices, train->count, 3, shape, train->count, error) ||
        loader_init(&loader, &order, config->batch_size, 1, config->seed, error) ||
        param_optimizer_init(&optimizer, &model->params, &group, 1, NULL, error))
        goto done;
    if (config->resume_path && resume(model, &optimizer, config->resume_path, &epochs_done, error)) goto done;
    for (int e = 0; e < epochs_done; e++) loader_start_epoch(&loader);  // the shuffles those epochs used
    for (int epoch = epochs_done + 1; epoch <= config->epochs; epoch++) {
        EpochRecord record = {.epoch = epoch, .val_loss = NAN, .val_accuracy = NAN};
        double start = omp_get_wtime();
        if (train_epoch(model, train, &loader, &optimizer, &tape, inputs, masks, indices, config, callbacks, &record, error))
            goto done;
        record.seconds = omp_get_wtime() - start;
        if (config->checkpoint_path && save_checkpoint(model, &optimizer, config, epoch, error)) goto done;
        record.resident_bytes = trainer_resident_bytes();
        records[(*n_records)++] = record;
        if (callbacks && callbacks->epoch) callbacks->epoch(callbacks->context, &record);
    }
    status = 0;
done:
    labelled_set_free(&order);
    loader_free(&loader);
    param_optimizer_free(&optimizer);
    tape_free(&tape);
    free(inputs), free(masks), free(indices);
    return status;
}

// Adds one image's overlap to the pooled counts and its IoU and Dice to the sums.
static void add_image(const float *logits, const float *masks, long plane, unsigned char *predicted,
                      unsigned char *target, Overlap *pooled, double *iou_sum, double *dice_sum) {
    for (long j = 0; j < plane; j++) predicted[j] = logits[j] > 0.0f, target[j] = masks[j] > 0.5f;
    Overlap image = {0, 0, 0};
    overlap_add(&image, predicted, target, plane);
    overlap_add(pooled, predicted, target, plane);
    *iou_sum += overlap_iou(&image);
    *dice_sum += overlap_dice(&image);
}

int segmenter_evaluate(const Unet *model, const SegmentationSet *set, int batch_size, SegmentationEvaluation *result,
                       Error *error) {
    memset(result, 0, sizeof *result);
    if (batch_size < 1 || set->count < 1) return error_set(error, "evaluate: batch %d, %d images", batch_size, set->count);
    long plane = (long)set->height * set->width, correct = 0;
    unsigned char *predicted = malloc((size_t)plane), *target = malloc((size_t)plane);
    if (!predicted || !target) {
        free(predicted), free(target);
        return error_set(error, "evaluate: out of memory");
    }
    Overlap pooled = {0, 0, 0};
    double loss_sum = 0.0, iou_sum = 0.0, dice_sum = 0.0;
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    int status = 0;
    for (int start = 0; start < set->count && !status; start += batch_size) {
        int n = set->count - start < batch_size ? set->count - start : batch_size;
        tape_reset(&tape);
        Tensor *logits, *loss = batch_loss(&tape, model, set->inputs + start * plane, set->masks + start * plane, n,
                                           set->height, set->width, &logits);
        if (!loss) {
            status = tape_error(&tape, error);
            break;
        }
        loss_sum += (double)loss->data[0] * n;
        correct += correct_pixels(logits->data, set->masks + start * plane, n * plane);
        for (int i = 0; i < n; i++)
            add_image(logits->data + i * plane, set->masks + (start + i) * plane, plane, predicted, target, &pooled,
                      &iou_sum, &dice_sum);
    }
    tape_free(&tape);
    free(predicted), free(target);
    if (status) return -1;
    result->count = set->count;
    result->mean_loss = loss_sum / set->count;
    result->pixel_accuracy = (double)correct / ((double)set->count * plane);
    result->iou = overlap_iou(&pooled), result->dice = overlap_dice(&pooled);
    result->mean_iou = iou_sum / set->count, result->mean_dice = dice_sum / set->count;
    return 0;
}

int segmenter_predict(const Unet *model, const float *images, int n, int channels, int height, int width,
                      float *probabilities, Error *error) {
    if (unet_check_input(model, channels, height, width, error)) return -1;
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *p = nn_sigmoid(&tape, unet_forward(&tape, model, tensor_from(&tape, images, 4, (int[]){n, channels, height, width})));
    int status = p ? 0 : tape_error(&tape, error);
    if (p) memcpy(probabilities, p->data, sizeof(float) * (size_t)p->size);
    tape_free(&tape);
    return status;
}

// The recorded corruption; the default for what is absent.
static int recorded_corruption(const Safetensors *file, const char *path, Corruption *corruption, Error *error) {
    *corruption = corruption_default();
    const char *strokes = safetensors_metadata(file, "strokes"), *width = safetensors_metadata(file, "stroke_width");
    const char *noise = safetensors_metadata(file, "noise_std");
    char *end;
    if (strokes && ((corruption->strokes = (int)strtol(strokes, &end, 10)), *end || end == strokes))
        return error_set(error, "%s: metadata strokes \"%s\" is not a count", path, strokes);
    if (width && ((corruption->stroke_width = strtof(width, &end)), *end || end == width))
        return error_set(error, "%s: metadata stroke_width \"%s\" is not a number", path, width);
    if (noise && ((corruption->noise_std = strtof(noise, &end)), *end || end == noise))
        return error_set(error, "%s: metadata noise_std \"%s\" is not a number", path, noise);
    if (corruption_check(corruption, error)) return error_prefix(error, "%s: recorded corruption", path);
    return 0;
}

int segmenter_load(Unet *model, Corruption *corruption, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    const char *arch = safetensors_metadata(&file, "arch");
    int status = 0;
    if (arch && strcmp(arch, "unet") != 0)
        status = error_set(error, "%s: %s %s checkpoint, not unet", path, strchr("aeiou", arch[0]) && arch[0] ? "an" : "a",
                           arch);
    if (!status) status = recorded_corruption(&file, path, corruption, error);
    if (!status) status = unet_from_file(model, &file, path, error);
    safetensors_free(&file);
    return status ? -1 : 0;
}

int segmenter_file_is_unet(const char *path) {
    Safetensors file;
    Error ignored;
    if (safetensors_read(&file, path, &ignored)) return 0;
    const char *arch = safetensors_metadata(&file, "arch");
    int is_unet = arch && strcmp(arch, "unet") == 0;
    safetensors_free(&file);
    return is_unet;
}
