// Recurrent cells: the GRU (Cho et al. 2014) and the LSTM (Hochreiter and Schmidhuber 1997, with
// the forget gate of Gers et al. 2000), with PyTorch's equations, parameter names, gate order and
// initialisation (torch.nn.GRUCell, torch.nn.LSTMCell), so their weights load either way.
//
// Each cell is two nn_linear products, W_ih x + b_ih and W_hh h + b_hh (the matrices of every
// gate stacked in one weight), and fused operations for the gates' pointwise algebra (the GRU's
// one; the LSTM's two, on the products' sum, one per output state), whose backward is written
// here (checked against finite differences in tests/test_recurrent.c).
//
// GRU, gates stacked (r, z, n), H = hidden size:
//     r  = σ(W_ir x + b_ir + W_hr h + b_hr)             reset gate
//     z  = σ(W_iz x + b_iz + W_hz h + b_hz)             update gate
//     n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))    candidate
//     h' = (1 − z) ⊙ n + z ⊙ h
// LSTM, gates stacked (i, f, g, o):
//     i = σ(·), f = σ(·), g = tanh(·), o = σ(·)   of W_i* x + b_i* + W_h* h + b_h*
//     c' = f ⊙ c + i ⊙ g
//     h' = o ⊙ tanh(c')
// Initialisation (PyTorch's reset_parameters): every weight and bias uniform in ±1/√H.
#ifndef NN_RECURRENT_H
#define NN_RECURRENT_H

#include "foundations/random.h"
#include "nn/module.h"
#include "nn/tensor.h"

// ---------------------------------------------------------------------------------------
// the fused gate operations (the cells' pointwise part)

// GRU: gi = W_ih x + b_ih (B,3H), gh = W_hh h + b_hh (B,3H), h (B,H) -> h' (B,H).
Tensor *nn_gru_gates(Tape *tape, Tensor *gi, Tensor *gh, Tensor *h);
// LSTM, in two steps so that each has one output. gates = W_ih x + b_ih + W_hh h + b_hh (B,4H):
// c (B,H) -> c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g) (B,H);  c' (B,H) -> h' = σ(o) ⊙ tanh(c') (B,H).
Tensor *nn_lstm_cell_state(Tape *tape, Tensor *gates, Tensor *c);
Tensor *nn_lstm_hidden(Tape *tape, Tensor *gates, Tensor *c_next);

// ---------------------------------------------------------------------------------------
// modules

// A GRU or LSTM cell's weights (the same four tensors; G = 3 gates for a GRU, 4 for an LSTM):
// weight_ih (G·H, in), weight_hh (G·H, H), bias_ih (G·H), bias_hh (G·H).
typedef struct RecurrentCell {
    Tensor *weight_ih, *weight_hh, *bias_ih, *bias_hh;
    int input_size, hidden_size;
} RecurrentCell;

// GRUCell: weight_ih (3H, in), weight_hh (3H, H), bias_ih (3H), bias_hh (3H).
typedef RecurrentCell GRUCell;
// Registers "<name>.weight_ih" ... in params. Fails on sizes below 1, a duplicate name, out of memory.
int gru_cell_init(GRUCell *cell, Parameters *params, const char *name, int input_size, int hidden_size, Random *rng,
                  Error *error);
// x (B,in), h (B,H) -> h' (B,H); NULL (and a line in tape->error) on other shapes.
Tensor *gru_cell_apply(Tape *tape, const GRUCell *cell, Tensor *x, Tensor *h);

// LSTMCell: weight_ih (4H, in), weight_hh (4H, H), bias_ih (4H), bias_hh (4H).
typedef RecurrentCell LSTMCell;

// An LSTM's state: hidden h (B,H) and cell c (B,H).
typedef struct LSTMState {
    Tensor *h, *c;
} LSTMState;

int lstm_cell_init(LSTMCell *cell, Parameters *params, const char *name, int input_size, int hidden_size, Random *rng,
                   Error *error);
// x (B,in), state (h, c) each (B,H) -> (h', c'); both NULL (and a line in tape->error) on other shapes.
LSTMState lstm_cell_apply(Tape *tape, const LSTMCell *cell, Tensor *x, LSTMState state);

#endif
