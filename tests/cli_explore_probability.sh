#!/usr/bin/env bash
# groundup explore's probability and information-theory topics at small sizes (seconds under the
# sanitizers): each prints its table with finite numbers and writes its figure; the topic list
# names them; bad input (counts <= 0, parameters outside their domain, unknown topics, missing
# files) is a one-line error with a non-zero exit and no figure. The numbers themselves are
# asserted by tests/test_explore_probability.c and tests/test_explore_information.c.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
source "$(dirname "$0")/cli_explore_common.bash"

lines() { grep -o 'class="series"' "$1" | wc -l; }

# run NAME FILE ARGS...: the topic succeeds, prints a table with finite numbers, writes FILE
# (stdout and stderr in $tmp/NAME.out and .err, a run record in $tmp/runs: expect_record)
run() {
    local name=$1 file=$2
    shift 2
    if GROUNDUP_RUNS="$tmp/runs" "$groundup" explore "$name" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"; then
        grep -q '^|---' "$tmp/$name.out" || fail "$name: no table"
        finite_outputs "$tmp/$name.out"
        [ -s "$file" ] || fail "$name: $file not written"
        grep -q "wrote" "$tmp/$name.err" || fail "$name: no 'wrote' line on stderr"
    else
        fail "$name failed: $(cat "$tmp/$name.err")"
    fi
}

"$groundup" explore --help > "$tmp/topics" || fail "explore --help"
for t in sampling maximum-likelihood bayes central-limit pca naive-bayes entropy mutual-information divergences \
         information-plane; do
    grep -q "^    $t " "$tmp/topics" || fail "topic $t not listed"
    "$groundup" explore "$t" --help | grep -q -- '--out' || fail "$t --help lacks --out"
done

run sampling "$tmp/s.svg" --samples 2000 --bins 20 --seed 3 --out "$tmp/s.svg"
[ "$(grep -cE '^\| (gaussian|bernoulli|categorical|poisson|exponential|beta|gamma) \|' "$tmp/sampling.out")" -eq 7 ] ||
    fail "sampling: not 7 rows"
[ "$(lines "$tmp/s.svg")" -eq 14 ] || fail "sampling: $(lines "$tmp/s.svg") lines, not 7 histograms + 7 densities"
run maximum-likelihood "$tmp/m.svg" --max-samples 100 --table-samples 50 --repetitions 20 --out "$tmp/m.svg"
[ "$(grep -cE '^\| (gaussian|bernoulli|categorical|poisson|exponential|gamma|beta) \|' "$tmp/maximum-likelihood.out")" -eq 13 ] ||
    fail "maximum-likelihood: not 13 parameters"
run bayes "$tmp/b.svg" --population 1000 --out "$tmp/b.svg"
grep -q '^| 100 | ' "$tmp/bayes.out" || fail "bayes: no row after 100 observations"
run central-limit "$tmp/c.svg" --means 500 --out "$tmp/c.svg"
[ "$(grep -c '^| [0-9]* | 0\.' "$tmp/central-limit.out")" -eq 9 ] || fail "central-limit: not 9 sizes"
run pca "$tmp/p.png" --images 100 --pool 4 --out "$tmp/p.png" --svg "$tmp/p.svg"
[ -s "$tmp/p.svg" ] || fail "pca: no SVG"
head -c 8 "$tmp/p.png" | od -An -c | grep -q 'P   N   G' || fail "pca: not a PNG"
run naive-bayes "$tmp/n.svg" --train 200 --test 100 --out "$tmp/n.svg"
[ "$(lines "$tmp/n.svg")" -eq 3 ] || fail "naive-bayes: not 3 classifiers"
# the record's headline: Bernoulli naive Bayes at the largest size (the last column), against LDA
largest() { awk -F' *[|] *' -v name="$1" '$2 == name {print $(NF - 1); exit}' "$tmp/naive-bayes.out"; }
expect_record naive-bayes %.4f "$(largest 'bernoulli naive Bayes')" "$(largest 'LDA (shared covariance)')"
run entropy "$tmp/e.svg" --out "$tmp/e.svg"
[ "$(grep -c '^| [0-4] | ' "$tmp/entropy.out")" -eq 5 ] || fail "entropy: not 5 orders"
run mutual-information "$tmp/i.svg" --max-lag 50 --out "$tmp/i.svg"
run divergences "$tmp/d.svg" --out "$tmp/d.svg"
grep -q '| all bytes | .* infinite |' "$tmp/divergences.out" || fail "divergences: KL(moby || names) should be infinite"
run information-plane "$tmp/ip.svg" --epochs 20 --out "$tmp/ip.svg"
[ "$(lines "$tmp/ip.svg")" -eq 7 ] || fail "information-plane: not 5 layers + 2 accuracies"
# the record's headline: the last snapshot's held-out accuracy, against its train accuracy
last_snapshot=$(grep -E '^\| [0-9]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|' "$tmp/information-plane.out" | tail -1)
expect_record information-plane %.4f "$(awk -F' [|] ' '{print $4}' <<< "$last_snapshot")" \
    "$(awk -F' [|] ' '{print $3}' <<< "$last_snapshot")"

explore_bad "unknown topic" "unknown topic 'nope'" nope
explore_bad "zero samples" "--samples must be at least 1" sampling --samples 0 --out "$tmp/x.svg"
explore_bad "negative samples" "--samples" sampling --samples -5 --out "$tmp/x.svg"
explore_bad "p above 1" "--p must be in \[0, 1\]" sampling --p 1.5 --out "$tmp/x.svg"
explore_bad "negative rate" "--rate" sampling --rate -1 --out "$tmp/x.svg"
explore_bad "zero Beta alpha" "--alpha" sampling --alpha 0 --out "$tmp/x.svg"
explore_bad "NaN std" "--std" sampling --std nan --out "$tmp/x.svg"
explore_bad "huge lambda" "--lambda" sampling --lambda 5000 --out "$tmp/x.svg"
explore_bad "one bin" "--bins" sampling --bins 1 --out "$tmp/x.svg"
explore_bad "zero repetitions" "--repetitions" maximum-likelihood --repetitions 0 --out "$tmp/x.svg"
explore_bad "gamma shape 0" "--shape" maximum-likelihood --shape 0 --out "$tmp/x.svg"
explore_bad "prior beta negative" "--prior-beta" bayes --prior-beta -1 --out "$tmp/x.svg"
explore_bad "specificity 0" "--specificity" bayes --specificity 0 --out "$tmp/x.svg"
explore_bad "zero population" "--population" bayes --population 0 --out "$tmp/x.svg"
explore_bad "zero means" "--means" central-limit --means 0 --out "$tmp/x.svg"
explore_bad "zero images" "--images" pca --images 0 --out "$tmp/x.png" --svg "$tmp/x.svg"
explore_bad "pool not dividing" "--pool 5" pca --pool 5 --out "$tmp/x.png" --svg "$tmp/x.svg"
explore_bad "no MNIST" "$tmp/none" pca --data "$tmp/none" --out "$tmp/x.png" --svg "$tmp/x.svg"
explore_bad "zero smoothing" "--smoothing" naive-bayes --smoothing 0 --out "$tmp/x.svg"
explore_bad "zero test images" "--test" naive-bayes --test 0 --out "$tmp/x.svg"
explore_bad "missing text" "$tmp/none.txt" entropy --text "$tmp/none.txt" --out "$tmp/x.svg"
explore_bad "holdout 1" "--holdout" entropy --holdout 1 --out "$tmp/x.svg"
explore_bad "zero lag" "--max-lag" mutual-information --max-lag 0 --out "$tmp/x.svg"
explore_bad "missing q" "$tmp/none.txt" divergences --q "$tmp/none.txt" --out "$tmp/x.svg"
explore_bad "zero epochs" "--epochs" information-plane --epochs 0 --out "$tmp/x.svg"
explore_bad "one plane bin" "--bins" information-plane --bins 1 --out "$tmp/x.svg"
explore_bad "bad number" "--samples" sampling --samples 12x --out "$tmp/x.svg"
explore_bad "unwritable SVG" "$tmp/no/dir" bayes --population 10 --out "$tmp/no/dir/b.svg"
[ -e "$tmp/x.svg" ] && fail "a failed run wrote its SVG"
[ -e "$tmp/x.png" ] && fail "a failed run wrote its PNG"

cli_finish
