// groundup gcn: semi-supervised node classification with a graph convolutional network
// (models/gcn.h) on Zachary's karate club, or another graph in the same two text files.
//
//   groundup gcn [--edges data/karate_club/edges.txt] [--labels data/karate_club/factions.txt]
//                [--labelled 0,33] [--hidden 16] [--steps 200] [--lr 0.01] [--seed 1] [--svg out/gcn_embedding.svg]
//
// Only the --labelled nodes' classes are used in training; the accuracy is over the others.
// The SVG places every node at its learned 2-D embedding E, coloured by its true class, with
// the graph's edges.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "foundations/plane_plot.h"
#include "models/gcn.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/plane_pictures.h"
#include "tools/run_record.h"

enum { MAX_LABELLED = 64 };

// "0,33" -> {0, 33}; fails on anything but comma-separated integers.
static int parse_nodes(const char *text, int *nodes, int *n, Error *error) {
    *n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 1 << 30 || (*end && *end != ','))
            return error_set(error, "--labelled \"%s\": comma-separated node numbers needed", text);
        if (*n == MAX_LABELLED) return error_set(error, "--labelled: at most %d nodes", MAX_LABELLED);
        nodes[(*n)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return *n ? 0 : error_set(error, "--labelled is empty");
}

static int write_embedding(const Graph *graph, const float *embedding, const char *path, Error *error) {
    float *points = malloc(sizeof(float) * 2 * (size_t)graph->n_nodes);
    char (*names)[12] = malloc(sizeof *names * (size_t)graph->n_nodes);
    const char **labels = malloc(sizeof *labels * (size_t)graph->n_nodes);
    int status = points && names && labels ? 0 : error_set(error, "gcn: out of memory");
    float low[2] = {1e30f, 1e30f}, high[2] = {-1e30f, -1e30f};
    for (int i = 0; !status && i < graph->n_nodes; i++) {
        for (int d = 0; d < 2; d++) {
            points[2 * i + d] = embedding[2 * i + d];
            low[d] = points[2 * i + d] < low[d] ? points[2 * i + d] : low[d];
            high[d] = points[2 * i + d] > high[d] ? points[2 * i + d] : high[d];
        }
        snprintf(names[i], sizeof names[i], "%d", i);
        labels[i] = names[i];
    }
    float margin[2] = {0.08f * (high[0] - low[0]) + 0.1f, 0.08f * (high[1] - low[1]) + 0.1f};
    const char *group_names[] = {"class 0", "class 1", "class 2", "class 3", "class 4", "class 5", "class 6", "class 7"};
    PlanePicture picture = {.title = "GCN: the 2-D node embedding E, coloured by faction", .x_min = low[0] - margin[0],
                            .x_max = high[0] + margin[0], .y_min = low[1] - margin[1], .y_max = high[1] + margin[1],
                            .points = points, .point_group = graph->labels, .n_points = graph->n_nodes,
                            .n_groups = graph->n_classes, .group_names = graph->n_classes <= 8 ? group_names : NULL,
                            .point_labels = labels, .edges = graph->edges, .n_edges = graph->n_edges};
    if (!status) status = make_parent_directory(path, error) || plane_plot_write_svg(path, &picture, error);
    free(points), free(names), free(labels);
    return status;
}

int command_gcn(int argc, char **argv) {
    const char *edges = "data/karate_club/edges.txt", *labels = "data/karate_club/factions.txt";
    const char *labelled_text = "0,33", *svg = "out/gcn_embedding.svg";
    int hidden = 16, steps = 200;
    float lr = 0.01f;
    long seed = 1;
    const Option options[] = {
        {"--edges", OPTION_STRING, &edges, "the edge list: one \"a b\" per line"},
        {"--labels", OPTION_STRING, &labels, "every node's class: one \"node class\" per line"},
        {"--labelled", OPTION_STRING, &labelled_text, "the nodes whose class training sees (comma-separated)"},
        {"--hidden", OPTION_INT, &hidden, "hidden units"},
        {"--steps", OPTION_INT, &steps, "full-batch Adam steps"},
        {"--lr", OPTION_FLOAT, &lr, "learning rate"},
        {"--seed", OPTION_LONG, &seed, "seed of the initialisation"},
        {"--svg", OPTION_STRING, &svg, "the learned embedding"},
    };
    int parsed = options_parse(argc, argv, "groundup gcn [options]", options, 8, NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (steps < 1 || hidden < 1 || !(lr > 0.0f)) return fail("gcn", "--steps, --hidden and --lr must be positive");
    Error error = {{0}};
    int labelled[MAX_LABELLED], n_labelled;
    if (parse_nodes(labelled_text, labelled, &n_labelled, &error)) return fail("gcn", error.message);
    Graph graph;
    if (graph_read(&graph, edges, labels, &error)) return fail("gcn", error.message);
    Gcn gcn;
    GcnResult result = {0};
    double start = clock_seconds();
    int status = gcn_init(&gcn, &graph, hidden, (uint64_t)seed, &error) ||
                 gcn_train(&gcn, &graph, labelled, n_labelled, steps, lr, &result, &error);
    double seconds = clock_seconds() - start;
    if (!status) {
        printf("gcn on %s: %d nodes, %d edges, %d classes, %d labelled nodes, %d hidden units, %d steps\n", edges,
               graph.n_nodes, graph.n_edges, graph.n_classes, n_labelled, hidden, steps);
        printf("training loss %.4f; accuracy on the %d unlabelled nodes: %.4f (%d right)\n", (double)result.loss,
               result.unlabelled, result.unlabelled ? (double)result.correct / result.unlabelled : 0.0, result.correct);
        status = write_embedding(&graph, result.embedding, svg, &error);
        if (!status) printf("embedding %s\n", svg);
        char command[1024], dataset[1100];
        snprintf(dataset, sizeof dataset, "%s: %d nodes, %d labelled", edges, graph.n_nodes, n_labelled);
        RunRecord record = {.name = "gcn", .command = run_record_command(argc, argv, command, sizeof command),
                            .dataset = dataset, .parameters = parameters_count(&gcn.params), .train_seconds = seconds,
                            .metric = "accuracy on the unlabelled nodes (%)",
                            .value = result.unlabelled ? 100.0 * result.correct / result.unlabelled : 0.0,
                            .higher_is_better = 1, .figures = {svg}};
        if (!status) record_run("gcn", "gcn", &record);
    }
    free(result.embedding);
    gcn_free(&gcn);
    graph_free(&graph);
    return status ? fail("gcn", error.message) : 0;
}
