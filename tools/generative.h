// What the generative models' commands (cmd_vae.c, cmd_gan.c, cmd_generative.c) share: MNIST
// images to train on, sample grids as PNGs, and sample files that `groundup sample-score`
// reads (a safetensors file with one tensor "images" (N,1,28,28) F32 in [0, 1]).
#ifndef TOOLS_GENERATIVE_H
#define TOOLS_GENERATIVE_H

#include "foundations/error.h"
#include "models/sample_score.h"
#include "nn/data.h"
#include "tools/options.h"

// The split of the MNIST-format directory, its first `limit` images when limit > 0.
int generative_load_images(const char *directory, const char *split, int limit, LabelledSet *set, Error *error);
// n images (n, 28·28) in [0, 1] as a PNG grid of `columns` columns, each pixel 2×2.
int generative_write_grid(const char *path, const float *images, int n, int columns, Error *error);
// n images (n, 28·28) as a sample file, with metadata "source" (the model that made them).
int generative_write_samples(const char *path, const float *images, int n, const char *source, Error *error);
// Reads a sample file: *images (malloc'd, n·784), *n. Errors name the file: no "images"
// tensor, not (N,1,28,28), values outside [0, 1] or not finite.
int generative_read_samples(const char *path, float **images, int *n, Error *error);
// The grid PNG at out and, when samples is not NULL, the sample file; then one line on stdout
// "<count> samples: <out>[, <samples>]".
int generative_write_outputs(const char *out, const char *samples, const float *images, int count, const char *source,
                             Error *error);

struct SampleScore;
// Scores n images (n, 28·28) in [0, 1] with the classifier in classifier_path (groundup train
// --arch lenet5): the classifier-based sample score of models/sample_score.h. Errors name the
// classifier file: not a classifier, not for 1x28x28 images.
int generative_score(const char *classifier_path, const float *images, int n, struct SampleScore *score, Error *error);
// A sample score (models/sample_score.h) in two lines on stdout: "<what>: <n> images, mean
// confidence C, class-histogram entropy H bits (uniform over K classes: log₂ K)", then the
// predicted classes' counts.
void generative_print_score(const char *what, const SampleScore *s);

// A sub-command of a command: "train" -> its function.
typedef struct SubCommand {
    const char *name;
    int (*run)(int argc, char **argv);
} SubCommand;
// Runs argv[1]'s sub-command (with argv + 1), --help prints usage; an unknown one fails with
// one line naming the known ones (list: "train, eval or sample").
int generative_dispatch(int argc, char **argv, const char *command, const SubCommand *subcommands, int n,
                        const char *list);

// A checked count of images for --count: 1 to 100000 (an error naming the option otherwise).
int generative_check_count(const char *option, int count, Error *error);

#endif
