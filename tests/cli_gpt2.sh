#!/usr/bin/env bash
# GPT-2 checkpoints through the program: quantize (q8_0, q4_0), eval and generate on the
# quantized files, convert to llm.c's format and back, and the errors of each command.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

# A tiny GPT-2 on names with its own BPE (width 64: a multiple of the 32-weight blocks).
"$groundup" tokenizer train --data data/names.txt --vocab-size 300 --out "$tmp/names.bpe" > /dev/null 2>&1 ||
    fail "tokenizer train"
"$groundup" train --arch gpt2 --data data/names.txt --tokenizer "$tmp/names.bpe" --layers 2 --heads 2 --dim 64 \
    --context 16 --batch 8 --steps 30 --lr 3e-3 --eval-every 0 --samples 0 --out "$tmp/m.ckpt" > /dev/null 2>&1 ||
    fail "train"

# Scored on a fifth of the names (each of the five evaluations scores every token: slow under ASan).
head -n 6000 data/names.txt > "$tmp/names.part"  # (not .txt: finite_outputs reads those, and "nan" is a name)
eval_loss() { "$groundup" eval --model "$1" --data "$tmp/names.part" | sed -n 's/^mean loss *\([0-9.]*\).*/\1/p'; }
base=$(eval_loss "$tmp/m.ckpt")
[ -n "$base" ] || fail "eval of the fp32 model printed no loss"
for type in q8_0 q4_0; do
    "$groundup" quantize --model "$tmp/m.ckpt" --type $type --out "$tmp/$type.ckpt" > "$tmp/$type.table" ||
        fail "quantize $type"
    grep -q "^| qkvw | $type |" "$tmp/$type.table" || fail "no qkvw row in the $type table"
    grep -q "^| ln1w | f32 |" "$tmp/$type.table" || fail "LayerNorm weights must stay f32"
    [ "$(stat -c %s "$tmp/$type.ckpt")" -lt "$(stat -c %s "$tmp/m.ckpt")" ] || fail "$type file is not smaller"
    loss=$(eval_loss "$tmp/$type.ckpt")
    awk -v a="$loss" -v b="$base" 'BEGIN { exit !(a > 0 && (a - b) / b < 0.05 && (b - a) / b < 0.05) }' ||
        fail "$type loss $loss is not within 5% of fp32's $base"
    "$groundup" generate --model "$tmp/$type.ckpt" -n 20 --seed 3 > "$tmp/$type.txt" 2> /dev/null || fail "generate $type"
    [ -s "$tmp/$type.txt" ] || fail "generate $type printed nothing"
done
"$groundup" quantize --model "$tmp/m.ckpt" --type q4_0 --keep-embedding-fp32 --out "$tmp/keep.ckpt" > "$tmp/keep.table" ||
    fail "quantize --keep-embedding-fp32"
grep -q "^| wte | f32 |" "$tmp/keep.table" || fail "--keep-embedding-fp32 must keep wte in f32"

# groundup -> llm.c -> groundup keeps the weights: the same loss to the last digit.
"$groundup" convert --in "$tmp/m.ckpt" --out "$tmp/m.bin" 2> /dev/null || fail "convert to llm.c"
[ "$(head -c 4 "$tmp/m.bin" | od -An -tu4 | tr -d ' ')" = 20240326 ] || fail "llm.c magic"
"$groundup" convert --in "$tmp/m.bin" --tokenizer "$tmp/names.bpe" --out "$tmp/back.ckpt" 2> /dev/null ||
    fail "convert back"
[ "$(eval_loss "$tmp/back.ckpt")" = "$base" ] || fail "the round trip through llm.c's format changed the model"

# A GPT-2-vocabulary model as llm.c would hand it over: its file holds no tokenizer, and
# generate reads it with GPT-2's own files from data/gpt2/, giving the same text as the
# groundup checkpoint it came from.
"$groundup" train --arch gpt2 --tokenizer gpt2 --data data/names.txt --layers 1 --heads 2 --dim 32 --context 16 --batch 2 --steps 1 \
    --eval-every 0 --samples 0 --out "$tmp/vocab.ckpt" > /dev/null 2>&1 || fail "train with GPT-2's tokenizer"
"$groundup" convert --in "$tmp/vocab.ckpt" --to llmc --out "$tmp/vocab.bin" 2> /dev/null || fail "convert to llm.c"
"$groundup" generate --model "$tmp/vocab.ckpt" --prompt "Call me Ishmael." -n 12 --seed 5 > "$tmp/from_groundup.txt" 2> /dev/null
"$groundup" generate --model "$tmp/vocab.bin" --prompt "Call me Ishmael." -n 12 --seed 5 > "$tmp/from_llmc.txt" 2> /dev/null ||
    fail "generate from an llm.c checkpoint"
cmp -s "$tmp/from_groundup.txt" "$tmp/from_llmc.txt" || fail "the llm.c file generates other text than its origin"
grep -q "^Call me Ishmael." "$tmp/from_llmc.txt" || fail "generate did not echo the prompt"

expect_error "unknown type" "q8_0 or q4_0" "$groundup" quantize --model "$tmp/m.ckpt" --type q5 --out "$tmp/x.ckpt"
expect_error "quantizing a quantized file" "already quantized" "$groundup" quantize --model "$tmp/q8_0.ckpt" --type q4_0 --out "$tmp/x.ckpt"
expect_error "missing model" "cannot open" "$groundup" quantize --model "$tmp/missing.ckpt" --type q8_0 --out "$tmp/x.ckpt"
expect_error "no --type or --out" "required" "$groundup" quantize --model "$tmp/m.ckpt"
expect_error "quantized to llm.c" "fp32 only" "$groundup" convert --in "$tmp/q8_0.ckpt" --to llmc --out "$tmp/x.bin"
expect_error "llm.c file without GPT-2 vocabulary" "50257" "$groundup" generate --model "$tmp/m.bin"
expect_error "unknown format" "--to must be" "$groundup" convert --in "$tmp/m.ckpt" --to onnx --out "$tmp/x.bin"
head -c 3000 "$tmp/q4_0.ckpt" > "$tmp/truncated.ckpt"
expect_error "truncated checkpoint" "truncated" "$groundup" eval --model "$tmp/truncated.ckpt"
[ ! -e "$tmp/x.ckpt" ] && [ ! -e "$tmp/x.bin" ] || fail "a failed command left an output file"

# Every successful command's results hold finite numbers only.
finite_outputs "$tmp"/*.out "$tmp"/*.txt

cli_finish
