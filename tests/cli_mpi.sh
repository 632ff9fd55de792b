#!/bin/bash
# groundup train as several processes (mpirun): the same run as one process (with the one
# all-reduce, with buckets sent during the backward, with ZeRO stage 1), resumable on another
# number of processes; bad input (ranks requested without MPI or without mpirun, a
# global batch that does not split, more ranks than windows, a rank whose data is missing) is
# one line from rank 0 and a non-zero exit on every rank; a stop asked by one rank (SIGTERM)
# or by mpirun (Ctrl-C) stops all with a checkpoint that resumes.
# A build without MPI checks its one-line refusal only.
# Usage: bash tests/cli_mpi.sh path/to/groundup   (from the repository root)
set -u
G=${1:-./build/groundup}
D=$(mktemp -d /tmp/groundup_cli_mpi_XXXXXX)
trap 'rm -rf "$D"' EXIT
source "$(dirname "$0")/cli_common.bash"
RUN="bash $(dirname "$0")/mpirun.bash -q"
MLP=(train --arch mlp --data data/names.txt --context 16 --block 3 --embed 8 --hidden 32 --samples 0)

source "$(dirname "$0")/cli_mpi_common.bash"
mpi_built_or_exit cli_mpi "${MLP[@]}"

# --- the same run ----------------------------------------------------------------------
GPT=(train --arch gpt2 --data data/names.txt --tokenizer char --context 16 --layers 2 --heads 2 --dim 32
     --batch 8 --lr 5e-3 --eval-every 10 --samples 0)
"$G" "${GPT[@]}" --steps 20 --out "$D/one.ckpt" >"$D/one.out" 2>"$D/one.err" || fail "1 process: $(cat "$D/one.err")"
$RUN -np 2 "$G" "${GPT[@]}" --steps 20 --check-every 5 --out "$D/two.ckpt" >"$D/two.out" 2>"$D/two.err" ||
    fail "2 ranks: $(cat "$D/two.err")"
$RUN -np 2 "$G" "${GPT[@]}" --steps 20 --allreduce buckets --bucket-mb 0.01 --out "$D/buckets.ckpt" \
    >"$D/buckets.out" 2>"$D/buckets.err" || fail "2 ranks, buckets: $(cat "$D/buckets.err")"
$RUN -np 2 "$G" "${GPT[@]}" --steps 20 --zero 1 --out "$D/zero.ckpt" >"$D/zero.out" 2>"$D/zero.err" ||
    fail "2 ranks, ZeRO-1: $(cat "$D/zero.err")"
"$G" "${GPT[@]}" --steps 20 --grad-accum 4 --out "$D/accum.ckpt" >"$D/accum.out" 2>"$D/accum.err" ||
    fail "accumulation: $(cat "$D/accum.err")"
one=$(grep "^step 20: train loss" "$D/one.out")
[ -n "$one" ] || fail "1 process prints its losses: $(cat "$D/one.out")"
[ "$(grep "^step 20: train loss" "$D/two.out")" = "$one" ] || fail "2 ranks: $(grep "^step" "$D/two.out") != $one"
[ "$(grep "^step 20: train loss" "$D/buckets.out")" = "$one" ] || fail "2 ranks, buckets: $(grep "^step" "$D/buckets.out") != $one"
grep -q "all-reduce of the gradients (buckets): " "$D/buckets.err" || fail "the bucketed all-reduce's time is shown"
[ "$(grep "^step 20: train loss" "$D/zero.out")" = "$one" ] || fail "2 ranks, ZeRO-1: $(grep "^step" "$D/zero.out") != $one"
grep -q "^ZeRO stage 1: the optimizer's state is [0-9.]* MB per rank ([0-9.]* MB whole)" "$D/zero.err" ||
    fail "ZeRO's memory is shown: $(tail -3 "$D/zero.err")"
grep -q "^time per step: [0-9.]* ms (mean of 20 steps)" "$D/one.err" || fail "the step time is shown: $(tail -2 "$D/one.err")"
[ "$(grep "^step 20: train loss" "$D/accum.out")" = "$one" ] || fail "4 accumulation steps: $(grep "^step" "$D/accum.out") != $one"
[ "$(grep -c "^gpt2, " "$D/two.out")" -eq 1 ] || fail "rank 0 alone prints the results: $(cat "$D/two.out")"
[ "$(grep -c "^step 10/20" "$D/two.err")" -eq 1 ] || fail "rank 0 alone prints progress: $(cat "$D/two.err")"
grep -q "data parallel: 2 ranks x 1 accumulation steps of 4 sequences (global batch 8)" "$D/two.err" ||
    fail "the split is shown: $(cat "$D/two.err")"
grep -q "all-reduce of the gradients (single): " "$D/two.err" || fail "the all-reduce time is shown"
[ -s "$D/two.ckpt" ] && [ -s "$D/two.svg" ] || fail "rank 0 writes the checkpoint and the SVG"

# A run of 10 steps continued to 20 (its schedule is the 10-step run's): written by 2 ranks
# and resumed alone, or on 2 ranks, it is the run written and resumed by 1 process.
"$G" "${GPT[@]}" --steps 10 --out "$D/half1.ckpt" >/dev/null 2>"$D/half1.err" || fail "10 steps alone: $(cat "$D/half1.err")"
$RUN -np 2 "$G" "${GPT[@]}" --steps 10 --out "$D/half2.ckpt" >/dev/null 2>"$D/half2.err" || fail "10 steps: $(cat "$D/half2.err")"
"$G" train --resume "$D/half1.ckpt" --out "$D/r1.ckpt" --steps 20 --samples 0 >"$D/r1.out" 2>"$D/r1.err" ||
    fail "resume alone: $(cat "$D/r1.err")"
"$G" train --resume "$D/half2.ckpt" --out "$D/r2.ckpt" --steps 20 --samples 0 >"$D/r2.out" 2>"$D/r2.err" ||
    fail "resume alone: $(cat "$D/r2.err")"
$RUN -np 2 "$G" train --resume "$D/half1.ckpt" --out "$D/r3.ckpt" --steps 20 --samples 0 >"$D/r3.out" 2>"$D/r3.err" ||
    fail "resume on 2 ranks: $(cat "$D/r3.err")"
# ZeRO-1's checkpoint (the optimizer's state gathered) resumes alone.
$RUN -np 2 "$G" "${GPT[@]}" --steps 10 --zero 1 --out "$D/half3.ckpt" >/dev/null 2>"$D/half3.err" ||
    fail "10 steps, ZeRO-1: $(cat "$D/half3.err")"
"$G" train --resume "$D/half3.ckpt" --out "$D/r4.ckpt" --steps 20 --samples 0 >"$D/r4.out" 2>"$D/r4.err" ||
    fail "ZeRO-1's checkpoint resumed alone: $(cat "$D/r4.err")"
resumed=$(grep "^step 20: train loss" "$D/r1.out")
[ -n "$resumed" ] || fail "the resumed run prints its losses: $(cat "$D/r1.out")"
[ "$(grep "^step 20: train loss" "$D/r2.out")" = "$resumed" ] || fail "2 ranks' checkpoint resumed alone: $(grep "^step" "$D/r2.out") != $resumed"
[ "$(grep "^step 20: train loss" "$D/r4.out")" = "$resumed" ] || fail "ZeRO-1's checkpoint resumed alone: $(grep "^step" "$D/r4.out") != $resumed"
[ "$(grep "^step 20: train loss" "$D/r3.out")" = "$resumed" ] || fail "1 process's checkpoint on 2 ranks: $(grep "^step" "$D/r3.out") != $resumed"

# --- bad input -------------------------------------------------------------------------
every_rank_fails "global batch not divisible" "global batch of 3 sequences is not divisible by 2 ranks" 2 \
    "${MLP[@]}" --batch 3 --steps 5 --out "$D/x.ckpt"
every_rank_fails "accumulation not dividing" "not divisible by 2 ranks x 3 accumulation steps" 2 \
    "${MLP[@]}" --batch 8 --grad-accum 3 --steps 5 --out "$D/x.ckpt"
head -c 50 data/names.txt > "$D/tiny.txt"  # 2 windows of 16 + 1 tokens
every_rank_fails "more ranks than windows" "fewer than the 3 ranks" 3 \
    "${MLP[@]}" --data "$D/tiny.txt" --batch 3 --steps 5 --out "$D/x.ckpt"
every_rank_fails "--ranks against the job" "--ranks 3, but the job has 2" 2 "${MLP[@]}" --ranks 3 --out "$D/x.ckpt"
every_rank_fails "a wrong option" "unknown option" 2 "${MLP[@]}" --bogus 1
every_rank_fails "an unknown all-reduce" "--allreduce must be single or buckets" 2 "${MLP[@]}" --allreduce ring
every_rank_fails "an empty bucket" "--bucket-mb must be in (0, 1e6]" 2 "${MLP[@]}" --bucket-mb 0
every_rank_fails "ZeRO stage 2" "--zero must be 0 or 1" 2 "${MLP[@]}" --zero 2
every_rank_fails "ZeRO with buckets" "--allreduce buckets is without it" 2 "${MLP[@]}" --zero 1 --allreduce buckets
every_rank_fails "a command that runs alone" "runs as one process" 2 generate --model "$D/one.ckpt" -n 5
every_rank_fails "a unet" "this model trains as one process" 2 train --arch unet --data "$D" --out "$D/x.ckpt"
[ ! -e "$D/x.ckpt" ] || fail "bad input writes nothing"
# A rank whose node lacks the data: rank 0 names it.
rm -f "$D"/status.*
err=$($RUN -np 1 bash -c '"$@"; echo $? > "'"$D"'/status.0"' _ "$G" "${MLP[@]}" --steps 5 --out "$D/x.ckpt" : \
      -np 1 bash -c '"$@"; echo $? > "'"$D"'/status.1"' _ "$G" "${MLP[@]}" --data "$D/none.txt" --steps 5 --out "$D/x.ckpt" 2>&1 >/dev/null)
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && printf '%s' "$err" | grep -q "^groundup: train: rank 1: .*none.txt: cannot open" ||
    fail "missing data on rank 1: $err"
[ "$(cat "$D/status.0" 2>/dev/null)" = 1 ] && [ "$(cat "$D/status.1" 2>/dev/null)" = 1 ] || fail "missing data: every rank exits 1"

# --- stopping --------------------------------------------------------------------------
# SIGTERM to rank 1 alone: every rank stops after the step, rank 0 saves and names rank 1.
LONG=("${MLP[@]}" --batch 8 --steps 1000000 --eval-every 50)
rm -f "$D"/pid.*
$RUN -np 2 bash -c 'echo $$ > "'"$D"'/pid.$OMPI_COMM_WORLD_RANK"; exec "$@"' _ "$G" "${LONG[@]}" --out "$D/stop.ckpt" \
    >/dev/null 2>"$D/stop.err" &
job=$!
for _ in $(seq 600); do [ -s "$D/stop.ckpt" ] && break; sleep 0.2; done  # the first save (step 50; up to 2 min on a loaded machine)
kill -TERM "$(cat "$D/pid.1")"
wait $job
status=$?
[ $status -ne 0 ] || fail "a stopped job exits non-zero"
grep -q "^groundup: train: interrupted at step [0-9]* by rank 1; saved $D/stop.ckpt" "$D/stop.err" ||
    fail "rank 1's stop: $(tail -3 "$D/stop.err")"
"$G" train --resume "$D/stop.ckpt" --steps 60 --samples 0 >/dev/null 2>"$D/resume.err" ||
    fail "the stopped run resumes alone: $(cat "$D/resume.err")"
# Ctrl-C reaches mpirun, which passes it on to every rank. Each rank writes its stderr to its own
# file: mpirun exits as soon as its ranks do and may drop their last lines on the way. mpirun
# passes the signal on as SIGTERM odls_base_sigkill_timeout seconds later and sends SIGKILL as
# long after that (default 1 s: too short for a step and a save under the sanitizers on a loaded
# machine).
$RUN -np 2 --mca odls_base_sigkill_timeout 5 bash -c 'exec "$@" 2>"'"$D"'/int.err.$OMPI_COMM_WORLD_RANK"' _ "$G" "${LONG[@]}" --out "$D/int.ckpt" \
    >/dev/null 2>"$D/int.err" &
job=$!
for _ in $(seq 600); do [ -s "$D/int.ckpt" ] && break; sleep 0.2; done
kill -INT $job
wait $job
[ $? -ne 0 ] || fail "an interrupted job exits non-zero"
grep -q "^groundup: train: interrupted at step [0-9]* by rank 0; saved" "$D/int.err.0" ||
    fail "Ctrl-C on mpirun: $(tail -3 "$D/int.err.0")"
$RUN -np 2 "$G" train --resume "$D/int.ckpt" --steps 120 >/dev/null 2>"$D/int_resume.err" ||
    fail "resumes on 2 ranks: $(cat "$D/int_resume.err")"

[ $failures -eq 0 ] && echo "cli_mpi: all checks passed"
exit $((failures > 0))
