// Information theory of discrete distributions, in nats (natural log); bits = nats / ln 2.
//
// A distribution is a double array p (n): non-negative, finite, summing to 1 (within
// PROBABILITY_TOLERANCE; normalise float probabilities in double first). A joint distribution is a table
// joint (rows, cols), row-major, joint[x * cols + y] = P(X = x, Y = y): rows index X,
// columns index Y.
//
//   entropy             H(p)      = -Σ p_i log p_i
//   cross-entropy       H(p, q)   = -Σ p_i log q_i
//   KL divergence       KL(p‖q)   =  Σ p_i log(p_i / q_i)  = H(p, q) - H(p)   (≥ 0, Gibbs)
//   Jensen-Shannon      JS(p, q)  =  ½ KL(p‖m) + ½ KL(q‖m),  m = ½(p + q)      (in [0, ln 2])
//   joint entropy       H(X, Y)   = -Σ p(x,y) log p(x,y)
//   conditional entropy H(Y | X)  =  Σ_x p(x) H(Y | X = x) = -Σ p(x,y) log(p(x,y)/p(x))
//   mutual information  I(X; Y)   =  Σ p(x,y) log(p(x,y) / (p(x) p(y)))
//
// Zero probabilities follow the limits: 0 log 0 = 0 and 0 log(0/q) = 0, so terms with
// p_i = 0 are skipped; p_i > 0 = q_i makes H(p, q) and KL(p‖q) +infinity (a result, not an
// error). JS never is infinite, since m > 0 wherever p or q is.
//
// Each quantity is computed from its own definition (not from the others), so the
// identities H(X,Y) = H(X) + H(Y|X) and I = H(X) + H(Y) - H(X,Y) are real checks.
// Not here: continuous (differential) entropy, estimators from samples.
#ifndef FOUNDATIONS_INFORMATION_H
#define FOUNDATIONS_INFORMATION_H

#include "foundations/error.h"

// |Σ p - 1| allowed before a distribution is rejected.
#define PROBABILITY_TOLERANCE 1e-6

// nats / ln 2.
double nats_to_bits(double nats);

// Checks that p (n) is a distribution: n >= 1, entries finite and >= 0, sum 1.
int information_check_distribution(const double *p, long n, Error *error);

// p (n), q (n).
int information_entropy(const double *p, long n, double *nats, Error *error);
int information_cross_entropy(const double *p, const double *q, long n, double *nats, Error *error);
int information_kl_divergence(const double *p, const double *q, long n, double *nats, Error *error);
int information_js_divergence(const double *p, const double *q, long n, double *nats, Error *error);

// joint (rows, cols) -> row_marginal (rows) = P(X), col_marginal (cols) = P(Y); either may be NULL.
int information_marginals(const double *joint, int rows, int cols, double *row_marginal, double *col_marginal,
                          Error *error);
// joint (rows, cols).
int information_joint_entropy(const double *joint, int rows, int cols, double *nats, Error *error);
// H(Y | X), X the row index.
int information_conditional_entropy(const double *joint, int rows, int cols, double *nats, Error *error);
int information_mutual_information(const double *joint, int rows, int cols, double *nats, Error *error);

#endif
