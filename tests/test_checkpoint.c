// Checkpoints: a round trip restores the model, tokenizer and training state exactly; a
// truncated file, any flipped header byte, another version or a tensor table that does not
// fit the config are one-line errors naming the file; a failed save leaves the previous
// file as it was.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/file.h"
#include "foundations/hash.h"
#include "gpt/checkpoint.h"
#include "tests/check.h"

static unsigned char *read_all(const char *path, long *size) {
    unsigned char *bytes = NULL;
    size_t n = 0;
    Error error;
    *size = file_read_all(path, &bytes, &n, &error) == 0 ? (long)n : -1;
    return bytes;
}

static void write_all(const char *path, const unsigned char *bytes, long size) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(bytes, 1, (size_t)size, f);
    fclose(f);
}

// Loading path must fail with a message that names it.
static void expect_load_error(const char *path, const char *what) {
    Model model;
    TextTokenizer tokenizer;
    TrainState state;
    int has_training;
    Error error = {{0}};
    int status = checkpoint_load(path, &model, &tokenizer, &state, &has_training, &error);
    CHECK(status != 0, "%s: loaded", what);
    if (status == 0) {
        model_free(&model);
        text_tokenizer_free(&tokenizer);
        train_state_free(&state);
        return;
    }
    CHECK(strstr(error.message, path) != NULL, "%s: message '%s' does not name the file", what, error.message);
    CHECK(strchr(error.message, '\n') == NULL, "%s: message has several lines", what);
}

// An MLP with batch norm, a char tokenizer and a training state with some history, saved
// to <directory>/model.ckpt.
typedef struct Saved {
    char directory[64], path[256], damaged[256];
    TextTokenizer tokenizer;
    Model model;
    TrainState state;
    Random rng;
} Saved;

static int saved_create(Saved *saved) {
    Error error = {{0}};
    memset(saved, 0, sizeof *saved);
    snprintf(saved->directory, sizeof saved->directory, "%s", check_directory());
    int ok = saved->directory[0] != '\0';
    CHECK(ok, "no temporary directory");
    if (!ok) return -1;
    snprintf(saved->path, sizeof saved->path, "%s/model.ckpt", saved->directory);
    snprintf(saved->damaged, sizeof saved->damaged, "%s/damaged.ckpt", saved->directory);
    const char *text = "hello world, the quick brown fox\n";
    ok = text_tokenizer_chars(&saved->tokenizer, (const unsigned char *)text, strlen(text), &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    ModelConfig config = {.arch = ARCH_MLP, .vocab_size = text_vocab_size(&saved->tokenizer), .context_length = 16,
                          .block_size = 3, .d_embed = 4, .d_hidden = 6, .batch_norm = 1};
    random_seed(&saved->rng, 3);
    ok = model_init(&saved->model, &config, &saved->rng, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    random_fill_normal(&saved->rng, saved->model.params, saved->model.n_params, 0.0f, 1.0f);
    TrainConfig train_config = train_default_config();
    TrainState *state = &saved->state;
    ok = train_state_init(state, &train_config, &saved->model, "data/names.txt", &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    state->step = state->optimizer.step = 42;
    state->elapsed_seconds = 12.5;
    random_u32(&state->rng);
    random_fill_normal(&saved->rng, state->optimizer.m, state->optimizer.n, 0.0f, 1.0f);
    random_fill_normal(&saved->rng, state->optimizer.v, state->optimizer.n, 0.0f, 1.0f);
    for (int i = 0; i < 5; i++) loss_curve_add(&state->train_curve, (float)i, 3.0f - 0.1f * (float)i, &error);
    loss_curve_add(&state->val_curve, 0.0f, 3.2f, &error);
    ok = checkpoint_save(saved->path, &saved->model, &saved->tokenizer, state, &error) == 0;
    CHECK(ok, "%s", error.message);
    return ok ? 0 : -1;
}

static void saved_free(Saved *saved) {
    remove(saved->path);
    remove(saved->damaged);
    train_state_free(&saved->state);
    model_free(&saved->model);
    text_tokenizer_free(&saved->tokenizer);
}

static void round_trip_restores_everything(void) {
    Saved saved;
    REQUIRE(saved_create(&saved) == 0, "cannot save the checkpoint");
    const Model *model = &saved.model;
    const TrainState *state = &saved.state;
    const TextTokenizer *tokenizer = &saved.tokenizer;
    Error error = {{0}};
    Model loaded;
    TextTokenizer loaded_tokenizer;
    TrainState loaded_state;
    int has_training = 0;
    REQUIRE(checkpoint_load(saved.path, &loaded, &loaded_tokenizer, &loaded_state, &has_training, &error) == 0, "%s",
            error.message);
    CHECK(has_training, "training state present");
    // Every tensor's values (the alignment gaps between tensors are not part of the model).
    CHECK(loaded.n_params == model->n_params && loaded.n_tensors == model->n_tensors, "same layout");
    for (int t = 0; t < model->n_tensors && t < loaded.n_tensors; t++) {
        const TensorInfo *tensor = &model->tensors[t];
        CHECK(memcmp(loaded.params + loaded.tensors[t].offset, model->params + tensor->offset,
                     sizeof(float) * (size_t)tensor->size) == 0,
              "parameters of %s identical", tensor->name);
    }
    CHECK(memcmp(&loaded.config, &model->config, sizeof model->config) == 0, "config identical");
    CHECK(loaded_tokenizer.n_chars == tokenizer->n_chars &&
              memcmp(loaded_tokenizer.chars, tokenizer->chars, (size_t)tokenizer->n_chars) == 0,
          "tokenizer identical");
    CHECK(loaded_state.step == 42 && loaded_state.optimizer.step == 42 && loaded_state.elapsed_seconds == 12.5, "step, time");
    CHECK(loaded_state.rng.state == state->rng.state && loaded_state.rng.increment == state->rng.increment, "generator");
    CHECK(memcmp(loaded_state.optimizer.m, state->optimizer.m, sizeof(float) * state->optimizer.n) == 0 &&
              memcmp(loaded_state.optimizer.v, state->optimizer.v, sizeof(float) * state->optimizer.n) == 0,
          "optimizer moments");
    CHECK(loaded_state.train_curve.n == 5 && loaded_state.train_curve.losses[4] == state->train_curve.losses[4], "curve");
    CHECK(memcmp(&loaded_state.config, &state->config, sizeof state->config) == 0, "train config");
    CHECK(strcmp(loaded_state.data_path, "data/names.txt") == 0, "data path");
    model_free(&loaded);
    text_tokenizer_free(&loaded_tokenizer);
    train_state_free(&loaded_state);
    saved_free(&saved);
}

// For inference every stage's weights are memory-mapped, and predict what they did.
static void the_mlp_memory_mapped_predicts_the_same(void) {
    Saved saved;
    REQUIRE(saved_create(&saved) == 0, "cannot save the checkpoint");
    Model *model = &saved.model;
    const ModelConfig *config = &model->config;
    Error error = {{0}};
    Model loaded;
    TextTokenizer loaded_tokenizer;
    char data_path[64];
    REQUIRE(checkpoint_load_for_inference(saved.path, NULL, &loaded, &loaded_tokenizer, data_path, sizeof data_path,
                                          &error) == 0,
            "%s", error.message);
    CHECK(loaded.mapping != NULL, "the mlp's weights are mapped");
    CHECK(strcmp(data_path, "data/names.txt") == 0, "data path without the training state");
    REQUIRE(model_prepare(model, 1, 4, 0, &error) == 0 && model_prepare(&loaded, 1, 4, 0, &error) == 0, "%s", error.message);
    int context[4] = {1, 2, 0, 3};
    float expected_logits[64], mapped_logits[64];
    REQUIRE(config->vocab_size <= 64, "room for the logits");
    CHECK(model->ops->next_logits(model, context, 4, expected_logits, &error) == 0 &&
              loaded.ops->next_logits(&loaded, context, 4, mapped_logits, &error) == 0,
          "%s", error.message);
    CHECK(memcmp(expected_logits, mapped_logits, sizeof(float) * (size_t)config->vocab_size) == 0, "mapped mlp's logits");
    model_free(&loaded);
    text_tokenizer_free(&loaded_tokenizer);
    saved_free(&saved);
}

// A BPE tokenizer rides along too (and the bigram is memory-mapped for inference).
static void a_bpe_tokenizer_rides_along(void) {
    Saved saved;
    REQUIRE(saved_create(&saved) == 0, "cannot save the checkpoint");
    Error error = {{0}};
    TextTokenizer bpe;
    const char *bpe_text = "the theme of the thesis is the theory of the the";
    REQUIRE(text_tokenizer_train_bpe(&bpe, (const unsigned char *)bpe_text, strlen(bpe_text), 262, &error) == 0, "%s",
            error.message);
    ModelConfig bigram_config = {.arch = ARCH_BIGRAM, .vocab_size = text_vocab_size(&bpe), .context_length = 8};
    Model bigram, loaded;
    TextTokenizer loaded_tokenizer;
    TrainState loaded_state;
    int has_training = 0;
    REQUIRE(model_init(&bigram, &bigram_config, &saved.rng, &error) == 0, "%s", error.message);
    char bpe_path[300];
    snprintf(bpe_path, sizeof bpe_path, "%s/bpe.ckpt", saved.directory);
    CHECK(checkpoint_save(bpe_path, &bigram, &bpe, NULL, &error) == 0, "%s", error.message);
    REQUIRE(checkpoint_load(bpe_path, &loaded, &loaded_tokenizer, &loaded_state, &has_training, &error) == 0, "%s",
            error.message);
    CHECK(!has_training, "no training state saved");
    Model mapped_bigram;
    TextTokenizer mapped_tokenizer;
    REQUIRE(checkpoint_load_for_inference(bpe_path, NULL, &mapped_bigram, &mapped_tokenizer, NULL, 0, &error) == 0, "%s",
            error.message);
    float bigram_logits[300], mapped_bigram_logits[300];
    int last_token = 5;
    REQUIRE(bigram.config.vocab_size <= 300 && mapped_bigram.mapping != NULL, "a mapped bigram");
    CHECK(model_prepare(&bigram, 1, 1, 0, &error) == 0 && model_prepare(&mapped_bigram, 1, 1, 0, &error) == 0 &&
              bigram.ops->next_logits(&bigram, &last_token, 1, bigram_logits, &error) == 0 &&
              mapped_bigram.ops->next_logits(&mapped_bigram, &last_token, 1, mapped_bigram_logits, &error) == 0,
          "%s", error.message);
    CHECK(memcmp(bigram_logits, mapped_bigram_logits, sizeof(float) * (size_t)bigram.config.vocab_size) == 0,
          "mapped bigram's logits");
    model_free(&mapped_bigram);
    text_tokenizer_free(&mapped_tokenizer);
    int *a = NULL, *b = NULL;
    size_t n_a = 0, n_b = 0;
    text_encode(&bpe, (const unsigned char *)bpe_text, strlen(bpe_text), &a, &n_a, &error);
    text_encode(&loaded_tokenizer, (const unsigned char *)bpe_text, strlen(bpe_text), &b, &n_b, &error);
    CHECK(n_a == n_b && n_a < strlen(bpe_text) && memcmp(a, b, sizeof(int) * n_a) == 0, "BPE encodes the same");
    free(a);
    free(b);
    model_free(&loaded);
    text_tokenizer_free(&loaded_tokenizer);
    model_free(&bigram);
    text_tokenizer_free(&bpe);
    remove(bpe_path);
    saved_free(&saved);
}

// Damage: truncation at many points, each header byte flipped, a tokenizer byte, another
// version, trailing garbage, a missing file: each a one-line error naming the file.
static void damaged_files_are_one_line_errors(void) {
    Saved saved;
    REQUIRE(saved_create(&saved) == 0, "cannot save the checkpoint");
    const char *damaged = saved.damaged;
    Error error = {{0}};
    long size = 0;
    unsigned char *bytes = read_all(saved.path, &size);
    REQUIRE(bytes && size > 256, "read back");
    long cuts[] = {0, 1, 7, 100, 255, 256, 300, size / 2, size - 100, size - 1};
    for (int i = 0; i < (int)(sizeof cuts / sizeof cuts[0]); i++) {
        write_all(damaged, bytes, cuts[i]);
        char what[64];
        snprintf(what, sizeof what, "truncated at %ld", cuts[i]);
        expect_load_error(damaged, what);
    }
    for (int i = 0; i < 256; i++) {
        bytes[i] ^= 0x5a;
        write_all(damaged, bytes, size);
        char what[64];
        snprintf(what, sizeof what, "header byte %d flipped", i);
        expect_load_error(damaged, what);
        bytes[i] ^= 0x5a;
    }
    // A flipped byte in the tokenizer or table is caught by the checksum.
    bytes[260] ^= 1;
    write_all(damaged, bytes, size);
    expect_load_error(damaged, "tokenizer byte flipped");
    bytes[260] ^= 1;
    // Another version: the message says so.
    bytes[8] = 2;
    write_all(damaged, bytes, size);
    Model m;
    TextTokenizer t;
    CHECK(checkpoint_load(damaged, &m, &t, NULL, NULL, &error) != 0 && strstr(error.message, "version 2"),
          "version message: %s", error.message);
    bytes[8] = 1;
    // Trailing garbage.
    unsigned char *longer = malloc((size_t)size + 3);
    REQUIRE(longer, "out of memory");
    memcpy(longer, bytes, (size_t)size);
    write_all(damaged, longer, size + 3);
    expect_load_error(damaged, "3 bytes appended");
    free(longer);
    expect_load_error("/nonexistent/model.ckpt", "missing file");
    free(bytes);
    saved_free(&saved);
}

// Recomputes the header's FNV checksum of a checkpoint without a data-path section, so that a
// forged file passes it and the checks behind it are the ones tested.
static void sign(unsigned char *bytes) {
    uint64_t tokenizer_bytes, table_offset;
    uint32_t n_tensors;
    memcpy(&tokenizer_bytes, bytes + 40, 8);
    memcpy(&table_offset, bytes + 48, 8);
    memcpy(&n_tensors, bytes + 28, 4);
    uint64_t checksum = fnv1a(FNV_OFFSET, bytes, 248);
    checksum = fnv1a(checksum, bytes + 256, (size_t)tokenizer_bytes);
    checksum = fnv1a(checksum, bytes + table_offset, (size_t)n_tensors * CHECKPOINT_TENSOR_ENTRY_BYTES);
    memcpy(bytes + 248, &checksum, 8);
}

// Found by fuzzing: a header whose config asks for far more tensor data than the file holds
// (a bigram of 65536 tokens: 16 GiB) is refused before the model is allocated. The checksum
// is recomputed, as a buggy writer would have it right.
static void a_config_larger_than_the_file_is_refused(void) {
    Saved saved;
    REQUIRE(saved_create(&saved) == 0, "cannot save the checkpoint");
    long size = 0;
    unsigned char *bytes = read_all(saved.path, &size);
    REQUIRE(bytes && size > 256, "read back");
    uint32_t arch = ARCH_BIGRAM;
    int32_t vocab_size = 65536;
    memcpy(bytes + 24, &arch, 4);
    memcpy(bytes + 88, &vocab_size, 4);
    sign(bytes);
    write_all(saved.damaged, bytes, size);
    expect_load_error(saved.damaged, "a 65536-token bigram in a small file");
    Model model;
    TextTokenizer tokenizer;
    Error error = {{0}};
    CHECK(checkpoint_load(saved.damaged, &model, &tokenizer, NULL, NULL, &error) != 0 &&
              strstr(error.message, "needs more tensor data than the file's"),
          "message: %s", error.message);
    free(bytes);
    saved_free(&saved);
}

// A failed save leaves the old file: the temporary name is too long for the file system
// (the final name fits), so the save fails before touching the target.
static void a_failed_save_leaves_the_old_file(void) {
    Saved saved;
    REQUIRE(saved_create(&saved) == 0, "cannot save the checkpoint");
    Error error = {{0}};
    long size = 0;
    unsigned char *bytes = read_all(saved.path, &size);
    REQUIRE(bytes && size > 256, "read back");
    char long_path[600];
    char name[251];
    memset(name, 'c', 250);
    name[250] = '\0';
    snprintf(long_path, sizeof long_path, "%s/%s", saved.directory, name);
    write_all(long_path, bytes, size);
    long before_size = 0;
    unsigned char *before = read_all(long_path, &before_size);
    saved.state.step = saved.state.optimizer.step = 43;
    CHECK(checkpoint_save(long_path, &saved.model, &saved.tokenizer, &saved.state, &error) != 0,
          "save to an impossible temp name fails");
    long after_size = 0;
    unsigned char *after = read_all(long_path, &after_size);
    CHECK(after && after_size == before_size && memcmp(before, after, (size_t)before_size) == 0, "old file intact");
    free(before);
    free(after);
    free(bytes);
    remove(long_path);
    saved_free(&saved);
}

// Where the first tensor's data starts: the header's tensor data offset (byte 56).
static long tensor_data_offset(const unsigned char *bytes) {
    uint64_t offset;
    memcpy(&offset, bytes + 56, 8);
    return (long)offset;
}

// A flipped bit in the weights (which the header's FNV checksum does not cover) is caught by
// the tensor data's CRC-32, for training and for inference (memory-mapped) alike; a file
// written before the CRC existed (flags 0, FNV recomputed) still loads.
static void a_flipped_weight_bit_is_an_error(void) {
    Saved saved;
    REQUIRE(saved_create(&saved) == 0, "cannot save the checkpoint");
    long size;
    unsigned char *bytes = read_all(saved.path, &size);
    REQUIRE(bytes != NULL, "cannot read %s", saved.path);
    long weight = tensor_data_offset(bytes) + 4 * 5 + 2;
    bytes[weight] ^= 0x10;
    write_all(saved.damaged, bytes, size);
    Error error = {{0}};
    Model model;
    TextTokenizer tokenizer;
    CHECK(checkpoint_load_for_inference(saved.damaged, NULL, &model, &tokenizer, NULL, 0, &error) != 0 &&
              strstr(error.message, "CRC-32") && strstr(error.message, saved.damaged),
          "mapped: '%s'", error.message);
    expect_load_error(saved.damaged, "a flipped weight bit");
    // The same file as an older program wrote it: no CRC, no flag, the FNV checksum redone.
    bytes[weight] ^= 0x10;
    memset(bytes + 176, 0, 8);
    sign(bytes);
    write_all(saved.damaged, bytes, size);
    TrainState state;
    int has_training = 0;
    CHECK(checkpoint_load(saved.damaged, &model, &tokenizer, &state, &has_training, &error) == 0 && has_training,
          "a file without a CRC loads: %s", error.message);
    model_free(&model), text_tokenizer_free(&tokenizer), train_state_free(&state);
    free(bytes);
    saved_free(&saved);
}

// A model saved for inference keeps the path of its training data, so eval finds it.
static void an_inference_file_keeps_its_data_path(void) {
    Saved saved;
    REQUIRE(saved_create(&saved) == 0, "cannot save the checkpoint");
    Error error = {{0}};
    REQUIRE(checkpoint_save_for_inference(saved.damaged, &saved.model, &saved.tokenizer, "data/some text.txt", &error) == 0,
            "%s", error.message);
    Model model;
    TextTokenizer tokenizer;
    char data_path[128] = "unset";
    CHECK(checkpoint_load_for_inference(saved.damaged, NULL, &model, &tokenizer, data_path, sizeof data_path, &error) == 0 &&
              strcmp(data_path, "data/some text.txt") == 0,
          "data path '%s' (%s)", data_path, error.message);
    model_free(&model), text_tokenizer_free(&tokenizer);
    REQUIRE(checkpoint_save_for_inference(saved.damaged, &saved.model, &saved.tokenizer, NULL, &error) == 0, "%s",
            error.message);
    CHECK(checkpoint_load_for_inference(saved.damaged, NULL, &model, &tokenizer, data_path, sizeof data_path, &error) == 0 &&
              data_path[0] == '\0',
          "no data path: '%s'", data_path);
    model_free(&model), text_tokenizer_free(&tokenizer);
    // Its last byte cut or one more byte: the sections no longer fit.
    long size;
    unsigned char *bytes = read_all(saved.path, &size);
    REQUIRE(bytes != NULL, "cannot read");
    write_all(saved.damaged, bytes, size - 1);
    expect_load_error(saved.damaged, "the data path cut");
    free(bytes);
    saved_free(&saved);
}


// Loading forged must fail, for training and for inference (memory-mapped), with a message
// holding expected.
static void expect_forged_error(const char *path, const unsigned char *bytes, long size, const char *what,
                                const char *expected) {
    write_all(path, bytes, size);
    Error error = {{0}};
    Model model;
    TextTokenizer tokenizer;
    TrainState state;
    int has_training = 0;
    int loaded = checkpoint_load(path, &model, &tokenizer, &state, &has_training, &error) == 0;
    CHECK(!loaded && strstr(error.message, expected), "%s (training load): '%s' lacks '%s'", what, error.message, expected);
    if (loaded) model_free(&model), text_tokenizer_free(&tokenizer), train_state_free(&state);
    loaded = checkpoint_load_for_inference(path, NULL, &model, &tokenizer, NULL, 0, &error) == 0;
    CHECK(!loaded && strstr(error.message, expected), "%s (mapped): '%s' lacks '%s'", what, error.message, expected);
    if (loaded) model_free(&model), text_tokenizer_free(&tokenizer);
}

// Forged files with valid checksums, one for each validation of the tensor table and config:
// every field the loader trusts is checked against the file and the config, not just hashed.
static void forged_files_with_valid_checksums(void) {
    Saved saved;
    REQUIRE(saved_create(&saved) == 0, "cannot save the checkpoint");
    long size;
    unsigned char *original = read_all(saved.path, &size);
    unsigned char *bytes = malloc((size_t)size);
    REQUIRE(original && bytes, "read back");
    uint64_t table_offset, data_bytes;
    memcpy(&table_offset, original + 48, 8);
    memcpy(&data_bytes, original + 64, 8);
    unsigned char *entry0 = bytes + table_offset, *entry1 = entry0 + CHECKPOINT_TENSOR_ENTRY_BYTES;
    struct {
        const char *what, *expected;
        long at;          // byte to change, from the first table entry (or the file's start when from_start)
        int from_start;
        uint64_t value;   // written as 8 bytes (offsets, sizes) or 4 (the rest): size below
        int width;
    } forgeries[] = {
        {"tensor 0's data 64 MB past the end", "bad size or offset", 48 + 24, 0, data_bytes + (64u << 20), 8},
        {"tensor 0's data one block past the end", "bad size or offset", 48 + 24, 0, data_bytes, 8},
        {"tensor 0's offset not aligned", "bad size or offset", 48 + 24, 0, 4, 8},
        {"tensor 0's size 4 bytes more", "bad size or offset", 48 + 32, 0, 0, 8},
        {"tensor 0's first dimension", "another shape", 48 + 8, 0, 3, 4},
        {"tensor 0's type", "has type 1", 48, 0, 1, 4},
        {"tensor 0's dimensions", "3 dimensions", 48 + 4, 0, 3, 4},
        {"batch norm off in the config (another tensor count)", "tensors in the file", 120, 1, 0, 4},
        {"the vocabulary in the config", "tensor", 88, 1, 0, 4},
    };
    for (size_t k = 0; k < sizeof forgeries / sizeof forgeries[0]; k++) {
        memcpy(bytes, original, (size_t)size);
        unsigned char *at = (forgeries[k].from_start ? bytes : entry0) + forgeries[k].at;
        uint64_t value = forgeries[k].value;
        if (k == 3) memcpy(&value, at, 8), value += 4;                         // size + 4
        if (k == 8) memcpy(&value, at, 4), value += 1;                         // vocabulary + 1
        memcpy(at, &value, (size_t)forgeries[k].width);
        sign(bytes);
        expect_forged_error(saved.damaged, bytes, size, forgeries[k].what, forgeries[k].expected);
    }
    // Names: unknown, and the same tensor twice.
    memcpy(bytes, original, (size_t)size);
    memcpy(entry0, "no_such_tensor", 15);
    sign(bytes);
    expect_forged_error(saved.damaged, bytes, size, "an unknown tensor name", "is not part of a mlp model");
    memcpy(bytes, original, (size_t)size);
    memcpy(entry1, entry0, TENSOR_NAME_LENGTH);
    sign(bytes);
    expect_forged_error(saved.damaged, bytes, size, "a tensor named twice", "appears twice");
    free(bytes), free(original);
    saved_free(&saved);
}

static const CheckCase CASES[] = {
    {"round trip restores model, tokenizer and training state", round_trip_restores_everything},
    {"the mlp memory-mapped predicts the same", the_mlp_memory_mapped_predicts_the_same},
    {"a BPE tokenizer rides along", a_bpe_tokenizer_rides_along},
    {"damaged files are one-line errors naming the file", damaged_files_are_one_line_errors},
    {"a config larger than the file is refused", a_config_larger_than_the_file_is_refused},
    {"a failed save leaves the old file", a_failed_save_leaves_the_old_file},
    {"a flipped weight bit is an error", a_flipped_weight_bit_is_an_error},
    {"forged files with valid checksums", forged_files_with_valid_checksums},
    {"an inference file keeps its data path", an_inference_file_keeps_its_data_path},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
