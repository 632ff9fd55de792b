// libFuzzer harness: IDX files, plain or gzip-compressed (foundations/idx.h idx_read), then
// the element count checked against the dimensions and every element read.
#include "foundations/idx.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(0, "data.idx");
    fuzz_write(path, data, size);
    Idx idx;
    Error error = {{0}};
    if (idx_read(&idx, path, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    fuzz_require(idx.type == IDX_TYPE_U8 && idx.ndim >= 1 && idx.ndim <= IDX_MAX_DIMS, "bad type or rank");
    size_t count = 1;
    for (int d = 0; d < idx.ndim; d++) count *= (size_t)idx.dims[d];
    fuzz_require(count == idx.count, "the count is not the product of the dimensions");
    unsigned sum = 0;
    for (size_t i = 0; i < idx.count; i++) sum += idx.data[i];
    (void)sum;
    idx_free(&idx);
    return 0;
}
