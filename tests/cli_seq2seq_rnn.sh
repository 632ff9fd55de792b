#!/usr/bin/env bash
# groundup seq2seq-rnn: a tiny training run of each cell and attention (seconds even under the
# sanitizers) that prints parameters, time and exact match; a saved model evaluated again with
# greedy and beam decoding gives the same accuracy line; --translate; the one-line errors: unknown
# cell, attention or task, a beam width of 0, a text with a character outside the vocabulary or
# longer than the model takes, a missing model file or one of another architecture.
set -u
groundup=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_common.bash"

tiny=(--task reverse --train 300 --test 20 --steps 20 --warmup 2 --batch 16 --embedding 8 --hidden 8)
for arch in gru lstm; do
    for attention in additive multiplicative; do
        "$groundup" seq2seq-rnn "${tiny[@]}" --arch $arch --attention $attention --save "$tmp/$arch.safetensors" \
            > "$tmp/out" 2> "$tmp/err" || { fail "$arch $attention failed"; cat "$tmp/err" >&2; }
        grep -q "^seq2seq-rnn $arch + $attention attention on reverse: E 8, H 8, [0-9]* parameters" "$tmp/out" \
            || fail "$arch $attention: no model line"
        grep -q '^trained 20 steps of 16 on 300 examples in ' "$tmp/out" || fail "$arch $attention: no training line"
        grep -q '^held-out exact match: [0-9]*/20 = ' "$tmp/out" || fail "$arch $attention: no accuracy line"
        finite_outputs "$tmp/out"
    done
done
"$groundup" seq2seq-rnn --task reverse --test 20 --model "$tmp/gru.safetensors" > "$tmp/greedy" 2>&1 \
    || fail "evaluating a saved model failed"
grep -q '^seq2seq-rnn gru + multiplicative attention on reverse' "$tmp/greedy" || fail "the saved model's configuration"
"$groundup" seq2seq-rnn --task reverse --test 20 --model "$tmp/lstm.safetensors" --beam 3 --translate 12345678 \
    > "$tmp/beam" 2>&1 || fail "beam search of a saved model failed"
grep -q '^held-out exact match: [0-9]*/20 = .*(beam' "$tmp/beam" || fail "no beam accuracy line"
grep -q '^12345678 -> [0-9]*$' "$tmp/beam" || fail "no translation line: $(cat "$tmp/beam")"

expect_error "unknown cell" 'unknown recurrent cell "rnn"' "$groundup" seq2seq-rnn --arch rnn
expect_error "unknown attention" 'unknown attention "dot"' "$groundup" seq2seq-rnn --attention dot
expect_error "unknown task" 'sorting' "$groundup" seq2seq-rnn --task sorting
expect_error "beam 0" 'beam must be at least 1' "$groundup" seq2seq-rnn --beam 0
expect_error "bad teacher forcing" 'teacher forcing 1.5' "$groundup" seq2seq-rnn "${tiny[@]}" --teacher-forcing 1.5
expect_error "missing model" 'none.safetensors' "$groundup" seq2seq-rnn --model "$tmp/none.safetensors"
expect_error "another architecture" 'not a seq2seq-rnn model' "$groundup" seq2seq-rnn --model tests/fixtures/unet/PARAMS.safetensors
expect_error "character outside the vocabulary" "'X'" \
    "$groundup" seq2seq-rnn --task reverse --test 5 --model "$tmp/gru.safetensors" --translate "12X4"
expect_error "text too long" 'the model takes 1 to' \
    "$groundup" seq2seq-rnn --task reverse --test 5 --model "$tmp/gru.safetensors" --translate "12345678901234567890"
[ $failures -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
