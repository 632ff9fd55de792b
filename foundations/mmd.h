// The maximum mean discrepancy (Gretton, Borgwardt, Rasch, Schölkopf & Smola 2012, "A Kernel
// Two-Sample Test"): how far apart two distributions P and Q are, seen through a kernel k,
//
//   MMD²(P, Q) = E k(x, x') + E k(y, y') − 2 E k(x, y),   x, x' ~ P,  y, y' ~ Q independent,
//
// which for a characteristic kernel (the Gaussian one is) is 0 exactly when P = Q. From samples
// x (n) and y (m) the unbiased estimate (their Lemma 6) drops the i = j terms:
//
//   MMD²_u = 1/(n(n−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j) − 2/(nm) Σ_{i,j} k(x_i, y_j)
//
// It can be slightly negative when P = Q (its mean is then 0); its spread for two draws of the
// same distribution, the floor, is what a value must be read against.
//
// Kernel: Gaussian, k(x, y) = exp(−‖x − y‖² / (2h²)). Bandwidth h by the median heuristic
// (their Section 8): the median distance between points. Points are float (n, dim) rows; the
// sums are double. Cost O((n + m)² dim).
#ifndef FOUNDATIONS_MMD_H
#define FOUNDATIONS_MMD_H

#include "foundations/error.h"

// MMD²_u above for x (n, dim) and y (m, dim) with bandwidth h. Errors: n or m < 2, dim < 1,
// h not positive and finite, a coordinate that is not finite.
int mmd2_gaussian(const float *x, long n, const float *y, long m, int dim, double bandwidth, double *mmd2,
                  Error *error);

// The median of ‖x_i − x_j‖ over the pairs i < j of the first min(n, max_points) rows of
// x (n, dim) (an even count of pairs: the mean of the two middle ones). Errors: fewer than 2
// points, dim < 1, a coordinate that is not finite, out of memory.
int median_pairwise_distance(const float *x, long n, int dim, long max_points, double *median, Error *error);

#endif
