// groundup svd-compress: keep the top K singular triplets of each channel of a PGM/PPM image
// (the best rank-K approximation, Eckart-Young), write the result, and say what it costs and
// how close it is: storage (m+n+1)K / (mn) per channel and PSNR against the original.
// --sweep tabulates both over many ranks, draws them as an SVG, and writes a montage of the
// image at a few ranks side by side.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/image_svd.h"
#include "foundations/plot.h"
#include "tools/commands.h"
#include "tools/options.h"

static const char *command_name = "svd-compress";

// "dir/name.pgm" -> "name.rank20.pgm" (in the current directory).
static void default_output_path(char *out, size_t size, const char *input, const char *tag) {
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, size, "%.*s.%s%s", stem, base, tag, dot && dot != base ? dot : ".pnm");
}

// The image at a few ranks and the original, left to right, 4 white columns apart.
static int write_montage(const char *path, const Image *original, ImageSvd *svd, const int *ranks, int n_ranks,
                         Error *error) {
    Image panels[8], montage;
    int n = 0, status = 0;
    for (; n < n_ranks && status == 0; n++) {
        status = image_init(&panels[n], original->width, original->height, original->channels, original->maxval, error);
        if (status == 0) image_svd_rank(svd, ranks[n], &panels[n]);
        else n--;
    }
    panels[n] = *original;  // not freed below
    if (status == 0) status = image_montage(panels, n + 1, 4, &montage, error);
    if (status == 0) {
        status = image_write(&montage, path, 0, error);
        image_free(&montage);
    }
    for (int i = 0; i < n; i++) image_free(&panels[i]);
    return status;
}

static int sweep(const char *input, const char *prefix, const Image *image, ImageSvd *svd, int rank, Error *error) {
    int m = image->height, n = image->width, p = svd->p;
    // Ranks 1, 2, 3, 5, 8, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, ... up to p, then p.
    const int steps[] = {1, 2, 3, 5, 8, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000};
    int ranks[32], n_ranks = 0;
    for (int i = 0; i < (int)(sizeof steps / sizeof steps[0]) && steps[i] < p; i++) ranks[n_ranks++] = steps[i];
    ranks[n_ranks++] = p;
    float x[32], psnr_values[32], storage_values[32];
    Image approximation;
    if (image_init(&approximation, n, m, image->channels, image->maxval, error)) return -1;
    printf("\n| rank | storage | PSNR (dB) |\n|---|---|---|\n");
    int status = 0;
    for (int i = 0; i < n_ranks && status == 0; i++) {
        double psnr;
        image_svd_rank(svd, ranks[i], &approximation);
        status = image_psnr(image, &approximation, &psnr, error);
        x[i] = (float)ranks[i], psnr_values[i] = (float)psnr, storage_values[i] = (float)image_svd_storage(m, n, ranks[i]);
        if (status == 0) printf("| %d | %.4f | %.2f |\n", ranks[i], storage_values[i], psnr);
    }
    image_free(&approximation);
    if (status) return -1;

    char svg_path[1024], montage_path[1024], title[512];
    snprintf(svg_path, sizeof svg_path, "%s.svg", prefix);
    snprintf(montage_path, sizeof montage_path, "%s.montage.%s", prefix, image->channels == 3 ? "ppm" : "pgm");
    const char *base = strrchr(input, '/');
    snprintf(title, sizeof title, "rank-k SVD of %s: PSNR", base ? base + 1 : input);
    // At full rank the PSNR is infinite (exact) and the plot skips that point.
    PlotSeries psnr_series = {"PSNR", x, psnr_values, n_ranks};
    PlotSeries storage_series = {"storage", x, storage_values, n_ranks};
    PlotChart charts[2] = {{.title = title, .x_label = "rank k", .y_label = "PSNR (dB)",
                            .series = &psnr_series, .n_series = 1},
                           {.title = "storage (m+n+1)k / mn", .x_label = "rank k", .y_label = "fraction of the pixels",
                            .series = &storage_series, .n_series = 1}};
    if (plot_write_svg(svg_path, charts, 2, 2, error)) return -1;

    // Montage ranks: 1, 5, 20, 50 and --rank, below p, in order.
    const int wanted[5] = {1, 5, 20, 50, rank};
    int montage_ranks[5], n_montage = 0;
    for (int candidate = 1; candidate < p; candidate++)
        for (int i = 0; i < 5; i++)
            if (wanted[i] == candidate) {
                montage_ranks[n_montage++] = candidate;
                break;
            }
    if (write_montage(montage_path, image, svd, montage_ranks, n_montage, error)) return -1;
    printf("\nwrote %s (PSNR and storage against rank) and %s (ranks", svg_path, montage_path);
    for (int i = 0; i < n_montage; i++) printf(" %d", montage_ranks[i]);
    printf(", then the original)\n");
    return 0;
}

int command_svd_compress(int argc, char **argv) {
    const char *input = NULL, *output = NULL, *sweep_prefix = NULL;
    int rank = 20, do_sweep = 0, plain_text = 0;
    Option options[] = {
        {"--in", OPTION_STRING, &input, "input image: PGM or PPM (P2, P3, P5, P6)"},
        {"--rank", OPTION_INT, &rank, "K, singular triplets kept per channel"},
        {"--out", OPTION_STRING, &output, "output image (default: <input name>.rank<K>.<ext> here)"},
        {"--plain", OPTION_FLAG, &plain_text, "write plain-text P2/P3 instead of binary P5/P6"},
        {"--sweep", OPTION_FLAG, &do_sweep, "also tabulate PSNR and storage over ranks, write an SVG and a montage"},
        {"--sweep-out", OPTION_STRING, &sweep_prefix, "prefix of the sweep's files (default: <input name>.sweep)"},
    };
    int status = options_parse(argc, argv,
                               "groundup svd-compress --in IMAGE --rank K [--out FILE] [--sweep [--sweep-out PREFIX]]",
                               options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (status != OPTIONS_OK) return status == OPTIONS_HELP ? 0 : 2;
    if (!input) return fail(command_name, "--in IMAGE is required");

    Error error;
    Image image;
    if (image_read(&image, input, &error)) return fail(command_name, error.message);
    int m = image.height, n = image.width, p = m < n ? m : n;
    if (rank < 1 || rank > p) {
        char message[160];
        snprintf(message, sizeof message, "--rank %d is outside 1..%d (min of the image's %d x %d)", rank, p, n, m);
        image_free(&image);
        return fail(command_name, message);
    }
    char default_path[1024], tag[32], default_prefix[1024];
    snprintf(tag, sizeof tag, "rank%d", rank);
    default_output_path(default_path, sizeof default_path, input, tag);
    if (!output) output = default_path;
    default_output_path(default_prefix, sizeof default_prefix, input, "sweep");
    char *extension = strrchr(default_prefix, '.');  // "name.sweep.pgm" -> "name.sweep"
    if (extension) *extension = '\0';
    if (!sweep_prefix) sweep_prefix = default_prefix;

    ImageSvd svd;
    Image compressed = {0, 0, 0, 0, NULL};
    status = image_svd(&image, &svd, &error);
    if (status == 0) status = image_init(&compressed, n, m, image.channels, image.maxval, &error);
    double psnr = 0.0;
    if (status == 0) {
        image_svd_rank(&svd, rank, &compressed);
        status = image_psnr(&image, &compressed, &psnr, &error);
    }
    if (status == 0) status = image_write(&compressed, output, plain_text, &error);
    if (status == 0) {
        printf("%s: %d x %d, %d channel(s), maxval %d\n", input, n, m, image.channels, image.maxval);
        printf("rank %d: storage %.4f of the pixels ((m+n+1)k / (mn) per channel), PSNR %.2f dB -> %s\n", rank,
               image_svd_storage(m, n, rank), psnr, output);
        if (do_sweep) status = sweep(input, sweep_prefix, &image, &svd, rank, &error);
    }
    image_svd_free(&svd);
    image_free(&compressed);
    image_free(&image);
    return status == 0 ? 0 : fail(command_name, error.message);
}
