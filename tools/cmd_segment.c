// Segmentation with the U-Net (models/unet.h, models/segmenter.h) on the MNIST task of
// models/mnist_segmentation.h: `groundup train --arch unet --data DIR`, `groundup eval --model
// M --data DIR` (IoU and Dice) and `groundup predict --model M --image FILE --out MASK.pgm`.
// train and eval (cmd_train.c, cmd_eval.c) and predict (cmd_classify.c) hand over here when --arch is unet or
// the --model / --resume file is a unet. The task is fixed: the training split corrupted with
// seed 1, the test split with seed 2, the corruption recorded in the checkpoint (so eval makes
// the test images train reported on); --seed changes the initialisation and the shuffles.
// Parses arguments, calls the libraries, prints.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/file.h"
#include "foundations/idx.h"
#include "foundations/image.h"
#include "models/segmenter.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run.h"
#include "tools/run_record.h"

enum { TRAIN_CORRUPTION_SEED = 1, TEST_CORRUPTION_SEED = 2, EXAMPLES = 8 };

int segment_wants(int argc, char **argv) {
    const char *arch = option_value(argc, argv, "--arch"), *model = option_value(argc, argv, "--model");
    const char *resume = option_value(argc, argv, "--resume");
    return (arch && strcmp(arch, "unet") == 0) || (model && segmenter_file_is_unet(model)) ||
           (resume && segmenter_file_is_unet(resume));
}

// The first `limit` images (all when 0) of a split, corrupted with the split's seed.
static int load_task(const char *directory, const char *split, int limit, const Corruption *corruption,
                     SegmentationSet *set, Error *error) {
    MnistSet mnist;
    if (mnist_load(directory, split, &mnist, error)) return -1;
    int count = limit > 0 && limit < mnist.count ? limit : mnist.count;
    uint64_t seed = strcmp(split, "train") == 0 ? TRAIN_CORRUPTION_SEED : TEST_CORRUPTION_SEED;
    int status = mnist_segmentation_make(mnist.images, count, mnist.height, mnist.width, corruption, seed, set, error);
    mnist_free(&mnist);
    return status;
}

static void print_evaluation(const char *split, const SegmentationEvaluation *e) {
    printf("%s IoU %.4f, Dice %.4f (pooled over %d images); per image: mean IoU %.4f, mean Dice %.4f\n", split, e->iou,
           e->dice, e->count, e->mean_iou, e->mean_dice);
    printf("%s pixel accuracy %.2f%%, mean loss %.4f\n", split, 100.0 * e->pixel_accuracy, e->mean_loss);
}

static void on_epoch(void *context, const EpochRecord *r) {
    TrainingProgress *progress = context;
    fprintf(stderr, "%sepoch %d/%d: train loss %.4f, pixel accuracy %.2f%%, %.2f s\n", progress->terminal ? "\r\033[K" : "",
            r->epoch, progress->epochs, r->train_loss, 100.0 * r->train_accuracy, r->seconds);
}

// The model to train: resume's or a new one of width and levels.
static int training_model(const char *arch, const char *resume, const UnetConfig *config, unsigned long long seed,
                          Unet *model, Corruption *corruption, Error *error) {
    if (resume) {
        if (arch && strcmp(arch, "unet") != 0) return error_set(error, "%s: a unet checkpoint, not %s", resume, arch);
        return segmenter_load(model, corruption, resume, error);
    }
    Random init;
    random_seed(&init, seed);
    return unet_create(model, config, &init, error);
}

int segment_train(int argc, char **argv) {
    const char *arch = NULL, *data = NULL, *out = "out/unet.safetensors", *resume = NULL;
    UnetConfig config = unet_default_config();
    Corruption corruption = corruption_default();
    int epochs = 2, batch = 32, train_images = 0, test_images = 0, threads = 0;
    float lr = 3e-3f;
    long seed = 1;
    const Option options[] = {
        {"--arch", OPTION_STRING, &arch, "unet (the image classifiers: see --arch lenet5 --help)"},
        {"--data", OPTION_STRING, &data, "directory of MNIST-format IDX files (train-*, t10k-*, plain or .gz)"},
        {"--epochs", OPTION_INT, &epochs, "epochs"},
        {"--batch", OPTION_INT, &batch, "images per step"},
        {"--lr", OPTION_FLOAT, &lr, "Adam's learning rate"},
        {"--width", OPTION_INT, &config.width, "channels of encoder1 (doubled at each level below)"},
        {"--levels", OPTION_INT, &config.levels, "poolings and up-convolutions (1 to 4; sides must be multiples of 2^levels)"},
        {"--strokes", OPTION_INT, &corruption.strokes, "occluding lines per image"},
        {"--stroke-width", OPTION_FLOAT, &corruption.stroke_width, "their width in pixels"},
        {"--noise", OPTION_FLOAT, &corruption.noise_std, "standard deviation of the Gaussian pixel noise"},
        {"--train-images", OPTION_INT, &train_images, "train on the first N training images (0: all)"},
        {"--test-images", OPTION_INT, &test_images, "evaluate on the first N test images (0: all)"},
        {"--seed", OPTION_LONG, &seed, "seed of the initialisation and the shuffles"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--out", OPTION_STRING, &out, "checkpoint (safetensors: weights, optimizer, epoch, arch, corruption)"},
        {"--resume", OPTION_STRING, &resume, "continue the run saved in this checkpoint (its sizes and corruption)"},
    };
    const char *usage = "groundup train --arch unet --data DIR [--epochs 2] [--batch 32] [--lr 3e-3] [--width 16] "
                        "[--levels 2] [--train-images N] [--out FILE] [--resume FILE]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!data) return fail("train", "--data DIR is required");
    if (epochs < 1 || epochs > 1000 || batch < 1 || train_images < 0 || test_images < 0 || threads < 0 || !(lr > 0.0f))
        return fail("train", "--epochs 1..1000, --batch >= 1, --lr > 0, --train-images, --test-images and --threads >= 0");
    if (threads > 0) omp_set_num_threads(threads);
    Error error = {{0}};
    SegmentationSet train = {0}, test = {0};
    Unet model;
    EpochRecord *records = calloc((size_t)epochs, sizeof *records);
    char directory[1100];
    int status = 1, created = 0, n_records = 0;
    if (!records) return fail("train", "out of memory");
    if (training_model(arch, resume, &config, (unsigned long long)seed, &model, &corruption, &error)) goto done;
    created = 1;
    if (load_task(data, "train", train_images, &corruption, &train, &error) ||
        load_task(data, "test", test_images, &corruption, &test, &error))
        goto done;
    if (unet_check_input(&model, 1, train.height, train.width, &error)) {
        error_prefix(&error, "%s", data);
        goto done;
    }
    directory_of(out, directory, sizeof directory);
    if (make_directories(directory, &error)) goto done;
    fprintf(stderr, "unet width %d levels %d: %ld parameters, %d training / %d test images, %d strokes of %g px, noise %g, %d threads\n",
            model.config.width, model.config.levels, parameters_count(&model.params), train.count, test.count,
            corruption.strokes, (double)corruption.stroke_width, (double)corruption.noise_std, omp_get_max_threads());
    SegmenterConfig segmenter = {epochs, batch, lr, (unsigned long long)seed + 1, corruption, out, resume};
    TrainingProgress progress = {isatty(fileno(stderr)), epochs, 0.0};
    TrainerCallbacks callbacks = {&progress, training_progress_step, on_epoch};
    double start = omp_get_wtime();
    if (segmenter_train(&model, &train, &segmenter, &callbacks, records, &n_records, &error)) goto done;
    double seconds = omp_get_wtime() - start;
    for (int i = 0; i < n_records; i++)
        printf("epoch %d: train loss %.4f, pixel accuracy %.2f%%, %.3f s, resident %.1f MB\n", records[i].epoch,
               records[i].train_loss, 100.0 * records[i].train_accuracy, records[i].seconds,
               records[i].resident_bytes / 1048576.0);
    SegmentationEvaluation evaluation;
    if (segmenter_evaluate(&model, &test, 250, &evaluation, &error)) goto done;
    print_evaluation("test", &evaluation);
    printf("checkpoint %s\n", out);
    char name[96], command[1024], dataset[1100];
    run_record_name_from("unet", data, name, sizeof name);
    snprintf(dataset, sizeof dataset, "%s, digits under strokes and noise: %d train, %d test images", data, train.count, test.count);
    RunRecord record = {.name = name, .command = run_record_command(argc, argv, command, sizeof command), .dataset = dataset,
                        .parameters = parameters_count(&model.params), .train_seconds = seconds,
                        .metric = "test IoU (pooled)", .value = evaluation.iou, .higher_is_better = 1, .checkpoint = out};
    record_run("train", "unet", &record);
    status = 0;
done:
    if (status) fail("train", error.message);
    segmentation_set_free(&train), segmentation_set_free(&test);
    if (created) unet_free(&model);
    free(records);
    return status;
}

// The first n images of the set as a PGM grid: a column each, rows the input, the target mask
// and the predicted probability σ(z), 2 pixels apart.
static int write_examples(const Unet *model, const SegmentationSet *set, int n, const char *path, Error *error) {
    n = n < set->count ? n : set->count;
    int H = set->height, W = set->width, gap = 2;
    long plane = (long)H * W;
    float *probabilities = malloc(sizeof(float) * (size_t)(n * plane));
    Image grid = {0};
    int status = -1;
    if (!probabilities) return error_set(error, "out of memory");
    if (segmenter_predict(model, set->inputs, n, 1, H, W, probabilities, error) ||
        image_init(&grid, n * (W + gap) - gap, 3 * (H + gap) - gap, 1, 255, error))
        goto done;
    for (int i = 0; i < n; i++) {
        const float *rows[3] = {set->inputs + i * plane, set->masks + i * plane, probabilities + i * plane};
        for (int r = 0; r < 3; r++)
            for (int v = 0; v < H; v++)
                for (int u = 0; u < W; u++)
                    grid.pixels[(long)(r * (H + gap) + v) * grid.width + i * (W + gap) + u] = 255.0f * rows[r][v * W + u];
    }
    status = image_write(&grid, path, 0, error);
done:
    free(probabilities);
    image_free(&grid);
    return status;
}

int segment_eval(int argc, char **argv) {
    const char *model_path = NULL, *data = NULL, *split = "test", *examples = NULL;
    int images = 0;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a unet checkpoint or state_dict (safetensors)"},
        {"--data", OPTION_STRING, &data, "directory of MNIST-format IDX files"},
        {"--split", OPTION_STRING, &split, "test | train"},
        {"--images", OPTION_INT, &images, "the first N images of the split (0: all)"},
        {"--examples", OPTION_STRING, &examples, "write the first 8 images' input, target and prediction as a PGM grid"},
    };
    int parsed = options_parse(argc, argv, "groundup eval --model UNET --data DIR [--split test] [--examples FILE.pgm]",
                               options, 5, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !data) return fail("eval", "--model and --data are required");
    if (strcmp(split, "test") != 0 && strcmp(split, "train") != 0) return fail("eval", "--split: test or train");
    if (images < 0) return fail("eval", "--images must be >= 0");
    Error error = {{0}};
    Unet model;
    Corruption corruption;
    SegmentationSet set = {0};
    if (segmenter_load(&model, &corruption, model_path, &error)) return fail("eval", error.message);
    int status = 1;
    if (load_task(data, split, images, &corruption, &set, &error)) goto done;
    if (unet_check_input(&model, 1, set.height, set.width, &error)) {
        error_prefix(&error, "%s", data);
        goto done;
    }
    SegmentationEvaluation evaluation;
    if (segmenter_evaluate(&model, &set, 250, &evaluation, &error)) goto done;
    print_evaluation(split, &evaluation);
    if (examples) {
        if (write_examples(&model, &set, EXAMPLES, examples, &error)) goto done;
        printf("examples %s (rows: input, target, prediction)\n", examples);
    }
    status = 0;
done:
    if (status) fail("eval", error.message);
    segmentation_set_free(&set);
    unet_free(&model);
    return status;
}

int segment_predict(int argc, char **argv) {
    const char *model_path = NULL, *image_path = NULL, *out = NULL;
    int probabilities = 0;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a unet checkpoint or state_dict (safetensors)"},
        {"--image", OPTION_STRING, &image_path, "a PGM, white digit on black, sides multiples of 2^levels (28x28)"},
        {"--out", OPTION_STRING, &out, "the predicted mask as a PGM: 255 where σ(z) > 1/2, 0 elsewhere"},
        {"--probabilities", OPTION_FLAG, &probabilities, "write σ(z)·255 instead of the thresholded mask"},
    };
    int parsed = options_parse(argc, argv, "groundup predict --model UNET --image FILE.pgm --out MASK.pgm", options, 4,
                               NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !image_path || !out) return fail("predict", "--model, --image and --out are required");
    Error error = {{0}};
    Unet model;
    Corruption unused;
    Image image = {0}, mask = {0};
    float *input = NULL;
    if (segmenter_load(&model, &unused, model_path, &error)) return fail("predict", error.message);
    int status = 1;
    if (image_read(&image, image_path, &error)) goto done;
    if (unet_check_input(&model, image.channels, image.height, image.width, &error)) {
        error_prefix(&error, "%s", image_path);
        goto done;
    }
    long plane = (long)image.width * image.height, foreground = 0;
    input = malloc(sizeof(float) * (size_t)plane);
    if (!input || image_init(&mask, image.width, image.height, 1, 255, &error)) {
        if (!input) error_set(&error, "out of memory");
        goto done;
    }
    for (long i = 0; i < plane; i++) input[i] = image.pixels[i] / (float)image.maxval;
    if (segmenter_predict(&model, input, 1, 1, image.height, image.width, mask.pixels, &error)) goto done;
    for (long i = 0; i < plane; i++) {
        foreground += mask.pixels[i] > 0.5f;
        mask.pixels[i] = probabilities ? 255.0f * mask.pixels[i] : mask.pixels[i] > 0.5f ? 255.0f : 0.0f;
    }
    if (image_write(&mask, out, 0, &error)) goto done;
    printf("foreground %ld of %ld pixels (%.1f%%)\nmask %s\n", foreground, plane, 100.0 * foreground / plane, out);
    status = 0;
done:
    if (status) fail("predict", error.message);
    free(input);
    image_free(&image), image_free(&mask);
    unet_free(&model);
    return status;
}
