#!/usr/bin/env bash
# The Vision Transformer from the command line: verify --arch vit against the PyTorch fixture
# (tests/fixtures/vit, tools/reference/vit_reference.py); a tiny train / eval / predict /
# resume on 1,000 of the bundled MNIST images (dim 16, one layer: seconds under the sanitizers)
# with its default recipe (AdamW, warmup and cosine) and its attention picture; and the one-line
# errors: heads that do not divide the width, a patch that does not divide the image, a LeNet-5
# checkpoint given as a vit (and the other way), an image of another size, a truncated checkpoint.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

# --- verify: every line within its tolerance, and the OK line
fixture=tests/fixtures/vit
"$groundup" verify --arch vit --model $fixture/PARAMS.safetensors --state $fixture/STATE.safetensors --steps 10 \
    > "$tmp/verify" 2> "$tmp/err" || { fail "verify --arch vit failed"; cat "$tmp/verify" "$tmp/err" >&2; }
[ "$(grep -c '^grad .* ok$' "$tmp/verify")" -eq 32 ] || fail "verify: not 32 gradients within tolerance"
[ "$(grep -c '^step [0-9]* loss .* reference ' "$tmp/verify")" -eq 10 ] || fail "verify: not 10 step losses"
grep -q '^evaluation-mode logits after the steps: .* ok$' "$tmp/verify" || fail "verify: no evaluation logits line"
grep -q '^OK: the vit matches the reference' "$tmp/verify" || fail "verify: no OK line"

# --- train, eval, predict, resume on the first 1,000 training and 200 test images
small=$tmp/small
mnist_small "$small" 1000 200
"$groundup" train --arch vit --data "$small" --epochs 1 --dim 16 --depth 1 --heads 2 --batch 32 --lr 3e-3 \
    --out "$tmp/vit.safetensors" > "$tmp/train" 2> "$tmp/err" || { fail "train --arch vit failed"; cat "$tmp/err" >&2; }
grep -q '^vit patch 7 dim 16 depth 1 heads 2 mlp 32: 3514 parameters' "$tmp/err" ||
    fail "vit: no description line with the parameter count: $(head -1 "$tmp/err")"
accuracy=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/train")
awk -v a="${accuracy:-0}" 'BEGIN { exit !(a > 20) }' || fail "vit, one epoch: test accuracy ${accuracy:-none}% (expected > 20%)"
head -c 4096 "$tmp/vit.safetensors" | grep -aq '"arch":"vit"' || fail "the checkpoint does not record its arch"
head -c 4096 "$tmp/vit.safetensors" | grep -aq '"heads":"2"' || fail "the checkpoint does not record its heads"
grep -q "^attention $tmp/vit.attention.svg" "$tmp/train" || fail "train --arch vit named no attention picture"
[ "$(grep -c 'class="cell"' "$tmp/vit.attention.svg" 2>/dev/null)" -eq 784 ] || fail "the attention picture has not 28x28 cells"
# the 16 weights and the class token's own sum to 1
line=$(grep '^class-token attention' "$tmp/train")
echo "$line" | sed -e 's/.*rows; \([0-9.]*\) to itself):/\1/' -e 's/|//g' |
    awk '{ for (i = 1; i <= NF; i++) s += $i } END { exit !(NF == 17 && s > 0.999 && s < 1.001) }' ||
    fail "not 17 attention weights summing to 1: $line"
"$groundup" eval --model "$tmp/vit.safetensors" --data "$small" > "$tmp/eval" || fail "eval of the vit failed"
grep -q "^test accuracy ${accuracy}%" "$tmp/eval" || fail "vit eval differs from train's ${accuracy}%: $(head -1 "$tmp/eval")"

"$groundup" train --data "$small" --epochs 2 --batch 32 --lr 3e-3 --out "$tmp/vit.safetensors" \
    --resume "$tmp/vit.safetensors" > "$tmp/resume" 2> "$tmp/err" || { fail "vit resume failed"; cat "$tmp/err" >&2; }
grep -q '^epoch 2:' "$tmp/resume" && ! grep -q '^epoch 1:' "$tmp/resume" || fail "vit resume did not run epoch 2 alone"
grep -q '^vit patch 7 dim 16 depth 1 heads 2 mlp 32' "$tmp/err" || fail "resume did not take the checkpoint's sizes"

{ printf 'P5\n28 28\n255\n'; gzip -dc data/mnist/t10k-images-idx3-ubyte.gz | tail -c +17 | head -c 784; } > "$tmp/first.pgm"
"$groundup" predict --model "$tmp/vit.safetensors" --image "$tmp/first.pgm" > "$tmp/predict" || fail "vit predict failed"
grep -q '^predicted [0-9]$' "$tmp/predict" || fail "vit predict printed no prediction"
awk '/^class/ { s += $3 } END { exit !(s > 0.999 && s < 1.001) }' "$tmp/predict" || fail "probabilities do not sum to 1"
finite_outputs "$tmp/verify" "$tmp/train" "$tmp/eval" "$tmp/resume" "$tmp/predict"

# --- errors
"$groundup" train --arch vit --help 2>&1 | grep -q -- '--mlp-ratio' || fail "train --arch vit --help lacks --mlp-ratio"
expect_error "heads that do not divide dim" "5 heads do not divide dim 48" \
    "$groundup" train --arch vit --data "$small" --heads 5 --out "$tmp/x.safetensors"
expect_error "a patch that does not divide 28" "patch size 5 does not divide the image side 28" \
    "$groundup" train --arch vit --data "$small" --patch 5 --out "$tmp/x.safetensors"
expect_error "a zero depth" "each must be positive" "$groundup" train --arch vit --data "$small" --depth 0 --out "$tmp/x.safetensors"
expect_error "a negative MLP ratio" "--mlp-ratio" "$groundup" train --arch vit --data "$small" --mlp-ratio -1 --out "$tmp/x.safetensors"
expect_error "a lenet5 checkpoint resumed as vit" "a lenet5 checkpoint, not vit" "$groundup" train --arch vit \
    --data "$small" --epochs 2 --resume tests/fixtures/lenet5/PARAMS.safetensors --out "$tmp/x.safetensors"
expect_error "a vit checkpoint resumed as lenet5" "a vit checkpoint, not lenet5" "$groundup" train --arch lenet5 \
    --data "$small" --epochs 3 --resume "$tmp/vit.safetensors" --out "$tmp/x.safetensors"
expect_error "a lenet5 fixture verified as vit" "a lenet5 checkpoint, not vit" "$groundup" verify --arch vit \
    --model tests/fixtures/lenet5/PARAMS.safetensors --state $fixture/STATE.safetensors
printf 'P5\n4 4\n255\n0123456789abcdef' > "$tmp/small.pgm"
expect_error "a 4x4 image for the vit" "small.pgm: a 4x4 image with 1 channel(s); the vit takes 28x28 with 1" \
    "$groundup" predict --model "$tmp/vit.safetensors" --image "$tmp/small.pgm"
head -c 3000 "$tmp/vit.safetensors" > "$tmp/cut.safetensors"
expect_error "a truncated vit checkpoint" "cut.safetensors" "$groundup" eval --model "$tmp/cut.safetensors" --data "$small"

cli_finish
