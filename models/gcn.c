// Graph convolutional network: see gcn.h.
#include "models/gcn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/optim.h"

int gcn_init(Gcn *gcn, const Graph *graph, int hidden, uint64_t seed, Error *error) {
    memset(gcn, 0, sizeof *gcn);
    if (hidden < 1 || hidden > 4096) return error_set(error, "gcn: %d hidden units (1..4096)", hidden);
    gcn->n_nodes = graph->n_nodes, gcn->hidden = hidden, gcn->n_classes = graph->n_classes;
    gcn->adjacency = malloc(sizeof(float) * (size_t)graph->n_nodes * graph->n_nodes);
    if (!gcn->adjacency) return error_set(error, "gcn: out of memory for a %d-node graph", graph->n_nodes);
    Random rng;
    random_seed(&rng, seed);
    if (graph_normalized_adjacency(graph, gcn->adjacency, error) ||
        linear_init(&gcn->conv1, &gcn->params, "conv1", graph->n_nodes, hidden, 0, &rng, error) ||
        linear_init(&gcn->conv2, &gcn->params, "conv2", hidden, GCN_EMBEDDING, 0, &rng, error) ||
        linear_init(&gcn->classifier, &gcn->params, "classifier", GCN_EMBEDDING, graph->n_classes, 1, &rng, error)) {
        gcn_free(gcn);
        return -1;
    }
    return 0;
}

void gcn_free(Gcn *gcn) {
    parameters_free(&gcn->params);
    free(gcn->adjacency);
    memset(gcn, 0, sizeof *gcn);
}

Tensor *gcn_forward(Tape *tape, const Gcn *gcn, Tensor **embedding) {
    int shape[2] = {gcn->n_nodes, gcn->n_nodes};
    Tensor *a_hat = tensor_from(tape, gcn->adjacency, 2, shape);
    // X = I, so X W⁰ is W⁰ᵀ (Linear keeps W as (out, in)): conv1 applied to the identity
    Tensor *x = tensor_zeros(tape, 2, shape);
    for (int i = 0; x && i < gcn->n_nodes; i++) x->data[(long)i * gcn->n_nodes + i] = 1.0f;
    Tensor *h = nn_relu(tape, nn_matmul(tape, a_hat, linear_apply(tape, &gcn->conv1, x)));  // ReLU(Â X W⁰)
    Tensor *e = nn_tanh(tape, nn_matmul(tape, a_hat, linear_apply(tape, &gcn->conv2, h)));    // tanh(Â H¹ W¹)
    if (embedding) *embedding = e;
    return linear_apply(tape, &gcn->classifier, e);
}

// Group 0 (weight decay) for conv1's weight, 1 for the rest.
static int decay_first_layer(const char *name, const Tensor *tensor) {
    (void)tensor;
    return strcmp(name, "conv1.weight") == 0 ? 0 : 1;
}

static void score(const Gcn *gcn, const Graph *graph, const int *labelled, int n_labelled, const float *z,
                  GcnResult *result) {
    result->correct = result->unlabelled = 0;
    for (int i = 0; i < graph->n_nodes; i++) {
        int is_labelled = 0;
        for (int k = 0; k < n_labelled; k++) is_labelled |= labelled[k] == i;
        if (is_labelled) continue;
        int best = 0;
        for (int c = 1; c < gcn->n_classes; c++) best = z[i * gcn->n_classes + c] > z[i * gcn->n_classes + best] ? c : best;
        result->unlabelled++;
        result->correct += best == graph->labels[i];
    }
}

int gcn_train(Gcn *gcn, const Graph *graph, const int *labelled, int n_labelled, int steps, float lr, GcnResult *result,
              Error *error) {
    memset(result, 0, sizeof *result);
    if (n_labelled < 1 || steps < 1) return error_set(error, "gcn: %d labelled nodes, %d steps", n_labelled, steps);
    for (int k = 0; k < n_labelled; k++)
        if (labelled[k] < 0 || labelled[k] >= graph->n_nodes)
            return error_set(error, "gcn: labelled node %d of a %d-node graph", labelled[k], graph->n_nodes);
    OptimizerGroup groups[2] = {{optimizer_default_config(OPTIMIZER_ADAM), 1.0f}, {optimizer_default_config(OPTIMIZER_ADAM), 1.0f}};
    groups[0].config.weight_decay = 5e-4f;
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, &gcn->params, groups, 2, decay_first_layer, error)) return -1;
    int *targets = malloc(sizeof(int) * (size_t)n_labelled);
    result->embedding = malloc(sizeof(float) * (size_t)graph->n_nodes * GCN_EMBEDDING);
    Tape tape;
    tape_init(&tape);
    int status = targets && result->embedding ? 0 : error_set(error, "gcn: out of memory");
    for (int k = 0; !status && k < n_labelled; k++) targets[k] = graph->labels[labelled[k]];
    for (int step = 0; !status && step < steps; step++) {
        tape_reset(&tape);
        Tensor *z = gcn_forward(&tape, gcn, NULL);
        Tensor *loss = nn_cross_entropy(&tape, nn_index_select(&tape, z, 0, labelled, n_labelled), targets, NN_NO_IGNORE, 0.0f);
        parameters_zero_grad(&gcn->params);
        if (!loss) status = tape_error(&tape, error);
        else if (!(status = tape_backward(&tape, loss, error))) {
            param_optimizer_step(&optimizer, lr);
            result->loss = loss->data[0];
        }
    }
    tape_reset(&tape);
    tape.recording = 0;
    Tensor *e = NULL, *z = status ? NULL : gcn_forward(&tape, gcn, &e);
    if (!status && !z) status = tape_error(&tape, error);
    if (!status) {
        memcpy(result->embedding, e->data, sizeof(float) * (size_t)graph->n_nodes * GCN_EMBEDDING);
        score(gcn, graph, labelled, n_labelled, z->data, result);
    }
    if (status) free(result->embedding), result->embedding = NULL;
    tape_free(&tape);
    free(targets);
    param_optimizer_free(&optimizer);
    return status;
}
