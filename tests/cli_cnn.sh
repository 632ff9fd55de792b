#!/usr/bin/env bash
# The convolutional classifiers from the command line: verify --arch lenet5|resnet against the
# PyTorch fixtures (tests/fixtures/lenet5, lenet5_original, resnet; tools/reference/cnn_reference.py),
# a tiny train / eval / predict / resume of each on 2,000 of the bundled MNIST images (small
# widths: seconds even under the sanitizers), and the one-line errors: a checkpoint of another
# architecture, images of the wrong size or channel count, bad sizes.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

# --- verify: the values printed, checked here against the stated tolerances
# at_most FILE PATTERN FIELD LIMIT: each line matching PATTERN has a number <= LIMIT in FIELD
# (counted from the end when negative); prints how many lines do.
at_most() {
    awk -v pattern="$2" -v field="$3" -v limit="$4" '
        $0 ~ pattern { v = field < 0 ? $(NF + field) : $field
                       if (v ~ /^[0-9.]+(e[-+]?[0-9]+)?,?$/ && v + 0 <= limit) n++ }
        END { print n + 0 }' "$1"
}
verify_fixture() {  # ARCH FIXTURE STEPS GRADS BUFFERS
    local arch=$1 fixture=tests/fixtures/$2 steps=$3 grads=$4 buffers=$5 out=$tmp/verify.$2
    if ! "$groundup" verify --arch "$arch" --model "$fixture/PARAMS.safetensors" --state "$fixture/STATE.safetensors" \
            --steps "$steps" --lr 1e-3 > "$out" 2> "$tmp/err"; then
        fail "verify --arch $arch on $fixture failed"; cat "$out" "$tmp/err" >&2
    fi
    # logits: max |difference| D (tolerance ...)
    [ "$(at_most "$out" '^logits:' 4 1e-4)" -eq 1 ] || fail "$2: logits differ by more than 1e-4"
    # loss: L, reference R, relative difference D (tolerance ...)
    [ "$(at_most "$out" '^loss:' 7 1e-5)" -eq 1 ] || fail "$2: loss differs by more than 1e-5 (relative)"
    # grad NAME max |difference| D, relative to its largest Q (tolerance ...) ok
    [ "$(at_most "$out" '^grad ' -3 1e-3)" -eq "$grads" ] || fail "$2: not $grads gradients within 1e-3"
    [ "$(grep -c '^grad ' "$out")" -eq "$grads" ] || fail "$2: not $grads gradient lines"
    [ "$(grep -c '^step [0-9]* loss .* reference ' "$out")" -eq "$steps" ] || fail "$2: not $steps step losses"
    # steps: largest relative difference D (tolerance ...)
    [ "$(at_most "$out" '^steps:' 5 1e-5)" -eq 1 ] || fail "$2: step losses differ by more than 1e-5"
    # after the steps NAME max |difference| D, relative to its largest Q (tolerance ...) ok
    [ "$(at_most "$out" '^after the steps' -3 1e-5)" -eq "$buffers" ] || fail "$2: not $buffers running statistics within 1e-5"
    [ "$(grep -c '^after the steps' "$out")" -eq "$buffers" ] || fail "$2: not $buffers running statistics"
    # evaluation-mode logits after the steps: max |difference| D (tolerance ...)
    [ "$(at_most "$out" '^evaluation-mode logits' 8 1e-4)" -eq 1 ] || fail "$2: evaluation logits differ by more than 1e-4"
    grep -q "^OK: the $arch matches the reference" "$out" || fail "$2: no OK line"
}
verify_fixture lenet5 lenet5 10 10 0
verify_fixture lenet5 lenet5_original 5 10 0
verify_fixture resnet resnet 10 35 33
expect_error "a resnet verified as lenet5" "a resnet checkpoint, not lenet5" "$groundup" verify --arch lenet5 \
    --model tests/fixtures/resnet/PARAMS.safetensors --state tests/fixtures/resnet/STATE.safetensors
expect_error "an unknown architecture" "unknown architecture" "$groundup" verify --arch vgg16 \
    --model tests/fixtures/resnet/PARAMS.safetensors --state tests/fixtures/resnet/STATE.safetensors
expect_error "another lenet5's state" "expected" "$groundup" verify --arch lenet5 \
    --model tests/fixtures/lenet5_original/PARAMS.safetensors --state tests/fixtures/lenet5/STATE.safetensors

# --- train, eval, predict, resume on the first 1,000 training and 500 test images
small=$tmp/small
mkdir -p "$small"
subset() {  # SPLIT COUNT (< 65536): the first COUNT images and labels of data/mnist's split
    local n=$2 hi lo
    hi=$(printf '\\x%02x' $((n >> 8))) lo=$(printf '\\x%02x' $((n & 255)))
    { printf "\x00\x00\x08\x03\x00\x00$hi$lo\x00\x00\x00\x1c\x00\x00\x00\x1c"
      gzip -dc "data/mnist/$1-images-idx3-ubyte.gz" | tail -c +17 | head -c $((n * 784)); } > "$small/$1-images-idx3-ubyte"
    { printf "\x00\x00\x08\x01\x00\x00$hi$lo"
      gzip -dc "data/mnist/$1-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$n"; } > "$small/$1-labels-idx1-ubyte"
}
subset train 1000
subset t10k 500

# LeNet-5 (small widths): one epoch, eval agrees, a second epoch resumed, predict
"$groundup" train --arch lenet5 --data "$small" --epochs 1 --sizes 4-8-32-16 --batch 16 --lr 3e-3 \
    --out "$tmp/lenet5.safetensors" > "$tmp/train" 2> "$tmp/err" || { fail "train --arch lenet5 failed"; cat "$tmp/err" >&2; }
accuracy=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/train")
awk -v a="${accuracy:-0}" 'BEGIN { exit !(a > 25) }' || fail "lenet5, one epoch: test accuracy ${accuracy:-none}% (expected > 25%)"
grep -q '^lenet5 4-8-32-16 relu-max: 8042 parameters' "$tmp/err" || fail "lenet5: no description line with the parameter count"
head -c 4096 "$tmp/lenet5.safetensors" | grep -aq '"arch":"lenet5"' || fail "the lenet5 checkpoint does not record its arch"
"$groundup" eval --model "$tmp/lenet5.safetensors" --data "$small" > "$tmp/eval" || fail "eval of the lenet5 failed"
grep -q "^test accuracy ${accuracy}%" "$tmp/eval" || fail "lenet5 eval differs from train's ${accuracy}%: $(head -1 "$tmp/eval")"

"$groundup" train --data "$small" --epochs 2 --batch 16 --lr 3e-3 --out "$tmp/lenet5.safetensors" \
    --resume "$tmp/lenet5.safetensors" > "$tmp/resume" 2> "$tmp/err" || { fail "lenet5 resume failed"; cat "$tmp/err" >&2; }
grep -q '^epoch 2:' "$tmp/resume" && ! grep -q '^epoch 1:' "$tmp/resume" || fail "lenet5 resume did not run epoch 2 alone"
grep -q '^lenet5 4-8-32-16 relu-max' "$tmp/err" || fail "resume did not take the checkpoint's architecture and sizes"
resumed=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/resume")
awk -v a="${resumed:-0}" -v b="${accuracy:-0}" 'BEGIN { exit !(a > b) }' || fail "the second epoch did not help: $resumed% after $accuracy%"

label=$(gzip -dc data/mnist/t10k-labels-idx1-ubyte.gz | od -An -tu1 -j8 -N1 | tr -d ' ')
{ printf 'P5\n28 28\n255\n'; gzip -dc data/mnist/t10k-images-idx3-ubyte.gz | tail -c +17 | head -c 784; } > "$tmp/first.pgm"
"$groundup" predict --model "$tmp/lenet5.safetensors" --image "$tmp/first.pgm" > "$tmp/predict" || fail "lenet5 predict failed"
grep -q "^predicted $label\$" "$tmp/predict" || fail "lenet5 predict: $(tail -1 "$tmp/predict") (the label is $label)"
awk '/^class/ { s += $3 } END { exit !(s > 0.999 && s < 1.001) }' "$tmp/predict" || fail "probabilities do not sum to 1"

# the original's variant (tanh, average pooling) is recorded in the checkpoint: eval agrees
"$groundup" train --arch lenet5 --original --data "$small" --epochs 1 --sizes 4-8-32-16 --batch 16 --lr 3e-3 \
    --out "$tmp/original.safetensors" > "$tmp/original" 2> "$tmp/err" || fail "train --arch lenet5 --original failed"
grep -q '^lenet5 4-8-32-16 tanh-avg:' "$tmp/err" || fail "--original: no tanh-avg description"
head -c 4096 "$tmp/original.safetensors" | grep -aq '"variant":"tanh-avg"' || fail "the checkpoint does not record tanh-avg"
original=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/original")
"$groundup" eval --model "$tmp/original.safetensors" --data "$small" | grep -q "^test accuracy ${original:-x}%" ||
    fail "eval of the tanh-avg lenet5 differs from train's ${original:-none}%"

# ResNet (width 4, one block per stage, a downsample): two epochs lower the loss; eval uses the
# running statistics as train's test evaluation did. (Its match with PyTorch is verify's above.)
"$groundup" train --arch resnet --data "$small" --epochs 2 --width 4 --blocks 1-1 --batch 16 --lr 1e-2 \
    --out "$tmp/resnet.safetensors" > "$tmp/resnet" 2> "$tmp/err" || { fail "train --arch resnet failed"; cat "$tmp/err" >&2; }
awk '/^epoch 1:/ { first = $5 + 0 } /^epoch 2:/ { second = $5 + 0 } END { exit !(second > 0 && second < first - 0.05) }' \
    "$tmp/resnet" || fail "resnet: the training loss did not fall: $(grep '^epoch' "$tmp/resnet" | tr '\n' ' ')"
resnet_accuracy=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/resnet")
grep -q '^resnet width 4 blocks 1-1:' "$tmp/err" || fail "resnet: no description line"
head -c 8192 "$tmp/resnet.safetensors" | grep -aq '"arch":"resnet"' || fail "the resnet checkpoint does not record its arch"
"$groundup" eval --model "$tmp/resnet.safetensors" --data "$small" | grep -q "^test accuracy ${resnet_accuracy:-x}%" ||
    fail "resnet eval differs from train's ${resnet_accuracy:-none}%"
"$groundup" predict --model "$tmp/resnet.safetensors" --image "$tmp/first.pgm" | grep -q '^predicted [0-9]$' ||
    fail "resnet predict printed no prediction"
finite_outputs "$tmp/train" "$tmp/eval" "$tmp/predict" "$tmp/resume" "$tmp/resnet" "$tmp"/verify.*

# --- errors
# An image-only architecture takes the image parser even without --data (its help and its error).
"$groundup" train --arch lenet5 --help 2>&1 | grep -q '^usage: groundup train --arch mlp|lenet5' ||
    fail "train --arch lenet5 --help shows the text models' usage"
expect_error "lenet5 without --data" "--data DIR is required" "$groundup" train --arch resnet
expect_error "resuming a resnet as lenet5" "a resnet checkpoint, not lenet5" \
    "$groundup" train --arch lenet5 --data data/mnist --epochs 2 --resume "$tmp/resnet.safetensors" --out "$tmp/x.safetensors"
printf 'P5\n4 4\n255\n0123456789abcdef' > "$tmp/small.pgm"
expect_error "a 4x4 image for lenet5" "small.pgm: a 4x4 image with 1 channel(s); the lenet5 takes 28x28 with 1" \
    "$groundup" predict --model "$tmp/lenet5.safetensors" --image "$tmp/small.pgm"
{ printf 'P6\n28 28\n255\n'; head -c 2352 /dev/zero; } > "$tmp/colour.ppm"
expect_error "an RGB image for resnet" "colour.ppm: a 28x28 image with 3 channel(s); the resnet takes 1 channel" \
    "$groundup" predict --model "$tmp/resnet.safetensors" --image "$tmp/colour.ppm"
blank_mnist "$tmp/big" 32
expect_error "32x32 images for lenet5" "a 32x32 image with 1 channel(s); the lenet5 takes 28x28" \
    "$groundup" eval --model "$tmp/lenet5.safetensors" --data "$tmp/big"
expect_error "resuming a 28x28 lenet5 on 32x32 images" "32x32" \
    "$groundup" train --data "$tmp/big" --epochs 2 --resume "$tmp/lenet5.safetensors" --out "$tmp/x.safetensors"
expect_error "three lenet5 sizes" "--sizes" "$groundup" train --arch lenet5 --data data/mnist --sizes 6-16-120
expect_error "a zero lenet5 size" "--sizes" "$groundup" train --arch lenet5 --data data/mnist --sizes 6-0-120-84
expect_error "bad resnet blocks" "--blocks" "$groundup" train --arch resnet --data data/mnist --blocks 2-x
expect_error "too many resnet stages" "stages\|--blocks" "$groundup" train --arch resnet --data data/mnist --blocks 1-1-1-1-1-1-1
expect_error "a resnet width of 0" "width" "$groundup" train --arch resnet --data data/mnist --width 0
expect_error "an unknown architecture" "unknown architecture \"vgg16\"" "$groundup" train --arch vgg16 --data data/mnist
head -c 3000 "$tmp/lenet5.safetensors" > "$tmp/cut.safetensors"
expect_error "a truncated checkpoint" "cut.safetensors" "$groundup" eval --model "$tmp/cut.safetensors" --data data/mnist

cli_finish
