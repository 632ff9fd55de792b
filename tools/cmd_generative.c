// The generative models' shared command-line helpers (tools/generative.h) and
// `groundup sample-score`: a classifier's verdict on generated or real images
// (models/sample_score.h). Parses arguments, calls the libraries, prints.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/image_grid.h"
#include "foundations/png.h"
#include "foundations/safetensors.h"
#include "models/gan.h"
#include "models/image_classifier.h"
#include "models/sample_score.h"
#include "models/vae.h"
#include "tools/commands.h"
#include "tools/generative.h"
#include "tools/options.h"

enum { MAX_COUNT = 100000 };

int generative_load_images(const char *directory, const char *split, int limit, LabelledSet *set, Error *error) {
    if (classify_load_split(directory, split, set, error)) return -1;
    if (set->shape[1] != GAN_IMAGE_SIZE || set->shape[2] != GAN_IMAGE_SIZE) {
        error_set(error, "%s: %dx%d images; the generative models take 28x28", directory, set->shape[2], set->shape[1]);
        labelled_set_free(set);
        return -1;
    }
    if (limit > 0 && limit < set->count) set->count = limit;
    return 0;
}

int generative_write_grid(const char *path, const float *images, int n, int columns, Error *error) {
    Image grid = {0};
    int status = image_grid(&grid, images, n, 1, GAN_IMAGE_SIZE, GAN_IMAGE_SIZE, columns, 2, GRID_UNIT_RANGE, error) ||
                 png_write(&grid, path, error);
    image_free(&grid);
    return status ? -1 : 0;
}

int generative_write_samples(const char *path, const float *images, int n, const char *source, Error *error) {
    SafetensorsTensor tensor = {"images", SAFETENSORS_F32, 4, {n, 1, GAN_IMAGE_SIZE, GAN_IMAGE_SIZE}, 0, images, NULL};
    SafetensorsMetadata metadata = {"source", source};
    return safetensors_write(path, &tensor, 1, &metadata, 1, error);
}

int generative_read_samples(const char *path, float **images, int *n, Error *error) {
    *images = NULL, *n = 0;
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    const SafetensorsTensor *t = safetensors_find(&file, "images");
    int status = 0;
    if (!t || !t->floats) status = error_set(error, "%s: no float tensor \"images\" (a sample file of vae/gan sample)", path);
    else if (t->ndim != 4 || t->shape[0] < 1 || t->shape[1] != 1 || t->shape[2] != GAN_IMAGE_SIZE || t->shape[3] != GAN_IMAGE_SIZE)
        status = error_set(error, "%s: images must be (N,1,28,28) with N >= 1", path);
    for (int64_t i = 0; !status && i < t->count; i++)
        if (!(t->floats[i] >= 0.0f && t->floats[i] <= 1.0f))
            status = error_set(error, "%s: image %lld has a pixel %g outside [0, 1]", path, (long long)(i / GAN_PIXELS),
                               (double)t->floats[i]);
    if (!status && !(*images = malloc(sizeof(float) * (size_t)t->count))) status = error_set(error, "out of memory");
    if (!status) memcpy(*images, t->floats, sizeof(float) * (size_t)t->count), *n = t->shape[0];
    safetensors_free(&file);
    return status ? -1 : 0;
}

int generative_write_outputs(const char *out, const char *samples, const float *images, int count, const char *source,
                             Error *error) {
    if (generative_write_grid(out, images, count, 0, error) ||
        (samples && generative_write_samples(samples, images, count, source, error)))
        return -1;
    printf("%d samples: %s%s%s\n", count, out, samples ? ", " : "", samples ? samples : "");
    return 0;
}

int generative_dispatch(int argc, char **argv, const char *command, const SubCommand *subcommands, int n,
                        const char *list) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc < 2 ? stderr : stdout, "usage: groundup %s ", command);
        for (int i = 0; i < n; i++) fprintf(argc < 2 ? stderr : stdout, "%s%s", i ? "|" : "", subcommands[i].name);
        fprintf(argc < 2 ? stderr : stdout, " [options]   (groundup %s <sub-command> --help)\n", command);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0) return subcommands[i].run(argc - 1, argv + 1);
    char message[160];
    snprintf(message, sizeof message, "unknown sub-command '%.60s' (%s)", argv[1], list);
    return fail(command, message);
}

int generative_check_count(const char *option, int count, Error *error) {
    if (count < 1 || count > MAX_COUNT) return error_set(error, "%s %d: a count from 1 to %d", option, count, MAX_COUNT);
    return 0;
}

// n samples of the generator in model_path (a vae or gan file) from seed.
static int generate(const char *model_path, int n, unsigned long long seed, float **images, Error *error) {
    Safetensors file;
    if (safetensors_read(&file, model_path, error)) return -1;
    const char *arch = safetensors_metadata(&file, "arch");
    int is_gan = arch && strcmp(arch, "gan") == 0;
    safetensors_free(&file);
    if (!(*images = malloc(sizeof(float) * (size_t)n * GAN_PIXELS))) return error_set(error, "out of memory");
    int status;
    if (is_gan) {
        Gan gan;
        if ((status = gan_load(&gan, model_path, error)) == 0) status = gan_sample(&gan, n, seed, *images, error), gan_free(&gan);
    } else {
        Vae vae;
        if ((status = vae_load(&vae, model_path, error)) == 0) {
            status = vae.config.input_size != GAN_PIXELS
                         ? error_set(error, "%s: a vae of %d pixels, not 28x28", model_path, vae.config.input_size)
                         : vae_sample(&vae, n, seed, *images, error);
            vae_free(&vae);
        }
    }
    if (status) free(*images), *images = NULL;
    return status ? -1 : 0;
}

void generative_print_score(const char *what, const SampleScore *s) {
    printf("%s: %d images, mean confidence %.4f, class-histogram entropy %.4f bits (uniform over %d classes: %.4f)\n",
           what, s->count, s->mean_confidence, s->class_entropy_bits, s->n_classes, log2((double)s->n_classes));
    printf("predicted classes:");
    for (int k = 0; k < s->n_classes; k++) printf(" %d: %d", k, s->class_counts[k]);
    printf("\n");
}

int generative_score(const char *classifier_path, const float *images, int n, SampleScore *score, Error *error) {
    ImageClassifier *classifier = calloc(1, sizeof *classifier);
    if (!classifier) return error_set(error, "out of memory");
    if (image_classifier_load(classifier, classifier_path, NULL, error)) {
        free(classifier);
        return -1;
    }
    int status = 0;
    if (image_classifier_check_input(classifier, 1, GAN_IMAGE_SIZE, GAN_IMAGE_SIZE, error))
        status = error_prefix(error, "%s", classifier_path);
    Classifier view = image_classifier_view(classifier);
    if (!status) status = sample_score(&view, images, n, 1, GAN_IMAGE_SIZE, GAN_IMAGE_SIZE, score, error);
    image_classifier_free(classifier);
    free(classifier);
    return status ? -1 : 0;
}

int command_sample_score(int argc, char **argv) {
    const char *classifier_path = NULL, *model_path = NULL, *images_path = NULL, *data = NULL, *split = "test";
    int count = 10000;
    long seed = 1;
    const Option options[] = {
        {"--classifier", OPTION_STRING, &classifier_path, "a trained classifier (groundup train --arch lenet5)"},
        {"--model", OPTION_STRING, &model_path, "score --count samples of this vae or gan"},
        {"--images", OPTION_STRING, &images_path, "score the images of a sample file (vae/gan sample --samples FILE)"},
        {"--data", OPTION_STRING, &data, "score the real images of this MNIST-format directory (the reference)"},
        {"--split", OPTION_STRING, &split, "--data's split: test | train"},
        {"--count", OPTION_INT, &count, "--model: samples to draw; --data: the first N images"},
        {"--seed", OPTION_LONG, &seed, "--model: the noise's seed"},
    };
    const char *usage = "groundup sample-score --classifier LENET5 (--model VAE|GAN [--count 10000] | --images FILE | --data DIR)";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!classifier_path) return fail("sample-score", "--classifier is required");
    if (!!model_path + !!images_path + !!data != 1) return fail("sample-score", "give one of --model, --images and --data");
    Error error = {{0}};
    if (generative_check_count("--count", count, &error)) return fail("sample-score", error.message);
    float *images = NULL;
    LabelledSet set = {0};
    int n = count, status = 1;
    if (model_path && generate(model_path, count, (unsigned long long)seed, &images, &error)) goto done;
    if (images_path && generative_read_samples(images_path, &images, &n, &error)) goto done;
    if (data && generative_load_images(data, split, count, &set, &error)) goto done;
    if (data) n = set.count;
    SampleScore score;
    if (generative_score(classifier_path, data ? set.inputs : images, n, &score, &error)) goto done;
    generative_print_score(model_path ? model_path : images_path ? images_path : data, &score);
    status = 0;
done:
    if (status) fail("sample-score", error.message);
    free(images);
    labelled_set_free(&set);
    return status;
}
