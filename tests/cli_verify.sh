#!/usr/bin/env bash
# groundup verify on the committed PyTorch fixture (tests/fixtures/gpt2, made by
# tools/reference/gpt2_reference.py), and its errors on damaged files.
set -u
groundup=$1
fixture=tests/fixtures/gpt2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_common.bash"

# The C model agrees with PyTorch: logits, loss, gradients, and 10 AdamW steps.
if ! "$groundup" verify --model $fixture/model.bin --state $fixture/state.bin --steps 10 \
        --expected-losses $fixture/losses.txt > "$tmp/out" 2> "$tmp/err"; then
    fail "verify on the fixture failed"; cat "$tmp/out" "$tmp/err" >&2
fi
[ "$(grep -c ' ok$' "$tmp/out")" -eq 28 ] || fail "expected 28 checks ok (logits, loss, 16 gradients, 10 steps)"
grep -q '^step 9 loss' "$tmp/out" || fail "no 'step 9 loss' line"


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

exit $((failures > 0))
