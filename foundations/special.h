// Special functions of probability: the distribution functions behind goodness-of-fit tests
// and maximum-likelihood fits (and lgamma from the C library for log Γ).
//
//   Φ(x)          = ½ erfc(-x / √2)                                  standard normal CDF
//   P(a, x)       = γ(a, x) / Γ(a) = 1/Γ(a) ∫₀ˣ t^(a-1) e^(-t) dt       regularized lower incomplete gamma
//   Q(a, x)       = 1 - P(a, x)
//   I_x(a, b)     = 1/B(a,b) ∫₀ˣ t^(a-1) (1-t)^(b-1) dt                regularized incomplete beta
//   ψ(x)          = d/dx ln Γ(x)            ψ'(x) = d²/dx² ln Γ(x)      digamma, trigamma
// Uses: Gamma(k, θ) CDF = P(k, x/θ); χ²_ν upper tail = Q(ν/2, x/2); Poisson(λ) P(N ≤ n) = Q(n+1, λ);
// Beta(a, b) CDF = I_x(a, b).
//
// P and Q: the power series P = e^-x x^a / Γ(a+1) · Σ_n x^n / ((a+1)…(a+n)) for x < a + 1, else
// Legendre's continued fraction for Q evaluated by the modified Lentz method (Abramowitz and
// Stegun 6.5.29, 6.5.31). I_x: the continued fraction of A&S 26.5.8 with the same evaluation,
// for x < (a+1)/(a+b+2), else through I_x(a, b) = 1 - I_(1-x)(b, a). ψ and ψ': the recurrences
// ψ(x) = ψ(x+1) - 1/x, ψ'(x) = ψ'(x+1) + 1/x² up to x >= 12, then the asymptotic series
// (A&S 6.3.18, 6.4.12). Relative accuracy about 1e-13 on the tested ranges.
//
// Arguments outside the domain (a <= 0, x < 0, x outside [0, 1] for I_x, ψ at x <= 0) give NaN:
// callers check their parameters first.
#ifndef FOUNDATIONS_SPECIAL_H
#define FOUNDATIONS_SPECIAL_H

double normal_cdf(double x);
double gamma_p(double a, double x);
double gamma_q(double a, double x);
double beta_incomplete(double a, double b, double x);
double digamma(double x);
double trigamma(double x);
// The upper tail of the χ² distribution with dof degrees of freedom at statistic: the p-value
// of a goodness-of-fit test.
double chi_square_upper_tail(double statistic, double dof);

#endif
