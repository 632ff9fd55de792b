// groundup bench tokenizer: encoding speed (MB/s, one thread) of GPT-2's tokenizer on
// data/mobydick.txt, and training time on the same file: to 4096 tokens, and to as many
// tokens as the text allows (what Hugging Face's trainer does when asked for more).
// Encoding is timed over whole calls of bpe_encode (each starts with an empty chunk cache).
// tools/bench_tokenizer.sh runs this next to tiktoken-rs and Hugging Face tokenizers.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "foundations/file.h"
#include "tokenizer/bpe.h"
#include "tokenizer/named.h"
#include "tools/bench.h"
#include "tools/run.h"
#include "tools/options.h"

// Median seconds of `repeats` encodings of text[n]; *n_ids gets the id count.
static double time_encode(const Bpe *bpe, const unsigned char *text, size_t n, int repeats, size_t *n_ids, Error *error) {
    double *times = malloc(sizeof(double) * (size_t)repeats);
    if (!times) return -1;
    for (int r = 0; r < repeats; r++) {
        int *ids = NULL;
        double start = clock_seconds();
        if (bpe_encode(bpe, text, n, 0, &ids, n_ids, error) != 0) {
            free(times);
            return -1;
        }
        times[r] = clock_seconds() - start;
        free(ids);
    }
    double median = bench_median(times, repeats);
    free(times);
    return median;
}

int bench_tokenizer(int argc, char **argv) {
    const char *command = "bench tokenizer";
    const char *data = "data/mobydick.txt", *data_dir = NULL;
    const char *cl100k = "tests/fixtures/tokenizer/cl100k_base/cl100k_base.tiktoken";
    int repeats = 5, train_vocab = 4096, skip_max = 0;
    Option options[] = {
        {"--data", OPTION_STRING, &data, "text to encode and train on"},
        {"--data-dir", OPTION_STRING, &data_dir, "the bundled data (gpt2/); default: found"},
        {"--cl100k", OPTION_STRING, &cl100k, "cl100k_base.tiktoken, also timed if it exists"},
        {"--repeats", OPTION_INT, &repeats, "timed encodings (the median is reported)"},
        {"--train-vocab", OPTION_INT, &train_vocab, "vocabulary size of the timed training"},
        {"--skip-max", OPTION_FLAG, &skip_max, "do not time training to the largest vocabulary"},
    };
    int status = options_parse(argc, argv, "groundup bench tokenizer [--data FILE] [--repeats N] [--train-vocab N]",
                               options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (repeats < 1 || repeats > 1000) return fail(command, "--repeats must be 1..1000");
    unsigned char *text;
    size_t n;
    Error error = {{0}};
    if (file_read_all(data, &text, &n, &error) != 0) return fail(command, error.message);
    char encoder[1024], vocab[1024];
    if (!data_dir) data_dir = bundled_data_directory();
    snprintf(encoder, sizeof encoder, "%s/gpt2/encoder.json", data_dir);
    snprintf(vocab, sizeof vocab, "%s/gpt2/vocab.bpe", data_dir);

    printf("| measurement (%s, %.2f MB) | result |\n|---|---|\n", data, (double)n / 1e6);
    Bpe bpe;
    double start = clock_seconds();
    if (bpe_load_gpt2(&bpe, encoder, vocab, &error) != 0) return fail(command, error.message);
    printf("| load GPT-2 encoder.json + vocab.bpe | %.3f s |\n", clock_seconds() - start);
    size_t n_ids = 0;
    double seconds = time_encode(&bpe, text, n, repeats, &n_ids, &error);
    bpe_free(&bpe);
    if (seconds < 0) return fail(command, error.message);
    printf("| encode, GPT-2, one thread | %.1f MB/s (%.3f s, %zu tokens) |\n", (double)n / 1e6 / seconds, seconds, n_ids);
    fflush(stdout);

    FILE *probe = fopen(cl100k, "rb");
    if (probe) {
        fclose(probe);
        if (bpe_load_tiktoken(&bpe, cl100k, PATTERN_CL100K, &error) != 0) return fail(command, error.message);
        seconds = time_encode(&bpe, text, n, repeats, &n_ids, &error);
        bpe_free(&bpe);
        if (seconds < 0) return fail(command, error.message);
        printf("| encode, cl100k_base, one thread | %.1f MB/s (%.3f s, %zu tokens) |\n", (double)n / 1e6 / seconds,
               seconds, n_ids);
        fflush(stdout);
    }

    start = clock_seconds();
    if (bpe_train(&bpe, text, n, train_vocab, PATTERN_GPT2, NULL, NULL, &error) != 0) return fail(command, error.message);
    printf("| train to %d tokens, gpt2 pattern | %.3f s |\n", train_vocab, clock_seconds() - start);
    bpe_free(&bpe);
    fflush(stdout);
    if (!skip_max) {
        start = clock_seconds();
        if (bpe_train(&bpe, text, n, 0, PATTERN_GPT2, NULL, NULL, &error) != 0) return fail(command, error.message);
        printf("| train to every merge the text allows (%d tokens), gpt2 pattern | %.3f s |\n", bpe.n_tokens,
               clock_seconds() - start);
        bpe_free(&bpe);
    }
    free(text);
    return 0;
}
