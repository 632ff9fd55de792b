#!/usr/bin/env bash
# The experiment commands at tiny sizes (seconds under the sanitizers): normalization, gradient-flow
# and dropout each print their table (one row per variant, finite numbers) and write an SVG with
# one line per series; bad options and a missing data directory are one-line errors. The numbers
# themselves are asserted by tests/test_vision_experiments.c.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

rows() { grep -c "^| $2" "$1"; }
lines() { grep -o 'class="series"' "$1" | wc -l; }

if "$groundup" normalization --train 200 --test 100 --epochs 2 --conv1 4 --conv2 4 --hidden 16 --out "$tmp/n.svg" \
        > "$tmp/n" 2> "$tmp/err"; then
    for v in none batch layer group; do [ "$(rows "$tmp/n" "$v |")" -eq 1 ] || fail "normalization: no row for $v"; done
    [ "$(lines "$tmp/n.svg")" -eq 16 ] || fail "normalization: $(lines "$tmp/n.svg") lines in the SVG (4 variants x train, test x 2 panels)"
    finite_outputs "$tmp/n"
else
    fail "normalization failed: $(cat "$tmp/err")"
fi

if "$groundup" gradient-flow --train 64 --channels 4 --steps 4 --record-every 2 --batch 8 --out "$tmp/g.svg" \
        > "$tmp/g" 2> "$tmp/err"; then
    [ "$(rows "$tmp/g" "plain")" -eq 4 ] && [ "$(rows "$tmp/g" "residual")" -eq 2 ] || fail "gradient-flow: not 4 plain and 2 residual rows"
    grep -q '^| plain He |' "$tmp/g" || fail "gradient-flow: no plain He row"
    [ "$(lines "$tmp/g.svg")" -ge 24 ] || fail "gradient-flow: $(lines "$tmp/g.svg") lines in the SVG"
else
    fail "gradient-flow failed: $(cat "$tmp/err")"
fi

if "$groundup" dropout --train 100 --test 50 --epochs 2 --conv1 4 --conv2 4 --hidden 16 --out "$tmp/d.svg" \
        > "$tmp/d" 2> "$tmp/err"; then
    [ "$(rows "$tmp/d" "no dropout")" -eq 1 ] && [ "$(rows "$tmp/d" "dropout 0.5")" -eq 1 ] || fail "dropout: rows"
    [ "$(lines "$tmp/d.svg")" -eq 8 ] || fail "dropout: $(lines "$tmp/d.svg") lines in the SVG"
    finite_outputs "$tmp/d"
else
    fail "dropout failed: $(cat "$tmp/err")"
fi

expect_error "no data" "$tmp/none" "$groundup" normalization --data "$tmp/none" --out "$tmp/x.svg"
expect_error "zero epochs" "--epochs" "$groundup" dropout --epochs 0 --out "$tmp/x.svg"
expect_error "dropout p 1" "--p" "$groundup" dropout --p 1 --out "$tmp/x.svg"
expect_error "groups not dividing" "--groups" "$groundup" normalization --groups 3 --train 50 --test 50 --out "$tmp/x.svg"
expect_error "odd residual depth" "even" "$groundup" gradient-flow --layers 21 --train 16 --steps 1 --out "$tmp/x.svg"
expect_error "an unwritable SVG" "$tmp/no/dir" "$groundup" gradient-flow --train 16 --channels 2 --steps 0 --out "$tmp/no/dir/g.svg"
[ -e "$tmp/x.svg" ] && fail "a failed run wrote its SVG"
for c in normalization gradient-flow dropout; do "$groundup" $c --help | grep -q -- '--out' || fail "$c --help lacks --out"; done

cli_finish
