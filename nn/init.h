// Initialisers, as PyTorch's torch.nn.init (the formulas of its documentation), in place on a
// tensor's data from the caller's generator.
//
// Fans of a weight (out, in, k...): fan_in = in · Πk, fan_out = out · Πk (a 1-D tensor has
// fan_in = fan_out = its size). Gains per nonlinearity (calculate_gain): linear, sigmoid 1,
// tanh 5/3, relu √2, leaky_relu √(2/(1 + slope²)).
//   xavier_uniform  U(−a, a), a = gain √(6/(fan_in + fan_out))     (Glorot and Bengio 2010)
//   xavier_normal   N(0, σ²), σ = gain √(2/(fan_in + fan_out))
//   kaiming_uniform U(−b, b), b = gain √(3/fan)                      (He et al. 2015)
//   kaiming_normal  N(0, σ²), σ = gain / √fan                        (fan = fan_in or fan_out by mode)
#ifndef NN_INIT_H
#define NN_INIT_H

#include "foundations/random.h"
#include "nn/tensor.h"

typedef enum { GAIN_LINEAR, GAIN_SIGMOID, GAIN_TANH, GAIN_RELU, GAIN_LEAKY_RELU } Nonlinearity;
typedef enum { FAN_IN, FAN_OUT } FanMode;

// param is the negative slope of leaky_relu (ignored by the others).
float init_gain(Nonlinearity nonlinearity, float param);
void init_fans(const Tensor *t, long *fan_in, long *fan_out);

void init_uniform(Tensor *t, float low, float high, Random *rng);
void init_normal(Tensor *t, float mean, float std, Random *rng);
void init_constant(Tensor *t, float value);  // zeros and ones are 0 and 1
void init_xavier_uniform(Tensor *t, float gain, Random *rng);
void init_xavier_normal(Tensor *t, float gain, Random *rng);
// slope: leaky_relu's negative slope (PyTorch's `a`); 0 for relu.
void init_kaiming_uniform(Tensor *t, float slope, FanMode mode, Nonlinearity nonlinearity, Random *rng);
void init_kaiming_normal(Tensor *t, float slope, FanMode mode, Nonlinearity nonlinearity, Random *rng);

#endif
