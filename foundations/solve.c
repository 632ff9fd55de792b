// A X = B for square A by Gaussian elimination with partial pivoting: P A = L U, then
// forward and back substitution. Choosing the largest |entry| of the column as pivot keeps
// every multiplier |l_ij| <= 1; without it a tiny pivot (1e-20 where 1 was needed) turns
// rounding into an answer that is entirely wrong (the test has such a matrix).
// Not here: refinement, a reusable factorisation object, blocking.
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/linalg.h"

// a (n,n), b (n,k) -> x (n,k)
int linear_solve(Matrix *x, const Matrix *a, const Matrix *b, Error *error) {
    int n = a->rows, k = b->cols;
    if (matrix_check_finite(a, "A", error) || matrix_check_finite(b, "B", error)) return -1;
    if (a->cols != n) return error_set(error, "linear solve needs a square A, got %d x %d", n, a->cols);
    if (b->rows != n) return error_set(error, "B has %d rows, A has %d", b->rows, n);
    if (matrix_check_shape(x, n, k, "X", error)) return -1;

    // lu (n,n) is overwritten in place by U above the diagonal and L's multipliers below;
    // x starts as B and has the same row swaps applied.
    double *lu = malloc(sizeof(double) * ((size_t)n * n + 1));
    if (!lu) return error_set(error, "out of memory for a %d x %d solve", n, n);
    memcpy(lu, a->values, sizeof(double) * (size_t)n * n);
    memcpy(x->values, b->values, sizeof(double) * (size_t)n * k);
    Matrix whole = matrix_view(lu, n, n);
    double scale = matrix_frobenius_norm(&whole);

    for (int col = 0; col < n; col++) {
        int pivot = col;
        for (int i = col + 1; i < n; i++)
            if (fabs(lu[(size_t)i * n + col]) > fabs(lu[(size_t)pivot * n + col])) pivot = i;
        double pivot_value = lu[(size_t)pivot * n + col];
        // Singular to working precision: the pivot is rounding noise relative to ||A||.
        if (fabs(pivot_value) <= (double)n * DBL_EPSILON * scale) {
            free(lu);
            return error_set(error, "linear solve: A (%d x %d) is singular to working precision (pivot %g in column %d)",
                             n, n, pivot_value, col);
        }
        if (pivot != col) {
            for (int j = 0; j < n; j++) {
                double t = lu[(size_t)col * n + j];
                lu[(size_t)col * n + j] = lu[(size_t)pivot * n + j], lu[(size_t)pivot * n + j] = t;
            }
            for (int j = 0; j < k; j++) {
                double t = x->values[(size_t)col * k + j];
                x->values[(size_t)col * k + j] = x->values[(size_t)pivot * k + j], x->values[(size_t)pivot * k + j] = t;
            }
        }
        // Eliminate below the pivot: row_i -= l_i · row_col, l_i = a_i,col / pivot; the same on B.
        for (int i = col + 1; i < n; i++) {
            double multiplier = lu[(size_t)i * n + col] / pivot_value;
            lu[(size_t)i * n + col] = multiplier;
            for (int j = col + 1; j < n; j++) lu[(size_t)i * n + j] -= multiplier * lu[(size_t)col * n + j];
            for (int j = 0; j < k; j++) x->values[(size_t)i * k + j] -= multiplier * x->values[(size_t)col * k + j];
        }
    }
    // Back substitution U x = (L⁻¹ P b), already in x.
    for (int i = n - 1; i >= 0; i--) {
        double diagonal = lu[(size_t)i * n + i];
        for (int j = 0; j < k; j++) {
            double sum = x->values[(size_t)i * k + j];
            for (int c = i + 1; c < n; c++) sum -= lu[(size_t)i * n + c] * x->values[(size_t)c * k + j];
            x->values[(size_t)i * k + j] = sum / diagonal;
        }
    }
    free(lu);
    return 0;
}
