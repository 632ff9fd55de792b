// Overlap of binary masks: see overlap.h.
#include "foundations/overlap.h"

void overlap_add(Overlap *overlap, const unsigned char *predicted, const unsigned char *target, long n) {
    for (long i = 0; i < n; i++) {
        int p = predicted[i] != 0, t = target[i] != 0;
        overlap->intersection += p & t;
        overlap->predicted += p;
        overlap->target += t;
    }
}

// |P ∩ T| / |P ∪ T|
double overlap_iou(const Overlap *overlap) {
    long union_count = overlap->predicted + overlap->target - overlap->intersection;
    return union_count > 0 ? (double)overlap->intersection / (double)union_count : 1.0;
}

// 2 |P ∩ T| / (|P| + |T|)
double overlap_dice(const Overlap *overlap) {
    long sum = overlap->predicted + overlap->target;
    return sum > 0 ? 2.0 * (double)overlap->intersection / (double)sum : 1.0;
}
