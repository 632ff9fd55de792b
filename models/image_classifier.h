// The image classifiers of models/ behind one name: mlp (models/mlp.h), lenet5
// (models/lenet5.h), resnet (models/resnet.h), alexnet (models/alexnet.h), vit (models/vit.h).
// What train, eval, predict and verify use to load
// any of them from a state_dict or checkpoint, to know the input it takes, and to record the
// architecture in the files they write.
//
// A file's architecture is its metadata "arch" when present (groundup's checkpoints and the
// PyTorch references write it), otherwise guessed from its tensor names: layer1.0.conv1.weight
// is a resnet, conv1.weight a lenet5, features.0.weight an alexnet, fc1.weight an mlp,
// patch_embed.proj.weight a vit.
#ifndef MODELS_IMAGE_CLASSIFIER_H
#define MODELS_IMAGE_CLASSIFIER_H

#include "models/alexnet.h"
#include "models/lenet5.h"
#include "models/mlp.h"
#include "models/resnet.h"
#include "models/vit.h"

typedef enum { CLASSIFIER_MLP, CLASSIFIER_LENET5, CLASSIFIER_RESNET, CLASSIFIER_ALEXNET, CLASSIFIER_VIT,
               CLASSIFIER_ARCH_COUNT } ClassifierArch;

typedef struct ImageClassifier {
    ClassifierArch arch;
    Mlp mlp;        // the one of arch is in use
    Lenet5 lenet5;
    Resnet resnet;
    Alexnet alexnet;
    Vit vit;
} ImageClassifier;

// "mlp", "lenet5", "resnet", "alexnet", "vit".
const char *classifier_arch_name(ClassifierArch arch);
// The architecture of that name; an error listing the known ones otherwise.
int classifier_arch_parse(const char *name, ClassifierArch *arch, Error *error);

// Takes over a created model (the struct is moved in; the caller no longer frees it).
void image_classifier_from_mlp(ImageClassifier *model, const Mlp *mlp);
void image_classifier_from_lenet5(ImageClassifier *model, const Lenet5 *lenet5);
void image_classifier_from_resnet(ImageClassifier *model, const Resnet *resnet);
void image_classifier_from_alexnet(ImageClassifier *model, const Alexnet *alexnet);
void image_classifier_from_vit(ImageClassifier *model, const Vit *vit);

// Loads a state_dict or checkpoint of any architecture. expected: the architecture the caller
// needs, or NULL for any; a file of another one is an error ("<path>: a lenet5 checkpoint, not
// resnet"), as is an unknown "arch" in the metadata or a file whose names fit no architecture.
int image_classifier_load(ImageClassifier *model, const char *path, const ClassifierArch *expected, Error *error);
void image_classifier_free(ImageClassifier *model);

// The Classifier of nn/trainer.h (its pointers stay valid while model does not move).
Classifier image_classifier_view(ImageClassifier *model);
// The metadata recording the architecture: "arch" and, for lenet5, "variant", for alexnet
// "dropout" (its p while training), for vit "heads" and "dropout". Returns the number of pairs
// written (at most IMAGE_CLASSIFIER_MAX_METADATA); the values live as long as the model.
enum { IMAGE_CLASSIFIER_MAX_METADATA = 3 };
int image_classifier_metadata(const ImageClassifier *model, SafetensorsMetadata *metadata);
// Whether images of channels × height × width fit the model: an error naming what the model
// takes otherwise (mlp: height·width·channels values; lenet5: its channels and side; resnet:
// its channels, any size; alexnet: its channels, 28x28; vit: its channels and side).
int image_classifier_check_input(const ImageClassifier *model, int channels, int height, int width, Error *error);
// "lenet5 6-16-120-84 relu-max", "resnet width 16 blocks 2-2-2", "mlp 784-256-128-10",
// "vit patch 7 dim 48 depth 3 heads 4 mlp 96".
void image_classifier_describe(const ImageClassifier *model, char *out, size_t size);

#endif
