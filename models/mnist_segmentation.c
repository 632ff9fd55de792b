// The MNIST segmentation task: see mnist_segmentation.h.
#include "models/mnist_segmentation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/random.h"

Corruption corruption_default(void) {
    Corruption corruption = {2, 1.5f, 0.25f};
    return corruption;
}

int corruption_check(const Corruption *c, Error *error) {
    if (c->strokes < 0 || c->strokes > 16) return error_set(error, "%d strokes per image (0 to 16)", c->strokes);
    if (!(c->stroke_width > 0.0f && c->stroke_width <= 8.0f))
        return error_set(error, "stroke width %g pixels (above 0, at most 8)", (double)c->stroke_width);
    if (!(c->noise_std >= 0.0f && c->noise_std <= 1.0f))
        return error_set(error, "noise standard deviation %g (0 to 1)", (double)c->noise_std);
    return 0;
}

// One line across the image: through (px, py) at angle θ, value 0 or 1, width w.
static void draw_stroke(float *y, int height, int width, float w, Random *rng) {
    float px = random_uniform(rng) * (float)width, py = random_uniform(rng) * (float)height;
    float theta = random_uniform(rng) * 3.14159265f;
    float value = random_uniform(rng) < 0.5f ? 0.0f : 1.0f;
    float s = sinf(theta), c = cosf(theta);
    for (int v = 0; v < height; v++)
        for (int u = 0; u < width; u++)
            if (fabsf(((float)u - px) * s - ((float)v - py) * c) <= 0.5f * w) y[v * width + u] = value;
}

// Image i's input y and mask m from its clean pixels x.
static void corrupt(const float *x, float *y, float *m, int height, int width, const Corruption *corruption,
                    uint64_t seed, int i) {
    Random rng;
    // the seed and the index mixed (a multiplier of Knuth's), so neighbouring images differ
    random_seed(&rng, seed * 0x9E3779B97F4A7C15ull + (uint64_t)i);
    long n = (long)height * width;
    for (long j = 0; j < n; j++) {
        m[j] = x[j] > 0.5f ? 1.0f : 0.0f;
        y[j] = x[j];
    }
    for (int k = 0; k < corruption->strokes; k++) draw_stroke(y, height, width, corruption->stroke_width, &rng);
    for (long j = 0; j < n; j++) {
        float noisy = y[j] + (corruption->noise_std > 0.0f ? random_normal(&rng, 0.0f, corruption->noise_std) : 0.0f);
        y[j] = noisy < 0.0f ? 0.0f : noisy > 1.0f ? 1.0f : noisy;
    }
}

int mnist_segmentation_make(const float *images, int count, int height, int width, const Corruption *corruption,
                            uint64_t seed, SegmentationSet *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (corruption_check(corruption, error)) return -1;
    if (count < 1 || height < 1 || width < 1) return error_set(error, "segmentation: %d images of %dx%d", count, width, height);
    size_t n = (size_t)count * (size_t)height * (size_t)width;
    out->inputs = malloc(sizeof(float) * n);
    out->masks = malloc(sizeof(float) * n);
    if (!out->inputs || !out->masks) {
        segmentation_set_free(out);
        return error_set(error, "segmentation: out of memory for %d images", count);
    }
    out->count = count, out->height = height, out->width = width;
    long plane = (long)height * width;
    for (int i = 0; i < count; i++)
        corrupt(images + i * plane, out->inputs + i * plane, out->masks + i * plane, height, width, corruption, seed, i);
    return 0;
}

void segmentation_set_free(SegmentationSet *set) {
    free(set->inputs);
    free(set->masks);
    memset(set, 0, sizeof *set);
}
