// groundup train --arch bert: masked-LM pretraining of BERT on a text (models/bert_pretrain.h),
// with the held-out masked-token accuracy and perplexity at the end; groundup fill-mask: the
// most probable tokens for each [MASK] of a text. Parses arguments, calls models/, prints.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/file.h"
#include "gpt/data.h"
#include "models/bert_pretrain.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run.h"
#include "tools/run_record.h"

// The held-out masks are the same for every run (whatever --seed), so runs compare on one set.
#define BERT_HELDOUT_SEED 20181011ULL

int bert_wants(int argc, char **argv) {
    const char *arch = option_value(argc, argv, "--arch");
    return arch && strcmp(arch, "bert") == 0;
}

typedef struct BertProgress {
    int terminal;
    double last;
    long total_steps;
    double total_seconds;
} BertProgress;

// A live line on a terminal, otherwise a line every 10 seconds of training.
static void show_step(void *context, long step, float loss, float lr, double seconds) {
    BertProgress *p = context;
    if (seconds - p->last < (p->terminal ? 0.1 : 10.0)) return;
    p->last = seconds;
    if (p->total_steps > 0)
        fprintf(stderr, "%sstep %ld/%ld  loss %.4f  lr %.2e  %.0f s%s", p->terminal ? "\r\033[K" : "", step, p->total_steps,
                (double)loss, (double)lr, seconds, p->terminal ? "" : "\n");
    else
        fprintf(stderr, "%sstep %ld  loss %.4f  lr %.2e  %.0f/%.0f s%s", p->terminal ? "\r\033[K" : "", step, (double)loss,
                (double)lr, seconds, p->total_seconds, p->terminal ? "" : "\n");
}

// The text's two parts tokenized with the BPE (ordinary tokens only: "[MASK]" in the text is text).
static int tokenize_parts(const DataSource *source, const Bpe *bpe, int **train, size_t *n_train, int **heldout,
                          size_t *n_heldout, Error *error) {
    if (source->is_tokens) return error_set(error, "%s: bert trains on a text file, not a token file", source->path);
    if (bpe_encode(bpe, source->text, source->split, 0, train, n_train, error)) return -1;
    return bpe_encode(bpe, source->text + source->split, source->n_text - source->split, 0, heldout, n_heldout, error);
}

typedef struct BertArguments {
    const char *data, *tokenizer, *out, *export_path;
    BertConfig config;
    BertTrainConfig train;
    int passes, threads;
    long seed;
} BertArguments;

static int parse_train(int argc, char **argv, BertArguments *a) {
    const char *arch = NULL;
    const Option options[] = {
        {"--arch", OPTION_STRING, &arch, "bert"},
        {"--data", OPTION_STRING, &a->data, "text file; the last 10% (from a line start) is held out"},
        {"--tokenizer", OPTION_STRING, &a->tokenizer, "bpe:N: a BPE of N ordinary tokens trained on the training part (+ [CLS] [SEP] [MASK] [PAD])"},
        {"--out", OPTION_STRING, &a->out, "model file to write"},
        {"--export", OPTION_STRING, &a->export_path, "also write the tokenized data and the held-out masks for tools/reference/bert_reference.py"},
        {"--steps", OPTION_LONG, &a->train.steps, "training steps (0: by --time)"},
        {"--time", OPTION_DOUBLE, &a->train.seconds, "training seconds (without --steps: 300)"},
        {"--batch", OPTION_INT, &a->train.batch, "rows per step"},
        {"--context", OPTION_INT, &a->config.max_length, "tokens per input, [CLS] and the two [SEP]s included"},
        {"--layers", OPTION_INT, &a->config.n_layers, "encoder layers"},
        {"--heads", OPTION_INT, &a->config.n_heads, "attention heads"},
        {"--dim", OPTION_INT, &a->config.d_model, "width"},
        {"--ff", OPTION_INT, &a->config.d_ff, "feed-forward width"},
        {"--dropout", OPTION_FLOAT, &a->config.dropout, "hidden dropout while training"},
        {"--lr", OPTION_FLOAT, &a->train.lr, "peak learning rate (AdamW)"},
        {"--min-lr", OPTION_FLOAT, &a->train.min_lr, "learning rate at the end of the cosine"},
        {"--warmup", OPTION_LONG, &a->train.warmup, "steps of linear warmup"},
        {"--weight-decay", OPTION_FLOAT, &a->train.weight_decay, "AdamW's decoupled weight decay on matrices"},
        {"--clip", OPTION_FLOAT, &a->train.clip, "global gradient norm (0: none)"},
        {"--seed", OPTION_LONG, &a->seed, "initialisation, batches, masks"},
        {"--eval-passes", OPTION_INT, &a->passes, "held-out masks per window (the same masks in every run)"},
        {"--threads", OPTION_INT, &a->threads, "OpenMP threads (0: OpenMP's default)"},
    };
    const char *usage = "groundup train --arch bert [--data FILE] [--tokenizer bpe:N] [--out FILE] [--time S | --steps N] "
                        "[--batch B] [--context T] [--layers L] [--heads H] [--dim C] [--ff F] [--export FILE]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (a->train.steps == 0 && a->train.seconds == 0.0) a->train.seconds = 300.0;  // the default budget
    if (a->train.steps < 0 || !(a->train.seconds >= 0 && a->train.seconds < 1e9) || (a->train.steps > 0 && a->train.seconds > 0))
        return fail("train", "give --steps or --time (one of them, positive and finite)");
    if (a->passes < 1 || a->threads < 0) return fail("train", "--eval-passes must be >= 1 and --threads >= 0");
    if (strncmp(a->tokenizer, "bpe:", 4) != 0) return fail("train", "bert's --tokenizer is bpe:N (trained on the training part)");
    return -1;  // parsed, go on
}

// Trains, evaluates, saves and reports.
static int run_train(BertArguments *a, int argc, char **argv, Error *error) {
    DataSource source;
    TextTokenizer tokenizer;
    BertModel model;
    MlmBatch heldout;
    memset(&source, 0, sizeof source), memset(&tokenizer, 0, sizeof tokenizer);
    memset(&model, 0, sizeof model), memset(&heldout, 0, sizeof heldout);
    int *train = NULL, *held = NULL, status = -1;
    size_t n_train = 0, n_held = 0;
    char cache_dir[1100];
    directory_of(a->out, cache_dir, sizeof cache_dir);
    strncat(cache_dir, "/cache", sizeof cache_dir - strlen(cache_dir) - 1);
    MlmSpecials specials;
    if (bert_config_check(&(BertConfig){.vocab_size = 1, .max_length = a->config.max_length, .n_layers = a->config.n_layers,
                                        .n_heads = a->config.n_heads, .d_model = a->config.d_model, .d_ff = a->config.d_ff,
                                        .dropout = a->config.dropout},
                          error) ||
        data_source_load(&source, a->data, error) || data_make_tokenizer(&source, a->tokenizer, NULL, cache_dir, &tokenizer, error) ||
        mlm_add_specials(&tokenizer.bpe, &specials, error) ||
        tokenize_parts(&source, &tokenizer.bpe, &train, &n_train, &held, &n_held, error) ||
        mlm_heldout_set(&heldout, held, (long)n_held, a->config.max_length, a->passes, BERT_HELDOUT_SEED, &specials, error))
        goto done;
    if (a->export_path && mlm_export(a->export_path, train, (long)n_train, &heldout, &specials, bpe_vocab_size(&tokenizer.bpe), error))
        goto done;
    if (bert_model_create(&model, &tokenizer.bpe, a->config, (uint64_t)a->seed, error)) goto done;
    fprintf(stderr, "bert: %ld parameters, %d tokens (+4 special), %zu train / %zu held-out tokens from %s, %d threads\n",
            parameters_count(&model.net.params), model.specials.n_ordinary, n_train, n_held, a->data, omp_get_max_threads());
    BertProgress progress = {isatty(fileno(stderr)), -1e9, a->train.steps, a->train.seconds};
    BertTrainResult trained;
    a->train.seed = (uint64_t)a->seed;
    int failed = bert_pretrain(&model, train, (long)n_train, &a->train, show_step, &progress, &trained, error);
    if (progress.terminal) fprintf(stderr, "\n");
    if (failed) goto done;
    MlmScore score;
    if (mlm_evaluate(&model.net, &heldout, 32, &score, error) || bert_model_save(&model, a->out, error)) goto done;
    const BertConfig *c = &model.net.config;
    printf("bert: %d layers, %d heads, dim %d, ff %d, context %d, vocabulary %d; %ld parameters\n", c->n_layers, c->n_heads,
           c->d_model, c->d_ff, c->max_length, c->vocab_size, parameters_count(&model.net.params));
    printf("trained %ld steps of %d rows in %.1f s (%.0f tokens/s); loss of the last steps %.4f\n", trained.steps,
           a->train.batch, trained.seconds, (double)trained.steps * a->train.batch * c->max_length / trained.seconds,
           (double)trained.last_loss);
    printf("held-out: masked-token accuracy %.2f%%, loss %.4f nats, perplexity %.2f (%ld masked tokens, %d windows x %d masks)\n",
           100.0 * score.accuracy, score.mean_loss, score.perplexity, score.predictions, heldout.B / a->passes, a->passes);
    printf("model %s\n", a->out);
    char command[1024], dataset[1100];
    snprintf(dataset, sizeof dataset, "%s: %zu train, %zu held-out tokens", a->data, n_train, n_held);
    RunRecord record = {.name = "bert", .command = run_record_command(argc, argv, command, sizeof command), .dataset = dataset,
                        .parameters = parameters_count(&model.net.params), .train_seconds = trained.seconds,
                        .metric = "held-out masked-token accuracy (%)", .value = 100.0 * score.accuracy,
                        .higher_is_better = 1, .checkpoint = a->out};
    record_run("train", "bert", &record);
    status = 0;
done:
    free(train), free(held);
    mlm_batch_free(&heldout);
    bert_model_free(&model);
    text_tokenizer_free(&tokenizer);
    data_source_free(&source);
    return status;
}

int bert_train(int argc, char **argv) {
    BertArguments a = {.data = "data/mobydick.txt", .tokenizer = "bpe:2048", .out = "out/bert.safetensors",
                       .config = {.max_length = 64, .n_layers = 2, .n_heads = 4, .d_model = 64, .d_ff = 256},
                       .train = {.batch = 32, .warmup = 50, .lr = 2e-3f, .min_lr = 2e-4f,
                                 .weight_decay = 0.01f, .clip = 1.0f},
                       .passes = 4, .seed = 1};
    int parsed = parse_train(argc, argv, &a);
    if (parsed >= 0) return parsed;
    if (option_given(argc, argv, "--lr") && !option_given(argc, argv, "--min-lr")) a.train.min_lr = a.train.lr / 10.0f;
    if (!option_given(argc, argv, "--warmup") && a.train.steps > 0 && a.train.warmup >= a.train.steps) a.train.warmup = a.train.steps / 10;
    if (a.threads > 0) omp_set_num_threads(a.threads);
    Error error = {{0}};
    char directory[1100];
    directory_of(a.out, directory, sizeof directory);
    if (make_directories(directory, &error) || run_train(&a, argc, argv, &error)) return fail("train", error.message);
    return 0;
}

// "\n" and other control bytes as escapes, so a token prints on one line.
static void print_token(const unsigned char *bytes, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        if (bytes[i] == '\n') printf("\\n");
        else if (bytes[i] == '"' || bytes[i] == '\\') printf("\\%c", bytes[i]);
        else if (bytes[i] < 0x20) printf("\\x%02x", bytes[i]);
        else putchar(bytes[i]);
    }
    putchar('"');
}

int command_fill_mask(int argc, char **argv) {
    const char *model_path = NULL, *text = NULL;
    int top_k = 5;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a bert model file (groundup train --arch bert)"},
        {"--text", OPTION_STRING, &text, "text with one or more [MASK]s"},
        {"--top-k", OPTION_INT, &top_k, "completions per [MASK]"},
    };
    const char *usage = "groundup fill-mask --model FILE --text \"the white [MASK] swam away\" [--top-k K]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !text) return fail("fill-mask", "--model and --text are required");
    if (top_k < 1) return fail("fill-mask", "--top-k must be >= 1");
    Error error = {{0}};
    BertModel model;
    FillMaskResult result;
    if (bert_model_load(&model, model_path, &error)) return fail("fill-mask", error.message);
    if (bert_fill_mask(&model, text, top_k, &result, &error)) {
        bert_model_free(&model);
        return fail("fill-mask", error.message);
    }
    for (int m = 0; m < result.n_masks; m++) {
        if (result.n_masks > 1) printf("[MASK] %d of %d\n", m + 1, result.n_masks);
        for (int i = 0; i < result.k; i++) {
            size_t n = 0;
            const unsigned char *bytes = bpe_token(&model.bpe, result.ids[m * result.k + i], &n);
            printf("%2d  %.4f  ", i + 1, (double)result.probs[m * result.k + i]);
            print_token(bytes, n);
            putchar('\n');
        }
    }
    fill_mask_result_free(&result);
    bert_model_free(&model);
    return 0;
}
