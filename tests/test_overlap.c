// IoU and Dice (foundations/overlap.h) on masks computed by hand.
#include "foundations/overlap.h"
#include "tests/check.h"

// P = {0,1,2,3}, T = {2,3,4} in 6 pixels: |P ∩ T| = 2, |P ∪ T| = 5, IoU 2/5, Dice 4/7.
static void hand_computed_masks(void) {
    unsigned char p[6] = {1, 1, 1, 1, 0, 0}, t[6] = {0, 0, 1, 1, 1, 0};
    Overlap o = {0, 0, 0};
    overlap_add(&o, p, t, 6);
    CHECK(o.intersection == 2 && o.predicted == 4 && o.target == 3, "%ld %ld %ld", o.intersection, o.predicted, o.target);
    CHECK_NEAR(overlap_iou(&o), 2.0 / 5.0, 1e-15);
    CHECK_NEAR(overlap_dice(&o), 4.0 / 7.0, 1e-15);
    // Dice = 2 IoU / (1 + IoU)
    CHECK_NEAR(overlap_dice(&o), 2 * overlap_iou(&o) / (1 + overlap_iou(&o)), 1e-15);
}

// Counts pool over images: a second image P = {0}, T = {0,1} adds 1, 1, 2: IoU 3/7, Dice 6/10.
// Any non-zero byte is foreground.
static void counts_pool_over_images(void) {
    unsigned char p1[6] = {1, 1, 1, 1, 0, 0}, t1[6] = {0, 0, 1, 1, 1, 0}, p2[2] = {255, 0}, t2[2] = {7, 1};
    Overlap o = {0, 0, 0};
    overlap_add(&o, p1, t1, 6);
    overlap_add(&o, p2, t2, 2);
    CHECK_NEAR(overlap_iou(&o), 3.0 / 7.0, 1e-15);
    CHECK_NEAR(overlap_dice(&o), 6.0 / 10.0, 1e-15);
}

static void identical_disjoint_and_empty(void) {
    unsigned char a[4] = {1, 0, 1, 0}, b[4] = {0, 1, 0, 1}, none[4] = {0, 0, 0, 0};
    Overlap same = {0, 0, 0}, disjoint = {0, 0, 0}, empty = {0, 0, 0}, one_empty = {0, 0, 0};
    overlap_add(&same, a, a, 4);
    overlap_add(&disjoint, a, b, 4);
    overlap_add(&empty, none, none, 4);
    overlap_add(&one_empty, none, a, 4);
    CHECK(overlap_iou(&same) == 1.0 && overlap_dice(&same) == 1.0, "identical masks");
    CHECK(overlap_iou(&disjoint) == 0.0 && overlap_dice(&disjoint) == 0.0, "disjoint masks");
    CHECK(overlap_iou(&empty) == 1.0 && overlap_dice(&empty) == 1.0, "two empty masks agree");
    CHECK(overlap_iou(&one_empty) == 0.0 && overlap_dice(&one_empty) == 0.0, "an empty prediction of a digit");
}

static const CheckCase CASES[] = {
    {"hand-computed masks", hand_computed_masks},
    {"counts pool over images", counts_pool_over_images},
    {"identical, disjoint and empty masks", identical_disjoint_and_empty},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
