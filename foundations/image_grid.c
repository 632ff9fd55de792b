// Tiling maps into one picture; see image_grid.h.
#include "foundations/image_grid.h"

#include <math.h>

void normalize_unit_range(float *values, long n) {
    float low = INFINITY, high = -INFINITY;
    for (long i = 0; i < n; i++)
        if (isfinite(values[i])) {
            if (values[i] < low) low = values[i];
            if (values[i] > high) high = values[i];
        }
    float range = high - low;
    for (long i = 0; i < n; i++)
        values[i] = isfinite(values[i]) && range > 0 ? (values[i] - low) / range : 0.0f;
}

// Copies one tile (channels, height, width), scaled to 0..255, into out at (top, left).
static void draw_tile(Image *out, const float *tile, int channels, int height, int width, int scale, int top,
                      int left, GridScaling scaling) {
    long plane = (long)height * width;
    float low = 0.0f, range = 1.0f;
    if (scaling == GRID_EACH_TILE) {
        float high = -INFINITY;
        low = INFINITY;
        for (long i = 0; i < plane * channels; i++)
            if (isfinite(tile[i])) {
                low = fminf(low, tile[i]);
                high = fmaxf(high, tile[i]);
            }
        range = high > low ? high - low : INFINITY;  // a constant tile: every value maps to 0
        if (!isfinite(low)) low = 0.0f;
    }
    for (int y = 0; y < height * scale; y++)
        for (int x = 0; x < width * scale; x++)
            for (int c = 0; c < channels; c++) {
                float v = (tile[c * plane + (long)(y / scale) * width + x / scale] - low) / range;
                v = isfinite(v) ? fminf(fmaxf(v, 0.0f), 1.0f) : 0.0f;
                out->pixels[((long)(top + y) * out->width + left + x) * channels + c] = roundf(v * 255.0f);
            }
}

int image_grid(Image *out, const float *maps, int n, int channels, int height, int width, int columns, int scale,
               GridScaling scaling, Error *error) {
    if (n < 1 || height < 1 || width < 1 || scale < 1)
        return error_set(error, "image grid: %d maps of %dx%d at scale %d (each at least 1)", n, height, width, scale);
    if (channels != 1 && channels != 3) return error_set(error, "image grid: %d channels (1 or 3)", channels);
    if (columns <= 0) columns = (int)ceil(sqrt((double)n));
    if (columns > n) columns = n;
    int rows = (n + columns - 1) / columns;
    double w = (double)columns * ((double)width * scale + 1) + 1, h = (double)rows * ((double)height * scale + 1) + 1;
    if (w * h > (double)(1 << 26))
        return error_set(error, "image grid: %.0fx%.0f pixels is too large (at most 2^26)", w, h);
    if (image_init(out, (int)w, (int)h, channels, 255, error)) return -1;
    for (long i = 0; i < (long)out->width * out->height * channels; i++) out->pixels[i] = GRID_BORDER_VALUE;
    long tile_size = (long)channels * height * width;
    for (int t = 0; t < n; t++) {
        int top = 1 + (t / columns) * (height * scale + 1), left = 1 + (t % columns) * (width * scale + 1);
        draw_tile(out, maps + t * tile_size, channels, height, width, scale, top, left, scaling);
    }
    return 0;
}
