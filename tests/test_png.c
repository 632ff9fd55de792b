// Tests for foundations/png.h and foundations/image_grid.h: gray and RGB images written and
// read back through libpng pixel for pixel, scaling from another maxval, the errors (a path in
// a missing directory, a file that is not a PNG, 2 channels) with nothing left behind, and the
// grid's layout: borders, integer enlargement, each tile's min-max scaling, the unit range.
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "foundations/image_grid.h"
#include "foundations/png.h"
#include "foundations/random.h"
#include "tests/check.h"

static void round_trip(int width, int height, int channels, const char *name) {
    Random rng;
    random_seed(&rng, 7);
    Image image, back;
    Error error;
    REQUIRE(image_init(&image, width, height, channels, 255, &error) == 0, "%s", error.message);
    long n = (long)width * height * channels;
    for (long i = 0; i < n; i++) image.pixels[i] = (float)random_below(&rng, 256);
    image.pixels[0] = 255.0f, image.pixels[n - 1] = 0.0f;
    CHECK(png_write(&image, check_path(name), &error) == 0, "%s", error.message);
    REQUIRE(png_read(&back, check_path(name), &error) == 0, "%s", error.message);
    CHECK(back.width == width && back.height == height && back.channels == channels && back.maxval == 255,
          "%s: %dx%dx%d maxval %d", name, back.width, back.height, back.channels, back.maxval);
    long differ = 0;
    for (long i = 0; i < n && back.width == width && back.height == height && back.channels == channels; i++)
        differ += back.pixels[i] != image.pixels[i];
    CHECK(differ == 0, "%s: %ld samples differ", name, differ);
    image_free(&image);
    image_free(&back);
}

static void gray_and_rgb_round_trip(void) {
    round_trip(17, 5, 1, "gray.png");
    round_trip(4, 9, 3, "rgb.png");
    round_trip(1, 1, 1, "one.png");
}

static void other_maxval_is_scaled_and_clamped(void) {
    Image image, back;
    Error error;
    REQUIRE(image_init(&image, 4, 1, 1, 1000, &error) == 0, "%s", error.message);
    const float values[4] = {0.0f, 500.0f, 1000.0f, 2000.0f};  // the last above maxval: clamped to 255
    memcpy(image.pixels, values, sizeof values);
    REQUIRE(png_write(&image, check_path("scaled.png"), &error) == 0, "%s", error.message);
    REQUIRE(png_read(&back, check_path("scaled.png"), &error) == 0, "%s", error.message);
    const float expected[4] = {0.0f, 128.0f, 255.0f, 255.0f};  // 500·255/1000 = 127.5 rounds to 128
    for (int i = 0; i < 4; i++) CHECK(back.pixels[i] == expected[i], "pixel %d: %g, expected %g", i, back.pixels[i], expected[i]);
    image_free(&image);
    image_free(&back);
}

static void errors_are_values(void) {
    Image image, back;
    Error error = {{0}};
    REQUIRE(image_init(&image, 3, 3, 1, 255, &error) == 0, "%s", error.message);
    CHECK(png_write(&image, check_path("missing/dir/x.png"), &error) != 0, "a path in a missing directory was written");
    CHECK(strstr(error.message, "missing/dir/x.png") != NULL, "the error does not name the path: %s", error.message);
    image.channels = 2;
    CHECK(png_write(&image, check_path("two.png"), &error) != 0 && strstr(error.message, "2") != NULL,
          "2 channels accepted: %s", error.message);
    image.channels = 1;
    FILE *file = fopen(check_path("text.png"), "w");
    REQUIRE(file != NULL, "cannot write text.png");
    fputs("not a png at all\n", file);
    fclose(file);
    CHECK(png_read(&back, check_path("text.png"), &error) != 0 && strstr(error.message, "text.png") != NULL,
          "a text file read as a PNG: %s", error.message);
    CHECK(png_read(&back, check_path("absent.png"), &error) != 0, "a missing file was read");
    // A truncated PNG: the first half of a good one.
    REQUIRE(png_write(&image, check_path("good.png"), &error) == 0, "%s", error.message);
    unsigned char bytes[4096];
    file = fopen(check_path("good.png"), "rb");
    REQUIRE(file != NULL, "cannot read good.png");
    size_t n = fread(bytes, 1, sizeof bytes, file);
    fclose(file);
    file = fopen(check_path("half.png"), "wb");
    REQUIRE(file != NULL, "cannot write half.png");
    fwrite(bytes, 1, n / 2, file);
    fclose(file);
    CHECK(png_read(&back, check_path("half.png"), &error) != 0, "a truncated PNG was read");
    glob_t leftovers;
    char pattern[1200];
    snprintf(pattern, sizeof pattern, "%s", check_path("*.tmp.*"));
    CHECK(glob(pattern, 0, NULL, &leftovers) == GLOB_NOMATCH, "a temporary file was left behind");
    globfree(&leftovers);
    image_free(&image);
}

// Two 2×2 maps, one per row in 1 column, enlarged 3 times: 1 + 2·3 + 1 = 8 wide, 1 + 2·(6 + 1) = 15 high.
static void grid_layout_and_scaling(void) {
    const float maps[8] = {1, 2, 3, 5,  /* min 1 max 5 */ -4, -4, -4, -4 /* constant */};
    Image grid;
    Error error;
    REQUIRE(image_grid(&grid, maps, 2, 1, 2, 2, 1, 3, GRID_EACH_TILE, &error) == 0, "%s", error.message);
    CHECK(grid.width == 8 && grid.height == 15, "grid %dx%d, expected 8x15", grid.width, grid.height);
    REQUIRE(grid.width == 8 && grid.height == 15, "wrong size");
#define PIXEL(x, y) grid.pixels[(y) * grid.width + (x)]
    for (int x = 0; x < 8; x++) CHECK(PIXEL(x, 0) == 128 && PIXEL(x, 7) == 128 && PIXEL(x, 14) == 128, "border row at x %d", x);
    for (int y = 0; y < 15; y++) CHECK(PIXEL(0, y) == 128 && PIXEL(7, y) == 128, "border column at y %d", y);
    // map 0: value 1 -> 0, 2 -> 64 (63.75), 3 -> 128 (127.5), 5 -> 255; each a 3×3 block
    const float expected[4] = {0, 64, 128, 255};
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 6; x++) {
            float want = expected[(y / 3) * 2 + x / 3];
            CHECK(PIXEL(1 + x, 1 + y) == want, "tile 0 (%d,%d): %g, expected %g", x, y, PIXEL(1 + x, 1 + y), want);
            CHECK(PIXEL(1 + x, 8 + y) == 0, "constant tile (%d,%d): %g", x, y, PIXEL(1 + x, 8 + y));
        }
    image_free(&grid);
    // The unit range: clamped, not stretched; 3 channels; 2 tiles in 2 columns of 1 row.
    const float rgb[6] = {0.5f, 2.0f, -1.0f, 0.25f, 0.25f, 0.25f};  // two 1×1 RGB tiles
    REQUIRE(image_grid(&grid, rgb, 2, 3, 1, 1, 0, 1, GRID_UNIT_RANGE, &error) == 0, "%s", error.message);
    CHECK(grid.width == 5 && grid.height == 3 && grid.channels == 3, "rgb grid %dx%dx%d", grid.width, grid.height, grid.channels);
    const float *p = grid.pixels + (1 * 5 + 1) * 3, *q = grid.pixels + (1 * 5 + 3) * 3;
    CHECK(p[0] == 128 && p[1] == 255 && p[2] == 0, "tile 0: %g %g %g", p[0], p[1], p[2]);
    CHECK(q[0] == 64 && q[1] == 64 && q[2] == 64, "tile 1: %g %g %g", q[0], q[1], q[2]);
    image_free(&grid);
    CHECK(image_grid(&grid, rgb, 2, 2, 1, 1, 0, 1, GRID_UNIT_RANGE, &error) != 0, "2 channels accepted");
    CHECK(image_grid(&grid, rgb, 2, 3, 1, 1, 0, 0, GRID_UNIT_RANGE, &error) != 0, "scale 0 accepted");
#undef PIXEL
}

static void unit_range(void) {
    float v[4] = {2, 4, NAN, 3};
    normalize_unit_range(v, 4);
    CHECK(v[0] == 0.0f && v[1] == 1.0f && v[2] == 0.0f && v[3] == 0.5f, "%g %g %g %g", v[0], v[1], v[2], v[3]);
}

static const CheckCase CASES[] = {
    {"gray and RGB round trip", gray_and_rgb_round_trip},
    {"another maxval is scaled and clamped", other_maxval_is_scaled_and_clamped},
    {"errors are values", errors_are_values},
    {"grid layout and scaling", grid_layout_and_scaling},
    {"unit range", unit_range},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
