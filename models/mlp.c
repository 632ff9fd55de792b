// The MLP classifier: see mlp.h. The whole forward is four lines of composition; the tape
// gives the backward.
#include "models/mlp.h"

#include <stdio.h>
#include <string.h>

int mlp_classifier_create(Mlp *mlp, const int *sizes, int n_sizes, const MlpOptions *options, Random *rng,
                          Error *error) {
    memset(mlp, 0, sizeof *mlp);
    if (n_sizes < 2 || n_sizes > MLP_MAX_LAYERS + 1)
        return error_set(error, "mlp: %d layer sizes (2 to %d)", n_sizes, MLP_MAX_LAYERS + 1);
    if (options) mlp->options = *options;
    if (!(mlp->options.dropout >= 0.0f && mlp->options.dropout < 1.0f))
        return error_set(error, "mlp: dropout %g outside [0, 1)", (double)mlp->options.dropout);
    mlp->n_layers = n_sizes - 1;
    memcpy(mlp->sizes, sizes, sizeof(int) * (size_t)n_sizes);
    random_seed(&mlp->dropout_rng, random_u32(rng));
    for (int i = 0; i < mlp->n_layers; i++) {
        char name[16];
        snprintf(name, sizeof name, "fc%d", i + 1);
        int status = linear_init(&mlp->fc[i], &mlp->params, name, sizes[i], sizes[i + 1], 1, rng, error);
        snprintf(name, sizeof name, "bn%d", i + 1);
        if (!status && mlp->options.batch_norm && i + 1 < mlp->n_layers)
            status = batch_norm_init(&mlp->bn[i], &mlp->params, name, sizes[i + 1], error);
        if (status) {
            mlp_classifier_free(mlp);
            return -1;
        }
    }
    return 0;
}

int mlp_classifier_from_file(Mlp *mlp, const Safetensors *file, const char *path, Error *error) {
    int sizes[MLP_MAX_LAYERS + 1], n_layers = 0;
    memset(mlp, 0, sizeof *mlp);
    for (int i = 0; i < MLP_MAX_LAYERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "fc%d.weight", i + 1);
        const SafetensorsTensor *w = safetensors_find(file, name);
        if (!w) break;
        if (w->ndim != 2 || w->shape[0] < 1 || w->shape[1] < 1)
            return error_set(error, "%s: %s must be a (out, in) matrix", path, name);
        if (i > 0 && w->shape[1] != sizes[i])
            return error_set(error, "%s: %s has %d inputs, fc%d gives %d", path, name, w->shape[1], i, sizes[i]);
        sizes[i] = w->shape[1];
        sizes[i + 1] = w->shape[0];
        n_layers++;
    }
    if (n_layers == 0) return error_set(error, "%s: fc1.weight is missing (not an mlp state_dict)", path);
    Random unused;
    random_seed(&unused, 0);
    MlpOptions options = {safetensors_find(file, "bn1.weight") != NULL, 0.0f};
    if (mlp_classifier_create(mlp, sizes, n_layers + 1, &options, &unused, error)) return -1;
    if (state_dict_load_file(&mlp->params, file, path, error)) {
        mlp_classifier_free(mlp);
        return -1;
    }
    return 0;
}

int mlp_classifier_load(Mlp *mlp, const char *path, Error *error) {
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    int status = mlp_classifier_from_file(mlp, &file, path, error);
    safetensors_free(&file);
    return status;
}

void mlp_classifier_free(Mlp *mlp) {
    parameters_free(&mlp->params);
    memset(mlp, 0, sizeof *mlp);
}

Tensor *mlp_classifier_forward(Tape *tape, Mlp *mlp, Tensor *x, int training) {
    if (!x) return NULL;
    Tensor *h = nn_reshape(tape, x, 2, (int[]){x->n_dims ? x->shape[0] : 1, -1});  // flatten
    if (h && h->shape[1] != mlp->sizes[0])
        return tape_fail(tape, "mlp: an example of %d values, the model takes %d", h->shape[1], mlp->sizes[0]);
    for (int i = 0; i < mlp->n_layers; i++) {
        h = linear_apply(tape, &mlp->fc[i], h);
        if (i + 1 == mlp->n_layers) break;  // the logits
        if (mlp->options.batch_norm) h = batch_norm_apply(tape, &mlp->bn[i], h, training);
        h = nn_relu(tape, h);
        if (mlp->options.dropout > 0.0f) h = nn_dropout(tape, h, mlp->options.dropout, training, &mlp->dropout_rng);
    }
    return h;
}

static Tensor *classifier_forward(void *model, Tape *tape, Tensor *inputs, int training) {
    return mlp_classifier_forward(tape, model, inputs, training);
}

Classifier mlp_as_classifier(Mlp *mlp) {
    Classifier classifier = {mlp, &mlp->params, mlp->sizes[mlp->n_layers], classifier_forward};
    return classifier;
}
