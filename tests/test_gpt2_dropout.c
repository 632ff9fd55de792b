// GPT-2's dropout (gpt/gpt2.c, model.h's ModelDropout): p = 0 is the model without dropout bit
// for bit and touches no mask; evaluation ignores it; each site keeps 1 - p of its values; a
// sample's masks depend on its index in the global batch, not on how the batch is split; the
// whole model's gradients with fixed masks match central differences (both attention paths);
// the PyTorch reference (tools/reference/gpt2_dropout_reference.py) computes the same loss and
// gradients with the masks exported from here; training split into accumulation steps draws
// the same masks as in one piece.
//
// `test_gpt2_dropout export-masks DIR` is the exporter the reference script runs: it reads
// DIR/model.bin and DIR/batch.bin and writes DIR/masks.bin (format below).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/gradcheck.h"
#include "foundations/layers.h"
#include "gpt/gpt2.h"
#include "gpt/train.h"
#include "gpt/verify.h"
#include "tests/check.h"
#include "tests/model_loss.h"
#include "tests/names_fixture.h"

enum { V = 37, MAX_T = 12, L = 2, NH = 2, C = 8 };

static void tiny_model(Model *model, Random *rng, int B, int T) {
    Error error;
    ModelConfig config = {.arch = ARCH_GPT2, .vocab_size = V, .context_length = MAX_T, .n_layers = L, .n_heads = NH,
                          .d_model = C};
    REQUIRE(model_init(model, &config, rng, &error) == 0, "create: %s", error.message);
    // Larger weights than the 0.02 initialisation so every path carries a visible gradient.
    for (long i = 0; i < model->n_params; i++) model->params[i] += random_normal(rng, 0.0f, 0.3f);
    REQUIRE(model_prepare(model, B, T, 1, &error) == 0, "prepare: %s", error.message);
}

static void random_tokens(Random *rng, int *tokens, int n) {
    for (int i = 0; i < n; i++) tokens[i] = (int)random_below(rng, V);
}

// Forward and backward on a batch; the loss, and the gradients copied into grads (n_params).
static float loss_and_gradients(Model *model, const int *inputs, const int *targets, int B, int T, float *grads) {
    Error error;
    memset(model->grads, 0, sizeof(float) * (size_t)model->n_params);
    CHECK(model->ops->forward(model, inputs, targets, B, T, &error) == 0 && model_backward(model, &error) == 0, "%s",
          error.message);
    memcpy(grads, model->grads, sizeof(float) * (size_t)model->n_params);
    return model->loss;
}

// p = 0 at every site, whatever the seed and step: the same bits as a model never told of
// dropout, and no mask drawn. p > 0 in evaluation (training off): the same logits as none.
static void zero_probability_is_the_model_without_dropout(void) {
    Random rng;
    random_seed(&rng, 41);
    Model model;
    enum { B = 2, T = 7 };
    tiny_model(&model, &rng, B, T);
    int inputs[B * T], targets[B * T];
    random_tokens(&rng, inputs, B * T), random_tokens(&rng, targets, B * T);
    size_t bytes = sizeof(float) * (size_t)model.n_params;
    float *plain = malloc(bytes), *zero = malloc(bytes);
    float plain_loss = loss_and_gradients(&model, inputs, targets, B, T, plain);
    model.dropout = (ModelDropout){0.0f, 0.0f, 0.0f, 1234, 17, 5};
    float zero_loss = loss_and_gradients(&model, inputs, targets, B, T, zero);
    CHECK(memcmp(&plain_loss, &zero_loss, sizeof(float)) == 0 && memcmp(plain, zero, bytes) == 0,
          "p = 0: loss %.9g against %.9g, gradients bit-identical: %d", zero_loss, plain_loss, memcmp(plain, zero, bytes) == 0);
    for (int site = GPT2_DROPOUT_EMBEDDING; site <= GPT2_DROPOUT_FCPROJ; site++)
        CHECK(gpt2_dropout_mask(&model, (Gpt2DropoutSite)site, 0) == NULL, "p = 0 drew a mask at site %d", site);

    // evaluation: training off, dropout asked for, the logits of the plain model
    Error error;
    size_t logit_bytes = sizeof(float) * (size_t)(B * T * V);
    float *expected = malloc(logit_bytes);
    model.dropout = (ModelDropout){0};
    model.training = 0;
    CHECK(model.ops->forward(&model, inputs, targets, B, T, &error) == 0, "%s", error.message);
    memcpy(expected, model.logits, logit_bytes);
    model.dropout = (ModelDropout){0.5f, 0.5f, 0.5f, 1234, 17, 5};
    CHECK(model.ops->forward(&model, inputs, targets, B, T, &error) == 0, "%s", error.message);
    CHECK(memcmp(expected, model.logits, logit_bytes) == 0, "evaluation with dropout set changed the logits");
    CHECK(gpt2_dropout_mask(&model, GPT2_DROPOUT_ATTENTION, 0) == NULL, "evaluation drew a mask");
    // and training with it changes them
    model.training = 1;
    CHECK(model.ops->forward(&model, inputs, targets, B, T, &error) == 0, "%s", error.message);
    CHECK(memcmp(expected, model.logits, logit_bytes) != 0, "training with p = 0.5 left the logits as they were");
    free(expected), free(plain), free(zero);
    model_free(&model);
}

// The fraction kept at each site is 1 - p within 4.5 standard deviations, and masks differ
// between layers, steps and seeds.
static void masks_keep_one_minus_p(void) {
    Random rng;
    random_seed(&rng, 42);
    Model model;
    enum { B = 4, T = 12 };
    tiny_model(&model, &rng, B, T);
    int inputs[B * T];
    random_tokens(&rng, inputs, B * T);
    Error error;
    const float ps[3] = {0.1f, 0.25f, 0.6f};
    for (int k = 0; k < 3; k++) {
        float p = ps[k];
        model.dropout = (ModelDropout){p, p, p, 99, 3, 0};
        REQUIRE(model.ops->forward(&model, inputs, NULL, B, T, &error) == 0, "%s", error.message);
        for (int site = GPT2_DROPOUT_EMBEDDING; site <= GPT2_DROPOUT_FCPROJ; site++) {
            long n = site == GPT2_DROPOUT_ATTENTION ? (long)B * NH * T * T : (long)B * T * C, kept = 0;
            int layers = site == GPT2_DROPOUT_EMBEDDING ? 1 : L;
            for (int l = 0; l < layers; l++) {
                const unsigned char *keep = gpt2_dropout_mask(&model, (Gpt2DropoutSite)site, l);
                REQUIRE(keep != NULL, "no mask at site %d layer %d", site, l);
                for (long i = 0; i < n; i++) kept += keep[i];
            }
            double total = (double)n * layers, sigma = sqrt(total * p * (1.0 - p));
            CHECK(fabs((double)kept - total * (1.0 - p)) < 4.5 * sigma, "p %g, site %d: kept %ld of %.0f", p, site, kept,
                  total);
        }
        const unsigned char *first = gpt2_dropout_mask(&model, GPT2_DROPOUT_ATTPROJ, 0);
        const unsigned char *second = gpt2_dropout_mask(&model, GPT2_DROPOUT_ATTPROJ, 1);
        const unsigned char *mlp = gpt2_dropout_mask(&model, GPT2_DROPOUT_FCPROJ, 0);
        CHECK(memcmp(first, second, (size_t)B * T * C) != 0 && memcmp(first, mlp, (size_t)B * T * C) != 0,
              "p %g: layers and sites draw different masks", p);
    }
    // another step, another seed: other masks
    unsigned char before[B * T * C];
    memcpy(before, gpt2_dropout_mask(&model, GPT2_DROPOUT_EMBEDDING, 0), sizeof before);
    model.dropout.step = 4;
    REQUIRE(model.ops->forward(&model, inputs, NULL, B, T, &error) == 0, "%s", error.message);
    CHECK(memcmp(before, gpt2_dropout_mask(&model, GPT2_DROPOUT_EMBEDDING, 0), sizeof before) != 0, "another step");
    model.dropout.step = 3, model.dropout.seed = 100;
    REQUIRE(model.ops->forward(&model, inputs, NULL, B, T, &error) == 0, "%s", error.message);
    CHECK(memcmp(before, gpt2_dropout_mask(&model, GPT2_DROPOUT_EMBEDDING, 0), sizeof before) != 0, "another seed");
    model.dropout.seed = 99;
    REQUIRE(model.ops->forward(&model, inputs, NULL, B, T, &error) == 0, "%s", error.message);
    CHECK(memcmp(before, gpt2_dropout_mask(&model, GPT2_DROPOUT_EMBEDDING, 0), sizeof before) == 0, "the same again");
    model_free(&model);
}

// A batch of 4 in one forward, and its last 2 samples alone with first_sample 2 (a second rank's
// share, or a second accumulation step): the same masks for those samples.
static void masks_follow_the_global_sample(void) {
    Random rng;
    random_seed(&rng, 43);
    Model model;
    enum { B = 4, T = 9 };
    tiny_model(&model, &rng, B, T);
    int inputs[B * T];
    random_tokens(&rng, inputs, B * T);
    Error error;
    model.dropout = (ModelDropout){0.3f, 0.3f, 0.3f, 7, 12, 0};
    REQUIRE(model.ops->forward(&model, inputs, NULL, B, T, &error) == 0, "%s", error.message);
    long sizes[4] = {(long)T * C, (long)NH * T * T, (long)T * C, (long)T * C};
    unsigned char *whole[4][L];
    for (int site = 0; site < 4; site++)
        for (int l = 0; l < L; l++) {
            whole[site][l] = malloc((size_t)(B * sizes[site]));
            const unsigned char *keep = gpt2_dropout_mask(&model, (Gpt2DropoutSite)site, site == 0 ? 0 : l);
            memcpy(whole[site][l], keep, (size_t)(B * sizes[site]));
        }
    model.dropout.first_sample = 2;
    REQUIRE(model.ops->forward(&model, inputs + 2 * T, NULL, 2, T, &error) == 0, "%s", error.message);
    for (int site = 0; site < 4; site++)
        for (int l = 0; l < L; l++) {
            const unsigned char *keep = gpt2_dropout_mask(&model, (Gpt2DropoutSite)site, site == 0 ? 0 : l);
            CHECK(memcmp(keep, whole[site][l] + 2 * sizes[site], (size_t)(2 * sizes[site])) == 0,
                  "site %d layer %d: samples 2 and 3 drew other masks in a share of their own", site, l);
            free(whole[site][l]);
        }
    model_free(&model);
}

// Central differences of the whole model's loss with dropout on: the masks are fixed by
// (seed, step, samples), so the loss is a function of the parameters. T = 5 (attention by
// rows); the matrix-product path is compared with the rows below.
static void gradients_with_dropout_match_finite_differences(void) {
    Random rng;
    random_seed(&rng, 44);
    Model model;
    enum { B = 2, T = 5 };
    tiny_model(&model, &rng, B, T);
    int inputs[B * T], targets[B * T];
    random_tokens(&rng, inputs, B * T), random_tokens(&rng, targets, B * T);
    model.dropout = (ModelDropout){0.2f, 0.3f, 0.25f, 5, 8, 1};
    ModelLoss context = {&model, inputs, targets, B, T};
    float *analytic = malloc(sizeof(float) * (size_t)model.n_params);
    loss_and_gradients(&model, inputs, targets, B, T, analytic);
    check_gradients_by_tensor(&context, analytic);
    free(analytic);
    model_free(&model);
}

// Attention with dropout on the probabilities: the matrix-product path and the rows path give
// the same output and gradients, and the output is (m ∘ att) v computed directly.
static void attention_dropout_paths_agree(void) {
    enum { B = 2, T = 12, AC = 8, AH = 2, HS = AC / AH };
    Random rng;
    random_seed(&rng, 45);
    float qkv[B * T * 3 * AC], att[B * AH * T * T], out_rows[B * T * AC], out_gemm[B * T * AC];
    float d_out[B * T * AC], d_rows[B * T * 3 * AC], d_gemm[B * T * 3 * AC];
    unsigned char keep[B * AH * T * T];
    random_fill_normal(&rng, qkv, B * T * 3 * AC, 0.0f, 1.0f);
    random_fill_normal(&rng, d_out, B * T * AC, 0.0f, 1.0f);
    for (int i = 0; i < B * AH * T * T; i++) keep[i] = random_uniform(&rng) >= 0.3f;
    Attention a = attention_self(qkv, B, T, AC, AH);
    a.dropout_keep = keep, a.dropout_scale = 1.0f / 0.7f;
    a.path = ATTENTION_PATH_ROWS;
    CHECK(attention_forward(out_rows, att, &a) == 0, "rows forward");
    memset(d_rows, 0, sizeof d_rows);
    CHECK(attention_backward(d_rows, d_rows + AC, d_rows + 2 * AC, d_out, att, &a) == 0, "rows backward");
    // direct: out_t = sum_s m_ts att_ts v_s
    double worst = 0.0;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < AH; h++)
            for (int t = 0; t < T; t++)
                for (int i = 0; i < HS; i++) {
                    double sum = 0.0;
                    for (int s = 0; s <= t; s++) {
                        long index = (((long)b * AH + h) * T + t) * T + s;
                        sum += keep[index] * a.dropout_scale * att[index] * qkv[((long)b * T + s) * 3 * AC + 2 * AC + h * HS + i];
                    }
                    worst = fmax(worst, fabs(sum - out_rows[((long)b * T + t) * AC + h * HS + i]));
                }
    CHECK(worst < 1e-5, "rows path against (m ∘ att) v: %g", worst);
    a.path = ATTENTION_PATH_GEMM;
    CHECK(attention_forward(out_gemm, att, &a) == 0, "gemm forward");
    memset(d_gemm, 0, sizeof d_gemm);
    CHECK(attention_backward(d_gemm, d_gemm + AC, d_gemm + 2 * AC, d_out, att, &a) == 0, "gemm backward");
    double out_difference = 0.0, grad_difference = 0.0;
    for (int i = 0; i < B * T * AC; i++) out_difference = fmax(out_difference, fabs(out_rows[i] - out_gemm[i]));
    for (int i = 0; i < B * T * 3 * AC; i++) grad_difference = fmax(grad_difference, fabs(d_rows[i] - d_gemm[i]));
    CHECK(out_difference < 1e-5 && grad_difference < 1e-5, "paths differ: out %g, gradients %g", out_difference,
          grad_difference);
}

static void bad_probabilities_are_errors(void) {
    Random rng;
    random_seed(&rng, 46);
    Model model;
    enum { B = 1, T = 3 };
    tiny_model(&model, &rng, B, T);
    int inputs[B * T] = {1, 2, 3};
    Error error = {{0}};
    const float bad[3] = {1.0f, -0.1f, NAN};
    for (int i = 0; i < 3; i++) {
        model.dropout = (ModelDropout){0.1f, bad[i], 0.1f, 1, 0, 0};
        CHECK(model.ops->forward(&model, inputs, NULL, B, T, &error) != 0 && strstr(error.message, "outside [0, 1)"),
              "p %g: %s", (double)bad[i], error.message);
    }
    model_free(&model);
}

// ----------------------------------------------------------------------------
// the PyTorch reference (tools/reference/gpt2_dropout_reference.py) and its fixture

static const char *FIXTURE = "tests/fixtures/gpt2_dropout";

// masks.bin: a 64-byte header, int32 magic 20261130, B, T, L, NH, C; float32 p_embedding,
// p_attention, p_residual; int32 0; uint64 seed; int64 step, first_sample; then the keep bytes:
// the embedding's (B,T,C), and for each layer the attention's (B,NH,T,T), the attention
// projection's (B,T,C) and the MLP projection's (B,T,C).
enum { MASKS_MAGIC = 20261130, MASKS_HEADER_BYTES = 64 };

// The dropout of the fixture (the reference reads it back from masks.bin).
static ModelDropout fixture_dropout(void) { return (ModelDropout){0.1f, 0.2f, 0.3f, 2026, 11, 3}; }

typedef struct Batch {
    int B, T;
    int *inputs, *targets;  // (B,T)
} Batch;

// batch.bin: int32 B, T, then the inputs and the targets (B,T) int32.
static int batch_read(Batch *batch, const char *path) {
    FILE *f = fopen(path, "rb");
    int ok = f && fread(&batch->B, 4, 1, f) == 1 && fread(&batch->T, 4, 1, f) == 1 && batch->B > 0 && batch->T > 0 &&
             batch->B * batch->T < 1 << 20;
    if (ok) {
        size_t n = (size_t)batch->B * batch->T;
        batch->inputs = malloc(4 * n), batch->targets = malloc(4 * n);
        ok = fread(batch->inputs, 4, n, f) == n && fread(batch->targets, 4, n, f) == n;
    }
    if (f) fclose(f);
    return ok ? 0 : -1;
}

// The masks of model's last forward in masks.bin's order, into f (after the header).
static void masks_write(FILE *f, const Model *model, int B, int T) {
    const ModelConfig *c = &model->config;
    long btc = (long)B * T * c->d_model, attention = (long)B * c->n_heads * T * T;
    fwrite(gpt2_dropout_mask(model, GPT2_DROPOUT_EMBEDDING, 0), 1, (size_t)btc, f);
    for (int l = 0; l < c->n_layers; l++) {
        fwrite(gpt2_dropout_mask(model, GPT2_DROPOUT_ATTENTION, l), 1, (size_t)attention, f);
        fwrite(gpt2_dropout_mask(model, GPT2_DROPOUT_ATTPROJ, l), 1, (size_t)btc, f);
        fwrite(gpt2_dropout_mask(model, GPT2_DROPOUT_FCPROJ, l), 1, (size_t)btc, f);
    }
}

static void masks_header(unsigned char header[MASKS_HEADER_BYTES], const Model *model, const ModelDropout *d, int B,
                         int T) {
    memset(header, 0, MASKS_HEADER_BYTES);
    int32_t ints[6] = {MASKS_MAGIC, B, T, model->config.n_layers, model->config.n_heads, model->config.d_model};
    float ps[3] = {d->embedding, d->attention, d->residual};
    int64_t longs[2] = {d->step, d->first_sample};
    memcpy(header, ints, sizeof ints);
    memcpy(header + 24, ps, sizeof ps);
    memcpy(header + 40, &d->seed, 8);
    memcpy(header + 48, longs, sizeof longs);
}

// Loads the fixture's model and batch and runs a training forward with its dropout.
static int fixture_forward(const char *directory, Model *model, Batch *batch, Error *error) {
    char path[512];
    snprintf(path, sizeof path, "%s/model.bin", directory);
    if (llmc_read_checkpoint(model, path, error)) return -1;
    snprintf(path, sizeof path, "%s/batch.bin", directory);
    if (batch_read(batch, path)) return error_set(error, "%s: unreadable", path);
    if (model_prepare(model, batch->B, batch->T, 1, error)) return -1;
    model->dropout = fixture_dropout();
    return model->ops->forward(model, batch->inputs, batch->targets, batch->B, batch->T, error);
}

// The exporter: DIR/masks.bin from DIR/model.bin and DIR/batch.bin.
static int export_masks(const char *directory) {
    Model model;
    Batch batch = {0};
    Error error = {{0}};
    memset(&model, 0, sizeof model);
    char path[512];
    snprintf(path, sizeof path, "%s/masks.bin", directory);
    FILE *f = NULL;
    int ok = fixture_forward(directory, &model, &batch, &error) == 0 && (f = fopen(path, "wb")) != NULL;
    if (ok) {
        unsigned char header[MASKS_HEADER_BYTES];
        ModelDropout d = fixture_dropout();
        masks_header(header, &model, &d, batch.B, batch.T);
        fwrite(header, 1, sizeof header, f);
        masks_write(f, &model, batch.B, batch.T);
        ok = fclose(f) == 0;
    }
    if (!ok) fprintf(stderr, "export-masks: %s\n", error.message[0] ? error.message : path);
    free(batch.inputs), free(batch.targets);
    model_free(&model);
    return ok ? 0 : 1;
}

// The masks drawn now are the fixture's byte for byte (so the generator and its keys have not
// changed), and the loss, logits and every gradient match PyTorch's with those masks.
static void matches_the_pytorch_reference(void) {
    Model model;
    Batch batch = {0};
    Error error = {{0}};
    memset(&model, 0, sizeof model);
    REQUIRE(fixture_forward(FIXTURE, &model, &batch, &error) == 0, "%s", error.message);
    char path[512];
    snprintf(path, sizeof path, "%s/masks.bin", FIXTURE);
    FILE *expected = fopen(path, "rb");
    REQUIRE(expected != NULL, "cannot open %s", path);
    char *drawn = NULL;
    size_t drawn_bytes = 0;
    FILE *memory = open_memstream(&drawn, &drawn_bytes);
    unsigned char header[MASKS_HEADER_BYTES];
    ModelDropout d = fixture_dropout();
    masks_header(header, &model, &d, batch.B, batch.T);
    fwrite(header, 1, sizeof header, memory);
    masks_write(memory, &model, batch.B, batch.T);
    fclose(memory);
    char *stored = malloc(drawn_bytes + 1);
    size_t stored_bytes = fread(stored, 1, drawn_bytes + 1, expected);
    fclose(expected);
    CHECK(stored_bytes == drawn_bytes && memcmp(stored, drawn, drawn_bytes) == 0,
          "the masks drawn now (%zu bytes) are not the fixture's (%zu bytes)", drawn_bytes, stored_bytes);
    free(stored), free(drawn);

    DebugState state;
    snprintf(path, sizeof path, "%s/state.bin", FIXTURE);
    REQUIRE(llmc_read_debug_state(&state, &model, path, &error) == 0, "%s", error.message);
    CHECK(state.B == batch.B && state.T == batch.T && memcmp(state.inputs, batch.inputs, 4 * (size_t)(batch.B * batch.T)) == 0,
          "the state's batch is batch.bin's");
    Gpt2Verification v;
    REQUIRE(gpt2_verify(&model, &state, 0, 0.0f, NULL, 0, &v, &error) == 0, "%s", error.message);
    CHECK(v.logits_difference < VERIFY_LOGITS_TOLERANCE, "logits differ by %g", v.logits_difference);
    CHECK(v.loss_relative < VERIFY_LOSS_TOLERANCE, "loss %.7f against PyTorch's %.7f", v.loss, v.reference_loss);
    for (int i = 0; i < v.n_gradients; i++)
        CHECK(v.gradients[i].relative < VERIFY_GRADIENT_TOLERANCE, "d_%s: %g relative to its largest value",
              model.tensors[i].name, v.gradients[i].relative);
    gpt2_verification_free(&v);
    debug_state_free(&state);
    free(batch.inputs), free(batch.targets);
    model_free(&model);
}

// ----------------------------------------------------------------------------
// the training loop

// A few steps of a tiny GPT-2 on the names with dropout 0.2, in one piece and in two
// accumulation steps: the same masks, so the same losses up to the order of the float sums;
// without dropout, other losses.
static void accumulation_draws_the_same_masks(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    float losses[3][4];
    for (int run = 0; run < 3; run++) {
        Error error = {{0}};
        ModelConfig config = {.arch = ARCH_GPT2, .vocab_size = names.V, .context_length = 16, .n_layers = 2,
                              .n_heads = 2, .d_model = 16};
        Random init;
        random_seed(&init, 99);
        Model model;
        TrainState state;
        TrainConfig c = train_default_config();
        c.batch_size = 4, c.seq_len = 16, c.max_steps = 4, c.eval_every = 0, c.eval_batches = 1, c.warmup_steps = 1;
        c.learning_rate = 1e-2f, c.min_learning_rate = 1e-3f, c.dropout = run == 2 ? 0.0f : 0.2f, c.seed = 7;
        REQUIRE(model_init(&model, &config, &init, &error) == 0 &&
                    train_state_init(&state, &c, &model, "data/names.txt", &error) == 0,
                "%s", error.message);
        TrainRun r = {.model = &model, .tokenizer = &names.tokenizer, .data = &names.data, .state = &state,
                      .grad_accum = run == 1 ? 2 : 1};
        CHECK(train_run(&r, &error) == TRAIN_FINISHED, "%s", error.message);
        for (int s = 0; s < 4; s++) losses[run][s] = state.train_curve.losses[s];
        model_free(&model);
        train_state_free(&state);
    }
    for (int s = 0; s < 4; s++)
        CHECK(fabsf(losses[0][s] - losses[1][s]) < 1e-5f * losses[0][s], "step %d: %.7f in one piece, %.7f in two", s,
              losses[0][s], losses[1][s]);
    CHECK(losses[0][0] != losses[2][0], "without dropout, the same first loss %.7f", losses[0][0]);
    names_free(&names);
}

static const CheckCase CASES[] = {
    {"zero probability is the model without dropout", zero_probability_is_the_model_without_dropout},
    {"masks keep one minus p", masks_keep_one_minus_p},
    {"masks follow the global sample", masks_follow_the_global_sample},
    {"gradients with dropout match finite differences", gradients_with_dropout_match_finite_differences},
    {"attention dropout paths agree", attention_dropout_paths_agree},
    {"bad probabilities are errors", bad_probabilities_are_errors},
    {"matches the pytorch reference", matches_the_pytorch_reference},
    {"accumulation draws the same masks", accumulation_draws_the_same_masks},
};

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "export-masks") == 0) return export_masks(argv[2]);
    return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES);
}
