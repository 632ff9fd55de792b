// `groundup vae train|eval|sample`: the variational auto-encoder of models/vae.h on MNIST.
// train writes the checkpoint (weights and arch), a sample grid, reconstructions and, for a
// 2-dimensional latent, the test images' latent means coloured by digit (SVG) and the decoded
// latent plane (PNG); eval prints the ELBO, its rate and distortion, and the importance-weighted
// log-likelihood; sample writes a grid and, optionally, a sample file for sample-score.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/file.h"
#include "foundations/plot.h"
#include "models/vae.h"
#include "tools/commands.h"
#include "tools/generative.h"
#include "tools/options.h"
#include "tools/run.h"
#include "tools/run_record.h"

enum { LATENT_POINTS = 5000, MANIFOLD_SIDE = 16, GRID_IMAGES = 64 };

static void on_epoch(void *context, const EpochRecord *r) {
    TrainingProgress *progress = context;
    fprintf(stderr, "%sepoch %d/%d: train -ELBO %.3f nats, %.2f s\n", progress->terminal ? "\r\033[K" : "", r->epoch,
            progress->epochs, r->train_loss, r->seconds);
}

static void print_evaluation(const char *split, const VaeEvaluation *e) {
    printf("%s ELBO %.3f nats (distortion %.3f + rate %.3f) over %d images\n", split, e->elbo, e->distortion, e->rate,
           e->count);
    if (e->importance_samples)
        printf("%s log p(x) >= %.3f nats (importance-weighted, k = %d)\n", split, e->log_likelihood, e->importance_samples);
}

// The latent means of the first test images, a series per digit (a scatter chart), as an SVG.
static int write_latent_svg(const Vae *model, const LabelledSet *test, const char *path, Error *error) {
    int n = test->count < LATENT_POINTS ? test->count : LATENT_POINTS;
    float *means = malloc(sizeof(float) * (size_t)n * 2), *xy = malloc(sizeof(float) * (size_t)n * 2);
    int status = (!means || !xy) ? error_set(error, "out of memory") : vae_encode_means(model, test->inputs, n, means, NULL, error);
    PlotSeries series[10];
    char names[10][24];
    int filled = 0;
    for (int digit = 0; digit < 10 && !status; digit++) {  // each digit's points, contiguous in xy
        int start = filled;
        for (int i = 0; i < n; i++)
            if (test->labels[i] == digit) xy[filled] = means[2 * i], xy[n + filled] = means[2 * i + 1], filled++;
        snprintf(names[digit], sizeof names[digit], "digit %d", digit);
        series[digit] = (PlotSeries){names[digit], xy + start, xy + n + start, filled - start};
    }
    PlotChart chart = {.title = "VAE latent means of test images", .x_label = "z1 (mean)", .y_label = "z2 (mean)",
                       .series = series, .n_series = 10, .scatter = 1};
    if (!status) status = plot_write_svg(path, &chart, 1, 1, error);
    free(means), free(xy);
    return status;
}

// The decoded plane z ∈ [−2.5, 2.5]² on a MANIFOLD_SIDE² lattice, as a PNG grid.
static int write_manifold(const Vae *model, const char *path, Error *error) {
    int side = MANIFOLD_SIDE, n = side * side;
    float z[2 * MANIFOLD_SIDE * MANIFOLD_SIDE], *images = malloc(sizeof(float) * (size_t)n * (size_t)model->config.input_size);
    if (!images) return error_set(error, "out of memory");
    for (int r = 0; r < side; r++)
        for (int c = 0; c < side; c++)
            z[2 * (r * side + c)] = -2.5f + 5.0f * c / (side - 1), z[2 * (r * side + c) + 1] = 2.5f - 5.0f * r / (side - 1);
    int status = vae_decode_means(model, z, n, images, error) || generative_write_grid(path, images, n, side, error);
    free(images);
    return status ? -1 : 0;
}

// Samples, reconstructions (each test image above its reconstruction) and the 2-D pictures.
static int write_pictures(const Vae *model, const LabelledSet *test, const char *out, Error *error) {
    char path[1100];
    // Whole rows of 8 only: the pairs below are laid out in rows of 8 (fewer than 8 images: none).
    int n = (GRID_IMAGES / 2 < test->count ? GRID_IMAGES / 2 : test->count) / 8 * 8, D = model->config.input_size;
    float *images = malloc(sizeof(float) * GRID_IMAGES * (size_t)D), *means = malloc(sizeof(float) * (size_t)(n + 1) * (size_t)model->config.latent);
    float *pairs = malloc(sizeof(float) * 2 * (size_t)(n + 1) * (size_t)D);
    int status = (!images || !means || !pairs) ? error_set(error, "out of memory") : 0;
    checkpoint_beside(out, "_samples.png", path, sizeof path);
    if (!status) status = vae_sample(model, GRID_IMAGES, 1, images, error) || generative_write_grid(path, images, GRID_IMAGES, 8, error);
    if (!status) printf("samples %s\n", path);
    if (!status && n > 0) status = vae_encode_means(model, test->inputs, n, means, images, error);
    for (int i = 0; i < n && !status; i++) {  // rows of 8: originals, then their reconstructions
        int row = i / 8, column = i % 8;
        memcpy(pairs + ((long)(2 * row) * 8 + column) * D, test->inputs + (long)i * D, sizeof(float) * (size_t)D);
        memcpy(pairs + ((long)(2 * row + 1) * 8 + column) * D, images + (long)i * D, sizeof(float) * (size_t)D);
    }
    checkpoint_beside(out, "_reconstructions.png", path, sizeof path);
    if (!status && n > 0) status = generative_write_grid(path, pairs, 2 * n, 8, error);
    if (!status && n > 0) printf("reconstructions %s\n", path);
    if (!status && model->config.latent == 2) {
        checkpoint_beside(out, "_latent.svg", path, sizeof path);
        status = write_latent_svg(model, test, path, error);
        if (!status) printf("latent %s\n", path);
        checkpoint_beside(out, "_manifold.png", path, sizeof path);
        if (!status) status = write_manifold(model, path, error);
        if (!status) printf("manifold %s\n", path);
    }
    free(images), free(means), free(pairs);
    return status;
}

static int vae_train_command(int argc, char **argv) {
    const char *data = NULL, *out = "out/vae.safetensors";
    VaeConfig config = vae_default_config();
    int epochs = 10, batch = 100, train_images = 0, test_images = 0, threads = 0, k = 0;
    float lr = 1e-3f;
    long seed = 1;
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "directory of MNIST-format IDX files"},
        {"--epochs", OPTION_INT, &epochs, "epochs"},
        {"--batch", OPTION_INT, &batch, "images per step"},
        {"--lr", OPTION_FLOAT, &lr, "Adam's learning rate"},
        {"--latent", OPTION_INT, &config.latent, "latent dimensions J (2 draws the latent space)"},
        {"--hidden", OPTION_INT, &config.hidden, "hidden units H of the encoder and the decoder"},
        {"--train-images", OPTION_INT, &train_images, "train on the first N training images (0: all)"},
        {"--test-images", OPTION_INT, &test_images, "evaluate on the first N test images (0: all)"},
        {"--importance-samples", OPTION_INT, &k, "also estimate the test log p(x) with k importance samples (0: no)"},
        {"--seed", OPTION_LONG, &seed, "seed of the initialisation, the shuffles and the noise"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--out", OPTION_STRING, &out, "checkpoint (safetensors: weights, arch); the pictures beside it"},
    };
    const char *usage = "groundup vae train --data DIR [--epochs 10] [--latent 20] [--hidden 400] [--out FILE]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!data) return fail("vae train", "--data DIR is required");
    if (epochs < 1 || epochs > 1000 || batch < 1 || !(lr > 0.0f) || train_images < 0 || test_images < 0 || threads < 0 || k < 0)
        return fail("vae train", "--epochs 1..1000, --batch >= 1, --lr > 0; --train-images, --test-images, --importance-samples, --threads >= 0");
    if (config.latent < 1 || config.hidden < 1 || config.latent > 4096 || config.hidden > 65536)
        return fail("vae train", "--latent 1..4096 and --hidden 1..65536");
    if (threads > 0) omp_set_num_threads(threads);
    Error error = {{0}};
    LabelledSet train = {0}, test = {0};
    Vae model = {0};
    EpochRecord *records = calloc((size_t)epochs, sizeof *records);
    char directory[1100];
    int status = 1;
    if (!records) return fail("vae train", "out of memory");
    if (generative_load_images(data, "train", train_images, &train, &error) ||
        generative_load_images(data, "test", test_images, &test, &error))
        goto done;
    config.input_size = train.sample_size;
    Random init;
    random_seed(&init, (unsigned long long)seed);
    if (vae_create(&model, &config, &init, &error)) goto done;
    directory_of(out, directory, sizeof directory);
    if (make_directories(directory, &error)) goto done;
    fprintf(stderr, "vae %d-%d-%d: %ld parameters, %d training / %d test images, %d threads\n", config.input_size,
            config.hidden, config.latent, parameters_count(&model.params), train.count, test.count, omp_get_max_threads());
    VaeTrainConfig train_config = {epochs, batch, lr, (unsigned long long)seed + 1, out};
    TrainingProgress progress = {isatty(fileno(stderr)), epochs, 0.0};
    TrainerCallbacks callbacks = {&progress, training_progress_step, on_epoch};
    double start = omp_get_wtime();
    if (vae_train(&model, &train, &train_config, &callbacks, records, &error)) goto done;
    double seconds = omp_get_wtime() - start;
    for (int e = 0; e < epochs; e++)
        printf("epoch %d: train -ELBO %.3f nats, %.2f s\n", records[e].epoch, records[e].train_loss, records[e].seconds);
    printf("training %.1f s\n", seconds);
    VaeEvaluation evaluation;
    if (vae_evaluate(&model, test.inputs, test.count, test.sample_size, k, 2, &evaluation, &error)) goto done;
    print_evaluation("test", &evaluation);
    printf("checkpoint %s\n", out);
    if (write_pictures(&model, &test, out, &error)) goto done;
    char name[32], command[1024], dataset[1200], figures[4][1100];
    const char *suffixes[4] = {"_samples.png", "_reconstructions.png", "_latent.svg", "_manifold.png"};
    for (int i = 0; i < 4; i++) checkpoint_beside(out, suffixes[i], figures[i], sizeof figures[i]);
    snprintf(name, sizeof name, "vae-latent%d", config.latent);
    snprintf(dataset, sizeof dataset, "%s: %d train, %d test images", data, train.count, test.count);
    RunRecord record = {.name = name, .command = run_record_subcommand("vae", argc, argv, command, sizeof command),
                        .dataset = dataset, .parameters = parameters_count(&model.params), .train_seconds = seconds,
                        .metric = "test ELBO (nats)", .value = evaluation.elbo, .higher_is_better = 1, .checkpoint = out,
                        .figures = {figures[0], test.count >= 8 ? figures[1] : NULL, config.latent == 2 ? figures[2] : NULL,
                                    config.latent == 2 ? figures[3] : NULL}, .n_figures = 4};
    record_run("vae train", "vae", &record);
    status = 0;
done:
    if (status) fail("vae train", error.message);
    labelled_set_free(&train), labelled_set_free(&test);
    vae_free(&model);
    free(records);
    return status;
}

// The model, checked against --latent when it was given (0: any).
static int load_checked(const char *path, int latent, Vae *model, Error *error) {
    if (vae_load(model, path, error)) return -1;
    if (latent == 0 || latent == model->config.latent) return 0;
    error_set(error, "%s: a vae with latent size %d, not %d", path, model->config.latent, latent);
    vae_free(model);
    return -1;
}

static int vae_eval_command(int argc, char **argv) {
    const char *model_path = NULL, *data = NULL, *split = "test";
    int images = 0, k = 100, latent = 0;
    long seed = 2;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a vae checkpoint (groundup vae train)"},
        {"--data", OPTION_STRING, &data, "directory of MNIST-format IDX files"},
        {"--split", OPTION_STRING, &split, "test | train"},
        {"--images", OPTION_INT, &images, "the first N images of the split (0: all)"},
        {"--importance-samples", OPTION_INT, &k, "k of the importance-weighted log p(x) (0: the ELBO only)"},
        {"--latent", OPTION_INT, &latent, "the latent size the model must have (0: any)"},
        {"--seed", OPTION_LONG, &seed, "seed of the noise"},
    };
    const char *usage = "groundup vae eval --model M --data DIR [--importance-samples 100] [--images N]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !data) return fail("vae eval", "--model and --data are required");
    if (images < 0 || k < 0 || k > 100000 || latent < 0) return fail("vae eval", "--images, --latent >= 0 and --importance-samples 0..100000");
    Error error = {{0}};
    Vae model;
    LabelledSet set = {0};
    if (load_checked(model_path, latent, &model, &error)) return fail("vae eval", error.message);
    VaeEvaluation evaluation;
    int status = generative_load_images(data, split, images, &set, &error) ||
                 vae_evaluate(&model, set.inputs, set.count, set.sample_size, k, (unsigned long long)seed, &evaluation, &error);
    if (!status) print_evaluation(split, &evaluation);
    else fail("vae eval", error.message);
    labelled_set_free(&set);
    vae_free(&model);
    return status ? 1 : 0;
}

static int vae_sample_command(int argc, char **argv) {
    const char *model_path = NULL, *out = "out/vae_samples.png", *samples = NULL;
    int count = 64, latent = 0;
    long seed = 1;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a vae checkpoint"},
        {"--count", OPTION_INT, &count, "samples to draw"},
        {"--latent", OPTION_INT, &latent, "the latent size the model must have (0: any)"},
        {"--seed", OPTION_LONG, &seed, "seed of z ~ N(0, I)"},
        {"--out", OPTION_STRING, &out, "the samples as a PNG grid"},
        {"--samples", OPTION_STRING, &samples, "also write them as a sample file for groundup sample-score"},
    };
    const char *usage = "groundup vae sample --model M [--count 64] [--out FILE.png] [--samples FILE.safetensors]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path) return fail("vae sample", "--model is required");
    Error error = {{0}};
    if (generative_check_count("--count", count, &error)) return fail("vae sample", error.message);
    if (latent < 0) return fail("vae sample", "--latent must be >= 0");
    Vae model;
    if (load_checked(model_path, latent, &model, &error)) return fail("vae sample", error.message);
    float *images = malloc(sizeof(float) * (size_t)count * (size_t)model.config.input_size);
    int status = !images ? error_set(&error, "out of memory") : 0;
    if (!status && model.config.input_size != 28 * 28)
        status = error_set(&error, "%s: a vae of %d pixels, not 28x28", model_path, model.config.input_size);
    if (!status) status = vae_sample(&model, count, (unsigned long long)seed, images, &error) ||
                          generative_write_outputs(out, samples, images, count, "vae", &error);
    if (status) fail("vae sample", error.message);
    free(images);
    vae_free(&model);
    return status ? 1 : 0;
}

int command_vae(int argc, char **argv) {
    static const SubCommand subcommands[] = {{"train", vae_train_command}, {"eval", vae_eval_command}, {"sample", vae_sample_command}};
    return generative_dispatch(argc, argv, "vae", subcommands, (int)(sizeof subcommands / sizeof subcommands[0]),
                               "train, eval or sample");
}
