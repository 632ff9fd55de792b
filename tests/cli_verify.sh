#!/usr/bin/env bash
# groundup verify on the committed PyTorch fixture (tests/fixtures/gpt2, made by
# tools/reference/gpt2_reference.py), and its errors on damaged files.
set -u
groundup=$1
fixture=tests/fixtures/gpt2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# The C model agrees with PyTorch: logits, loss, gradients, and 10 AdamW steps.
if ! "$groundup" verify --model $fixture/model.bin --state $fixture/state.bin --steps 10 \
        --expected-losses $fixture/losses.txt > "$tmp/out" 2> "$tmp/err"; then
    fail "verify on the fixture failed"; cat "$tmp/out" "$tmp/err" >&2
fi
[ "$(grep -c ' ok$' "$tmp/out")" -eq 28 ] || fail "expected 28 checks ok (logits, loss, 16 gradients, 10 steps)"
grep -q '^step 9 loss' "$tmp/out" || fail "no 'step 9 loss' line"

# expects: the command exits non-zero with one error line containing $1 (plus, for a
# wrong option, the usage line)
expect_error() {
    local pattern=$1; shift
    if "$@" > /dev/null 2> "$tmp/err"; then fail "succeeded: $*"; return; fi
    [ "$(grep -v '^usage:' "$tmp/err" | wc -l)" -eq 1 ] || { fail "not one line: $*"; cat "$tmp/err" >&2; }
    grep -q -- "$pattern" "$tmp/err" || { fail "no '$pattern' in error of: $*"; cat "$tmp/err" >&2; }
}

head -c 5000 $fixture/model.bin > "$tmp/truncated.bin"
expect_error "truncated" "$groundup" verify --model "$tmp/truncated.bin" --state $fixture/state.bin
head -c 1000 $fixture/model.bin > "$tmp/short.bin"
expect_error "truncated" "$groundup" verify --model "$tmp/short.bin" --state $fixture/state.bin
printf 'XXXX' | cat - <(tail -c +5 $fixture/model.bin) > "$tmp/magic.bin"
expect_error "magic" "$groundup" verify --model "$tmp/magic.bin" --state $fixture/state.bin
# version 5 (bf16 in llm.c) is not this format
{ head -c 4 $fixture/model.bin; printf '\x05\x00\x00\x00'; tail -c +9 $fixture/model.bin; } > "$tmp/version.bin"
expect_error "version" "$groundup" verify --model "$tmp/version.bin" --state $fixture/state.bin
head -c 3000 $fixture/state.bin > "$tmp/state.bin"
expect_error "state.bin" "$groundup" verify --model $fixture/model.bin --state "$tmp/state.bin"
expect_error "cannot open" "$groundup" verify --model "$tmp/missing.bin" --state $fixture/state.bin
expect_error "required" "$groundup" verify --model $fixture/model.bin
expect_error "unknown option" "$groundup" verify --modle x
expect_error "expects an integer" "$groundup" verify --model $fixture/model.bin --state $fixture/state.bin --steps ten

exit $((failures > 0))
