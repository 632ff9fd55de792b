// The pictures the 2-D density commands (flow, score-model) share, over the window [−3, 3]²
// that holds every toy data set (models/toy2d.h): points as a scatter, a density as a heat map.
#ifndef TOOLS_PLANE_PICTURES_H
#define TOOLS_PLANE_PICTURES_H

#include "foundations/error.h"

enum { PLANE_WINDOW = 3 };  // the window is [−PLANE_WINDOW, PLANE_WINDOW]²

// points (n,2) as a scatter titled title.
int write_points_svg(const char *path, const char *title, const float *points, int n, Error *error);
// The mean and covariance of points (n,2), "mean (a, b)  cov [[..]]" on stdout, led by what.
void print_point_statistics(const char *what, const float *points, int n);
// Creates the directory path is to be written in (mkdir -p of its directory).
int make_parent_directory(const char *path, Error *error);

#endif
