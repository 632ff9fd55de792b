// Training and evaluating the U-Net (models/unet.h) on a segmentation set
// (models/mnist_segmentation.h): Adam over batches shuffled each epoch, the mean binary
// cross-entropy with logits per pixel as the loss, a checkpoint after every epoch (weights,
// optimizer state, epoch, and the corruption the set was made with, so that evaluation makes
// the same task), resuming from one; evaluation by IoU and Dice (foundations/overlap.h) of the
// predicted masks (logit > 0, i.e. σ(z) > 1/2) against the targets.
//
// One step:  tape_reset → z = unet(inputs) → ℓ = bce_with_logits(z, masks) → zero_grad →
//            backward → Adam step
// The per-epoch records are nn/trainer.h's EpochRecord: train_accuracy is the pixel accuracy
// of the batches as they were trained; no validation (val_* are NaN).
#ifndef MODELS_SEGMENTER_H
#define MODELS_SEGMENTER_H

#include "foundations/safetensors.h"
#include "models/mnist_segmentation.h"
#include "models/unet.h"
#include "nn/trainer.h"

typedef struct SegmenterConfig {
    int epochs;                   // epochs to reach (counting those of a resumed checkpoint), 1..1000
    int batch_size;
    float lr;                     // Adam's, constant
    unsigned long long seed;      // the shuffles
    Corruption corruption;        // recorded in the checkpoints
    const char *checkpoint_path;  // written after every epoch, or NULL
    const char *resume_path;      // a checkpoint of this model to continue from, or NULL
} SegmenterConfig;

typedef struct SegmentationEvaluation {
    int count;                 // images
    double mean_loss;          // the binary cross-entropy per pixel
    double pixel_accuracy;     // pixels whose predicted class is the target's
    double iou, dice;          // pooled over every pixel of the set (foundations/overlap.h)
    double mean_iou, mean_dice;  // the mean of each image's
} SegmentationEvaluation;

// Trains for config->epochs (after those of a resumed checkpoint); records[epoch − first]
// for each epoch run (records has room for config->epochs), *n_records how many.
int segmenter_train(Unet *model, const SegmentationSet *train, const SegmenterConfig *config,
                    const TrainerCallbacks *callbacks, EpochRecord *records, int *n_records, Error *error);

// Loss and overlap over the whole set, in batches without recording.
int segmenter_evaluate(const Unet *model, const SegmentationSet *set, int batch_size, SegmentationEvaluation *result,
                       Error *error);

// σ(z) of every pixel of n images (n, channels, height, width) -> probabilities (n, 1, height, width).
int segmenter_predict(const Unet *model, const float *images, int n, int channels, int height, int width,
                      float *probabilities, Error *error);

// A unet from a state_dict or checkpoint, and the corruption recorded in it (the default when
// absent). Errors: "<path>: a lenet5 checkpoint, not unet" for a file whose metadata "arch"
// is another, anything unet_from_file refuses, a recorded corruption out of range.
int segmenter_load(Unet *model, Corruption *corruption, const char *path, Error *error);

// Whether the file's metadata says "arch": "unet" (0 for anything else, an unreadable file
// included).
int segmenter_file_is_unet(const char *path);

#endif
