// Quantizing a trained fp32 GPT-2 to q8_0 or q4_0 weights (gpt/quantize.c).
#ifndef GPT_QUANTIZE_H
#define GPT_QUANTIZE_H

#include "gpt/model.h"

// What happened to one tensor: its size before and after, and for quantized tensors the
// round-trip error (RMS and largest), with the weights' RMS to read them against.
typedef struct QuantReport {
    char name[TENSOR_NAME_LENGTH];
    int type;  // TENSOR_F32 (kept) or the quant type
    long bytes_before, bytes_after;
    double rms_error, max_error, weight_rms;
} QuantReport;

// *quantized = model with the linear matrices in weight_type and the token embedding in
// embedding_type (TENSOR_F32 keeps it). reports (model->n_tensors, or NULL) receives one entry
// per tensor. The width must be a multiple of 32 for any quantized type.
int model_quantize(Model *quantized, const Model *model, int weight_type, int embedding_type, QuantReport *reports,
                   Error *error);

#endif
