// BERT (models/bert.h, mlm_data.h, bert_pretrain.h): the same weights and batch as PyTorch
// (tests/fixtures/bert, from tools/reference/bert_reference.py fixture) give the same logits,
// loss, every gradient and AdamW step losses, padding keys included; a moved weight is caught;
// the masking's statistics (15% chosen, 80/10/10, never a special token, uniform positions);
// packing; the held-out set is reproducible; the model file round-trips and refuses damaged
// files; fill-mask refuses a text without [MASK] or too long; a short training lowers the loss.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/safetensors.h"
#include "models/bert_pretrain.h"
#include "nn/optim.h"
#include "nn/state_dict.h"
#include "tests/check.h"

static const char *PARAMS = "tests/fixtures/bert/PARAMS.safetensors", *STATE = "tests/fixtures/bert/STATE.safetensors";

// The fixture's model: sizes from its metadata, weights from the file.
static int fixture_net(BertNet *net, Safetensors *params_file) {
    Error error;
    if (safetensors_read(params_file, PARAMS, &error)) return -1;
    BertConfig c = {0};
    const char *keys[6] = {"vocab_size", "max_length", "layers", "heads", "dim", "ff"};
    int *values[6] = {&c.vocab_size, &c.max_length, &c.n_layers, &c.n_heads, &c.d_model, &c.d_ff};
    for (int i = 0; i < 6; i++) {
        const char *text = safetensors_metadata(params_file, keys[i]);
        *values[i] = text ? atoi(text) : 0;
    }
    Random rng;
    random_seed(&rng, 1);
    if (bert_net_create(net, &c, &rng, &error)) return -1;
    return state_dict_load_file(&net->params, params_file, PARAMS, &error);
}

typedef struct Fixture {
    const SafetensorsTensor *ids, *types, *padding, *positions, *targets;
    unsigned char padding_bytes[256];
} Fixture;

static int fixture_batch(const Safetensors *state, Fixture *f) {
    f->ids = safetensors_find(state, "ids"), f->types = safetensors_find(state, "types");
    f->padding = safetensors_find(state, "padding"), f->positions = safetensors_find(state, "positions");
    f->targets = safetensors_find(state, "targets");
    if (!f->ids || !f->types || !f->padding || !f->positions || !f->targets || f->padding->count > 256) return -1;
    for (long i = 0; i < f->padding->count; i++) f->padding_bytes[i] = (unsigned char)f->padding->ints[i];
    return 0;
}

static Tensor *fixture_forward(Tape *tape, const BertNet *net, const Fixture *f, Tensor **loss) {
    tape_reset(tape);
    return bert_forward(tape, net, f->ids->ints, f->types->ints, f->padding_bytes, f->ids->shape[0], f->ids->shape[1],
                        f->positions->ints, (int)f->positions->count, f->targets->ints, loss, 1, NULL);
}

static double max_difference(const float *a, const float *b, long n, double *largest) {
    double worst = 0.0;
    *largest = 0.0;
    for (long i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i])), *largest = fmax(*largest, fabs((double)b[i]));
    return worst;
}

static void matches_pytorch(void) {
    BertNet net;
    Safetensors params_file, state;
    Fixture f;
    Error error;
    REQUIRE(fixture_net(&net, &params_file) == 0, "the fixture's model does not load");
    REQUIRE(safetensors_read(&state, STATE, &error) == 0 && fixture_batch(&state, &f) == 0, "the fixture's state");
    Tape tape;
    tape_init(&tape);
    Tensor *loss, *logits = fixture_forward(&tape, &net, &f, &loss);
    REQUIRE(logits && loss, "forward: %s", tape.error.message);
    const SafetensorsTensor *logits_ref = safetensors_find(&state, "logits"), *loss_ref = safetensors_find(&state, "loss");
    REQUIRE(logits_ref && logits_ref->count == logits->size && loss_ref, "reference logits and loss");
    double largest, d = max_difference(logits->data, logits_ref->floats, logits->size, &largest);
    CHECK(d <= 1e-4, "logits differ by %g", d);
    CHECK(fabs(loss->data[0] - loss_ref->floats[0]) <= 1e-5 * fabs(loss_ref->floats[0]), "loss %g vs %g", loss->data[0], loss_ref->floats[0]);
    parameters_zero_grad(&net.params);
    REQUIRE(tape_backward(&tape, loss, &error) == 0, "%s", error.message);
    int compared = 0;
    for (int i = 0; i < net.params.count; i++) {
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", net.params.entries[i].name);
        const SafetensorsTensor *g = safetensors_find(&state, name);
        Tensor *t = net.params.entries[i].tensor;
        CHECK(g && g->count == t->size, "%s missing", name);
        if (!g || g->count != t->size) continue;
        d = max_difference(t->grad, g->floats, t->size, &largest);
        CHECK(d <= 1e-3 * largest, "%s: %g (largest %g)", name, d, largest);
        compared++;
    }
    CHECK(compared == 5 + 2 * 12 + 5 && compared == net.params.count, "%d gradients of %d", compared, net.params.count);
    // AdamW steps on the same batch, as the reference took them (weight decay 0.01 on every tensor).
    const SafetensorsTensor *steps = safetensors_find(&state, "step_losses");
    REQUIRE(steps && steps->count == 5, "step_losses");
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f};
    group.config.weight_decay = 0.01f;
    ParamOptimizer optimizer;
    REQUIRE(param_optimizer_init(&optimizer, &net.params, &group, 1, NULL, &error) == 0, "%s", error.message);
    for (int k = 0; k < 5; k++) {
        fixture_forward(&tape, &net, &f, &loss);
        REQUIRE(loss, "%s", tape.error.message);
        CHECK(fabs(loss->data[0] - steps->floats[k]) <= 1e-5 * fabs(steps->floats[k]), "step %d: %g vs %g", k, loss->data[0], steps->floats[k]);
        parameters_zero_grad(&net.params);
        tape_backward(&tape, loss, &error);
        param_optimizer_step(&optimizer, 1e-3f);
    }
    param_optimizer_free(&optimizer);
    tape_free(&tape);
    safetensors_free(&state);
    safetensors_free(&params_file);
    bert_net_free(&net);
}

// The comparison can fail: one weight of the last layer moved by 0.01 moves the logits past 1e-4;
// dropping the padding mask does too.
static void a_moved_weight_or_a_lost_mask_is_caught(void) {
    BertNet net;
    Safetensors params_file, state;
    Fixture f;
    Error error;
    REQUIRE(fixture_net(&net, &params_file) == 0 && safetensors_read(&state, STATE, &error) == 0 && fixture_batch(&state, &f) == 0, "fixture");
    const SafetensorsTensor *logits_ref = safetensors_find(&state, "logits");
    Tape tape;
    tape_init(&tape);
    parameters_find(&net.params, "encoder.layers.1.linear2.weight")->data[3] += 0.01f;
    Tensor *loss, *logits = fixture_forward(&tape, &net, &f, &loss);
    double largest;
    REQUIRE(logits, "forward");
    CHECK(max_difference(logits->data, logits_ref->floats, logits->size, &largest) > 1e-4, "a moved weight is not seen");
    parameters_find(&net.params, "encoder.layers.1.linear2.weight")->data[3] -= 0.01f;
    memset(f.padding_bytes, 0, sizeof f.padding_bytes);
    logits = fixture_forward(&tape, &net, &f, &loss);
    REQUIRE(logits, "forward");
    CHECK(max_difference(logits->data, logits_ref->floats, logits->size, &largest) > 1e-4, "the padding mask changes nothing");
    tape_free(&tape);
    safetensors_free(&state);
    safetensors_free(&params_file);
    bert_net_free(&net);
}

static const MlmSpecials SPECIALS = {1000, 1000, 1001, 1002, 1003};

static void packing_puts_cls_and_seps_and_types(void) {
    int span[7] = {10, 11, 12, 13, 14, 15, 16}, ids[10], types[10];
    mlm_pack(span, 10, 3, &SPECIALS, ids, types);
    int want_ids[10] = {1000, 10, 11, 12, 1001, 13, 14, 15, 16, 1001}, want_types[10] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    for (int t = 0; t < 10; t++) CHECK(ids[t] == want_ids[t] && types[t] == want_types[t], "t %d: %d %d", t, ids[t], types[t]);
    CHECK(mlm_predictions_per_row(128) == 19 && mlm_predictions_per_row(5) == 1 && mlm_predictions_per_row(12) == 1,
          "k %d %d", mlm_predictions_per_row(128), mlm_predictions_per_row(5));
}

static void masking_has_the_papers_statistics(void) {
    enum { T = 64, ROWS = 4000 };
    int k = mlm_predictions_per_row(T), chosen[64], targets[64], span[T], ids[T], original[T], types[T];
    long masked = 0, random_tokens = 0, kept = 0, total = 0, per_position[T] = {0};
    Random rng;
    random_seed(&rng, 7);
    for (int row = 0; row < ROWS; row++) {
        for (int i = 0; i < T - 3; i++) span[i] = (int)random_below(&rng, 1000);
        mlm_pack(span, T, 1 + (int)random_below(&rng, T - 4), &SPECIALS, ids, types);
        memcpy(original, ids, sizeof ids);
        mlm_mask_row(ids, T, &SPECIALS, &rng, chosen, targets);
        int changed = 0;
        for (int t = 0; t < T; t++) changed += ids[t] != original[t];
        CHECK(changed <= k, "row %d: %d changed, %d chosen", row, changed, k);
        for (int i = 0; i < k; i++) {
            int t = chosen[i];
            CHECK(i == 0 || chosen[i - 1] < t, "row %d: positions not ascending", row);
            CHECK(original[t] < SPECIALS.n_ordinary, "row %d: a special token chosen at %d", row, t);
            CHECK(targets[i] == original[t], "row %d: the target is not the original token", row);
            masked += ids[t] == SPECIALS.mask;
            kept += ids[t] == original[t];
            random_tokens += ids[t] != SPECIALS.mask && ids[t] != original[t];
            CHECK(ids[t] == SPECIALS.mask || ids[t] < SPECIALS.n_ordinary, "a replacement outside the ordinary tokens");
            per_position[t]++, total++;
        }
    }
    CHECK(total == (long)ROWS * k && k == 9, "%ld predictions, k %d", total, k);
    CHECK(fabs((double)masked / total - 0.8) < 0.01, "[MASK] %.4f", (double)masked / total);
    CHECK(fabs((double)random_tokens / total - 0.1) < 0.01, "random %.4f", (double)random_tokens / total);
    CHECK(fabs((double)kept / total - 0.1) < 0.01, "kept %.4f", (double)kept / total);
    // [CLS] (t 0) and the last [SEP] are never chosen; the middle positions are chosen evenly
    // (each text position has probability k/(T−3); the middle [SEP] moves, so its t is shared).
    CHECK(per_position[0] == 0 && per_position[T - 1] == 0, "[CLS] %ld, last [SEP] %ld", per_position[0], per_position[T - 1]);
    double expected = (double)ROWS * k / (T - 3);
    for (int t = 2; t < T - 2; t++)
        CHECK(fabs(per_position[t] - expected) < 0.2 * expected,
              "position %d chosen %ld times, expected about %.0f", t, per_position[t], expected);
}

static void the_heldout_set_is_reproducible(void) {
    int tokens[1000];
    for (int i = 0; i < 1000; i++) tokens[i] = (i * 37) % 1000;
    MlmBatch a, b;
    Error error;
    REQUIRE(mlm_heldout_set(&a, tokens, 1000, 32, 3, 42, &SPECIALS, &error) == 0, "%s", error.message);
    REQUIRE(mlm_heldout_set(&b, tokens, 1000, 32, 3, 42, &SPECIALS, &error) == 0, "%s", error.message);
    CHECK(a.B == 3 * (1000 / 29) && a.k == 4, "%d rows, k %d", a.B, a.k);
    CHECK(memcmp(a.ids, b.ids, sizeof(int) * (size_t)a.B * 32) == 0 && memcmp(a.positions, b.positions, sizeof(int) * (size_t)a.B * a.k) == 0,
          "two sets from one seed differ");
    int windows = a.B / 3, same = 1;
    for (int i = 0; i < windows * a.k; i++) same &= a.positions[i] + windows * 32 == a.positions[windows * a.k + i];
    CHECK(!same, "the passes mask the windows alike");
    for (int r = 0; r < a.B; r++) {
        // 29 text tokens cut at 14: [CLS] a_1..a_14 [SEP] (types 0, t <= 15), then types 1
        CHECK(a.ids[r * 32 + 15] == SPECIALS.sep && a.types[r * 32 + 15] == 0 && a.types[r * 32 + 16] == 1,
              "row %d: the split is not in the middle", r);
        for (int i = 0; i < a.k; i++) {
            int p = a.positions[r * a.k + i];
            CHECK(p / 32 == r, "row %d: position %d in another row", r, p);
        }
    }
    mlm_batch_free(&a), mlm_batch_free(&b);
    CHECK(mlm_heldout_set(&a, tokens, 20, 32, 1, 1, &SPECIALS, &error) != 0 && strstr(error.message, "fewer than one input"),
          "%s", error.message);
}

// A small model with a BPE of 300 tokens trained on a short text.
static const char *TEXT = "the white whale swam away from the ship; the sea was calm and the whale was white.\n";

static int tiny_model(BertModel *model, int max_length, int d_model) {
    Error error;
    Bpe bpe;
    MlmSpecials specials;
    if (bpe_train(&bpe, (const unsigned char *)TEXT, strlen(TEXT), 270, PATTERN_GPT2, NULL, NULL, &error) ||
        mlm_add_specials(&bpe, &specials, &error))
        return -1;
    BertConfig config = {.max_length = max_length, .n_layers = 2, .n_heads = 2, .d_model = d_model, .d_ff = 2 * d_model};
    return bert_model_create(model, &bpe, config, 5, &error);
}

static void the_model_file_round_trips_and_refuses_damage(void) {
    BertModel model, loaded;
    Error error;
    REQUIRE(tiny_model(&model, 16, 16) == 0, "tiny model");
    const char *path = check_path("bert.safetensors");
    REQUIRE(bert_model_save(&model, path, &error) == 0, "%s", error.message);
    REQUIRE(bert_model_load(&loaded, path, &error) == 0, "%s", error.message);
    CHECK(loaded.net.config.vocab_size == 274 && loaded.specials.mask == 272 && loaded.net.config.n_layers == 2, "config");
    FillMaskResult a, b;
    REQUIRE(bert_fill_mask(&model, "the white [MASK] swam", 3, &a, &error) == 0, "%s", error.message);
    REQUIRE(bert_fill_mask(&loaded, "the white [MASK] swam", 3, &b, &error) == 0, "%s", error.message);
    CHECK(a.n_masks == 1 && a.k == 3 && memcmp(a.ids, b.ids, sizeof(int) * 3) == 0 && a.probs[0] == b.probs[0], "a different model back");
    CHECK(a.probs[0] >= a.probs[1] && a.probs[1] >= a.probs[2] && a.probs[0] <= 1.0f, "not sorted");
    fill_mask_result_free(&a), fill_mask_result_free(&b);
    bert_model_free(&loaded);
    // a truncated file
    FILE *in = fopen(path, "rb");
    char *bytes = malloc(1 << 20);
    size_t n = in ? fread(bytes, 1, 1 << 20, in) : 0;
    if (in) fclose(in);
    const char *cut = check_path("cut.safetensors");
    FILE *out = fopen(cut, "wb");
    if (out) fwrite(bytes, 1, n / 2, out), fclose(out);
    CHECK(bert_model_load(&loaded, cut, &error) != 0 && strstr(error.message, cut), "a truncated file loads: %s", error.message);
    free(bytes);
    CHECK(bert_model_load(&loaded, check_path("none.safetensors"), &error) != 0, "a missing file loads");
    // a state_dict without the metadata (another architecture's file)
    CHECK(bert_model_load(&loaded, "tests/fixtures/mlp/PARAMS.safetensors", &error) != 0 && strstr(error.message, "not a bert model"),
          "%s", error.message);
    bert_model_free(&model);
}

static void fill_mask_refuses_bad_text(void) {
    BertModel model;
    Error error;
    FillMaskResult result;
    REQUIRE(tiny_model(&model, 8, 16) == 0, "tiny model");
    CHECK(bert_fill_mask(&model, "the white whale", 3, &result, &error) != 0 && strstr(error.message, "no [MASK]"), "%s", error.message);
    CHECK(bert_fill_mask(&model, "the white whale swam away from the [MASK] ship", 3, &result, &error) != 0 &&
              strstr(error.message, "longer than the model's maximum 8"),
          "%s", error.message);
    CHECK(bert_fill_mask(&model, "a [MASK]", 0, &result, &error) != 0, "top-k 0 accepted");
    // two masks, and more completions asked than the vocabulary holds
    REQUIRE(bert_fill_mask(&model, "[MASK] white [MASK]", 1000, &result, &error) == 0, "%s", error.message);
    CHECK(result.n_masks == 2 && result.k == 274, "%d masks, k %d", result.n_masks, result.k);
    double sum = 0.0;
    for (int i = 0; i < result.k; i++) sum += result.probs[i];
    CHECK(fabs(sum - 1.0) < 1e-4, "probabilities sum to %g", sum);
    fill_mask_result_free(&result);
    bert_model_free(&model);
}

static void a_short_training_lowers_the_loss(void) {
    BertModel model;
    Error error;
    REQUIRE(tiny_model(&model, 16, 16) == 0, "tiny model");
    int *tokens = NULL;
    size_t n = 0;
    char text[4096] = "";
    for (int i = 0; i < 20; i++) strcat(text, TEXT);
    REQUIRE(bpe_encode(&model.bpe, (const unsigned char *)text, strlen(text), 0, &tokens, &n, &error) == 0, "%s", error.message);
    MlmBatch heldout;
    REQUIRE(mlm_heldout_set(&heldout, tokens, (long)n, 16, 4, 3, &model.specials, &error) == 0, "%s", error.message);
    MlmScore before, after;
    REQUIRE(mlm_evaluate(&model.net, &heldout, 8, &before, &error) == 0, "%s", error.message);
    BertTrainConfig config = {.batch = 8, .steps = 100, .warmup = 10, .lr = 1e-2f, .min_lr = 1e-3f, .weight_decay = 0.01f, .clip = 1.0f, .seed = 9};
    BertTrainResult result;
    REQUIRE(bert_pretrain(&model, tokens, (long)n, &config, NULL, NULL, &result, &error) == 0, "%s", error.message);
    REQUIRE(mlm_evaluate(&model.net, &heldout, 8, &after, &error) == 0, "%s", error.message);
    CHECK(result.steps == 100, "%ld steps", result.steps);
    // From the uniform guess (ln 274 = 5.6 nats) to the unigram distribution's ~3.2 nats, where a
    // model this small sits for several hundred steps before it uses the context (width 32, 1000
    // steps of 16 rows: 2.2 nats, 40%; too slow for the unoptimised sanitizer build). The most
    // frequent token is 12% of the masked ones.
    CHECK(after.mean_loss < 0.6 * before.mean_loss && after.accuracy > 0.1, "loss %g -> %g, accuracy %g", before.mean_loss,
          after.mean_loss, after.accuracy);
    CHECK(fabs(after.perplexity - exp(after.mean_loss)) < 1e-9 * after.perplexity, "perplexity");
    config.steps = 0;
    CHECK(bert_pretrain(&model, tokens, (long)n, &config, NULL, NULL, &result, &error) != 0, "no budget accepted");
    mlm_batch_free(&heldout);
    free(tokens);
    bert_model_free(&model);
}

static const CheckCase CASES[] = {
    {"matches pytorch", matches_pytorch},
    {"a moved weight or a lost mask is caught", a_moved_weight_or_a_lost_mask_is_caught},
    {"packing", packing_puts_cls_and_seps_and_types},
    {"masking statistics", masking_has_the_papers_statistics},
    {"heldout set", the_heldout_set_is_reproducible},
    {"model file", the_model_file_round_trips_and_refuses_damage},
    {"fill-mask errors", fill_mask_refuses_bad_text},
    {"short training", a_short_training_lowers_the_loss},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
