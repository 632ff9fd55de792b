#!/usr/bin/env bash
# The generative models from the command line, on 150 training and 40 test images (seconds
# even under the sanitizers): vae train (checkpoint with its arch, sample, reconstruction,
# latent and manifold pictures), eval (the ELBO as distortion + rate, the importance-weighted
# bound), sample; gan train of both variants (a grid per epoch), sample; sample-score of
# samples, of a generator and of real images with a LeNet-5 trained here; and the one-line
# errors: a checkpoint of another model, a latent size that does not match, bad counts and
# options, a sample file that is not one.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

small=$tmp/small
mnist_small "$small" 150 40

# --- VAE: latent 2, two epochs
"$groundup" vae train --data "$small" --epochs 2 --hidden 32 --latent 2 --batch 25 --importance-samples 5 \
    --out "$tmp/vae.safetensors" > "$tmp/vae" 2> "$tmp/err" || { fail "vae train failed"; cat "$tmp/err" >&2; }
grep -q '^vae 784-32-2: ' "$tmp/err" || fail "vae: no description line: $(head -1 "$tmp/err")"
[ "$(grep -c '^epoch [12]: train -ELBO [0-9.]* nats' "$tmp/vae")" -eq 2 ] || fail "vae: not two epoch lines"
line=$(grep '^test ELBO' "$tmp/vae")
read -r elbo distortion rate <<< "$(sed -n 's/^test ELBO \(-[0-9.]*\) nats (distortion \([0-9.]*\) + rate \([0-9.]*\)) over 40 images$/\1 \2 \3/p' "$tmp/vae")"
[ -n "${rate:-}" ] || fail "vae: no test ELBO line: $line"
awk -v e="${elbo:-0}" -v d="${distortion:-0}" -v r="${rate:-0}" 'BEGIN { exit !(e < 0 && r > 0 && (e + d + r)^2 < 1e-5) }' ||
    fail "vae: ELBO $elbo is not -(distortion $distortion + rate $rate)"
grep -q '^test log p(x) >= -[0-9.]* nats (importance-weighted, k = 5)$' "$tmp/vae" || fail "vae: no importance-weighted line"
head -c 4096 "$tmp/vae.safetensors" | grep -aq '"arch":"vae"' || fail "the vae checkpoint does not record its arch"
for picture in samples.png reconstructions.png latent.svg manifold.png; do
    [ -s "$tmp/vae_$picture" ] || fail "vae train wrote no $picture"
done
[ "$(grep -c 'class="point" data-series="[0-9]"' "$tmp/vae_latent.svg")" -eq 40 ] || fail "the latent SVG has not 40 points"
"$groundup" vae eval --model "$tmp/vae.safetensors" --data "$small" --importance-samples 20 > "$tmp/eval" ||
    fail "vae eval failed"
grep -q '^test ELBO -[0-9.]* nats (distortion [0-9.]* + rate [0-9.]*) over 40 images$' "$tmp/eval" || fail "vae eval: no ELBO"
grep -q 'k = 20)$' "$tmp/eval" || fail "vae eval: no L_20"
"$groundup" vae sample --model "$tmp/vae.safetensors" --count 16 --latent 2 --out "$tmp/vs.png" --samples "$tmp/vs.safetensors" \
    > "$tmp/vsample" || fail "vae sample failed"
[ -s "$tmp/vs.png" ] && [ -s "$tmp/vs.safetensors" ] || fail "vae sample wrote no grid or samples"

# --- GAN: one epoch of each variant, a grid per epoch from the same latents
"$groundup" gan train --data "$small" --epochs 2 --width 16 --latent 8 --batch 25 --out "$tmp/gan.safetensors" \
    > "$tmp/gan" 2> "$tmp/err" || { fail "gan train failed"; cat "$tmp/err" >&2; }
grep -q '^gan mlp latent 8 width 16: generator [0-9]*, discriminator [0-9]* parameters, 150 training images' "$tmp/err" ||
    fail "gan: no description line: $(head -1 "$tmp/err")"
[ "$(grep -c '^epoch [12]: D loss [0-9.]*, G loss [0-9.]*, D(x) 0\.[0-9]*, D(G(z)) 0\.[0-9]*' "$tmp/gan")" -eq 2 ] ||
    fail "gan: not two epoch lines"
[ -s "$tmp/gan_epoch_01.png" ] && [ -s "$tmp/gan_epoch_02.png" ] || fail "gan: no grid per epoch"
head -c 4096 "$tmp/gan.safetensors" | grep -aq '"arch":"gan"' || fail "the gan checkpoint does not record its arch"
"$groundup" gan train --data "$small" --variant dcgan --epochs 1 --width 4 --latent 8 --batch 25 \
    --out "$tmp/dcgan.safetensors" > "$tmp/dcgan" 2> "$tmp/err" || { fail "gan train --variant dcgan failed"; cat "$tmp/err" >&2; }
head -c 4096 "$tmp/dcgan.safetensors" | grep -aq '"variant":"dcgan"' || fail "the dcgan checkpoint does not record its variant"
"$groundup" gan sample --model "$tmp/dcgan.safetensors" --count 10 --out "$tmp/gs.png" --samples "$tmp/gs.safetensors" \
    > /dev/null || fail "gan sample failed"
[ -s "$tmp/gs.png" ] && [ -s "$tmp/gs.safetensors" ] || fail "gan sample wrote no grid or samples"

# --- sample-score with a LeNet-5 trained on the 150 images
"$groundup" train --arch lenet5 --data "$small" --epochs 1 --out "$tmp/lenet5.safetensors" > /dev/null 2>&1 ||
    fail "train --arch lenet5 failed"
score='mean confidence 0\.[0-9]*, class-histogram entropy [0-9.]* bits (uniform over 10 classes: 3\.3219)$'
"$groundup" sample-score --classifier "$tmp/lenet5.safetensors" --images "$tmp/gs.safetensors" > "$tmp/score" ||
    fail "sample-score --images failed"
grep -q "gs.safetensors: 10 images, $score" "$tmp/score" || fail "sample-score --images: $(head -1 "$tmp/score")"
[ "$(grep '^predicted classes:' "$tmp/score" | tr ' ' '\n' | grep -c '^[0-9]*$')" -eq 10 ] || fail "sample-score: no 10 class counts"
total=$(grep '^predicted classes:' "$tmp/score" | tr ' ' '\n' | grep '^[0-9]*$' | awk '{ s += $1 } END { print s }')
[ "$total" = 10 ] || fail "sample-score: the class counts add to $total, not 10"
"$groundup" sample-score --classifier "$tmp/lenet5.safetensors" --model "$tmp/vae.safetensors" --count 30 | grep -q "30 images, $score" ||
    fail "sample-score --model (vae)"
"$groundup" sample-score --classifier "$tmp/lenet5.safetensors" --model "$tmp/gan.safetensors" --count 30 | grep -q "30 images, $score" ||
    fail "sample-score --model (gan)"
"$groundup" sample-score --classifier "$tmp/lenet5.safetensors" --data "$small" | grep -q "40 images, $score" ||
    fail "sample-score --data"
finite_outputs "$tmp/vae" "$tmp/eval" "$tmp/gan" "$tmp/dcgan" "$tmp/score"

# --- one-line errors
expect_error "a gan checkpoint for vae eval" "gan.safetensors: a gan checkpoint, not vae" \
    "$groundup" vae eval --model "$tmp/gan.safetensors" --data "$small"
expect_error "a vae checkpoint for gan sample" "vae.safetensors: a vae checkpoint, not gan" \
    "$groundup" gan sample --model "$tmp/vae.safetensors" --out "$tmp/x.png"
expect_error "a lenet5 checkpoint for vae sample" "a lenet5 checkpoint, not vae" \
    "$groundup" vae sample --model "$tmp/lenet5.safetensors" --out "$tmp/x.png"
expect_error "a latent size that does not match (vae)" "a vae with latent size 2, not 20" \
    "$groundup" vae sample --model "$tmp/vae.safetensors" --latent 20 --out "$tmp/x.png"
expect_error "a latent size that does not match (gan)" "a gan with latent size 8, not 64" \
    "$groundup" gan sample --model "$tmp/gan.safetensors" --latent 64 --out "$tmp/x.png"
expect_error "a count of 0" "--count 0: a count from 1 to 100000" \
    "$groundup" vae sample --model "$tmp/vae.safetensors" --count 0 --out "$tmp/x.png"
expect_error "a negative count" "--count -3" "$groundup" gan sample --model "$tmp/gan.safetensors" --count -3
expect_error "a count of 0 for sample-score" "--count 0" \
    "$groundup" sample-score --classifier "$tmp/lenet5.safetensors" --model "$tmp/gan.safetensors" --count 0
expect_error "a vae as the classifier" "vae.safetensors: unknown architecture \"vae\"" \
    "$groundup" sample-score --classifier "$tmp/vae.safetensors" --data "$small"
expect_error "two sources" "one of --model, --images and --data" \
    "$groundup" sample-score --classifier "$tmp/lenet5.safetensors" --data "$small" --images "$tmp/gs.safetensors"
expect_error "a checkpoint as a sample file" "no float tensor \"images\"" \
    "$groundup" sample-score --classifier "$tmp/lenet5.safetensors" --images "$tmp/gan.safetensors"
head -c 100 "$tmp/gs.safetensors" > "$tmp/truncated.safetensors"
expect_error "a truncated sample file" "truncated.safetensors" \
    "$groundup" sample-score --classifier "$tmp/lenet5.safetensors" --images "$tmp/truncated.safetensors"
expect_error "an unknown gan variant" "unknown gan variant \"wgan\"" "$groundup" gan train --data "$small" --variant wgan
expect_error "an unknown vae sub-command" "unknown sub-command 'fit'" "$groundup" vae fit
expect_error "vae train without data" "--data DIR is required" "$groundup" vae train
expect_error "zero epochs" "--epochs 1..1000" "$groundup" vae train --data "$small" --epochs 0
expect_error "latent 0" "--latent 1..4096" "$groundup" vae train --data "$small" --latent 0
expect_error "a missing checkpoint" "missing.safetensors" "$groundup" vae eval --model "$tmp/missing.safetensors" --data "$small"
expect_error "an unwritable grid" "cannot" \
    "$groundup" vae sample --model "$tmp/vae.safetensors" --out "$tmp/no/such/dir/x.png"
"$groundup" vae --help | grep -q '^usage: groundup vae train|eval|sample' || fail "vae --help"
"$groundup" gan train --help | grep -q -- '--variant' || fail "gan train --help"

cli_finish
