// The SVG heat map (foundations/heatmap.h): one cell per value carrying it, labels escaped,
// the darkest cell the largest value; bad sizes and values are errors that write nothing.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "foundations/file.h"
#include "foundations/heatmap.h"

static char *read_text(const char *path) {
    unsigned char *data = NULL;
    size_t n = 0;
    Error error;
    if (file_read_all(path, &data, &n, &error)) return NULL;
    char *text = realloc(data, n + 1);
    if (text) text[n] = '\0';
    return text;
}

static void cells_carry_their_values(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    const float values[6] = {0.1f, 0.2f, 0.7f, 0.5f, 0.5f, 0.0f};
    const char *rows[2] = {"a<b", "c"}, *columns[3] = {"x", "&", "\"q\""};
    const char *path = check_path("map.svg");
    Error error;
    REQUIRE(heatmap_write_svg(path, "title", values, 2, 3, rows, columns, "rows", "columns", &error) == 0, "%s",
            error.message);
    char *svg = read_text(path);
    REQUIRE(svg, "cannot read %s", path);
    int cells = 0;
    for (const char *p = svg; (p = strstr(p, "class=\"cell\"")); p++) {
        int i, j;
        float v;
        CHECK(sscanf(p, "class=\"cell\" data-row=\"%d\" data-column=\"%d\" data-value=\"%f\"", &i, &j, &v) == 3,
              "unreadable cell");
        CHECK(i == cells / 3 && j == cells % 3, "cell %d at (%d,%d)", cells, i, j);
        CHECK_NEAR(v, values[cells], 1e-4);
        cells++;
    }
    CHECK(cells == 6, "%d cells", cells);
    CHECK(strstr(svg, "a&lt;b") && strstr(svg, ">&amp;<") && strstr(svg, "&quot;q&quot;"), "labels not escaped");
    CHECK(strstr(svg, "data-value=\"0.7000\" x=\"146\" y=\"70\" width=\"28\" height=\"28\" fill=\"rgb(8,48,107)\""),
          "the largest value is not the darkest cell");
    free(svg);
}

static void bad_input_is_an_error(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    const char *path = check_path("bad.svg");
    Error error;
    float bad[2] = {0.5f, NAN};
    CHECK(heatmap_write_svg(path, "t", bad, 1, 2, NULL, NULL, "", "", &error) == -1 && strstr(error.message, "value 1"),
          "NaN accepted: %s", error.message);
    bad[1] = -1.0f;
    CHECK(heatmap_write_svg(path, "t", bad, 1, 2, NULL, NULL, "", "", &error) == -1, "a negative value accepted");
    CHECK(heatmap_write_svg(path, "t", bad, 0, 2, NULL, NULL, "", "", &error) == -1, "0 rows accepted");
    FILE *f = fopen(path, "r");
    CHECK(!f, "a failed write left a file");
    if (f) fclose(f);
    float ok[1] = {1.0f};
    CHECK(heatmap_write_svg("/nonexistent-dir/x.svg", "t", ok, 1, 1, NULL, NULL, "", "", &error) == -1,
          "an unwritable path accepted");
}

static const CheckCase CASES[] = {
    {"cells carry their values", cells_carry_their_values},
    {"bad input is an error", bad_input_is_an_error},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
