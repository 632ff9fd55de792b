// Labelled sets, splits and the loader: see data.h.
#include "nn/data.h"

#include <stdlib.h>
#include <string.h>

int labelled_set_create(LabelledSet *set, const float *inputs, const int *labels, int count, int n_dims,
                        const int *shape, int n_classes, Error *error) {
    memset(set, 0, sizeof *set);
    long sample_size = 1;
    if (count < 0 || n_dims < 1 || n_dims > 4 || n_classes < 1) return error_set(error, "data: invalid set description");
    for (int d = 0; d < n_dims; d++) {
        if (shape[d] < 1) return error_set(error, "data: example dimension %d is %d", d, shape[d]);
        sample_size *= shape[d];
        set->shape[d] = shape[d];
    }
    for (int i = 0; i < count; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return error_set(error, "data: label %d of example %d is outside [0, %d)", labels[i], i, n_classes);
    set->inputs = malloc(sizeof(float) * (size_t)sample_size * (size_t)(count ? count : 1));
    set->labels = malloc(sizeof(int) * (size_t)(count ? count : 1));
    if (!set->inputs || !set->labels) {
        labelled_set_free(set);
        return error_set(error, "data: out of memory for %d examples", count);
    }
    memcpy(set->inputs, inputs, sizeof(float) * (size_t)sample_size * (size_t)count);
    memcpy(set->labels, labels, sizeof(int) * (size_t)count);
    set->count = count;
    set->sample_size = (int)sample_size;
    set->n_dims = n_dims;
    set->n_classes = n_classes;
    return 0;
}

void labelled_set_free(LabelledSet *set) {
    free(set->inputs);
    free(set->labels);
    memset(set, 0, sizeof *set);
}

// The examples order[0..n) of all as a new set.
static int subset(LabelledSet *out, const LabelledSet *all, const int *order, int n, Error *error) {
    float *inputs = malloc(sizeof(float) * (size_t)all->sample_size * (size_t)(n ? n : 1));
    int *labels = malloc(sizeof(int) * (size_t)(n ? n : 1));
    int status = -1;
    if (!inputs || !labels) {
        error_set(error, "data: out of memory splitting %d examples", all->count);
    } else {
        for (int i = 0; i < n; i++) {
            memcpy(inputs + (long)i * all->sample_size, all->inputs + (long)order[i] * all->sample_size,
                   sizeof(float) * (size_t)all->sample_size);
            labels[i] = all->labels[order[i]];
        }
        status = labelled_set_create(out, inputs, labels, n, all->n_dims, all->shape, all->n_classes, error);
    }
    free(inputs);
    free(labels);
    return status;
}

static int compare_ints(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int labelled_set_split(LabelledSet *all, int n_validation, unsigned long long seed, LabelledSet *train,
                       LabelledSet *validation, Error *error) {
    memset(train, 0, sizeof *train);
    memset(validation, 0, sizeof *validation);
    if (n_validation < 0 || n_validation >= all->count)
        return error_set(error, "data: a validation set of %d from %d examples", n_validation, all->count);
    int *order = malloc(sizeof(int) * (size_t)all->count);
    if (!order) return error_set(error, "data: out of memory");
    for (int i = 0; i < all->count; i++) order[i] = i;
    Random rng;
    random_seed(&rng, seed);
    random_shuffle(&rng, order, all->count);
    // validation: the first n_validation of the shuffle; train: the rest, in file order
    int n_train = all->count - n_validation;
    qsort(order + n_validation, (size_t)n_train, sizeof(int), compare_ints);
    int status = subset(validation, all, order, n_validation, error) || subset(train, all, order + n_validation, n_train, error);
    free(order);
    if (status) {
        labelled_set_free(train);
        labelled_set_free(validation);
        return -1;
    }
    labelled_set_free(all);
    return 0;
}

int loader_init(Loader *loader, const LabelledSet *set, int batch_size, int shuffle, unsigned long long seed,
                Error *error) {
    memset(loader, 0, sizeof *loader);
    if (batch_size < 1) return error_set(error, "data: batch size %d", batch_size);
    loader->order = malloc(sizeof(int) * (size_t)(set->count ? set->count : 1));
    if (!loader->order) return error_set(error, "data: out of memory");
    loader->set = set;
    loader->batch_size = batch_size;
    loader->shuffle = shuffle;
    random_seed(&loader->rng, seed);
    for (int i = 0; i < set->count; i++) loader->order[i] = i;
    loader->position = set->count;  // no epoch started yet
    return 0;
}

void loader_free(Loader *loader) {
    free(loader->order);
    memset(loader, 0, sizeof *loader);
}

void loader_start_epoch(Loader *loader) {
    for (int i = 0; i < loader->set->count; i++) loader->order[i] = i;
    if (loader->shuffle) random_shuffle(&loader->rng, loader->order, loader->set->count);
    loader->position = 0;
}

int loader_next(Loader *loader, float *inputs, int *labels) {
    const LabelledSet *set = loader->set;
    int n = set->count - loader->position;
    if (n > loader->batch_size) n = loader->batch_size;
    if (n < 0) n = 0;
    for (int i = 0; i < n; i++) {
        int k = loader->order[loader->position + i];
        memcpy(inputs + (long)i * set->sample_size, set->inputs + (long)k * set->sample_size,
               sizeof(float) * (size_t)set->sample_size);
        labels[i] = set->labels[k];
    }
    loader->position += n;
    return n;
}

int loader_batches(const Loader *loader) {
    return (loader->set->count + loader->batch_size - 1) / loader->batch_size;
}
