// Pooling and up-sampling of images, each a forward/backward pair (layers.h's conventions:
// backward functions ACCUMULATE into the input gradient).
//
// Every function works on planes: x (P,H,W) with P = N·C images of one channel, row-major.
// A window of k×k at stride s over the input padded by p: output row i covers input rows
// i·s − p .. i·s − p + k − 1, and OH = (H + 2p − k)/s + 1 (PyTorch's floor mode), likewise OW.
#ifndef FOUNDATIONS_POOLING_H
#define FOUNDATIONS_POOLING_H

// The output side of a window: (size + 2·padding − kernel)/stride + 1, or 0 when the window
// does not fit in the padded input or a size is out of range.
int pool_output_size(int size, int kernel, int stride, int padding);

// Max pooling (Ranzato et al. 2007; LeNet-5 subsampled by averaging): out = the largest
// value in the window, padding counting as −∞; argmax (P,OH,OW) keeps the index (h·W + w) of
// the first largest in row-major order, and the backward routes the gradient there alone.
// A window that sees only padding (impossible for padding <= kernel/2) gives −∞ and index −1.
void max_pool2d_forward(float *out, int *argmax, const float *inp, int P, int H, int W, int kernel, int stride,
                        int padding);
void max_pool2d_backward(float *d_inp, const float *d_out, const int *argmax, int P, int H, int W, int OH, int OW);

// Average pooling, padding counted as zeros in a divisor of k² (count_include_pad).
void avg_pool2d_forward(float *out, const float *inp, int P, int H, int W, int kernel, int stride, int padding);
void avg_pool2d_backward(float *d_inp, const float *d_out, int P, int H, int W, int kernel, int stride, int padding);

// Adaptive average pooling to (OH,OW): output row i averages input rows
// floor(i·H/OH) .. ceil((i+1)·H/OH) − 1 (PyTorch's adaptive_avg_pool2d); (1,1) is the global mean.
void adaptive_avg_pool2d_forward(float *out, const float *inp, int P, int H, int W, int OH, int OW);
void adaptive_avg_pool2d_backward(float *d_inp, const float *d_out, int P, int H, int W, int OH, int OW);

// Up-sampling by an integer factor: (P,H,W) -> (P, H·scale, W·scale).
// Nearest: out[i][j] = x[i/scale][j/scale]; the backward sums each scale×scale block.
void upsample_nearest2d_forward(float *out, const float *inp, int P, int H, int W, int scale);
void upsample_nearest2d_backward(float *d_inp, const float *d_out, int P, int H, int W, int scale);
// Bilinear: out[i][j] interpolates the four pixels around the source point (y, x):
//   align_corners = 1: y = i·(H−1)/(OH−1) (corners on corners; 0 when OH = 1),
//   align_corners = 0: y = max(0, (i + ½)/scale − ½) (pixel centres; PyTorch's default),
// and x alike; with y0 = ⌊y⌋, y1 = min(y0 + 1, H − 1), λ = y − y0, the weights are (1 − λ), λ.
void upsample_bilinear2d_forward(float *out, const float *inp, int P, int H, int W, int scale, int align_corners);
void upsample_bilinear2d_backward(float *d_inp, const float *d_out, int P, int H, int W, int scale, int align_corners);

#endif
