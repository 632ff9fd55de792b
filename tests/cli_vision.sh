#!/usr/bin/env bash
# AlexNet and U-Net from the command line: verify --arch alexnet against its PyTorch fixture; a
# tiny train / eval / predict of each (small widths, a few hundred images, one epoch: seconds
# even under the sanitizers); U-Net's IoU and Dice, its masks and example grid, a resumed epoch;
# the one-line errors: images of a wrong size, a checkpoint of another architecture, bad options.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

# --- AlexNet against PyTorch (dropout 0 in the fixture; evaluation mode after the steps)
fixture=tests/fixtures/alexnet
"$groundup" verify --arch alexnet --model $fixture/PARAMS.safetensors --state $fixture/STATE.safetensors \
    > "$tmp/verify" 2> "$tmp/err" || { fail "verify --arch alexnet failed"; cat "$tmp/verify" "$tmp/err" >&2; }
grep -q '^OK: the alexnet matches the reference' "$tmp/verify" || fail "alexnet verify: no OK line"
[ "$(awk '$1 == "grad" && $NF == "ok"' "$tmp/verify" | wc -l)" -eq 16 ] || fail "alexnet verify: not 16 gradients ok"
[ "$(grep -c '^step [0-9]* loss .* reference ' "$tmp/verify")" -eq 10 ] || fail "alexnet verify: not 10 step losses"

# --- the first 150 training and 40 test images of data/mnist as IDX files
small=$tmp/small
mnist_small "$small" 150 40
{ printf 'P5\n28 28\n255\n'; gzip -dc data/mnist/t10k-images-idx3-ubyte.gz | tail -c +17 | head -c 784; } > "$tmp/first.pgm"

# --- AlexNet: one epoch at small widths, eval agrees with train, predict, the metadata
"$groundup" train --arch alexnet --data "$small" --epochs 1 --sizes 4-8-8-8-8-16-16 --batch 16 --lr 3e-3 \
    --out "$tmp/alexnet.safetensors" > "$tmp/alexnet" 2> "$tmp/err" || { fail "train --arch alexnet failed"; cat "$tmp/err" >&2; }
grep -q '^alexnet 4-8-8-8-8-16-16 dropout 0.5: ' "$tmp/err" || fail "alexnet: no description line: $(head -1 "$tmp/err")"
accuracy=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/alexnet")
[ -n "$accuracy" ] || fail "alexnet: no test accuracy"
head -c 4096 "$tmp/alexnet.safetensors" | grep -aq '"arch":"alexnet"' || fail "the alexnet checkpoint does not record its arch"
head -c 4096 "$tmp/alexnet.safetensors" | grep -aq '"dropout":"0.5"' || fail "the alexnet checkpoint does not record its dropout"
"$groundup" eval --model "$tmp/alexnet.safetensors" --data "$small" | grep -q "^test accuracy ${accuracy:-x}%" ||
    fail "alexnet eval differs from train's ${accuracy:-none}%"
"$groundup" predict --model "$tmp/alexnet.safetensors" --image "$tmp/first.pgm" > "$tmp/predict" || fail "alexnet predict failed"
grep -q '^predicted [0-9]$' "$tmp/predict" || fail "alexnet predict printed no prediction"

# --- U-Net: one epoch on 40 images at width 4 (that it learns the task is tests/test_unet.c's; this
# one may still predict no foreground), eval agrees, predict writes a mask, resume
"$groundup" train --arch unet --data "$small" --train-images 40 --epochs 1 --width 4 --batch 8 --lr 5e-3 \
    --out "$tmp/unet.safetensors" \
    > "$tmp/unet" 2> "$tmp/err" || { fail "train --arch unet failed"; cat "$tmp/err" >&2; }
grep -q '^unet width 4 levels 2: 7397 parameters, 40 training / 40 test images' "$tmp/err" || fail "unet: no description line"
iou=$(sed -n 's/^test IoU \([0-9.]*\), Dice \([0-9.]*\) .*/\1 \2/p' "$tmp/unet")
[ -n "$iou" ] || fail "unet: no test IoU and Dice"
awk -v i="${iou% *}" -v d="${iou#* }" 'BEGIN { exit !(i >= 0 && d >= i && d <= 1 && (i == 0 || (2 * i / (1 + i) - d)^2 < 1e-8)) }' || fail "unet: IoU, Dice $iou"
head -c 4096 "$tmp/unet.safetensors" | grep -aq '"arch":"unet"' || fail "the unet checkpoint does not record its arch"
"$groundup" eval --model "$tmp/unet.safetensors" --data "$small" --examples "$tmp/examples.pgm" > "$tmp/eval" ||
    fail "unet eval failed"
grep -q "^test IoU ${iou% *}, Dice ${iou#* } (pooled over 40 images)" "$tmp/eval" || fail "unet eval differs from train's: $(head -1 "$tmp/eval")"
[ "$(head -c 14 "$tmp/examples.pgm" | tr '\n' ' ')" = "P5 238 88 255 " ] || fail "the example grid is not a 238x88 PGM"
"$groundup" predict --model "$tmp/unet.safetensors" --image "$tmp/first.pgm" --out "$tmp/mask.pgm" > "$tmp/predict" ||
    fail "unet predict failed"
grep -q '^foreground [0-9]* of 784 pixels' "$tmp/predict" || fail "unet predict: $(head -1 "$tmp/predict")"
[ "$(head -c 13 "$tmp/mask.pgm" | tr '\n' ' ')" = "P5 28 28 255 " ] || fail "the mask is not a 28x28 PGM"
[ "$(stat -c %s "$tmp/mask.pgm")" -eq $((13 + 784)) ] || fail "the mask has $(stat -c %s "$tmp/mask.pgm") bytes"
"$groundup" train --data "$small" --train-images 40 --epochs 2 --batch 8 --lr 5e-3 --resume "$tmp/unet.safetensors" \
    --out "$tmp/unet2.safetensors" > "$tmp/resume" 2> "$tmp/err" || { fail "unet resume failed"; cat "$tmp/err" >&2; }
grep -q '^epoch 2:' "$tmp/resume" && ! grep -q '^epoch 1:' "$tmp/resume" || fail "unet resume did not run epoch 2 alone"
finite_outputs "$tmp/verify" "$tmp/alexnet" "$tmp/unet" "$tmp/eval" "$tmp/predict" "$tmp/resume"

# --- errors
printf 'P5\n30 30\n255\n' > "$tmp/odd.pgm"; head -c 900 /dev/zero >> "$tmp/odd.pgm"
expect_error "a 30x30 image for the unet" "odd.pgm: a 30x30 image with 1 channel(s); the unet takes 1 channel(s) and sides that are multiples of 4" \
    "$groundup" predict --model "$tmp/unet.safetensors" --image "$tmp/odd.pgm" --out "$tmp/x.pgm"
[ ! -e "$tmp/x.pgm" ] || fail "a failed predict wrote a mask"
expect_error "a 30x30 image for alexnet" "the alexnet takes 28x28 with 1" \
    "$groundup" predict --model "$tmp/alexnet.safetensors" --image "$tmp/odd.pgm"
blank_mnist "$tmp/odd" 30
expect_error "30x30 images for the unet" "a 30x30 image with 1 channel(s); the unet takes" \
    "$groundup" eval --model "$tmp/unet.safetensors" --data "$tmp/odd"
expect_error "training a unet on 30x30 images" "a 30x30 image" \
    "$groundup" train --arch unet --data "$tmp/odd" --out "$tmp/x.safetensors"
expect_error "resuming a lenet5 as unet" "PARAMS.safetensors: a lenet5 checkpoint, not unet" \
    "$groundup" train --arch unet --data "$small" --resume tests/fixtures/lenet5/PARAMS.safetensors --out "$tmp/x.safetensors"
expect_error "resuming a unet as lenet5" "unet.safetensors: a unet checkpoint, not lenet5" \
    "$groundup" train --arch lenet5 --data "$small" --resume "$tmp/unet.safetensors" --out "$tmp/x.safetensors"
expect_error "resuming an alexnet as lenet5" "an alexnet checkpoint, not lenet5" \
    "$groundup" train --arch lenet5 --data "$small" --resume "$tmp/alexnet.safetensors" --out "$tmp/x.safetensors"
expect_error "verifying a unet as lenet5" "a unet checkpoint (segmentation), not an image classifier" \
    "$groundup" verify --arch lenet5 --model "$tmp/unet.safetensors" --state tests/fixtures/lenet5/STATE.safetensors
expect_error "predict without --out" "--out are required" "$groundup" predict --model "$tmp/unet.safetensors" --image "$tmp/first.pgm"
expect_error "five unet levels" "levels" "$groundup" train --arch unet --data "$small" --levels 5 --out "$tmp/x.safetensors"
expect_error "a negative noise" "noise" "$groundup" train --arch unet --data "$small" --noise -1 --out "$tmp/x.safetensors"
expect_error "a unet width of 0" "width" "$groundup" train --arch unet --data "$small" --width 0 --out "$tmp/x.safetensors"
expect_error "four alexnet sizes" "seven sizes" "$groundup" train --arch alexnet --data "$small" --sizes 6-16-120-84
expect_error "an alexnet dropout of 1" "dropout" "$groundup" train --arch alexnet --data "$small" --dropout 1
[ ! -e "$tmp/x.safetensors" ] || fail "a failed train wrote a checkpoint"

cli_finish
