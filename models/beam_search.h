// Beam search over any autoregressive model (Graves 2012; Sutskever et al. 2014 used it for
// seq2seq): keep the beam_width most probable prefixes, extend each by every token, keep the
// beam_width best extensions, until the hypotheses end.
//
// The model is a callback giving next-token log-probabilities, so an encoder-decoder
// Transformer, a GRU or LSTM decoder, or a language model all use the same search.
//
// Details (the paper-free choices, fixed here):
//   - A hypothesis ends when it emits eos, or when it reaches max_length tokens (BOS counted);
//     a hypothesis cut at max_length competes with the ended ones without an eos.
//   - Each step keeps the beam_width best extensions of the live hypotheses by Σ log p; those
//     that end leave the beam, which shrinks ("shrinking beam": beam_width ended hypotheses at
//     most). beam_width 1 is greedy decoding.
//   - The ended hypotheses are ranked by the length-normalised score Σ log p / |y|^alpha, |y|
//     the number of generated tokens (the eos included, BOS not); alpha 0 ranks by Σ log p.
//     This is the plain power of the length, not Wu et al. 2016's ((5 + |y|)/6)^alpha.
//   - The search stops early only when no live hypothesis can still win: Σ log p only falls
//     as a hypothesis grows, so a live one's best final score is Σ log p / (max_length−1)^alpha.
//   - Equal scores are broken by the order of the candidates (beam, then token id): runs are
//     deterministic.
//   - A token whose log-probability is −∞ is never chosen; NaN is an error.
#ifndef MODELS_BEAM_SEARCH_H
#define MODELS_BEAM_SEARCH_H

#include "foundations/error.h"

// The model's next-token log-probabilities for n prefixes of equal length: prefixes (n, length),
// each starting with bos -> log_probs (n, vocab_size). Returns 0, or -1 with error set.
typedef int (*NextTokenLogProbs)(void *context, const int *prefixes, int n, int length, float *log_probs,
                                 Error *error);

// Beam search from bos (see above). out (max_length) receives the best sequence bos .. eos (or
// bos .. cut at max_length), *length its length. Fails on beam_width < 1, max_length < 2,
// alpha < 0 or not finite, vocab_size < 1, bos or eos outside the vocabulary, a NaN
// log-probability, a model with no finite log-probability for a prefix, out of memory, or the
// callback's error.
int beam_search(NextTokenLogProbs step, void *context, int vocab_size, int bos, int eos, int max_length,
                int beam_width, float alpha, int *out, int *length, Error *error);

// The same, also giving the winner's Σ log p (*log_prob) and its normalised score (*score)
// (either may be NULL).
int beam_search_scored(NextTokenLogProbs step, void *context, int vocab_size, int bos, int eos, int max_length,
                       int beam_width, float alpha, int *out, int *length, float *log_prob, float *score,
                       Error *error);

#endif
