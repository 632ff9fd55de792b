// Winograd's F(2×2, 3×3) convolution: see winograd.h.
//
// The work is cut as convolution.c cuts it: pieces of the batch (several small images, or a
// band of tile rows of a large one) split over threads, each piece transformed into 16
// matrices V (C/groups × tiles), multiplied by the 16 transformed weights U (OC/groups ×
// C/groups) into 16 matrices M (OC/groups × tiles), and M transformed back into the output.
#include "foundations/winograd.h"

#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "foundations/matmul.h"

enum { WINOGRAD_MIN_CHANNELS = 8 };  // below this the 16 products are too thin to pay for the transforms

int winograd_applies(const Convolution *c) {
    int Cg = c->C / c->groups, OCg = c->OC / c->groups;
    return c->KH == 3 && c->KW == 3 && c->stride == 1 && c->dilation == 1 && c->padding <= 2 &&
           Cg >= WINOGRAD_MIN_CHANNELS && OCg >= WINOGRAD_MIN_CHANNELS;
}

// ----------------------------------------------------------------------------
// the transforms

// U = G g Gᵀ for every (output, input) channel pair of every group, stored per group as 16
// column-major matrices (OCg × Cg): U[((g·16 + ξ)·Cg + c)·OCg + o]. Column-major, because the
// gemm packs such an A by plain copies.
static void transform_weight(float *U, const float *weight, int G, int Cg, int OCg) {
    for (int g = 0; g < G; g++)
        for (int c = 0; c < Cg; c++)  // o innermost: the 16 stores of a pair go to 16 rows written in order
            for (int o = 0; o < OCg; o++) {
                const float *w = weight + (((long)g * OCg + o) * Cg + c) * 9;
                float t[4][3], u[4][4];
                for (int j = 0; j < 3; j++) {  // G g: rows
                    t[0][j] = w[j];
                    t[1][j] = 0.5f * (w[j] + w[3 + j] + w[6 + j]);
                    t[2][j] = 0.5f * (w[j] - w[3 + j] + w[6 + j]);
                    t[3][j] = w[6 + j];
                }
                for (int a = 0; a < 4; a++) {  // (G g) Gᵀ: columns
                    u[a][0] = t[a][0];
                    u[a][1] = 0.5f * (t[a][0] + t[a][1] + t[a][2]);
                    u[a][2] = 0.5f * (t[a][0] - t[a][1] + t[a][2]);
                    u[a][3] = t[a][2];
                }
                for (int xi = 0; xi < 16; xi++) U[(((long)g * 16 + xi) * Cg + c) * OCg + o] = u[xi / 4][xi % 4];
            }
}

// How a convolution is cut: tiles, pieces, threads.
typedef struct Plan {
    int G, Cg, OCg;
    int TH, TW;             // tile rows and columns per image (2×2 outputs each)
    int images, band_rows;  // per piece: several whole images, or band_rows tile rows of one
    int bands, count, threads;
    long P;                 // the widest piece's tiles: the products' columns
    int row_width;          // floats of one padded input row of a tile row, 2·TW + 2
} Plan;

// V and M of a piece: about 1 MB each at most (1 << 16 and 1 << 15 were slower at 28×28 with
// 32 channels, 1 << 17 no different: measured with groundup bench conv's layers).
enum { PIECE_FLOATS = 1 << 18 };

static Plan plan_of(const Convolution *c) {
    Plan k;
    k.G = c->groups, k.Cg = c->C / c->groups, k.OCg = c->OC / c->groups;
    k.TH = (c->OH + 1) / 2, k.TW = (c->OW + 1) / 2;
    long T = (long)k.TH * k.TW, target = PIECE_FLOATS / (16L * (k.Cg > k.OCg ? k.Cg : k.OCg));
    if (target < 96) target = 96;  // two of the widest register block
    int team = omp_in_parallel() ? 1 : omp_get_max_threads();
    long images = (target + T - 1) / T, per_thread = (c->N + team - 1) / team;
    if (images > per_thread) images = per_thread;
    k.images = images < 1 ? 1 : (int)images;
    long rows = target / k.TW < 1 ? 1 : target / k.TW;
    k.band_rows = k.images > 1 || rows > k.TH ? k.TH : (int)rows;
    k.bands = (k.TH + k.band_rows - 1) / k.band_rows;
    k.count = (c->N + k.images - 1) / k.images * k.bands;
    k.P = (long)k.images * k.band_rows * k.TW;
    k.threads = team < k.count ? team : k.count;
    k.row_width = 2 * k.TW + 2;
    return k;
}

// V[ξ][c][q] = (Bᵀ d B)[ξ] for the tiles of tile rows ty0..ty0+rows of one image's group
// (x: its Cg planes), q counted from q0; rows of V are ld apart, its 16 matrices Cg·ld apart.
// buffer: 8 padded rows of plan->row_width floats.
static void transform_input(float *V, long ld, long q0, const float *x, const Convolution *c, const Plan *k, int ty0,
                            int rows, float *buffer) {
    int H = c->H, W = c->W, p = c->padding, width = k->row_width;
    float *d[4] = {buffer, buffer + width, buffer + 2 * width, buffer + 3 * width};
    float *t[4] = {buffer + 4 * width, buffer + 5 * width, buffer + 6 * width, buffer + 7 * width};
    for (int ch = 0; ch < k->Cg; ch++) {
        const float *plane = x + (long)ch * H * W;
        for (int ty = ty0; ty < ty0 + rows; ty++) {
            for (int r = 0; r < 4; r++) {  // the four input rows, columns −p .. 2·TW + 2 − p, zero outside
                int h = 2 * ty - p + r, count = W < width - p ? W : width - p;
                memset(d[r], 0, sizeof(float) * (size_t)width);
                if (h >= 0 && h < H) memcpy(d[r] + p, plane + (long)h * W, sizeof(float) * (size_t)count);
            }
#pragma omp simd
            for (int w = 0; w < width; w++) {  // Bᵀ d: combinations of rows
                t[0][w] = d[0][w] - d[2][w];
                t[1][w] = d[1][w] + d[2][w];
                t[2][w] = d[2][w] - d[1][w];
                t[3][w] = d[1][w] - d[3][w];
            }
            float *v = V + (long)ch * ld + q0 + (long)(ty - ty0) * k->TW;
            long matrix = (long)k->Cg * ld;
            for (int a = 0; a < 4; a++) {  // (Bᵀ d) B: combinations of columns, tile by tile
                const float *restrict row = t[a];
                float *restrict v0 = v + (4 * a) * matrix, *restrict v1 = v0 + matrix, *restrict v2 = v1 + matrix;
                float *restrict v3 = v2 + matrix;
#pragma omp simd
                for (int tx = 0; tx < k->TW; tx++) {
                    const float *e = row + 2 * tx;
                    v0[tx] = e[0] - e[2];
                    v1[tx] = e[1] + e[2];
                    v2[tx] = e[2] - e[1];
                    v3[tx] = e[1] - e[3];
                }
            }
        }
    }
}

// out's rows of tile rows ty0..ty0+rows of one image's group (y: its OCg planes) (+)= Aᵀ m A,
// m from the 16 matrices M (OCg × tiles, rows ld apart, Cg... OCg·ld apart), plus bias.
// buffer: 2 rows of 2·TW floats.
static void transform_output(float *y, const float *M, long ld, long q0, const float *bias, const Convolution *c,
                             const Plan *k, int ty0, int rows, int accumulate, float *buffer) {
    int OH = c->OH, OW = c->OW;
    long matrix = (long)k->OCg * ld;
    float *restrict top = buffer, *restrict bottom = buffer + 2 * k->TW;
    for (int o = 0; o < k->OCg; o++) {
        float add = bias ? bias[o] : 0.0f;
        for (int ty = ty0; ty < ty0 + rows; ty++) {
            const float *restrict m = M + (long)o * ld + q0 + (long)(ty - ty0) * k->TW;
#pragma omp simd
            for (int tx = 0; tx < k->TW; tx++) {
                float s0[4], s1[4];
                for (int l = 0; l < 4; l++) {  // Aᵀ m: combinations of rows
                    float m0 = m[(0 * 4 + l) * matrix + tx], m1 = m[(1 * 4 + l) * matrix + tx];
                    float m2 = m[(2 * 4 + l) * matrix + tx], m3 = m[(3 * 4 + l) * matrix + tx];
                    s0[l] = m0 + m1 + m2;
                    s1[l] = m1 - m2 - m3;
                }
                top[2 * tx] = s0[0] + s0[1] + s0[2] + add;  // (Aᵀ m) A: of columns
                top[2 * tx + 1] = s0[1] - s0[2] - s0[3] + add;
                bottom[2 * tx] = s1[0] + s1[1] + s1[2] + add;
                bottom[2 * tx + 1] = s1[1] - s1[2] - s1[3] + add;
            }
            for (int r = 0; r < 2 && 2 * ty + r < OH; r++) {
                float *to = y + ((long)o * OH + 2 * ty + r) * OW;
                const float *from = r ? bottom : top;
                if (accumulate)
                    for (int j = 0; j < OW; j++) to[j] += from[j];
                else
                    memcpy(to, from, sizeof(float) * (size_t)OW);
            }
        }
    }
}

// ----------------------------------------------------------------------------
// the convolution

long winograd_forward_floats(const Convolution *c) {
    Plan k = plan_of(c);
    long per_thread = 16L * k.Cg * k.P + 16L * k.OCg * k.P + 8L * k.row_width;
    return 16L * c->OC * k.Cg + k.threads * per_thread;
}

int winograd_forward(float *out, const float *inp, const float *weight, const float *bias, const Convolution *c,
                     int accumulate, float *workspace) {
    Plan k = plan_of(c);
    long V_floats = 16L * k.Cg * k.P, M_floats = 16L * k.OCg * k.P;
    long per_thread = V_floats + M_floats + 8L * k.row_width;
    float *owned = workspace ? NULL : malloc(sizeof(float) * (size_t)winograd_forward_floats(c));
    float *U = workspace ? workspace : owned;
    if (!U) return -1;
    float *buffers = U + 16L * c->OC * k.Cg;
    transform_weight(U, weight, k.G, k.Cg, k.OCg);
#pragma omp parallel for num_threads(k.threads) schedule(static) if (k.threads > 1)
    for (int index = 0; index < k.count; index++) {
        int n0 = index / k.bands * k.images, b = c->N - n0 < k.images ? c->N - n0 : k.images;
        int ty0 = index % k.bands * k.band_rows, rows = k.TH - ty0 < k.band_rows ? k.TH - ty0 : k.band_rows;
        long tiles = (long)b * rows * k.TW;
        float *V = buffers + omp_get_thread_num() * per_thread, *M = V + V_floats, *buffer = M + M_floats;
        for (int g = 0; g < k.G; g++) {
            for (int i = 0; i < b; i++)
                transform_input(V, k.P, (long)i * rows * k.TW, inp + ((long)(n0 + i) * c->C + (long)g * k.Cg) * c->H * c->W,
                                c, &k, ty0, rows, buffer);
            for (int xi = 0; xi < 16; xi++)  // M[ξ] (OCg × tiles) = U[ξ] (OCg × Cg) · V[ξ] (Cg × tiles)
                gemm(k.OCg, (int)tiles, k.Cg, U + ((long)g * 16 + xi) * k.Cg * k.OCg, 1, k.OCg,
                     V + xi * (long)k.Cg * k.P, k.P, 1, M + xi * (long)k.OCg * k.P, k.P, 0);
            for (int i = 0; i < b; i++)
                transform_output(out + ((long)(n0 + i) * c->OC + (long)g * k.OCg) * c->OH * c->OW, M, k.P,
                                 (long)i * rows * k.TW, bias ? bias + g * k.OCg : NULL, c, &k, ty0, rows, accumulate,
                                 buffer);
        }
    }
    free(owned);
    return 0;
}

// The convolution whose forward is conv's input gradient: from d out (N,OC,OH,OW) to (N,C,H,W),
// padded by 2 − padding.
static Convolution adjoint_of(const Convolution *c) {
    Convolution adjoint = {c->N, c->OC, c->OH, c->OW, c->C, 3, 3, 1, 2 - c->padding, 1, c->groups, 0, 0};
    if (conv2d_shape(&adjoint) || adjoint.OH != c->H || adjoint.OW != c->W) adjoint.N = 0;  // none
    return adjoint;
}

long winograd_input_gradient_floats(const Convolution *c) {
    Convolution adjoint = adjoint_of(c);
    return (long)c->OC * (c->C / c->groups) * 9 + (adjoint.N ? winograd_forward_floats(&adjoint) : 0);
}

int winograd_input_gradient(float *d_inp, const float *d_out, const float *weight, const Convolution *c,
                            float *workspace) {
    int G = c->groups, Cg = c->C / G, OCg = c->OC / G;
    Convolution adjoint = adjoint_of(c);
    if (!adjoint.N) return -1;
    float *owned = workspace ? NULL : malloc(sizeof(float) * (size_t)winograd_input_gradient_floats(c));
    float *turned = workspace ? workspace : owned;
    if (!turned) return -1;
    // weight turned by 180° with its channels exchanged within each group: (C, OC/groups, 3, 3)
    for (int g = 0; g < G; g++)
        for (int o = 0; o < OCg; o++)
            for (int ci = 0; ci < Cg; ci++)
                for (int tap = 0; tap < 9; tap++)
                    turned[(((long)g * Cg + ci) * OCg + o) * 9 + 8 - tap] = weight[(((long)g * OCg + o) * Cg + ci) * 9 + tap];
    int status = winograd_forward(d_inp, d_out, turned, NULL, &adjoint, 1, turned + (long)c->OC * Cg * 9);
    free(owned);
    return status;
}
