// The Transformer (models/transformer.h) and its seq2seq use (models/seq2seq.h,
// models/transformer_seq2seq.h): the PyTorch fixtures pass (post-LN ReLU and pre-LN gelu),
// a wrong head count fails; pads and future target tokens change nothing they must not; bad
// lengths and ids are errors; the cross-attention weights are distributions over the real
// keys; greedy decoding in batches equals beam search of width 1; a saved model loads back to
// the same predictions; a short training run fits a small set.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/seq2seq.h"
#include "models/transformer_seq2seq.h"
#include "models/transformer_verify.h"
#include "tests/check.h"

static void the_pytorch_fixtures_pass(void) {
    static ClassifierVerification v;
    Error error;
    REQUIRE(transformer_verify("tests/fixtures/transformer/PARAMS.safetensors",
                               "tests/fixtures/transformer/STATE.safetensors", 2, 10, 1e-3f, &v, &error) == 0,
            "%s", error.message);
    for (int i = 0; i < v.n_grads; i++) CHECK(v.grads[i].ok, "grad %s: %g", v.grads[i].name, v.grads[i].relative);
    CHECK(v.ok && v.logits_ok && v.loss_ok && v.steps_ok, "post-LN: logits %g, loss %g vs %g, steps %g", v.logits_max_abs,
          v.loss, v.reference_loss, v.steps_max_relative);
    // 2 embeddings, 2 encoder layers of 12, encoder norm 2, 2 decoder layers of 18, decoder norm 2, generator 2
    CHECK(v.n_grads == 2 + 2 * 12 + 2 + 2 * 18 + 2 + 2 && v.n_reference_steps == 10, "%d gradients, %d steps",
          v.n_grads, v.n_reference_steps);
    REQUIRE(transformer_verify("tests/fixtures/transformer_prenorm/PARAMS.safetensors",
                               "tests/fixtures/transformer_prenorm/STATE.safetensors", 4, 10, 1e-3f, &v, &error) == 0,
            "%s", error.message);
    CHECK(v.ok && v.n_grads == 2 + 12 + 2 + 2 * 18 + 2 + 2, "pre-LN gelu: loss %g vs %g, %d gradients", v.loss,
          v.reference_loss, v.n_grads);
    // 4 heads on the 2-head fixture: the same weights attend differently
    REQUIRE(transformer_verify("tests/fixtures/transformer/PARAMS.safetensors",
                               "tests/fixtures/transformer/STATE.safetensors", 4, 0, 1e-3f, &v, &error) == 0,
            "%s", error.message);
    CHECK(!v.ok && !v.logits_ok, "the wrong head count passed");
    CHECK(transformer_verify("tests/fixtures/transformer/PARAMS.safetensors",
                             "tests/fixtures/transformer/STATE.safetensors", 3, 0, 1e-3f, &v, &error) == -1 &&
              strstr(error.message, "heads"), "3 heads of 16: %s", error.message);
}

static TransformerNet *small_net(int norm_first) {
    static TransformerNet net;
    TransformerConfig c = {.src_vocab_size = 20, .tgt_vocab_size = 20, .d_model = 16, .n_heads = 2,
                           .n_encoder_layers = 2, .n_decoder_layers = 2, .dim_feedforward = 24,
                           .max_source_length = 8, .max_target_length = 6, .norm_first = norm_first};
    Random rng;
    random_seed(&rng, 5);
    Error error;
    if (transformer_create(&net, &c, &rng, &error)) {
        CHECK(0, "%s", error.message);
        return NULL;
    }
    return &net;
}

static double max_difference(const float *a, const float *b, long n) {
    double d = 0;
    for (long i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

// Row 1 is row 0's source cut to 5 ids and padded: its logits equal the unpadded 5-id source's.
static void pads_and_future_tokens_change_nothing(void) {
    for (int norm_first = 0; norm_first <= 1; norm_first++) {
        TransformerNet *net = small_net(norm_first);
        REQUIRE(net, "no model");
        int source[2 * 7] = {3, 4, 5, 6, 7, 8, 9, 3, 4, 5, 6, 7, 0, 0}, target[2 * 4] = {1, 10, 11, 12, 1, 10, 11, 12};
        unsigned char padding[2 * 7] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
        Tape tape;
        tape_init(&tape);
        tape.recording = 0;
        Tensor *batch = transformer_forward(&tape, net, source, 7, target, 2, 4, padding, NULL, 0, 0, NULL, 0, NULL);
        Tensor *alone = transformer_forward(&tape, net, source + 7, 5, target, 1, 4, NULL, NULL, 0, 0, NULL, 0, NULL);
        REQUIRE(batch && alone, "%s", tape.error.message);
        CHECK(max_difference(batch->data + 4 * 20, alone->data, 4 * 20) < 1e-5, "pads changed the logits (norm_first %d)",
              norm_first);
        CHECK(max_difference(batch->data, batch->data + 4 * 20, 4 * 20) > 1e-3, "the two sources gave the same logits");
        // a later target token changes no earlier position (causal self-attention)
        int changed[4] = {1, 10, 11, 19};
        Tensor *later = transformer_forward(&tape, net, source, 7, changed, 1, 4, NULL, NULL, 0, 0, NULL, 0, NULL);
        REQUIRE(later, "%s", tape.error.message);
        CHECK(max_difference(later->data, batch->data, 3 * 20) < 1e-6, "a future token changed earlier logits");
        CHECK(max_difference(later->data + 3 * 20, batch->data + 3 * 20, 20) > 1e-4, "the changed token changed nothing");
        tape_free(&tape);
        transformer_free(net);
    }
}

static void bad_lengths_and_ids_are_errors(void) {
    TransformerNet *net = small_net(0);
    REQUIRE(net, "no model");
    int ids[16] = {3, 4, 5, 6, 7, 8, 9, 10, 11}, bad[3] = {3, 20, 4};
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    CHECK(!transformer_encode(&tape, net, ids, 1, 9, NULL, 0, NULL) && strstr(tape.error.message, "source of length 9"),
          "9 source ids: %s", tape.error.message);
    tape_reset(&tape);
    CHECK(!transformer_encode(&tape, net, bad, 1, 3, NULL, 0, NULL) && strstr(tape.error.message, "id 20"),
          "id 20: %s", tape.error.message);
    tape_reset(&tape);
    Tensor *memory = transformer_encode(&tape, net, ids, 1, 3, NULL, 0, NULL);
    CHECK(!transformer_decode(&tape, net, ids, 1, 7, memory, NULL, NULL, 0, NULL) &&
              strstr(tape.error.message, "target of length 7"), "7 target ids: %s", tape.error.message);
    tape_free(&tape);
    transformer_free(net);
}

// The last layer's cross-attention: each row a distribution over the source's real keys.
static void cross_attention_rows_are_distributions(void) {
    TransformerNet *net = small_net(0);
    REQUIRE(net, "no model");
    int source[2 * 5] = {3, 4, 5, 6, 7, 8, 9, 10, 0, 0}, target[2 * 3] = {1, 10, 11, 1, 12, 13};
    unsigned char padding[10] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    float weights[2 * 3 * 5];
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *memory = transformer_encode(&tape, net, source, 2, 5, padding, 0, NULL);
    REQUIRE(transformer_decode(&tape, net, target, 2, 3, memory, padding, weights, 0, NULL), "%s", tape.error.message);
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 3; t++) {
            const float *row = weights + (b * 3 + t) * 5;
            double sum = 0;
            for (int s = 0; s < 5; s++) {
                sum += row[s];
                CHECK(row[s] >= 0, "negative weight");
            }
            CHECK_NEAR(sum, 1.0, 1e-5);
            if (b == 1) CHECK(row[3] == 0 && row[4] == 0, "a pad got weight %g %g", row[3], row[4]);
        }
    tape_free(&tape);
    transformer_free(net);
}

static int make_model(Seq2SeqModel *model, SeqTask task, int d_model) {
    TransformerConfig c = {.src_vocab_size = seq_vocab_size(), .tgt_vocab_size = seq_vocab_size(), .d_model = d_model,
                           .n_heads = 2, .n_encoder_layers = 1, .n_decoder_layers = 1, .dim_feedforward = 2 * d_model,
                           .max_source_length = seq_task_max_source(task), .max_target_length = seq_task_max_target(task)};
    Random rng;
    random_seed(&rng, 3);
    Error error;
    int status = transformer_seq2seq_create(model, &c, &rng, &error);
    CHECK(status == 0, "%s", error.message);
    return status;
}

// A few hundred steps on 64 examples: the model fits them, greedy in a batch equals beam width 1
// one by one, and a saved model decodes the same after loading.
static void training_fits_and_decoding_agrees(void) {
    SeqDataset train, test;
    Error error;
    REQUIRE(seq_datasets_make(SEQ_TASK_ADDITION, 64, 20, 9, &train, &test, &error) == 0, "%s", error.message);
    Seq2SeqModel model;
    if (make_model(&model, SEQ_TASK_ADDITION, 32)) return seq_dataset_free(&train), seq_dataset_free(&test);
    Seq2SeqTrainConfig c = {.steps = 300, .batch_size = 32, .lr = 3e-3f, .clip = 1.0f, .warmup_steps = 20, .seed = 2};
    long steps;
    double seconds;
    CHECK(seq2seq_train(&model, &train, &c, NULL, NULL, &steps, &seconds, &error) == 0, "%s", error.message);
    Seq2SeqEvaluation e;
    CHECK(seq2seq_evaluate(&model, &train, 1, 0.0f, &e, &error) == 0, "%s", error.message);
    CHECK(e.count == 64 && e.correct >= 56, "the training set: %d of %d exact after 300 steps", e.correct, e.count);
    int out[20 * 8], lengths[20], beam[8], length;
    REQUIRE(seq2seq_greedy(&model, test.source, 20, test.max_source, out, lengths, &error) == 0, "%s", error.message);
    for (int i = 0; i < 20; i++) {
        REQUIRE(seq2seq_beam(&model, test.source + i * test.max_source, test.source_length[i], 1, 0.0f, beam, &length,
                             &error) == 0, "%s", error.message);
        CHECK(length == lengths[i] && !memcmp(beam, out + i * model.max_target, sizeof(int) * (size_t)length),
              "example %d: greedy and beam 1 differ", i);
    }
    const char *path = check_path("model.safetensors");
    REQUIRE(seq2seq_save(&model, SEQ_TASK_ADDITION, NULL, 0, path, &error) == 0, "%s", error.message);
    Seq2SeqModel loaded;
    SeqTask task;
    REQUIRE(seq2seq_load(&loaded, &task, path, &error) == 0, "%s", error.message);
    CHECK(task == SEQ_TASK_ADDITION && !strcmp(loaded.arch, "transformer"), "task %d, arch %s", task, loaded.arch);
    int again[20 * 8], again_lengths[20];
    REQUIRE(seq2seq_greedy(&loaded, test.source, 20, test.max_source, again, again_lengths, &error) == 0, "%s", error.message);
    for (int i = 0; i < 20; i++)
        CHECK(again_lengths[i] == lengths[i] && !memcmp(again + i * model.max_target, out + i * model.max_target, sizeof(int) * (size_t)lengths[i]),
              "example %d decodes differently after loading", i);
    seq2seq_free(&loaded);
    seq2seq_free(&model);
    seq_dataset_free(&train), seq_dataset_free(&test);
}

static void bad_decoding_requests_are_errors(void) {
    Seq2SeqModel model;
    if (make_model(&model, SEQ_TASK_ADDITION, 16)) return;
    int source[12] = {4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, out[8], length;
    Error error;
    CHECK(seq2seq_beam(&model, source, 10, 2, 0.0f, out, &length, &error) == -1 && strstr(error.message, "1 to 9"),
          "10 ids: %s", error.message);
    CHECK(seq2seq_beam(&model, (int[]){4, 99}, 2, 2, 0.0f, out, &length, &error) == -1 && strstr(error.message, "id 99"),
          "id 99: %s", error.message);
    CHECK(seq2seq_beam(&model, source, 3, 0, 0.0f, out, &length, &error) == -1 && strstr(error.message, "beam width 0"),
          "beam 0: %s", error.message);
    SeqDataset train, test;
    REQUIRE(seq_datasets_make(SEQ_TASK_DATES, 10, 5, 1, &train, &test, &error) == 0, "%s", error.message);
    Seq2SeqEvaluation e;
    CHECK(seq2seq_evaluate(&model, &test, 1, 0.0f, &e, &error) == -1 && strstr(error.message, "longer than the model"),
          "dates on an addition model: %s", error.message);
    seq_dataset_free(&train), seq_dataset_free(&test);
    seq2seq_free(&model);
}

static const CheckCase CASES[] = {
    {"the pytorch fixtures pass", the_pytorch_fixtures_pass},
    {"pads and future tokens change nothing", pads_and_future_tokens_change_nothing},
    {"bad lengths and ids are errors", bad_lengths_and_ids_are_errors},
    {"cross attention rows are distributions", cross_attention_rows_are_distributions},
    {"training fits and decoding agrees", training_fits_and_decoding_agrees},
    {"bad decoding requests are errors", bad_decoding_requests_are_errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
