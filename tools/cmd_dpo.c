// groundup dpo: preference fine-tuning of a GPT-2 (gpt/dpo.h), and the sea-preference task
// that exercises it (gpt/preference.h).
//   groundup dpo --base MODEL --pairs FILE --out OUT [--beta B] [--lora RANK] [--steps N] ...
//   groundup dpo pairs --base MODEL --data TEXT --out FILE [--prompts N] [--samples K] ...
//   groundup dpo eval --base MODEL [--tuned OUT] --data TEXT [--prompts N] ...
// Parses arguments, calls gpt/, prints.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/clock.h"
#include "foundations/file.h"
#include "gpt/checkpoint.h"
#include "gpt/data.h"
#include "gpt/dpo.h"
#include "gpt/lora.h"
#include "gpt/preference.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run.h"
#include "tools/run_record.h"

// ----------------------------------------------------------------------------
// training

typedef struct StepPrinter {
    long every;
    double start;
} StepPrinter;

static void print_step(void *context, const DpoProgress *p) {
    StepPrinter *printer = context;
    if (p->step != 1 && p->step % printer->every != 0 && p->step != p->steps) return;
    fprintf(stderr, "step %ld/%ld  loss %.4f  reward accuracy %.2f  rewards chosen %+.3f rejected %+.3f  lr %.2e  %.1f s\n",
            p->step, p->steps, p->stats.loss, p->stats.accuracy, p->stats.chosen_reward, p->stats.rejected_reward,
            (double)p->lr, clock_seconds() - printer->start);
}

// The base for training: read into memory for full fine-tuning (its weights are written),
// memory-mapped under fresh adapters for LoRA.
static int load_policy(const char *base_path, int rank, float alpha, const char *targets_text, uint64_t seed,
                       Model *model, TextTokenizer *tokenizer, char *trained_on, size_t size, Error *error) {
    int targets = 0;
    if (rank > 0 && lora_parse_targets(targets_text, &targets, error)) return -1;
    TrainState training;
    int has_training = 0;
    if (rank == 0 ? checkpoint_load(base_path, model, tokenizer, &training, &has_training, error)
                  : checkpoint_load_for_inference(base_path, NULL, model, tokenizer, trained_on, size, error))
        return -1;
    if (has_training) {
        snprintf(trained_on, size, "%s", training.data_path);
        train_state_free(&training);
    }
    if (model->config.arch != ARCH_GPT2) {
        error_set(error, "%s is a %s checkpoint; DPO here fine-tunes a GPT-2", base_path,
                  architecture_name(model->config.arch));
    } else if (rank == 0 && model->quantized) {
        error_set(error, "%s has quantized weights, which only LoRA can fine-tune (give --lora RANK)", base_path);
    } else if (rank == 0) {
        return 0;
    } else {
        Random init;
        random_seed(&init, seed ^ 0x10a4ULL);
        Model base = *model;
        if (lora_init_fresh(model, &base, rank, alpha, targets, &init, error) == 0) return 0;
        *model = base;
    }
    model_free(model);
    text_tokenizer_free(tokenizer);
    return -1;
}

// The run record (tools/run_record.h): the fraction of the pairs the implicit reward ranks right
// at the end, what the command measures (the pairs are its training set; the held-out measure
// is `dpo eval`'s samples). Named dpo-full-<pairs> or dpo-lora<rank>-<pairs>.
static void record_dpo(int argc, char **argv, int rank, const char *pairs_path, long trained, double seconds,
                       const DpoStats *last, const char *out_path) {
    char prefix[32], name[96], command[1024];
    snprintf(prefix, sizeof prefix, rank ? "dpo-lora%d" : "dpo-full", rank);
    RunRecord record = {.name = record_name_from_file(prefix, pairs_path, name, sizeof name),
                        .command = run_record_command(argc, argv, command, sizeof command), .dataset = pairs_path,
                        .parameters = trained, .train_seconds = seconds,
                        .metric = "training pairs ranked right by the implicit reward (fraction)",
                        .value = last->accuracy, .higher_is_better = 1, .checkpoint = out_path};
    record_run("dpo", "dpo", &record);
}

static int dpo_train_command(int argc, char **argv) {
    const char *base_path = NULL, *pairs_path = NULL, *out_path = NULL, *targets_text = "attn,mlp";
    DpoConfig config = dpo_default_config();
    int rank = 0, threads = 0;
    float alpha = 16.0f;
    long seed = 1;
    const Option options[] = {
        {"--base", OPTION_STRING, &base_path, "the trained GPT-2 (groundup checkpoint): policy and frozen reference"},
        {"--pairs", OPTION_STRING, &pairs_path, "JSON lines {\"prompt\", \"chosen\", \"rejected\"} (groundup dpo pairs)"},
        {"--out", OPTION_STRING, &out_path, "the fine-tuned checkpoint, or with --lora the adapter file"},
        {"--beta", OPTION_FLOAT, &config.beta, "beta > 0: the implicit reward is beta log pi/pi_ref"},
        {"--lora", OPTION_INT, &rank, "train LoRA adapters of this rank on the frozen base (0: every parameter)"},
        {"--alpha", OPTION_FLOAT, &alpha, "with --lora: the adapters add (alpha / r) B A"},
        {"--targets", OPTION_STRING, &targets_text, "with --lora: attn, mlp or attn,mlp"},
        {"--steps", OPTION_LONG, &config.steps, "optimizer steps"},
        {"--batch", OPTION_INT, &config.batch_pairs, "pairs per step"},
        {"--lr", OPTION_FLOAT, &config.learning_rate, "peak learning rate (AdamW)"},
        {"--min-lr", OPTION_FLOAT, &config.min_learning_rate, "where the cosine ends"},
        {"--warmup", OPTION_LONG, &config.warmup_steps, "linear warmup steps (-1: a tenth of the steps)"},
        {"--weight-decay", OPTION_FLOAT, &config.weight_decay, "AdamW's decoupled weight decay"},
        {"--clip", OPTION_FLOAT, &config.grad_clip, "clip the gradients' global norm (0: no clipping)"},
        {"--seed", OPTION_LONG, &seed, "the order the pairs are visited in (and the adapters' initialisation)"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
    };
    const char *usage = "groundup dpo --base MODEL --pairs FILE --out OUT [--beta B] [--lora RANK] [--steps N] "
                        "[--batch P] [--lr X]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed == OPTIONS_HELP) return 0;
    if (parsed != OPTIONS_OK) return 2;
    if (!base_path || !pairs_path || !out_path) return fail("dpo", "--base MODEL, --pairs FILE and --out OUT are required");
    config.seed = (uint64_t)seed;
    Error error = {{0}};
    if (dpo_config_check(&config, &error)) return fail("dpo", error.message);
    if (rank < 0) return fail("dpo", "--lora must be >= 0");
    if (threads < 0) return fail("dpo", "--threads must be >= 0");
    if (threads > 0) omp_set_num_threads(threads);

    Model model;
    TextTokenizer tokenizer;
    PreferenceSet set = {0};
    char trained_on[1024] = "";
    if (load_policy(base_path, rank, alpha, targets_text, config.seed, &model, &tokenizer, trained_on, sizeof trained_on,
                    &error))
        return fail("dpo", error.message);
    int status = 1;
    if (preference_set_read(&set, pairs_path, &tokenizer, model.config.context_length, &error)) goto done;
    long trained = model_count_parameters(&model);
    fprintf(stderr, "dpo: %d pairs from %s (%d cut to the context of %d), beta %g, %s: %ld parameters trained, %d threads\n",
            set.n, pairs_path, set.n_truncated, model.config.context_length, (double)config.beta,
            rank ? "LoRA" : "full fine-tuning", trained, omp_get_max_threads());
    StepPrinter printer = {config.steps / 10 > 0 ? config.steps / 10 : 1, clock_seconds()};
    DpoStats first, last;
    if (dpo_train(&model, &set, &config, print_step, &printer, &first, &last, &error)) goto done;
    double seconds = clock_seconds() - printer.start;
    char directory[1100];
    directory_of(out_path, directory, sizeof directory);
    if (make_directories(directory, &error) ||
        checkpoint_save_for_inference(out_path, &model, &tokenizer, trained_on, &error))
        goto done;
    printf("dpo on %s, %d pairs from %s: beta %g, %s, %ld steps of %d pairs in %.1f s\n", base_path, set.n, pairs_path,
           (double)config.beta, rank ? "LoRA" : "full fine-tuning", config.steps,
           config.batch_pairs < set.n ? config.batch_pairs : set.n, seconds);
    printf("over all pairs: loss %.4f -> %.4f, reward accuracy %.3f -> %.3f, "
           "rewards chosen %+.3f rejected %+.3f (margin %.3f)\n",
           first.loss, last.loss, first.accuracy, last.accuracy, last.chosen_reward, last.rejected_reward,
           last.chosen_reward - last.rejected_reward);
    printf("wrote %s (%s)\n", out_path, rank ? "adapters: use with --lora beside the base" : "a GPT-2 checkpoint");
    record_dpo(argc, argv, rank, pairs_path, trained, seconds, &last, out_path);
    status = 0;
done:
    if (status) fail("dpo", error.message);
    preference_set_free(&set);
    text_tokenizer_free(&tokenizer);
    model_free(&model);
    return status;
}

// ----------------------------------------------------------------------------
// the task: pairs and evaluation

// The task's options shared by pairs and eval.
typedef struct TaskOptions {
    const char *base_path, *data_path;
    int prompts, prompt_tokens, completion_tokens, threads;
    long seed;
} TaskOptions;

static int task_options_table(TaskOptions *task, Option *table) {
    const Option options[] = {
        {"--base", OPTION_STRING, &task->base_path, "the trained GPT-2 (the reference)"},
        {"--data", OPTION_STRING, &task->data_path, "the text prompts are taken from (default: what the base trained on)"},
        {"--prompts", OPTION_INT, &task->prompts, "how many prompts"},
        {"--prompt-tokens", OPTION_INT, &task->prompt_tokens, "tokens per prompt"},
        {"--tokens", OPTION_INT, &task->completion_tokens, "tokens per completion"},
        {"--seed", OPTION_LONG, &task->seed, "the prompts' and the samples' seed"},
        {"--threads", OPTION_INT, &task->threads, "OpenMP threads (0: OpenMP's default)"},
    };
    memcpy(table, options, sizeof options);
    return (int)(sizeof options / sizeof options[0]);
}

// The base, and the data's tokens of the part asked for (training split, or the held-out one).
static int load_task(const TaskOptions *task, int heldout, const char *cache_dir, Model *model,
                     TextTokenizer *tokenizer, Dataset *data, Error *error) {
    char trained_on[1024] = "";
    if (task->threads < 0) return error_set(error, "--threads must be >= 0");
    if (task->threads > 0) omp_set_num_threads(task->threads);
    if (checkpoint_load_for_inference(task->base_path, NULL, model, tokenizer, trained_on, sizeof trained_on, error))
        return -1;
    const char *data_path = task->data_path ? task->data_path : trained_on;
    DataSource source = {0};
    int status = -1;
    if (model->config.arch != ARCH_GPT2)
        error_set(error, "%s is a %s checkpoint; the task samples a GPT-2", task->base_path,
                  architecture_name(model->config.arch));
    else if (!data_path[0])
        error_set(error, "%s does not say what it trained on: give --data TEXT", task->base_path);
    else if (data_source_load(&source, data_path, error) == 0)
        status = heldout ? dataset_init_heldout(data, &source, tokenizer, 0, error)
                         : dataset_init(data, &source, tokenizer, cache_dir, error);
    data_source_free(&source);
    if (status) {
        model_free(model);
        text_tokenizer_free(tokenizer);
    }
    return status;
}

static int dpo_pairs_command(int argc, char **argv) {
    TaskOptions task = {.prompts = 400, .prompt_tokens = 16, .completion_tokens = 24, .seed = 1};
    const char *out_path = NULL;
    int samples = 4;
    Option options[16];
    int n = task_options_table(&task, options);
    options[n++] = (Option){"--samples", OPTION_INT, &samples, "completions sampled per prompt"};
    options[n++] = (Option){"--out", OPTION_STRING, &out_path, "the pairs file to write (JSON lines)"};
    const char *usage = "groundup dpo pairs --base MODEL --out FILE [--data TEXT] [--prompts N] [--samples K] "
                        "[--prompt-tokens P] [--tokens T] [--seed S]";
    int parsed = options_parse(argc, argv, usage, options, n, NULL, 0, NULL);
    if (parsed == OPTIONS_HELP) return 0;
    if (parsed != OPTIONS_OK) return 2;
    if (!task.base_path || !out_path) return fail("dpo pairs", "--base MODEL and --out FILE are required");
    Error error = {{0}};
    Model model;
    TextTokenizer tokenizer;
    Dataset data = {0};
    char cache_dir[1100];
    directory_of(out_path, cache_dir, sizeof cache_dir);
    strncat(cache_dir, "/cache", sizeof cache_dir - strlen(cache_dir) - 1);
    if (load_task(&task, 0, cache_dir, &model, &tokenizer, &data, &error)) return fail("dpo pairs", error.message);
    PairTaskConfig config = {task.prompts, task.prompt_tokens, task.completion_tokens, samples, (uint64_t)task.seed};
    PairTaskResult result;
    double start = clock_seconds();
    int status = preference_make_pairs(&model, &tokenizer, data.train, data.n_train, &config, out_path, &result, &error);
    if (status == 0)
        printf("%d pairs from %d prompts (training split, %d-token prompts) x %d samples of %d tokens: "
               "%d of %d samples mention the sea (%.1f%%); wrote %s in %.1f s\n",
               result.n_pairs, task.prompts, task.prompt_tokens, samples, task.completion_tokens, result.n_sea,
               result.n_samples, 100.0 * result.n_sea / result.n_samples, out_path, clock_seconds() - start);
    else
        fail("dpo pairs", error.message);
    dataset_free(&data);
    text_tokenizer_free(&tokenizer);
    model_free(&model);
    return status ? 1 : 0;
}

// The fine-tuned model: a plain checkpoint, or adapters put on a fresh copy of the base.
static int load_tuned(const char *tuned_path, const char *base_path, Model *model, Error *error) {
    TextTokenizer tokenizer;
    if (checkpoint_load_for_inference(tuned_path, NULL, model, &tokenizer, NULL, 0, error)) return -1;
    text_tokenizer_free(&tokenizer);
    if (model->config.arch == ARCH_GPT2) return 0;
    if (model->config.arch != ARCH_LORA) {
        error_set(error, "%s is a %s checkpoint, not a GPT-2 or adapters", tuned_path, architecture_name(model->config.arch));
        model_free(model);
        return -1;
    }
    model_free(model);
    if (checkpoint_load_for_inference(base_path, NULL, model, &tokenizer, NULL, 0, error)) return -1;
    text_tokenizer_free(&tokenizer);
    if (lora_load(tuned_path, model, NULL, 0, error)) {
        model_free(model);
        return -1;
    }
    return 0;
}

static void print_row(const char *name, const char *path, const PreferenceEval *e, int with_kl) {
    double rate = (double)e->n_sea / e->n, error = sqrt(rate * (1.0 - rate) / e->n);
    printf("%-6s %-32s %4d/%-4d = %5.1f%% ± %4.1f%%", name, path, e->n_sea, e->n, 100.0 * rate, 100.0 * error);
    if (with_kl) printf("   %8.3f ± %.3f\n", e->kl, e->kl_std_error);
    else printf("   %8s\n", "0");
}

static int dpo_eval_command(int argc, char **argv) {
    TaskOptions task = {.prompts = 400, .prompt_tokens = 16, .completion_tokens = 24, .seed = 1000};
    const char *tuned_path = NULL;
    Option options[16];
    int n = task_options_table(&task, options);
    options[n++] = (Option){"--tuned", OPTION_STRING, &tuned_path, "the DPO result: a checkpoint or adapters on --base"};
    const char *usage = "groundup dpo eval --base MODEL [--tuned OUT] [--data TEXT] [--prompts N] [--prompt-tokens P] "
                        "[--tokens T] [--seed S]";
    int parsed = options_parse(argc, argv, usage, options, n, NULL, 0, NULL);
    if (parsed == OPTIONS_HELP) return 0;
    if (parsed != OPTIONS_OK) return 2;
    if (!task.base_path) return fail("dpo eval", "--base MODEL is required");
    Error error = {{0}};
    Model base, tuned = {0};
    TextTokenizer tokenizer;
    Dataset data = {0};
    if (load_task(&task, 1, NULL, &base, &tokenizer, &data, &error)) return fail("dpo eval", error.message);
    int status = 1;
    int *prompts = malloc(sizeof(int) * (size_t)(task.prompts > 0 ? task.prompts : 1) *
                          (size_t)(task.prompt_tokens > 0 ? task.prompt_tokens : 1));
    PreferenceEval before, after;
    double start = clock_seconds();
    if (!prompts) {
        error_set(&error, "out of memory");
        goto done;
    }
    // held-out prompts: never among the pairs' (which come from the training split)
    if (preference_prompts(data.val + 1, data.n_val - 1, task.prompts, task.prompt_tokens, (uint64_t)task.seed, prompts,
                           &error) ||
        preference_evaluate(&base, NULL, &tokenizer, prompts, task.prompts, task.prompt_tokens, task.completion_tokens,
                            (uint64_t)task.seed, &before, &error))
        goto done;
    if (tuned_path && (load_tuned(tuned_path, task.base_path, &tuned, &error) ||
                       preference_evaluate(&tuned, &base, &tokenizer, prompts, task.prompts, task.prompt_tokens,
                                           task.completion_tokens, (uint64_t)task.seed, &after, &error)))
        goto done;
    printf("%d held-out prompts of %d tokens, one completion of %d tokens each at temperature 1 (seeds %ld..%ld)\n",
           task.prompts, task.prompt_tokens, task.completion_tokens, task.seed, task.seed + task.prompts - 1);
    printf("%-6s %-32s %-24s   %s\n", "", "model", "mentions the sea", "KL to base (nats/completion)");
    print_row("before", task.base_path, &before, 0);
    if (tuned_path) print_row("after", tuned_path, &after, 1);
    fprintf(stderr, "evaluated in %.1f s\n", clock_seconds() - start);
    status = 0;
done:
    if (status) fail("dpo eval", error.message);
    free(prompts);
    dataset_free(&data);
    text_tokenizer_free(&tokenizer);
    model_free(&tuned);
    model_free(&base);
    return status;
}

int command_dpo(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "pairs") == 0) return dpo_pairs_command(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "eval") == 0) return dpo_eval_command(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        printf("groundup dpo: preference fine-tuning (DPO) of a GPT-2, and a sea-preference task for it\n"
               "  groundup dpo --base MODEL --pairs FILE --out OUT [options]   train (dpo --base x --help: options)\n"
               "  groundup dpo pairs --base MODEL --out FILE [options]          sample pairs: sea preferred\n"
               "  groundup dpo eval --base MODEL --tuned OUT [options]          sea rate and KL, before/after\n");
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) return 0;
    if (argc >= 2 && argv[1][0] != '-') {
        char message[160];
        snprintf(message, sizeof message, "unknown sub-command '%s' (pairs, eval, or options to train)", argv[1]);
        return fail("dpo", message);
    }
    return dpo_train_command(argc, argv);
}
