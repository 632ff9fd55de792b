// Image classification with the framework's networks (models/image_classifier.h: mlp, lenet5,
// resnet, alexnet, vit): `groundup train --arch A --data DIR`, `groundup eval --model M --data DIR` and
// `groundup predict --model M --image FILE`. train and eval hand over here when --data is a
// directory of IDX files (classify_wants); the text commands are unchanged. Checkpoints record
// the architecture; eval and predict read it from them. Parses arguments, calls the libraries,
// prints.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "foundations/distributed.h"
#include "foundations/file.h"
#include "foundations/heatmap.h"
#include "foundations/idx.h"
#include "foundations/image.h"
#include "models/image_classifier.h"
#include "nn/trainer.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run.h"
#include "tools/run_record.h"

// 1 when the arguments give --data DIR with DIR a directory, or an architecture that only
// classifies images (lenet5, resnet, alexnet, vit): image classification.
int classify_wants(int argc, char **argv) {
    const char *arch = option_value(argc, argv, "--arch");
    if (arch && (strcmp(arch, "lenet5") == 0 || strcmp(arch, "resnet") == 0 || strcmp(arch, "alexnet") == 0 ||
                 strcmp(arch, "vit") == 0))
        return 1;
    const char *data = option_value(argc, argv, "--data");
    struct stat info;
    return data && stat(data, &info) == 0 && S_ISDIR(info.st_mode);
}

// A split of MNIST-format IDX files as a LabelledSet (declared in commands.h).
int classify_load_split(const char *directory, const char *split, LabelledSet *set, Error *error) {
    MnistSet mnist;
    if (mnist_load(directory, split, &mnist, error)) return -1;
    int shape[3] = {1, mnist.height, mnist.width};
    int status = labelled_set_create(set, mnist.images, mnist.labels, mnist.count, 3, shape, 10, error);
    mnist_free(&mnist);
    return status;
}

// "256,128" or "6-16-120-84" -> sizes; returns how many (1 to max), or -1 for anything else.
static int parse_sizes(const char *text, int *sizes, int max) {
    int n = 0;
    for (const char *p = text; *p;) {
        char *end;
        long h = strtol(p, &end, 10);
        if (end == p || h < 1 || h > 1 << 20 || n == max || (*end && *end != ',' && *end != '-') || (*end && !end[1]))
            return -1;
        sizes[n++] = (int)h;
        p = *end ? end + 1 : end;
    }
    return n > 0 ? n : -1;
}

// The live progress line of a training step (only on a terminal); also cmd_segment.c's.
void training_progress_step(void *context, int epoch, int batch, int n_batches, float loss) {
    TrainingProgress *progress = context;
    if (!progress->terminal) return;
    double now = omp_get_wtime();
    if (now - progress->last_update < 0.1 && batch + 1 != n_batches) return;
    progress->last_update = now;
    fprintf(stderr, "\r\033[Kepoch %d/%d  batch %d/%d  loss %.4f", epoch, progress->epochs, batch + 1, n_batches, (double)loss);
}

static void on_epoch(void *context, const EpochRecord *r) {
    TrainingProgress *progress = context;
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
                      const char *best_path, const char *svg_path, const char *out, double *accuracy, Error *error) {
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
    *accuracy = evaluation.accuracy;
    evaluation_free(&evaluation);
    if (history->n_epochs > 0 && trainer_write_curves(history, svg_path, error)) return -1;
    printf("checkpoint %s\ncurves %s\n", out, svg_path);
    return 0;
}

// The architectures' own options of `groundup train`.
typedef struct ModelOptions {
    const char *hidden;  // mlp
    int batch_norm;
    float dropout;       // mlp, alexnet (below 0: the architecture's default)
    const char *sizes;   // lenet5, alexnet (NULL: the architecture's default)
    int original;
    int width;           // resnet
    const char *blocks;
    int patch, dim, depth, heads;  // vit
    float mlp_ratio;
} ModelOptions;

// A new vit for the set's images from the options (dropout below 0: none).
static int create_vit(const ModelOptions *o, const LabelledSet *set, Random *init, ImageClassifier *model,
                      Error *error) {
    if (set->shape[1] != set->shape[2])
        return error_set(error, "vit takes square images, not %dx%d", set->shape[2], set->shape[1]);
    if (!(o->mlp_ratio > 0.0f && o->mlp_ratio <= 64.0f))
        return error_set(error, "--mlp-ratio %g: the MLP's width over dim, in (0, 64]", (double)o->mlp_ratio);
    int mlp_dim = (int)lroundf((float)o->dim * o->mlp_ratio);
    VitConfig config = {set->shape[0], set->shape[1], o->patch, o->dim, o->depth, o->heads, mlp_dim < 1 ? 1 : mlp_dim,
                        set->n_classes, o->dropout < 0.0f ? 0.0f : o->dropout};
    Vit vit;
    if (vit_create(&vit, &config, init, error)) return -1;
    image_classifier_from_vit(model, &vit);
    return 0;
}

// A new model of architecture arch for examples of shape (channels, height, width) in `classes`
// classes, initialised from seed.
static int create_model(ClassifierArch arch, const ModelOptions *o, const LabelledSet *set, unsigned long long seed,
                        ImageClassifier *model, Error *error) {
    Random init;
    random_seed(&init, seed);
    int sizes[MLP_MAX_LAYERS + 1], channels = set->shape[0], side = set->shape[1], n;
    if (arch == CLASSIFIER_MLP) {
        Mlp mlp;
        sizes[0] = set->sample_size;
        if ((n = parse_sizes(o->hidden, sizes + 1, MLP_MAX_LAYERS - 1)) < 0)
            return error_set(error, "--hidden \"%s\": comma-separated positive sizes, at most %d", o->hidden, MLP_MAX_LAYERS - 1);
        sizes[n + 1] = set->n_classes;
        MlpOptions options = {o->batch_norm, o->dropout < 0.0f ? 0.0f : o->dropout};
        if (mlp_classifier_create(&mlp, sizes, n + 2, &options, &init, error)) return -1;
        image_classifier_from_mlp(model, &mlp);
    } else if (arch == CLASSIFIER_LENET5) {
        Lenet5 lenet5;
        const char *text = o->sizes ? o->sizes : "6-16-120-84";
        if (parse_sizes(text, sizes, 4) != 4) return error_set(error, "--sizes \"%s\": four sizes C1-C2-F1-F2", text);
        if (set->shape[1] != set->shape[2])
            return error_set(error, "lenet5 takes square images, not %dx%d", set->shape[2], set->shape[1]);
        Lenet5Config config = {channels, side, sizes[0], sizes[1], sizes[2], sizes[3], set->n_classes, o->original};
        if (lenet5_create(&lenet5, &config, &init, error)) return -1;
        image_classifier_from_lenet5(model, &lenet5);
    } else if (arch == CLASSIFIER_ALEXNET) {
        Alexnet alexnet;
        AlexnetConfig config = alexnet_default_config();
        if (o->sizes && parse_sizes(o->sizes, sizes, 7) != 7)
            return error_set(error, "--sizes \"%s\": seven sizes C1-C2-C3-C4-C5-F1-F2", o->sizes);
        for (int i = 0; o->sizes && i < ALEXNET_CONVS; i++) config.conv[i] = sizes[i];
        if (o->sizes) config.fc1 = sizes[5], config.fc2 = sizes[6];
        config.in_channels = channels, config.classes = set->n_classes;
        if (o->dropout >= 0.0f) config.dropout = o->dropout;
        if (alexnet_create(&alexnet, &config, &init, error)) return -1;
        image_classifier_from_alexnet(model, &alexnet);
    } else if (arch == CLASSIFIER_VIT) {
        return create_vit(o, set, &init, model, error);
    } else {
        Resnet resnet;
        ResnetConfig config;
        if ((n = parse_sizes(o->blocks, sizes, RESNET_MAX_STAGES)) < 0)
            return error_set(error, "--blocks \"%s\": blocks per stage, e.g. 2-2-2 (at most %d stages)", o->blocks, RESNET_MAX_STAGES);
        if (resnet_config(&config, channels, o->width, sizes, n, set->n_classes, error) ||
            resnet_create(&resnet, &config, &init, error))
            return -1;
        image_classifier_from_resnet(model, &resnet);
    }
    return 0;
}

// The model to train: resume's (of arch when given) or a new one; checked against the data.
static int training_model(const char *arch_name, const char *resume, const ModelOptions *options, const LabelledSet *set,
                          unsigned long long seed, ImageClassifier *model, Error *error) {
    ClassifierArch arch = CLASSIFIER_MLP;
    if (arch_name && classifier_arch_parse(arch_name, &arch, error)) return -1;
    if (resume) {
        if (image_classifier_load(model, resume, arch_name ? &arch : NULL, error)) return -1;
    } else if (create_model(arch, options, set, seed, model, error)) {
        return -1;
    }
    if (image_classifier_check_input(model, set->shape[0], set->shape[1], set->shape[2], error) == 0) return 0;
    image_classifier_free(model);
    return error_prefix(error, "%s", resume ? resume : "train");
}

// The vit's picture: the class token's attention in the last layer (averaged over the heads)
// over the patches of the first test image, drawn on the image as a heat map at path: each
// pixel is its patch's weight × (0.2 + 0.8 · brightness), so the digit shows in the patches it
// attends to. The weights, patch rows first, also go to stdout.
static int write_class_attention(ImageClassifier *model, const LabelledSet *test, const char *path, Error *error) {
    Vit *vit = &model->vit;
    int P = vit->config.patch_size, S = vit->config.image_size, K = vit->config.classes, C = vit->config.in_channels;
    float weights[VIT_MAX_PATCHES], to_self, probs[256];
    if (test->count < 1 || K > 256) return 0;
    Classifier classifier = image_classifier_view(model);
    if (vit_class_attention(vit, test->inputs, weights, &to_self, error) ||
        classifier_predict(&classifier, test->inputs, 1, test->n_dims, test->shape, probs, error))
        return -1;
    int predicted = 0;
    for (int k = 1; k < K; k++) predicted = probs[k] > probs[predicted] ? k : predicted;
    float *picture = malloc(sizeof(float) * (size_t)S * S);
    if (!picture) return error_set(error, "out of memory");
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            float brightness = 0.0f;  // the channels' mean
            for (int c = 0; c < C; c++) brightness += test->inputs[((long)c * S + y) * S + x] / (float)C;
            brightness = brightness < 0.0f ? 0.0f : brightness > 1.0f ? 1.0f : brightness;
            picture[y * S + x] = weights[(y / P) * (S / P) + x / P] * (0.2f + 0.8f * brightness);
        }
    char title[160];
    snprintf(title, sizeof title, "ViT: the class token's attention over the %dx%d patches (last layer), test digit %d, predicted %d",
             S / P, S / P, test->labels[0], predicted);
    int status = heatmap_write_svg(path, title, picture, S, S, NULL, NULL, "y", "x", error);
    free(picture);
    if (status) return -1;
    printf("class-token attention over the patches of test image 0 (rows; %.4f to itself):", (double)to_self);
    for (int p = 0; p < (S / P) * (S / P); p++) printf("%s%.4f", p % (S / P) ? " " : (p ? " | " : " "), (double)weights[p]);
    printf("\nattention %s\n", path);
    return 0;
}

// "<out without .safetensors><suffix>" into path (declared in commands.h).
void checkpoint_beside(const char *out, const char *suffix, char *path, size_t size) {
    size_t length = strlen(out);
    if (length >= 12 && strcmp(out + length - 12, ".safetensors") == 0) length -= 12;
    snprintf(path, size, "%.*s%s", (int)length, out, suffix);
}

// For a vit, the recipe's options not given take the vit's defaults: AdamW with weight decay
// 0.05 on the matrices, a linear warmup over the first tenth of the run's steps, then cosine
// (the ViT paper trains with Adam, weight decay, linear warmup and decay; DeiT with AdamW 0.05
// and cosine; transformers trained from scratch are known to need the warmup). The other
// architectures keep the command's defaults (Adam at a constant rate).
static void vit_recipe_defaults(int argc, char **argv, long steps, TrainerConfig *config) {
    if (!option_given(argc, argv, "--optimizer")) config->optimizer = OPTIMIZER_ADAMW;
    if (!option_given(argc, argv, "--weight-decay")) config->weight_decay = 0.05f;
    if (!option_given(argc, argv, "--schedule") && !option_given(argc, argv, "--warmup"))
        config->schedule = SCHEDULE_WARMUP_COSINE, config->warmup_steps = steps / 10;
}

// The run record (tools/run_record.h): the test accuracy, the model by its architecture.
static void record_classifier(ImageClassifier *model, int argc, char **argv, const char *data, int n_train, int n_test,
                              double seconds, double accuracy, const char *out, const char *svg_path,
                              const char *attention_path) {
    char name[96], command[1024], dataset[1100];
    const char *arch = classifier_arch_name(model->arch);
    run_record_name_from(arch, data, name, sizeof name);
    snprintf(dataset, sizeof dataset, "%s: %d train, %d test images", data, n_train, n_test);
    Classifier view = image_classifier_view(model);
    RunRecord record = {.name = name, .command = run_record_command(argc, argv, command, sizeof command), .dataset = dataset,
                        .parameters = parameters_count(view.params), .train_seconds = seconds,
                        .metric = "test accuracy (%)", .value = accuracy, .higher_is_better = 1, .checkpoint = out,
                        .figures = {svg_path, attention_path}};
    record_run("train", arch, &record);
}

// The options of data-parallel training (see nn/trainer.h).
typedef struct Parallel {
    int ranks;        // 0: as started (mpirun -np N); N: the job must have N
    int grad_accum;   // parts per rank and step
    int check_every;  // steps between checksums of the parameters across ranks (0: never)
} Parallel;

// A one-line error from rank 0 (known from the launcher's environment before MPI starts); the
// other ranks exit with the same status, silently.
static int fail_on_rank_0(const char *message) { return distributed_launcher_rank() == 0 ? fail("train", message) : 1; }

// Rank 0's first lines: the model and data, and with several ranks or parts, the split of the
// batch and what it means for batch norm.
static void describe_run(const Classifier *classifier, const char *description, const TrainerConfig *config,
                         const LabelledSet *train, int n_validation, int n_test) {
    fprintf(stderr, "%s: %ld parameters, %d training / %d validation / %d test images, %d threads\n", description,
            parameters_count(classifier->params), train->count, n_validation, n_test, omp_get_max_threads());
    int ranks = config->distributed->size, parts = config->grad_accum > 1 ? config->grad_accum : 1;
    if (ranks == 1 && parts == 1) return;
    fprintf(stderr, "data parallel: %d ranks x %d accumulation steps of %d images (global batch %d)\n", ranks, parts,
            config->batch_size / (ranks * parts), config->batch_size);
    if (parameters_part_size(classifier->params, PARAMETERS_BUFFERS) == 0) return;
    if (parts == 1)
        fprintf(stderr, "batch norm: synchronised across the %d ranks (statistics of the global batch)\n", ranks);
    else
        fprintf(stderr, "batch norm: statistics of each accumulation step's %d images%s, not of the global batch\n",
                config->batch_size / parts, ranks > 1 ? " (synchronised across the ranks)" : "");
}

// Rank 0, several ranks: the all-reduce's share of a step.
static void report_parallel(const TrainerHistory *history, const Distributed *job) {
    if (job->size == 1 || history->steps == 0 || !(history->step_seconds > 0)) return;
    fprintf(stderr, "all-reduce of the gradients: %.1f ms per step of %.1f ms (%.1f%%), and %.1f ms waiting for the "
            "slowest rank\n", 1e3 * history->reduce_seconds / history->steps, 1e3 * history->step_seconds / history->steps,
            100.0 * history->reduce_seconds / history->step_seconds, 1e3 * history->wait_seconds / history->steps);
}

// Rank 0, after a stop (Ctrl-C, SIGTERM on some rank): where the run stopped and how to go on.
static void report_stop(const TrainerHistory *history, const Distributed *job, const char *out) {
    char by[32] = "";
    if (job->size > 1) snprintf(by, sizeof by, " by rank %d", history->stop_rank);
    fprintf(stderr, "groundup: train: interrupted at epoch %d, batch %d%s; saved %s (continue with --resume %s)\n",
            history->stop_epoch, history->stop_batch, by, out, out);
}

// Every rank trains; then rank 0 reports: the epochs, the test set, the pictures and the run
// record (or where a stopped run was saved). Returns the exit status: 0, 1 (error), or after a
// stop 128 + the signal.
static int train_and_report(ImageClassifier *model, const LabelledSet *train, const LabelledSet *validation,
                            const LabelledSet *test, TrainerConfig *config, TrainerHistory *history, int argc,
                            char **argv, const char *data, Error *error) {
    const Distributed *job = config->distributed;
    const char *out = config->checkpoint_path;
    int talks = job->rank == 0;
    char description[128], best_path[1100], svg_path[1100], attention_path[1100];
    image_classifier_describe(model, description, sizeof description);
    Classifier classifier = image_classifier_view(model);
    if (talks) describe_run(&classifier, description, config, train, validation ? validation->count : 0, test->count);
    TrainingProgress progress = {isatty(fileno(stderr)), config->epochs, 0.0};
    TrainerCallbacks callbacks = {&progress, training_progress_step, on_epoch};
    double start = omp_get_wtime(), accuracy;
    config->stop = stop_signals_catch();
    int trained = classifier_train(&classifier, train, validation, config, talks ? &callbacks : NULL, history, error);
    stop_signals_release();
    if (trained) return 1;
    double seconds = omp_get_wtime() - start;
    if (!talks || history->stopped) {  // the other ranks' part ends with the training
        if (talks) report_stop(history, job, out);
        return history->stopped ? stopped_exit_status() : 0;
    }
    report_parallel(history, job);
    checkpoint_beside(out, ".best.safetensors", best_path, sizeof best_path);
    checkpoint_beside(out, ".svg", svg_path, sizeof svg_path);
    if (report_run(&classifier, history, test, best_path, svg_path, out, &accuracy, error)) return 1;
    checkpoint_beside(out, ".attention.svg", attention_path, sizeof attention_path);
    if (model->arch == CLASSIFIER_VIT && write_class_attention(model, test, attention_path, error)) return 1;
    record_classifier(model, argc, argv, data, train->count, test->count, seconds, 100.0 * accuracy, out, svg_path,
                      model->arch == CLASSIFIER_VIT ? attention_path : NULL);
    return 0;
}

int classify_train(int argc, char **argv) {
    const char *arch = NULL, *data = NULL, *out = NULL, *resume = NULL;
    const char *optimizer_name = "adam", *schedule_name = "constant";
    ModelOptions model_options = {"256,128", 0, -1.0f, NULL, 0, 16, "1-1-1", 7, 48, 3, 4, 2.0f};
    long warmup = 0, seed = 1;
    float gamma = 0.5f, min_lr = 0.0f, lr = 1e-3f, weight_decay = 0.0f, clip = 0.0f, clip_value = 0.0f, l1 = 0.0f;
    int epochs = 5, batch = 64, validation = 0, patience = 0, threads = 0;
    Parallel parallel = {0, 1, 0};
    const Option options[] = {
        {"--arch", OPTION_STRING, &arch, "mlp | lenet5 | resnet | alexnet | vit | unet (default mlp; on --resume, the checkpoint's)"},
        {"--data", OPTION_STRING, &data, "directory of MNIST-format IDX files (train-*, t10k-*, plain or .gz)"},
        {"--epochs", OPTION_INT, &epochs, "epochs"},
        {"--batch", OPTION_INT, &batch, "images per step"},
        {"--lr", OPTION_FLOAT, &lr, "learning rate"},
        {"--optimizer", OPTION_STRING, &optimizer_name, "sgd | momentum | nesterov | rmsprop | adam | adamw (default adam; vit: adamw)"},
        {"--schedule", OPTION_STRING, &schedule_name, "constant | step (x gamma each epoch) | cosine (down to --min-lr; with --warmup N: warmup-cosine) | warmup-cosine | one-cycle (up from lr/25 over --warmup steps, default 30%, then down) (default constant; vit: warmup-cosine)"},
        {"--gamma", OPTION_FLOAT, &gamma, "step schedule: factor per epoch"},
        {"--warmup", OPTION_LONG, &warmup, "warmup-cosine: warmup steps (vit's default: a tenth of the run's); one-cycle: rising steps"},
        {"--min-lr", OPTION_FLOAT, &min_lr, "cosine schedules: final learning rate"},
        {"--weight-decay", OPTION_FLOAT, &weight_decay, "weight decay on the matrices and kernels, none on biases and norms (default 0; vit: 0.05)"},
        {"--l1", OPTION_FLOAT, &l1, "L1 penalty on the matrices and kernels: adds l1 * sign(w) to their gradients"},
        {"--clip-norm", OPTION_FLOAT, &clip, "clip gradients to this global norm (0: no clipping)"},
        {"--clip", OPTION_FLOAT, &clip, "the same as --clip-norm"},
        {"--clip-value", OPTION_FLOAT, &clip_value, "clamp every gradient to [-v, v] instead (0: none)"},
        {"--hidden", OPTION_STRING, &model_options.hidden, "mlp: hidden layer sizes, comma-separated"},
        {"--batch-norm", OPTION_FLAG, &model_options.batch_norm, "mlp: batch normalisation before each hidden ReLU (bn1, bn2, ...)"},
        {"--dropout", OPTION_FLOAT, &model_options.dropout, "mlp: dropout probability after each hidden ReLU (default 0); alexnet: before fc1 and fc2 (default 0.5); vit: in the encoder layers (default 0)"},
        {"--sizes", OPTION_STRING, &model_options.sizes, "lenet5: conv1 and conv2 channels, fc1 and fc2 widths (6-16-120-84); alexnet: five conv channels, two fc widths (24-64-96-96-64-256-256)"},
        {"--original", OPTION_FLAG, &model_options.original, "lenet5: the original's tanh and average pooling"},
        {"--width", OPTION_INT, &model_options.width, "resnet: channels of the first stage (doubled in each next)"},
        {"--blocks", OPTION_STRING, &model_options.blocks, "resnet: BasicBlocks per stage"},
        {"--patch", OPTION_INT, &model_options.patch, "vit: patch side in pixels (dividing the image's: 7 gives 16 patches of 28x28)"},
        {"--dim", OPTION_INT, &model_options.dim, "vit: width D of the tokens"},
        {"--depth", OPTION_INT, &model_options.depth, "vit: encoder layers"},
        {"--heads", OPTION_INT, &model_options.heads, "vit: attention heads (dividing --dim)"},
        {"--mlp-ratio", OPTION_FLOAT, &model_options.mlp_ratio, "vit: the MLP's hidden width over --dim"},
        {"--validation", OPTION_INT, &validation, "training images held out for validation (0: none)"},
        {"--patience", OPTION_INT, &patience, "stop after this many epochs without a better validation accuracy (default: never)"},
        {"--early-stop", OPTION_INT, &patience, "the same as --patience"},
        {"--seed", OPTION_LONG, &seed, "seed of the initialisation, the split and the shuffles"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--out", OPTION_STRING, &out, "checkpoint (safetensors: weights, optimizer, epoch, arch; default out/ARCH.safetensors); curves SVG beside it"},
        {"--resume", OPTION_STRING, &resume, "continue the run saved in this checkpoint (its architecture and sizes)"},
        {"--ranks", OPTION_INT, &parallel.ranks, "the run must have N processes (mpirun -np N groundup train ...); --batch is the global batch"},
        {"--grad-accum", OPTION_INT, &parallel.grad_accum, "split each rank's share of the batch into K parts, one backward each (default 1)"},
        {"--check-every", OPTION_INT, &parallel.check_every, "compare the parameters' checksum across ranks every K steps (0: never)"},
    };
    const char *usage = "groundup train --arch mlp|lenet5|resnet|alexnet|vit --data DIR [--epochs 5] [--batch 64] [--lr 1e-3] "
                        "[--hidden 256,128] [--sizes 6-16-120-84] [--width 16 --blocks 1-1-1] "
                        "[--dim 48 --depth 3 --heads 4 --mlp-ratio 2] [--validation N] [--out FILE] [--resume FILE]";
    int parsed = parse_on_rank_0(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]));
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!data) return fail_on_rank_0("--data DIR is required");
    if (epochs < 1 || epochs > 1000 || batch < 1 || validation < 0 || patience < 0 || threads < 0)
        return fail_on_rank_0("--epochs 1..1000, --batch >= 1, --validation, --patience and --threads >= 0");
    if ((option_given(argc, argv, "--patience") || option_given(argc, argv, "--early-stop")) && patience < 1)
        return fail_on_rank_0("--early-stop (--patience) must be at least 1 epoch without a better validation accuracy");
    if (patience > 0 && validation == 0) return fail_on_rank_0("--patience needs a validation set (--validation N)");
    if (!(weight_decay >= 0.0f) || !(l1 >= 0.0f) || !(clip >= 0.0f) || !(clip_value >= 0.0f))
        return fail_on_rank_0("--weight-decay, --l1, --clip-norm and --clip-value must be >= 0");
    if (clip > 0.0f && clip_value > 0.0f)
        return fail_on_rank_0("--clip-norm and --clip-value contradict: clip by norm or by value");
    if (parallel.ranks < 0 || parallel.grad_accum < 1 || parallel.check_every < 0)
        return fail_on_rank_0("--ranks must be >= 0, --grad-accum >= 1 and --check-every >= 0");
    if (threads > 0) omp_set_num_threads(threads);
    Error error = {{0}};
    TrainerConfig config = {epochs, batch, lr, SCHEDULE_CONSTANT, gamma, warmup, min_lr, OPTIMIZER_ADAM, weight_decay,
                            clip, (unsigned long long)seed + 1, patience, out, NULL, resume, NULL, 0, clip_value, l1,
                            NULL, parallel.grad_accum, parallel.check_every, NULL};
    if (schedule_kind_parse(schedule_name, &config.schedule, &error))
        return error_prefix(&error, "--schedule"), fail_on_rank_0(error.message);
    if (config.schedule == SCHEDULE_COSINE && warmup > 0) config.schedule = SCHEDULE_WARMUP_COSINE;  // as before one-cycle
    if (warmup > 0 && config.schedule != SCHEDULE_WARMUP_COSINE && config.schedule != SCHEDULE_ONE_CYCLE)
        return fail_on_rank_0("--warmup needs --schedule warmup-cosine (or cosine) or one-cycle");
    if (optimizer_kind_parse(optimizer_name, &config.optimizer, &error))
        return error_prefix(&error, "--optimizer"), fail_on_rank_0(error.message);
    Distributed job;
    if (distributed_init(&job, parallel.ranks, &error)) {
        distributed_finalize(&job);
        return fail_on_rank_0(error.message);
    }
    config.distributed = &job;

    LabelledSet all = {0}, train = {0}, held_out = {0}, test = {0};
    ImageClassifier *model = calloc(1, sizeof *model);
    TrainerHistory *history = calloc(1, sizeof *history);
    char best_path[1100], out_directory[1100], default_out[64];
    int status = 1, created = 0, set_up = 0, talks = job.rank == 0;  // rank 0 alone prints and writes
    if (!history || !model) {
        error_set(&error, "out of memory");
        goto agree;
    }
    if (classify_load_split(data, "train", &all, &error) || classify_load_split(data, "test", &test, &error)) goto agree;
    if (validation > 0) {
        if (labelled_set_split(&all, validation, (unsigned long long)seed, &train, &held_out, &error)) goto agree;
    } else {
        train = all;
        memset(&all, 0, sizeof all);
    }
    if (training_model(arch, resume, &model_options, &train, (unsigned long long)seed, model, &error)) goto agree;
    created = 1;
    snprintf(default_out, sizeof default_out, "out/%s.safetensors", classifier_arch_name(model->arch));
    if (!out) out = config.checkpoint_path = default_out;
    if (model->arch == CLASSIFIER_VIT) vit_recipe_defaults(argc, argv, (long)epochs * ((train.count + batch - 1) / batch), &config);
    SafetensorsMetadata metadata[IMAGE_CLASSIFIER_MAX_METADATA];
    config.metadata = metadata;
    config.n_metadata = image_classifier_metadata(model, metadata);
    checkpoint_beside(out, ".best.safetensors", best_path, sizeof best_path);
    if (validation > 0) config.best_path = best_path;
    if (trainer_check(&config, train.count, &error)) goto agree;
    directory_of(out, out_directory, sizeof out_directory);
    if (talks && make_directories(out_directory, &error)) goto agree;
    set_up = 1;
agree:
    // Every rank comes here, set up or not: a rank that failed fails all, and is named.
    if (agree_on_setup(&job, set_up, &error)) goto done;
    status = train_and_report(model, &train, held_out.count ? &held_out : NULL, &test, &config, history, argc, argv,
                              data, &error);
done:
    if (status == 1 && talks) fail("train", error.message);
    distributed_finalize(&job);
    labelled_set_free(&all), labelled_set_free(&train), labelled_set_free(&held_out), labelled_set_free(&test);
    if (created) image_classifier_free(model);
    free(model), free(history);
    return status;
}

int classify_eval(int argc, char **argv) {
    const char *model_path = NULL, *data = NULL, *split = "test";
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "weights (safetensors state_dict or checkpoint of an mlp, lenet5, resnet, alexnet or vit; or a unet)"},
        {"--data", OPTION_STRING, &data, "directory of MNIST-format IDX files"},
        {"--split", OPTION_STRING, &split, "test | train"},
    };
    int parsed = options_parse(argc, argv, "groundup eval --model M --data DIR [--split test]", options, 3, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !data) return fail("eval", "--model and --data are required");
    Error error = {{0}};
    ImageClassifier *model = calloc(1, sizeof *model);
    LabelledSet set = {0};
    if (!model) return fail("eval", "out of memory");
    if (image_classifier_load(model, model_path, NULL, &error)) {
        free(model);
        return fail("eval", error.message);
    }
    int status = 1;
    if (classify_load_split(data, split, &set, &error)) goto done;
    if (image_classifier_check_input(model, set.shape[0], set.shape[1], set.shape[2], &error)) {
        error_prefix(&error, "%s", data);
        goto done;
    }
    Classifier classifier = image_classifier_view(model);
    Evaluation evaluation;
    if (classifier_evaluate(&classifier, &set, 500, &evaluation, &error)) goto done;
    print_evaluation(split, &evaluation);
    evaluation_free(&evaluation);
    status = 0;
done:
    if (status) fail("eval", error.message);
    labelled_set_free(&set);
    image_classifier_free(model);
    free(model);
    return status;
}

// The image as the model's input (channels, height, width), scaled to [0, 1].
static int image_input(const Image *image, float **input, Error *error) {
    long plane = (long)image->width * image->height;
    *input = malloc(sizeof(float) * (size_t)(plane * image->channels));
    if (!*input) return error_set(error, "out of memory");
    for (long i = 0; i < plane; i++)
        for (int c = 0; c < image->channels; c++)
            (*input)[c * plane + i] = image->pixels[i * image->channels + c] / (float)image->maxval;
    return 0;
}

int command_predict(int argc, char **argv) {
    if (segment_wants(argc, argv)) return segment_predict(argc, argv);  // a unet (cmd_segment.c)
    const char *model_path = NULL, *image_path = NULL;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "weights of an mlp, lenet5, resnet, alexnet, vit or unet (safetensors)"},
        {"--image", OPTION_STRING, &image_path, "a PGM of the model's input size (28x28 for MNIST), white digit on black"},
    };
    int parsed = options_parse(argc, argv, "groundup predict --model M --image FILE.pgm (a unet: --out MASK.pgm)", options, 2, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !image_path) return fail("predict", "--model and --image are required");
    Error error = {{0}};
    ImageClassifier *model = calloc(1, sizeof *model);
    Image image = {0};
    float *input = NULL, probs[64];
    if (!model) return fail("predict", "out of memory");
    if (image_classifier_load(model, model_path, NULL, &error)) {
        free(model);
        return fail("predict", error.message);
    }
    int status = 1;
    Classifier classifier = image_classifier_view(model);
    int K = classifier.n_classes, shape[3] = {0, 0, 0};
    if (image_read(&image, image_path, &error)) goto done;
    if (image_classifier_check_input(model, image.channels, image.height, image.width, &error)) {
        error_prefix(&error, "%s", image_path);
        goto done;
    }
    if (K > 64) {
        error_set(&error, "%s: %d classes (at most 64)", model_path, K);
        goto done;
    }
    shape[0] = image.channels, shape[1] = image.height, shape[2] = image.width;
    if (image_input(&image, &input, &error) || classifier_predict(&classifier, input, 1, 3, shape, probs, &error)) goto done;
    int best = 0;
    for (int k = 0; k < K; k++) {
        printf("class %d: %.4f\n", k, (double)probs[k]);
        if (probs[k] > probs[best]) best = k;
    }
    printf("predicted %d\n", best);
    status = 0;
done:
    if (status) fail("predict", error.message);
    free(input);
    image_free(&image);
    image_classifier_free(model);
    free(model);
    return status;
}
