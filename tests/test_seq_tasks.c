// The toy sequence tasks (models/seq_tasks.h): every example follows its rule, checked here by
// an independent reading of the source; held-out sources never occur in training; the sets
// are reproducible from the seed; text and ids convert both ways; bad text is an error.
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "models/seq_tasks.h"
#include "tests/check.h"

static void example_text(const SeqDataset *d, int i, char *source, char *target) {
    seq_decode(d->source + (size_t)i * (size_t)d->max_source, d->source_length[i], source, 64);
    seq_decode(d->target + (size_t)i * (size_t)d->max_target, d->max_target, target, 64);
}

// The layout the header promises: lengths within the maxima, PAD after the source, BOS first,
// EOS at the end of the target and PAD after it.
static int layout_ok(const SeqDataset *d, int i) {
    const int *src = d->source + (size_t)i * (size_t)d->max_source;
    const int *tgt = d->target + (size_t)i * (size_t)d->max_target;
    int ns = d->source_length[i], nt = d->target_length[i];
    if (ns < 1 || ns > d->max_source || nt < 3 || nt > d->max_target) return 0;
    for (int j = 0; j < d->max_source; j++)
        if ((j < ns) != (src[j] > SEQ_EOS)) return 0;
    if (tgt[0] != SEQ_BOS || tgt[nt - 1] != SEQ_EOS) return 0;
    for (int j = 1; j < d->max_target; j++)
        if (j < nt - 1 ? tgt[j] <= SEQ_EOS : j >= nt && tgt[j] != SEQ_PAD) return 0;
    return 1;
}

static int reverse_ok(const char *source, const char *target) {
    size_t n = strlen(source);
    if (n < 8 || n > 16 || strlen(target) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)source[i]) || target[i] != source[n - 1 - i]) return 0;
    return 1;
}

static int addition_ok(const char *source, const char *target) {
    int a, b, sum;
    char rest;
    if (sscanf(source, "%d+%d%c", &a, &b, &rest) != 2 || sscanf(target, "%d%c", &sum, &rest) != 1) return 0;
    return a >= 0 && a <= 9999 && b >= 0 && b <= 9999 && sum == a + b;
}

// The source names the target's date: its year, its day, and its month as a number or a name.
static int dates_ok(const char *source, const char *target) {
    static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};
    int year, month, day;
    char rest;
    if (sscanf(target, "%4d-%2d-%2d%c", &year, &month, &day, &rest) != 3) return 0;
    if (year < 1900 || year > 2099 || month < 1 || month > 12 || day < 1 || day > 31) return 0;
    char text[16];
    snprintf(text, sizeof text, "%d", year);
    if (!strstr(source, text)) return 0;
    int numeric = isdigit((unsigned char)source[0]) && strchr(source, '/') != NULL;
    numeric = numeric || strchr(source, '.') != NULL;
    if (numeric) {
        snprintf(text, sizeof text, "%02d", month);
        if (!strstr(source, text)) return 0;
        snprintf(text, sizeof text, "%02d", day);
        return strstr(source, text) != NULL;
    }
    snprintf(text, sizeof text, "%d", day);
    return strstr(source, months[month - 1]) != NULL && strstr(source, text) != NULL;
}

static void check_task(SeqTask task, int (*rule)(const char *, const char *)) {
    SeqDataset train, test;
    Error error = {{0}};
    REQUIRE(seq_datasets_make(task, 3000, 600, 7, &train, &test, &error) == 0, "%s", error.message);
    int bad_layout = 0, bad_rule = 0, overlap = 0;
    char source[64], target[64], held_out[64], unused[64];
    for (int i = 0; i < train.n + test.n; i++) {
        const SeqDataset *d = i < train.n ? &train : &test;
        int k = i < train.n ? i : i - train.n;
        bad_layout += !layout_ok(d, k);
        example_text(d, k, source, target);
        if (!rule(source, target)) {
            if (bad_rule == 0) fprintf(stderr, "  broken example: '%s' -> '%s'\n", source, target);
            bad_rule++;
        }
    }
    for (int t = 0; t < test.n; t++) {
        example_text(&test, t, held_out, unused);
        for (int i = 0; i < train.n; i++) {
            example_text(&train, i, source, target);
            overlap += strcmp(source, held_out) == 0;
        }
    }
    CHECK(bad_layout == 0, "%d examples of %s break the layout", bad_layout, seq_task_name(task));
    CHECK(bad_rule == 0, "%d examples of %s break the rule", bad_rule, seq_task_name(task));
    CHECK(overlap == 0, "%d held-out sources of %s occur in training", overlap, seq_task_name(task));
    seq_dataset_free(&train);
    seq_dataset_free(&test);
}

static void reverse_follows_its_rule(void) { check_task(SEQ_TASK_REVERSE, reverse_ok); }
static void addition_follows_its_rule(void) { check_task(SEQ_TASK_ADDITION, addition_ok); }
static void dates_follow_their_rule(void) { check_task(SEQ_TASK_DATES, dates_ok); }

// Every one of the six date formats, and sums of every operand length, occur.
static void tasks_cover_their_variety(void) {
    SeqDataset train, test;
    REQUIRE(seq_datasets_make(SEQ_TASK_DATES, 2000, 0, 3, &train, &test, NULL) == 0, "dates");
    int comma = 0, dotted = 0, iso_slash = 0, us_slash = 0, short_name = 0, day_first = 0;
    char source[64], target[64];
    for (int i = 0; i < train.n; i++) {
        example_text(&train, i, source, target);
        comma += strchr(source, ',') != NULL;
        dotted += strchr(source, '.') != NULL;
        iso_slash += source[4] == '/';
        us_slash += source[2] == '/';
        size_t word = strcspn(source, " ");
        short_name += isalpha((unsigned char)source[0]) && word == 3 && !strchr(source, ',');
        day_first += isdigit((unsigned char)source[0]) && strchr(source, ' ') != NULL;
    }
    CHECK(comma > 200 && dotted > 200 && iso_slash > 200 && us_slash > 200 && short_name > 100 && day_first > 200,
          "formats: comma %d dotted %d yyyy/ %d mm/ %d mon %d day-first %d", comma, dotted, iso_slash, us_slash,
          short_name, day_first);
    seq_dataset_free(&train);
    seq_dataset_free(&test);
    REQUIRE(seq_datasets_make(SEQ_TASK_ADDITION, 4000, 0, 3, &train, &test, NULL) == 0, "addition");
    int lengths[10] = {0};
    for (int i = 0; i < train.n; i++) lengths[train.source_length[i]]++;
    for (int n = 3; n <= 9; n++) CHECK(lengths[n] > 0, "no source of %d characters", n);
    seq_dataset_free(&train);
    seq_dataset_free(&test);
}

static void seed_decides_everything(void) {
    SeqDataset a, a_test, b, b_test, c, c_test;
    REQUIRE(seq_datasets_make(SEQ_TASK_REVERSE, 500, 100, 11, &a, &a_test, NULL) == 0, "a");
    REQUIRE(seq_datasets_make(SEQ_TASK_REVERSE, 800, 100, 11, &b, &b_test, NULL) == 0, "b");
    REQUIRE(seq_datasets_make(SEQ_TASK_REVERSE, 500, 100, 12, &c, &c_test, NULL) == 0, "c");
    size_t src = (size_t)a.n * (size_t)a.max_source * sizeof(int);
    size_t held = (size_t)a_test.n * (size_t)a_test.max_source * sizeof(int);
    CHECK(memcmp(a.source, b.source, src) == 0, "the same seed gives other training sources");
    CHECK(memcmp(a_test.source, b_test.source, held) == 0, "the held-out set depends on the training size");
    CHECK(memcmp(a.source, c.source, src) != 0, "another seed gives the same sources");
    seq_dataset_free(&a), seq_dataset_free(&a_test), seq_dataset_free(&b), seq_dataset_free(&b_test);
    seq_dataset_free(&c), seq_dataset_free(&c_test);
}

static void text_and_ids_convert_both_ways(void) {
    int ids[32], n = 0;
    Error error = {{0}};
    CHECK(seq_vocab_size() == 3 + 42, "vocabulary of %d", seq_vocab_size());
    REQUIRE(seq_encode("march 12, 2019", ids, 32, &n, &error) == 0, "%s", error.message);
    CHECK(n == 14 && ids[0] == 3 + 10 + ('m' - 'a') && ids[5] == 3 + 36, "ids %d %d (n %d)", ids[0], ids[5], n);
    int with_specials[34] = {SEQ_BOS};
    memcpy(with_specials + 1, ids, sizeof(int) * (size_t)n);
    with_specials[n + 1] = SEQ_EOS;
    with_specials[n + 2] = 5;  // after EOS: not decoded
    char text[64];
    seq_decode(with_specials, n + 3, text, sizeof text);
    CHECK(strcmp(text, "march 12, 2019") == 0, "decoded '%s'", text);
    seq_decode(with_specials, n + 3, text, 6);
    CHECK(strcmp(text, "march") == 0, "cut to '%s'", text);
    int odd[2] = {999, -4};
    seq_decode(odd, 2, text, sizeof text);
    CHECK(strcmp(text, "??") == 0, "unknown ids gave '%s'", text);
}

static void bad_text_and_counts_are_errors(void) {
    int ids[8], n = 0;
    Error error = {{0}};
    CHECK(seq_encode("ab#c", ids, 8, &n, &error) == -1 && strstr(error.message, "'#' at position 3"), "%s",
          error.message);
    CHECK(seq_encode("March", ids, 8, &n, &error) == -1 && strstr(error.message, "'M'"), "%s", error.message);
    CHECK(seq_encode("123456789", ids, 8, &n, &error) == -1 && strstr(error.message, "longer than the maximum 8"),
          "%s", error.message);
    SeqTask task;
    CHECK(seq_task_parse("sort", &task, &error) == -1 && strstr(error.message, "unknown task 'sort'"), "%s",
          error.message);
    CHECK(seq_task_parse("dates", &task, &error) == 0 && task == SEQ_TASK_DATES, "dates not parsed");
    SeqDataset train, test;
    CHECK(seq_datasets_make(SEQ_TASK_DATES, 0, 10, 1, &train, &test, &error) == -1, "no training examples accepted");
    CHECK(train.source == NULL && test.source == NULL, "a failed make leaves memory behind");
}

static const CheckCase CASES[] = {
    {"reverse follows its rule", reverse_follows_its_rule},
    {"addition follows its rule", addition_follows_its_rule},
    {"dates follow their rule", dates_follow_their_rule},
    {"tasks cover their variety", tasks_cover_their_variety},
    {"seed decides everything", seed_decides_everything},
    {"text and ids convert both ways", text_and_ids_convert_both_ways},
    {"bad text and counts are errors", bad_text_and_counts_are_errors},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
