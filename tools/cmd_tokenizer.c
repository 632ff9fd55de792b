// groundup tokenizer <train|encode|decode|stats>: the byte-level BPE tokenizer from the
// command line. Parses arguments, calls tokenizer/, prints; nothing else.
//
//   train   --data FILE --vocab-size N --out FILE [--pattern gpt2|cl100k|none] [--special TEXT]
//   encode  --tokenizer NAME [--in FILE] [--out FILE] [--binary uint32|uint16] [--allow-special]
//   decode  --tokenizer NAME [--in FILE] [--out FILE] [--binary uint32|uint16]
//   stats   --tokenizer NAME --in FILE
// A tokenizer NAME is gpt2, cl100k_base, a .tiktoken rank file or a file in groundup's own
// format (written by train): tokenizer/named.h, which also finds the bundled data (--data-dir
// overrides it).
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/clock.h"
#include "foundations/file.h"
#include "tokenizer/bpe.h"
#include "tokenizer/named.h"
#include "tools/bench.h"
#include "tools/run.h"
#include "tools/commands.h"
#include "tools/options.h"

// ------------------------------------------------------------------ files

// Reads all of path (or stdin when path is NULL or "-") into *data.
static int read_input(const char *path, unsigned char **data, size_t *n, Error *error) {
    if (!path || strcmp(path, "-") == 0) return file_read_stream(stdin, "standard input", data, n, error);
    return file_read_all(path, data, n, error);
}

// Output goes to stdout, or to a temporary file renamed to path when everything was written.
typedef struct Output {
    FILE *file;
    int to_file;
    SafeFile safe;
} Output;

static int output_open(Output *out, const char *path, Error *error) {
    out->to_file = path && strcmp(path, "-") != 0;
    out->file = stdout;
    if (!out->to_file) return 0;
    if (safe_file_open(&out->safe, path, error)) return -1;
    out->file = out->safe.file;
    return 0;
}

static int output_close(Output *out, int ok, Error *error) {
    if (!out->to_file) {
        if (fflush(stdout) != 0 && ok) return error_set(error, "cannot write to standard output");
        return ok ? 0 : -1;
    }
    if (!ok) {
        safe_file_abort(&out->safe);
        return -1;
    }
    return safe_file_commit(&out->safe, error);
}

// ------------------------------------------------------------------ loading a tokenizer

static int fail_with(const char *command, const Error *error) { return fail(command, error->message); }

// ------------------------------------------------------------------ train

typedef struct MergeProgress {
    double start;
    int live;  // stderr is a terminal
} MergeProgress;

static void show_progress(void *context, int merges_done, int merges_wanted) {
    MergeProgress *p = context;
    if (!p->live) return;
    double seconds = clock_seconds() - p->start;
    if (merges_wanted) fprintf(stderr, "\r  merges %d/%d  %.0f merges/s   ", merges_done, merges_wanted, merges_done / (seconds + 1e-9));
    else fprintf(stderr, "\r  merges %d  %.0f merges/s   ", merges_done, merges_done / (seconds + 1e-9));
    fflush(stderr);
}

static int tokenizer_train(int argc, char **argv) {
    const char *command = "tokenizer train";
    const char *data = NULL, *out = NULL, *pattern_text = "gpt2", *special = NULL;
    int vocab_size = 4096;
    Option options[] = {
        {"--data", OPTION_STRING, &data, "training text file (required)"},
        {"--vocab-size", OPTION_INT, &vocab_size, "tokens: 256 bytes + merges (0: as many as the text allows)"},
        {"--out", OPTION_STRING, &out, "where to write the tokenizer (required)"},
        {"--pattern", OPTION_STRING, &pattern_text, "pre-split pattern: gpt2, cl100k or none"},
        {"--special", OPTION_STRING, &special, "a special token to add after training, e.g. '<|endoftext|>'"},
    };
    int status = options_parse(argc, argv,
                               "groundup tokenizer train --data FILE --vocab-size N --out FILE [--pattern gpt2|cl100k|none] [--special TEXT]",
                               options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (!data || !out) return fail(command, "--data and --out are required");
    int pattern = pattern_from_name(pattern_text);
    if (pattern < 0) return fail(command, "--pattern must be gpt2, cl100k or none");
    Error error = {{0}};
    unsigned char *text;
    size_t n;
    if (read_input(data, &text, &n, &error) != 0) return fail_with(command, &error);
    MergeProgress progress = {clock_seconds(), isatty(fileno(stderr))};
    Bpe bpe;
    status = bpe_train(&bpe, text, n, vocab_size, pattern, show_progress, &progress, &error);
    if (progress.live) fprintf(stderr, "\n");
    free(text);
    if (status != 0) {
        error_prefix(&error, "%s", data);
        return fail_with(command, &error);
    }
    double seconds = clock_seconds() - progress.start;
    if (special && bpe_add_special(&bpe, special, bpe.n_tokens, &error) != 0) status = -1;
    if (status == 0) status = bpe_save(&bpe, out, &error);
    if (status == 0)
        printf("trained %d tokens (%d merges) on %zu bytes of %s in %.2f s, pattern %s -> %s\n", bpe_vocab_size(&bpe),
               bpe.n_tokens - 256, n, data, seconds, pattern_name(pattern), out);
    bpe_free(&bpe);
    return status == 0 ? 0 : fail_with(command, &error);
}

// ------------------------------------------------------------------ encode / decode

static int binary_width(const char *binary, const char *command) {
    if (!binary) return 0;
    if (strcmp(binary, "uint32") == 0) return 4;
    if (strcmp(binary, "uint16") == 0) return 2;
    fail(command, "--binary must be uint32 or uint16");
    return -1;
}

static int write_ids(FILE *file, const int *ids, size_t n, int width, Error *error) {
    for (size_t k = 0; k < n; k++) {
        unsigned v = (unsigned)ids[k];
        if (width == 2 && v > 0xFFFF) return error_set(error, "id %u at position %zu does not fit in uint16", v, k);
        unsigned char bytes[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
        if (width ? fwrite(bytes, 1, (size_t)width, file) != (size_t)width : fprintf(file, "%u\n", v) < 0)
            return error_set(error, "cannot write the ids: %s", strerror(errno));
    }
    return 0;
}

static int tokenizer_encode(int argc, char **argv) {
    const char *command = "tokenizer encode";
    const char *name = "gpt2", *in = NULL, *out = NULL, *binary = NULL, *data_dir = NULL;
    int allow_special = 0;
    Option options[] = {
        {"--tokenizer", OPTION_STRING, &name, "gpt2, a .tiktoken file, or a file written by train"},
        {"--in", OPTION_STRING, &in, "text to encode (default: standard input)"},
        {"--out", OPTION_STRING, &out, "where to write the ids (default: standard output)"},
        {"--binary", OPTION_STRING, &binary, "write uint32 or uint16 little-endian ids instead of one per line"},
        {"--allow-special", OPTION_FLAG, &allow_special, "recognise special tokens such as <|endoftext|> in the text"},
        {"--data-dir", OPTION_STRING, &data_dir, "the bundled data (gpt2/, cl100k_base/); default: found"},
    };
    int status = options_parse(argc, argv,
                               "groundup tokenizer encode --tokenizer FILE|gpt2 [--in FILE] [--out FILE] [--binary uint32|uint16] [--allow-special]",
                               options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    int width = binary_width(binary, command);
    if (width < 0) return 2;
    Error error = {{0}};
    Bpe bpe;
    if (bpe_load_named(&bpe, name, data_dir, &error) != 0) return fail_with(command, &error);
    unsigned char *text = NULL;
    size_t n = 0, n_ids = 0;
    int *ids = NULL;
    Output output;
    status = read_input(in, &text, &n, &error);
    if (status == 0) status = bpe_encode(&bpe, text, n, allow_special, &ids, &n_ids, &error);
    if (status == 0) status = output_open(&output, out, &error);
    if (status == 0) {
        status = write_ids(output.file, ids, n_ids, width, &error);
        if (output_close(&output, status == 0, &error) != 0) status = -1;
    }
    free(text), free(ids);
    bpe_free(&bpe);
    return status == 0 ? 0 : fail_with(command, &error);
}

// Reads ids: decimal numbers separated by white space, or raw uint32/uint16 little-endian.
static int parse_ids(const unsigned char *data, size_t n, int width, const char *source, int **ids, size_t *n_ids,
                     Error *error) {
    if (width && n % (size_t)width)
        return error_set(error, "%s: %zu bytes is not a whole number of %d-byte ids", source, n, width);
    size_t capacity = width ? n / (size_t)width + 1 : n / 2 + 1;
    int *out = malloc(sizeof(int) * capacity);
    if (!out) return error_set(error, "out of memory");
    size_t count = 0;
    if (width) {
        for (size_t k = 0; k < n; k += (size_t)width) {
            uint32_t v = data[k] | (uint32_t)data[k + 1] << 8;
            if (width == 4) v |= (uint32_t)data[k + 2] << 16 | (uint32_t)data[k + 3] << 24;
            if (v > INT32_MAX) {
                free(out);
                return error_set(error, "%s: id %u at position %zu is out of range", source, v, count);
            }
            out[count++] = (int)v;
        }
    } else {
        int line = 1;
        for (size_t k = 0; k < n;) {
            if (data[k] == ' ' || data[k] == '\t' || data[k] == '\r' || data[k] == '\n') {
                line += data[k++] == '\n';
                continue;
            }
            long value = 0;
            size_t start = k;
            while (k < n && data[k] >= '0' && data[k] <= '9' && value <= INT32_MAX) value = value * 10 + (data[k++] - '0');
            if (k == start || value > INT32_MAX || (k < n && data[k] != ' ' && data[k] != '\t' && data[k] != '\r' && data[k] != '\n')) {
                size_t end = start;
                while (end < n && end - start < 20 && data[end] != ' ' && data[end] != '\t' && data[end] != '\r' &&
                       data[end] != '\n')
                    end++;
                free(out);
                return error_set(error, "%s line %d: '%.*s' is not a token id", source, line, (int)(end - start),
                                 (const char *)data + start);
            }
            out[count++] = (int)value;
        }
    }
    *ids = out;
    *n_ids = count;
    return 0;
}

static int tokenizer_decode(int argc, char **argv) {
    const char *command = "tokenizer decode";
    const char *name = "gpt2", *in = NULL, *out = NULL, *binary = NULL, *data_dir = NULL;
    Option options[] = {
        {"--tokenizer", OPTION_STRING, &name, "gpt2, a .tiktoken file, or a file written by train"},
        {"--in", OPTION_STRING, &in, "ids to decode (default: standard input)"},
        {"--out", OPTION_STRING, &out, "where to write the text (default: standard output)"},
        {"--binary", OPTION_STRING, &binary, "read uint32 or uint16 little-endian ids instead of decimal text"},
        {"--data-dir", OPTION_STRING, &data_dir, "the bundled data (gpt2/, cl100k_base/); default: found"},
    };
    int status = options_parse(argc, argv,
                               "groundup tokenizer decode --tokenizer FILE|gpt2 [--in FILE] [--out FILE] [--binary uint32|uint16]",
                               options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    int width = binary_width(binary, command);
    if (width < 0) return 2;
    Error error = {{0}};
    Bpe bpe;
    if (bpe_load_named(&bpe, name, data_dir, &error) != 0) return fail_with(command, &error);
    unsigned char *data = NULL, *text = NULL;
    size_t n = 0, n_ids = 0, n_text = 0;
    int *ids = NULL;
    Output output;
    const char *source = in && strcmp(in, "-") ? in : "standard input";
    status = read_input(in, &data, &n, &error);
    if (status == 0) status = parse_ids(data, n, width, source, &ids, &n_ids, &error);
    if (status == 0 && bpe_decode(&bpe, ids, n_ids, &text, &n_text, &error) != 0)
        status = error_prefix(&error, "%s", source);
    if (status == 0) status = output_open(&output, out, &error);
    if (status == 0) {
        int written = fwrite(text, 1, n_text, output.file) == n_text;
        if (!written) error_set(&error, "cannot write the text: %s", strerror(errno));
        if (output_close(&output, written, &error) != 0) status = -1;
    }
    free(data), free(ids), free(text);
    bpe_free(&bpe);
    return status == 0 ? 0 : fail_with(command, &error);
}

// ------------------------------------------------------------------ stats

static int tokenizer_stats(int argc, char **argv) {
    const char *command = "tokenizer stats";
    const char *name = "gpt2", *in = NULL, *data_dir = NULL;
    Option options[] = {
        {"--tokenizer", OPTION_STRING, &name, "gpt2, a .tiktoken file, or a file written by train"},
        {"--in", OPTION_STRING, &in, "text to measure (required)"},
        {"--data-dir", OPTION_STRING, &data_dir, "the bundled data (gpt2/, cl100k_base/); default: found"},
    };
    int status = options_parse(argc, argv, "groundup tokenizer stats --tokenizer FILE|gpt2 --in FILE", options, (int)(sizeof options / sizeof options[0]), NULL,
                               0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (!in) return fail(command, "--in is required");
    Error error = {{0}};
    Bpe bpe;
    double start = clock_seconds();
    if (bpe_load_named(&bpe, name, data_dir, &error) != 0) return fail_with(command, &error);
    double load_seconds = clock_seconds() - start;
    unsigned char *text = NULL;
    size_t n = 0, n_ids = 0;
    int *ids = NULL;
    status = read_input(in, &text, &n, &error);
    start = clock_seconds();
    if (status == 0) status = bpe_encode(&bpe, text, n, 0, &ids, &n_ids, &error);
    double seconds = clock_seconds() - start;
    if (status == 0) {
        printf("tokenizer        %s (%d tokens, pattern %s)\n", name, bpe_vocab_size(&bpe), pattern_name(bpe.pattern));
        printf("input            %s, %zu bytes\n", in, n);
        printf("tokens           %zu\n", n_ids);
        printf("bytes per token  %.3f\n", n_ids ? (double)n / (double)n_ids : 0.0);
        printf("load time        %.3f s\n", load_seconds);
        printf("encode time      %.3f s (%.1f MB/s, one thread)\n", seconds, (double)n / 1e6 / (seconds + 1e-12));
    }
    free(text), free(ids);
    bpe_free(&bpe);
    return status == 0 ? 0 : fail_with(command, &error);
}

// ------------------------------------------------------------------ dispatch

static const Command subcommands[] = {
    {"train", "train a BPE tokenizer on a text file", tokenizer_train},
    {"encode", "text -> token ids", tokenizer_encode},
    {"decode", "token ids -> text", tokenizer_decode},
    {"stats", "tokens, bytes per token and encoding time for a file", tokenizer_stats},
};

int command_tokenizer(int argc, char **argv) {
    int n = (int)(sizeof subcommands / sizeof subcommands[0]);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: groundup tokenizer <train|encode|decode|stats> [options]\n\n");
        for (int i = 0; i < n; i++) fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0) return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "groundup: tokenizer: unknown subcommand '%s' (train, encode, decode, stats)\n", argv[1]);
    return 2;
}
