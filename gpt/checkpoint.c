// groundup's checkpoint format (the layout is described in gpt/checkpoint.h).
//
// The fixed-size parts of the file (the header, a tensor table entry, the fixed start of the
// training section) are each described once, as a table of fields: name, type in the file,
// and where the value lives in memory. Saving, loading and sizes all walk those tables, so a
// field is added in one place. The variable parts (tokenizer text, tensor data, optimizer
// moments, curves, data path) are written and read by hand around them.
#include "gpt/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>

#include "foundations/file.h"
#include "foundations/hash.h"
#include "gpt/gpt2.h"

static const char CHECKPOINT_MAGIC[8] = {'g', 'r', 'o', 'u', 'n', 'd', 'u', 'p'};
enum { CHECKSUM_OFFSET = 248, DATA_ALIGNMENT = 64, MAX_TENSORS = 100000 };

// ----------------------------------------------------------------------------
// fields: one table per fixed-size record

// The file's types; in memory an I64 is a long (64 bits on the LP64 systems this runs on),
// an I32 an int or a 4-byte enum, the others their C types.
typedef enum { FIELD_I32, FIELD_U32, FIELD_F32, FIELD_I64, FIELD_U64, FIELD_F64 } FieldType;

typedef struct Field {
    const char *name;  // for error messages
    FieldType type;
    size_t offset;     // of the value in the struct the table describes
} Field;

_Static_assert(sizeof(long) == 8, "I64 fields are longs");

static size_t field_bytes(FieldType type) { return type == FIELD_I32 || type == FIELD_U32 || type == FIELD_F32 ? 4 : 8; }

static size_t fields_bytes(const Field *fields, int n) {
    size_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += field_bytes(fields[i].type);
    return bytes;
}

// The records are little-endian in the file and the machine is checked to be little-endian,
// so a field is its bytes.
static void fields_encode(unsigned char *out, const Field *fields, int n, const void *record) {
    for (int i = 0; i < n; i++) {
        size_t bytes = field_bytes(fields[i].type);
        memcpy(out, (const unsigned char *)record + fields[i].offset, bytes);
        out += bytes;
    }
}

static void fields_decode(void *record, const Field *fields, int n, const unsigned char *in) {
    for (int i = 0; i < n; i++) {
        size_t bytes = field_bytes(fields[i].type);
        memcpy((unsigned char *)record + fields[i].offset, in, bytes);
        in += bytes;
    }
}

static int host_is_little_endian(void) {
    uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static uint64_t align_up(uint64_t value) { return (value + DATA_ALIGNMENT - 1) / DATA_ALIGNMENT * DATA_ALIGNMENT; }

// ----------------------------------------------------------------------------
// the header: the magic, then these fields from byte 8 to 176, zeros, the checksum at 248

typedef struct Header {
    uint32_t version, header_bytes;
    uint64_t file_bytes;
    uint32_t arch, n_tensors;
    uint64_t tokenizer_offset, tokenizer_bytes, table_offset, data_offset, data_bytes;
    uint64_t training_offset, training_bytes;  // both 0: no training state
    ModelConfig config;                        // all but arch, which is above
    uint64_t n_params, n_trainable;
    uint32_t tensor_crc32;                     // zlib's CRC-32 of every tensor's bytes in table order
    uint32_t flags;                            // CHECKPOINT_HAS_CRC; 0 in files written before it
    uint64_t data_path_offset, data_path_bytes;  // the data the model was trained on (0, 0: none)
} Header;

// flags: the tensor data has its CRC-32 in the header.
enum { CHECKPOINT_HAS_CRC = 1 };

static const Field HEADER_FIELDS[] = {
    {"version", FIELD_U32, offsetof(Header, version)},
    {"header bytes", FIELD_U32, offsetof(Header, header_bytes)},
    {"file bytes", FIELD_U64, offsetof(Header, file_bytes)},
    {"architecture", FIELD_U32, offsetof(Header, arch)},
    {"tensor count", FIELD_U32, offsetof(Header, n_tensors)},
    {"tokenizer offset", FIELD_U64, offsetof(Header, tokenizer_offset)},
    {"tokenizer bytes", FIELD_U64, offsetof(Header, tokenizer_bytes)},
    {"tensor table offset", FIELD_U64, offsetof(Header, table_offset)},
    {"tensor data offset", FIELD_U64, offsetof(Header, data_offset)},
    {"tensor data bytes", FIELD_U64, offsetof(Header, data_bytes)},
    {"training offset", FIELD_U64, offsetof(Header, training_offset)},
    {"training bytes", FIELD_U64, offsetof(Header, training_bytes)},
    {"vocab_size", FIELD_I32, offsetof(Header, config.vocab_size)},
    {"context_length", FIELD_I32, offsetof(Header, config.context_length)},
    {"n_layers", FIELD_I32, offsetof(Header, config.n_layers)},
    {"n_heads", FIELD_I32, offsetof(Header, config.n_heads)},
    {"d_model", FIELD_I32, offsetof(Header, config.d_model)},
    {"block_size", FIELD_I32, offsetof(Header, config.block_size)},
    {"d_embed", FIELD_I32, offsetof(Header, config.d_embed)},
    {"d_hidden", FIELD_I32, offsetof(Header, config.d_hidden)},
    {"batch_norm", FIELD_I32, offsetof(Header, config.batch_norm)},
    {"counting", FIELD_I32, offsetof(Header, config.counting)},
    {"smoothing", FIELD_F32, offsetof(Header, config.smoothing)},
    {"weight_type", FIELD_I32, offsetof(Header, config.weight_type)},
    {"embedding_type", FIELD_I32, offsetof(Header, config.embedding_type)},
    {"lora_rank", FIELD_I32, offsetof(Header, config.lora_rank)},
    {"lora_alpha", FIELD_F32, offsetof(Header, config.lora_alpha)},
    {"lora_targets", FIELD_I32, offsetof(Header, config.lora_targets)},
    {"parameters", FIELD_U64, offsetof(Header, n_params)},
    {"trained parameters", FIELD_U64, offsetof(Header, n_trainable)},
    {"lora base checksum", FIELD_U64, offsetof(Header, config.lora_base_checksum)},
    {"tensor data CRC-32", FIELD_U32, offsetof(Header, tensor_crc32)},
    {"flags", FIELD_U32, offsetof(Header, flags)},
    {"data path offset", FIELD_U64, offsetof(Header, data_path_offset)},
    {"data path bytes", FIELD_U64, offsetof(Header, data_path_bytes)},
};
enum { N_HEADER_FIELDS = sizeof HEADER_FIELDS / sizeof HEADER_FIELDS[0] };

// ----------------------------------------------------------------------------
// a tensor table entry (96 bytes): char[48] name, then these fields, then 8 zero bytes

typedef struct TableEntry {
    uint32_t type, n_dims;
    int32_t shape[TENSOR_MAX_DIMS];
    uint64_t offset, bytes;  // offset from the start of the tensor data
} TableEntry;

static const Field TABLE_ENTRY_FIELDS[] = {
    {"type", FIELD_U32, offsetof(TableEntry, type)},          {"dimensions", FIELD_U32, offsetof(TableEntry, n_dims)},
    {"shape[0]", FIELD_I32, offsetof(TableEntry, shape[0])},  {"shape[1]", FIELD_I32, offsetof(TableEntry, shape[1])},
    {"shape[2]", FIELD_I32, offsetof(TableEntry, shape[2])},  {"shape[3]", FIELD_I32, offsetof(TableEntry, shape[3])},
    {"offset", FIELD_U64, offsetof(TableEntry, offset)},      {"bytes", FIELD_U64, offsetof(TableEntry, bytes)},
};
enum { N_TABLE_ENTRY_FIELDS = sizeof TABLE_ENTRY_FIELDS / sizeof TABLE_ENTRY_FIELDS[0] };

// ----------------------------------------------------------------------------
// the training section: these fields, then m and v (n floats each), two curves
// (i32 count, f32 steps, f32 losses) and the data path (u32 length, bytes)

static const Field TRAINING_FIELDS[] = {
    {"the step", FIELD_I64, offsetof(TrainState, step)},
    {"the time", FIELD_F64, offsetof(TrainState, elapsed_seconds)},
    {"the generator", FIELD_U64, offsetof(TrainState, rng.state)},
    {"the generator", FIELD_U64, offsetof(TrainState, rng.increment)},
    {"the batch size", FIELD_I32, offsetof(TrainState, config.batch_size)},
    {"the context", FIELD_I32, offsetof(TrainState, config.seq_len)},
    {"the steps", FIELD_I64, offsetof(TrainState, config.max_steps)},
    {"the time budget", FIELD_F64, offsetof(TrainState, config.max_seconds)},
    {"the learning rate", FIELD_F32, offsetof(TrainState, config.learning_rate)},
    {"the minimum learning rate", FIELD_F32, offsetof(TrainState, config.min_learning_rate)},
    {"the warmup", FIELD_I64, offsetof(TrainState, config.warmup_steps)},
    {"the weight decay", FIELD_F32, offsetof(TrainState, config.weight_decay)},
    {"the clipping", FIELD_F32, offsetof(TrainState, config.grad_clip)},
    {"beta1", FIELD_F32, offsetof(TrainState, config.beta1)},
    {"beta2", FIELD_F32, offsetof(TrainState, config.beta2)},
    {"eps", FIELD_F32, offsetof(TrainState, config.eps)},
    {"the validation interval", FIELD_I32, offsetof(TrainState, config.eval_every)},
    {"the validation batches", FIELD_I32, offsetof(TrainState, config.eval_batches)},
    {"the seed", FIELD_U64, offsetof(TrainState, config.seed)},
    {"the optimizer kind", FIELD_U32, offsetof(TrainState, optimizer.config.kind)},
    {"the optimizer step", FIELD_I64, offsetof(TrainState, optimizer.step)},
    {"the optimizer size", FIELD_I64, offsetof(TrainState, optimizer.n)},
};
enum { N_TRAINING_FIELDS = sizeof TRAINING_FIELDS / sizeof TRAINING_FIELDS[0] };
_Static_assert(sizeof(OptimizerKind) == 4, "the optimizer kind is a 4-byte field");

// The extension after the data path: u32 version, these fields, the gradient-norm curve.
// Files written before the optimizer and the schedule could be chosen have none: they
// trained AdamW with warmup + cosine, and get train_default_config's values. Version 1 ends
// before the dropout (those runs had none: 0); version 2 has every field.
enum { TRAINING_EXTENSION_VERSION = 2, TRAINING_EXTENSION_V1_FIELDS = 12 };
static const Field TRAINING_EXTENSION_FIELDS[] = {
    {"the schedule", FIELD_U32, offsetof(TrainState, config.schedule)},
    {"the step size", FIELD_I64, offsetof(TrainState, config.step_size)},
    {"gamma", FIELD_F32, offsetof(TrainState, config.gamma)},
    {"the clipping value", FIELD_F32, offsetof(TrainState, config.grad_clip_value)},
    {"the L1 coefficient", FIELD_F32, offsetof(TrainState, config.l1)},
    {"the patience", FIELD_I32, offsetof(TrainState, config.patience)},
    {"the momentum", FIELD_F32, offsetof(TrainState, optimizer.config.momentum)},
    {"the RMSprop decay", FIELD_F32, offsetof(TrainState, optimizer.config.rms_decay)},
    {"the best validation loss", FIELD_F32, offsetof(TrainState, best_val_loss)},
    {"the best step", FIELD_I64, offsetof(TrainState, best_step)},
    {"the validations since the best", FIELD_I32, offsetof(TrainState, evals_since_best)},
    {"the early stop", FIELD_I32, offsetof(TrainState, stopped_early)},
    {"the dropout", FIELD_F32, offsetof(TrainState, config.dropout)},  // version 2
};
enum { N_TRAINING_EXTENSION_FIELDS = sizeof TRAINING_EXTENSION_FIELDS / sizeof TRAINING_EXTENSION_FIELDS[0] };
_Static_assert(sizeof(ScheduleKind) == 4, "the schedule is a 4-byte field");
_Static_assert(N_TRAINING_EXTENSION_FIELDS == TRAINING_EXTENSION_V1_FIELDS + 1, "version 2 adds the dropout");

static uint64_t training_bytes(const TrainState *s) {
    return fields_bytes(TRAINING_FIELDS, N_TRAINING_FIELDS) + 8 * (uint64_t)s->optimizer.n + 4 +
           8 * (uint64_t)s->train_curve.n + 4 + 8 * (uint64_t)s->val_curve.n + 4 + strlen(s->data_path) +
           4 + fields_bytes(TRAINING_EXTENSION_FIELDS, N_TRAINING_EXTENSION_FIELDS) + 4 + 8 * (uint64_t)s->norm_curve.n;
}

// Where tensor t's bytes are in memory and how many: fp32 values in params, or the blocks
// of its quantized matrix.
static void *tensor_bytes(const Model *model, int t, uint64_t *bytes) {
    const TensorInfo *tensor = &model->tensors[t];
    if (tensor->type == TENSOR_F32) {
        *bytes = (uint64_t)tensor->size * 4;
        return model->params + tensor->offset;
    }
    *bytes = model->quantized[t].bytes;
    return model->quantized[t].data;
}

// zlib's CRC-32 of every tensor's bytes, in table order (the padding between them excluded),
// fed in pieces of at most 1 GiB (zlib's length is an unsigned int).
static uint32_t tensors_crc32(const Model *model) {
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int i = 0; i < model->n_tensors; i++) {
        uint64_t bytes;
        const unsigned char *data = tensor_bytes(model, i, &bytes);
        for (uint64_t done = 0; done < bytes;) {
            uInt piece = (uInt)(bytes - done < (1u << 30) ? bytes - done : (1u << 30));
            crc = crc32(crc, data + done, piece);
            done += piece;
        }
    }
    return (uint32_t)crc;
}

// ----------------------------------------------------------------------------
// saving

// n = 0 writes nothing (an empty curve's NULL buffer must not reach fwrite, whose pointer is nonnull).
static void write_bytes(FILE *file, const void *data, size_t n) {
    if (n > 0) fwrite(data, 1, n, file);
}

static void write_curve(FILE *file, const LossCurve *curve) {
    int32_t n = curve->n;
    write_bytes(file, &n, 4);
    if (n == 0) return;  // an empty curve may have no buffers (the counting bigram's gradient norms)
    write_bytes(file, curve->steps, sizeof(float) * (size_t)curve->n);
    write_bytes(file, curve->losses, sizeof(float) * (size_t)curve->n);
}

// n floats, or n zeros for a buffer the optimizer's kind does not have (SGD has no m or v):
// the section's layout is the same for every kind.
static void write_floats(FILE *file, const float *values, long n) {
    static const float zeros[1024] = {0};
    if (values) {
        write_bytes(file, values, sizeof(float) * (size_t)n);
        return;
    }
    for (long done = 0; done < n; done += 1024) write_bytes(file, zeros, sizeof(float) * (size_t)(n - done < 1024 ? n - done : 1024));
}

static void write_training(FILE *file, const TrainState *s) {
    unsigned char fixed[256];
    _Static_assert(sizeof fixed >= 8 * N_TRAINING_FIELDS, "room for the training fields");
    _Static_assert(sizeof fixed >= 8 * N_TRAINING_EXTENSION_FIELDS, "room for the extension fields");
    fields_encode(fixed, TRAINING_FIELDS, N_TRAINING_FIELDS, s);
    write_bytes(file, fixed, fields_bytes(TRAINING_FIELDS, N_TRAINING_FIELDS));
    write_floats(file, s->optimizer.m, s->optimizer.n);
    write_floats(file, s->optimizer.v, s->optimizer.n);
    write_curve(file, &s->train_curve);
    write_curve(file, &s->val_curve);
    uint32_t length = (uint32_t)strlen(s->data_path);
    write_bytes(file, &length, 4);
    write_bytes(file, s->data_path, length);
    uint32_t version = TRAINING_EXTENSION_VERSION;
    write_bytes(file, &version, 4);
    fields_encode(fixed, TRAINING_EXTENSION_FIELDS, N_TRAINING_EXTENSION_FIELDS, s);
    write_bytes(file, fixed, fields_bytes(TRAINING_EXTENSION_FIELDS, N_TRAINING_EXTENSION_FIELDS));
    write_curve(file, &s->norm_curve);
}

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

// The tensor table (n_tensors entries) and the bytes of tensor data it describes.
static unsigned char *build_table(const Model *model, uint64_t *data_bytes) {
    size_t table_size = (size_t)model->n_tensors * CHECKPOINT_TENSOR_ENTRY_BYTES;
    unsigned char *table = calloc(1, table_size ? table_size : 1);
    if (!table) return NULL;
    *data_bytes = 0;
    for (int i = 0; i < model->n_tensors; i++) {
        const TensorInfo *t = &model->tensors[i];
        unsigned char *entry = table + (size_t)i * CHECKPOINT_TENSOR_ENTRY_BYTES;
        memcpy(entry, t->name, strnlen(t->name, TENSOR_NAME_LENGTH - 1));
        TableEntry record = {.type = (uint32_t)t->type, .n_dims = (uint32_t)t->n_dims, .offset = *data_bytes};
        for (int d = 0; d < t->n_dims; d++) record.shape[d] = t->shape[d];
        tensor_bytes(model, i, &record.bytes);
        fields_encode(entry + TENSOR_NAME_LENGTH, TABLE_ENTRY_FIELDS, N_TABLE_ENTRY_FIELDS, &record);
        *data_bytes = align_up(*data_bytes + record.bytes);
    }
    return table;
}

// FNV-1a of the header before the checksum, the tokenizer, the tensor table and the data path
// (none in older files, which hashes nothing).
static uint64_t header_checksum(const unsigned char *header, const void *tokenizer_text, size_t tokenizer_size,
                                const unsigned char *table, size_t table_size, const char *data_path, size_t path_size) {
    uint64_t checksum = fnv1a(FNV_OFFSET, header, CHECKSUM_OFFSET);
    checksum = fnv1a(checksum, tokenizer_text, tokenizer_size);
    checksum = fnv1a(checksum, table, table_size);
    return fnv1a(checksum, data_path, path_size);
}

// Writes every section after the header in order; the caller checks the length.
static void write_sections(FILE *file, const Header *h, const char *tokenizer_text, const unsigned char *table,
                           const Model *model, const TrainState *training, const char *data_path) {
    static const unsigned char zeros[DATA_ALIGNMENT] = {0};
    uint64_t table_size = (uint64_t)h->n_tensors * CHECKPOINT_TENSOR_ENTRY_BYTES;
    write_bytes(file, tokenizer_text, (size_t)h->tokenizer_bytes);
    write_bytes(file, table, (size_t)table_size);
    write_bytes(file, zeros, (size_t)(h->data_offset - h->table_offset - table_size));
    uint64_t written = 0;
    for (int i = 0; i < model->n_tensors; i++) {
        uint64_t bytes;
        const void *data = tensor_bytes(model, i, &bytes);
        write_bytes(file, data, (size_t)bytes);
        written += bytes;
        write_bytes(file, zeros, (size_t)(align_up(written) - written));
        written = align_up(written);
    }
    if (training) write_training(file, training);
    write_bytes(file, data_path, (size_t)h->data_path_bytes);
}

static int save(const char *path, const Model *model, const TextTokenizer *tokenizer, const TrainState *training,
                const char *data_path, Error *error) {
    if (!host_is_little_endian()) return error_set(error, "%s: checkpoints are little-endian; this machine is not", path);
    char *tokenizer_text = NULL;
    size_t tokenizer_size = 0;
    if (serialise_tokenizer(tokenizer, &tokenizer_text, &tokenizer_size, error)) return -1;
    Header h = {.version = CHECKPOINT_FORMAT_VERSION, .header_bytes = CHECKPOINT_HEADER_BYTES,
                .arch = (uint32_t)model->config.arch, .n_tensors = (uint32_t)model->n_tensors,
                .config = model->config, .n_params = (uint64_t)model->n_params,
                .n_trainable = (uint64_t)model->n_trainable, .tensor_crc32 = tensors_crc32(model),
                .flags = CHECKPOINT_HAS_CRC};
    unsigned char *table = build_table(model, &h.data_bytes);
    if (!table) {
        free(tokenizer_text);
        return error_set(error, "%s: out of memory", path);
    }
    size_t table_size = (size_t)model->n_tensors * CHECKPOINT_TENSOR_ENTRY_BYTES;
    if (!data_path) data_path = "";
    h.tokenizer_offset = CHECKPOINT_HEADER_BYTES;
    h.tokenizer_bytes = tokenizer_size;
    h.table_offset = h.tokenizer_offset + tokenizer_size;
    h.data_offset = align_up(h.table_offset + table_size);
    h.training_offset = training ? h.data_offset + h.data_bytes : 0;
    h.training_bytes = training ? training_bytes(training) : 0;
    h.data_path_bytes = strlen(data_path);
    h.data_path_offset = h.data_path_bytes ? h.data_offset + h.data_bytes + h.training_bytes : 0;
    h.file_bytes = h.data_offset + h.data_bytes + h.training_bytes + h.data_path_bytes;

    unsigned char header[CHECKPOINT_HEADER_BYTES] = {0};
    memcpy(header, CHECKPOINT_MAGIC, 8);
    fields_encode(header + 8, HEADER_FIELDS, N_HEADER_FIELDS, &h);
    uint64_t checksum = header_checksum(header, tokenizer_text, tokenizer_size, table, table_size, data_path,
                                        (size_t)h.data_path_bytes);
    memcpy(header + CHECKSUM_OFFSET, &checksum, 8);

    SafeFile out;
    int status = safe_file_open(&out, path, error);
    if (status == 0) {
        write_bytes(out.file, header, sizeof header);
        write_sections(out.file, &h, tokenizer_text, table, model, training, data_path);
        long position = ftell(out.file);
        if (position < 0 || (uint64_t)position != h.file_bytes) {
            const char *why = ferror(out.file) ? strerror(errno) : "short write";
            safe_file_abort(&out);
            status = error_set(error, "%s: write failed (%ld of %llu bytes): %s", path, position,
                               (unsigned long long)h.file_bytes, why);
        } else {
            status = safe_file_commit(&out, error);
        }
    }
    free(tokenizer_text);
    free(table);
    return status;
}

int checkpoint_save(const char *path, const Model *model, const TextTokenizer *tokenizer, const TrainState *training,
                    Error *error) {
    return save(path, model, tokenizer, training, NULL, error);  // the training state holds the data path
}

int checkpoint_save_for_inference(const char *path, const Model *model, const TextTokenizer *tokenizer,
                                  const char *data_path, Error *error) {
    return save(path, model, tokenizer, NULL, data_path, error);
}

// ----------------------------------------------------------------------------
// loading, in steps that share one Loader and one cleanup path

typedef struct Loader {
    const char *path;
    FILE *file;
    long size;
    Header header;
    char *tokenizer_text;   // (tokenizer_bytes + 1)
    unsigned char *table;   // (n_tensors entries)
    uint64_t *file_offsets; // (n_tensors) where each tensor's data starts in the file
    Model *model;           // created by create_model
    TextTokenizer *tokenizer;
    int model_created, tokenizer_read;
    char data_path[1024];   // the data-path section's, "" when there is none
} Loader;

// Frees what the steps allocated; on failure also the model and tokenizer they made.
static void loader_finish(Loader *l, int failed) {
    if (l->file) fclose(l->file);
    free(l->tokenizer_text);
    free(l->table);
    free(l->file_offsets);
    if (failed && l->model_created) model_free(l->model);
    if (failed && l->tokenizer_read) text_tokenizer_free(l->tokenizer);
}

// After the tensor data, the optional training section and the optional data path follow
// each other without gaps, the last ending at the file's end. Every size is checked against
// the file's before it is added, so no sum overflows.
static int sections_fit(const Header *h) {
    uint64_t end = h->data_offset, file = h->file_bytes;
    if (end > file || h->data_bytes > file - end) return 0;
    end += h->data_bytes;
    if (h->training_bytes == 0 ? h->training_offset != 0 : h->training_offset != end) return 0;
    if (h->training_bytes > file - end) return 0;
    end += h->training_bytes;
    if (h->data_path_bytes == 0 ? h->data_path_offset != 0 : h->data_path_offset != end) return 0;
    if (h->data_path_bytes >= 1024 || h->data_path_bytes > file - end) return 0;
    return end + h->data_path_bytes == file;
}

// The header: magic, version, and every section in order inside the file, the last ending
// at its end.
static int read_header(Loader *l, Error *error) {
    const char *path = l->path;
    unsigned char header[CHECKPOINT_HEADER_BYTES];
    if (l->size < CHECKPOINT_HEADER_BYTES)
        return error_set(error, "%s: %ld bytes, too short for a checkpoint header", path, l->size);
    if (read_exact(l->file, header, sizeof header, path, "the header", error)) return -1;
    if (memcmp(header, CHECKPOINT_MAGIC, 8) != 0) return error_set(error, "%s: not a groundup checkpoint (bad magic)", path);
    Header *h = &l->header;
    fields_decode(h, HEADER_FIELDS, N_HEADER_FIELDS, header + 8);
    h->config.arch = (Architecture)h->arch;
    if (h->version != CHECKPOINT_FORMAT_VERSION)
        return error_set(error, "%s: checkpoint version %u, this program reads version %d", path, h->version,
                         CHECKPOINT_FORMAT_VERSION);
    if (h->header_bytes != CHECKPOINT_HEADER_BYTES || h->file_bytes != (uint64_t)l->size)
        return error_set(error, "%s: the header says %llu bytes but the file has %ld (truncated or corrupt)", path,
                         (unsigned long long)h->file_bytes, l->size);
    if (h->flags & ~(uint32_t)CHECKPOINT_HAS_CRC)
        return error_set(error, "%s: unknown flags 0x%x (written by a newer program?)", path, h->flags);
    uint64_t table_size = (uint64_t)h->n_tensors * CHECKPOINT_TENSOR_ENTRY_BYTES;
    if (h->tokenizer_offset != CHECKPOINT_HEADER_BYTES || h->tokenizer_bytes > h->file_bytes ||
        h->n_tensors > MAX_TENSORS || h->table_offset != h->tokenizer_offset + h->tokenizer_bytes ||
        h->data_offset != align_up(h->table_offset + table_size) || !sections_fit(h))
        return error_set(error, "%s: section offsets and sizes do not fit the file (corrupt header)", path);
    // The tokenizer and the table, which the checksum covers with the header.
    l->tokenizer_text = malloc(h->tokenizer_bytes + 1);
    l->table = malloc(table_size ? table_size : 1);
    if (!l->tokenizer_text || !l->table) return error_set(error, "%s: out of memory", path);
    if (read_exact(l->file, l->tokenizer_text, h->tokenizer_bytes, path, "the tokenizer", error) ||
        read_exact(l->file, l->table, table_size, path, "the tensor table", error))
        return -1;
    if (h->data_path_bytes &&
        (fseek(l->file, (long)h->data_path_offset, SEEK_SET) != 0 ||
         read_exact(l->file, l->data_path, h->data_path_bytes, path, "the data path", error)))
        return -1;
    l->data_path[h->data_path_bytes] = '\0';
    uint64_t stored;
    memcpy(&stored, header + CHECKSUM_OFFSET, 8);
    if (stored != header_checksum(header, l->tokenizer_text, h->tokenizer_bytes, l->table, table_size, l->data_path,
                                  (size_t)h->data_path_bytes))
        return error_set(error, "%s: checksum mismatch in the header, tokenizer or tensor table (corrupt file)", path);
    return 0;
}

// A lower bound of the bytes a config's tensors take in the file: its largest matrices at
// half a byte a weight (less than q4_0 stores), the others' at 4. Checked before the model is
// allocated, so that a corrupt header cannot make a small file ask for gigabytes.
static double config_minimum_bytes(const ModelConfig *c) {
    double V = c->vocab_size, C = c->d_model;
    switch (c->arch) {
    case ARCH_BIGRAM: return 4.0 * V * V;
    case ARCH_MLP: return 4.0 * ((V + c->d_hidden) * c->d_embed + (double)c->block_size * c->d_embed * c->d_hidden);
    case ARCH_GPT2: return 0.5 * (V * C + 12.0 * c->n_layers * C * C) + 4.0 * c->context_length * C;
    case ARCH_LORA: return 4.0 * c->n_layers * (double)c->lora_rank * 2.0 * C;  // one adapter pair at least
    }
    return 0;
}

// The model the config describes, and the tokenizer; both must agree with the header.
static int create_model(Loader *l, Error *error) {
    const Header *h = &l->header;
    if (config_minimum_bytes(&h->config) > (double)h->data_bytes)
        return error_set(error, "%s: the config needs more tensor data than the file's %llu bytes (corrupt header)",
                         l->path, (unsigned long long)h->data_bytes);
    if (model_init(l->model, &h->config, NULL, error)) return error_prefix(error, "%s", l->path);
    l->model_created = 1;
    if ((int)h->n_tensors != l->model->n_tensors)
        return error_set(error, "%s: %u tensors in the file, a %s of this config has %d", l->path, h->n_tensors,
                         architecture_name(h->config.arch), l->model->n_tensors);
    FILE *memory = fmemopen(l->tokenizer_text, h->tokenizer_bytes ? h->tokenizer_bytes : 1, "r");
    if (!memory) return error_set(error, "%s: out of memory", l->path);
    int status = text_tokenizer_read(l->tokenizer, memory, l->path, error);
    fclose(memory);
    if (status) return -1;
    l->tokenizer_read = 1;
    int tokens = text_vocab_size(l->tokenizer);
    if (tokens > h->config.vocab_size)
        return error_set(error, "%s: the tokenizer has %d tokens, more than the model's vocabulary of %d", l->path,
                         tokens, h->config.vocab_size);
    return 0;
}

// Checks table entry i against the model's tensors; returns the tensor's index or -1.
static int check_entry(const Loader *l, uint32_t i, const TableEntry *entry, const char *name, int *seen,
                       Error *error) {
    const char *path = l->path;
    const Model *model = l->model;
    if (name[TENSOR_NAME_LENGTH - 1] != '\0') return error_set(error, "%s: tensor %u has no name", path, i);
    const TensorInfo *t = model_find_tensor(model, name);
    if (!t)
        return error_set(error, "%s: tensor '%s' is not part of a %s model", path, name,
                         architecture_name(model->config.arch));
    int index = (int)(t - model->tensors);
    if (seen[index]++) return error_set(error, "%s: tensor '%s' appears twice", path, name);
    if (entry->type != (uint32_t)t->type)
        return error_set(error, "%s: tensor '%s' has type %u, the config gives %d", path, name, entry->type, t->type);
    if ((int)entry->n_dims != t->n_dims)
        return error_set(error, "%s: tensor '%s' has %u dimensions, expected %d", path, name, entry->n_dims, t->n_dims);
    for (int d = 0; d < t->n_dims; d++)
        if (entry->shape[d] != t->shape[d])
            return error_set(error, "%s: tensor '%s' has another shape than the config gives", path, name);
    uint64_t expected_bytes, data_bytes = l->header.data_bytes;
    tensor_bytes(model, index, &expected_bytes);
    if (entry->bytes != expected_bytes || entry->offset % DATA_ALIGNMENT || entry->offset > data_bytes ||
        entry->bytes > data_bytes - entry->offset)
        return error_set(error, "%s: tensor '%s' has a bad size or offset", path, name);
    return index;
}

// Checks every table entry and notes where each tensor's data is in the file.
static int read_table(Loader *l, Error *error) {
    int n = l->model->n_tensors;
    int *seen = calloc((size_t)n + 1, sizeof(int));
    l->file_offsets = calloc((size_t)n + 1, sizeof(uint64_t));
    if (!seen || !l->file_offsets) {
        free(seen);
        return error_set(error, "%s: out of memory", l->path);
    }
    for (uint32_t i = 0; i < l->header.n_tensors; i++) {
        const unsigned char *bytes = l->table + (size_t)i * CHECKPOINT_TENSOR_ENTRY_BYTES;
        char name[TENSOR_NAME_LENGTH];
        memcpy(name, bytes, TENSOR_NAME_LENGTH);
        TableEntry entry;
        fields_decode(&entry, TABLE_ENTRY_FIELDS, N_TABLE_ENTRY_FIELDS, bytes + TENSOR_NAME_LENGTH);
        int index = check_entry(l, i, &entry, name, seen, error);
        if (index < 0) {
            free(seen);
            return -1;
        }
        l->file_offsets[index] = l->header.data_offset + entry.offset;
    }
    free(seen);
    return 0;
}

// Reads every tensor's data into the model's buffers.
static int read_tensors(Loader *l, Error *error) {
    for (int i = 0; i < l->model->n_tensors; i++) {
        uint64_t bytes;
        void *destination = tensor_bytes(l->model, i, &bytes);
        if (fseek(l->file, (long)l->file_offsets[i], SEEK_SET) != 0 ||
            read_exact(l->file, destination, bytes, l->path, l->model->tensors[i].name, error))
            return -1;
    }
    return 0;
}

// The tensors' CRC-32 against the header's (files written before it have none to check).
static int check_tensor_crc(const Loader *l, Error *error) {
    if (!(l->header.flags & CHECKPOINT_HAS_CRC)) return 0;
    uint32_t crc = tensors_crc32(l->model);
    if (crc != l->header.tensor_crc32)
        return error_set(error, "%s: the tensor data's CRC-32 is %08x, the header says %08x (corrupt weights)", l->path,
                         crc, l->header.tensor_crc32);
    return 0;
}

// Replaces the model's weight buffers by a private memory mapping of the file: the tensors
// are read from the page cache as they are used, and not copied. Every stage reaches its
// tensors through their offsets, which become file offsets here.
static int map_tensors(Loader *l, Error *error) {
    Model *model = l->model;
    void *mapping = mmap(NULL, (size_t)l->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fileno(l->file), 0);
    if (mapping == MAP_FAILED) return error_set(error, "%s: cannot memory-map: %s", l->path, strerror(errno));
    free(model->params);
    free(model->quant_data);
    model->params = mapping;
    model->quant_data = mapping;
    model->mapping = mapping;
    model->mapping_bytes = (size_t)l->size;
    for (int i = 0; i < model->n_tensors; i++) {
        TensorInfo *t = &model->tensors[i];
        if (t->type == TENSOR_F32) t->offset = (long)(l->file_offsets[i] / sizeof(float));
        else model->quantized[i].data = (unsigned char *)mapping + l->file_offsets[i];
    }
    return 0;
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

static int section_skip(SectionReader *r, uint64_t n, const char *what, Error *error) {
    if (n > r->remaining) return error_set(error, "%s: training state truncated while reading %s", r->path, what);
    r->remaining -= n;
    if (fseek(r->file, (long)n, SEEK_CUR) != 0) return error_set(error, "%s: cannot seek past %s", r->path, what);
    return 0;
}

// A curve's points, or (curve NULL) only past them.
static int read_curve(SectionReader *r, LossCurve *curve, const char *what, Error *error) {
    int32_t n;
    if (section_read(r, &n, 4, what, error)) return -1;
    if (n < 0 || (uint64_t)n * 8 > r->remaining) return error_set(error, "%s: %s: bad point count %d", r->path, what, n);
    if (!curve) return section_skip(r, 8 * (uint64_t)n, what, error);
    curve->steps = malloc(sizeof(float) * (size_t)(n ? n : 1));
    curve->losses = malloc(sizeof(float) * (size_t)(n ? n : 1));
    if (!curve->steps || !curve->losses) return error_set(error, "%s: out of memory", r->path);
    curve->n = curve->capacity = n;
    if (section_read(r, curve->steps, 4 * (uint64_t)n, what, error)) return -1;
    return section_read(r, curve->losses, 4 * (uint64_t)n, what, error);
}

static int check_training(const SectionReader *r, const TrainState *s, const Model *model, Error *error) {
    if (s->step < 0 || s->optimizer.step != s->step || (unsigned)s->optimizer.config.kind >= N_OPTIMIZER_KINDS)
        return error_set(error, "%s: training state inconsistent (step %ld, optimizer step %ld)", r->path, s->step,
                         s->optimizer.step);
    if (s->optimizer.n != model->n_trainable)
        return error_set(error, "%s: optimizer state for %ld parameters, the model trains %ld", r->path,
                         s->optimizer.n, model->n_trainable);
    return 0;
}

// The extension and the gradient-norm curve, or (a file written before them, which trained
// AdamW with warmup + cosine) the defaults.
static int read_training_extension(SectionReader *r, TrainState *s, int full, Error *error) {
    TrainConfig defaults = train_default_config();
    OptimizerConfig optimizer_defaults = optimizer_default_config(s->config.optimizer);
    s->config.schedule = defaults.schedule;
    s->config.step_size = defaults.step_size;
    s->config.gamma = defaults.gamma;
    s->best_val_loss = INFINITY;
    if (r->remaining == 0) {
        if (s->config.optimizer != OPTIMIZER_ADAMW)
            return error_set(error, "%s: training state inconsistent (optimizer %s without its settings)", r->path,
                             optimizer_kind_name(s->config.optimizer));
        return 0;
    }
    unsigned char fixed[256];
    uint32_t version;
    TrainState extension = *s;
    extension.config.dropout = 0.0f;
    if (section_read(r, &version, 4, "the training extension", error)) return -1;
    if (version != 1 && version != TRAINING_EXTENSION_VERSION)
        return error_set(error, "%s: training extension version %u, this program reads 1 to %d", r->path, version,
                         TRAINING_EXTENSION_VERSION);
    int n_fields = version == 1 ? TRAINING_EXTENSION_V1_FIELDS : N_TRAINING_EXTENSION_FIELDS;
    if (section_read(r, fixed, fields_bytes(TRAINING_EXTENSION_FIELDS, n_fields), "the training extension", error))
        return -1;
    fields_decode(&extension, TRAINING_EXTENSION_FIELDS, n_fields, fixed);
    const OptimizerConfig *o = &extension.optimizer.config;
    if ((unsigned)extension.config.schedule >= N_SCHEDULE_KINDS || !(o->momentum >= 0.0f && o->momentum < 1.0f) ||
        !(o->rms_decay >= 0.0f && o->rms_decay < 1.0f) || extension.config.patience < 0 ||
        !(extension.config.dropout >= 0.0f && extension.config.dropout < 1.0f))
        return error_set(error, "%s: training extension inconsistent (schedule %u, momentum %g, rho %g, patience %d, "
                         "dropout %g)", r->path, (unsigned)extension.config.schedule, (double)o->momentum,
                         (double)o->rms_decay, extension.config.patience, (double)extension.config.dropout);
    // Only the extension's fields are taken: the optimizer's buffers stay this state's.
    s->config = extension.config;
    s->best_val_loss = extension.best_val_loss;
    s->best_step = extension.best_step;
    s->evals_since_best = extension.evals_since_best;
    s->stopped_early = extension.stopped_early;
    s->optimizer.config.momentum = full ? o->momentum : optimizer_defaults.momentum;
    s->optimizer.config.rms_decay = full ? o->rms_decay : optimizer_defaults.rms_decay;
    return read_curve(r, full ? &s->norm_curve : NULL, "the gradient-norm curve", error);
}

// The training section into s. With full = 0 only the data path is read and the optimizer's
// moments and the curves are skipped (inference needs nothing else).
static int read_training(SectionReader *r, TrainState *s, const Model *model, int full, Error *error) {
    unsigned char fixed[256];
    if (section_read(r, fixed, fields_bytes(TRAINING_FIELDS, N_TRAINING_FIELDS), "the training fields", error))
        return -1;
    fields_decode(s, TRAINING_FIELDS, N_TRAINING_FIELDS, fixed);
    if (check_training(r, s, model, error)) return -1;
    long n = s->optimizer.n;
    s->config.optimizer = s->optimizer.config.kind;
    if (!full) {
        memset(&s->optimizer, 0, sizeof s->optimizer);
        if (section_skip(r, 8 * (uint64_t)n, "the optimizer state", error) ||
            read_curve(r, NULL, "the train curve", error) || read_curve(r, NULL, "the validation curve", error))
            return -1;
    } else {
        OptimizerConfig optimizer_config = train_optimizer_config(&s->config);
        long step = s->optimizer.step;
        if (optimizer_init(&s->optimizer, &optimizer_config, n, error)) return error_prefix(error, "%s", r->path);
        s->optimizer.step = step;
        if ((s->optimizer.m ? section_read(r, s->optimizer.m, 4 * (uint64_t)n, "the optimizer's m", error)
                            : section_skip(r, 4 * (uint64_t)n, "the optimizer's m", error)) ||
            (s->optimizer.v ? section_read(r, s->optimizer.v, 4 * (uint64_t)n, "the optimizer's v", error)
                            : section_skip(r, 4 * (uint64_t)n, "the optimizer's v", error)) ||
            read_curve(r, &s->train_curve, "the train curve", error) ||
            read_curve(r, &s->val_curve, "the validation curve", error))
            return -1;
    }
    uint32_t length;
    if (section_read(r, &length, 4, "the data path", error)) return -1;
    if (length >= sizeof s->data_path) return error_set(error, "%s: data path of %u bytes is too long", r->path, length);
    if (section_read(r, s->data_path, length, "the data path", error)) return -1;
    s->data_path[length] = '\0';
    if (read_training_extension(r, s, full, error)) return -1;
    if (r->remaining != 0)
        return error_set(error, "%s: %llu unexpected bytes at the end", r->path, (unsigned long long)r->remaining);
    return 0;
}

// Loads path; map = 1 memory-maps the tensors and reads only the data path of the training
// state (for inference), map = 0 reads everything (for training).
static int load(const char *path, Model *model, TextTokenizer *tokenizer, TrainState *training, int *has_training,
                int map, Error *error) {
    memset(model, 0, sizeof *model);
    memset(tokenizer, 0, sizeof *tokenizer);
    if (training) memset(training, 0, sizeof *training);
    if (has_training) *has_training = 0;
    Loader l = {.path = path, .model = model, .tokenizer = tokenizer};
    l.file = fopen(path, "rb");
    if (!l.file) return error_set(error, "%s: cannot open: %s", path, strerror(errno));
    int status = (l.size = file_size(l.file, path, error)) < 0 || read_header(&l, error) || create_model(&l, error) ||
                 read_table(&l, error) || (map ? map_tensors(&l, error) : read_tensors(&l, error)) ||
                 check_tensor_crc(&l, error);
    if (!status && training && l.header.training_bytes > 0) {
        SectionReader reader = {l.file, path, l.header.training_bytes};
        if (fseek(l.file, (long)l.header.training_offset, SEEK_SET) != 0)
            status = error_set(error, "%s: cannot seek to the training state", path);
        else status = read_training(&reader, training, model, !map, error);
        if (status) train_state_free(training);
        else if (has_training) *has_training = 1;
    } else if (!status && training) {
        snprintf(training->data_path, sizeof training->data_path, "%s", l.data_path);
    }
    loader_finish(&l, status);
    return status ? -1 : 0;
}

int checkpoint_load(const char *path, Model *model, TextTokenizer *tokenizer, TrainState *training, int *has_training,
                    Error *error) {
    return load(path, model, tokenizer, training, has_training, 0, error);
}

int checkpoint_load_for_inference(const char *path, const char *data_directory, Model *model, TextTokenizer *tokenizer,
                                  char *data_path, size_t data_path_size, Error *error) {
    memset(model, 0, sizeof *model);
    memset(tokenizer, 0, sizeof *tokenizer);
    if (data_path && data_path_size) data_path[0] = '\0';
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open: %s", path, strerror(errno));
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, file);
    fclose(file);
    int32_t llmc_magic = LLMC_CHECKPOINT_MAGIC;
    if (got >= 4 && memcmp(magic, &llmc_magic, 4) == 0) {
        if (llmc_read_checkpoint(model, path, error)) return -1;
        // llm.c's files hold no tokenizer; GPT-2's vocabulary is the one they are made with.
        int vocab_size = model->config.vocab_size;
        if (vocab_size != 50257) {
            model_free(model);
            return error_set(error, "%s: an llm.c checkpoint with a %d-token vocabulary, not GPT-2's 50257: convert "
                             "it with its tokenizer (groundup convert --tokenizer FILE)", path, vocab_size);
        }
        if (text_tokenizer_gpt2(tokenizer, data_directory, error)) {
            model_free(model);
            return -1;
        }
        return 0;
    }
    TrainState training;
    if (load(path, model, tokenizer, &training, NULL, 1, error)) return -1;
    if (data_path && data_path_size) snprintf(data_path, data_path_size, "%s", training.data_path);
    train_state_free(&training);
    return 0;
}
