// XOR with the smallest network: see xor.h.
#include "models/xor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "foundations/file.h"
#include "nn/optim.h"

static const float POINTS[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
static const float LABELS[4] = {0, 1, 1, 0};

// logits (n, 1) of points (n, 2)
static Tensor *xor_forward(Tape *tape, const XorNet *net, Tensor *points) {
    return linear_apply(tape, &net->fc2, nn_tanh(tape, linear_apply(tape, &net->fc1, points)));
}

int xor_train(XorNet *net, unsigned long long seed, int steps, float lr, XorResult *result, Error *error) {
    memset(net, 0, sizeof *net);
    memset(result, 0, sizeof *result);
    result->steps_to_solve = -1;
    if (steps < 1 || !(lr > 0.0f)) return error_set(error, "xor: %d steps at lr %g", steps, (double)lr);
    Random rng;
    random_seed(&rng, seed);
    if (linear_init(&net->fc1, &net->params, "fc1", 2, 2, 1, &rng, error) ||
        linear_init(&net->fc2, &net->params, "fc2", 2, 1, 1, &rng, error)) {
        xor_free(net);
        return -1;
    }
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, &net->params, &group, 1, NULL, error)) {
        xor_free(net);
        return -1;
    }
    Tape tape;
    tape_init(&tape);
    int status = 0;
    for (int step = 0; step < steps; step++) {
        tape_reset(&tape);
        Tensor *points = tensor_from(&tape, &POINTS[0][0], 2, (int[]){4, 2});
        Tensor *labels = tensor_from(&tape, LABELS, 2, (int[]){4, 1});
        Tensor *logits = xor_forward(&tape, net, points);
        Tensor *loss = nn_bce_with_logits(&tape, logits, labels);
        parameters_zero_grad(&net->params);
        if (!loss || tape_backward(&tape, loss, error)) {
            status = loss ? -1 : tape_error(&tape, error);
            break;
        }
        int solved = 1;
        for (int i = 0; i < 4; i++) {
            float p = 1.0f / (1.0f + expf(-logits->data[i]));
            result->probabilities[i] = p;
            solved &= LABELS[i] > 0.5f ? p > 0.9f : p < 0.1f;
        }
        if (solved && result->steps_to_solve < 0) result->steps_to_solve = step;
        if (!solved) result->steps_to_solve = -1;
        result->solved = solved;
        result->final_loss = loss->data[0];
        param_optimizer_step(&optimizer, lr);
    }
    param_optimizer_free(&optimizer);
    tape_free(&tape);
    if (status) xor_free(net);
    return status;
}

void xor_free(XorNet *net) {
    parameters_free(&net->params);
    memset(net, 0, sizeof *net);
}

float xor_probability(const XorNet *net, float x, float y) {
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *logit = xor_forward(&tape, net, tensor_from(&tape, (float[]){x, y}, 2, (int[]){1, 2}));
    float p = logit ? 1.0f / (1.0f + expf(-logit->data[0])) : NAN;
    tape_free(&tape);
    return p;
}

// A colour from blue (p = 0) through white to red (p = 1).
static void colour(float p, int *r, int *g, int *b) {
    float t = fminf(fmaxf(p, 0.0f), 1.0f);
    *r = t < 0.5f ? (int)(255 * 2 * t) : 255;
    *b = t < 0.5f ? 255 : (int)(255 * 2 * (1 - t));
    *g = t < 0.5f ? (int)(255 * 2 * t) : (int)(255 * 2 * (1 - t));
}

// p at the centres of a grid of (cells + 1)² cells over [low, high]², row 0 at the top (y = high):
// one batched forward. probs ((cells + 1)²) is the caller's.
static int grid_probabilities(const XorNet *net, int cells, float low, float high, float *probs, Error *error) {
    int n = (cells + 1) * (cells + 1);
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *points = tensor_new(&tape, 2, (int[]){n, 2});
    for (int i = 0; points && i <= cells; i++)
        for (int j = 0; j <= cells; j++) {
            points->data[2 * (i * (cells + 1) + j)] = low + (high - low) * (j + 0.5f) / cells;
            points->data[2 * (i * (cells + 1) + j) + 1] = high - (high - low) * (i + 0.5f) / cells;
        }
    Tensor *p = nn_sigmoid(&tape, xor_forward(&tape, net, points));
    int status = p ? 0 : tape_error(&tape, error);
    if (p) memcpy(probs, p->data, sizeof(float) * (size_t)n);
    tape_free(&tape);
    return status;
}

int xor_write_svg(const XorNet *net, const char *path, Error *error) {
    enum { CELLS = 60, SIZE = 480, MARGIN = 40 };
    const float low = -0.5f, high = 1.5f, cell = (float)SIZE / CELLS;
    float probs[(CELLS + 1) * (CELLS + 1)];
    if (grid_probabilities(net, CELLS, low, high, probs, error)) return -1;
    SafeFile file;
    if (safe_file_open(&file, path, error)) return -1;
    FILE *f = file.file;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n",
            SIZE + 2 * MARGIN, SIZE + 2 * MARGIN);
    fprintf(f, "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">XOR, 2-2-1 tanh network: "
               "p(class 1) from blue (0) to red (1), p = 0.5 outlined</text>\n", SIZE / 2 + MARGIN);
    for (int i = 0; i < CELLS; i++)  // rows from the top: y from high to low
        for (int j = 0; j < CELLS; j++) {
            float p = probs[i * (CELLS + 1) + j], right = probs[i * (CELLS + 1) + j + 1];
            float below = probs[(i + 1) * (CELLS + 1) + j];
            int r, g, b;
            colour(p, &r, &g, &b);
            // cells where p crosses 0.5 against the right or lower neighbour are the boundary
            if ((p - 0.5f) * (right - 0.5f) <= 0 || (p - 0.5f) * (below - 0.5f) <= 0) r = g = b = 0;
            fprintf(f, "<rect class=\"cell\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.2f\" fill=\"rgb(%d,%d,%d)\" "
                       "data-p=\"%.3f\"/>\n",
                    MARGIN + j * cell, MARGIN + i * cell, cell + 0.2, cell + 0.2, r, g, b, p);
        }
    // the four training points: filled red for class 1, blue for class 0, and the axes' ticks
    for (int k = 0; k < 4; k++) {
        float px = MARGIN + (POINTS[k][0] - low) / (high - low) * SIZE, py = MARGIN + (high - POINTS[k][1]) / (high - low) * SIZE;
        fprintf(f, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"%s\" stroke=\"black\" stroke-width=\"2\"/>\n",
                px, py, LABELS[k] > 0.5f ? "#c00000" : "#0030c0");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\">(%g,%g) → %g</text>\n", px + 12, py - 10, POINTS[k][0],
                POINTS[k][1], LABELS[k]);
    }
    for (int v = 0; v <= 1; v++) {
        float at = MARGIN + (v - low) / (high - low) * SIZE;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">x₁ = %d</text>\n", at, SIZE + MARGIN + 18, v);
        fprintf(f, "<text x=\"4\" y=\"%.1f\" font-size=\"13\">x₂ = %d</text>\n", MARGIN + SIZE - (at - MARGIN), v);
    }
    fprintf(f, "</svg>\n");
    return safe_file_commit(&file, error);
}
