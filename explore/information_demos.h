// Information theory made visible (roadmap module 5) on real text and a small network:
// the entropy of Moby-Dick's characters and the cross-entropy = entropy + KL identity, the mutual
// information between characters k apart, divergences between the letters of two texts
// (explore/information_demos.c), and the information plane of a tanh network
// (explore/information_plane.c). The quantities are foundations/information.h's; each function
// fills a struct, nothing prints. Units: bits (log base 2); a "character" is a byte.
#ifndef EXPLORE_INFORMATION_DEMOS_H
#define EXPLORE_INFORMATION_DEMOS_H

#include <stdint.h>

#include "foundations/error.h"

// ----------------------------------------------------------------------------
// entropy: the text split into its first (1 - holdout) for counting and the rest held out.
// An order-k count model predicts a byte from the k before it:
//   q(x | c) = (n(c, x) + α) / (n(c) + α A)      (A = the bytes that occur anywhere in the text)
//   in-sample entropy     H_k  = -Σ n(c,x)/N log₂(n(c,x)/n(c))       over the counting part
//   held-out cross-entropy  CE = -1/M Σ_t log₂ q(x_t | c_t)         over the M held-out positions
//   and its split           CE = H(X | C)_held-out + Σ_c p(c) KL(p(· | c) ‖ q(· | c))
// where p is the held-out text's own distribution. The split is computed term by term (the
// entropy and the KL from the held-out counts, not as CE minus something), so the identity is
// a real check. Orders 0 and 1 are also computed with foundations/information.h on dense tables.

enum { ENTROPY_ORDERS = 5 };

typedef struct EntropyOrder {
    int order;
    long contexts;              // distinct contexts in the counting part
    double in_sample;           // H_k, bits per byte
    double cross_entropy;       // held-out CE of the add-α model, bits per byte
    double held_out_entropy;    // H(X | C) of the held-out text itself
    double kl;                  // Σ_c p(c) KL(p(·|c) ‖ q(·|c)), bits
    double identity_error;      // |CE - (H + KL)|
    double dense_difference;    // orders 0 and 1: largest |sparse - information.h| of CE, H, KL (else 0)
} EntropyOrder;

typedef struct EntropyResult {
    long train_bytes, held_out_bytes;
    int alphabet;               // A
    double smoothing;           // α
    EntropyOrder orders[ENTROPY_ORDERS];  // k = 0 ... 4
} EntropyResult;

// path: a text of at least 100 bytes; holdout in (0, 1) leaving at least 10 bytes on each side;
// smoothing α > 0. Errors: the file (missing, unreadable), sizes, out of memory.
int explore_entropy(const char *path, double holdout, double smoothing, EntropyResult *out, Error *error);

// ----------------------------------------------------------------------------
// mutual-information: I(X_t; X_(t+k)) = Σ p(x,y) log₂ p(x,y)/(p(x)p(y)) from the joint counts of
// the pairs k apart (foundations/information.h), for lags 1 ... max_lag (about 4 per octave).
// The plug-in estimate is biased upwards by about (A-1)²/(2N ln 2) bits (Miller 1955), which
// the text shuffled (every dependence destroyed) measures directly.

enum { MI_MAX_LAGS = 64 };

typedef struct MutualInformationResult {
    long bytes;
    int alphabet;
    int n_lags;
    int lags[MI_MAX_LAGS];
    double information[MI_MAX_LAGS];   // bits
    double shuffled;                   // I at lag 1 of the shuffled text
    double bias_estimate;              // (A-1)² / (2N ln 2)
    double entropy;                    // H(X), bits
    double conditional_entropy;        // H(X_t | X_(t-1)), bits: I(1) = H(X) - H(X_t | X_(t-1))
} MutualInformationResult;

// max_lag in [1, bytes / 10]; seed for the shuffle.
int explore_mutual_information(const char *path, int max_lag, uint64_t seed, MutualInformationResult *out,
                               Error *error);

// ----------------------------------------------------------------------------
// divergences between the character distributions p (first text) and q (second):
//   KL(p‖q), KL(q‖p), JS(p, q) and the entropies, on (1) the 26 letters with case folded
// (other bytes ignored) and (2) every byte as written, where a byte of q that p never has
// makes KL(q‖p) infinite while JS stays finite (at most 1 bit).

enum { LETTERS = 26 };

typedef struct DivergenceRow {
    const char *alphabet;               // "letters a-z, case folded", "all bytes"
    int symbols;                        // symbols with p or q > 0
    double entropy_p, entropy_q;        // bits
    double kl_pq, kl_qp, js;            // bits; KL may be INFINITY
    double cross_pq;                    // H(p, q) = H(p) + KL(p‖q)
} DivergenceRow;

typedef struct DivergenceResult {
    long bytes_p, bytes_q;
    DivergenceRow rows[2];
    double letters_p[LETTERS], letters_q[LETTERS];   // the letter distributions
    double contribution[LETTERS];                    // p_i log₂(p_i/q_i): the terms of KL(p‖q) on letters
} DivergenceResult;

int explore_divergences(const char *path_p, const char *path_q, DivergenceResult *out, Error *error);

// ----------------------------------------------------------------------------
// information-plane (information_plane.c): Shwartz-Ziv and Tishby (2017), "Opening the black box
// of deep neural networks via information". A 12-10-7-5-4-3-1 tanh network learns a binary
// label of 12-bit inputs (all 4096 patterns; y = 1 when the two 6-bit halves' counts of ones
// a, b satisfy (a-3)² + (b-3)² >= 2, 61% of patterns); the first 85% of a seeded shuffle
// train it (full-batch Adam, binary cross-entropy). At log-spaced epochs each hidden layer's
// activations T on all 4096 patterns are binned (each unit's [-1, 1] into `bins` equal bins) and
//   I(X; T) = H(T)              (T is a function of X, X uniform over the patterns)
//   I(T; Y) = H(Y) - H(Y | T)   (foundations/information.h on the joint table of bin patterns × y)
// plotted as one trajectory per layer. The binned estimates depend on the bin count (Saxe et
// al. 2018 discuss what they do and do not show); this is the measurement, not a verdict.

enum { PLANE_LAYERS = 5, PLANE_MAX_SNAPSHOTS = 64, PLANE_INPUT_BITS = 12, PLANE_PATTERNS = 4096 };

typedef struct InformationPlaneResult {
    int widths[PLANE_LAYERS];          // 10, 7, 5, 4, 3
    int bins, epochs, n_snapshots;
    int snapshot_epochs[PLANE_MAX_SNAPSHOTS];
    double ixt[PLANE_MAX_SNAPSHOTS][PLANE_LAYERS];   // bits
    double ity[PLANE_MAX_SNAPSHOTS][PLANE_LAYERS];   // bits
    double train_loss[PLANE_MAX_SNAPSHOTS];
    double train_accuracy[PLANE_MAX_SNAPSHOTS], test_accuracy[PLANE_MAX_SNAPSHOTS];
    double label_entropy;              // H(Y), bits
    double input_entropy;              // H(X) = 12 bits
} InformationPlaneResult;

// epochs >= 1, bins >= 2, lr > 0.
int explore_information_plane(int epochs, int bins, float lr, uint64_t seed, InformationPlaneResult *out, Error *error);

// The binned I(X; T) and I(T; Y) of activations (n, width) with labels (n) in {0, 1}, X uniform
// over the n rows: for tests and the demo.
int binned_information(const float *activations, const int *labels, int n, int width, int bins, double *ixt,
                       double *ity, Error *error);

#endif
