#!/bin/bash
# groundup lora train / merge and generate / eval --lora from the command line, on a tiny
# GPT-2 trained here (fp32, and quantized to q8_0 and q4_0): the outputs they promise, merged
# against unmerged, and every kind of bad input giving one line "groundup: <command>: ..."
# and a non-zero exit.
# Usage: bash tests/cli_lora.sh path/to/groundup   (from the repository root)
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
G=$groundup D=$tmp  # this script's short names

# --- a tiny base, its quantized copies, and a second base ---------------------------------
# A fifth of the names keeps the evaluations (each held-out token scored) fast under ASan.
head -n 6000 data/names.txt >"$D/names.txt"
base_options="--arch gpt2 --data $D/names.txt --tokenizer char --layers 1 --heads 2 --dim 32 --context 16 --batch 8
              --eval-every 0 --samples 0"
# shellcheck disable=SC2086
"$G" train $base_options --steps 10 --out "$D/base.ckpt" >/dev/null 2>"$D/err" || fail "base: $(cat "$D/err")"
# shellcheck disable=SC2086
"$G" train $base_options --steps 1 --seed 2 --out "$D/other.ckpt" >/dev/null 2>"$D/err" || fail "other base"
"$G" quantize --model "$D/base.ckpt" --type q8_0 --out "$D/q8.ckpt" >/dev/null 2>&1 || fail "quantize q8_0"
"$G" quantize --model "$D/base.ckpt" --type q4_0 --out "$D/q4.ckpt" >/dev/null 2>&1 || fail "quantize q4_0"

# --- lora train on each base --------------------------------------------------------------
lora_options="--data $D/names.txt --rank 4 --alpha 8 --steps 8 --eval-every 4 --batch 8"
for base in base q8 q4; do
    # shellcheck disable=SC2086
    "$G" lora train --base "$D/$base.ckpt" $lora_options --out "$D/$base.lora" >"$D/$base.out" 2>"$D/$base.err" ||
        fail "lora train on $base: $(cat "$D/$base.err")"
    grep -q "step 8: validation loss" "$D/$base.err" || fail "$base: validation lines: $(cat "$D/$base.err")"
    grep -q "step 4/8" "$D/$base.err" || fail "$base: progress lines"
    grep -q "trained parameters" "$D/$base.out" && grep -q "nats/token" "$D/$base.out" ||
        fail "$base: summary: $(cat "$D/$base.out")"
    [ -s "$D/$base.lora" ] && grep -q "<polyline" "$D/$base.svg" || fail "$base: adapter file and SVG"
done
grep -q "q4_0 weights" "$D/q4.out" || fail "the q4_0 base is named: $(cat "$D/q4.out")"
# attn only, rank 4, one layer: qkvw (96x32): 4x32 + 96x4 = 512, attprojw (32x32): 4x32 + 32x4 = 256
"$G" lora train --base "$D/base.ckpt" --data "$D/names.txt" --rank 4 --targets attn --steps 2 --eval-every 0 \
    --batch 2 --out "$D/attn.lora" >"$D/attn.out" 2>/dev/null || fail "--targets attn"
grep -q " 768 trained parameters" "$D/attn.out" || fail "attn adapters count 768: $(cat "$D/attn.out")"

# --- eval, generate, merge -------------------------------------------------------------------
"$G" eval --model "$D/base.ckpt" --lora "$D/base.lora" >"$D/eval.out" 2>&1 || fail "eval --lora: $(cat "$D/eval.out")"
grep -q "$D/names.txt" "$D/eval.out" || fail "eval --lora defaults to the adapters' data: $(cat "$D/eval.out")"
after=$(sed -n 's/.*-> \([0-9.]*\) nats.*/\1/p' "$D/base.out")
grep -q "mean loss *$after " "$D/eval.out" || fail "eval --lora gives lora train's final loss $after: $(cat "$D/eval.out")"
"$G" lora merge --base "$D/base.ckpt" --lora "$D/base.lora" --out "$D/merged.ckpt" >/dev/null || fail "merge"
"$G" eval --model "$D/merged.ckpt" --data "$D/names.txt" >"$D/merged.out" 2>&1 || fail "eval merged"
[ "$(grep "mean loss" "$D/merged.out")" = "$(grep "mean loss" "$D/eval.out")" ] ||
    fail "merged and unmerged losses: $(grep "mean loss" "$D/merged.out") vs $(grep "mean loss" "$D/eval.out")"
a=$("$G" generate --model "$D/base.ckpt" --lora "$D/base.lora" --prompt "ma" -n 40 --temperature 0 2>/dev/null)
b=$("$G" generate --model "$D/merged.ckpt" --prompt "ma" -n 40 --temperature 0 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] || fail "greedy text with the adapters unmerged and merged: '$a' vs '$b'"
"$G" lora merge --base "$D/q4.ckpt" --lora "$D/q4.lora" --out "$D/merged4.ckpt" >/dev/null || fail "merge onto q4_0"
"$G" eval --model "$D/merged4.ckpt" --data "$D/names.txt" >/dev/null 2>&1 || fail "eval of the dequantized merge"

# --- bad input ---------------------------------------------------------------------------------
expect_error "rank 0" "rank 0 must be in \[1, 32\]" "$G" lora train --base "$D/base.ckpt" --data "$D/names.txt" --rank 0 --out "$D/x.lora"
expect_error "rank above the width" "rank 33 must be in \[1, 32\]" "$G" lora train --base "$D/base.ckpt" --data "$D/names.txt" --rank 33 --out "$D/x.lora"
expect_error "unknown targets" "targets 'attn,ffn'" "$G" lora train --base "$D/base.ckpt" --data "$D/names.txt" --targets attn,ffn --out "$D/x.lora"
expect_error "no base" "required" "$G" lora train --data "$D/names.txt"
expect_error "adapters as the base" "LoRA adapts a GPT-2" "$G" lora train --base "$D/base.lora" --data "$D/names.txt" --out "$D/x.lora"
# --full trains every parameter of the fp32 base through the same loop: a whole checkpoint,
# whose trained-parameter count is the base's and whose held-out loss is reported.
"$G" lora train --base "$D/base.ckpt" --data "$D/names.txt" --full --steps 3 --eval-every 0 \
    --out "$D/full.ckpt" >"$D/full.out" 2>"$D/full.err" || fail "lora train --full: $(tail -n 2 "$D/full.err")"
"$G" eval --model "$D/full.ckpt" --data "$D/names.txt" >"$D/full-eval.out" 2>&1 || fail "the --full checkpoint evaluates"
grep -q "perplexity" "$D/full-eval.out" || fail "--full: no perplexity"
expect_error "--full on a quantized base" "quantized" "$G" lora train --base "$D/q4.ckpt" --data "$D/names.txt" --full --out "$D/x.ckpt"
expect_error "another base's weights" "another base (weights checksum" "$G" eval --model "$D/other.ckpt" --lora "$D/base.lora"
expect_error "the fp32 adapters on the q8_0 base" "q8_0 weights" "$G" generate --model "$D/q8.ckpt" --lora "$D/base.lora"
expect_error "merge onto another base" "another base" "$G" lora merge --base "$D/other.ckpt" --lora "$D/base.lora" --out "$D/x.ckpt"
[ ! -e "$D/x.ckpt" ] || fail "a refused merge writes nothing"
head -c 1000 "$D/base.lora" >"$D/cut.lora"
expect_error "truncated adapters" "truncated" "$G" eval --model "$D/base.ckpt" --lora "$D/cut.lora"
expect_error "a checkpoint as adapters" "not LoRA adapters" "$G" generate --model "$D/base.ckpt" --lora "$D/other.ckpt"
expect_error "adapters alone" "no base model" "$G" generate --model "$D/base.lora"
expect_error "unknown sub-command" "unknown sub-command" "$G" lora fit
"$G" lora train --help >/dev/null && "$G" lora merge --help >/dev/null && "$G" lora --help >/dev/null || fail "--help"

# Every successful command's results (stdout) hold finite numbers only.
finite_outputs "$D"/*.out

cli_finish
