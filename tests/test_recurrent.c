// The recurrent cells (nn/recurrent.h) and the seq2seq model with attention (models/seq2seq_rnn.h):
// the fused gate operations' backward against finite differences; the cells and both model
// configurations against PyTorch (tests/fixtures/recurrent, tools/reference/recurrent_reference.py):
// outputs 1e-5 absolute, losses 1e-5 relative, every gradient 1e-4 of the tensor's largest
// reference value, 5 AdamW steps, greedy decoding token for token; beam width 1 is greedy; files
// round-trip and bad ones are refused; bad batches fail with one line naming the example; and a
// small model learns to reverse short sequences in a few seconds.
#include <math.h>
#include <string.h>

#include "models/classifier_verify.h"
#include "models/recurrent_seq2seq.h"
#include "models/seq2seq_rnn.h"
#include "nn/optim.h"
#include "nn/recurrent.h"
#include "nn/state_dict.h"
#include "tests/check.h"
#include "tests/op_gradcheck.h"

static const char *CELLS = "tests/fixtures/recurrent/CELLS.safetensors";

// ----------------------------------------------------------------------------
// the fused operations against finite differences

static Tensor *b_gru_gates(Tape *t, Tensor **in) { return nn_gru_gates(t, in[0], in[1], in[2]); }
static Tensor *b_lstm_cell_state(Tape *t, Tensor **in) { return nn_lstm_cell_state(t, in[0], in[1]); }
static Tensor *b_lstm_hidden(Tape *t, Tensor **in) { return nn_lstm_hidden(t, in[0], in[1]); }
// A whole LSTM step from the gates: h' through c', so c' is used twice.
static Tensor *b_lstm_step(Tape *t, Tensor **in) {
    Tensor *c = nn_lstm_cell_state(t, in[0], in[1]);
    return nn_add(t, nn_lstm_hidden(t, in[0], c), nn_scale(t, c, 0.5f));
}
// A GRU cell with the input weight as an input: x, h, weight_ih (no biases).
static Tensor *b_gru_cell(Tape *t, Tensor **in) {
    Tensor *gi = nn_linear(t, in[0], in[2], NULL), *gh = nn_linear(t, in[1], in[2], NULL);
    return nn_gru_gates(t, gi, gh, in[1]);
}

static const Case cases[] = {
    {"gru gates (3,12) (3,12) (3,4)", b_gru_gates, 3, {2, 2, 2}, {{3, 12}, {3, 12}, {3, 4}}, {0}},
    {"lstm cell state (3,16) (3,4)", b_lstm_cell_state, 2, {2, 2}, {{3, 16}, {3, 4}}, {0}},
    {"lstm hidden (3,16) (3,4)", b_lstm_hidden, 2, {2, 2}, {{3, 16}, {3, 4}}, {0}},
    {"lstm step (2,20) (2,5)", b_lstm_step, 2, {2, 2}, {{2, 20}, {2, 5}}, {0}},
    {"gru cell x (2,4), h (2,4), W (12,4)", b_gru_cell, 3, {2, 2, 2}, {{2, 4}, {2, 4}, {12, 4}}, {0}},
};

static void gates_against_finite_differences(void) {
    Random rng;
    random_seed(&rng, 16);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_case(&cases[i], &rng);
}

// ----------------------------------------------------------------------------
// against PyTorch

// The largest |ours − reference| relative to the largest |reference| (classifier_verify.h's).
static double relative_difference(const float *ours, const float *reference, long n) {
    return tensor_difference("", ours, reference, n, 0.0).relative;
}

static double largest_difference(const float *ours, const float *reference, long n) {
    double difference = 0.0;
    for (long i = 0; i < n; i++) difference = fmax(difference, fabs((double)ours[i] - reference[i]));
    return difference;
}

static const SafetensorsTensor *find(const Safetensors *file, const char *prefix, const char *name) {
    char full[128];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const SafetensorsTensor *t = safetensors_find(file, full);
    CHECK(t && (t->floats || t->ints), "%s missing from the fixture", full);
    return t;
}

// Copies the fixture's tensor into a parameter of the same size.
static void load_into(Tensor *t, const Safetensors *file, const char *prefix, const char *name) {
    const SafetensorsTensor *source = find(file, prefix, name);
    REQUIRE(source && source->floats && source->count == t->size, "%s%s: wrong size", prefix, name);
    memcpy(t->data, source->floats, sizeof(float) * (size_t)t->size);
}

static void compare(const char *what, const float *ours, long n, const Safetensors *file, const char *prefix,
                    const char *name, double tolerance, int relative) {
    const SafetensorsTensor *reference = find(file, prefix, name);
    REQUIRE(reference && reference->floats && reference->count == n, "%s: %ld values", what, n);
    double difference = relative ? relative_difference(ours, reference->floats, n)
                                 : largest_difference(ours, reference->floats, n);
    CHECK(difference <= tolerance, "%s (%s%s) differs by %g", what, prefix, name, difference);
}

// One cell of the fixture: 3 steps, the objective Σ proj ⊙ h (+ Σ proj_c ⊙ c), every gradient.
static void cell_matches(const Safetensors *file, int lstm) {
    const char *prefix = lstm ? "lstm." : "gru.";
    Parameters params = {0};
    GRUCell gru;
    LSTMCell cell;
    Random rng;
    random_seed(&rng, 1);
    Error error;
    Tensor **weights = lstm ? &cell.weight_ih : &gru.weight_ih;
    REQUIRE((lstm ? lstm_cell_init(&cell, &params, "", 3, 4, &rng, &error)
                  : gru_cell_init(&gru, &params, "", 3, 4, &rng, &error)) == 0,
            "%s", error.message);
    static const char *names[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    for (int k = 0; k < 4; k++) load_into(weights[k], file, prefix, names[k]);
    Tensor x, h0, c0;
    REQUIRE(tensor_parameter(&x, 3, (int[]){3, 2, 3}, &error) == 0 && tensor_parameter(&h0, 2, (int[]){2, 4}, &error) == 0 &&
                tensor_parameter(&c0, 2, (int[]){2, 4}, &error) == 0,
            "%s", error.message);
    load_into(&x, file, prefix, "x");
    load_into(&h0, file, prefix, "h0");
    if (lstm) load_into(&c0, file, prefix, "c0");
    Tape tape;
    tape_init(&tape);
    Tensor *hs[3], *cs[3];
    LSTMState state = {&h0, lstm ? &c0 : NULL};
    for (int t = 0; t < 3; t++) {
        Tensor *xt = nn_reshape(&tape, nn_slice(&tape, &x, 0, t, t + 1), 2, (int[]){2, 3});
        if (lstm) state = lstm_cell_apply(&tape, &cell, xt, state);
        else state.h = gru_cell_apply(&tape, &gru, xt, state.h);
        hs[t] = state.h, cs[t] = state.c;
    }
    Tensor *h_all = nn_stack(&tape, hs, 3, 0);
    const SafetensorsTensor *proj = find(file, prefix, "proj"), *proj_c = lstm ? find(file, prefix, "proj_c") : NULL;
    REQUIRE(h_all && proj && (!lstm || proj_c), "forward failed: %s", tape.error.message);
    Tensor *loss = nn_sum(&tape, nn_mul(&tape, h_all, tensor_from(&tape, proj->floats, 3, (int[]){3, 2, 4})), NULL, 0, 0);
    Tensor *c_all = lstm ? nn_stack(&tape, cs, 3, 0) : NULL;
    if (lstm)
        loss = nn_add(&tape, loss,
                      nn_sum(&tape, nn_mul(&tape, c_all, tensor_from(&tape, proj_c->floats, 3, (int[]){3, 2, 4})), NULL, 0, 0));
    REQUIRE(loss && tape_backward(&tape, loss, &error) == 0, "backward failed");
    compare("h", h_all->data, h_all->size, file, prefix, "hs", 1e-5, 0);
    if (lstm) compare("c", c_all->data, c_all->size, file, prefix, "cs", 1e-5, 0);
    compare("loss", loss->data, 1, file, prefix, "loss", 1e-5, 1);
    for (int k = 0; k < 4; k++) {
        char name[32];
        snprintf(name, sizeof name, "grad.%s", names[k]);
        compare(name, weights[k]->grad, weights[k]->size, file, prefix, name, 1e-4, 1);
    }
    compare("grad x", x.grad, x.size, file, prefix, "grad.x", 1e-4, 1);
    compare("grad h0", h0.grad, h0.size, file, prefix, "grad.h0", 1e-4, 1);
    if (lstm) compare("grad c0", c0.grad, c0.size, file, prefix, "grad.c0", 1e-4, 1);
    tape_free(&tape);
    tensor_parameter_free(&x), tensor_parameter_free(&h0), tensor_parameter_free(&c0);
    parameters_free(&params);
}

static void cells_match_pytorch(void) {
    Safetensors file;
    Error error;
    REQUIRE(safetensors_read(&file, CELLS, &error) == 0, "%s", error.message);
    cell_matches(&file, 0);
    cell_matches(&file, 1);
    safetensors_free(&file);
}

// The batch of a fixture's state: source (B,S), lengths, target (B,T).
typedef struct Batch {
    const int *source, *source_length, *target;
    int B, S, T;
} Batch;

static int batch_of(const Safetensors *state, Batch *batch) {
    const SafetensorsTensor *source = find(state, "", "source"), *length = find(state, "", "source_length");
    const SafetensorsTensor *target = find(state, "", "target");
    if (!source || !length || !target || !source->ints || !length->ints || !target->ints) return -1;
    *batch = (Batch){source->ints, length->ints, target->ints, source->shape[0], source->shape[1], target->shape[1]};
    return 0;
}

static Tensor *batch_loss(Tape *tape, const Seq2seqRnn *model, const Batch *b, Tensor **logits) {
    tape_reset(tape);
    return seq2seq_rnn_loss(tape, model, b->source, b->source_length, b->B, b->S, b->target, b->T, 1.0f, 0.0f, NULL,
                            logits);
}

static void model_matches(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/recurrent/%s_PARAMS.safetensors", name);
    Seq2seqRnn model;
    Safetensors state;
    Error error;
    REQUIRE(seq2seq_rnn_load(&model, path, &error) == 0, "%s", error.message);
    snprintf(path, sizeof path, "tests/fixtures/recurrent/%s_STATE.safetensors", name);
    REQUIRE(safetensors_read(&state, path, &error) == 0, "%s", error.message);
    Batch b;
    REQUIRE(batch_of(&state, &b) == 0, "%s: no batch", name);
    REQUIRE(seq2seq_rnn_check_batch(&model, b.source, b.source_length, b.B, b.S, b.target, b.T, &error) == 0, "%s",
            error.message);
    Tape tape;
    tape_init(&tape);
    Tensor *logits = NULL, *loss = batch_loss(&tape, &model, &b, &logits);
    REQUIRE(loss, "%s: %s", name, tape.error.message);
    compare("logits", logits->data, logits->size, &state, "", "logits", 1e-5, 0);
    compare("loss", loss->data, 1, &state, "", "loss", 1e-5, 1);
    parameters_zero_grad(&model.params);
    CHECK(tape_backward(&tape, loss, &error) == 0, "%s", error.message);
    for (int i = 0; i < model.params.count; i++) {
        char grad[PARAMETER_NAME_MAX + 8];
        snprintf(grad, sizeof grad, "grad.%s", model.params.entries[i].name);
        compare(grad, model.params.entries[i].tensor->grad, model.params.entries[i].tensor->size, &state, "", grad, 1e-4, 1);
    }
    // greedy decoding of the initial weights, token for token, and beam width 1, through models/seq2seq.h
    Seq2SeqModel wrapped;
    snprintf(path, sizeof path, "tests/fixtures/recurrent/%s_PARAMS.safetensors", name);
    REQUIRE(recurrent_seq2seq_load(&wrapped, path, &error) == 0, "%s", error.message);
    const SafetensorsTensor *greedy = find(&state, "", "greedy");
    int M = model.config.max_target, out[3 * 6], lengths[3];
    REQUIRE(greedy && greedy->count == b.B * M && b.B <= 3 && M == 6, "greedy");
    CHECK(seq2seq_greedy(&wrapped, b.source, b.B, b.S, out, lengths, &error) == 0, "%s", error.message);
    for (int e = 0; e < b.B; e++)
        for (int i = 0; i < M; i++) {
            int ours = i < lengths[e] ? out[e * M + i] : SEQ_PAD;
            CHECK(ours == greedy->ints[e * M + i], "example %d greedy token %d: %d, reference %d", e, i, ours,
                  greedy->ints[e * M + i]);
        }
    for (int e = 0; e < b.B; e++) {
        int beam[6], length = 0;
        CHECK(seq2seq_beam(&wrapped, b.source + e * b.S, b.source_length[e], 1, 0.0f, beam, &length, &error) == 0, "%s",
              error.message);
        CHECK(length == lengths[e], "example %d: beam of %d tokens, greedy %d", e, length, lengths[e]);
        for (int i = 0; i < length && i < lengths[e]; i++)
            CHECK(beam[i] == out[e * M + i], "example %d token %d: beam %d, greedy %d", e, i, beam[i], out[e * M + i]);
    }
    // the attention while reading the greedy output: rows are distributions over the source's tokens
    float alignment[5 * 7];
    for (int e = 0; e < b.B; e++) {
        CHECK(seq2seq_rnn_alignment(&model, b.source + e * b.S, b.source_length[e], out + e * M, lengths[e], alignment,
                                    &error) == 0, "%s", error.message);
        for (int i = 0; i + 1 < lengths[e]; i++) {
            double sum = 0.0;
            for (int j = 0; j < b.source_length[e]; j++) sum += alignment[i * b.source_length[e] + j];
            CHECK(fabs(sum - 1.0) < 1e-5, "example %d row %d sums to %g", e, i, sum);
        }
    }
    CHECK(seq2seq_rnn_alignment(&model, b.source, b.S, b.target + 1, 3, alignment, &error) != 0 &&
              strstr(error.message, "not BOS"), "%s", error.message);
    seq2seq_free(&wrapped);
    // 5 AdamW steps
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f};
    group.config.weight_decay = 0.01f;
    ParamOptimizer optimizer;
    REQUIRE(param_optimizer_init(&optimizer, &model.params, &group, 1, NULL, &error) == 0, "%s", error.message);
    const SafetensorsTensor *steps = find(&state, "", "step_losses");
    for (int k = 0; steps && k < steps->count; k++) {
        Tensor *step = batch_loss(&tape, &model, &b, NULL);
        REQUIRE(step, "step %d failed", k);
        parameters_zero_grad(&model.params);
        CHECK(tape_backward(&tape, step, &error) == 0, "%s", error.message);
        CHECK(fabs(step->data[0] - steps->floats[k]) <= 1e-5 * fabs(steps->floats[k]), "%s step %d: %.8f, reference %.8f",
              name, k, (double)step->data[0], (double)steps->floats[k]);
        param_optimizer_step(&optimizer, 1e-2f);
    }
    param_optimizer_free(&optimizer);
    tape_free(&tape);
    safetensors_free(&state);
    seq2seq_rnn_free(&model);
}

static void seq2seq_matches_pytorch(void) {
    model_matches("gru_additive");
    model_matches("lstm_multiplicative");
}


// ----------------------------------------------------------------------------
// training, files, bad input

// n examples of an easy task on the shared vocabulary: 2 to 4 of the first 6 digits, reversed.
static void reversal_set(SeqDataset *data, int n, Random *rng) {
    *data = (SeqDataset){SEQ_TASK_REVERSE, n, 4, 6, NULL, NULL, NULL, NULL};
    data->source = calloc((size_t)n * 4, sizeof(int)), data->source_length = calloc((size_t)n, sizeof(int));
    data->target = calloc((size_t)n * 6, sizeof(int)), data->target_length = calloc((size_t)n, sizeof(int));
    for (int e = 0; e < n; e++) {
        int length = 2 + (int)random_below(rng, 3);
        data->source_length[e] = length, data->target_length[e] = length + 2;
        data->target[e * 6] = SEQ_BOS, data->target[e * 6 + length + 1] = SEQ_EOS;
        for (int t = 0; t < length; t++) data->source[e * 4 + t] = 3 + (int)random_below(rng, 6);
        for (int t = 0; t < length; t++) data->target[e * 6 + 1 + t] = data->source[e * 4 + length - 1 - t];
    }
}

static Seq2seqRnnConfig small_config(RnnKind cell, AttentionKind attention) {
    Seq2seqRnnConfig config = {cell, attention, seq_vocab_size(), 16, 32, 4, 6, SEQ_PAD, SEQ_BOS, SEQ_EOS};
    return config;
}

enum { LEARNING_STEPS = 150 };  // 80 leave the LSTM at 79%; 150 reach 100% (Release, both cells)

static void learns_to_reverse(RnnKind cell, AttentionKind attention, float teacher_forcing) {
    Random rng;
    random_seed(&rng, 5);
    SeqDataset train, test;
    reversal_set(&train, 2000, &rng);
    reversal_set(&test, 100, &rng);
    Seq2SeqModel model;
    Error error;
    Seq2seqRnnConfig config = small_config(cell, attention);
    REQUIRE(recurrent_seq2seq_create(&model, &config, teacher_forcing, &rng, &error) == 0, "%s", error.message);
    Seq2SeqEvaluation before, after, beam;
    CHECK(seq2seq_evaluate(&model, &test, 1, 0.0f, &before, &error) == 0, "%s", error.message);
    Seq2SeqTrainConfig training = {.steps = LEARNING_STEPS, .batch_size = 32, .lr = 1e-2f, .weight_decay = 0.01f, .clip = 1.0f,
                                   .warmup_steps = 20, .seed = 1};
    long steps;
    double seconds;
    CHECK(seq2seq_train(&model, &train, &training, NULL, NULL, &steps, &seconds, &error) == 0, "%s", error.message);
    CHECK(seq2seq_evaluate(&model, &test, 1, 0.0f, &after, &error) == 0, "%s", error.message);
    CHECK(before.correct < 10 && after.correct >= 90, "%s + %s, teacher forcing %g: %d then %d of 100 reversed exactly",
          rnn_kind_name(cell), attention_kind_name(attention), (double)teacher_forcing, before.correct, after.correct);
    test.n = 30;  // beam search decodes one source at a time
    CHECK(seq2seq_evaluate(&model, &test, 3, 0.6f, &beam, &error) == 0, "%s", error.message);
    CHECK(beam.correct >= 27, "beam 3: %d of 30", beam.correct);
    seq2seq_free(&model);
    seq_dataset_free(&train), seq_dataset_free(&test);
}

static void a_small_model_learns(void) {
    learns_to_reverse(RNN_GRU, ATTENTION_ADDITIVE, 1.0f);
    learns_to_reverse(RNN_LSTM, ATTENTION_MULTIPLICATIVE, 0.5f);
}

// A copy of the first half of a file.
static void write_truncated(const char *from, const char *to) {
    FILE *in = fopen(from, "rb");
    static char bytes[1 << 16];
    size_t n = in ? fread(bytes, 1, sizeof bytes, in) : 0;
    if (in) fclose(in);
    FILE *out = fopen(to, "wb");
    REQUIRE(out && n > 100, "cannot copy %s", from);
    fwrite(bytes, 1, n / 2, out);
    fclose(out);
}

static void files_round_trip_and_bad_ones_fail(void) {
    Seq2SeqModel model, loaded;
    Random rng;
    random_seed(&rng, 2);
    Error error;
    Seq2seqRnnConfig config = small_config(RNN_LSTM, ATTENTION_ADDITIVE);
    REQUIRE(recurrent_seq2seq_create(&model, &config, 1.0f, &rng, &error) == 0, "%s", error.message);
    char path[512], truncated[512];
    snprintf(path, sizeof path, "%s/model.safetensors", check_directory());
    REQUIRE(seq2seq_save(&model, SEQ_TASK_REVERSE, NULL, 0, path, &error) == 0, "%s", error.message);
    SeqTask task;
    REQUIRE(seq2seq_load(&loaded, &task, path, &error) == 0, "%s", error.message);
    const Seq2seqRnn *a = recurrent_seq2seq_net(&model), *b = recurrent_seq2seq_net(&loaded);
    CHECK(task == SEQ_TASK_REVERSE && !strcmp(loaded.arch, "lstm"), "task %d, arch %s", task, loaded.arch);
    CHECK(memcmp(&a->config, &b->config, sizeof config) == 0, "configuration changed");
    CHECK(a->params.count == b->params.count, "%d tensors", b->params.count);
    for (int i = 0; i < a->params.count && i < b->params.count; i++)
        CHECK(memcmp(a->params.entries[i].tensor->data, b->params.entries[i].tensor->data,
                     sizeof(float) * (size_t)a->params.entries[i].tensor->size) == 0,
              "%s changed", a->params.entries[i].name);
    seq2seq_free(&loaded);
    // another architecture's file, a missing one, a truncated one, bad configuration values
    CHECK(recurrent_seq2seq_load(&loaded, "tests/fixtures/unet/PARAMS.safetensors", &error) != 0 &&
              strstr(error.message, "not a gru or lstm seq2seq model"), "%s", error.message);
    CHECK(recurrent_seq2seq_load(&loaded, "tests/fixtures/recurrent/none.safetensors", &error) != 0, "a missing file loaded");
    snprintf(truncated, sizeof truncated, "%s/truncated.safetensors", check_directory());
    write_truncated(path, truncated);
    CHECK(seq2seq_load(&loaded, &task, truncated, &error) != 0 && strstr(error.message, truncated), "%s", error.message);
    SafetensorsMetadata metadata[SEQ2SEQ_RNN_METADATA];
    char strings[SEQ2SEQ_RNN_METADATA][32];
    int n = seq2seq_rnn_metadata(a, metadata, strings);
    REQUIRE(n == SEQ2SEQ_RNN_METADATA && !strcmp(metadata[4].key, "hidden_size"), "metadata");
    metadata[4].value = "32x";
    CHECK(state_dict_save(&a->params, path, metadata, n, &error) == 0, "%s", error.message);
    CHECK(recurrent_seq2seq_load(&loaded, path, &error) != 0 && strstr(error.message, "metadata hidden_size is \"32x\""),
          "%s", error.message);
    metadata[4].value = "0";
    CHECK(state_dict_save(&a->params, path, metadata, n, &error) == 0, "%s", error.message);
    CHECK(recurrent_seq2seq_load(&loaded, path, &error) != 0 && strstr(error.message, "H 0"), "%s", error.message);
    metadata[4].value = "16";  // the tensors are of H 32
    CHECK(state_dict_save(&a->params, path, metadata, n, &error) == 0, "%s", error.message);
    CHECK(recurrent_seq2seq_load(&loaded, path, &error) != 0 && strstr(error.message, "encoder.forward.weight_ih"), "%s",
          error.message);
    metadata[4].value = "32", metadata[2].value = "12";  // another vocabulary than the tasks'
    CHECK(state_dict_save(&a->params, path, metadata, n, &error) == 0, "%s", error.message);
    CHECK(recurrent_seq2seq_load(&loaded, path, &error) != 0, "a vocabulary of 12 loaded");
    seq2seq_free(&model);
}

static void bad_batches_fail_with_one_line(void) {
    Seq2seqRnn model;
    Random rng;
    random_seed(&rng, 3);
    Error error;
    Seq2seqRnnConfig config = small_config(RNN_GRU, ATTENTION_MULTIPLICATIVE);
    REQUIRE(seq2seq_rnn_create(&model, &config, &rng, &error) == 0, "%s", error.message);
    int source[2 * 5] = {3, 4, 5, 0, 0, 6, 7, 0, 0, 0}, length[2] = {3, 2};
    int target[2 * 4] = {SEQ_BOS, 5, 4, SEQ_EOS, SEQ_BOS, 7, SEQ_EOS, SEQ_PAD};
    int good_source[2 * 4] = {3, 4, 5, 0, 6, 7, 0, 0};
    CHECK(seq2seq_rnn_check_batch(&model, good_source, length, 2, 4, target, 4, &error) == 0, "%s", error.message);
    CHECK(seq2seq_rnn_check_batch(&model, source, length, 2, 5, target, 4, &error) != 0 &&
              strstr(error.message, "sources padded to 5 tokens; the model takes 1 to 4"), "%s", error.message);
    good_source[5] = 99;
    CHECK(seq2seq_rnn_check_batch(&model, good_source, length, 2, 4, target, 4, &error) != 0 &&
              strstr(error.message, "example 1: source id 99 at 1 outside the vocabulary"), "%s", error.message);
    good_source[5] = 7, length[1] = 0;
    CHECK(seq2seq_rnn_check_batch(&model, good_source, length, 2, 4, target, 4, &error) != 0 &&
              strstr(error.message, "example 1: source length 0"), "%s", error.message);
    length[1] = 2, target[4] = 5;
    CHECK(seq2seq_rnn_check_batch(&model, good_source, length, 2, 4, target, 4, &error) != 0 &&
              strstr(error.message, "example 1: the target starts with 5, not BOS"), "%s", error.message);
    CHECK(seq2seq_rnn_check_batch(&model, good_source, length, 2, 4, target, 7, &error) != 0 &&
              strstr(error.message, "targets padded to 7 tokens; the model takes 2 to 6"), "%s", error.message);
    target[4] = SEQ_BOS, target[1] = -1;
    Tape tape;
    tape_init(&tape);
    CHECK(seq2seq_rnn_loss(&tape, &model, good_source, length, 2, 4, target, 4, 1.0f, 0.0f, NULL, NULL) == NULL &&
              tape_error(&tape, &error) && strstr(error.message, "example 0: target id -1 at 1"), "%s", error.message);
    target[1] = 5;
    tape_reset(&tape);
    CHECK(seq2seq_rnn_loss(&tape, &model, good_source, length, 2, 4, target, 4, 0.5f, 0.0f, NULL, NULL) == NULL &&
              tape_error(&tape, &error) && strstr(error.message, "teacher forcing"), "%s", error.message);
    // decoding: a source longer than the model's, rows and prefix ids outside what was encoded
    tape_reset(&tape);
    Seq2seqRnnEncoding encoding;
    CHECK(seq2seq_rnn_encode(&tape, &model, source, length, 2, 5, &encoding) != 0 && tape_error(&tape, &error) &&
              strstr(error.message, "sources padded to 5"), "%s", error.message);
    tape_reset(&tape);
    REQUIRE(seq2seq_rnn_encode(&tape, &model, good_source, length, 2, 4, &encoding) == 0, "%s", tape.error.message);
    float log_probs[2 * 64];
    int prefixes[2] = {SEQ_BOS, SEQ_BOS}, rows[2] = {0, 2};
    CHECK(seq2seq_rnn_next_log_probs(&tape, &model, &encoding, rows, 2, prefixes, 1, log_probs) != 0 &&
              tape_error(&tape, &error) && strstr(error.message, "row 2 of 2"), "%s", error.message);
    tape_reset(&tape);
    REQUIRE(seq2seq_rnn_encode(&tape, &model, good_source, length, 2, 4, &encoding) == 0, "%s", tape.error.message);
    prefixes[1] = 45;
    CHECK(seq2seq_rnn_next_log_probs(&tape, &model, &encoding, NULL, 2, prefixes, 1, log_probs) != 0 &&
              tape_error(&tape, &error) && strstr(error.message, "prefix id 45"), "%s", error.message);
    // the cells refuse inputs of other sizes
    tape_reset(&tape);
    Tensor *x = tensor_zeros(&tape, 2, (int[]){2, 7}), *h = tensor_zeros(&tape, 2, (int[]){2, 32});
    CHECK(gru_cell_apply(&tape, &model.decoder.gru, x, h) == NULL && tape_error(&tape, &error) &&
              strstr(error.message, "GRUCell(80, 32): input (2,7)"), "%s", error.message);
    tape_free(&tape);
    seq2seq_rnn_free(&model);
    // a teacher forcing outside [0, 1]
    Seq2SeqModel wrapped;
    CHECK(recurrent_seq2seq_create(&wrapped, &config, 2.0f, &rng, &error) != 0 && strstr(error.message, "teacher forcing 2"),
          "%s", error.message);
}

static const CheckCase CASES[] = {
    {"fused gates against finite differences", gates_against_finite_differences},
    {"cells against PyTorch", cells_match_pytorch},
    {"seq2seq against PyTorch", seq2seq_matches_pytorch},
    {"a small model learns to reverse", a_small_model_learns},
    {"files round-trip, bad ones fail", files_round_trip_and_bad_ones_fail},
    {"bad batches fail with one line", bad_batches_fail_with_one_line},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
