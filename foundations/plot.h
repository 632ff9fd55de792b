// A small SVG line-chart writer, for loss curves and optimizer comparisons.
//
// A chart has a title, axis labels, several series of (x, y) points drawn as lines in
// distinct colours, a legend to the right, and axes with ticks at round values
// (1, 2 or 5 × 10^k apart). Either axis can be logarithmic (ticks at powers of ten). Series
// can have different x points (train loss every step, validation loss every 100 steps).
// Several charts can share one file as panels in a grid.
//
// Points whose x or y is not finite (or <= 0 on a log axis) are skipped and break the
// line there. Series of at most 40 points also get a dot on each point.
//
// The SVG is plain and stable, so tests can read it back: each series is one or more
//   <polyline class="series" data-series="<index>" points="x,y x,y ..."/>
// in pixel coordinates, and each tick label is
//   <text class="x-tick" x="<pixel>" ...>value</text>   <text class="y-tick" y="<pixel>" ...>value</text>
// with the label anchored exactly at the tick's pixel.
//
// A chart with scatter set draws each series as dots: each drawable point is a
//   <circle class="point" data-series="<index>" cx=".." cy=".." .../>
// and its legend entry a dot.
//
// Not here: bar charts, fonts beyond the SVG defaults.
#ifndef FOUNDATIONS_PLOT_H
#define FOUNDATIONS_PLOT_H

#include <stdio.h>

#include "foundations/error.h"

typedef struct PlotSeries {
    const char *name;  // shown in the legend
    const float *x;    // (n)
    const float *y;    // (n)
    int n;
} PlotSeries;

typedef struct PlotChart {
    const char *title;
    const char *x_label;
    const char *y_label;
    int log_y;                 // 1: logarithmic y axis
    const PlotSeries *series;  // (n_series)
    int n_series;
    int log_x;                 // 1: logarithmic x axis (last, so positional initialisers stay valid)
    int scatter;               // 1: every series is a dot at each point and no line (a scatter plot)
} PlotChart;

// Writes charts (n_charts) as panels, n_columns per row, into one SVG file at path (through
// a temporary file renamed into place). Fails on an unwritable path or a malformed chart
// (no series, n < 0, NULL arrays); a series with no drawable point is allowed.
int plot_write_svg(const char *path, const PlotChart *charts, int n_charts, int n_columns, Error *error);

// Round tick values covering [low, high]: about target_count of them, spaced 1, 2 or 5 × 10^k,
// the first <= low and the last >= high. Writes up to max_ticks into ticks and returns how
// many (low < high required; returns 0 otherwise).
// text (NULL: nothing) onto out as SVG/XML character data or an attribute value: &, <, > and "
// as entities. Also the heat maps' and plane pictures' (foundations/heatmap.h, plane_plot.h).
void plot_write_escaped(FILE *out, const char *text);

int plot_nice_ticks(double low, double high, int target_count, double *ticks, int max_ticks);

#endif
