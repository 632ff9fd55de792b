// The framework around the operations: memory over 1,000 training steps, initialisers,
// optimizer groups, the loader and the split, state_dict files, gradient clipping, BatchNorm's
// running statistics, and a small network that learns.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/mlp.h"
#include "nn/data.h"
#include "nn/init.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "nn/state_dict.h"
#include "nn/trainer.h"
#include "tests/check.h"

// 1,000 Adam steps of a 20-32-3 MLP with batch norm and dropout on a fixed batch: the arena
// stops growing after the first step (the same bytes reserved at step 2 and step 1,000), the
// resident memory does not grow, and the loss falls.
static void check_memory_and_learning(void) {
    Error error;
    Random rng;
    random_seed(&rng, 3);
    Mlp mlp;
    MlpOptions options = {1, 0.1f};
    CHECK(mlp_classifier_create(&mlp, (int[]){20, 32, 3}, 3, &options, &rng, &error) == 0, "%s", error.message);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    ParamOptimizer optimizer;
    CHECK(param_optimizer_init(&optimizer, &mlp.params, &group, 1, NULL, &error) == 0, "%s", error.message);
    enum { B = 16 };
    float inputs[B * 20];
    int labels[B];
    random_fill_normal(&rng, inputs, B * 20, 0.0f, 1.0f);
    for (int i = 0; i < B; i++) labels[i] = (int)random_below(&rng, 3);
    Tape tape;
    tape_init(&tape);
    size_t reserved_at_2 = 0;
    long resident_at_10 = 0;
    float first_loss = 0.0f, last_loss = 0.0f;
    for (int step = 1; step <= 1000; step++) {
        tape_reset(&tape);
        Tensor *x = tensor_from(&tape, inputs, 2, (int[]){B, 20});
        Tensor *loss = nn_cross_entropy(&tape, mlp_classifier_forward(&tape, &mlp, x, 1), labels, NN_NO_IGNORE, 0.0f);
        parameters_zero_grad(&mlp.params);
        if (!loss || tape_backward(&tape, loss, &error)) {
            CHECK(0, "step %d failed", step);
            break;
        }
        param_optimizer_step(&optimizer, 1e-2f);
        if (step == 1) first_loss = loss->data[0];
        if (step == 2) reserved_at_2 = tape_reserved_bytes(&tape);
        if (step == 10) resident_at_10 = trainer_resident_bytes();
        last_loss = loss->data[0];
    }
    CHECK(tape_reserved_bytes(&tape) == reserved_at_2, "the arena grew: %zu bytes at step 2, %zu at 1000", reserved_at_2,
          tape_reserved_bytes(&tape));
#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer keeps freed memory (the matmul's scratch) in quarantine
    long resident_at_1000 = trainer_resident_bytes();
    CHECK(resident_at_1000 <= resident_at_10 + 256 * 1024, "resident memory grew from %ld to %ld bytes", resident_at_10,
          resident_at_1000);
#else
    (void)resident_at_10;
#endif
    CHECK(last_loss < 0.2f * first_loss, "the loss fell only from %g to %g", (double)first_loss, (double)last_loss);
    tape_free(&tape);
    param_optimizer_free(&optimizer);
    mlp_classifier_free(&mlp);
}

// Sample statistics of the initialisers against their definitions.
static void check_init(void) {
    Error error;
    Random rng;
    random_seed(&rng, 5);
    Tensor w;
    tensor_parameter(&w, 2, (int[]){256, 784}, &error);
    double expected_std = sqrt(2.0 / 784.0), sum2 = 0.0;
    init_kaiming_normal(&w, 0.0f, FAN_IN, GAIN_RELU, &rng);
    for (long i = 0; i < w.size; i++) sum2 += (double)w.data[i] * w.data[i];
    CHECK_NEAR(sqrt(sum2 / w.size), expected_std, 0.01 * expected_std);
    float bound = sqrtf(6.0f / (784 + 256));
    init_xavier_uniform(&w, 1.0f, &rng);
    float largest = 0.0f;
    for (long i = 0; i < w.size; i++) largest = fmaxf(largest, fabsf(w.data[i]));
    CHECK(largest <= bound && largest > 0.999f * bound, "xavier_uniform: largest %g, bound %g", (double)largest, (double)bound);
    init_xavier_normal(&w, init_gain(GAIN_TANH, 0.0f), &rng);
    sum2 = 0.0;
    for (long i = 0; i < w.size; i++) sum2 += (double)w.data[i] * w.data[i];
    CHECK_NEAR(sqrt(sum2 / w.size), 5.0 / 3.0 * sqrt(2.0 / (784 + 256)), 0.01 * 5.0 / 3.0 * sqrt(2.0 / (784 + 256)));
    CHECK_NEAR(init_gain(GAIN_LEAKY_RELU, 0.2f), sqrt(2.0 / 1.04), 1e-6);
    // PyTorch's Linear default: U(±1/√in) for weight and bias
    Parameters params = {0};
    Linear fc;
    linear_init(&fc, &params, "fc", 100, 50, 1, &rng, &error);
    largest = 0.0f;
    for (long i = 0; i < fc.weight->size; i++) largest = fmaxf(largest, fabsf(fc.weight->data[i]));
    CHECK(largest <= 0.1f && largest > 0.099f, "Linear init: largest |w| %g, bound 0.1", (double)largest);
    CHECK(parameters_find(&params, "fc.bias") == fc.bias, "state_dict name fc.bias");
    parameters_free(&params);
    tensor_parameter_free(&w);
}

// Two groups: AdamW's decay on the matrix, none on the bias (zero gradients: only decay moves).
static void check_groups_and_clipping(void) {
    Error error;
    Random rng;
    random_seed(&rng, 6);
    Parameters params = {0};
    Linear fc;
    linear_init(&fc, &params, "fc", 4, 3, 1, &rng, &error);
    init_constant(fc.weight, 1.0f);
    init_constant(fc.bias, 1.0f);
    OptimizerGroup groups[2] = {{optimizer_default_config(OPTIMIZER_ADAMW), 1.0f}, {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f}};
    groups[0].config.weight_decay = 0.1f;
    ParamOptimizer optimizer;
    CHECK(param_optimizer_init(&optimizer, &params, groups, 2, group_no_decay_on_vectors, &error) == 0, "%s", error.message);
    parameters_zero_grad(&params);
    param_optimizer_step(&optimizer, 0.5f);
    CHECK_NEAR(fc.weight->data[0], 1.0 - 0.5 * 0.1, 1e-7);  // decayed
    CHECK_NEAR(fc.bias->data[0], 1.0, 0.0);                // not
    param_optimizer_free(&optimizer);
    // A group's lr_scale: plain SGD at lr 0.5 with gradient 1 everywhere moves the weights
    // (scale 1) by 0.5 and the biases (scale 0.2) by 0.1.
    init_constant(fc.weight, 1.0f);
    init_constant(fc.bias, 1.0f);
    OptimizerGroup scaled[2] = {{optimizer_default_config(OPTIMIZER_SGD), 1.0f}, {optimizer_default_config(OPTIMIZER_SGD), 0.2f}};
    CHECK(param_optimizer_init(&optimizer, &params, scaled, 2, group_no_decay_on_vectors, &error) == 0, "%s", error.message);
    for (int i = 0; i < 12; i++) fc.weight->grad[i] = 1.0f;
    for (int i = 0; i < 3; i++) fc.bias->grad[i] = 1.0f;
    param_optimizer_step(&optimizer, 0.5f);
    CHECK_NEAR(fc.weight->data[5], 1.0 - 0.5, 1e-7);
    CHECK_NEAR(fc.bias->data[2], 1.0 - 0.5 * 0.2, 1e-7);
    param_optimizer_free(&optimizer);
    parameters_zero_grad(&params);
    // clip_grad_norm: gradients (3, 4) of norm 5 clipped to 1
    memset(fc.weight->grad, 0, sizeof(float) * 12);
    fc.weight->grad[0] = 3.0f, fc.bias->grad[0] = 4.0f;
    CHECK_NEAR(parameters_clip_grad_norm(&params, 1.0f), 5.0, 1e-6);
    CHECK_NEAR(fc.weight->grad[0], 0.6, 1e-6);
    CHECK_NEAR(fc.bias->grad[0], 0.8, 1e-6);
    parameters_free(&params);
}

// The loader: every example once per epoch, the last batch partial, a new order each epoch,
// the same orders for the same seed; the split: sizes and no example in both.
static void check_data(void) {
    Error error;
    enum { N = 103 };
    float inputs[N];
    int labels[N];
    for (int i = 0; i < N; i++) inputs[i] = (float)i, labels[i] = i % 10;
    LabelledSet set, train, validation;
    CHECK(labelled_set_create(&set, inputs, labels, N, 1, (int[]){1}, 10, &error) == 0, "%s", error.message);
    Loader a, b;
    loader_init(&a, &set, 10, 1, 42, &error);
    loader_init(&b, &set, 10, 1, 42, &error);
    CHECK(loader_batches(&a) == 11, "103 examples in batches of 10: 11 batches");
    float batch[10], batch_b[10], first_order[N];
    int batch_labels[10], seen[N] = {0}, n, sizes = 0, count = 0, differs = 0;
    for (int epoch = 0; epoch < 2; epoch++) {
        loader_start_epoch(&a);
        loader_start_epoch(&b);
        count = 0;
        while ((n = loader_next(&a, batch, batch_labels)) > 0) {
            loader_next(&b, batch_b, batch_labels);
            for (int i = 0; i < n; i++) {
                CHECK(batch[i] == batch_b[i], "same seed, same order");
                if (epoch == 0) seen[(int)batch[i]]++, first_order[count] = batch[i];
                else differs |= first_order[count] != batch[i];
                count++;
            }
            sizes = n;
        }
    }
    CHECK(sizes == 3, "the last batch holds the 3 left over, not %d", sizes);
    for (int i = 0; i < N; i++) CHECK(seen[i] == 1, "example %d seen %d times in an epoch", i, seen[i]);
    CHECK(differs, "the second epoch has another order");
    loader_free(&a), loader_free(&b);
    CHECK(labelled_set_split(&set, 20, 7, &train, &validation, &error) == 0, "%s", error.message);
    CHECK(train.count == 83 && validation.count == 20, "split sizes %d / %d", train.count, validation.count);
    double total = 0.0;
    for (int i = 0; i < train.count; i++) total += train.inputs[i];
    for (int i = 0; i < validation.count; i++) total += validation.inputs[i];
    CHECK_NEAR(total, N * (N - 1) / 2.0, 0.0);  // every example exactly once
    labelled_set_free(&train), labelled_set_free(&validation);
    int bad[2] = {0, 10};
    CHECK(labelled_set_create(&set, inputs, bad, 2, 1, (int[]){1}, 10, &error) != 0 && strstr(error.message, "label 10"),
          "a label outside the classes: %s", error.message);
}

// Save and load: the same values back; a missing tensor, a wrong shape and an unknown one named.
static void check_state_dict(void) {
    Error error;
    Random rng;
    random_seed(&rng, 8);
    const char *path = check_path("mlp.safetensors");
    Mlp saved, loaded, other;
    mlp_classifier_create(&saved, (int[]){6, 5, 4}, 3, NULL, &rng, &error);
    mlp_classifier_create(&other, (int[]){6, 7, 4}, 3, NULL, &rng, &error);
    CHECK(state_dict_save(&saved.params, path, NULL, 0, &error) == 0, "%s", error.message);
    CHECK(mlp_classifier_load(&loaded, path, &error) == 0, "%s", error.message);
    CHECK(loaded.n_layers == 2 && loaded.sizes[1] == 5, "architecture read from the shapes");
    for (int i = 0; i < saved.params.count; i++) {
        Tensor *a = saved.params.entries[i].tensor, *b = loaded.params.entries[i].tensor;
        CHECK(memcmp(a->data, b->data, sizeof(float) * (size_t)a->size) == 0, "%s differs after loading", saved.params.entries[i].name);
    }
    CHECK(state_dict_load(&other.params, path, &error) != 0 && strstr(error.message, "fc1.weight has shape (5,6)"),
          "wrong shape: %s", error.message);
    BatchNorm1d bn;
    CHECK(batch_norm_init(&bn, &loaded.params, "bn1", 5, &error) == 0, "%s", error.message);
    CHECK(state_dict_load(&loaded.params, path, &error) != 0 && strstr(error.message, "bn1.weight is missing"),
          "missing: %s", error.message);
    CHECK(state_dict_save(&loaded.params, path, NULL, 0, &error) == 0, "%s", error.message);
    CHECK(state_dict_load(&saved.params, path, &error) != 0 && strstr(error.message, "bn1.weight is not a tensor"),
          "unknown: %s", error.message);
    mlp_classifier_free(&saved), mlp_classifier_free(&loaded), mlp_classifier_free(&other);
}

// BatchNorm1d: running mean moves 10% of the way to the batch mean, running variance to the
// unbiased batch variance; evaluation uses them; num_batches_tracked counts.
static void check_batch_norm(void) {
    Error error;
    Parameters params = {0};
    BatchNorm1d bn;
    batch_norm_init(&bn, &params, "bn", 1, &error);
    Tape tape;
    tape_init(&tape);
    Tensor *x = tensor_from(&tape, (float[]){1, 2, 3, 6}, 2, (int[]){4, 1});
    Tensor *y = batch_norm_apply(&tape, &bn, x, 1);
    CHECK(y != NULL, "%s", tape.error.message);
    CHECK_NEAR(bn.running_mean->data[0], 0.1 * 3.0, 1e-6);
    CHECK_NEAR(bn.running_var->data[0], 0.9 + 0.1 * (14.0 / 3.0), 1e-6);  // unbiased: Σ(x−3)² / 3 = 14/3
    CHECK_NEAR(bn.num_batches_tracked->data[0], 1.0, 0.0);
    CHECK_NEAR(y->data[3], 3.0 / sqrt(3.5 + 1e-5), 1e-5);  // biased variance 14/4 in the normalisation
    Tensor *z = batch_norm_apply(&tape, &bn, x, 0);
    CHECK_NEAR(z->data[0], (1.0 - 0.3) / sqrt(bn.running_var->data[0] + 1e-5), 1e-5);
    tape_free(&tape);
    parameters_free(&params);
}

// A 4-8-2 MLP on two separable blobs: training reaches 100% validation accuracy; at a learning
// rate too small to change anything, early stopping ends the run `patience` epochs after the
// first, keeping epoch 1's weights; a checkpoint resumes at the next epoch.
static void early_stopping_and_resume(void) {
    Error error;
    Random rng;
    random_seed(&rng, 12);
    enum { N = 200 };
    float inputs[N * 4];
    int labels[N];
    for (int i = 0; i < N; i++) {
        labels[i] = i % 2;
        for (int j = 0; j < 4; j++) inputs[i * 4 + j] = random_normal(&rng, labels[i] ? 1.5f : -1.5f, 1.0f);
    }
    LabelledSet all, train, validation;
    REQUIRE(labelled_set_create(&all, inputs, labels, N, 1, (int[]){4}, 2, &error) == 0, "%s", error.message);
    REQUIRE(labelled_set_split(&all, 50, 3, &train, &validation, &error) == 0, "%s", error.message);
    Mlp mlp;
    REQUIRE(mlp_classifier_create(&mlp, (int[]){4, 8, 2}, 3, NULL, &rng, &error) == 0, "%s", error.message);
    Classifier classifier = mlp_as_classifier(&mlp);
    TrainerHistory *history = calloc(1, sizeof *history);
    const char *checkpoint = check_path("run.safetensors"), *best = check_path("best.safetensors");
    TrainerConfig config = {.epochs = 10, .batch_size = 16, .lr = 1e-12f, .schedule = SCHEDULE_CONSTANT,
                            .optimizer = OPTIMIZER_ADAM, .seed = 5, .patience = 2, .checkpoint_path = checkpoint,
                            .best_path = best};
    CHECK(classifier_train(&classifier, &train, &validation, &config, NULL, history, &error) == 0, "%s", error.message);
    CHECK(history->stopped_early && history->n_epochs == 3 && history->best_epoch == 1,
          "lr 1e-12: stopped %d after %d epochs, best %d", history->stopped_early, history->n_epochs, history->best_epoch);
    // a real learning rate, resumed from that checkpoint (epoch 3) up to epoch 6
    config.lr = 1e-2f, config.patience = 0, config.epochs = 6, config.resume_path = checkpoint;
    CHECK(classifier_train(&classifier, &train, &validation, &config, NULL, history, &error) == 0, "%s", error.message);
    CHECK(history->first_epoch == 4 && history->n_epochs == 3, "resumed at epoch %d for %d epochs", history->first_epoch,
          history->n_epochs);
    CHECK(history->records[history->n_epochs - 1].val_accuracy > 0.95, "validation accuracy %g",
          history->records[history->n_epochs - 1].val_accuracy);
    Evaluation evaluation;
    CHECK(classifier_evaluate(&classifier, &validation, 7, &evaluation, &error) == 0, "%s", error.message);
    int total = 0;
    for (int k = 0; k < 4; k++) total += evaluation.confusion[k];
    CHECK(total == 50 && evaluation.count == 50, "the confusion matrix counts every example once (%d)", total);
    evaluation_free(&evaluation);
    free(history);
    mlp_classifier_free(&mlp);
    labelled_set_free(&train), labelled_set_free(&validation);
}

// After epoch 2, copies the run's checkpoint (context: {from, to}) aside.
static void copy_after_epoch_2(void *context, const EpochRecord *record) {
    const char *const *paths = context;
    if (record->epoch != 2) return;
    FILE *from = fopen(paths[0], "rb"), *to = fopen(paths[1], "wb");
    char buffer[4096];
    size_t n;
    while (from && to && (n = fread(buffer, 1, sizeof buffer, from)) > 0) fwrite(buffer, 1, n, to);
    if (from) fclose(from);
    if (to) fclose(to);
}

// Every optimizer kind (and the new schedules, clipping by value, L1) resumes exactly: 4
// epochs in one run end with the same weights, bit for bit, as resuming that run's checkpoint
// of epoch 2 for the last 2.
static void every_optimizer_resumes_exactly(void) {
    Error error;
    Random rng;
    random_seed(&rng, 21);
    enum { N = 120 };
    float inputs[N * 4];
    int labels[N];
    for (int i = 0; i < N; i++) {
        labels[i] = i % 2;
        for (int j = 0; j < 4; j++) inputs[i * 4 + j] = random_normal(&rng, labels[i] ? 1.0f : -1.0f, 1.0f);
    }
    LabelledSet train;
    REQUIRE(labelled_set_create(&train, inputs, labels, N, 1, (int[]){4}, 2, &error) == 0, "%s", error.message);
    TrainerHistory *history = calloc(1, sizeof *history);
    REQUIRE(history, "out of memory");
    const char *checkpoint = check_path("kinds.safetensors"), *epoch_2 = check_path("kinds2.safetensors");
    const char *paths[2] = {checkpoint, epoch_2};
    TrainerCallbacks copier = {(void *)paths, NULL, copy_after_epoch_2};
    static const ScheduleKind schedules[N_OPTIMIZER_KINDS] = {SCHEDULE_ONE_CYCLE, SCHEDULE_COSINE, SCHEDULE_STEP_DECAY,
                                                              SCHEDULE_CONSTANT, SCHEDULE_WARMUP_COSINE, SCHEDULE_ONE_CYCLE};
    for (int k = 0; k < N_OPTIMIZER_KINDS; k++) {
        float *weights[2] = {NULL, NULL};
        long n = 0;
        for (int split = 0; split < 2; split++) {
            Random init;
            random_seed(&init, 4);
            Mlp mlp;
            REQUIRE(mlp_classifier_create(&mlp, (int[]){4, 8, 2}, 3, NULL, &init, &error) == 0, "%s", error.message);
            Classifier classifier = mlp_as_classifier(&mlp);
            TrainerConfig config = {.epochs = 4, .batch_size = 16, .lr = k <= OPTIMIZER_NESTEROV ? 0.1f : 1e-2f,
                                    .schedule = schedules[k], .gamma = 0.5f, .optimizer = (OptimizerKind)k,
                                    .weight_decay = 1e-3f, .seed = 5, .checkpoint_path = checkpoint,
                                    .clip_value = 0.5f, .l1 = 1e-4f};
            if (split) config.resume_path = epoch_2;
            CHECK(classifier_train(&classifier, &train, NULL, &config, split ? NULL : &copier, history, &error) == 0, "%s: %s",
                  optimizer_kind_name((OptimizerKind)k), error.message);
            CHECK(history->records[history->n_epochs - 1].grad_norm > 0.0 &&
                      history->records[history->n_epochs - 1].max_grad_norm >= history->records[history->n_epochs - 1].grad_norm,
                  "the epoch records the gradient norm");
            n = 0;
            for (int i = 0; i < mlp.params.count; i++) n += mlp.params.entries[i].tensor->size;
            weights[split] = malloc(sizeof(float) * (size_t)n);
            REQUIRE(weights[split], "out of memory");
            for (int i = 0, at = 0; i < mlp.params.count; i++) {
                const Tensor *t = mlp.params.entries[i].tensor;
                memcpy(weights[split] + at, t->data, sizeof(float) * (size_t)t->size);
                at += (int)t->size;
            }
            mlp_classifier_free(&mlp);
        }
        CHECK(memcmp(weights[0], weights[1], sizeof(float) * (size_t)n) == 0, "%s, %s: resumed weights differ",
              optimizer_kind_name((OptimizerKind)k), schedule_kind_name(schedules[k]));
        free(weights[0]), free(weights[1]);
    }
    TrainerConfig both = {.epochs = 1, .batch_size = 16, .lr = 1e-2f, .clip = 1.0f, .clip_value = 1.0f};
    CHECK(trainer_check(&both, N, &error) == -1 && strstr(error.message, "not both"), "norm and value: %s", error.message);
    TrainerConfig negative = {.epochs = 1, .batch_size = 16, .lr = 1e-2f, .l1 = -1.0f};
    CHECK(trainer_check(&negative, N, &error) == -1 && strstr(error.message, ">= 0"), "negative L1: %s", error.message);
    free(history);
    labelled_set_free(&train);
}

// parameters_gather/scatter: the trainable values in registration order (fc.weight, fc.bias,
// bn.weight, bn.bias), the batch norm's buffers left out, and a scatter restoring a gather.
static void check_gather_scatter(void) {
    Error error;
    Parameters params = {0};
    Random rng;
    random_seed(&rng, 3);
    Linear fc;
    BatchNorm1d bn;
    REQUIRE(linear_init(&fc, &params, "fc", 3, 2, 1, &rng, &error) == 0, "%s", error.message);
    REQUIRE(batch_norm_init(&bn, &params, "bn", 2, &error) == 0, "%s", error.message);
    long n = parameters_count(&params);
    CHECK(n == 6 + 2 + 2 + 2, "%ld trainable values", n);
    float flat[12], again[12];
    parameters_gather(&params, flat);
    CHECK(flat[0] == fc.weight->data[0] && flat[5] == fc.weight->data[5], "fc.weight first");
    CHECK(flat[6] == fc.bias->data[0] && flat[8] == 1.0f && flat[10] == 0.0f, "then fc.bias, bn.weight, bn.bias");
    for (long i = 0; i < n; i++) again[i] = (float)i;
    bn.running_mean->data[0] = 7.0f;
    parameters_scatter(&params, again);
    CHECK(fc.weight->data[0] == 0.0f && fc.bias->data[1] == 7.0f && bn.bias->data[1] == 11.0f, "scattered in order");
    CHECK(bn.running_mean->data[0] == 7.0f, "buffers untouched");
    parameters_scatter(&params, flat);
    parameters_gather(&params, again);
    for (long i = 0; i < n; i++) CHECK(again[i] == flat[i], "value %ld restored", i);
    parameters_free(&params);
}

static const CheckCase CASES[] = {
    {"every optimizer resumes exactly", every_optimizer_resumes_exactly},
    {"early stopping, best weights, resume", early_stopping_and_resume},
    {"1,000 steps: no memory growth, the loss falls", check_memory_and_learning},
    {"initialisers", check_init},
    {"optimizer groups and gradient clipping", check_groups_and_clipping},
    {"loader and validation split", check_data},
    {"state_dict files and their errors", check_state_dict},
    {"batch norm running statistics", check_batch_norm},
    {"parameters gathered and scattered", check_gather_scatter},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
