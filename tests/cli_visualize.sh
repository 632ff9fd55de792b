#!/usr/bin/env bash
# groundup visualize on the PyTorch fixtures' LeNet-5, ResNet and AlexNet (tests/fixtures/lenet5, resnet, alexnet):
# every file it says it wrote exists and is a PNG (signature, IHDR size as printed, IEND at the
# end), one feature-map picture per convolution layer, the prediction printed; an image given
# as a PGM; and the one-line errors: a model without convolutions, a missing file,
# an image of the wrong size, a bad index, --image with --index.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

# png_ok FILE WIDTH HEIGHT: a PNG signature, an IHDR of that size, the IEND chunk last.
png_ok() {
    local file=$1
    [ -s "$file" ] || { fail "$file not written"; return; }
    [ "$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$file: no PNG signature"
    [ "$(head -c 16 "$file" | tail -c 4)" = "IHDR" ] || fail "$file: no IHDR first"
    local size
    size=$(head -c 24 "$file" | tail -c 8 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 "x" $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }')
    [ "$size" = "$2x$3" ] || fail "$file: IHDR says $size, the command said $2x$3"
    [ "$(tail -c 8 "$file" | head -c 4)" = "IEND" ] || fail "$file: does not end with IEND"
}

# check_written OUTPUT: every "wrote PATH: ... (WxH pixels)" line's file is a valid PNG of that size.
check_written() {
    local line path size n=0
    while IFS= read -r line; do
        path=${line#wrote }; path=${path%%: *}
        size=$(printf '%s' "$line" | sed -n 's/.*(\([0-9]*\)x\([0-9]*\) pixels)$/\1 \2/p')
        png_ok "$path" $size
        n=$((n + 1))
    done < <(grep '^wrote ' "$1")
    echo "$n"
}

# LeNet-5 on image 0 of the bundled test split: filters, conv1, conv2, saliency.
if ! "$groundup" visualize --model tests/fixtures/lenet5/PARAMS.safetensors --index 0 --out "$tmp/lenet5" \
        > "$tmp/out" 2> "$tmp/err"; then
    fail "visualize lenet5 failed"; cat "$tmp/err" >&2
fi
[ "$(check_written "$tmp/out")" -eq 4 ] || fail "lenet5: not 4 pictures: $(cat "$tmp/out")"
for f in filters features_conv1 features_conv2 saliency; do [ -f "$tmp/lenet5/$f.png" ] || fail "lenet5: no $f.png"; done
grep -q '^wrote .*/filters.png: [0-9]* filters 5x5 of conv1' "$tmp/out" || fail "lenet5: the filters line: $(cat "$tmp/out")"
grep -q '^predicted [0-9] (logit .*, probability .*), label [0-9]$' "$tmp/out" || fail "lenet5: no prediction line"

# ResNet on a 28×28 PGM: one picture per convolution, downsampling ones included.
{ printf 'P5\n28 28\n255\n'; head -c 784 /dev/zero | tr '\0' '\100'; } > "$tmp/grey.pgm"
if ! "$groundup" visualize --model tests/fixtures/resnet/PARAMS.safetensors --image "$tmp/grey.pgm" --out "$tmp/resnet" \
        > "$tmp/out" 2> "$tmp/err"; then
    fail "visualize resnet failed"; cat "$tmp/err" >&2
fi
convs=$(grep -c '^wrote .*/features_' "$tmp/out")
written=$(check_written "$tmp/out")
[ "$written" -eq $((convs + 2)) ] && [ "$convs" -ge 5 ] || fail "resnet: $written pictures for $convs convolutions"
grep -q 'features_layer2.0.downsample.0.png' "$tmp/out" || fail "resnet: no downsample feature maps"
grep -q '^predicted [0-9] (logit' "$tmp/out" || fail "resnet: no prediction line"
grep -q 'label' "$tmp/out" && fail "resnet: a label printed for an image file"

# AlexNet (tests/fixtures/alexnet): its five convolutions under torchvision's names features.N.
if "$groundup" visualize --model tests/fixtures/alexnet/PARAMS.safetensors --index 1 --out "$tmp/alexnet" \
        > "$tmp/out" 2> "$tmp/err"; then
    [ "$(check_written "$tmp/out")" -eq 7 ] || fail "alexnet: not 7 pictures: $(cat "$tmp/out")"
    grep -q '^wrote .*/filters.png: [0-9]* filters [0-9]*x[0-9]* of features.0,' "$tmp/out" || fail "alexnet: the filters line"
    [ "$(grep -c '^wrote .*/features_features\.[0-9]*\.png' "$tmp/out")" -eq 5 ] || fail "alexnet: not 5 feature-map pictures"
else
    fail "visualize alexnet failed: $(cat "$tmp/err")"
fi

# A PNG as input is read (the saliency picture just written), and its size (340x114) refused.
expect_error "an image of the wrong size" "28" "$groundup" visualize --model tests/fixtures/lenet5/PARAMS.safetensors \
    --image "$tmp/lenet5/saliency.png" --out "$tmp/x"
expect_error "a model without convolutions" "no convolution" "$groundup" visualize \
    --model tests/fixtures/mlp/PARAMS.safetensors --index 0 --out "$tmp/x"
expect_error "a missing model" "$tmp/none.safetensors" "$groundup" visualize --model "$tmp/none.safetensors" --out "$tmp/x"
expect_error "a missing image" "$tmp/none.png" "$groundup" visualize --model tests/fixtures/lenet5/PARAMS.safetensors \
    --image "$tmp/none.png" --out "$tmp/x"
expect_error "an index past the test split" "--index" "$groundup" visualize --model tests/fixtures/lenet5/PARAMS.safetensors \
    --index 99999999 --out "$tmp/x"
expect_error "--image and --index" "not both" "$groundup" visualize --model tests/fixtures/lenet5/PARAMS.safetensors \
    --image "$tmp/grey.pgm" --index 3
expect_error "no --model" "--model" "$groundup" visualize --index 0
[ -e "$tmp/x" ] && fail "a failed run created its output directory"
"$groundup" visualize --help | grep -q -- '--image' || fail "visualize --help does not list --image"

cli_finish
