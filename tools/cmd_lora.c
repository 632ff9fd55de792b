// groundup lora: fine-tunes a trained GPT-2 with low-rank adapters while its weights stay
// frozen (gpt/lora.h), and merges adapters into a plain checkpoint.
//   groundup lora train --base MODEL --data FILE [--rank R] [--alpha A] [--targets attn,mlp] ...
//   groundup lora merge --base MODEL --lora ADAPTERS --out MERGED
// Training goes through the shared loop (gpt/train.c): progress, validation, loss SVG, the
// adapter file saved as a checkpoint. `lora train --full` instead trains every parameter of
// the (fp32) base on the same data with the same settings: the full fine-tuning LoRA is
// measured against. Parses arguments, calls gpt/, prints.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "foundations/file.h"
#include "foundations/clock.h"
#include "gpt/checkpoint.h"
#include "gpt/data.h"
#include "gpt/eval.h"
#include "gpt/lora.h"
#include "gpt/train.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run.h"
#include "tools/run_record.h"

static double file_megabytes(const char *path) {
    struct stat info;
    return stat(path, &info) == 0 ? (double)info.st_size / 1e6 : 0.0;
}

static const char *weight_type_name(int type) { return type == TENSOR_F32 ? "fp32" : quant_type_name((QuantType)type); }

// The run record of a fine-tuning (tools/run_record.h): the held-out bits per byte after it, with
// the trained parameters (the adapters', or every one with --full). Named lora-r<rank>-<data>
// or full-finetune-<data>.
static void record_finetuning(int argc, char **argv, int full, int rank, const char *data_path, long trained,
                              double seconds, const EvalResult *after, const char *out_path, const char *svg_path) {
    char prefix[32], name[96], command[1024];
    snprintf(prefix, sizeof prefix, full ? "full-finetune" : "lora-r%d", rank);
    RunRecord record = {.name = record_name_from_file(prefix, data_path, name, sizeof name),
                        .model = full ? "GPT-2, full fine-tuning" : NULL,
                        .command = run_record_subcommand("lora", argc, argv, command, sizeof command),
                        .dataset = data_path, .parameters = trained, .train_seconds = seconds,
                        .metric = "held-out bits per byte after fine-tuning", .value = after->bits_per_byte,
                        .checkpoint = out_path, .figures = {svg_path}};
    record_run("lora train", full ? "gpt2" : "lora", &record);
}

// ----------------------------------------------------------------------------
// lora train

static int lora_train(int argc, char **argv) {
    const char *base_path = NULL, *data_path = NULL, *targets_text = "attn,mlp", *out_path = NULL;
    const char *data_directory = NULL;
    TrainOptions train = {.batch = 16, .context = 0, .eval_every = 100, .eval_batches = 10, .warmup = -1, .seed = 1,
                          .lr = 2e-3f, .min_lr = -1.0f, .clip = 1.0f, .gamma = 0.1f};
    int rank = 8, full = 0;
    float alpha = 16.0f;
    const Option own[] = {
        {"--base", OPTION_STRING, &base_path, "the trained GPT-2 to adapt (fp32, q8_0 or q4_0 weights)"},
        {"--data", OPTION_STRING, &data_path, "text (encoded with the base's tokenizer) or token file to fine-tune on"},
        {"--rank", OPTION_INT, &rank, "rank r of every adapter, 1 <= r <= the width"},
        {"--alpha", OPTION_FLOAT, &alpha, "the adapters add (alpha / r) B A"},
        {"--targets", OPTION_STRING, &targets_text, "attn (qkvw, attprojw), mlp (fcw, fcprojw) or attn,mlp"},
        {"--out", OPTION_STRING, &out_path, "adapter file to write (default out/adapters.lora; the SVG goes beside it)"},
        {"--full", OPTION_FLAG, &full, "for comparison: train every parameter of the fp32 base instead (writes a checkpoint)"},
        {"--data-dir", OPTION_STRING, &data_directory, "the bundled data (gpt2/ for llm.c checkpoints); default: found"},
    };
    const char *usage = "groundup lora train --base MODEL --data FILE [--rank R] [--alpha A] [--targets attn,mlp] "
                        "[--steps N | --time S] [--lr X] [--batch B] [--context T] [--out ADAPTERS] [--full]";
    enum { N_OWN = sizeof own / sizeof own[0] };
    Option options[N_OWN + TRAIN_OPTION_COUNT];
    memcpy(options, own, sizeof own);
    int n_options = N_OWN + train_options_table(&train, options + N_OWN);
    int parsed = options_parse(argc, argv, usage, options, n_options, NULL, 0, NULL);
    if (parsed == OPTIONS_HELP) return 0;
    if (parsed != OPTIONS_OK) return 2;
    if (!base_path || !data_path) return fail("lora train", "--base MODEL and --data FILE are required");
    Error error = {{0}};
    if (train_options_check(&train, argc, argv, &error)) return fail("lora train", error.message);
    int targets = 0;
    if (!full && lora_parse_targets(targets_text, &targets, &error)) return fail("lora train", error.message);
    if (train.threads > 0) omp_set_num_threads(train.threads);
    if (!out_path) out_path = full ? "out/full-finetune.ckpt" : "out/adapters.lora";

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
    int status = 1;
    char cache_dir[1100], svg_path[1100], best_path[1100];

    // The base: memory-mapped and only read for LoRA; read into memory to be trained with --full.
    if (full ? checkpoint_load(base_path, &model, &tokenizer, NULL, NULL, &error)
             : checkpoint_load_for_inference(base_path, data_directory, &model, &tokenizer, NULL, 0, &error))
        goto done;
    if (model.config.arch != ARCH_GPT2) {
        error_set(&error, "%s is a %s checkpoint; LoRA adapts a GPT-2", base_path, architecture_name(model.config.arch));
        goto done;
    }
    if (full && model.quantized) {
        error_set(&error, "%s has quantized weights, which only LoRA can fine-tune (drop --full)", base_path);
        goto done;
    }
    if (train.context == 0) train.context = model.config.context_length;
    if (train.context > model.config.context_length) {
        error_set(&error, "--context %d is longer than the base's %d", train.context, model.config.context_length);
        goto done;
    }
    directory_of(out_path, cache_dir, sizeof cache_dir);
    if (make_directories(cache_dir, &error)) goto done;
    strncat(cache_dir, "/cache", sizeof cache_dir - strlen(cache_dir) - 1);
    if (data_source_load(&source, data_path, &error) || dataset_init(&data, &source, &tokenizer, cache_dir, &error))
        goto done;
    if (data.n_val < 2) {
        error_set(&error, "%s: the held-out split has %ld tokens, too few to validate", data_path, data.n_val);
        goto done;
    }

    EvalResult before, after;
    long base_parameters = model_count_parameters(&model);
    int weight_type = model.config.weight_type;
    if (!full) {
        Random init;
        random_seed(&init, (uint64_t)train.seed ^ 0x10a4ULL);  // its own stream, apart from the batches'
        Model base = model;
        if (lora_init_fresh(&model, &base, rank, alpha, targets, &init, &error)) {
            model = base;
            goto done;
        }
    }
    // The held-out text before training, as `groundup eval` scores it (with B = 0 the adapted
    // model is the base, bit for bit).
    if (evaluate(&model, data.val, data.n_val, data.val_bytes, 0, &before, &error)) goto done;

    TrainConfig config;
    if (train_config_from(&train, 300, &config, &error) || train_state_init(&state, &config, &model, data_path, &error))
        goto done;
    svg_path_for(out_path, svg_path, sizeof svg_path);
    best_path_for(out_path, best_path, sizeof best_path);
    Printer printer = printer_for(train.eval_every);
    TrainRun run = {.model = &model, .tokenizer = &tokenizer, .data = &data, .state = &state, .out_path = out_path,
                    .svg_path = svg_path, .best_path = best_path};
    if (train_check(&run, &error)) goto done;
    long trained = model_count_parameters(&model);  // the adapters (or the base), without alignment gaps
    fprintf(stderr, "%s: %ld of the base's %ld parameters trained, %ld train / %ld validation tokens from %s, %d threads\n",
            full ? "full fine-tuning" : "lora", trained, base_parameters, data.n_train, data.n_val, data_path,
            omp_get_max_threads());

    double start = clock_seconds();
    int result = run_training(&run, &printer, &error);
    double train_seconds = clock_seconds() - start;
    if (result < 0) goto done;
    if (result == TRAIN_STOPPED) {
        fprintf(stderr, "groundup: lora train: interrupted at step %ld; saved %s\n", state.step, out_path);
        status = stopped_exit_status();
        goto done;
    }
    if (evaluate(&model, data.val, data.n_val, data.val_bytes, 0, &after, &error)) goto done;

    if (full)
        printf("full fine-tuning of %s: all %ld parameters trained\n", base_path, trained);
    else
        printf("lora on %s (%s weights): rank %d, alpha %g, targets %s: %ld trained parameters, %.2f%% of the base's %ld\n",
               base_path, weight_type_name(weight_type), rank, (double)alpha, lora_targets_name(targets),
               trained, 100.0 * (double)trained / (double)base_parameters, base_parameters);
    printf("held-out %s (%ld tokens): %.4f -> %.4f nats/token, %.4f -> %.4f bits per byte\n", data_path,
           before.n_tokens, before.mean_loss, after.mean_loss, before.bits_per_byte, after.bits_per_byte);
    printf("%ld steps in %.1f s; %s %s: %.2f MB (base %s: %.2f MB)\nloss curves %s\n", state.step, train_seconds,
           full ? "checkpoint" : "adapters", out_path, file_megabytes(out_path), base_path, file_megabytes(base_path),
           svg_path);
    record_finetuning(argc, argv, full, rank, data_path, trained, train_seconds, &after, out_path, svg_path);
    status = 0;
done:
    if (status == 1) fail("lora train", error.message);
    dataset_free(&data);
    data_source_free(&source);
    train_state_free(&state);
    text_tokenizer_free(&tokenizer);
    model_free(&model);
    return status;
}

// ----------------------------------------------------------------------------
// lora merge

static int lora_merge_command(int argc, char **argv) {
    const char *base_path = NULL, *lora_path = NULL, *out_path = NULL, *data_directory = NULL;
    const Option options[] = {
        {"--base", OPTION_STRING, &base_path, "the GPT-2 the adapters were trained on"},
        {"--lora", OPTION_STRING, &lora_path, "adapter file (from groundup lora train)"},
        {"--out", OPTION_STRING, &out_path, "the merged fp32 checkpoint to write"},
        {"--data-dir", OPTION_STRING, &data_directory, "the bundled data (gpt2/ for llm.c checkpoints); default: found"},
    };
    const char *usage = "groundup lora merge --base MODEL --lora ADAPTERS --out MERGED";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed == OPTIONS_HELP) return 0;
    if (parsed != OPTIONS_OK) return 2;
    if (!base_path || !lora_path || !out_path) return fail("lora merge", "--base, --lora and --out are required");
    Error error = {{0}};
    Model model, merged;
    TextTokenizer tokenizer;
    memset(&merged, 0, sizeof merged);
    char trained_on[1024];
    if (checkpoint_load_for_inference(base_path, data_directory, &model, &tokenizer, trained_on, sizeof trained_on, &error))
        return fail("lora merge", error.message);
    int status = 1;
    // The merged model was last trained on the adapters' data.
    if (lora_load(lora_path, &model, trained_on, sizeof trained_on, &error) || lora_merge(&merged, &model, &error) ||
        checkpoint_save_for_inference(out_path, &merged, &tokenizer, trained_on, &error))
        goto done;
    printf("merged %s into %s: %s, fp32 GPT-2, %ld parameters, %.2f MB\n", lora_path, base_path, out_path,
           model_count_parameters(&merged), file_megabytes(out_path));
    status = 0;
done:
    if (status) fail("lora merge", error.message);
    model_free(&merged);
    model_free(&model);
    text_tokenizer_free(&tokenizer);
    return status;
}

int command_lora(int argc, char **argv) {
    const char *usage = "usage: groundup lora train|merge [options]   (groundup lora <sub-command> --help)\n"
                        "  train   fine-tune a GPT-2 checkpoint with low-rank adapters, its weights frozen\n"
                        "  merge   write base + adapters as one plain fp32 checkpoint\n";
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "train") == 0) return lora_train(argc - 1, argv + 1);
    if (strcmp(argv[1], "merge") == 0) return lora_merge_command(argc - 1, argv + 1);
    char message[160];
    snprintf(message, sizeof message, "unknown sub-command '%s' (train or merge)", argv[1]);
    return fail("lora", message);
}
