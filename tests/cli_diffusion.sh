#!/usr/bin/env bash
# groundup diffusion from the command line on 100 training and 40 test images, a tiny U-Net
# and T = 20 (seconds even under the sanitizers): train (checkpoint with its arch, sample grid,
# chain, the LeNet-5 score of samples and real images, a run record), sample with both
# samplers; and the one-line errors: sampling steps 0 or above T, steps other than T for the
# ancestral sampler, an unknown sampler, another model's checkpoint, missing data, a missing
# classifier.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

small=$tmp/small
mnist_small "$small" 100 40
"$groundup" train --arch lenet5 --data "$small" --epochs 1 --out "$tmp/lenet5.safetensors" > /dev/null 2>&1 ||
    fail "train --arch lenet5 failed"

tiny=(--width 4 --time-channels 8 --diffusion-steps 20 --batch 8)
"$groundup" diffusion train --data "$small" "${tiny[@]}" --steps 6 --count 12 --sampling-steps 5 \
    --classifier "$tmp/lenet5.safetensors" --out "$tmp/ddpm.safetensors" > "$tmp/train" 2> "$tmp/err" ||
    { fail "diffusion train failed"; cat "$tmp/err" >&2; }
grep -q '^ddpm: unet width 4, 2 levels, time embedding 8; [0-9]* parameters; T = 20, beta 0.0001..0.02; 100 training images' "$tmp/err" ||
    fail "diffusion train: no description line: $(head -1 "$tmp/err")"
grep -q '^training: 6 steps of 8 images in [0-9.]* s ([0-9.]* CPU s); loss [0-9.]* over the first steps, [0-9.]* over the last$' "$tmp/train" ||
    fail "diffusion train: no training line: $(head -1 "$tmp/train")"
grep -q '^sampling (ddim, 5 steps, eta 0): 12 images in [0-9.]* s' "$tmp/train" || fail "diffusion train: no sampling line"
score='mean confidence 0\.[0-9]*, class-histogram entropy [0-9.]* bits (uniform over 10 classes: 3\.3219)$'
grep -q "^samples: 12 images, $score" "$tmp/train" || fail "diffusion train: no sample score"
grep -q "^real test images: 12 images, $score" "$tmp/train" || fail "diffusion train: no score of real images"
head -c 4096 "$tmp/ddpm.safetensors" | grep -aq '"arch":"ddpm"' || fail "the ddpm checkpoint does not record its arch"
head -c 4096 "$tmp/ddpm.safetensors" | grep -aq '"time_embed.0.weight"' || fail "the checkpoint has no time_embed.0.weight"
[ -s "$tmp/ddpm_samples.png" ] && [ -s "$tmp/ddpm_chain.png" ] || fail "diffusion train wrote no grid or chain"
grep -q '"model":[[:space:]]*"DDPM"' "$tmp/runs/ddpm.json" 2>/dev/null || fail "diffusion train left no run record"
grep -q '"metric":[[:space:]]*"LeNet-5 mean confidence of samples"' "$tmp/runs/ddpm.json" 2>/dev/null || fail "the run record's metric"

"$groundup" diffusion sample --model "$tmp/ddpm.safetensors" --sampler ddpm --count 5 --out "$tmp/a.png" \
    --chain "$tmp/chain.png" --samples "$tmp/a.safetensors" > "$tmp/sample" || fail "diffusion sample --sampler ddpm failed"
grep -q '^sampling (ddpm, 20 steps): 5 images in' "$tmp/sample" || fail "diffusion sample ddpm: $(head -1 "$tmp/sample")"
[ -s "$tmp/a.png" ] && [ -s "$tmp/chain.png" ] && [ -s "$tmp/a.safetensors" ] || fail "diffusion sample wrote no grid, chain or samples"
"$groundup" sample-score --classifier "$tmp/lenet5.safetensors" --images "$tmp/a.safetensors" | grep -q "5 images, $score" ||
    fail "sample-score of diffusion samples"
"$groundup" diffusion sample --model "$tmp/ddpm.safetensors" --sampling-steps 3 --eta 1 --count 4 --out "$tmp/b.png" \
    --classifier "$tmp/lenet5.safetensors" --data "$small" > "$tmp/sample2" || fail "diffusion sample --eta 1 failed"
grep -q '^sampling (ddim, 3 steps, eta 1): 4 images' "$tmp/sample2" || fail "diffusion sample ddim: $(head -1 "$tmp/sample2")"
grep -q "^real test images: 4 images, $score" "$tmp/sample2" || fail "diffusion sample: no score of real images"
finite_outputs "$tmp/train" "$tmp/sample" "$tmp/sample2"

# --- one-line errors
"$groundup" vae train --data "$small" --epochs 1 --hidden 8 --latent 2 --out "$tmp/vae.safetensors" > /dev/null 2>&1 ||
    fail "vae train failed"
expect_error "sampling steps 0" "--sampling-steps 0: from 1 to the model's T = 20" \
    "$groundup" diffusion sample --model "$tmp/ddpm.safetensors" --sampling-steps 0
expect_error "sampling steps above T" "--sampling-steps 21: from 1 to the model's T = 20" \
    "$groundup" diffusion sample --model "$tmp/ddpm.safetensors" --sampling-steps 21
expect_error "ancestral with fewer steps" "the ddpm sampler takes all T = 20 steps" \
    "$groundup" diffusion sample --model "$tmp/ddpm.safetensors" --sampler ddpm --sampling-steps 10
expect_error "train with sampling steps 0" "--sampling-steps 0: from 1 to the model's T = 20" \
    "$groundup" diffusion train --data "$small" "${tiny[@]}" --steps 1 --sampling-steps 0 --out "$tmp/x.safetensors"
expect_error "an unknown sampler" "sampler 'euler' (ddpm or ddim)" \
    "$groundup" diffusion sample --model "$tmp/ddpm.safetensors" --sampler euler
expect_error "a negative eta" "--eta -1: a number >= 0" \
    "$groundup" diffusion sample --model "$tmp/ddpm.safetensors" --eta -1
expect_error "a vae checkpoint" "vae.safetensors: a vae checkpoint, not a ddpm one" \
    "$groundup" diffusion sample --model "$tmp/vae.safetensors"
expect_error "a missing checkpoint" "missing.safetensors" \
    "$groundup" diffusion sample --model "$tmp/missing.safetensors"
expect_error "missing data" "$tmp/nowhere" \
    "$groundup" diffusion train --data "$tmp/nowhere" "${tiny[@]}" --steps 1 --out "$tmp/x.safetensors"
expect_error "a missing classifier" "--classifier: cannot read" \
    "$groundup" diffusion train --data "$small" "${tiny[@]}" --steps 1 --classifier "$tmp/none" --out "$tmp/x.safetensors"
expect_error "steps 0" "--steps >= 1" \
    "$groundup" diffusion train --data "$small" --steps 0
expect_error "an unknown sub-command" "unknown sub-command 'eval'" "$groundup" diffusion eval
[ ! -e "$tmp/x.safetensors" ] || fail "a failed train wrote a checkpoint"

cli_finish
