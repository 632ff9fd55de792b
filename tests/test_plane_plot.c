// The plane picture (foundations/plane_plot.c): each layer appears as promised (shaded runs
// of the heat map adding up, arrows, paths, points by group, edges), points outside the window
// are skipped, and malformed pictures are refused with one line.
#include <string.h>

#include "foundations/file.h"
#include "foundations/plane_plot.h"
#include "tests/check.h"

static int count(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static void layers_are_drawn(void) {
    // a 3x4 grid: one row of zeros (not drawn), a row of one value (one run), a row with two shades
    const float grid[12] = {0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 2, 2};
    const float from[4] = {0, 0, 1, 1}, vector[4] = {0.5f, 0, 0, -0.5f};
    const float line[6] = {-1, -1, 0, 0, 1, 1};
    const float *paths[1] = {line};
    const int lengths[1] = {3}, groups[3] = {0, 1, 1}, edges[2] = {0, 1};
    const float points[6] = {-1, 0, 1, 0, 50, 50};  // the third is outside the window
    const char *names[2] = {"a", "b"};
    PlanePicture p = {.title = "t & <u>", .x_min = -2, .x_max = 2, .y_min = -2, .y_max = 2, .grid = grid, .grid_rows = 3,
                      .grid_columns = 4, .arrow_from = from, .arrow_vector = vector, .n_arrows = 2, .path_xy = paths,
                      .path_lengths = lengths, .path_names = names, .n_paths = 1, .points = points, .point_group = groups,
                      .n_points = 3, .n_groups = 2, .group_names = names, .edges = edges, .n_edges = 1};
    Error error;
    const char *path = check_path("plane.svg");
    REQUIRE(plane_plot_write_svg(path, &p, &error) == 0, "%s", error.message);
    unsigned char *text;
    size_t size;
    REQUIRE(file_read_all(path, &text, &size, &error) == 0, "%s", error.message);
    const char *svg = (const char *)text;
    CHECK(count(svg, "class=\"cell\"") == 3, "%d runs", count(svg, "class=\"cell\""));
    CHECK(strstr(svg, "data-shade=\"63\" data-cells=\"4\"") && strstr(svg, "data-shade=\"32\" data-cells=\"2\""), "runs wrong");
    CHECK(count(svg, "class=\"arrow\"") == 2, "arrows");
    CHECK(count(svg, "class=\"path\"") == 1, "paths");
    CHECK(count(svg, "class=\"point\"") == 2, "points: the one outside the window is drawn");
    CHECK(count(svg, "data-group=\"1\"") == 1, "groups");
    CHECK(count(svg, "class=\"edge\"") == 1, "edges");
    CHECK(strstr(svg, "t &amp; &lt;u&gt;") != NULL, "the title is not escaped");
    free(text);
}

static void malformed_pictures_are_refused(void) {
    const float points[2] = {0, 0};
    const int bad_group[1] = {2}, bad_edge[2] = {0, 1};
    Error error;
    const char *path = check_path("bad.svg");
    PlanePicture p = {.x_min = 1, .x_max = 1, .y_min = 0, .y_max = 1};
    CHECK(plane_plot_write_svg(path, &p, &error) != 0 && strstr(error.message, "empty window"), "%s", error.message);
    p = (PlanePicture){.x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1, .points = points, .n_points = 1,
                       .point_group = bad_group, .n_groups = 2};
    CHECK(plane_plot_write_svg(path, &p, &error) != 0 && strstr(error.message, "group 2 of 2"), "%s", error.message);
    p = (PlanePicture){.x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1, .points = points, .n_points = 1, .edges = bad_edge,
                       .n_edges = 1};
    CHECK(plane_plot_write_svg(path, &p, &error) != 0 && strstr(error.message, "joins point 1 of 1"), "%s", error.message);
    const float grid[1] = {-1.0f};
    p = (PlanePicture){.x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1, .grid = grid, .grid_rows = 1, .grid_columns = 1};
    CHECK(plane_plot_write_svg(path, &p, &error) != 0 && strstr(error.message, "grid value 0 is -1"), "%s", error.message);
    p = (PlanePicture){.x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1};
    CHECK(plane_plot_write_svg("/nonexistent-dir/x.svg", &p, &error) != 0, "an unwritable path accepted");
}

static const CheckCase CASES[] = {
    {"layers are drawn", layers_are_drawn},
    {"malformed pictures are refused", malformed_pictures_are_refused},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
