// XOR with the 2-2-1 network (models/xor.c): trained from scratch it classifies the four points
// (seed 1), and the decision-boundary SVG has its grid, a boundary and the points; a single
// linear layer cannot (the four points are not linearly separable: its best loss stays log 2).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/xor.h"
#include "nn/optim.h"
#include "tests/check.h"

// The best a logistic regression (no hidden layer) does on XOR: p = 1/2 everywhere.
static double linear_model_loss(void) {
    Error error;
    Random rng;
    random_seed(&rng, 1);
    Parameters params = {0};
    Linear fc;
    linear_init(&fc, &params, "fc", 2, 1, 1, &rng, &error);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    ParamOptimizer optimizer;
    param_optimizer_init(&optimizer, &params, &group, 1, NULL, &error);
    Tape tape;
    tape_init(&tape);
    double loss_value = 0.0;
    for (int step = 0; step < 2000; step++) {
        tape_reset(&tape);
        Tensor *x = tensor_from(&tape, (float[]){0, 0, 0, 1, 1, 0, 1, 1}, 2, (int[]){4, 2});
        Tensor *y = tensor_from(&tape, (float[]){0, 1, 1, 0}, 2, (int[]){4, 1});
        Tensor *loss = nn_bce_with_logits(&tape, linear_apply(&tape, &fc, x), y);
        parameters_zero_grad(&params);
        tape_backward(&tape, loss, &error);
        param_optimizer_step(&optimizer, 0.05f);
        loss_value = loss->data[0];
    }
    tape_free(&tape);
    param_optimizer_free(&optimizer);
    parameters_free(&params);
    return loss_value;
}

static void xor_solved_and_drawn(void) {
    Error error;
    XorNet net;
    XorResult result;
    CHECK(xor_train(&net, 1, 1000, 0.05f, &result, &error) == 0, "%s", error.message);
    CHECK(result.solved && result.steps_to_solve > 0, "seed 1 does not solve XOR (loss %g)", (double)result.final_loss);
    float expected[4] = {0, 1, 1, 0}, corners[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(xor_probability(&net, corners[i][0], corners[i][1]), expected[i], 0.1);
    const char *path = check_path("xor.svg");
    CHECK(xor_write_svg(&net, path, &error) == 0, "%s", error.message);
    FILE *file = fopen(path, "r");
    int cells = 0, points = 0, boundary = 0;
    char line[512];
    while (file && fgets(line, sizeof line, file)) {
        cells += strstr(line, "class=\"cell\"") != NULL;
        points += strstr(line, "class=\"point\"") != NULL;
        boundary += strstr(line, "fill=\"rgb(0,0,0)\"") != NULL;
    }
    if (file) fclose(file);
    CHECK(cells == 3600 && points == 4, "SVG: %d cells, %d points", cells, points);
    CHECK(boundary > 60, "SVG: only %d boundary cells", boundary);  // two lines across a 60x60 grid
    xor_free(&net);
}

static void no_hidden_layer_stays_at_log_2(void) { CHECK_NEAR(linear_model_loss(), log(2.0), 1e-3); }

static const CheckCase CASES[] = {
    {"2-2-1 solves XOR and draws its boundary", xor_solved_and_drawn},
    {"a linear model cannot: loss log 2", no_hidden_layer_stays_at_log_2},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
