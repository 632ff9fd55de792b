// A classifier-based score of generated images: a trained classifier (the project's own
// LeNet-5, `groundup train --arch lenet5`) looks at each sample, and two numbers summarise
// what it sees (the idea of the Inception score of Salimans et al. 2016, "Improved Techniques
// for Training GANs", with MNIST's classifier in place of Inception):
//
//   confidence  (1/n) Σ_i max_k p(k | x_i)       high when each sample looks like one digit
//   diversity   H(ĉ) = −Σ_k ĉ_k log₂ ĉ_k, bits   ĉ_k = (1/n) #{i : argmax p(· | x_i) = k},
//               the entropy of the predicted-class histogram: log₂ 10 ≈ 3.32 bits when every
//               digit is generated equally often, 0 when the model makes one digit only.
//
// Real test images give the reference values. Any generator (VAE, GAN, a diffusion sampler)
// scores its samples by handing their pixels here.
//
// What differs from the Inception score: it is exp(E_x KL(p(k|x) ‖ p(k))), one number mixing
// both effects, with the marginal of the probabilities; here the two parts are kept apart and
// the histogram counts the top classes.
#ifndef MODELS_SAMPLE_SCORE_H
#define MODELS_SAMPLE_SCORE_H

#include "nn/trainer.h"

enum { SAMPLE_SCORE_MAX_CLASSES = 64 };

typedef struct SampleScore {
    int count;
    int n_classes;
    double mean_confidence;                     // in [1/K, 1]
    double class_entropy_bits;                  // in [0, log₂ K]
    int class_counts[SAMPLE_SCORE_MAX_CLASSES]; // samples predicted as each class
} SampleScore;

// Scores n images (n, channels, height, width), pixels in [0, 1] as the classifier was trained
// on, in batches without recording. Errors: n < 1, more than 64 classes, images the
// classifier does not take (its forward's error).
int sample_score(const Classifier *classifier, const float *images, int n, int channels, int height, int width,
                 SampleScore *score, Error *error);

// The entropy in bits of the histogram counts (n_classes), from their total.
double class_histogram_entropy_bits(const int *counts, int n_classes);

#endif
