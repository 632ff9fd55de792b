#!/usr/bin/env bash
# Data-parallel training on one machine: ms per training step of 1 process with 2 OpenMP
# threads against 2 ranks (mpirun) with 1 thread each, the same global batch, and on 2 ranks
# the all-reduce of the gradients as one reduction after the backward (--allreduce single)
# against buckets sent during the backward (--allreduce buckets) and against ZeRO stage 1
# (--zero 1: reduce-scatter, the optimizer on each rank's shard, all-gather), with the
# communication's time and share of the step (for buckets: what is left to wait for after the
# backward) and each rank's peak memory. The runs alternate;
# each configuration's figure is the median over the repetitions of its mean step time
# (`groundup train` prints "time per step" at the end; the all-reduce line on 2 ranks).
# Two shapes: the default GPT-2 of `groundup train` (4 layers of 256, bpe:4096, B 16,
# T 128) and GPT-2 124M's (12 layers of 768, 12 heads, GPT-2's tokenizer; T 64, B 4 to keep a
# step within seconds here), on the first 400 KB of Moby-Dick, one validation batch at the end.
# Usage: bash bench/mpi.sh [repetitions] [steps] [shapes]   (from the repository root, after the
# build; defaults 3, 6, "default 124M": about 10 minutes on a quiet 2-core machine, most of it
# 124M's; `bash bench/mpi.sh 3 6 default` takes about 2; KINDS="single zero" picks 2-rank rows)
set -euo pipefail
G=./build/groundup
R=${1:-3}
S=${2:-6}
SHAPES=${3:-default 124M}
D=$(mktemp -d /tmp/groundup_bench_mpi_XXXXXX)
# The checkpoints (1.5 GB at 124M with the optimizer's state) go to memory when there is some.
OUT=$D
[ -d /dev/shm ] && [ -w /dev/shm ] && OUT=$(mktemp -d /dev/shm/groundup_bench_mpi_XXXXXX)
trap 'rm -rf "$D" "$OUT"' EXIT
head -c 400000 data/mobydick.txt > "$D/moby400k.txt"
export OMP_WAIT_POLICY=PASSIVE
MPI=(mpirun --mca btl self,vader -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY)
[ "$(id -u)" = 0 ] && MPI+=(--allow-run-as-root)
declare -A SHAPE=(
  [default]="--tokenizer bpe:4096 --layers 4 --heads 4 --dim 256 --batch 16 --context 128"
  [124M]="--tokenizer gpt2 --layers 12 --heads 12 --dim 768 --batch 4 --context 64"
)
# The median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# step_ms FILE: the mean ms per step groundup train printed; reduce_ms FILE: the all-reduce's.
step_ms() { sed -n 's/^time per step: \([0-9.]*\) ms.*/\1/p' "$1"; }
reduce_ms() { sed -n 's/^all-reduce of the gradients ([a-z0-9-]*): \([0-9.]*\) ms per step.*/\1/p' "$1"; }

# Each rank's peak resident memory (MB) from GNU time when it is installed: PREFIX.rss.RANK.
TIMED=()
[ -x /usr/bin/time ] && TIMED=(bash -c '/usr/bin/time -f %M -o "$0.rss.${OMPI_COMM_WORLD_RANK:-0}" "$@"')
peak_mb() { cat "$1".rss.* 2>/dev/null | awk '{ printf "%s%.0f", (NR > 1 ? "/" : ""), $1 / 1024 }'; }

echo "load before: $(uptime)"
KINDS=${KINDS:-single buckets zero}  # the 2-rank runs (environment: a subset)
for shape in $SHAPES; do
    args=(train --data "$D/moby400k.txt" ${SHAPE[$shape]} --steps "$S" --eval-every "$S" --eval-batches 1 --samples 0
          --out "$OUT/$shape.ckpt")
    "$G" "${args[@]}" >/dev/null 2>&1  # the tokenizer's cache and the page cache
    for ((r = 1; r <= R; r++)); do
        P=$D/$shape.one
        OMP_NUM_THREADS=2 "${TIMED[@]:-env}" ${TIMED:+"$P"} "$G" "${args[@]}" 2>"$P.err" >/dev/null
        step_ms "$P.err" >>"$P.ms"
        peak_mb "$P" >"$P.peak"
        for kind in $KINDS; do
            P=$D/$shape.$kind
            option=(--allreduce "$kind")
            [ "$kind" = zero ] && option=(--zero 1)
            "${MPI[@]}" -np 2 "${TIMED[@]:-env}" ${TIMED:+"$P"} "$G" "${args[@]}" "${option[@]}" 2>"$P.err" >/dev/null
            step_ms "$P.err" >>"$P.ms"
            reduce_ms "$P.err" >>"$P.reduce"
            peak_mb "$P" >"$P.peak"
        done
        echo "$shape, repetition $r/$R: 1 process $(tail -1 "$D/$shape.one.ms") ms;" \
             "2 ranks: single $(tail -1 "$D/$shape.single.ms"), buckets $(tail -1 "$D/$shape.buckets.ms")," \
             "zero $(tail -1 "$D/$shape.zero.ms") ms" >&2
    done
done
echo "load after: $(uptime)"
echo
printf "%-8s %-43s %9s %10s %7s %9s %14s\n" shape run "ms/step" "reduce ms" share "speed-up" "peak MB/rank"
for shape in $SHAPES; do
    one=$(median <"$D/$shape.one.ms")
    printf "%-8s %-43s %9.1f %10s %7s %9s %14s\n" "$shape" "1 process x 2 threads" "$one" - - 1.00 \
           "$(cat "$D/$shape.one.peak")"
    for kind in $KINDS; do
        step=$(median <"$D/$shape.$kind.ms")
        reduce=$(median <"$D/$shape.$kind.reduce")
        name="2 ranks x 1 thread, --allreduce $kind"
        [ "$kind" = zero ] && name="2 ranks x 1 thread, --zero 1"
        printf "%-8s %-43s %9.1f %10.1f %6.1f%% %9.2f %14s\n" "$shape" "$name" "$step" "$reduce" \
               "$(awk -v a="$reduce" -v b="$step" 'BEGIN { print 100 * a / b }')" \
               "$(awk -v a="$one" -v b="$step" 'BEGIN { print a / b }')" "$(cat "$D/$shape.$kind.peak")"
    done
done
echo "(medians of $R repetitions of $S steps; speed-up: 1 process's ms/step over the row's; reduce ms: the"
echo " all-reduce, or what is left of it after the backward with buckets, or ZeRO's reduce-scatter and all-gather;"
echo " peak MB: each rank's largest resident memory over the whole run, GNU time)"
