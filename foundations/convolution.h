// Two-dimensional convolution (cross-correlation, as every deep-learning library computes it)
// by im2col and the fast matrix multiply (foundations/matmul.h).
//
// For one image and one group g of channels (LeCun et al. 1998; the grouped form is
// Krizhevsky et al. 2012's, groups = channels is the depthwise convolution of MobileNets):
//   out[o][i][j] = bias[o] + Σ_{c ∈ g, ki, kj} weight[o][c][ki][kj] · x[c][i·s + ki·d − p][j·s + kj·d − p]
// with stride s, dilation d and zero padding p; o runs over the group's OC/groups outputs,
// c over its C/groups inputs. Writing the input patches as the columns of a matrix
//   col[(c, ki, kj)][(i, j)] = x[c][i·s + ki·d − p][j·s + kj·d − p]   (0 outside the image)
// (im2col, Chellapilla et al. 2006), the convolution is one product per image and group:
//   out_g (OC/groups, OH·OW) = weight_g (OC/groups, C/groups·KH·KW) · col_g (C/groups·KH·KW, OH·OW)
// and its backward two more:
//   d weight_g += d out_g · col_gᵀ,   d col_g = weight_gᵀ · d out_g,   d x += col2im(d col),
// where col2im adds each entry of a column matrix back at the pixel it was copied from.
// The transposed convolution (the "deconvolution" of U-Net's up-sampling path) is the
// convolution's input gradient used as a forward: out = col2im(weightᵀ · x).
// Square kernels of 2×2 and more without dilation (the 3×3 and 5×5 layers of the classic
// networks) take the implicit gemm instead (foundations/implicit_gemm.h: the same products read
// straight from padded planes, no column matrix): the forward and the weight gradient (up to 64
// output channels per group) at strides 1 to 4, the input gradient at stride 1. Measured on the
// ResNet's and LeNet-5's layers it is 1.3–2.3× faster than im2col and than Winograd's F(2×2, 3×3)
// (which this tree had until the implicit gemm replaced it; bench/README.md).
//
// Tensors are NCHW, row-major, contiguous. Backward functions ACCUMULATE (+=), as layers.h's.
// The batch is cut into pieces of a few hundred KB of column matrix (small images side by side,
// so that each product is wide enough for the gemm; or bands of rows of a large image, so that
// the column matrix stays in the cache), the pieces split over OpenMP threads; with one piece
// the matrix multiply uses the threads instead. The weight gradient is summed per thread, then over
// threads, so its last bits depend on the thread count.
#ifndef FOUNDATIONS_CONVOLUTION_H
#define FOUNDATIONS_CONVOLUTION_H

// The sizes of one convolution: input (N,C,H,W), weight (OC, C/groups, KH, KW), output
// (N,OC,OH,OW) with OH = (H + 2p − d·(KH−1) − 1)/s + 1 (and OW alike), as conv2d_shape fills in.
typedef struct Convolution {
    int N, C, H, W;
    int OC, KH, KW;
    int stride, padding, dilation, groups;
    int OH, OW;
} Convolution;

// Fills in OH and OW; returns 0, or -1 when the sizes make no convolution: a size below 1, a
// stride or dilation below 1, a negative padding, C or OC not divisible by groups, or a
// (dilated) kernel larger than the padded input.
int conv2d_shape(Convolution *conv);

// One image's patches for output rows row0..row0+rows: image (C,H,W) -> col (C·KH·KW,
// rows·OW), rows ld >= rows·OW floats apart (several images side by side), zeros where a patch
// leaves the image. C here is the channels of one group (conv->C / groups); the rest from conv.
void im2col(float *col, long ld, const float *image, int C, const Convolution *conv, int row0, int rows);
// The adjoint: image (C,H,W) += each entry of col (C·KH·KW, rows·OW) (rows ld apart) at the
// pixel im2col took it from.
void col2im(float *image, const float *col, long ld, int C, const Convolution *conv, int row0, int rows);

// Work space: the functions below need conv2d_workspace_floats(conv) floats of it (column
// matrices, transformed weights; the same size for all of them, at the thread count of the
// call). A caller that convolves often passes its own (the framework passes the tape's scratch,
// so that a training loop allocates nothing after its first step); NULL: allocated per call.
long conv2d_workspace_floats(const Convolution *conv);

// x (N,C,H,W), weight (OC, C/groups, KH, KW), bias (OC) or NULL -> out (N,OC,OH,OW).
// Returns 0, or -1 when out of memory for the work space (out is then unspecified).
int conv2d_forward(float *out, const float *inp, const float *weight, const float *bias, const Convolution *conv,
                   float *workspace);
// d_inp (N,C,H,W), d_weight (OC, C/groups, KH, KW), d_bias (OC) += the gradients through
// d_out (N,OC,OH,OW); any of the three may be NULL (not wanted); inp is needed for d_weight,
// weight for d_inp. Returns 0, or -1 when out of memory (nothing then added).
int conv2d_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                    const float *weight, const Convolution *conv, float *workspace);
// The same with d_inp (when not NULL) overwritten (=) by the input gradient instead of added
// to, so that a buffer holding no gradient yet need not be zeroed first (nn's
// tensor_grad_first); d_weight and d_bias are added to as above.
int conv2d_backward_overwrite(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                              const float *weight, const Convolution *conv, float *workspace);

// The transposed convolution of conv: x (N,OC,OH,OW) -> out (N,C,H,W), out = the input
// gradient conv2d_backward gives for d_out = x, plus bias (C) or NULL; weight (OC, C/groups,
// KH, KW) is PyTorch's ConvTranspose2d layout (in_channels, out_channels/groups, KH, KW) for
// in_channels = OC. Returns 0 or -1 (out of memory).
int conv_transpose2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                             const Convolution *conv, float *workspace);
// Its gradients: d_inp (N,OC,OH,OW) += conv2d(d_out), d_weight += the convolution's weight
// gradient with the roles of input and output gradient exchanged, d_bias (C) += Σ d_out per
// channel. Any may be NULL. Returns 0 or -1 (out of memory).
int conv_transpose2d_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                              const float *weight, const Convolution *conv, float *workspace);

// The definition, seven loops in double, for tests and benchmarks: out (N,OC,OH,OW).
void conv2d_forward_reference(float *out, const float *inp, const float *weight, const float *bias,
                              const Convolution *conv);

// The same by im2col and the gemm whatever the shape (conv2d_forward takes the implicit gemm,
// foundations/implicit_gemm.h, where it applies): for tests and benchmarks.
int conv2d_forward_im2col(float *out, const float *inp, const float *weight, const float *bias,
                          const Convolution *conv, float *workspace);

// The direct loops, for comparison with the product (groundup bench conv): for each output
// plane, each input channel of its group and each kernel tap, out's rows += w · the input's
// rows (a vector loop at stride 1); threads over the (image, output channel) planes. out (N,OC,OH,OW).
void conv2d_forward_direct(float *out, const float *inp, const float *weight, const float *bias,
                           const Convolution *conv);

// The output columns j (of OW) whose input column j·stride + offset lies in [0, W):
// [*first, *end) (a kernel tap's columns inside the image; pooling.c's windows too).
void columns_inside(int offset, int stride, int W, int OW, int *first, int *end);

// Σ over n and the L positions of x (N,C,L) per channel, added to sums (C): a bias's gradient.
void channel_sums(float *sums, const float *x, int N, int C, long L);

#endif
