// llm.c's file formats for GPT-2, so checkpoints move between llm.c and groundup unchanged:
// the model file (train_gpt2.c's gpt2_124M.bin) and the debug state (test_gpt2.c's
// gpt2_124M_debug_state.bin). Both begin with 256 little-endian int32s.
//
// The vocabulary is padded in llm.c's files (to a multiple of 128 rows, for its kernels);
// in memory groundup keeps exactly V rows, so reading drops the padding rows and writing
// adds zero rows.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"
#include "gpt/gpt2.h"

enum {
    HEADER_INTS = 256,
    LLMC_CHECKPOINT_VERSION = 3,  // fp32 parameters with a padded vocabulary
    LLMC_STATE_MAGIC = 20240327,
    LLMC_STATE_VERSION = 2,
};

static int padded_vocab(int V) { return (V + 127) / 128 * 128; }

// Reads the parameters of model, tensor by tensor in llm.c's order, into params (the
// model's layout, in which tensors start on 64-byte boundaries); wte has Vp rows in the file.
static int read_parameters(float *params, const Model *model, int Vp, FILE *file, const char *path, Error *error) {
    const ModelConfig *cfg = &model->config;
    memset(params, 0, sizeof(float) * (size_t)model->n_params);
    for (int i = 0; i < model->n_tensors; i++) {
        const TensorInfo *t = &model->tensors[i];
        if (read_exact(file, params + t->offset, sizeof(float) * (size_t)t->size, path, t->name, error)) return -1;
        if (i == 0 && fseek(file, (long)(Vp - cfg->vocab_size) * cfg->d_model * (long)sizeof(float), SEEK_CUR) != 0)
            return error_set(error, "%s: cannot skip the vocabulary padding", path);
    }
    return 0;
}

// The number of floats llm.c stores: every tensor, wte with its padding rows.
static long llmc_parameter_count(const Model *model, int Vp) {
    long n = (long)(Vp - model->config.vocab_size) * model->config.d_model;
    for (int i = 0; i < model->n_tensors; i++) n += model->tensors[i].size;
    return n;
}

int llmc_read_checkpoint(Model *model, const char *path, Error *error) {
    memset(model, 0, sizeof *model);
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open", path);
    int32_t header[HEADER_INTS];
    int status = -1;
    if (read_exact(file, header, sizeof header, path, "the 256-int header", error)) goto done;
    if (header[0] != LLMC_CHECKPOINT_MAGIC) {
        error_set(error, "%s: not an llm.c GPT-2 checkpoint (magic %d, expected %d)", path, header[0], LLMC_CHECKPOINT_MAGIC);
        goto done;
    }
    if (header[1] != LLMC_CHECKPOINT_VERSION) {
        error_set(error, "%s: llm.c checkpoint version %d is not supported (only %d: fp32, padded vocabulary)", path,
                  header[1], LLMC_CHECKPOINT_VERSION);
        goto done;
    }
    ModelConfig config = {.arch = ARCH_GPT2};
    config.context_length = header[2];
    config.vocab_size = header[3];
    config.n_layers = header[4];
    config.n_heads = header[5];
    config.d_model = header[6];
    int Vp = header[7];
    if (gpt2_check_config(&config, error)) {
        error_prefix(error, "%s", path);
        goto done;
    }
    if (Vp < config.vocab_size || Vp > config.vocab_size + 100000) {
        error_set(error, "%s: padded vocabulary %d is %s the vocabulary %d", path, Vp,
                  Vp < config.vocab_size ? "smaller than" : "more than 100000 rows above", config.vocab_size);
        goto done;
    }
    // The file's length is checked before the model is allocated, so that a corrupt header
    // cannot ask for gigabytes: the sizes in double, exact for any file that could exist.
    double C = config.d_model, expected = sizeof header + 4.0 * (((double)Vp + config.context_length) * C +
                                                                config.n_layers * (12.0 * C * C + 13.0 * C) + 2.0 * C);
    long actual = file_size(file, path, error);
    if (actual < 0) goto done;
    if ((double)actual != expected) {
        error_set(error, "%s: file has %ld bytes, the header's sizes need %.0f (truncated or not this format)", path,
                  actual, expected);
        goto done;
    }
    model->config = config;
    if (gpt2_init(model, NULL, error)) {
        error_prefix(error, "%s", path);
        goto done;
    }
    if ((double)llmc_parameter_count(model, Vp) * 4 + sizeof header != expected) {
        error_set(error, "%s: the parameter count does not match llm.c's layout", path);
        goto done;
    }
    status = read_parameters(model->params, model, Vp, file, path, error);
done:
    fclose(file);
    if (status) model_free(model);
    return status;
}

int llmc_write_checkpoint(const Model *model, const char *path, Error *error) {
    const ModelConfig *cfg = &model->config;
    if (cfg->arch != ARCH_GPT2) return error_set(error, "%s: llm.c's format holds GPT-2 models only", path);
    int32_t header[HEADER_INTS] = {0};
    int Vp = padded_vocab(cfg->vocab_size);
    header[0] = LLMC_CHECKPOINT_MAGIC;
    header[1] = LLMC_CHECKPOINT_VERSION;
    header[2] = cfg->context_length;
    header[3] = cfg->vocab_size;
    header[4] = cfg->n_layers;
    header[5] = cfg->n_heads;
    header[6] = cfg->d_model;
    header[7] = Vp;
    SafeFile out;
    if (safe_file_open(&out, path, error)) return -1;
    fwrite(header, sizeof header, 1, out.file);
    for (int i = 0; i < model->n_tensors; i++) {
        const TensorInfo *t = &model->tensors[i];
        fwrite(model->params + t->offset, sizeof(float), (size_t)t->size, out.file);
        if (i > 0) continue;
        float zero_row[256] = {0};
        for (long j = 0; j < (long)(Vp - cfg->vocab_size) * cfg->d_model; j += 256) {
            long n = (long)(Vp - cfg->vocab_size) * cfg->d_model - j;
            fwrite(zero_row, sizeof(float), (size_t)(n < 256 ? n : 256), out.file);
        }
    }
    return safe_file_commit(&out, error);
}

int llmc_read_debug_state(DebugState *state, const Model *model, const char *path, Error *error) {
    memset(state, 0, sizeof *state);
    const ModelConfig *cfg = &model->config;
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open", path);
    int32_t header[HEADER_INTS];
    int status = -1;
    if (read_exact(file, header, sizeof header, path, "the 256-int header", error)) goto done;
    if (header[0] != LLMC_STATE_MAGIC || header[1] != LLMC_STATE_VERSION) {
        error_set(error, "%s: not an llm.c debug state (magic %d version %d, expected %d version %d)", path, header[0],
                  header[1], LLMC_STATE_MAGIC, LLMC_STATE_VERSION);
        goto done;
    }
    int B = header[2], T = header[3], V = cfg->vocab_size, Vp = padded_vocab(V);
    if (B < 1 || T < 1 || T > cfg->context_length || (long)B * T > 1L << 24) {
        error_set(error, "%s: batch %d x %d does not fit the model (context %d)", path, B, T, cfg->context_length);
        goto done;
    }
    long BT = (long)B * T;
    long expected = (long)sizeof header + 8 * BT + 4 * BT * V + 4 + 4 * llmc_parameter_count(model, Vp);
    long actual = file_size(file, path, error);
    if (actual < 0) goto done;
    if (actual != expected) {
        error_set(error, "%s: file has %ld bytes, a state for this model with B=%d T=%d needs %ld", path, actual, B, T,
                  expected);
        goto done;
    }
    state->B = B, state->T = T, state->V = V;
    state->inputs = malloc(sizeof(int) * (size_t)BT);
    state->targets = malloc(sizeof(int) * (size_t)BT);
    state->logits = malloc(sizeof(float) * (size_t)(BT * V));
    state->grads = malloc(sizeof(float) * (size_t)model->n_params);
    if (!state->inputs || !state->targets || !state->logits || !state->grads) {
        error_set(error, "%s: out of memory", path);
        goto done;
    }
    if (read_exact(file, state->inputs, sizeof(int) * (size_t)BT, path, "inputs", error) ||
        read_exact(file, state->targets, sizeof(int) * (size_t)BT, path, "targets", error) ||
        read_exact(file, state->logits, sizeof(float) * (size_t)(BT * V), path, "logits", error) ||
        read_exact(file, &state->loss, sizeof(float), path, "loss", error) ||
        read_parameters(state->grads, model, Vp, file, path, error))
        goto done;
    for (long i = 0; i < BT; i++)
        if (state->inputs[i] < 0 || state->inputs[i] >= V || state->targets[i] < 0 || state->targets[i] >= V) {
            error_set(error, "%s: token %ld is outside the vocabulary of %d", path, i, V);
            goto done;
        }
    status = 0;
done:
    fclose(file);
    if (status) debug_state_free(state);
    return status;
}

void debug_state_free(DebugState *state) {
    free(state->inputs), free(state->targets), free(state->logits), free(state->grads);
    memset(state, 0, sizeof *state);
}
