// The recurrent cells (nn/recurrent.h) and the seq2seq model with attention (models/seq2seq_rnn.h):
// the fused gate operations' backward against finite differences; the cells and both model
// configurations against PyTorch (tests/fixtures/recurrent, tools/reference/recurrent_reference.py):
// outputs 1e-5 absolute, losses 1e-5 relative, every gradient 1e-4 of the tensor's largest
// reference value, 5 AdamW steps, greedy decoding token for token; beam width 1 is greedy; files
// round-trip and bad ones are refused; bad batches fail with one line naming the example; and a
// small model learns to reverse short sequences in a few seconds.
#include <math.h>
#include <string.h>

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

// The largest |ours − reference| relative to the largest |reference|.
static double relative_difference(const float *ours, const float *reference, long n) {
    double difference = 0.0, largest = 0.0;
    for (long i = 0; i < n; i++) {
        difference = fmax(difference, fabs((double)ours[i] - reference[i]));
        largest = fmax(largest, fabs((double)reference[i]));
    }
    return largest > 0 ? difference / largest : difference;
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
    return seq2seq_rnn_loss(tape, model, b->source, b->source_length, b->B, b->S, b->target, b->T, 1.0f, NULL, logits);
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
    // greedy decoding of the initial weights, token for token
    const SafetensorsTensor *greedy = find(&state, "", "greedy");
    int out[3 * 6];
    REQUIRE(greedy && greedy->count == b.B * model.config.max_target && b.B <= 3, "greedy");
    CHECK(seq2seq_rnn_greedy(&tape, &model, b.source, b.source_length, b.B, b.S, out, &error) == 0, "%s", error.message);
    for (int i = 0; i < greedy->count; i++) CHECK(out[i] == greedy->ints[i], "greedy token %d: %d, reference %d", i, out[i], greedy->ints[i]);
    // beam width 1 is greedy decoding, one source at a time
    for (int e = 0; e < b.B; e++) {
        int beam[6], length = 0;
        CHECK(seq2seq_rnn_beam(&model, b.source + e * b.S, b.source_length[e], 1, 0.0f, beam, &length, &error) == 0, "%s",
              error.message);
        for (int i = 0; i < length; i++) CHECK(beam[i] == out[e * 6 + i], "example %d token %d: beam %d, greedy %d", e, i, beam[i], out[e * 6 + i]);
    }
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

static const CheckCase CASES[] = {
    {"fused gates against finite differences", gates_against_finite_differences},
    {"cells against PyTorch", cells_match_pytorch},
    {"seq2seq against PyTorch", seq2seq_matches_pytorch},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
