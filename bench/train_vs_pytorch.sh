#!/usr/bin/env bash
# Times a GPT-2 training step (forward + backward + AdamW) in groundup and in the PyTorch
# reference (tools/reference/gpt2_reference.py) at the same shape and thread count, one after
# the other in the same run, and prints both medians and their ratio.
#
#   bench/train_vs_pytorch.sh [BUILD_DIR] [THREADS]
#
# PyTorch comes from Debian (python3-torch, with OpenBLAS); installed here if missing. It is
# started with OMP_WAIT_POLICY=PASSIVE so its OpenMP and OpenBLAS threads do not spin against
# each other on a small machine (otherwise it runs 1.5-3x slower than it can).
set -euo pipefail
build=${1:-build}
threads=${2:-2}
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3-torch python3-numpy >/dev/null
fi
run() {  # name, groundup shape options, batch
    local name=$1 shape=$2 batch=$3
    local ours theirs
    ours=$("$build/groundup" bench train $shape --batch "$batch" --threads "$threads" --steps 5 2>/dev/null |
        sed -n 's/.*: \([0-9.]*\) ms\/step.*/\1/p')
    # shellcheck disable=SC2086
    theirs=$(OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
        /usr/bin/python3 tools/reference/gpt2_reference.py --bench-train --threads "$threads" --steps 6 \
        $(echo "$shape" | sed 's/--context \([0-9]*\)/--context \1 --seq \1/') --batch "$batch" |
        sed -n 's/.*: \([0-9.]*\) ms\/step.*/\1/p')
    printf '| %s | %s | %s | %s | %.2fx |\n' "$name" "$batch" "$ours" "$theirs" "$(echo "$theirs / $ours" | bc -l)"
}
echo "| shape | B | groundup ms/step | PyTorch ms/step | groundup speedup |"
echo "|---|---|---|---|---|"
run "GPT-2 124M (12L 12H 768C, V 50257, T 64)" "--layers 12 --heads 12 --dim 768 --context 64 --vocab 50257" 4
run "default small (4L 4H 256C, V 4096, T 128)" "--layers 4 --heads 4 --dim 256 --context 128 --vocab 4096" 8
