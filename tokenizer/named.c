// tokenizer/named.h: tokenizers by name and the bundled data folder.
#include "tokenizer/named.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const CL100K_SPECIAL_TEXTS[CL100K_N_SPECIAL] = {"<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>",
                                                            "<|fim_suffix|>", "<|endofprompt|>"};
const int CL100K_SPECIAL_IDS[CL100K_N_SPECIAL] = {100257, 100258, 100259, 100260, 100276};

static int holds_gpt2(const char *directory) {
    char path[4096];
    struct stat info;
    snprintf(path, sizeof path, "%s/gpt2/encoder.json", directory);
    return stat(path, &info) == 0;
}

const char *bundled_data_directory(void) {
    const char *from_environment = getenv("GROUNDUP_DATA");
    if (from_environment && *from_environment) return from_environment;
    if (holds_gpt2("data")) return "data";
#ifdef GROUNDUP_SOURCE_DATA
    if (holds_gpt2(GROUNDUP_SOURCE_DATA)) return GROUNDUP_SOURCE_DATA;
#endif
#ifdef GROUNDUP_INSTALLED_DATA
    if (holds_gpt2(GROUNDUP_INSTALLED_DATA)) return GROUNDUP_INSTALLED_DATA;
#endif
    return "data";  // the error will name data/gpt2/... as missing
}

static int ends_with(const char *text, const char *suffix) {
    size_t n = strlen(text), k = strlen(suffix);
    return n >= k && strcmp(text + n - k, suffix) == 0;
}

static int load_tiktoken(Bpe *bpe, const char *path, Error *error) {
    if (bpe_load_tiktoken(bpe, path, PATTERN_CL100K, error)) return -1;
    if (bpe->n_tokens != CL100K_RANKS) return 0;
    for (int k = 0; k < CL100K_N_SPECIAL; k++)
        if (bpe_add_special(bpe, CL100K_SPECIAL_TEXTS[k], CL100K_SPECIAL_IDS[k], error)) {
            bpe_free(bpe);
            return -1;
        }
    return 0;
}

int bpe_load_named(Bpe *bpe, const char *name, const char *data_directory, Error *error) {
    if (!data_directory) data_directory = bundled_data_directory();
    char first[4096], second[4096];
    if (strcmp(name, "gpt2") == 0) {
        snprintf(first, sizeof first, "%s/gpt2/encoder.json", data_directory);
        snprintf(second, sizeof second, "%s/gpt2/vocab.bpe", data_directory);
        return bpe_load_gpt2(bpe, first, second, error);
    }
    if (strcmp(name, "cl100k_base") == 0) {
        snprintf(first, sizeof first, "%s/cl100k_base/cl100k_base.tiktoken", data_directory);
        return load_tiktoken(bpe, first, error);
    }
    if (ends_with(name, ".tiktoken")) return load_tiktoken(bpe, name, error);
    return bpe_load(bpe, name, error);
}
