#!/usr/bin/env bash
# groundup explore, the optimisation topics on tiny configurations: each prints its table and
# writes a complete SVG; bad input (unknown optimizer, bad rates, counts of 0) is one
# 'groundup:' line, a non-zero exit and nothing on stdout.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
source "$(dirname "$0")/cli_explore_common.bash"

explore_topic lr-range '| lr | batch loss | smoothed |' 3 --steps 30 --train 500 --batch 16 --gpt-batch 4 --text data/names.txt
grep -q '^suggested (steepest fall of the smoothed loss): lr = ' "$tmp/lr-range.out" || fail "lr-range: no suggestion"
explore_topic schedules '| schedule | last epoch' 5 --train 500 --test 200 --epochs 1 --batch 50 --warmup 3
[ "$(grep -cE '^\| (constant|step|cosine|warmup-cosine|one-cycle) \| [0-9]' "$tmp/schedules.out")" -eq 5 ] ||
    fail "schedules: not one row per schedule"
explore_topic warmup '| peak lr | warmup |' 4 --text data/names.txt --layers 1 --dim 16 --context 16 --batch 4 \
    --steps 20 --warmup 5 --lrs 1e-2,1e-1
explore_topic clipping '| clipping | steps |' 3 --train 300 --depth 6 --width 16 --steps 20 --batch 16
grep -q '^| none | [0-9]* | [0-9]* |' "$tmp/clipping.out" || fail "clipping: the unclipped run did not overflow"
# the record's headline: the training accuracy when clipping by norm (the unclipped run's is not a number)
expect_record clipping %.2f%% "$(awk -F' [|] ' '$1 == "| norm" {sub(/ [|]$/, "", $7); print $7}' "$tmp/clipping.out")"
grep -q '"against"' "$tmp/runs/explore-clipping.json" && fail "clipping: a record against a run that overflowed"
expect_record schedules %.2f%% "$(awk -F' [|] ' '{print $4}' "$tmp/schedules.out" | grep -E '^[0-9.]+%$' | sort -n | tail -1)"

explore_bad "an unknown optimizer" "--optimizer: unknown optimizer 'lion'" lr-range --optimizer lion --out "$tmp/x.svg"
explore_bad "lr start above end" "--lr-start" lr-range --lr-start 1 --lr-end 0.1 --out "$tmp/x.svg"
explore_bad "bad rates" "--lrs" warmup --lrs 1e-2,x --out "$tmp/x.svg"
explore_bad "a warmup as long as the run" "--warmup" warmup --steps 10 --warmup 10 --out "$tmp/x.svg"
explore_bad "zero epochs" "--epochs must be at least 1" schedules --epochs 0 --out "$tmp/x.svg"
explore_bad "zero depth" "--depth must be at least 1" clipping --depth 0 --out "$tmp/x.svg"
explore_bad "a negative gain" "--gain" clipping --gain -1 --out "$tmp/x.svg"
explore_bad "missing MNIST" "nowhere" clipping --data "$tmp/nowhere" --out "$tmp/x.svg"

cli_finish
