// Pictures of 2-D points: see plane_pictures.h.
#include "tools/plane_pictures.h"

#include <stdio.h>

#include "foundations/file.h"
#include "foundations/plane_plot.h"
#include "tools/run.h"

int write_points_svg(const char *path, const char *title, const float *points, int n, Error *error) {
    PlanePicture picture = {.title = title, .x_min = -PLANE_WINDOW, .x_max = PLANE_WINDOW, .y_min = -PLANE_WINDOW,
                            .y_max = PLANE_WINDOW, .points = points, .n_points = n};
    return plane_plot_write_svg(path, &picture, error);
}

void print_point_statistics(const char *what, const float *points, int n) {
    double mean[2] = {0, 0}, cov[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) mean[0] += points[2 * i] / n, mean[1] += points[2 * i + 1] / n;
    for (int i = 0; i < n; i++) {
        double a = points[2 * i] - mean[0], b = points[2 * i + 1] - mean[1];
        cov[0] += a * a / n, cov[1] += a * b / n, cov[2] += b * b / n;
    }
    printf("%s: mean (%.3f, %.3f)  covariance [[%.3f, %.3f], [%.3f, %.3f]]\n", what, mean[0], mean[1], cov[0], cov[1],
           cov[1], cov[2]);
}

int make_parent_directory(const char *path, Error *error) {
    char directory[1024];
    directory_of(path, directory, sizeof directory);
    return make_directories(directory, error);
}
