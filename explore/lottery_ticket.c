// Lottery tickets by iterative magnitude pruning with rewinding: see generalisation.h.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/generalisation.h"

typedef struct Ranked {
    float magnitude;
    long index;
} Ranked;

static int compare_ranked(const void *a, const void *b) {
    const Ranked *x = a, *y = b;
    if (x->magnitude != y->magnitude) return x->magnitude < y->magnitude ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

long prune_smallest(const float *weights, float *mask, long n, double rate) {
    long alive = 0;
    for (long i = 0; i < n; i++) alive += mask[i] != 0.0f;
    long remove = lround(rate * (double)alive);
    if (remove <= 0) return 0;
    Ranked *ranked = malloc(sizeof *ranked * (size_t)(alive ? alive : 1));
    if (!ranked) return -1;
    for (long i = 0, k = 0; i < n; i++)
        if (mask[i] != 0.0f) ranked[k++] = (Ranked){fabsf(weights[i]), i};
    qsort(ranked, (size_t)alive, sizeof *ranked, compare_ranked);
    for (long k = 0; k < remove; k++) mask[ranked[k].index] = 0.0f;
    free(ranked);
    return remove;
}

// The masks of the weight matrices, one buffer in layer order.
typedef struct Masks {
    float *values;
    long offset[MLP_MAX_LAYERS + 1];
} Masks;

// w ← w ⊙ m after every update: pruned weights stay exactly 0 through training.
static void apply_masks(void *context, Mlp *mlp, float lr) {
    (void)lr;
    const Masks *masks = context;
    for (int l = 0; l < mlp->n_layers; l++) {
        float *w = mlp->fc[l].weight->data;
        const float *m = masks->values + masks->offset[l];
        for (long i = 0; i < mlp->fc[l].weight->size; i++) w[i] *= m[i];
    }
}

// A network initialised from seed, then weights copied from initial (when not NULL, all
// parameters in order), masked, trained and tested.
static int train_masked(const MnistMlpSetup *setup, uint64_t seed, const float *initial, Masks *masks,
                        const LabelledSet *train, const LabelledSet *test, double *accuracy, float *trained,
                        Error *error) {
    Mlp mlp;
    if (mnist_mlp_create(setup, 0.0f, seed, &mlp, error)) return -1;
    if (initial) parameters_scatter(&mlp.params, initial);
    apply_masks(masks, &mlp, 0.0f);
    int status = mnist_mlp_train(setup, &mlp, train, NULL, 0.0f, apply_masks, NULL, masks, NULL, error) ||
                 mnist_mlp_accuracy(&mlp, test, accuracy, NULL, error);
    if (!status && trained)  // the trained weight matrices, in mask order
        for (int l = 0; l < mlp.n_layers; l++)
            memcpy(trained + masks->offset[l], mlp.fc[l].weight->data, sizeof(float) * (size_t)mlp.fc[l].weight->size);
    mlp_classifier_free(&mlp);
    return status ? -1 : 0;
}

// θ₀: every parameter of the network of the setup's seed, in order; the masks' layout.
static int initial_state(const MnistMlpSetup *setup, float **initial, Masks *masks, long *n_weights, Error *error) {
    Mlp mlp;
    if (mnist_mlp_create(setup, 0.0f, setup->seed, &mlp, error)) return -1;
    long total = parameters_count(&mlp.params);
    *initial = malloc(sizeof(float) * (size_t)total);
    masks->offset[0] = 0;
    for (int l = 0; l < mlp.n_layers; l++) masks->offset[l + 1] = masks->offset[l] + mlp.fc[l].weight->size;
    *n_weights = masks->offset[mlp.n_layers];
    masks->values = malloc(sizeof(float) * (size_t)*n_weights);
    if (!*initial || !masks->values) {
        mlp_classifier_free(&mlp);
        return error_set(error, "out of memory");
    }
    parameters_gather(&mlp.params, *initial);
    for (long i = 0; i < *n_weights; i++) masks->values[i] = 1.0f;
    mlp_classifier_free(&mlp);
    return 0;
}

int explore_lottery_ticket(const MnistMlpSetup *setup, int rounds, double rate, LotteryResult *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (mnist_mlp_check_setup(setup, error) || explore_check_count(rounds, 1, "the rounds", error) ||
        explore_check_range(rate, 0.0, 1.0, 1, 1, "the pruning rate", error))
        return -1;
    if (rounds > LOTTERY_MAX_ROUNDS)
        return error_set(error, "the rounds must be at most %d, not %d", LOTTERY_MAX_ROUNDS, rounds);
    LabelledSet train, test;
    if (mnist_mlp_load(setup, &train, 0, NULL, &test, error)) return -1;
    float *initial = NULL, *trained = NULL;
    Masks masks = {0};
    int status = -1, n_layers = setup->hidden[1] ? 3 : 2;
    out->rounds = rounds, out->rate = rate;
    if (initial_state(setup, &initial, &masks, &out->n_weights, error)) goto done;
    if (!(trained = malloc(sizeof(float) * (size_t)out->n_weights))) {
        error_set(error, "out of memory");
        goto done;
    }
    for (int r = 0; r <= rounds; r++) {
        LotteryRound *round = &out->round[r];
        long alive = 0;
        for (long i = 0; i < out->n_weights; i++) alive += masks.values[i] != 0.0f;
        round->remaining = (double)alive / out->n_weights;
        if (train_masked(setup, setup->seed, initial, &masks, &train, &test, &round->ticket_accuracy, trained, error))
            goto done;
        if (r == 0) round->random_accuracy = round->ticket_accuracy;
        else if (train_masked(setup, setup->seed + 1000003u * (uint64_t)r, NULL, &masks, &train, &test,
                              &round->random_accuracy, NULL, error))
            goto done;
        if (r == rounds) break;
        for (int l = 0; l < n_layers; l++) {
            long first = masks.offset[l], n = masks.offset[l + 1] - first;
            if (prune_smallest(trained + first, masks.values + first, n, l == n_layers - 1 ? rate / 2 : rate) < 0) {
                error_set(error, "out of memory");
                goto done;
            }
        }
    }
    status = 0;
done:
    free(initial), free(trained), free(masks.values);
    labelled_set_free(&train), labelled_set_free(&test);
    return status;
}
