// The 3×3 stride-1 convolution by Winograd's minimal filtering algorithm F(2×2, 3×3)
// (Lavin and Gray 2016, "Fast Algorithms for Convolutional Neural Networks", section 4):
// each 2×2 tile of output is computed from the 4×4 tile of input around it as
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
// with the 4×4 elementwise product summed over input channels. Over all tiles, each of the
// 16 elements of that product is one matrix product (OC × C) · (C × tiles), so a layer costs
// 16·OC·C multiplications per 4 outputs instead of 9·OC·C per output: 2.25 times fewer, done by
// the fast gemm (foundations/matmul.h); the transforms are additions.
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 −1 −1].
// Rounding differs from the direct sum by a few units in the last place of the inputs'
// magnitude (the transforms add before they multiply).
#ifndef FOUNDATIONS_WINOGRAD_H
#define FOUNDATIONS_WINOGRAD_H

#include "foundations/convolution.h"

// 1 when conv is a 3×3 convolution at stride 1 without dilation, padding at most 2 (the
// input gradient is then one too), and the channels per group are many enough to pay for
// the transforms.
int winograd_applies(const Convolution *conv);

// out (N,OC,OH,OW) (+)= the convolution of inp (N,C,H,W) with weight (OC, C/groups, 3, 3), plus
// bias (OC) or NULL. workspace: winograd_forward_floats(conv) floats, or NULL (allocated here).
// Returns 0, or -1 when out of memory (out then unspecified).
long winograd_forward_floats(const Convolution *conv);
int winograd_forward(float *out, const float *inp, const float *weight, const float *bias, const Convolution *conv,
                     int accumulate, float *workspace);

// d_inp (N,C,H,W) += the input gradient through d_out (N,OC,OH,OW): the convolution of d_out
// with the weight turned by 180° and its channels exchanged, padded by 2 − padding.
// workspace: winograd_input_gradient_floats(conv) floats, or NULL. Returns 0 or -1.
long winograd_input_gradient_floats(const Convolution *conv);
int winograd_input_gradient(float *d_inp, const float *d_out, const float *weight, const Convolution *conv,
                            float *workspace);

#endif
