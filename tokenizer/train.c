// BPE training: from text to a vocabulary of vocab_size tokens (bpe_train in bpe.h).
//
// The textbook loop (count every adjacent pair, merge the most frequent one, repeat) costs
// O(text length) per merge. This file does the same merges incrementally:
//   1. Pre-split the text into chunks (tokenizer/pretokenize.h) and count each distinct
//      chunk once: merges never cross chunks, so "the" appearing 14000 times is one word
//      of weight 14000. The distinct chunks are laid out back to back as one array of
//      symbols (one per byte at first), linked into a list per chunk.
//   2. Count every adjacent pair once, weighted, and remember where each pair occurs
//      (a list of symbol positions per pair).
//   3. Pick the most frequent pair with a max-heap (lazily invalidated: an entry whose
//      count is stale is re-pushed with the current count when it reaches the top).
//   4. Merge it only where it occurs, adjusting the counts of the neighbouring pairs:
//        x a b y  ->  x t y :  (x,a) -= w, (b,y) -= w, (x,t) += w, (t,y) += w
//      and record where the new pairs occur. Each merge costs O(its occurrences · log).
//
// Rules (the test's naive trainer implements the same ones):
//   - Pairs are counted at every position, overlapping ones included ("aaa" has (a,a)
//     twice), and merged left to right without overlap ("aaa" -> "t a").
//   - Ties: the highest count wins; then the smaller left id; then the smaller right id.
//   - If the winning pair's bytes are already a token (another pair made the same bytes
//     earlier: "ab"+"c" and "a"+"bc"), the pair is merged into that token and no new id
//     is spent, so tokens stay distinct byte strings.
// It does not do: a minimum frequency, special tokens (add them afterwards with
// bpe_add_special), or parallel counting.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/array.h"
#include "foundations/heap.h"
#include "tokenizer/bpe.h"

typedef struct Trainer {
    // Symbols: the distinct chunks back to back; token -1 marks a symbol merged away.
    int32_t *symbol_token, *symbol_next, *symbol_previous, *symbol_weight;  // (n_symbols)
    size_t n_symbols, symbols_capacity;
    // Pairs, indexed by the pair map; occurrences are a linked list per pair in one pool.
    PairMap pair_index;
    int32_t *pair_left, *pair_right, *pair_first, *pair_last, *pair_stamp;
    int64_t *pair_count;
    int32_t n_pairs;
    size_t pairs_capacity;
    int32_t *occurrence_symbol, *occurrence_next;
    int64_t n_occurrences;
    size_t occurrences_capacity;
    // Pairs by (count descending, then smaller left, then smaller right): a min-heap
    // (foundations/heap.h) of {key = -count when pushed, tie = left << 32 | right, value = pair}.
    Heap heap;
    // The vocabulary so far: token bytes and a bytes -> id map.
    unsigned char *token_bytes;
    size_t token_bytes_used, token_bytes_capacity;
    size_t *token_offsets;  // (n_tokens + 1)
    int n_tokens;
    size_t token_offsets_capacity;
    BytesMap token_ids;
    // Pairs touched by the current merge (to push them once).
    int32_t *touched;
    int64_t n_touched;
    size_t touched_capacity;
} Trainer;

static void trainer_free(Trainer *t) {
    free(t->symbol_token), free(t->symbol_next), free(t->symbol_previous), free(t->symbol_weight);
    pair_map_free(&t->pair_index);
    free(t->pair_left), free(t->pair_right), free(t->pair_first), free(t->pair_last), free(t->pair_stamp);
    free(t->pair_count);
    free(t->occurrence_symbol), free(t->occurrence_next);
    heap_free(&t->heap);
    free(t->token_bytes), free(t->token_offsets);
    if (t->token_ids.slots) bytes_map_free(&t->token_ids);
    free(t->touched);
}

// ------------------------------------------------------------------ pairs and occurrences

// The index of pair (left, right), created with count 0 if new; -1 when out of memory.
static int32_t pair_of(Trainer *t, int32_t left, int32_t right) {
    int32_t *slot = pair_map_upsert(&t->pair_index, left, right);
    if (!slot) return -1;
    if (*slot >= 0) return *slot;
    if ((size_t)t->n_pairs == t->pairs_capacity) {  // the pair arrays grow together
        if (t->n_pairs >= INT32_MAX / 2) return -1;
        size_t capacity = array_grown_capacity(t->pairs_capacity, (size_t)t->n_pairs + 1);
        if (array_resize(&t->pair_left, capacity, sizeof *t->pair_left) ||
            array_resize(&t->pair_right, capacity, sizeof *t->pair_right) ||
            array_resize(&t->pair_first, capacity, sizeof *t->pair_first) ||
            array_resize(&t->pair_last, capacity, sizeof *t->pair_last) ||
            array_resize(&t->pair_stamp, capacity, sizeof *t->pair_stamp) ||
            array_resize(&t->pair_count, capacity, sizeof *t->pair_count))
            return -1;
        t->pairs_capacity = capacity;
    }
    int32_t p = t->n_pairs++;
    t->pair_left[p] = left, t->pair_right[p] = right;
    t->pair_first[p] = t->pair_last[p] = -1;
    t->pair_stamp[p] = -1;
    t->pair_count[p] = 0;
    *slot = p;
    return p;
}

// Adds weight to pair (left, right) occurring at symbol position; -1 when out of memory.
static int add_occurrence(Trainer *t, int32_t left, int32_t right, int32_t position, int64_t weight) {
    int32_t p = pair_of(t, left, right);
    if (p < 0) return -1;
    t->pair_count[p] += weight;
    if ((size_t)t->n_occurrences == t->occurrences_capacity) {  // the two arrays grow together
        if (t->n_occurrences >= INT32_MAX / 2) return -1;
        size_t capacity = array_grown_capacity(t->occurrences_capacity, (size_t)t->n_occurrences + 1);
        if (array_resize(&t->occurrence_symbol, capacity, sizeof *t->occurrence_symbol) ||
            array_resize(&t->occurrence_next, capacity, sizeof *t->occurrence_next))
            return -1;
        t->occurrences_capacity = capacity;
    }
    int32_t o = (int32_t)t->n_occurrences++;
    t->occurrence_symbol[o] = position;
    t->occurrence_next[o] = -1;
    if (t->pair_last[p] >= 0) t->occurrence_next[t->pair_last[p]] = o;
    else t->pair_first[p] = o;
    t->pair_last[p] = o;
    return 0;
}

// ------------------------------------------------------------------ the heap

// Pushes pair with its current count (see Trainer.heap for the order).
static int push_pair(Trainer *t, int32_t pair) {
    int64_t tie = (int64_t)t->pair_left[pair] << 32 | t->pair_right[pair];  // ids < 2^24
    return heap_push(&t->heap, (HeapItem){-t->pair_count[pair], tie, pair});
}

// The best pair with a positive count, or -1 when none is left (or out of memory: *failed).
static int32_t best_pair(Trainer *t, int *failed) {
    while (t->heap.count) {
        HeapItem top = heap_pop(&t->heap);
        int32_t pair = (int32_t)top.value;
        int64_t count = t->pair_count[pair], pushed_count = -top.key;
        if (count == pushed_count && count > 0) return pair;
        // A stale entry: counts only fall, so the pair goes back with its smaller count.
        if (count > 0 && count < pushed_count && push_pair(t, pair) != 0) {
            *failed = 1;
            return -1;
        }
    }
    return -1;
}

// ------------------------------------------------------------------ vocabulary

// Appends token bytes[n] as id n_tokens; -1 when out of memory.
static int add_token(Trainer *t, const unsigned char *bytes, size_t n) {
    if (array_reserve(&t->token_offsets, &t->token_offsets_capacity, (size_t)t->n_tokens + 2, sizeof *t->token_offsets) ||
        array_reserve(&t->token_bytes, &t->token_bytes_capacity, t->token_bytes_used + n, 1))
        return -1;
    memcpy(t->token_bytes + t->token_bytes_used, bytes, n);
    t->token_offsets[t->n_tokens] = t->token_bytes_used;
    t->token_bytes_used += n;
    t->token_offsets[t->n_tokens + 1] = t->token_bytes_used;
    int inserted;
    int64_t *value = bytes_map_upsert(&t->token_ids, bytes, n, bytes_hash(bytes, n), &inserted);
    if (!value) return -1;
    *value = t->n_tokens++;
    return 0;
}

// ------------------------------------------------------------------ setup

// Lays out one distinct chunk as symbols (one per byte) with its weight.
static int add_chunk(Trainer *t, const unsigned char *chunk, size_t n, int64_t weight) {
    if ((int64_t)(t->n_symbols + n) >= INT32_MAX) return -1;
    if (t->n_symbols + n > t->symbols_capacity) {  // the symbol arrays grow together
        size_t capacity = array_grown_capacity(t->symbols_capacity, t->n_symbols + n);
        if (array_resize(&t->symbol_token, capacity, sizeof *t->symbol_token) ||
            array_resize(&t->symbol_next, capacity, sizeof *t->symbol_next) ||
            array_resize(&t->symbol_previous, capacity, sizeof *t->symbol_previous) ||
            array_resize(&t->symbol_weight, capacity, sizeof *t->symbol_weight))
            return -1;
        t->symbols_capacity = capacity;
    }
    int32_t first = (int32_t)t->n_symbols;
    for (size_t k = 0; k < n; k++) {
        int32_t i = first + (int32_t)k;
        t->symbol_token[i] = chunk[k];
        t->symbol_previous[i] = k ? i - 1 : -1;
        t->symbol_next[i] = k + 1 < n ? i + 1 : -1;
        t->symbol_weight[i] = (int32_t)weight;
    }
    t->n_symbols += n;
    return 0;
}

static int setup(Trainer *t, const unsigned char *text, size_t n, int pattern) {
    if (pattern == PATTERN_NONE) {
        if (add_chunk(t, text, n, 1) != 0) return -1;
    } else {
        BytesMap chunks;
        if (bytes_map_init(&chunks, 1 << 14) != 0) return -1;
        int status = 0;
        for (size_t start = 0; start < n && status == 0;) {
            size_t end = pretokenize_chunk_end(text, n, start, pattern);
            int inserted;
            int64_t *count = bytes_map_upsert(&chunks, text + start, end - start, bytes_hash(text + start, end - start),
                                              &inserted);
            if (!count) status = -1;
            else ++*count;
            start = end;
        }
        for (size_t k = 0; k < chunks.capacity && status == 0; k++) {
            const BytesMapSlot *slot = &chunks.slots[k];
            if (slot->hash && slot->key_length > 1)  // one-byte chunks have no pairs
                status = add_chunk(t, bytes_map_key(&chunks, slot), slot->key_length, slot->value);
        }
        bytes_map_free(&chunks);
        if (status != 0) return -1;
    }
    if (pair_map_init(&t->pair_index, 1 << 16) != 0) return -1;
    for (size_t i = 0; i < t->n_symbols; i++) {
        int32_t j = t->symbol_next[i];
        if (j >= 0 && add_occurrence(t, t->symbol_token[i], t->symbol_token[j], (int32_t)i, t->symbol_weight[i]) != 0)
            return -1;
    }
    for (int32_t p = 0; p < t->n_pairs; p++)
        if (t->pair_count[p] > 0 && push_pair(t, p) != 0) return -1;
    if (bytes_map_init(&t->token_ids, 1 << 12) != 0) return -1;
    for (int b = 0; b < 256; b++) {
        unsigned char byte = (unsigned char)b;
        if (add_token(t, &byte, 1) != 0) return -1;
    }
    return 0;
}

// ------------------------------------------------------------------ one merge

static int touch(Trainer *t, int32_t pair, int32_t stamp) {
    if (t->pair_stamp[pair] == stamp) return 0;
    t->pair_stamp[pair] = stamp;
    if (array_reserve(&t->touched, &t->touched_capacity, (size_t)t->n_touched + 1, sizeof *t->touched)) return -1;
    t->touched[t->n_touched++] = pair;
    return 0;
}

// x a b y -> x new y at one occurrence (symbol i holds a, its next holds b).
static int merge_at(Trainer *t, int32_t pair, int32_t i, int32_t new_token, int32_t stamp) {
    int32_t a = t->pair_left[pair], b = t->pair_right[pair];
    int32_t j = t->symbol_next[i];
    int64_t weight = t->symbol_weight[i];
    int32_t x = t->symbol_previous[i], y = t->symbol_next[j];
    if (x >= 0) {
        t->pair_count[pair_map_get(&t->pair_index, t->symbol_token[x], a)] -= weight;
        if (add_occurrence(t, t->symbol_token[x], new_token, x, weight) != 0) return -1;
        if (touch(t, pair_map_get(&t->pair_index, t->symbol_token[x], new_token), stamp) != 0) return -1;
    }
    if (y >= 0) {
        t->pair_count[pair_map_get(&t->pair_index, b, t->symbol_token[y])] -= weight;
        if (add_occurrence(t, new_token, t->symbol_token[y], i, weight) != 0) return -1;
        if (touch(t, pair_map_get(&t->pair_index, new_token, t->symbol_token[y]), stamp) != 0) return -1;
    }
    t->pair_count[pair] -= weight;
    t->symbol_token[i] = new_token;
    t->symbol_token[j] = -1;
    t->symbol_next[i] = y;
    if (y >= 0) t->symbol_previous[y] = i;
    return 0;
}

static int compare_int32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

// Merges every occurrence of pair into new_token, left to right within each chunk.
static int merge_pair(Trainer *t, int32_t pair, int32_t new_token, int32_t stamp) {
    int32_t a = t->pair_left[pair], b = t->pair_right[pair];
    t->n_touched = 0;
    // Positions of the pair, in list order. Only a pair like (a, a) can overlap itself,
    // and there "left to right" matters: sort its positions.
    int64_t n_positions = 0;
    for (int32_t o = t->pair_first[pair]; o >= 0; o = t->occurrence_next[o]) n_positions++;
    int32_t *positions = malloc(sizeof(int32_t) * (size_t)(n_positions ? n_positions : 1));
    if (!positions) return -1;
    int64_t k = 0;
    for (int32_t o = t->pair_first[pair]; o >= 0; o = t->occurrence_next[o]) positions[k++] = t->occurrence_symbol[o];
    if (a == b) qsort(positions, (size_t)n_positions, sizeof(int32_t), compare_int32);
    t->pair_first[pair] = t->pair_last[pair] = -1;  // all of them are used up now
    int status = 0;
    for (k = 0; k < n_positions && status == 0; k++) {
        int32_t i = positions[k], j = t->symbol_next[i];
        // Stale entries: the symbol was merged away or changed, or its neighbour did.
        if (t->symbol_token[i] != a || j < 0 || t->symbol_token[j] != b) continue;
        status = merge_at(t, pair, i, new_token, stamp);
    }
    free(positions);
    for (k = 0; k < t->n_touched && status == 0; k++)
        if (t->pair_count[t->touched[k]] > 0) status = push_pair(t, t->touched[k]);
    return status;
}

// ------------------------------------------------------------------ the loop

int bpe_train(Bpe *bpe, const unsigned char *text, size_t n, int vocab_size, int pattern, BpeProgress progress,
              void *progress_context, Error *error) {
    memset(bpe, 0, sizeof *bpe);
    if (n == 0) return error_set(error, "empty training text");
    if (vocab_size != 0 && (vocab_size < 256 || vocab_size > (1 << 24)))
        return error_set(error, "vocabulary size %d: must be 256..%d (256 byte tokens + merges), or 0 for as many as the text allows",
                         vocab_size, 1 << 24);
    if (n >= INT32_MAX / 2) return error_set(error, "training text of %zu bytes is too large (at most 1 GB)", n);
    Trainer t;
    memset(&t, 0, sizeof t);
    if (setup(&t, text, n, pattern) != 0) {
        trainer_free(&t);
        return error_set(error, "out of memory preparing the training text (%zu bytes)", n);
    }
    int status = 0, wanted = vocab_size ? vocab_size - 256 : 0;
    int32_t stamp = 0;
    unsigned char *merged = NULL;
    size_t merged_capacity = 0;
    while (vocab_size == 0 || t.n_tokens < vocab_size) {
        int failed = 0;
        int32_t pair = best_pair(&t, &failed);
        if (failed) {
            status = error_set(error, "out of memory while training");
            break;
        }
        if (pair < 0) {
            if (vocab_size != 0)
                status = error_set(error, "vocabulary size %d is more than this text allows: it has pairs for only %d merges (vocabulary size %d)",
                                   vocab_size, t.n_tokens - 256, t.n_tokens);
            break;
        }
        // The new token's bytes: an existing token if another pair already made them.
        int32_t a = t.pair_left[pair], b = t.pair_right[pair];
        size_t length_a = t.token_offsets[a + 1] - t.token_offsets[a];
        size_t length_b = t.token_offsets[b + 1] - t.token_offsets[b];
        if (array_reserve(&merged, &merged_capacity, length_a + length_b, 1)) {
            status = error_set(error, "out of memory while training");
            break;
        }
        memcpy(merged, t.token_bytes + t.token_offsets[a], length_a);
        memcpy(merged + length_a, t.token_bytes + t.token_offsets[b], length_b);
        size_t length = length_a + length_b;
        int64_t *existing = bytes_map_find(&t.token_ids, merged, length, bytes_hash(merged, length));
        int32_t new_token = existing ? (int32_t)*existing : t.n_tokens;
        if (!existing && add_token(&t, merged, length) != 0) {
            status = error_set(error, "out of memory while training");
            break;
        }
        if (merge_pair(&t, pair, new_token, stamp++) != 0) {
            status = error_set(error, "out of memory while training");
            break;
        }
        if (progress && !existing && (t.n_tokens - 256) % 256 == 0) progress(progress_context, t.n_tokens - 256, wanted);
    }
    free(merged);
    if (status == 0) {
        if (progress) progress(progress_context, t.n_tokens - 256, wanted);
        const unsigned char **tokens = malloc(sizeof *tokens * (size_t)t.n_tokens);
        size_t *lengths = malloc(sizeof *lengths * (size_t)t.n_tokens);
        if (!tokens || !lengths) status = error_set(error, "out of memory while training");
        for (int id = 0; status == 0 && id < t.n_tokens; id++) {
            tokens[id] = t.token_bytes + t.token_offsets[id];
            lengths[id] = t.token_offsets[id + 1] - t.token_offsets[id];
        }
        if (status == 0) status = bpe_from_tokens(bpe, t.n_tokens, tokens, lengths, pattern, error);
        free(tokens), free(lengths);
    }
    trainer_free(&t);
    return status;
}
