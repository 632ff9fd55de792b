// The image classifiers behind one name: see image_classifier.h.
#include "models/image_classifier.h"

#include <stdio.h>
#include <string.h>

static const char *const CLASSIFIER_ARCH_NAMES[CLASSIFIER_ARCH_COUNT] = {"mlp", "lenet5", "resnet", "alexnet", "vit"};

const char *classifier_arch_name(ClassifierArch arch) {
    return arch >= 0 && arch < CLASSIFIER_ARCH_COUNT ? CLASSIFIER_ARCH_NAMES[arch] : "unknown";
}

int classifier_arch_parse(const char *name, ClassifierArch *arch, Error *error) {
    for (int a = 0; a < CLASSIFIER_ARCH_COUNT; a++)
        if (strcmp(name, CLASSIFIER_ARCH_NAMES[a]) == 0) {
            *arch = (ClassifierArch)a;
            return 0;
        }
    return error_set(error, "unknown architecture \"%s\" (mlp, lenet5, resnet, alexnet or vit; unet for segmentation)", name);
}

void image_classifier_from_mlp(ImageClassifier *model, const Mlp *mlp) {
    memset(model, 0, sizeof *model);
    model->arch = CLASSIFIER_MLP, model->mlp = *mlp;
}

void image_classifier_from_lenet5(ImageClassifier *model, const Lenet5 *lenet5) {
    memset(model, 0, sizeof *model);
    model->arch = CLASSIFIER_LENET5, model->lenet5 = *lenet5;
}

void image_classifier_from_resnet(ImageClassifier *model, const Resnet *resnet) {
    memset(model, 0, sizeof *model);
    model->arch = CLASSIFIER_RESNET, model->resnet = *resnet;
}

void image_classifier_from_alexnet(ImageClassifier *model, const Alexnet *alexnet) {
    memset(model, 0, sizeof *model);
    model->arch = CLASSIFIER_ALEXNET, model->alexnet = *alexnet;
}

void image_classifier_from_vit(ImageClassifier *model, const Vit *vit) {
    memset(model, 0, sizeof *model);
    model->arch = CLASSIFIER_VIT, model->vit = *vit;
}

// The file's architecture: its metadata, or its names.
static int file_arch(const Safetensors *file, const char *path, ClassifierArch *arch, Error *error) {
    const char *name = safetensors_metadata(file, "arch");
    if (name && strcmp(name, "unet") == 0)
        return error_set(error, "%s: a unet checkpoint (segmentation), not an image classifier", path);
    if (name) {
        Error unknown;
        if (classifier_arch_parse(name, arch, &unknown)) return error_set(error, "%s: %s", path, unknown.message);
        return 0;
    }
    if (safetensors_find(file, "layer1.0.conv1.weight")) *arch = CLASSIFIER_RESNET;
    else if (safetensors_find(file, "conv1.weight")) *arch = CLASSIFIER_LENET5;
    else if (safetensors_find(file, "features.0.weight")) *arch = CLASSIFIER_ALEXNET;
    else if (safetensors_find(file, "fc1.weight")) *arch = CLASSIFIER_MLP;
    else if (safetensors_find(file, "patch_embed.proj.weight")) *arch = CLASSIFIER_VIT;
    else return error_set(error, "%s: no \"arch\" in its metadata and no tensor of an mlp, lenet5, resnet, alexnet or vit", path);
    return 0;
}

int image_classifier_load(ImageClassifier *model, const char *path, const ClassifierArch *expected, Error *error) {
    memset(model, 0, sizeof *model);
    Safetensors file;
    if (safetensors_read(&file, path, error)) return -1;
    ClassifierArch arch;
    int status = file_arch(&file, path, &arch, error);
    if (!status && expected && arch != *expected)
        status = error_set(error, "%s: %s %s checkpoint, not %s", path, arch == CLASSIFIER_ALEXNET ? "an" : "a",
                           classifier_arch_name(arch), classifier_arch_name(*expected));
    if (!status) {
        model->arch = arch;
        if (arch == CLASSIFIER_MLP) status = mlp_classifier_from_file(&model->mlp, &file, path, error);
        else if (arch == CLASSIFIER_LENET5) status = lenet5_from_file(&model->lenet5, &file, path, error);
        else if (arch == CLASSIFIER_RESNET) status = resnet_from_file(&model->resnet, &file, path, error);
        else if (arch == CLASSIFIER_VIT) status = vit_from_file(&model->vit, &file, path, error);
        else status = alexnet_from_file(&model->alexnet, &file, path, error);
    }
    safetensors_free(&file);
    if (status) memset(model, 0, sizeof *model);
    return status ? -1 : 0;
}

void image_classifier_free(ImageClassifier *model) {
    if (model->arch == CLASSIFIER_MLP) mlp_classifier_free(&model->mlp);
    else if (model->arch == CLASSIFIER_LENET5) lenet5_free(&model->lenet5);
    else if (model->arch == CLASSIFIER_RESNET) resnet_free(&model->resnet);
    else if (model->arch == CLASSIFIER_ALEXNET) alexnet_free(&model->alexnet);
    else if (model->arch == CLASSIFIER_VIT) vit_free(&model->vit);
    memset(model, 0, sizeof *model);
}

Classifier image_classifier_view(ImageClassifier *model) {
    if (model->arch == CLASSIFIER_LENET5) return lenet5_as_classifier(&model->lenet5);
    if (model->arch == CLASSIFIER_RESNET) return resnet_as_classifier(&model->resnet);
    if (model->arch == CLASSIFIER_ALEXNET) return alexnet_as_classifier(&model->alexnet);
    if (model->arch == CLASSIFIER_VIT) return vit_as_classifier(&model->vit);
    return mlp_as_classifier(&model->mlp);
}

int image_classifier_metadata(const ImageClassifier *model, SafetensorsMetadata *metadata) {
    metadata[0].key = "arch", metadata[0].value = classifier_arch_name(model->arch);
    if (model->arch == CLASSIFIER_ALEXNET) {
        metadata[1].key = "dropout", metadata[1].value = model->alexnet.dropout_text;
        return 2;
    }
    if (model->arch == CLASSIFIER_VIT) {
        metadata[1].key = "heads", metadata[1].value = model->vit.heads_text;
        metadata[2].key = "dropout", metadata[2].value = model->vit.dropout_text;
        return 3;
    }
    if (model->arch != CLASSIFIER_LENET5) return 1;
    metadata[1].key = "variant", metadata[1].value = lenet5_variant(&model->lenet5);
    return 2;
}

int image_classifier_check_input(const ImageClassifier *model, int channels, int height, int width, Error *error) {
    if (model->arch == CLASSIFIER_MLP) {
        if ((long)channels * height * width == model->mlp.sizes[0]) return 0;
        return error_set(error, "a %dx%d image with %d channel(s); the mlp takes %d values", width, height, channels,
                         model->mlp.sizes[0]);
    }
    if (model->arch == CLASSIFIER_LENET5) {
        const Lenet5Config *c = &model->lenet5.config;
        if (channels == c->in_channels && height == c->image_size && width == c->image_size) return 0;
        return error_set(error, "a %dx%d image with %d channel(s); the lenet5 takes %dx%d with %d", width, height,
                         channels, c->image_size, c->image_size, c->in_channels);
    }
    if (model->arch == CLASSIFIER_ALEXNET) {
        int in = model->alexnet.config.in_channels;
        if (channels == in && height == ALEXNET_IMAGE_SIZE && width == ALEXNET_IMAGE_SIZE) return 0;
        return error_set(error, "a %dx%d image with %d channel(s); the alexnet takes %dx%d with %d", width, height,
                         channels, ALEXNET_IMAGE_SIZE, ALEXNET_IMAGE_SIZE, in);
    }
    if (model->arch == CLASSIFIER_VIT) {
        const VitConfig *c = &model->vit.config;
        if (channels == c->in_channels && height == c->image_size && width == c->image_size) return 0;
        return error_set(error, "a %dx%d image with %d channel(s); the vit takes %dx%d with %d", width, height,
                         channels, c->image_size, c->image_size, c->in_channels);
    }
    if (channels == model->resnet.config.in_channels && height >= 1 && width >= 1) return 0;
    return error_set(error, "a %dx%d image with %d channel(s); the resnet takes %d channel(s)", width, height, channels,
                     model->resnet.config.in_channels);
}

void image_classifier_describe(const ImageClassifier *model, char *out, size_t size) {
    int n = 0;
    if (model->arch == CLASSIFIER_MLP) {
        n = snprintf(out, size, "mlp ");
        for (int i = 0; i <= model->mlp.n_layers && n > 0 && (size_t)n < size; i++)
            n += snprintf(out + n, size - (size_t)n, i ? "-%d" : "%d", model->mlp.sizes[i]);
    } else if (model->arch == CLASSIFIER_LENET5) {
        const Lenet5Config *c = &model->lenet5.config;
        snprintf(out, size, "lenet5 %d-%d-%d-%d %s", c->conv1, c->conv2, c->fc1, c->fc2, lenet5_variant(&model->lenet5));
    } else if (model->arch == CLASSIFIER_ALEXNET) {
        const AlexnetConfig *c = &model->alexnet.config;
        snprintf(out, size, "alexnet %d-%d-%d-%d-%d-%d-%d dropout %g", c->conv[0], c->conv[1], c->conv[2], c->conv[3],
                 c->conv[4], c->fc1, c->fc2, (double)c->dropout);
    } else if (model->arch == CLASSIFIER_VIT) {
        const VitConfig *c = &model->vit.config;
        snprintf(out, size, "vit patch %d dim %d depth %d heads %d mlp %d", c->patch_size, c->dim, c->depth, c->heads,
                 c->mlp_dim);
    } else {
        const ResnetConfig *c = &model->resnet.config;
        n = snprintf(out, size, "resnet width %d blocks ", c->widths[0]);
        for (int k = 0; k < c->n_stages && n > 0 && (size_t)n < size; k++)
            n += snprintf(out + n, size - (size_t)n, k ? "-%d" : "%d", c->blocks[k]);
    }
}
