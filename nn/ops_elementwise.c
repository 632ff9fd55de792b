// Elementwise operations: broadcasting arithmetic and pointwise functions. The kernels are
// foundations/elementwise.h's and, for the activations a network layer uses, layers.h's.
#include <string.h>

#include "foundations/elementwise.h"
#include "foundations/layers.h"
#include "nn/op_common.h"
#include "nn/ops.h"

// ----------------------------------------------------------------------------
// a op b with broadcasting

static const char *binary_names[] = {"add", "sub", "mul", "div"};

// Loops over fewer values than this run on one thread.
enum { PARALLEL_THRESHOLD = 1 << 15 };

// d (+)= sign · g over n values: the gradient of a sum or difference of same-shape tensors,
// stored when it is the first to reach d (tensor_grad_first).
static void pass_gradient(float *d, const float *g, long n, float sign, int first) {
    if (!d) return;
    if (first) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++) d[i] = 0.0f + sign * g[i];  // as added to zeros (−0 becomes +0)
    } else {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++) d[i] += sign * g[i];
    }
}

// The Broadcast plan is kept in the node's saved area (it is a few dozen bytes).
static void binary_backward_node(Tape *tape, Node *node) {
    Tensor *a = node->in[0], *b = node->in[1];
    const Broadcast *plan = (const Broadcast *)node->saved[0];
    BinaryOp op = (BinaryOp)node->sizes[0];
    if (plan->same_shape && a != b && (op == BINARY_ADD || op == BINARY_SUB)) {  // a residual connection
        int first_a, first_b;
        float *d_a = tensor_grad_first(tape, a, &first_a), *d_b = tensor_grad_first(tape, b, &first_b);
        pass_gradient(d_a, node->out->grad, plan->size, 1.0f, first_a);
        pass_gradient(d_b, node->out->grad, plan->size, op == BINARY_ADD ? 1.0f : -1.0f, first_b);
        return;
    }
    binary_backward(input_grad(tape, a), input_grad(tape, b), node->out->grad, a->data, b->data, op, plan);
}

static Tensor *binary(Tape *tape, Tensor *a, Tensor *b, BinaryOp op) {
    if (!a || !b) return NULL;
    Broadcast plan;
    int shape[NN_MAX_DIMS], n_dims;
    if (broadcast_plan(&plan, a->shape, a->n_dims, b->shape, b->n_dims, shape, &n_dims))
        return tape_fail(tape, "%s: shapes %s and %s do not broadcast", binary_names[op], shape_text(a).text,
                         shape_text(b).text);
    Tensor *out = tensor_new(tape, n_dims, shape);
    if (!out) return NULL;
    binary_forward(out->data, a->data, b->data, op, &plan);
    Tensor *in[2] = {a, b};
    Node *node = tape_record(tape, binary_names[op], binary_backward_node, out, in, 2);
    if (node) {
        Broadcast *kept = tape_alloc(tape, sizeof plan);
        if (!kept) return NULL;
        *kept = plan;
        node->saved[0] = (float *)kept;
        node->sizes[0] = op;
    }
    return out;
}

Tensor *nn_add(Tape *tape, Tensor *a, Tensor *b) { return binary(tape, a, b, BINARY_ADD); }
Tensor *nn_sub(Tape *tape, Tensor *a, Tensor *b) { return binary(tape, a, b, BINARY_SUB); }
Tensor *nn_mul(Tape *tape, Tensor *a, Tensor *b) { return binary(tape, a, b, BINARY_MUL); }
Tensor *nn_div(Tape *tape, Tensor *a, Tensor *b) { return binary(tape, a, b, BINARY_DIV); }

// ----------------------------------------------------------------------------
// x · s + t for constants s, t: d_x += s · d_out

static void affine_backward_node(Tape *tape, Node *node) {
    float *d_x = input_grad(tape, node->in[0]);
    const float *g = node->out->grad;
    float s = node->scalars[0];
    for (long i = 0; i < node->out->size; i++) d_x[i] += s * g[i];
}

static Tensor *affine(Tape *tape, Tensor *x, float s, float t, const char *name) {
    if (!x) return NULL;
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    if (!out) return NULL;
    for (long i = 0; i < x->size; i++) out->data[i] = x->data[i] * s + t;
    Node *node = tape_record(tape, name, affine_backward_node, out, &x, 1);
    if (node) node->scalars[0] = s;
    return out;
}

Tensor *nn_scale(Tape *tape, Tensor *x, float s) { return affine(tape, x, s, 0.0f, "scale"); }
Tensor *nn_add_scalar(Tape *tape, Tensor *x, float s) { return affine(tape, x, 1.0f, s, "add_scalar"); }

// ----------------------------------------------------------------------------
// pointwise functions of foundations/elementwise.h

static void pointwise_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0];
    pointwise_backward(input_grad(tape, x), node->out->grad, x->data, node->out->data, x->size,
                       (PointwiseOp)node->sizes[0], node->scalars[0]);
}

static Tensor *pointwise(Tape *tape, Tensor *x, PointwiseOp op, float alpha, const char *name) {
    if (!x) return NULL;
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    if (!out) return NULL;
    pointwise_forward(out->data, x->data, x->size, op, alpha);
    Node *node = tape_record(tape, name, pointwise_backward_node, out, &x, 1);
    if (node) node->sizes[0] = op, node->scalars[0] = alpha;
    return out;
}

Tensor *nn_neg(Tape *tape, Tensor *x) { return pointwise(tape, x, POINTWISE_NEG, 0.0f, "neg"); }
Tensor *nn_exp(Tape *tape, Tensor *x) { return pointwise(tape, x, POINTWISE_EXP, 0.0f, "exp"); }
Tensor *nn_log(Tape *tape, Tensor *x) { return pointwise(tape, x, POINTWISE_LOG, 0.0f, "log"); }
Tensor *nn_sqrt(Tape *tape, Tensor *x) { return pointwise(tape, x, POINTWISE_SQRT, 0.0f, "sqrt"); }
Tensor *nn_abs(Tape *tape, Tensor *x) { return pointwise(tape, x, POINTWISE_ABS, 0.0f, "abs"); }
Tensor *nn_pow(Tape *tape, Tensor *x, float exponent) { return pointwise(tape, x, POINTWISE_POW, exponent, "pow"); }
Tensor *nn_softplus(Tape *tape, Tensor *x) { return pointwise(tape, x, POINTWISE_SOFTPLUS, 0.0f, "softplus"); }
Tensor *nn_leaky_relu(Tape *tape, Tensor *x, float negative_slope) {
    return pointwise(tape, x, POINTWISE_LEAKY_RELU, negative_slope, "leaky_relu");
}

// ----------------------------------------------------------------------------
// the activations of foundations/layers.h: relu and gelu differentiate from their input,
// sigmoid and tanh from their output

typedef enum { ACTIVATION_RELU, ACTIVATION_GELU, ACTIVATION_SIGMOID, ACTIVATION_TANH } Activation;
static const char *activation_names[] = {"relu", "gelu", "sigmoid", "tanh"};

// ReLU over chunks split between threads (layers.h's loops are one thread's); its backward
// stores the gradient when it is the first to reach d_x.
enum { RELU_CHUNK = 1 << 14 };

static void relu_forward_parallel(float *out, const float *x, long n) {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i += RELU_CHUNK) relu_forward(out + i, x + i, n - i < RELU_CHUNK ? n - i : RELU_CHUNK);
}

static void relu_backward_node(Tape *tape, Tensor *x, const float *g) {
    int first;
    float *d_x = tensor_grad_first(tape, x, &first);
    long n = x->size;
    const float *v = x->data;
    if (!d_x) return;
    if (first) {  // 0 + g, as adding to a zeroed buffer would give (−0 becomes +0)
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++) d_x[i] = v[i] > 0.0f ? 0.0f + g[i] : 0.0f;
    } else {
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++) d_x[i] += v[i] > 0.0f ? g[i] : 0.0f;
    }
}

static void activation_backward_node(Tape *tape, Node *node) {
    Tensor *x = node->in[0], *y = node->out;
    if ((Activation)node->sizes[0] == ACTIVATION_RELU) {
        relu_backward_node(tape, x, y->grad);
        return;
    }
    float *d_x = input_grad(tape, x);
    switch ((Activation)node->sizes[0]) {
    case ACTIVATION_RELU: break;
    case ACTIVATION_GELU: gelu_backward(d_x, y->grad, x->data, x->size); break;
    case ACTIVATION_SIGMOID: sigmoid_backward(d_x, y->grad, y->data, x->size); break;
    case ACTIVATION_TANH: tanh_backward(d_x, y->grad, y->data, x->size); break;
    }
}

static Tensor *activation(Tape *tape, Tensor *x, Activation kind) {
    if (!x) return NULL;
    Tensor *out = tensor_new(tape, x->n_dims, x->shape);
    if (!out) return NULL;
    switch (kind) {
    case ACTIVATION_RELU: relu_forward_parallel(out->data, x->data, x->size); break;
    case ACTIVATION_GELU: gelu_forward(out->data, x->data, x->size); break;
    case ACTIVATION_SIGMOID: sigmoid_forward(out->data, x->data, x->size); break;
    case ACTIVATION_TANH: tanh_forward(out->data, x->data, x->size); break;
    }
    Node *node = tape_record(tape, activation_names[kind], activation_backward_node, out, &x, 1);
    if (node) node->sizes[0] = kind;
    return out;
}

Tensor *nn_relu(Tape *tape, Tensor *x) { return activation(tape, x, ACTIVATION_RELU); }
Tensor *nn_gelu(Tape *tape, Tensor *x) { return activation(tape, x, ACTIVATION_GELU); }
Tensor *nn_sigmoid(Tape *tape, Tensor *x) { return activation(tape, x, ACTIVATION_SIGMOID); }
Tensor *nn_tanh(Tape *tape, Tensor *x) { return activation(tape, x, ACTIVATION_TANH); }
