// SVG pictures of the plane: see plane_plot.h.
#include "foundations/plane_plot.h"

#include <math.h>
#include <stdio.h>

#include "foundations/file.h"
#include "foundations/plot.h"

enum { SIDE = 480, LEFT = 60, TOP = 40, LEGEND = 150, MAX_TICKS = 24 };

static const char *const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
enum { N_COLOURS = (int)(sizeof colours / sizeof colours[0]) };


static double px(const PlanePicture *p, double x) { return LEFT + (x - p->x_min) / (p->x_max - p->x_min) * SIDE; }
static double py(const PlanePicture *p, double y) { return TOP + (p->y_max - y) / (p->y_max - p->y_min) * SIDE; }
static int inside(const PlanePicture *p, float x, float y) {
    return isfinite(x) && isfinite(y) && x >= p->x_min && x <= p->x_max && y >= p->y_min && y <= p->y_max;
}

static int check(const PlanePicture *p, Error *error) {
    if (!(p->x_min < p->x_max) || !(p->y_min < p->y_max))
        return error_set(error, "plane plot: empty window [%g, %g] x [%g, %g]", (double)p->x_min, (double)p->x_max,
                         (double)p->y_min, (double)p->y_max);
    if (p->n_arrows < 0 || p->n_paths < 0 || p->n_points < 0 || p->n_edges < 0 || p->n_groups < 0)
        return error_set(error, "plane plot: a negative count");
    if (p->grid) {
        if (p->grid_rows < 1 || p->grid_columns < 1)
            return error_set(error, "plane plot: grid of %d x %d cells", p->grid_rows, p->grid_columns);
        for (long i = 0; i < (long)p->grid_rows * p->grid_columns; i++)
            if (!isfinite(p->grid[i]) || p->grid[i] < 0.0f)
                return error_set(error, "plane plot: grid value %ld is %g (finite and >= 0 needed)", i, (double)p->grid[i]);
    }
    for (int i = 0; p->point_group && i < p->n_points; i++)
        if (p->point_group[i] < 0 || p->point_group[i] >= (p->n_groups > 0 ? p->n_groups : 1))
            return error_set(error, "plane plot: point %d has group %d of %d", i, p->point_group[i], p->n_groups);
    for (int i = 0; i < 2 * p->n_edges; i++)
        if (p->edges[i] < 0 || p->edges[i] >= p->n_points)
            return error_set(error, "plane plot: edge %d joins point %d of %d", i / 2, p->edges[i], p->n_points);
    return 0;
}

static void write_axes(FILE *f, const PlanePicture *p) {
    double ticks[MAX_TICKS];
    int n = plot_nice_ticks(p->x_min, p->x_max, 6, ticks, MAX_TICKS);
    for (int i = 0; i < n; i++)
        if (ticks[i] >= p->x_min && ticks[i] <= p->x_max)
            fprintf(f, "<text class=\"x-tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%g</text>\n",
                    px(p, ticks[i]), TOP + SIDE + 16, ticks[i]);
    n = plot_nice_ticks(p->y_min, p->y_max, 6, ticks, MAX_TICKS);
    for (int i = 0; i < n; i++)
        if (ticks[i] >= p->y_min && ticks[i] <= p->y_max)
            fprintf(f, "<text class=\"y-tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%g</text>\n",
                    LEFT - 6, py(p, ticks[i]) + 4, ticks[i]);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", LEFT, TOP, SIDE, SIDE);
    fprintf(f, "<text class=\"title\" x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">",
            LEFT + SIDE / 2);
    plot_write_escaped(f, p->title);
    fputs("</text>\n", f);
}

// The heat map: 64 shades from white (0) to blue (31,119,180) at the largest value; a run of
// cells of one shade in a row is one rect, so a mostly empty density stays a small file.
static void write_grid(FILE *f, const PlanePicture *p) {
    float largest = 0.0f;
    long cells = (long)p->grid_rows * p->grid_columns;
    for (long i = 0; i < cells; i++) largest = p->grid[i] > largest ? p->grid[i] : largest;
    double w = (double)SIDE / p->grid_columns, h = (double)SIDE / p->grid_rows;
    for (int r = 0; r < p->grid_rows; r++) {
        const float *row = p->grid + (long)r * p->grid_columns;
        for (int c = 0; c < p->grid_columns;) {
            int shade = largest > 0.0f ? (int)lroundf(63.0f * row[c] / largest) : 0, end = c + 1;
            while (end < p->grid_columns && (largest > 0.0f ? (int)lroundf(63.0f * row[end] / largest) : 0) == shade) end++;
            double t = shade / 63.0;
            if (shade > 0)
                fprintf(f,
                        "<rect class=\"cell\" data-shade=\"%d\" data-cells=\"%d\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                        "height=\"%.2f\" fill=\"rgb(%d,%d,%d)\"/>\n",
                        shade, end - c, LEFT + c * w, TOP + SIDE - (r + 1) * h, (end - c) * w + 0.3, h + 0.3,
                        (int)lround(255 - t * 224), (int)lround(255 - t * 136), (int)lround(255 - t * 75));
            c = end;
        }
    }
}

// An arrow: a line and a head of two short strokes at ±25° from the shaft.
static void write_arrows(FILE *f, const PlanePicture *p) {
    for (int i = 0; i < p->n_arrows; i++) {
        float x0 = p->arrow_from[2 * i], y0 = p->arrow_from[2 * i + 1];
        float x1 = x0 + p->arrow_vector[2 * i], y1 = y0 + p->arrow_vector[2 * i + 1];
        if (!inside(p, x0, y0) || !isfinite(x1) || !isfinite(y1)) continue;
        double a = px(p, x0), b = py(p, y0), c = px(p, x1), d = py(p, y1);
        double length = hypot(c - a, d - b), head = fmin(6.0, 0.4 * length), angle = atan2(d - b, c - a);
        fprintf(f, "<line class=\"arrow\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" stroke-width=\"1\"/>\n",
                a, b, c, d);
        for (int side = -1; side <= 1; side += 2) {
            double back = angle + 3.14159265358979 + side * 0.436;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" stroke-width=\"1\"/>\n", c, d,
                    c + head * cos(back), d + head * sin(back));
        }
    }
}

static void write_paths(FILE *f, const PlanePicture *p) {
    for (int i = 0; i < p->n_paths; i++) {
        fprintf(f, "<polyline class=\"path\" data-path=\"%d\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", i,
                colours[i % N_COLOURS], i % 2 ? " stroke-dasharray=\"6,4\"" : "");
        for (int k = 0; k < p->path_lengths[i]; k++) {
            float x = p->path_xy[i][2 * k], y = p->path_xy[i][2 * k + 1];
            if (inside(p, x, y)) fprintf(f, "%.1f,%.1f ", px(p, x), py(p, y));
        }
        fputs("\"/>\n", f);
    }
}

static void write_points(FILE *f, const PlanePicture *p) {
    for (int e = 0; e < p->n_edges; e++) {
        const float *a = p->points + 2 * p->edges[2 * e], *b = p->points + 2 * p->edges[2 * e + 1];
        if (inside(p, a[0], a[1]) && inside(p, b[0], b[1]))
            fprintf(f, "<line class=\"edge\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\"/>\n",
                    px(p, a[0]), py(p, a[1]), px(p, b[0]), py(p, b[1]));
    }
    double radius = p->n_points > 400 ? 1.6 : p->point_labels ? 7.0 : 3.0;
    for (int i = 0; i < p->n_points; i++) {
        float x = p->points[2 * i], y = p->points[2 * i + 1];
        if (!inside(p, x, y)) continue;
        int g = p->point_group ? p->point_group[i] : 0;
        fprintf(f, "<circle class=\"point\" data-group=\"%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" fill-opacity=\"0.8\"/>\n",
                g, px(p, x), py(p, y), radius, colours[g % N_COLOURS]);
        if (p->point_labels) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"8\" fill=\"#fff\">", px(p, x),
                    py(p, y) + 3);
            plot_write_escaped(f, p->point_labels[i]);
            fputs("</text>\n", f);
        }
    }
}

static void write_legend(FILE *f, const PlanePicture *p) {
    int y = TOP + 10, x = LEFT + SIDE + 16;
    for (int g = 0; p->group_names && g < p->n_groups; g++, y += 20) {
        fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"12\">", x + 5, y,
                colours[g % N_COLOURS], x + 16, y + 4);
        plot_write_escaped(f, p->group_names[g]);
        fputs("</text>\n", f);
    }
    for (int i = 0; p->path_names && i < p->n_paths; i++, y += 20) {
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\" font-size=\"12\">",
                x, y, x + 12, y, colours[i % N_COLOURS], i % 2 ? " stroke-dasharray=\"4,3\"" : "", x + 16, y + 4);
        plot_write_escaped(f, p->path_names[i]);
        fputs("</text>\n", f);
    }
}

int plane_plot_write_svg(const char *path, const PlanePicture *picture, Error *error) {
    if (check(picture, error)) return -1;
    SafeFile file;
    if (safe_file_open(&file, path, error)) return -1;
    FILE *f = file.file;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n",
            LEFT + SIDE + LEGEND, TOP + SIDE + 30);
    fputs("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
    if (picture->grid) write_grid(f, picture);
    write_arrows(f, picture);
    write_paths(f, picture);
    write_points(f, picture);
    write_axes(f, picture);
    write_legend(f, picture);
    fputs("</svg>\n", f);
    return safe_file_commit(&file, error);
}
