// Losses beyond the fused softmax cross-entropy of layers.h, with PyTorch's definitions and
// reduction='mean'. Each forward fills per-element losses and returns their mean; each
// backward accumulates (+=) scale × the gradient of the summed loss (scale = 1/count for the
// mean, or the upstream gradient of a mean).
#ifndef FOUNDATIONS_LOSSES_H
#define FOUNDATIONS_LOSSES_H

// Cross-entropy with label smoothing ε and an ignored class (PyTorch's CrossEntropyLoss):
// logits (N,V), targets (N) -> losses (N), probs (N,V) kept for the backward.
//   loss_n = logsumexp(z_n) − (1−ε) z_n[y_n] − (ε/V) Σ_v z_n[v]      (0 for y_n == ignore_index)
// Returns the mean over the rows not ignored (NaN when every row is, as PyTorch) and their
// count in *counted. A target outside [0, V) that is not ignore_index is a caller's error.
float cross_entropy_smoothed_forward(float *losses, float *probs, int *counted, const float *logits,
                                     const int *targets, int N, int V, int ignore_index, float smoothing);
// d_logits (N,V) += scale · (p − (1−ε) onehot(y) − ε/V), rows with y == ignore_index untouched.
void cross_entropy_smoothed_backward(float *d_logits, const float *probs, const int *targets, float scale, int N,
                                     int V, int ignore_index, float smoothing);

// Negative log-likelihood of log-probabilities: log_probs (N,V), targets (N) -> loss_n = −log_probs[n, y_n]
// (0 when ignored). Returns the mean over the counted rows.
float nll_forward(float *losses, int *counted, const float *log_probs, const int *targets, int N, int V,
                  int ignore_index);
void nll_backward(float *d_log_probs, const int *targets, float scale, int N, int V, int ignore_index);

// Mean squared error over n values: loss_i = (x_i − y_i)²; d_x += 2 scale (x − y), d_y −= the same.
float mse_forward(float *losses, const float *x, const float *y, long n);
void mse_backward(float *d_x, float *d_y, const float *x, const float *y, float scale, long n);

// Binary cross-entropy on logits (PyTorch's BCEWithLogitsLoss), targets y in [0, 1]:
//   loss_i = max(x,0) − x y + log(1 + e^(−|x|))         (= −y log σ(x) − (1−y) log(1−σ(x)), stably)
//   d_x += scale (σ(x) − y),  d_y += scale (−x)
float bce_with_logits_forward(float *losses, const float *x, const float *y, long n);
void bce_with_logits_backward(float *d_x, float *d_y, const float *x, const float *y, float scale, long n);

#endif
