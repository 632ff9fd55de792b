// An SVG picture of the plane: what 2-D models show (plot.h draws line charts, heatmap.h
// labelled matrices). Any of four layers, drawn in this order over one pair of axes:
//   a grid of values as a heat map (a density on a grid: white 0 to blue the largest, 64 shades),
//   arrows (a vector field: the score ∇log p at grid points),
//   paths (trajectories: true and fitted ODE solutions), one colour each, in the legend,
//   points (samples, graph nodes), coloured by group, named in the legend, optionally labelled.
// Edges between points (a graph) are drawn under the points when given.
//
// The SVG is plain so tests can read it back: <rect class="cell" data-shade="s" data-cells="n">
// (a run of n cells of shade s in 1..63 of a row; white cells are not drawn),
// <line class="arrow">, <polyline class="path" data-path="i">, <circle class="point" data-group="g">.
// Points and arrows outside the window are skipped (not clamped). Written through a temporary
// file renamed into place.
#ifndef FOUNDATIONS_PLANE_PLOT_H
#define FOUNDATIONS_PLANE_PLOT_H

#include "foundations/error.h"

typedef struct PlanePicture {
    const char *title;
    float x_min, x_max, y_min, y_max;  // the window, x_min < x_max, y_min < y_max
    // Heat map: grid (grid_rows, grid_columns), finite values >= 0; row 0 at y_min, column 0 at
    // x_min, cells covering the window evenly. NULL: none.
    const float *grid;
    int grid_rows, grid_columns;
    // Arrows: from (n_arrows, 2) to from + vector (n_arrows, 2), in data units (scale them first).
    const float *arrow_from, *arrow_vector;
    int n_arrows;
    // Paths: path_xy[i] (path_lengths[i], 2), named path_names[i].
    const float *const *path_xy;
    const int *path_lengths;
    const char *const *path_names;
    int n_paths;
    // Points (n_points, 2); point_group (n_points) in [0, n_groups) or NULL (all group 0);
    // group_names (n_groups) or NULL; point_labels (n_points) or NULL.
    const float *points;
    const int *point_group;
    int n_points, n_groups;
    const char *const *group_names;
    const char *const *point_labels;
    // Edges (n_edges, 2) as indices into points, or NULL.
    const int *edges;
    int n_edges;
} PlanePicture;

// Writes the picture to path. Fails on an empty or inverted window, a negative count, a
// non-finite or negative grid value, a group or edge index out of range, or an unwritable path.
int plane_plot_write_svg(const char *path, const PlanePicture *picture, Error *error);

#endif
