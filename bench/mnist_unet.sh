#!/usr/bin/env bash
# The U-Net segmentation recipe against PyTorch, same run: `groundup train --arch unet --data
# data/mnist` (width 16, 2 levels, Adam 3e-3, batch 32, EPOCHS epochs on the 8,000 corrupted
# training images) and tools/reference/cnn_train_reference.py --arch unet (the same model,
# recipe and corruption in PyTorch and numpy: same distribution, other samples), alternating,
# one seed per round. Prints the median time per epoch, the median test IoU and Dice (pooled
# over the 2,000 corrupted test images), the median CPU time (user + system) of a whole run, the
# resident memory after the last epoch, the ratios.
#
#   bench/mnist_unet.sh [BUILD_DIR] [ROUNDS] [THREADS] [EPOCHS]
#   bench/mnist_unet.sh build 2 2 2
#
# Both with OMP_WAIT_POLICY=PASSIVE and THREADS threads; OPENBLAS_CORETYPE as bench/openblas_core.sh sets it.
set -euo pipefail
build=${1:-build}
rounds=${2:-2}
threads=${3:-2}
epochs=${4:-2}
source "$(dirname "$0")/pytorch_setup.bash"
for seed in $(seq 1 "$rounds"); do
    /usr/bin/time -f "%U %S" -o "$tmp/groundup-cpu.$seed" "$build/groundup" train --arch unet --data data/mnist \
        --epochs "$epochs" --seed "$seed" --out "$tmp/model.safetensors" > "$tmp/groundup.$seed" 2>/dev/null
    /usr/bin/time -f "%U %S" -o "$tmp/torch-cpu.$seed" /usr/bin/python3 tools/reference/cnn_train_reference.py \
        --arch unet --data data/mnist --epochs "$epochs" --seed "$seed" > "$tmp/torch.$seed"
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
summary() {  # prefix -> seconds per epoch, IoU, Dice, resident after the last epoch, CPU seconds per run
    local files=("$tmp/$1".*)
    echo "$(cat "${files[@]}" | sed -n 's/^epoch [0-9]*: .* \([0-9.]*\) s, .*/\1/p' | median)" \
         "$(cat "${files[@]}" | sed -n 's/^test IoU \([0-9.]*\),.*/\1/p' | median)" \
         "$(cat "${files[@]}" | sed -n 's/^test IoU [0-9.]*, Dice \([0-9.]*\).*/\1/p' | median)" \
         "$(cat "${files[@]}" | sed -n "s/^epoch $epochs: .*resident \([0-9.]*\) MB/\1/p" | median)" \
         "$(awk '{ print $1 + $2 }' "$tmp/$1-cpu".* | median)"
}
read -r g_s g_i g_d g_m g_c <<< "$(summary groundup)"
read -r t_s t_i t_d t_m t_c <<< "$(summary torch)"
echo "unet: $rounds rounds (seeds 1..$rounds), $epochs epochs, $threads threads, OMP_WAIT_POLICY=PASSIVE, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average before: $load, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "groundup IoU: $(sed -n 's/^test IoU \([0-9.]*\),.*/\1/p' "$tmp"/groundup.* | tr '\n' ' ')"
echo "PyTorch IoU:  $(sed -n 's/^test IoU \([0-9.]*\),.*/\1/p' "$tmp"/torch.* | tr '\n' ' ')"
echo
echo "| | s per epoch (median) | CPU s per run (median) | test IoU (median) | test Dice (median) | resident MB after epoch $epochs |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| groundup | $g_s | $g_c | $g_i | $g_d | $g_m |"
echo "| PyTorch $(sed -n 's/^torch \([^,]*\),.*/\1/p' "$tmp/torch.1") | $t_s | $t_c | $t_i | $t_d | $t_m |"
echo "| groundup vs PyTorch | $(echo "$t_s / $g_s" | bc -l | xargs printf '%.2fx faster') | $(echo "$t_c / $g_c" | bc -l | xargs printf '%.2fx less') | $(echo "$g_i - $t_i" | bc -l | xargs printf '%+.4f') | $(echo "$g_d - $t_d" | bc -l | xargs printf '%+.4f') | |"
