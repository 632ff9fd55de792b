// Convolution by the implicit gemm over padded planes: see implicit_gemm.h.
#include "foundations/implicit_gemm.h"

#include <string.h>

#include <omp.h>

// The register tiles: R output channels × V vectors of LANES positions, as many accumulators
// as the vector registers allow with room for the loaded rows (32 registers of 16 floats with
// AVX-512, 16 of 8 with AVX). Two shapes: 8 × 3 vectors, and 6 × 4 for small planes (7×7
// outputs are 56 positions: one tile of 64 instead of two of 48).
#if defined(__AVX512F__)
enum { LANES = 16, WIDE_ROWS = 8, WIDE_VECTORS = 3, TALL_ROWS = 6, TALL_VECTORS = 4 };
#elif defined(__AVX__)
enum { LANES = 8, WIDE_ROWS = 4, WIDE_VECTORS = 3, TALL_ROWS = 3, TALL_VECTORS = 4 };
#else
enum { LANES = 4, WIDE_ROWS = 4, WIDE_VECTORS = 2, TALL_ROWS = 3, TALL_VECTORS = 2 };
#endif
enum { MAX_ROWS = 8, MAX_VECTORS = 4 };

typedef float Vector __attribute__((vector_size(sizeof(float) * LANES)));

enum { MAX_KERNEL = 16, MAX_STRIDE = 4 };

int implicit_gemm_applies(const Convolution *c) {
    long padded = (long)c->C * (c->H + 2 * c->padding + c->stride) * (c->W + 2 * c->padding + c->stride);
    return c->stride <= MAX_STRIDE && c->dilation == 1 && c->KH == c->KW && c->KH > 1 && c->KH <= MAX_KERNEL &&
           c->padding <= c->KH - 1 && padded < (1L << 30);
}

// How a convolution is laid out: planes, positions, the tile, the packed weight.
typedef struct Plan {
    int G, Cg, OCg;   // groups; channels per group in and out
    int rows, block;  // the tile: output channels, positions (vectors · LANES)
    int row_blocks;   // output channels / rows, rounded up
    int s;            // the stride: s² phase planes per channel
    int Wp;           // a plane's row: W + padding at stride 1 (a row's right padding is the next
                      // one's left), else (W + 2·padding)/s rounded up
    long plane;       // rows · Wp floats: (H + 2·padding) rows at stride 1, (H + 2·padding)/s rounded up else
    long channel;     // s²·plane: floats per input channel
    long positions;   // OH·Wp: the outputs with the junk columns, rounded up to the tile
    long depth;       // Cg·KH·KW: taps per output
    long image;       // floats of one image's padded group, with the reads past its end
    int threads;
} Plan;

static Plan plan_of(const Convolution *c) {
    Plan k;
    k.G = c->groups, k.Cg = c->C / c->groups, k.OCg = c->OC / c->groups;
    k.s = c->stride;
    int Hp = c->H + 2 * c->padding;
    k.Wp = k.s == 1 ? c->W + c->padding : (c->W + 2 * c->padding + k.s - 1) / k.s;
    k.plane = (long)(k.s == 1 ? Hp : (Hp + k.s - 1) / k.s) * k.Wp;
    k.channel = (long)k.s * k.s * k.plane;
    k.depth = (long)k.Cg * c->KH * c->KW;
    // the tile that computes the fewest padded products
    long q = (long)c->OH * k.Wp, wide = WIDE_VECTORS * LANES, tall = TALL_VECTORS * LANES;
    long wide_work = (long)(k.OCg + WIDE_ROWS - 1) / WIDE_ROWS * WIDE_ROWS * ((q + wide - 1) / wide * wide);
    long tall_work = (long)(k.OCg + TALL_ROWS - 1) / TALL_ROWS * TALL_ROWS * ((q + tall - 1) / tall * tall);
    k.rows = tall_work < wide_work ? TALL_ROWS : WIDE_ROWS;
    k.block = (int)(tall_work < wide_work ? tall : wide);
    k.row_blocks = (k.OCg + k.rows - 1) / k.rows;
    k.positions = (q + k.block - 1) / k.block * k.block;
    // The last tile reads up to a row, KW and block floats past the last plane (into zeros).
    k.image = ((long)k.Cg * k.channel + k.Wp + c->KW + k.block + 15) / 16 * 16;
    int team = omp_in_parallel() ? 1 : omp_get_max_threads();
    k.threads = team < c->N ? team : c->N;
    return k;
}

static long packed_floats(const Plan *k) { return (long)k->G * k->row_blocks * k->rows * k->depth; }
static long per_thread(const Plan *k) { return k->image + (long)k->row_blocks * k->rows * k->positions; }

long implicit_gemm_forward_floats(const Convolution *c) {
    Plan k = plan_of(c);
    return packed_floats(&k) + k.threads * per_thread(&k);
}

// The weight as, per group and block of rows output channels, depth rows of rows values
// (zeros past the last channel): the kernel's broadcasts read one row per tap.
static void pack_weight(float *packed, const float *weight, const Plan *k) {
    for (int g = 0; g < k->G; g++)
        for (int b = 0; b < k->row_blocks; b++) {
            float *to = packed + ((long)g * k->row_blocks + b) * k->rows * k->depth;
            for (long t = 0; t < k->depth; t++)
                for (int r = 0; r < k->rows; r++) {
                    int o = b * k->rows + r;
                    to[t * k->rows + r] = o < k->OCg ? weight[((long)g * k->OCg + o) * k->depth + t] : 0.0f;
                }
        }
}

// One image's group x (Cg,H,W) into padded planes, zeros around and after. The pixel at padded
// place (u, v) = (i + p, j + p) of channel ch goes to phase plane (u mod s, v mod s) at row u/s,
// column v/s: a tap (ki, kj) of output (i, j) reads place (s·i + ki, s·j + kj), which is
// tap_offset(ki, kj) + i·Wp + j in these planes, at any stride.
static void pad_image(float *padded, const float *x, const Convolution *c, const Plan *k) {
    int p = c->padding, W = c->W, s = k->s;
    memset(padded, 0, sizeof(float) * (size_t)k->image);
    for (int ch = 0; ch < k->Cg; ch++)
        for (int i = 0; i < c->H; i++) {
            const float *from = x + ((long)ch * c->H + i) * W;
            int u = i + p;
            float *row = padded + ch * k->channel + (long)(u % s) * s * k->plane + (long)(u / s) * k->Wp;
            if (s == 1) {
                memcpy(row + p, from, sizeof(float) * (size_t)W);
                continue;
            }
            for (int b = 0; b < s; b++) {  // the columns j with (j + p) mod s = b, to plane b
                float *to = row + (long)b * k->plane;
                int first = ((b - p) % s + s) % s, count = (W - first + s - 1) / s;
                to += (first + p) / s;
                if (s == 2)  // a constant stride, so that the loop is vectorised (the common case)
                    for (int t = 0; t < count; t++) to[t] = from[first + 2 * t];
                else
                    for (int t = 0; t < count; t++) to[t] = from[first + s * t];
            }
        }
}

// Where tap (ch, ki, kj) of output 0 reads in the padded planes.
static long tap_offset(const Plan *k, int ch, int ki, int kj) {
    return ch * k->channel + (long)((ki % k->s) * k->s + kj % k->s) * k->plane + (long)(ki / k->s) * k->Wp + kj / k->s;
}

// y (R, V·LANES), rows ld apart, = Σ over the taps of w's row of R values times the V·LANES
// padded values from the tap's offset. R and V are constants where it is inlined, so that
// the accumulators live in registers.
static inline __attribute__((always_inline)) void tile(float *y, long ld, const float *padded, const float *w,
                                                       const Convolution *c, const Plan *k, const int R,
                                                       const int V) {
    Vector sums[MAX_ROWS][MAX_VECTORS];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) sums[r][v] = (Vector){0};
    long row_offset[MAX_KERNEL], column_offset[MAX_KERNEL];  // tap_offset's parts
    for (int ki = 0; ki < c->KH; ki++) row_offset[ki] = tap_offset(k, 0, ki, 0);
    for (int kj = 0; kj < c->KW; kj++) column_offset[kj] = tap_offset(k, 0, 0, kj);
    for (int ch = 0; ch < k->Cg; ch++)
        for (int ki = 0; ki < c->KH; ki++) {
            const float *row = padded + ch * k->channel + row_offset[ki];
            for (int kj = 0; kj < c->KW; kj++, w += R) {
                Vector b[MAX_VECTORS];
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) memcpy(&b[v], row + column_offset[kj] + v * LANES, sizeof(Vector));
#pragma GCC unroll 8
                for (int r = 0; r < R; r++)
#pragma GCC unroll 4
                    for (int v = 0; v < V; v++) sums[r][v] += b[v] * w[r];
            }
        }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) memcpy(y + r * ld + v * LANES, &sums[r][v], sizeof(Vector));
}

static void wide_tile(float *y, long ld, const float *padded, const float *w, const Convolution *c, const Plan *k) {
    tile(y, ld, padded, w, c, k, WIDE_ROWS, WIDE_VECTORS);
}

static void tall_tile(float *y, long ld, const float *padded, const float *w, const Convolution *c, const Plan *k) {
    tile(y, ld, padded, w, c, k, TALL_ROWS, TALL_VECTORS);
}

// out's planes of one image's group (OCg,OH,OW) (+)= the products y (rows of positions), less the
// junk columns, plus bias.
static void store_image(float *out, const float *y, const float *bias, const Convolution *c, const Plan *k,
                        int accumulate) {
    for (int o = 0; o < k->OCg; o++) {
        float add = bias ? bias[o] : 0.0f;
        for (int i = 0; i < c->OH; i++) {
            float *to = out + ((long)o * c->OH + i) * c->OW;
            const float *from = y + (long)o * k->positions + (long)i * k->Wp;
            if (accumulate)
                for (int j = 0; j < c->OW; j++) to[j] += from[j] + add;
            else
                for (int j = 0; j < c->OW; j++) to[j] = from[j] + add;
        }
    }
}

void implicit_gemm_forward(float *out, const float *inp, const float *weight, const float *bias,
                           const Convolution *c, int accumulate, float *workspace) {
    Plan k = plan_of(c);
    float *packed = workspace, *buffers = workspace + packed_floats(&k);
    pack_weight(packed, weight, &k);
    int wide = k.rows == WIDE_ROWS;
#pragma omp parallel for num_threads(k.threads) schedule(static) if (k.threads > 1)
    for (int n = 0; n < c->N; n++) {
        float *padded = buffers + omp_get_thread_num() * per_thread(&k), *y = padded + k.image;
        for (int g = 0; g < k.G; g++) {
            pad_image(padded, inp + ((long)n * c->C + (long)g * k.Cg) * c->H * c->W, c, &k);
            for (int b = 0; b < k.row_blocks; b++) {
                const float *w = packed + ((long)g * k.row_blocks + b) * k.rows * k.depth;
                float *y_rows = y + (long)b * k.rows * k.positions;
                for (long q = 0; q < k.positions; q += k.block)
                    (wide ? wide_tile : tall_tile)(y_rows + q, k.positions, padded + q, w, c, &k);
            }
            store_image(out + ((long)n * c->OC + (long)g * k.OCg) * c->OH * c->OW, y, bias ? bias + g * k.OCg : NULL,
                        c, &k, accumulate);
        }
    }
}

// The convolution whose forward is conv's input gradient: from d out (N,OC,OH,OW) to
// (N,C,H,W), padded by KH − 1 − padding.
static Convolution adjoint_of(const Convolution *c) {
    Convolution adjoint = {c->N, c->OC, c->OH, c->OW, c->C, c->KH, c->KW, 1, c->KH - 1 - c->padding, 1, c->groups, 0, 0};
    conv2d_shape(&adjoint);
    return adjoint;
}

long implicit_gemm_input_gradient_floats(const Convolution *c) {
    Convolution adjoint = adjoint_of(c);
    return (long)c->OC * (c->C / c->groups) * c->KH * c->KW + implicit_gemm_forward_floats(&adjoint);
}

void implicit_gemm_input_gradient(float *d_inp, const float *d_out, const float *weight, const Convolution *c,
                                  int accumulate, float *workspace) {
    int G = c->groups, Cg = c->C / G, OCg = c->OC / G, taps = c->KH * c->KW;
    Convolution adjoint = adjoint_of(c);
    float *turned = workspace;
    // weight turned by 180° with its channels exchanged within each group: (C, OC/groups, KH, KW)
    for (int g = 0; g < G; g++)
        for (int o = 0; o < OCg; o++)
            for (int ci = 0; ci < Cg; ci++)
                for (int t = 0; t < taps; t++)
                    turned[(((long)g * Cg + ci) * OCg + o) * taps + taps - 1 - t] =
                        weight[(((long)g * OCg + o) * Cg + ci) * taps + t];
    implicit_gemm_forward(d_inp, d_out, turned, NULL, &adjoint, accumulate, turned + (long)c->OC * Cg * taps);
}

// ----------------------------------------------------------------------------
// the weight gradient: d weight[o][t] = Σ_n Σ_q d out[n][o][q] · padded[n][offset(t) + q], with
// d out laid out on the padded rows and transposed, positions × output channels (zeros in the
// junk columns and past the last channel). The same tile as the forward's with the roles
// turned: a vector of output channels times the broadcast padded value of each of R taps, the
// sum running over every position of every image; the tile of sums is d weight transposed.

// The tile over R taps × V vectors of output channels: one vector of channels (≤ 16) with 24
// taps, two with 12, four with 6 (AVX-512; half as many taps with AVX's 16 registers).
#if defined(__AVX512F__)
enum { GRADIENT_TAPS_1 = 24, GRADIENT_TAPS_2 = 12, GRADIENT_TAPS_4 = 6 };
#elif defined(__AVX__)
enum { GRADIENT_TAPS_1 = 12, GRADIENT_TAPS_2 = 6, GRADIENT_TAPS_4 = 3 };
#else
enum { GRADIENT_TAPS_1 = 6, GRADIENT_TAPS_2 = 3, GRADIENT_TAPS_4 = 2 };
#endif
enum { MAX_GRADIENT_TAPS = 24, CHUNK_POSITIONS = 2048 };

typedef struct GradientPlan {
    int vectors, taps;  // the tile
    int channels;       // output channels per tile (vectors · LANES)
    int padded_oc;      // OCg rounded up to channels
    long positions;     // OH·Wp
    int chunk;          // images per pass over the tiles (about CHUNK_POSITIONS positions, for the caches)
    long per_thread;    // floats of work space per thread
} GradientPlan;

static GradientPlan gradient_plan_of(const Convolution *c, const Plan *k) {
    GradientPlan p;
    int vectors = (k->OCg + LANES - 1) / LANES;
    p.vectors = vectors <= 1 ? 1 : vectors == 2 ? 2 : 4;
    p.taps = p.vectors == 1 ? GRADIENT_TAPS_1 : p.vectors == 2 ? GRADIENT_TAPS_2 : GRADIENT_TAPS_4;
    p.channels = p.vectors * LANES;
    p.padded_oc = (k->OCg + p.channels - 1) / p.channels * p.channels;
    p.positions = (long)c->OH * k->Wp;
    long per_thread = (c->N + k->threads - 1) / k->threads, chunk = (CHUNK_POSITIONS + p.positions - 1) / p.positions;
    p.chunk = (int)(chunk < per_thread ? chunk : per_thread);
    if (p.chunk < 1) p.chunk = 1;
    p.per_thread = p.chunk * (k->image + p.positions * p.padded_oc) + k->depth * p.padded_oc;
    return p;
}

long implicit_gemm_weight_gradient_floats(const Convolution *c) {
    Plan k = plan_of(c);
    GradientPlan p = gradient_plan_of(c, &k);
    return k.threads * p.per_thread;
}

// d out of one image's group (OCg,OH,OW) as (positions, padded_oc): to[q][o] = d out[o][i][j]
// at q = i·Wp + j, zeros in the junk columns and past OCg.
static void transpose_gradient(float *to, const float *d_out, const Convolution *c, const Plan *k,
                               const GradientPlan *p) {
    memset(to, 0, sizeof(float) * (size_t)(p->positions * p->padded_oc));
    for (int o = 0; o < k->OCg; o++)
        for (int i = 0; i < c->OH; i++) {
            const float *from = d_out + ((long)o * c->OH + i) * c->OW;
            float *row = to + (long)i * k->Wp * p->padded_oc + o;
            for (int j = 0; j < c->OW; j++) row[(long)j * p->padded_oc] = from[j];
        }
}

// sums_out (R taps × V·LANES channels, rows ld apart) += Σ over the images and positions of the
// padded value at each tap's offset times the row of d out's channels there. R and V are
// constants where it is inlined.
static inline __attribute__((always_inline)) void gradient_tile(float *sums_out, long ld, const float *g, long g_image,
                                                                long ld_g, const float *padded, long image,
                                                                const long *offsets, int images, long positions,
                                                                const int R, const int V) {
    Vector sums[MAX_GRADIENT_TAPS][MAX_VECTORS];
#pragma GCC unroll 24
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) sums[r][v] = (Vector){0};
    for (int n = 0; n < images; n++) {
        const float *x = padded + n * image, *row = g + n * g_image;
        for (long q = 0; q < positions; q++, row += ld_g) {
            Vector d[MAX_VECTORS];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) memcpy(&d[v], row + v * LANES, sizeof(Vector));
#pragma GCC unroll 24
            for (int r = 0; r < R; r++) {
                float a = x[offsets[r] + q];
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) sums[r][v] += d[v] * a;
            }
        }
    }
    // added to the sums so far: a chunk's sum on its own first (rounding grows with the count)
#pragma GCC unroll 24
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            Vector before;
            memcpy(&before, sums_out + r * ld + v * LANES, sizeof(Vector));
            before += sums[r][v];
            memcpy(sums_out + r * ld + v * LANES, &before, sizeof(Vector));
        }
}

static void gradient_tile_1(float *s, long ld, const float *g, long g_image, long ld_g, const float *x, long image,
                            const long *offsets, int images, long positions) {
    gradient_tile(s, ld, g, g_image, ld_g, x, image, offsets, images, positions, GRADIENT_TAPS_1, 1);
}
static void gradient_tile_2(float *s, long ld, const float *g, long g_image, long ld_g, const float *x, long image,
                            const long *offsets, int images, long positions) {
    gradient_tile(s, ld, g, g_image, ld_g, x, image, offsets, images, positions, GRADIENT_TAPS_2, 2);
}
static void gradient_tile_4(float *s, long ld, const float *g, long g_image, long ld_g, const float *x, long image,
                            const long *offsets, int images, long positions) {
    gradient_tile(s, ld, g, g_image, ld_g, x, image, offsets, images, positions, GRADIENT_TAPS_4, 4);
}

// Images n0..n0+b of group g into sums (depth, padded_oc), d weight transposed: pad them,
// transpose d out, run the tiles. Taps past the last are read at the last one's offset into
// rows of sums that exist only in the work space's slack (dropped).
static void gradient_chunk(float *sums, const float *d_out, const float *inp, const Convolution *c, const Plan *k,
                           const GradientPlan *p, int g, int n0, int b, float *buffer) {
    long g_image = p->positions * p->padded_oc;
    float *padded = buffer, *g_rows = buffer + (long)b * k->image;
    for (int i = 0; i < b; i++) {
        pad_image(padded + i * k->image, inp + ((long)(n0 + i) * c->C + (long)g * k->Cg) * c->H * c->W, c, k);
        transpose_gradient(g_rows + i * g_image, d_out + ((long)(n0 + i) * c->OC + (long)g * k->OCg) * c->OH * c->OW,
                           c, k, p);
    }
    void (*run)(float *, long, const float *, long, long, const float *, long, const long *, int, long) =
        p->vectors == 1 ? gradient_tile_1 : p->vectors == 2 ? gradient_tile_2 : gradient_tile_4;
    int taps_per_channel = c->KH * c->KW;
    float dropped[MAX_GRADIENT_TAPS * MAX_VECTORS * LANES];
    for (long t = 0; t < k->depth; t += p->taps) {
        long offsets[MAX_GRADIENT_TAPS];
        int taps = k->depth - t < p->taps ? (int)(k->depth - t) : p->taps;
        for (int r = 0; r < p->taps; r++) {
            long tap = t + (r < taps ? r : taps - 1);
            int ch = (int)(tap / taps_per_channel), ki = (int)(tap % taps_per_channel) / c->KW, kj = (int)(tap % c->KW);
            offsets[r] = tap_offset(k, ch, ki, kj);
        }
        for (int o = 0; o < p->padded_oc; o += p->channels) {
            if (taps == p->taps) {
                run(sums + t * p->padded_oc + o, p->padded_oc, g_rows + o, g_image, p->padded_oc, padded, k->image,
                    offsets, b, p->positions);
                continue;
            }
            // the last taps: through a full tile on the side
            memset(dropped, 0, sizeof dropped);
            for (int r = 0; r < taps; r++)
                memcpy(dropped + r * p->channels, sums + (t + r) * p->padded_oc + o, sizeof(float) * (size_t)p->channels);
            run(dropped, p->channels, g_rows + o, g_image, p->padded_oc, padded, k->image, offsets, b, p->positions);
            for (int r = 0; r < taps; r++)
                memcpy(sums + (t + r) * p->padded_oc + o, dropped + r * p->channels, sizeof(float) * (size_t)p->channels);
        }
    }
}

void implicit_gemm_weight_gradient(float *d_weight, const float *d_out, const float *inp, const Convolution *c,
                                   float *workspace) {
    Plan k = plan_of(c);
    GradientPlan p = gradient_plan_of(c, &k);
    int chunks = (c->N + p.chunk - 1) / p.chunk, threads = k.threads < chunks ? k.threads : chunks;
    long sums_floats = k.depth * p.padded_oc;
    for (int g = 0; g < k.G; g++) {
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
            float *buffer = workspace + omp_get_thread_num() * p.per_thread, *sums = buffer + p.per_thread - sums_floats;
            memset(sums, 0, sizeof(float) * (size_t)sums_floats);
#pragma omp for schedule(static)
            for (int index = 0; index < chunks; index++) {
                int n0 = index * p.chunk, b = c->N - n0 < p.chunk ? c->N - n0 : p.chunk;
                gradient_chunk(sums, d_out, inp, c, &k, &p, g, n0, b, buffer);
            }
        }
        // d weight (OCg, depth) of the group += the threads' sums, transposed back, in thread order
        float *dw = d_weight + (long)g * k.OCg * k.depth;
        for (int t = 0; t < threads; t++) {
            const float *sums = workspace + (t + 1) * p.per_thread - sums_floats;
            for (int o = 0; o < k.OCg; o++)
                for (long tap = 0; tap < k.depth; tap++) dw[o * k.depth + tap] += sums[tap * p.padded_oc + o];
        }
    }
}
