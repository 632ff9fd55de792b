// Entropy, cross-entropy, KL, JS, and the quantities of a joint table (math in information.h).
#include "foundations/information.h"

#include <math.h>
#include <stdlib.h>

static const double LN_2 = 0.69314718055994530942;

double nats_to_bits(double nats) { return nats / LN_2; }

int information_check_distribution(const double *p, long n, Error *error) {
    if (n < 1) return error_set(error, "distribution: %ld entries, need at least 1", n);
    double total = 0.0;
    for (long i = 0; i < n; i++) {
        if (!isfinite(p[i]) || p[i] < 0.0) return error_set(error, "distribution: entry %ld is %g, not a probability", i, p[i]);
        total += p[i];
    }
    if (fabs(total - 1.0) > PROBABILITY_TOLERANCE) return error_set(error, "distribution: sums to %.9g, not 1", total);
    return 0;
}

// -Σ p_i log q_i over p_i > 0: +inf when some q_i = 0 < p_i.
static double cross_entropy_of(const double *p, const double *q, long n) {
    double sum = 0.0;
    for (long i = 0; i < n; i++) {
        if (p[i] == 0.0) continue;  // 0 log q = 0, even for q = 0
        if (q[i] == 0.0) return INFINITY;
        sum -= p[i] * log(q[i]);
    }
    return sum;
}

// Σ p_i log(p_i / q_i) over p_i > 0, summed term by term (not as H(p,q) - H(p)) so that it
// does not lose digits when p ≈ q.
static double kl_of(const double *p, const double *q, long n) {
    double sum = 0.0;
    for (long i = 0; i < n; i++) {
        if (p[i] == 0.0) continue;
        if (q[i] == 0.0) return INFINITY;
        sum += p[i] * log(p[i] / q[i]);
    }
    return sum > 0.0 ? sum : 0.0;  // ≥ 0 mathematically; rounding can leave -1e-17
}

int information_entropy(const double *p, long n, double *nats, Error *error) {
    if (information_check_distribution(p, n, error)) return -1;
    *nats = cross_entropy_of(p, p, n);
    return 0;
}

static int check_pair(const double *p, const double *q, long n, Error *error) {
    if (information_check_distribution(p, n, error)) return error_prefix(error, "p");
    if (information_check_distribution(q, n, error)) return error_prefix(error, "q");
    return 0;
}

int information_cross_entropy(const double *p, const double *q, long n, double *nats, Error *error) {
    if (check_pair(p, q, n, error)) return -1;
    *nats = cross_entropy_of(p, q, n);
    return 0;
}

int information_kl_divergence(const double *p, const double *q, long n, double *nats, Error *error) {
    if (check_pair(p, q, n, error)) return -1;
    *nats = kl_of(p, q, n);
    return 0;
}

int information_js_divergence(const double *p, const double *q, long n, double *nats, Error *error) {
    if (check_pair(p, q, n, error)) return -1;
    // Σ over i of ½ p log(p/m) + ½ q log(q/m), term by term, without storing m.
    double sum = 0.0;
    for (long i = 0; i < n; i++) {
        double m = 0.5 * (p[i] + q[i]);
        if (p[i] > 0.0) sum += 0.5 * p[i] * log(p[i] / m);
        if (q[i] > 0.0) sum += 0.5 * q[i] * log(q[i] / m);
    }
    *nats = sum < 0.0 ? 0.0 : sum > LN_2 ? LN_2 : sum;  // clamp rounding to [0, ln 2]
    return 0;
}

// ---------------------------------------------------------------------------------------
// Joint tables

static int check_table(const double *joint, int rows, int cols, Error *error) {
    if (rows < 1 || cols < 1) return error_set(error, "joint table: shape (%d, %d), need at least (1, 1)", rows, cols);
    if (information_check_distribution(joint, (long)rows * cols, error)) return error_prefix(error, "joint table");
    return 0;
}

static void marginals_of(const double *joint, int rows, int cols, double *row_marginal, double *col_marginal) {
    for (int x = 0; x < rows; x++) row_marginal[x] = 0.0;
    for (int y = 0; y < cols; y++) col_marginal[y] = 0.0;
    for (int x = 0; x < rows; x++)
        for (int y = 0; y < cols; y++) {
            row_marginal[x] += joint[(long)x * cols + y];
            col_marginal[y] += joint[(long)x * cols + y];
        }
}

int information_marginals(const double *joint, int rows, int cols, double *row_marginal, double *col_marginal,
                          Error *error) {
    if (check_table(joint, rows, cols, error)) return -1;
    double *rows_buffer = malloc((size_t)rows * sizeof(double)), *cols_buffer = malloc((size_t)cols * sizeof(double));
    if (!rows_buffer || !cols_buffer) {
        free(rows_buffer);
        free(cols_buffer);
        return error_set(error, "joint table: out of memory");
    }
    marginals_of(joint, rows, cols, rows_buffer, cols_buffer);
    for (int x = 0; row_marginal && x < rows; x++) row_marginal[x] = rows_buffer[x];
    for (int y = 0; col_marginal && y < cols; y++) col_marginal[y] = cols_buffer[y];
    free(rows_buffer);
    free(cols_buffer);
    return 0;
}

int information_joint_entropy(const double *joint, int rows, int cols, double *nats, Error *error) {
    if (check_table(joint, rows, cols, error)) return -1;
    *nats = cross_entropy_of(joint, joint, (long)rows * cols);
    return 0;
}

int information_conditional_entropy(const double *joint, int rows, int cols, double *nats, Error *error) {
    if (check_table(joint, rows, cols, error)) return -1;
    // -Σ p(x,y) log p(y|x) with p(y|x) = p(x,y)/p(x); p(x) > 0 wherever p(x,y) > 0.
    double sum = 0.0;
    for (int x = 0; x < rows; x++) {
        const double *row = joint + (long)x * cols;
        double p_x = 0.0;
        for (int y = 0; y < cols; y++) p_x += row[y];
        for (int y = 0; y < cols; y++)
            if (row[y] > 0.0) sum -= row[y] * log(row[y] / p_x);
    }
    *nats = sum > 0.0 ? sum : 0.0;
    return 0;
}

int information_mutual_information(const double *joint, int rows, int cols, double *nats, Error *error) {
    if (check_table(joint, rows, cols, error)) return -1;
    double *p_x = malloc((size_t)rows * sizeof(double)), *p_y = malloc((size_t)cols * sizeof(double));
    if (!p_x || !p_y) {
        free(p_x);
        free(p_y);
        return error_set(error, "joint table: out of memory");
    }
    marginals_of(joint, rows, cols, p_x, p_y);
    // I = KL(p(x,y) ‖ p(x) p(y)); the product is > 0 wherever the joint is.
    double sum = 0.0;
    for (int x = 0; x < rows; x++)
        for (int y = 0; y < cols; y++) {
            double p_xy = joint[(long)x * cols + y];
            if (p_xy > 0.0) sum += p_xy * log(p_xy / (p_x[x] * p_y[y]));
        }
    free(p_x);
    free(p_y);
    *nats = sum > 0.0 ? sum : 0.0;
    return 0;
}
