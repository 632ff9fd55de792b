// groundup visualize: what a trained convolutional classifier (lenet5, resnet, alexnet) sees in
// one image, as PNG pictures: its first layer's filters, the feature maps of every convolution
// layer, and the saliency map (models/inspect.h) beside the image. Only parses, calls and writes.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"
#include "foundations/idx.h"
#include "foundations/image.h"
#include "foundations/image_grid.h"
#include "foundations/png.h"
#include "models/image_classifier.h"
#include "models/inspect.h"
#include "tools/commands.h"
#include "tools/options.h"

enum { FILTER_SCALE = 8, MAP_SIDE = 64, SALIENCY_SCALE = 4 };

typedef struct Picture {  // the image to look at, as the model's input
    float *planes;        // (channels, height, width) in [0, 1]
    int channels, height, width;
    int label;            // the true class when it comes from a dataset, else -1
} Picture;

static int has_suffix(const char *text, const char *suffix) {
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

// --image FILE (a .png, otherwise PGM/PPM), or image --index of the test split of --data.
static int read_picture(const char *image_path, const char *data, int index, Picture *out, Error *error) {
    memset(out, 0, sizeof *out);
    out->label = -1;
    if (image_path) {
        Image image;
        int status = has_suffix(image_path, ".png") || has_suffix(image_path, ".PNG") ? png_read(&image, image_path, error)
                                                                                       : image_read(&image, image_path, error);
        if (status) return -1;
        out->channels = image.channels, out->height = image.height, out->width = image.width;
        out->planes = malloc(sizeof(float) * (size_t)image.channels * image.height * image.width);
        if (out->planes) image_to_planes(&image, out->planes);
        image_free(&image);
        return out->planes ? 0 : error_set(error, "out of memory");
    }
    MnistSet set;
    if (mnist_load(data, "test", &set, error)) return -1;
    int status = 0;
    if (index < 0 || index >= set.count) {
        status = error_set(error, "--index %d: %s's test split has images 0..%d", index, data, set.count - 1);
    } else {
        long plane = (long)set.height * set.width;
        out->channels = 1, out->height = set.height, out->width = set.width, out->label = set.labels[index];
        out->planes = malloc(sizeof(float) * (size_t)plane);
        if (out->planes) memcpy(out->planes, set.images + index * plane, sizeof(float) * (size_t)plane);
        else status = error_set(error, "out of memory");
    }
    mnist_free(&set);
    return status;
}

// Tiles maps into a grid and writes it as a PNG; prints what was written.
static int write_grid(const char *path, const float *maps, int n, int channels, int height, int width, int columns,
                      int scale, GridScaling scaling, const char *what, Error *error) {
    Image grid;
    if (image_grid(&grid, maps, n, channels, height, width, columns, scale, scaling, error)) return -1;
    int status = png_write(&grid, path, error);
    if (!status) printf("wrote %s: %s (%dx%d pixels)\n", path, what, grid.width, grid.height);
    image_free(&grid);
    return status;
}

// The first convolution's filters: one RGB tile per filter for 3 input channels, otherwise one
// grey tile per (filter, input channel), a filter's channels along a row.
static int write_filters(const Inspection *inspection, const char *dir, Error *error) {
    const Tensor *w = inspection->first_weight;  // (OC, C/groups, KH, KW)
    int OC = w->shape[0], C = w->shape[1], rgb = C == 3;
    char path[1024], what[256];
    snprintf(path, sizeof path, "%s/filters.png", dir);
    snprintf(what, sizeof what, "%d filters %dx%d of %s, %d input channel%s, each scaled to its own range, %dx enlarged",
             OC, w->shape[2], w->shape[3], inspection->layers[0].name, C, C == 1 ? "" : "s", FILTER_SCALE);
    return write_grid(path, w->data, rgb ? OC : OC * C, rgb ? 3 : 1, w->shape[2], w->shape[3], rgb || C == 1 ? 0 : C,
                      FILTER_SCALE, GRID_EACH_TILE, what, error);
}

static int write_feature_maps(const Inspection *inspection, const char *dir, Error *error) {
    for (int l = 0; l < inspection->n_layers; l++) {
        const FeatureMaps *m = &inspection->layers[l];
        int side = m->height > m->width ? m->height : m->width, scale = side >= MAP_SIDE ? 1 : MAP_SIDE / side;
        char path[1024], what[256];
        snprintf(path, sizeof path, "%s/features_%s.png", dir, m->name);
        snprintf(what, sizeof what, "%s's %d feature maps %dx%d (before normalisation and activation), %dx enlarged",
                 m->name, m->channels, m->height, m->width, scale);
        if (write_grid(path, m->values, m->channels, 1, m->height, m->width, 0, scale, GRID_EACH_TILE, what, error))
            return -1;
    }
    return 0;
}

// Three RGB tiles side by side: the image (grey, or its colours), the saliency M in grey, and
// the image in grey with M over it in red: (1 − M)·grey + M·(1, 0, 0), M scaled to [0, 1].
static int write_saliency(const Inspection *inspection, const Picture *picture, const char *dir, Error *error) {
    long plane = (long)picture->height * picture->width;
    float *tiles = malloc(sizeof(float) * (size_t)(9 * plane)), *saliency = malloc(sizeof(float) * (size_t)plane);
    if (!tiles || !saliency) {
        free(tiles);
        free(saliency);
        return error_set(error, "out of memory");
    }
    memcpy(saliency, inspection->saliency, sizeof(float) * (size_t)plane);
    normalize_unit_range(saliency, plane);
    for (long i = 0; i < plane; i++) {
        float grey = 0.0f;
        for (int c = 0; c < picture->channels; c++) grey += picture->planes[c * plane + i] / (float)picture->channels;
        for (int c = 0; c < 3; c++) {
            tiles[c * plane + i] = picture->channels == 3 ? picture->planes[c * plane + i] : grey;
            tiles[(3 + c) * plane + i] = saliency[i];
            tiles[(6 + c) * plane + i] = (1.0f - saliency[i]) * grey + (c == 0 ? saliency[i] : 0.0f);
        }
    }
    char path[1024], what[256];
    snprintf(path, sizeof path, "%s/saliency.png", dir);
    snprintf(what, sizeof what, "the image, |dS_%d/dx| (max over channels, scaled to its range), and it in red over the image, %dx enlarged",
             inspection->target, SALIENCY_SCALE);
    int status = write_grid(path, tiles, 3, 3, picture->height, picture->width, 3, SALIENCY_SCALE, GRID_UNIT_RANGE,
                            what, error);
    free(tiles);
    free(saliency);
    return status;
}

static void print_prediction(const Inspection *inspection, const Picture *picture) {
    float highest = inspection->logits[inspection->predicted], total = 0.0f;
    for (int k = 0; k < inspection->n_classes; k++) total += expf(inspection->logits[k] - highest);
    printf("predicted %d (logit %.3f, probability %.4f)", inspection->predicted, (double)highest, 1.0 / total);
    if (picture->label >= 0) printf(", label %d", picture->label);
    printf("\n");
}

// Loads, checks, inspects and writes; the message of the first failure in error.
static int visualize(const char *model_path, const Picture *picture, const char *out_dir, int target, Error *error) {
    ImageClassifier *model = calloc(1, sizeof *model);
    if (!model) return error_set(error, "out of memory");
    if (image_classifier_load(model, model_path, NULL, error)) {
        free(model);
        return -1;
    }
    Inspection inspection = {0};
    int status = image_classifier_check_input(model, picture->channels, picture->height, picture->width, error);
    if (status) error_prefix(error, "the image");
    Classifier classifier = image_classifier_view(model);
    if (!status && classifier_inspect(&classifier, picture->planes, picture->channels, picture->height, picture->width,
                                      target, &inspection, error))
        status = error_prefix(error, "%s", model_path);
    if (!status) status = make_directories(out_dir, error);
    if (!status) status = write_filters(&inspection, out_dir, error);
    if (!status) status = write_feature_maps(&inspection, out_dir, error);
    if (!status) status = write_saliency(&inspection, picture, out_dir, error);
    if (!status) print_prediction(&inspection, picture);
    inspection_free(&inspection);
    image_classifier_free(model);
    free(model);
    return status;
}

int command_visualize(int argc, char **argv) {
    const char *model_path = NULL, *image_path = NULL, *data = "data/mnist", *out_dir = "visualize";
    int index = 0, target = -1;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a lenet5, resnet, alexnet or vit checkpoint or state_dict (safetensors)"},
        {"--image", OPTION_STRING, &image_path, "the image: PNG, or PGM/PPM, of the model's input size"},
        {"--index", OPTION_INT, &index, "without --image: this image of the test split of --data"},
        {"--data", OPTION_STRING, &data, "MNIST directory (t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])"},
        {"--out", OPTION_STRING, &out_dir, "directory for filters.png, features_<layer>.png, saliency.png"},
        {"--class", OPTION_INT, &target, "the class whose score the saliency differentiates (-1: the predicted one)"},
    };
    const char *usage = "groundup visualize --model M [--image FILE | --index N --data DIR] [--out DIR] [--class C]";
    int parsed = options_parse(argc, argv, usage, options, sizeof options / sizeof options[0], NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path) return fail("visualize", "--model is required");
    if (image_path && (option_given(argc, argv, "--index") || option_given(argc, argv, "--data")))
        return fail("visualize", "--image or --index/--data, not both");
    if (target < -1) return fail("visualize", "--class must be a class (0 ...) or -1");
    Error error = {{0}};
    Picture picture;
    if (read_picture(image_path, data, index, &picture, &error)) return fail("visualize", error.message);
    int status = visualize(model_path, &picture, out_dir, target, &error);
    free(picture.planes);
    return status ? fail("visualize", error.message) : 0;
}
