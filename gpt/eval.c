// Held-out evaluation with a sliding window (gpt/eval.h).
#include "gpt/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// -log softmax(logits)[target], in double.
static double token_nats(const float *logits, int V, int target) {
    float max = logits[0];
    for (int i = 1; i < V; i++) max = logits[i] > max ? logits[i] : max;
    double sum = 0.0;
    for (int i = 0; i < V; i++) sum += exp((double)logits[i] - max);
    return max + log(sum) - logits[target];
}

int evaluate(Model *model, const int *tokens, long n, long n_bytes, int context, EvalResult *result, Error *error) {
    memset(result, 0, sizeof *result);
    if (n < 2) return error_set(error, "evaluate: %ld tokens, need at least 2", n);
    int V = model->config.vocab_size;
    if (context < 0 || context > model->config.context_length)
        return error_set(error, "context %d is longer than the model's %d", context, model->config.context_length);
    int T = context > 0 ? context : model->config.context_length;
    if ((long)T > n - 1) T = (int)(n - 1);
    int stride = T / 2 > 0 ? T / 2 : 1;
    // Windows per forward: enough to keep the matmuls busy, few enough that the logits
    // (B,T,V) stay under 64 MB.
    long budget = (16L << 20) / ((long)T * V);
    int B = budget < 1 ? 1 : budget > 16 ? 16 : (int)budget;
    if (model_prepare(model, B, T, 0, error)) return -1;
    int *inputs = malloc(sizeof(int) * (size_t)B * T);
    long *starts = malloc(sizeof(long) * (size_t)B);    // window b is tokens[start..start+T]
    long *first_new = malloc(sizeof(long) * (size_t)B); // the first token index it scores
    if (!inputs || !starts || !first_new) {
        free(inputs);
        free(starts);
        free(first_new);
        return error_set(error, "evaluate: out of memory");
    }
    double total = 0.0;
    long scored_up_to = 0;  // tokens[1..scored_up_to] are scored
    long start = 0;
    int status = 0;
    while (scored_up_to < n - 1 && status == 0) {
        int b = 0;
        for (; b < B && scored_up_to < n - 1; b++) {
            if (start + T > n - 1) start = n - 1 - T;  // the last window ends at the text's end
            starts[b] = start;
            first_new[b] = scored_up_to + 1;
            memcpy(inputs + (long)b * T, tokens + start, sizeof(int) * (size_t)T);
            scored_up_to = start + T;
            start += stride;
        }
        if ((status = model->ops->forward(model, inputs, NULL, b, T, error))) break;
        for (int w = 0; w < b && status == 0; w++)
            for (int t = 0; t < T && status == 0; t++) {
                long index = starts[w] + 1 + t;  // the token logits[w,t] predicts
                if (index < first_new[w]) continue;
                const float *logits = model->logits + ((long)w * T + t) * V;
                int target = tokens[index];
                if (target < 0 || target >= V) {
                    status = error_set(error, "evaluate: token id %d outside the vocabulary of %d", target, V);
                    continue;
                }
                double nats = token_nats(logits, V, target);
                if (!isfinite(nats)) {
                    status = error_set(error, "evaluate: the loss of token %ld is %g: the model's logits are not finite",
                                       index, nats);
                    continue;
                }
                total += nats;
                result->n_tokens++;
            }
    }
    free(inputs);
    free(starts);
    free(first_new);
    if (status) return -1;
    result->total_nats = total;
    result->n_bytes = n_bytes;
    result->mean_loss = total / (double)result->n_tokens;
    result->perplexity = exp(result->mean_loss);
    result->bits_per_byte = n_bytes > 0 ? total / log(2.0) / (double)n_bytes : 0.0;
    return 0;
}
