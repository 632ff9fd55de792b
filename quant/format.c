// The Q8_0 and Q4_0 formats: sizes, quantizing fp32 weights into blocks, dequantizing them
// back, and the round trip error. The block layouts and rules are in quant/quant.h; the
// kernels that multiply with them are in quant/matmul.c.
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quant/quant.h"

const char *quant_type_name(QuantType type) {
    switch (type) {
    case QUANT_Q8_0: return "q8_0";
    case QUANT_Q4_0: return "q4_0";
    }
    return "?";
}

int quant_type_parse(const char *name, QuantType *type, Error *error) {
    if (strcmp(name, "q8_0") == 0) *type = QUANT_Q8_0;
    else if (strcmp(name, "q4_0") == 0) *type = QUANT_Q4_0;
    else return error_set(error, "unknown quantization type '%s' (expected q8_0 or q4_0)", name);
    return 0;
}

size_t quant_block_bytes(QuantType type) {
    switch (type) {
    case QUANT_Q8_0: return sizeof(QuantBlockQ8_0);
    case QUANT_Q4_0: return sizeof(QuantBlockQ4_0);
    }
    return 0;
}

size_t quant_row_bytes(QuantType type, int cols) {
    if (cols <= 0 || cols % QUANT_BLOCK != 0) return 0;
    return quant_block_bytes(type) * (size_t)(cols / QUANT_BLOCK);
}

int quant_check_shape(QuantType type, int rows, int cols, Error *error) {
    if (quant_block_bytes(type) == 0) return error_set(error, "unknown quantization type %d", (int)type);
    if (rows <= 0 || cols <= 0) return error_set(error, "cannot quantize a %d x %d matrix", rows, cols);
    if (cols % QUANT_BLOCK != 0)
        return error_set(error, "cannot quantize a %d x %d matrix to %s: its %d columns are not a multiple of %d",
                         rows, cols, quant_type_name(type), cols, QUANT_BLOCK);
    return 0;
}

// ----------------------------------------------------------------------------
// one block

// 32 weights -> Q8_0: d = max|w| / 127, q = round(w / d) with d as stored in fp16.
static void quantize_block_q8_0(const float *weight, QuantBlockQ8_0 *block) {
    float max_abs = 0.0f;
    for (int j = 0; j < QUANT_BLOCK; j++) max_abs = fabsf(weight[j]) > max_abs ? fabsf(weight[j]) : max_abs;
    block->scale = half_from_float(max_abs / 127.0f);
    float scale = half_to_float(block->scale);
    for (int j = 0; j < QUANT_BLOCK; j++) {
        // fp16 rounding of d can put max|w| / d a hair above 127: clamp (still within d / 2).
        float q = scale > 0.0f ? nearbyintf(weight[j] / scale) : 0.0f;
        block->values[j] = (int8_t)(q > 127.0f ? 127.0f : q < -127.0f ? -127.0f : q);
    }
}

// 32 weights -> Q4_0: m = the weight of largest magnitude (signed), d = m / -8,
// q = clamp(round(w / d) + 8, 0, 15); byte j = q[j] | q[j + 16] << 4.
static void quantize_block_q4_0(const float *weight, QuantBlockQ4_0 *block) {
    float extreme = 0.0f;
    for (int j = 0; j < QUANT_BLOCK; j++)
        if (fabsf(weight[j]) > fabsf(extreme)) extreme = weight[j];
    block->scale = half_from_float(extreme / -8.0f);
    float scale = half_to_float(block->scale);
    uint8_t q[QUANT_BLOCK];
    for (int j = 0; j < QUANT_BLOCK; j++) {
        float level = scale != 0.0f ? nearbyintf(weight[j] / scale) + 8.0f : 8.0f;
        q[j] = (uint8_t)(level > 15.0f ? 15.0f : level < 0.0f ? 0.0f : level);
    }
    for (int j = 0; j < QUANT_BLOCK / 2; j++) block->packed[j] = (uint8_t)(q[j] | q[j + QUANT_BLOCK / 2] << 4);
}

static void dequantize_block_q8_0(const QuantBlockQ8_0 *block, float *out) {
    float scale = half_to_float(block->scale);
    for (int j = 0; j < QUANT_BLOCK; j++) out[j] = scale * (float)block->values[j];
}

static void dequantize_block_q4_0(const QuantBlockQ4_0 *block, float *out) {
    float scale = half_to_float(block->scale);
    for (int j = 0; j < QUANT_BLOCK / 2; j++) {
        out[j] = scale * (float)((block->packed[j] & 15) - 8);
        out[j + QUANT_BLOCK / 2] = scale * (float)((block->packed[j] >> 4) - 8);
    }
}

// ----------------------------------------------------------------------------
// rows and matrices

void quant_quantize_row(QuantType type, const float *weight, void *row_data, int cols) {
    assert(cols > 0 && cols % QUANT_BLOCK == 0);
    int n_blocks = cols / QUANT_BLOCK;
    if (type == QUANT_Q8_0) {
        QuantBlockQ8_0 *blocks = row_data;
        for (int b = 0; b < n_blocks; b++) quantize_block_q8_0(weight + b * QUANT_BLOCK, blocks + b);
    } else {
        assert(type == QUANT_Q4_0);
        QuantBlockQ4_0 *blocks = row_data;
        for (int b = 0; b < n_blocks; b++) quantize_block_q4_0(weight + b * QUANT_BLOCK, blocks + b);
    }
}

void quant_dequantize_row(const QuantMatrix *matrix, int row, float *out) {
    assert(row >= 0 && row < matrix->rows);
    int n_blocks = matrix->cols / QUANT_BLOCK;
    const char *row_data = (const char *)matrix->data + (size_t)row * quant_row_bytes(matrix->type, matrix->cols);
    if (matrix->type == QUANT_Q8_0) {
        const QuantBlockQ8_0 *blocks = (const QuantBlockQ8_0 *)row_data;
        for (int b = 0; b < n_blocks; b++) dequantize_block_q8_0(blocks + b, out + b * QUANT_BLOCK);
    } else {
        assert(matrix->type == QUANT_Q4_0);
        const QuantBlockQ4_0 *blocks = (const QuantBlockQ4_0 *)row_data;
        for (int b = 0; b < n_blocks; b++) dequantize_block_q4_0(blocks + b, out + b * QUANT_BLOCK);
    }
}

void quant_dequantize_block(const QuantMatrix *matrix, int row, int block, float *out) {
    const char *data = (const char *)matrix->data + (size_t)row * quant_row_bytes(matrix->type, matrix->cols) +
                       (size_t)block * quant_block_bytes(matrix->type);
    if (matrix->type == QUANT_Q8_0) dequantize_block_q8_0((const QuantBlockQ8_0 *)data, out);
    else dequantize_block_q4_0((const QuantBlockQ4_0 *)data, out);
}

void quant_dequantize(const QuantMatrix *matrix, float *out) {
#pragma omp parallel for schedule(static) if ((long)matrix->rows * matrix->cols > 1000000)
    for (int row = 0; row < matrix->rows; row++) quant_dequantize_row(matrix, row, out + (size_t)row * matrix->cols);
}

// The largest |w| a format can store: the block scale is an fp16 (largest finite 65504),
// d = max|w| / 127 for q8_0 and d = m / -8 for q4_0.
static double largest_representable(QuantType type) { return 65504.0 * (type == QUANT_Q8_0 ? 127.0 : 8.0); }

int quant_check_values(QuantType type, const float *weight, int rows, int cols, Error *error) {
    double limit = largest_representable(type);
    for (long i = 0; i < (long)rows * cols; i++) {
        if (isfinite(weight[i]) && fabs(weight[i]) <= limit) continue;
        return error_set(error, "row %ld, column %ld: the weight %g cannot be stored as %s (|w| must be at most %.0f: "
                         "the block scale is an fp16)", i / cols, i % cols, (double)weight[i], quant_type_name(type), limit);
    }
    return 0;
}

int quant_matrix_quantize_into(QuantMatrix *matrix, void *data, size_t capacity, QuantType type,
                               const float *weight, int rows, int cols, Error *error) {
    if (quant_check_shape(type, rows, cols, error) != 0 || quant_check_values(type, weight, rows, cols, error)) return -1;
    size_t row_bytes = quant_row_bytes(type, cols), bytes = row_bytes * (size_t)rows;
    if (capacity < bytes)
        return error_set(error, "a %d x %d %s matrix needs %zu bytes, the buffer has %zu", rows, cols,
                         quant_type_name(type), bytes, capacity);
#pragma omp parallel for schedule(static) if ((long)rows * cols > 1000000)
    for (int row = 0; row < rows; row++)
        quant_quantize_row(type, weight + (size_t)row * cols, (char *)data + (size_t)row * row_bytes, cols);
    if (matrix) *matrix = (QuantMatrix){type, rows, cols, data, bytes, 0};
    return 0;
}

int quant_matrix_quantize(QuantMatrix *matrix, QuantType type, const float *weight, int rows, int cols,
                          Error *error) {
    if (quant_check_shape(type, rows, cols, error) != 0 || quant_check_values(type, weight, rows, cols, error)) return -1;
    size_t bytes = quant_row_bytes(type, cols) * (size_t)rows;
    void *data = malloc(bytes);
    if (!data) return error_set(error, "out of memory quantizing a %d x %d matrix (%zu bytes)", rows, cols, bytes);
    if (quant_matrix_quantize_into(matrix, data, bytes, type, weight, rows, cols, error)) {
        free(data);
        return -1;
    }
    matrix->owns_data = 1;
    return 0;
}

int quant_matrix_view(QuantMatrix *matrix, QuantType type, int rows, int cols, void *data, size_t bytes,
                      Error *error) {
    if (quant_check_shape(type, rows, cols, error) != 0) return -1;
    if ((uintptr_t)data % 2 != 0) return error_set(error, "quantized data must start at an even address (fp16 scales)");
    size_t expected = quant_row_bytes(type, cols) * (size_t)rows;
    if (bytes != expected)
        return error_set(error, "a %d x %d %s matrix is %zu bytes, got %zu", rows, cols, quant_type_name(type),
                         expected, bytes);
    *matrix = (QuantMatrix){type, rows, cols, data, bytes, 0};
    return 0;
}

void quant_matrix_free(QuantMatrix *matrix) {
    if (matrix->owns_data) free(matrix->data);
    *matrix = (QuantMatrix){0};
}

QuantErrorStats quant_error_stats(const QuantMatrix *matrix, const float *weight) {
    int rows = matrix->rows, cols = matrix->cols;
    double sum_squared_error = 0.0, sum_squared_weight = 0.0, max_abs = 0.0;
    // Block by block into a buffer on the stack: no allocation, so nothing to fail.
#pragma omp parallel for schedule(static) reduction(+ : sum_squared_error, sum_squared_weight) \
    reduction(max : max_abs) if ((long)rows * cols > 1000000)
    for (int row = 0; row < rows; row++) {
        for (int b = 0; b < cols / QUANT_BLOCK; b++) {
            float values[QUANT_BLOCK];
            quant_dequantize_block(matrix, row, b, values);
            const float *w = weight + (size_t)row * cols + (size_t)b * QUANT_BLOCK;
            for (int k = 0; k < QUANT_BLOCK; k++) {
                double difference = (double)w[k] - values[k];
                sum_squared_error += difference * difference;
                sum_squared_weight += (double)w[k] * w[k];
                if (fabs(difference) > max_abs) max_abs = fabs(difference);
            }
        }
    }
    double count = (double)rows * cols;
    return (QuantErrorStats){sqrt(sum_squared_error / count), max_abs, sqrt(sum_squared_weight / count)};
}
