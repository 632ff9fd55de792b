// RealNVP on 2-D points: see realnvp.h.
#include "models/realnvp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_checkpoint.h"
#include "nn/optim.h"
#include "nn/state_dict.h"

static const float log_two_pi = 1.8378770664093453f;

int realnvp_init(RealNvp *flow, const RealNvpConfig *config, uint64_t seed, Error *error) {
    memset(flow, 0, sizeof *flow);
    if (config->n_layers < 1 || config->hidden < 1 || config->n_layers > 256 || config->hidden > 4096)
        return error_set(error, "realnvp: %d layers of width %d (1..256 layers, width 1..4096)", config->n_layers,
                         config->hidden);
    flow->config = *config;
    flow->layers = calloc((size_t)config->n_layers, sizeof *flow->layers);
    if (!flow->layers) return error_set(error, "realnvp: out of memory");
    Random rng;
    random_seed(&rng, seed);
    for (int k = 0; k < config->n_layers; k++) {
        Coupling *c = &flow->layers[k];
        char name[64];
        c->keep = k % 2;
        int status = 0;
        snprintf(name, sizeof name, "layers.%d.fc1", k);
        status |= linear_init(&c->fc1, &flow->params, name, 1, config->hidden, 1, &rng, error);
        snprintf(name, sizeof name, "layers.%d.fc2", k);
        if (!status) status |= linear_init(&c->fc2, &flow->params, name, config->hidden, config->hidden, 1, &rng, error);
        snprintf(name, sizeof name, "layers.%d.fc3", k);
        if (!status) status |= linear_init(&c->fc3, &flow->params, name, config->hidden, 2, 1, &rng, error);
        if (status) return realnvp_free(flow), -1;
    }
    return 0;
}

void realnvp_free(RealNvp *flow) {
    parameters_free(&flow->params);
    free(flow->layers);
    memset(flow, 0, sizeof *flow);
}

// s(x_a) = tanh(raw s) and t(x_a) of one layer, each (N,1).
static void coupling_scale_shift(Tape *tape, const Coupling *c, Tensor *x_keep, Tensor **s, Tensor **t) {
    Tensor *h = nn_relu(tape, linear_apply(tape, &c->fc1, x_keep));
    h = nn_relu(tape, linear_apply(tape, &c->fc2, h));
    h = linear_apply(tape, &c->fc3, h);
    *s = nn_tanh(tape, nn_slice(tape, h, 1, 0, 1));
    *t = nn_slice(tape, h, 1, 1, 2);
}

// The kept and the changed coordinate back in their columns.
static Tensor *join(Tape *tape, const Coupling *c, Tensor *kept, Tensor *changed) {
    Tensor *parts[2] = {c->keep == 0 ? kept : changed, c->keep == 0 ? changed : kept};
    return nn_concat(tape, parts, 2, 1);
}

int realnvp_forward(Tape *tape, const RealNvp *flow, Tensor *x, Tensor **z, Tensor **log_det) {
    Tensor *total = NULL;
    for (int k = 0; k < flow->config.n_layers; k++) {
        const Coupling *c = &flow->layers[k];
        Tensor *kept = nn_slice(tape, x, 1, c->keep, c->keep + 1);
        Tensor *other = nn_slice(tape, x, 1, 1 - c->keep, 2 - c->keep);
        Tensor *s, *t;
        coupling_scale_shift(tape, c, kept, &s, &t);
        x = join(tape, c, kept, nn_add(tape, nn_mul(tape, other, nn_exp(tape, s)), t));  // x_b e^s + t
        total = total ? nn_add(tape, total, s) : s;                                       // log|det| = Σ s
    }
    *z = x, *log_det = total;
    return x && total ? 0 : -1;
}

Tensor *realnvp_log_prob_tensor(Tape *tape, const RealNvp *flow, Tensor *x) {
    Tensor *z, *log_det;
    if (realnvp_forward(tape, flow, x, &z, &log_det)) return NULL;
    const int axis = 1;
    // log N(z; 0, I) = −|z|²/2 − log 2π in two dimensions
    Tensor *log_normal = nn_add_scalar(tape, nn_scale(tape, nn_sum(tape, nn_mul(tape, z, z), &axis, 1, 1), -0.5f),
                                       -log_two_pi);
    return nn_add(tape, log_normal, log_det);
}

enum { CHUNK = 4096 };

// n points (n, 2) through map, CHUNK at a time on a tape that records nothing, its `width`
// values per point into out (n, width).
static int map_in_chunks(const RealNvp *flow, Tensor *(*map)(Tape *, const RealNvp *, Tensor *), const float *points,
                         int n, float *out, int width, Error *error) {
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    for (int start = 0; start < n; start += CHUNK) {
        int m = n - start < CHUNK ? n - start : CHUNK, shape[2] = {m, 2};
        tape_reset(&tape);
        Tensor *mapped = map(&tape, flow, tensor_from(&tape, points + 2L * start, 2, shape));
        if (!mapped) {
            tape_error(&tape, error);
            tape_free(&tape);
            return -1;
        }
        memcpy(out + (long)width * start, mapped->data, (size_t)m * (size_t)width * sizeof *out);
    }
    tape_free(&tape);
    return 0;
}

int realnvp_log_prob(const RealNvp *flow, const float *xy, int n, float *log_p, Error *error) {
    return map_in_chunks(flow, realnvp_log_prob_tensor, xy, n, log_p, 1, error);
}

// The layers backwards: x_b = (y_b − t(x_a))·exp(−s(x_a)).
static Tensor *inverse_tensor(Tape *tape, const RealNvp *flow, Tensor *y) {
    for (int k = flow->config.n_layers - 1; k >= 0; k--) {
        const Coupling *c = &flow->layers[k];
        Tensor *kept = nn_slice(tape, y, 1, c->keep, c->keep + 1);
        Tensor *changed = nn_slice(tape, y, 1, 1 - c->keep, 2 - c->keep);
        Tensor *s, *t;
        coupling_scale_shift(tape, c, kept, &s, &t);
        y = join(tape, c, kept, nn_mul(tape, nn_sub(tape, changed, t), nn_exp(tape, nn_neg(tape, s))));
    }
    return y;
}

int realnvp_inverse(const RealNvp *flow, const float *z, int n, float *x, Error *error) {
    return map_in_chunks(flow, inverse_tensor, z, n, x, 2, error);
}

int realnvp_sample(const RealNvp *flow, int n, uint64_t seed, float *x, Error *error) {
    if (n < 1) return error_set(error, "realnvp: %d samples (at least 1)", n);
    float *z = malloc((size_t)n * 2 * sizeof *z);
    if (!z) return error_set(error, "realnvp: out of memory for %d samples", n);
    Random rng;
    random_seed(&rng, seed);
    random_fill_normal(&rng, z, 2L * n, 0.0f, 1.0f);
    int status = realnvp_inverse(flow, z, n, x, error);
    free(z);
    return status;
}

// −mean log p over data.
static int mean_nll(const RealNvp *flow, const float *data, int n, float *nll, Error *error) {
    float *log_p = malloc((size_t)n * sizeof *log_p);
    if (!log_p) return error_set(error, "realnvp: out of memory");
    int status = realnvp_log_prob(flow, data, n, log_p, error);
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += log_p[i];
    *nll = (float)(-sum / n);
    free(log_p);
    return status;
}

int realnvp_train(RealNvp *flow, const float *data, int n, const FlowTraining *training, float *final_nll,
                  Error *error) {
    if (n < 1 || training->steps < 0 || training->batch < 1 || !(training->lr > 0.0f))
        return error_set(error, "realnvp: %d points, %d steps, batch %d, lr %g (positive needed)", n, training->steps,
                         training->batch, (double)training->lr);
    OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, &flow->params, &group, 1, NULL, error)) return -1;
    float *batch = malloc((size_t)training->batch * 2 * sizeof *batch);
    if (!batch) return param_optimizer_free(&optimizer), error_set(error, "realnvp: out of memory");
    Random rng;
    random_seed(&rng, training->seed);
    Tape tape;
    tape_init(&tape);
    int status = 0, shape[2] = {training->batch, 2};
    for (int step = 0; step < training->steps && !status; step++) {
        for (int i = 0; i < training->batch; i++) {
            uint32_t j = random_below(&rng, (uint32_t)n);
            batch[2 * i] = data[2 * j], batch[2 * i + 1] = data[2 * j + 1];
        }
        tape_reset(&tape);
        Tensor *log_p = realnvp_log_prob_tensor(&tape, flow, tensor_from(&tape, batch, 2, shape));
        Tensor *loss = nn_neg(&tape, nn_mean(&tape, log_p, NULL, 0, 0));
        parameters_zero_grad(&flow->params);
        if (!loss || tape_backward(&tape, loss, error)) status = loss ? -1 : tape_error(&tape, error);
        else if (!isfinite(loss->data[0])) status = error_set(error, "realnvp: the loss is %g at step %d", (double)loss->data[0], step);
        else param_optimizer_step(&optimizer, training->lr);
    }
    tape_free(&tape);
    free(batch);
    param_optimizer_free(&optimizer);
    return status ? status : mean_nll(flow, data, n, final_nll, error);
}

int realnvp_save(const RealNvp *flow, const char *path, const char *data_name, Error *error) {
    char layers[16], hidden[16];
    snprintf(layers, sizeof layers, "%d", flow->config.n_layers);
    snprintf(hidden, sizeof hidden, "%d", flow->config.hidden);
    SafetensorsMetadata metadata[] = {{"arch", "realnvp"}, {"n_layers", layers}, {"hidden", hidden},
                                      {"data", data_name ? data_name : ""}};
    return state_dict_save(&flow->params, path, metadata, 4, error);
}

int realnvp_load(RealNvp *flow, const char *path, char *data_name, int data_name_size, Error *error) {
    Safetensors file;
    if (model_checkpoint_open(&file, path, "realnvp", error)) return -1;
    RealNvpConfig config;
    int status = model_checkpoint_int(&file, path, "n_layers", 1, 256, &config.n_layers, error) ||
                 model_checkpoint_int(&file, path, "hidden", 1, 4096, &config.hidden, error);
    if (!status) status = realnvp_init(flow, &config, 0, error);
    if (!status && (status = state_dict_load_file(&flow->params, &file, path, error))) realnvp_free(flow);
    const char *data = safetensors_metadata(&file, "data");
    if (!status && data_name) snprintf(data_name, (size_t)data_name_size, "%s", data ? data : "");
    safetensors_free(&file);
    return status ? -1 : 0;
}
