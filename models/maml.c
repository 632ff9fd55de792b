// MAML and first-order MAML on sine-wave regression (see maml.h for the paper, the objective
// and what is simplified): the tasks, the 1-H-H-1 network with its gradient and exact
// Hessian-vector product, the meta-gradient, meta-training and the held-out evaluation.
#include "models/maml.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/layers.h"
#include "foundations/optimizer.h"

SineTask sine_task_sample(Random *rng) {
    SineTask task;
    task.amplitude = SINE_AMPLITUDE_MIN + (SINE_AMPLITUDE_MAX - SINE_AMPLITUDE_MIN) * random_uniform(rng);
    task.phase = SINE_PHASE_MAX * random_uniform(rng);
    return task;
}

float sine_task_value(SineTask task, float x) { return task.amplitude * sinf(x - task.phase); }

void sine_task_points(SineTask task, Random *rng, int n, float *x, float *y) {
    for (int i = 0; i < n; i++) {
        x[i] = SINE_X_MIN + (SINE_X_MAX - SINE_X_MIN) * random_uniform(rng);
        y[i] = sine_task_value(task, x[i]);
    }
}

// ---------------------------------------------------------------------------------------
// The network

long sine_net_size(int hidden) { return 1 + (long)hidden * (hidden + 4); }

// Pointers to the six tensors of a flat vector laid out as in maml.h.
typedef struct SineNetView {
    float *w1, *b1, *w2, *b2, *w3, *b3;
} SineNetView;

static SineNetView view_of(const float *params, int hidden) {
    long H = hidden;
    float *p = (float *)params;
    SineNetView view = {p, p + H, p + 2 * H, p + 2 * H + H * H, p + 3 * H + H * H, p + 4 * H + H * H};
    return view;
}

int sine_net_tensor(int hidden, int i, const char **name, int *ndim, int shape[2], long *offset) {
    static const char *const names[6] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"};
    const int shapes[6][3] = {{2, hidden, 1}, {1, hidden, 0}, {2, hidden, hidden},
                              {1, hidden, 0}, {2, 1, hidden}, {1, 1, 0}};
    if (i < 0 || i >= 6) return -1;
    long at = 0;
    for (int j = 0; j < i; j++) at += (long)shapes[j][1] * (shapes[j][0] == 2 ? shapes[j][2] : 1);
    *name = names[i];
    *ndim = shapes[i][0];
    shape[0] = shapes[i][1];
    shape[1] = shapes[i][2];
    *offset = at;
    return 0;
}

void sine_net_init(float *params, int hidden, Random *rng) {
    SineNetView net = view_of(params, hidden);
    float bound1 = 1.0f, bound = 1.0f / sqrtf((float)hidden);  // fan_in 1, then H
    long H = hidden;
    for (long i = 0; i < H; i++) net.w1[i] = bound1 * (2.0f * random_uniform(rng) - 1.0f);
    for (long i = 0; i < H; i++) net.b1[i] = bound1 * (2.0f * random_uniform(rng) - 1.0f);
    for (long i = 0; i < H * H; i++) net.w2[i] = bound * (2.0f * random_uniform(rng) - 1.0f);
    for (long i = 0; i < H; i++) net.b2[i] = bound * (2.0f * random_uniform(rng) - 1.0f);
    for (long i = 0; i < H; i++) net.w3[i] = bound * (2.0f * random_uniform(rng) - 1.0f);
    net.b3[0] = bound * (2.0f * random_uniform(rng) - 1.0f);
}

int sine_net_work_init(SineNetWork *work, int hidden, int capacity, Error *error) {
    memset(work, 0, sizeof *work);
    if (hidden < 1 || capacity < 1) return error_set(error, "sine net: hidden units and points must be positive");
    work->hidden = hidden;
    work->capacity = capacity;
    size_t layer = (size_t)capacity * (size_t)hidden;
    float **layers[] = {&work->a1,  &work->h1,  &work->a2,  &work->h2,   &work->da1,  &work->da2,
                        &work->dh1, &work->dh2, &work->ra1, &work->ra2,  &work->rh1,  &work->rh2,
                        &work->rda2, &work->rdh1, &work->rdh2, &work->tmp};
    float **columns[] = {&work->out, &work->d_out, &work->r_out, &work->r_d_out};
    int failed = 0;
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) failed |= !(*layers[i] = malloc(sizeof(float) * layer));
    for (size_t i = 0; i < 4; i++) failed |= !(*columns[i] = malloc(sizeof(float) * (size_t)capacity));
    failed |= !(work->gradient = malloc(sizeof(float) * (size_t)sine_net_size(hidden)));
    if (failed) {
        sine_net_work_free(work);
        return error_set(error, "sine net: out of memory for %d points", capacity);
    }
    return 0;
}

void sine_net_work_free(SineNetWork *work) {
    float *buffers[] = {work->a1,  work->h1,  work->a2,   work->h2,   work->da1,  work->da2, work->dh1,
                        work->dh2, work->ra1, work->ra2,  work->rh1,  work->rh2,  work->rda2, work->rdh1,
                        work->rdh2, work->tmp, work->out, work->d_out, work->r_out, work->r_d_out, work->gradient};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++) free(buffers[i]);
    memset(work, 0, sizeof *work);
}

// The forward pass into work's caches: a1 = x w1ᵀ + b1, h1 = relu(a1), a2 = h1 w2ᵀ + b2,
// h2 = relu(a2), out = h2 w3ᵀ + b3.
static void forward_cached(SineNetWork *work, const float *params, const float *x, int n) {
    int H = work->hidden;
    SineNetView net = view_of(params, H);
    linear_forward(work->a1, x, net.w1, net.b1, n, 1, H);
    relu_forward(work->h1, work->a1, (long)n * H);
    linear_forward(work->a2, work->h1, net.w2, net.b2, n, H, H);
    relu_forward(work->h2, work->a2, (long)n * H);
    linear_forward(work->out, work->h2, net.w3, net.b3, n, H, 1);
}

void sine_net_forward(SineNetWork *work, const float *params, const float *x, int n, float *y) {
    forward_cached(work, params, x, n);
    memcpy(y, work->out, sizeof(float) * (size_t)n);
}

float sine_net_loss_gradient(SineNetWork *work, const float *params, const float *x, const float *t, int n,
                             float *grad) {
    int H = work->hidden;
    long NH = (long)n * H;
    SineNetView net = view_of(params, H), d = view_of(grad, H);
    forward_cached(work, params, x, n);
    double loss = 0.0;
    for (int i = 0; i < n; i++) {
        float e = work->out[i] - t[i];
        loss += (double)e * e;
        work->d_out[i] = 2.0f * e / (float)n;  // ∂L/∂out
    }
    memset(grad, 0, sizeof(float) * (size_t)sine_net_size(H));
    memset(work->dh2, 0, sizeof(float) * (size_t)NH);
    memset(work->da2, 0, sizeof(float) * (size_t)NH);
    memset(work->dh1, 0, sizeof(float) * (size_t)NH);
    memset(work->da1, 0, sizeof(float) * (size_t)NH);
    linear_backward(work->dh2, d.w3, d.b3, work->d_out, work->h2, net.w3, n, H, 1);
    relu_backward(work->da2, work->dh2, work->a2, NH);
    linear_backward(work->dh1, d.w2, d.b2, work->da2, work->h1, net.w2, n, H, H);
    relu_backward(work->da1, work->dh1, work->a1, NH);
    linear_backward(NULL, d.w1, d.b1, work->da1, x, net.w1, n, 1, H);
    return (float)(loss / n);
}

// R{out} for direction v after a forward and backward at params: with R{θ} = v,
//   R{a1} = x v1ᵀ + c1,  R{h1} = relu'(a1) ⊙ R{a1},
//   R{a2} = R{h1} w2ᵀ + h1 v2ᵀ + c2,  R{h2} = relu'(a2) ⊙ R{a2},
//   R{out} = R{h2} w3ᵀ + h2 v3ᵀ + c3      (v1, c1, … the parts of v as w1, b1, …).
static void r_forward(SineNetWork *work, const SineNetView *net, const SineNetView *v, const float *x, int n) {
    int H = work->hidden;
    long NH = (long)n * H;
    linear_forward(work->ra1, x, v->w1, v->b1, n, 1, H);
    memset(work->rh1, 0, sizeof(float) * (size_t)NH);
    relu_backward(work->rh1, work->ra1, work->a1, NH);  // relu'(a1) ⊙ R{a1}
    linear_forward(work->ra2, work->rh1, net->w2, v->b2, n, H, H);
    linear_forward(work->tmp, work->h1, v->w2, NULL, n, H, H);
    for (long i = 0; i < NH; i++) work->ra2[i] += work->tmp[i];
    memset(work->rh2, 0, sizeof(float) * (size_t)NH);
    relu_backward(work->rh2, work->ra2, work->a2, NH);
    linear_forward(work->r_out, work->rh2, net->w3, v->b3, n, H, 1);
    linear_forward(work->tmp, work->h2, v->w3, NULL, n, H, 1);
    for (int i = 0; i < n; i++) work->r_out[i] += work->tmp[i];
}

// The backward pass differentiated in direction v: each product rule of the backward,
//   dh2 = d_out w3           ->  R{dh2} = R{d_out} w3 + d_out v3
//   ∂w3 = d_outᵀ h2          ->  R{∂w3} = R{d_out}ᵀ h2 + d_outᵀ R{h2}
// and so on down; the ReLU masks are constants (relu'' = 0), R{d_out} = 2/n R{out}.
void sine_net_hessian_vector(SineNetWork *work, const float *params, const float *x, const float *t, int n,
                             const float *v, float *hv) {
    int H = work->hidden;
    long NH = (long)n * H;
    sine_net_loss_gradient(work, params, x, t, n, work->gradient);  // caches a, h, d_out, da
    SineNetView net = view_of(params, H), dir = view_of(v, H), r = view_of(hv, H);
    r_forward(work, &net, &dir, x, n);
    for (int i = 0; i < n; i++) work->r_d_out[i] = 2.0f * work->r_out[i] / (float)n;
    memset(hv, 0, sizeof(float) * (size_t)sine_net_size(H));
    memset(work->rdh2, 0, sizeof(float) * (size_t)NH);
    memset(work->rda2, 0, sizeof(float) * (size_t)NH);
    memset(work->rdh1, 0, sizeof(float) * (size_t)NH);
    linear_backward(work->rdh2, r.w3, r.b3, work->r_d_out, work->h2, net.w3, n, H, 1);
    linear_backward(work->rdh2, r.w3, NULL, work->d_out, work->rh2, dir.w3, n, H, 1);
    relu_backward(work->rda2, work->rdh2, work->a2, NH);
    linear_backward(work->rdh1, r.w2, r.b2, work->rda2, work->h1, net.w2, n, H, H);
    linear_backward(work->rdh1, r.w2, NULL, work->da2, work->rh1, dir.w2, n, H, H);
    memset(work->tmp, 0, sizeof(float) * (size_t)NH);  // R{da1}
    relu_backward(work->tmp, work->rdh1, work->a1, NH);
    linear_backward(NULL, r.w1, r.b1, work->tmp, x, net.w1, n, 1, H);  // R{x} = 0
}

// ---------------------------------------------------------------------------------------
// Meta-gradient

const char *maml_method_name(MamlMethod method) {
    return method == MAML_FIRST_ORDER ? "fomaml" : method == MAML_SECOND_ORDER ? "maml" : "pretrained";
}

int maml_method_parse(const char *name, MamlMethod *method, Error *error) {
    for (int m = 0; m < N_MAML_METHODS; m++)
        if (!strcmp(name, maml_method_name((MamlMethod)m))) {
            *method = (MamlMethod)m;
            return 0;
        }
    return error_set(error, "unknown method '%s' (fomaml, maml or pretrained)", name);
}

void maml_adapt(SineNetWork *work, const float *params, const float *x, const float *t, int n, int steps, float lr,
                float *adapted, float *path) {
    long size = sine_net_size(work->hidden);
    if (adapted != params) memcpy(adapted, params, sizeof(float) * (size_t)size);
    for (int s = 0; s < steps; s++) {
        if (path) memcpy(path + s * size, adapted, sizeof(float) * (size_t)size);
        sine_net_loss_gradient(work, adapted, x, t, n, work->gradient);
        for (long i = 0; i < size; i++) adapted[i] -= lr * work->gradient[i];
    }
}

size_t maml_scratch_size(int hidden, int steps, int shots) {
    size_t chain = ((size_t)steps + 2) * (size_t)sine_net_size(hidden), joint = 4 * (size_t)shots;
    return chain > joint ? chain : joint;
}

float maml_task_gradient(MamlMethod method, SineNetWork *work, const float *params, const float *support_x,
                         const float *support_t, const float *query_x, const float *query_t, int shots, int steps,
                         float lr, float *grad, float *scratch) {
    long size = sine_net_size(work->hidden);
    if (method == MAML_PRETRAINED) {
        // Both point sets as one regression set (they are adjacent in scratch).
        memcpy(scratch, support_x, sizeof(float) * (size_t)shots);
        memcpy(scratch + shots, query_x, sizeof(float) * (size_t)shots);
        memcpy(scratch + 2 * shots, support_t, sizeof(float) * (size_t)shots);
        memcpy(scratch + 3 * shots, query_t, sizeof(float) * (size_t)shots);
        return sine_net_loss_gradient(work, params, scratch, scratch + 2 * shots, 2 * shots, grad);
    }
    float *adapted = scratch, *hv = scratch + size, *path = scratch + 2 * size;
    maml_adapt(work, params, support_x, support_t, shots, steps, lr, adapted, method == MAML_SECOND_ORDER ? path : NULL);
    float loss = sine_net_loss_gradient(work, adapted, query_x, query_t, shots, grad);
    if (method == MAML_SECOND_ORDER) {
        for (int s = steps - 1; s >= 0; s--) {  // g ← (I − α∇²L^s(θ_s)) g
            sine_net_hessian_vector(work, path + s * size, support_x, support_t, shots, grad, hv);
            for (long i = 0; i < size; i++) grad[i] -= lr * hv[i];
        }
    }
    return loss;
}

// ---------------------------------------------------------------------------------------
// Meta-training

MamlConfig maml_default_config(MamlMethod method) {
    MamlConfig config = {method, 40, 10, 25, 1, 0.01f, 0.001f, 0, 1};
    return config;
}

static int rate_ok(float lr) { return lr > 0.0f && isfinite(lr); }

int maml_config_check(const MamlConfig *config, Error *error) {
    if ((unsigned)config->method >= N_MAML_METHODS) return error_set(error, "maml: unknown method %d", config->method);
    if (config->hidden < 1 || config->hidden > 1000) return error_set(error, "maml: hidden units must be in 1..1000");
    if (config->shots < 1 || config->shots > 10000) return error_set(error, "maml: shots must be in 1..10000");
    if (config->meta_batch < 1 || config->meta_batch > 100000)
        return error_set(error, "maml: the meta-batch must have 1..100000 tasks");
    if (config->inner_steps < 1 || config->inner_steps > 1000) return error_set(error, "maml: inner steps must be in 1..1000");
    if (!rate_ok(config->inner_lr) || !rate_ok(config->outer_lr))
        return error_set(error, "maml: learning rates must be positive and finite");
    if (config->meta_steps < 1) return error_set(error, "maml: meta-steps must be at least 1");
    return 0;
}

// Per-thread buffers and per-task results of meta-training.
typedef struct MetaBatch {
    int threads;
    SineNetWork *works;  // (threads)
    size_t scratch_size; // maml_scratch_size
    float *scratch;      // (threads, scratch_size)
    float *grads;        // (tasks, n_params)
    float *losses;       // (tasks)
    float *data;         // (tasks, 4, shots): support x, t, query x, t
} MetaBatch;

static void meta_batch_free(MetaBatch *batch) {
    for (int i = 0; batch->works && i < batch->threads; i++) sine_net_work_free(&batch->works[i]);
    free(batch->works), free(batch->scratch), free(batch->grads), free(batch->losses), free(batch->data);
    memset(batch, 0, sizeof *batch);
}

static int meta_batch_init(MetaBatch *batch, const MamlConfig *config, Error *error) {
    memset(batch, 0, sizeof *batch);
    size_t size = (size_t)sine_net_size(config->hidden), tasks = (size_t)config->meta_batch;
    batch->threads = omp_get_max_threads();
    batch->works = calloc((size_t)batch->threads, sizeof *batch->works);
    batch->scratch_size = maml_scratch_size(config->hidden, config->inner_steps, config->shots);
    batch->scratch = malloc(sizeof(float) * (size_t)batch->threads * batch->scratch_size);
    batch->grads = malloc(sizeof(float) * tasks * size);
    batch->losses = malloc(sizeof(float) * tasks);
    batch->data = malloc(sizeof(float) * tasks * 4 * (size_t)config->shots);
    if (!batch->works || !batch->scratch || !batch->grads || !batch->losses || !batch->data) {
        meta_batch_free(batch);
        return error_set(error, "maml: out of memory for a meta-batch of %d tasks", config->meta_batch);
    }
    for (int i = 0; i < batch->threads; i++)
        if (sine_net_work_init(&batch->works[i], config->hidden, 2 * config->shots, error)) {
            meta_batch_free(batch);
            return -1;
        }
    return 0;
}

// One outer step's mean gradient into grad over freshly drawn tasks; returns the mean loss.
// Tasks are drawn serially (so from the seed alone) and their gradients summed in task order.
static float meta_gradient(const MamlConfig *config, MetaBatch *batch, const float *params, Random *rng, float *grad) {
    int K = config->shots, B = config->meta_batch;
    long size = sine_net_size(config->hidden);
    for (int b = 0; b < B; b++) {
        float *d = batch->data + (size_t)b * 4 * K;
        SineTask task = sine_task_sample(rng);
        sine_task_points(task, rng, K, d, d + K);
        sine_task_points(task, rng, K, d + 2 * K, d + 3 * K);
    }
#pragma omp parallel for schedule(dynamic)
    for (int b = 0; b < B; b++) {
        int thread = omp_get_thread_num();
        const float *d = batch->data + (size_t)b * 4 * K;
        float *scratch = batch->scratch + (size_t)thread * batch->scratch_size;
        batch->losses[b] = maml_task_gradient(config->method, &batch->works[thread], params, d, d + K, d + 2 * K,
                                              d + 3 * K, K, config->inner_steps, config->inner_lr,
                                              batch->grads + (size_t)b * (size_t)size, scratch);
    }
    double loss = 0.0;
    memset(grad, 0, sizeof(float) * (size_t)size);
    for (int b = 0; b < B; b++) {
        const float *g = batch->grads + (size_t)b * (size_t)size;
        for (long i = 0; i < size; i++) grad[i] += g[i] / (float)B;
        loss += batch->losses[b];
    }
    return (float)(loss / B);
}

int maml_train(const MamlConfig *config, float *params, MamlProgress progress, void *context, float *final_loss,
               Error *error) {
    if (maml_config_check(config, error)) return -1;
    long size = sine_net_size(config->hidden);
    MetaBatch batch;
    if (meta_batch_init(&batch, config, error)) return -1;
    float *grad = malloc(sizeof(float) * (size_t)size);
    Optimizer adam = {0};
    OptimizerConfig adam_config = optimizer_default_config(OPTIMIZER_ADAM);
    if (!grad || optimizer_init(&adam, &adam_config, size, error)) {
        free(grad);
        meta_batch_free(&batch);
        return grad ? -1 : error_set(error, "maml: out of memory");
    }
    Random rng;
    random_seed(&rng, config->seed);
    double recent = 0.0;
    int status = 0;
    for (long step = 1; step <= config->meta_steps; step++) {
        float loss = meta_gradient(config, &batch, params, &rng, grad);
        if (!isfinite(loss)) {
            status = error_set(error, "maml: the %s loss is not finite at meta-step %ld", maml_method_name(config->method), step);
            break;
        }
        optimizer_step(&adam, params, grad, size, config->outer_lr);
        recent = step <= config->meta_steps - 100 ? 0.0 : recent + loss;
        if (progress && (step % 100 == 0 || step == config->meta_steps)) progress(context, step, loss);
    }
    long tail = config->meta_steps < 100 ? config->meta_steps : 100;
    if (final_loss) *final_loss = (float)(recent / (double)tail);
    optimizer_free(&adam);
    free(grad);
    meta_batch_free(&batch);
    return status;
}

// ---------------------------------------------------------------------------------------
// Held-out evaluation

// One task's curve (steps + 1) of MSE on the grid while SGD adapts on the shots.
static void evaluate_task(SineNetWork *work, const float *params, const MamlEvaluation *evaluation, SineTask task,
                          const float *shots_x, const float *shots_t, const float *grid_x, float *adapted,
                          float *prediction, double *curve) {
    long size = sine_net_size(work->hidden);
    memcpy(adapted, params, sizeof(float) * (size_t)size);
    for (int s = 0; s <= evaluation->steps; s++) {
        if (s > 0) maml_adapt(work, adapted, shots_x, shots_t, evaluation->shots, 1, evaluation->lr, adapted, NULL);
        sine_net_forward(work, adapted, grid_x, evaluation->points, prediction);
        double sum = 0.0;
        for (int i = 0; i < evaluation->points; i++) {
            double e = (double)prediction[i] - sine_task_value(task, grid_x[i]);
            sum += e * e;
        }
        curve[s] = sum / evaluation->points;
    }
}

int maml_evaluate(const float *params, int hidden, const MamlEvaluation *evaluation, double *mse, Error *error) {
    const MamlEvaluation *e = evaluation;
    if (hidden < 1 || e->tasks < 1 || e->shots < 1 || e->points < 1 || e->steps < 0 || e->shots > 10000 ||
        e->points > 100000 || !rate_ok(e->lr))
        return error_set(error, "maml evaluation: tasks, shots and points must be positive, steps >= 0, lr positive");
    long size = sine_net_size(hidden);
    int threads = omp_get_max_threads(), capacity = e->shots > e->points ? e->shots : e->points, failed = 0;
    SineNetWork *works = calloc((size_t)threads, sizeof *works);
    float *buffers = malloc(sizeof(float) * (size_t)threads * ((size_t)size + (size_t)e->points));
    float *data = malloc(sizeof(float) * ((size_t)e->tasks * 2 * (size_t)e->shots + (size_t)e->points));
    SineTask *tasks = malloc(sizeof(SineTask) * (size_t)e->tasks);
    double *curves = malloc(sizeof(double) * (size_t)e->tasks * ((size_t)e->steps + 1));
    failed = !works || !buffers || !data || !tasks || !curves;
    if (failed) error_set(error, "maml evaluation: out of memory");
    for (int i = 0; !failed && i < threads; i++) failed = sine_net_work_init(&works[i], hidden, capacity, error);
    if (!failed) {
        float *grid = data + (size_t)e->tasks * 2 * (size_t)e->shots;
        for (int i = 0; i < e->points; i++)
            grid[i] = e->points == 1 ? 0.0f : SINE_X_MIN + (SINE_X_MAX - SINE_X_MIN) * (float)i / (float)(e->points - 1);
        Random rng;
        random_seed(&rng, e->seed);
        for (int k = 0; k < e->tasks; k++) {
            tasks[k] = sine_task_sample(&rng);
            sine_task_points(tasks[k], &rng, e->shots, data + (size_t)k * 2 * e->shots, data + ((size_t)k * 2 + 1) * e->shots);
        }
#pragma omp parallel for schedule(dynamic)
        for (int k = 0; k < e->tasks; k++) {
            int thread = omp_get_thread_num();
            float *adapted = buffers + (size_t)thread * ((size_t)size + (size_t)e->points);
            const float *shots = data + (size_t)k * 2 * e->shots;
            evaluate_task(&works[thread], params, e, tasks[k], shots, shots + e->shots, grid, adapted, adapted + size,
                          curves + (size_t)k * ((size_t)e->steps + 1));
        }
        for (int s = 0; s <= e->steps; s++) {
            mse[s] = 0.0;
            for (int k = 0; k < e->tasks; k++) mse[s] += curves[(size_t)k * ((size_t)e->steps + 1) + s] / e->tasks;
            if (!failed && !isfinite(mse[s]))
                failed = error_set(error, "maml evaluation: the held-out MSE is not finite after %d step%s (the "
                                   "adaptation diverges at lr %g)", s, s == 1 ? "" : "s", (double)e->lr);
        }
    }
    for (int i = 0; works && i < threads; i++) sine_net_work_free(&works[i]);
    free(works), free(buffers), free(data), free(tasks), free(curves);
    return failed ? -1 : 0;
}

int maml_tune_lr(const float *params, int hidden, const MamlEvaluation *evaluation, const float *candidates, int n,
                 float *best, Error *error) {
    if (n < 1) return error_set(error, "maml: no step sizes to tune over");
    double *mse = malloc(sizeof(double) * ((size_t)evaluation->steps + 1)), lowest = INFINITY;
    if (!mse) return error_set(error, "maml: out of memory");
    for (int i = 0; i < n; i++) {
        MamlEvaluation trial = *evaluation;
        trial.lr = candidates[i];
        Error trial_error = {{0}};
        if (maml_evaluate(params, hidden, &trial, mse, &trial_error)) {
            if (strstr(trial_error.message, "not finite")) continue;  // diverged: this step is too large
            free(mse);
            return error_set(error, "%s", trial_error.message);
        }
        if (mse[evaluation->steps] < lowest) lowest = mse[evaluation->steps], *best = candidates[i];
    }
    free(mse);
    return isfinite(lowest) ? 0 : error_set(error, "maml: every step size tried diverges");
}
