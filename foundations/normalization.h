// Normalisations over the channels of images (layers.h has layer norm and batch norm over
// rows), each a forward/backward pair; backward functions ACCUMULATE (+=).
//
// Layout (N,C,L): N samples, C channels, L positions per channel (H·W for an image), row-major.
#ifndef FOUNDATIONS_NORMALIZATION_H
#define FOUNDATIONS_NORMALIZATION_H

// Batch normalisation per channel over N and L (PyTorch's BatchNorm2d for L = H·W; Ioffe and
// Szegedy 2015, algorithm 1, with "the mini-batch" all N·L values of a channel): the formulas,
// eps, momentum and running statistics of layers.h's batchnorm_forward with N·L rows.
// inp (N,C,L), weight (C), bias (C), running_mean (C), running_var (C) -> out (N,C,L); mean
// (C), rstd (C) cached. out may be inp.
void batchnorm_channels_forward(float *out, float *mean, float *rstd, float *running_mean, float *running_var,
                                const float *inp, const float *weight, const float *bias, int N, int C, long L,
                                int training);
// As layers.h's batchnorm_backward with the N·L values of a channel as its rows.
void batchnorm_channels_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                                 const float *weight, const float *mean, const float *rstd, int N, int C, long L,
                                 int training);
// The same with d_inp added to (accumulate = 1) or overwritten (0); d_weight, d_bias added to.
void batchnorm_channels_backward_into(float *d_inp, float *d_weight, float *d_bias, const float *d_out,
                                      const float *inp, const float *weight, const float *mean, const float *rstd, int N,
                                      int C, long L, int training, int accumulate);

// Group normalisation (Wu and He 2018, eq. 1–3): the C channels of a sample in G groups of
// C/G; each group's C/G·L values normalised by their own mean and biased variance, then
// scaled and shifted per channel:
//   out[n][c][l] = (x − μ_{n,g}) / √(σ²_{n,g} + 1e-5) · weight[c] + bias[c],  g = c / (C/G).
// inp (N,C,L), weight (C) and bias (C) or NULL (1 and 0) -> out (N,C,L); mean (N·G), rstd (N·G).
#define GROUPNORM_EPS 1e-5f
void groupnorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight, const float *bias,
                       int N, int C, long L, int G);
// With x̂ = (x − μ)·rstd, ĝ = d out · weight[c] and M = C/G·L values per group:
//   d x += rstd / M · (M ĝ − Σ ĝ − x̂ Σ ĝ x̂)   (sums over the group),
//   d weight[c] += Σ_{n,l} d out · x̂,   d bias[c] += Σ_{n,l} d out.
// d_weight and d_bias may be NULL (no affine parameters, or not wanted).
void groupnorm_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int C, long L, int G);

// Local response normalisation across channels (Krizhevsky et al. 2012, section 3.3, in
// PyTorch's form: the sum is divided by size):
//   s[c] = k + α/size · Σ_{c' = c − ⌊size/2⌋}^{c + ⌊(size−1)/2⌋} x[c']²   (channels outside 0..C−1 count as 0)
//   out[c] = x[c] · s[c]^−β
// inp (N,C,L) -> out (N,C,L), scale = s (N,C,L) cached.
void local_response_norm_forward(float *out, float *scale, const float *inp, int N, int C, long L, int size, float alpha,
                                 float beta, float k);
// d x[j] += d out[j] · s[j]^−β − 2αβ/size · x[j] · Σ_{c whose window holds j} d out[c] · out[c] / s[c].
void local_response_norm_backward(float *d_inp, const float *d_out, const float *inp, const float *out,
                                  const float *scale, int N, int C, long L, int size, float alpha, float beta);

#endif
