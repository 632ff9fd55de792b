// Held-out evaluation: mean loss (nats per token), perplexity and bits per byte.
//
// Every token of tokens[1..n) is scored exactly once, as -log p(token | what precedes it),
// with as much context as the model takes. A text longer than the context is covered by
// windows of T = context_length tokens with a stride of T/2: the first window scores all
// its positions, each later one only its last T/2 (the positions not scored before), which
// then see between T/2 and T tokens of context instead of restarting from nothing.
//
//   mean loss        L = total nats / number of scored tokens
//   perplexity       exp(L)
//   bits per byte    total nats / ln 2 / bytes of the text the scored tokens stand for;
//                    unlike the per-token figures it compares models with different
//                    tokenizers.
#ifndef GPT_EVAL_H
#define GPT_EVAL_H

#include "foundations/error.h"
#include "gpt/model.h"

typedef struct EvalResult {
    double total_nats;
    long n_tokens;  // scored
    long n_bytes;
    double mean_loss;
    double perplexity;
    double bits_per_byte;
} EvalResult;

// tokens (n >= 2); n_bytes the bytes tokens[1..n) decode to; context the window T
// (0: the model's context_length; larger is an error). Runs in inference mode.
int evaluate(Model *model, const int *tokens, long n, long n_bytes, int context, EvalResult *result, Error *error);

#endif
