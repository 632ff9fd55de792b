// libFuzzer harness: PNG images (foundations/png.h png_read, libpng underneath), then the
// picture checked (1 or 3 channels, samples in 0..255) and written back and read again equal.
#include "foundations/png.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(0, "image.png"), *again = fuzz_path(1, "again.png");
    fuzz_write(path, data, size);
    Image image, back;
    Error error = {{0}};
    if (png_read(&image, path, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    fuzz_require(image.width >= 1 && image.height >= 1 && (image.channels == 1 || image.channels == 3) &&
                     image.maxval == 255,
                 "a PNG read with impossible dimensions");
    long n = (long)image.width * image.height * image.channels;
    for (long i = 0; i < n; i++) fuzz_require(image.pixels[i] >= 0 && image.pixels[i] <= 255, "a sample outside 0..255");
    if (n <= 1 << 20) {  // a round trip, for pictures of reasonable size
        fuzz_require(png_write(&image, again, &error) == 0, "a PNG read could not be written");
        fuzz_require(png_read(&back, again, &error) == 0, "a PNG written could not be read");
        fuzz_require(back.width == image.width && back.height == image.height && back.channels == image.channels,
                     "a PNG changed size through a round trip");
        for (long i = 0; i < n; i++) fuzz_require(back.pixels[i] == image.pixels[i], "a PNG changed through a round trip");
        image_free(&back);
    }
    image_free(&image);
    return 0;
}
