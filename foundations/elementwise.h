// The kernels of a tensor library that the layers (layers.h) do not cover: elementwise
// arithmetic with NumPy/PyTorch broadcasting, pointwise functions, reductions over one axis,
// and strided copies (permutes, slices). Each is a forward/backward pair; backward functions
// ACCUMULATE (+=), as in layers.h.
//
// Shapes have at most ELEMENTWISE_MAX_DIMS dimensions and are row-major and contiguous.
// Broadcasting (NumPy's rule): align the shapes at their last dimension; each pair of sizes
// must be equal or one of them 1, and a size-1 (or missing) dimension is repeated.
#ifndef FOUNDATIONS_ELEMENTWISE_H
#define FOUNDATIONS_ELEMENTWISE_H

enum { ELEMENTWISE_MAX_DIMS = 5 };

// How two shapes broadcast: the output shape padded on the left to 5 dimensions and, for each
// input, its element stride along every output dimension (0 where it is repeated).
typedef struct Broadcast {
    int shape[ELEMENTWISE_MAX_DIMS];
    long a_stride[ELEMENTWISE_MAX_DIMS], b_stride[ELEMENTWISE_MAX_DIMS];
    long size;       // elements of the output
    int same_shape;  // no broadcasting at all: the fast path
} Broadcast;

// Plans a (a_dims) with b (b_dims); out_shape receives the broadcast shape (max of the two
// ranks, out_dims of them). Returns -1 when the shapes do not broadcast.
int broadcast_plan(Broadcast *plan, const int *a_shape, int a_dims, const int *b_shape, int b_dims, int *out_shape,
                   int *out_dims);

typedef enum { BINARY_ADD, BINARY_SUB, BINARY_MUL, BINARY_DIV } BinaryOp;

// out = a op b, elementwise over the broadcast shape.
void binary_forward(float *out, const float *a, const float *b, BinaryOp op, const Broadcast *plan);
// d_a (a's shape) and d_b (b's shape; either may be NULL) += the gradients, summed over the
// dimensions that were repeated:
//   add  d_a += g          d_b += g
//   sub  d_a += g          d_b -= g
//   mul  d_a += g b        d_b += g a
//   div  d_a += g / b      d_b -= g a / b²
void binary_backward(float *d_a, float *d_b, const float *d_out, const float *a, const float *b, BinaryOp op,
                     const Broadcast *plan);

// Pointwise functions y = f(x) over n values; alpha is the exponent of POW and the negative
// slope of LEAKY_RELU (unused by the others). SOFTPLUS is PyTorch's (beta 1, threshold 20):
// log(1 + e^x), x itself above 20.
typedef enum { POINTWISE_NEG, POINTWISE_EXP, POINTWISE_LOG, POINTWISE_SQRT, POINTWISE_ABS, POINTWISE_POW,
               POINTWISE_LEAKY_RELU, POINTWISE_SOFTPLUS } PointwiseOp;

void pointwise_forward(float *out, const float *x, long n, PointwiseOp op, float alpha);
// d_x += d_out · f'(x); y is the forward's output (exp and sqrt use it).
//   neg −1, exp y, log 1/x, sqrt 1/(2y), abs sign(x), pow α x^(α−1),
//   leaky_relu 1 or α, softplus sigmoid(x)
void pointwise_backward(float *d_x, const float *d_out, const float *x, const float *y, long n, PointwiseOp op,
                        float alpha);

// Reductions of x viewed as (outer, n, inner) over its middle axis -> out (outer, inner).
// sum: out = Σ_i x[o,i,j];  backward d_x[o,i,j] += d_out[o,j].
void sum_axis_forward(float *out, const float *x, long outer, long n, long inner);
void sum_axis_backward(float *d_x, const float *d_out, long outer, long n, long inner);
// max: out = max_i x[o,i,j], argmax (outer, inner) the first index of the maximum;
// backward d_x[o, argmax, j] += d_out[o,j] (the gradient goes to that one element).
void max_axis_forward(float *out, int *argmax, const float *x, long outer, long n, long inner);
void max_axis_backward(float *d_x, const float *d_out, const int *argmax, long outer, long n, long inner);

// A strided copy: out (shape, contiguous) [i0..i4] = (or +=, accumulate) in[Σ i_d · in_stride[d]].
// shape and in_stride are padded on the left to 5 dimensions (size 1, stride 0). Transposes,
// permutes and slices are this copy with different strides; their backward is the same copy
// the other way (strided_scatter_add).
void strided_copy(float *out, const float *in, const int *shape, const long *in_stride, int accumulate);
// d_in[Σ i_d · in_stride[d]] += d_out[i0..i4]: the backward of strided_copy (distinct targets).
void strided_scatter_add(float *d_in, const float *d_out, const int *shape, const long *in_stride);

#endif
