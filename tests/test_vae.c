// The VAE (models/vae.h): against its PyTorch reference (tests/fixtures/vae,
// tools/reference/vae_reference.py), the same weights, batch and ε give the same μ, log σ²,
// logits (1e-4 absolute), distortion, rate and loss (1e-5 relative), every gradient (1e-3
// relative to the tensor's largest reference value) and the losses of 5 Adam steps (1e-5
// relative): the classifier verify's tolerances. Also: the closed-form KL against a Monte-Carlo
// estimate, the importance-weighted bound L_k against the ELBO (L_1 is the ELBO in expectation,
// L_k ≥ L_1 on average and grows with k), a checkpoint of another model refused, training lowers
// the loss.
#include <math.h>
#include <string.h>

#include "models/classifier_verify.h"
#include "models/vae.h"
#include "nn/optim.h"
#include "nn/state_dict.h"
#include "tests/check.h"

static const char *MODEL = "tests/fixtures/vae/PARAMS.safetensors", *STATE = "tests/fixtures/vae/STATE.safetensors";

// The largest |ours − reference| (relative: over the largest |reference|), classifier_verify.h's.
static double relative_difference(const float *ours, const float *reference, long n) {
    return tensor_difference("", ours, reference, n, INFINITY).relative;
}

static double absolute_difference(const float *ours, const float *reference, long n) {
    return tensor_difference("", ours, reference, n, INFINITY).max_abs;
}

static const SafetensorsTensor *tensor(const Safetensors *file, const char *name, long count) {
    const SafetensorsTensor *t = safetensors_find(file, name);
    CHECK(t && t->floats && t->count == count, "%s missing from the state or of another size", name);
    return t && t->floats && t->count == count ? t : NULL;
}

// The loss of the state's batch and ε on a fresh tape.
static Tensor *loss_of(Tape *tape, const Vae *model, const SafetensorsTensor *x, const SafetensorsTensor *eps, VaeLoss *terms) {
    tape_reset(tape);
    return vae_loss(tape, model, tensor_from(tape, x->floats, x->ndim, x->shape),
                    tensor_from(tape, eps->floats, eps->ndim, eps->shape), terms);
}

static void compare_gradients(const Vae *model, const Safetensors *state) {
    int compared = 0;
    for (int i = 0; i < model->params.count; i++) {
        const NamedTensor *entry = &model->params.entries[i];
        char name[PARAMETER_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", entry->name);
        const SafetensorsTensor *reference = tensor(state, name, entry->tensor->size);
        if (!reference) continue;
        double relative = relative_difference(entry->tensor->grad, reference->floats, entry->tensor->size);
        CHECK(relative <= 1e-3, "%s differs by %g of its largest", name, relative);
        compared++;
    }
    CHECK(compared == 10, "%d gradients compared (5 layers, weight and bias)", compared);
}

static void matches_the_pytorch_reference(void) {
    Vae model;
    Safetensors state;
    Error error;
    REQUIRE(vae_load(&model, MODEL, &error) == 0, "%s", error.message);
    REQUIRE(safetensors_read(&state, STATE, &error) == 0, "%s", error.message);
    int D = model.config.input_size, J = model.config.latent;
    CHECK(D == 784 && model.config.hidden == 16 && J == 4, "sizes %d-%d-%d from the file", D, model.config.hidden, J);
    const SafetensorsTensor *x = safetensors_find(&state, "inputs");
    long B = x ? x->shape[0] : 0;
    const SafetensorsTensor *eps = tensor(&state, "epsilon", B * J), *mean = tensor(&state, "mean", B * J);
    const SafetensorsTensor *log_var = tensor(&state, "log_var", B * J), *logits = tensor(&state, "logits", B * D);
    const SafetensorsTensor *distortion = tensor(&state, "distortion", 1), *rate = tensor(&state, "rate", 1);
    const SafetensorsTensor *loss_ref = tensor(&state, "loss", 1), *steps = safetensors_find(&state, "step_losses");
    Tape tape;
    tape_init(&tape);
    VaeLoss terms;
    Tensor *loss = (x && eps) ? loss_of(&tape, &model, x, eps, &terms) : NULL;
    if (loss && mean && log_var && logits && distortion && rate && loss_ref && steps) {
        CHECK(absolute_difference(terms.mean->data, mean->floats, B * J) <= 1e-4, "μ differs");
        CHECK(absolute_difference(terms.log_var->data, log_var->floats, B * J) <= 1e-4, "log σ² differs");
        CHECK(absolute_difference(terms.logits->data, logits->floats, B * D) <= 1e-4, "logits differ");
        CHECK_NEAR(terms.distortion->data[0], distortion->floats[0], 1e-5 * fabs(distortion->floats[0]));
        CHECK_NEAR(terms.rate->data[0], rate->floats[0], 1e-5 * fabs(rate->floats[0]) + 1e-7);
        CHECK_NEAR(loss->data[0], loss_ref->floats[0], 1e-5 * fabs(loss_ref->floats[0]));
        parameters_zero_grad(&model.params);
        CHECK(tape_backward(&tape, loss, &error) == 0, "%s", error.message);
        compare_gradients(&model, &state);
        // Adam steps on the same batch and ε
        OptimizerGroup group = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
        ParamOptimizer optimizer;
        REQUIRE(param_optimizer_init(&optimizer, &model.params, &group, 1, NULL, &error) == 0, "%s", error.message);
        for (int k = 0; k < (int)steps->count; k++) {
            Tensor *step_loss = loss_of(&tape, &model, x, eps, &terms);
            REQUIRE(step_loss, "step %d: %s", k, tape.error.message);
            CHECK_NEAR(step_loss->data[0], steps->floats[k], 1e-5 * fabs(steps->floats[k]));
            parameters_zero_grad(&model.params);
            CHECK(tape_backward(&tape, step_loss, &error) == 0, "%s", error.message);
            param_optimizer_step(&optimizer, 1e-3f);
        }
        CHECK(steps->count == 5, "%lld step losses", (long long)steps->count);
        param_optimizer_free(&optimizer);
    } else {
        CHECK(0, "the forward failed or the state lacks a tensor: %s", tape.error.message);
    }
    tape_free(&tape);
    safetensors_free(&state);
    vae_free(&model);
}

// KL(N(μ, σ²) ‖ N(0, I)) in closed form against E_q[log q(z) − log p(z)] over 400 000 samples.
static void kl_closed_form_against_monte_carlo(void) {
    const float mean[3] = {0.5f, -1.2f, 0.0f}, log_var[3] = {-0.7f, 0.4f, -2.0f};
    double closed = vae_gaussian_kl(mean, log_var, 3);
    double expected = 0.0;  // the sum of −½(1 + log σ² − μ² − σ²), written out
    for (int j = 0; j < 3; j++) expected += -0.5 * (1.0 + log_var[j] - mean[j] * mean[j] - exp(log_var[j]));
    CHECK_NEAR(closed, expected, 1e-6);
    Random rng;
    random_seed(&rng, 7);
    enum { SAMPLES = 400000 };
    double sum = 0.0, sum_squares = 0.0;
    for (int s = 0; s < SAMPLES; s++) {
        double log_ratio = 0.0;  // log q(z) − log p(z); the 2π terms cancel
        for (int j = 0; j < 3; j++) {
            double e = random_normal(&rng, 0.0f, 1.0f), z = mean[j] + exp(0.5 * log_var[j]) * e;
            log_ratio += -0.5 * e * e - 0.5 * log_var[j] + 0.5 * z * z;
        }
        sum += log_ratio, sum_squares += log_ratio * log_ratio;
    }
    double estimate = sum / SAMPLES, standard_error = sqrt((sum_squares / SAMPLES - estimate * estimate) / SAMPLES);
    CHECK(fabs(estimate - closed) <= 4.0 * standard_error, "Monte Carlo %g ± %g, closed form %g", estimate,
          standard_error, closed);
    CHECK(standard_error < 0.01, "standard error %g", standard_error);
    // and the loss's rate term is the same formula averaged over a batch
    Vae model;
    Error error;
    REQUIRE(vae_load(&model, MODEL, &error) == 0, "%s", error.message);
    Tape tape;
    tape_init(&tape);
    float x[2 * 784], eps[2 * 4];
    for (int i = 0; i < 2 * 784; i++) x[i] = (float)(i % 17) / 16.0f;
    for (int i = 0; i < 8; i++) eps[i] = 0.1f * (float)i - 0.3f;
    VaeLoss terms;
    Tensor *loss = vae_loss(&tape, &model, tensor_from(&tape, x, 2, (int[]){2, 784}), tensor_from(&tape, eps, 2, (int[]){2, 4}), &terms);
    REQUIRE(loss, "%s", tape.error.message);
    double rate = 0.5 * (vae_gaussian_kl(terms.mean->data, terms.log_var->data, 4) +
                         vae_gaussian_kl(terms.mean->data + 4, terms.log_var->data + 4, 4));
    CHECK_NEAR(terms.rate->data[0], rate, 1e-5 * fabs(rate) + 1e-6);
    tape_free(&tape);
    vae_free(&model);
}

// A model trained a little on 1000 images, its test images and their mean ELBO.
typedef struct Trained {
    Vae model;
    float *test;
    int n_test;
} Trained;

static int train_small(Trained *t, Error *error) {
    Vae *model = &t->model;
    enum { N = 1000, TEST = 100 };
    static float images[(N + TEST) * 784];
    static int labels[N];
    Random rng;
    random_seed(&rng, 11);
    // Synthetic "digits": a bright bar at one of ten positions, with grey noise
    for (int i = 0; i < N + TEST; i++)
        for (int p = 0; p < 784; p++) {
            int row = p / 28, position = 2 + 2 * (i % 10);
            images[(long)i * 784 + p] = (row >= position && row < position + 3) ? 0.9f : 0.1f * random_uniform(&rng);
        }
    for (int i = 0; i < N; i++) labels[i] = i % 10;
    LabelledSet train;
    if (labelled_set_create(&train, images, labels, N, 1, (int[]){784}, 10, error)) return -1;
    VaeConfig config = {784, 64, 4};
    VaeTrainConfig recipe = {3, 50, 3e-3f, 5, NULL};
    EpochRecord records[3];
    int status = vae_create(model, &config, &rng, error) || vae_train(model, &train, &recipe, NULL, records, error);
    labelled_set_free(&train);
    if (status) return -1;
    CHECK(records[2].train_loss < records[0].train_loss - 10.0, "training: −ELBO %g then %g", records[0].train_loss,
          records[2].train_loss);
    t->test = images + (long)N * 784, t->n_test = TEST;
    return 0;
}

static void importance_weighted_bound(void) {
    Trained t;
    Error error;
    REQUIRE(train_small(&t, &error) == 0, "%s", error.message);
    VaeEvaluation elbo, l1, l10, l100;
    REQUIRE(vae_evaluate(&t.model, t.test, t.n_test, 784, 0, 3, &elbo, &error) == 0, "%s", error.message);
    REQUIRE(vae_evaluate(&t.model, t.test, t.n_test, 784, 1, 3, &l1, &error) == 0, "%s", error.message);
    REQUIRE(vae_evaluate(&t.model, t.test, t.n_test, 784, 10, 3, &l10, &error) == 0, "%s", error.message);
    REQUIRE(vae_evaluate(&t.model, t.test, t.n_test, 784, 100, 3, &l100, &error) == 0, "%s", error.message);
    CHECK(isfinite(elbo.elbo) && elbo.elbo < 0 && elbo.rate > 0, "ELBO %g, rate %g", elbo.elbo, elbo.rate);
    CHECK_NEAR(elbo.elbo, -(elbo.distortion + elbo.rate), 1e-9);
    // L_1 has the ELBO's expectation; over 100 images the two single-sample estimates differ by noise only
    CHECK(fabs(l1.log_likelihood - elbo.elbo) < 0.05 * fabs(elbo.elbo), "L_1 %g against ELBO %g", l1.log_likelihood, elbo.elbo);
    CHECK(l10.log_likelihood >= elbo.elbo, "L_10 %g below the ELBO %g", l10.log_likelihood, elbo.elbo);
    CHECK(l100.log_likelihood >= l10.log_likelihood, "L_100 %g below L_10 %g", l100.log_likelihood, l10.log_likelihood);
    CHECK(l100.importance_samples == 100 && l100.count == t.n_test, "k %d, %d images", l100.importance_samples, l100.count);
    // the same seed gives the same estimate
    VaeEvaluation again;
    REQUIRE(vae_evaluate(&t.model, t.test, t.n_test, 784, 100, 3, &again, &error) == 0, "%s", error.message);
    CHECK(again.log_likelihood == l100.log_likelihood, "not reproducible: %g, %g", again.log_likelihood, l100.log_likelihood);
    CHECK(vae_evaluate(&t.model, t.test, t.n_test, 100, 1, 3, &again, &error) != 0 && strstr(error.message, "784"),
          "images of 100 values accepted: %s", error.message);
    vae_free(&t.model);
}

static void refuses_other_checkpoints(void) {
    REQUIRE(check_directory()[0], "no temporary directory");
    char path[512];
    snprintf(path, sizeof path, "%s/other.safetensors", check_directory());
    Vae model;
    Error error;
    REQUIRE(vae_load(&model, MODEL, &error) == 0, "%s", error.message);
    SafetensorsMetadata gan = {"arch", "gan"};
    REQUIRE(state_dict_save(&model.params, path, &gan, 1, &error) == 0, "%s", error.message);
    vae_free(&model);
    CHECK(vae_load(&model, path, &error) != 0 && strstr(error.message, "a gan checkpoint, not vae"), "%s", error.message);
    CHECK(vae_load(&model, "tests/fixtures/lenet5/PARAMS.safetensors", &error) != 0 && strstr(error.message, "a lenet5 checkpoint, not vae"),
          "a lenet5 file: %s", error.message);
}

static const CheckCase CASES[] = {
    {"matches the pytorch reference", matches_the_pytorch_reference},
    {"kl closed form against monte carlo", kl_closed_form_against_monte_carlo},
    {"importance weighted bound against the elbo", importance_weighted_bound},
    {"refuses other checkpoints", refuses_other_checkpoints},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
