// A linear layer as GPT-2 (and any model with frozen or quantized weights) needs it:
//
//   out (M,N) = inp (M,K) · Wᵀ + bias  [+ scale · (inp · Aᵀ) · Bᵀ]
//
// where W (N,K) is fp32 or quantized (quant/quant.h), and the bracket is an optional
// low-rank adapter (LoRA, Hu et al. 2021) with A (r,K), B (N,r), scale = alpha / r. The model
// fills one LinearLayer per matrix (pointers into its own buffers) and calls one function
// per matrix in its forward and backward; everything about the weight's format and the
// adapter stays here.
#ifndef GPT_LINEAR_LAYER_H
#define GPT_LINEAR_LAYER_H

#include "foundations/error.h"
#include "quant/quant.h"

typedef struct LinearLayer {
    int in_features, out_features;  // K, N
    const float *weight;            // (N,K) fp32, or NULL when quantized holds the weight
    QuantMatrix quantized;          // a view of (N,K) quantized blocks when weight is NULL
    const float *bias;              // (N), or NULL
    float *d_weight, *d_bias;       // gradients, or NULL: the weight is frozen (no d_W, d_bias)
    // The adapter, when lora_a is not NULL.
    int rank;                       // r
    float scale;                    // alpha / r
    const float *lora_a, *lora_b;   // (r,K), (N,r)
    float *d_lora_a, *d_lora_b;     // their gradients, or NULL
    float *scratch;                 // (2·M·r) for the adapter's h = inp·Aᵀ and d_h
} LinearLayer;

// out (M,N) = inp (M,K) · Wᵀ + bias (+ the adapter's term). Overwrites out.
void linear_layer_forward(const LinearLayer *layer, float *out, const float *inp, int M);

// The backward of the forward above for d_out (M,N) and the forward's input inp (M,K):
//   d_inp (M,K) += d_out · W     (W fp32, or quantized: dequantized band by band)
//   d_W (N,K) += d_outᵀ · inp,  d_bias (N) += Σ_rows d_out          (when not frozen)
//   with h = inp·Aᵀ: d_B (N,r) += s · d_outᵀ · h,  d_h = s · d_out · B,
//                    d_A (r,K) += d_hᵀ · inp,      d_inp += d_h · A
// d_inp may be NULL (not wanted). Returns 0, or -1 with error when out of memory for a
// quantized weight's band.
int linear_layer_backward(const LinearLayer *layer, float *d_inp, const float *d_out, const float *inp, int M,
                          Error *error);

#endif
