// SVG plots: the file is well-formed (tags balance), carries the title, labels and legend,
// and its polylines map back to the data through the tick labels' own positions (so the
// numbers are checked without assuming the layout). Log axes, broken lines, nice ticks,
// and errors for an unwritable path or a chart without series.
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/file.h"
#include "foundations/plot.h"
#include "tests/check.h"

// The file as a string, or NULL.
static char *read_all(const char *path) {
    unsigned char *data = NULL;
    size_t n = 0;
    Error error;
    return file_read_all(path, &data, &n, &error) == 0 ? (char *)data : NULL;
}

// Every opening tag is closed in order, self-closing tags and <?...?> aside, and every
// tag has an even number of quotes.
static int well_formed(const char *svg) {
    char stack[64][32];
    int depth = 0;
    for (const char *c = strchr(svg, '<'); c; c = strchr(c + 1, '<')) {
        const char *end = strchr(c, '>');
        if (!end) return 0;
        int quotes = 0;
        for (const char *k = c; k < end; k++) quotes += *k == '"';
        if (quotes % 2) return 0;
        if (c[1] == '?') continue;
        int closing = c[1] == '/';
        const char *name = c + 1 + closing;
        size_t length = strcspn(name, " />\n");
        if (length == 0 || length >= 32) return 0;
        if (closing) {
            if (depth == 0 || strlen(stack[depth - 1]) != length || strncmp(stack[depth - 1], name, length) != 0) return 0;
            depth--;
        } else if (end[-1] != '/') {
            if (depth == 64) return 0;
            memcpy(stack[depth], name, length);
            stack[depth++][length] = '\0';
        }
    }
    return depth == 0;
}

// Tick labels of one class: pixel (the x or y attribute) and value (the text).
static int read_ticks(const char *svg, const char *class_name, const char *attribute, double *pixels, double *values, int max) {
    char needle[64], attribute_needle[16];
    snprintf(needle, sizeof needle, "class=\"%s\"", class_name);
    snprintf(attribute_needle, sizeof attribute_needle, " %s=\"", attribute);
    int count = 0;
    for (const char *c = strstr(svg, needle); c && count < max; c = strstr(c + 1, needle)) {
        const char *a = strstr(c, attribute_needle);
        const char *text = strchr(c, '>');
        if (!a || !text) break;
        pixels[count] = strtod(a + strlen(attribute_needle), NULL);
        values[count] = strtod(text + 1, NULL);
        count++;
    }
    return count;
}

// The points of the polylines of series `index`, in order, across broken segments.
static int read_points(const char *svg, int index, double *px, double *py, int max, int *n_lines) {
    char needle[64];
    snprintf(needle, sizeof needle, "data-series=\"%d\"", index);
    int count = 0;
    *n_lines = 0;
    for (const char *c = strstr(svg, needle); c; c = strstr(c + 1, needle)) {
        (*n_lines)++;
        const char *p = strstr(c, "points=\"") + 8;
        while (*p != '"' && count < max) {
            char *end;
            px[count] = strtod(p, &end);
            py[count] = strtod(end + 1, &end);  // skip the comma
            count++;
            p = end;
            while (*p == ' ') p++;
        }
    }
    return count;
}

// The linear map pixel = offset + scale · value through the first and last ticks.
typedef struct Map {
    double offset, scale;
} Map;

static Map fit_map(const double *pixels, const double *values, int n, int logarithmic) {
    double v0 = logarithmic ? log10(values[0]) : values[0], v1 = logarithmic ? log10(values[n - 1]) : values[n - 1];
    Map map;
    map.scale = (pixels[n - 1] - pixels[0]) / (v1 - v0);
    map.offset = pixels[0] - map.scale * v0;
    return map;
}

static double unmap(Map map, double pixel) { return (pixel - map.offset) / map.scale; }

static void test_linear_chart(const char *directory) {
    enum { N_TRAIN = 100, N_VALID = 10 };
    float train_x[N_TRAIN], train_y[N_TRAIN], valid_x[N_VALID], valid_y[N_VALID];
    for (int i = 0; i < N_TRAIN; i++) {
        train_x[i] = (float)i;
        train_y[i] = 2.5f - 0.02f * i + 0.1f * sinf(0.3f * i);
    }
    for (int i = 0; i < N_VALID; i++) {
        valid_x[i] = 10.0f * i + 5.0f;  // different x points from the training series
        valid_y[i] = 2.6f - 0.018f * valid_x[i];
    }
    PlotSeries series[2] = {{"train", train_x, train_y, N_TRAIN}, {"valid & test", valid_x, valid_y, N_VALID}};
    PlotChart chart = {.title = "loss <tiny>", .x_label = "step", .y_label = "loss", .series = series, .n_series = 2};
    char path[512];
    snprintf(path, sizeof path, "%s/linear.svg", directory);
    Error error;
    CHECK(plot_write_svg(path, &chart, 1, 1, &error) == 0, "%s", error.message);

    char *svg = read_all(path);
    CHECK(svg != NULL, "cannot read %s back", path);
    if (!svg) return;
    CHECK(well_formed(svg), "not well-formed");
    CHECK(strstr(svg, "<svg") && strstr(svg, "</svg>"), "no svg element");
    CHECK(strstr(svg, "loss &lt;tiny&gt;") != NULL, "title missing or not escaped");
    CHECK(strstr(svg, ">train</text>") && strstr(svg, ">valid &amp; test</text>"), "legend entries missing");
    CHECK(strstr(svg, ">step</text>") != NULL, "x label missing");
    char temporary[600];  // any "<path>.tmp..." (foundations/file.h writes <path>.tmp.<pid>)
    snprintf(temporary, sizeof temporary, "%s.tmp*", path);
    glob_t found;
    CHECK(glob(temporary, 0, NULL, &found) == GLOB_NOMATCH, "temporary file left behind");
    globfree(&found);

    double pixels[64], values[64];
    int n_x = read_ticks(svg, "x-tick", "x", pixels, values, 64);
    CHECK(n_x >= 3, "%d x ticks", n_x);
    Map x_map = fit_map(pixels, values, n_x, 0);
    CHECK(values[0] <= 0.0 && values[n_x - 1] >= 99.0, "x ticks [%g, %g] do not cover [0, 99]", values[0], values[n_x - 1]);
    int n_y = read_ticks(svg, "y-tick", "y", pixels, values, 64);
    CHECK(n_y >= 3, "%d y ticks", n_y);
    Map y_map = fit_map(pixels, values, n_y, 0);

    // Every point of both series maps back to its data within the 0.01-pixel rounding.
    double px[200], py[200];
    int n_lines;
    int n = read_points(svg, 0, px, py, 200, &n_lines);
    CHECK(n == N_TRAIN && n_lines == 1, "train: %d points in %d lines", n, n_lines);
    for (int i = 0; i < n && i < N_TRAIN; i++) {
        CHECK_NEAR(unmap(x_map, px[i]), train_x[i], 0.05);
        CHECK_NEAR(unmap(y_map, py[i]), train_y[i], 0.002);
    }
    n = read_points(svg, 1, px, py, 200, &n_lines);
    CHECK(n == N_VALID && n_lines == 1, "valid: %d points in %d lines", n, n_lines);
    for (int i = 0; i < n && i < N_VALID; i++) {
        CHECK_NEAR(unmap(x_map, px[i]), valid_x[i], 0.05);
        CHECK_NEAR(unmap(y_map, py[i]), valid_y[i], 0.002);
    }
    free(svg);
    remove(path);
}

static void test_log_chart(const char *directory) {
    enum { N = 50 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)i;
        y[i] = powf(10.0f, -0.15f * i);  // 1 down to 4e-8
    }
    y[20] = 0.0f;  // not drawable on a log axis: the line breaks there
    y[30] = NAN;   // nor is NaN
    PlotSeries series = {"gap", x, y, N};
    PlotChart charts[2] = {
        {.title = "log", .x_label = "step", .y_label = "loss - min", .log_y = 1, .series = &series, .n_series = 1},
        {.title = "second panel", .x_label = "step", .y_label = "y", .log_y = 1, .series = &series, .n_series = 1},
    };
    char path[512];
    snprintf(path, sizeof path, "%s/log.svg", directory);
    Error error;
    CHECK(plot_write_svg(path, charts, 2, 2, &error) == 0, "%s", error.message);
    char *svg = read_all(path);
    CHECK(svg != NULL, "cannot read %s back", path);
    if (!svg) return;
    CHECK(well_formed(svg), "log chart not well-formed");
    CHECK(strstr(svg, "second panel") != NULL, "second panel missing");

    // Ticks are powers of ten covering the data, and the points map back through log10.
    double pixels[64], values[64];
    int n_y = read_ticks(svg, "y-tick", "y", pixels, values, 64);
    CHECK(n_y >= 2, "%d log ticks", n_y);
    for (int i = 0; i < n_y; i++) {
        double exponent = log10(values[i]);
        CHECK_NEAR(exponent, round(exponent), 1e-9);
    }
    CHECK(values[0] <= 4e-8 && values[n_y - 1] >= 1.0, "log ticks [%g, %g]", values[0], values[n_y - 1]);
    Map y_map = fit_map(pixels, values, n_y, 1);
    int n_x = read_ticks(svg, "x-tick", "x", pixels, values, 64);
    Map x_map = fit_map(pixels, values, n_x, 0);

    double px[200], py[200];
    int n_lines;
    // Both panels draw series 0; the first panel's points come first.
    int n = read_points(svg, 0, px, py, 200, &n_lines);
    CHECK(n == 2 * (N - 2) && n_lines == 6, "%d points in %d lines, expected %d in 6", n, n_lines, 2 * (N - 2));
    int k = 0;
    for (int i = 0; i < N && k < n; i++) {
        if (i == 20 || i == 30) continue;
        CHECK_NEAR(unmap(x_map, px[k]), x[i], 0.05);
        CHECK_NEAR(unmap(y_map, py[k]), log10(y[i]), 0.01);
        k++;
    }
    free(svg);
    remove(path);
}

// Both axes logarithmic: decade ticks on x too, points <= 0 on x skipped, every point mapping
// back through log10 on both axes (a finite-difference error against the step h).
static void test_log_log_chart(const char *directory) {
    enum { N = 30 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = powf(10.0f, -0.5f * i);  // 1 down to 3e-15
        y[i] = x[i] * x[i] + 1e-16f / x[i];
    }
    x[7] = 0.0f;  // not drawable on a log x axis
    PlotSeries series = {"error", x, y, N};
    PlotChart chart = {.title = "log-log", .x_label = "h", .y_label = "error", .log_y = 1, .series = &series,
                       .n_series = 1, .log_x = 1};
    char path[512];
    snprintf(path, sizeof path, "%s/loglog.svg", directory);
    Error error;
    CHECK(plot_write_svg(path, &chart, 1, 1, &error) == 0, "%s", error.message);
    char *svg = read_all(path);
    CHECK(svg != NULL, "cannot read %s back", path);
    if (!svg) return;
    CHECK(well_formed(svg), "log-log chart not well-formed");
    double pixels[64], values[64], y_pixels[64], y_values[64];
    int n_x = read_ticks(svg, "x-tick", "x", pixels, values, 64);
    CHECK(n_x >= 2, "%d log x ticks", n_x);
    for (int i = 0; i < n_x; i++) CHECK_NEAR(log10(values[i]), round(log10(values[i])), 1e-9);
    CHECK(values[0] <= 3.2e-15 && values[n_x - 1] >= 1.0, "log x ticks [%g, %g]", values[0], values[n_x - 1]);
    Map x_map = fit_map(pixels, values, n_x, 1);
    int n_y = read_ticks(svg, "y-tick", "y", y_pixels, y_values, 64);
    Map y_map = fit_map(y_pixels, y_values, n_y, 1);
    double px[64], py[64];
    int n_lines;
    int n = read_points(svg, 0, px, py, 64, &n_lines);
    CHECK(n == N - 1 && n_lines == 2, "%d points in %d lines, expected %d in 2", n, n_lines, N - 1);
    for (int i = 0, k = 0; i < N && k < n; i++) {
        if (i == 7) continue;
        CHECK_NEAR(unmap(x_map, px[k]), log10(x[i]), 0.01);
        CHECK_NEAR(unmap(y_map, py[k]), log10(y[i]), 0.01);
        k++;
    }
    free(svg);
    remove(path);
}

static void test_nice_ticks(void) {
    const double ranges[][2] = {{0.13, 7.9}, {0, 1}, {-3.7, 12.2}, {1234, 1299}, {0.0012, 0.0049}, {-1e6, 5e6}};
    for (int r = 0; r < 6; r++) {
        double ticks[32];
        int n = plot_nice_ticks(ranges[r][0], ranges[r][1], 6, ticks, 32);
        CHECK(n >= 3 && n <= 12, "range %d: %d ticks", r, n);
        if (n < 2) continue;
        CHECK(ticks[0] <= ranges[r][0] && ticks[n - 1] >= ranges[r][1], "range %d: [%g, %g] not covered", r, ticks[0], ticks[n - 1]);
        double step = ticks[1] - ticks[0];
        double mantissa = step / pow(10.0, floor(log10(step) + 1e-9));
        CHECK(fabs(mantissa - 1) < 1e-6 || fabs(mantissa - 2) < 1e-6 || fabs(mantissa - 5) < 1e-6, "range %d: step %g", r, step);
        for (int i = 1; i < n; i++) CHECK_NEAR(ticks[i] - ticks[i - 1], step, 1e-9 * fabs(step) + 1e-12);
        for (int i = 0; i < n; i++) CHECK_NEAR(ticks[i] / step, round(ticks[i] / step), 1e-6);  // multiples of the step
    }
    double ticks[32];
    CHECK(plot_nice_ticks(1.0, 1.0, 6, ticks, 32) == 0, "empty range gave ticks");
}

static void test_errors(const char *directory) {
    float x[2] = {0, 1}, y[2] = {1, 2};
    PlotSeries series = {"s", x, y, 2};
    PlotChart chart = {.title = "t", .x_label = "x", .y_label = "y", .series = &series, .n_series = 1};
    Error error;
    CHECK(plot_write_svg("/nonexistent-groundup-directory/x.svg", &chart, 1, 1, &error) == -1 &&
              strstr(error.message, "/nonexistent-groundup-directory/x.svg"),
          "unwritable path: %s", error.message);
    char path[512];
    snprintf(path, sizeof path, "%s/bad.svg", directory);
    PlotChart empty = chart;
    empty.n_series = 0;
    CHECK(plot_write_svg(path, &empty, 1, 1, &error) == -1 && strstr(error.message, "no series"), "no series accepted");
    CHECK(access(path, F_OK) != 0, "a file was written for a bad chart");
    PlotSeries nothing = {"nothing", NULL, NULL, 5};
    PlotChart null_arrays = chart;
    null_arrays.series = &nothing;
    CHECK(plot_write_svg(path, &null_arrays, 1, 1, &error) == -1, "NULL arrays accepted");
    // A series with nothing drawable still gives a valid (empty) frame.
    float nan_y[2] = {NAN, NAN};
    PlotSeries blank = {"blank", x, nan_y, 2};
    PlotChart blank_chart = chart;
    blank_chart.series = &blank;
    CHECK(plot_write_svg(path, &blank_chart, 1, 1, &error) == 0, "%s", error.message);
    char *svg = read_all(path);
    CHECK(svg && well_formed(svg) && !strstr(svg, "data-series"), "blank chart");
    free(svg);
    remove(path);
}

static void linear_chart(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    test_linear_chart(check_directory());
}

static void log_chart(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    test_log_chart(check_directory());
}

static void log_log_chart(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    test_log_log_chart(check_directory());
}

static void errors(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    test_errors(check_directory());
}


// A scatter chart: each point of a series is one circle that maps back to its data; no
// polyline; a dot in the legend.
static void scatter_chart(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    enum { N = 30 };
    float x[2][N], y[2][N];
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < N; i++) x[s][i] = cosf(0.7f * i) * (s + 1), y[s][i] = sinf(1.3f * i) + 3.0f * s;
    PlotSeries series[2] = {{"digit 0", x[0], y[0], N}, {"digit 1", x[1], y[1], N}};
    PlotChart chart = {.title = "latent", .x_label = "z1", .y_label = "z2", .series = series, .n_series = 2, .scatter = 1};
    char path[512];
    snprintf(path, sizeof path, "%s/scatter.svg", check_directory());
    Error error;
    REQUIRE(plot_write_svg(path, &chart, 1, 1, &error) == 0, "%s", error.message);
    char *svg = read_all(path);
    REQUIRE(svg != NULL, "cannot read %s back", path);
    CHECK(well_formed(svg), "not well-formed");
    CHECK(strstr(svg, "<polyline") == NULL, "a scatter draws no line");
    double pixels[64], values[64];
    int n_x = read_ticks(svg, "x-tick", "x", pixels, values, 64);
    Map x_map = fit_map(pixels, values, n_x, 0);
    int n_y = read_ticks(svg, "y-tick", "y", pixels, values, 64);
    Map y_map = fit_map(pixels, values, n_y, 0);
    for (int s = 0; s < 2; s++) {
        char needle[64];
        snprintf(needle, sizeof needle, "class=\"point\" data-series=\"%d\"", s);
        int count = 0;
        for (const char *c = strstr(svg, needle); c; c = strstr(c + 1, needle), count++) {
            double cx = strtod(strstr(c, "cx=\"") + 4, NULL), cy = strtod(strstr(c, "cy=\"") + 4, NULL);
            if (count < N) {
                CHECK_NEAR(unmap(x_map, cx), x[s][count], 0.01);
                CHECK_NEAR(unmap(y_map, cy), y[s][count], 0.01);
            }
        }
        CHECK(count == N, "series %d: %d points", s, count);
    }
    CHECK(strstr(svg, ">digit 1</text>") != NULL, "legend entry missing");
    free(svg);
}

static const CheckCase CASES[] = {
    {"a linear chart maps back to its data", linear_chart},
    {"a log chart maps back to its data", log_chart},
    {"a log-log chart maps back to its data", log_log_chart},
    {"nice ticks", test_nice_ticks},
    {"a scatter chart maps back to its data", scatter_chart},
    {"errors: unwritable path, no series", errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
