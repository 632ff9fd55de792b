// groundup seq2seq-rnn: the recurrent encoder–decoder with attention (models/seq2seq_rnn.h) on a
// toy task (models/seq_tasks.h): trains (or loads --model), prints the held-out exact-match
// accuracy with greedy or beam decoding, parameters and training time; --translate decodes one text.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "foundations/clock.h"
#include "models/seq2seq_rnn_train.h"
#include "tools/commands.h"
#include "tools/options.h"

typedef struct Progress {
    int terminal, steps;
    double start;
} Progress;

static int print_progress(void *pointer, int step, float loss, float lr) {
    Progress *p = pointer;
    if (p->terminal)
        fprintf(stderr, "\rstep %d/%d  loss %.4f  lr %.2e  %.0f s ", step, p->steps, (double)loss, (double)lr,
                clock_seconds() - p->start);
    else
        fprintf(stderr, "step %d/%d  loss %.4f  lr %.2e  %.0f s\n", step, p->steps, (double)loss, (double)lr,
                clock_seconds() - p->start);
    if (p->terminal && step == p->steps) fprintf(stderr, "\n");
    return 0;
}

// Decodes one text and prints "text -> result".
static int translate(const Seq2seqRnn *model, const char *text, int beam, float alpha) {
    int ids[256], length = 0, out[256], n = 0;
    Error error = {{0}};
    if (seq_encode(text, ids, 256, &length, &error)) return fail("seq2seq-rnn", error.message);
    if (length < 1 || length > model->config.max_source) {
        snprintf(error.message, sizeof error.message, "--translate: \"%s\" has %d characters; the model takes 1 to %d",
                 text, length, model->config.max_source);
        return fail("seq2seq-rnn", error.message);
    }
    if (model->config.max_target > 256) return fail("seq2seq-rnn", "the model's targets are longer than 256");
    if (seq2seq_rnn_beam(model, ids, length, beam, alpha, out, &n, &error)) return fail("seq2seq-rnn", error.message);
    char result[512];
    seq_decode(out, n, result, sizeof result);
    printf("%s -> %s\n", text, result);
    return 0;
}

int seq2seq_rnn_command(int argc, char **argv) {
    const char *task_name = "dates", *arch = "gru", *attention_name = "additive", *save = NULL, *load = NULL;
    const char *text = NULL;
    int n_train = 20000, n_test = 1000, embedding = 32, hidden = 64, beam = 1, every = 100;
    long seed = 1;
    float alpha = 0.0f;
    Seq2seqRnnTraining training = seq2seq_rnn_training_default();
    const Option options[] = {
        {"--task", OPTION_STRING, &task_name, "reverse | addition | dates"},
        {"--arch", OPTION_STRING, &arch, "gru | lstm (the cell of encoder and decoder)"},
        {"--attention", OPTION_STRING, &attention_name, "additive (Bahdanau) | multiplicative (Luong's general)"},
        {"--train", OPTION_INT, &n_train, "training examples"},
        {"--test", OPTION_INT, &n_test, "held-out examples (none of their sources in training)"},
        {"--embedding", OPTION_INT, &embedding, "embedding size E"},
        {"--hidden", OPTION_INT, &hidden, "hidden size H (each encoder direction, the decoder, the attention)"},
        {"--steps", OPTION_INT, &training.steps, "AdamW steps"},
        {"--batch", OPTION_INT, &training.batch_size, "examples per step"},
        {"--lr", OPTION_FLOAT, &training.lr, "peak learning rate (warmup, cosine to a tenth)"},
        {"--warmup", OPTION_INT, &training.warmup_steps, "warmup steps"},
        {"--weight-decay", OPTION_FLOAT, &training.weight_decay, "AdamW weight decay on matrices"},
        {"--clip", OPTION_FLOAT, &training.clip, "gradient-norm clip (0: none)"},
        {"--teacher-forcing", OPTION_FLOAT, &training.teacher_forcing, "probability of feeding the true previous token"},
        {"--beam", OPTION_INT, &beam, "beam width for evaluation (1: greedy)"},
        {"--alpha", OPTION_FLOAT, &alpha, "length normalisation: score = sum log p / length^alpha"},
        {"--seed", OPTION_LONG, &seed, "seed of the data, the initialisation and the batches"},
        {"--every", OPTION_INT, &every, "progress every N steps"},
        {"--save", OPTION_STRING, &save, "write the trained model (safetensors)"},
        {"--model", OPTION_STRING, &load, "evaluate this model instead of training one"},
        {"--translate", OPTION_STRING, &text, "also decode this text"},
    };
    int parsed = options_parse(argc, argv,
                               "groundup seq2seq-rnn [--task dates] [--arch gru|lstm] [--attention additive|multiplicative] "
                               "[--steps 600] [--beam 1] [--save FILE | --model FILE] [--translate TEXT] ...",
                               options, (int)(sizeof options / sizeof *options), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    Error error = {{0}};
    SeqTask task;
    RnnKind cell;
    AttentionKind attention;
    if (seq_task_parse(task_name, &task, &error) || rnn_kind_parse(arch, &cell, &error) ||
        attention_kind_parse(attention_name, &attention, &error))
        return fail("seq2seq-rnn", error.message);
    if (beam < 1) return fail("seq2seq-rnn", "--beam must be at least 1");
    if (n_test < 1) return fail("seq2seq-rnn", "--test must be at least 1");
    Seq2seqRnn model;
    Random rng;
    random_seed(&rng, (uint64_t)seed);
    Seq2seqRnnConfig config = seq2seq_rnn_config_for(task, cell, attention, embedding, hidden);
    if (load ? seq2seq_rnn_load(&model, load, &error) : seq2seq_rnn_create(&model, &config, &rng, &error))
        return fail("seq2seq-rnn", error.message);
    SeqDataset train = {0}, test = {0};
    int status = seq_datasets_make(task, load ? 1 : n_train, n_test, (uint64_t)seed, &train, &test, &error);
    config = model.config;
    printf("seq2seq-rnn %s + %s attention on %s: E %d, H %d, %ld parameters\n", rnn_kind_name(config.cell),
           attention_kind_name(config.attention), seq_task_name(task), config.embedding_size, config.hidden_size,
           parameters_count(&model.params));
    if (!status && !load) {
        training.seed = (uint64_t)seed;
        Progress progress = {isatty(fileno(stderr)), training.steps, clock_seconds()};
        status = seq2seq_rnn_train(&model, &train, &training, print_progress, &progress, every, &error);
        double seconds = clock_seconds() - progress.start;
        if (!status)
            printf("trained %d steps of %d on %d examples in %.1f s (%.1f ms/step)\n", training.steps,
                   training.batch_size, train.n, seconds, 1000.0 * seconds / training.steps);
    }
    if (!status && save) status = seq2seq_rnn_save(&model, save, &error);
    int correct = 0;
    double start = clock_seconds();
    if (!status) status = seq2seq_rnn_exact_match(&model, &test, beam, alpha, &correct, NULL, &error);
    if (!status)
        printf("held-out exact match: %d/%d = %.2f%% (%s, %.1f s)\n", correct, test.n, 100.0 * correct / test.n,
               beam == 1 ? "greedy" : "beam", clock_seconds() - start);
    seq_dataset_free(&train), seq_dataset_free(&test);
    int result = status ? fail("seq2seq-rnn", error.message) : 0;
    if (!result && text) result = translate(&model, text, beam, alpha);
    seq2seq_rnn_free(&model);
    return result;
}
