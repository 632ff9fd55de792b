// The graph convolutional network (models/gcn.c) on Zachary's karate club (data/karate_club):
// the bundled graph has the published counts and degrees; Â is D̃^−½ (A + I) D̃^−½ entry by
// entry; one labelled node per faction classifies most of the other 32; bad graph files give
// one-line errors naming the file and line.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/gcn.h"
#include "tests/check.h"

static const char *edges_path = "data/karate_club/edges.txt", *labels_path = "data/karate_club/factions.txt";

static void karate_club_has_its_published_shape(void) {
    Graph graph;
    Error error;
    REQUIRE(graph_read(&graph, edges_path, labels_path, &error) == 0, "%s", error.message);
    CHECK(graph.n_nodes == 34 && graph.n_edges == 78 && graph.n_classes == 2, "%d nodes %d edges %d classes",
          graph.n_nodes, graph.n_edges, graph.n_classes);
    int degree[34] = {0}, faction_size[2] = {0, 0};
    for (int e = 0; e < graph.n_edges; e++) degree[graph.edges[2 * e]]++, degree[graph.edges[2 * e + 1]]++;
    for (int i = 0; i < 34; i++) faction_size[graph.labels[i]]++;
    CHECK(degree[0] == 16 && degree[33] == 17 && degree[32] == 12 && degree[11] == 1, "degrees %d %d %d %d", degree[0],
          degree[33], degree[32], degree[11]);
    CHECK(faction_size[0] == 17 && faction_size[1] == 17, "factions %d / %d", faction_size[0], faction_size[1]);
    CHECK(graph.labels[0] == 0 && graph.labels[33] == 1, "the instructor and the administrator lead opposite factions");
    graph_free(&graph);
}

// Â_ij = 1/√((d_i + 1)(d_j + 1)) on edges and the diagonal, 0 elsewhere.
static void normalized_adjacency_is_the_formula(void) {
    Graph graph;
    Error error;
    REQUIRE(graph_read(&graph, edges_path, labels_path, &error) == 0, "%s", error.message);
    static float a_hat[34 * 34];
    REQUIRE(graph_normalized_adjacency(&graph, a_hat, &error) == 0, "%s", error.message);
    CHECK_NEAR(a_hat[0], 1.0 / 17.0, 1e-7);                       // node 0: degree 16, plus itself
    CHECK_NEAR(a_hat[0 * 34 + 33], 0.0, 0.0);                     // 0 and 33 are not friends
    CHECK_NEAR(a_hat[0 * 34 + 11], 1.0 / sqrt(17.0 * 2.0), 1e-7);  // node 11 has one friend, node 0
    CHECK_NEAR(a_hat[33 * 34 + 32], 1.0 / sqrt(18.0 * 13.0), 1e-7);
    double asymmetry = 0.0;
    for (int i = 0; i < 34; i++)
        for (int j = 0; j < 34; j++) asymmetry = fmax(asymmetry, fabs(a_hat[i * 34 + j] - a_hat[j * 34 + i]));
    CHECK(asymmetry == 0.0, "Â is not symmetric (%g)", asymmetry);
    graph_free(&graph);
}

static void one_label_per_faction_classifies_the_club(void) {
    Graph graph;
    Error error;
    REQUIRE(graph_read(&graph, edges_path, labels_path, &error) == 0, "%s", error.message);
    Gcn gcn;
    REQUIRE(gcn_init(&gcn, &graph, 16, 1, &error) == 0, "%s", error.message);
    const int labelled[2] = {0, 33};
    GcnResult result;
    REQUIRE(gcn_train(&gcn, &graph, labelled, 2, 200, 0.01f, &result, &error) == 0, "%s", error.message);
    CHECK(result.unlabelled == 32, "%d unlabelled", result.unlabelled);
    CHECK(result.correct >= 29, "%d of 32 unlabelled nodes right", result.correct);
    CHECK(result.loss < 0.05f, "training loss %g on the two labelled nodes", (double)result.loss);
    printf("gcn: %d of %d unlabelled members in their faction\n", result.correct, result.unlabelled);
    // the labelled nodes themselves are fitted
    // the two leaders' embeddings lie far apart (tanh keeps them in [−1, 1]²)
    float dx = result.embedding[0] - result.embedding[66], dy = result.embedding[1] - result.embedding[67];
    CHECK(sqrtf(dx * dx + dy * dy) > 1.0f, "the leaders are %g apart", (double)sqrtf(dx * dx + dy * dy));
    free(result.embedding);
    gcn_free(&gcn);
    graph_free(&graph);
}

// Writes text to a file in the test directory and returns graph_read's error for it.
static const char *read_error(const char *edges, const char *labels) {
    static Error error;
    const char *edges_file = check_path("edges.txt"), *labels_file = check_path("labels.txt");
    FILE *f = fopen(edges_file, "w");
    fputs(edges, f), fclose(f);
    f = fopen(labels_file, "w");
    fputs(labels, f), fclose(f);
    Graph graph;
    memset(&error, 0, sizeof error);
    if (graph_read(&graph, edges_file, labels_file, &error) == 0) {
        graph_free(&graph);
        return "";
    }
    return error.message;
}

static void bad_graph_files_are_one_line_errors(void) {
    const char *labels = "0 0\n1 0\n2 1\n";
    CHECK(strcmp(read_error("0 1\n# comment\n\n1 2\n", labels), "") == 0, "a good graph is refused");
    const char *e = read_error("0 1\n1 7\n", labels);
    CHECK(strstr(e, "edges.txt line 2: edge 1 7 to a missing node (the graph has nodes 0..2)"), "%s", e);
    e = read_error("0 1\n1 two\n", labels);
    CHECK(strstr(e, "edges.txt line 2: \"1 two\" is not two integers"), "%s", e);
    e = read_error("0 1 2\n", labels);
    CHECK(strstr(e, "line 1: \"0 1 2\" is not two integers"), "%s", e);
    e = read_error("0 1\n1 0\n", labels);
    CHECK(strstr(e, "line 2: edge 1 0 listed twice"), "%s", e);
    e = read_error("2 2\n", labels);
    CHECK(strstr(e, "line 1: edge from node 2 to itself"), "%s", e);
    e = read_error("0 1\n", "0 0\n2 1\n");
    CHECK(strstr(e, "labels.txt: node 1 has no class"), "%s", e);
    e = read_error("0 1\n", "0 0\n0 1\n");
    CHECK(strstr(e, "labels.txt line 2: node 0 listed twice"), "%s", e);
    e = read_error("0 1\n", "# nothing\n");
    CHECK(strstr(e, "labels.txt: no nodes"), "%s", e);
    Graph graph;
    Error error;
    CHECK(graph_read(&graph, "no/such/edges.txt", labels_path, &error) != 0 && strstr(error.message, "no/such/edges.txt"),
          "%s", error.message);
}

static const CheckCase CASES[] = {
    {"karate club has its published shape", karate_club_has_its_published_shape},
    {"normalized adjacency is the formula", normalized_adjacency_is_the_formula},
    {"one label per faction classifies the club", one_label_per_faction_classifies_the_club},
    {"bad graph files are one line errors", bad_graph_files_are_one_line_errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
