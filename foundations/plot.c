// SVG line charts (what the output looks like is described in plot.h).
#include "foundations/plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "foundations/file.h"

// Panel geometry in pixels: the plot area sits inside margins, the legend in the right one.
enum {
    PANEL_WIDTH = 560,
    PANEL_HEIGHT = 340,
    MARGIN_LEFT = 72,
    MARGIN_RIGHT = 150,
    MARGIN_TOP = 36,
    MARGIN_BOTTOM = 52,
    MAX_TICKS = 32,
    MARKER_LIMIT = 40,
};

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
static const int n_colors = (int)(sizeof palette / sizeof palette[0]);

// ---------------------------------------------------------------------------------------
// Ticks

// A "nice" number near x: 1, 2, 5 or 10 times a power of ten (rounded, or the next above).
static double nice_number(double x, int rounded) {
    double exponent = floor(log10(x));
    double power = pow(10.0, exponent);
    double fraction = x / power;
    double nice;
    if (rounded) nice = fraction < 1.5 ? 1.0 : fraction < 3.0 ? 2.0 : fraction < 7.0 ? 5.0 : 10.0;
    else nice = fraction <= 1.0 ? 1.0 : fraction <= 2.0 ? 2.0 : fraction <= 5.0 ? 5.0 : 10.0;
    return nice * power;
}

int plot_nice_ticks(double low, double high, int target_count, double *ticks, int max_ticks) {
    if (!(low < high) || !isfinite(low) || !isfinite(high) || max_ticks < 2) return 0;
    if (target_count < 2) target_count = 2;
    double step = nice_number(nice_number(high - low, 0) / (target_count - 1), 1);
    double first = floor(low / step), last = ceil(high / step);
    // Too many for the buffer: double the step until they fit.
    while (last - first + 1 > max_ticks) {
        step *= 2.0;
        first = floor(low / step);
        last = ceil(high / step);
    }
    int count = (int)(last - first) + 1;
    // Multiples of step computed from the integer index, so 0.1·3 does not drift.
    for (int i = 0; i < count; i++) ticks[i] = (first + i) * step;
    return count;
}

// Decades 10^k covering [low, high] (both > 0), every `stride` decades when there are many.
static int log_ticks(double low, double high, double *ticks, int max_ticks) {
    int first = (int)floor(log10(low)), last = (int)ceil(log10(high));
    if (last == first) last = first + 1;
    int stride = 1;
    while ((last - first) / stride + 1 > 9) stride++;
    // Align to the stride so the labels are regular (1e-8, 1e-6, ...).
    first = (int)(floor((double)first / stride) * stride);
    last = (int)(ceil((double)last / stride) * stride);
    int count = 0;
    for (int k = first; k <= last && count < max_ticks; k += stride) ticks[count++] = pow(10.0, k);
    return count;
}

// ---------------------------------------------------------------------------------------
// Writing

void plot_write_escaped(FILE *out, const char *text) {
    for (const char *c = text ? text : ""; *c; c++) {
        switch (*c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*c, out);
        }
    }
}

static int drawable(float x, float y, int log_x, int log_y) {
    return isfinite(x) && isfinite(y) && (!log_x || x > 0.0f) && (!log_y || y > 0.0f);
}

// The axis transform: value -> pixel inside the plot area.
typedef struct Axes {
    double x_low, x_high, y_low, y_high;  // data range shown (x, y in log10 when log_x, log_y)
    int log_x, log_y;
    double left, right, top, bottom;      // plot area in pixels
} Axes;

static double x_pixel(const Axes *a, double x) {
    double v = a->log_x ? log10(x) : x;
    return a->left + (v - a->x_low) / (a->x_high - a->x_low) * (a->right - a->left);
}
static double y_pixel(const Axes *a, double y) {
    double v = a->log_y ? log10(y) : y;
    return a->bottom - (v - a->y_low) / (a->y_high - a->y_low) * (a->bottom - a->top);
}

// The range of every drawable point, widened so that an empty or single-valued chart still
// has a range to map onto.
static void data_range(const PlotChart *chart, double *x_min, double *x_max, double *y_min, double *y_max) {
    *x_min = INFINITY, *x_max = -INFINITY, *y_min = INFINITY, *y_max = -INFINITY;
    for (int s = 0; s < chart->n_series; s++) {
        const PlotSeries *series = &chart->series[s];
        for (int i = 0; i < series->n; i++) {
            if (!drawable(series->x[i], series->y[i], chart->log_x, chart->log_y)) continue;
            *x_min = fmin(*x_min, series->x[i]), *x_max = fmax(*x_max, series->x[i]);
            *y_min = fmin(*y_min, series->y[i]), *y_max = fmax(*y_max, series->y[i]);
        }
    }
    if (!(*x_min <= *x_max)) *x_min = chart->log_x ? 0.1 : 0.0, *x_max = 1.0;  // nothing drawable: an empty frame
    if (!(*y_min <= *y_max)) *y_min = chart->log_y ? 0.1 : 0.0, *y_max = 1.0;
    if (*x_min == *x_max && chart->log_x) *x_min /= 10.0, *x_max *= 10.0;
    else if (*x_min == *x_max) *x_min -= 1.0, *x_max += 1.0;
    if (*y_min == *y_max && chart->log_y) *y_min /= 10.0, *y_max *= 10.0;
    else if (*y_min == *y_max) *y_min -= 1.0, *y_max += 1.0;
}

// Round ticks over [low, high] (decades on a log axis); a plain two-tick axis if there are
// fewer than two (which cannot happen for a finite low < high).
static int axis_ticks(double low, double high, int log_axis, double *ticks) {
    int n = log_axis ? log_ticks(low, high, ticks, MAX_TICKS) : plot_nice_ticks(low, high, 6, ticks, MAX_TICKS);
    if (n >= 2) return n;
    ticks[0] = low, ticks[1] = high;
    return 2;
}

// The title, grid lines, tick labels, frame and axis labels.
static void write_frame(FILE *out, const PlotChart *chart, const Axes *axes, const double *x_ticks, int n_x_ticks,
                        const double *y_ticks, int n_y_ticks) {
    fprintf(out, "<text class=\"title\" x=\"%.1f\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">",
            (axes->left + axes->right) / 2);
    plot_write_escaped(out, chart->title);
    fputs("</text>\n", out);
    for (int i = 0; i < n_x_ticks; i++) {
        double px = x_pixel(axes, x_ticks[i]);
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e5e5e5\"/>\n", px, axes->top, px, axes->bottom);
        fprintf(out, "<text class=\"x-tick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"11\">%g</text>\n", px,
                axes->bottom + 16, x_ticks[i]);
    }
    for (int i = 0; i < n_y_ticks; i++) {
        double py = y_pixel(axes, y_ticks[i]);
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e5e5e5\"/>\n", axes->left, py, axes->right, py);
        fprintf(out,
                "<text class=\"y-tick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" dominant-baseline=\"middle\" "
                "font-size=\"11\">%g</text>\n",
                axes->left - 6, py, y_ticks[i]);
    }
    fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#333\"/>\n", axes->left,
            axes->top, axes->right - axes->left, axes->bottom - axes->top);
    fprintf(out, "<text class=\"x-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">",
            (axes->left + axes->right) / 2, axes->bottom + 38);
    plot_write_escaped(out, chart->x_label);
    fputs("</text>\n", out);
    fprintf(out, "<text class=\"y-label\" transform=\"translate(16,%.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">",
            (axes->top + axes->bottom) / 2);
    plot_write_escaped(out, chart->y_label);
    fputs("</text>\n", out);
}

// One series: a polyline per unbroken run of drawable points, markers when there are few; or,
// in a scatter chart, a dot per drawable point.
static void write_series(FILE *out, const PlotSeries *series, int s, int log_x, int log_y, int scatter, const Axes *axes) {
    const char *color = palette[s % n_colors];
    if (scatter) {
        for (int i = 0; i < series->n; i++)
            if (drawable(series->x[i], series->y[i], log_x, log_y))
                fprintf(out, "<circle class=\"point\" data-series=\"%d\" cx=\"%.2f\" cy=\"%.2f\" r=\"1.6\" fill=\"%s\" fill-opacity=\"0.7\"/>\n",
                        s, x_pixel(axes, series->x[i]), y_pixel(axes, series->y[i]), color);
        return;
    }
    int open = 0;
    for (int i = 0; i < series->n; i++) {
        if (!drawable(series->x[i], series->y[i], log_x, log_y)) {
            if (open) fputs("\"/>\n", out);
            open = 0;
            continue;
        }
        if (!open)
            fprintf(out, "<polyline class=\"series\" data-series=\"%d\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                    s, color);
        fprintf(out, "%s%.2f,%.2f", open ? " " : "", x_pixel(axes, series->x[i]), y_pixel(axes, series->y[i]));
        open = 1;
    }
    if (open) fputs("\"/>\n", out);
    if (series->n <= MARKER_LIMIT)
        for (int i = 0; i < series->n; i++)
            if (drawable(series->x[i], series->y[i], log_x, log_y))
                fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\"/>\n", x_pixel(axes, series->x[i]),
                        y_pixel(axes, series->y[i]), color);
}

// The legend, right of the plot area.
static void write_legend(FILE *out, const PlotChart *chart, const Axes *axes) {
    for (int s = 0; s < chart->n_series; s++) {
        double ly = axes->top + 8 + 18 * s, lx = axes->right + 12;
        if (chart->scatter)
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", lx + 10, ly, palette[s % n_colors]);
        else
            fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n", lx, ly,
                    lx + 20, ly, palette[s % n_colors]);
        fprintf(out, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\" dominant-baseline=\"middle\" font-size=\"12\">", lx + 26, ly);
        plot_write_escaped(out, chart->series[s].name);
        fputs("</text>\n", out);
    }
}

static void write_chart(FILE *out, const PlotChart *chart, double offset_x, double offset_y) {
    double x_min, x_max, y_min, y_max, x_ticks[MAX_TICKS], y_ticks[MAX_TICKS];
    data_range(chart, &x_min, &x_max, &y_min, &y_max);
    int n_x_ticks = axis_ticks(x_min, x_max, chart->log_x, x_ticks);
    int n_y_ticks = axis_ticks(y_min, y_max, chart->log_y, y_ticks);
    Axes axes = {
        .x_low = chart->log_x ? log10(x_ticks[0]) : x_ticks[0],
        .x_high = chart->log_x ? log10(x_ticks[n_x_ticks - 1]) : x_ticks[n_x_ticks - 1],
        .y_low = chart->log_y ? log10(y_ticks[0]) : y_ticks[0],
        .y_high = chart->log_y ? log10(y_ticks[n_y_ticks - 1]) : y_ticks[n_y_ticks - 1],
        .log_x = chart->log_x, .log_y = chart->log_y,
        .left = MARGIN_LEFT, .right = PANEL_WIDTH - MARGIN_RIGHT, .top = MARGIN_TOP, .bottom = PANEL_HEIGHT - MARGIN_BOTTOM,
    };
    fprintf(out, "<g transform=\"translate(%.0f,%.0f)\">\n", offset_x, offset_y);
    write_frame(out, chart, &axes, x_ticks, n_x_ticks, y_ticks, n_y_ticks);
    for (int s = 0; s < chart->n_series; s++) write_series(out, &chart->series[s], s, chart->log_x, chart->log_y, chart->scatter, &axes);
    write_legend(out, chart, &axes);
    fputs("</g>\n", out);
}

static int check_chart(const PlotChart *chart, int index, Error *error) {
    if (!chart->series || chart->n_series < 1) return error_set(error, "plot: chart %d has no series", index);
    for (int s = 0; s < chart->n_series; s++) {
        const PlotSeries *series = &chart->series[s];
        if (series->n < 0) return error_set(error, "plot: chart %d series %d has %d points", index, s, series->n);
        if (series->n > 0 && (!series->x || !series->y))
            return error_set(error, "plot: chart %d series %d has no x or y array", index, s);
    }
    return 0;
}

int plot_write_svg(const char *path, const PlotChart *charts, int n_charts, int n_columns, Error *error) {
    if (n_charts < 1) return error_set(error, "plot: no charts to write");
    if (n_columns < 1) return error_set(error, "plot: %d columns, need at least 1", n_columns);
    for (int c = 0; c < n_charts; c++)
        if (check_chart(&charts[c], c, error)) return -1;
    if (n_columns > n_charts) n_columns = n_charts;
    int n_rows = (n_charts + n_columns - 1) / n_columns;

    // Written to a temporary file and renamed, so a reader never sees half a file.
    SafeFile file;
    if (safe_file_open(&file, path, error)) return -1;
    FILE *out = file.file;

    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            n_columns * PANEL_WIDTH, n_rows * PANEL_HEIGHT, n_columns * PANEL_WIDTH, n_rows * PANEL_HEIGHT);
    for (int c = 0; c < n_charts; c++)
        write_chart(out, &charts[c], (double)(c % n_columns) * PANEL_WIDTH, (double)(c / n_columns) * PANEL_HEIGHT);
    fputs("</svg>\n", out);

    return safe_file_commit(&file, error);
}
