// foundations/elementwise.h and losses.h by themselves: broadcasting plans and values, each
// pointwise function and loss against central finite differences, axis reductions, strided
// copies and their scatter.
#include <math.h>
#include <string.h>

#include "foundations/elementwise.h"
#include "foundations/gradcheck.h"
#include "foundations/losses.h"
#include "foundations/random.h"
#include "tests/check.h"

static void broadcast_plans(void) {
    Broadcast plan;
    int shape[ELEMENTWISE_MAX_DIMS], n_dims;
    CHECK(broadcast_plan(&plan, (int[]){2, 1, 4}, 3, (int[]){3, 1}, 2, shape, &n_dims) == 0, "(2,1,4) with (3,1)");
    CHECK(n_dims == 3 && shape[0] == 2 && shape[1] == 3 && shape[2] == 4 && plan.size == 24, "gives (2,3,4)");
    CHECK(!plan.same_shape, "broadcast, not the fast path");
    CHECK(broadcast_plan(&plan, (int[]){2, 3}, 2, (int[]){4}, 1, shape, &n_dims) != 0, "(2,3) with (4) fails");
    CHECK(broadcast_plan(&plan, (int[]){5}, 1, (int[]){5}, 1, shape, &n_dims) == 0 && plan.same_shape, "same shape");
    // values: (2,1) - (3) = [[10-1, 10-2, 10-3], [20-1, ...]]; gradients summed over repeats
    float a[2] = {10, 20}, b[3] = {1, 2, 3}, out[6], ones[6] = {1, 1, 1, 1, 1, 1}, d_a[2] = {0}, d_b[3] = {0};
    broadcast_plan(&plan, (int[]){2, 1}, 2, (int[]){3}, 1, shape, &n_dims);
    binary_forward(out, a, b, BINARY_SUB, &plan);
    float expected[6] = {9, 8, 7, 19, 18, 17};
    for (int i = 0; i < 6; i++) CHECK_NEAR(out[i], expected[i], 0.0);
    binary_backward(d_a, d_b, ones, a, b, BINARY_SUB, &plan);
    CHECK_NEAR(d_a[0], 3.0, 0.0);   // each a used 3 times
    CHECK_NEAR(d_b[2], -2.0, 0.0);  // each b used twice, with a minus
}

typedef struct PointwiseCase {
    PointwiseOp op;
    float alpha;
    float x[6];
    float proj[6];
} PointwiseCase;

static double pointwise_objective(void *context) {
    PointwiseCase *c = context;
    float y[6];
    pointwise_forward(y, c->x, 6, c->op, c->alpha);
    double sum = 0.0;
    for (int i = 0; i < 6; i++) sum += (double)c->proj[i] * y[i];
    return sum;
}

static void pointwise_against_finite_differences(void) {
    static const char *names[] = {"neg", "exp", "log", "sqrt", "abs", "pow", "leaky_relu", "softplus"};
    Random rng;
    random_seed(&rng, 3);
    for (int op = POINTWISE_NEG; op <= POINTWISE_SOFTPLUS; op++) {
        PointwiseCase c = {.op = (PointwiseOp)op, .alpha = op == POINTWISE_POW ? 2.5f : 0.1f};
        for (int i = 0; i < 6; i++) {
            float v = random_normal(&rng, 0.0f, 1.0f);
            c.x[i] = op == POINTWISE_LOG || op == POINTWISE_SQRT || op == POINTWISE_POW ? 0.5f + fabsf(v) : v + (v > 0 ? 0.2f : -0.2f);
            c.proj[i] = random_normal(&rng, 0.0f, 1.0f);
        }
        float y[6], d_x[6] = {0};
        pointwise_forward(y, c.x, 6, c.op, c.alpha);
        pointwise_backward(d_x, c.proj, c.x, y, 6, c.op, c.alpha);
        GradcheckResult r = gradcheck(pointwise_objective, &c, c.x, d_x, 6, 1e-2f, 1e-2);
        CHECK(r.max_rel_error < 5e-3, "%s: relative error %g", names[op], r.max_rel_error);
    }
    float x[2] = {-30.0f, 30.0f}, y[2];
    pointwise_forward(y, x, 2, POINTWISE_SOFTPLUS, 0.0f);
    CHECK(y[0] > 0.0f && y[0] < 1e-12f && y[1] == 30.0f, "softplus(-30) = %g, softplus(30) = %g", (double)y[0], (double)y[1]);
}

typedef struct LossCase {
    int kind;  // 0 smoothed cross-entropy, 1 nll, 2 mse, 3 bce
    float x[12], y[12];
    int targets[3];
} LossCase;

static double loss_objective(void *context) {
    LossCase *c = context;
    float losses[12], probs[12];
    int counted;
    switch (c->kind) {
    case 0: return cross_entropy_smoothed_forward(losses, probs, &counted, c->x, c->targets, 3, 4, -1, 0.3f);
    case 1: return nll_forward(losses, &counted, c->x, c->targets, 3, 4, -1);
    case 2: return mse_forward(losses, c->x, c->y, 12);
    default: return bce_with_logits_forward(losses, c->x, c->y, 12);
    }
}

static void losses_against_finite_differences(void) {
    static const char *names[] = {"cross_entropy smoothed", "nll", "mse", "bce_with_logits"};
    Random rng;
    random_seed(&rng, 4);
    for (int kind = 0; kind < 4; kind++) {
        LossCase c = {.kind = kind, .targets = {2, -1, 0}};  // row 1 ignored (ignore_index -1)
        random_fill_normal(&rng, c.x, 12, 0.0f, 1.0f);
        for (int i = 0; i < 12; i++) c.y[i] = random_uniform(&rng);
        float d_x[12] = {0}, d_y[12] = {0}, losses[12], probs[12];
        int counted;
        loss_objective(&c);
        switch (kind) {
        case 0:
            cross_entropy_smoothed_forward(losses, probs, &counted, c.x, c.targets, 3, 4, -1, 0.3f);
            CHECK(counted == 2, "ignored row counted");
            cross_entropy_smoothed_backward(d_x, probs, c.targets, 0.5f, 3, 4, -1, 0.3f);
            break;
        case 1: nll_backward(d_x, c.targets, 0.5f, 3, 4, -1); break;
        case 2: mse_backward(d_x, d_y, c.x, c.y, 1.0f / 12, 12); break;
        default: bce_with_logits_backward(d_x, d_y, c.x, c.y, 1.0f / 12, 12);
        }
        GradcheckResult r = gradcheck(loss_objective, &c, c.x, d_x, 12, 1e-2f, 1e-2);
        CHECK(r.max_rel_error < 5e-3, "%s: d_x relative error %g", names[kind], r.max_rel_error);
        if (kind >= 2) {
            r = gradcheck(loss_objective, &c, c.y, d_y, 12, 1e-2f, 1e-2);
            CHECK(r.max_rel_error < 5e-3, "%s: d_y relative error %g", names[kind], r.max_rel_error);
        }
    }
    float logit = 1e4f, target = 0.0f, loss;
    CHECK_NEAR(bce_with_logits_forward(&loss, &logit, &target, 1), 1e4, 1e-2);  // stable for large logits
}

static void reductions_and_strided_copies(void) {
    // x (2,3,2) = 0..11; sum over the middle axis; max and its index
    float x[12], sums[4], maxima[4], d_x[12] = {0}, g[4] = {1, 2, 3, 4};
    int argmax[4];
    for (int i = 0; i < 12; i++) x[i] = (float)i;
    x[2] = 50.0f;  // the maximum of column (0, 0) moves to row 1
    sum_axis_forward(sums, x, 2, 3, 2);
    CHECK_NEAR(sums[0], 0 + 50 + 4, 0.0);
    CHECK_NEAR(sums[3], 7 + 9 + 11, 0.0);
    max_axis_forward(maxima, argmax, x, 2, 3, 2);
    CHECK(argmax[0] == 1 && maxima[0] == 50.0f && argmax[3] == 2 && maxima[3] == 11.0f, "max and argmax");
    max_axis_backward(d_x, g, argmax, 2, 3, 2);
    CHECK(d_x[2] == 1.0f && d_x[0] == 0.0f && d_x[11] == 4.0f, "max's gradient goes to the maximum");
    // a transpose of (2,3) as a strided copy, and back with the scatter
    float m[6] = {1, 2, 3, 4, 5, 6}, t[6], back[6] = {0};
    int shape[5] = {1, 1, 1, 3, 2};
    long stride[5] = {0, 0, 0, 1, 3};
    strided_copy(t, m, shape, stride, 0);
    float expected[6] = {1, 4, 2, 5, 3, 6};
    for (int i = 0; i < 6; i++) CHECK_NEAR(t[i], expected[i], 0.0);
    strided_scatter_add(back, t, shape, stride);
    for (int i = 0; i < 6; i++) CHECK_NEAR(back[i], m[i], 0.0);
}

static const CheckCase CASES[] = {
    {"broadcasting plans and values", broadcast_plans},
    {"pointwise functions against finite differences", pointwise_against_finite_differences},
    {"losses against finite differences", losses_against_finite_differences},
    {"axis reductions and strided copies", reductions_and_strided_copies},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
