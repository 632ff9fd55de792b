// Image classification with the framework's networks (models/, nn/): `groundup train --arch mlp
// --data DIR`, `groundup eval --model M --data DIR` and `groundup predict --model M --image FILE`.
// train and eval hand over here when --data is a directory of IDX files (classify_wants); the
// text commands are unchanged. Parses arguments, calls the libraries, prints.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "foundations/file.h"
#include "foundations/idx.h"
#include "foundations/image.h"
#include "models/mlp.h"
#include "nn/trainer.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run.h"

// 1 when the arguments give --data DIR with DIR a directory (image classification).
int classify_wants(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) value = argv[i + 1];
        else if (strncmp(argv[i], "--data=", 7) == 0) value = argv[i] + 7;
        struct stat info;
        if (value && stat(value, &info) == 0 && S_ISDIR(info.st_mode)) return 1;
    }
    return 0;
}

// A split of MNIST-format IDX files as a LabelledSet of (1, H, W) images and 10 classes.
static int load_split(const char *directory, const char *split, LabelledSet *set, Error *error) {
    MnistSet mnist;
    if (mnist_load(directory, split, &mnist, error)) return -1;
    int shape[3] = {1, mnist.height, mnist.width};
    int status = labelled_set_create(set, mnist.images, mnist.labels, mnist.count, 3, shape, 10, error);
    mnist_free(&mnist);
    return status;
}

// "256,128" -> sizes[1..], between input and classes; returns the number of sizes, or -1.
static int parse_hidden(const char *text, int input, int classes, int *sizes, int max) {
    int n = 0;
    sizes[n++] = input;
    for (const char *p = text; *p && n < max - 1;) {
        char *end;
        long h = strtol(p, &end, 10);
        if (end == p || h < 1 || h > 1 << 20) return -1;
        sizes[n++] = (int)h;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    sizes[n++] = classes;
    return n;
}

typedef struct Progress {
    int terminal, epochs;
    double last_update;
} Progress;

static void on_step(void *context, int epoch, int batch, int n_batches, float loss) {
    Progress *progress = context;
    if (!progress->terminal) return;
    double now = omp_get_wtime();
    if (now - progress->last_update < 0.1 && batch + 1 != n_batches) return;
    progress->last_update = now;
    fprintf(stderr, "\r\033[Kepoch %d/%d  batch %d/%d  loss %.4f", epoch, progress->epochs, batch + 1, n_batches, (double)loss);
}

static void on_epoch(void *context, const EpochRecord *r) {
    Progress *progress = context;
    fprintf(stderr, "%sepoch %d/%d: train loss %.4f, accuracy %.2f%%", progress->terminal ? "\r\033[K" : "", r->epoch,
            progress->epochs, r->train_loss, 100.0 * r->train_accuracy);
    if (!isnan(r->val_accuracy)) fprintf(stderr, ", validation loss %.4f, accuracy %.2f%%", r->val_loss, 100.0 * r->val_accuracy);
    fprintf(stderr, ", %.2f s, resident %.1f MB\n", r->seconds, r->resident_bytes / 1048576.0);
}

static void print_evaluation(const char *split, const Evaluation *e) {
    printf("%s accuracy %.2f%% (%d of %d), mean loss %.4f\n", split, 100.0 * e->accuracy, e->correct, e->count, e->mean_loss);
    printf("per-class accuracy:");
    for (int k = 0; k < e->n_classes; k++) printf(" %d: %.1f%%", k, 100.0 * e->per_class[k]);
    printf("\nconfusion matrix (rows: true class, columns: predicted):\n     ");
    for (int k = 0; k < e->n_classes; k++) printf("%6d", k);
    printf("\n");
    for (int k = 0; k < e->n_classes; k++) {
        printf("%5d", k);
        for (int j = 0; j < e->n_classes; j++) printf("%6d", e->confusion[k * e->n_classes + j]);
        printf("\n");
    }
}

// After training: each epoch's line, the best epoch's weights when there was validation, the
// test evaluation and the curves.
static int report_run(const Classifier *classifier, const TrainerHistory *history, const LabelledSet *test,
                      const char *best_path, const char *svg_path, const char *out, Error *error) {
    for (int i = 0; i < history->n_epochs; i++) {
        const EpochRecord *r = &history->records[i];
        printf("epoch %d: train loss %.4f, train accuracy %.2f%%, %.3f s, resident %.1f MB\n", r->epoch, r->train_loss,
               100.0 * r->train_accuracy, r->seconds, r->resident_bytes / 1048576.0);
    }
    if (history->stopped_early) printf("stopped early: no better validation accuracy since epoch %d\n", history->best_epoch);
    if (history->best_epoch > 0) {  // evaluate the best weights, as early stopping promises
        if (state_dict_load(classifier->params, best_path, error)) return -1;
        printf("best validation accuracy at epoch %d (weights %s)\n", history->best_epoch, best_path);
    }
    Evaluation evaluation;
    if (classifier_evaluate(classifier, test, 500, &evaluation, error)) return -1;
    print_evaluation("test", &evaluation);
    evaluation_free(&evaluation);
    if (history->n_epochs > 0 && trainer_write_curves(history, svg_path, error)) return -1;
    printf("checkpoint %s\ncurves %s\n", out, svg_path);
    return 0;
}

int classify_train(int argc, char **argv) {
    const char *arch = "mlp", *data = NULL, *hidden = "256,128", *out = "out/mlp.safetensors", *resume = NULL;
    const char *optimizer_name = "adam", *schedule_name = "constant";
    long warmup = 0;
    float gamma = 0.5f, min_lr = 0.0f;
    int epochs = 5, batch = 64, validation = 0, patience = 0, threads = 0, batch_norm = 0;
    float dropout = 0.0f;
    long seed = 1;
    float lr = 1e-3f, weight_decay = 0.0f, clip = 0.0f;
    const Option options[] = {
        {"--arch", OPTION_STRING, &arch, "mlp (the feedforward classifier)"},
        {"--data", OPTION_STRING, &data, "directory of MNIST-format IDX files (train-*, t10k-*, plain or .gz)"},
        {"--epochs", OPTION_INT, &epochs, "epochs"},
        {"--batch", OPTION_INT, &batch, "images per step"},
        {"--lr", OPTION_FLOAT, &lr, "learning rate"},
        {"--optimizer", OPTION_STRING, &optimizer_name, "sgd | momentum | nesterov | rmsprop | adam | adamw"},
        {"--schedule", OPTION_STRING, &schedule_name, "constant | step (x gamma each epoch) | cosine (warmup, then down to --min-lr)"},
        {"--gamma", OPTION_FLOAT, &gamma, "step schedule: factor per epoch"},
        {"--warmup", OPTION_LONG, &warmup, "cosine schedule: warmup steps"},
        {"--min-lr", OPTION_FLOAT, &min_lr, "cosine schedule: final learning rate"},
        {"--weight-decay", OPTION_FLOAT, &weight_decay, "weight decay on the matrices (none on biases)"},
        {"--clip", OPTION_FLOAT, &clip, "clip gradients to this global norm (0: no clipping)"},
        {"--hidden", OPTION_STRING, &hidden, "hidden layer sizes, comma-separated"},
        {"--batch-norm", OPTION_FLAG, &batch_norm, "batch normalisation before each hidden ReLU (bn1, bn2, ...)"},
        {"--dropout", OPTION_FLOAT, &dropout, "dropout probability after each hidden ReLU"},
        {"--validation", OPTION_INT, &validation, "training images held out for validation (0: none)"},
        {"--patience", OPTION_INT, &patience, "stop after this many epochs without a better validation accuracy (0: never)"},
        {"--seed", OPTION_LONG, &seed, "seed of the initialisation, the split and the shuffles"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--out", OPTION_STRING, &out, "checkpoint (safetensors: weights, optimizer, epoch); curves SVG beside it"},
        {"--resume", OPTION_STRING, &resume, "continue the run saved in this checkpoint"},
    };
    const char *usage = "groundup train --arch mlp --data DIR [--epochs 5] [--batch 64] [--lr 1e-3] [--hidden 256,128] "
                        "[--validation N] [--out FILE] [--resume FILE]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!data) return fail("train", "--data DIR is required");
    if (strcmp(arch, "mlp") != 0) return fail("train", "image classification has --arch mlp only (the CNNs come later)");
    if (epochs < 1 || epochs > 1000 || batch < 1 || validation < 0 || patience < 0 || threads < 0)
        return fail("train", "--epochs 1..1000, --batch >= 1, --validation, --patience and --threads >= 0");
    if (patience > 0 && validation == 0) return fail("train", "--patience needs a validation set (--validation N)");
    if (threads > 0) omp_set_num_threads(threads);
    Error error = {{0}};
    TrainerConfig config = {epochs, batch, lr, SCHEDULE_CONSTANT, gamma, warmup, min_lr, OPTIMIZER_ADAM, weight_decay,
                            clip, (unsigned long long)seed + 1, patience, out, NULL, resume};
    if (!strcmp(schedule_name, "step")) config.schedule = SCHEDULE_STEP_DECAY;
    else if (!strcmp(schedule_name, "cosine")) config.schedule = SCHEDULE_WARMUP_COSINE;
    else if (strcmp(schedule_name, "constant")) return fail("train", "--schedule: constant, step or cosine");
    if (optimizer_kind_parse(optimizer_name, &config.optimizer, &error)) return fail("train", error.message);

    LabelledSet all = {0}, train = {0}, held_out = {0}, test = {0};
    Mlp mlp = {0};
    TrainerHistory *history = calloc(1, sizeof *history);
    char best_path[1100], svg_path[1100];
    int status = 1, sizes[MLP_MAX_LAYERS + 1];
    if (!history) return fail("train", "out of memory");
    if (load_split(data, "train", &all, &error) || load_split(data, "test", &test, &error)) goto done;
    int n_sizes = parse_hidden(hidden, all.sample_size, all.n_classes, sizes, MLP_MAX_LAYERS + 1);
    if (n_sizes < 0) {
        error_set(&error, "--hidden \"%s\": comma-separated positive sizes, at most %d", hidden, MLP_MAX_LAYERS - 1);
        goto done;
    }
    if (validation > 0) {
        if (labelled_set_split(&all, validation, (unsigned long long)seed, &train, &held_out, &error)) goto done;
    } else {
        train = all;
        memset(&all, 0, sizeof all);
    }
    Random init;
    random_seed(&init, (unsigned long long)seed);
    MlpOptions mlp_options = {batch_norm, dropout};
    if (mlp_classifier_create(&mlp, sizes, n_sizes, &mlp_options, &init, &error)) goto done;
    snprintf(best_path, sizeof best_path, "%.*s.best.safetensors", (int)(strlen(out) - (strstr(out, ".safetensors") ? 12 : 0)), out);
    snprintf(svg_path, sizeof svg_path, "%.*s.svg", (int)(strlen(out) - (strstr(out, ".safetensors") ? 12 : 0)), out);
    if (validation > 0) config.best_path = best_path;
    if (trainer_check(&config, train.count, &error)) goto done;
    char out_directory[1100];
    directory_of(out, out_directory, sizeof out_directory);
    if (make_directories(out_directory, &error)) goto done;
    fprintf(stderr, "mlp %s: %ld parameters, %d training / %d validation / %d test images, %d threads\n", hidden,
            parameters_count(&mlp.params), train.count, held_out.count, test.count, omp_get_max_threads());
    Progress progress = {isatty(fileno(stderr)), epochs, 0.0};
    TrainerCallbacks callbacks = {&progress, on_step, on_epoch};
    Classifier classifier = mlp_as_classifier(&mlp);
    if (classifier_train(&classifier, &train, held_out.count ? &held_out : NULL, &config, &callbacks, history, &error))
        goto done;
    if (report_run(&classifier, history, &test, best_path, svg_path, out, &error)) goto done;
    status = 0;
done:
    if (status) fail("train", error.message);
    labelled_set_free(&all), labelled_set_free(&train), labelled_set_free(&held_out), labelled_set_free(&test);
    mlp_classifier_free(&mlp);
    free(history);
    return status;
}

int classify_eval(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *split = "test";
    const Option options[] = {
        {"--model", OPTION_STRING, &model, "weights (safetensors state_dict or checkpoint of an mlp)"},
        {"--data", OPTION_STRING, &data, "directory of MNIST-format IDX files"},
        {"--split", OPTION_STRING, &split, "test | train"},
    };
    int parsed = options_parse(argc, argv, "groundup eval --model M --data DIR [--split test]", options, 3, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model || !data) return fail("eval", "--model and --data are required");
    Error error = {{0}};
    Mlp mlp;
    LabelledSet set = {0};
    if (mlp_classifier_load(&mlp, model, &error)) return fail("eval", error.message);
    int status = 1;
    if (load_split(data, split, &set, &error)) goto done;
    Classifier classifier = mlp_as_classifier(&mlp);
    Evaluation evaluation;
    if (classifier_evaluate(&classifier, &set, 500, &evaluation, &error)) goto done;
    print_evaluation(split, &evaluation);
    evaluation_free(&evaluation);
    status = 0;
done:
    if (status) fail("eval", error.message);
    labelled_set_free(&set);
    mlp_classifier_free(&mlp);
    return status;
}

int command_predict(int argc, char **argv) {
    const char *model = NULL, *image_path = NULL;
    const Option options[] = {
        {"--model", OPTION_STRING, &model, "weights of an mlp (safetensors)"},
        {"--image", OPTION_STRING, &image_path, "a grayscale PGM of the model's input size (28x28 for MNIST), white digit on black"},
    };
    int parsed = options_parse(argc, argv, "groundup predict --model M --image FILE.pgm", options, 2, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model || !image_path) return fail("predict", "--model and --image are required");
    Error error = {{0}};
    Mlp mlp;
    Image image = {0};
    if (mlp_classifier_load(&mlp, model, &error)) return fail("predict", error.message);
    int status = 1;
    if (image_read(&image, image_path, &error)) goto done;
    if (image.channels != 1 || (long)image.width * image.height != mlp.sizes[0]) {
        error_set(&error, "%s: a %dx%d image with %d channel(s); the model takes %d grayscale values", image_path,
                  image.width, image.height, image.channels, mlp.sizes[0]);
        goto done;
    }
    for (long i = 0; i < (long)image.width * image.height; i++) image.pixels[i] /= (float)image.maxval;  // to [0, 1]
    int K = mlp.sizes[mlp.n_layers], shape[3] = {1, image.height, image.width};
    float probs[1024];
    if (K > 1024) {
        error_set(&error, "%s: %d classes (at most 1024)", model, K);
        goto done;
    }
    Classifier classifier = mlp_as_classifier(&mlp);
    if (classifier_predict(&classifier, image.pixels, 1, 3, shape, probs, &error)) goto done;
    int best = 0;
    for (int k = 0; k < K; k++) {
        printf("class %d: %.4f\n", k, (double)probs[k]);
        if (probs[k] > probs[best]) best = k;
    }
    printf("predicted %d\n", best);
    status = 0;
done:
    if (status) fail("predict", error.message);
    image_free(&image);
    mlp_classifier_free(&mlp);
    return status;
}
