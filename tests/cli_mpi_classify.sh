#!/bin/bash
# groundup train --data DIR (the image classifiers) as several processes (mpirun): the same
# run as one process (and as gradient accumulation on one; with batch norm, synchronised),
# rank 0 alone printing and writing;
# a run stopped by one rank (SIGTERM) saves where it stopped and resumes as one process to the
# uninterrupted run's result; bad input (ranks requested without MPI or without mpirun, a
# global batch that does not split or is smaller than the ranks, a rank whose data is missing)
# is one line from rank 0 and a non-zero exit on every rank.
# A build without MPI checks its one-line refusal only.
# Usage: bash tests/cli_mpi_classify.sh path/to/groundup   (from the repository root)
set -u
G=${1:-./build/groundup}
D=$(mktemp -d /tmp/groundup_cli_mpi_classify_XXXXXX)
trap 'rm -rf "$D"' EXIT
source "$(dirname "$0")/cli_common.bash"
RUN="bash $(dirname "$0")/mpirun.bash -q"
mkdir -p "$D/mnist"
mnist_subset "$D/mnist" train 600
mnist_subset "$D/mnist" t10k 200
MLP=(train --arch mlp --data "$D/mnist" --hidden 32 --epochs 2 --batch 32 --validation 100)

source "$(dirname "$0")/cli_mpi_common.bash"
mpi_built_or_exit cli_mpi_classify "${MLP[@]}"

# The losses, accuracies and test result a run prints (its times aside).
results() { sed -E "s/, [0-9.]+ s, resident [0-9.]+ MB//; s/ \(weights .*\)//" "$1" | grep -E "^(epoch|test accuracy|best)"; }

# --- the same run ----------------------------------------------------------------------
"$G" "${MLP[@]}" --out "$D/one.safetensors" >"$D/one.out" 2>"$D/one.err" || fail "1 process: $(cat "$D/one.err")"
$RUN -np 2 "$G" "${MLP[@]}" --check-every 3 --out "$D/two.safetensors" >"$D/two.out" 2>"$D/two.err" ||
    fail "2 ranks: $(cat "$D/two.err")"
"$G" "${MLP[@]}" --grad-accum 4 --out "$D/accum.safetensors" >"$D/accum.out" 2>"$D/accum.err" ||
    fail "accumulation: $(cat "$D/accum.err")"
[ "$(results "$D/one.out" | wc -l)" -eq 4 ] || fail "1 process prints its results: $(cat "$D/one.out")"
[ "$(results "$D/two.out")" = "$(results "$D/one.out")" ] || fail "2 ranks: $(results "$D/two.out") != $(results "$D/one.out")"
[ "$(results "$D/accum.out")" = "$(results "$D/one.out")" ] ||
    fail "4 accumulation steps: $(results "$D/accum.out") != $(results "$D/one.out")"
[ "$(grep -c "^test accuracy" "$D/two.out")" -eq 1 ] || fail "rank 0 alone prints the results: $(cat "$D/two.out")"
[ "$(grep -c "^epoch 1/2" "$D/two.err")" -eq 1 ] || fail "rank 0 alone prints progress: $(cat "$D/two.err")"
grep -q "data parallel: 2 ranks x 1 accumulation steps of 16 images (global batch 32)" "$D/two.err" ||
    fail "the split is shown: $(cat "$D/two.err")"
grep -q "all-reduce of the gradients: " "$D/two.err" || fail "the all-reduce time is shown"
[ -s "$D/two.safetensors" ] && [ -s "$D/two.svg" ] && [ -s "$D/two.best.safetensors" ] ||
    fail "rank 0 writes the checkpoint, the best weights and the SVG"
# Batch norm is synchronised: the statistics of the global batch, as on one process.
"$G" "${MLP[@]}" --batch-norm --optimizer momentum --lr 0.05 --out "$D/bn1.safetensors" >"$D/bn1.out" 2>"$D/bn1.err" ||
    fail "batch norm alone: $(cat "$D/bn1.err")"
$RUN -np 2 "$G" "${MLP[@]}" --batch-norm --optimizer momentum --lr 0.05 --out "$D/bn2.safetensors" >"$D/bn2.out" \
    2>"$D/bn2.err" || fail "batch norm on 2 ranks: $(cat "$D/bn2.err")"
grep -q "^batch norm: synchronised across the 2 ranks (statistics of the global batch)" "$D/bn2.err" ||
    fail "the batch-norm note: $(cat "$D/bn2.err")"
[ "$(results "$D/bn2.out")" = "$(results "$D/bn1.out")" ] ||
    fail "batch norm on 2 ranks: $(results "$D/bn2.out") != $(results "$D/bn1.out")"

# --- bad input -------------------------------------------------------------------------
every_rank_fails "global batch not divisible" "global batch of 33 examples is not divisible by 2 ranks" 2 \
    "${MLP[@]}" --batch 33 --out "$D/x.safetensors"
every_rank_fails "more ranks than a batch's images" "global batch of 2 examples is smaller than 3 ranks" 3 \
    "${MLP[@]}" --batch 2 --out "$D/x.safetensors"
every_rank_fails "accumulation not dividing" "not divisible by 2 ranks x 3 accumulation steps" 2 \
    "${MLP[@]}" --grad-accum 3 --out "$D/x.safetensors"
every_rank_fails "--ranks against the job" "--ranks 3, but the job has 2" 2 "${MLP[@]}" --ranks 3 --out "$D/x.safetensors"
every_rank_fails "a wrong option" "unknown option" 2 "${MLP[@]}" --bogus 1
every_rank_fails "a unet" "this model trains as one process" 2 train --arch unet --data "$D/mnist" --out "$D/x.safetensors"
[ ! -e "$D/x.safetensors" ] || fail "bad input writes nothing"
# A rank whose node lacks the data: rank 0 names it.
rm -f "$D"/status.*
err=$($RUN -np 1 bash -c '"$@"; echo $? > "'"$D"'/status.0"' _ "$G" "${MLP[@]}" --out "$D/x.safetensors" : \
      -np 1 bash -c '"$@"; echo $? > "'"$D"'/status.1"' _ "$G" "${MLP[@]}" --data "$D/none" --out "$D/x.safetensors" 2>&1 >/dev/null)
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && printf '%s' "$err" | grep -q "^groundup: train: rank 1: .*none" ||
    fail "missing data on rank 1: $err"
[ "$(cat "$D/status.0" 2>/dev/null)" = 1 ] && [ "$(cat "$D/status.1" 2>/dev/null)" = 1 ] || fail "missing data: every rank exits 1"
[ ! -e "$D/x.safetensors" ] || fail "a failed setup writes nothing"

# --- stopping and resuming on another number of ranks ------------------------------------
# SIGTERM to rank 1 alone once the first epoch's checkpoint is there: every rank stops after
# the step, rank 0 saves where it stopped and names rank 1; the checkpoint resumes alone.
LONG=(train --arch lenet5 --data "$D/mnist" --batch 8 --epochs 200)
rm -f "$D"/pid.*
$RUN -np 2 bash -c 'echo $$ > "'"$D"'/pid.$OMPI_COMM_WORLD_RANK"; exec "$@"' _ "$G" "${LONG[@]}" \
    --out "$D/stop.safetensors" >/dev/null 2>"$D/stop.err" &
job=$!
for _ in $(seq 300); do [ -s "$D/stop.safetensors" ] && break; sleep 0.1; done
kill -TERM "$(cat "$D/pid.1")"
wait $job
[ $? -ne 0 ] || fail "a stopped job exits non-zero"
line=$(grep "^groundup: train: interrupted at epoch" "$D/stop.err")
printf '%s' "$line" | grep -q "by rank 1; saved $D/stop.safetensors" || fail "rank 1's stop: $(tail -3 "$D/stop.err")"
epoch=$(printf '%s' "$line" | sed -E 's/.*at epoch ([0-9]+),.*/\1/')
"$G" train --data "$D/mnist" --resume "$D/stop.safetensors" --epochs "$epoch" --batch 8 --out "$D/resumed.safetensors" \
    >"$D/resumed.out" 2>"$D/resumed.err" || fail "the stopped run resumes alone: $(cat "$D/resumed.err")"
grep -q "^test accuracy" "$D/resumed.out" || fail "the resumed run ends its epoch $epoch: $(cat "$D/resumed.out")"

[ $failures -eq 0 ] && echo "cli_mpi_classify: all checks passed"
exit $((failures > 0))
