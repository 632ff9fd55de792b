// Warmup at high learning rates on the small GPT-2 (explore/optimisation.h): gpt/train.h's loop
// with warmup + cosine against the cosine alone, Adam, no clipping.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "explore/explore.h"
#include "explore/optimisation_models.h"
#include "gpt/train.h"

static void record_step(void *context, const TrainProgress *progress) {
    WarmupRun *run = context;
    if (progress->event != TRAIN_EVENT_STEP || progress->step > WARMUP_MAX_STEPS) return;
    run->loss[progress->step - 1] = progress->loss;
    run->grad_norm[progress->step - 1] = progress->grad_norm;
    run->n_steps = (int)progress->step;
}

// One run from the same initial weights and batches (seed); fills run from its curve.
static int train_one(const WarmupSetup *s, float lr, int warmup, WarmupRun *run, long *parameters, Error *error) {
    memset(run, 0, sizeof *run);
    run->lr = lr, run->warmup = warmup;
    SmallGpt gpt;
    TrainState state;
    memset(&state, 0, sizeof state);
    TrainConfig c = train_default_config();
    c.batch_size = s->gpt.batch, c.seq_len = s->gpt.context, c.max_steps = s->steps;
    c.learning_rate = lr, c.min_learning_rate = lr / 10.0f;
    c.optimizer = OPTIMIZER_ADAM, c.grad_clip = 0.0f, c.eval_every = 0, c.eval_batches = 10, c.seed = s->seed + 1;
    c.schedule = warmup ? SCHEDULE_WARMUP_COSINE : SCHEDULE_COSINE;
    c.warmup_steps = warmup ? s->warmup_steps : -1;
    int status = small_gpt_create(&gpt, &s->gpt, s->seed, error);
    if (status == 0) status = train_state_init(&state, &c, &gpt.model, s->gpt.text_path, error);
    if (status == 0) {
        *parameters = model_count_parameters(&gpt.model);
        TrainRun train = {.model = &gpt.model, .tokenizer = &gpt.tokenizer, .data = &gpt.data, .state = &state,
                          .callback = record_step, .callback_context = run};
        status = train_run(&train, error) < 0 ? -1 : 0;
        if (status && !isfinite(gpt.model.loss)) {  // diverged: a result, not an error
            run->nan_step = run->n_steps + 1;
            status = 0;
        }
    }
    if (status == 0) {
        run->initial_loss = run->n_steps ? run->loss[0] : NAN;
        run->peak_loss = 0.0f;
        for (int i = 1; i < run->n_steps; i++) run->peak_loss = fmaxf(run->peak_loss, run->loss[i]);
        run->final_loss = run->val_loss = NAN;
        if (!run->nan_step) {
            int tail = run->n_steps / 10 > 0 ? run->n_steps / 10 : 1;
            double sum = 0.0;
            for (int i = run->n_steps - tail; i < run->n_steps; i++) sum += run->loss[i];
            run->final_loss = (float)(sum / tail);
            if (model_prepare(&gpt.model, c.batch_size, c.seq_len, 0, error) ||
                train_validation_loss(&gpt.model, &gpt.data, &c, &run->val_loss, error))
                status = -1;
        }
        run->diverged = run->nan_step > 0 || !(run->final_loss < run->initial_loss);
    }
    train_state_free(&state);
    small_gpt_free(&gpt);
    return status;
}

int explore_warmup(const WarmupSetup *s, WarmupResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (explore_check_count(s->n_lrs, 1, "--lrs", error) || explore_check_count(s->steps, 2, "--steps", error))
        return -1;
    if (s->n_lrs > WARMUP_MAX_RUNS / 2) return error_set(error, "%d learning rates: at most %d", s->n_lrs, WARMUP_MAX_RUNS / 2);
    if (s->steps > WARMUP_MAX_STEPS) return error_set(error, "--steps %ld: at most %d", s->steps, WARMUP_MAX_STEPS);
    if (s->warmup_steps < 1 || s->warmup_steps >= s->steps)
        return error_set(error, "--warmup %ld: need 1 <= warmup < the %ld steps", s->warmup_steps, s->steps);
    for (int i = 0; i < s->n_lrs; i++)
        if (!(s->lrs[i] > 0.0f) || !isfinite(s->lrs[i])) return error_set(error, "learning rate %g must be > 0", (double)s->lrs[i]);
    double start = omp_get_wtime();
    for (int i = 0; i < s->n_lrs; i++)
        for (int warmup = 1; warmup >= 0; warmup--)
            if (train_one(s, s->lrs[i], warmup, &result->runs[result->n_runs++], &result->parameters, error)) return -1;
    result->seconds = omp_get_wtime() - start;
    return 0;
}
