// Initialisers: see init.h.
#include "nn/init.h"

#include <math.h>

float init_gain(Nonlinearity nonlinearity, float param) {
    switch (nonlinearity) {
    case GAIN_LINEAR:
    case GAIN_SIGMOID: return 1.0f;
    case GAIN_TANH: return 5.0f / 3.0f;
    case GAIN_RELU: return sqrtf(2.0f);
    case GAIN_LEAKY_RELU: return sqrtf(2.0f / (1.0f + param * param));
    }
    return 1.0f;
}

void init_fans(const Tensor *t, long *fan_in, long *fan_out) {
    if (t->n_dims < 2) {
        *fan_in = *fan_out = t->size;
        return;
    }
    long receptive = 1;
    for (int d = 2; d < t->n_dims; d++) receptive *= t->shape[d];
    *fan_in = t->shape[1] * receptive;
    *fan_out = t->shape[0] * receptive;
}

void init_uniform(Tensor *t, float low, float high, Random *rng) {
    for (long i = 0; i < t->size; i++) t->data[i] = low + (high - low) * random_uniform(rng);
}

void init_normal(Tensor *t, float mean, float std, Random *rng) { random_fill_normal(rng, t->data, t->size, mean, std); }

void init_constant(Tensor *t, float value) {
    for (long i = 0; i < t->size; i++) t->data[i] = value;
}

void init_xavier_uniform(Tensor *t, float gain, Random *rng) {
    long fan_in, fan_out;
    init_fans(t, &fan_in, &fan_out);
    float a = gain * sqrtf(6.0f / (float)(fan_in + fan_out));
    init_uniform(t, -a, a, rng);
}

void init_xavier_normal(Tensor *t, float gain, Random *rng) {
    long fan_in, fan_out;
    init_fans(t, &fan_in, &fan_out);
    init_normal(t, 0.0f, gain * sqrtf(2.0f / (float)(fan_in + fan_out)), rng);
}

static float kaiming_std(const Tensor *t, float slope, FanMode mode, Nonlinearity nonlinearity) {
    long fan_in, fan_out;
    init_fans(t, &fan_in, &fan_out);
    long fan = mode == FAN_IN ? fan_in : fan_out;
    return init_gain(nonlinearity, slope) / sqrtf((float)(fan > 0 ? fan : 1));
}

void init_kaiming_uniform(Tensor *t, float slope, FanMode mode, Nonlinearity nonlinearity, Random *rng) {
    float bound = sqrtf(3.0f) * kaiming_std(t, slope, mode, nonlinearity);
    init_uniform(t, -bound, bound, rng);
}

void init_kaiming_normal(Tensor *t, float slope, FanMode mode, Nonlinearity nonlinearity, Random *rng) {
    init_normal(t, 0.0f, kaiming_std(t, slope, mode, nonlinearity), rng);
}
