// `groundup gan train|sample`: the generative adversarial networks of models/gan.h (mlp,
// dcgan) on MNIST. train writes the checkpoint (weights, variant and sizes) after every epoch
// and a PNG grid of the generator's images for the same 64 latent vectors after every epoch
// (<out>_epoch_<E>.png), so the grids show the training; sample writes a grid and, optionally,
// a sample file for sample-score.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/file.h"
#include "models/gan.h"
#include "tools/commands.h"
#include "tools/generative.h"
#include "tools/options.h"
#include "models/sample_score.h"
#include "tools/run.h"
#include "tools/run_record.h"

enum { GRID_IMAGES = 64 };

typedef struct GanProgress {
    int terminal, epochs;
    double last_update;
    const char *out;
    float fixed_z[GRID_IMAGES * 1024];  // the same latent vectors for every epoch's grid (J <= 1024)
    float images[GRID_IMAGES * GAN_PIXELS];
} GanProgress;

static void on_step(void *context, int epoch, int batch, int n_batches, float d_loss, float g_loss) {
    GanProgress *p = context;
    if (!p->terminal) return;
    double now = omp_get_wtime();
    if (now - p->last_update < 0.1 && batch + 1 != n_batches) return;
    p->last_update = now;
    fprintf(stderr, "\r\033[Kepoch %d/%d  batch %d/%d  D loss %.4f  G loss %.4f", epoch, p->epochs, batch + 1, n_batches,
            (double)d_loss, (double)g_loss);
}

static int on_epoch(void *context, const Gan *model, const GanEpoch *r, Error *error) {
    GanProgress *p = context;
    char suffix[32], path[1100];
    snprintf(suffix, sizeof suffix, "_epoch_%02d.png", r->epoch);
    checkpoint_beside(p->out, suffix, path, sizeof path);
    if (gan_generate_images(model, p->fixed_z, GRID_IMAGES, p->images, error) ||
        generative_write_grid(path, p->images, GRID_IMAGES, 8, error))
        return -1;
    fprintf(stderr, "%sepoch %d/%d: D loss %.4f, G loss %.4f, D(x) %.3f, D(G(z)) %.3f, %.2f s, %s\n",
            p->terminal ? "\r\033[K" : "", r->epoch, p->epochs, r->discriminator_loss, r->generator_loss,
            r->real_probability, r->fake_probability, r->seconds, path);
    return 0;
}

// The run record (tools/run_record.h). Its metric is the classifier-based sample score (the
// mean top-class confidence of scored samples, printed) with --classifier; without
// one, training measures no quality of the samples, and the record holds the last epoch's
// D(G(z)), the discriminator's mean probability that a generated image is real (0.5: it
// cannot tell them apart; below it while D wins, so higher is taken as better).
static int record_gan(const Gan *model, const char *classifier, int argc, char **argv, const char *data, int images,
                      double seconds, const char *out, const GanEpoch *last, int scored, Error *error) {
    int epochs = last->epoch;
    char name[32], command[1024], dataset[1100], figures[2][1100], suffix[32];
    const char *arch = gan_arch_name(model->config.arch);
    snprintf(name, sizeof name, "gan-%s", arch);
    snprintf(dataset, sizeof dataset, "%s: %d train images", data, images);
    checkpoint_beside(out, "_epoch_01.png", figures[0], sizeof figures[0]);
    snprintf(suffix, sizeof suffix, "_epoch_%02d.png", epochs);
    checkpoint_beside(out, suffix, figures[1], sizeof figures[1]);
    Parameters g = gan_generator_params(model), d = gan_discriminator_params(model);
    RunRecord record = {.name = name, .command = run_record_subcommand("gan", argc, argv, command, sizeof command),
                        .dataset = dataset, .parameters = parameters_count(&g) + parameters_count(&d),
                        .train_seconds = seconds, .metric = "D(G(z)), last epoch (0.5 at best)", .value = last->fake_probability,
                        .higher_is_better = 1, .checkpoint = out, .figures = {figures[0], epochs > 1 ? figures[1] : NULL},
                        .n_figures = 2};
    if (classifier) {
        float *images_out = malloc(sizeof(float) * scored * GAN_PIXELS);
        SampleScore score;
        int status = !images_out ? error_set(error, "out of memory") : 0;
        if (!status) status = gan_sample(model, scored, 7, images_out, error) ||
                              generative_score(classifier, images_out, scored, &score, error);
        free(images_out);
        if (status) return -1;
        printf("sample score of %d samples: mean confidence %.4f, class-histogram entropy %.4f bits\n", scored,
               score.mean_confidence, score.class_entropy_bits);
        record.metric = "sample score: mean classifier confidence", record.value = score.mean_confidence;
    }
    record_run("gan train", model->config.arch == GAN_MLP ? "gan" : "dcgan", &record);
    return 0;
}

static int gan_train_command(int argc, char **argv) {
    const char *data = NULL, *out = "out/gan.safetensors", *variant = "mlp", *classifier = NULL;
    int epochs = 0, batch = 64, train_images = 0, threads = 0, latent = 64, width = 0, scored = 10000;
    float lr = 2e-4f;
    long seed = 1;
    const Option options[] = {
        {"--data", OPTION_STRING, &data, "directory of MNIST-format IDX files"},
        {"--variant", OPTION_STRING, &variant, "mlp | dcgan"},
        {"--epochs", OPTION_INT, &epochs, "epochs (0: the variant's default, mlp 20, dcgan 10)"},
        {"--batch", OPTION_INT, &batch, "images per step"},
        {"--lr", OPTION_FLOAT, &lr, "learning rate of both Adams (beta1 0.5)"},
        {"--latent", OPTION_INT, &latent, "latent dimensions J (at most 1024)"},
        {"--width", OPTION_INT, &width, "width W (0: the variant's default, mlp 256, dcgan 32)"},
        {"--train-images", OPTION_INT, &train_images, "train on the first N training images (0: all)"},
        {"--seed", OPTION_LONG, &seed, "seed of the initialisation, the shuffles, the noise and the fixed grid latents"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--out", OPTION_STRING, &out, "checkpoint (safetensors: weights, variant, sizes); the epoch grids beside it"},
        {"--classifier", OPTION_STRING, &classifier, "at the end, score samples with this classifier (train --arch lenet5): the run record's metric"},
        {"--score-samples", OPTION_INT, &scored, "--classifier: samples scored"},
    };
    const char *usage = "groundup gan train --data DIR [--variant mlp|dcgan] [--epochs E] [--out FILE] [--classifier LENET5]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    Error error = {{0}};
    GanConfig config;
    if (!data) return fail("gan train", "--data DIR is required");
    if (gan_arch_parse(variant, &config.arch, &error)) return fail("gan train", error.message);
    if (epochs == 0) epochs = config.arch == GAN_MLP ? 20 : 10;
    if (width == 0) width = gan_default_config(config.arch).width;
    config.latent = latent, config.width = width;
    if (epochs < 1 || epochs > 1000 || batch < 1 || !(lr > 0.0f) || train_images < 0 || threads < 0)
        return fail("gan train", "--epochs 1..1000, --batch >= 1, --lr > 0; --train-images and --threads >= 0");
    if (latent < 1 || latent > 1024 || width < 1 || width > 4096) return fail("gan train", "--latent 1..1024 and --width 1..4096");
    if (generative_check_count("--score-samples", scored, &error)) return fail("gan train", error.message);
    if (threads > 0) omp_set_num_threads(threads);
    LabelledSet train = {0};
    Gan model = {0};
    GanEpoch *records = calloc((size_t)epochs, sizeof *records);
    GanProgress *progress = calloc(1, sizeof *progress);
    char directory[1100];
    int status = 1;
    if (!records || !progress) {
        free(records), free(progress);
        return fail("gan train", "out of memory");
    }
    Random rng;
    random_seed(&rng, (unsigned long long)seed);
    if (generative_load_images(data, "train", train_images, &train, &error) || gan_create(&model, &config, &rng, &error))
        goto done;
    random_fill_normal(&rng, progress->fixed_z, (long)GRID_IMAGES * latent, 0.0f, 1.0f);
    progress->terminal = isatty(fileno(stderr)), progress->epochs = epochs, progress->out = out;
    directory_of(out, directory, sizeof directory);
    if (make_directories(directory, &error)) goto done;
    Parameters g = gan_generator_params(&model), d = gan_discriminator_params(&model);
    fprintf(stderr, "gan %s latent %d width %d: generator %ld, discriminator %ld parameters, %d training images, %d threads\n",
            gan_arch_name(config.arch), latent, width, parameters_count(&g), parameters_count(&d), train.count,
            omp_get_max_threads());
    GanTrainConfig train_config = {epochs, batch, lr, (unsigned long long)seed + 1, out};
    GanCallbacks callbacks = {progress, on_step, on_epoch};
    double start = omp_get_wtime();
    if (gan_train(&model, &train, &train_config, &callbacks, records, &error)) goto done;
    for (int e = 0; e < epochs; e++)
        printf("epoch %d: D loss %.4f, G loss %.4f, D(x) %.3f, D(G(z)) %.3f, %.2f s\n", records[e].epoch,
               records[e].discriminator_loss, records[e].generator_loss, records[e].real_probability,
               records[e].fake_probability, records[e].seconds);
    double seconds = omp_get_wtime() - start;
    printf("training %.1f s\ncheckpoint %s\n", seconds, out);
    if (record_gan(&model, classifier, argc, argv, data, train.count, seconds, out, &records[epochs - 1], scored, &error)) goto done;
    status = 0;
done:
    if (status) fail("gan train", error.message);
    labelled_set_free(&train);
    gan_free(&model);
    free(records), free(progress);
    return status;
}

static int gan_sample_command(int argc, char **argv) {
    const char *model_path = NULL, *out = "out/gan_samples.png", *samples = NULL;
    int count = 64, latent = 0;
    long seed = 1;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a gan checkpoint (groundup gan train)"},
        {"--count", OPTION_INT, &count, "samples to draw"},
        {"--latent", OPTION_INT, &latent, "the latent size the model must have (0: any)"},
        {"--seed", OPTION_LONG, &seed, "seed of z ~ N(0, I)"},
        {"--out", OPTION_STRING, &out, "the samples as a PNG grid"},
        {"--samples", OPTION_STRING, &samples, "also write them as a sample file for groundup sample-score"},
    };
    const char *usage = "groundup gan sample --model M [--count 64] [--out FILE.png] [--samples FILE.safetensors]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path) return fail("gan sample", "--model is required");
    Error error = {{0}};
    if (generative_check_count("--count", count, &error)) return fail("gan sample", error.message);
    if (latent < 0) return fail("gan sample", "--latent must be >= 0");
    Gan model;
    if (gan_load(&model, model_path, &error)) return fail("gan sample", error.message);
    float *images = NULL;
    int status = 0;
    if (latent && latent != model.config.latent)
        status = error_set(&error, "%s: a gan with latent size %d, not %d", model_path, model.config.latent, latent);
    else if (!(images = malloc(sizeof(float) * (size_t)count * GAN_PIXELS)))
        status = error_set(&error, "out of memory");
    if (!status) status = gan_sample(&model, count, (unsigned long long)seed, images, &error) ||
                          generative_write_outputs(out, samples, images, count, "gan", &error);
    if (status) fail("gan sample", error.message);
    free(images);
    gan_free(&model);
    return status ? 1 : 0;
}

int command_gan(int argc, char **argv) {
    static const SubCommand subcommands[] = {{"train", gan_train_command}, {"sample", gan_sample_command}};
    return generative_dispatch(argc, argv, "gan", subcommands, (int)(sizeof subcommands / sizeof subcommands[0]),
                               "train or sample");
}
