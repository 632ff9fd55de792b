#!/usr/bin/env bash
# groundup's conv2d against PyTorch's F.conv2d (Debian's python3-torch, oneDNN) on the layers of
# `groundup bench conv` (LeNet-5's and a small ResNet's, batch 64): forward and backward
# milliseconds, one markdown table with both and the ratios.
#
#   bench/conv.sh [BUILD_DIR] [THREADS] [REPEATS] [ROUNDS] [--cpu-time]
#
# The two programs run in turn ROUNDS times (default 3), each timing every layer REPEATS times
# (default 7); a cell is the median over the rounds of each side's median, so that load from
# elsewhere falls on both alike. Both run with OMP_WAIT_POLICY=PASSIVE; PyTorch with
# torch.set_num_threads(THREADS), groundup with --threads THREADS. --cpu-time times the
# process's CPU time instead of the wall clock (steadier on a loaded machine, one thread).
# Installs python3-torch if missing (only to compare; groundup never uses it).
set -euo pipefail
build=${1:-build}
threads=${2:-2}
repeats=${3:-7}
rounds=${4:-3}
clock=${5:-}
export OMP_WAIT_POLICY=PASSIVE
source "$(dirname "$0")/openblas_core.sh"  # conv2d runs on oneDNN; anything else torch does on OpenBLAS gets its best core
if ! /usr/bin/python3 -c "import torch" 2> /dev/null; then
    apt-get update -qq && apt-get install -y -qq python3-torch > /dev/null
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
root="$(dirname "$0")/.."
"$build/groundup" bench conv --shapes > "$scratch/shapes"
for round in $(seq "$rounds"); do
    "$build/groundup" bench conv --threads "$threads" --repeats "$repeats" --no-direct $clock 2> /dev/null |
        tail -n +3 | tr -d '|' | awk -v r="$round" '{print $1, r, $(NF-4), $(NF-1)}' >> "$scratch/ours"
    /usr/bin/python3 "$root/bench/conv_reference.py" "$scratch/shapes" --threads "$threads" --repeats "$repeats" $clock |
        awk -v r="$round" '{print $1, r, $2, $3}' >> "$scratch/theirs"
done
median() {  # file column -> "layer median" lines, in the order of the shapes
    awk -v col="$2" '{print $1, $col}' "$1" | sort -k1,1 -k2,2g | awk -v n="$rounds" '{v[$1] = v[$1] " " $2} END {
        for (layer in v) { split(substr(v[layer], 2), x, " "); print layer, x[int((n + 1) / 2)] } }'
}
median "$scratch/ours" 3 > "$scratch/of"; median "$scratch/ours" 4 > "$scratch/ob"
median "$scratch/theirs" 3 > "$scratch/tf"; median "$scratch/theirs" 4 > "$scratch/tb"
echo "| layer | input | weight, stride, padding | forward ms | PyTorch | PyTorch / groundup | backward ms | PyTorch | PyTorch / groundup |"
echo "|---|---|---|---|---|---|---|---|---|"
while read -r name n c h w oc k stride padding; do
    of=$(awk -v l="$name" '$1 == l {print $2}' "$scratch/of"); ob=$(awk -v l="$name" '$1 == l {print $2}' "$scratch/ob")
    tf=$(awk -v l="$name" '$1 == l {print $2}' "$scratch/tf"); tb=$(awk -v l="$name" '$1 == l {print $2}' "$scratch/tb")
    awk -v name="$name" -v i="($n,$c,$h,$w)" -v wt="($oc,$c,$k,$k), $stride, $padding" -v of="$of" -v ob="$ob" -v tf="$tf" \
        -v tb="$tb" 'BEGIN {printf "| %s | %s | %s | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx |\n", name, i, wt, of, tf, tf / of, ob, tb, tb / ob}'
done < "$scratch/shapes"
awk '{f += $2} END {printf "total forward: groundup %.1f ms", f}' "$scratch/of"; awk '{f += $2} END {printf ", PyTorch %.1f ms", f}' "$scratch/tf"
awk '{f += $2} END {printf "; backward: groundup %.1f ms", f}' "$scratch/ob"; awk '{f += $2} END {printf ", PyTorch %.1f ms\n", f}' "$scratch/tb"
echo "($threads threads, median of $repeats per round, $rounds rounds alternating${clock:+, CPU time})"
