#!/usr/bin/env bash
# The Transformer from the command line: verify --arch transformer against the PyTorch
# fixtures (tests/fixtures/transformer, transformer_prenorm), then seq2seq train, eval and
# translate on a short run (the cross-attention SVG read back), and their errors on bad input:
# a source longer than the model's maximum, a character or id outside the vocabulary, a
# target longer than the model's maximum (another task), a beam width of 0, damaged files.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

# verify: the values themselves, read from what it prints (not its own "ok")
for case in "transformer 2 68" "transformer_prenorm 4 56"; do
    read -r fixture heads n_tensors <<< "$case"
    f=tests/fixtures/$fixture
    if ! "$groundup" verify --arch transformer --heads "$heads" --model $f/PARAMS.safetensors --state $f/STATE.safetensors \
            > "$tmp/verify" 2> "$tmp/err"; then
        fail "verify --arch transformer on $fixture failed"; cat "$tmp/verify" "$tmp/err" >&2
    fi
    logits=$(awk '/^logits:/ {print $4}' "$tmp/verify")
    awk -v d="$logits" 'BEGIN {exit !(d != "" && d + 0 <= 1e-4)}' || fail "$fixture: logits differ by '$logits'"
    [ "$(grep -c '^grad ' "$tmp/verify")" -eq "$n_tensors" ] || fail "$fixture: expected $n_tensors gradient lines"
    worst=$(awk '/^grad / {for (i = 1; i <= NF; i++) if ($i == "largest") print $(i + 1)}' "$tmp/verify" | sort -g | tail -1)
    awk -v q="$worst" 'BEGIN {exit !(q != "" && q + 0 <= 1e-3)}' || fail "$fixture: a gradient differs by $worst (relative)"
    [ "$(grep -c '^step .* reference ' "$tmp/verify")" -eq 10 ] || fail "$fixture: expected 10 step lines"
done
expect_error "verify without --heads" "heads" "$groundup" verify --arch transformer \
    --model tests/fixtures/transformer/PARAMS.safetensors --state tests/fixtures/transformer/STATE.safetensors
"$groundup" verify --arch transformer --heads 4 --model tests/fixtures/transformer/PARAMS.safetensors \
    --state tests/fixtures/transformer/STATE.safetensors > "$tmp/verify" 2>&1 && fail "4 heads on the 2-head fixture passed"
expect_error "verify on an mlp's weights" "src_embed" "$groundup" verify --arch transformer --heads 2 \
    --model tests/fixtures/mlp/PARAMS.safetensors --state tests/fixtures/transformer/STATE.safetensors

# a short run on addition: the model is written, eval and translate read it
model=$tmp/addition.safetensors
if ! "$groundup" seq2seq train --task addition --out "$model" --d-model 32 --heads 2 --encoder-layers 1 \
        --decoder-layers 1 --feedforward 64 --steps 60 --warmup 10 --batch 32 --train 2000 --test 50 \
        --examples 2 > "$tmp/train" 2> "$tmp/err"; then
    fail "seq2seq train failed"; cat "$tmp/train" "$tmp/err" >&2
fi
grep -q "^held-out exact match: [0-9.]*% ([0-9]* of 50), greedy" "$tmp/train" || fail "train printed no held-out accuracy"
[ -s "$model" ] || fail "no model written"
"$groundup" seq2seq eval --model "$model" --beam 3 --examples 0 > "$tmp/eval" 2> "$tmp/err" || fail "eval failed: $(cat "$tmp/err")"
grep -q "^held-out exact match: .* (\([0-9]*\) of 50), beam search" "$tmp/eval" || fail "eval printed no beam accuracy"
"$groundup" seq2seq translate --model "$model" --text "12+34" --beam 2 --attention "$tmp/attention.svg" \
    > "$tmp/translate" 2> "$tmp/err" || fail "translate failed: $(cat "$tmp/err")"
grep -q '^[0-9]*$' "$tmp/translate" || fail "translate printed '$(cat "$tmp/translate")', not digits"
# the heat map: one cell per (output character, source character), each row summing to 1
rows=$(grep -c 'class="row-label"' "$tmp/attention.svg")
[ "$(grep -c 'class="cell"' "$tmp/attention.svg")" -eq $((rows * 5)) ] || fail "the heat map is not rows x 5 source characters"
awk -F'"' '/class="cell"/ {for (i = 1; i < NF; i++) if ($i ~ /data-row=$/) r = $(i + 1); else if ($i ~ /data-value=$/) s[r] += $(i + 1)}
    END {for (r in s) if (s[r] < 0.99 || s[r] > 1.01) exit 1; exit !(length(s) > 0)}' "$tmp/attention.svg" ||
    fail "a heat map row does not sum to 1"
finite_outputs "$tmp/train" "$tmp/eval"

# bad input: one line, non-zero exit
expect_error "source too long" "1 to 9" "$groundup" seq2seq translate --model "$model" --text "1234+12345"
expect_error "character outside the vocabulary" "'A'" "$groundup" seq2seq translate --model "$model" --text "12A"
expect_error "id outside the vocabulary" "id 99" "$groundup" seq2seq translate --model "$model" --ids "4 99 5"
expect_error "target longer than the model's" "longer than the model" "$groundup" seq2seq eval --model "$model" --task dates
expect_error "beam width 0 (translate)" "beam" "$groundup" seq2seq translate --model "$model" --text "1+2" --beam 0
expect_error "beam width 0 (eval)" "beam" "$groundup" seq2seq eval --model "$model" --beam 0
expect_error "unknown task" "nonsense" "$groundup" seq2seq train --task nonsense --out "$tmp/x.safetensors"
expect_error "unknown architecture" "rnn9" "$groundup" seq2seq train --task reverse --arch rnn9 --out "$tmp/x.safetensors"
expect_error "heads not dividing d_model" "heads" "$groundup" seq2seq train --task reverse --d-model 30 --heads 4 \
    --out "$tmp/x.safetensors"
expect_error "missing model" "cannot open" "$groundup" seq2seq eval --model "$tmp/missing.safetensors"
head -c 3000 "$model" > "$tmp/cut.safetensors"
expect_error "truncated model" "cut.safetensors" "$groundup" seq2seq translate --model "$tmp/cut.safetensors" --text "1+2"
expect_error "a classifier, not a seq2seq model" "arch" "$groundup" seq2seq eval --model tests/fixtures/mlp/PARAMS.safetensors
expect_error "no subcommand" "train, eval or translate" "$groundup" seq2seq
[ ! -e "$tmp/x.safetensors" ] || fail "a failed train wrote a model"

cli_finish
