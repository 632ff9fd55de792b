#!/usr/bin/env bash
# The Vision Transformer against LeNet-5 on MNIST at a similar parameter count (ViT 60,730,
# LeNet-5 6-16-120-84 61,706), the same recipe, same run: `groundup train --arch vit` at its
# defaults (dim 48, 3 layers of 4 heads, MLP 96, 7x7 patches; AdamW lr 1e-3, weight decay 0.05 on
# the matrices, warmup over the first tenth of the steps then cosine to 0, batch 64), LeNet-5 with
# exactly that recipe given as options, LeNet-5 at its own default (Adam 1e-3, constant), and the
# same ViT and recipe in PyTorch (tools/reference/vit_reference.py --train), EPOCHS epochs on
# data/mnist's 8,000 training images, test accuracy on its 2,000 test images. The four alternate,
# one seed per round (groundup's and PyTorch's seeds are unrelated: compare medians). Prints each
# run's accuracy, then per model the median time per epoch (every epoch of every round), the median
# CPU time (user + system) of a whole run and the median test accuracy over the seeds.
#
#   bench/vit_mnist.sh [BUILD_DIR] [ROUNDS] [THREADS] [EPOCHS] [pytorch|no-pytorch]
#   bench/vit_mnist.sh build 3 2 20
# no-pytorch leaves the PyTorch ViT out (on a loaded machine it takes 5-10x groundup's time).
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
threads=${3:-2}
epochs=${4:-20}
pytorch=${5:-pytorch}
source "$(dirname "$0")/pytorch_setup.bash"
warmup=$((epochs * 125 / 10))  # 125 steps of 64 per epoch of 8,000 images: the vit's default
recipe=(--optimizer adamw --weight-decay 0.05 --schedule cosine --warmup "$warmup")
run() {  # NAME SEED COMMAND...: CPU seconds to $tmp/NAME-cpu.SEED, output to $tmp/NAME.SEED
    local name=$1 seed=$2
    shift 2
    /usr/bin/time -f "%U %S" -o "$tmp/$name-cpu.$seed" "$@" > "$tmp/$name.$seed" 2>/dev/null
}
for seed in $(seq 1 "$rounds"); do
    run vit "$seed" "$build/groundup" train --arch vit --data data/mnist --epochs "$epochs" --seed "$seed" \
        --out "$tmp/vit.safetensors"
    run lenet5 "$seed" "$build/groundup" train --arch lenet5 --data data/mnist --epochs "$epochs" --seed "$seed" \
        "${recipe[@]}" --out "$tmp/lenet5.safetensors"
    run lenet5-adam "$seed" "$build/groundup" train --arch lenet5 --data data/mnist --epochs "$epochs" --seed "$seed" \
        --out "$tmp/lenet5-adam.safetensors"
    if [ "$pytorch" = pytorch ]; then
        run torch-vit "$seed" /usr/bin/python3 tools/reference/vit_reference.py --train --data data/mnist \
            --epochs "$epochs" --seed "$seed" --threads "$threads"
    fi
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
accuracies() { sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/$1".[0-9]* | tr '\n' ' '; }
row() {  # NAME LABEL PARAMETERS
    local seconds accuracy cpu
    seconds=$(cat "$tmp/$1".[0-9]* | sed -n 's/^epoch [0-9]*: .* \([0-9.]*\) s\(, .*\)\{0,1\}$/\1/p' | median)
    accuracy=$(accuracies "$1" | tr ' ' '\n' | grep . | median)
    cpu=$(awk '{ print $1 + $2 }' "$tmp/$1-cpu".* | median)
    echo "| $2 | $3 | $seconds | $cpu | $accuracy% | $(accuracies "$1")|"
}
echo "ViT against LeNet-5: $rounds rounds (seeds 1..$rounds), $epochs epochs, $threads threads, OMP_WAIT_POLICY=PASSIVE"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average before: $load, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| $epochs epochs, 8,000 images | parameters | s per epoch (median) | CPU s per run (median) | test accuracy (median) | each seed |"
echo "|---|---:|---:|---:|---:|---|"
row vit "ViT 7x7 patches, dim 48, 3 layers, 4 heads: groundup, AdamW + warmup/cosine" 60730
if [ "$pytorch" = pytorch ]; then
    row torch-vit "the same ViT and recipe: PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')" 60730
fi
row lenet5 "LeNet-5 6-16-120-84: groundup, the same recipe" 61706
row lenet5-adam "LeNet-5: groundup, its default (Adam, constant)" 61706
