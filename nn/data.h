// Data for supervised learning: a set of labelled examples in memory, a seeded split into
// training and validation, and a loader that batches them, shuffled anew each epoch.
//
// An example is sample_size floats (an image (1,28,28) is 784) and an int label. The loader
// returns every example once per epoch, the last batch partial when the count is not a
// multiple of the batch size (PyTorch's DataLoader with drop_last=False).
#ifndef NN_DATA_H
#define NN_DATA_H

#include "foundations/error.h"
#include "foundations/random.h"

typedef struct LabelledSet {
    int count;
    int sample_size;     // floats per example
    int n_dims;          // the shape of one example (e.g. 3: 1, 28, 28)
    int shape[4];
    float *inputs;       // (count, sample_size)
    int *labels;         // (count)
    int n_classes;       // labels are in [0, n_classes)
} LabelledSet;

// Copies count examples of shape (n_dims, shape) with labels in [0, n_classes); fails on a
// label outside it (naming the index) or out of memory.
int labelled_set_create(LabelledSet *set, const float *inputs, const int *labels, int count, int n_dims,
                        const int *shape, int n_classes, Error *error);
void labelled_set_free(LabelledSet *set);
// Moves n_validation examples, chosen by a seeded shuffle, from all into validation; the rest,
// in their original order, into train. all is freed. n_validation in [0, count).
int labelled_set_split(LabelledSet *all, int n_validation, unsigned long long seed, LabelledSet *train,
                       LabelledSet *validation, Error *error);

typedef struct Loader {
    const LabelledSet *set;
    int batch_size;
    int shuffle;
    int *order;     // (count) this epoch's order
    int position;   // next example in order
    Random rng;     // the shuffle's generator, seeded once: epoch e's order is the same on every run
} Loader;

int loader_init(Loader *loader, const LabelledSet *set, int batch_size, int shuffle, unsigned long long seed,
                Error *error);
void loader_free(Loader *loader);
// Starts an epoch (a new order when shuffling).
void loader_start_epoch(Loader *loader);
// Copies the next batch into inputs (batch_size, sample_size) and labels (batch_size); returns
// how many examples it holds (batch_size, less for the last, 0 when the epoch is over).
int loader_next(Loader *loader, float *inputs, int *labels);
// Batches per epoch: ceil(count / batch_size).
int loader_batches(const Loader *loader);

#endif
