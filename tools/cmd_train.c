// groundup train: trains a model stage (bigram, mlp, gpt2) on a text file or an llm.c token
// file, shows progress, writes the checkpoint and the loss-curve SVG, prints samples.
// Parses arguments, calls gpt/, prints; the loop itself is gpt/train.c.
//
// Ctrl-C: the first one asks the loop to stop after the current step, save and return (exit
// status 130); a second one kills the program as usual.
//
// Data parallel: `mpirun -np N groundup train ...` trains one run on N processes (gpt/train.h,
// foundations/distributed.h); rank 0 alone prints, evaluates and writes files, the other
// ranks exit with the same status. A rank whose setup fails (a missing data file on its node)
// fails every rank, and rank 0 names it.
#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/distributed.h"
#include "foundations/file.h"
#include "gpt/checkpoint.h"
#include "gpt/data.h"
#include "gpt/defaults.h"
#include "gpt/eval.h"
#include "gpt/model.h"
#include "gpt/sample.h"
#include "gpt/train.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run.h"

static int fail_with(const char *message) { return distributed_launcher_rank() == 0 ? fail("train", message) : 1; }

// options_parse, with its messages (a wrong option, --help) on rank 0 only (commands.h).
int parse_on_rank_0(int argc, char **argv, const char *usage, const Option *options, int n_options) {
    int saved = -1;
    if (distributed_launcher_rank() > 0) {
        fflush(stderr), fflush(stdout);
        int null = open("/dev/null", O_WRONLY);
        saved = dup(STDERR_FILENO);
        if (null >= 0) dup2(null, STDERR_FILENO), dup2(null, STDOUT_FILENO), close(null);
    }
    int parsed = options_parse(argc, argv, usage, options, n_options, NULL, 0, NULL);
    if (saved >= 0) dup2(saved, STDERR_FILENO), close(saved);
    return parsed;
}

// After every rank's setup: 0 when all succeeded; else -1 with the lowest failing rank's
// error on every rank ("rank R: ..." for R > 0) (commands.h).
int agree_on_setup(const Distributed *job, int set_up, Error *error) {
    DistributedAgreement agreed;
    if (distributed_agree(job, 0, set_up ? NULL : error, &agreed, error)) return -1;
    if (agreed.failed_rank < 0) return 0;
    if (agreed.failed_rank == 0) return error_set(error, "%s", agreed.failure.message);
    return error_set(error, "rank %d: %s", agreed.failed_rank, agreed.failure.message);
}

int command_train(int argc, char **argv) {
    // Data parallel covers the language models (bigram, mlp, gpt2) and the image classifiers
    // (cmd_classify.c).
    if (distributed_launcher_size() > 1 && (bert_wants(argc, argv) || segment_wants(argc, argv)))
        return fail_with("under mpirun only the language models (--arch bigram|mlp|gpt2 on text) and the image "
                         "classifiers (--data DIR) train; this model trains as one process");
    if (bert_wants(argc, argv)) return bert_train(argc, argv);          // masked-LM pretraining (cmd_bert.c)
    if (segment_wants(argc, argv)) return segment_train(argc, argv);    // a unet (cmd_segment.c)
    if (classify_wants(argc, argv)) return classify_train(argc, argv);  // a directory of images
    const char *arch_name = NULL, *data_path = NULL, *tokenizer_spec = NULL, *out_path = NULL, *resume_path = NULL;
    const char *data_directory = NULL;
    // The values shown by --help are the main job's (a small GPT-2 on Moby-Dick with a 4096-token
    // BPE for 5 minutes); options not given take their stage's defaults (gpt/defaults.h).
    TrainOptions train = {.batch = 16, .context = 128, .eval_every = 100, .eval_batches = 10, .warmup = -1, .seed = 1,
                          .lr = 2e-3f, .min_lr = -1.0f, .clip = 1.0f, .gamma = 0.1f};
    int n_samples = 3, sample_tokens = 200;
    int layers = 4, heads = 4, dim = 256;                        // gpt2
    int block = 8, embed = 16, hidden = 200, batch_norm = 0;     // mlp
    int counting = 0;                                            // bigram
    float smoothing = 1.0f;
    int ranks = 0, grad_accum = 1, check_every = 0;                 // data parallel
    const char *allreduce_name = "single";
    double bucket_mb = TRAIN_DEFAULT_BUCKET_MB;
    int zero = 0;
    const Option own[] = {
        {"--arch", OPTION_STRING, &arch_name, "bigram | mlp | gpt2 (default gpt2; on --resume, the checkpoint's); each has its own defaults for the options not given. Masked LM: --arch bert (see --arch bert --help). Images: --arch mlp|lenet5|resnet|alexnet|vit|unet --data DIR (see --arch lenet5 --help)"},
        {"--data", OPTION_STRING, &data_path, "text file or llm.c token file (default data/mobydick.txt)"},
        {"--tokenizer", OPTION_STRING, &tokenizer_spec, "char | bpe:N | gpt2 | FILE (default bpe:4096 for gpt2, char for mlp and bigram; gpt2 for token files)"},
        {"--out", OPTION_STRING, &out_path, "checkpoint to write (default out/<arch>.ckpt; the SVG goes beside it)"},
        {"--resume", OPTION_STRING, &resume_path, "continue the run saved in this checkpoint"},
        {"--samples", OPTION_INT, &n_samples, "samples printed at the end"},
        {"--sample-tokens", OPTION_INT, &sample_tokens, "tokens per sample"},
        {"--layers", OPTION_INT, &layers, "gpt2: layers"},
        {"--heads", OPTION_INT, &heads, "gpt2: attention heads"},
        {"--dim", OPTION_INT, &dim, "gpt2: width"},
        {"--block", OPTION_INT, &block, "mlp: tokens of context the MLP sees"},
        {"--embed", OPTION_INT, &embed, "mlp: embedding width per token"},
        {"--hidden", OPTION_INT, &hidden, "mlp: hidden tanh units"},
        {"--batch-norm", OPTION_FLAG, &batch_norm, "mlp: batch normalisation before the tanh"},
        {"--counting", OPTION_FLAG, &counting, "bigram: the counting model (fitted, no gradient steps)"},
        {"--smoothing", OPTION_FLOAT, &smoothing, "bigram: add-k smoothing of the counting model"},
        {"--data-dir", OPTION_STRING, &data_directory, "the bundled data (gpt2/ for --tokenizer gpt2); default: found"},
        {"--grad-accum", OPTION_INT, &grad_accum, "K: each step's batch in K sequential shares, gradients summed (less memory, same run)"},
        {"--ranks", OPTION_INT, &ranks, "the run must have N processes (mpirun -np N groundup train ...); --batch is the global batch"},
        {"--check-every", OPTION_INT, &check_every, "with ranks: compare a checksum of the parameters across ranks every K steps (0: never)"},
        {"--allreduce", OPTION_STRING, &allreduce_name, "with ranks: single (one all-reduce of the gradients after the backward) | buckets (GPT-2's blocks sent during the backward)"},
        {"--bucket-mb", OPTION_DOUBLE, &bucket_mb, "--allreduce buckets: about this many MB of gradients per bucket"},
        {"--zero", OPTION_INT, &zero, "with ranks: 1 = ZeRO stage 1, each rank keeps the optimizer's state of its shard of the parameters only (0: none)"},
    };
    const char *usage = "groundup train --arch bigram|mlp|gpt2 [--data FILE] [--tokenizer char|bpe:N|FILE|gpt2] "
                        "[--steps N | --time SECONDS] [--batch B] [--context T] [--lr X] [--optimizer NAME] "
                        "[--schedule NAME] [--clip-norm X | --clip-value X] [--weight-decay X] [--l1 X] "
                        "[--early-stop P] [--seed S] [--out FILE] [--resume FILE] [model size options]";
    enum { N_OWN = sizeof own / sizeof own[0] };
    Option options[N_OWN + TRAIN_OPTION_COUNT];
    memcpy(options, own, sizeof own);
    int n_options = N_OWN + train_options_table(&train, options + N_OWN);
    int parsed = parse_on_rank_0(argc, argv, usage, options, n_options);
    if (parsed == OPTIONS_HELP) return 0;
    if (parsed != OPTIONS_OK) return 2;

    Error error = {{0}};
    if (train_options_check(&train, argc, argv, &error)) return fail_with(error.message);
    if (n_samples < 0 || sample_tokens < 0) return fail_with("--samples and --sample-tokens must be >= 0");
    if (grad_accum < 1 || check_every < 0) return fail_with("--grad-accum must be >= 1 and --check-every >= 0");
    TrainAllreduce allreduce = TRAIN_ALLREDUCE_SINGLE;
    if (strcmp(allreduce_name, "buckets") == 0) allreduce = TRAIN_ALLREDUCE_BUCKETS;
    else if (strcmp(allreduce_name, "single") != 0) return fail_with("--allreduce must be single or buckets");
    if (!(bucket_mb > 0.0 && bucket_mb <= 1e6)) return fail_with("--bucket-mb must be in (0, 1e6]");
    if (zero != 0 && zero != 1) return fail_with("--zero must be 0 or 1 (stage 1: the optimizer's state sharded)");
    if (zero && allreduce == TRAIN_ALLREDUCE_BUCKETS)
        return fail_with("--zero 1 reduces the gradients by a reduce-scatter; --allreduce buckets is without it");
    if (train.threads > 0) omp_set_num_threads(train.threads);

    Distributed job;
    if (distributed_init(&job, ranks, &error)) {
        distributed_finalize(&job);
        return fail_with(error.message);
    }
    int talks = job.rank == 0, set_up = 0;  // rank 0 alone prints
    Model model;
    TextTokenizer tokenizer;
    TrainState state;
    DataSource source;
    Dataset data;
    memset(&model, 0, sizeof model);
    memset(&tokenizer, 0, sizeof tokenizer);
    memset(&state, 0, sizeof state);
    memset(&source, 0, sizeof source);
    memset(&data, 0, sizeof data);
    char default_out[256], cache_dir[1100], svg_path[1100], best_path[1100];
    int status = 1;

    if (resume_path) {
        int has_training = 0;
        if (checkpoint_load(resume_path, &model, &tokenizer, &state, &has_training, &error)) goto agree;
        if (!has_training) {
            error_set(&error, "%s has no training state to resume (an inference-only checkpoint)", resume_path);
            goto agree;
        }
        Architecture wanted;
        if (arch_name && architecture_parse(arch_name, &wanted, &error)) goto agree;
        if (arch_name && wanted != model.config.arch) {
            error_set(&error, "%s is a %s checkpoint, not %s", resume_path, architecture_name(model.config.arch), arch_name);
            goto agree;
        }
        // The run continues as saved; only its length, data, output and threads can change.
        // Say so for every other option given, rather than drop it silently.
        static const char *const honoured[] = {"--resume", "--steps", "--time", "--data", "--out", "--threads",
                                               "--samples", "--sample-tokens", "--data-dir", "--arch"};
        for (int i = 0; i < n_options; i++) {
            int kept = 0;
            for (size_t k = 0; k < sizeof honoured / sizeof honoured[0]; k++) kept |= strcmp(options[i].name, honoured[k]) == 0;
            if (!kept && talks && option_given(argc, argv, options[i].name))
                fprintf(stderr, "groundup: train: warning: %s is ignored with --resume: the run keeps the settings saved in %s\n",
                        options[i].name, resume_path);
        }
        if (train.steps > 0) state.config.max_steps = train.steps, state.config.max_seconds = 0.0;
        if (train.seconds > 0.0) state.config.max_steps = 0, state.config.max_seconds = train.seconds;
        if (!data_path) data_path = state.data_path;
        if (!out_path) out_path = resume_path;
        if (data_source_load(&source, data_path, &error)) goto agree;
        if (data_path != state.data_path) snprintf(state.data_path, sizeof state.data_path, "%s", data_path);
    } else {
        Architecture arch = ARCH_GPT2;
        if (arch_name && architecture_parse(arch_name, &arch, &error)) goto agree;
        if (!data_path) data_path = "data/mobydick.txt";
        if (!out_path) {
            snprintf(default_out, sizeof default_out, "out/%s.ckpt", architecture_name(arch));
            out_path = default_out;
        }
        directory_of(out_path, cache_dir, sizeof cache_dir);
        strncat(cache_dir, "/cache", sizeof cache_dir - strlen(cache_dir) - 1);
        if (data_source_load(&source, data_path, &error)) goto agree;
        TrainDefaults defaults = train_defaults(arch, &source);
        if (!tokenizer_spec) tokenizer_spec = defaults.tokenizer;
        if (train.steps == 0 && train.seconds == 0.0) train.steps = defaults.steps, train.seconds = defaults.seconds;
        struct {
            const char *option;
            int *value, fallback;
        } sizes[] = {{"--batch", &train.batch, defaults.batch},  {"--context", &train.context, defaults.context},
                     {"--layers", &layers, defaults.layers},     {"--heads", &heads, defaults.heads},
                     {"--dim", &dim, defaults.dim},              {"--block", &block, defaults.block},
                     {"--embed", &embed, defaults.embed},        {"--hidden", &hidden, defaults.hidden}};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            if (!option_given(argc, argv, sizes[i].option) && sizes[i].fallback > 0) *sizes[i].value = sizes[i].fallback;
        if (!option_given(argc, argv, "--lr")) train.lr = defaults.lr;
        if (defaults.reason[0] && talks) fprintf(stderr, "train: defaults for %s (options override them)\n", defaults.reason);
        if (data_make_tokenizer(&source, tokenizer_spec, data_directory, cache_dir, &tokenizer, &error)) goto agree;

        ModelConfig config;
        memset(&config, 0, sizeof config);
        config.arch = arch;
        config.vocab_size = text_vocab_size(&tokenizer);
        config.context_length = train.context;
        config.n_layers = layers;
        config.n_heads = heads;
        config.d_model = dim;
        config.block_size = block;
        config.d_embed = embed;
        config.d_hidden = hidden;
        config.batch_norm = batch_norm;
        config.counting = counting;
        config.smoothing = smoothing;
        Random init;
        random_seed(&init, (uint64_t)train.seed ^ 0x5eed1a17ULL);  // its own stream, apart from the batches'
        if (model_init(&model, &config, &init, &error)) goto agree;

        TrainConfig train_config;
        if (train_config_from(&train, 1000, &train_config, &error) ||
            train_state_init(&state, &train_config, &model, data_path, &error))
            goto agree;
    }
    directory_of(out_path, cache_dir, sizeof cache_dir);
    if (make_directories(cache_dir, &error)) goto agree;
    strncat(cache_dir, "/cache", sizeof cache_dir - strlen(cache_dir) - 1);
    if (dataset_init(&data, &source, &tokenizer, cache_dir, &error)) goto agree;
    svg_path_for(out_path, svg_path, sizeof svg_path);
    best_path_for(out_path, best_path, sizeof best_path);

    Printer printer = printer_for(state.config.eval_every);
    TrainRun run = {.model = &model, .tokenizer = &tokenizer, .data = &data, .state = &state, .out_path = out_path,
                    .svg_path = svg_path, .best_path = best_path};
    run.distributed = &job;
    run.grad_accum = grad_accum;
    run.check_every = check_every;
    run.allreduce = allreduce;
    run.bucket_mb = bucket_mb;
    run.zero = zero;
    if (train_check(&run, &error)) goto agree;
    set_up = 1;
agree:
    // Every rank comes here, set up or not: a rank that failed fails all, and is named.
    if (agree_on_setup(&job, set_up, &error)) goto done;

    char description[96];
    text_tokenizer_describe(&tokenizer, description, sizeof description);
    if (talks) {
        fprintf(stderr, "%s: %ld parameters, tokenizer %s, %ld train / %ld validation tokens from %s, %d threads\n",
                architecture_name(model.config.arch), model_count_parameters(&model), description, data.n_train,
                data.n_val, data_path, omp_get_max_threads());
        if (job.size > 1 || grad_accum > 1)
            fprintf(stderr, "data parallel: %d ranks x %d accumulation steps of %d sequences (global batch %d)\n",
                    job.size, grad_accum, state.config.batch_size / (job.size * grad_accum), state.config.batch_size);
        if (state.config.dropout > 0.0f)
            fprintf(stderr, "dropout %g on the embeddings, the attention probabilities and the residual projections "
                    "(training steps only)\n", (double)state.config.dropout);
        if (resume_path) fprintf(stderr, "resuming %s at step %ld\n", resume_path, state.step);
    }

    long first_curve_point = state.train_curve.n;
    int result = run_training(&run, &printer, &error);
    if (result < 0) goto done;
    if (!talks) {  // the other ranks' part ends with the training
        status = result == TRAIN_STOPPED ? stopped_exit_status() : 0;
        goto done;
    }
    long steps_run = state.train_curve.n - first_curve_point;
    if (run.step_seconds > 0 && steps_run > 0)
        fprintf(stderr, "time per step: %.1f ms (mean of %ld steps)\n", 1e3 * run.step_seconds / steps_run, steps_run);
    if (job.size > 1 && run.step_seconds > 0 && steps_run > 0)
        fprintf(stderr, "all-reduce of the gradients (%s): %.1f ms per step of %.1f ms (%.1f%%), and %.1f ms waiting for the "
                "slowest rank\n", zero ? "zero-1" : allreduce_name, 1e3 * run.reduce_seconds / steps_run, 1e3 * run.step_seconds / steps_run,
                100.0 * run.reduce_seconds / run.step_seconds, 1e3 * run.wait_seconds / steps_run);
    if (job.size > 1 && zero && run.optimizer_floats > 0) {
        long first, count;  // rank 0's shard is the largest
        distributed_shard(&job, model.n_trainable, 0, &first, &count);
        fprintf(stderr, "ZeRO stage 1: the optimizer's state is %.1f MB per rank (%.1f MB whole); reduce-scatter, "
                "update and all-gather of the parameters timed as the all-reduce\n",
                1e-6 * sizeof(float) * run.optimizer_floats,
                1e-6 * sizeof(float) * run.optimizer_floats / count * model.n_trainable);
    }

    const LossCurve *val_curve = &state.val_curve, *train_curve = &state.train_curve;
    printf("%s, %ld parameters, tokenizer %s\n", architecture_name(model.config.arch), model_count_parameters(&model), description);
    if (train_curve->n > 0 && val_curve->n > 0)
        printf("step %ld: train loss %.4f, validation loss %.4f (nats per token)\n", state.step,
               (double)train_curve->losses[train_curve->n - 1], (double)val_curve->losses[val_curve->n - 1]);
    printf("checkpoint %s\nloss curves %s\n", out_path, svg_path);
    if (state.config.patience > 0 && state.best_step > 0)
        printf("%s at step %ld: best validation loss %.4f at step %ld, kept in %s\n",
               state.stopped_early ? "early stop" : "no early stop", state.step, (double)state.best_val_loss,
               state.best_step, best_path);
    if (result == TRAIN_STOPPED) {
        char by[32] = "";
        if (job.size > 1) snprintf(by, sizeof by, " by rank %d", run.stop_rank);
        fprintf(stderr, "groundup: train: interrupted at step %ld%s; saved %s (continue with --resume %s)\n", state.step,
                by, out_path, out_path);
        status = stopped_exit_status();
        goto done;
    }
    // The whole held-out text, every token scored once with as much context as the model has:
    // bits per byte compare models whatever their tokenizers.
    EvalResult heldout;
    if (data.n_val >= 2) {
        if (evaluate(&model, data.val, data.n_val, data.val_bytes, 0, &heldout, &error)) goto done;
        printf("held-out text: %.4f nats/token, perplexity %.2f, %.4f bits per byte (%ld tokens, %ld bytes)\n",
               heldout.mean_loss, heldout.perplexity, heldout.bits_per_byte, heldout.n_tokens, heldout.n_bytes);
    }
    if (n_samples > 0 && print_samples(&model, &tokenizer, n_samples, sample_tokens, (uint64_t)train.seed, &error)) goto done;
    record_language_model(&model, argc, argv, data_path, &state, data.n_val >= 2 ? &heldout : NULL, out_path, svg_path);
    status = 0;
done:
    if (status == 1 && talks) fail("train", error.message);
    distributed_finalize(&job);
    dataset_free(&data);
    data_source_free(&source);
    train_state_free(&state);
    text_tokenizer_free(&tokenizer);
    model_free(&model);
    return status;
}
