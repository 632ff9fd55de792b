// Tests for foundations/safetensors.h: round trips of every dtype (scalars and empty tensors
// included) with metadata, a file laid out the way PyTorch + Hugging Face's library write it
// (tests/fixtures/safetensors, values converted by PyTorch), bfloat16 rounding, and one error
// for each way a file can be malformed (files built here, in a temporary directory).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/half.h"
#include "foundations/idx.h"
#include "foundations/safetensors.h"
#include "tests/check.h"

static uint32_t bits_of(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

// ----------------------------------------------------------------------------
// Round trips.

static void test_round_trip(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    enum { N = 24 };
    float floats[N];
    int32_t ints[N];
    for (int k = 0; k < N; k++) {
        floats[k] = (float)((k - 11.5) / 7.0) * (k % 5 == 0 ? 1000.0f : 1.0f);
        ints[k] = (k - 12) * 123457 + (k == 0 ? INT32_MIN + 2964084 : 0);  // includes INT32_MIN
    }
    floats[3] = -0.0f, floats[4] = INFINITY, floats[5] = 1e-30f;
    SafetensorsTensor tensors[] = {
        {.name = "f32", .dtype = SAFETENSORS_F32, .ndim = 2, .shape = {4, 6}, .floats = floats},
        {.name = "f16", .dtype = SAFETENSORS_F16, .ndim = 3, .shape = {2, 3, 4}, .floats = floats},
        {.name = "bf16", .dtype = SAFETENSORS_BF16, .ndim = 1, .shape = {N}, .floats = floats},
        {.name = "i32", .dtype = SAFETENSORS_I32, .ndim = 5, .shape = {1, 2, 3, 2, 2}, .ints = ints},
        {.name = "i64", .dtype = SAFETENSORS_I64, .ndim = 2, .shape = {N, 1}, .ints = ints},
        {.name = "scalar", .dtype = SAFETENSORS_F32, .ndim = 0, .floats = floats + 7},
        {.name = "empty", .dtype = SAFETENSORS_I32, .ndim = 2, .shape = {3, 0}, .ints = NULL},
        {.name = "bn1.running_mean", .dtype = SAFETENSORS_F32, .ndim = 1, .shape = {2}, .floats = floats + 9},
    };
    int n = (int)(sizeof tensors / sizeof tensors[0]);
    SafetensorsMetadata metadata[] = {{"format", "pt"}, {"groundup.arch", "mlp \"quoted\" \xc3\xa9"}};
    Error error;
    const char *path = check_path("round_trip.safetensors");
    CHECK(safetensors_write(path, tensors, n, metadata, 2, &error) == 0, "%s", error.message);
    Safetensors file;
    REQUIRE(safetensors_read(&file, path, &error) == 0, "%s", error.message);
    CHECK(file.n_tensors == n, "%d tensors", file.n_tensors);
    CHECK(file.n_metadata == 2, "%d metadata", file.n_metadata);
    CHECK(safetensors_metadata(&file, "format") && strcmp(safetensors_metadata(&file, "format"), "pt") == 0, "format");
    CHECK(safetensors_metadata(&file, "groundup.arch") &&
              strcmp(safetensors_metadata(&file, "groundup.arch"), metadata[1].value) == 0,
          "metadata with quotes and UTF-8 kept");
    CHECK(safetensors_metadata(&file, "absent") == NULL, "absent key");
    CHECK(safetensors_find(&file, "absent") == NULL, "absent tensor");
    for (int t = 0; t < n && t < file.n_tensors; t++) {
        const SafetensorsTensor *in = &tensors[t], *out = &file.tensors[t];
        CHECK(strcmp(out->name, in->name) == 0, "tensor %d is '%s', written in order as '%s'", t, out->name, in->name);
        CHECK(safetensors_find(&file, in->name) == out, "find '%s'", in->name);
        CHECK(out->dtype == in->dtype && out->ndim == in->ndim, "'%s' dtype/ndim", in->name);
        int64_t count = 1;
        for (int d = 0; d < in->ndim; d++) {
            CHECK(out->shape[d] == in->shape[d], "'%s' dim %d", in->name, d);
            count *= in->shape[d];
        }
        CHECK(out->count == count, "'%s' count %lld, expected %lld", in->name, (long long)out->count, (long long)count);
        int is_float = in->dtype == SAFETENSORS_F32 || in->dtype == SAFETENSORS_F16 || in->dtype == SAFETENSORS_BF16;
        CHECK(is_float ? out->floats && !out->ints : out->ints && !out->floats, "'%s' holds the right array", in->name);
        int wrong = 0;
        for (int64_t k = 0; k < count; k++) {
            if (!is_float) {
                wrong += out->ints[k] != in->ints[k];
                continue;
            }
            float expected = in->floats[k];
            if (in->dtype == SAFETENSORS_F16) expected = half_to_float(half_from_float(expected));
            if (in->dtype == SAFETENSORS_BF16) expected = bfloat16_to_float(bfloat16_from_float(expected));
            wrong += bits_of(out->floats[k]) != bits_of(expected);
            // Independently of the converters: 16-bit rounding is within half an ulp (F16: 2^-11
            // relative while in its normal range; BF16: 2^-8).
            double relative = in->dtype == SAFETENSORS_F16 ? 0x1p-11 : in->dtype == SAFETENSORS_BF16 ? 0x1p-8 : 0;
            double input = in->floats[k];
            if (isfinite(input) && fabs(input) < 65504 && fabs(input) > 0x1p-14)
                wrong += !(fabs(out->floats[k] - input) <= relative * fabs(input));
        }
        CHECK(wrong == 0, "'%s': %d values differ", in->name, wrong);
    }
    safetensors_free(&file);
    CHECK(file.n_tensors == 0 && file.tensors == NULL, "freed");

    // No metadata, no tensors: "{}" padded to 8 bytes.
    CHECK(safetensors_write(path, NULL, 0, NULL, 0, &error) == 0, "%s", error.message);
    REQUIRE(safetensors_read(&file, path, &error) == 0, "%s", error.message);
    CHECK(file.n_tensors == 0 && file.n_metadata == 0, "empty file");
    safetensors_free(&file);
}

// ----------------------------------------------------------------------------
// A file as PyTorch writes it.

static void test_pytorch_reference(void) {
    Safetensors file;
    Error error;
    const char *path = "tests/fixtures/safetensors/reference.safetensors";
    if (safetensors_read(&file, path, &error) != 0) {
        CHECK(0, "%s", error.message);
        return;
    }
    CHECK(file.n_tensors == 7, "%d tensors", file.n_tensors);
    CHECK(file.n_tensors > 0 && strcmp(file.tensors[0].name, "positions.i64") == 0, "tensors in data order");
    const char *format = safetensors_metadata(&file, "format");
    CHECK(format && strcmp(format, "pt") == 0, "metadata format=pt");

    const SafetensorsTensor *f32 = safetensors_find(&file, "weight.f32"), *f16 = safetensors_find(&file, "weight.f16"),
                            *bf16 = safetensors_find(&file, "weight.bf16");
    CHECK(f32 && f32->dtype == SAFETENSORS_F32 && f32->ndim == 2 && f32->shape[0] == 3 && f32->shape[1] == 4, "f32");
    CHECK(f16 && f16->dtype == SAFETENSORS_F16 && f16->ndim == 3 && f16->shape[2] == 2 && f16->count == 12, "f16");
    CHECK(bf16 && bf16->dtype == SAFETENSORS_BF16 && bf16->ndim == 1 && bf16->count == 12, "bf16");
    for (int k = 0; k < 12 && f32 && f16 && bf16; k++) {
        float value = (float)((k - 5.5) / 3.0);
        CHECK(bits_of(f32->floats[k]) == bits_of(value), "f32[%d] = %.9g, expected %.9g", k, f32->floats[k], value);
        // PyTorch rounded these to 16 bits; ours must round the same way.
        CHECK(bits_of(f16->floats[k]) == bits_of(half_to_float(half_from_float(value))), "f16[%d] = %.9g", k,
              f16->floats[k]);
        CHECK(bits_of(bf16->floats[k]) == bits_of(bfloat16_to_float(bfloat16_from_float(value))), "bf16[%d] = %.9g",
              k, bf16->floats[k]);
    }
    const SafetensorsTensor *i32 = safetensors_find(&file, "labels.i32"), *i64 = safetensors_find(&file, "positions.i64");
    CHECK(i32 && i32->dtype == SAFETENSORS_I32 && i32->count == 6, "i32");
    for (int k = 0; k < 6 && i32; k++) CHECK(i32->ints[k] == k * 7 - 20, "i32[%d] = %d", k, i32->ints[k]);
    const int32_t expected64[] = {INT32_MIN, -1, 0, 5, INT32_MAX};
    CHECK(i64 && i64->dtype == SAFETENSORS_I64 && i64->count == 5, "i64");
    for (int k = 0; k < 5 && i64; k++) CHECK(i64->ints[k] == expected64[k], "i64[%d] = %d", k, i64->ints[k]);
    const SafetensorsTensor *loss = safetensors_find(&file, "loss"), *empty = safetensors_find(&file, "empty");
    CHECK(loss && loss->ndim == 0 && loss->count == 1 && loss->floats[0] == 2.5f, "scalar loss");
    CHECK(empty && empty->ndim == 2 && empty->shape[0] == 0 && empty->shape[1] == 3 && empty->count == 0, "empty");
    safetensors_free(&file);
}

static void test_bfloat16_rounding(void) {
    CHECK(bfloat16_from_float(1.0f) == 0x3f80, "1");
    CHECK(bfloat16_from_float(1.0f + 0x1p-8f) == 0x3f80, "a tie rounds to the even 1.0");
    CHECK(bfloat16_from_float(1.0f + 0x3p-8f) == 0x3f82, "a tie rounds to the even 1 + 2^-6");
    CHECK(bfloat16_from_float(1.0f + 0x1.2p-8f) == 0x3f81, "above a tie rounds up");
    CHECK(bfloat16_from_float(-2.0f) == 0xc000, "-2");
    CHECK(bfloat16_from_float(3.4e38f) == 0x7f80, "past the largest bfloat16 rounds to infinity");
    CHECK(bfloat16_from_float(-INFINITY) == 0xff80, "-inf");
    CHECK(isnan(bfloat16_to_float(bfloat16_from_float(NAN))), "NaN stays NaN");
    CHECK(bfloat16_to_float(0x4049) == 3.140625f, "0x4049 is 3.140625");
}

// ----------------------------------------------------------------------------
// The mlp reference fixture (tools/reference/mlp_reference.py): its inputs are data/mnist's
// first training images, and a plain double-precision forward pass written here gives its
// logits, loss and last-layer gradients. (The framework's verify checks everything else.)

static const SafetensorsTensor *expect_tensor(const Safetensors *file, const char *name, int ndim, int d0, int d1) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    CHECK(t && t->ndim == ndim && (ndim < 1 || t->shape[0] == d0) && (ndim < 2 || t->shape[1] == d1),
          "tensor '%s' of shape (%d, %d)", name, d0, d1);
    return t && t->ndim == ndim && (ndim < 1 || t->shape[0] == d0) && (ndim < 2 || t->shape[1] == d1) ? t : NULL;
}

// out (B, n_out) = relu?(in (B, n_in) · Wᵀ + b)
static void linear(const double *in, int batch, int n_in, const SafetensorsTensor *w, const SafetensorsTensor *b,
                   int relu, double *out) {
    int n_out = w->shape[0];
    for (int i = 0; i < batch; i++)
        for (int o = 0; o < n_out; o++) {
            double sum = b->floats[o];
            for (int k = 0; k < n_in; k++) sum += in[i * n_in + k] * w->floats[o * n_in + k];
            out[i * n_out + o] = relu && sum < 0 ? 0 : sum;
        }
}

static void test_mlp_fixture(void) {
    Safetensors params, state;
    MnistSet mnist;
    Error error;
    int ok = safetensors_read(&params, "tests/fixtures/mlp/PARAMS.safetensors", &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) return;
    ok = safetensors_read(&state, "tests/fixtures/mlp/STATE.safetensors", &error) == 0;
    CHECK(ok, "%s", error.message);
    if (!ok) {
        safetensors_free(&params);
        return;
    }
    ok = mnist_load("data/mnist", "train", &mnist, &error) == 0;
    CHECK(ok, "%s", error.message);
    const char *arch = safetensors_metadata(&params, "arch");
    CHECK(arch && strcmp(arch, "mlp") == 0, "arch metadata");
    enum { B = 8, H = 16, C = 10 };
    const SafetensorsTensor *w[3], *b[3], *inputs = safetensors_find(&state, "inputs");
    const int widths[4] = {784, H, H, C};
    for (int l = 0; l < 3; l++) {
        char name[32];
        snprintf(name, sizeof name, "fc%d.weight", l + 1);
        w[l] = expect_tensor(&params, name, 2, widths[l + 1], widths[l]);
        snprintf(name, sizeof name, "fc%d.bias", l + 1);
        b[l] = expect_tensor(&params, name, 1, widths[l + 1], 0);
        ok = ok && w[l] && b[l];
    }
    const SafetensorsTensor *targets = expect_tensor(&state, "targets", 1, B, 0),
                            *logits = expect_tensor(&state, "logits", 2, B, C), *loss = expect_tensor(&state, "loss", 0, 0, 0),
                            *steps = expect_tensor(&state, "step_losses", 1, 10, 0),
                            *grad_bias = expect_tensor(&state, "grad.fc3.bias", 1, C, 0),
                            *grad_weight = expect_tensor(&state, "grad.fc3.weight", 2, C, H);
    CHECK(inputs && inputs->ndim == 4 && inputs->shape[0] == B && inputs->shape[1] == 1 && inputs->shape[2] == 28,
          "inputs (8,1,28,28)");
    ok = ok && inputs && inputs->count == B * 784 && targets && targets->ints && logits && loss && steps && grad_bias &&
         grad_weight;
    if (ok) {
        int differ = 0;
        for (int k = 0; k < B * 784; k++) differ += bits_of(inputs->floats[k]) != bits_of(mnist.images[k]);
        for (int k = 0; k < B; k++) differ += targets->ints[k] != mnist.labels[k];
        CHECK(differ == 0, "%d inputs or targets differ from data/mnist's first training images", differ);
        static double x[B * 784], h1[B * H], h2[B * H], z[B * C];
        for (int k = 0; k < B * 784; k++) x[k] = inputs->floats[k];
        linear(x, B, 784, w[0], b[0], 1, h1);
        linear(h1, B, H, w[1], b[1], 1, h2);
        linear(h2, B, H, w[2], b[2], 0, z);
        double total = 0, d_bias[C] = {0}, d_weight[C * H] = {0};
        for (int i = 0; i < B; i++) {
            double max = z[i * C], sum = 0;
            for (int c = 0; c < C; c++) max = fmax(max, z[i * C + c]);
            for (int c = 0; c < C; c++) sum += exp(z[i * C + c] - max);
            total += max + log(sum) - z[i * C + targets->ints[i]];
            for (int c = 0; c < C; c++) {
                CHECK_NEAR(logits->floats[i * C + c], z[i * C + c], 1e-4);
                double d = (exp(z[i * C + c] - max) / sum - (c == targets->ints[i])) / B;  // dL/dz
                d_bias[c] += d;
                for (int k = 0; k < H; k++) d_weight[c * H + k] += d * h2[i * H + k];
            }
        }
        CHECK_NEAR(loss->floats[0], total / B, 1e-5 * total / B);
        CHECK_NEAR(steps->floats[0], loss->floats[0], 1e-6);
        CHECK(steps->floats[9] < steps->floats[0], "AdamW lowers the loss: %g -> %g", steps->floats[0], steps->floats[9]);
        for (int c = 0; c < C; c++) CHECK_NEAR(grad_bias->floats[c], d_bias[c], 1e-6);
        for (int k = 0; k < C * H; k++) CHECK_NEAR(grad_weight->floats[k], d_weight[k], 1e-5);
    }
    mnist_free(&mnist);
    safetensors_free(&params);
    safetensors_free(&state);
}

// ----------------------------------------------------------------------------
// Malformed files: each is refused with a message naming the file and the problem.

// Writes an 8-byte length (header_length, or the header's length when negative), the
// header text and data_size bytes of data (the values k·4 as float32 where they fit).
static const char *make_file(const char *name, long long header_length, const char *header, size_t data_size) {
    const char *path = check_path(name);
    FILE *file = fopen(path, "wb");
    CHECK(file != NULL, "cannot write %s", path);
    if (!file) return path;
    uint64_t length = header_length < 0 ? strlen(header) : (uint64_t)header_length;
    for (int k = 0; k < 8; k++) putc((int)(length >> 8 * k) & 255, file);
    fputs(header, file);
    for (size_t k = 0; k < data_size; k++) putc((int)(k % 4 == 3 ? 0x40 : 0), file);
    fclose(file);
    return path;
}

static void expect_error(const char *path, const char *expected) {
    Safetensors file;
    Error error = {{0}};
    int status = safetensors_read(&file, path, &error);
    CHECK(status != 0, "%s: read succeeded, expected an error containing '%s'", path, expected);
    if (status == 0) {
        safetensors_free(&file);
        return;
    }
    CHECK(strstr(error.message, expected) != NULL, "error '%s' should contain '%s'", error.message, expected);
    CHECK(strstr(error.message, path) != NULL, "error '%s' should name the file", error.message);
    CHECK(strchr(error.message, '\n') == NULL, "one line: '%s'", error.message);
    CHECK(file.n_tensors == 0 && file.tensors == NULL && file.metadata == NULL, "left empty");
}

#define ENTRY(name, dtype, shape, begin, end) \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" begin "," end "]}"

static void test_malformed(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    expect_error(check_path("absent.safetensors"), "cannot open");
    const char *path = check_path("short.safetensors");
    FILE *file = fopen(path, "wb");
    if (file) fputs("{}", file), fclose(file);
    expect_error(path, "too short for the 8-byte header length");
    // Each: file name, header length (-1: the header's own), header, data bytes, expected error.
    const struct {
        const char *name;
        long long header_length;
        const char *header;
        size_t data_size;
        const char *expected;
    } cases[] = {
        {"past_end.safetensors", 1000, "{}", 0, "runs past the end of the file"},
        {"huge_header.safetensors", 1LL << 40, "{}", 0, "above the"},
        {"bad_json.safetensors", -1, "{\"a\":{\"dtype\":\"F32\",", 0, "not valid JSON"},
        {"no_brace.safetensors", -1, " {}", 0, "does not start with '{'"},
        {"array.safetensors", -1, "[]", 0, "does not start with '{'"},
        {"after.safetensors", -1, "{} x", 0, "text after its JSON object"},
        {"not_object.safetensors", -1, "{\"a\":3}", 0, "tensor 'a': entry is not a JSON object"},
        {"missing_field.safetensors", -1, "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
         "tensor 'a': missing \"shape\""},
        {"unknown_dtype.safetensors", -1, "{" ENTRY("a", "F64", "[1]", "0", "8") "}", 8,
         "tensor 'a': dtype 'F64' is not one of"},
        {"dtype_number.safetensors", -1, "{" ENTRY("a", "F32", "[1]", "0", "4")
         ",\"b\":{\"dtype\":1,\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
         "tensor 'b': dtype (not a string)"},
        {"size_mismatch.safetensors", -1, "{" ENTRY("a", "F32", "[2]", "0", "4") "}", 4,
         "tensor 'a': data_offsets span 4 bytes, but shape and dtype F32 need 8"},
        {"size_mismatch_f16.safetensors", -1, "{" ENTRY("a", "F16", "[2,2]", "0", "16") "}", 16,
         "span 16 bytes, but shape and dtype F16 need 8"},
        {"out_of_range.safetensors", -1, "{" ENTRY("a", "F32", "[4]", "0", "16") "}", 8,
         "tensor 'a': data_offsets [0, 16] out of range (the data region has 8 bytes)"},
        {"reversed.safetensors", -1, "{" ENTRY("a", "F32", "[1]", "8", "4") "}", 8, "out of range"},
        {"overlap.safetensors", -1, "{" ENTRY("a", "F32", "[2]", "0", "8") ","
         ENTRY("b", "F32", "[2]", "4", "12") "}", 12,
         "tensor 'b' overlaps 'a'"},
        {"same_bytes.safetensors", -1, "{" ENTRY("a", "F32", "[2]", "0", "8") ","
         ENTRY("b", "I32", "[2]", "0", "8") "}", 8,
         "overlaps"},
        {"hole.safetensors", -1, "{" ENTRY("a", "F32", "[1]", "0", "4") "," ENTRY("b", "F32", "[1]", "8", "12") "}",
         12,
         "hole in the data: bytes 4..8 belong to no tensor (before 'b')"},
        {"hole_first.safetensors", -1, "{" ENTRY("a", "F32", "[1]", "4", "8") "}", 8, "hole in the data: bytes 0..4"},
        {"trailing.safetensors", -1, "{" ENTRY("a", "F32", "[1]", "0", "4") "}", 12,
         "8 bytes after the last tensor's data belong to no tensor"},
        {"duplicate.safetensors", -1, "{" ENTRY("a", "F32", "[1]", "0", "4") ","
         ENTRY("a", "F32", "[1]", "4", "8") "}", 8,
         "duplicate name 'a'"},
        {"duplicate_metadata.safetensors", -1, "{\"__metadata__\":{},\"__metadata__\":{}}", 0,
         "duplicate name '__metadata__'"},
        {"six_dims.safetensors", -1, "{" ENTRY("a", "F32", "[1,1,1,1,1,1]", "0", "4") "}", 4,
         "tensor 'a': 6 dimensions, at most 5"},
        {"negative_dim.safetensors", -1, "{" ENTRY("a", "F32", "[-1]", "0", "0") "}", 0,
         "tensor 'a': dimension 0 is not an integer"},
        {"fraction_dim.safetensors", -1, "{" ENTRY("a", "F32", "[1,2.5]", "0", "10") "}", 10,
         "dimension 1 is not an integer"},
        {"huge_dim.safetensors", -1, "{" ENTRY("a", "F32", "[4294967297]", "0", "4") "}", 4,
         "dimension 0 is not an integer in 0..2147483647"},
        {"negative_offset.safetensors", -1, "{" ENTRY("a", "F32", "[1]", "-4", "0") "}", 4,
         "data_offsets is not [begin, end]"},
        {"three_offsets.safetensors", -1, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4,
         "data_offsets is not [begin, end]"},
        {"overflow.safetensors", -1, "{" ENTRY("a", "F32", "[2147483647,2147483647,2147483647]", "0", "4") "}", 4,
         "the shape's size overflows"},
        {"huge_offset.safetensors", -1, "{" ENTRY("a", "F32", "[1]", "0", "1e300") "}", 4,
         "data_offsets is not [begin, end]"},
        {"metadata_number.safetensors", -1, "{\"__metadata__\":{\"epoch\":3}}", 0,
         "__metadata__ 'epoch' is not a string"},
        {"metadata_list.safetensors", -1, "{\"__metadata__\":[\"a\"]}", 0, "__metadata__ is not a JSON object"},
        // Found by fuzzing: a name holding a newline is quoted escaped, the message stays one line.
        {"newline_name.safetensors", -1, "{\"a\\nb\":3}", 0, "tensor 'a\\nb': entry is not a JSON object"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        expect_error(make_file(cases[k].name, cases[k].header_length, cases[k].header, cases[k].data_size),
                     cases[k].expected);

    // An I64 value outside int32, named with its tensor and index.
    path = check_path("i64_big.safetensors");
    int64_t values[2] = {7, (int64_t)1 << 31};
    file = fopen(path, "wb");
    const char *header = "{" ENTRY("step", "I64", "[2]", "0", "16") "}";
    if (file) {
        uint64_t length = strlen(header);
        for (int k = 0; k < 8; k++) putc((int)(length >> 8 * k) & 255, file);
        fputs(header, file);
        for (int v = 0; v < 2; v++)
            for (int k = 0; k < 8; k++) putc((int)((uint64_t)values[v] >> 8 * k) & 255, file);
        fclose(file);
    }
    expect_error(path, "tensor 'step': I64 value 2147483648 at index 1 does not fit in int32");
}

static void expect_write_error(const SafetensorsTensor *tensors, int n, const SafetensorsMetadata *metadata,
                               int n_metadata, const char *expected) {
    Error error = {{0}};
    const char *path = check_path("kept.safetensors");
    CHECK(safetensors_write(path, tensors, n, metadata, n_metadata, &error) != 0, "expected '%s'", expected);
    CHECK(strstr(error.message, expected) != NULL, "error '%s' should contain '%s'", error.message, expected);
    // The file that was there is untouched.
    Safetensors file;
    CHECK(safetensors_read(&file, path, &error) == 0 && file.n_tensors == 1, "previous file kept");
    safetensors_free(&file);
}

static void test_write_errors(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    float value = 1.0f;
    SafetensorsTensor good = {.name = "w", .dtype = SAFETENSORS_F32, .ndim = 1, .shape = {1}, .floats = &value};
    Error error;
    CHECK(safetensors_write(check_path("kept.safetensors"), &good, 1, NULL, 0, &error) == 0, "%s", error.message);
    SafetensorsTensor two[2] = {good, good};
    expect_write_error(two, 2, NULL, 0, "duplicate name 'w'");
    SafetensorsTensor bad = good;
    bad.shape[0] = -2;
    expect_write_error(&bad, 1, NULL, 0, "dimension 0 is negative");
    bad = good, bad.ndim = 6;
    expect_write_error(&bad, 1, NULL, 0, "ndim 6 outside 0..5");
    bad = good, bad.dtype = SAFETENSORS_I32;
    expect_write_error(&bad, 1, NULL, 0, "no int32 data for dtype I32");
    bad = good, bad.name = "__metadata__";
    expect_write_error(&bad, 1, NULL, 0, "cannot be written");
    SafetensorsMetadata pairs[2] = {{"a", "1"}, {"a", "2"}};
    expect_write_error(&good, 1, pairs, 2, "duplicate metadata key 'a'");
    CHECK(safetensors_write("/nonexistent-directory/x.safetensors", &good, 1, NULL, 0, &error) != 0 &&
              strstr(error.message, "/nonexistent-directory/x.safetensors"),
          "unwritable path: '%s'", error.message);
}

static const CheckCase CASES[] = {
    {"round trip of every dtype with metadata", test_round_trip},
    {"a file in PyTorch's layout", test_pytorch_reference},
    {"bfloat16 rounding", test_bfloat16_rounding},
    {"the mlp fixture computes its logits", test_mlp_fixture},
    {"malformed files", test_malformed},
    {"write errors", test_write_errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
