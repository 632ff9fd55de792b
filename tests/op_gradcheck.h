// The gradient check of an operation through the tape, shared by the operations' tests.
//
// Each case builds out = op(inputs) from parameters; the objective is f = Σ proj_i out_i with a
// fixed random proj, so the tape's backward of sum(out · proj) must equal the numerical
// gradient of f with respect to every input (central differences, foundations/gradcheck.h).
#ifndef TESTS_OP_GRADCHECK_H
#define TESTS_OP_GRADCHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/gradcheck.h"
#include "foundations/random.h"
#include "nn/ops.h"
#include "nn/tensor.h"
#include "tests/check.h"

enum { MAX_INPUTS = 3 };

typedef Tensor *(*Build)(Tape *tape, Tensor **in);

// How a case's inputs are drawn: normal, positive (log, sqrt, pow, div's denominator), or
// normal but away from 0 (abs, relu: kinks), or spaced: a shuffled ladder of values 0.05 apart
// (max pooling: no two within a finite-difference step of each other).
typedef enum { NORMAL, POSITIVE, AWAY_FROM_ZERO, SPACED } Draw;

typedef struct Case {
    const char *name;
    Build build;
    int n_inputs;
    int n_dims[MAX_INPUTS];
    int shape[MAX_INPUTS][NN_MAX_DIMS];
    Draw draw[MAX_INPUTS];
} Case;

typedef struct Context {
    const Case *c;
    Tensor inputs[MAX_INPUTS];
    float *proj;
    long n_out;
    Tape tape;
} Context;

// f = Σ proj · out, evaluated without recording.
static double objective(void *pointer) {
    Context *ctx = pointer;
    tape_reset(&ctx->tape);
    ctx->tape.recording = 0;
    Tensor *in[MAX_INPUTS] = {&ctx->inputs[0], &ctx->inputs[1], &ctx->inputs[2]};
    Tensor *out = ctx->c->build(&ctx->tape, in);
    ctx->tape.recording = 1;
    if (!out) return NAN;
    double sum = 0.0;
    for (long i = 0; i < out->size; i++) sum += (double)ctx->proj[i] * out->data[i];
    return sum;
}

static void check_case(const Case *c, Random *rng) {
    Context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.c = c;
    tape_init(&ctx.tape);
    Error error;
    for (int i = 0; i < c->n_inputs; i++) {
        CHECK(tensor_parameter(&ctx.inputs[i], c->n_dims[i], c->shape[i], &error) == 0, "%s", error.message);
        Tensor *t = &ctx.inputs[i];
        for (long j = 0; j < t->size; j++) {
            float v = random_normal(rng, 0.0f, 1.0f);
            if (c->draw[i] == POSITIVE) v = 0.5f + fabsf(v);
            if (c->draw[i] == AWAY_FROM_ZERO) v += v > 0 ? 0.2f : -0.2f;
            t->data[j] = v;
        }
        if (c->draw[i] == SPACED) {  // 0.05·(j − size/2), shuffled (Fisher–Yates)
            for (long j = 0; j < t->size; j++) t->data[j] = 0.05f * (float)(j - t->size / 2);
            for (long j = t->size - 1; j > 0; j--) {
                long k = (long)random_below(rng, (uint32_t)(j + 1));
                float swap = t->data[j];
                t->data[j] = t->data[k], t->data[k] = swap;
            }
        }
    }
    // The analytic gradient: backward of sum(out · proj).
    Tensor *in[MAX_INPUTS] = {&ctx.inputs[0], &ctx.inputs[1], &ctx.inputs[2]};
    Tensor *out = c->build(&ctx.tape, in);
    CHECK(out != NULL, "%s: forward failed: %s", c->name, ctx.tape.error.message);
    if (!out) return;
    ctx.proj = malloc(sizeof(float) * (size_t)out->size);
    random_fill_normal(rng, ctx.proj, out->size, 0.0f, 1.0f);
    Tensor *proj = tensor_from(&ctx.tape, ctx.proj, out->n_dims, out->shape);
    Tensor *loss = nn_sum(&ctx.tape, nn_mul(&ctx.tape, out, proj), NULL, 0, 0);
    CHECK(tape_backward(&ctx.tape, loss, &error) == 0, "%s: backward: %s", c->name, error.message);
    for (int i = 0; i < c->n_inputs; i++) {
        Tensor *t = &ctx.inputs[i];
        float *analytic = malloc(sizeof(float) * (size_t)t->size);
        memcpy(analytic, t->grad, sizeof(float) * (size_t)t->size);
        GradcheckResult r = gradcheck(objective, &ctx, t->data, analytic, t->size, 1e-2f, 1e-2);
        CHECK(r.max_rel_error < 5e-3, "%s: input %d: relative error %g at %ld (abs %g)", c->name, i, r.max_rel_error,
              r.worst_index, r.max_abs_error);
        free(analytic);
    }
    for (int i = 0; i < c->n_inputs; i++) tensor_parameter_free(&ctx.inputs[i]);
    free(ctx.proj);
    tape_free(&ctx.tape);
}

#endif
