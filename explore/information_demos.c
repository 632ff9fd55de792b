// Entropy, mutual information and divergences of real text: see information_demos.h.
#include "explore/information_demos.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "foundations/file.h"
#include "foundations/information.h"
#include "foundations/random.h"

static const double LN2 = 0.69314718055994531;

static int read_text(const char *path, long minimum, unsigned char **bytes, long *n, Error *error) {
    size_t size;
    if (file_read_all(path, bytes, &size, error)) return -1;
    *n = (long)size;
    if (*n < minimum) {
        free(*bytes);
        *bytes = NULL;
        return error_set(error, "%s: %ld bytes, at least %ld needed", path, *n, minimum);
    }
    return 0;
}

// index[b] = the rank of byte b among the bytes that occur (-1 if it does not); returns A.
static int alphabet_of(const unsigned char *bytes, long n, int index[256]) {
    int seen[256] = {0}, a = 0;
    for (long i = 0; i < n; i++) seen[bytes[i]] = 1;
    for (int b = 0; b < 256; b++) index[b] = seen[b] ? a++ : -1;
    return a;
}

// ----------------------------------------------------------------------------
// Sparse n-gram counts: each position i >= order gives the key (b[i-order], ..., b[i]) packed
// big-endian into 8 bits per byte, so the context is key >> 8 and sorting groups contexts.

typedef struct NgramTable {
    uint64_t *keys;  // (n) distinct, ascending
    long *counts;    // (n)
    long n, total;   // distinct keys, positions counted
} NgramTable;

static int compare_keys(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t ngram_key(const unsigned char *bytes, long i, int order) {
    uint64_t key = 0;
    for (int j = order; j >= 0; j--) key = key << 8 | bytes[i - j];
    return key;
}

static void ngram_free(NgramTable *t) {
    free(t->keys);
    free(t->counts);
    memset(t, 0, sizeof *t);
}

// The (context, byte) table of bytes (n) at order, or with contexts_only the table of contexts.
static int ngram_table(const unsigned char *bytes, long n, int order, int contexts_only, NgramTable *t, Error *error) {
    memset(t, 0, sizeof *t);
    long m = n - order;
    t->keys = malloc((size_t)(m > 0 ? m : 1) * sizeof *t->keys);
    t->counts = malloc((size_t)(m > 0 ? m : 1) * sizeof *t->counts);
    if (!t->keys || !t->counts) {
        ngram_free(t);
        return error_set(error, "out of memory for %ld n-grams", m);
    }
    for (long i = order; i < n; i++) t->keys[i - order] = ngram_key(bytes, i, order) >> (contexts_only ? 8 : 0);
    qsort(t->keys, (size_t)m, sizeof *t->keys, compare_keys);
    t->total = m;
    for (long i = 0; i < m; i++) {
        if (t->n > 0 && t->keys[t->n - 1] == t->keys[i]) {
            t->counts[t->n - 1]++;
        } else {
            t->keys[t->n] = t->keys[i];
            t->counts[t->n++] = 1;
        }
    }
    return 0;
}

static long ngram_count(const NgramTable *t, uint64_t key) {
    long low = 0, high = t->n - 1;
    while (low <= high) {
        long middle = (low + high) / 2;
        if (t->keys[middle] == key) return t->counts[middle];
        if (t->keys[middle] < key) low = middle + 1;
        else high = middle - 1;
    }
    return 0;
}

// -Σ n(c,x)/N log₂(n(c,x)/n(c)) of a table and its context table.
static double conditional_entropy_bits(const NgramTable *pairs, const NgramTable *contexts) {
    double h = 0.0;
    for (long u = 0; u < pairs->n; u++) {
        double n = (double)pairs->counts[u], c = (double)ngram_count(contexts, pairs->keys[u] >> 8);
        h -= n / pairs->total * log2(n / c);
    }
    return h;
}

// ----------------------------------------------------------------------------
// entropy

// The order-k row of the table: in-sample entropy of train, held-out CE, entropy and KL of test.
static int entropy_order(const unsigned char *train, long n_train, const unsigned char *test, long n_test, int order,
                         int alphabet, double alpha, EntropyOrder *row, Error *error) {
    NgramTable pairs, contexts, test_pairs, test_contexts;
    int status = -1;
    memset(row, 0, sizeof *row);
    row->order = order;
    if (ngram_table(train, n_train, order, 0, &pairs, error)) return -1;
    if (ngram_table(train, n_train, order, 1, &contexts, error)) goto free_pairs;
    if (ngram_table(test, n_test, order, 0, &test_pairs, error)) goto free_contexts;
    if (ngram_table(test, n_test, order, 1, &test_contexts, error)) goto free_test_pairs;
    row->contexts = contexts.n;
    row->in_sample = conditional_entropy_bits(&pairs, &contexts);
    double ce = 0.0, kl = 0.0;
    for (long i = order; i < n_test; i++) {  // the cross-entropy position by position
        uint64_t key = ngram_key(test, i, order);
        double q = (ngram_count(&pairs, key) + alpha) / (ngram_count(&contexts, key >> 8) + alpha * alphabet);
        ce -= log2(q);
    }
    row->cross_entropy = ce / test_pairs.total;
    row->held_out_entropy = conditional_entropy_bits(&test_pairs, &test_contexts);
    for (long u = 0; u < test_pairs.n; u++) {  // the KL term from the held-out distribution
        uint64_t key = test_pairs.keys[u];
        double n = (double)test_pairs.counts[u], p = n / ngram_count(&test_contexts, key >> 8);
        double q = (ngram_count(&pairs, key) + alpha) / (ngram_count(&contexts, key >> 8) + alpha * alphabet);
        kl += n / test_pairs.total * log2(p / q);
    }
    row->kl = kl;
    row->identity_error = fabs(row->cross_entropy - (row->held_out_entropy + row->kl));
    status = 0;
    ngram_free(&test_contexts);
free_test_pairs:
    ngram_free(&test_pairs);
free_contexts:
    ngram_free(&contexts);
free_pairs:
    ngram_free(&pairs);
    return status;
}

// Orders 0 and 1 again on dense tables with foundations/information.h: the largest difference
// from the sparse CE, H and KL of row.
static int entropy_dense_check(const unsigned char *train, long n_train, const unsigned char *test, long n_test,
                               const int *index, int a, double alpha, EntropyOrder *row, Error *error) {
    int k = row->order, rows = k == 0 ? 1 : a;
    double *train_counts = calloc((size_t)rows * a, sizeof(double)), *test_counts = calloc((size_t)rows * a, sizeof(double));
    double *p = malloc((size_t)a * sizeof(double)), *q = malloc((size_t)a * sizeof(double));
    int status = -1;
    if (!train_counts || !test_counts || !p || !q) {
        error_set(error, "out of memory");
        goto done;
    }
    for (long i = k; i < n_train; i++) train_counts[(k ? index[train[i - 1]] : 0) * a + index[train[i]]] += 1.0;
    for (long i = k; i < n_test; i++) test_counts[(k ? index[test[i - 1]] : 0) * a + index[test[i]]] += 1.0;
    double ce = 0.0, h = 0.0, kl = 0.0, total = (double)(n_test - k);
    for (int r = 0; r < rows; r++) {
        double test_row = 0.0, train_row = 0.0, nats;
        for (int j = 0; j < a; j++) test_row += test_counts[r * a + j], train_row += train_counts[r * a + j];
        if (test_row == 0.0) continue;
        for (int j = 0; j < a; j++) {
            p[j] = test_counts[r * a + j] / test_row;
            q[j] = (train_counts[r * a + j] + alpha) / (train_row + alpha * a);
        }
        double weight = test_row / total;
        if (information_cross_entropy(p, q, a, &nats, error)) goto done;
        ce += weight * nats / LN2;
        if (information_entropy(p, a, &nats, error)) goto done;
        h += weight * nats / LN2;
        if (information_kl_divergence(p, q, a, &nats, error)) goto done;
        kl += weight * nats / LN2;
    }
    row->dense_difference =
        fmax(fabs(ce - row->cross_entropy), fmax(fabs(h - row->held_out_entropy), fabs(kl - row->kl)));
    status = 0;
done:
    free(train_counts), free(test_counts), free(p), free(q);
    return status;
}

int explore_entropy(const char *path, double holdout, double smoothing, EntropyResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (explore_check_range(holdout, 0.0, 1.0, 1, 1, "--holdout", error) ||
        explore_check_range(smoothing, 0.0, 1e6, 1, 0, "--smoothing", error))
        return -1;
    unsigned char *bytes;
    long n;
    if (read_text(path, 100, &bytes, &n, error)) return -1;
    long n_test = (long)(holdout * n), n_train = n - n_test;
    if (n_test < 10 || n_train < 10) {
        free(bytes);
        return error_set(error, "--holdout %g leaves %ld and %ld bytes: at least 10 each needed", holdout, n_train, n_test);
    }
    int index[256];
    out->alphabet = alphabet_of(bytes, n, index);
    out->train_bytes = n_train, out->held_out_bytes = n_test, out->smoothing = smoothing;
    int status = 0;
    for (int k = 0; k < ENTROPY_ORDERS && !status; k++) {
        status = entropy_order(bytes, n_train, bytes + n_train, n_test, k, out->alphabet, smoothing, &out->orders[k], error);
        if (!status && k <= 1)
            status = entropy_dense_check(bytes, n_train, bytes + n_train, n_test, index, out->alphabet, smoothing,
                                         &out->orders[k], error);
    }
    free(bytes);
    return status;
}

// ----------------------------------------------------------------------------
// mutual-information

// I(X_t; X_(t+lag)) in bits from the dense joint table of the pairs lag apart; joint (a, a) is scratch.
static int lagged_information(const unsigned char *bytes, long n, const int *index, int a, int lag, double *joint,
                              double *bits, double *entropy, double *conditional, Error *error) {
    memset(joint, 0, (size_t)a * a * sizeof *joint);
    double nats;  // counts first, then one division each: adding 1/N a million times drifts by ~1e-7
    for (long i = 0; i + lag < n; i++) joint[index[bytes[i]] * a + index[bytes[i + lag]]] += 1.0;
    for (long k = 0; k < (long)a * a; k++) joint[k] /= (double)(n - lag);
    if (information_mutual_information(joint, a, a, &nats, error)) return -1;
    *bits = nats / LN2;
    if (entropy) {
        double *marginal = malloc((size_t)a * sizeof *marginal);
        if (!marginal) return error_set(error, "out of memory");
        // H of the column marginal (X_(t+lag)), so that I = H(Y) - H(Y | X) holds exactly
        int status = information_marginals(joint, a, a, NULL, marginal, error) ||
                     information_entropy(marginal, a, &nats, error);
        *entropy = nats / LN2;
        status = status || information_conditional_entropy(joint, a, a, &nats, error);
        *conditional = nats / LN2;
        free(marginal);
        if (status) return -1;
    }
    return 0;
}

int explore_mutual_information(const char *path, int max_lag, uint64_t seed, MutualInformationResult *out,
                               Error *error) {
    memset(out, 0, sizeof *out);
    unsigned char *bytes;
    long n;
    if (explore_check_count(max_lag, 1, "--max-lag", error) || read_text(path, 100, &bytes, &n, error)) return -1;
    if (max_lag > n / 10) {
        free(bytes);
        return error_set(error, "--max-lag must be at most %ld (a tenth of the text), not %d", n / 10, max_lag);
    }
    int index[256], a = out->alphabet = alphabet_of(bytes, n, index);
    out->bytes = n;
    // lags 1..8, then about four per octave
    for (double lag = 1.0; (int)lag <= max_lag && out->n_lags < MI_MAX_LAGS; lag = lag < 8.0 ? lag + 1.0 : lag * 1.19) {
        int rounded = (int)lag;
        if (out->n_lags == 0 || out->lags[out->n_lags - 1] != rounded) out->lags[out->n_lags++] = rounded;
    }
    double *joint = malloc((size_t)a * a * sizeof *joint);
    unsigned char *shuffled = malloc((size_t)n);
    int status = -1;
    if (!joint || !shuffled) {
        error_set(error, "out of memory");
        goto done;
    }
    for (int j = 0; j < out->n_lags; j++)
        if (lagged_information(bytes, n, index, a, out->lags[j], joint, &out->information[j], j == 0 ? &out->entropy : NULL,
                               &out->conditional_entropy, error))
            goto done;
    memcpy(shuffled, bytes, (size_t)n);
    Random rng;
    random_seed(&rng, seed);
    for (long i = n - 1; i > 0; i--) {  // Fisher-Yates
        long j = (long)random_below(&rng, (uint32_t)(i + 1));
        unsigned char swap = shuffled[i];
        shuffled[i] = shuffled[j], shuffled[j] = swap;
    }
    if (lagged_information(shuffled, n, index, a, 1, joint, &out->shuffled, NULL, NULL, error)) goto done;
    out->bias_estimate = (a - 1.0) * (a - 1.0) / (2.0 * (n - 1) * LN2);
    status = 0;
done:
    free(joint), free(shuffled), free(bytes);
    return status;
}

// ----------------------------------------------------------------------------
// divergences

// One row from two count arrays (n): normalised, then the information.h quantities in bits.
static int divergence_row(const double *count_p, const double *count_q, int n, const char *alphabet, DivergenceRow *row,
                          Error *error) {
    double *p = calloc((size_t)n, sizeof *p), *q = calloc((size_t)n, sizeof *q), total_p = 0.0, total_q = 0.0, nats;
    int status = -1;
    memset(row, 0, sizeof *row);
    row->alphabet = alphabet;
    if (!p || !q) {
        error_set(error, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) total_p += count_p[i], total_q += count_q[i];
    if (total_p == 0.0 || total_q == 0.0) {
        error_set(error, "a text has no %s", alphabet);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        p[i] = count_p[i] / total_p, q[i] = count_q[i] / total_q;
        row->symbols += p[i] > 0.0 || q[i] > 0.0;
    }
    if (information_entropy(p, n, &nats, error)) goto done;
    row->entropy_p = nats / LN2;
    if (information_entropy(q, n, &nats, error)) goto done;
    row->entropy_q = nats / LN2;
    if (information_kl_divergence(p, q, n, &nats, error)) goto done;
    row->kl_pq = nats / LN2;
    if (information_kl_divergence(q, p, n, &nats, error)) goto done;
    row->kl_qp = nats / LN2;
    if (information_js_divergence(p, q, n, &nats, error)) goto done;
    row->js = nats / LN2;
    if (information_cross_entropy(p, q, n, &nats, error)) goto done;
    row->cross_pq = nats / LN2;
    status = 0;
done:
    free(p), free(q);
    return status;
}

int explore_divergences(const char *path_p, const char *path_q, DivergenceResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    unsigned char *text[2] = {NULL, NULL};
    long n[2];
    if (read_text(path_p, 1, &text[0], &n[0], error)) return -1;
    if (read_text(path_q, 1, &text[1], &n[1], error)) {
        free(text[0]);
        return -1;
    }
    out->bytes_p = n[0], out->bytes_q = n[1];
    double letters[2][LETTERS] = {{0}}, bytes[2][256] = {{0}};
    for (int t = 0; t < 2; t++)
        for (long i = 0; i < n[t]; i++) {
            bytes[t][text[t][i]] += 1.0;
            int c = tolower(text[t][i]);
            if (c >= 'a' && c <= 'z') letters[t][c - 'a'] += 1.0;
        }
    free(text[0]), free(text[1]);
    if (divergence_row(letters[0], letters[1], LETTERS, "letters a-z, case folded", &out->rows[0], error) ||
        divergence_row(bytes[0], bytes[1], 256, "all bytes", &out->rows[1], error))
        return -1;
    double total[2] = {0.0, 0.0};
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < LETTERS; i++) total[t] += letters[t][i];
    for (int i = 0; i < LETTERS; i++) {
        out->letters_p[i] = letters[0][i] / total[0], out->letters_q[i] = letters[1][i] / total[1];
        double p = out->letters_p[i], q = out->letters_q[i];
        out->contribution[i] = p > 0.0 ? p * log2(p / q) : 0.0;
    }
    return 0;
}
