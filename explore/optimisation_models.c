// The small GPT-2 and the flat view of a classifier (explore/optimisation_models.h).
#include "explore/optimisation_models.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ops.h"

int small_gpt_create(SmallGpt *gpt, const SmallGptSetup *setup, uint64_t seed, Error *error) {
    memset(gpt, 0, sizeof *gpt);
    gpt->batch = setup->batch, gpt->context = setup->context;
    if (setup->layers < 1 || setup->heads < 1 || setup->dim < 1 || setup->context < 2 || setup->batch < 1)
        return error_set(error, "gpt: %d layers, %d heads, width %d, context %d, batch %d: each must be positive "
                         "(context at least 2)", setup->layers, setup->heads, setup->dim, setup->context, setup->batch);
    if (data_source_load(&gpt->source, setup->text_path, error) ||
        data_make_tokenizer(&gpt->source, "char", NULL, NULL, &gpt->tokenizer, error) ||
        dataset_init(&gpt->data, &gpt->source, &gpt->tokenizer, NULL, error))
        return -1;
    if (gpt->data.n_train < setup->context + 1 || gpt->data.n_val < setup->context + 1)
        return error_set(error, "%s: too short for a context of %d", setup->text_path, setup->context);
    ModelConfig config = {.arch = ARCH_GPT2, .vocab_size = text_vocab_size(&gpt->tokenizer),
                          .context_length = setup->context, .n_layers = setup->layers, .n_heads = setup->heads,
                          .d_model = setup->dim};
    Random init;
    random_seed(&init, seed);
    if (model_init(&gpt->model, &config, &init, error)) return -1;
    return model_prepare(&gpt->model, setup->batch, setup->context, 1, error);
}

void small_gpt_free(SmallGpt *gpt) {
    model_free(&gpt->model);
    dataset_free(&gpt->data);
    text_tokenizer_free(&gpt->tokenizer);
    data_source_free(&gpt->source);
    memset(gpt, 0, sizeof *gpt);
}

// ----------------------------------------------------------------------------

int flat_classifier_init(FlatClassifier *flat, const Classifier *classifier, const LabelledSet *set, int batch_size,
                         uint64_t seed, Error *error) {
    memset(flat, 0, sizeof *flat);
    flat->classifier = classifier, flat->set = set, flat->batch_size = batch_size;
    random_seed(&flat->rng, seed);
    tape_init(&flat->tape);
    flat->n = parameters_count(classifier->params);
    flat->inputs = malloc(sizeof(float) * (size_t)batch_size * set->sample_size);
    flat->labels = malloc(sizeof(int) * (size_t)batch_size);
    if (!flat->inputs || !flat->labels) {
        flat_classifier_free(flat);
        return error_set(error, "out of memory for a batch of %d", batch_size);
    }
    return 0;
}

void flat_classifier_free(FlatClassifier *flat) {
    free(flat->inputs);
    free(flat->labels);
    tape_free(&flat->tape);
    flat->inputs = NULL, flat->labels = NULL;
}

// Copies between the flat vector and the trainable tensors: to_tensors 1 sets the values.
static void copy_values(const Parameters *params, float *flat, int to_tensors, int gradients) {
    long at = 0;
    for (int i = 0; i < params->count; i++) {
        if (params->entries[i].is_buffer) continue;
        Tensor *t = params->entries[i].tensor;
        float *values = gradients ? t->grad : t->data;
        if (to_tensors) memcpy(values, flat + at, sizeof(float) * (size_t)t->size);
        else if (values) memcpy(flat + at, values, sizeof(float) * (size_t)t->size);
        else memset(flat + at, 0, sizeof(float) * (size_t)t->size);
        at += t->size;
    }
}

void flat_classifier_get(const FlatClassifier *flat, float *params) { copy_values(flat->classifier->params, params, 0, 0); }

void flat_classifier_set(FlatClassifier *flat, const float *params) {
    copy_values(flat->classifier->params, (float *)params, 1, 0);
}

double flat_classifier_loss_gradient(void *context, const float *params, float *grads, long n) {
    FlatClassifier *flat = context;
    const LabelledSet *set = flat->set;
    (void)n;
    flat_classifier_set(flat, params);
    for (int b = 0; b < flat->batch_size; b++) {
        int i = (int)random_below(&flat->rng, (uint32_t)set->count);
        memcpy(flat->inputs + (size_t)b * set->sample_size, set->inputs + (size_t)i * set->sample_size,
               sizeof(float) * (size_t)set->sample_size);
        flat->labels[b] = set->labels[i];
    }
    Tape *tape = &flat->tape;
    tape_reset(tape);
    int shape[5] = {flat->batch_size};
    for (int d = 0; d < set->n_dims; d++) shape[d + 1] = set->shape[d];
    Tensor *x = tensor_from(tape, flat->inputs, set->n_dims + 1, shape);
    Tensor *logits = flat->classifier->forward(flat->classifier->model, tape, x, 1);
    Tensor *loss = nn_cross_entropy(tape, logits, flat->labels, NN_NO_IGNORE, 0.0f);
    Error error;
    parameters_zero_grad(flat->classifier->params);
    if (!loss || tape_backward(tape, loss, &error)) {
        flat->failed = 1;
        return NAN;
    }
    copy_values(flat->classifier->params, grads, 0, 1);
    return loss->data[0];
}
