// Loss landscapes (roadmap module 12): Li, Xu, Taylor, Studer and Goldstein, "Visualizing the
// loss landscape of neural nets", NeurIPS 2018. The training loss L(θ) of a trained network θ*
// seen along low-dimensional slices of its parameter space:
//
//   line      L((1 − t) θ₀ + t θ*)            from the initialisation θ₀ (t = 0) to θ* (t = 1),
//                                             t in [−0.5, 1.5] (Goodfellow, Vinyals and Saxe 2015)
//   surface   L(θ* + α δ + β η)               α, β in [−span, span], δ and η random Gaussian
//                                             directions, filter-normalised:
//             δ_(i) ← δ_(i) / ‖δ_(i)‖ · ‖θ*_(i)‖   for every filter i (a row of a Linear weight,
//                                             an output channel of a Conv2d weight), so a step
//                                             of 1 moves each filter by its own size and
//                                             networks of different scales compare; biases and
//                                             batch-norm parameters get direction 0 (as the paper).
//
// The networks: the MNIST MLP of explore/generalisation.h, and a small ResNet (models/resnet.h:
// 2 stages of `blocks` BasicBlocks, widths w and 2w) with its skip connections and without them
// (Li et al.'s "no-short" networks). The loss is the mean cross-entropy on the first n_eval
// training images with batch norm on the statistics of each batch of 250 (training mode; no
// dropout here), so it is a function of the weights alone: the running statistics trained for
// θ* would not match the perturbed weights (measured: losses in the thousands at the plane's
// edge in evaluation mode). Seeded: same setup, same numbers.
#ifndef EXPLORE_LOSS_LANDSCAPE_H
#define EXPLORE_LOSS_LANDSCAPE_H

#include "explore/generalisation.h"

typedef enum { LANDSCAPE_MLP, LANDSCAPE_RESNET, LANDSCAPE_RESNET_NO_SKIP } LandscapeModel;
enum { LANDSCAPE_MODELS = 3, LANDSCAPE_MAX_GRID = 61, LANDSCAPE_MAX_LINE = 201 };

typedef struct LandscapeSetup {
    MnistMlpSetup train;     // data, training images, MLP widths, epochs, batch, lr, seed
    int resnet_width, resnet_blocks;   // the ResNet's first width and blocks per stage
    int resnet_epochs;       // the ResNets train with Adam at lr 0.003 for these epochs
    int n_eval;              // images the loss is measured on
    int grid;                // points per axis of the surface (odd: the centre is a point)
    double span;             // the surface covers [−span, span]²
    int line_points;         // points along t in [−0.5, 1.5]
} LandscapeSetup;

typedef struct Landscape {
    LandscapeModel model;
    const char *name;        // "MLP", "ResNet", "ResNet without skips"
    long parameters;         // trainable values
    double train_accuracy;   // θ* on the n_eval images
    double line_t[LANDSCAPE_MAX_LINE], line_loss[LANDSCAPE_MAX_LINE];
    double surface[LANDSCAPE_MAX_GRID][LANDSCAPE_MAX_GRID];   // [β index][α index]
    double centre_loss;      // L(θ*)
    double surface_min, surface_max;
    // The fraction of interior grid points where the surface curves down along α or β (a
    // negative second difference): 0 on a convex bowl; Li et al. see non-convexity grow when
    // the skips are removed.
    double non_convex_fraction;
    double train_seconds, landscape_seconds;
} Landscape;

// 1,000 training images (the MLP 30 epochs), n_eval 250, grid 15 over [−1, 1]², 21 line points, the ResNet width 8
// with 2 blocks per stage trained by Adam (lr 0.003) for 5 epochs.
LandscapeSetup landscape_default_setup(void);
// Trains the model from the setup's seed and measures its line and surface. Errors: the setup's
// (grid odd in 3..LANDSCAPE_MAX_GRID, line points in 3..LANDSCAPE_MAX_LINE, span > 0,
// n_eval in 1..n_train, ResNet sizes >= 1), the model's, the data's.
int explore_loss_landscape(const LandscapeSetup *setup, LandscapeModel model, Landscape *out, Error *error);
// The setup's checks alone (explore_loss_landscape starts with them).
int landscape_check_setup(const LandscapeSetup *setup, Error *error);

// Filter normalisation of a direction d for the weights w (both shaped as w, rows = the first
// dimension): each row of d rescaled to the norm of w's row (a zero row of d stays zero).
void filter_normalise(float *d, const float *w, int rows, long row_size);

#endif
