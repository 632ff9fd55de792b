#!/usr/bin/env bash
# Failure injection: what a run does when the world goes wrong around it. A file-size limit
# (a full disk) during a checkpoint save, an output folder that cannot be written, SIGTERM
# and SIGINT during training, and kill -9 in the middle of saves: each leaves the previous
# checkpoint intact (it loads, its CRC checks) and says why on one line.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
G=$groundup D=$tmp  # this script's short names

# A small MLP run whose checkpoint is the "previous" one below. (An array, not a function:
# a function run in the background would be a subshell, and $! its pid, not groundup's.)
train=("$G" train --arch mlp --data data/names.txt --context 16 --batch 8 --block 3 --embed 8 --hidden 64 --samples 0)
"${train[@]}" --steps 20 --out "$D/good.ckpt" >/dev/null 2>"$D/first.err" || fail "first run: $(cat "$D/first.err")"
cp "$D/good.ckpt" "$D/reference.ckpt"
size=$(stat -c %s "$D/good.ckpt")

# A file-size limit below the checkpoint's size: the save fails with "File too large", the
# previous checkpoint is untouched, no temporary file is left behind.
blocks=$(( size / 1024 / 2 ))
(ulimit -f $blocks; "${train[@]}" --resume "$D/good.ckpt" --steps 25 >/dev/null 2>"$D/limit.err")
status=$?
[ $status -ne 0 ] || fail "a save past the file-size limit exits 0"
grep -q "good.ckpt: write failed.*File too large" "$D/limit.err" || fail "the reason is named: $(tail -n 2 "$D/limit.err")"
cmp -s "$D/good.ckpt" "$D/reference.ckpt" || fail "the previous checkpoint changed"
ls "$D" | grep -q "\.tmp\." && fail "a temporary file was left: $(ls "$D")"

# An output folder that cannot be written (a path through a regular file).
expect_error "unwritable output" "not-a-folder" "${train[@]}" --steps 2 --out "$D/reference.ckpt/not-a-folder/x.ckpt"

# SIGTERM and SIGINT: the step in progress finishes, the progress is saved, exit 143 / 130.
for signal in TERM INT; do
    "${train[@]}" --steps 1000000 --eval-every 100000 --out "$D/$signal.ckpt" >/dev/null 2>"$D/$signal.err" &
    pid=$!
    for _ in $(seq 200); do grep -q "^step [0-9]*/" "$D/$signal.err" 2>/dev/null && break; sleep 0.05; done
    kill -$signal $pid
    wait $pid
    status=$?
    expected=$([ $signal = TERM ] && echo 143 || echo 130)
    [ $status -eq $expected ] || fail "SIG$signal: exit status $status, expected $expected"
    "$G" eval --model "$D/$signal.ckpt" >/dev/null 2>&1 || fail "SIG$signal: the saved checkpoint does not load"
done

# kill -9 at three moments of a run that saves every step: whatever is at the final name is
# a whole checkpoint (the previous one, or a newer one completely written).
for delay in 0.3 0.7 1.1; do
    cp "$D/reference.ckpt" "$D/killed.ckpt"
    "${train[@]}" --resume "$D/killed.ckpt" --steps 100000 --eval-every 1 --eval-batches 1 >/dev/null 2>&1 &
    pid=$!
    sleep $delay
    kill -9 $pid
    wait $pid 2>/dev/null
    rm -f "$D"/killed.ckpt.tmp.*  # what a killed save leaves, beside the checkpoint
    "$G" eval --model "$D/killed.ckpt" >/dev/null 2>"$D/killed.err" ||
        fail "after kill -9 at ${delay}s the checkpoint does not load: $(cat "$D/killed.err")"
done

cli_finish
