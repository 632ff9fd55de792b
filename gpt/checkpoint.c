// groundup's checkpoint format (the layout is described in gpt/checkpoint.h).
#include "gpt/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "foundations/file.h"
#include "gpt/gpt2.h"

static const char CHECKPOINT_MAGIC[8] = {'g', 'r', 'o', 'u', 'n', 'd', 'u', 'p'};
enum { CHECKSUM_OFFSET = 248, CONFIG_OFFSET = 88, CONFIG_FIELDS = 16, DATA_ALIGNMENT = 64, LORA_BASE_CHECKSUM_OFFSET = 168 };

// ----------------------------------------------------------------------------
// little-endian fields in a byte buffer (the machines this runs on are little-endian;
// checkpoint_save refuses to run on others rather than write a wrong file)

static void put_u32(unsigned char *buffer, size_t offset, uint32_t value) { memcpy(buffer + offset, &value, 4); }
static void put_u64(unsigned char *buffer, size_t offset, uint64_t value) { memcpy(buffer + offset, &value, 8); }
static uint32_t get_u32(const unsigned char *buffer, size_t offset) {
    uint32_t value;
    memcpy(&value, buffer + offset, 4);
    return value;
}
static uint64_t get_u64(const unsigned char *buffer, size_t offset) {
    uint64_t value;
    memcpy(&value, buffer + offset, 8);
    return value;
}

static int host_is_little_endian(void) {
    uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static uint64_t align_up(uint64_t value) { return (value + DATA_ALIGNMENT - 1) / DATA_ALIGNMENT * DATA_ALIGNMENT; }

static void config_to_fields(const ModelConfig *c, int32_t fields[CONFIG_FIELDS]) {
    memset(fields, 0, sizeof(int32_t) * CONFIG_FIELDS);
    fields[0] = c->vocab_size;
    fields[1] = c->context_length;
    fields[2] = c->n_layers;
    fields[3] = c->n_heads;
    fields[4] = c->d_model;
    fields[5] = c->block_size;
    fields[6] = c->d_embed;
    fields[7] = c->d_hidden;
    fields[8] = c->batch_norm;
    fields[9] = c->counting;
    memcpy(&fields[10], &c->smoothing, 4);
    fields[11] = c->weight_type;
    fields[12] = c->embedding_type;
    fields[13] = c->lora_rank;
    memcpy(&fields[14], &c->lora_alpha, 4);
    fields[15] = c->lora_targets;
}

static void config_from_fields(ModelConfig *c, const int32_t fields[CONFIG_FIELDS]) {
    c->vocab_size = fields[0];
    c->context_length = fields[1];
    c->n_layers = fields[2];
    c->n_heads = fields[3];
    c->d_model = fields[4];
    c->block_size = fields[5];
    c->d_embed = fields[6];
    c->d_hidden = fields[7];
    c->batch_norm = fields[8];
    c->counting = fields[9];
    memcpy(&c->smoothing, &fields[10], 4);
    c->weight_type = fields[11];
    c->embedding_type = fields[12];
    c->lora_rank = fields[13];
    memcpy(&c->lora_alpha, &fields[14], 4);
    c->lora_targets = fields[15];
}

// Where tensor t's bytes are in memory and how many: fp32 values in params, or the blocks
// of its quantized matrix.
static void *tensor_bytes(const Model *model, int t, uint64_t *bytes) {
    const TensorInfo *tensor = &model->tensors[t];
    if (tensor->type == TENSOR_TYPE_F32) {
        *bytes = (uint64_t)tensor->size * 4;
        return model->params + tensor->offset;
    }
    *bytes = model->quantized[t].bytes;
    return model->quantized[t].data;
}

// ----------------------------------------------------------------------------
// the training section, field by field

static void write_bytes(FILE *file, const void *data, size_t n) { fwrite(data, 1, n, file); }
static void write_i32(FILE *file, int32_t v) { write_bytes(file, &v, 4); }
static void write_u32(FILE *file, uint32_t v) { write_bytes(file, &v, 4); }
static void write_i64(FILE *file, int64_t v) { write_bytes(file, &v, 8); }
static void write_u64(FILE *file, uint64_t v) { write_bytes(file, &v, 8); }
static void write_f32(FILE *file, float v) { write_bytes(file, &v, 4); }
static void write_f64(FILE *file, double v) { write_bytes(file, &v, 8); }

static uint64_t training_bytes(const TrainState *s) {
    uint64_t n = (uint64_t)s->optimizer.n;
    return 8 + 8 + 16                                       // step, elapsed, generator
           + 4 + 4 + 8 + 8 + 4 + 4 + 8 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 8  // TrainConfig
           + 4 + 8 + 8 + 8 * n                               // optimizer
           + 4 + 8 * (uint64_t)s->train_curve.n + 4 + 8 * (uint64_t)s->val_curve.n  // curves
           + 4 + strlen(s->data_path);
}

static void write_curve(FILE *file, const LossCurve *curve) {
    write_i32(file, curve->n);
    write_bytes(file, curve->steps, sizeof(float) * (size_t)curve->n);
    write_bytes(file, curve->losses, sizeof(float) * (size_t)curve->n);
}

static void write_training(FILE *file, const TrainState *s) {
    const TrainConfig *c = &s->config;
    write_i64(file, s->step);
    write_f64(file, s->elapsed_seconds);
    write_u64(file, s->rng.state);
    write_u64(file, s->rng.increment);
    write_i32(file, c->batch_size);
    write_i32(file, c->seq_len);
    write_i64(file, c->max_steps);
    write_f64(file, c->max_seconds);
    write_f32(file, c->learning_rate);
    write_f32(file, c->min_learning_rate);
    write_i64(file, c->warmup_steps);
    write_f32(file, c->weight_decay);
    write_f32(file, c->grad_clip);
    write_f32(file, c->beta1);
    write_f32(file, c->beta2);
    write_f32(file, c->eps);
    write_i32(file, c->eval_every);
    write_i32(file, c->eval_batches);
    write_u64(file, c->seed);
    write_u32(file, (uint32_t)s->optimizer.config.kind);
    write_i64(file, s->optimizer.step);
    write_i64(file, s->optimizer.n);
    write_bytes(file, s->optimizer.m, sizeof(float) * (size_t)s->optimizer.n);
    write_bytes(file, s->optimizer.v, sizeof(float) * (size_t)s->optimizer.n);
    write_curve(file, &s->train_curve);
    write_curve(file, &s->val_curve);
    write_u32(file, (uint32_t)strlen(s->data_path));
    write_bytes(file, s->data_path, strlen(s->data_path));
}

// Reads from the training section, never past its end.
typedef struct SectionReader {
    FILE *file;
    const char *path;
    uint64_t remaining;
} SectionReader;

static int section_read(SectionReader *r, void *out, uint64_t n, const char *what, Error *error) {
    if (n > r->remaining) return error_set(error, "%s: training state truncated while reading %s", r->path, what);
    r->remaining -= n;
    return read_exact(r->file, out, (size_t)n, r->path, what, error);
}

static int read_curve(SectionReader *r, LossCurve *curve, const char *what, Error *error) {
    int32_t n;
    if (section_read(r, &n, 4, what, error)) return -1;
    if (n < 0 || (uint64_t)n * 8 > r->remaining) return error_set(error, "%s: %s: bad point count %d", r->path, what, n);
    curve->steps = malloc(sizeof(float) * (size_t)(n ? n : 1));
    curve->losses = malloc(sizeof(float) * (size_t)(n ? n : 1));
    if (!curve->steps || !curve->losses) return error_set(error, "%s: out of memory", r->path);
    curve->n = curve->capacity = n;
    if (section_read(r, curve->steps, 4 * (uint64_t)n, what, error)) return -1;
    return section_read(r, curve->losses, 4 * (uint64_t)n, what, error);
}

static int read_training(SectionReader *r, TrainState *s, const Model *model, Error *error) {
    TrainConfig *c = &s->config;
    int64_t step, warmup, optimizer_step, n;
    uint32_t kind;
    if (section_read(r, &step, 8, "the step", error) || section_read(r, &s->elapsed_seconds, 8, "the time", error) ||
        section_read(r, &s->rng.state, 8, "the generator", error) ||
        section_read(r, &s->rng.increment, 8, "the generator", error) ||
        section_read(r, &c->batch_size, 4, "the config", error) || section_read(r, &c->seq_len, 4, "the config", error) ||
        section_read(r, &c->max_steps, 8, "the config", error) || section_read(r, &c->max_seconds, 8, "the config", error) ||
        section_read(r, &c->learning_rate, 4, "the config", error) ||
        section_read(r, &c->min_learning_rate, 4, "the config", error) || section_read(r, &warmup, 8, "the config", error) ||
        section_read(r, &c->weight_decay, 4, "the config", error) || section_read(r, &c->grad_clip, 4, "the config", error) ||
        section_read(r, &c->beta1, 4, "the config", error) || section_read(r, &c->beta2, 4, "the config", error) ||
        section_read(r, &c->eps, 4, "the config", error) || section_read(r, &c->eval_every, 4, "the config", error) ||
        section_read(r, &c->eval_batches, 4, "the config", error) || section_read(r, &c->seed, 8, "the config", error) ||
        section_read(r, &kind, 4, "the optimizer", error) || section_read(r, &optimizer_step, 8, "the optimizer", error) ||
        section_read(r, &n, 8, "the optimizer", error))
        return -1;
    s->step = step;
    c->warmup_steps = warmup;
    if (step < 0 || optimizer_step != step || kind != OPTIMIZER_ADAMW)
        return error_set(error, "%s: training state inconsistent (step %lld, optimizer step %lld)", r->path,
                         (long long)step, (long long)optimizer_step);
    if (n != model->n_trainable)
        return error_set(error, "%s: optimizer state for %lld parameters, the model trains %ld", r->path, (long long)n,
                         model->n_trainable);
    OptimizerConfig optimizer_config = optimizer_default_config(OPTIMIZER_ADAMW);
    optimizer_config.beta1 = c->beta1;
    optimizer_config.beta2 = c->beta2;
    optimizer_config.eps = c->eps;
    optimizer_config.weight_decay = c->weight_decay;
    if (optimizer_init(&s->optimizer, &optimizer_config, n, error)) return error_prefix(error, "%s", r->path);
    s->optimizer.step = step;
    if (section_read(r, s->optimizer.m, 4 * (uint64_t)n, "the optimizer's m", error) ||
        section_read(r, s->optimizer.v, 4 * (uint64_t)n, "the optimizer's v", error) ||
        read_curve(r, &s->train_curve, "the train curve", error) ||
        read_curve(r, &s->val_curve, "the validation curve", error))
        return -1;
    uint32_t length;
    if (section_read(r, &length, 4, "the data path", error)) return -1;
    if (length >= sizeof s->data_path) return error_set(error, "%s: data path of %u bytes is too long", r->path, length);
    if (section_read(r, s->data_path, length, "the data path", error)) return -1;
    s->data_path[length] = '\0';
    if (r->remaining != 0) return error_set(error, "%s: %llu unexpected bytes at the end", r->path, (unsigned long long)r->remaining);
    return 0;
}

// ----------------------------------------------------------------------------
// saving

static int serialise_tokenizer(const TextTokenizer *tokenizer, char **buffer, size_t *size, Error *error) {
    *buffer = NULL;
    *size = 0;
    FILE *memory = open_memstream(buffer, size);
    if (!memory) return error_set(error, "out of memory");
    int status = text_tokenizer_write(tokenizer, memory, error);
    fclose(memory);
    if (status) {
        free(*buffer);
        *buffer = NULL;
    }
    return status;
}

int checkpoint_save(const char *path, const Model *model, const TextTokenizer *tokenizer, const TrainState *training,
                    Error *error) {
    if (!host_is_little_endian()) return error_set(error, "%s: checkpoints are little-endian; this machine is not", path);
    char *tokenizer_text = NULL;
    size_t tokenizer_size = 0;
    if (serialise_tokenizer(tokenizer, &tokenizer_text, &tokenizer_size, error)) return -1;

    int n_tensors = model->n_tensors;
    size_t table_size = (size_t)n_tensors * CHECKPOINT_TENSOR_ENTRY_BYTES;
    unsigned char *table = calloc(1, table_size ? table_size : 1);
    if (!table) {
        free(tokenizer_text);
        return error_set(error, "%s: out of memory", path);
    }
    uint64_t data_bytes = 0;
    for (int i = 0; i < n_tensors; i++) {
        const TensorInfo *t = &model->tensors[i];
        unsigned char *entry = table + (size_t)i * CHECKPOINT_TENSOR_ENTRY_BYTES;
        memcpy(entry, t->name, strnlen(t->name, TENSOR_NAME_LENGTH - 1));
        uint64_t bytes;
        tensor_bytes(model, i, &bytes);
        put_u32(entry, 48, (uint32_t)t->type);
        put_u32(entry, 52, (uint32_t)t->n_dims);
        for (int d = 0; d < TENSOR_MAX_DIMS; d++) put_u32(entry, 56 + 4 * (size_t)d, (uint32_t)(d < t->n_dims ? t->shape[d] : 0));
        put_u64(entry, 72, data_bytes);
        put_u64(entry, 80, bytes);
        data_bytes = align_up(data_bytes + bytes);
    }

    uint64_t tokenizer_offset = CHECKPOINT_HEADER_BYTES;
    uint64_t table_offset = tokenizer_offset + tokenizer_size;
    uint64_t data_offset = align_up(table_offset + table_size);
    uint64_t training_offset = training ? data_offset + data_bytes : 0;
    uint64_t training_size = training ? training_bytes(training) : 0;
    uint64_t file_bytes = data_offset + data_bytes + training_size;

    unsigned char header[CHECKPOINT_HEADER_BYTES] = {0};
    memcpy(header, CHECKPOINT_MAGIC, 8);
    put_u32(header, 8, CHECKPOINT_FORMAT_VERSION);
    put_u32(header, 12, CHECKPOINT_HEADER_BYTES);
    put_u64(header, 16, file_bytes);
    put_u32(header, 24, (uint32_t)model->config.arch);
    put_u32(header, 28, (uint32_t)n_tensors);
    put_u64(header, 32, tokenizer_offset);
    put_u64(header, 40, tokenizer_size);
    put_u64(header, 48, table_offset);
    put_u64(header, 56, data_offset);
    put_u64(header, 64, data_bytes);
    put_u64(header, 72, training_offset);
    put_u64(header, 80, training_size);
    int32_t fields[CONFIG_FIELDS];
    config_to_fields(&model->config, fields);
    memcpy(header + CONFIG_OFFSET, fields, sizeof fields);
    put_u64(header, 152, (uint64_t)model->n_params);
    put_u64(header, 160, (uint64_t)model->n_trainable);
    put_u64(header, LORA_BASE_CHECKSUM_OFFSET, model->config.lora_base_checksum);
    uint64_t checksum = fnv1a(FNV_OFFSET, header, CHECKSUM_OFFSET);
    checksum = fnv1a(checksum, tokenizer_text, tokenizer_size);
    checksum = fnv1a(checksum, table, table_size);
    put_u64(header, CHECKSUM_OFFSET, checksum);

    SafeFile out;
    if (safe_file_open(&out, path, error)) {
        free(tokenizer_text);
        free(table);
        return -1;
    }
    static const unsigned char zeros[DATA_ALIGNMENT] = {0};
    write_bytes(out.file, header, sizeof header);
    write_bytes(out.file, tokenizer_text, tokenizer_size);
    write_bytes(out.file, table, table_size);
    write_bytes(out.file, zeros, (size_t)(data_offset - table_offset - table_size));
    uint64_t written = 0;
    for (int i = 0; i < n_tensors; i++) {
        uint64_t bytes;
        const void *data = tensor_bytes(model, i, &bytes);
        write_bytes(out.file, data, (size_t)bytes);
        written += bytes;
        write_bytes(out.file, zeros, (size_t)(align_up(written) - written));
        written = align_up(written);
    }
    if (training) write_training(out.file, training);
    free(tokenizer_text);
    free(table);
    long position = ftell(out.file);
    if (position < 0 || (uint64_t)position != file_bytes) {
        safe_file_abort(&out);
        return error_set(error, "%s: write failed (%ld of %llu bytes)", path, position, (unsigned long long)file_bytes);
    }
    return safe_file_commit(&out, error);
}

// ----------------------------------------------------------------------------
// loading

static int load_failed(FILE *file, Model *model, TextTokenizer *tokenizer, TrainState *training, void *a, void *b) {
    if (file) fclose(file);
    if (model) model_free(model);
    if (tokenizer) text_tokenizer_free(tokenizer);
    if (training) train_state_free(training);
    free(a);
    free(b);
    return -1;
}

// Replaces the model's weight buffers by a private memory mapping of the file: the tensors
// are read from the page cache as they are used, and not copied. file_offsets[i] is tensor
// i's position in the file. GPT-2 only (its code reaches every tensor through its offset).
static int map_weights(Model *model, FILE *file, long size, const uint64_t *file_offsets, const char *path,
                       Error *error) {
    void *mapping = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fileno(file), 0);
    if (mapping == MAP_FAILED) return error_set(error, "%s: cannot memory-map: %s", path, strerror(errno));
    free(model->params);
    free(model->quant_data);
    model->params = mapping;
    model->quant_data = mapping;
    model->mapping = mapping;
    model->mapping_bytes = (size_t)size;
    for (int i = 0; i < model->n_tensors; i++) {
        TensorInfo *t = &model->tensors[i];
        if (t->type == TENSOR_TYPE_F32) t->offset = (long)(file_offsets[i] / sizeof(float));
        else model->quantized[i].data = (unsigned char *)mapping + file_offsets[i];
    }
    return 0;
}

// The data path at the end of a training section (empty if there is none), skipping the
// optimizer state rather than reading it: the fields before it have fixed sizes, then n and
// m, v (n floats each), then the two curves (a count, then 8 bytes a point).
static void read_data_path(FILE *file, uint64_t training_offset, uint64_t training_size, char *out, size_t size) {
    out[0] = '\0';
    if (training_size == 0) return;
    const long fixed = 8 + 8 + 16 + 76 + 4 + 8;  // step, time, generator, TrainConfig, kind, step
    int64_t n;
    int32_t count;
    uint32_t length;
    if (fseek(file, (long)training_offset + fixed, SEEK_SET) != 0 || fread(&n, 8, 1, file) != 1 || n < 0 ||
        fseek(file, 8 * (long)n, SEEK_CUR) != 0)
        return;
    for (int curve = 0; curve < 2; curve++)
        if (fread(&count, 4, 1, file) != 1 || count < 0 || fseek(file, 8 * (long)count, SEEK_CUR) != 0) return;
    if (fread(&length, 4, 1, file) != 1 || length >= size || fread(out, 1, length, file) != length) return;
    out[length] = '\0';
}

static int load(const char *path, Model *model, TextTokenizer *tokenizer, TrainState *training, int *has_training,
                int map, Error *error) {
    memset(model, 0, sizeof *model);
    memset(tokenizer, 0, sizeof *tokenizer);
    if (training) memset(training, 0, sizeof *training);
    if (has_training) *has_training = 0;
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open: %s", path, strerror(errno));
    long size = file_size(file, path, error);
    if (size < 0) return load_failed(file, NULL, NULL, NULL, NULL, NULL);
    unsigned char header[CHECKPOINT_HEADER_BYTES];
    if (size < CHECKPOINT_HEADER_BYTES) {
        fclose(file);
        return error_set(error, "%s: %ld bytes, too short for a checkpoint header", path, size);
    }
    if (read_exact(file, header, sizeof header, path, "the header", error)) return load_failed(file, 0, 0, 0, 0, 0);
    if (memcmp(header, CHECKPOINT_MAGIC, 8) != 0) {
        fclose(file);
        return error_set(error, "%s: not a groundup checkpoint (bad magic)", path);
    }
    uint32_t version = get_u32(header, 8);
    if (version != CHECKPOINT_FORMAT_VERSION) {
        fclose(file);
        return error_set(error, "%s: checkpoint version %u, this program reads version %d", path, version, CHECKPOINT_FORMAT_VERSION);
    }
    uint64_t file_bytes = get_u64(header, 16);
    uint64_t tokenizer_offset = get_u64(header, 32), tokenizer_size = get_u64(header, 40);
    uint64_t table_offset = get_u64(header, 48), data_offset = get_u64(header, 56), data_bytes = get_u64(header, 64);
    uint64_t training_offset = get_u64(header, 72), training_size = get_u64(header, 80);
    uint32_t n_tensors = get_u32(header, 28);
    uint64_t table_size = (uint64_t)n_tensors * CHECKPOINT_TENSOR_ENTRY_BYTES;
    // Every section in order, each inside the file, the last ending at its end.
    if (get_u32(header, 12) != CHECKPOINT_HEADER_BYTES || file_bytes != (uint64_t)size) {
        fclose(file);
        return error_set(error, "%s: the header says %llu bytes but the file has %ld (truncated or corrupt)", path,
                         (unsigned long long)file_bytes, size);
    }
    uint64_t data_end = data_offset + data_bytes;
    if (tokenizer_offset != CHECKPOINT_HEADER_BYTES || tokenizer_size > file_bytes || n_tensors > 100000 ||
        table_offset != tokenizer_offset + tokenizer_size || data_offset != align_up(table_offset + table_size) ||
        data_bytes > file_bytes || data_end > file_bytes ||
        (training_size == 0 ? (training_offset != 0 || data_end != file_bytes)
                            : (training_offset != data_end || training_size != file_bytes - data_end))) {
        fclose(file);
        return error_set(error, "%s: section offsets and sizes do not fit the file (corrupt header)", path);
    }
    char *tokenizer_text = malloc(tokenizer_size + 1);
    unsigned char *table = malloc(table_size ? table_size : 1);
    if (!tokenizer_text || !table) {
        error_set(error, "%s: out of memory", path);
        return load_failed(file, NULL, NULL, NULL, tokenizer_text, table);
    }
    if (read_exact(file, tokenizer_text, tokenizer_size, path, "the tokenizer", error) ||
        read_exact(file, table, table_size, path, "the tensor table", error))
        return load_failed(file, NULL, NULL, NULL, tokenizer_text, table);
    uint64_t checksum = fnv1a(FNV_OFFSET, header, CHECKSUM_OFFSET);
    checksum = fnv1a(checksum, tokenizer_text, tokenizer_size);
    checksum = fnv1a(checksum, table, table_size);
    if (checksum != get_u64(header, CHECKSUM_OFFSET)) {
        error_set(error, "%s: checksum mismatch in the header, tokenizer or tensor table (corrupt file)", path);
        return load_failed(file, NULL, NULL, NULL, tokenizer_text, table);
    }

    // The model the config describes.
    ModelConfig config = {0};
    config.arch = (Architecture)get_u32(header, 24);
    int32_t fields[CONFIG_FIELDS];
    memcpy(fields, header + CONFIG_OFFSET, sizeof fields);
    config_from_fields(&config, fields);
    config.lora_base_checksum = get_u64(header, LORA_BASE_CHECKSUM_OFFSET);
    if (model_create(model, &config, NULL, error)) {
        error_prefix(error, "%s", path);
        return load_failed(file, NULL, NULL, NULL, tokenizer_text, table);
    }
    if (get_u64(header, 152) != (uint64_t)model->n_params || get_u64(header, 160) != (uint64_t)model->n_trainable) {
        error_set(error, "%s: %llu parameters (%llu trained) in the file, the config makes %ld (%ld)", path,
                  (unsigned long long)get_u64(header, 152), (unsigned long long)get_u64(header, 160), model->n_params,
                  model->n_trainable);
        return load_failed(file, model, NULL, NULL, tokenizer_text, table);
    }
    if ((int)n_tensors != model->n_tensors) {
        error_set(error, "%s: %u tensors in the file, a %s of this config has %d", path, n_tensors,
                  architecture_name(config.arch), model->n_tensors);
        return load_failed(file, model, NULL, NULL, tokenizer_text, table);
    }

    // The tokenizer.
    FILE *memory = fmemopen(tokenizer_text, tokenizer_size ? tokenizer_size : 1, "r");
    if (!memory || text_tokenizer_read(tokenizer, memory, path, error)) {
        if (memory) fclose(memory);
        else error_set(error, "%s: out of memory", path);
        return load_failed(file, model, NULL, NULL, tokenizer_text, table);
    }
    fclose(memory);
    if (text_vocab_size(tokenizer) > config.vocab_size) {
        error_set(error, "%s: the tokenizer has %d tokens, more than the model's vocabulary of %d", path,
                  text_vocab_size(tokenizer), config.vocab_size);
        return load_failed(file, model, tokenizer, NULL, tokenizer_text, table);
    }

    // The tensors: each entry must name one of the model's tensors with its shape.
    int *seen = calloc((size_t)model->n_tensors + 1, sizeof(int));
    uint64_t *file_offsets = calloc((size_t)model->n_tensors + 1, sizeof(uint64_t));
    map = map && config.arch == ARCH_GPT2;
    if (!seen || !file_offsets) {
        free(seen);
        free(file_offsets);
        error_set(error, "%s: out of memory", path);
        return load_failed(file, model, tokenizer, NULL, tokenizer_text, table);
    }
    for (uint32_t i = 0; i < n_tensors; i++) {
        const unsigned char *entry = table + (size_t)i * CHECKPOINT_TENSOR_ENTRY_BYTES;
        char name[TENSOR_NAME_LENGTH];
        memcpy(name, entry, TENSOR_NAME_LENGTH);
        int status = -1;
        const TensorInfo *t = NULL;
        uint32_t type = get_u32(entry, 48), n_dims = get_u32(entry, 52);
        uint64_t offset = get_u64(entry, 72), bytes = get_u64(entry, 80);
        if (name[TENSOR_NAME_LENGTH - 1] != '\0') error_set(error, "%s: tensor %u has no name", path, i);
        else if (!(t = model_find_tensor(model, name)))
            error_set(error, "%s: tensor '%s' is not part of a %s model", path, name, architecture_name(config.arch));
        else if (seen[t - model->tensors]++) error_set(error, "%s: tensor '%s' appears twice", path, name);
        else if (type != (uint32_t)t->type)
            error_set(error, "%s: tensor '%s' has type %u, the config gives %d", path, name, type, t->type);
        else if ((int)n_dims != t->n_dims) error_set(error, "%s: tensor '%s' has %u dimensions, expected %d", path, name, n_dims, t->n_dims);
        else {
            status = 0;
            for (int d = 0; d < t->n_dims; d++)
                if ((int)get_u32(entry, 56 + 4 * (size_t)d) != t->shape[d]) status = -1;
            uint64_t expected_bytes;
            void *destination = tensor_bytes(model, (int)(t - model->tensors), &expected_bytes);
            if (status) error_set(error, "%s: tensor '%s' has another shape than the config gives", path, name);
            else if (bytes != expected_bytes || offset % DATA_ALIGNMENT || offset > data_bytes || bytes > data_bytes - offset)
                status = error_set(error, "%s: tensor '%s' has a bad size or offset", path, name);
            else if (map)
                file_offsets[t - model->tensors] = data_offset + offset;
            else if (fseek(file, (long)(data_offset + offset), SEEK_SET) != 0 ||
                     read_exact(file, destination, bytes, path, name, error))
                status = -1;
        }
        if (status) {
            free(seen);
            free(file_offsets);
            return load_failed(file, model, tokenizer, NULL, tokenizer_text, table);
        }
    }
    free(seen);
    if (map && map_weights(model, file, size, file_offsets, path, error)) {
        free(file_offsets);
        return load_failed(file, model, tokenizer, NULL, tokenizer_text, table);
    }
    free(file_offsets);
    free(tokenizer_text);
    free(table);

    if (map && training) read_data_path(file, training_offset, training_size, training->data_path, sizeof training->data_path);
    else if (training && training_size > 0) {
        SectionReader reader = {file, path, training_size};
        if (fseek(file, (long)training_offset, SEEK_SET) != 0 || read_training(&reader, training, model, error))
            return load_failed(file, model, tokenizer, training, NULL, NULL);
        if (has_training) *has_training = 1;
    }
    fclose(file);
    return 0;
}

int checkpoint_load(const char *path, Model *model, TextTokenizer *tokenizer, TrainState *training, int *has_training,
                    Error *error) {
    return load(path, model, tokenizer, training, has_training, 0, error);
}

int checkpoint_load_for_inference(const char *path, const char *gpt2_directory, Model *model, TextTokenizer *tokenizer,
                                  char *data_path, size_t data_path_size, Error *error) {
    memset(model, 0, sizeof *model);
    memset(tokenizer, 0, sizeof *tokenizer);
    if (data_path && data_path_size) data_path[0] = '\0';
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open: %s", path, strerror(errno));
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, file);
    fclose(file);
    int32_t llmc_magic = 20240326;
    if (got >= 4 && memcmp(magic, &llmc_magic, 4) == 0) {
        if (llmc_read_checkpoint(model, path, error)) return -1;
        // llm.c's files hold no tokenizer; GPT-2's vocabulary is the one they are made with.
        if (model->config.vocab_size != 50257) {
            model_free(model);
            return error_set(error, "%s: an llm.c checkpoint with a %d-token vocabulary, not GPT-2's 50257: convert "
                             "it with its tokenizer (groundup convert --tokenizer FILE)", path, model->config.vocab_size);
        }
        if (text_tokenizer_gpt2(tokenizer, gpt2_directory, error)) {
            model_free(model);
            return -1;
        }
        return 0;
    }
    TrainState training;
    memset(&training, 0, sizeof training);
    if (load(path, model, tokenizer, &training, NULL, 1, error)) return -1;
    if (data_path && data_path_size) snprintf(data_path, data_path_size, "%s", training.data_path);
    train_state_free(&training);  // the other stages are read, not mapped: their whole training state
    return 0;
}
