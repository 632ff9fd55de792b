// RealNVP (models/realnvp.c): the inverse undoes the forward map to 1e-5, log|det J| equals the
// log-determinant of a finite-difference Jacobian, the density integrates to 1 over a grid,
// maximum likelihood on two moons beats the best Gaussian, samples have the data's moments,
// and a checkpoint rebuilds the same flow (and refuses another model's file).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/safetensors.h"
#include "models/realnvp.h"
#include "models/toy2d.h"
#include "nn/init.h"
#include "nn/state_dict.h"
#include "tests/check.h"

enum { N_DATA = 2000 };

// A flow whose couplings really scale and shift: the last layers' weights drawn larger than at init.
static void make_flow(RealNvp *flow) {
    Error error;
    RealNvpConfig config = {6, 32};
    REQUIRE(realnvp_init(flow, &config, 7, &error) == 0, "%s", error.message);
    Random rng;
    random_seed(&rng, 3);
    for (int k = 0; k < config.n_layers; k++) init_normal(flow->layers[k].fc3.weight, 0.0f, 0.4f, &rng);
}

// z (n,2) and log|det| (n) of points xy (n,2), without gradients.
static void forward(const RealNvp *flow, const float *xy, int n, float *z, float *log_det) {
    Tape tape;
    tape_init(&tape);
    tape.recording = 0;
    Tensor *zt, *ld;
    int status = realnvp_forward(&tape, flow, tensor_from(&tape, xy, 2, (int[]){n, 2}), &zt, &ld);
    if (!status) {
        memcpy(z, zt->data, sizeof(float) * 2 * n);
        if (log_det) memcpy(log_det, ld->data, sizeof(float) * n);
    }
    tape_free(&tape);
    CHECK(status == 0, "forward failed");
}

static void inverse_inverts(void) {
    RealNvp flow;
    make_flow(&flow);
    float xy[2 * 200], z[2 * 200], back[2 * 200];
    toy2d_sample(TOY2D_MOONS, 200, 1, xy, NULL);
    forward(&flow, xy, 200, z, NULL);
    Error error;
    CHECK(realnvp_inverse(&flow, z, 200, back, &error) == 0, "%s", error.message);
    float worst = 0.0f, moved = 0.0f;
    for (int i = 0; i < 400; i++) {
        worst = fmaxf(worst, fabsf(back[i] - xy[i]));
        moved = fmaxf(moved, fabsf(z[i] - xy[i]));
    }
    CHECK(worst < 1e-5f, "inverse(forward(x)) is %g from x", (double)worst);
    CHECK(moved > 0.1f, "the flow hardly moves the points (%g): the test would be empty", (double)moved);
    realnvp_free(&flow);
}

// log|det ∂z/∂x| against the determinant of central differences (float, h = 1e-3).
static void log_det_matches_finite_differences(void) {
    RealNvp flow;
    make_flow(&flow);
    const float points[][2] = {{0.3f, -0.2f}, {-1.0f, 0.7f}, {1.5f, 1.1f}, {0.0f, -1.3f}};
    const float h = 1e-3f;
    for (int p = 0; p < 4; p++) {
        float z[2], log_det, J[2][2];
        forward(&flow, points[p], 1, z, &log_det);
        for (int j = 0; j < 2; j++) {
            float plus[2] = {points[p][0], points[p][1]}, minus[2] = {points[p][0], points[p][1]}, zp[2], zm[2];
            plus[j] += h, minus[j] -= h;
            forward(&flow, plus, 1, zp, NULL);
            forward(&flow, minus, 1, zm, NULL);
            for (int i = 0; i < 2; i++) J[i][j] = (zp[i] - zm[i]) / (2 * h);
        }
        double det = (double)J[0][0] * J[1][1] - (double)J[0][1] * J[1][0];
        CHECK(det > 0.0, "point %d: det %g (a coupling flow keeps orientation)", p, det);
        CHECK_NEAR(log_det, log(fabs(det)), 2e-3);
        CHECK(fabsf(log_det) > 0.02f, "point %d: log|det| %g is too small to test", p, (double)log_det);
    }
    realnvp_free(&flow);
}

// Σ p(x) ΔA over [−6, 6]² in 300² cells.
static void density_integrates_to_one(void) {
    RealNvp flow;
    make_flow(&flow);
    enum { G = 300 };
    float *grid = malloc(sizeof(float) * 2 * G * G), *log_p = malloc(sizeof(float) * G * G);
    REQUIRE(grid && log_p, "out of memory");
    const float low = -6.0f, cell = 12.0f / G;
    for (int r = 0; r < G; r++)
        for (int c = 0; c < G; c++) {
            grid[2 * (r * G + c)] = low + (c + 0.5f) * cell;
            grid[2 * (r * G + c) + 1] = low + (r + 0.5f) * cell;
        }
    Error error;
    CHECK(realnvp_log_prob(&flow, grid, G * G, log_p, &error) == 0, "%s", error.message);
    double mass = 0.0;
    for (int i = 0; i < G * G; i++) mass += exp(log_p[i]) * cell * cell;
    CHECK_NEAR(mass, 1.0, 0.01);
    free(grid), free(log_p);
    realnvp_free(&flow);
}

// The negative log-likelihood of the maximum-likelihood Gaussian: log 2π + 1 + ½ log det Σ.
static double gaussian_nll(const float *xy, int n) {
    double m[2] = {0, 0}, s[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) m[0] += xy[2 * i] / n, m[1] += xy[2 * i + 1] / n;
    for (int i = 0; i < n; i++) {
        double a = xy[2 * i] - m[0], b = xy[2 * i + 1] - m[1];
        s[0] += a * a / n, s[1] += a * b / n, s[2] += b * b / n;
    }
    return log(2 * 3.14159265358979323846) + 1.0 + 0.5 * log(s[0] * s[2] - s[1] * s[1]);
}

static void moments(const float *xy, int n, double *mean, double *var) {
    mean[0] = mean[1] = var[0] = var[1] = 0.0;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < 2; d++) mean[d] += xy[2 * i + d] / n;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < 2; d++) var[d] += (xy[2 * i + d] - mean[d]) * (xy[2 * i + d] - mean[d]) / n;
}

static void trains_on_moons_and_samples_them(void) {
    static float data[2 * N_DATA], samples[2 * N_DATA];
    toy2d_sample(TOY2D_MOONS, N_DATA, 1, data, NULL);
    RealNvp flow;
    Error error;
    RealNvpConfig config = {6, 32};
    REQUIRE(realnvp_init(&flow, &config, 1, &error) == 0, "%s", error.message);
    FlowTraining training = {1000, 128, 3e-3f, 1};
    float nll = 0.0f;
    REQUIRE(realnvp_train(&flow, data, N_DATA, &training, &nll, &error) == 0, "%s", error.message);
    double gaussian = gaussian_nll(data, N_DATA);
    CHECK(nll < gaussian - 0.3, "flow nll %g against the best Gaussian's %g", (double)nll, gaussian);
    REQUIRE(realnvp_sample(&flow, N_DATA, 2, samples, &error) == 0, "%s", error.message);
    double dm[2], dv[2], sm[2], sv[2];
    moments(data, N_DATA, dm, dv);
    moments(samples, N_DATA, sm, sv);
    for (int d = 0; d < 2; d++) {
        CHECK_NEAR(sm[d], dm[d], 0.1);
        CHECK_NEAR(sv[d], dv[d], 0.2 * dv[d]);
    }
    // the checkpoint gives the same densities; another model's file is refused
    const char *path = check_path("flow.safetensors");
    REQUIRE(realnvp_save(&flow, path, "moons", &error) == 0, "%s", error.message);
    RealNvp loaded;
    char name[32];
    REQUIRE(realnvp_load(&loaded, path, name, sizeof name, &error) == 0, "%s", error.message);
    CHECK(strcmp(name, "moons") == 0 && loaded.config.n_layers == 6 && loaded.config.hidden == 32, "%s", name);
    float a[4], b[4];
    realnvp_log_prob(&flow, data, 4, a, &error);
    realnvp_log_prob(&loaded, data, 4, b, &error);
    CHECK(memcmp(a, b, sizeof a) == 0, "log p differs after loading: %g %g", (double)a[0], (double)b[0]);
    realnvp_free(&loaded);
    const char *other = check_path("other.safetensors");
    SafetensorsMetadata metadata[] = {{"arch", "gcn"}};
    REQUIRE(state_dict_save(&flow.params, other, metadata, 1, &error) == 0, "%s", error.message);
    CHECK(realnvp_load(&loaded, other, NULL, 0, &error) != 0 && strstr(error.message, "a gcn checkpoint, not a realnvp"),
          "%s", error.message);
    realnvp_free(&flow);
}

static const CheckCase CASES[] = {
    {"inverse inverts", inverse_inverts},
    {"log det matches finite differences", log_det_matches_finite_differences},
    {"density integrates to one", density_integrates_to_one},
    {"trains on moons and samples them", trains_on_moons_and_samples_them},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
