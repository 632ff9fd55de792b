#!/usr/bin/env bash
# BERT's masked-LM pretraining against PyTorch, same run: `groundup train --arch bert` (its
# defaults: 2 layers, 4 heads, width 64, ff 256, context 64, batch 32, AdamW 2e-3, SECONDS of
# training on Moby-Dick with a 2048-token BPE) and tools/reference/bert_reference.py train on
# the data that run exported (the same token ids and the same held-out masks; the same recipe
# with numpy's random numbers), alternating, one seed per round. Prints each run's steps,
# tokens/s, held-out masked-token accuracy and perplexity, then the medians.
#
#   bench/bert.sh [BUILD_DIR] [ROUNDS] [THREADS] [SECONDS]
#   bench/bert.sh build 2 2 300
#
# Both with OMP_WAIT_POLICY=PASSIVE and THREADS threads; OPENBLAS_CORETYPE as bench/openblas_core.sh sets it.
set -euo pipefail
build=${1:-build}
rounds=${2:-2}
threads=${3:-2}
seconds=${4:-300}
source "$(dirname "$0")/pytorch_setup.bash"
echo "load before: $load"
for seed in $(seq 1 "$rounds"); do
    "$build/groundup" train --arch bert --time "$seconds" --seed "$seed" --threads "$threads" \
        --out "$tmp/bert.safetensors" --export "$tmp/data.safetensors" > "$tmp/groundup.$seed" 2>/dev/null
    /usr/bin/python3 tools/reference/bert_reference.py train --data "$tmp/data.safetensors" --time "$seconds" \
        --seed "$seed" --threads "$threads" > "$tmp/torch.$seed" 2>/dev/null
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() {  # prefix, sed expression -> the values of every run, one a line
    cat "$tmp/$1".* | sed -n "$2"
}
steps='s/^trained \([0-9]*\) steps.*/\1/p'
rate='s/^trained .*(\([0-9]*\) tokens\/s).*/\1/p'
accuracy='s/^held-out: masked-token accuracy \([0-9.]*\)%.*/\1/p'
perplexity='s/^held-out: .*perplexity \([0-9.]*\).*/\1/p'
printf "%-9s %-6s %-8s %-10s %-10s %s\n" "" seed steps tokens/s accuracy perplexity
for who in groundup torch; do
    for seed in $(seq 1 "$rounds"); do
        printf "%-9s %-6s %-8s %-10s %-10s %s\n" "$who" "$seed" "$(sed -n "$steps" "$tmp/$who.$seed")" \
            "$(sed -n "$rate" "$tmp/$who.$seed")" "$(sed -n "$accuracy" "$tmp/$who.$seed")%" "$(sed -n "$perplexity" "$tmp/$who.$seed")"
    done
    printf "%-9s %-6s %-8s %-10s %-10s %s\n" "$who" median "$(field $who "$steps" | median)" "$(field $who "$rate" | median)" \
        "$(field $who "$accuracy" | median)%" "$(field $who "$perplexity" | median)"
done
