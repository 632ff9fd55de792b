// libFuzzer harness: safetensors files (foundations/safetensors.h safetensors_read), then
// every tensor found by its name, its values read, and every metadata key looked up.
#include "foundations/safetensors.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path(0, "tensors.safetensors");
    fuzz_write(path, data, size);
    Safetensors file;
    Error error = {{0}};
    if (safetensors_read(&file, path, &error)) {
        fuzz_check_error(&error, path);
        return 0;
    }
    double sum = 0;
    for (int i = 0; i < file.n_tensors; i++) {
        const SafetensorsTensor *t = &file.tensors[i];
        fuzz_require(safetensors_find(&file, t->name) == t, "a tensor is not found by its name");
        int64_t count = 1;
        for (int d = 0; d < t->ndim; d++) count *= t->shape[d];
        fuzz_require(count == t->count, "the count is not the product of the shape");
        for (int64_t k = 0; k < t->count; k++) sum += t->floats ? t->floats[k] : t->ints[k];
    }
    (void)sum;
    for (int i = 0; i < file.n_metadata; i++)
        fuzz_require(safetensors_metadata(&file, file.metadata[i].key) != NULL, "a metadata key is not found");
    safetensors_free(&file);
    return 0;
}
