// Two-dimensional toy distributions: see toy2d.h.
#include "models/toy2d.h"

#include <math.h>
#include <string.h>

#include "foundations/random.h"

static const char *const names[] = {"moons", "spirals", "gaussians"};
static const double pi = 3.14159265358979323846;

int toy2d_parse(const char *name, Toy2dKind *kind, Error *error) {
    for (int k = 0; k < 3; k++)
        if (strcmp(name, names[k]) == 0) {
            *kind = (Toy2dKind)k;
            return 0;
        }
    return error_set(error, "unknown data set '%s' (moons, spirals or gaussians)", name);
}

const char *toy2d_name(Toy2dKind kind) { return names[kind]; }

// One point of component c in [0, 2) or [0, 8) before noise.
static void clean_point(Toy2dKind kind, int c, Random *rng, double *x, double *y) {
    double u = random_uniform_double(rng);
    if (kind == TOY2D_MOONS) {
        double t = pi * u;
        // upper moon around (0,0), lower around (1,−0.5); −(0.5, 0.25) centres the pair
        *x = c == 0 ? cos(t) - 0.5 : 1.0 - cos(t) - 0.5;
        *y = c == 0 ? sin(t) - 0.25 : 0.5 - sin(t) - 0.25;
        *x *= 1.5, *y *= 1.5;
    } else if (kind == TOY2D_SPIRALS) {
        double theta = pi / 2 + 2.5 * pi * sqrt(u);  // sqrt: as many points per length outwards
        double r = theta / (3 * pi) * 2.5;
        *x = (c == 0 ? 1 : -1) * r * cos(theta);
        *y = (c == 0 ? 1 : -1) * r * sin(theta);
    } else {
        *x = 2.0 * cos(2 * pi * c / 8);
        *y = 2.0 * sin(2 * pi * c / 8);
    }
}

void toy2d_sample(Toy2dKind kind, int n, uint64_t seed, float *xy, int *label) {
    Random rng;
    random_seed(&rng, seed);
    int components = kind == TOY2D_GAUSSIANS ? 8 : 2;
    float noise = kind == TOY2D_MOONS ? 0.08f : kind == TOY2D_SPIRALS ? 0.05f : 0.15f;
    for (int i = 0; i < n; i++) {
        int c = (int)random_below(&rng, (uint32_t)components);
        double x, y;
        clean_point(kind, c, &rng, &x, &y);
        xy[2 * i] = (float)x + random_normal(&rng, 0.0f, noise);
        xy[2 * i + 1] = (float)y + random_normal(&rng, 0.0f, noise);
        if (label) label[i] = c;
    }
}
