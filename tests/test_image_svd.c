// foundations/image_svd.h: the full-rank image is the image, ranks asked out of order give
// the same pixels as in order, the rank-1 image of a rank-1 picture is exact, the storage
// formula, and the montage's layout.
#include <string.h>

#include "foundations/image_svd.h"
#include "foundations/random.h"
#include "tests/check.h"

// A random 7 x 5 colour image: full rank gives it back, rank 2 is the same by either path,
// more rank is closer.
static void ranks_of_a_random_image(void) {
    Error error;
    Random rng;
    random_seed(&rng, 5);
    Image image, out, again;
    REQUIRE(image_init(&image, 7, 5, 3, 255, &error) == 0, "%s", error.message);
    for (size_t i = 0; i < 7 * 5 * 3; i++) image.pixels[i] = (float)random_below(&rng, 256);
    ImageSvd svd;
    REQUIRE(image_svd(&image, &svd, &error) == 0, "%s", error.message);
    CHECK(svd.p == 5 && svd.channels == 3, "p %d, channels %d", svd.p, svd.channels);
    REQUIRE(image_init(&out, 7, 5, 3, 255, &error) == 0 && image_init(&again, 7, 5, 3, 255, &error) == 0, "%s",
            error.message);
    image_svd_rank(&svd, 5, &out);
    CHECK(memcmp(out.pixels, image.pixels, sizeof(float) * 7 * 5 * 3) == 0, "full rank gives the image back");
    image_svd_rank(&svd, 2, &out);  // down from 5: the sums start again
    image_svd_rank(&svd, 1, &again);
    image_svd_rank(&svd, 2, &again);
    CHECK(memcmp(out.pixels, again.pixels, sizeof(float) * 7 * 5 * 3) == 0, "rank 2 the same by either path");
    double psnr_2, psnr_4;
    image_psnr(&image, &out, &psnr_2, &error);
    image_svd_rank(&svd, 4, &out);
    image_psnr(&image, &out, &psnr_4, &error);
    CHECK(psnr_4 > psnr_2, "more rank, closer: %g dB > %g dB", psnr_4, psnr_2);
    image_svd_free(&svd);
    image_free(&image), image_free(&out), image_free(&again);
}

// The outer product of two ramps (a rank-1 picture), 6 x 4.
static int ramp_picture(Image *ramp, Image *ramp_1) {
    Error error;
    int ok = image_init(ramp, 6, 4, 1, 255, &error) == 0 && image_init(ramp_1, 6, 4, 1, 255, &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return -1;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 6; x++) ramp->pixels[y * 6 + x] = (float)((y + 1) * (x + 2) * 5);
    return 0;
}

// A rank-1 picture is its own rank-1 approximation; the storage formula.
static void a_rank_1_picture_is_exact_at_rank_1(void) {
    Error error;
    ImageSvd svd;
    Image ramp, ramp_1;
    REQUIRE(ramp_picture(&ramp, &ramp_1) == 0, "cannot make the picture");
    REQUIRE(image_svd(&ramp, &svd, &error) == 0, "%s", error.message);
    image_svd_rank(&svd, 1, &ramp_1);
    CHECK(memcmp(ramp.pixels, ramp_1.pixels, sizeof(float) * 24) == 0, "rank-1 picture exact at rank 1");
    image_svd_free(&svd);
    CHECK_NEAR(image_svd_storage(375, 512, 20), (375.0 + 512 + 1) * 20 / (375.0 * 512), 1e-15);
    image_free(&ramp), image_free(&ramp_1);
}

// Montage: ramp | 2 white columns | ramp_1, 14 wide; images of different heights refused.
static void the_montage_layout(void) {
    Error error;
    ImageSvd svd;
    Image ramp, ramp_1, image;
    REQUIRE(ramp_picture(&ramp, &ramp_1) == 0, "cannot make the picture");
    REQUIRE(image_svd(&ramp, &svd, &error) == 0, "%s", error.message);
    image_svd_rank(&svd, 1, &ramp_1);
    image_svd_free(&svd);
    REQUIRE(image_init(&image, 7, 5, 3, 255, &error) == 0, "%s", error.message);
    Image panels[2] = {ramp, ramp_1}, montage;
    CHECK(image_montage(panels, 2, 2, &montage, &error) == 0, "%s", error.message);
    CHECK(montage.width == 14 && montage.height == 4, "montage %d x %d", montage.width, montage.height);
    CHECK(montage.pixels[6] == 255.0f && montage.pixels[7] == 255.0f && montage.pixels[8] == ramp_1.pixels[0] &&
              montage.pixels[14 * 3 + 5] == ramp.pixels[3 * 6 + 5],
          "montage layout");
    image_free(&montage);
    CHECK(image_montage((Image[]){ramp, image}, 2, 2, &montage, &error) != 0 && strstr(error.message, "image 1"),
          "images of different heights are refused");
    image_free(&image), image_free(&ramp), image_free(&ramp_1);
}

static const CheckCase CASES[] = {
    {"ranks of a random image", ranks_of_a_random_image},
    {"a rank-1 picture is exact at rank 1", a_rank_1_picture_is_exact_at_rank_1},
    {"the montage layout", the_montage_layout},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }

