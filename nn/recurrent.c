// GRU and LSTM cells: the fused gate operations with their backward, and the modules. See recurrent.h.
#include "nn/recurrent.h"

#include <math.h>
#include <string.h>

#include "foundations/fastmath.h"
#include "nn/init.h"
#include "nn/op_common.h"
#include "nn/ops.h"

// The vectorisable exp and tanh of foundations/fastmath.h (within 3e-7 of libm's).
static inline float sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// Records a gate operation whose out is a (B,H) state (sizes = {B, H} for its backward); returns out.
static Tensor *record_state(Tape *tape, const char *op, BackwardFunction backward, Tensor *out, Tensor *const *in,
                            int n_in) {
    Node *node = tape_record(tape, op, backward, out, in, n_in);
    if (node) node->sizes[0] = out->shape[0], node->sizes[1] = out->shape[1];
    return out;
}

// x is (B, width·H) for a (B,H) state h: the gates' shape check shared by the operations.
static int gates_match(const Tensor *gates, int width, const Tensor *h) {
    return gates->n_dims == 2 && h->n_dims == 2 && gates->shape[0] == h->shape[0] &&
           gates->shape[1] == width * h->shape[1];
}

// ----------------------------------------------------------------------------
// GRU: h' = (1 − z) n + z h, with r, z, n of recurrent.h; sizes = {B, H}.
// The backward recomputes r, z, n from the inputs (cheaper than keeping them):
//   dn = g (1 − z), dz = g (h − n), dh = g z
//   d a_n = dn (1 − n²): into gi_n, and r ⊙ d a_n into gh_n; dr = d a_n ⊙ gh_n
//   d a_r = dr r (1 − r), d a_z = dz z (1 − z): into both gi and gh.

static void gru_gates_backward_node(Tape *tape, Node *node) {
    Tensor *gi = node->in[0], *gh = node->in[1], *h = node->in[2];
    long B = node->sizes[0], H = node->sizes[1];
    float *d_gi = input_grad(tape, gi), *d_gh = input_grad(tape, gh), *d_h = input_grad(tape, h);
    const float *g = node->out->grad;
    for (long b = 0; b < B; b++) {
        const float *xi = gi->data + b * 3 * H, *xh = gh->data + b * 3 * H, *hb = h->data + b * H, *gb = g + b * H;
        for (long j = 0; j < H; j++) {
            float r = sigmoid(xi[j] + xh[j]), z = sigmoid(xi[H + j] + xh[H + j]);
            float n = fast_tanh(xi[2 * H + j] + r * xh[2 * H + j]);
            float da_n = gb[j] * (1.0f - z) * (1.0f - n * n);
            float da_r = da_n * xh[2 * H + j] * r * (1.0f - r);
            float da_z = gb[j] * (hb[j] - n) * z * (1.0f - z);
            if (d_gi) {
                float *d = d_gi + b * 3 * H;
                d[j] += da_r, d[H + j] += da_z, d[2 * H + j] += da_n;
            }
            if (d_gh) {
                float *d = d_gh + b * 3 * H;
                d[j] += da_r, d[H + j] += da_z, d[2 * H + j] += da_n * r;
            }
            if (d_h) d_h[b * H + j] += gb[j] * z;
        }
    }
}

Tensor *nn_gru_gates(Tape *tape, Tensor *gi, Tensor *gh, Tensor *h) {
    if (!gi || !gh || !h) return NULL;
    if (!gates_match(gi, 3, h) || !tensor_same_shape(gi, gh))
        return tape_fail(tape, "gru: gates %s and %s do not fit the state %s (want (B,3H), (B,3H), (B,H))",
                         shape_text(gi).text, shape_text(gh).text, shape_text(h).text);
    long B = h->shape[0], H = h->shape[1];
    Tensor *out = tensor_new(tape, 2, h->shape);
    if (!out) return NULL;
    for (long b = 0; b < B; b++) {
        const float *xi = gi->data + b * 3 * H, *xh = gh->data + b * 3 * H, *hb = h->data + b * H;
        for (long j = 0; j < H; j++) {
            float r = sigmoid(xi[j] + xh[j]), z = sigmoid(xi[H + j] + xh[H + j]);
            float n = fast_tanh(xi[2 * H + j] + r * xh[2 * H + j]);
            out->data[b * H + j] = n + z * (hb[j] - n);
        }
    }
    Tensor *in[3] = {gi, gh, h};
    return record_state(tape, "gru_gates", gru_gates_backward_node, out, in, 3);
}

// ----------------------------------------------------------------------------
// LSTM cell state: c' = σ(a_f) c + σ(a_i) tanh(a_g); sizes = {B, H}.
//   dc = g σ(a_f), d a_f = g c σ'(a_f), d a_i = g tanh(a_g) σ'(a_i), d a_g = g σ(a_i) (1 − tanh²(a_g))

static void lstm_cell_state_backward_node(Tape *tape, Node *node) {
    Tensor *gates = node->in[0], *c = node->in[1];
    long B = node->sizes[0], H = node->sizes[1];
    float *d_gates = input_grad(tape, gates), *d_c = input_grad(tape, c);
    const float *g = node->out->grad;
    for (long b = 0; b < B; b++) {
        const float *a = gates->data + b * 4 * H, *cb = c->data + b * H, *gb = g + b * H;
        for (long j = 0; j < H; j++) {
            float i = sigmoid(a[j]), f = sigmoid(a[H + j]), t = fast_tanh(a[2 * H + j]);
            if (d_gates) {
                float *d = d_gates + b * 4 * H;
                d[j] += gb[j] * t * i * (1.0f - i);
                d[H + j] += gb[j] * cb[j] * f * (1.0f - f);
                d[2 * H + j] += gb[j] * i * (1.0f - t * t);
            }
            if (d_c) d_c[b * H + j] += gb[j] * f;
        }
    }
}

Tensor *nn_lstm_cell_state(Tape *tape, Tensor *gates, Tensor *c) {
    if (!gates || !c) return NULL;
    if (!gates_match(gates, 4, c))
        return tape_fail(tape, "lstm: gates %s do not fit the cell state %s (want (B,4H), (B,H))",
                         shape_text(gates).text, shape_text(c).text);
    long B = c->shape[0], H = c->shape[1];
    Tensor *out = tensor_new(tape, 2, c->shape);
    if (!out) return NULL;
    for (long b = 0; b < B; b++) {
        const float *a = gates->data + b * 4 * H, *cb = c->data + b * H;
        for (long j = 0; j < H; j++)
            out->data[b * H + j] = sigmoid(a[H + j]) * cb[j] + sigmoid(a[j]) * fast_tanh(a[2 * H + j]);
    }
    Tensor *in[2] = {gates, c};
    return record_state(tape, "lstm_cell_state", lstm_cell_state_backward_node, out, in, 2);
}

// ----------------------------------------------------------------------------
// LSTM hidden state: h' = σ(a_o) tanh(c'); sizes = {B, H}.
//   d a_o = g tanh(c') σ'(a_o), dc' = g σ(a_o) (1 − tanh²(c'))

static void lstm_hidden_backward_node(Tape *tape, Node *node) {
    Tensor *gates = node->in[0], *c = node->in[1];
    long B = node->sizes[0], H = node->sizes[1];
    float *d_gates = input_grad(tape, gates), *d_c = input_grad(tape, c);
    const float *g = node->out->grad;
    for (long b = 0; b < B; b++) {
        const float *a = gates->data + b * 4 * H, *cb = c->data + b * H, *gb = g + b * H;
        for (long j = 0; j < H; j++) {
            float o = sigmoid(a[3 * H + j]), t = fast_tanh(cb[j]);
            if (d_gates) d_gates[b * 4 * H + 3 * H + j] += gb[j] * t * o * (1.0f - o);
            if (d_c) d_c[b * H + j] += gb[j] * o * (1.0f - t * t);
        }
    }
}

Tensor *nn_lstm_hidden(Tape *tape, Tensor *gates, Tensor *c_next) {
    if (!gates || !c_next) return NULL;
    if (!gates_match(gates, 4, c_next))
        return tape_fail(tape, "lstm: gates %s do not fit the cell state %s (want (B,4H), (B,H))",
                         shape_text(gates).text, shape_text(c_next).text);
    long B = c_next->shape[0], H = c_next->shape[1];
    Tensor *out = tensor_new(tape, 2, c_next->shape);
    if (!out) return NULL;
    for (long b = 0; b < B; b++) {
        const float *a = gates->data + b * 4 * H, *cb = c_next->data + b * H;
        for (long j = 0; j < H; j++) out->data[b * H + j] = sigmoid(a[3 * H + j]) * fast_tanh(cb[j]);
    }
    Tensor *in[2] = {gates, c_next};
    return record_state(tape, "lstm_hidden", lstm_hidden_backward_node, out, in, 2);
}

// ----------------------------------------------------------------------------
// modules

// A cell with `gates` gates: its four tensors, each uniform in ±1/√H (PyTorch's reset_parameters).
static int cell_init(RecurrentCell *cell, Parameters *params, const char *name, const char *kind, int gates,
                     int input_size, int hidden_size, Random *rng, Error *error) {
    memset(cell, 0, sizeof *cell);
    if (input_size < 1 || hidden_size < 1)
        return error_set(error, "%s: %s(%d, %d) needs positive sizes", name, kind, input_size, hidden_size);
    static const char *names[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    Tensor **weights[4] = {&cell->weight_ih, &cell->weight_hh, &cell->bias_ih, &cell->bias_hh};
    int shapes[4][2] = {{gates * hidden_size, input_size}, {gates * hidden_size, hidden_size}, {gates * hidden_size, 0},
                        {gates * hidden_size, 0}};
    float bound = 1.0f / sqrtf((float)hidden_size);
    for (int k = 0; k < 4; k++) {
        *weights[k] = parameters_add(params, name, names[k], k < 2 ? 2 : 1, shapes[k], 0, error);
        if (!*weights[k]) return -1;
        init_uniform(*weights[k], -bound, bound, rng);
    }
    cell->input_size = input_size, cell->hidden_size = hidden_size;
    return 0;
}

int gru_cell_init(GRUCell *cell, Parameters *params, const char *name, int input_size, int hidden_size, Random *rng,
                  Error *error) {
    return cell_init(cell, params, name, "GRUCell", 3, input_size, hidden_size, rng, error);
}

int lstm_cell_init(LSTMCell *cell, Parameters *params, const char *name, int input_size, int hidden_size, Random *rng,
                   Error *error) {
    return cell_init(cell, params, name, "LSTMCell", 4, input_size, hidden_size, rng, error);
}

// x (B,in) and h (B,H) of one batch, or a failure naming the cell's sizes.
static int cell_inputs_fit(Tape *tape, const char *kind, int input_size, int hidden_size, const Tensor *x,
                           const Tensor *h) {
    if (x->n_dims == 2 && h->n_dims == 2 && x->shape[0] == h->shape[0] && x->shape[1] == input_size &&
        h->shape[1] == hidden_size)
        return 1;
    tape_fail(tape, "%s(%d, %d): input %s and state %s (want (B,%d) and (B,%d))", kind, input_size, hidden_size,
              shape_text(x).text, shape_text(h).text, input_size, hidden_size);
    return 0;
}

Tensor *gru_cell_apply(Tape *tape, const GRUCell *cell, Tensor *x, Tensor *h) {
    if (!x || !h) return NULL;
    if (!cell_inputs_fit(tape, "GRUCell", cell->input_size, cell->hidden_size, x, h)) return NULL;
    Tensor *gi = nn_linear(tape, x, cell->weight_ih, cell->bias_ih);
    Tensor *gh = nn_linear(tape, h, cell->weight_hh, cell->bias_hh);
    return nn_gru_gates(tape, gi, gh, h);
}

LSTMState lstm_cell_apply(Tape *tape, const LSTMCell *cell, Tensor *x, LSTMState state) {
    LSTMState next = {NULL, NULL};
    if (!x || !state.h || !state.c) return next;
    if (!cell_inputs_fit(tape, "LSTMCell", cell->input_size, cell->hidden_size, x, state.h)) return next;
    if (!tensor_same_shape(state.h, state.c)) {
        tape_fail(tape, "LSTMCell: hidden state %s and cell state %s differ", shape_text(state.h).text,
                  shape_text(state.c).text);
        return next;
    }
    Tensor *gates = nn_add(tape, nn_linear(tape, x, cell->weight_ih, cell->bias_ih),
                           nn_linear(tape, state.h, cell->weight_hh, cell->bias_hh));
    next.c = nn_lstm_cell_state(tape, gates, state.c);
    next.h = nn_lstm_hidden(tape, gates, next.c);
    if (!next.h) next.c = NULL;
    return next;
}
