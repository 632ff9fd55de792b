// Special functions of probability: see special.h.
#include "foundations/special.h"

#include <float.h>
#include <math.h>

enum { SPECIAL_MAX_TERMS = 1000 };
static const double SPECIAL_TINY = 1e-300, SPECIAL_EPS = 1e-15;

double normal_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

// The series Σ_n x^n / ((a+1)…(a+n)), times e^-x x^a / Γ(a+1): P(a, x), good for x < a + 1.
static double gamma_p_series(double a, double x) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < SPECIAL_MAX_TERMS; n++) {
        term *= x / (a + n);
        sum += term;
        if (fabs(term) < fabs(sum) * SPECIAL_EPS) break;
    }
    return sum * exp(-x + a * log(x) - lgamma(a));
}

// Q(a, x) = e^-x x^a / Γ(a) · 1/(x+1-a- 1·(1-a)/(x+3-a- 2·(2-a)/(x+5-a- …))), by modified Lentz.
static double gamma_q_fraction(double a, double x) {
    double b = x + 1.0 - a, c = 1.0 / SPECIAL_TINY, d = 1.0 / b, h = d;
    for (int n = 1; n < SPECIAL_MAX_TERMS; n++) {
        double an = -n * (n - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < SPECIAL_TINY) d = SPECIAL_TINY;
        c = b + an / c;
        if (fabs(c) < SPECIAL_TINY) c = SPECIAL_TINY;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < SPECIAL_EPS) break;
    }
    return exp(-x + a * log(x) - lgamma(a)) * h;
}

double gamma_p(double a, double x) {
    if (!(a > 0.0) || !(x >= 0.0)) return NAN;
    if (x == 0.0) return 0.0;
    if (isinf(x)) return 1.0;
    return x < a + 1.0 ? gamma_p_series(a, x) : 1.0 - gamma_q_fraction(a, x);
}

double gamma_q(double a, double x) {
    if (!(a > 0.0) || !(x >= 0.0)) return NAN;
    if (x == 0.0) return 1.0;
    if (isinf(x)) return 0.0;
    return x < a + 1.0 ? 1.0 - gamma_p_series(a, x) : gamma_q_fraction(a, x);
}

// The continued fraction of I_x(a, b) (A&S 26.5.8): 1/(1+ d₁/(1+ d₂/(1+ …))) with
//   d_(2m+1) = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1)),   d_(2m) = m(b-m) x / ((a+2m-1)(a+2m)),
// evaluated by modified Lentz; converges fast for x < (a+1)/(a+b+2).
static double beta_fraction(double a, double b, double x) {
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < SPECIAL_TINY) d = SPECIAL_TINY;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m < SPECIAL_MAX_TERMS; m++) {
        double even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        double odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        for (int half = 0; half < 2; half++) {
            double coefficient = half == 0 ? even : odd;
            d = 1.0 + coefficient * d;
            if (fabs(d) < SPECIAL_TINY) d = SPECIAL_TINY;
            c = 1.0 + coefficient / c;
            if (fabs(c) < SPECIAL_TINY) c = SPECIAL_TINY;
            d = 1.0 / d;
            h *= d * c;
            if (half == 1 && fabs(d * c - 1.0) < SPECIAL_EPS) return h;
        }
    }
    return h;
}

double beta_incomplete(double a, double b, double x) {
    if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0 && x <= 1.0)) return NAN;
    if (x == 0.0 || x == 1.0) return x;
    // x^a (1-x)^b / B(a, b), in logs
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
    return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

double digamma(double x) {
    if (!(x > 0.0)) return NAN;
    double shift = 0.0;
    for (; x < 12.0; x += 1.0) shift -= 1.0 / x;
    // ψ(x) ~ ln x - 1/(2x) - 1/(12x²) + 1/(120x⁴) - 1/(252x⁶) + 1/(240x⁸) - 1/(132x¹⁰)
    double r = 1.0 / (x * x);
    double series = r * (1.0 / 12 - r * (1.0 / 120 - r * (1.0 / 252 - r * (1.0 / 240 - r / 132))));
    return shift + log(x) - 0.5 / x - series;
}

double trigamma(double x) {
    if (!(x > 0.0)) return NAN;
    double shift = 0.0;
    for (; x < 12.0; x += 1.0) shift += 1.0 / (x * x);
    // ψ'(x) ~ 1/x + 1/(2x²) + 1/(6x³) - 1/(30x⁵) + 1/(42x⁷) - 1/(30x⁹) + 5/(66x¹¹)
    double r = 1.0 / (x * x);
    double series = (1.0 / 6 - r * (1.0 / 30 - r * (1.0 / 42 - r * (1.0 / 30 - r * 5.0 / 66)))) / (x * x * x);
    return shift + 1.0 / x + 0.5 * r + series;
}

double chi_square_upper_tail(double statistic, double dof) {
    if (!(dof > 0.0) || !(statistic >= 0.0)) return NAN;
    return gamma_q(0.5 * dof, 0.5 * statistic);
}
