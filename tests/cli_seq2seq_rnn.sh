#!/usr/bin/env bash
# groundup seq2seq with --arch gru|lstm: a tiny training run of each cell and attention (seconds
# even under the sanitizers) printing parameters, time and exact match; eval of the saved model
# with greedy and beam decoding; translate, with the attention as an SVG; the one-line errors: an
# unknown attention, a teacher forcing outside [0, 1], dropout (the recurrent model has none), a
# text with a character outside the vocabulary or longer than the model takes, a model file of
# another architecture.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

tiny=(--task reverse --train 300 --test 20 --steps 20 --warmup 2 --batch 16 --embedding 8 --hidden 8 --examples 2)
for arch in gru lstm; do
    for attention in additive multiplicative; do
        "$groundup" seq2seq train "${tiny[@]}" --arch $arch --attention $attention --teacher-forcing 0.8 \
            --out "$tmp/$arch-$attention.safetensors" > "$tmp/out" 2> "$tmp/err" \
            || { fail "$arch $attention failed"; cat "$tmp/err" >&2; }
        grep -q "^reverse, $arch: [0-9]* parameters, 20 steps of 16 in " "$tmp/out" || fail "$arch $attention: no training line"
        grep -q '^held-out exact match: .* (\([0-9]*\) of 20), greedy' "$tmp/out" || fail "$arch $attention: no accuracy line"
        finite_outputs "$tmp/out"
    done
done
model=$tmp/lstm-multiplicative.safetensors
"$groundup" seq2seq eval --model "$model" --beam 3 --examples 1 > "$tmp/beam" 2>&1 || fail "eval --beam 3 failed"
grep -q '^held-out exact match: .* of 20), beam search' "$tmp/beam" || fail "no beam accuracy line: $(cat "$tmp/beam")"
"$groundup" seq2seq translate --model "$model" --text 12345678 > "$tmp/text" 2>&1 || fail "translate failed"
[ "$(wc -l < "$tmp/text")" -eq 1 ] || fail "translate: $(cat "$tmp/text")"

expect_error "unknown attention" 'unknown attention "dot"' \
    "$groundup" seq2seq train "${tiny[@]}" --arch gru --attention dot --out "$tmp/x.safetensors"
expect_error "teacher forcing 1.5" 'teacher forcing 1.5' \
    "$groundup" seq2seq train "${tiny[@]}" --arch lstm --teacher-forcing 1.5 --out "$tmp/x.safetensors"
expect_error "dropout" 'the gru model has no dropout' \
    "$groundup" seq2seq train "${tiny[@]}" --arch gru --dropout 0.1 --out "$tmp/x.safetensors"
[ -e "$tmp/x.safetensors" ] && fail "a failed training wrote its model"
"$groundup" seq2seq translate --model "$model" --text 1234 --attention "$tmp/a.svg" > /dev/null 2>&1 \
    || fail "translate --attention failed"
grep -q "Attention of the decoder over the encoder's annotations" "$tmp/a.svg" || fail "no attention SVG"
expect_error "character outside the vocabulary" "'X'" "$groundup" seq2seq translate --model "$model" --text 12X4
expect_error "text too long" 'the model takes 1 to 16' "$groundup" seq2seq translate --model "$model" --text 12345678901234567
expect_error "another architecture" 'unet' "$groundup" seq2seq eval --model tests/fixtures/unet/PARAMS.safetensors
cli_finish
