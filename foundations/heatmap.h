// An SVG heat map of a matrix with labelled rows and columns (attention weights, confusion
// matrices): one cell per value, white (0) to dark blue (the largest value), the value in
// the cell's data-value attribute so tests can read it back:
//   <rect class="cell" data-row="i" data-column="j" data-value="v" .../>
// Labels are escaped for XML. Written through a temporary file renamed into place.
#ifndef FOUNDATIONS_HEATMAP_H
#define FOUNDATIONS_HEATMAP_H

#include "foundations/error.h"

// values (rows, columns), all finite and >= 0; row_labels (rows) and column_labels (columns)
// strings (or NULL: none). Fails on sizes below 1, a negative or non-finite value, or a path
// that cannot be written.
int heatmap_write_svg(const char *path, const char *title, const float *values, int rows, int columns,
                      const char *const *row_labels, const char *const *column_labels, const char *row_axis,
                      const char *column_axis, Error *error);

#endif
