// Convolution as a matrix product read straight from zero-padded planes (an "implicit gemm":
// im2col's column matrix is never written).
//
// Pad one image's channels into planes of Hp × Wp = (H + 2p) × (W + 2p) values, laid end to
// end, and number the outputs by their place q = i·Wp + j in such a plane (j < OW; the columns
// OW..Wp−1 of each row are junk, computed and dropped). Then for every kernel tap (c, ki, kj)
//   x[c][i + ki − p][j + kj − p] = padded[c·Hp·Wp + ki·Wp + kj + q],
// so row (c, ki, kj) of the column matrix is the padded planes read from a fixed offset, and
//   out[o][q] = Σ_{c,ki,kj} weight[o][c][ki][kj] · padded[c·Hp·Wp + ki·Wp + kj + q]
// is a gemm whose B rows are contiguous runs of memory: the register-tiled kernel loads them
// as they are, with no im2col and no packing of B. Only the weight is packed (ROWS output
// channels side by side per tap). The junk columns cost 2p/(W + 2p) of the work.
//
// The input gradient of such a convolution is one too (the adjoint: the weight turned by 180°
// with input and output channels exchanged, padding KH − 1 − p), so both use the kernel.
// Tensors are NCHW, row-major, contiguous; the batch is split over OpenMP threads by image.
#ifndef FOUNDATIONS_IMPLICIT_GEMM_H
#define FOUNDATIONS_IMPLICIT_GEMM_H

#include "foundations/convolution.h"

// At stride s > 1 each channel is padded into s² phase planes, plane (a, b) holding the padded
// pixels (u, v) with u mod s = a and v mod s = b at (u/s, v/s): tap (ki, kj) of output (i, j)
// then reads plane (ki mod s, kj mod s) at (i + ki/s, j + kj/s), again a fixed offset plus
// q = i·Wp + j, so the forward and the weight gradient are the same products. (The input
// gradient of a strided convolution is no such convolution: im2col's col2im does it.)

// 1 when conv is one the forward and the weight gradient here compute: stride 1 to 4, no
// dilation, a square kernel of 2×2 to 16×16, padding at most KH − 1; the input gradient
// (implicit_gemm_input_gradient) only at stride 1.
int implicit_gemm_applies(const Convolution *conv);

// out (N,OC,OH,OW) (+)= the convolution of inp (N,C,H,W) with weight (OC, C/groups, KH, KW), plus
// bias (OC) or NULL; accumulate = 0 overwrites out. workspace: implicit_gemm_forward_floats(conv)
// floats (its size depends on the thread count of the call).
long implicit_gemm_forward_floats(const Convolution *conv);
void implicit_gemm_forward(float *out, const float *inp, const float *weight, const float *bias,
                           const Convolution *conv, int accumulate, float *workspace);

// d_inp (N,C,H,W) (+)= the input gradient through d_out (N,OC,OH,OW); accumulate = 0
// overwrites d_inp. workspace: implicit_gemm_input_gradient_floats(conv) floats.
long implicit_gemm_input_gradient_floats(const Convolution *conv);
void implicit_gemm_input_gradient(float *d_inp, const float *d_out, const float *weight, const Convolution *conv,
                                  int accumulate, float *workspace);

// d_weight (OC, C/groups, KH, KW) += the weight gradient through d_out (N,OC,OH,OW) for the
// input inp (N,C,H,W): per (tap, output channel) the sum over the images and positions of the
// padded input read from the tap's offset times d out, the same tile with the roles turned (d out
// transposed to positions × channels, a vector of channels per broadcast input value). Each
// thread sums its images into its own copy, chunk by chunk, the copies added at the end in
// thread order, so the last bits depend on the thread count. For up to 64 output channels per
// group (beyond, the tile's reuse is too small: convolution.c uses im2col's product instead).
// workspace: implicit_gemm_weight_gradient_floats(conv) floats.
long implicit_gemm_weight_gradient_floats(const Convolution *conv);
void implicit_gemm_weight_gradient(float *d_weight, const float *d_out, const float *inp, const Convolution *conv,
                                   float *workspace);

#endif
