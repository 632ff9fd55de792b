// Shifts, rotations and elastic distortions of grey images: see augment.h.
#include "explore/augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

void augment_shift(const float *in, float *out, int h, int w, int dx, int dy) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx = x - dx, sy = y - dy;
            out[y * w + x] = sx >= 0 && sx < w && sy >= 0 && sy < h ? in[sy * w + sx] : 0.0f;
        }
}

float augment_bilinear(const float *in, int h, int w, double x, double y) {
    double fx = floor(x), fy = floor(y);
    int x0 = (int)fx, y0 = (int)fy;
    double ax = x - fx, ay = y - fy, value = 0.0;
    if (!(fx > -2.0 && fx < w + 1.0 && fy > -2.0 && fy < h + 1.0)) return 0.0f;  // far outside (or NaN)
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int px = x0 + i, py = y0 + j;
            if (px < 0 || px >= w || py < 0 || py >= h) continue;
            value += (i ? ax : 1.0 - ax) * (j ? ay : 1.0 - ay) * in[py * w + px];
        }
    return (float)value;
}

void augment_rotate(const float *in, float *out, int h, int w, double radians) {
    double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1), c = cos(radians), s = sin(radians);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            // screen rows grow downwards: anticlockwise on screen is clockwise in (x, y)
            double u = x - cx, v = y - cy;
            double sx = cx + c * u - s * v, sy = cy + s * u + c * v;
            out[y * w + x] = augment_bilinear(in, h, w, sx, sy);
        }
}

// field (h, w) ← G_σ * field along rows then columns, the kernel truncated at 3σ and
// renormalised over the taps inside the image. scratch (h, w).
static void gaussian_smooth(float *field, float *scratch, int h, int w, const double *kernel, int radius) {
    for (int pass = 0; pass < 2; pass++) {
        const float *from = pass ? scratch : field;
        float *to = pass ? field : scratch;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double sum = 0.0, weight = 0.0;
                for (int k = -radius; k <= radius; k++) {
                    int px = pass ? x : x + k, py = pass ? y + k : y;
                    if (px < 0 || px >= w || py < 0 || py >= h) continue;
                    sum += kernel[k + radius] * from[py * w + px];
                    weight += kernel[k + radius];
                }
                to[y * w + x] = (float)(sum / weight);
            }
    }
}

int augment_elastic(const float *in, float *out, int h, int w, double alpha, double sigma, Random *rng, Error *error) {
    if (!(alpha >= 0.0) || !isfinite(alpha)) return error_set(error, "elastic: alpha must be finite and >= 0, not %g", alpha);
    if (!(sigma > 0.0) || !(sigma <= 1000.0)) return error_set(error, "elastic: sigma must be in (0, 1000], not %g", sigma);
    int radius = (int)ceil(3.0 * sigma);
    float *fields = malloc(sizeof(float) * 3 * (size_t)h * w);
    double *kernel = malloc(sizeof(double) * (size_t)(2 * radius + 1));
    if (!fields || !kernel) {
        free(fields), free(kernel);
        return error_set(error, "elastic: out of memory");
    }
    for (int k = -radius; k <= radius; k++) kernel[k + radius] = exp(-0.5 * k * k / (sigma * sigma));
    float *dx = fields, *dy = fields + (size_t)h * w, *scratch = fields + 2 * (size_t)h * w;
    for (long i = 0; i < 2L * h * w; i++) fields[i] = 2.0f * random_uniform(rng) - 1.0f;
    gaussian_smooth(dx, scratch, h, w, kernel, radius);
    gaussian_smooth(dy, scratch, h, w, kernel, radius);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            out[y * w + x] = augment_bilinear(in, h, w, x + alpha * dx[y * w + x], y + alpha * dy[y * w + x]);
    free(fields), free(kernel);
    return 0;
}

AugmentConfig augment_default_config(void) {
    AugmentConfig config = {2, 15.0, 34.0, 4.0};
    return config;
}

const char *augment_kind_name(AugmentKind kind) {
    static const char *const names[AUGMENT_KINDS] = {"none", "shift", "rotation", "elastic", "all three"};
    return (int)kind >= 0 && (int)kind < (int)AUGMENT_KINDS ? names[kind] : "unknown";
}

int augment_random(AugmentKind kind, const AugmentConfig *config, const float *in, float *out, int h, int w,
                   Random *rng, Error *error) {
    size_t bytes = sizeof(float) * (size_t)h * w;
    float *a = malloc(bytes), *b = malloc(bytes);
    int status = 0;
    if (!a || !b) {
        free(a), free(b);
        return error_set(error, "augment: out of memory");
    }
    memcpy(a, in, bytes);
    if (kind == AUGMENT_SHIFT || kind == AUGMENT_ALL) {
        int span = 2 * config->max_shift + 1;
        int dx = (int)random_below(rng, (uint32_t)span) - config->max_shift;
        int dy = (int)random_below(rng, (uint32_t)span) - config->max_shift;
        augment_shift(a, b, h, w, dx, dy);
        memcpy(a, b, bytes);
    }
    if (kind == AUGMENT_ROTATE || kind == AUGMENT_ALL) {
        double degrees = (2.0 * random_uniform_double(rng) - 1.0) * config->max_degrees;
        augment_rotate(a, b, h, w, degrees * PI / 180.0);
        memcpy(a, b, bytes);
    }
    if (kind == AUGMENT_ELASTIC || kind == AUGMENT_ALL) {
        status = augment_elastic(a, b, h, w, config->alpha, config->sigma, rng, error);
        if (!status) memcpy(a, b, bytes);
    }
    if (!status) memcpy(out, a, bytes);
    free(a), free(b);
    return status;
}
