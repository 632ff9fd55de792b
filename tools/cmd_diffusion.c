// `groundup diffusion train|sample`: the denoising diffusion model of models/ddpm.h on MNIST.
// train fits the noise predictor for --steps steps or --time seconds, writes the checkpoint,
// a grid of samples and the denoising chain of one sample x_T -> x_0 (PNGs beside the
// checkpoint), scores the samples and real test images with a LeNet-5 (--classifier) and
// leaves a run record; sample draws with the ancestral (ddpm) or DDIM sampler, prints the
// sampling time and, with --classifier, the same scores.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/clock.h"
#include "foundations/file.h"
#include "models/ddpm.h"
#include "models/sample_score.h"
#include "tools/commands.h"
#include "tools/generative.h"
#include "tools/options.h"
#include "tools/run.h"
#include "tools/run_record.h"

enum { CHAIN_FRAMES = 11, MNIST_SIDE = 28 };

// What both sub-commands sample with, from the options.
typedef struct SamplingOptions {
    const char *sampler;
    int steps, steps_given, count;
    float eta;
    long seed;
} SamplingOptions;

// The options into a DdpmSampling for a model of T steps. Errors: an unknown sampler, steps
// outside 1..T for ddim, steps other than T for ddpm, a negative η, a bad count.
static int sampling_from_options(const SamplingOptions *o, int T, DdpmSampling *sampling, Error *error) {
    if (ddpm_sampler_parse(o->sampler, &sampling->sampler, error)) return -1;
    sampling->steps = o->steps_given ? o->steps : sampling->sampler == DDPM_SAMPLER_ANCESTRAL ? T : o->steps < T ? o->steps : T;
    sampling->eta = o->eta, sampling->clip = 1;
    if (sampling->steps < 1 || sampling->steps > T)
        return error_set(error, "--sampling-steps %d: from 1 to the model's T = %d", sampling->steps, T);
    if (sampling->sampler == DDPM_SAMPLER_ANCESTRAL && sampling->steps != T)
        return error_set(error, "--sampling-steps %d: the ddpm sampler takes all T = %d steps (ddim takes fewer)",
                         sampling->steps, T);
    if (!(o->eta >= 0.0f) || !isfinite(o->eta)) return error_set(error, "--eta %g: a number >= 0", (double)o->eta);
    return generative_check_count("--count", o->count, error);
}

static const char *sampling_name(const DdpmSampling *s, char *out, size_t size) {
    if (s->sampler == DDPM_SAMPLER_ANCESTRAL) snprintf(out, size, "ddpm, %d steps", s->steps);
    else snprintf(out, size, "ddim, %d steps, eta %g", s->steps, (double)s->eta);
    return out;
}

// count samples, their grid at grid_path and the chain at chain_path (NULL: none); prints the
// wall-clock and CPU time. *images is malloc'd.
static int draw_samples(const Ddpm *model, const DdpmSampling *sampling, int count, unsigned long long seed,
                        const char *grid_path, const char *chain_path, float **images, Error *error) {
    float chain[CHAIN_FRAMES * MNIST_SIDE * MNIST_SIDE];
    if (!(*images = malloc(sizeof(float) * (size_t)count * MNIST_SIDE * MNIST_SIDE))) return error_set(error, "out of memory");
    double start = clock_seconds(), cpu = clock_cpu_seconds();
    if (ddpm_sample(model, sampling, count, seed, *images, chain_path ? chain : NULL, CHAIN_FRAMES, error)) return -1;
    double seconds = clock_seconds() - start;
    char name[64];
    printf("sampling (%s): %d images in %.2f s (%.4f s per image), %.2f CPU s\n", sampling_name(sampling, name, sizeof name),
           count, seconds, seconds / count, clock_cpu_seconds() - cpu);
    int columns = count < 8 ? count : count < 100 ? 8 : 16, shown = count < 256 ? count : 256;
    if (generative_write_grid(grid_path, *images, shown, columns, error)) return -1;
    printf("samples %s\n", grid_path);
    if (!chain_path) return 0;
    if (generative_write_grid(chain_path, chain, CHAIN_FRAMES, CHAIN_FRAMES, error)) return -1;
    printf("chain %s (x_T to x_0, %d frames)\n", chain_path, CHAIN_FRAMES);
    return 0;
}

// The LeNet-5 score of the samples and of the first n real test images of data: *samples_score out.
static int score(const char *classifier_path, const char *data, const float *images, int n, SampleScore *samples_score,
                 Error *error) {
    if (generative_score(classifier_path, images, n, samples_score, error)) return -1;
    generative_print_score("samples", samples_score);
    LabelledSet test = {0};
    SampleScore real;
    int status = generative_load_images(data, "test", n, &test, error) ||
                 generative_score(classifier_path, test.inputs, test.count, &real, error);
    if (!status) generative_print_score("real test images", &real);
    labelled_set_free(&test);
    return status ? -1 : 0;
}

typedef struct Progress {
    int terminal;
    double last_update, loss_sum;
    int loss_count;
} Progress;

static void on_step(void *context, int step, int steps, float loss, double seconds) {
    Progress *p = context;
    p->loss_sum += loss, p->loss_count++;
    if (step % 100 != 0 && !(p->terminal && seconds - p->last_update >= 0.2)) return;
    p->last_update = seconds;
    if (step % 100 == 0) {
        fprintf(stderr, "%sstep %d/%d: loss %.4f (mean of the last %d), %.1f s\n", p->terminal ? "\r\033[K" : "", step,
                steps, p->loss_sum / p->loss_count, p->loss_count, seconds);
        p->loss_sum = 0.0, p->loss_count = 0;
    } else {
        fprintf(stderr, "\r\033[Kstep %d/%d  loss %.4f  %.1f s", step, steps, (double)loss, seconds);
    }
}

// The run record: the sample score when there is one, else the final training loss.
static void write_record(int argc, char **argv, const Ddpm *model, const DdpmTrainResult *result, const char *out,
                         const SampleScore *scored, const char *figures[2]) {
    char command[1024];
    int used = snprintf(command, sizeof command, "groundup diffusion");  // argv[0] is "train"
    for (int i = 0; i < argc && used < (int)sizeof command; i++) used += snprintf(command + used, sizeof command - (size_t)used, " %s", argv[i]);
    RunRecord record = {.name = "ddpm", .model = "DDPM", .paper = "Ho, Jain & Abbeel", .year = 2020, .command = command,
                        .dataset = "MNIST (bundled subset)", .parameters = parameters_count(&model->unet.params),
                        .train_seconds = result->seconds, .checkpoint = out, .figures = {figures[0], figures[1]},
                        .n_figures = 2};
    if (scored) {
        record.metric = "LeNet-5 mean confidence of samples";
        record.value = scored->mean_confidence, record.higher_is_better = 1;
    } else {
        record.metric = "final training loss L_simple";
        record.value = result->last_loss, record.higher_is_better = 0;
    }
    Error error = {{0}};
    if (run_record_write(&record, &error)) fprintf(stderr, "groundup: diffusion train: run record: %s\n", error.message);
}

typedef struct DiffusionTrainOptions {
    const char *data, *out, *classifier;
    int train_images, threads;
    DdpmConfig config;
    DdpmTrainConfig train;
    SamplingOptions sampling;
} DiffusionTrainOptions;

// Everything after the options are checked: load, train, save, sample, score, record.
static int diffusion_train_run(int argc, char **argv, DiffusionTrainOptions *o, const DdpmSampling *sampling, Error *error) {
    LabelledSet train = {0};
    Ddpm model = {0};
    float *images = NULL;
    char directory[1100], grid[1100], chain[1100];
    int status = -1;
    Random init;
    random_seed(&init, (unsigned long long)o->sampling.seed);
    if (generative_load_images(o->data, "train", o->train_images, &train, error) || ddpm_create(&model, &o->config, &init, error))
        goto done;
    directory_of(o->out, directory, sizeof directory);
    if (make_directories(directory, error)) goto done;
    fprintf(stderr, "ddpm: unet width %d, %d levels, time embedding %d; %ld parameters; T = %d, beta %g..%g; %d training images, %d threads\n",
            o->config.unet.width, o->config.unet.levels, o->config.unet.time_channels, parameters_count(&model.unet.params),
            o->config.steps, (double)o->config.beta_start, (double)o->config.beta_end, train.count, omp_get_max_threads());
    Progress progress = {isatty(fileno(stderr)), 0.0, 0.0, 0};
    DdpmTrainResult result;
    double cpu = clock_cpu_seconds();
    if (ddpm_train(&model, train.inputs, train.count, &o->train, on_step, &progress, &result, error)) goto done;
    printf("training: %d steps of %d images in %.1f s (%.1f CPU s); loss %.4f over the first steps, %.4f over the last\n",
           result.steps, o->train.batch_size, result.seconds, clock_cpu_seconds() - cpu, result.first_loss, result.last_loss);
    if (ddpm_save(&model, o->out, error)) goto done;
    printf("checkpoint %s\n", o->out);
    checkpoint_beside(o->out, "_samples.png", grid, sizeof grid);
    checkpoint_beside(o->out, "_chain.png", chain, sizeof chain);
    if (draw_samples(&model, sampling, o->sampling.count, (unsigned long long)o->sampling.seed + 1, grid, chain, &images, error))
        goto done;
    SampleScore scored;
    if (o->classifier && score(o->classifier, o->data, images, o->sampling.count, &scored, error)) goto done;
    const char *figures[2] = {grid, chain};
    write_record(argc, argv, &model, &result, o->out, o->classifier ? &scored : NULL, figures);
    status = 0;
done:
    labelled_set_free(&train);
    ddpm_free(&model);
    free(images);
    return status;
}

static int diffusion_train(int argc, char **argv) {
    DiffusionTrainOptions o = {.data = "data/mnist", .out = "out/ddpm.safetensors", .config = ddpm_default_config(),
                          .train = {3000, 0.0, 64, 2e-3f, 1.0f, 0},
                          .sampling = {"ddim", 100, 0, 64, 0.0f, 1}};
    double seconds = 0.0;
    const Option options[] = {
        {"--data", OPTION_STRING, &o.data, "directory of MNIST-format IDX files"},
        {"--steps", OPTION_INT, &o.train.steps, "optimizer steps (the most)"},
        {"--time", OPTION_DOUBLE, &seconds, "stop training after this many seconds (0: no limit)"},
        {"--batch", OPTION_INT, &o.train.batch_size, "images per step"},
        {"--lr", OPTION_FLOAT, &o.train.lr, "Adam's learning rate"},
        {"--clip", OPTION_FLOAT, &o.train.clip, "gradient norm limit (0: none)"},
        {"--width", OPTION_INT, &o.config.unet.width, "U-Net width W (channels of its first level)"},
        {"--levels", OPTION_INT, &o.config.unet.levels, "U-Net levels (28x28 takes 1 or 2)"},
        {"--time-channels", OPTION_INT, &o.config.unet.time_channels, "time embedding width E (even)"},
        {"--diffusion-steps", OPTION_INT, &o.config.steps, "T, the forward process's steps"},
        {"--train-images", OPTION_INT, &o.train_images, "train on the first N training images (0: all)"},
        {"--seed", OPTION_LONG, &o.sampling.seed, "seed of the initialisation, the batches, the noise and the samples"},
        {"--threads", OPTION_INT, &o.threads, "OpenMP threads (0: OpenMP's default)"},
        {"--out", OPTION_STRING, &o.out, "checkpoint (safetensors); the sample grid and chain PNGs beside it"},
        {"--sampler", OPTION_STRING, &o.sampling.sampler, "ddpm (ancestral, all T steps) | ddim"},
        {"--sampling-steps", OPTION_INT, &o.sampling.steps, "DDIM's steps S (1..T; not given: 100 or T if smaller)"},
        {"--eta", OPTION_FLOAT, &o.sampling.eta, "DDIM's eta (0: deterministic, 1: ancestral-like)"},
        {"--count", OPTION_INT, &o.sampling.count, "samples drawn, scored and shown (the grid shows up to 256)"},
        {"--classifier", OPTION_STRING, &o.classifier, "a LeNet-5 (groundup train --arch lenet5): score samples and real test images"},
    };
    const char *usage = "groundup diffusion train [--data data/mnist] [--steps 3000] [--time S] [--classifier LENET5] [--out FILE]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    o.train.seconds = seconds, o.train.seed = (unsigned long long)o.sampling.seed + 2;
    o.sampling.steps_given = option_given(argc, argv, "--sampling-steps");
    if (o.train.steps < 1 || o.train.batch_size < 1 || o.train.batch_size > 4096 || !(o.train.lr > 0.0f) ||
        !(o.train.clip >= 0.0f) || !(seconds >= 0.0) || o.train_images < 0 || o.threads < 0)
        return fail("diffusion train", "--steps >= 1, --batch 1..4096, --lr > 0; --clip, --time, --train-images, --threads >= 0");
    if (o.config.unet.width < 1 || o.config.unet.width > 1024 || o.config.unet.time_channels < 2 ||
        o.config.unet.time_channels > 4096 || o.config.unet.time_channels % 2)
        return fail("diffusion train", "--width 1..1024, --time-channels even, 2..4096");
    if (o.config.steps < 1 || o.config.steps > DDPM_MAX_STEPS) return fail("diffusion train", "--diffusion-steps 1..10000");
    Error error = {{0}};
    DdpmSampling sampling;
    if (sampling_from_options(&o.sampling, o.config.steps, &sampling, &error)) return fail("diffusion train", error.message);
    if (o.classifier && access(o.classifier, R_OK) != 0)  // before ten minutes of training, not after
        return fail("diffusion train", "--classifier: cannot read the file");
    if (o.threads > 0) omp_set_num_threads(o.threads);
    if (diffusion_train_run(argc, argv, &o, &sampling, &error)) return fail("diffusion train", error.message);
    return 0;
}

static int diffusion_sample(int argc, char **argv) {
    const char *model_path = NULL, *out = "out/ddpm_samples.png", *chain = NULL, *samples = NULL, *classifier = NULL;
    const char *data = "data/mnist";
    SamplingOptions so = {"ddim", 100, 0, 64, 0.0f, 1};
    int threads = 0;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a ddpm checkpoint (groundup diffusion train)"},
        {"--sampler", OPTION_STRING, &so.sampler, "ddpm (ancestral, all T steps) | ddim"},
        {"--sampling-steps", OPTION_INT, &so.steps, "DDIM's steps S (1..T; not given: 100 or T if smaller)"},
        {"--eta", OPTION_FLOAT, &so.eta, "DDIM's eta (0: deterministic)"},
        {"--count", OPTION_INT, &so.count, "samples to draw"},
        {"--seed", OPTION_LONG, &so.seed, "seed of x_T and the sampling noise"},
        {"--out", OPTION_STRING, &out, "the samples as a PNG grid (up to 256)"},
        {"--chain", OPTION_STRING, &chain, "also the first sample's denoising chain x_T -> x_0 as a PNG"},
        {"--samples", OPTION_STRING, &samples, "also write them as a sample file for groundup sample-score"},
        {"--classifier", OPTION_STRING, &classifier, "a LeNet-5: score the samples and as many real test images"},
        {"--data", OPTION_STRING, &data, "--classifier's real images: a directory of MNIST-format IDX files"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
    };
    const char *usage = "groundup diffusion sample --model M [--sampler ddpm|ddim] [--sampling-steps 100] [--eta 0] [--count 64]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path) return fail("diffusion sample", "--model is required");
    if (threads < 0) return fail("diffusion sample", "--threads must be >= 0");
    if (threads > 0) omp_set_num_threads(threads);
    so.steps_given = option_given(argc, argv, "--sampling-steps");
    Error error = {{0}};
    Ddpm model;
    if (ddpm_load(&model, model_path, &error)) return fail("diffusion sample", error.message);
    DdpmSampling sampling;
    float *images = NULL;
    int status = sampling_from_options(&so, model.config.steps, &sampling, &error);
    if (!status && (model.config.height != MNIST_SIDE || model.config.width != MNIST_SIDE || model.config.unet.in_channels != 1))
        status = error_set(&error, "%s: a model of %dx%d images, not 28x28 MNIST", model_path, model.config.width, model.config.height);
    if (!status) status = draw_samples(&model, &sampling, so.count, (unsigned long long)so.seed, out, chain, &images, &error);
    if (!status && samples) status = generative_write_samples(samples, images, so.count, "ddpm", &error);
    SampleScore scored;
    if (!status && classifier) status = score(classifier, data, images, so.count, &scored, &error);
    if (status) fail("diffusion sample", error.message);
    free(images);
    ddpm_free(&model);
    return status ? 1 : 0;
}

int command_diffusion(int argc, char **argv) {
    static const SubCommand subcommands[] = {{"train", diffusion_train}, {"sample", diffusion_sample}};
    return generative_dispatch(argc, argv, "diffusion", subcommands, (int)(sizeof subcommands / sizeof subcommands[0]),
                               "train or sample");
}
