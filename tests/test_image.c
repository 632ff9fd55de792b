// Tests for foundations/image.h: PGM/PPM round trips in all four formats and both sample
// widths, headers with comments, the bundled photograph, PSNR, and one clear error for each
// way a file can be malformed (files written by the test into a temporary directory).
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/image.h"
#include "foundations/random.h"
#include "tests/check.h"

// 0, or -1 when the file cannot be written.
static int write_file(const char *name, const void *bytes, size_t size) {
    FILE *file = fopen(check_path(name), "wb");
    if (!file) return -1;
    int ok = fwrite(bytes, 1, size, file) == size;
    return fclose(file) == 0 && ok ? 0 : -1;
}

static void test_round_trips(Random *rng) {
    const struct {
        int width, height, channels, maxval, plain_text;
        const char *name;
    } shapes[] = {{5, 3, 1, 255, 0, "p5.pgm"},    {5, 3, 1, 255, 1, "p2.pgm"},    {4, 2, 3, 255, 0, "p6.ppm"},
                  {4, 2, 3, 255, 1, "p3.ppm"},    {7, 1, 1, 1000, 0, "p5_16.pgm"}, {2, 6, 3, 65535, 0, "p6_16.ppm"},
                  {3, 3, 3, 65535, 1, "p3_16.ppm"}, {1, 1, 1, 1, 0, "one.pgm"}};
    for (int s = 0; s < 8; s++) {
        Image image, back;
        Error error;
        REQUIRE(image_init(&image, shapes[s].width, shapes[s].height, shapes[s].channels, shapes[s].maxval, &error) == 0,
              "%s", error.message);
        int count = shapes[s].width * shapes[s].height * shapes[s].channels;
        for (int i = 0; i < count; i++) image.pixels[i] = (float)random_below(rng, (uint32_t)shapes[s].maxval + 1);
        image.pixels[0] = (float)shapes[s].maxval;  // the extremes are always there
        if (count > 1) image.pixels[1] = 0.0f;
        CHECK(image_write(&image, check_path(shapes[s].name), shapes[s].plain_text, &error) == 0, "%s", error.message);
        char temporary_name[64];  // any "<name>.tmp..." (foundations/file.h writes <path>.tmp.<pid>)
        snprintf(temporary_name, sizeof temporary_name, "%s.tmp*", shapes[s].name);
        glob_t found;
        CHECK(glob(check_path(temporary_name), 0, NULL, &found) == GLOB_NOMATCH, "%s: temporary file left behind",
              shapes[s].name);
        globfree(&found);
        CHECK(image_read(&back, check_path(shapes[s].name), &error) == 0, "%s: %s", shapes[s].name, error.message);
        if (back.pixels) {
            CHECK(back.width == image.width && back.height == image.height && back.channels == image.channels &&
                      back.maxval == image.maxval,
                  "%s: header %d x %d x %d maxval %d", shapes[s].name, back.width, back.height, back.channels,
                  back.maxval);
            int same = 1;
            for (int i = 0; i < count; i++) same &= back.pixels[i] == image.pixels[i];
            CHECK(same, "%s: pixels differ after the round trip", shapes[s].name);
            double psnr = 0.0;
            CHECK(image_psnr(&image, &back, &psnr, &error) == 0 && isinf(psnr), "%s: PSNR %g", shapes[s].name, psnr);
            image_free(&back);
        }
        image_free(&image);
    }
    // The magic and header the writer chose.
    FILE *file = fopen(check_path("p3.ppm"), "rb");
    char header[16] = "";
    CHECK(file && fread(header, 1, 11, file) == 11 && strncmp(header, "P3\n4 2\n255\n", 11) == 0, "P3 header: %.11s", header);
    if (file) fclose(file);
}

static void test_comments_and_values(void) {
    const char text[] = "P2 # plain gray\n# a comment line\n3 2\n# maxval next\n9\n0 1 2\n3   4\t9\n";
    REQUIRE(write_file("comments.pgm", text, sizeof text - 1) == 0, "cannot write comments.pgm");
    Image image;
    Error error;
    CHECK(image_read(&image, check_path("comments.pgm"), &error) == 0, "%s", error.message);
    if (image.pixels) {
        CHECK(image.width == 3 && image.height == 2 && image.maxval == 9 && image.channels == 1, "header");
        const float expected[] = {0, 1, 2, 3, 4, 9};
        for (int i = 0; i < 6; i++) CHECK(image.pixels[i] == expected[i], "pixel %d = %g", i, image.pixels[i]);
        image_free(&image);
    }
    // Binary with 2-byte big-endian samples: 0x0102 = 258, 0x03e8 = 1000.
    const unsigned char binary[] = "P5\n2 1\n1000\n\x01\x02\x03\xe8";
    REQUIRE(write_file("wide.pgm", binary, sizeof binary - 1) == 0, "cannot write wide.pgm");
    CHECK(image_read(&image, check_path("wide.pgm"), &error) == 0, "%s", error.message);
    if (image.pixels) {
        CHECK(image.pixels[0] == 258.0f && image.pixels[1] == 1000.0f, "2-byte samples %g %g", image.pixels[0],
              image.pixels[1]);
        image_free(&image);
    }
}

static void test_bundled_photograph(void) {
    Image image;
    Error error;
    CHECK(image_read(&image, "data/black-canyon.pgm", &error) == 0, "%s", error.message);
    if (image.pixels) {
        CHECK(image.width == 512 && image.height == 375 && image.channels == 1 && image.maxval == 255,
              "black-canyon.pgm is %d x %d x %d maxval %d", image.width, image.height, image.channels, image.maxval);
        image_free(&image);
    }
}

static void test_psnr(void) {
    // All 0 against all 2 at maxval 255: MSE 4, PSNR = 10 log10(255² / 4).
    Image a, b, c;
    Error error;
    image_init(&a, 3, 2, 1, 255, &error), image_init(&b, 3, 2, 1, 255, &error), image_init(&c, 2, 3, 1, 255, &error);
    for (int i = 0; i < 6; i++) b.pixels[i] = 2.0f;
    double psnr = 0.0;
    CHECK(image_psnr(&a, &b, &psnr, &error) == 0, "%s", error.message);
    CHECK_NEAR(psnr, 10.0 * log10(255.0 * 255.0 / 4.0), 1e-12);
    CHECK(image_psnr(&a, &c, &psnr, &error) == -1, "PSNR of different shapes should fail");
    image_free(&a), image_free(&b), image_free(&c);
}

static void expect_error(const char *name, const void *bytes, size_t size, const char *words) {
    REQUIRE(write_file(name, bytes, size) == 0, "cannot write %s", check_path(name));
    Image image;
    Error error = {""};
    int status = image_read(&image, check_path(name), &error);
    CHECK(status == -1 && strstr(error.message, words) != NULL && strstr(error.message, name) != NULL,
          "%s: status %d, message '%s' (expected '%s')", name, status, error.message, words);
    CHECK(image.pixels == NULL, "%s: pixels left allocated", name);
}

#define BYTES(literal) literal, sizeof literal - 1

static void test_malformed(void) {
    expect_error("empty.pgm", BYTES(""), "bad magic");
    expect_error("magic.pgm", BYTES("XY\n2 2\n255\nabcd"), "bad magic");
    expect_error("p7.pam", BYTES("P7\nWIDTH 2\n"), "unsupported");
    expect_error("p1.pbm", BYTES("P1\n2 2\n0 1 1 0\n"), "unsupported");
    expect_error("p55.pgm", BYTES("P55\n2 2\n255\nabcd"), "bad magic");
    expect_error("zero_width.pgm", BYTES("P5\n0 3\n255\n"), "dimensions 0 x 3");
    expect_error("negative.pgm", BYTES("P5\n-2 3\n255\n"), "width");
    expect_error("letters.pgm", BYTES("P5\n2 x\n255\nab"), "height");
    expect_error("no_height.pgm", BYTES("P5\n2"), "missing height");
    expect_error("huge.pgm", BYTES("P5\n100000 100000\n255\n"), "too large");
    expect_error("many_digits.pgm", BYTES("P5\n2 12345678901\n255\n"), "too many digits");
    expect_error("maxval0.pgm", BYTES("P5\n2 2\n0\nabcd"), "maxval 0");
    expect_error("maxval_big.pgm", BYTES("P5\n2 2\n65536\nabcdefgh"), "maxval 65536");
    expect_error("maxval_huge.ppm", BYTES("P6\n1 1\n70000\nabcdef"), "maxval 70000");
    expect_error("truncated.pgm", BYTES("P5\n3 2\n255\nabcde"), "truncated");
    expect_error("truncated16.ppm", BYTES("P6\n1 1\n1000\n\x01\x02\x03\x04\x05"), "truncated");
    expect_error("no_data.pgm", BYTES("P5\n3 2\n255"), "truncated");
    expect_error("truncated_plain.pgm", BYTES("P2\n3 2\n255\n1 2 3\n4 5\n"), "truncated pixel data: 5 of 6");
    expect_error("junk_plain.ppm", BYTES("P3\n1 1\n255\n1 x 3\n"), "sample 1");
    expect_error("above_plain.pgm", BYTES("P2\n2 1\n10\n5 11\n"), "above maxval");
    expect_error("above_binary.pgm", BYTES("P5\n2 1\n300\n\x00\x05\x01\x2d"), "above maxval");
    Image image;
    Error error = {""};
    CHECK(image_read(&image, check_path("does_not_exist.pgm"), &error) == -1 && strstr(error.message, "cannot open"),
          "missing file: '%s'", error.message);
    Image small;
    image_init(&small, 1, 1, 1, 255, &error);
    CHECK(image_write(&small, "/nonexistent-directory/x.pgm", 0, &error) == -1 && strstr(error.message, "cannot create"),
          "unwritable path: '%s'", error.message);
    CHECK(image_init(&image, 2, 2, 2, 255, &error) == -1, "2 channels should fail");
    image_free(&small);
}

// The cases that write files need the temporary directory first.
static void round_trips(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    Random rng;
    random_seed(&rng, 11);
    test_round_trips(&rng);
}

static void comments_and_values(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    test_comments_and_values();
}

static void malformed(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    test_malformed();
}

static const CheckCase CASES[] = {
    {"round trips in every format", round_trips},
    {"comments and values", comments_and_values},
    {"the bundled photograph", test_bundled_photograph},
    {"psnr", test_psnr},
    {"malformed files are errors", malformed},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
