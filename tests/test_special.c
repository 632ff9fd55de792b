// Special functions against closed forms they must reduce to (foundations/special.h).
#include <math.h>

#include "foundations/special.h"
#include "tests/check.h"

static const double EULER_GAMMA = 0.57721566490153286, PI = 3.14159265358979324;

// Φ: symmetric, Φ(0) = ½, Φ(1.959964) = 0.975.
static void normal_cdf_values(void) {
    CHECK_NEAR(normal_cdf(0.0), 0.5, 1e-15);
    CHECK_NEAR(normal_cdf(1.959963984540054), 0.975, 1e-12);
    CHECK_NEAR(normal_cdf(-1.3) + normal_cdf(1.3), 1.0, 1e-15);
}

// For integer a: P(a, x) = 1 - e^-x Σ_(k<a) x^k / k! (the Poisson identity); P(½, x) = erf(√x).
static void incomplete_gamma_values(void) {
    const double points[][2] = {{1, 0.4}, {5, 2}, {7, 12}, {3, 30}, {12, 11}};
    for (int i = 0; i < 5; i++) {
        double a = points[i][0], x = points[i][1], term = 1.0, sum = 0.0;
        for (int k = 0; k < (int)a; k++) {
            sum += term;
            term *= x / (k + 1);
        }
        double expected = 1.0 - exp(-x) * sum;
        CHECK(fabs(gamma_p(a, x) - expected) < 1e-13, "P(%g, %g) = %.16g, not %.16g", a, x, gamma_p(a, x), expected);
        CHECK(fabs(gamma_q(a, x) - (1.0 - expected)) < 1e-13, "Q(%g, %g)", a, x);
    }
    for (double x = 0.05; x < 20; x *= 1.7) CHECK_NEAR(gamma_p(0.5, x), erf(sqrt(x)), 1e-13);
    CHECK_NEAR(chi_square_upper_tail(7.0, 2.0), exp(-3.5), 1e-14);
    CHECK(isnan(gamma_p(-1.0, 1.0)) && isnan(gamma_q(1.0, -1.0)), "outside the domain is NaN");
}

// For integers a, b: I_x(a, b) = Σ_(j=a)^(a+b-1) C(a+b-1, j) x^j (1-x)^(a+b-1-j); I_½(a, a) = ½.
static void incomplete_beta_values(void) {
    const double points[][3] = {{2, 5, 0.3}, {5, 3, 0.8}, {1, 4, 0.1}, {6, 6, 0.45}, {3, 1, 0.99}};
    for (int i = 0; i < 5; i++) {
        int a = (int)points[i][0], b = (int)points[i][1];
        double x = points[i][2], expected = 0.0;
        for (int j = a; j <= a + b - 1; j++)
            expected += exp(lgamma(a + b) - lgamma(j + 1) - lgamma(a + b - j)) * pow(x, j) * pow(1 - x, a + b - 1 - j);
        CHECK(fabs(beta_incomplete(a, b, x) - expected) < 1e-13, "I_%g(%d, %d) = %.16g, not %.16g", x, a, b,
              beta_incomplete(a, b, x), expected);
    }
    CHECK_NEAR(beta_incomplete(0.7, 0.7, 0.5), 0.5, 1e-13);
    CHECK_NEAR(beta_incomplete(0.5, 1.0, 0.36), 0.6, 1e-13);  // I_x(a, 1) = x^a
    CHECK(isnan(beta_incomplete(1.0, 1.0, 1.5)), "x outside [0, 1] is NaN");
}

// ψ(1) = -γ, ψ(½) = -γ - 2 ln 2, ψ'(1) = π²/6, ψ'(½) = π²/2; at x = 20.5 (the asymptotic
// series directly) against ψ(½) and ψ'(½) carried up by the recurrence.
static void digamma_and_trigamma_values(void) {
    CHECK_NEAR(digamma(1.0), -EULER_GAMMA, 1e-13);
    CHECK_NEAR(digamma(0.5), -EULER_GAMMA - 2.0 * log(2.0), 1e-13);
    CHECK_NEAR(trigamma(1.0), PI * PI / 6.0, 1e-13);
    CHECK_NEAR(trigamma(0.5), PI * PI / 2.0, 1e-13);
    double psi = -EULER_GAMMA - 2.0 * log(2.0), psi1 = PI * PI / 2.0;
    for (int k = 0; k < 20; k++) psi += 1.0 / (0.5 + k), psi1 -= 1.0 / ((0.5 + k) * (0.5 + k));
    CHECK_NEAR(digamma(20.5), psi, 1e-13);
    CHECK_NEAR(trigamma(20.5), psi1, 1e-13);
    CHECK(isnan(digamma(0.0)) && isnan(trigamma(-2.0)), "x <= 0 is NaN");
}

static const CheckCase CASES[] = {
    {"normal cdf values", normal_cdf_values},
    {"incomplete gamma values", incomplete_gamma_values},
    {"incomplete beta values", incomplete_beta_values},
    {"digamma and trigamma values", digamma_and_trigamma_values},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
