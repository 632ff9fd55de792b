// Overlap of a predicted binary mask P with a target mask T (segmentation metrics):
//
//   IoU  = |P ∩ T| / |P ∪ T| = |P ∩ T| / (|P| + |T| − |P ∩ T|)   (Jaccard index, Jaccard 1901)
//   Dice = 2 |P ∩ T| / (|P| + |T|)                                (Dice 1945; Sørensen 1948)
//
// both in [0, 1], 1 for identical masks; Dice = 2·IoU / (1 + IoU). When P and T are both empty
// the masks agree and both are 1 (the formulas give 0/0). The counts accumulate, so one
// Overlap over many images gives the pooled ("micro") figures of the whole set.
#ifndef FOUNDATIONS_OVERLAP_H
#define FOUNDATIONS_OVERLAP_H

typedef struct Overlap {
    long intersection;  // |P ∩ T|
    long predicted;     // |P|
    long target;        // |T|
} Overlap;

// Adds n pixels: predicted and target are 0 (background) or not 0 (foreground).
void overlap_add(Overlap *overlap, const unsigned char *predicted, const unsigned char *target, long n);
double overlap_iou(const Overlap *overlap);
double overlap_dice(const Overlap *overlap);

#endif
