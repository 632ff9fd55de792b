// SVG heat maps: see heatmap.h.
#include "foundations/heatmap.h"

#include <math.h>
#include <stdio.h>

#include "foundations/file.h"
#include "foundations/plot.h"

static int check_values(const float *values, long n, float *largest, Error *error) {
    *largest = 0.0f;
    for (long i = 0; i < n; i++) {
        if (!isfinite(values[i]) || values[i] < 0.0f)
            return error_set(error, "heat map: value %ld is %g (finite and >= 0 needed)", i, (double)values[i]);
        if (values[i] > *largest) *largest = values[i];
    }
    return 0;
}

static void write_labels(FILE *f, const char *const *row_labels, const char *const *column_labels, int rows, int columns,
                         int left, int top, int cell) {
    for (int i = 0; row_labels && i < rows; i++) {
        fprintf(f, "<text class=\"row-label\" x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"13\">", left - 6,
                top + i * cell + cell / 2 + 4);
        plot_write_escaped(f, row_labels[i]);
        fputs("</text>\n", f);
    }
    for (int j = 0; column_labels && j < columns; j++) {
        fprintf(f, "<text class=\"column-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">",
                left + j * cell + cell / 2, top - 6);
        plot_write_escaped(f, column_labels[j]);
        fputs("</text>\n", f);
    }
}

int heatmap_write_svg(const char *path, const char *title, const float *values, int rows, int columns,
                      const char *const *row_labels, const char *const *column_labels, const char *row_axis,
                      const char *column_axis, Error *error) {
    if (rows < 1 || columns < 1) return error_set(error, "heat map: %d x %d cells", rows, columns);
    float largest;
    if (check_values(values, (long)rows * columns, &largest, error)) return -1;
    enum { CELL = 28, LEFT = 90, TOP = 70 };
    SafeFile file;
    if (safe_file_open(&file, path, error)) return -1;
    FILE *f = file.file;
    int width = LEFT + columns * CELL + 30, height = TOP + rows * CELL + 40;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n",
            width, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"10\" y=\"22\" font-size=\"15\">");
    plot_write_escaped(f, title);
    fprintf(f, "</text>\n<text x=\"%d\" y=\"42\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">", LEFT + columns * CELL / 2);
    plot_write_escaped(f, column_axis);
    fprintf(f, "</text>\n<text x=\"10\" y=\"%d\" font-size=\"12\" fill=\"#555\">", TOP + rows * CELL + 24);
    plot_write_escaped(f, row_axis);
    fputs("</text>\n", f);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < columns; j++) {
            float v = values[(long)i * columns + j], shade = largest > 0.0f ? v / largest : 0.0f;
            int r = (int)lroundf(255 - 247 * shade), g = (int)lroundf(255 - 207 * shade), b = (int)lroundf(255 - 148 * shade);
            fprintf(f, "<rect class=\"cell\" data-row=\"%d\" data-column=\"%d\" data-value=\"%.4f\" x=\"%d\" y=\"%d\" "
                       "width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,%d)\"/>\n",
                    i, j, v, LEFT + j * CELL, TOP + i * CELL, CELL, CELL, r, g, b);
        }
    write_labels(f, row_labels, column_labels, rows, columns, LEFT, TOP, CELL);
    fputs("</svg>\n", f);
    return safe_file_commit(&file, error);
}
