// Graphs read from text: see graph.h.
#include "models/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/file.h"

// The next non-comment line's two integers: 1, or 0 at the end, or -1 (malformed).
static int next_pair(char **cursor, int *line_number, long *a, long *b, const char *path, Error *error) {
    while (**cursor) {
        char *line = *cursor, *end = strchr(line, '\n');
        *cursor = end ? end + 1 : line + strlen(line);
        if (end) *end = '\0';
        ++*line_number;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        if (!*p) continue;
        char *after;
        *a = strtol(p, &after, 10);
        if (after == p) return error_set(error, "%s line %d: \"%.40s\" is not two integers", path, *line_number, line);
        p = after;
        *b = strtol(p, &after, 10);
        if (after == p) return error_set(error, "%s line %d: \"%.40s\" is not two integers", path, *line_number, line);
        while (*after == ' ' || *after == '\t' || *after == '\r') after++;
        if (*after) return error_set(error, "%s line %d: \"%.40s\" is not two integers", path, *line_number, line);
        return 1;
    }
    return 0;
}

// Counts the pairs of a file (for allocation); its lines are checked when read.
static int count_lines(const char *text) {
    int n = 1;
    for (; *text; text++) n += *text == '\n';
    return n;
}

static int read_labels(Graph *graph, const char *path, Error *error) {
    unsigned char *data;
    size_t size;
    if (file_read_all(path, &data, &size, error)) return -1;
    int capacity = count_lines((char *)data), line = 0, status = 0, read;
    graph->labels = malloc(sizeof(int) * (size_t)capacity);
    if (!graph->labels) status = error_set(error, "%s: out of memory", path);
    for (int i = 0; !status && i < capacity; i++) graph->labels[i] = -1;
    char *cursor = (char *)data;
    long node, label;
    while (!status && (read = next_pair(&cursor, &line, &node, &label, path, error)) == 1) {
        if (node < 0 || node >= capacity || label < 0 || label > 1000)
            status = error_set(error, "%s line %d: node %ld, class %ld out of range", path, line, node, label);
        else if (graph->labels[node] >= 0) status = error_set(error, "%s line %d: node %ld listed twice", path, line, node);
        else {
            graph->labels[node] = (int)label;
            if (node + 1 > graph->n_nodes) graph->n_nodes = (int)node + 1;
            if (label + 1 > graph->n_classes) graph->n_classes = (int)label + 1;
        }
    }
    if (!status && read < 0) status = -1;
    if (!status && graph->n_nodes == 0) status = error_set(error, "%s: no nodes", path);
    for (int i = 0; !status && i < graph->n_nodes; i++)
        if (graph->labels[i] < 0) status = error_set(error, "%s: node %d has no class (nodes 0..%d needed)", path, i, graph->n_nodes - 1);
    free(data);
    return status;
}

static int read_edges(Graph *graph, const char *path, Error *error) {
    unsigned char *data;
    size_t size;
    if (file_read_all(path, &data, &size, error)) return -1;
    int capacity = count_lines((char *)data), line = 0, status = 0, read, n = graph->n_nodes;
    graph->edges = malloc(sizeof(int) * 2 * (size_t)capacity);
    unsigned char *seen = calloc((size_t)n * n, 1);
    if (!graph->edges || !seen) status = error_set(error, "%s: out of memory", path);
    char *cursor = (char *)data;
    long a, b;
    while (!status && (read = next_pair(&cursor, &line, &a, &b, path, error)) == 1) {
        if (a < 0 || b < 0 || a >= n || b >= n)
            status = error_set(error, "%s line %d: edge %ld %ld to a missing node (the graph has nodes 0..%d)", path, line, a,
                               b, n - 1);
        else if (a == b) status = error_set(error, "%s line %d: edge from node %ld to itself", path, line, a);
        else if (seen[a * n + b]) status = error_set(error, "%s line %d: edge %ld %ld listed twice", path, line, a, b);
        else {
            seen[a * n + b] = seen[b * n + a] = 1;
            graph->edges[2 * graph->n_edges] = (int)a, graph->edges[2 * graph->n_edges + 1] = (int)b;
            graph->n_edges++;
        }
    }
    if (!status && read < 0) status = -1;
    free(seen);
    free(data);
    return status;
}

int graph_read(Graph *graph, const char *edges_path, const char *labels_path, Error *error) {
    memset(graph, 0, sizeof *graph);
    if (read_labels(graph, labels_path, error) || read_edges(graph, edges_path, error)) {
        graph_free(graph);
        return -1;
    }
    return 0;
}

void graph_free(Graph *graph) {
    free(graph->edges);
    free(graph->labels);
    memset(graph, 0, sizeof *graph);
}

int graph_normalized_adjacency(const Graph *graph, float *out, Error *error) {
    int n = graph->n_nodes;
    int *degree = calloc((size_t)n, sizeof *degree);
    if (!degree) return error_set(error, "graph: out of memory");
    memset(out, 0, sizeof(float) * (size_t)n * n);
    for (int i = 0; i < n; i++) out[(long)i * n + i] = 1.0f;  // A + I
    for (int e = 0; e < graph->n_edges; e++) {
        int a = graph->edges[2 * e], b = graph->edges[2 * e + 1];
        out[(long)a * n + b] = out[(long)b * n + a] = 1.0f;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) degree[i] += out[(long)i * n + j] != 0.0f;  // D̃_ii = Σ_j (A + I)_ij
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) out[(long)i * n + j] /= sqrtf((float)degree[i] * (float)degree[j]);
    free(degree);
    return 0;
}
