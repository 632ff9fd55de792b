#!/usr/bin/env bash
# The MLP on MNIST against PyTorch, same recipe, same run: 784-256-128-10, Adam lr 1e-3, batch
# 64, 5 epochs on data/mnist's 8,000 training images; `groundup train --arch mlp --data
# data/mnist` (its defaults are this recipe) and bench/mnist_mlp_reference.py alternate, one
# seed per round. Prints the median time per epoch (every epoch of every round), the median test
# accuracy over the seeds, the resident memory after epochs 1 and 5, and the ratios.
#
#   bench/mnist_mlp.sh [BUILD_DIR] [ROUNDS] [THREADS]
#
# Both run with OMP_WAIT_POLICY=PASSIVE and THREADS threads (default 2); PyTorch's OpenBLAS is
# told its core (OPENBLAS_CORETYPE from the CPU's flags unless set, bench/openblas_core.sh:
# Debian's OpenBLAS may not recognise a new CPU and fall back to SSE3) and the core it reports with
# OPENBLAS_VERBOSE=2 is printed. PyTorch (Debian's python3-torch) is installed if missing.
set -euo pipefail
build=${1:-build}
rounds=${2:-5}
threads=${3:-2}
source "$(dirname "$0")/pytorch_setup.bash"
core=$(OPENBLAS_VERBOSE=2 /usr/bin/python3 -c "import torch; torch.ones(64, 64) @ torch.ones(64, 64)" 2>&1 |
    sed -n 's/^Core: //p' | head -1)
for seed in $(seq 1 "$rounds"); do
    "$build/groundup" train --arch mlp --data data/mnist --seed "$seed" --out "$tmp/mlp.safetensors" \
        > "$tmp/groundup.$seed" 2>/dev/null
    /usr/bin/python3 bench/mnist_mlp_reference.py --data data/mnist --seed "$seed" > "$tmp/torch.$seed"
done
# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
summary() {  # prefix -> seconds per epoch, accuracy, resident after epoch 1, after epoch 5
    local files=("$tmp/$1".*)
    local seconds accuracy first last
    seconds=$(cat "${files[@]}" | sed -n 's/^epoch [0-9]*: .* \([0-9.]*\) s, .*/\1/p' | median)
    accuracy=$(cat "${files[@]}" | sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' | median)
    first=$(cat "${files[@]}" | sed -n 's/^epoch 1: .*resident \([0-9.]*\) MB/\1/p' | median)
    last=$(cat "${files[@]}" | sed -n 's/^epoch 5: .*resident \([0-9.]*\) MB/\1/p' | median)
    echo "$seconds $accuracy $first $last"
}
read -r g_s g_a g_1 g_5 <<< "$(summary groundup)"
read -r t_s t_a t_1 t_5 <<< "$(summary torch)"
echo "$rounds rounds (seeds 1..$rounds), $threads threads, OMP_WAIT_POLICY=PASSIVE, PyTorch's OpenBLAS core: ${core:-unknown}"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
echo "| | s per epoch (median) | test accuracy (median) | resident MB after epoch 1 | after epoch 5 |"
echo "|---|---:|---:|---:|---:|"
echo "| groundup | $g_s | $g_a% | $g_1 | $g_5 |"
echo "| PyTorch $(sed -n 's/^torch \([^,]*\),.*/\1/p' "$tmp/torch.1") | $t_s | $t_a% | $t_1 | $t_5 |"
echo "| groundup vs PyTorch | $(echo "$t_s / $g_s" | bc -l | xargs printf '%.2fx faster') | $(echo "$g_a - $t_a" | bc -l | xargs printf '%+.2f points') | | |"
