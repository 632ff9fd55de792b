#!/usr/bin/env bash
# Times a GPT-2 training step (forward + backward + AdamW) in groundup and in the PyTorch
# reference (tools/reference/gpt2_reference.py) at the same shape and thread count, in turn in
# the same run, and prints both medians and their ratio.
#
#   bench/train_vs_pytorch.sh [BUILD_DIR] [THREADS] [ROUNDS]
#
# The two alternate ROUNDS times (default 3) per shape; a row shows the median over the rounds
# of each side's median step, so that load from elsewhere on the machine falls on both alike.
# PyTorch comes from Debian (python3-torch, with OpenBLAS); installed here if missing. It runs
# at OpenBLAS's best kernel for this CPU (bench/openblas_core.sh sets OPENBLAS_CORETYPE and
# prints the core chosen) and with OMP_WAIT_POLICY=PASSIVE so its OpenMP and OpenBLAS threads
# do not spin against each other on a small machine (otherwise it runs 1.5-3x slower).
# groundup runs with the same policy: on a machine shared with other jobs, OpenMP threads that
# spin while their partner is descheduled cost groundup 2-7x (measured on 2 shared cores);
# WAIT_POLICY=ACTIVE bench/train_vs_pytorch.sh sets both sides to spin instead.
set -euo pipefail
build=${1:-build}
threads=${2:-2}
rounds=${3:-3}
wait_policy=${WAIT_POLICY:-PASSIVE}
source "$(dirname "$0")/openblas_core.sh"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3-torch python3-numpy >/dev/null
fi
openblas_core_report /usr/bin/python3 -c "import torch; torch.mm(torch.ones(64, 64), torch.ones(64, 64))"
"$build/groundup" bench matmul --repeats 1 --threads 1 2>&1 >/dev/null | head -1 >&2
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
run() {  # name, groundup shape options, batch
    local name=$1 shape=$2 batch=$3 ours=() theirs=()
    for _ in $(seq "$rounds"); do
        ours+=("$(OMP_WAIT_POLICY=$wait_policy "$build/groundup" bench train $shape --batch "$batch" --threads "$threads" --steps 5 2>/dev/null |
            sed -n 's/.*: \([0-9.]*\) ms\/step.*/\1/p')")
        # shellcheck disable=SC2086
        theirs+=("$(OMP_WAIT_POLICY=$wait_policy OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
            /usr/bin/python3 tools/reference/gpt2_reference.py --bench-train --threads "$threads" --steps 6 \
            $(echo "$shape" | sed 's/--context \([0-9]*\)/--context \1 --seq \1/') --batch "$batch" |
            sed -n 's/.*: \([0-9.]*\) ms\/step.*/\1/p')")
    done
    local a b
    a=$(printf '%s\n' "${ours[@]}" | median)
    b=$(printf '%s\n' "${theirs[@]}" | median)
    printf '| %s | %s | %s | %s | %.2fx |\n' "$name" "$batch" "$a" "$b" "$(echo "$b / $a" | bc -l)"
}
echo "| shape | B | groundup ms/step | PyTorch ms/step | groundup speedup |"
echo "|---|---|---|---|---|"
run "GPT-2 124M (12L 12H 768C, V 50257, T 64)" "--layers 12 --heads 12 --dim 768 --context 64 --vocab 50257" 4
run "default small (4L 4H 256C, V 4096, T 128)" "--layers 4 --heads 4 --dim 256 --context 128 --vocab 4096" 8
echo
echo "(median over $rounds alternating rounds of each side's median step; $threads threads, OMP_WAIT_POLICY=$wait_policy)"
