#!/usr/bin/env bash
# groundup verify on the committed PyTorch fixture (tests/fixtures/gpt2, made by
# tools/reference/gpt2_reference.py), and its errors on damaged files.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
fixture=tests/fixtures/gpt2

# The C model agrees with PyTorch: logits, loss, gradients, and 10 AdamW steps.
if ! "$groundup" verify --model $fixture/model.bin --state $fixture/state.bin --steps 10 \
        --expected-losses $fixture/losses.txt > "$tmp/out" 2> "$tmp/err"; then
    fail "verify on the fixture failed"; cat "$tmp/out" "$tmp/err" >&2
fi
# The values themselves, read from what verify prints and compared here (not its own "ok"):
#   logits: max |difference| D (tolerance ...)             D <= 1e-4
#   loss: groundup L reference R relative difference ...   R = step 0 of losses.txt, |L-R|/R <= 1e-5
#   grad NAME max |difference| D, relative to max |grad| M: Q    each of the 16 tensors once, Q <= 1e-3
#   step S loss L reference R ...                          S = 0..9, R = losses.txt's step S, |L-R|/R <= 1e-5
out=$tmp/out
logits=$(awk '/^logits:/ {print $4}' "$out")
awk -v d="$logits" 'BEGIN {exit !(d != "" && d + 0 <= 1e-4)}' || fail "logits differ by '$logits' (more than 1e-4, or missing)"
read -r loss reference <<< "$(awk '/^loss:/ {print $3, $5}' "$out")"
expected0=$(awk '$1 == "step" && $2 == 0 {print $4}' $fixture/losses.txt)
[ "${reference:-}" = "$expected0" ] || fail "loss line: reference '${reference:-}', losses.txt says '$expected0'"
awk -v a="${loss:-}" -v b="$expected0" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-5 * b)}' ||
    fail "loss ${loss:-missing} vs PyTorch's $expected0: relative difference above 1e-5"
for name in wte wpe ln1w ln1b qkvw qkvb attprojw attprojb ln2w ln2b fcw fcb fcprojw fcprojb lnfw lnfb; do
    lines=$(awk -v n="$name" '$1 == "grad" && $2 == n' "$out")
    [ "$(printf '%s' "$lines" | grep -c .)" -eq 1 ] || { fail "grad $name: not exactly one line"; continue; }
    relative=$(printf '%s\n' "$lines" | awk '{print $(NF-1)}')
    awk -v q="$relative" 'BEGIN {exit !(q + 0 <= 1e-3 && q ~ /^[0-9.e+-]+$/)}' ||
        fail "grad $name: relative difference '$relative' above 1e-3"
done
[ "$(grep -c '^grad ' "$out")" -eq 16 ] || fail "expected 16 gradient lines, got $(grep -c '^grad ' "$out")"
for step in 0 1 2 3 4 5 6 7 8 9; do
    read -r ours theirs <<< "$(awk -v s=$step '$1 == "step" && $2 == s {print $4, $6}' "$out")"
    expected=$(awk -v s=$step '$1 == "step" && $2 == s {print $4}' $fixture/losses.txt)
    [ "${theirs:-}" = "$expected" ] || fail "step $step: reference '${theirs:-}', losses.txt says '$expected'"
    awk -v a="${ours:-}" -v b="$expected" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-5 * b)}' ||
        fail "step $step: loss '${ours:-}' vs PyTorch's $expected: relative difference above 1e-5"
done
[ "$(grep -c '^step ' "$out")" -eq 10 ] || fail "expected 10 step lines, got $(grep -c '^step ' "$out")"


head -c 5000 $fixture/model.bin > "$tmp/truncated.bin"
expect_error "truncated model" "truncated" "$groundup" verify --model "$tmp/truncated.bin" --state $fixture/state.bin
head -c 1000 $fixture/model.bin > "$tmp/short.bin"
expect_error "header cut short" "truncated" "$groundup" verify --model "$tmp/short.bin" --state $fixture/state.bin
printf 'XXXX' | cat - <(tail -c +5 $fixture/model.bin) > "$tmp/magic.bin"
expect_error "wrong magic" "magic" "$groundup" verify --model "$tmp/magic.bin" --state $fixture/state.bin
# version 5 (bf16 in llm.c) is not this format
{ head -c 4 $fixture/model.bin; printf '\x05\x00\x00\x00'; tail -c +9 $fixture/model.bin; } > "$tmp/version.bin"
expect_error "llm.c version 5" "version" "$groundup" verify --model "$tmp/version.bin" --state $fixture/state.bin
head -c 3000 $fixture/state.bin > "$tmp/state.bin"
expect_error "truncated state" "state.bin" "$groundup" verify --model $fixture/model.bin --state "$tmp/state.bin"
expect_error "missing model" "cannot open" "$groundup" verify --model "$tmp/missing.bin" --state $fixture/state.bin
expect_error "no --state" "required" "$groundup" verify --model $fixture/model.bin
expect_error "unknown option" "unknown option" "$groundup" verify --modle x
expect_error "non-numeric steps" "expects an integer" "$groundup" verify --model $fixture/model.bin --state $fixture/state.bin --steps ten

cli_finish
