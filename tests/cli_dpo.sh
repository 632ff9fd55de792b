#!/bin/bash
# groundup dpo (train, full and LoRA), dpo pairs and dpo eval from the command line, on a tiny
# GPT-2 trained here on a small text about the sea and the land: the outputs they promise, and
# every kind of bad input (missing or corrupt pairs file, an empty completion, a prompt longer
# than the context, beta <= 0, ...) giving one line "groundup: dpo...: ..." and a non-zero exit.
# Usage: bash tests/cli_dpo.sh path/to/groundup   (from the repository root)
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
G=$groundup D=$tmp  # this script's short names

# --- a tiny base on a text where about half the lines mention the sea -----------------------
for i in $(seq 1 150); do
    echo "the sea was calm and the whale swam by the shore."
    echo "the dog ran home and the cat sat on the warm mat."
    echo "a wave broke over the ship as the ocean rose."
    echo "the farmer walked his field and the bread was good."
done >"$D/text.txt"
"$G" train --arch gpt2 --data "$D/text.txt" --tokenizer bpe:300 --layers 1 --heads 2 --dim 32 --context 32 \
    --batch 8 --steps 300 --lr 3e-3 --eval-every 0 --samples 0 --out "$D/base.ckpt" >/dev/null 2>"$D/err" ||
    fail "base: $(cat "$D/err")"

# --- pairs: sampled completions, the sea preferred ---------------------------------------------
"$G" dpo pairs --base "$D/base.ckpt" --prompts 24 --samples 4 --prompt-tokens 4 --tokens 8 \
    --out "$D/pairs.jsonl" >"$D/pairs.out" 2>"$D/pairs.err" || fail "dpo pairs: $(cat "$D/pairs.err")"
grep -q "mention the sea" "$D/pairs.out" || fail "pairs summary: $(cat "$D/pairs.out")"
n_pairs=$(sed -n 's/^\([0-9]*\) pairs from.*/\1/p' "$D/pairs.out")
[ -n "$n_pairs" ] && [ "$n_pairs" -ge 1 ] && [ "$(wc -l <"$D/pairs.jsonl")" -eq "$n_pairs" ] ||
    fail "the file holds the $n_pairs pairs: $(wc -l <"$D/pairs.jsonl") lines"
head -n 1 "$D/pairs.jsonl" | LC_ALL=C grep -q '^{"prompt":".*","chosen":".*","rejected":".*"}$' || fail "pair format"

# --- train: full and LoRA -------------------------------------------------------------------
"$G" dpo --base "$D/base.ckpt" --pairs "$D/pairs.jsonl" --out "$D/full.ckpt" --steps 6 --batch 4 --warmup 1 \
    --lr 1e-3 >"$D/full.out" 2>"$D/full.err" || fail "dpo full: $(cat "$D/full.err")"
grep -q "loss 0.693[0-9] -> " "$D/full.out" || fail "the first loss is log 2: $(cat "$D/full.out")"
grep -q "step 6/6  loss" "$D/full.err" || fail "progress lines: $(cat "$D/full.err")"
[ -s "$D/full.ckpt" ] || fail "full: no checkpoint"
"$G" dpo --base "$D/base.ckpt" --pairs "$D/pairs.jsonl" --out "$D/sea.lora" --lora 2 --steps 4 --batch 4 --warmup 1 \
    --lr 1e-3 >"$D/lora.out" 2>"$D/lora.err" || fail "dpo --lora: $(cat "$D/lora.err")"
grep -q "LoRA" "$D/lora.out" && [ -s "$D/sea.lora" ] || fail "lora: $(cat "$D/lora.out")"
"$G" generate --model "$D/base.ckpt" --lora "$D/sea.lora" --prompt "the" -n 5 >/dev/null 2>&1 || fail "generate --lora"

# --- eval: the base alone, then against each tuned model -------------------------------------
for tuned in full.ckpt sea.lora; do
    "$G" dpo eval --base "$D/base.ckpt" --tuned "$D/$tuned" --prompts 12 --prompt-tokens 4 --tokens 8 \
        >"$D/eval.out" 2>"$D/eval.err" || fail "dpo eval $tuned: $(cat "$D/eval.err")"
    grep -q "^before .*/12 " "$D/eval.out" && grep -q "^after .*/12 .* ± " "$D/eval.out" ||
        fail "eval rows for $tuned: $(cat "$D/eval.out")"
    finite_outputs "$D/eval.out"
done
"$G" dpo eval --base "$D/base.ckpt" --prompts 5 --prompt-tokens 4 --tokens 4 >"$D/eval.out" 2>&1 || fail "eval, base only"
grep -q "^after" "$D/eval.out" && fail "no --tuned: only the base's row"
finite_outputs "$D/full.out" "$D/lora.out"

# --- bad input ------------------------------------------------------------------------------------
run() { "$G" dpo --base "$D/base.ckpt" --out "$D/x.ckpt" --steps 2 "$@"; }
expect_error "missing pairs file" "none.jsonl: cannot open" run --pairs "$D/none.jsonl"
head -c 60 "$D/pairs.jsonl" >"$D/cut.jsonl"
expect_error "truncated pairs file" "cut.jsonl: line 1: not JSON" run --pairs "$D/cut.jsonl"
printf '{"prompt":"the","chosen":"sea","rejected":"dog"}\nnot json at all\n' >"$D/corrupt.jsonl"
expect_error "corrupt line" "corrupt.jsonl: line 2: not JSON" run --pairs "$D/corrupt.jsonl"
printf '{"prompt":"the","chosen":"sea"}\n' >"$D/field.jsonl"
expect_error "missing field" "line 1: no \"rejected\" string" run --pairs "$D/field.jsonl"
printf '{"prompt":"the","chosen":"","rejected":"dog"}\n' >"$D/empty.jsonl"
expect_error "empty completion" "line 1: empty completion \"chosen\"" run --pairs "$D/empty.jsonl"
long=$(for i in $(seq 1 40); do printf 'the farmer walked his field '; done)
printf '{"prompt":"%s","chosen":"sea","rejected":"dog"}\n' "$long" >"$D/long.jsonl"
expect_error "prompt longer than the context" "leave no room in the model's context of 32" run --pairs "$D/long.jsonl"
: >"$D/blank.jsonl"
expect_error "no pairs" "no pairs" run --pairs "$D/blank.jsonl"
expect_error "beta 0" "beta 0 must be positive" run --pairs "$D/pairs.jsonl" --beta 0
expect_error "negative beta" "beta -0.5 must be positive" run --pairs "$D/pairs.jsonl" --beta -0.5
expect_error "beta nan" "must be positive" run --pairs "$D/pairs.jsonl" --beta nan
expect_error "no pairs option" "required" "$G" dpo --base "$D/base.ckpt" --out "$D/x.ckpt"
expect_error "negative rank" "--lora must be >= 0" run --pairs "$D/pairs.jsonl" --lora -1
expect_error "rank above the width" "rank 33 must be in \[1, 32\]" run --pairs "$D/pairs.jsonl" --lora 33
expect_error "zero steps" "0 steps" run --pairs "$D/pairs.jsonl" --steps 0
expect_error "adapters as the base" "DPO here fine-tunes a GPT-2" "$G" dpo --base "$D/sea.lora" --pairs "$D/pairs.jsonl" --out "$D/x.ckpt"
expect_error "missing base" "cannot open" "$G" dpo --base "$D/none.ckpt" --pairs "$D/pairs.jsonl" --out "$D/x.ckpt"
[ ! -e "$D/x.ckpt" ] || fail "a refused run writes nothing"
expect_error "unknown sub-command" "unknown sub-command 'fit'" "$G" dpo fit
expect_error "pairs: long prompts" "exceed the model's context of 32" "$G" dpo pairs --base "$D/base.ckpt" --prompt-tokens 30 --tokens 8 --out "$D/p.jsonl"
expect_error "eval: no prompts" "at least 1" "$G" dpo eval --base "$D/base.ckpt" --prompts 0
expect_error "eval: a missing tuned model" "cannot open" "$G" dpo eval --base "$D/base.ckpt" --tuned "$D/none.ckpt" --prompts 2 --prompt-tokens 4 --tokens 4
"$G" dpo --help >/dev/null && "$G" dpo pairs --help >/dev/null && "$G" dpo eval --help >/dev/null &&
    "$G" dpo --base x --help >/dev/null || fail "--help"

cli_finish
