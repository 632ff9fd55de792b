#!/bin/bash
# groundup train / generate / eval from the command line: a small run of each stage, the
# outputs they promise, Ctrl-C and --resume, and every kind of bad input giving one line
# "groundup: <command>: ..." and a non-zero exit without damaging existing files.
# Usage: bash tests/cli_train.sh path/to/groundup   (from the repository root)
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
G=$groundup D=$tmp  # this script's short names

# --- the stages work -----------------------------------------------------------------
"$G" train --arch bigram --counting --data data/names.txt --context 16 --out "$D/bigram.ckpt" --samples 1 \
    --sample-tokens 30 >"$D/bigram.out" 2>"$D/bigram.err" || fail "bigram train: $(cat "$D/bigram.err")"
grep -q "validation loss 2\.[345]" "$D/bigram.out" || fail "bigram validation loss near 2.45: $(cat "$D/bigram.out")"
[ -s "$D/bigram.ckpt" ] && [ -s "$D/bigram.svg" ] || fail "bigram checkpoint and SVG written"
grep -q "sample 1" "$D/bigram.out" || fail "bigram prints samples"

"$G" train --arch mlp --data data/names.txt --context 16 --batch 8 --steps 60 --eval-every 20 --block 3 \
    --embed 8 --hidden 32 --batch-norm --out "$D/mlp.ckpt" --samples 1 --sample-tokens 30 \
    >"$D/mlp.out" 2>"$D/mlp.err" || fail "mlp train: $(cat "$D/mlp.err")"
grep -q "step 60: validation loss" "$D/mlp.err" || fail "mlp logs validation: $(cat "$D/mlp.err")"
grep -q "step 20/60" "$D/mlp.err" || fail "mlp logs progress lines"
[ -s "$D/mlp.ckpt" ] && grep -q "<polyline" "$D/mlp.svg" || fail "mlp checkpoint and SVG with curves"

a=$("$G" generate --model "$D/mlp.ckpt" --prompt "mar" -n 40 --temperature 0 2>/dev/null)
b=$("$G" generate --model "$D/mlp.ckpt" --prompt "mar" -n 40 --temperature 0 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] || fail "greedy generation is deterministic"
case "$a" in mar*) ;; *) fail "generation starts with the prompt: $a" ;; esac
# 3 + 40 characters from a model whose context is 16: generation slides past the context.
[ ${#a} -eq 43 ] || fail "generation past the context gave ${#a} characters, expected 43"
"$G" generate --model "$D/mlp.ckpt" -n 20 --top-k 5 --top-p 0.9 --seed 3 2>"$D/gen.err" >/dev/null ||
    fail "sampling with top-k and top-p"
grep -q "tok/s" "$D/gen.err" || fail "generate reports tokens/s on stderr"

"$G" eval --model "$D/bigram.ckpt" >"$D/eval.out" 2>&1 || fail "eval: $(cat "$D/eval.out")"
grep -q "bits per byte" "$D/eval.out" && grep -q "perplexity" "$D/eval.out" && grep -q "mean loss" "$D/eval.out" ||
    fail "eval prints loss, perplexity, bits per byte"

# --- Ctrl-C saves, --resume continues --------------------------------------------------
"$G" train --arch mlp --data data/names.txt --context 16 --batch 8 --steps 1000000 --eval-every 1000 --block 3 \
    --embed 8 --hidden 32 --out "$D/interrupted.ckpt" >"$D/int.out" 2>"$D/int.err" &
pid=$!
for _ in $(seq 100); do
    grep -q "^step 1/" "$D/int.err" 2>/dev/null && break
    sleep 0.1
done
kill -INT $pid
wait $pid
status=$?
[ $status -eq 130 ] || fail "Ctrl-C exit status $status, expected 130: $(cat "$D/int.err")"
grep -q "interrupted at step" "$D/int.err" || fail "Ctrl-C says where it stopped"
[ -s "$D/interrupted.ckpt" ] || fail "Ctrl-C saved a checkpoint"
step=$(sed -n 's/.*interrupted at step \([0-9]*\).*/\1/p' "$D/int.err")
"$G" train --resume "$D/interrupted.ckpt" --steps $((step + 5)) --samples 0 >"$D/resume.out" 2>"$D/resume.err" ||
    fail "resume: $(cat "$D/resume.err")"
grep -q "resuming .* at step $step" "$D/resume.err" || fail "resume starts at step $step: $(cat "$D/resume.err")"
grep -q "step $((step + 5)):" "$D/resume.out" || fail "resume runs to step $((step + 5))"
grep -q "warning" "$D/resume.err" && fail "a plain resume warns: $(grep warning "$D/resume.err")"
# Options a resumed run cannot take are named, one warning each, and the run goes on as saved.
"$G" train --resume "$D/interrupted.ckpt" --steps $((step + 6)) --lr 0.5 --context=12 --hidden 7 --samples 0 \
    >/dev/null 2>"$D/ignored.err" || fail "resume with ignored options: $(cat "$D/ignored.err")"
for option in --lr --context --hidden; do
    grep -q "warning: $option is ignored with --resume" "$D/ignored.err" || fail "no warning for $option"
done
[ "$(grep -c warning "$D/ignored.err")" -eq 3 ] || fail "three warnings expected: $(grep warning "$D/ignored.err")"

# --- optimizers, schedules, clipping, L1, early stopping --------------------------------
"$G" train --arch mlp --data data/names.txt --context 16 --batch 8 --steps 40 --eval-every 10 --block 3 --embed 8 \
    --hidden 32 --optimizer sgd --lr 0.1 --schedule one-cycle --clip-value 0.5 --l1 1e-5 --early-stop 3 \
    --out "$D/sgd.ckpt" --samples 0 >"$D/sgd.out" 2>"$D/sgd.err" || fail "sgd one-cycle: $(cat "$D/sgd.err")"
grep -q "^step 1/40 .*|g| [0-9]" "$D/sgd.err" || fail "the progress line shows the gradient norm: $(head -n 3 "$D/sgd.err")"
grep -q "gradient norm" "$D/sgd.svg" || fail "the SVG has the gradient-norm panel"
grep -q "best validation loss .* kept in $D/sgd.best.ckpt" "$D/sgd.out" && [ -s "$D/sgd.best.ckpt" ] ||
    fail "early stopping names and writes the best checkpoint: $(cat "$D/sgd.out")"
"$G" train --resume "$D/sgd.ckpt" --steps 50 --samples 0 >"$D/sgd-resume.out" 2>"$D/sgd-resume.err" ||
    fail "resume an SGD run: $(cat "$D/sgd-resume.err")"
grep -q "warning" "$D/sgd-resume.err" && fail "resuming SGD warns: $(grep warning "$D/sgd-resume.err")"
"$G" train --arch mlp --data data/names.txt --context 16 --batch 8 --steps 200 --eval-every 5 --eval-batches 2 \
    --block 3 --embed 6 --hidden 24 --optimizer sgd --schedule constant --lr 3 --early-stop 2 --out "$D/es.ckpt" \
    --samples 0 >"$D/es.out" 2>"$D/es.err" || fail "early stop: $(cat "$D/es.err")"
grep -q "^early stop at step" "$D/es.out" && grep -q "^early stop at step" "$D/es.err" ||
    fail "an lr of 3 stops early: $(cat "$D/es.out")"
# A checkpoint from before --optimizer (tests/fixtures/checkpoint) resumes as the AdamW run it was.
cp tests/fixtures/checkpoint/before_optimizer_choice.ckpt "$D/older.ckpt"
"$G" train --resume "$D/older.ckpt" --steps 9 --samples 0 >"$D/older.out" 2>"$D/older.err" ||
    fail "resume an older checkpoint: $(cat "$D/older.err")"
grep -q "step 9:" "$D/older.out" || fail "the older checkpoint ran to step 9: $(cat "$D/older.out")"
# The old spelling --clip is --clip-norm.
"$G" train --arch mlp --data data/names.txt --context 16 --batch 8 --steps 3 --block 3 --embed 8 --hidden 32 \
    --clip 0.5 --out "$D/clip.ckpt" --samples 0 >/dev/null 2>"$D/clip.err" || fail "--clip: $(cat "$D/clip.err")"

# --- bad input ------------------------------------------------------------------------
T=(train --arch mlp --data data/names.txt --steps 5 --out "$D/x.ckpt")
expect_error "unknown optimizer" "--optimizer: unknown optimizer 'adagrad'" "$G" "${T[@]}" --optimizer adagrad
expect_error "unknown schedule" "--schedule: unknown schedule 'linear'" "$G" "${T[@]}" --schedule linear
expect_error "negative weight decay" "--weight-decay" "$G" "${T[@]}" --weight-decay -0.1
expect_error "negative L1" "--l1" "$G" "${T[@]}" --l1 -1e-4
expect_error "negative clip value" "--clip-value" "$G" "${T[@]}" --clip-value -1
expect_error "negative clip norm" "--clip-norm" "$G" "${T[@]}" --clip-norm -1
expect_error "clip by norm and by value" "contradict" "$G" "${T[@]}" --clip-norm 1 --clip-value 0.5
expect_error "--clip and --clip-value" "contradict" "$G" "${T[@]}" --clip 1 --clip-value 0.5
expect_error "patience 0" "--early-stop" "$G" "${T[@]}" --early-stop 0
expect_error "dropout on the mlp language model" "the mlp model has no dropout layers" "$G" "${T[@]}" --dropout 0.1
expect_error "dropout of 1" "--dropout must be in \[0, 1)" "$G" "${T[@]}" --dropout 1
expect_error "a warmup without a warming schedule" "warmup" "$G" "${T[@]}" --schedule constant --warmup 3
expect_error "step decay by time without a step size" "step size" "$G" train --arch mlp --data data/names.txt \
    --time 1 --schedule step --out "$D/x.ckpt"
expect_error "missing data" "cannot open" "$G" train --arch bigram --data "$D/none.txt" --out "$D/x.ckpt"
: >"$D/empty.txt"
expect_error "empty data" "empty file" "$G" train --arch bigram --data "$D/empty.txt" --out "$D/x.ckpt"
printf 'ab\ncd\nef\nab\ncd\nef\nab\ncd\nef\nab\n' >"$D/short.txt"
expect_error "text shorter than one batch" "fewer than one sequence" \
    "$G" train --arch mlp --data "$D/short.txt" --context 32 --out "$D/x.ckpt"
expect_error "unknown architecture" "unknown architecture" "$G" train --arch lstm --out "$D/x.ckpt"
expect_error "steps and time" "not both" "$G" train --arch bigram --steps 5 --time 3
expect_error "bad bpe spec" "bpe:N" "$G" train --arch bigram --data data/names.txt --tokenizer bpe:3 --out "$D/x.ckpt"
expect_error "negative temperature" "temperature" "$G" generate --model "$D/mlp.ckpt" --temperature -1
expect_error "top-p 0" "top-p" "$G" generate --model "$D/mlp.ckpt" --top-p 0
expect_error "top-p above 1" "top-p" "$G" generate --model "$D/mlp.ckpt" --top-p 1.5
expect_error "negative top-k" "top-k" "$G" generate --model "$D/mlp.ckpt" --top-k -2
expect_error "prompt outside the vocabulary" "not in the model's character vocabulary" \
    "$G" generate --model "$D/mlp.ckpt" --prompt "XYZ"
expect_error "no model" "--model" "$G" generate
expect_error "missing model" "cannot open" "$G" eval --model "$D/none.ckpt"
expect_error "eval context too long" "longer than the model's" "$G" eval --model "$D/mlp.ckpt" --context 17
expect_error "resume another architecture" "is a mlp checkpoint, not gpt2" \
    "$G" train --arch gpt2 --resume "$D/mlp.ckpt"
expect_error "eval text with unknown bytes" "not in the model's character vocabulary" \
    "$G" eval --model "$D/mlp.ckpt" --data data/mobydick.txt

size=$(stat -c %s "$D/mlp.ckpt")
for cut in 0 10 255 256 400 $((size / 2)) $((size - 1)); do
    head -c $cut "$D/mlp.ckpt" >"$D/cut.ckpt"
    expect_error "checkpoint truncated at $cut" "cut.ckpt" "$G" generate --model "$D/cut.ckpt" -n 1
done
cp "$D/mlp.ckpt" "$D/v2.ckpt"
printf '\002' | dd of="$D/v2.ckpt" bs=1 seek=8 conv=notrunc status=none
expect_error "checkpoint of another version" "version 2" "$G" eval --model "$D/v2.ckpt"
for offset in 0 3 17 24 30 90 100 200; do
    cp "$D/mlp.ckpt" "$D/flip.ckpt"
    printf '\377' | dd of="$D/flip.ckpt" bs=1 seek=$offset conv=notrunc status=none
    expect_error "header byte $offset corrupted" "flip.ckpt" "$G" generate --model "$D/flip.ckpt" -n 1
done
expect_error "not a checkpoint" "not a groundup checkpoint" "$G" generate --model data/names.txt

# A diverging run stops at a named step (after its progress lines) and leaves the existing
# checkpoint as it was.
cp "$D/mlp.ckpt" "$D/good.ckpt"
"$G" train --arch mlp --data data/names.txt --context 16 --batch 8 --steps 100 --eval-every 50 --block 3 \
    --embed 8 --hidden 32 --batch-norm --lr 1e30 --warmup 0 --clip 0 --out "$D/good.ckpt" >/dev/null 2>"$D/nan.err" &&
    fail "a diverging run exits 0"
tail -n 1 "$D/nan.err" | grep -q "^groundup: train: step [0-9]*: the loss is nan" ||
    fail "NaN named with its step: $(cat "$D/nan.err")"
cmp -s "$D/mlp.ckpt" "$D/good.ckpt" || fail "the checkpoint survives a diverging run"
grep -q "this run saved nothing before it" "$D/nan.err" ||
    fail "a run that diverged before its first save must not call another file its last good checkpoint"
grep -q "last good checkpoint" "$D/nan.err" && fail "names a checkpoint it did not write: $(tail -n 1 "$D/nan.err")"

# --- whole-file evaluation and llm.c token files ---------------------------------------
"$G" eval --model "$D/mlp.ckpt" --split all >"$D/eval-all.out" 2>&1 || fail "eval --split all: $(cat "$D/eval-all.out")"
grep -q "59167 bytes" "$D/eval-all.out" || fail "eval --split all scores the whole file: $(grep data "$D/eval-all.out")"
tokens=$(ls "$D"/cache/names.txt.*.train.bin 2>/dev/null | head -n 1)
if [ -z "$tokens" ]; then
    fail "the mlp run left no token file in $D/cache"
else
    "$G" train --arch gpt2 --data "$tokens" --tokenizer gpt2 --layers 1 --heads 2 --dim 16 --context 16 --batch 4 \
        --steps 3 --eval-every 0 --samples 0 --out "$D/from-tokens.ckpt" >"$D/from-tokens.out" 2>"$D/from-tokens.err" ||
        fail "training on an llm.c token file: $(tail -n 2 "$D/from-tokens.err")"
    grep -q "validation tokens from .*train.bin" "$D/from-tokens.err" || fail "the token file is read as tokens"
fi

# --- defaults per stage and per text size --------------------------------------------
# The bigram's defaults reach the README's 2.44 nats per character on names; the MLP's are
# its README configuration (22292 parameters); a small text needs no option but --data.
"$G" train --arch bigram --data data/names.txt --out "$D/bigram-defaults.ckpt" --samples 0 >/dev/null 2>&1 ||
    fail "bigram with defaults"
loss=$("$G" eval --model "$D/bigram-defaults.ckpt" 2>/dev/null | sed -n 's/^mean loss *\([0-9.]*\).*/\1/p')
awk -v l="$loss" 'BEGIN { exit !(l > 2.40 && l < 2.46) }' || fail "bigram defaults: held-out loss '$loss', expected 2.44"
"$G" train --arch mlp --data data/names.txt --steps 20 --out "$D/mlp-defaults.ckpt" --samples 0 >/dev/null 2>"$D/mlp-defaults.err" ||
    fail "mlp with defaults: $(cat "$D/mlp-defaults.err")"
grep -q "^mlp: 22292 parameters" "$D/mlp-defaults.err" || fail "mlp defaults: $(head -n 1 "$D/mlp-defaults.err")"
head -c 30000 data/mobydick.txt > "$D/notes.txt"
"$G" train --data "$D/notes.txt" --time 2 --out "$D/notes.ckpt" --samples 1 --sample-tokens 20 >"$D/notes.out" 2>"$D/notes.err" ||
    fail "a 30 KB text with no other option: $(tail -n 2 "$D/notes.err")"
grep -q "defaults for a [0-9]* KB text: tokenizer bpe:640, 2 layers of width 128, context 64" "$D/notes.err" ||
    fail "the small-text defaults are said: $(grep defaults "$D/notes.err")"
grep -q "bits per byte" "$D/notes.out" || fail "the small-text run evaluates its held-out text"

# --- gpt2 dropout ---------------------------------------------------------------------
# --dropout 0 is the run without it, number for number; a run with --dropout 0.2 is another run,
# and stopped and resumed (constant rate, so the length does not change the schedule) it ends
# where the uninterrupted one ends: the masks are keyed on the step, not drawn from a state.
small_gpt2=(train --arch gpt2 --data data/names.txt --tokenizer char --layers 1 --heads 2 --dim 16 --context 16
    --batch 4 --eval-every 3 --eval-batches 2 --schedule constant --samples 0 --threads 1)
for run in "plain" "zero --dropout 0" "drop --dropout 0.2" "part --dropout 0.2 --steps 3"; do
    set -- $run
    name=$1 && shift
    steps=(--steps 6) && [ "$name" = part ] && steps=()
    "$G" "${small_gpt2[@]}" "${steps[@]}" "$@" --out "$D/dropout-$name.ckpt" >"$D/dropout-$name.out" \
        2>"$D/dropout-$name.err" || fail "gpt2 $run: $(tail -n 2 "$D/dropout-$name.err")"
done
"$G" train --resume "$D/dropout-part.ckpt" --steps 6 --out "$D/dropout-part.ckpt" --samples 0 --threads 1 \
    >"$D/dropout-resumed.out" 2>"$D/dropout-resumed.err" || fail "gpt2 dropout resumed: $(tail -n 2 "$D/dropout-resumed.err")"
grep -q "^dropout 0.2 on the embeddings" "$D/dropout-resumed.err" || fail "the resumed run keeps and says its dropout"
losses() { grep -E "^step [0-9]+: train loss|^held-out text" "$1"; }
[ -n "$(losses "$D/dropout-plain.out")" ] && [ "$(losses "$D/dropout-plain.out")" = "$(losses "$D/dropout-zero.out")" ] ||
    fail "--dropout 0 gives the run without it: $(losses "$D/dropout-plain.out") / $(losses "$D/dropout-zero.out")"
[ "$(losses "$D/dropout-plain.out")" != "$(losses "$D/dropout-drop.out")" ] || fail "--dropout 0.2 changes the run"
[ "$(losses "$D/dropout-drop.out")" = "$(losses "$D/dropout-resumed.out")" ] ||
    fail "dropout resumed as uninterrupted: $(losses "$D/dropout-drop.out") / $(losses "$D/dropout-resumed.out")"

# Every successful command's results (stdout) hold finite numbers only.
finite_outputs "$D"/*.out

cli_finish
