// groundup seq2seq train|eval|translate: sequence-to-sequence models on the toy tasks
// (models/seq_tasks.h: reverse, addition, dates), trained with teacher forcing, decoded
// greedily or by beam search, scored by exact match on a held-out set.
//
//   groundup seq2seq train --task reverse --arch transformer --out M.safetensors [sizes] [recipe]
//   groundup seq2seq eval --model M.safetensors [--beam 4 --alpha 0.6] [--examples 5]
//   groundup seq2seq translate --model M.safetensors --text "march 12, 2019" [--beam 4] [--attention A.svg]
//
// The architecture is a Seq2SeqModel (models/seq2seq.h); create_model below is the one switch
// that knows the architectures' options. The checkpoint records the architecture, its sizes,
// the task and the data's seed and sizes, so eval regenerates the same held-out set.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/clock.h"
#include "foundations/heatmap.h"
#include "models/recurrent_seq2seq.h"
#include "models/seq2seq.h"
#include "models/transformer_seq2seq.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run_record.h"

// Every architecture's options, with their defaults.
typedef struct ArchOptions {
    int d_model, heads, encoder_layers, decoder_layers, feedforward, norm_first, learned_positions;
    const char *activation;
    float dropout;
    const char *attention;  // gru, lstm: additive | multiplicative
    int embedding, hidden;  // gru, lstm: E and H
    float teacher_forcing;  // gru, lstm
} ArchOptions;

static int create_model(const char *arch, const ArchOptions *o, SeqTask task, uint64_t seed, Seq2SeqModel *model,
                        Error *error) {
    Random rng;
    random_seed(&rng, seed);
    if (!strcmp(arch, "transformer")) {
        TransformerConfig c = {.src_vocab_size = seq_vocab_size(), .tgt_vocab_size = seq_vocab_size(),
                               .d_model = o->d_model, .n_heads = o->heads, .n_encoder_layers = o->encoder_layers,
                               .n_decoder_layers = o->decoder_layers, .dim_feedforward = o->feedforward,
                               .max_source_length = seq_task_max_source(task), .max_target_length = seq_task_max_target(task),
                               .norm_first = o->norm_first, .learned_positions = o->learned_positions, .dropout = o->dropout};
        if (transformer_activation_parse(o->activation, &c.activation, error)) return -1;
        return transformer_seq2seq_create(model, &c, &rng, error);
    }
    RnnKind cell;
    if (!strcmp(arch, "gru") || !strcmp(arch, "lstm")) {
        AttentionKind attention;
        if (rnn_kind_parse(arch, &cell, error) || attention_kind_parse(o->attention, &attention, error)) return -1;
        if (o->dropout != 0.0f) return error_set(error, "--dropout: the %s model has no dropout", arch);
        Seq2seqRnnConfig c = recurrent_seq2seq_config(task, cell, attention, o->embedding, o->hidden);
        return recurrent_seq2seq_create(model, &c, o->teacher_forcing, &rng, error);
    }
    return error_set(error, "unknown architecture '%s' (transformer, gru, lstm)", arch);
}

// A size from the model file's metadata, or fallback.
static long metadata_long(const char *path, const char *key, long fallback) {
    Safetensors file;
    Error error;
    if (safetensors_read(&file, path, &error)) return fallback;
    const char *text = safetensors_metadata(&file, key);
    long value = text ? strtol(text, NULL, 10) : fallback;
    safetensors_free(&file);
    return value;
}

typedef struct TrainReport {
    int terminal;
    long steps;
    double last;
} TrainReport;

// Progress on stderr: a live line on a terminal, otherwise a line at every tenth of the steps.
static void report_progress(void *context, const Seq2SeqProgress *p) {
    TrainReport *r = context;
    long every = r->steps >= 10 ? r->steps / 10 : 1;
    if (r->terminal && (p->seconds - r->last >= 0.1 || p->step == r->steps)) {
        r->last = p->seconds;
        fprintf(stderr, "\r\033[Kstep %ld/%ld  loss %.4f  lr %.2e  %.0f s", p->step, r->steps, (double)p->loss,
                (double)p->lr, p->seconds);
    } else if (!r->terminal && p->step % every == 0) {
        fprintf(stderr, "step %ld/%ld  loss %.4f  lr %.2e  %.1f s\n", p->step, r->steps, (double)p->loss, (double)p->lr,
                p->seconds);
    }
}

// The first n held-out predictions, one line each: source, prediction, target, ✓ or ✗.
static int print_examples(const Seq2SeqModel *model, const SeqDataset *set, int n, int beam, float alpha, Error *error) {
    int out[256], length;
    for (int i = 0; i < n && i < set->n; i++) {
        const int *source = set->source + (size_t)i * set->max_source;
        if (seq2seq_beam(model, source, set->source_length[i], beam, alpha, out, &length, error)) return -1;
        char text[3][256];
        seq_decode(source, set->source_length[i], text[0], sizeof text[0]);
        seq_decode(out, length, text[1], sizeof text[1]);
        seq_decode(set->target + (size_t)i * set->max_target, set->target_length[i], text[2], sizeof text[2]);
        printf("  %-20s -> %-18s %s\n", text[0], text[1], strcmp(text[1], text[2]) ? "✗" : "✓");
    }
    return 0;
}

static int evaluate_and_print(const Seq2SeqModel *model, const SeqDataset *test, int beam, float alpha, int examples,
                              double *accuracy, Error *error) {
    Seq2SeqEvaluation e;
    if (seq2seq_evaluate(model, test, beam, alpha, &e, error)) return -1;
    if (accuracy) *accuracy = e.accuracy;
    printf("held-out exact match: %.2f%% (%d of %d), %s, %.1f s\n", 100.0 * e.accuracy, e.correct, e.count,
           beam == 1 ? "greedy" : "beam search", e.seconds);
    if (beam > 1) printf("  (beam width %d, length normalisation alpha %g)\n", beam, (double)alpha);
    return print_examples(model, test, examples, beam, alpha, error);
}

static int seq2seq_train_command(int argc, char **argv) {
    const char *task_name = NULL, *arch = "transformer", *out = NULL;
    ArchOptions a = {64, 4, 2, 2, 256, 0, 0, "relu", 0.0f, "additive", 32, 64, 1.0f};
    Seq2SeqTrainConfig c = {.steps = 0, .batch_size = 64, .lr = 1e-3f, .weight_decay = 0.01f, .clip = 1.0f,
                            .warmup_steps = -1, .seed = 1};
    int n_train = 50000, n_test = 1000, beam = 1, examples = 5;
    long seed = 1;
    float alpha = 0.6f;
    const Option options[] = {
        {"--task", OPTION_STRING, &task_name, "reverse | addition | dates"},
        {"--arch", OPTION_STRING, &arch, "transformer | gru | lstm (the recurrent encoder-decoder with attention)"},
        {"--out", OPTION_STRING, &out, "the trained model (safetensors: weights, architecture, task)"},
        {"--d-model", OPTION_INT, &a.d_model, "transformer: width"},
        {"--heads", OPTION_INT, &a.heads, "transformer: attention heads (divide --d-model)"},
        {"--encoder-layers", OPTION_INT, &a.encoder_layers, "transformer: encoder layers"},
        {"--decoder-layers", OPTION_INT, &a.decoder_layers, "transformer: decoder layers"},
        {"--feedforward", OPTION_INT, &a.feedforward, "transformer: feed-forward width"},
        {"--activation", OPTION_STRING, &a.activation, "transformer: relu | gelu"},
        {"--norm-first", OPTION_FLAG, &a.norm_first, "transformer: pre-LayerNorm (default post-LN, the paper's)"},
        {"--learned-positions", OPTION_FLAG, &a.learned_positions, "transformer: learned positions, not sinusoidal"},
        {"--dropout", OPTION_FLOAT, &a.dropout, "transformer: dropout while training"},
        {"--attention", OPTION_STRING, &a.attention, "gru, lstm: additive (Bahdanau) | multiplicative (Luong's general)"},
        {"--embedding", OPTION_INT, &a.embedding, "gru, lstm: embedding size"},
        {"--hidden", OPTION_INT, &a.hidden, "gru, lstm: hidden size (each encoder direction, the decoder, attention)"},
        {"--teacher-forcing", OPTION_FLOAT, &a.teacher_forcing,
         "gru, lstm: probability of feeding the true previous token while training (else the model's own)"},
        {"--steps", OPTION_LONG, &c.steps, "updates (0: the task's recipe: reverse 1500, addition 7000, dates 1000)"},
        {"--time-limit", OPTION_DOUBLE, &c.time_limit, "seconds of training at most (0: none); the schedule follows it"},
        {"--batch", OPTION_INT, &c.batch_size, "examples per update"},
        {"--lr", OPTION_FLOAT, &c.lr, "peak learning rate (AdamW, warmup then cosine to lr/10)"},
        {"--warmup", OPTION_LONG, &c.warmup_steps, "warmup steps (-1: the task's recipe: 100, 200, 100)"},
        {"--weight-decay", OPTION_FLOAT, &c.weight_decay, "AdamW weight decay on matrices"},
        {"--clip", OPTION_FLOAT, &c.clip, "gradient norm clipping (0: none)"},
        {"--smoothing", OPTION_FLOAT, &c.smoothing, "label smoothing"},
        {"--train", OPTION_INT, &n_train, "training examples"},
        {"--test", OPTION_INT, &n_test, "held-out examples"},
        {"--seed", OPTION_LONG, &seed, "data, initialisation and batches"},
        {"--beam", OPTION_INT, &beam, "beam width of the held-out evaluation (1: greedy)"},
        {"--alpha", OPTION_FLOAT, &alpha, "length normalisation: score = sum log p / length^alpha"},
        {"--examples", OPTION_INT, &examples, "held-out predictions to print"},
    };
    const char *usage = "groundup seq2seq train --task reverse|addition|dates --out M.safetensors [--arch transformer|gru|lstm] "
                        "[sizes] [--steps N] [--time-limit S] ...";
    int parsed = options_parse(argc, argv, usage, options, sizeof options / sizeof *options, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    Error error = {{0}};
    SeqTask task;
    if (!task_name || !out) return fail("seq2seq train", "--task and --out are required");
    if (seq_task_parse(task_name, &task, &error)) return fail("seq2seq train", error.message);
    if (beam < 1) return fail("seq2seq train", "--beam must be at least 1");
    c.seed = (uint64_t)seed;
    // The recipes measured to reach the targets (README): steps and warmup per task.
    static const long RECIPE_STEPS[3] = {1500, 7000, 1000}, RECIPE_WARMUP[3] = {100, 200, 100};
    if (c.steps == 0) c.steps = RECIPE_STEPS[task];
    if (c.warmup_steps < 0) c.warmup_steps = RECIPE_WARMUP[task] < c.steps ? RECIPE_WARMUP[task] : c.steps / 10;
    SeqDataset train, test;
    if (seq_datasets_make(task, n_train, n_test, (uint64_t)seed, &train, &test, &error)) return fail("seq2seq train", error.message);
    Seq2SeqModel model;
    if (create_model(arch, &a, task, (uint64_t)seed, &model, &error)) {
        seq_dataset_free(&train), seq_dataset_free(&test);
        return fail("seq2seq train", error.message);
    }
    fprintf(stderr, "%s on %s: %ld parameters, %d training and %d held-out examples\n", arch, task_name,
            parameters_count(model.params), n_train, n_test);
    TrainReport report = {isatty(fileno(stderr)), c.steps, 0.0};
    long steps_done;
    double seconds;
    int status = seq2seq_train(&model, &train, &c, report_progress, &report, &steps_done, &seconds, &error);
    if (report.terminal) fprintf(stderr, "\n");
    char texts[3][32];
    snprintf(texts[0], 32, "%ld", seed), snprintf(texts[1], 32, "%d", n_train), snprintf(texts[2], 32, "%d", n_test);
    SafetensorsMetadata extra[3] = {{"seed", texts[0]}, {"train_examples", texts[1]}, {"test_examples", texts[2]}};
    if (!status) status = seq2seq_save(&model, task, extra, 3, out, &error);
    if (!status) {
        printf("%s, %s: %ld parameters, %ld steps of %d in %.1f s (%.1f ms/step), saved to %s\n", task_name, arch,
               parameters_count(model.params), steps_done, c.batch_size, seconds, 1000.0 * seconds / (double)steps_done, out);
        double accuracy = 0.0;
        status = evaluate_and_print(&model, &test, beam, alpha, examples, &accuracy, &error);
        char name[96], command[1024], dataset[96];
        snprintf(name, sizeof name, "seq2seq-%s-%s", task_name, arch);
        snprintf(dataset, sizeof dataset, "%s: %d train, %d held-out examples", task_name, n_train, n_test);
        RunRecord record = {.name = name, .command = run_record_subcommand("seq2seq", argc, argv, command, sizeof command),
                            .dataset = dataset, .parameters = parameters_count(model.params), .train_seconds = seconds,
                            .metric = beam == 1 ? "held-out exact match, greedy (%)" : "held-out exact match, beam search (%)",
                            .value = 100.0 * accuracy, .higher_is_better = 1, .checkpoint = out};
        if (!status) record_run("seq2seq train", arch, &record);
    }
    seq2seq_free(&model);
    seq_dataset_free(&train), seq_dataset_free(&test);
    return status ? fail("seq2seq train", error.message) : 0;
}

static int seq2seq_eval_command(int argc, char **argv) {
    const char *model_path = NULL, *task_name = NULL;
    int n_test = -1, n_train = -1, beam = 1, examples = 5;
    long seed = -1;
    float alpha = 0.6f;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a model written by seq2seq train"},
        {"--task", OPTION_STRING, &task_name, "the task to evaluate on (default: the model's)"},
        {"--test", OPTION_INT, &n_test, "held-out examples (default: the model's)"},
        {"--train", OPTION_INT, &n_train, "training examples excluded from the held-out set (default: the model's)"},
        {"--seed", OPTION_LONG, &seed, "the data's seed (default: the model's)"},
        {"--beam", OPTION_INT, &beam, "beam width (1: greedy)"},
        {"--alpha", OPTION_FLOAT, &alpha, "length normalisation: score = sum log p / length^alpha"},
        {"--examples", OPTION_INT, &examples, "held-out predictions to print"},
    };
    const char *usage = "groundup seq2seq eval --model M.safetensors [--beam N] [--alpha A] [--task T]";
    int parsed = options_parse(argc, argv, usage, options, sizeof options / sizeof *options, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path) return fail("seq2seq eval", "--model is required");
    if (beam < 1) return fail("seq2seq eval", "--beam must be at least 1");
    Error error = {{0}};
    Seq2SeqModel model;
    SeqTask task;
    if (seq2seq_load(&model, &task, model_path, &error)) return fail("seq2seq eval", error.message);
    if (task_name && seq_task_parse(task_name, &task, &error)) return seq2seq_free(&model), fail("seq2seq eval", error.message);
    if (seed < 0) seed = metadata_long(model_path, "seed", 1);
    if (n_train < 0) n_train = (int)metadata_long(model_path, "train_examples", 50000);
    if (n_test < 0) n_test = (int)metadata_long(model_path, "test_examples", 1000);
    SeqDataset train, test;
    int status = seq_datasets_make(task, n_train, n_test, (uint64_t)seed, &train, &test, &error);
    if (!status) {
        status = evaluate_and_print(&model, &test, beam, alpha, examples, NULL, &error);
        seq_dataset_free(&train), seq_dataset_free(&test);
    }
    seq2seq_free(&model);
    return status ? fail("seq2seq eval", error.message) : 0;
}

// "3 4 17" or "3,4,17" -> ids; an error names what is not a number.
static int parse_ids(const char *text, int *ids, int capacity, int *n, Error *error) {
    *n = 0;
    for (const char *p = text; *p;) {
        if (*p == ' ' || *p == ',') {
            p++;
            continue;
        }
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < -1000000000L || v > 1000000000L) return error_set(error, "--ids: '%s' is not a list of integers", text);
        if (*n == capacity) return error_set(error, "--ids: more than %d ids", capacity);
        ids[(*n)++] = (int)v, p = end;
    }
    return *n ? 0 : error_set(error, "--ids: no ids");
}

// The cross-attention of the prediction (the recurrent decoder's attention for gru and lstm) as
// an SVG heat map: rows the output characters, columns the source's.
static int write_attention(const Seq2SeqModel *model, const int *source, int S, const int *out, int length,
                           const char *path, Error *error) {
    float *weights = malloc(sizeof(float) * (size_t)S * (size_t)length);
    char labels[2][256][8];
    const char *rows[256], *columns[256];
    if (!weights) return error_set(error, "out of memory");
    int transformer = !strcmp(model->arch, "transformer");
    int status = transformer ? transformer_cross_attention(model, source, S, out, length, weights, error)
                             : seq2seq_rnn_alignment(recurrent_seq2seq_net(model), source, S, out, length, weights, error);
    for (int i = 0; i < S; i++) {
        seq_decode(source + i, 1, labels[0][i], 8), columns[i] = labels[0][i];
        if (!strcmp(labels[0][i], " ")) snprintf(labels[0][i], 8, "␣");  // a space, visible
    }
    for (int t = 1; t < length; t++) {
        seq_decode(out + t, 1, labels[1][t - 1], 8), rows[t - 1] = labels[1][t - 1];
        if (out[t] == SEQ_EOS) snprintf(labels[1][t - 1], 8, "EOS");
    }
    if (!status)
        status = heatmap_write_svg(path, transformer ? "Cross-attention of the last decoder layer (mean over heads)"
                                                     : "Attention of the decoder over the encoder's annotations",
                                   weights, length - 1, S, rows, columns, "rows: output characters",
                                   "columns: source characters", error);
    free(weights);
    return status;
}

static int seq2seq_translate_command(int argc, char **argv) {
    const char *model_path = NULL, *text = NULL, *ids_text = NULL, *attention = NULL;
    int beam = 1;
    float alpha = 0.6f;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "a model written by seq2seq train"},
        {"--text", OPTION_STRING, &text, "the source text"},
        {"--ids", OPTION_STRING, &ids_text, "the source as vocabulary ids (\"5 7 12\"), instead of --text"},
        {"--beam", OPTION_INT, &beam, "beam width (1: greedy)"},
        {"--alpha", OPTION_FLOAT, &alpha, "length normalisation: score = sum log p / length^alpha"},
        {"--attention", OPTION_STRING, &attention, "write the (cross-)attention weights as an SVG heat map"},
    };
    const char *usage = "groundup seq2seq translate --model M.safetensors --text \"...\" [--beam N] [--attention A.svg]";
    int parsed = options_parse(argc, argv, usage, options, sizeof options / sizeof *options, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !(text || ids_text)) return fail("seq2seq translate", "--model and --text (or --ids) are required");
    if (beam < 1) return fail("seq2seq translate", "--beam must be at least 1");
    Error error = {{0}};
    int source[256], S = 0, out[256], length = 0;
    if (ids_text ? parse_ids(ids_text, source, 256, &S, &error) : seq_encode(text, source, 256, &S, &error))
        return fail("seq2seq translate", error.message);
    Seq2SeqModel model;
    SeqTask task;
    if (seq2seq_load(&model, &task, model_path, &error)) return fail("seq2seq translate", error.message);
    int status = seq2seq_beam(&model, source, S, beam, alpha, out, &length, &error);
    if (!status && attention) status = write_attention(&model, source, S, out, length, attention, &error);
    if (!status) {
        char decoded[256];
        seq_decode(out, length, decoded, sizeof decoded);
        printf("%s\n", decoded);
    }
    seq2seq_free(&model);
    return status ? fail("seq2seq translate", error.message) : 0;
}

int command_seq2seq(int argc, char **argv) {
    const char *usage = "usage: groundup seq2seq train|eval|translate [options]   (groundup seq2seq train --help)\n";
    if (argc >= 2 && !strcmp(argv[1], "train")) return seq2seq_train_command(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "eval")) return seq2seq_eval_command(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "translate")) return seq2seq_translate_command(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) return printf("%s", usage), 0;
    fprintf(stderr, "groundup: seq2seq: expected train, eval or translate\n%s", usage);
    return 2;
}
