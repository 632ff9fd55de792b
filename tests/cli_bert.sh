#!/usr/bin/env bash
# BERT through the program: train --arch bert on a small text (its report, the model file, the
# exported data), fill-mask (top-k lines, probabilities in order), and the errors: a text
# without [MASK], a text longer than the model's maximum, a missing, truncated or foreign
# model file, bad options.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

# A small text: the first 40 KB of Moby-Dick; a tiny model for 40 steps.
head -c 40000 data/mobydick.txt > "$tmp/text.txt"
"$groundup" train --arch bert --data "$tmp/text.txt" --tokenizer bpe:300 --context 32 --layers 1 --heads 2 --dim 32 \
    --ff 64 --batch 8 --steps 40 --eval-passes 2 --out "$tmp/m.safetensors" --export "$tmp/data.safetensors" \
    > "$tmp/train.out" 2> /dev/null || fail "train --arch bert"
[ -s "$tmp/m.safetensors" ] && [ -s "$tmp/data.safetensors" ] || fail "no model or exported data"
grep -q "^trained 40 steps of 8 rows" "$tmp/train.out" || fail "no training line: $(cat "$tmp/train.out")"
grep -q "^held-out: masked-token accuracy [0-9.]*%, loss [0-9.]* nats, perplexity [0-9.]*" "$tmp/train.out" ||
    fail "no held-out line: $(cat "$tmp/train.out")"

"$groundup" fill-mask --model "$tmp/m.safetensors" --text "the white [MASK] swam away" --top-k 4 > "$tmp/fill.out" ||
    fail "fill-mask"
[ "$(grep -c '^ *[0-9]*  0\.[0-9]\{4\}  "' "$tmp/fill.out")" -eq 4 ] || fail "fill-mask did not print 4 completions: $(cat "$tmp/fill.out")"
awk '{ p[NR] = $2 } END { for (i = 2; i <= NR; i++) if (p[i] > p[i - 1]) exit 1 }' "$tmp/fill.out" ||
    fail "fill-mask's probabilities are not in decreasing order"
"$groundup" fill-mask --model "$tmp/m.safetensors" --text "[MASK] white [MASK]" --top-k 2 > "$tmp/two.out" ||
    fail "fill-mask with two masks"
[ "$(grep -c '^\[MASK\] [12] of 2' "$tmp/two.out")" -eq 2 ] || fail "two masks: $(cat "$tmp/two.out")"
"$groundup" fill-mask --help | grep -q -- "--top-k" || fail "fill-mask --help"
"$groundup" train --arch bert --help | grep -q -- "--export" || fail "train --arch bert --help"

# errors
long=$(printf 'the whale %.0s' $(seq 40))
expect_error "no [MASK]" "no \[MASK\]" "$groundup" fill-mask --model "$tmp/m.safetensors" --text "the white whale"
expect_error "too long" "longer than the model's maximum 32" "$groundup" fill-mask --model "$tmp/m.safetensors" --text "$long [MASK]"
expect_error "missing model" "none.safetensors" "$groundup" fill-mask --model "$tmp/none.safetensors" --text "a [MASK]"
head -c 3000 "$tmp/m.safetensors" > "$tmp/cut.safetensors"
expect_error "truncated model" "cut.safetensors" "$groundup" fill-mask --model "$tmp/cut.safetensors" --text "a [MASK]"
expect_error "not a bert model" "not a bert model" "$groundup" fill-mask --model "$tmp/data.safetensors" --text "a [MASK]"
expect_error "top-k 0" "top-k" "$groundup" fill-mask --model "$tmp/m.safetensors" --text "a [MASK]" --top-k 0
expect_error "no model given" "required" "$groundup" fill-mask --text "a [MASK]"
expect_error "steps and time" "one of them" "$groundup" train --arch bert --steps 3 --time 3 --out "$tmp/x.safetensors"
expect_error "time nan" "finite" "$groundup" train --arch bert --time nan --out "$tmp/x.safetensors"
expect_error "heads" "heads must divide" "$groundup" train --arch bert --data "$tmp/text.txt" --dim 30 --heads 4 --steps 1 --out "$tmp/x.safetensors"
expect_error "context too long for the data" "fewer than one input" "$groundup" train --arch bert --data "$tmp/text.txt" \
    --tokenizer bpe:300 --context 4000 --steps 1 --out "$tmp/x.safetensors"
expect_error "missing data" "nothere.txt" "$groundup" train --arch bert --data "$tmp/nothere.txt" --steps 1 --out "$tmp/x.safetensors"
expect_error "bad tokenizer" "bpe:N" "$groundup" train --arch bert --tokenizer gpt2 --steps 1 --out "$tmp/x.safetensors"
[ ! -e "$tmp/x.safetensors" ] || fail "a failed run wrote a model"

finite_outputs "$tmp"/*.out
cli_finish
