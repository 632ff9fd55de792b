#!/usr/bin/env bash
# Data-parallel training on one machine: ms per training step of 1 process with 2 OpenMP
# threads against 2 ranks (mpirun) with 1 thread each, the same global batch, alternated,
# and the all-reduce's share of the 2-rank step. Two shapes: the default GPT-2 of
# `groundup train` (4 layers of 256, bpe:4096, B 16, T 128) and GPT-2 124M's (12 layers of 768,
# 12 heads, GPT-2's tokenizer; T 64, B 4 to keep a step within seconds here), on the first
# 400 KB of Moby-Dick (so the evaluation at the end of each run is short).
# Usage: bash bench/mpi.sh [repetitions] [steps]   (from the repository root, after the build)
set -euo pipefail
G=./build/groundup
R=${1:-3}
S=${2:-8}
D=$(mktemp -d /tmp/groundup_bench_mpi_XXXXXX)
trap 'rm -rf "$D"' EXIT
head -c 400000 data/mobydick.txt > "$D/moby400k.txt"
export OMP_WAIT_POLICY=PASSIVE
MPI=(mpirun --mca btl self,vader -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY)
[ "$(id -u)" = 0 ] && MPI+=(--allow-run-as-root)
declare -A SHAPE=(
  [default]="--data $D/moby400k.txt --tokenizer bpe:4096 --layers 4 --heads 4 --dim 256 --batch 16 --context 128"
  [124M]="--data $D/moby400k.txt --tokenizer gpt2 --layers 12 --heads 12 --dim 768 --batch 4 --context 64"
)
echo "load: $(uptime)"
for shape in default 124M; do
    args=(train ${SHAPE[$shape]} --steps "$S" --eval-every "$S" --samples 0 --out "$D/$shape.ckpt")
    "$G" "${args[@]}" >/dev/null 2>&1  # tokenizer cache and page cache
    for ((r = 1; r <= R; r++)); do
        # 1 process x 2 threads: ms per step from the tokens per second of the last step line
        OMP_NUM_THREADS=2 "$G" "${args[@]}" 2>"$D/one.err" >/dev/null
        tps=$(grep "^step $S/$S" "$D/one.err" | sed 's/.*  \([0-9.]*\)k tok\/s.*/\1/')
        B=$(grep -o "batch [0-9]*" <<<"${SHAPE[$shape]}" | cut -d' ' -f2); T=$(grep -o "context [0-9]*" <<<"${SHAPE[$shape]}" | cut -d' ' -f2)
        one=$(awk -v tps="$tps" -v bt=$((B * T)) 'BEGIN { printf "%.1f", bt / (tps * 1e3) * 1e3 }')
        "${MPI[@]}" -np 2 "$G" "${args[@]}" 2>"$D/two.err" >/dev/null
        line=$(grep "^all-reduce of the gradients" "$D/two.err")
        echo "$shape rep $r: 1x2 threads ${one} ms/step | 2 ranks x 1 thread: ${line#all-reduce of the gradients: }"
    done
done
echo "load: $(uptime)"
