#!/usr/bin/env bash
# groundup explore, the numerical-stability topics: each prints its table and writes a complete
# SVG; bad input (counts of 0 or below, parameters outside their domain, an unwritable file) is
# one 'groundup:' line, a non-zero exit and nothing on stdout.
set -u
groundup="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_common.bash"

run_topic() {
    local topic=$1 header=$2 series=$3
    shift 3
    "$groundup" explore "$topic" --out "$tmp/$topic.svg" "$@" >"$tmp/$topic.out" 2>"$tmp/$topic.err" ||
        fail "$topic: exit status $?"
    grep -qF -- "$header" "$tmp/$topic.out" || fail "$topic: no table header '$header'"
    grep -q '</svg>' "$tmp/$topic.svg" 2>/dev/null || fail "$topic: SVG missing or incomplete"
    [ "$(grep -o 'data-series="[0-9]*"' "$tmp/$topic.svg" | sort -u | wc -l)" -ge "$series" ] ||
        fail "$topic: fewer than $series series in the SVG"
    grep -q "wrote $tmp/$topic.svg" "$tmp/$topic.err" || fail "$topic: no 'wrote' line on stderr"
    finite_outputs "$tmp/$topic.out"
}

run_topic softmax-stability '| scale | naive lse | stable lse | naive softmax | stable softmax |' 4 --per-decade 2 --rows 16
grep -q '^| 1e+04 | overflow | ' "$tmp/softmax-stability.out" || fail "softmax-stability: naive did not overflow at 1e4"
run_topic variance-stability '| shift | reference | one pass | two passes | Welford |' 3 --n 10000
run_topic summation '| n | reference | running float32 | pairwise float32 | Kahan float32 | running float64 |' 4 --n 100000
[ "$(grep -cE '^\| [0-9]+ \| ' "$tmp/summation.out")" -eq 5 ] || fail "summation: not 5 rows for n = 1e5"
run_topic orthogonality '| kappa | measured kappa | classical GS | modified GS | Householder |' 5 --max-exponent 8
run_topic ill-conditioning '| n | kappa_inf | kappa_2 | kappa_inf eps | error | residual |' 3 --max-n 12
grep -q '^| 5 | 9.437e+05 | 4.766e+05 |' "$tmp/ill-conditioning.out" || fail "ill-conditioning: kappa(H5) row"

check_bad() {
    local description=$1 pattern=$2
    shift 2
    expect_error "$description" "$pattern" "$groundup" explore "$@"
    "$groundup" explore "$@" >"$tmp/bad_out" 2>/dev/null
    [ ! -s "$tmp/bad_out" ] || fail "$description: output on stdout"
}
check_bad "zero rows" "--rows must be at least 1" softmax-stability --rows 0 --out "$tmp/x.svg"
check_bad "scales per decade" "--per-decade must be in \[1, 8\]" softmax-stability --per-decade 20 --out "$tmp/x.svg"
check_bad "one value" "--n must be at least 2" variance-stability --n 1 --out "$tmp/x.svg"
check_bad "negative n" "--n must be at least 1000" summation --n -7 --out "$tmp/x.svg"
check_bad "fewer rows than columns" "--rows (at least --cols) must be at least 10" orthogonality --rows 4 --out "$tmp/x.svg"
check_bad "condition beyond 1e16" "--max-exponent must be in \[1, 16\]" orthogonality --max-exponent 30 --out "$tmp/x.svg"
check_bad "Hilbert too small" "--max-n must be at least 2" ill-conditioning --max-n 0 --out "$tmp/x.svg"
check_bad "Hilbert too large" "--max-n must be in \[2, 20\]" ill-conditioning --max-n 50 --out "$tmp/x.svg"
check_bad "unwritable SVG" "nonexistent" summation --n 1000 --out /nonexistent-groundup-directory/x.svg

[ "$failures" -eq 0 ] && echo "cli_explore_stability: all checks passed" >&2
exit $((failures > 0))
