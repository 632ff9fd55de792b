// Tensors with reverse-mode automatic differentiation on a tape.
//
// A Tensor is an n-dimensional float32 array (up to 5 dimensions, row-major, contiguous) with
// an optional gradient of the same shape. There are two kinds, by lifetime:
//   parameters  made once by tensor_parameter (malloc'd data and grad), owned by a model's
//               Parameters list (nn/module.h) and freed with it;
//   step values made by the operations (nn/ops.h) inside a Tape, in the tape's arena, and
//               all released at once by tape_reset at the start of the next step.
//
// The tape (Wengert list): while tape->recording is on, every operation whose output depends
// on a tensor that requires a gradient appends a Node: its output, its inputs, what its
// backward needs (saved in the arena), and its backward function. The nodes are in the order
// they were computed, which is a topological order, so tape_backward(loss) only has to seed
// d loss/d loss = 1 and walk the list from the end: each node reads its output's gradient and
// ACCUMULATES (+=) into its inputs' gradients (a tensor used twice receives both
// contributions). Gradients of step values are allocated when the walk first reaches them,
// and hold zeros from the first read on; a node whose output received no gradient is skipped.
// The first contribution to a gradient may be stored instead of added (tensor_grad_first):
// the walk allocates a gradient without zeroing it and zeroes it only when a backward asks for
// it through tensor_grad, so a large activation's gradient is written once, not zeroed, read
// and written again.
//
// Memory: the arena is a list of large blocks; tape_reset rewinds it and, when one step needed
// more than one block, replaces them by a single block of the total size. After the first step
// a training loop therefore allocates nothing: memory does not grow with the number of steps.
//
// Errors: an operation given bad shapes returns NULL and records one line in tape->error
// ("add: shapes (2,3) and (4) do not broadcast"); every operation given a NULL input returns
// NULL, so a whole forward can be written without checks and tested once at the end
// (`if (!loss) return tape_error(tape, error)`).
#ifndef NN_TENSOR_H
#define NN_TENSOR_H

#include <stddef.h>

#include "foundations/error.h"

enum { NN_MAX_DIMS = 5 };

typedef struct Tensor {
    int n_dims;                   // 0 (a scalar) .. NN_MAX_DIMS
    int shape[NN_MAX_DIMS];   // entries past n_dims are 1
    long size;                    // product of the shape
    float *data;                  // (size)
    float *grad;                  // (size) d loss / d data, or NULL (none has reached it yet)
    int requires_grad;            // a parameter, or computed from one on a recording tape
    int is_parameter;             // data and grad are owned by the tensor (tensor_parameter)
    int grad_unwritten;           // grad is allocated but holds no value yet (read as zeros):
                                  // tensor_grad zeroes it, tensor_grad_first hands it over
} Tensor;

typedef struct ArenaBlock ArenaBlock;

// Bump allocation from blocks; see above.
typedef struct Arena {
    ArenaBlock *blocks;    // the current block first
    size_t used_total;     // bytes handed out since the last reset, over all blocks
    size_t high_water;     // the most any step has used
} Arena;

typedef struct Tape Tape;
typedef struct Node Node;

// A node's backward: reads node->out->grad and accumulates into its inputs' gradients
// (through tensor_grad, which allocates a zeroed gradient on first use).
typedef void (*BackwardFunction)(Tape *tape, Node *node);

enum { NODE_MAX_INPUTS = 8 };  // concat and stack take at most this many

struct Node {
    const char *op;              // the operation's name, for messages and debugging
    BackwardFunction backward;
    Tensor *out;
    Tensor *in[NODE_MAX_INPUTS]; // NULL past the operation's inputs
    float *saved[3];             // arena buffers the backward needs (caches, masks, probabilities)
    int *indices;                // arena integers the backward needs (targets, ids, argmax)
    long sizes[8];               // the operation's sizes and options
    float scalars[2];            // the operation's scalar arguments
    Node *previous;              // the node recorded before this one
};

// Sums across the processes of a data-parallel job, for the operations whose statistics
// span the whole batch (batch norm). nn knows no MPI: the trainer gives the function.
typedef struct TapeReduction {
    void *context;
    // values (n doubles) <- their sum over every process; every process calls it at the same
    // point of the same forward or backward. 0, or -1 with error.
    int (*sum)(void *context, double *values, long n, Error *error);
} TapeReduction;

struct Tape {
    Arena arena;
    Node *last;      // the most recent node; NULL when empty
    int recording;   // 1: operations record themselves; 0: no-grad (evaluation), nothing kept
    int failed;
    Error error;     // the first failure since the last reset
    void *scratch;   // tape_scratch's buffer (scratch_bytes), kept across resets
    size_t scratch_bytes;
    // NULL: this process alone. Else training batch norm is synchronised: its statistics are
    // over every process's batch (nn_batch_norm). Kept across resets.
    const TapeReduction *reduction;
};

// A tape that records, with an empty arena.
void tape_init(Tape *tape);
void tape_free(Tape *tape);
// Releases every step value and node, clears the error; parameters are untouched.
void tape_reset(Tape *tape);
// Backpropagation from a scalar (size 1) tensor: seeds its gradient with 1 and runs every
// recorded node's backward in reverse order. Parameter gradients accumulate: zero them first
// (parameters_zero_grad). Fails (-1) on a non-scalar, a tensor that needs no gradient, or an
// earlier failure on the tape.
int tape_backward(Tape *tape, Tensor *loss, Error *error);
// Bytes the arena holds (its blocks' capacity): constant from the second step of a loop on.
size_t tape_reserved_bytes(const Tape *tape);
// Copies the tape's error into error (when error is not NULL) and returns -1.
int tape_error(const Tape *tape, Error *error);

// Records a failure (the first one is kept) and returns NULL, for operations:
// `return tape_fail(tape, "add: shapes %s and %s do not broadcast", ...)`.
Tensor *tape_fail(Tape *tape, const char *format, ...) __attribute__((format(printf, 2, 3)));
// Bytes from the arena, 64-byte aligned, uninitialised; NULL (and a recorded failure) when out of memory.
void *tape_alloc(Tape *tape, size_t bytes);
// A work buffer of at least bytes, 64-byte aligned, uninitialised, for what an operation needs
// only while it computes (a convolution's column matrices): one buffer for every caller, valid
// until the next call, never to be kept in a node. It grows to the largest request and stays
// until tape_free, so a training loop's steps allocate (and fault in) nothing after the first.
// NULL (and a recorded failure) when out of memory.
void *tape_scratch(Tape *tape, size_t bytes);
// A step value of that shape, uninitialised data, no gradient, or NULL (shape invalid, out of memory).
Tensor *tensor_new(Tape *tape, int n_dims, const int *shape);
// The same, filled with zeros / a copy of data (size floats).
Tensor *tensor_zeros(Tape *tape, int n_dims, const int *shape);
Tensor *tensor_from(Tape *tape, const float *data, int n_dims, const int *shape);
// t's gradient, allocated and zeroed in the arena the first time it is asked for.
float *tensor_grad(Tape *tape, Tensor *t);
// For a backward that writes every element of t's gradient: the buffer, and *first = 1 when
// no contribution has reached it yet, in which case the caller must STORE (=) all t->size
// values instead of adding them (nothing is zeroed); *first = 0: add (+=) as usual. NULL when
// t needs no gradient (then *first = 0) or out of memory.
float *tensor_grad_first(Tape *tape, Tensor *t, int *first);
// Appends a node for an operation with output out and inputs in[0..n_in); returns NULL (and
// records nothing) when the tape is not recording or no input requires a gradient. The
// output's requires_grad is set accordingly. Operations fill the rest of the returned node.
Node *tape_record(Tape *tape, const char *op, BackwardFunction backward, Tensor *out, Tensor *const *in, int n_in);

// A parameter: owned data and grad (zeroed), requires_grad. Fails on a bad shape or out of memory.
int tensor_parameter(Tensor *t, int n_dims, const int *shape, Error *error);
void tensor_parameter_free(Tensor *t);

// "(2,3,4)" into out (at least 64 bytes).
const char *tensor_shape_string(const Tensor *t, char *out, size_t size);
// 1 when a and b have the same shape.
int tensor_same_shape(const Tensor *a, const Tensor *b);
// The element count of a shape, or -1 when a dimension is negative, there are too many
// dimensions, or the count overflows.
long shape_size(int n_dims, const int *shape);

#endif
