// Writes the fuzzers' seed corpora, tests/fuzz/corpus/<harness>/: for each reader a few
// small valid files made by the project's own writers (tiny models, tokenizers trained on a
// line of text, a few bytes of image) or cut from its bundled data (GPT-2's and cl100k's
// tokenizer files), and a few broken ones (truncated, a wrong magic, a wrong count). Run
// from the source root: ./build-fuzz/fuzz/make_corpus (it replaces the seed_* files
// and leaves the crash_* regression inputs alone).
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "foundations/file.h"
#include "foundations/idx.h"
#include "foundations/image.h"
#include "foundations/png.h"
#include "foundations/safetensors.h"
#include "gpt/checkpoint.h"
#include "gpt/data.h"
#include "gpt/dpo.h"
#include "gpt/gpt2.h"
#include "gpt/quantize.h"
#include "tests/fuzz/fuzz_tiny.h"

static const char *ROOT = "tests/fuzz/corpus";
static const char *TEXT = "the quick brown fox jumps over the lazy dog. Call me Ishmael.\n";

static void fail(const char *what, const Error *error) {
    fprintf(stderr, "make_corpus: %s: %s\n", what, error ? error->message : "");
    exit(1);
}

// "<ROOT>/<harness>/seed_<name>", the directory created.
static const char *seed_path(const char *harness, const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", ROOT, harness);
    mkdir(ROOT, 0777);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/seed_%s", ROOT, harness, name);
    return path;
}

static void write_bytes(const char *harness, const char *name, const void *data, size_t n) {
    const char *path = seed_path(harness, name);
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(data, 1, n, file) != n || fclose(file) != 0) fail(path, NULL);
}

static unsigned char *read_all(const char *path, size_t *n) {
    unsigned char *data;
    Error error;
    if (file_read_all(path, &data, n, &error)) fail(path, &error);
    return data;
}

// Copies a seed already written, changing it: the first `keep` bytes (truncation), then
// n_patch bytes at `at` replaced.
static void derive(const char *harness, const char *from, const char *name, size_t keep, size_t at,
                   const void *patch, size_t n_patch) {
    char source[512];
    snprintf(source, sizeof source, "%s", seed_path(harness, from));
    size_t n;
    unsigned char *data = read_all(source, &n);
    if (keep < n) n = keep;
    if (patch && at + n_patch <= n) memcpy(data + at, patch, n_patch);
    write_bytes(harness, name, data, n);
    free(data);
}

// ----------------------------------------------------------------------------
// models and checkpoints

static void train_state(TrainState *state, const Model *model) {
    Error error;
    TrainConfig config = train_default_config();
    if (train_state_init(state, &config, model, "data/names.txt", &error)) fail("train state", &error);
    state->step = state->optimizer.step = 3;
    for (int i = 0; i < 3; i++) loss_curve_add(&state->train_curve, (float)i, 3.0f - 0.1f * (float)i, &error);
    loss_curve_add(&state->val_curve, 2.0f, 3.1f, &error);
}

static void make_model(Model *model, ModelConfig config, int seed) {
    Error error;
    Random rng;
    random_seed(&rng, (uint64_t)seed);
    if (model_init(model, &config, &rng, &error)) fail("model", &error);
}

static void save_checkpoint(const char *name, const Model *model, const TextTokenizer *tokenizer, int with_training) {
    Error error;
    TrainState state;
    if (with_training) train_state(&state, model);
    const char *harnesses[] = {"checkpoint_load", "checkpoint_inference"};
    for (int h = 0; h < 2; h++)
        if (checkpoint_save(seed_path(harnesses[h], name), model, tokenizer, with_training ? &state : NULL, &error))
            fail(name, &error);
    if (with_training) train_state_free(&state);
}

static void checkpoints(void) {
    Error error;
    TextTokenizer chars, bpe;
    if (text_tokenizer_chars(&chars, (const unsigned char *)TEXT, strlen(TEXT), &error) ||
        text_tokenizer_train_bpe(&bpe, (const unsigned char *)TEXT, strlen(TEXT), 270, &error))
        fail("tokenizers", &error);
    int V = text_vocab_size(&chars);
    Model bigram, mlp, gpt2, wide, quantized;
    make_model(&bigram, (ModelConfig){.arch = ARCH_BIGRAM, .vocab_size = V, .context_length = 8}, 1);
    make_model(&mlp, (ModelConfig){.arch = ARCH_MLP, .vocab_size = text_vocab_size(&bpe), .context_length = 8,
                                   .block_size = 3, .d_embed = 4, .d_hidden = 8, .batch_norm = 1}, 2);
    make_model(&gpt2, (ModelConfig){.arch = ARCH_GPT2, .vocab_size = V, .context_length = 8, .n_layers = 1,
                                    .n_heads = 2, .d_model = 8}, 3);
    // Quantized weights need a width that is a multiple of 32.
    make_model(&wide, (ModelConfig){.arch = ARCH_GPT2, .vocab_size = V, .context_length = 4, .n_layers = 1,
                                    .n_heads = 2, .d_model = 32}, 3);
    if (model_quantize(&quantized, &wide, QUANT_Q4_0, QUANT_Q8_0, NULL, &error)) fail("quantize", &error);
    save_checkpoint("bigram_chars.ckpt", &bigram, &chars, 1);
    save_checkpoint("mlp_bpe.ckpt", &mlp, &bpe, 0);
    save_checkpoint("gpt2_chars.ckpt", &gpt2, &chars, 1);
    save_checkpoint("gpt2_q4_q8.ckpt", &quantized, &chars, 0);
    const char *harnesses[] = {"checkpoint_load", "checkpoint_inference"};
    for (int h = 0; h < 2; h++) {
        derive(harnesses[h], "bigram_chars.ckpt", "truncated.ckpt", 300, 0, NULL, 0);
        derive(harnesses[h], "bigram_chars.ckpt", "bad_version.ckpt", (size_t)-1, 8, "\x02", 1);
    }
    // An llm.c checkpoint of the tiny GPT-2 (read by the inference loader too).
    Model tiny;
    make_model(&tiny, FUZZ_TINY_GPT2, 4);
    const char *llmc = seed_path("llmc_checkpoint", "tiny.bin");
    if (llmc_write_checkpoint(&tiny, llmc, &error)) fail(llmc, &error);
    derive("llmc_checkpoint", "tiny.bin", "truncated.bin", 2000, 0, NULL, 0);
    int32_t version = 2, vocab = 200;
    derive("llmc_checkpoint", "tiny.bin", "bad_version.bin", (size_t)-1, 4, &version, 4);
    derive("llmc_checkpoint", "tiny.bin", "padded_too_small.bin", (size_t)-1, 12, &vocab, 4);
    size_t n;
    unsigned char *bytes = read_all(llmc, &n);
    write_bytes("checkpoint_inference", "llmc_tiny.bin", bytes, n);
    free(bytes);
    model_free(&bigram), model_free(&mlp), model_free(&gpt2), model_free(&wide), model_free(&quantized), model_free(&tiny);
    text_tokenizer_free(&chars), text_tokenizer_free(&bpe);
}

// llm.c's debug state for the tiny GPT-2: header, inputs, targets, logits, loss, grads (wte
// padded to a multiple of 128 rows), from a forward and backward of the model on B x T.
static void debug_states(void) {
    Error error;
    Model model;
    make_model(&model, FUZZ_TINY_GPT2, 4);
    enum { B = 2, T = 4 };
    int V = model.config.vocab_size, C = model.config.d_model, Vp = (V + 127) / 128 * 128;
    int inputs[B * T], targets[B * T];
    for (int i = 0; i < B * T; i++) inputs[i] = (i * 7) % V, targets[i] = (i * 7 + 3) % V;
    if (model_prepare(&model, B, T, 1, &error) || model.ops->forward(&model, inputs, targets, B, T, &error) ||
        model_backward(&model, &error))
        fail("debug state", &error);
    FILE *file = fopen(seed_path("llmc_debug_state", "tiny_B2_T4.bin"), "wb");
    int32_t header[256] = {20240327, 2, B, T};
    fwrite(header, sizeof header, 1, file);
    fwrite(inputs, sizeof inputs, 1, file);
    fwrite(targets, sizeof targets, 1, file);
    fwrite(model.logits, sizeof(float), (size_t)B * T * V, file);
    fwrite(&model.loss, sizeof(float), 1, file);
    float zeros[128 * 8] = {0};
    for (int i = 0; i < model.n_tensors; i++) {
        const TensorInfo *t = &model.tensors[i];
        fwrite(model.grads + t->offset, sizeof(float), (size_t)t->size, file);
        if (i == 0) fwrite(zeros, sizeof(float), (size_t)(Vp - V) * C, file);
    }
    fclose(file);
    int32_t too_long = 9, bad_token = 25;
    derive("llmc_debug_state", "tiny_B2_T4.bin", "truncated.bin", 1100, 0, NULL, 0);
    derive("llmc_debug_state", "tiny_B2_T4.bin", "context_too_long.bin", (size_t)-1, 12, &too_long, 4);
    derive("llmc_debug_state", "tiny_B2_T4.bin", "bad_token.bin", (size_t)-1, 1024, &bad_token, 4);
    model_free(&model);
}

// ----------------------------------------------------------------------------
// token files

static void token_files(void) {
    Error error;
    int tokens[40];
    for (int i = 0; i < 40; i++) tokens[i] = (i * 1237) % 50257;
    if (token_file_write(seed_path("token_file", "forty.bin"), tokens, 40, &error)) fail("token file", &error);
    int32_t count = 41, version = 7;
    derive("token_file", "forty.bin", "count_too_large.bin", (size_t)-1, 8, &count, 4);
    derive("token_file", "forty.bin", "version7.bin", (size_t)-1, 4, &version, 4);
    derive("token_file", "forty.bin", "header_only.bin", 1024, 0, NULL, 0);
    write_bytes("token_file", "text.txt", TEXT, strlen(TEXT));
    // llm.c's Llama-3 layout: magic 20240801, version 7, uint32 ids.
    uint32_t llama3[256 + 40] = {20240801, 7, 40};
    for (int i = 0; i < 40; i++) llama3[256 + i] = (uint32_t)(i * 3203) % 128256;
    write_bytes("token_file", "llama3.bin", llama3, sizeof llama3);
}

// ----------------------------------------------------------------------------
// tokenizers

// GPT-2's files cut to their first `merges` merges: encoder.json up to id 255 + merges, then
// "<|endoftext|>"; a NUL; vocab.bpe's version line and first `merges` lines.
static void gpt2_cut(const char *name, int merges, int with_endoftext) {
    size_t n_json, n_vocab;
    unsigned char *json = read_all("data/gpt2/encoder.json", &n_json);
    unsigned char *vocab = read_all("data/gpt2/vocab.bpe", &n_vocab);
    char last[32];
    snprintf(last, sizeof last, ": %d,", 255 + merges);
    char *end = strstr((char *)json, last);
    if (!end) fail("encoder.json: no such id", NULL);
    end += strlen(last) - 1;  // at the comma
    char tail[64];
    snprintf(tail, sizeof tail, with_endoftext ? ", \"<|endoftext|>\": %d}" : "}", 256 + merges);
    char *line = (char *)vocab;
    for (int i = 0; i <= merges; i++) line = strchr(line, '\n') + 1;
    size_t n_json_cut = (size_t)(end - (char *)json), n_vocab_cut = (size_t)(line - (char *)vocab);
    size_t n = n_json_cut + strlen(tail) + 1 + n_vocab_cut;
    unsigned char *out = malloc(n);
    memcpy(out, json, n_json_cut);
    memcpy(out + n_json_cut, tail, strlen(tail));
    out[n_json_cut + strlen(tail)] = '\0';
    memcpy(out + n_json_cut + strlen(tail) + 1, vocab, n_vocab_cut);
    write_bytes("bpe_gpt2", name, out, n);
    free(out), free(json), free(vocab);
}

static void tokenizers(void) {
    Error error;
    gpt2_cut("gpt2_30_merges", 30, 1);
    gpt2_cut("gpt2_8_merges_no_endoftext", 8, 0);
    derive("bpe_gpt2", "gpt2_30_merges", "missing_vocab", 1500, 0, NULL, 0);
    write_bytes("bpe_gpt2", "empty_object", "{}\0#version: 0.2\n", 17);

    // The first 300 lines of cl100k's rank file, and broken variants.
    size_t n;
    unsigned char *ranks = read_all("data/cl100k_base/cl100k_base.tiktoken", &n);
    char *line = (char *)ranks;
    for (int i = 0; i < 300; i++) line = strchr(line, '\n') + 1;
    size_t cut = (size_t)(line - (char *)ranks);
    write_bytes("bpe_tiktoken", "cl100k_300", ranks, cut);
    derive("bpe_tiktoken", "cl100k_300", "cl100k_200", cut * 2 / 3, 0, NULL, 0);
    derive("bpe_tiktoken", "cl100k_300", "bad_base64", cut, 0, "I*==", 4);
    derive("bpe_tiktoken", "cl100k_300", "duplicate_rank", cut, 5, "1", 1);
    free(ranks);

    // groundup's own format, and the text tokenizer's serialised form, both kinds.
    TextTokenizer chars, bpe;
    if (text_tokenizer_chars(&chars, (const unsigned char *)TEXT, strlen(TEXT), &error) ||
        text_tokenizer_train_bpe(&bpe, (const unsigned char *)TEXT, strlen(TEXT), 280, &error))
        fail("tokenizers", &error);
    if (bpe_add_special(&bpe.bpe, "<|endoftext|>", 280, &error)) fail("special", &error);
    if (bpe_save(&bpe.bpe, seed_path("bpe_load", "trained_280.bpe"), &error)) fail("bpe", &error);
    derive("bpe_load", "trained_280.bpe", "truncated.bpe", 700, 0, NULL, 0);
    derive("bpe_load", "trained_280.bpe", "bad_hex.bpe", (size_t)-1, 40, "zz", 2);
    if (text_tokenizer_save(&chars, seed_path("text_tokenizer", "chars"), &error) ||
        text_tokenizer_save(&bpe, seed_path("text_tokenizer", "bpe_280"), &error))
        fail("text tokenizer", &error);
    derive("text_tokenizer", "chars", "chars_out_of_order", (size_t)-1, 40, "7a61", 4);
    derive("text_tokenizer", "bpe_280", "bpe_truncated", 500, 0, NULL, 0);
    text_tokenizer_free(&chars), text_tokenizer_free(&bpe);
}

// ----------------------------------------------------------------------------
// images, IDX, safetensors

static void images(void) {
    Error error;
    Image gray, color;
    if (image_init(&gray, 5, 3, 1, 255, &error) || image_init(&color, 3, 2, 3, 1000, &error)) fail("image", &error);
    for (int i = 0; i < 15; i++) gray.pixels[i] = (float)(i * 17);
    for (int i = 0; i < 18; i++) color.pixels[i] = (float)(i * 55);
    const struct { const char *name; const Image *image; int plain; } images[] = {
        {"gray.pgm", &gray, 0}, {"gray_plain.pgm", &gray, 1}, {"color16.ppm", &color, 0}, {"color_plain.ppm", &color, 1}};
    for (int i = 0; i < 4; i++)
        if (image_write(images[i].image, seed_path("image_read", images[i].name), images[i].plain, &error))
            fail("image", &error);
    derive("image_read", "gray.pgm", "truncated.pgm", 20, 0, NULL, 0);
    write_bytes("image_read", "comment.pgm", "P2\n# a comment\n2 2\n# another\n3\n0 1 2 3\n", 38);
    write_bytes("image_read", "above_maxval.pgm", "P2 2 1 3 0 4\n", 13);
    image_free(&gray), image_free(&color);
}

static void pngs(void) {
    Error error;
    Image gray, color;
    if (image_init(&gray, 5, 3, 1, 255, &error) || image_init(&color, 3, 2, 3, 255, &error)) fail("png", &error);
    for (int i = 0; i < 15; i++) gray.pixels[i] = (float)(i * 17);
    for (int i = 0; i < 18; i++) color.pixels[i] = (float)(i * 14);
    if (png_write(&gray, seed_path("png_read", "gray.png"), &error) || png_write(&color, seed_path("png_read", "color.png"), &error))
        fail("png", &error);
    derive("png_read", "gray.png", "truncated.png", 40, 0, NULL, 0);
    derive("png_read", "color.png", "bad_crc.png", (size_t)-1, 29, "\xff", 1);
    image_free(&gray), image_free(&color);
}

static void idx_files(void) {
    unsigned char labels[8 + 10] = {0, 0, 8, 1, 0, 0, 0, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    unsigned char images[4 + 12 + 2 * 4 * 4] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4};
    for (int i = 0; i < 32; i++) images[16 + i] = (unsigned char)(i * 8);
    write_bytes("idx_read", "labels.idx1", labels, sizeof labels);
    write_bytes("idx_read", "images.idx3", images, sizeof images);
    gzFile gz = gzopen(seed_path("idx_read", "images.idx3.gz"), "wb");
    gzwrite(gz, images, sizeof images);
    gzclose(gz);
    derive("idx_read", "images.idx3", "truncated.idx3", 30, 0, NULL, 0);
    derive("idx_read", "labels.idx1", "float_type.idx1", (size_t)-1, 2, "\x0d", 1);
    derive("idx_read", "images.idx3.gz", "corrupt.gz", 25, 0, NULL, 0);
}

static void safetensors(void) {
    Error error;
    float values[6] = {1, -2, 3.5f, 0, 1e-3f, 65504};
    int32_t ints[3] = {7, -8, 9};
    SafetensorsTensor tensors[] = {
        {.name = "weight", .dtype = SAFETENSORS_F32, .ndim = 2, .shape = {2, 3}, .floats = values},
        {.name = "half", .dtype = SAFETENSORS_F16, .ndim = 1, .shape = {6}, .floats = values},
        {.name = "bf", .dtype = SAFETENSORS_BF16, .ndim = 0, .floats = values},
        {.name = "ids", .dtype = SAFETENSORS_I64, .ndim = 1, .shape = {3}, .ints = ints},
        {.name = "count", .dtype = SAFETENSORS_I32, .ndim = 2, .shape = {3, 0}, .ints = ints}};
    SafetensorsMetadata metadata[] = {{"format", "pt"}, {"note", "fuzz seed"}};
    if (safetensors_write(seed_path("safetensors", "five.safetensors"), tensors, 5, metadata, 2, &error))
        fail("safetensors", &error);
    size_t n;
    unsigned char *reference = read_all("tests/fixtures/safetensors/reference.safetensors", &n);
    write_bytes("safetensors", "reference.safetensors", reference, n);
    free(reference);
    derive("safetensors", "five.safetensors", "truncated.safetensors", 100, 0, NULL, 0);
    uint64_t huge = 1ULL << 40;
    derive("safetensors", "five.safetensors", "header_too_long.safetensors", (size_t)-1, 0, &huge, 8);
}

static void preference_pairs(void) {
    Error error;
    const char *prompts[] = {"the sea", ""}, *chosen[] = {" was calm", "whale"}, *rejected[] = {" ran dry", "a"};
    if (preference_texts_write(seed_path("preference_pairs", "two.jsonl"), prompts, chosen, rejected, 2, &error))
        fail("pairs", &error);
    derive("preference_pairs", "two.jsonl", "truncated.jsonl", 40, 0, NULL, 0);
    const char *bad = "{\"prompt\":\"a long prompt, longer than the context\",\"chosen\":\"x\",\"rejected\":\"y\"}\n"
                      "{\"prompt\":\"a\",\"chosen\":\"\",\"rejected\":\"y\"}\n\n[1, 2]\n";
    write_bytes("preference_pairs", "bad.jsonl", bad, strlen(bad));
}

int main(void) {
    checkpoints();
    debug_states();
    token_files();
    tokenizers();
    images();
    pngs();
    idx_files();
    safetensors();
    preference_pairs();
    return 0;
}
