#!/usr/bin/env bash
# LeNet-5 or a ResNet on MNIST against PyTorch, same recipe, same run: Adam lr 1e-3, batch 64,
# EPOCHS epochs on data/mnist's 8,000 training images, test accuracy on its 2,000 test images.
# `groundup train --arch ARCH --data data/mnist` and tools/reference/cnn_train_reference.py
# alternate, one seed per round (the seeds of the two are unrelated: compare medians). Prints
# the median time per epoch (every epoch of every round), the median CPU time (user + system)
# of a whole run (loading the data, training, the test evaluation; PyTorch's import included),
# the median test accuracy over the seeds, the resident memory after the last epoch, and the
# ratios. On a shared machine the CPU time moves less with the load than the wall time.
#
#   bench/mnist_cnn.sh [BUILD_DIR] [ROUNDS] [THREADS] [EPOCHS] ARCH [MODEL OPTIONS...]
#   bench/mnist_cnn.sh build 3 2 5 lenet5 --sizes 6-16-120-84
#   bench/mnist_cnn.sh build 3 2 5 resnet --width 16 --blocks 1-1-1
#
# Both run with OMP_WAIT_POLICY=PASSIVE and THREADS threads; PyTorch's OpenBLAS is told its
# core as bench/openblas_core.sh does (SKYLAKEX with AVX-512; HASWELL or ZEN with AVX2). Debian's
# torch runs its convolutions through oneDNN (mkldnn) on the CPU. The model options are
# passed to both (--sizes, --original, --width, --blocks).
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
threads=${3:-2}
epochs=${4:-5}
arch=${5:-lenet5}
shift 5 || true
source "$(dirname "$0")/pytorch_setup.bash"
for seed in $(seq 1 "$rounds"); do
    /usr/bin/time -f "%U %S" -o "$tmp/groundup-cpu.$seed" "$build/groundup" train --arch "$arch" "$@" --data data/mnist \
        --epochs "$epochs" --seed "$seed" --out "$tmp/model.safetensors" > "$tmp/groundup.$seed" 2>/dev/null
    /usr/bin/time -f "%U %S" -o "$tmp/torch-cpu.$seed" /usr/bin/python3 tools/reference/cnn_train_reference.py \
        --arch "$arch" "$@" --data data/mnist --epochs "$epochs" --seed "$seed" > "$tmp/torch.$seed"
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
summary() {  # prefix -> seconds per epoch, accuracy, resident after the last epoch, CPU seconds per run
    local files=("$tmp/$1".*)
    local seconds accuracy last cpu
    seconds=$(cat "${files[@]}" | sed -n 's/^epoch [0-9]*: .* \([0-9.]*\) s, .*/\1/p' | median)
    accuracy=$(cat "${files[@]}" | sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' | median)
    last=$(cat "${files[@]}" | sed -n "s/^epoch $epochs: .*resident \([0-9.]*\) MB/\1/p" | median)
    cpu=$(awk '{ print $1 + $2 }' "$tmp/$1-cpu".* | median)
    echo "$seconds $accuracy $last $cpu"
}
read -r g_s g_a g_m g_c <<< "$(summary groundup)"
read -r t_s t_a t_m t_c <<< "$(summary torch)"
echo "$arch${*:+ $*}: $rounds rounds (seeds 1..$rounds), $epochs epochs, $threads threads, OMP_WAIT_POLICY=PASSIVE, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average before: $load, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "groundup accuracies: $(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp"/groundup.* | tr '\n' ' ')"
echo "PyTorch accuracies:  $(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp"/torch.* | tr '\n' ' ')"
echo
echo "| | s per epoch (median) | CPU s per run (median) | test accuracy (median) | resident MB after epoch $epochs |"
echo "|---|---:|---:|---:|---:|"
echo "| groundup | $g_s | $g_c | $g_a% | $g_m |"
echo "| PyTorch $(sed -n 's/^torch \([^,]*\),.*/\1/p' "$tmp/torch.1") | $t_s | $t_c | $t_a% | $t_m |"
echo "| groundup vs PyTorch | $(echo "$t_s / $g_s" | bc -l | xargs printf '%.2fx faster') | $(echo "$t_c / $g_c" | bc -l | xargs printf '%.2fx less') | $(echo "$g_a - $t_a" | bc -l | xargs printf '%+.2f points') | |"
