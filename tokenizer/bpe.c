// Byte-level BPE: building the lookup tables, encoding, decoding, special tokens.
// The file formats are in bpe_files.c, training in train.c. See bpe.h for the rules.
#include "tokenizer/bpe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/array.h"
#include "foundations/heap.h"

// ------------------------------------------------------------------ building

void bpe_free(Bpe *bpe) {
    free(bpe->token_bytes);
    free(bpe->token_offsets);
    for (int k = 0; k < bpe->n_specials; k++) free(bpe->specials[k].text);
    free(bpe->specials);
    bytes_map_free(&bpe->ids_by_bytes);
    pair_map_free(&bpe->merges);
    memset(bpe, 0, sizeof *bpe);
}

static const unsigned char *token_at(const Bpe *bpe, int id, size_t *length) {
    *length = bpe->token_offsets[id + 1] - bpe->token_offsets[id];
    return bpe->token_bytes + bpe->token_offsets[id];
}

// With token_bytes/token_offsets filled: checks the tokens and builds the two lookups.
// The merge table holds, for every token and every way of cutting it in two known
// tokens, (left, right) -> token. That is exactly "the pair whose concatenation is a
// token" that encoding asks about, answered with one hash lookup.
static int bpe_build_lookups(Bpe *bpe, Error *error) {
    if (bytes_map_init(&bpe->ids_by_bytes, (size_t)bpe->n_tokens) != 0 ||
        pair_map_init(&bpe->merges, (size_t)bpe->n_tokens * 2) != 0)
        return error_set(error, "out of memory building the tokenizer's tables");
    for (int b = 0; b < 256; b++) bpe->byte_tokens[b] = -1;
    for (int id = 0; id < bpe->n_tokens; id++) {
        size_t length;
        const unsigned char *token = token_at(bpe, id, &length);
        if (length == 0) return error_set(error, "token %d is empty", id);
        int inserted;
        int64_t *value = bytes_map_upsert(&bpe->ids_by_bytes, token, length, bytes_hash(token, length), &inserted);
        if (!value) return error_set(error, "out of memory building the tokenizer's tables");
        if (!inserted) return error_set(error, "tokens %d and %d have the same bytes", (int)*value, id);
        *value = id;
        if (length == 1) bpe->byte_tokens[token[0]] = id;
    }
    for (int b = 0; b < 256; b++)
        if (bpe->byte_tokens[b] < 0) return error_set(error, "no token for the byte 0x%02x", b);
    for (int id = 0; id < bpe->n_tokens; id++) {
        size_t length;
        const unsigned char *token = token_at(bpe, id, &length);
        for (size_t cut = 1; cut < length; cut++) {
            int64_t *left = bytes_map_find(&bpe->ids_by_bytes, token, cut, bytes_hash(token, cut));
            if (!left) continue;
            int64_t *right = bytes_map_find(&bpe->ids_by_bytes, token + cut, length - cut,
                                            bytes_hash(token + cut, length - cut));
            if (!right) continue;
            int32_t *merged = pair_map_upsert(&bpe->merges, (int32_t)*left, (int32_t)*right);
            if (!merged) return error_set(error, "out of memory building the tokenizer's tables");
            *merged = id;
        }
    }
    return 0;
}

int bpe_from_tokens(Bpe *bpe, int n_tokens, const unsigned char *const *tokens, const size_t *lengths, int pattern,
                    Error *error) {
    memset(bpe, 0, sizeof *bpe);
    if (n_tokens < 256) return error_set(error, "a byte-level tokenizer needs at least 256 tokens, got %d", n_tokens);
    bpe->n_tokens = n_tokens;
    bpe->pattern = pattern;
    size_t total = 0;
    for (int k = 0; k < n_tokens; k++) total += lengths[k];
    bpe->token_bytes = malloc(total ? total : 1);
    bpe->token_offsets = malloc(sizeof(size_t) * ((size_t)n_tokens + 1));
    if (!bpe->token_bytes || !bpe->token_offsets) {
        bpe_free(bpe);
        return error_set(error, "out of memory for %d tokens", n_tokens);
    }
    bpe->token_offsets[0] = 0;
    for (int k = 0; k < n_tokens; k++) {
        memcpy(bpe->token_bytes + bpe->token_offsets[k], tokens[k], lengths[k]);
        bpe->token_offsets[k + 1] = bpe->token_offsets[k] + lengths[k];
    }
    if (bpe_build_lookups(bpe, error) != 0) {
        bpe_free(bpe);
        return -1;
    }
    return 0;
}

int bpe_add_special(Bpe *bpe, const char *text, int id, Error *error) {
    size_t length = strlen(text);
    if (length == 0) return error_set(error, "special token %d has empty text", id);
    if (id < bpe->n_tokens) return error_set(error, "special token '%s' has id %d, which is an ordinary token's", text, id);
    for (int k = 0; k < bpe->n_specials; k++) {
        if (bpe->specials[k].id == id) return error_set(error, "special tokens '%s' and id %d collide", text, id);
        if (bpe->specials[k].length == length && memcmp(bpe->specials[k].text, text, length) == 0)
            return error_set(error, "special token '%s' given twice", text);
    }
    if (array_resize(&bpe->specials, (size_t)bpe->n_specials + 1, sizeof *bpe->specials))
        return error_set(error, "out of memory");
    unsigned char *copy = malloc(length);
    if (!copy) return error_set(error, "out of memory");
    memcpy(copy, text, length);
    bpe->specials[bpe->n_specials++] = (BpeSpecial){copy, length, id};
    return 0;
}

int bpe_vocab_size(const Bpe *bpe) {
    int size = bpe->n_tokens;
    for (int k = 0; k < bpe->n_specials; k++)
        if (bpe->specials[k].id + 1 > size) size = bpe->specials[k].id + 1;
    return size;
}

const unsigned char *bpe_token(const Bpe *bpe, int id, size_t *length) {
    if (id >= 0 && id < bpe->n_tokens) return token_at(bpe, id, length);
    for (int k = 0; k < bpe->n_specials; k++)
        if (bpe->specials[k].id == id) {
            *length = bpe->specials[k].length;
            return bpe->specials[k].text;
        }
    return NULL;
}

// ------------------------------------------------------------------ encoding

typedef struct IdBuffer {
    int *ids;
    size_t count, capacity;
} IdBuffer;

static int id_buffer_push(IdBuffer *buffer, int id) {
    if (buffer->count == buffer->capacity &&
        array_reserve(&buffer->ids, &buffer->capacity, buffer->count + 1, sizeof *buffer->ids))
        return -1;
    buffer->ids[buffer->count++] = id;
    return 0;
}

// Merge candidates inside one chunk go on a min-heap (foundations/heap.h) as items
// {key = rank, tie = position}: the pair starting at part `position` would become token
// `rank`; lowest rank first, leftmost on a tie.

// Scratch memory for merging one chunk, reused from chunk to chunk. For a chunk of L bytes:
// tokens, next, previous (L) form a linked list of the current parts (part i starts at
// byte i; tokens[i] = -1 once part i has been merged into its left neighbour).
typedef struct ChunkScratch {
    int *tokens, *next, *previous;
    size_t capacity;
    Heap candidates;
} ChunkScratch;

static int scratch_reserve(ChunkScratch *s, size_t length) {
    if (length <= s->capacity) return 0;
    free(s->tokens), free(s->next), free(s->previous);
    s->tokens = malloc(sizeof(int) * length);
    s->next = malloc(sizeof(int) * length);
    s->previous = malloc(sizeof(int) * length);
    s->capacity = s->tokens && s->next && s->previous ? length : 0;
    return s->capacity ? 0 : -1;
}

static int push_candidate(const Bpe *bpe, ChunkScratch *s, int position) {
    int right = s->next[position];
    if (right < 0) return 0;
    int rank = pair_map_get(&bpe->merges, s->tokens[position], s->tokens[right]);
    return rank < 0 ? 0 : heap_push(&s->candidates, (HeapItem){rank, position, 0});
}

// The BPE merge loop on one chunk[length] that is not a token itself; appends its ids.
// O(L log L): a heap of candidate merges, invalidated lazily (a popped candidate is
// used only if its pair is still there and still makes the same token).
static int merge_chunk(const Bpe *bpe, const unsigned char *chunk, size_t length, ChunkScratch *s, IdBuffer *out) {
    if (scratch_reserve(s, length) != 0) return -1;
    int n = (int)length;
    for (int i = 0; i < n; i++) {
        s->tokens[i] = bpe->byte_tokens[chunk[i]];
        s->previous[i] = i - 1;
        s->next[i] = i + 1 < n ? i + 1 : -1;
    }
    s->candidates.count = 0;
    for (int i = 0; i + 1 < n; i++)
        if (push_candidate(bpe, s, i) != 0) return -1;
    while (s->candidates.count) {
        HeapItem best = heap_pop(&s->candidates);
        int rank = (int)best.key, left = (int)best.tie, right = s->next[left];
        if (s->tokens[left] < 0 || right < 0) continue;
        if (pair_map_get(&bpe->merges, s->tokens[left], s->tokens[right]) != rank) continue;
        s->tokens[left] = rank;
        s->tokens[right] = -1;
        s->next[left] = s->next[right];
        if (s->next[right] >= 0) s->previous[s->next[right]] = left;
        if (s->previous[left] >= 0 && push_candidate(bpe, s, s->previous[left]) != 0) return -1;
        if (push_candidate(bpe, s, left) != 0) return -1;
    }
    for (int i = 0; i >= 0; i = s->next[i])
        if (id_buffer_push(out, s->tokens[i]) != 0) return -1;
    return 0;
}

// Chunks up to this length are remembered (in `cache`, ids in `cache_ids`) so that a
// repeated word is merged once per call. Longer chunks are rare and seldom repeat.
enum { CACHE_MAX_CHUNK = 256 };

typedef struct EncodeState {
    const Bpe *bpe;
    IdBuffer out;
    ChunkScratch scratch;
    BytesMap cache;       // chunk bytes -> offset in cache_ids, where [count, ids...] are stored
    IdBuffer cache_ids;
    int cache_ready;
} EncodeState;

static int encode_chunk(EncodeState *state, const unsigned char *chunk, size_t length) {
    const Bpe *bpe = state->bpe;
    uint64_t hash = bytes_hash(chunk, length);
    int64_t *whole = bytes_map_find(&bpe->ids_by_bytes, chunk, length, hash);
    if (whole) return id_buffer_push(&state->out, (int)*whole);
    if (length > CACHE_MAX_CHUNK) return merge_chunk(bpe, chunk, length, &state->scratch, &state->out);
    if (!state->cache_ready) {
        if (bytes_map_init(&state->cache, 1024) != 0) return -1;
        state->cache_ready = 1;
    }
    int64_t *cached = bytes_map_find(&state->cache, chunk, length, hash);
    if (cached) {
        const int *entry = state->cache_ids.ids + *cached;
        for (int k = 1; k <= entry[0]; k++)
            if (id_buffer_push(&state->out, entry[k]) != 0) return -1;
        return 0;
    }
    size_t first = state->out.count;
    if (merge_chunk(bpe, chunk, length, &state->scratch, &state->out) != 0) return -1;
    int inserted;
    int64_t *slot = bytes_map_upsert(&state->cache, chunk, length, hash, &inserted);
    if (!slot) return -1;
    *slot = (int64_t)state->cache_ids.count;
    if (id_buffer_push(&state->cache_ids, (int)(state->out.count - first)) != 0) return -1;
    for (size_t k = first; k < state->out.count; k++)
        if (id_buffer_push(&state->cache_ids, state->out.ids[k]) != 0) return -1;
    return 0;
}

static int encode_ordinary(EncodeState *state, const unsigned char *text, size_t n) {
    for (size_t start = 0; start < n;) {
        size_t end = pretokenize_chunk_end(text, n, start, state->bpe->pattern);
        if (encode_chunk(state, text + start, end - start) != 0) return -1;
        start = end;
    }
    return 0;
}

// The special token that starts at text[i] (the longest if several do), or -1.
static int special_at(const Bpe *bpe, const unsigned char *text, size_t n, size_t i) {
    int best = -1;
    for (int k = 0; k < bpe->n_specials; k++) {
        const BpeSpecial *s = &bpe->specials[k];
        if (s->length <= n - i && memcmp(text + i, s->text, s->length) == 0 &&
            (best < 0 || s->length > bpe->specials[best].length))
            best = k;
    }
    return best;
}

int bpe_encode(const Bpe *bpe, const unsigned char *text, size_t n, int allow_special, int **ids, size_t *n_ids,
               Error *error) {
    EncodeState state;
    memset(&state, 0, sizeof state);
    state.bpe = bpe;
    int status = 0;
    if (allow_special && bpe->n_specials) {
        // Text between special tokens is encoded on its own (as tiktoken does).
        unsigned char first_bytes[256] = {0};
        for (int k = 0; k < bpe->n_specials; k++) first_bytes[bpe->specials[k].text[0]] = 1;
        size_t segment = 0;
        for (size_t i = 0; i < n && status == 0;) {
            int special = first_bytes[text[i]] ? special_at(bpe, text, n, i) : -1;
            if (special < 0) {
                i++;
                continue;
            }
            status = encode_ordinary(&state, text + segment, i - segment);
            if (status == 0) status = id_buffer_push(&state.out, bpe->specials[special].id);
            i += bpe->specials[special].length;
            segment = i;
        }
        if (status == 0) status = encode_ordinary(&state, text + segment, n - segment);
    } else {
        status = encode_ordinary(&state, text, n);
    }
    free(state.scratch.tokens), free(state.scratch.next), free(state.scratch.previous);
    heap_free(&state.scratch.candidates);
    if (state.cache_ready) bytes_map_free(&state.cache);
    free(state.cache_ids.ids);
    if (status != 0) {
        free(state.out.ids);
        return error_set(error, "out of memory encoding %zu bytes", n);
    }
    *ids = state.out.ids ? state.out.ids : malloc(sizeof(int));
    *n_ids = state.out.count;
    return 0;
}

// ------------------------------------------------------------------ decoding

int bpe_decode(const Bpe *bpe, const int *ids, size_t n_ids, unsigned char **text, size_t *n_text, Error *error) {
    size_t total = 0, length;
    for (size_t k = 0; k < n_ids; k++) {
        if (!bpe_token(bpe, ids[k], &length))
            return error_set(error, "id %d at position %zu is not a token (vocabulary size %d)", ids[k], k,
                             bpe_vocab_size(bpe));
        total += length;
    }
    unsigned char *out = malloc(total + 1);
    if (!out) return error_set(error, "out of memory decoding %zu ids", n_ids);
    size_t at = 0;
    for (size_t k = 0; k < n_ids; k++) {
        const unsigned char *token = bpe_token(bpe, ids[k], &length);
        memcpy(out + at, token, length);
        at += length;
    }
    out[total] = 0;
    *text = out;
    *n_text = total;
    return 0;
}
