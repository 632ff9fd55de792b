#!/usr/bin/env bash
# The framework's MLP from the command line: verify --arch mlp against the PyTorch fixture
# (tests/fixtures/mlp, tools/reference/mlp_reference.py), train / eval / predict on the bundled
# MNIST subset, resume and early stopping, and the errors on bad files and options.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
fixture=tests/fixtures/mlp

# --- verify: logits, loss, 6 gradients and 10 AdamW steps agree with PyTorch
if ! "$groundup" verify --arch mlp --model $fixture/PARAMS.safetensors --state $fixture/STATE.safetensors \
        --steps 10 --lr 1e-3 > "$tmp/out" 2> "$tmp/err"; then
    fail "verify --arch mlp on the fixture failed"; cat "$tmp/out" "$tmp/err" >&2
fi
[ "$(grep -c ' ok$' "$tmp/out")" -eq 9 ] || fail "expected 9 checks ok (logits, loss, 6 gradients, steps)"
grep -q '^step 9 loss' "$tmp/out" || fail "no 'step 9 loss' line"

# A safetensors file from a JSON header and zero-filled data: safetensors FILE HEADER DATA_BYTES
safetensors() {
    local header=$2
    while [ $(( ${#header} % 8 )) -ne 0 ]; do header="$header "; done
    local n=${#header} bytes=""
    for i in 0 1 2 3 4 5 6 7; do bytes="$bytes\\x$(printf '%02x' $(( (n >> (8 * i)) & 255 )))"; done
    { printf "$bytes"; printf '%s' "$header"; head -c "$3" /dev/zero; } > "$1"
}
w1='"fc1.weight":{"dtype":"F32","shape":[4,784],"data_offsets":[0,12544]}'
b1='"fc1.bias":{"dtype":"F32","shape":[4],"data_offsets":[12544,12560]}'
w2='"fc2.weight":{"dtype":"F32","shape":[10,4],"data_offsets":[12560,12720]}'
w2_after_w1='"fc2.weight":{"dtype":"F32","shape":[10,4],"data_offsets":[12544,12704]}'
b2='"fc2.bias":{"dtype":"F32","shape":[10],"data_offsets":[12720,12760]}'
safetensors "$tmp/no_bias.safetensors" "{$w1,$w2_after_w1}" 12704
expect_error "a parameter missing" "fc1.bias is missing" \
    "$groundup" verify --arch mlp --model "$tmp/no_bias.safetensors" --state $fixture/STATE.safetensors
safetensors "$tmp/extra.safetensors" "{$w1,$b1,$w2,$b2,\"fc1.scale\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[12760,12776]}}" 12776
expect_error "an unknown tensor" "fc1.scale is not a tensor of this model" \
    "$groundup" verify --arch mlp --model "$tmp/extra.safetensors" --state $fixture/STATE.safetensors
safetensors "$tmp/small.safetensors" "{$w1,$b1,$w2,$b2}" 12760
expect_error "state of another architecture" "grad.fc1.weight has 12544 values, expected 3136" \
    "$groundup" verify --arch mlp --model "$tmp/small.safetensors" --state $fixture/STATE.safetensors
head -c 100 $fixture/PARAMS.safetensors > "$tmp/cut.safetensors"
expect_error "a truncated model" "cut.safetensors" \
    "$groundup" verify --arch mlp --model "$tmp/cut.safetensors" --state $fixture/STATE.safetensors
expect_error "no --state" "required" "$groundup" verify --arch mlp --model $fixture/PARAMS.safetensors

# --- train, eval, predict (a small network, one epoch: a few seconds even under the sanitizers)
if ! "$groundup" train --arch mlp --data data/mnist --epochs 1 --hidden 32 --batch 128 \
        --out "$tmp/m.safetensors" > "$tmp/train" 2> "$tmp/err"; then
    fail "train --data data/mnist failed"; cat "$tmp/train" "$tmp/err" >&2
fi
accuracy=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/train")
awk -v a="${accuracy:-0}" 'BEGIN { exit !(a > 80) }' || fail "one epoch: test accuracy ${accuracy:-none}% (expected > 80%)"
[ -s "$tmp/m.svg" ] || fail "no curves SVG beside the checkpoint"
"$groundup" eval --model "$tmp/m.safetensors" --data data/mnist > "$tmp/eval" || fail "eval failed"
grep -q "^test accuracy ${accuracy}%" "$tmp/eval" || fail "eval's accuracy differs from train's: $(head -1 "$tmp/eval")"
[ "$(grep -c '^ *[0-9] ' "$tmp/eval")" -eq 11 ] || fail "eval: no 10-row confusion matrix under its header"
grep -q "^per-class accuracy: 0: " "$tmp/eval" || fail "eval: no per-class accuracy"

# the first test image as a PGM, and its label
label=$(gzip -dc data/mnist/t10k-labels-idx1-ubyte.gz | od -An -tu1 -j8 -N1 | tr -d ' ')
{ printf 'P5\n28 28\n255\n'; gzip -dc data/mnist/t10k-images-idx3-ubyte.gz | tail -c +17 | head -c 784; } > "$tmp/first.pgm"
"$groundup" predict --model "$tmp/m.safetensors" --image "$tmp/first.pgm" > "$tmp/predict" || fail "predict failed"
grep -q "^predicted $label\$" "$tmp/predict" || fail "predict: $(tail -1 "$tmp/predict") (the label is $label)"
awk '/^class/ { s += $3 } END { exit !(s > 0.999 && s < 1.001) }' "$tmp/predict" || fail "probabilities do not sum to 1"

# resume: a second epoch from the checkpoint
"$groundup" train --data data/mnist --epochs 2 --hidden 32 --batch 128 --out "$tmp/m.safetensors" \
    --resume "$tmp/m.safetensors" > "$tmp/resume" 2>/dev/null || fail "resume failed"
grep -q '^epoch 2:' "$tmp/resume" && ! grep -q '^epoch 1:' "$tmp/resume" || fail "resume did not run epoch 2 alone"

# batch norm and dropout: eval (running statistics, no dropout) gives train's test accuracy
"$groundup" train --data data/mnist --epochs 1 --hidden 32 --batch 128 --batch-norm --dropout 0.2 \
    --out "$tmp/bn.safetensors" > "$tmp/bn" 2>/dev/null || fail "train --batch-norm --dropout failed"
bn_accuracy=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/bn")
"$groundup" eval --model "$tmp/bn.safetensors" --data data/mnist | grep -q "^test accuracy ${bn_accuracy}%" ||
    fail "eval of the batch-norm model differs from train's ${bn_accuracy}%"
expect_error "dropout of 1" "dropout" "$groundup" train --data data/mnist --dropout 1

# the checkpoint's directory is made when missing
"$groundup" train --data data/mnist --epochs 1 --hidden 8 --batch 512 --out "$tmp/new/dir/m.safetensors" > /dev/null 2>&1 &&
    [ -s "$tmp/new/dir/m.safetensors" ] || fail "train into a directory that does not exist yet"

# validation split, early stopping with patience, best weights kept
"$groundup" train --data data/mnist --epochs 3 --hidden 16 --batch 256 --validation 1000 --patience 1 \
    --out "$tmp/v.safetensors" > "$tmp/val" 2>/dev/null || fail "train with --validation failed"
grep -q '^best validation accuracy at epoch' "$tmp/val" || fail "no best epoch reported"
[ -s "$tmp/v.best.safetensors" ] || fail "no best weights written"

# --- xor: solved from scratch, the decision boundary written
"$groundup" xor --out "$tmp/xor.svg" > "$tmp/xor" || fail "xor (seed 1) did not solve it"
grep -q '^solved' "$tmp/xor" && [ -s "$tmp/xor.svg" ] || fail "xor: no 'solved' line or no SVG"

# the schedules of foundations/optimizer.h over the run's steps
"$groundup" train --data data/mnist --epochs 1 --hidden 16 --batch 256 --schedule cosine --warmup 5 --min-lr 1e-4 \
    --out "$tmp/s.safetensors" > /dev/null 2>&1 || fail "train --schedule cosine failed"
expect_error "a warmup longer than the run" "warmup" "$groundup" train --data data/mnist --epochs 1 --schedule cosine --warmup 1000000
expect_error "an unknown schedule" "--schedule" "$groundup" train --data data/mnist --schedule linear
# one-cycle, clipping by value, L1 and --early-stop (the alias of --patience); the gradient norm in the SVG
"$groundup" train --data data/mnist --epochs 2 --hidden 16 --batch 256 --optimizer momentum --lr 0.05 \
    --schedule one-cycle --clip-value 0.1 --l1 1e-5 --validation 1000 --early-stop 1 --out "$tmp/c.safetensors" \
    > "$tmp/cycle" 2>&1 || fail "train --schedule one-cycle --clip-value --l1 --early-stop failed: $(cat "$tmp/cycle")"
grep -q "gradient norm" "$tmp/c.svg" || fail "the curves SVG has no gradient-norm panel"
expect_error "an unknown optimizer" "--optimizer: unknown optimizer" "$groundup" train --data data/mnist --optimizer lion
expect_error "clip by norm and by value" "contradict" "$groundup" train --data data/mnist --clip-norm 1 --clip-value 1
expect_error "a negative L1" "--l1" "$groundup" train --data data/mnist --l1 -1
expect_error "patience 0" "--early-stop" "$groundup" train --data data/mnist --validation 100 --early-stop 0
expect_error "a warmup with a constant rate" "--warmup" "$groundup" train --data data/mnist --warmup 5

# every successful run's figures are finite
finite_outputs "$tmp/out" "$tmp/train" "$tmp/eval" "$tmp/predict" "$tmp/resume" "$tmp/val" "$tmp/bn" "$tmp/xor" "$tmp/cycle"

# --- errors
mkdir -p "$tmp/broken"
cp data/mnist/t10k-* "$tmp/broken/"
gzip -dc data/mnist/train-images-idx3-ubyte.gz | head -c 5000 > "$tmp/broken/train-images-idx3-ubyte"
cp data/mnist/train-labels-idx1-ubyte.gz "$tmp/broken/"
expect_error "truncated images" "train-images" "$groundup" train --data "$tmp/broken" --epochs 1
mkdir -p "$tmp/empty"
expect_error "no IDX files" "empty" "$groundup" train --data "$tmp/empty" --epochs 1
expect_error "an unknown architecture" "unknown architecture" "$groundup" train --arch cnn --data data/mnist
expect_error "bad hidden sizes" "--hidden" "$groundup" train --data data/mnist --hidden 32,x
expect_error "patience without validation" "validation" "$groundup" train --data data/mnist --patience 2
printf 'P5\n4 4\n255\n0123456789abcdef' > "$tmp/small.pgm"
expect_error "an image of the wrong size" "4x4" "$groundup" predict --model "$tmp/m.safetensors" --image "$tmp/small.pgm"
expect_error "predict without a model" "cannot open\|No such" "$groundup" predict --model "$tmp/none" --image "$tmp/first.pgm"
expect_error "eval of a truncated model" "cut.safetensors" "$groundup" eval --model "$tmp/cut.safetensors" --data data/mnist

cli_finish
