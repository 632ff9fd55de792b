// gpt/linear_layer.h: one linear layer over fp32 or quantized weights, with an optional
// low-rank adapter.
#include "gpt/linear_layer.h"

#include <stddef.h>

#include "foundations/matmul.h"

// h (M,r) = scale · inp (M,K) · Aᵀ (r,K): the adapter's projection down to rank r.
static void adapter_down(const LinearLayer *layer, float *h, const float *inp, int M) {
    int r = layer->rank;
    matmul_forward(h, inp, layer->lora_a, NULL, M, layer->in_features, r);
    for (long i = 0; i < (long)M * r; i++) h[i] *= layer->scale;
}

void linear_layer_forward(const LinearLayer *layer, float *out, const float *inp, int M) {
    int K = layer->in_features, N = layer->out_features;
    if (layer->weight) matmul_forward(out, inp, layer->weight, layer->bias, M, K, N);
    else quant_matmul_forward(out, inp, &layer->quantized, layer->bias, M, K, N);
    if (!layer->lora_a) return;
    int r = layer->rank;
    float *h = layer->scratch;
    adapter_down(layer, h, inp, M);
    // out (M,N) += h (M,r) · Bᵀ (r,N): Bᵀ[k][j] = B[j·r + k]
    gemm(M, N, r, h, r, 1, layer->lora_b, 1, r, out, N, 1);
}

// The adapter's share of the backward (see the header), h recomputed rather than kept.
static void adapter_backward(const LinearLayer *layer, float *d_inp, const float *d_out, const float *inp, int M) {
    int K = layer->in_features, N = layer->out_features, r = layer->rank;
    float *h = layer->scratch, *d_h = layer->scratch + (long)M * r;
    if (layer->d_lora_b) {
        adapter_down(layer, h, inp, M);
        // d_B (N,r) += d_outᵀ (N,M) · h (M,r): A[i][k] = d_out[k·N + i]
        gemm(N, r, M, d_out, 1, N, h, r, 1, layer->d_lora_b, r, 1);
    }
    gemm(M, r, N, d_out, N, 1, layer->lora_b, r, 1, d_h, r, 0);
    for (long i = 0; i < (long)M * r; i++) d_h[i] *= layer->scale;
    // d_A (r,K) += d_hᵀ (r,M) · inp (M,K)
    if (layer->d_lora_a) gemm(r, K, M, d_h, 1, r, inp, K, 1, layer->d_lora_a, K, 1);
    if (d_inp) gemm(M, K, r, d_h, r, 1, layer->lora_a, K, 1, d_inp, K, 1);
}

int linear_layer_backward(const LinearLayer *layer, float *d_inp, const float *d_out, const float *inp, int M,
                          Error *error) {
    int K = layer->in_features, N = layer->out_features;
    if (layer->weight) {
        matmul_backward(d_inp, layer->d_weight, layer->d_bias, d_out, inp, layer->weight, M, K, N);
    } else if (d_inp && quant_matmul_backward_input(d_inp, d_out, &layer->quantized, M, K, N, error)) {
        return -1;
    }
    if (layer->lora_a) adapter_backward(layer, d_inp, d_out, inp, M);
    return 0;
}
