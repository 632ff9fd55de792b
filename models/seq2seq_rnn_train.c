// Training and exact-match evaluation of the recurrent seq2seq model: see seq2seq_rnn_train.h.
#include "models/seq2seq_rnn_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/optim.h"

Seq2seqRnnTraining seq2seq_rnn_training_default(void) {
    Seq2seqRnnTraining t = {.steps = 600, .batch_size = 64, .lr = 3e-3f, .weight_decay = 0.01f, .warmup_steps = 50,
                            .clip = 1.0f, .teacher_forcing = 1.0f, .seed = 1};
    return t;
}

Seq2seqRnnConfig seq2seq_rnn_config_for(SeqTask task, RnnKind cell, AttentionKind attention, int embedding_size,
                                        int hidden_size) {
    Seq2seqRnnConfig config = {cell, attention, seq_vocab_size(), embedding_size, hidden_size, seq_task_max_source(task),
                               seq_task_max_target(task), SEQ_PAD, SEQ_BOS, SEQ_EOS};
    return config;
}

static int check_options(const Seq2seqRnnTraining *o, Error *error) {
    if (o->steps < 1) return error_set(error, "steps %d: at least 1", o->steps);
    if (o->batch_size < 1) return error_set(error, "batch size %d: at least 1", o->batch_size);
    if (!(o->lr > 0.0f) || !isfinite(o->lr)) return error_set(error, "learning rate %g: positive", (double)o->lr);
    if (!(o->weight_decay >= 0.0f) || !isfinite(o->weight_decay))
        return error_set(error, "weight decay %g: 0 or more", (double)o->weight_decay);
    if (o->warmup_steps < 0 || o->warmup_steps >= o->steps)
        return error_set(error, "warmup %d steps: 0 or more, fewer than the %d steps", o->warmup_steps, o->steps);
    if (!(o->clip >= 0.0f) || !isfinite(o->clip)) return error_set(error, "clip %g: 0 or more", (double)o->clip);
    if (!(o->teacher_forcing >= 0.0f && o->teacher_forcing <= 1.0f))
        return error_set(error, "teacher forcing %g: in [0, 1]", (double)o->teacher_forcing);
    return 0;
}

// Examples order[0..B) of data gathered into source (B,S) and target (B,T), S and T the
// longest among them (so short batches take fewer steps).
static void gather(const SeqDataset *data, const int *order, int B, int *source, int *source_length, int *target,
                   int *S, int *T) {
    *S = 1, *T = 2;
    for (int b = 0; b < B; b++) {
        int e = order[b];
        if (data->source_length[e] > *S) *S = data->source_length[e];
        if (data->target_length[e] > *T) *T = data->target_length[e];
    }
    for (int b = 0; b < B; b++) {
        int e = order[b];
        source_length[b] = data->source_length[e];
        for (int t = 0; t < *S; t++) source[b * *S + t] = t < data->max_source ? data->source[(size_t)e * data->max_source + t] : 0;
        for (int t = 0; t < *T; t++) target[b * *T + t] = data->target[(size_t)e * data->max_target + t];
    }
}

// Every example fits the model (a dataset of another task or vocabulary does not).
static int check_dataset(const Seq2seqRnn *model, const SeqDataset *data, Error *error) {
    if (data->n < 1) return error_set(error, "seq2seq-rnn: no examples");
    for (int e = 0; e < data->n; e++) {
        if (data->source_length[e] > model->config.max_source || data->target_length[e] > model->config.max_target ||
            data->source_length[e] > data->max_source || data->target_length[e] > data->max_target)
            return error_set(error, "seq2seq-rnn: example %d: source of %d and target of %d tokens; the model takes at "
                                    "most %d and %d",
                             e, data->source_length[e], data->target_length[e], model->config.max_source,
                             model->config.max_target);
        int length = data->source_length[e];
        if (seq2seq_rnn_check_batch(model, data->source + (size_t)e * data->max_source, &length, 1, length,
                                    data->target + (size_t)e * data->max_target, data->target_length[e], error))
            return error_prefix(error, "example %d", e);
    }
    return 0;
}

int seq2seq_rnn_train(Seq2seqRnn *model, const SeqDataset *train, const Seq2seqRnnTraining *options,
                      Seq2seqRnnProgress progress, void *context, int every, Error *error) {
    if (check_options(options, error) || check_dataset(model, train, error)) return -1;
    int B = options->batch_size < train->n ? options->batch_size : train->n;
    OptimizerGroup groups[2] = {{optimizer_default_config(OPTIMIZER_ADAMW), 1.0f},
                                {optimizer_default_config(OPTIMIZER_ADAMW), 1.0f}};
    groups[0].config.weight_decay = options->weight_decay, groups[1].config.weight_decay = 0.0f;
    Schedule schedule = {.kind = SCHEDULE_WARMUP_COSINE, .base_lr = options->lr, .warmup_steps = options->warmup_steps,
                         .total_steps = options->steps, .min_lr = options->lr / 10};
    ParamOptimizer optimizer;
    if (param_optimizer_init(&optimizer, &model->params, groups, 2, group_no_decay_on_vectors, error)) return -1;
    int *order = malloc(sizeof(int) * (size_t)train->n);
    int *source = malloc(sizeof(int) * (size_t)B * (size_t)train->max_source), *length = malloc(sizeof(int) * (size_t)B);
    int *target = malloc(sizeof(int) * (size_t)B * (size_t)train->max_target);
    Random rng;
    random_seed(&rng, options->seed);
    Tape tape;
    tape_init(&tape);
    int status = order && source && length && target ? 0 : error_set(error, "seq2seq-rnn: out of memory for training");
    for (int e = 0; !status && e < train->n; e++) order[e] = e;
    double loss_sum = 0.0;
    int losses = 0, position = train->n;
    for (int step = 0; !status && step < options->steps; step++) {
        if (position + B > train->n) random_shuffle(&rng, order, train->n), position = 0;
        int S, T;
        gather(train, order + position, B, source, length, target, &S, &T);
        position += B;
        tape_reset(&tape);
        Tensor *loss = seq2seq_rnn_loss(&tape, model, source, length, B, S, target, T, options->teacher_forcing, &rng, NULL);
        if (!loss) {
            status = tape_error(&tape, error);
            break;
        }
        if (!isfinite(loss->data[0])) {
            status = error_set(error, "seq2seq-rnn: the loss is %g at step %d", (double)loss->data[0], step + 1);
            break;
        }
        parameters_zero_grad(&model->params);
        if (tape_backward(&tape, loss, error)) {
            status = -1;
            break;
        }
        if (options->clip > 0) parameters_clip_grad_norm(&model->params, options->clip);
        float lr = schedule_lr(&schedule, step);
        param_optimizer_step(&optimizer, lr);
        loss_sum += loss->data[0], losses++;
        if (progress && (((step + 1) % (every > 0 ? every : 1)) == 0 || step + 1 == options->steps)) {
            if (progress(context, step + 1, (float)(loss_sum / losses), lr)) break;
            loss_sum = 0.0, losses = 0;
        }
    }
    tape_free(&tape);
    free(order), free(source), free(length), free(target);
    param_optimizer_free(&optimizer);
    return status ? -1 : 0;
}

// The prediction (bos .. eos, pad after) equals the target's first `length` ids.
static int matches(const int *prediction, const int *target, int length) {
    for (int t = 0; t < length; t++)
        if (prediction[t] != target[t]) return 0;
    return 1;
}

int seq2seq_rnn_exact_match(const Seq2seqRnn *model, const SeqDataset *test, int beam_width, float alpha, int *correct,
                            int *predictions, Error *error) {
    *correct = 0;
    if (beam_width < 1) return error_set(error, "seq2seq-rnn: beam width %d (at least 1)", beam_width);
    if (check_dataset(model, test, error)) return -1;
    int M = model->config.max_target, chunk = 256;
    int *source = malloc(sizeof(int) * (size_t)chunk * (size_t)test->max_source), *length = malloc(sizeof(int) * (size_t)chunk);
    int *target = malloc(sizeof(int) * (size_t)chunk * (size_t)test->max_target), *order = malloc(sizeof(int) * (size_t)chunk);
    int *out = malloc(sizeof(int) * (size_t)chunk * (size_t)M);
    Tape tape;
    tape_init(&tape);
    int status = source && length && target && order && out ? 0 : error_set(error, "seq2seq-rnn: out of memory");
    for (int first = 0; !status && first < test->n; first += chunk) {
        int B = test->n - first < chunk ? test->n - first : chunk, S, T;
        for (int b = 0; b < B; b++) order[b] = first + b;
        gather(test, order, B, source, length, target, &S, &T);
        if (beam_width == 1) status = seq2seq_rnn_greedy(&tape, model, source, length, B, S, out, error);
        for (int b = 0; !status && beam_width > 1 && b < B; b++) {
            int n = 0;
            for (int t = 0; t < M; t++) out[b * M + t] = model->config.pad;
            status = seq2seq_rnn_beam(model, source + b * S, length[b], beam_width, alpha, out + b * M, &n, error);
        }
        for (int b = 0; !status && b < B; b++) {
            *correct += matches(out + b * M, test->target + (size_t)(first + b) * test->max_target,
                                test->target_length[first + b]);
            if (predictions) memcpy(predictions + (size_t)(first + b) * M, out + b * M, sizeof(int) * (size_t)M);
        }
    }
    tape_free(&tape);
    free(source), free(length), free(target), free(order), free(out);
    return status ? -1 : 0;
}
