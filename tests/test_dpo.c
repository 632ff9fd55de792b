// DPO (gpt/dpo.h): the pair loss by hand, sequence log-probabilities against token-by-token
// decoding (only the completion scored, padding harmless), the gradient of the DPO loss through
// GPT-2's backward against finite differences (full model and LoRA adapters), the weighted
// backward against the mean one, a short training run (starts at log 2, learns the pairs), and
// the pairs file (round trip, truncation, and each bad input one line).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"
#include "foundations/gradcheck.h"
#include "gpt/dpo.h"
#include "gpt/gpt2.h"
#include "gpt/lora.h"
#include "tests/check.h"

enum { V = 29, MAX_T = 16, C = 8, L = 2, NH = 2, N_PAIRS = 3 };

// A tiny GPT-2 with weights larger than the 0.02 initialisation, so every path carries a gradient.
static void make_model(Model *model, uint64_t seed) {
    Error error;
    Random rng;
    random_seed(&rng, seed);
    ModelConfig config = {.arch = ARCH_GPT2, .vocab_size = V, .context_length = MAX_T, .n_layers = L, .n_heads = NH,
                          .d_model = C};
    CHECK(model_init(model, &config, &rng, &error) == 0, "create: %s", error.message);
    for (long i = 0; i < model->n_params; i++) model->params[i] += random_normal(&rng, 0.0f, 0.3f);
}

// Pairs of random ids: prompts of 1–4 tokens, completions of 1–6 (chosen and rejected differ in length).
static void make_pairs(PreferencePair *pairs, int n, Random *rng) {
    for (int i = 0; i < n; i++) {
        PreferencePair *p = &pairs[i];
        p->n_prompt = 1 + (int)random_below(rng, 4);
        p->n_chosen = 1 + (int)random_below(rng, 6);
        p->n_rejected = 1 + (int)random_below(rng, 6);
        p->prompt = malloc(sizeof(int) * (size_t)p->n_prompt);
        p->chosen = malloc(sizeof(int) * (size_t)p->n_chosen);
        p->rejected = malloc(sizeof(int) * (size_t)p->n_rejected);
        for (int t = 0; t < p->n_prompt; t++) p->prompt[t] = (int)random_below(rng, V);
        for (int t = 0; t < p->n_chosen; t++) p->chosen[t] = (int)random_below(rng, V);
        for (int t = 0; t < p->n_rejected; t++) p->rejected[t] = (int)random_below(rng, V);
    }
}

static void free_pairs(PreferencePair *pairs, int n) {
    for (int i = 0; i < n; i++) free(pairs[i].prompt), free(pairs[i].chosen), free(pairs[i].rejected);
}

// ----------------------------------------------------------------------------

// −log σ(β h) and ∂/∂h = −β σ(−β h) by hand (and torch.nn.functional.logsigmoid in float64
// gives the same digits): β 0.1, h = (−10 − −12) − (−8 − −7) = 3: log(1 + e^−0.3).
static void pair_loss_by_hand(void) {
    double d_h;
    double loss = dpo_pair_loss(0.1, -10.0, -12.0, -8.0, -7.0, &d_h);
    CHECK_NEAR(loss, 0.5543552444685271, 1e-12);
    CHECK_NEAR(d_h, -0.0425557483188341, 1e-12);
    CHECK_NEAR(dpo_pair_loss(0.5, 1.0, 1.0, 2.0, 2.0, &d_h), log(2.0), 1e-12);  // h = 0
    CHECK_NEAR(d_h, -0.25, 1e-12);
    // far out on both sides: no overflow, softplus's asymptotes
    CHECK_NEAR(dpo_pair_loss(1.0, 2000.0, 0.0, 0.0, 0.0, &d_h), 0.0, 1e-12);
    CHECK_NEAR(d_h, 0.0, 1e-12);
    CHECK_NEAR(dpo_pair_loss(1.0, -2000.0, 0.0, 0.0, 0.0, &d_h), 2000.0, 1e-9);
    CHECK_NEAR(d_h, -1.0, 1e-12);
}

// Σ log p of the completion from sequence_logprobs (batched, padded) against the decoder's
// next-token logits, token by token: the prompt is not scored, padding changes nothing.
static void logprobs_against_decoding(void) {
    Model model;
    Error error;
    Random rng;
    random_seed(&rng, 3);
    make_model(&model, 2);
    PreferencePair pairs[N_PAIRS];
    make_pairs(pairs, N_PAIRS, &rng);
    ScoredText texts[N_PAIRS];
    for (int i = 0; i < N_PAIRS; i++) texts[i] = (ScoredText){pairs[i].prompt, pairs[i].chosen, pairs[i].n_prompt, pairs[i].n_chosen};
    REQUIRE(model_prepare(&model, N_PAIRS, MAX_T, 0, &error) == 0, "prepare: %s", error.message);
    ScoringBatch batch = {0};
    double logprobs[N_PAIRS];
    REQUIRE(sequence_logprobs(&model, &batch, texts, N_PAIRS, logprobs, &error) == 0, "%s", error.message);
    for (int i = 0; i < N_PAIRS; i++) {
        const ScoredText *x = &texts[i];
        int tokens[MAX_T + 1], n = x->n_prompt + x->n_completion;
        memcpy(tokens, x->prompt, sizeof(int) * (size_t)x->n_prompt);
        memcpy(tokens + x->n_prompt, x->completion, sizeof(int) * (size_t)x->n_completion);
        double expected = 0.0;
        for (int t = x->n_prompt; t < n; t++) {
            float logits[V];
            REQUIRE(model.ops->next_logits(&model, tokens, t, logits, &error) == 0, "%s", error.message);
            double largest = logits[0], sum = 0.0;
            for (int v = 1; v < V; v++) largest = fmax(largest, logits[v]);
            for (int v = 0; v < V; v++) sum += exp(logits[v] - largest);
            expected += logits[tokens[t]] - largest - log(sum);
        }
        CHECK_NEAR(logprobs[i], expected, 1e-4);
        // alone in a batch (no padding) it is the same
        double alone;
        REQUIRE(sequence_logprobs(&model, &batch, x, 1, &alone, &error) == 0, "%s", error.message);
        CHECK_NEAR(alone, logprobs[i], 1e-5);
    }
    scoring_batch_free(&batch);
    free_pairs(pairs, N_PAIRS);
    model_free(&model);
}

// The DPO loss as a function of the parameters, for finite differences.
typedef struct DpoContext {
    Model *model;
    ScoringBatch batch;
    const PreferencePair *pairs[N_PAIRS];
    double reference_chosen[N_PAIRS], reference_rejected[N_PAIRS];
    float beta;
} DpoContext;

static double dpo_loss_at(void *context) {
    DpoContext *c = context;
    DpoStats stats;
    Error error;
    if (dpo_loss(c->model, &c->batch, c->pairs, N_PAIRS, c->reference_chosen, c->reference_rejected, c->beta, 0, &stats,
                 &error))
        return NAN;
    return stats.loss;
}

// Reference log-probabilities away from the policy's, so that σ(β h) is neither 1/2 nor saturated.
static void set_references(DpoContext *context, Random *rng) {
    Error error;
    ScoredText texts[2 * N_PAIRS];
    double policy[2 * N_PAIRS];
    for (int i = 0; i < N_PAIRS; i++) pair_scored_texts(context->pairs[i], texts + 2 * i);
    CHECK(sequence_logprobs(context->model, &context->batch, texts, 2 * N_PAIRS, policy, &error) == 0, "%s",
          error.message);
    for (int i = 0; i < N_PAIRS; i++) {
        context->reference_chosen[i] = policy[2 * i] + random_normal(rng, 0.0f, 3.0f);
        context->reference_rejected[i] = policy[2 * i + 1] + random_normal(rng, 0.0f, 3.0f);
    }
}

// model (prepared for training): each trained tensor's gradient of the DPO loss against
// central differences.
static void check_dpo_gradients(Model *model, const char *what) {
    Error error;
    Random rng;
    random_seed(&rng, 7);
    PreferencePair pairs[N_PAIRS];
    make_pairs(pairs, N_PAIRS, &rng);
    DpoContext context = {.model = model, .beta = 0.5f};
    for (int i = 0; i < N_PAIRS; i++) context.pairs[i] = &pairs[i];
    set_references(&context, &rng);
    memset(model->grads, 0, sizeof(float) * (size_t)model->n_params);
    DpoStats stats;
    REQUIRE(dpo_loss(model, &context.batch, context.pairs, N_PAIRS, context.reference_chosen,
                     context.reference_rejected, context.beta, 1, &stats, &error) == 0, "%s", error.message);
    CHECK(model->loss_weights == NULL, "the weights are cleared after the backward");
    CHECK(stats.loss > 0.1 && stats.loss < 5.0, "%s: a loss away from its extremes: %g", what, stats.loss);
    float *analytic = malloc(sizeof(float) * (size_t)model->n_params);
    memcpy(analytic, model->grads, sizeof(float) * (size_t)model->n_params);
    double largest = 0.0;
    for (long i = 0; i < model->n_trainable; i++) largest = fmax(largest, fabs(analytic[i]));
    CHECK(largest > 1e-3, "%s: a visible gradient (largest %g)", what, largest);
    for (int t = 0; t < model->n_tensors; t++) {
        const TensorInfo *tensor = &model->tensors[t];
        GradcheckResult r = gradcheck(dpo_loss_at, &context, model->params + tensor->offset, analytic + tensor->offset,
                                      tensor->size, 1e-2f, 1e-2 * largest);
        CHECK(r.max_rel_error < 2e-2, "%s, d_%s: relative error %g at %ld (abs %g)", what, tensor->name,
              r.max_rel_error, r.worst_index, r.max_abs_error);
    }
    free(analytic);
    scoring_batch_free(&context.batch);
    free_pairs(pairs, N_PAIRS);
}

static void gradient_full_model(void) {
    Model model;
    Error error;
    make_model(&model, 5);
    REQUIRE(model_prepare(&model, 2 * N_PAIRS, MAX_T, 1, &error) == 0, "prepare: %s", error.message);
    check_dpo_gradients(&model, "full");
    model_free(&model);
}

static void gradient_lora(void) {
    Model base, lora;
    Error error;
    Random rng;
    random_seed(&rng, 9);
    make_model(&base, 6);
    REQUIRE(lora_init_fresh(&lora, &base, 2, 4.0f, LORA_TARGET_ALL, &rng, &error) == 0, "%s", error.message);
    for (int t = 0; t < lora.n_tensors; t++)  // B random too (with B = 0, A's gradient is 0)
        if (strstr(lora.tensors[t].name, "lora_b"))
            random_fill_normal(&rng, lora.params + lora.tensors[t].offset, lora.tensors[t].size, 0.0f, 0.3f);
    REQUIRE(model_prepare(&lora, 2 * N_PAIRS, MAX_T, 1, &error) == 0, "prepare: %s", error.message);
    check_dpo_gradients(&lora, "lora");
    CHECK(lora_base_checksum(lora_base(&lora)) == lora.config.lora_base_checksum, "the base is untouched");
    model_free(&lora);
}

// Weights of 1/(B·T) everywhere give the mean cross-entropy's gradient.
static void uniform_weights_are_the_mean(void) {
    enum { B = 2, T = 6 };
    Model model;
    Error error;
    Random rng;
    random_seed(&rng, 4);
    make_model(&model, 8);
    REQUIRE(model_prepare(&model, B, T, 1, &error) == 0, "prepare: %s", error.message);
    int inputs[B * T], targets[B * T];
    float weights[B * T];
    for (int i = 0; i < B * T; i++) {
        inputs[i] = (int)random_below(&rng, V);
        targets[i] = (int)random_below(&rng, V);
        weights[i] = 1.0f / (B * T);
    }
    REQUIRE(model.ops->forward(&model, inputs, targets, B, T, &error) == 0, "%s", error.message);
    memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
    REQUIRE(model_backward(&model, &error) == 0, "%s", error.message);
    float *mean = malloc(sizeof(float) * (size_t)model.n_params);
    memcpy(mean, model.grads, sizeof(float) * (size_t)model.n_params);
    memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
    model.loss_weights = weights;
    REQUIRE(model_backward(&model, &error) == 0, "%s", error.message);
    double worst = 0.0;
    for (long i = 0; i < model.n_params; i++) worst = fmax(worst, fabs(mean[i] - model.grads[i]));
    CHECK(worst < 1e-6, "uniform weights against the mean: max difference %g", worst);
    free(mean);
    model_free(&model);
}

// A few steps on pairs whose chosen completions share a pattern: the first loss is log 2 (the
// policy is the reference), the last far lower with the chosen side's reward above the rejected's.
static void training_learns_the_pairs(void) {
    Model model;
    Error error;
    Random rng;
    random_seed(&rng, 12);
    make_model(&model, 10);
    PreferenceSet set = {.n = 8};
    set.pairs = calloc((size_t)set.n, sizeof(PreferencePair));
    make_pairs(set.pairs, set.n, &rng);
    for (int i = 0; i < set.n; i++)
        for (int t = 0; t < set.pairs[i].n_chosen; t++) set.pairs[i].chosen[t] = 3;  // chosen: token 3 repeated
    DpoConfig config = dpo_default_config();
    config.steps = 30, config.batch_pairs = 4, config.learning_rate = 3e-3f, config.min_learning_rate = 3e-4f;
    config.warmup_steps = 2, config.beta = 0.5f;
    DpoStats first, last;
    REQUIRE(dpo_train(&model, &set, &config, NULL, NULL, &first, &last, &error) == 0, "%s", error.message);
    CHECK_NEAR(first.loss, log(2.0), 1e-5);
    CHECK_NEAR(first.chosen_reward, 0.0, 1e-5);
    CHECK(last.loss < 0.2, "the loss falls from log 2 to %g", last.loss);
    CHECK(last.accuracy == 1.0, "every pair ranked right: %g", last.accuracy);
    CHECK(last.chosen_reward > last.rejected_reward, "rewards %g > %g", last.chosen_reward, last.rejected_reward);
    config.beta = 0.0f;
    CHECK(dpo_train(&model, &set, &config, NULL, NULL, NULL, NULL, &error) == -1 && strstr(error.message, "beta 0"),
          "beta 0 refused: %s", error.message);
    config.beta = -1.0f;
    CHECK(dpo_config_check(&config, &error) == -1 && strstr(error.message, "must be positive"), "%s", error.message);
    preference_set_free(&set);
    model_free(&model);
}

// ----------------------------------------------------------------------------
// the pairs file

static const char *ALPHABET = "abcdefghijklmnopqrstuvwxyz .,";

static void write_text(const char *path, const char *text) {
    FILE *file = fopen(path, "wb");
    fputs(text, file);
    fclose(file);
}

// Reading path must fail with a message containing each of want.
static void expect_read_error(const TextTokenizer *tokenizer, const char *path, int context, const char *want) {
    PreferenceSet set;
    Error error = {{0}};
    CHECK(preference_set_read(&set, path, tokenizer, context, &error) == -1, "%s read", path);
    CHECK(strstr(error.message, want) != NULL, "'%s' lacks '%s'", error.message, want);
    CHECK(strchr(error.message, '\n') == NULL, "one line: %s", error.message);
}

static void pairs_file(void) {
    TextTokenizer tokenizer;
    Error error;
    REQUIRE(text_tokenizer_chars(&tokenizer, (const unsigned char *)ALPHABET, strlen(ALPHABET), &error) == 0, "%s",
            error.message);
    char path[1100];
    snprintf(path, sizeof path, "%s/pairs.jsonl", check_directory());
    const char *prompts[] = {"the sea", ""}, *chosen[] = {" was calm", "whale"}, *rejected[] = {" ran dry", "a"};
    REQUIRE(preference_texts_write(path, prompts, chosen, rejected, 2, &error) == 0, "%s", error.message);
    PreferenceSet set;
    REQUIRE(preference_set_read(&set, path, &tokenizer, 16, &error) == 0, "%s", error.message);
    CHECK(set.n == 2 && set.n_truncated == 0, "2 pairs, got %d (%d cut)", set.n, set.n_truncated);
    CHECK(set.pairs[0].n_prompt == 7 && set.pairs[0].n_chosen == 9 && set.pairs[0].n_rejected == 8, "lengths");
    CHECK(set.pairs[1].n_prompt == 1 && set.pairs[1].prompt[0] == text_start_token(&tokenizer), "empty prompt: start");
    CHECK(set.pairs[0].chosen[1] == tokenizer.ids['w'], "ids are the tokenizer's");
    preference_set_free(&set);
    // a context of 10: "the sea" (7) leaves room for 4 tokens, both completions cut
    REQUIRE(preference_set_read(&set, path, &tokenizer, 10, &error) == 0, "%s", error.message);
    CHECK(set.n_truncated == 1 && set.pairs[0].n_chosen == 4 && set.pairs[0].n_rejected == 4, "cut to fit");
    preference_set_free(&set);
    // blank lines and other keys are fine
    write_text(path, "\n{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\",\"score\":1}\n  \n");
    REQUIRE(preference_set_read(&set, path, &tokenizer, 16, &error) == 0, "%s", error.message);
    CHECK(set.n == 1, "one pair");
    preference_set_free(&set);

    char missing[1100];
    snprintf(missing, sizeof missing, "%s/none.jsonl", check_directory());
    expect_read_error(&tokenizer, missing, 16, "cannot open");
    write_text(path, "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n{\"prompt\":\"a\",\"chos");
    expect_read_error(&tokenizer, path, 16, "line 2: not JSON");
    write_text(path, "{\"prompt\":\"a\",\"chosen\":\"b\"}\n");
    expect_read_error(&tokenizer, path, 16, "line 1: no \"rejected\" string");
    write_text(path, "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"} {\"prompt\":\"a\"}\n");
    expect_read_error(&tokenizer, path, 16, "line 1: more after the JSON object");
    write_text(path, "[1, 2]\n");
    expect_read_error(&tokenizer, path, 16, "not a JSON object");
    write_text(path, "{\"prompt\":\"a\",\"chosen\":\"\",\"rejected\":\"c\"}\n");
    expect_read_error(&tokenizer, path, 16, "line 1: empty completion \"chosen\"");
    write_text(path, "{\"prompt\":\"the sea was calm\",\"chosen\":\"b\",\"rejected\":\"c\"}\n");
    expect_read_error(&tokenizer, path, 8, "prompt's 16 tokens leave no room in the model's context of 8");
    write_text(path, "{\"prompt\":\"A\",\"chosen\":\"b\",\"rejected\":\"c\"}\n");
    expect_read_error(&tokenizer, path, 16, "\"prompt\"");  // a byte the char tokenizer lacks
    write_text(path, "\n\n");
    expect_read_error(&tokenizer, path, 16, "no pairs");
    text_tokenizer_free(&tokenizer);
}

static const CheckCase CASES[] = {
    {"pair loss by hand", pair_loss_by_hand},
    {"logprobs against decoding", logprobs_against_decoding},
    {"gradient full model", gradient_full_model},
    {"gradient lora", gradient_lora},
    {"uniform weights are the mean", uniform_weights_are_the_mean},
    {"training learns the pairs", training_learns_the_pairs},
    {"pairs file", pairs_file},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
