// Loss landscapes along a line and a filter-normalised plane: see loss_landscape.h.
#include "explore/loss_landscape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "foundations/clock.h"
#include "models/resnet.h"

LandscapeSetup landscape_default_setup(void) {
    LandscapeSetup setup = {mnist_mlp_default_setup(), 8, 2, 5, 250, 15, 1.0, 21};
    setup.train.n_train = 1000, setup.train.epochs = 30;
    return setup;
}

void filter_normalise(float *d, const float *w, int rows, long row_size) {
    for (int r = 0; r < rows; r++) {
        double dn = 0.0, wn = 0.0;
        for (long i = 0; i < row_size; i++) {
            dn += (double)d[r * row_size + i] * d[r * row_size + i];
            wn += (double)w[r * row_size + i] * w[r * row_size + i];
        }
        float scale = dn > 0.0 ? (float)(sqrt(wn) / sqrt(dn)) : 0.0f;
        for (long i = 0; i < row_size; i++) d[r * row_size + i] *= scale;
    }
}

// A filter-normalised random direction for the trained values (flat, in parameter order).
static void random_direction(Parameters *params, const float *trained, float *d, Random *rng) {
    long offset = 0;
    for (int i = 0; i < params->count; i++) {
        if (params->entries[i].is_buffer) continue;
        const Tensor *t = params->entries[i].tensor;
        if (t->n_dims >= 2) {
            random_fill_normal(rng, d + offset, t->size, 0.0f, 1.0f);
            filter_normalise(d + offset, trained + offset, t->shape[0], t->size / t->shape[0]);
        } else {
            memset(d + offset, 0, sizeof(float) * (size_t)t->size);  // biases, batch-norm weights
        }
        offset += t->size;
    }
}

int landscape_check_setup(const LandscapeSetup *s, Error *error) {
    if (mnist_mlp_check_setup(&s->train, error) || explore_check_count(s->n_eval, 1, "the evaluation images", error) ||
        explore_check_count(s->grid, 3, "the grid", error) || explore_check_count(s->line_points, 3, "the line points", error) ||
        explore_check_count(s->resnet_width, 1, "the ResNet width", error) ||
        explore_check_count(s->resnet_blocks, 1, "the ResNet blocks", error) ||
        explore_check_count(s->resnet_epochs, 1, "the ResNet epochs", error) ||
        explore_check_range(s->span, 0.0, 100.0, 1, 0, "the span", error))
        return -1;
    if (s->grid > LANDSCAPE_MAX_GRID || s->grid % 2 == 0)
        return error_set(error, "the grid must be odd and at most %d, not %d", LANDSCAPE_MAX_GRID, s->grid);
    if (s->line_points > LANDSCAPE_MAX_LINE)
        return error_set(error, "the line points must be at most %d, not %d", LANDSCAPE_MAX_LINE, s->line_points);
    if (s->n_eval > s->train.n_train)
        return error_set(error, "the evaluation images must be at most the %d training images, not %d", s->train.n_train,
                         s->n_eval);
    if (s->resnet_blocks > RESNET_MAX_BLOCKS)
        return error_set(error, "the ResNet blocks must be at most %d, not %d", RESNET_MAX_BLOCKS, s->resnet_blocks);
    return 0;
}

typedef struct Network {
    Mlp mlp;
    Resnet resnet;
    Classifier classifier;
} Network;

static int network_create(const LandscapeSetup *s, LandscapeModel model, Network *net, Error *error) {
    memset(net, 0, sizeof *net);
    if (model == LANDSCAPE_MLP) {
        if (mnist_mlp_create(&s->train, 0.0f, s->train.seed, &net->mlp, error)) return -1;
        net->classifier = mlp_as_classifier(&net->mlp);
        return 0;
    }
    ResnetConfig config;
    int blocks[2] = {s->resnet_blocks, s->resnet_blocks};
    if (resnet_config(&config, 1, s->resnet_width, blocks, 2, 10, error)) return -1;
    config.no_skip = model == LANDSCAPE_RESNET_NO_SKIP;
    Random rng;
    random_seed(&rng, s->train.seed);
    if (resnet_create(&net->resnet, &config, &rng, error)) return -1;
    net->classifier = resnet_as_classifier(&net->resnet);
    return 0;
}

static void network_free(Network *net, LandscapeModel model) {
    if (model == LANDSCAPE_MLP) mlp_classifier_free(&net->mlp);
    else resnet_free(&net->resnet);
}

static int network_train(const LandscapeSetup *s, LandscapeModel model, Network *net, const LabelledSet *train,
                         Error *error) {
    if (model == LANDSCAPE_MLP)
        return mnist_mlp_train(&s->train, &net->mlp, train, NULL, 0.0f, NULL, NULL, NULL, NULL, error);
    TrainerConfig config = {.epochs = s->resnet_epochs, .batch_size = s->train.batch_size, .lr = 0.003f,
                            .schedule = SCHEDULE_CONSTANT, .gamma = 1.0f, .optimizer = OPTIMIZER_ADAM,
                            .seed = s->train.seed};
    TrainerHistory *history = malloc(sizeof *history);
    if (!history) return error_set(error, "out of memory");
    int status = classifier_train(&net->classifier, train, NULL, &config, NULL, history, error);
    free(history);
    return status;
}

// Mean cross-entropy and accuracy over eval in batches of 250 with batch statistics (training
// mode without dropout: the networks here have none), so the loss is a function of the weights
// alone. The batch norms' running statistics are updated as a side effect and never read.
static int loss_at(const Network *net, const LabelledSet *eval, double *loss, double *accuracy, Error *error) {
    enum { BATCH = 250 };
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    double total = 0.0;
    int correct = 0, status = 0;
    for (int first = 0; first < eval->count && !status; first += BATCH) {
        int n = eval->count - first < BATCH ? eval->count - first : BATCH;
        tape_reset(&tape);
        int shape[4] = {n, eval->shape[0], eval->shape[1], eval->shape[2]};
        Tensor *x = tensor_from(&tape, eval->inputs + (size_t)first * eval->sample_size, 4, shape);
        Tensor *logits = net->classifier.forward(net->classifier.model, &tape, x, 1);
        Tensor *l = nn_cross_entropy(&tape, logits, eval->labels + first, NN_NO_IGNORE, 0.0f);
        if (!l) {
            status = tape_error(&tape, error);
            break;
        }
        total += (double)l->data[0] * n;
        for (int i = 0; i < n; i++) {
            const float *row = logits->data + (size_t)i * 10;
            int best = 0;
            for (int c = 1; c < 10; c++)
                if (row[c] > row[best]) best = c;
            correct += best == eval->labels[first + i];
        }
    }
    tape_free(&tape);
    if (status) return -1;
    *loss = total / eval->count;
    if (accuracy) *accuracy = (double)correct / eval->count;
    return 0;
}

// The line from θ₀ to θ* and the plane around θ*; theta (n) is scratch.
static int measure(const LandscapeSetup *s, Network *net, const float *initial, const float *trained, const float *d1,
                   const float *d2, float *theta, long n, const LabelledSet *eval, Landscape *out, Error *error) {
    Parameters *params = net->classifier.params;
    for (int k = 0; k < s->line_points; k++) {
        double t = -0.5 + 2.0 * k / (s->line_points - 1);
        for (long i = 0; i < n; i++) theta[i] = (float)((1.0 - t) * initial[i] + t * trained[i]);
        parameters_scatter(params, theta);
        out->line_t[k] = t;
        if (loss_at(net, eval, &out->line_loss[k], NULL, error)) return -1;
    }
    int g = s->grid;
    for (int b = 0; b < g; b++)
        for (int a = 0; a < g; a++) {
            double alpha = s->span * (2.0 * a / (g - 1) - 1.0), beta = s->span * (2.0 * b / (g - 1) - 1.0);
            for (long i = 0; i < n; i++) theta[i] = (float)(trained[i] + alpha * d1[i] + beta * d2[i]);
            parameters_scatter(params, theta);
            if (loss_at(net, eval, &out->surface[b][a], NULL, error)) return -1;
        }
    parameters_scatter(params, trained);
    return loss_at(net, eval, &out->centre_loss, &out->train_accuracy, error);
}

static void summarise(const LandscapeSetup *s, Landscape *out) {
    int g = s->grid, interior = 0, curved_down = 0;
    out->surface_min = INFINITY, out->surface_max = -INFINITY;
    for (int b = 0; b < g; b++)
        for (int a = 0; a < g; a++) {
            double v = out->surface[b][a];
            out->surface_min = fmin(out->surface_min, v), out->surface_max = fmax(out->surface_max, v);
            if (a == 0 || b == 0 || a == g - 1 || b == g - 1) continue;
            interior++;
            double along_a = out->surface[b][a - 1] - 2 * v + out->surface[b][a + 1];
            double along_b = out->surface[b - 1][a] - 2 * v + out->surface[b + 1][a];
            curved_down += along_a < 0.0 || along_b < 0.0;
        }
    out->non_convex_fraction = interior ? (double)curved_down / interior : 0.0;
}

int explore_loss_landscape(const LandscapeSetup *setup, LandscapeModel model, Landscape *out, Error *error) {
    memset(out, 0, sizeof *out);
    if (landscape_check_setup(setup, error)) return -1;
    if ((int)model < 0 || (int)model >= LANDSCAPE_MODELS) return error_set(error, "unknown landscape model %d", (int)model);
    static const char *const names[LANDSCAPE_MODELS] = {"MLP", "ResNet", "ResNet without skips"};
    out->model = model, out->name = names[model];
    LabelledSet train, test, eval;
    if (mnist_mlp_load(&setup->train, &train, 0, NULL, &test, error)) return -1;
    int status = labelled_set_create(&eval, train.inputs, train.labels, setup->n_eval, train.n_dims, train.shape, 10, error);
    labelled_set_free(&test);
    if (status) {
        labelled_set_free(&train);
        return -1;
    }
    Network net;
    float *buffers = NULL;
    status = -1;
    if (network_create(setup, model, &net, error)) goto done;
    long n = out->parameters = parameters_count(net.classifier.params);
    buffers = malloc(sizeof(float) * 5 * (size_t)n);
    if (!buffers) {
        error_set(error, "out of memory");
        goto free_network;
    }
    float *initial = buffers, *trained = buffers + n, *d1 = buffers + 2 * n, *d2 = buffers + 3 * n, *theta = buffers + 4 * n;
    parameters_gather(net.classifier.params, initial);
    double start = clock_seconds();
    if (network_train(setup, model, &net, &train, error)) goto free_network;
    out->train_seconds = clock_seconds() - start;
    parameters_gather(net.classifier.params, trained);
    Random rng;
    random_seed(&rng, setup->train.seed + 12345);
    random_direction(net.classifier.params, trained, d1, &rng);
    random_direction(net.classifier.params, trained, d2, &rng);
    start = clock_seconds();
    if (measure(setup, &net, initial, trained, d1, d2, theta, n, &eval, out, error)) goto free_network;
    out->landscape_seconds = clock_seconds() - start;
    summarise(setup, out);
    status = 0;
free_network:
    network_free(&net, model);
done:
    free(buffers);
    labelled_set_free(&train), labelled_set_free(&eval);
    return status;
}
