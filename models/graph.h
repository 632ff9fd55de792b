// Graphs for node classification, read from two text files:
//   labels file  one "<node> <class>" per line for nodes 0..N−1, each exactly once (N from it);
//   edges file   one "<a> <b>" per line, an undirected edge between existing nodes a ≠ b.
// '#' starts a comment; blank lines are skipped. data/karate_club/ is one such pair.
#ifndef MODELS_GRAPH_H
#define MODELS_GRAPH_H

#include "foundations/error.h"

typedef struct Graph {
    int n_nodes, n_edges, n_classes;
    int *edges;   // (n_edges, 2), as read
    int *labels;  // (n_nodes) in [0, n_classes)
} Graph;

// Errors, one line each, "<path> line <n>: ...": a line that is not two integers, a node or
// class out of range (a negative one, a node listed twice or missing from the labels, an edge
// to a node the labels do not have), an edge from a node to itself, an edge listed twice; a file
// that cannot be read; no nodes.
int graph_read(Graph *graph, const char *edges_path, const char *labels_path, Error *error);
void graph_free(Graph *graph);
// The renormalised adjacency of Kipf and Welling (2017): Â = D̃^−½ (A + I) D̃^−½ with
// D̃_ii = 1 + degree(i), as a dense (n_nodes, n_nodes) matrix into out. Fails only out of memory.
int graph_normalized_adjacency(const Graph *graph, float *out, Error *error);

#endif
