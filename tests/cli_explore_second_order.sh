#!/usr/bin/env bash
# groundup explore second-order, bias-variance, double-descent at small sizes (seconds under the
# sanitizers): each prints its table with finite numbers and writes its SVG; the topic list names
# them; bad input is a one-line error with a non-zero exit and nothing on stdout. The numbers
# themselves are asserted by tests/test_explore_second_order.c.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
source "$(dirname "$0")/cli_explore_common.bash"

"$groundup" explore --help > "$tmp/topics" || fail "explore --help"
for t in second-order bias-variance double-descent; do
    grep -q "^    $t " "$tmp/topics" || fail "topic $t not listed"
    "$groundup" explore "$t" --help | grep -q -- '--out' || fail "$t --help lacks --out"
done
grep -q '^  optimisation$' "$tmp/topics" || fail "no area 'optimisation'"
grep -q '^  generalisation$' "$tmp/topics" || fail "no area 'generalisation'"

explore_topic second-order '| method | passes to tol | seconds to tol | CPU s to tol | passes run | final loss - f* |' 4 \
    --images 200 --l2 1e-3 --damping 1e-3 --adam-passes 100 --iterations 100
for m in 'L-BFGS' 'Newton-CG' 'natural gradient' 'Adam (lr'; do
    grep -qF "| $m" "$tmp/second-order.out" || fail "second-order: no row for $m"
done
grep -qE '^\| L-BFGS \| [0-9]+ \|' "$tmp/second-order.out" || fail "second-order: L-BFGS did not reach the tolerance"
# the record's headline: L-BFGS's passes to the tolerance, against Adam's passes run (it does not get there)
expect_record second-order %.0f "$(sed -n 's/^| L-BFGS | \([0-9]*\) |.*/\1/p' "$tmp/second-order.out")" \
    "$(sed -n 's/^| Adam (lr [^|]*| — | — | — | \([0-9]*\) |.*/\1/p' "$tmp/second-order.out")"

explore_topic bias-variance '| degree | bias^2 | variance | noise | bias^2+var+noise | measured test error |' 5 \
    --datasets 50 --max-degree 6 --test-points 20 --test-draws 2
[ "$(grep -cE '^\| [0-9]+ \| ' "$tmp/bias-variance.out")" -eq 7 ] || fail "bias-variance: not 7 degree rows"
best=$(sed -n 's/^Lowest measured test error at degree \([0-9]*\)\.$/\1/p' "$tmp/bias-variance.out")
expect_record bias-variance %.5f "$(awk -F' [|] ' -v d="$best" '$1 == "| " d {print $6}' "$tmp/bias-variance.out")" \
    "$(awk -F' [|] ' -v d="$best" '$1 == "| " d {print $5}' "$tmp/bias-variance.out")"

explore_topic double-descent '| features p | p / n | train MSE | test MSE | test error | norm of beta |' 3 \
    --train 60 --test 100 --points 9
grep -qE '^\| 60 \| 1\.00 \|' "$tmp/double-descent.out" || fail "double-descent: p = n not in the table"
# the record's headline: the peak test MSE, against the test MSE at the most features
peak=$(sed -n 's/^The test MSE peaks at p = \([0-9]*\) .*/\1/p' "$tmp/double-descent.out")
expect_record double-descent %.4f "$(awk -F' [|] ' -v p="$peak" '$1 == "| " p {print $4}' "$tmp/double-descent.out")" \
    "$(grep -E '^\| [0-9]+ \| [0-9.]+ \|' "$tmp/double-descent.out" | tail -1 | awk -F' [|] ' '{print $4}')"

# Bad input: one line, non-zero exit, nothing on stdout, no figure.
explore_bad "second-order, l2 0" "--l2" second-order --l2 0 --out "$tmp/bad.svg"
explore_bad "second-order, damping below l2/2" "--damping" second-order --l2 1e-3 --damping 1e-4 --out "$tmp/bad.svg"
explore_bad "second-order, 0 Adam passes" "--adam-passes" second-order --adam-passes 0 --out "$tmp/bad.svg"
explore_bad "second-order, missing data" "nonexistent" second-order --data /nonexistent-groundup --out "$tmp/bad.svg"
explore_bad "second-order, a word for a number" "--images" second-order --images many
explore_bad "bias-variance, degree too high" "--max-degree" bias-variance --max-degree 25 --out "$tmp/bad.svg"
explore_bad "bias-variance, degree >= points" "--train-size" bias-variance --train-size 8 --max-degree 8 --out "$tmp/bad.svg"
explore_bad "bias-variance, negative noise" "--noise" bias-variance --noise -1 --out "$tmp/bad.svg"
explore_bad "bias-variance, NaN noise" "--noise" bias-variance --noise nan --out "$tmp/bad.svg"
explore_bad "double-descent, max ratio below 1" "--max-ratio" double-descent --max-ratio 0.5 --out "$tmp/bad.svg"
explore_bad "double-descent, 0 training images" "--train" double-descent --train 0 --out "$tmp/bad.svg"
explore_bad "double-descent, too many points" "--points" double-descent --points 100 --out "$tmp/bad.svg"
explore_bad "double-descent, missing data" "nonexistent" double-descent --data /nonexistent-groundup --out "$tmp/bad.svg"
explore_bad "double-descent, unwritable figure" "nonexistent" double-descent --train 20 --test 10 --points 3 \
    --out /nonexistent-groundup/x.svg
[ ! -e "$tmp/bad.svg" ] || fail "a failed run left a figure"

cli_finish
