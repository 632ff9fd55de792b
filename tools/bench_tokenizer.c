// groundup bench tokenizer: encoding speed (MB/s, 1 and 2 threads) of GPT-2's tokenizer on
// data/mobydick.txt, and training time on the same file: to 4096 tokens, and to as many
// tokens as the text allows (what Hugging Face's trainer does when asked for more).
// Encoding is timed over whole calls of bpe_encode (each starts with an empty chunk cache).
// tools/bench_tokenizer.sh runs this next to tiktoken-rs and Hugging Face tokenizers.
#include <omp.h>
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

// Median seconds of `repeats` encodings of text[n] with 1..max_threads threads, the thread
// counts taking turns within each repeat (so that load from elsewhere falls on all alike):
// seconds[t - 1] for t threads. *n_ids gets the id count. Returns 0, or -1 (error set).
static int time_encode(const Bpe *bpe, const unsigned char *text, size_t n, int repeats, int max_threads,
                       double *seconds, size_t *n_ids, Error *error) {
    double *times = malloc(sizeof(double) * (size_t)repeats * (size_t)max_threads);
    if (!times) return error_set(error, "out of memory");
    for (int r = 0; r < repeats; r++)
        for (int t = 1; t <= max_threads; t++) {
            omp_set_num_threads(t);
            int *ids = NULL;
            double start = clock_seconds();
            if (bpe_encode(bpe, text, n, 0, &ids, n_ids, error) != 0) {
                free(times);
                return -1;
            }
            times[(t - 1) * repeats + r] = clock_seconds() - start;
            free(ids);
        }
    for (int t = 1; t <= max_threads; t++) seconds[t - 1] = bench_median(times + (t - 1) * repeats, repeats);
    free(times);
    return 0;
}

// One table row per thread count.
static int print_encode(const char *what, const Bpe *bpe, const unsigned char *text, size_t n, int repeats,
                        int max_threads, Error *error) {
    double seconds[64];
    size_t n_ids = 0;
    if (time_encode(bpe, text, n, repeats, max_threads, seconds, &n_ids, error) != 0) return -1;
    for (int t = 1; t <= max_threads; t++)
        printf("| encode, %s, %d thread%s | %.1f MB/s (%.3f s, %zu tokens) |\n", what, t, t > 1 ? "s" : "",
               (double)n / 1e6 / seconds[t - 1], seconds[t - 1], n_ids);
    fflush(stdout);
    return 0;
}

int bench_tokenizer(int argc, char **argv) {
    const char *command = "bench tokenizer";
    const char *data = "data/mobydick.txt", *data_dir = NULL;
    const char *cl100k = "data/cl100k_base/cl100k_base.tiktoken";
    int repeats = 5, train_vocab = 4096, skip_max = 0, max_threads = 2;
    Option options[] = {
        {"--data", OPTION_STRING, &data, "text to encode and train on"},
        {"--data-dir", OPTION_STRING, &data_dir, "the bundled data (gpt2/); default: found"},
        {"--cl100k", OPTION_STRING, &cl100k, "cl100k_base.tiktoken, also timed if it exists"},
        {"--repeats", OPTION_INT, &repeats, "timed encodings (the median is reported)"},
        {"--train-vocab", OPTION_INT, &train_vocab, "vocabulary size of the timed training"},
        {"--skip-max", OPTION_FLAG, &skip_max, "do not time training to the largest vocabulary"},
        {"--threads", OPTION_INT, &max_threads, "encoding is timed with 1..N threads"},
    };
    int status = options_parse(argc, argv,
                               "groundup bench tokenizer [--data FILE] [--repeats N] [--train-vocab N] [--threads N]",
                               options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (repeats < 1 || repeats > 1000 || max_threads < 1 || max_threads > 64)
        return fail(command, "--repeats must be 1..1000, --threads 1..64");
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
    status = print_encode("GPT-2", &bpe, text, n, repeats, max_threads, &error);
    bpe_free(&bpe);
    if (status != 0) return fail(command, error.message);

    FILE *probe = fopen(cl100k, "rb");
    if (probe) {
        fclose(probe);
        if (bpe_load_tiktoken(&bpe, cl100k, PATTERN_CL100K, &error) != 0) return fail(command, error.message);
        status = print_encode("cl100k_base", &bpe, text, n, repeats, max_threads, &error);
        bpe_free(&bpe);
        if (status != 0) return fail(command, error.message);
    }

    omp_set_num_threads(1);  // (training has no threads)
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
