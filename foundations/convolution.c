// Convolution by im2col and the matrix multiply: see convolution.h.
#include "foundations/convolution.h"

#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "foundations/implicit_gemm.h"
#include "foundations/matmul.h"

int conv2d_shape(Convolution *conv) {
    Convolution *c = conv;
    if (c->N < 1 || c->C < 1 || c->H < 1 || c->W < 1 || c->OC < 1 || c->KH < 1 || c->KW < 1 || c->stride < 1 ||
        c->padding < 0 || c->dilation < 1 || c->groups < 1 || c->C % c->groups || c->OC % c->groups)
        return -1;
    long span_h = (long)c->dilation * (c->KH - 1) + 1, span_w = (long)c->dilation * (c->KW - 1) + 1;
    long padded_h = (long)c->H + 2L * c->padding, padded_w = (long)c->W + 2L * c->padding;
    if (span_h > padded_h || span_w > padded_w) return -1;
    c->OH = (int)((padded_h - span_h) / c->stride + 1);
    c->OW = (int)((padded_w - span_w) / c->stride + 1);
    return 0;
}

void columns_inside(int offset, int stride, int W, int OW, int *first, int *end) {
    int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int hi = W - 1 - offset < 0 ? 0 : (W - 1 - offset) / stride + 1;
    *first = lo < OW ? lo : OW;
    *end = hi < OW ? hi : OW;
    if (*end < *first) *end = *first;
}

// One row of im2col at stride 1 when the output is as wide as the input ("same" padding): the
// band's output rows follow the image's rows at a fixed distance, so the row is one copy of
// the plane shifted by row_shift rows and offset columns, then zeros where the shift wrapped
// around a row's end or left the image. Columns first..end are the ones inside it.
static void same_size_row(float *row, const float *plane, int H, int W, int row_shift, int offset, int first, int end,
                          int row0, int rows) {
    int ia = row0 > -row_shift ? row0 : -row_shift, ib = row0 + rows < H - row_shift ? row0 + rows : H - row_shift;
    if (ia >= ib || first >= end) {
        memset(row, 0, sizeof(float) * (size_t)rows * W);
        return;
    }
    memset(row, 0, sizeof(float) * (size_t)(ia - row0) * W);
    memset(row + (long)(ib - row0) * W, 0, sizeof(float) * (size_t)(row0 + rows - ib) * W);
    float *to = row + (long)(ia - row0) * W;
    memcpy(to + first, plane + (long)(ia + row_shift) * W + offset + first,
           sizeof(float) * (size_t)((long)(ib - ia - 1) * W + end - first));
    for (int i = 0; i < ib - ia; i++) {
        for (int j = 0; j < first; j++) to[(long)i * W + j] = 0.0f;
        for (int j = end; j < W; j++) to[(long)i * W + j] = 0.0f;
    }
}

void im2col(float *col, long ld, const float *image, int C, const Convolution *conv, int row0, int rows) {
    int H = conv->H, W = conv->W, OW = conv->OW, s = conv->stride, d = conv->dilation, p = conv->padding;
    for (int c = 0; c < C; c++)
        for (int ki = 0; ki < conv->KH; ki++)
            for (int kj = 0; kj < conv->KW; kj++) {
                float *row = col + ((long)(c * conv->KH + ki) * conv->KW + kj) * ld;
                int offset = kj * d - p, first, end;
                columns_inside(offset, s, W, OW, &first, &end);
                if (s == 1 && OW == W) {
                    same_size_row(row, image + (long)c * H * W, H, W, ki * d - p, offset, first, end, row0, rows);
                    continue;
                }
                for (int i = row0; i < row0 + rows; i++) {
                    float *to = row + (long)(i - row0) * OW;
                    int h = i * s + ki * d - p;
                    if (h < 0 || h >= H) {
                        memset(to, 0, sizeof(float) * (size_t)OW);
                        continue;
                    }
                    const float *from = image + ((long)c * H + h) * W + offset;
                    for (int j = 0; j < first; j++) to[j] = 0.0f;
                    if (s == 1) memcpy(to + first, from + first, sizeof(float) * (size_t)(end - first));
                    else
                        for (int j = first; j < end; j++) to[j] = from[(long)j * s];
                    for (int j = end; j < OW; j++) to[j] = 0.0f;
                }
            }
}

void col2im(float *image, const float *col, long ld, int C, const Convolution *conv, int row0, int rows) {
    int H = conv->H, W = conv->W, OW = conv->OW, s = conv->stride, d = conv->dilation, p = conv->padding;
    for (int c = 0; c < C; c++)
        for (int ki = 0; ki < conv->KH; ki++)
            for (int kj = 0; kj < conv->KW; kj++) {
                const float *row = col + ((long)(c * conv->KH + ki) * conv->KW + kj) * ld;
                int offset = kj * d - p, first, end;
                columns_inside(offset, s, W, OW, &first, &end);
                for (int i = row0; i < row0 + rows; i++) {
                    int h = i * s + ki * d - p;
                    if (h < 0 || h >= H) continue;
                    const float *restrict from = row + (long)(i - row0) * OW;
                    float *restrict to = image + ((long)c * H + h) * W + offset;
                    if (s == 1)
                        for (int j = first; j < end; j++) to[j] += from[j];
                    else
                        for (int j = first; j < end; j++) to[(long)j * s] += from[j];
                }
            }
}

// ----------------------------------------------------------------------------
// the products, a piece of the batch at a time
//
// A product per image has only OH·OW columns (49 at 7×7), too few for the gemm's register
// blocks and too few to pay for packing the weight; a large image's column matrix, on the
// other hand, no longer fits in the cache (288 rows × 784 columns is 900 KB at 28×28 with 32
// channels). So the work is cut into pieces of about PIECE_FLOATS of column matrix: several
// small images side by side, col (depth, B·OH·OW), or a band of output rows of one large
// image. One product per piece and group; the pieces are split over threads.

// Measured on LeNet-5's and the ResNet's layers (groundup bench conv): 384 KB of column matrix
// per piece, with room for the packed panels in a 2 MB L2, and at least 256 columns, so that
// 7×7 images (49 columns each) do not leave half the gemm's 48-wide register blocks empty.
enum { PIECE_FLOATS = 96 * 1024, MIN_COLUMNS = 256 };
// The implicit gemm's weight gradient up to this many output channels per group; im2col's
// product beyond (measured: 1.3-1.6x faster at 16-64 channels, 1.9x slower at 256).
enum { IMPLICIT_WEIGHT_GRADIENT_MAX_OC = 64 };

// What every pass over the pieces needs to know.
typedef struct Pieces {
    int G, Cg, OCg, pointwise;  // groups; input and output channels per group; 1×1 kernel at stride 1, no padding
    long HW, OHW, depth;        // input and output plane sizes; rows of col per group (Cg·KH·KW)
    int images, band_rows;      // per piece: images side by side (then whole ones), or rows of one image
    int bands, count;           // bands per image, pieces in all
    long columns;               // the widest piece's columns
    int threads;                // threads over the pieces (1: none, the gemm uses them)
} Pieces;

// One piece: images n0..n0+b, output rows row0..row0+rows of each (all of them when b > 1).
typedef struct Piece {
    int n0, b, row0, rows;
    long columns;  // b·rows·OW
} Piece;

static Pieces pieces_of(const Convolution *c) {
    Pieces k;
    k.G = c->groups, k.Cg = c->C / c->groups, k.OCg = c->OC / c->groups;
    k.pointwise = c->KH == 1 && c->KW == 1 && c->stride == 1 && c->padding == 0;
    k.HW = (long)c->H * c->W, k.OHW = (long)c->OH * c->OW, k.depth = (long)k.Cg * c->KH * c->KW;
    int team = omp_in_parallel() ? 1 : omp_get_max_threads();
    long target = PIECE_FLOATS / k.depth;  // columns
    if (target < MIN_COLUMNS) target = MIN_COLUMNS;
    long images = (target + k.OHW - 1) / k.OHW, per_thread = (c->N + team - 1) / team;
    if (images > per_thread) images = per_thread;  // keep every thread busy
    if (images < 1) images = 1;
    k.images = (int)images;
    k.band_rows = images > 1 ? c->OH : (int)(target / c->OW < 1 ? 1 : target / c->OW < c->OH ? target / c->OW : c->OH);
    k.bands = (c->OH + k.band_rows - 1) / k.band_rows;
    k.count = (c->N + k.images - 1) / k.images * k.bands;
    k.columns = (long)k.images * k.band_rows * c->OW;
    k.threads = team < k.count ? team : k.count;
    return k;
}

static Piece piece_at(const Convolution *c, const Pieces *k, int index) {
    Piece p;
    int band = index % k->bands;
    p.n0 = index / k->bands * k->images;
    p.b = c->N - p.n0 < k->images ? c->N - p.n0 : k->images;
    p.row0 = band * k->band_rows;
    p.rows = c->OH - p.row0 < k->band_rows ? c->OH - p.row0 : k->band_rows;
    p.columns = (long)p.b * p.rows * c->OW;
    return p;
}

// Images n0..n0+b of x (N,channels,plane), channels from first on, as one matrix
// (channels, b·plane) at to (rows ld apart): the gather of a piece.
static void gather(float *to, long ld, const float *x, int channels_total, int first, int channels, long plane, int n0,
                   int b) {
    for (int i = 0; i < b; i++)
        for (int c = 0; c < channels; c++)
            memcpy(to + c * ld + i * plane, x + ((long)(n0 + i) * channels_total + first + c) * plane,
                   sizeof(float) * (size_t)plane);
}

// A piece's matrix B of the product for group g: its column matrix (depth, columns), rows *ld
// apart. A 1×1 kernel over one image is the image itself; otherwise col is filled.
static const float *piece_columns(float *col, long *ld, const float *inp, const Convolution *c, const Pieces *k, int g,
                                  const Piece *p) {
    const float *x = inp + ((long)p->n0 * c->C + (long)g * k->Cg) * k->HW;
    if (k->pointwise && p->b == 1) {
        *ld = k->HW;
        return x + (long)p->row0 * c->OW;
    }
    *ld = k->columns;
    for (int i = 0; i < p->b; i++) {
        if (k->pointwise) gather(col + i * k->OHW, k->columns, x + (long)i * c->C * k->HW, k->Cg, 0, k->Cg, k->HW, 0, 1);
        else im2col(col + i * (long)p->rows * c->OW, k->columns, x + (long)i * c->C * k->HW, k->Cg, c, p->row0, p->rows);
    }
    return col;
}

// The floats of work space forward_into (im2col) and backward_pass need: per thread a column
// matrix and a product, or two column matrices and a gathered d out; the forward's
// transposed weight; the other threads' weight gradients.
static long forward_floats(const Pieces *k, const Convolution *c) {
    return (long)c->OC * k->depth + k->threads * (k->depth * k->columns + (long)k->OCg * k->columns);
}

static long backward_floats(const Pieces *k, const Convolution *c) {
    return k->threads * (2 * k->depth * k->columns + (long)k->OCg * k->columns) + (k->threads - 1) * (long)c->OC * k->depth;
}

long conv2d_workspace_floats(const Convolution *conv) {
    Pieces k = pieces_of(conv);
    long need = forward_floats(&k, conv), backward = backward_floats(&k, conv);
    if (backward > need) need = backward;
    if (implicit_gemm_applies(conv)) {
        long forward = implicit_gemm_forward_floats(conv);
        long input = conv->stride == 1 ? implicit_gemm_input_gradient_floats(conv) : 0;
        long weight = implicit_gemm_weight_gradient_floats(conv);
        need = forward > need ? forward : need;
        need = input > need ? input : need;
        need = weight > need ? weight : need;
    }
    return need;
}

// out (N,OC,OH,OW) (+)= the convolution of inp (+ bias); the forward, and the transposed
// convolution's input gradient. fast: by the implicit gemm where it applies (stride 1), else
// (and always when fast = 0) by im2col.
static int forward_into(float *out, const float *inp, const float *weight, const float *bias, const Convolution *c,
                        int accumulate, int fast, float *work) {
    if (fast && implicit_gemm_applies(c)) {
        implicit_gemm_forward(out, inp, weight, bias, c, accumulate, work);
        return 0;
    }
    Pieces k = pieces_of(c);
    long per_thread = k.depth * k.columns + (long)k.OCg * k.columns;  // col, then the product
    float *transposed = work, *buffers = work + (long)c->OC * k.depth;
    // The gemm packs a column-major A by plain copies (a row-major one is transposed as it is
    // packed): so each group's weight is transposed once here, not once per piece there.
    for (int g = 0; g < k.G; g++)
        for (int o = 0; o < k.OCg; o++)
            for (long i = 0; i < k.depth; i++)
                transposed[((long)g * k.depth + i) * k.OCg + o] = weight[((long)g * k.OCg + o) * k.depth + i];
#pragma omp parallel for num_threads(k.threads) schedule(static) if (k.threads > 1)
    for (int index = 0; index < k.count; index++) {
        Piece p = piece_at(c, &k, index);
        float *col = buffers + omp_get_thread_num() * per_thread, *product = col + k.depth * k.columns;
        for (int g = 0; g < k.G; g++) {
            long ld;
            const float *b = piece_columns(col, &ld, inp, c, &k, g, &p);
            float *y = out + ((long)p.n0 * c->OC + (long)g * k.OCg) * k.OHW + (long)p.row0 * c->OW;
            const float *w = transposed + (long)g * k.OCg * k.depth;  // element (o, i) is w[i·OCg + o]
            if (p.b == 1) {  // straight into out, then the bias
                gemm(k.OCg, (int)p.columns, (int)k.depth, w, 1, k.OCg, b, ld, 1, y, k.OHW, accumulate);
                for (int o = 0; bias && o < k.OCg; o++)
                    for (long j = 0; j < p.columns; j++) y[o * k.OHW + j] += bias[g * k.OCg + o];
                continue;
            }
            gemm(k.OCg, (int)p.columns, (int)k.depth, w, 1, k.OCg, b, ld, 1, product, k.columns, 0);
            for (int i = 0; i < p.b; i++)
                for (int o = 0; o < k.OCg; o++) {
                    float *to = y + ((long)i * c->OC + o) * k.OHW;
                    const float *from = product + o * k.columns + i * k.OHW;
                    float add = bias ? bias[g * k.OCg + o] : 0.0f;
                    if (accumulate)
                        for (long j = 0; j < k.OHW; j++) to[j] += from[j] + add;
                    else
                        for (long j = 0; j < k.OHW; j++) to[j] = from[j] + add;
                }
        }
    }
    return 0;
}

// The input gradient of one piece and group from d col (depth, columns), rows ld apart: col2im,
// or for a 1×1 kernel a plain sum.
static void piece_input_gradient(float *d_inp, const float *d_col, long ld, const Convolution *c, const Pieces *k,
                                 int g, const Piece *p) {
    for (int i = 0; i < p->b; i++) {
        float *dx = d_inp + ((long)(p->n0 + i) * c->C + (long)g * k->Cg) * k->HW;
        if (!k->pointwise) {
            col2im(dx, d_col + i * (long)p->rows * c->OW, ld, k->Cg, c, p->row0, p->rows);
            continue;
        }
        for (int ch = 0; ch < k->Cg; ch++)
            for (long j = 0; j < k->HW; j++) dx[ch * k->HW + j] += d_col[ch * ld + i * k->OHW + j];
    }
}

// d_inp (N,C,H,W) += col2im(weightᵀ · d out) and d_weight (OC, C/groups, KH, KW) += d out · colᵀ,
// either NULL when not wanted. Each thread sums the weight gradient of its pieces into its own
// copy (the first thread into d_weight itself), the copies added at the end.
// overwrite: d_inp holds no gradient yet and is to be set (=), not added to. Whole images
// are then zeroed piece by piece just before their col2im, while they are in the cache.
static int backward_pass(float *d_inp, float *d_weight, const float *d_out, const float *inp, const float *weight,
                         const Convolution *c, int overwrite, float *work) {
    if (d_inp && implicit_gemm_applies(c) && c->stride == 1) {  // the adjoint is a convolution at stride 1
        implicit_gemm_input_gradient(d_inp, d_out, weight, c, !overwrite, work);
        d_inp = NULL;
    }
    if (d_weight && implicit_gemm_applies(c) && c->OC / c->groups <= IMPLICIT_WEIGHT_GRADIENT_MAX_OC) {
        implicit_gemm_weight_gradient(d_weight, d_out, inp, c, work);
        d_weight = NULL;
    }
    if (!d_inp && !d_weight) return 0;
    Pieces k = pieces_of(c);
    long weight_size = (long)c->OC * k.depth, per_thread = 2 * k.depth * k.columns + (long)k.OCg * k.columns;
    float *buffers = work, *partial = d_weight && k.threads > 1 ? work + k.threads * per_thread : NULL;
    if (partial) memset(partial, 0, sizeof(float) * (size_t)((k.threads - 1) * weight_size));
    int zero_pieces = d_inp && overwrite && k.bands == 1;  // else zeroed here, at once
    if (d_inp && overwrite && !zero_pieces) memset(d_inp, 0, sizeof(float) * (size_t)((long)c->N * c->C * k.HW));
#pragma omp parallel for num_threads(k.threads) schedule(static) if (k.threads > 1)
    for (int index = 0; index < k.count; index++) {
        Piece p = piece_at(c, &k, index);
        int t = omp_get_thread_num();
        float *col = buffers + t * per_thread, *d_col = col + k.depth * k.columns, *gathered = d_col + k.depth * k.columns;
        float *dw = !d_weight || t == 0 ? d_weight : partial + (t - 1) * weight_size;
        if (zero_pieces) memset(d_inp + (long)p.n0 * c->C * k.HW, 0, sizeof(float) * (size_t)((long)p.b * c->C * k.HW));
        for (int g = 0; g < k.G; g++) {
            // d out of the piece (OCg, columns), rows ld_dy apart
            const float *dy = d_out + ((long)p.n0 * c->OC + (long)g * k.OCg) * k.OHW + (long)p.row0 * c->OW;
            long ld_dy = k.OHW;
            if (p.b > 1) {
                gather(gathered, k.columns, d_out, c->OC, g * k.OCg, k.OCg, k.OHW, p.n0, p.b);
                dy = gathered, ld_dy = k.columns;
            }
            if (d_weight) {  // colᵀ (columns, depth): element (j, i) is col[i·ld + j]
                long ld;
                const float *b = piece_columns(col, &ld, inp, c, &k, g, &p);
                gemm(k.OCg, (int)k.depth, (int)p.columns, dy, ld_dy, 1, b, 1, ld, dw + (long)g * k.OCg * k.depth,
                     k.depth, 1);
            }
            if (!d_inp) continue;
            // weightᵀ (depth, OCg): element (i, o) is w[o·depth + i]
            const float *w = weight + (long)g * k.OCg * k.depth;
            if (k.pointwise && p.b == 1) {  // straight into the input's gradient
                float *dx = d_inp + ((long)p.n0 * c->C + (long)g * k.Cg) * k.HW + (long)p.row0 * c->OW;
                gemm((int)k.depth, (int)p.columns, k.OCg, w, 1, k.depth, dy, ld_dy, 1, dx, k.HW, 1);
                continue;
            }
            gemm((int)k.depth, (int)p.columns, k.OCg, w, 1, k.depth, dy, ld_dy, 1, d_col, k.columns, 0);
            piece_input_gradient(d_inp, d_col, k.columns, c, &k, g, &p);
        }
    }
    for (int t = 1; t < k.threads && partial; t++)
        for (long i = 0; i < weight_size; i++) d_weight[i] += partial[(t - 1) * weight_size + i];
    return 0;
}

void channel_sums(float *sums, const float *x, int N, int C, long L) {
    for (int c = 0; c < C; c++) {
        double sum = 0.0;
        for (int n = 0; n < N; n++) {
            const float *row = x + ((long)n * C + c) * L;
            float partial = 0.0f;
            // simd reduction: vector lanes of partial sums (plain C forbids reordering a float sum)
#pragma omp simd reduction(+ : partial)
            for (long i = 0; i < L; i++) partial += row[i];
            sum += partial;
        }
        sums[c] += (float)sum;
    }
}

// The caller's work space, or one allocated for the call (*owned, freed by the caller).
static float *work_space(float *workspace, float **owned, const Convolution *conv) {
    *owned = workspace ? NULL : malloc(sizeof(float) * (size_t)conv2d_workspace_floats(conv));
    return workspace ? workspace : *owned;
}

int conv2d_forward(float *out, const float *inp, const float *weight, const float *bias, const Convolution *conv,
                   float *workspace) {
    float *owned, *work = work_space(workspace, &owned, conv);
    int status = work ? forward_into(out, inp, weight, bias, conv, 0, 1, work) : -1;
    free(owned);
    return status;
}

int conv2d_forward_im2col(float *out, const float *inp, const float *weight, const float *bias,
                          const Convolution *conv, float *workspace) {
    float *owned, *work = work_space(workspace, &owned, conv);
    int status = work ? forward_into(out, inp, weight, bias, conv, 0, 0, work) : -1;
    free(owned);
    return status;
}

static int backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                    const float *weight, const Convolution *conv, int overwrite, float *workspace) {
    float *owned = NULL, *work = d_inp || d_weight ? work_space(workspace, &owned, conv) : NULL;
    int status = (d_inp || d_weight) && (!work || backward_pass(d_inp, d_weight, d_out, inp, weight, conv, overwrite, work))
                     ? -1 : 0;
    free(owned);
    if (!status && d_bias) channel_sums(d_bias, d_out, conv->N, conv->OC, (long)conv->OH * conv->OW);
    return status;
}

int conv2d_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                    const float *weight, const Convolution *conv, float *workspace) {
    return backward(d_inp, d_weight, d_bias, d_out, inp, weight, conv, 0, workspace);
}

int conv2d_backward_overwrite(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                              const float *weight, const Convolution *conv, float *workspace) {
    return backward(d_inp, d_weight, d_bias, d_out, inp, weight, conv, 1, workspace);
}

int conv_transpose2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                             const Convolution *conv, float *workspace) {
    long HW = (long)conv->H * conv->W;
    memset(out, 0, sizeof(float) * (size_t)((long)conv->N * conv->C * HW));
    float *owned, *work = work_space(workspace, &owned, conv);
    int status = !work || backward_pass(out, NULL, inp, NULL, weight, conv, 0, work) ? -1 : 0;
    free(owned);
    for (int n = 0; !status && bias && n < conv->N; n++)
        for (int c = 0; c < conv->C; c++) {
            float *plane = out + ((long)n * conv->C + c) * HW;
            for (long i = 0; i < HW; i++) plane[i] += bias[c];
        }
    return status;
}

int conv_transpose2d_backward(float *d_inp, float *d_weight, float *d_bias, const float *d_out, const float *inp,
                              const float *weight, const Convolution *conv, float *workspace) {
    // The transposed convolution's input plays the convolution's output gradient, and its
    // output gradient the convolution's input.
    float *owned = NULL, *work = d_inp || d_weight ? work_space(workspace, &owned, conv) : NULL;
    int status = (d_inp || d_weight) && !work ? -1 : 0;
    if (!status && d_weight && backward_pass(NULL, d_weight, inp, d_out, weight, conv, 0, work)) status = -1;
    if (!status && d_inp && forward_into(d_inp, d_out, weight, NULL, conv, 1, 1, work)) status = -1;
    free(owned);
    if (!status && d_bias) channel_sums(d_bias, d_out, conv->N, conv->C, (long)conv->H * conv->W);
    return status;
}

void conv2d_forward_reference(float *out, const float *inp, const float *weight, const float *bias,
                              const Convolution *c) {
    int Cg = c->C / c->groups, OCg = c->OC / c->groups;
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->OC; o++)
            for (int i = 0; i < c->OH; i++)
                for (int j = 0; j < c->OW; j++) {
                    double sum = bias ? bias[o] : 0.0;
                    int g = o / OCg;
                    for (int ci = 0; ci < Cg; ci++)
                        for (int ki = 0; ki < c->KH; ki++)
                            for (int kj = 0; kj < c->KW; kj++) {
                                int h = i * c->stride + ki * c->dilation - c->padding;
                                int w = j * c->stride + kj * c->dilation - c->padding;
                                if (h < 0 || h >= c->H || w < 0 || w >= c->W) continue;
                                sum += (double)weight[(((long)o * Cg + ci) * c->KH + ki) * c->KW + kj] *
                                       inp[(((long)n * c->C + g * Cg + ci) * c->H + h) * c->W + w];
                            }
                    out[(((long)n * c->OC + o) * c->OH + i) * c->OW + j] = (float)sum;
                }
}

void conv2d_forward_direct(float *out, const float *inp, const float *weight, const float *bias,
                           const Convolution *c) {
    int Cg = c->C / c->groups, OCg = c->OC / c->groups, s = c->stride;
    long OHW = (long)c->OH * c->OW;
#pragma omp parallel for schedule(static) if ((long)c->N * c->OC * OHW > 4096)
    for (long plane = 0; plane < (long)c->N * c->OC; plane++) {
        int n = (int)(plane / c->OC), o = (int)(plane % c->OC), g = o / OCg;
        float *y = out + plane * OHW;
        for (long i = 0; i < OHW; i++) y[i] = bias ? bias[o] : 0.0f;
        for (int ci = 0; ci < Cg; ci++) {
            const float *x = inp + ((long)n * c->C + (long)g * Cg + ci) * c->H * c->W;
            for (int ki = 0; ki < c->KH; ki++)
                for (int kj = 0; kj < c->KW; kj++) {
                    float w = weight[(((long)o * Cg + ci) * c->KH + ki) * c->KW + kj];
                    int offset = kj * c->dilation - c->padding, first, end;
                    columns_inside(offset, s, c->W, c->OW, &first, &end);
                    for (int i = 0; i < c->OH; i++) {
                        int h = i * s + ki * c->dilation - c->padding;
                        if (h < 0 || h >= c->H) continue;
                        const float *row = x + (long)h * c->W + offset;
                        float *to = y + (long)i * c->OW;
                        if (s == 1)
                            for (int j = first; j < end; j++) to[j] += w * row[j];
                        else
                            for (int j = first; j < end; j++) to[j] += w * row[(long)j * s];
                    }
                }
        }
    }
}
