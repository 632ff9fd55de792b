// Data-parallel training (gpt/train.h, foundations/distributed.h) is the same run as one
// process: N ranks with shares of a global batch give the losses and final parameters of one
// process with the whole batch, and so does gradient accumulation; a checkpoint written by N
// ranks resumes on 1 and one written alone resumes on N; bad shapes are errors on every rank;
// a failing rank, a stop on one rank and parameters that drift apart end every rank.
//
// ctest runs this alone (a job of one: accumulation, resuming, the checks) and, when the
// build has MPI, as 2 ranks under mpirun (test_mpi_train_2_ranks). Every rank runs every
// case; the reference runs (distributed = NULL) are computed by each rank on its own.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/distributed.h"
#include "gpt/checkpoint.h"
#include "gpt/gpt2.h"
#include "gpt/train.h"
#include "tests/check.h"
#include "tests/names_fixture.h"

static Distributed job;  // joined once in main

enum { STEPS = 20, T = 16 };

static ModelConfig tiny_gpt2(int V) {
    ModelConfig c = {.arch = ARCH_GPT2, .vocab_size = V, .context_length = T, .n_layers = 2, .n_heads = 2,
                     .d_model = 32};
    return c;
}

static TrainConfig tiny_run(int batch) {
    TrainConfig c = train_default_config();
    c.batch_size = batch;
    c.seq_len = T;
    c.max_steps = STEPS;
    c.learning_rate = 5e-3f;
    c.min_learning_rate = 1e-3f;
    c.warmup_steps = 3;
    c.weight_decay = 0.01f;
    c.eval_every = 5;
    c.eval_batches = 2;
    c.seed = 77;
    return c;
}

// A model and state at step 0 (the same on every rank: seeded).
static int fresh(Model *model, TrainState *state, const Names *names, int batch, Error *error) {
    ModelConfig config = tiny_gpt2(names->V);
    TrainConfig train_config = tiny_run(batch);
    Random init;
    random_seed(&init, 5);
    return model_init(model, &config, &init, error) || train_state_init(state, &train_config, model, "data/names.txt", error);
}

// The largest |a-b| / max(|a|,|b|,floor) over n values.
static double relative_difference(const float *a, const float *b, long n, double floor) {
    double worst = 0.0;
    for (long i = 0; i < n; i++) {
        double scale = fmax(fmax(fabs(a[i]), fabs(b[i])), floor);
        double d = fabs((double)a[i] - b[i]) / scale;
        if (!(d <= worst)) worst = d;  // NaN counts as worst
    }
    return worst;
}

// ||a - b|| / ||a|| over n values.
static double distance_in_norm(const float *a, const float *b, long n) {
    double distance = 0.0, length = 0.0;
    for (long i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        distance += d * d, length += (double)a[i] * a[i];
    }
    return sqrt(distance / length);
}

// Run one: model/state trained alone (distributed NULL) or by the job, with accumulation K.
static int train(Model *model, TrainState *state, const Names *names, const Distributed *distributed, int K,
                 const char *out, Error *error) {
    TrainRun run = {.model = model, .tokenizer = &names->tokenizer, .data = &names->data, .state = state,
                    .out_path = out, .distributed = distributed, .grad_accum = K};
    return train_run(&run, error);
}

// The two runs' curves and parameters agree within 1e-5 (relative).
static void check_same_run(const Model *a, const TrainState *sa, const Model *b, const TrainState *sb,
                           const char *what) {
    CHECK(sa->train_curve.n == STEPS && sb->train_curve.n == STEPS, "%s: %d and %d steps", what, sa->train_curve.n,
          sb->train_curve.n);
    if (sa->train_curve.n != sb->train_curve.n || sa->val_curve.n != sb->val_curve.n) return;
    double losses = relative_difference(sa->train_curve.losses, sb->train_curve.losses, sa->train_curve.n, 1e-30);
    double validation = relative_difference(sa->val_curve.losses, sb->val_curve.losses, sa->val_curve.n, 1e-30);
    // Parameters: the distance of the two vectors relative to their length, ||a - b|| / ||a||.
    // Not element by element: the key bias's gradient is zero in exact arithmetic (a constant
    // added to every key shifts a row of attention scores, which softmax ignores), so what the
    // runs compute for it is rounding, which Adam's normalised step m/√v turns into steps of
    // size ~lr in either direction; a few other weights with gradients near zero do the same.
    double parameters = distance_in_norm(a->params, b->params, a->n_params);
    CHECK(losses <= 1e-5, "%s: train losses differ by %.3g relative", what, losses);
    CHECK(validation <= 1e-5, "%s: validation losses differ by %.3g relative", what, validation);
    CHECK(parameters <= 1e-5, "%s: parameters differ by %.3g relative (in norm)", what, parameters);
    CHECK(sa->train_curve.losses[STEPS - 1] < sa->train_curve.losses[0], "%s: it learns: %g -> %g", what,
          sa->train_curve.losses[0], sa->train_curve.losses[STEPS - 1]);
    if (job.rank == 0)
        printf("%s: losses %.2g, validation %.2g (largest relative differences), parameters %.2g (in norm)\n", what, losses,
               validation, parameters);
}

// The job's N ranks with shares of B = 4 sequences of the global batch 4N, and with K = 2
// accumulation steps of 2, against one process with the whole batch 4N.
static void ranks_equal_one_process(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    int batch = 2 * 2 * job.size;
    Model alone, ranked, accumulated;
    TrainState alone_state, ranked_state, accumulated_state;
    Error error;
    REQUIRE(fresh(&alone, &alone_state, &names, batch, &error) == 0 &&
                fresh(&ranked, &ranked_state, &names, batch, &error) == 0 &&
                fresh(&accumulated, &accumulated_state, &names, batch, &error) == 0,
            "%s", error.message);
    CHECK(train(&alone, &alone_state, &names, NULL, 1, NULL, &error) == TRAIN_FINISHED, "%s", error.message);
    CHECK(train(&ranked, &ranked_state, &names, &job, 1, NULL, &error) == TRAIN_FINISHED, "%s", error.message);
    CHECK(train(&accumulated, &accumulated_state, &names, &job, 2, NULL, &error) == TRAIN_FINISHED, "%s",
          error.message);
    char what[64];
    snprintf(what, sizeof what, "%d rank(s) x 4 sequences", job.size);
    check_same_run(&alone, &alone_state, &ranked, &ranked_state, what);
    snprintf(what, sizeof what, "%d rank(s) x 2 accumulation steps x 2 sequences", job.size);
    check_same_run(&alone, &alone_state, &accumulated, &accumulated_state, what);
    // Every rank holds the same parameters (bit for bit) after the run.
    CHECK(distributed_check_same(&job, ranked.params, sizeof(float) * (size_t)ranked.n_params, "the parameters",
                                 &error) == 0,
          "%s", error.message);
    model_free(&alone), model_free(&ranked), model_free(&accumulated);
    train_state_free(&alone_state), train_state_free(&ranked_state), train_state_free(&accumulated_state);
    names_free(&names);
}

// What the backward's layer_gradients_final saw: block l's gradients when it was told.
typedef struct Snapshots {
    const Model *model;
    float *copies[2];
    int calls, order_ok;
} Snapshots;

static void snapshot_layer(void *context, int layer) {
    Snapshots *s = context;
    long offsets[GPT2_LAYER_TENSORS], counts[GPT2_LAYER_TENSORS];
    s->order_ok &= layer == s->model->config.n_layers - 1 - s->calls;
    s->calls++;
    if (layer < 0 || layer > 1) return;
    int n = gpt2_layer_gradients(s->model, layer, offsets, counts);
    for (int i = 0, done = 0; i < n; done += (int)counts[i], i++)
        memcpy(s->copies[layer] + done, s->model->grads + offsets[i], sizeof(float) * (size_t)counts[i]);
}

// GPT-2's backward tells each block, top first, when its gradients are final: what they held
// then is what they hold at the end (the bucketed all-reduce sends them at that moment), and
// the blocks' ranges tile their tensors.
static void the_backward_tells_when_a_block_is_final(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Model model;
    TrainState state;
    Error error;
    REQUIRE(fresh(&model, &state, &names, 4, &error) == 0 && model_prepare(&model, 4, T, 1, &error) == 0, "%s",
            error.message);
    long offsets[GPT2_LAYER_TENSORS], counts[GPT2_LAYER_TENSORS], block = 0;
    int n = gpt2_layer_gradients(&model, 0, offsets, counts);
    for (int i = 0; i < n; i++) block += counts[i];
    Snapshots snapshots = {.model = &model, .copies = {malloc(sizeof(float) * block), malloc(sizeof(float) * block)},
                           .order_ok = 1};
    REQUIRE(snapshots.copies[0] && snapshots.copies[1], "out of memory");
    int inputs[4 * T], targets[4 * T];
    for (int i = 0; i < 4 * T; i++) inputs[i] = names.data.train[i], targets[i] = names.data.train[i + 1];
    memset(model.grads, 0, sizeof(float) * (size_t)model.n_params);
    model.layer_gradients_final = snapshot_layer;
    model.layer_gradients_context = &snapshots;
    REQUIRE(model.ops->forward(&model, inputs, targets, 4, T, &error) == 0 && model_backward(&model, &error) == 0,
            "%s", error.message);
    CHECK(snapshots.calls == 2 && snapshots.order_ok, "told %d times, in order: %d", snapshots.calls,
          snapshots.order_ok);
    for (int layer = 0; layer < 2; layer++) {
        long mismatches = 0, nonzero = 0;
        n = gpt2_layer_gradients(&model, layer, offsets, counts);
        for (int i = 0, done = 0; i < n; done += (int)counts[i], i++) {
            for (long j = 0; j < counts[i]; j++) {
                mismatches += snapshots.copies[layer][done + j] != model.grads[offsets[i] + j];
                nonzero += model.grads[offsets[i] + j] != 0.0f;
            }
            const TensorInfo *t = &model.tensors[2 + i];
            CHECK(offsets[i] == t->offset + layer * counts[i] && counts[i] * 2 == t->size, "block %d, range %d", layer, i);
        }
        CHECK(mismatches == 0 && nonzero > block / 2, "block %d: %ld of %ld changed after it was final (%ld nonzero)",
              layer, mismatches, block, nonzero);
    }
    free(snapshots.copies[0]), free(snapshots.copies[1]);
    model_free(&model), train_state_free(&state), names_free(&names);
}

// The bucketed all-reduce (blocks sent during the backward; buckets of one block here: the
// tiny model's block is 50 KB) gives the single reduction's run: the same losses within
// 1e-6 and parameters, with and without accumulation (whose 1/K the buckets apply after the
// sum). Alone there is nothing to send and it is the plain run.
static void buckets_equal_the_single_reduction(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    int batch = 4 * job.size;
    Model models[3];
    TrainState states[3];
    Error error;
    for (int i = 0; i < 3; i++) {
        REQUIRE(fresh(&models[i], &states[i], &names, batch, &error) == 0, "%s", error.message);
        TrainRun run = {.model = &models[i], .tokenizer = &names.tokenizer, .data = &names.data, .state = &states[i],
                        .distributed = &job, .grad_accum = i == 2 ? 2 : 1,
                        .allreduce = i == 0 ? TRAIN_ALLREDUCE_SINGLE : TRAIN_ALLREDUCE_BUCKETS, .bucket_mb = 0.01};
        CHECK(train_run(&run, &error) == TRAIN_FINISHED, "run %d: %s", i, error.message);
        CHECK(run.reduce_seconds >= 0.0 && (job.size > 1 || run.reduce_seconds == 0.0), "run %d: %g s reducing", i,
              run.reduce_seconds);
    }
    const char *what[3] = {"", "buckets", "buckets, 2 accumulation steps"};
    for (int i = 1; i < 3; i++) {
        CHECK(states[i].train_curve.n == STEPS, "%s: %d steps", what[i], states[i].train_curve.n);
        if (states[i].train_curve.n != STEPS) continue;
        double losses = relative_difference(states[0].train_curve.losses, states[i].train_curve.losses, STEPS, 1e-30);
        double parameters = distance_in_norm(models[0].params, models[i].params, models[0].n_params);
        CHECK(losses <= 1e-6, "%s: train losses differ from the single reduction's by %.3g relative", what[i], losses);
        CHECK(parameters <= 1e-5, "%s: parameters differ by %.3g (in norm)", what[i], parameters);
        if (job.rank == 0)
            printf("%s against the single all-reduce: losses %.2g, parameters %.2g\n", what[i], losses, parameters);
    }
    for (int i = 0; i < 3; i++) model_free(&models[i]), train_state_free(&states[i]);
    names_free(&names);
}

// Rank 0's check_directory path, the same string on every rank (each rank has its own
// temporary directory; rank 0 alone writes checkpoints).
static void shared_path(const char *name, char *path, size_t size) {
    snprintf(path, size, "%s", check_path(name));
    Error error;
    if (distributed_broadcast(&job, path, size, 0, &error)) path[0] = '\0';
}

// Stops a run after `step` steps (on every rank it is installed on).
typedef struct StopAt {
    volatile sig_atomic_t flag;
    long step;
} StopAt;

static void stop_at(void *context, const TrainProgress *progress) {
    StopAt *s = context;
    if (progress->event == TRAIN_EVENT_STEP && progress->step == s->step) s->flag = 1;
}

// Every rank waits for rank 0's file, then reads it: the model and its training state (the
// tokenizer dropped); no training state is an error.
static int load_when_written(const char *path, Model *model, TrainState *state, Error *error) {
    Error ignored;
    double barrier = 0;
    distributed_max(&job, &barrier, &ignored);
    TextTokenizer tokenizer;
    int has_training = 0;
    if (checkpoint_load(path, model, &tokenizer, state, &has_training, error)) return -1;
    text_tokenizer_free(&tokenizer);
    return has_training ? 0 : error_set(error, "%s: no training state", path);
}

// Loads path and trains it to the end, alone or by the job; the result into model/state.
static int resume(const char *path, Model *model, TrainState *state, const Names *names, const Distributed *distributed,
                  int zero, Error *error) {
    if (load_when_written(path, model, state, error)) return -1;
    TrainRun run = {.model = model, .tokenizer = &names->tokenizer, .data = &names->data, .state = state,
                    .distributed = distributed, .zero = zero};
    return train_run(&run, error);
}

// Written by the job's ranks at step 8, resumed alone; written alone at step 8, resumed by
// the job's ranks: both end as the uninterrupted run. With ZeRO stage 1 on the ranks (zero):
// the checkpoint holds the whole optimizer state, gathered, and the ranks take their shards.
static void resumes_on_other_rank_counts(int zero) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    REQUIRE(check_directory()[0], "no temporary directory");
    int batch = 2 * job.size;
    Error error;
    Model whole;
    TrainState whole_state;
    REQUIRE(fresh(&whole, &whole_state, &names, batch, &error) == 0, "%s", error.message);
    CHECK(train(&whole, &whole_state, &names, NULL, 1, NULL, &error) == TRAIN_FINISHED, "%s", error.message);

    char by_ranks[256], by_one[256];
    shared_path("by_ranks.ckpt", by_ranks, sizeof by_ranks);
    shared_path("by_one.ckpt", by_one, sizeof by_one);
    for (int writer_alone = 0; writer_alone < 2; writer_alone++) {
        const char *path = writer_alone ? by_one : by_ranks;
        Model first, resumed;
        TrainState first_state, resumed_state;
        REQUIRE(fresh(&first, &first_state, &names, batch, &error) == 0, "%s", error.message);
        StopAt stopper = {0, 8};
        TrainRun run = {.model = &first, .tokenizer = &names.tokenizer, .data = &names.data, .state = &first_state,
                        .out_path = path, .stop = &stopper.flag, .callback = stop_at, .callback_context = &stopper,
                        .distributed = writer_alone ? NULL : &job, .zero = writer_alone ? 0 : zero};
        // Alone, only rank 0 writes (the other ranks' runs are the same and are not saved).
        if (writer_alone && job.rank != 0) run.out_path = NULL;
        CHECK(train_run(&run, &error) == TRAIN_STOPPED && first_state.step == 8, "stopped at %ld: %s", first_state.step,
              error.message);
        if (!writer_alone) CHECK(run.stop_rank == 0, "every rank asked; the lowest is named: %d", run.stop_rank);
        memset(&resumed, 0, sizeof resumed), memset(&resumed_state, 0, sizeof resumed_state);
        int status = resume(path, &resumed, &resumed_state, &names, writer_alone ? &job : NULL, zero, &error);
        CHECK(status == TRAIN_FINISHED, "%s", error.message);
        char what[96];
        snprintf(what, sizeof what, "%s%s", writer_alone ? "written alone, resumed on the ranks" :
                 "written by the ranks, resumed alone", zero ? " (ZeRO-1 on the ranks)" : "");
        if (status == TRAIN_FINISHED) check_same_run(&whole, &whole_state, &resumed, &resumed_state, what);
        model_free(&first), train_state_free(&first_state);
        model_free(&resumed), train_state_free(&resumed_state);
    }
    model_free(&whole), train_state_free(&whole_state);
    names_free(&names);
}

static void a_checkpoint_resumes_on_other_rank_counts(void) { resumes_on_other_rank_counts(0); }
static void a_zero_checkpoint_resumes_on_other_rank_counts(void) { resumes_on_other_rank_counts(1); }

// During a ZeRO run: the size of the optimizer state each step finds (the largest seen).
typedef struct StateSize {
    const TrainState *state;
    long largest;
} StateSize;

static void record_state_size(void *context, const TrainProgress *progress) {
    StateSize *size = context;
    if (progress->event == TRAIN_EVENT_STEP && size->state->optimizer.n > size->largest)
        size->largest = size->state->optimizer.n;
}

// ZeRO stage 1 (each rank updates its shard with its shard of AdamW's state) is plain data
// parallel: the same losses and parameters within 1e-5 over 20 steps, with the gradients
// clipped by their global norm (clip 0.5 bites) or by value, and with an L1 term; the
// checkpoint at the end holds the whole optimizer state, as plain data parallel's.
static void zero_equals_plain_data_parallel(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    REQUIRE(check_directory()[0], "no temporary directory");
    char path[256];
    shared_path("zero.ckpt", path, sizeof path);
    for (int variant = 0; variant < 2; variant++) {
        Model models[2];
        TrainState states[2];
        Error error;
        for (int zero = 0; zero < 2; zero++) {
            REQUIRE(fresh(&models[zero], &states[zero], &names, 4 * job.size, &error) == 0, "%s", error.message);
            TrainConfig *c = &states[zero].config;
            if (variant == 0) c->grad_clip = 0.5f;
            if (variant == 1) c->grad_clip = 0.0f, c->grad_clip_value = 0.02f, c->l1 = 1e-4f;
            StateSize size = {&states[zero], 0};
            TrainRun run = {.model = &models[zero], .tokenizer = &names.tokenizer, .data = &names.data,
                            .state = &states[zero], .distributed = &job, .zero = zero, .callback = record_state_size,
                            .callback_context = &size, .out_path = zero ? path : NULL};
            CHECK(train_run(&run, &error) == TRAIN_FINISHED, "zero %d: %s", zero, error.message);
            long first, count, n = models[zero].n_trainable;
            distributed_shard(&job, n, job.rank, &first, &count);
            CHECK(size.largest == (zero ? count : n) && run.optimizer_floats == 2 * size.largest,
                  "zero %d: state of %ld (%ld floats) during the run", zero, size.largest, run.optimizer_floats);
            CHECK(states[zero].optimizer.n == (zero && job.size > 1 ? 0 : n), "zero %d: %ld at the end", zero,
                  states[zero].optimizer.n);
        }
        if (variant == 0) CHECK(states[0].norm_curve.losses[0] > 0.5f, "clipping bites: %g", states[0].norm_curve.losses[0]);
        const char *what = variant == 0 ? "ZeRO-1, clipped by norm" : "ZeRO-1, clipped by value, L1";
        check_same_run(&models[0], &states[0], &models[1], &states[1], what);
        double norms = relative_difference(states[0].norm_curve.losses, states[1].norm_curve.losses,
                                           states[0].norm_curve.n, 1e-30);
        CHECK(states[1].norm_curve.n == STEPS && norms <= 1e-5, "%s: gradient norms differ by %.3g", what, norms);
        // The checkpoint (rank 0 wrote it; every rank reads it) against plain's state.
        Model saved;
        TrainState saved_state;
        const Optimizer *plain = &states[0].optimizer, *sharded = &saved_state.optimizer;
        REQUIRE(load_when_written(path, &saved, &saved_state, &error) == 0, "%s", error.message);
        CHECK(sharded->n == plain->n && sharded->step == STEPS, "%s: the saved state: %ld of %ld, step %ld", what,
              sharded->n, plain->n, sharded->step);
        if (sharded->n == plain->n) {
            double m = distance_in_norm(plain->m, sharded->m, plain->n), v = distance_in_norm(plain->v, sharded->v, plain->n);
            CHECK(m <= 1e-5 && v <= 1e-5, "%s: optimizer state differs by %.3g (m), %.3g (v)", what, m, v);
        }
        model_free(&saved), train_state_free(&saved_state);
        Error ignored;
        double barrier = 0;
        distributed_max(&job, &barrier, &ignored);  // all have read it before the next run writes it
        for (int zero = 0; zero < 2; zero++) model_free(&models[zero]), train_state_free(&states[zero]);
    }
    names_free(&names);
}

// Shards tile a buffer in rank order; reduce-scatter, all-gather and gather move them.
static void shards_tile_and_move(void) {
    enum { N = 11 };
    long next = 0;
    for (int r = 0; r < job.size; r++) {
        long first, count;
        distributed_shard(&job, N, r, &first, &count);
        CHECK(first == next && count >= 0 && count <= (N + job.size - 1) / job.size, "rank %d: [%ld, +%ld)", r, first,
              count);
        next = first + count;
    }
    CHECK(next == N, "the shards cover %ld of %d", next, N);
    float buffer[N], shard[N], whole[N];
    long first, count;
    distributed_shard(&job, N, job.rank, &first, &count);
    for (int i = 0; i < N; i++) buffer[i] = (float)(i + 100 * job.rank);
    Error error;
    REQUIRE(distributed_reduce_scatter(&job, buffer, N, shard, &error) == 0, "%s", error.message);
    for (long i = 0; i < count; i++)  // Σ_r (i + 100 r) = N i + 100 N(N-1)/2 with N ranks
        CHECK(shard[i] == (float)(job.size * (first + i) + 50 * job.size * (job.size - 1)), "sum of %ld: %g",
              first + i, shard[i]);
    for (int i = 0; i < N; i++) buffer[i] = i >= first && i < first + count ? (float)(-i) : 0.5f;
    REQUIRE(distributed_gather(&job, buffer + first, whole, N, 0, &error) == 0, "%s", error.message);
    REQUIRE(distributed_all_gather(&job, buffer, N, &error) == 0, "%s", error.message);
    for (int i = 0; i < N; i++) {
        CHECK(buffer[i] == (float)(-i), "all-gathered %d: %g", i, buffer[i]);
        if (job.rank == 0) CHECK(whole[i] == (float)(-i), "gathered %d: %g", i, whole[i]);
    }
    // Past a round of 1 M floats per rank: 2 M + 3 floats of small integers (exact sums).
    long big = (2L << 20) + 3;
    float *values = malloc(sizeof(float) * (size_t)big), *part = malloc(sizeof(float) * (size_t)big);
    REQUIRE(values && part, "out of memory");
    for (long i = 0; i < big; i++) values[i] = (float)(i % 7 + job.rank);
    REQUIRE(distributed_reduce_scatter(&job, values, big, part, &error) == 0, "%s", error.message);
    distributed_shard(&job, big, job.rank, &first, &count);
    long wrong = 0;
    for (long i = 0; i < count; i++)
        wrong += part[i] != (float)(job.size * ((first + i) % 7) + job.size * (job.size - 1) / 2);
    CHECK(wrong == 0, "%ld of %ld sums wrong in rounds", wrong, count);
    free(values), free(part);
    double sums[2] = {1.0, job.rank};
    REQUIRE(distributed_sum(&job, sums, 2, &error) == 0, "%s", error.message);
    CHECK(sums[0] == job.size && sums[1] == job.size * (job.size - 1) / 2.0, "sums %g %g", sums[0], sums[1]);
}

// Shapes that do not split: an error on every rank, before any step.
static void shapes_that_do_not_split_are_errors(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    Error error;
    Model model;
    TrainState state;
    REQUIRE(fresh(&model, &state, &names, 3 * job.size, &error) == 0, "%s", error.message);
    CHECK(train(&model, &state, &names, &job, 2, NULL, &error) == -1 &&
              strstr(error.message, "not divisible by") && strstr(error.message, "2 accumulation steps"),
          "3 N sequences in 2 N shares: %s", error.message);
    if (job.size > 1) {
        state.config.batch_size = job.size + 1;
        CHECK(train(&model, &state, &names, &job, 1, NULL, &error) == -1 && strstr(error.message, "not divisible by"),
              "N + 1 sequences on N ranks: %s", error.message);
        // One window of T+1 ids for N ranks.
        Dataset tiny = names.data;
        tiny.n_train = T + 1;
        state.config.batch_size = job.size;
        TrainRun run = {.model = &model, .tokenizer = &names.tokenizer, .data = &tiny, .state = &state,
                        .distributed = &job};
        CHECK(train_run(&run, &error) == -1 && strstr(error.message, "windows of 16 + 1 tokens, fewer than the"),
              "more ranks than windows: %s", error.message);
    }
    // An unknown all-reduce and a negative bucket size.
    state.config.batch_size = 2 * job.size;
    TrainRun run = {.model = &model, .tokenizer = &names.tokenizer, .data = &names.data, .state = &state,
                    .distributed = &job, .allreduce = 7};
    CHECK(train_run(&run, &error) == -1 && strstr(error.message, "unknown all-reduce kind 7"), "%s", error.message);
    run.allreduce = TRAIN_ALLREDUCE_BUCKETS, run.bucket_mb = -1.0;
    CHECK(train_run(&run, &error) == -1 && strstr(error.message, "buckets of -1 MB"), "%s", error.message);
    run.bucket_mb = 0.0, run.zero = 1;
    CHECK(train_run(&run, &error) == -1 && strstr(error.message, "buckets are for plain data parallel"), "%s",
          error.message);
    run.allreduce = TRAIN_ALLREDUCE_SINGLE, run.zero = 2;
    CHECK(train_run(&run, &error) == -1 && strstr(error.message, "ZeRO stage 2: only 0 and 1"), "%s", error.message);
    CHECK(state.step == 0, "no step was taken");
    model_free(&model), train_state_free(&state), names_free(&names);
}

// What a callback does to one rank at one step.
typedef struct Trouble {
    int rank;
    long step;
    int kind;  // 0: stop, 1: fail (the next backward has no training forward), 2: change a parameter
    Model *model;
    volatile sig_atomic_t flag;
} Trouble;

static void make_trouble(void *context, const TrainProgress *progress) {
    Trouble *t = context;
    if (progress->event != TRAIN_EVENT_STEP || progress->step != t->step || job.rank != t->rank) return;
    if (t->kind == 0) t->flag = 1;
    if (t->kind == 1) t->model->training = 0;
    if (t->kind == 2) t->model->params[3] += 1e-3f;
}

// On the last rank: a stop request stops every rank (that rank named, the checkpoint of
// that step written); a failure fails every rank with its message; a changed parameter is
// found by the checksum comparison.
static void trouble_on_one_rank_ends_every_rank(void) {
    Names names;
    REQUIRE(names_load(&names) == 0, "cannot load the names");
    REQUIRE(check_directory()[0], "no temporary directory");
    char path[256];
    shared_path("trouble.ckpt", path, sizeof path);
    int last = job.size - 1;
    for (int kind = 0; kind < 3; kind++) {
        Error error;
        Model model;
        TrainState state;
        REQUIRE(fresh(&model, &state, &names, 2 * job.size, &error) == 0, "%s", error.message);
        Trouble trouble = {last, 6, kind, &model, 0};
        TrainRun run = {.model = &model, .tokenizer = &names.tokenizer, .data = &names.data, .state = &state,
                        .out_path = path, .stop = &trouble.flag, .callback = make_trouble,
                        .callback_context = &trouble, .distributed = &job, .check_every = 4};
        int result = train_run(&run, &error);
        char rank_named[32] = "";
        if (last > 0) snprintf(rank_named, sizeof rank_named, "rank %d: ", last);
        if (kind == 0)
            CHECK(result == TRAIN_STOPPED && state.step == 6 && run.stop_rank == last, "stop: %d at %ld by %d: %s",
                  result, state.step, run.stop_rank, error.message);
        if (kind == 1)
            CHECK(result == -1 && strncmp(error.message, rank_named, strlen(rank_named)) == 0 && state.step == 6,
                  "failure: %d at %ld: %s", result, state.step, error.message);
        if (kind == 2 && job.size > 1)
            CHECK(result == -1 && strstr(error.message, "the parameters after step 8 differ between ranks: rank"),
                  "drift: %s", error.message);
        if (kind == 2 && job.size == 1) CHECK(result == TRAIN_FINISHED, "alone nothing can drift: %s", error.message);
        // The checkpoint of step 5 (kind 0: step 6, saved on the stop) is there and whole.
        Model saved;
        TrainState saved_state;
        long want = kind == 0 ? 6 : kind == 1 ? 5 : job.size > 1 ? 5 : STEPS;
        CHECK(load_when_written(path, &saved, &saved_state, &error) == 0 && saved_state.step == want,
              "kind %d: the checkpoint of step %ld (has %ld): %s", kind, want, saved_state.step, error.message);
        model_free(&saved), train_state_free(&saved_state);
        model_free(&model), train_state_free(&state);
        Error ignored;
        double barrier = 0;
        distributed_max(&job, &barrier, &ignored);  // nobody writes the next run's file before all read this one
    }
    names_free(&names);
}

static const CheckCase CASES[] = {
    {"ranks equal one process", ranks_equal_one_process},
    {"the backward tells when a block is final", the_backward_tells_when_a_block_is_final},
    {"buckets equal the single reduction", buckets_equal_the_single_reduction},
    {"a checkpoint resumes on other rank counts", a_checkpoint_resumes_on_other_rank_counts},
    {"shards tile and move", shards_tile_and_move},
    {"ZeRO stage 1 equals plain data parallel", zero_equals_plain_data_parallel},
    {"a ZeRO checkpoint resumes on other rank counts", a_zero_checkpoint_resumes_on_other_rank_counts},
    {"shapes that do not split are errors", shapes_that_do_not_split_are_errors},
    {"trouble on one rank ends every rank", trouble_on_one_rank_ends_every_rank},
};

int main(int argc, char **argv) {
    Error error;
    if (distributed_init(&job, 0, &error)) {
        fprintf(stderr, "%s\n", error.message);
        return 1;
    }
    int status = check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES);
    distributed_finalize(&job);
    return status;
}
