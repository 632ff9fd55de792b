// Character-level toy tasks: see seq_tasks.h.
#include "models/seq_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/hash.h"

enum { SEQ_SPECIALS = 3 };

int seq_vocab_size(void) { return SEQ_SPECIALS + (int)strlen(SEQ_CHARACTERS); }

static const char *const task_names[] = {"reverse", "addition", "dates"};

int seq_task_parse(const char *name, SeqTask *task, Error *error) {
    for (int t = 0; t < 3; t++)
        if (name && strcmp(name, task_names[t]) == 0) {
            *task = (SeqTask)t;
            return 0;
        }
    return error_set(error, "unknown task '%s' (reverse, addition or dates)", name ? name : "");
}

const char *seq_task_name(SeqTask task) { return task_names[task]; }

// "september 30, 2019" is the longest date; "9999+9999" the longest sum.
int seq_task_max_source(SeqTask task) { return task == SEQ_TASK_REVERSE ? 16 : task == SEQ_TASK_ADDITION ? 9 : 18; }
// BOS + 16 digits + EOS; BOS + "19998" + EOS; BOS + "2019-03-12" + EOS.
int seq_task_max_target(SeqTask task) { return task == SEQ_TASK_REVERSE ? 18 : task == SEQ_TASK_ADDITION ? 7 : 12; }

// ---------------------------------------------------------------------------------------
// the three rules

static void reverse_example(Random *rng, char *source, char *target) {
    int n = 8 + (int)random_below(rng, 9);
    for (int i = 0; i < n; i++) source[i] = (char)('0' + random_below(rng, 10));
    for (int i = 0; i < n; i++) target[i] = source[n - 1 - i];
    source[n] = target[n] = '\0';
}

// A number with d digits (1..4) drawn uniformly among those (0 counts as a 1-digit number).
static int number_with_digits(Random *rng, int d) {
    static const int low[] = {0, 0, 10, 100, 1000};
    return low[d] + (int)random_below(rng, (uint32_t)(low[d] * 9 + (d == 1 ? 10 : 0)));
}

// The number of digits of each operand is uniform in 1..4, so short and long sums are equally
// common (drawing the numbers uniformly would make nearly every operand 4 digits long).
static void addition_example(Random *rng, char *source, char *target) {
    int a = number_with_digits(rng, 1 + (int)random_below(rng, 4));
    int b = number_with_digits(rng, 1 + (int)random_below(rng, 4));
    char text[32];  // "9999+9999" and "19998" at most
    snprintf(text, sizeof text, "%d+%d", a, b);
    strcpy(source, text);
    snprintf(text, sizeof text, "%d", a + b);
    strcpy(target, text);
}

static const char *const month_names[] = {"january", "february", "march",     "april",   "may",      "june",
                                          "july",    "august",   "september", "october", "november", "december"};

static int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return days[month - 1] + (month == 2 && leap);
}

// Six ways of writing a date: day-month order, month names full or cut to three letters, and
// numeric forms whose field order is told by the separator and where the year stands.
static void dates_example(Random *rng, char *source, char *target) {
    int year = 1900 + (int)random_below(rng, 200);
    int month = 1 + (int)random_below(rng, 12);
    int day = 1 + (int)random_below(rng, (uint32_t)days_in_month(year, month));
    const char *name = month_names[month - 1];
    // Written to a buffer gcc can see is large enough; the longest result is 18 characters.
    char text[64];
    switch (random_below(rng, 6)) {
    case 0: snprintf(text, sizeof text, "%s %d, %d", name, day, year); break;
    case 1: snprintf(text, sizeof text, "%d %s %d", day, name, year); break;
    case 2: snprintf(text, sizeof text, "%.3s %d %d", name, day, year); break;
    case 3: snprintf(text, sizeof text, "%02d.%02d.%d", day, month, year); break;
    case 4: snprintf(text, sizeof text, "%d/%02d/%02d", year, month, day); break;
    default: snprintf(text, sizeof text, "%02d/%02d/%d", month, day, year); break;
    }
    strcpy(source, text);
    snprintf(text, sizeof text, "%04d-%02d-%02d", year, month, day);
    strcpy(target, text);
}

void seq_task_example(SeqTask task, Random *rng, char *source, char *target) {
    if (task == SEQ_TASK_REVERSE) reverse_example(rng, source, target);
    else if (task == SEQ_TASK_ADDITION) addition_example(rng, source, target);
    else dates_example(rng, source, target);
}

// ---------------------------------------------------------------------------------------
// text and ids

int seq_encode(const char *text, int *ids, int capacity, int *length, Error *error) {
    int n = 0;
    for (const char *c = text; *c; c++, n++) {
        const char *at = strchr(SEQ_CHARACTERS, *c);
        if (!at) {
            unsigned char byte = (unsigned char)*c;
            if (byte >= 0x20 && byte < 0x7f)
                return error_set(error, "character '%c' at position %d is not in the vocabulary (%s)", *c, n + 1,
                                 SEQ_CHARACTERS);
            return error_set(error, "byte 0x%02x at position %d is not in the vocabulary (%s)", byte, n + 1,
                             SEQ_CHARACTERS);
        }
        if (n >= capacity)
            return error_set(error, "text of %zu characters is longer than the maximum %d", strlen(text), capacity);
        ids[n] = SEQ_SPECIALS + (int)(at - SEQ_CHARACTERS);
    }
    *length = n;
    return 0;
}

void seq_decode(const int *ids, int n, char *text, size_t size) {
    int characters = (int)strlen(SEQ_CHARACTERS);
    size_t out = 0;
    for (int i = 0; i < n && ids[i] != SEQ_EOS && out + 1 < size; i++) {
        if (ids[i] == SEQ_BOS || ids[i] == SEQ_PAD) continue;
        int c = ids[i] - SEQ_SPECIALS;
        text[out++] = c >= 0 && c < characters ? SEQ_CHARACTERS[c] : '?';
    }
    text[out] = '\0';
}

// ---------------------------------------------------------------------------------------
// datasets

// A set of source hashes (open addressing, 0 marks a free slot), so the training set can
// skip every held-out source. A hash collision only skips one more training example.
typedef struct HashSet {
    uint64_t *slots;
    size_t capacity;
} HashSet;

static uint64_t source_hash(const char *source) {
    uint64_t h = fnv1a(14695981039346656037ULL, source, strlen(source));
    return h ? h : 1;
}

static int hash_set_init(HashSet *set, int count) {
    set->capacity = 16;
    while (set->capacity < (size_t)count * 2) set->capacity *= 2;
    set->slots = calloc(set->capacity, sizeof *set->slots);
    return set->slots ? 0 : -1;
}

// Returns 1 when h was already present, 0 when inserted.
static int hash_set_insert(HashSet *set, uint64_t h) {
    size_t i = h & (set->capacity - 1);
    while (set->slots[i]) {
        if (set->slots[i] == h) return 1;
        i = (i + 1) & (set->capacity - 1);
    }
    set->slots[i] = h;
    return 0;
}

static int hash_set_contains(const HashSet *set, uint64_t h) {
    size_t i = h & (set->capacity - 1);
    while (set->slots[i]) {
        if (set->slots[i] == h) return 1;
        i = (i + 1) & (set->capacity - 1);
    }
    return 0;
}

static int dataset_alloc(SeqDataset *d, SeqTask task, int n) {
    memset(d, 0, sizeof *d);
    d->task = task;
    d->n = n;
    d->max_source = seq_task_max_source(task);
    d->max_target = seq_task_max_target(task);
    size_t count = n > 0 ? (size_t)n : 1;
    d->source = calloc(count * (size_t)d->max_source, sizeof(int));
    d->target = calloc(count * (size_t)d->max_target, sizeof(int));
    d->source_length = calloc(count, sizeof(int));
    d->target_length = calloc(count, sizeof(int));
    return d->source && d->target && d->source_length && d->target_length ? 0 : -1;
}

// Stores example i; the text comes from the task's own rule, so it always encodes and fits.
static void dataset_store(SeqDataset *d, int i, const char *source, const char *target) {
    int *src = d->source + (size_t)i * (size_t)d->max_source;
    int *tgt = d->target + (size_t)i * (size_t)d->max_target;
    int n = 0;
    seq_encode(source, src, d->max_source, &n, NULL);
    d->source_length[i] = n;
    tgt[0] = SEQ_BOS;
    seq_encode(target, tgt + 1, d->max_target - 2, &n, NULL);
    tgt[n + 1] = SEQ_EOS;
    d->target_length[i] = n + 2;
}

// Draws examples into d until it holds d->n, skipping sources in `exclude` (may be NULL);
// when `seen` is given, every stored source is added to it. Gives up (-1) after 50 draws per
// wanted example: the task cannot make that many distinct sources.
static int dataset_fill(SeqDataset *d, Random *rng, const HashSet *exclude, HashSet *seen) {
    char source[32], target[32];
    long draws = 0, limit = 50L * d->n + 1000;
    for (int i = 0; i < d->n;) {
        if (++draws > limit) return -1;
        seq_task_example(d->task, rng, source, target);
        uint64_t h = source_hash(source);
        if (exclude && hash_set_contains(exclude, h)) continue;
        if (seen && hash_set_insert(seen, h)) continue;  // held-out sources are distinct too
        dataset_store(d, i++, source, target);
    }
    return 0;
}

int seq_datasets_make(SeqTask task, int n_train, int n_test, uint64_t seed, SeqDataset *train, SeqDataset *test,
                      Error *error) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (n_train < 1 || n_test < 0) return error_set(error, "need at least 1 training example and 0 held-out ones");
    if (dataset_alloc(train, task, n_train) || dataset_alloc(test, task, n_test)) {
        seq_dataset_free(train);
        seq_dataset_free(test);
        return error_set(error, "out of memory for %d + %d examples", n_train, n_test);
    }
    HashSet held_out = {0};
    if (hash_set_init(&held_out, n_test)) {
        seq_dataset_free(train);
        seq_dataset_free(test);
        return error_set(error, "out of memory for %d held-out sources", n_test);
    }
    // The held-out set has its own stream, so its examples do not depend on n_train.
    Random test_rng, train_rng;
    random_seed(&test_rng, seed ^ 0x5eed7e57ULL);
    random_seed(&train_rng, seed);
    int status = dataset_fill(test, &test_rng, NULL, &held_out);
    if (!status) status = dataset_fill(train, &train_rng, &held_out, NULL);
    free(held_out.slots);
    if (status) {
        seq_dataset_free(train);
        seq_dataset_free(test);
        return error_set(error, "the %s task cannot make %d held-out and %d training examples apart",
                         task_names[task], n_test, n_train);
    }
    return 0;
}

void seq_dataset_free(SeqDataset *dataset) {
    free(dataset->source);
    free(dataset->source_length);
    free(dataset->target);
    free(dataset->target_length);
    memset(dataset, 0, sizeof *dataset);
}
