// `groundup explore loss-landscape` (explore/loss_landscape.h) at a small size: filter
// normalisation gives each filter its weights' norm; a trained MLP's loss falls along the line
// from its initialisation and the plane around the trained weights is lowest at them;
// the ResNet without skips has no shortcut parameters and still runs; bad setups are refused.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/loss_landscape.h"
#include "models/resnet.h"
#include "tests/check.h"

static void filter_normalisation_matches_each_filter(void) {
    float w[6] = {3, 4, 0, 1, 0, 0}, d[6] = {1, 1, 2, 0, 0, 0};
    filter_normalise(d, w, 3, 2);
    CHECK(fabsf(d[0] - 5.0f / sqrtf(2.0f)) < 1e-6f && fabsf(d[1] - d[0]) < 1e-6f, "row 0: %g %g", d[0], d[1]);
    CHECK(fabsf(d[2] - 1.0f) < 1e-6f && d[3] == 0.0f, "row 1: %g %g", d[2], d[3]);
    CHECK(d[4] == 0.0f && d[5] == 0.0f, "a zero direction row stays zero");
}

static LandscapeSetup small_setup(void) {
    LandscapeSetup s = landscape_default_setup();
    s.train.n_train = 500, s.train.hidden[0] = 32, s.train.hidden[1] = 0, s.train.epochs = 40;
    s.n_eval = 200, s.grid = 5, s.line_points = 5;
    return s;
}

// t = -0.5, 0, 0.5, 1, 1.5: the loss falls from the initialisation to the trained weights; on the
// filter-normalised plane the trained weights (the centre) are the lowest point.
static void trained_mlp_is_the_lowest_point_of_its_plane(void) {
    LandscapeSetup s = small_setup();
    Landscape *l = malloc(sizeof *l);
    Error error;
    REQUIRE(l, "out of memory");
    REQUIRE(explore_loss_landscape(&s, LANDSCAPE_MLP, l, &error) == 0, "%s", error.message);
    CHECK(l->parameters == 784 * 32 + 32 + 32 * 10 + 10, "%ld parameters", l->parameters);
    CHECK(fabs(l->line_t[1]) < 1e-12 && fabs(l->line_t[3] - 1.0) < 1e-12, "t = %g, %g", l->line_t[1], l->line_t[3]);
    CHECK(l->line_loss[1] > l->line_loss[2] && l->line_loss[2] > l->line_loss[3], "line %g %g %g", l->line_loss[1],
          l->line_loss[2], l->line_loss[3]);
    // (past t = 1 it keeps falling: the line scales up weights that already classify the
    // training images, so their margins and the cross-entropy improve; no check either way)
    CHECK(fabs(l->line_loss[3] - l->centre_loss) < 1e-6 && fabs(l->surface[2][2] - l->centre_loss) < 1e-6,
          "L(theta*) three ways: %g %g %g", l->line_loss[3], l->surface[2][2], l->centre_loss);
    CHECK(l->surface_min >= l->centre_loss - 1e-6, "the plane's minimum %g is below the centre %g", l->surface_min,
          l->centre_loss);
    CHECK(l->surface_max > 2.0 * l->centre_loss, "a step of 1 per filter changes the loss little: %g", l->surface_max);
    CHECK(l->train_accuracy > 0.8, "train accuracy %g", l->train_accuracy);
    free(l);
}

static void resnet_without_skips_has_no_shortcuts(void) {
    ResnetConfig config;
    Error error;
    REQUIRE(resnet_config(&config, 1, 4, (int[]){1, 1}, 2, 10, &error) == 0, "%s", error.message);
    Resnet with, without;
    Random rng;
    random_seed(&rng, 1);
    REQUIRE(resnet_create(&with, &config, &rng, &error) == 0, "%s", error.message);
    config.no_skip = 1;
    random_seed(&rng, 1);
    REQUIRE(resnet_create(&without, &config, &rng, &error) == 0, "%s", error.message);
    CHECK(parameters_find(&with.params, "layer2.0.downsample.0.weight") != NULL, "the projection is there");
    CHECK(parameters_find(&without.params, "layer2.0.downsample.0.weight") == NULL, "no projection without skips");
    // the same input: the outputs differ (the shortcut is gone), both finite
    float image[2 * 28 * 28];
    for (int i = 0; i < 2 * 28 * 28; i++) image[i] = (float)((i * 37) % 101) / 100.0f;
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *x = tensor_from(&tape, image, 4, (int[]){2, 1, 28, 28});
    Tensor *a = resnet_forward(&tape, &with, x, 1), *b = resnet_forward(&tape, &without, x, 1);
    REQUIRE(a && b, "forward failed");
    double difference = 0.0;
    for (int i = 0; i < 20; i++) {
        CHECK(isfinite(a->data[i]) && isfinite(b->data[i]), "logit %d not finite", i);
        difference += fabs(a->data[i] - b->data[i]);
    }
    CHECK(difference > 1e-3, "the outputs are the same without skips");
    tape_free(&tape);
    resnet_free(&with), resnet_free(&without);
}

static void bad_landscape_setups_are_refused(void) {
    Landscape *l = malloc(sizeof *l);
    Error error;
    REQUIRE(l, "out of memory");
    LandscapeSetup s = small_setup();
    s.grid = 4;
    CHECK(explore_loss_landscape(&s, LANDSCAPE_MLP, l, &error) == -1 && strstr(error.message, "odd"), "grid 4: %s",
          error.message);
    s = small_setup(), s.span = -1.0;
    CHECK(explore_loss_landscape(&s, LANDSCAPE_MLP, l, &error) == -1 && strstr(error.message, "span"), "span -1: %s",
          error.message);
    s = small_setup(), s.n_eval = 600;
    CHECK(explore_loss_landscape(&s, LANDSCAPE_MLP, l, &error) == -1 && strstr(error.message, "evaluation"),
          "eval above train: %s", error.message);
    s = small_setup();
    CHECK(explore_loss_landscape(&s, (LandscapeModel)7, l, &error) == -1 && strstr(error.message, "model"),
          "model 7: %s", error.message);
    free(l);
}

static const CheckCase CASES[] = {
    {"filter normalisation matches each filter", filter_normalisation_matches_each_filter},
    {"trained mlp is the lowest point of its plane", trained_mlp_is_the_lowest_point_of_its_plane},
    {"resnet without skips has no shortcuts", resnet_without_skips_has_no_shortcuts},
    {"bad landscape setups are refused", bad_landscape_setups_are_refused},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
