// Two-dimensional toy distributions for density models (flows, score models): points drawn
// from a fixed seed, so every run and every machine sees the same data set.
//   moons     two interleaved half circles (radius 1, centres (0,0) and (1,−0.5)), shifted to
//             be centred at the origin, Gaussian noise σ = 0.08
//   spirals   two opposite arms r = 2.5·θ/(3π), θ in [π/2, 3π], Gaussian noise σ = 0.05
//   gaussians eight Gaussians of σ = 0.15 with centres on a circle of radius 2 (equal weights)
// Each point also has its component (moon, arm, Gaussian) as a label, for colouring pictures.
#ifndef MODELS_TOY2D_H
#define MODELS_TOY2D_H

#include <stdint.h>

#include "foundations/error.h"

typedef enum { TOY2D_MOONS, TOY2D_SPIRALS, TOY2D_GAUSSIANS } Toy2dKind;

// "moons", "spirals", "gaussians"; fails on another name (listing these).
int toy2d_parse(const char *name, Toy2dKind *kind, Error *error);
const char *toy2d_name(Toy2dKind kind);
// n points into xy (n, 2) and their components into label (n) (or NULL), from seed.
void toy2d_sample(Toy2dKind kind, int n, uint64_t seed, float *xy, int *label);

#endif
