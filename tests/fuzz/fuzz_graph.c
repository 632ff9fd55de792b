// libFuzzer harness: the graph files of node classification (models/graph.h graph_read). The
// input is the labels file, a NUL byte, then the edge list (no NUL: all of it is the labels
// and there are no edges). A graph that loads must keep its promises: nodes 0..N-1 each with
// a class below n_classes, edges between two different existing nodes, none twice; and its
// renormalised adjacency D^-1/2 (A + I) D^-1/2 (small graphs) is symmetric with entries in (0, 1].
#include <math.h>

#include "models/graph.h"
#include "tests/fuzz/fuzz_common.h"

enum { MAX_ADJACENCY_NODES = 512 };

static void check_graph(const Graph *graph) {
    fuzz_require(graph->n_nodes >= 1 && graph->n_classes >= 1, "a graph without nodes or classes");
    for (int i = 0; i < graph->n_nodes; i++)
        fuzz_require(graph->labels[i] >= 0 && graph->labels[i] < graph->n_classes, "a class out of range");
    for (int e = 0; e < graph->n_edges; e++) {
        int a = graph->edges[2 * e], b = graph->edges[2 * e + 1];
        fuzz_require(a >= 0 && b >= 0 && a < graph->n_nodes && b < graph->n_nodes && a != b, "an edge to a missing node or a loop");
        for (int f = 0; f < e; f++) {
            int c = graph->edges[2 * f], d = graph->edges[2 * f + 1];
            fuzz_require(!((a == c && b == d) || (a == d && b == c)), "an edge listed twice");
        }
    }
    int n = graph->n_nodes;
    if (n > MAX_ADJACENCY_NODES) return;
    float *adjacency = malloc(sizeof(float) * (size_t)n * (size_t)n);
    Error error = {{0}};
    if (!adjacency) return;
    fuzz_require(graph_normalized_adjacency(graph, adjacency, &error) == 0, "the adjacency failed");
    for (int i = 0; i < n; i++) {
        fuzz_require(adjacency[(long)i * n + i] > 0.0f, "a zero diagonal");
        for (int j = 0; j < n; j++) {
            float v = adjacency[(long)i * n + j];
            fuzz_require(isfinite(v) && v >= 0.0f && v <= 1.0f && v == adjacency[(long)j * n + i], "an adjacency entry");
        }
    }
    free(adjacency);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *labels = fuzz_path(0, "labels.txt"), *edges = fuzz_path(1, "edges.txt");
    const uint8_t *separator = memchr(data, '\0', size);
    size_t labels_size = separator ? (size_t)(separator - data) : size;
    fuzz_write(labels, data, labels_size);
    fuzz_write(edges, data + labels_size + (separator != NULL), size - labels_size - (separator != NULL));
    Graph graph;
    Error error = {{0}};
    if (graph_read(&graph, edges, labels, &error)) {
        fuzz_check_error(&error, "groundup-fuzz-");
        return 0;
    }
    check_graph(&graph);
    graph_free(&graph);
    return 0;
}
