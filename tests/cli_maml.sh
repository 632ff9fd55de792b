#!/usr/bin/env bash
# groundup maml from the command line: a tiny run of the three methods (seconds even under the
# sanitizers) with its table, the adaptation curves, the fits picture, the parameters and a
# run record per method; the one-line errors: an unknown method, counts out of range, a
# learning rate that is not a number, a run that diverges, an unwritable output.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

"$groundup" maml --meta-steps 40 --meta-batch 4 --hidden 10 --test-tasks 6 --out "$tmp/maml.safetensors" \
    --svg "$tmp/curves.svg" --fits-svg "$tmp/fits.svg" > "$tmp/out" 2> "$tmp/err" ||
    { fail "maml failed"; cat "$tmp/err" >&2; }
grep -q '^held-out MSE over 6 tasks (K = 10 shots, SGD), after n adaptation steps:$' "$tmp/out" ||
    fail "maml: no table title"
for method in fomaml maml pretrained; do
    [ "$(grep -E -c "^$method +[0-9.e-]+ +([0-9]+\.[0-9]{3} +){10}[0-9]+\.[0-9]{3}$" "$tmp/out")" -eq 1 ] ||
        fail "maml: no row of 11 MSEs for $method"
    grep -q "\"value\"" "$tmp/runs/maml-sine-$method.json" || fail "maml: no run record for $method"
    grep -q "^$method: 40 meta-steps in" "$tmp/out" || fail "maml: no training line for $method"
done
[ "$(grep -c 'class="series"' "$tmp/curves.svg")" -eq 3 ] || fail "maml: not three adaptation curves"
[ "$(grep -c 'class="path"' "$tmp/fits.svg")" -eq 7 ] || fail "maml: not the sine and two fits per method"
[ "$(grep -c 'class="point"' "$tmp/fits.svg")" -eq 10 ] || fail "maml: not the 10 shots"
[ -s "$tmp/maml.safetensors" ] || fail "maml: no parameters written"
grep -q '^pretrained: fine-tuning step [0-9.e-]* (the best of 0.0025 ... 0.08 after 10 steps on 6 validation tasks)$' "$tmp/out" ||
    fail "maml: no tuned step for the pretrained baseline"
grep -E -q '^(fomaml|maml) +0.01 ' "$tmp/out" || fail "maml: the MAMLs do not adapt with alpha"
finite_outputs "$tmp/out"

"$groundup" maml --method maml --meta-steps 20 --meta-batch 2 --hidden 8 --test-tasks 3 --test-steps 2 \
    --out "$tmp/one.safetensors" --svg "$tmp/c.svg" --fits-svg "$tmp/f.svg" > "$tmp/out" 2> /dev/null || fail "maml --method maml failed"
[ "$(grep -c -E '^(fomaml|maml|pretrained) ' "$tmp/out")" -eq 1 ] || fail "maml --method maml: not one row"

expect_error "unknown method" "unknown method 'reptile'" "$groundup" maml --method reptile
expect_error "zero meta-steps" "meta-steps must be at least 1" "$groundup" maml --meta-steps 0
expect_error "zero shots" "shots must be in 1..10000" "$groundup" maml --shots 0
expect_error "too many test steps" "--test-steps must be in 0..100" "$groundup" maml --test-steps 101
expect_error "learning rate not a number" "learning rates must be positive and finite" "$groundup" maml --inner-lr nan
expect_error "diverging run" "is not finite" "$groundup" maml --inner-lr 1e4 --meta-steps 50 --hidden 8 \
    --out "$tmp/x.safetensors" --svg "$tmp/x.svg" --fits-svg "$tmp/x.svg"
expect_error "unwritable output" "x.safetensors" "$groundup" maml --meta-steps 2 --meta-batch 2 --hidden 4 --test-tasks 2 \
    --out /dev/null/x.safetensors --svg "$tmp/x.svg" --fits-svg "$tmp/x.svg"
[ ! -e "$tmp/x.svg" ] && [ ! -e "$tmp/x.safetensors" ] || fail "a failed command left a file behind"

cli_finish
