#!/usr/bin/env bash
# groundup explore, the numerical-stability topics: each prints its table and writes a complete
# SVG; bad input (counts of 0 or below, parameters outside their domain, an unwritable file) is
# one 'groundup:' line, a non-zero exit and nothing on stdout.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
source "$(dirname "$0")/cli_explore_common.bash"

explore_topic softmax-stability '| scale | naive lse | stable lse | naive softmax | stable softmax |' 4 --per-decade 2 --rows 16
grep -q '^| 1e+04 | overflow | ' "$tmp/softmax-stability.out" || fail "softmax-stability: naive did not overflow at 1e4"
explore_topic variance-stability '| shift | reference | one pass | two passes | Welford |' 3 --n 10000
explore_topic summation '| n | reference | running float32 | pairwise float32 | Kahan float32 |' 3 --n 100000
[ "$(grep -cE '^\| [0-9]+ \| ' "$tmp/summation.out")" -eq 5 ] || fail "summation: not 5 rows for n = 1e5"
explore_topic orthogonality '| kappa | measured kappa | classical GS | modified GS | Householder |' 5 --max-exponent 8
explore_topic ill-conditioning '| n | kappa_inf | kappa_2 | kappa_inf eps | error | residual |' 3 --max-n 12
grep -q '^| 5 | 9.437e+05 | 4.766e+05 |' "$tmp/ill-conditioning.out" || fail "ill-conditioning: kappa(H5) row"

# Bad input: one line, non-zero exit, nothing on stdout.
explore_bad "zero rows" "--rows must be at least 1" softmax-stability --rows 0 --out "$tmp/x.svg"
explore_bad "scales per decade" "--per-decade must be in \[1, 8\]" softmax-stability --per-decade 20 --out "$tmp/x.svg"
explore_bad "one value" "--n must be at least 2" variance-stability --n 1 --out "$tmp/x.svg"
explore_bad "negative n" "--n must be at least 1000" summation --n -7 --out "$tmp/x.svg"
explore_bad "fewer rows than columns" "--rows (at least --cols) must be at least 10" orthogonality --rows 4 --out "$tmp/x.svg"
explore_bad "condition beyond 1e16" "--max-exponent must be in \[1, 16\]" orthogonality --max-exponent 30 --out "$tmp/x.svg"
explore_bad "Hilbert too small" "--max-n must be at least 2" ill-conditioning --max-n 0 --out "$tmp/x.svg"
explore_bad "Hilbert too large" "--max-n must be in \[2, 20\]" ill-conditioning --max-n 50 --out "$tmp/x.svg"
explore_bad "unwritable SVG" "nonexistent" summation --n 1000 --out /nonexistent-groundup-directory/x.svg

cli_finish
