#!/usr/bin/env bash
# groundup explore, the calculus topics: each prints its table and writes a complete SVG with a
# curve per series; bad input (an unknown topic, counts of 0 or below, a parameter outside its
# domain, an unwritable file) is one 'groundup:' line, a non-zero exit and nothing on stdout.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
source "$(dirname "$0")/cli_explore_common.bash"

explore_topic finite-differences '| h | forward, float64 | central, float64 | forward, float32 | central, float32 |' 4 --per-decade 2
# The best central float64 step, read from the summary table, within a decade of eps^(1/3) = 6.1e-6.
best=$(grep '^| central, float64 | 1 |' "$tmp/finite-differences.out" | cut -d'|' -f4 | tr -d ' ')
awk -v h="$best" 'BEGIN { exit !(h >= 6.1e-7 && h <= 6.1e-5) }' || fail "finite-differences: best central h '$best'"
explore_topic jacobian-hessian '| derivative | size | best h | error there |' 7 --per-decade 2
grep -q '^| network Hv f32 | 83 |' "$tmp/jacobian-hessian.out" || fail "jacobian-hessian: no network Hv row"
explore_topic chain-rule '| stage | vector-Jacobian product | Jacobian | vector | norm | check |' 2
[ "$(grep -cE '^\| [0-6] \| dL/d' "$tmp/chain-rule.out")" -eq 7 ] || fail "chain-rule: not 7 stages"

# The same seed gives the same table; --help works for every topic and the list names them.
"$groundup" explore chain-rule --out "$tmp/again.svg" >"$tmp/again.out" 2>/dev/null
cmp -s "$tmp/chain-rule.out" "$tmp/again.out" || fail "chain-rule: not reproducible"
for topic in finite-differences jacobian-hessian chain-rule; do
    "$groundup" explore "$topic" --help >"$tmp/help" 2>&1 || fail "$topic --help: exit status"
    grep -q -- '--out' "$tmp/help" || fail "$topic --help does not list --out"
    "$groundup" explore --help | grep -q "^    $topic " || fail "explore --help does not list $topic"
done

# Bad input: one line, non-zero exit, nothing on stdout.
explore_bad "unknown topic" "unknown topic 'derivatives'" derivatives
explore_bad "zero steps per decade" "--per-decade must be at least 1" finite-differences --per-decade 0 --out "$tmp/x.svg"
explore_bad "negative points" "--points must be at least 1" finite-differences --points -5 --out "$tmp/x.svg"
explore_bad "too many steps per decade" "--per-decade must be in \[1, 6\]" jacobian-hessian --per-decade 9 --out "$tmp/x.svg"
explore_bad "not a number" "--seed" chain-rule --seed abc
explore_bad "unknown option" "--bogus" jacobian-hessian --bogus
explore_bad "unwritable SVG" "nonexistent" chain-rule --out /nonexistent-groundup-directory/x.svg

# checks of derivatives train nothing: no run record
! compgen -G "$tmp/runs/*.json" >/dev/null || fail "a calculus topic left a run record"

cli_finish
