#!/usr/bin/env bash
# Data-parallel training of a classifier on one machine: LeNet-5 on the MNIST subset
# (data/mnist, 8,000 training images, batch 64: 125 steps an epoch), ms per training step of
# 1 process with 2 OpenMP threads against 2 ranks (mpirun) with 1 thread each, the same global
# batch, alternated; and the all-reduce's share of the 2-rank step (61,706 gradients, 241 KB).
# A step's time is the epoch's training time (validation and test excluded) over its steps.
# Prints each repetition, then a table of medians.
# Usage: bash bench/mpi_classify.sh [repetitions] [arch options...]   (from the repository root,
#        after the build; the default options: --arch lenet5 --batch 64)
set -euo pipefail
G=./build/groundup
R=${1:-5}
shift || true
MODEL=("$@")
[ ${#MODEL[@]} -gt 0 ] || MODEL=(--arch lenet5 --batch 64)
D=$(mktemp -d /tmp/groundup_bench_mpi_classify_XXXXXX)
trap 'rm -rf "$D"' EXIT
export OMP_WAIT_POLICY=PASSIVE GROUNDUP_RUNS="$D/runs"
MPI=(mpirun --mca btl self,vader -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY -x GROUNDUP_RUNS)
[ "$(id -u)" = 0 ] && MPI+=(--allow-run-as-root)
args=(train --data data/mnist "${MODEL[@]}" --epochs 1 --out "$D/model.safetensors")

# ms per step of a run's output (stdout, stderr): the epoch's seconds over ceil(images / batch).
ms_per_step() {
    local seconds images batch
    seconds=$(grep "^epoch 1: " "$1" | sed -E 's/.*, ([0-9.]+) s, resident.*/\1/')
    images=$(grep -o "[0-9]* training /" "$2" | cut -d' ' -f1)
    batch=$(grep -o -- "--batch [0-9]*" <<<"${args[*]}" | cut -d' ' -f2)
    awk -v s="$seconds" -v n="$images" -v b="$batch" 'BEGIN { printf "%.2f", 1e3 * s / int((n + b - 1) / b) }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "load: $(uptime)"
"$G" "${args[@]}" >/dev/null 2>&1  # page cache
: >"$D/one" >"$D/two" >"$D/reduce" >"$D/share"
for ((r = 1; r <= R; r++)); do
    OMP_NUM_THREADS=2 "$G" "${args[@]}" >"$D/one.out" 2>"$D/one.err"
    one=$(ms_per_step "$D/one.out" "$D/one.err")
    "${MPI[@]}" -np 2 "$G" "${args[@]}" >"$D/two.out" 2>"$D/two.err"
    two=$(ms_per_step "$D/two.out" "$D/two.err")
    line=$(grep "^all-reduce of the gradients" "$D/two.err")
    reduce=$(sed -E 's/^all-reduce of the gradients: ([0-9.]+) ms per step.*/\1/' <<<"$line")
    share=$(sed -E 's/.*\(([0-9.]+)%\).*/\1/' <<<"$line")
    echo "rep $r: 1 process x 2 threads ${one} ms/step | 2 ranks x 1 thread ${two} ms/step; ${line#all-reduce of the gradients: }"
    echo "$one" >>"$D/one"; echo "$two" >>"$D/two"; echo "$reduce" >>"$D/reduce"; echo "$share" >>"$D/share"
done
one=$(median <"$D/one"); two=$(median <"$D/two")
echo
echo "${MODEL[*]}, MNIST subset, medians of $R alternated runs:"
printf '| %-26s | %10s | %18s | %15s |\n' "configuration" "ms / step" "all-reduce ms/step" "share of a step"
printf '|%s|%s|%s|%s|\n' "----------------------------" "------------" "--------------------" "-----------------"
printf '| %-26s | %10s | %18s | %15s |\n' "1 process x 2 threads" "$one" "-" "-"
printf '| %-26s | %10s | %18s | %15s |\n' "2 ranks x 1 thread" "$two" "$(median <"$D/reduce")" "$(median <"$D/share")%"
awk -v a="$one" -v b="$two" 'BEGIN { printf "2 ranks / 1 process: %.2fx the step time\n", b / a }'
echo "load: $(uptime)"
