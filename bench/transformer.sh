#!/usr/bin/env bash
# Times a training step (forward, backward, AdamW) of the encoder-decoder Transformer in
# groundup (groundup bench transformer) and the same model in PyTorch (nn.Transformer,
# tools/reference/transformer_reference.py --bench-train), at the same shapes and thread
# count, alternating in the same run; prints both medians and their ratio.
#
#   bench/transformer.sh [BUILD_DIR] [THREADS] [ROUNDS]
#
# Each side's figure is the median over ROUNDS (default 5) alternating rounds of its median
# step (of 20), so load from elsewhere on the machine falls on both alike; the load average
# is printed before and after. PyTorch (Debian's python3-torch, OpenBLAS) runs at OpenBLAS's
# best kernel for this CPU (bench/openblas_core.sh) and both sides with OMP_WAIT_POLICY=PASSIVE.
set -euo pipefail
build=${1:-build}
threads=${2:-2}
rounds=${3:-5}
source "$(dirname "$0")/openblas_core.sh"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3-torch python3-numpy >/dev/null
fi
openblas_core_report /usr/bin/python3 -c "import torch; torch.mm(torch.ones(64, 64), torch.ones(64, 64))"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
run() {  # name, d_model, heads, feed-forward, batch, source length, target length
    local name=$1 C=$2 H=$3 FF=$4 B=$5 S=$6 T=$7 ours=() theirs=()
    for _ in $(seq "$rounds"); do
        ours+=("$(OMP_WAIT_POLICY=PASSIVE "$build/groundup" bench transformer --d-model "$C" --heads "$H" \
            --feedforward "$FF" --batch "$B" --source "$S" --target "$T" --threads "$threads" --steps 20 |
            sed -n 's/.*: \([0-9.]*\) ms\/step.*/\1/p')")
        theirs+=("$(OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
            /usr/bin/python3 tools/reference/transformer_reference.py --bench-train --threads "$threads" --steps 20 \
            --d-model "$C" --heads "$H" --feedforward "$FF" --src-vocab 45 --tgt-vocab 45 --batch "$B" \
            --src-length "$S" --tgt-length "$T" | sed -n 's/.*: \([0-9.]*\) ms\/step.*/\1/p')")
    done
    local a b
    a=$(printf '%s\n' "${ours[@]}" | median)
    b=$(printf '%s\n' "${theirs[@]}" | median)
    printf '| %s | %s | %s | %s | %.2fx |\n' "$name" "$B" "$a" "$b" "$(echo "$b / $a" | bc -l)"
}
echo "| model (2+2 layers, V 45) | B | groundup ms/step | PyTorch ms/step | groundup speedup |"
echo "|---|---|---|---|---|"
run "toy tasks' (C 64, 4 heads, FF 256, S 16, T 17)" 64 4 256 64 16 17
run "larger (C 256, 8 heads, FF 1024, S 32, T 32)" 256 8 1024 32 32 32
echo
echo "(median over $rounds alternating rounds of each side's median of 20 steps; $threads threads, OMP_WAIT_POLICY=PASSIVE; load after: $(cut -d' ' -f1-3 /proc/loadavg))"
