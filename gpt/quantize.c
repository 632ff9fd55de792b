// Quantizing a trained GPT-2: a new model of the same config whose linear-layer matrices (and,
// unless kept fp32, the token embedding that is also the output matrix) are stored as q8_0 or
// q4_0 blocks (quant/quant.h). LayerNorm parameters, biases and the position embedding stay
// fp32: they are small, and the LayerNorm gains in particular are sensitive.
#include "gpt/quantize.h"

#include <stdio.h>
#include <string.h>

int model_quantize(Model *quantized, const Model *model, int weight_type, int embedding_type, QuantReport *reports,
                   Error *error) {
    memset(quantized, 0, sizeof *quantized);
    if (model->config.arch != ARCH_GPT2) return error_set(error, "only GPT-2 models can be quantized");
    if (model->config.weight_type != TENSOR_F32 || model->config.embedding_type != TENSOR_F32)
        return error_set(error, "the model is already quantized; quantize its fp32 original");
    ModelConfig config = model->config;
    config.weight_type = weight_type;
    config.embedding_type = embedding_type;
    if (model_init(quantized, &config, NULL, error)) return -1;
    for (int i = 0; i < model->n_tensors; i++) {
        const TensorInfo *from = &model->tensors[i], *to = &quantized->tensors[i];
        const float *values = model->params + from->offset;
        QuantReport *report = reports ? &reports[i] : NULL;
        if (report) {
            memset(report, 0, sizeof *report);
            snprintf(report->name, sizeof report->name, "%s", from->name);
            report->type = to->type;
            report->bytes_before = (long)from->size * (long)sizeof(float);
        }
        if (to->type == TENSOR_F32) {
            memcpy(quantized->params + to->offset, values, sizeof(float) * (size_t)from->size);
            if (report) report->bytes_after = report->bytes_before;
            continue;
        }
        QuantMatrix *matrix = &quantized->quantized[i];
        if (quant_matrix_quantize_into(matrix, matrix->data, matrix->bytes, (QuantType)to->type, values, matrix->rows,
                                       matrix->cols, error)) {
            model_free(quantized);
            return error_prefix(error, "tensor %s", from->name);
        }
        if (report) {
            QuantErrorStats stats = quant_error_stats(matrix, values);
            report->bytes_after = (long)matrix->bytes;
            report->rms_error = stats.rms;
            report->max_error = stats.max_abs;
            report->weight_rms = stats.weight_rms;
        }
    }
    return 0;
}
