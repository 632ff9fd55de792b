// libFuzzer harness: PGM and PPM images (foundations/image.h image_read), then every sample
// checked to lie in 0..maxval and the image compared with itself (PSNR, infinite).
#include <math.h>

#include "foundations/image.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(0, "image.pnm");
    fuzz_write(path, data, size);
    Image image;
    Error error = {{0}};
    if (image_read(&image, path, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    fuzz_require(image.width >= 1 && image.height >= 1 && (image.channels == 1 || image.channels == 3) &&
                     image.maxval >= 1 && image.maxval <= 65535,
                 "an image read with impossible dimensions");
    long n = (long)image.width * image.height * image.channels;
    for (long i = 0; i < n; i++)
        fuzz_require(image.pixels[i] >= 0 && image.pixels[i] <= image.maxval, "a sample outside 0..maxval");
    double psnr = 0;
    fuzz_require(image_psnr(&image, &image, &psnr, &error) == 0 && isinf(psnr), "an image differs from itself");
    image_free(&image);
    return 0;
}
