// L1 against L2, early stopping and dropout as an ensemble on the MNIST MLP: see generalisation.h.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/generalisation.h"
#include "foundations/clock.h"

void soft_threshold(float *values, long n, float t) {
    for (long i = 0; i < n; i++) {
        float w = values[i], magnitude = fabsf(w) - t;
        values[i] = magnitude > 0.0f ? copysignf(magnitude, w) : 0.0f;
    }
}

// ----------------------------------------------------------------------------
// l1-l2

typedef struct L1Context {
    float coefficient;  // λ
} L1Context;

// The proximal step of λ Σ|w| after an SGD step of size η: soft-threshold by ηλ, weights only.
static void l1_proximal(void *context, Mlp *mlp, float lr) {
    float t = lr * ((L1Context *)context)->coefficient;
    for (int i = 0; i < mlp->n_layers; i++) soft_threshold(mlp->fc[i].weight->data, mlp->fc[i].weight->size, t);
}

// Test accuracy, exact zeros, mean |w| and the histogram of the weight matrices.
static int describe_weights(Mlp *mlp, const LabelledSet *test, double limit, PenaltyRun *run, long *n_weights,
                            Error *error) {
    if (mnist_mlp_accuracy(mlp, test, &run->test_accuracy, NULL, error)) return -1;
    long zeros = 0, n = 0;
    double absolute = 0.0;
    memset(run->histogram, 0, sizeof run->histogram);
    for (int l = 0; l < mlp->n_layers; l++) {
        const Tensor *w = mlp->fc[l].weight;
        for (long i = 0; i < w->size; i++) {
            float v = w->data[i];
            zeros += v == 0.0f, absolute += fabsf(v), n++;
            int bin = (int)floor((v + limit) / (2.0 * limit) * L1L2_BINS);
            run->histogram[bin < 0 ? 0 : bin >= L1L2_BINS ? L1L2_BINS - 1 : bin]++;
        }
    }
    run->zero_fraction = (double)zeros / n;
    run->mean_absolute = absolute / n;
    *n_weights = n;
    return 0;
}

// One training with penalty 0 (none), 1 (L1) or 2 (L2) of coefficient λ from the same initialisation.
static int penalty_run(const MnistMlpSetup *setup, const LabelledSet *train, const LabelledSet *test, int penalty,
                       double coefficient, double limit, PenaltyRun *run, long *n_weights, Error *error) {
    Mlp mlp;
    if (mnist_mlp_create(setup, 0.0f, setup->seed, &mlp, error)) return -1;
    L1Context l1 = {(float)coefficient};
    run->coefficient = coefficient;
    int status = mnist_mlp_train(setup, &mlp, train, NULL, penalty == 2 ? (float)coefficient : 0.0f,
                                 penalty == 1 ? l1_proximal : NULL, NULL, &l1, NULL, error) ||
                 describe_weights(&mlp, test, limit, run, n_weights, error);
    mlp_classifier_free(&mlp);
    return status ? -1 : 0;
}

int explore_l1_l2(const MnistMlpSetup *setup, const double *coefficients, int n, double tolerance,
                  L1L2Result *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (mnist_mlp_check_setup(setup, error)) return -1;
    if (n < 1 || n > L1L2_MAX_COEFFICIENTS)
        return error_set(error, "between 1 and %d coefficients, not %d", L1L2_MAX_COEFFICIENTS, n);
    for (int i = 0; i < n; i++)
        if (explore_check_range(coefficients[i], 0.0, INFINITY, 1, 1, "every coefficient", error)) return -1;
    if (explore_check_range(tolerance, 0.0, 1.0, 0, 0, "the tolerance", error)) return -1;
    LabelledSet train, test;
    if (mnist_mlp_load(setup, &train, 0, NULL, &test, error)) return -1;
    out->n_coefficients = n, out->tolerance = tolerance;
    out->histogram_limit = 0.2;
    int status = penalty_run(setup, &train, &test, 0, 0.0, out->histogram_limit, &out->baseline, &out->n_weights, error);
    for (int i = 0; i < n && !status; i++)
        status = penalty_run(setup, &train, &test, 1, coefficients[i], out->histogram_limit, &out->l1[i], &out->n_weights,
                             error) ||
                 penalty_run(setup, &train, &test, 2, coefficients[i], out->histogram_limit, &out->l2[i], &out->n_weights,
                             error);
    labelled_set_free(&train), labelled_set_free(&test);
    if (status) return -1;
    int best_l2 = 0;
    for (int i = 1; i < n; i++)
        if (out->l2[i].test_accuracy > out->l2[best_l2].test_accuracy) best_l2 = i;
    out->comparable_l2 = best_l2, out->comparable_l1 = -1;
    for (int i = 0; i < n; i++)
        if (out->l1[i].test_accuracy >= out->l2[best_l2].test_accuracy - tolerance &&
            (out->comparable_l1 < 0 || out->l1[i].zero_fraction > out->l1[out->comparable_l1].zero_fraction))
            out->comparable_l1 = i;
    return 0;
}

// ----------------------------------------------------------------------------
// early-stopping

typedef struct EarlyContext {
    const LabelledSet *test;
    Mlp *mlp;
    EarlyStoppingResult *out;
    int status;
    Error error;
    float *best[2];       // each rule's best weights so far, in parameter order
    double best_value[2]; // the validation loss, minus the validation accuracy: lower is better
    int since_best[2];
} EarlyContext;

// After each epoch: the curves, and each rule's bookkeeping while it has not stopped.
static void early_epoch(void *context, const EpochRecord *record) {
    EarlyContext *c = context;
    EarlyStoppingResult *r = c->out;
    int e = record->epoch - 1;
    r->train_loss[e] = record->train_loss;
    r->validation_loss[e] = record->val_loss;
    r->validation_accuracy[e] = record->val_accuracy;
    if (!c->status && mnist_mlp_accuracy(c->mlp, c->test, &r->test_accuracy[e], &r->test_loss[e], &c->error))
        c->status = -1;
    double value[2] = {record->val_loss, -record->val_accuracy};
    for (int k = 0; k < 2; k++) {
        StoppingRule *rule = &r->rules[k];
        if (rule->stop_epoch) continue;  // stopped already: the rest is the curve beyond the stopping point
        if (value[k] < c->best_value[k]) {
            c->best_value[k] = value[k], c->since_best[k] = 0, rule->kept_epoch = record->epoch;
            parameters_gather(&c->mlp->params, c->best[k]);
        } else if (++c->since_best[k] >= r->patience) {
            rule->stop_epoch = record->epoch;
        }
    }
}

int randomise_labels(LabelledSet *set, double q, Random *rng) {
    int changed = 0;
    for (int i = 0; i < set->count; i++)
        if (random_uniform_double(rng) < q) {
            int label = (int)random_below(rng, (uint32_t)set->n_classes);
            changed += label != set->labels[i];
            set->labels[i] = label;
        }
    return changed;
}

int explore_early_stopping(const MnistMlpSetup *setup, int n_validation, int patience, double label_noise,
                           EarlyStoppingResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (mnist_mlp_check_setup(setup, error) || explore_check_count(patience, 1, "the patience", error) ||
        explore_check_count(n_validation, 1, "the validation images", error) ||
        explore_check_range(label_noise, 0.0, 1.0, 0, 0, "the label noise", error))
        return -1;
    if (setup->epochs > EARLY_MAX_EPOCHS)
        return error_set(error, "the epochs must be at most %d, not %d", EARLY_MAX_EPOCHS, setup->epochs);
    if (setup->n_train + n_validation > 60000)
        return error_set(error, "training and validation images must be at most 60000 together, not %d",
                         setup->n_train + n_validation);
    LabelledSet train, validation, test;
    if (mnist_mlp_load(setup, &train, n_validation, &validation, &test, error)) return -1;
    Mlp mlp;
    int status = -1;
    EarlyContext context = {&test, &mlp, out, 0, {{0}}, {NULL, NULL}, {INFINITY, INFINITY}, {0, 0}};
    out->epochs = setup->epochs, out->patience = patience, out->n_validation = n_validation;
    out->label_noise = label_noise;
    Random noise;
    random_seed(&noise, setup->seed + 77);
    out->labels_changed = randomise_labels(&train, label_noise, &noise) + randomise_labels(&validation, label_noise, &noise);
    out->rules[0].criterion = "validation loss", out->rules[1].criterion = "validation accuracy";
    if (mnist_mlp_create(setup, 0.0f, setup->seed, &mlp, error)) goto done;
    long n_parameters = parameters_count(&mlp.params);
    context.best[0] = malloc(sizeof(float) * (size_t)n_parameters);
    context.best[1] = malloc(sizeof(float) * (size_t)n_parameters);
    if (!context.best[0] || !context.best[1]) {
        error_set(error, "out of memory");
        goto free_model;
    }
    if (mnist_mlp_train(setup, &mlp, &train, &validation, 0.0f, NULL, early_epoch, &context, NULL, error)) goto free_model;
    if (context.status) {
        *error = context.error;
        goto free_model;
    }
    out->last_test_accuracy = out->test_accuracy[setup->epochs - 1];
    out->last_test_loss = out->test_loss[setup->epochs - 1];
    status = 0;
    for (int k = 0; k < 2 && !status; k++) {
        StoppingRule *rule = &out->rules[k];
        if (!rule->stop_epoch) rule->stop_epoch = setup->epochs;
        parameters_scatter(&mlp.params, context.best[k]);
        status = mnist_mlp_accuracy(&mlp, &test, &rule->kept_test_accuracy, &rule->kept_test_loss, error);
    }
free_model:
    free(context.best[0]), free(context.best[1]);
    mlp_classifier_free(&mlp);
done:
    labelled_set_free(&train), labelled_set_free(&validation), labelled_set_free(&test);
    return status;
}

// ----------------------------------------------------------------------------
// dropout-ensemble

// Class probabilities (n, 10) of the whole set: with a fresh dropout mask per example when
// training is 1, the full network otherwise. probs (set->count, 10).
static int set_probabilities(Mlp *mlp, const LabelledSet *set, int training, float *probs, Error *error) {
    enum { BATCH = 500 };
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    int status = 0;
    for (int first = 0; first < set->count && !status; first += BATCH) {
        int n = set->count - first < BATCH ? set->count - first : BATCH;
        tape_reset(&tape);
        Tensor *x = tensor_from(&tape, set->inputs + (size_t)first * set->sample_size, 2, (int[]){n, set->sample_size});
        Tensor *p = nn_softmax(&tape, mlp_classifier_forward(&tape, mlp, x, training));
        if (!p) status = tape_error(&tape, error);
        else memcpy(probs + (size_t)first * 10, p->data, sizeof(float) * (size_t)n * 10);
    }
    tape_free(&tape);
    return status;
}

static double accuracy_of(const double *probs, const float *single, const LabelledSet *set) {
    int correct = 0;
    for (int i = 0; i < set->count; i++) {
        int best = 0;
        for (int c = 1; c < 10; c++)
            if (probs ? probs[i * 10 + c] > probs[i * 10 + best] : single[i * 10 + c] > single[i * 10 + best]) best = c;
        correct += best == set->labels[i];
    }
    return (double)correct / set->count;
}

int explore_dropout_ensemble(const MnistMlpSetup *setup, float p, int max_k, DropoutEnsembleResult *out,
                             Error *error) {
    memset(out, 0, sizeof *out);
    if (mnist_mlp_check_setup(setup, error) || explore_check_range(p, 0.0, 1.0, 1, 1, "the dropout probability", error) ||
        explore_check_count(max_k, 1, "the number of masks", error))
        return -1;
    if (max_k > DROPOUT_MAX_SAMPLES)
        return error_set(error, "the number of masks must be at most %d, not %d", DROPOUT_MAX_SAMPLES, max_k);
    LabelledSet train, test;
    if (mnist_mlp_load(setup, &train, 0, NULL, &test, error)) return -1;
    Mlp mlp;
    int status = -1;
    float *probs = malloc(sizeof(float) * (size_t)test.count * 10);
    double *sum = calloc((size_t)test.count * 10, sizeof *sum);
    out->p = p, out->max_k = max_k;
    if (!probs || !sum) {
        error_set(error, "out of memory");
        goto done;
    }
    if (mnist_mlp_create(setup, p, setup->seed, &mlp, error)) goto done;
    double start = clock_seconds();
    if (mnist_mlp_train(setup, &mlp, &train, NULL, 0.0f, NULL, NULL, NULL, NULL, error)) goto free_model;
    out->train_seconds = clock_seconds() - start;
    if (set_probabilities(&mlp, &test, 0, probs, error)) goto free_model;
    out->weight_scaling_accuracy = accuracy_of(NULL, probs, &test);
    for (int k = 1; k <= max_k; k++) {
        if (set_probabilities(&mlp, &test, 1, probs, error)) goto free_model;
        out->single_mask_accuracy += accuracy_of(NULL, probs, &test) / max_k;
        for (long i = 0; i < (long)test.count * 10; i++) sum[i] += probs[i];
        out->mc_accuracy[k - 1] = accuracy_of(sum, NULL, &test);  // the argmax of the sum is that of the mean
    }
    status = 0;
free_model:
    mlp_classifier_free(&mlp);
done:
    free(probs), free(sum);
    labelled_set_free(&train), labelled_set_free(&test);
    return status;
}
