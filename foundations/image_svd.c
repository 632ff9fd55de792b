// foundations/image_svd.h: rank-k approximations of an image's channels.
#include "foundations/image_svd.h"

#include <stdlib.h>
#include <string.h>

void image_svd_free(ImageSvd *svd) {
    for (int c = 0; c < IMAGE_SVD_MAX_CHANNELS; c++) {
        matrix_free(&svd->u[c]), matrix_free(&svd->vt[c]), matrix_free(&svd->sums[c]);
        free(svd->s[c]);
    }
    memset(svd, 0, sizeof *svd);
}

int image_svd(const Image *image, ImageSvd *out, Error *error) {
    memset(out, 0, sizeof *out);
    int m = image->height, n = image->width, p = m < n ? m : n;
    if (image->channels < 1 || image->channels > IMAGE_SVD_MAX_CHANNELS)
        return error_set(error, "image_svd: %d channels, expected 1 to 3", image->channels);
    out->channels = image->channels, out->height = m, out->width = n, out->p = p;
    Matrix channel;
    if (matrix_init(&channel, m, n, error)) return -1;
    int status = 0;
    for (int c = 0; c < image->channels && status == 0; c++) {
        for (long i = 0; i < (long)m * n; i++) channel.values[i] = image->pixels[(size_t)i * image->channels + c];
        out->s[c] = malloc(sizeof(double) * (size_t)(p > 0 ? p : 1));
        if (!out->s[c]) status = error_set(error, "image_svd: out of memory");
        if (status == 0) status = matrix_init(&out->u[c], m, p, error);
        if (status == 0) status = matrix_init(&out->vt[c], p, n, error);
        if (status == 0) status = matrix_init(&out->sums[c], m, n, error);
        if (status == 0) status = svd_golub_kahan(&channel, &out->u[c], out->s[c], &out->vt[c], error);
    }
    matrix_free(&channel);
    if (status) image_svd_free(out);
    return status;
}

void image_svd_rank(ImageSvd *svd, int k, Image *out) {
    for (int c = 0; c < svd->channels; c++) {
        if (k < svd->sum_rank) memset(svd->sums[c].values, 0, sizeof(double) * (size_t)svd->height * svd->width);
        svd_accumulate(&svd->sums[c], &svd->u[c], svd->s[c], &svd->vt[c], k < svd->sum_rank ? 0 : svd->sum_rank, k);
        const double *values = svd->sums[c].values;
        for (long i = 0; i < (long)out->width * out->height; i++) {
            double value = values[i] + 0.5;
            value = value < 0.0 ? 0.0 : value > out->maxval ? out->maxval : value;
            out->pixels[(size_t)i * out->channels + c] = (float)(long)value;
        }
    }
    svd->sum_rank = k;
}

double image_svd_storage(int height, int width, int k) {
    return (double)(height + width + 1) * k / ((double)height * width);
}

int image_montage(const Image *images, int n, int gap, Image *out, Error *error) {
    int width = 0, height = images[0].height, channels = images[0].channels, maxval = images[0].maxval;
    for (int t = 0; t < n; t++) {
        if (images[t].height != height || images[t].channels != channels || images[t].maxval != maxval)
            return error_set(error, "image_montage: image %d is %dx%dx%d (maxval %d), the first %dx%dx%d (maxval %d)", t,
                             images[t].width, images[t].height, images[t].channels, images[t].maxval, images[0].width,
                             height, channels, maxval);
        width += images[t].width + (t ? gap : 0);
    }
    if (image_init(out, width, height, channels, maxval, error)) return -1;
    for (size_t i = 0; i < (size_t)width * height * channels; i++) out->pixels[i] = (float)maxval;
    int left = 0;
    for (int t = 0; t < n; t++) {
        int w = images[t].width;
        for (int y = 0; y < height; y++)
            memcpy(out->pixels + ((size_t)y * width + (size_t)left) * channels,
                   images[t].pixels + (size_t)y * w * channels, sizeof(float) * (size_t)w * channels);
        left += w + gap;
    }
    return 0;
}
